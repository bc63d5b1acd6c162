"""`openvpp opf` and `openvpp study chile-technical`: the LV grid OPF (seed 000 §7)."""

from __future__ import annotations

from pathlib import Path

import typer

from openvpp.cli.common import JSON_OPTION, app, console, err_console, out_folder, print_json, study_app

#: ``--out`` without a default: figures are written without ``--json``, or with it when ``--out`` is given
OUT_OPTION = typer.Option(
    None, "--out", help="Folder for figures and data (default openvpp-out; with --json only if given)."
)



@study_app.command(
    "chile-technical",
    help="Technical VPP assessment of the Chile roadmap (seed 000 §7) on public LV networks.",
)
def study_chile_technical(
    networks: str = typer.Option("ieee,rural,semiurb", help="Comma-separated: ieee, rural, semiurb."),
    day: str = typer.Option("2016-06-21", help="Demand day of the SimBench profile year 2016."),
    pv_day: str = typer.Option("2016-12-21", help="Day of the clear-sky PV profile at Lampa, Chile."),
    share: float = typer.Option(0.5, help="Fraction of customers that are prosumers (PV + battery)."),
    seed: int = typer.Option(0, help="Seed of the random prosumer choice and join order."),
    hosting: bool = typer.Option(True, "--hosting/--no-hosting", help="Compute the VPP hosting share."),
    out: Path | None = OUT_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Technical VPP assessment of the Chile roadmap (seed 000 §7) on public LV networks.

    Parameters
    ----------
    networks : str
        ``--networks``: comma-separated keys.
    day, pv_day : str
        ``--day``, ``--pv-day``: demand day (2016) and PV day.
    share : float
        ``--share``: prosumer share. [-]
    seed : int
        ``--seed``. [-]
    hosting : bool
        ``--hosting/--no-hosting``.
    out : Path or None
        ``--out``: figure folder (default ``openvpp-out``; with ``--json`` figures only when given).
    json_out : bool
        ``--json``: print standard JSON.
    """
    from openvpp.report.grid import render_chile_technical
    from openvpp.studies.chile_technical import run_chile_technical

    folder = out_folder(out, json_out)
    progress = None if json_out else (lambda msg: err_console.print(f"[dim]{msg}[/]"))
    result = run_chile_technical(
        [n.strip() for n in networks.split(",") if n.strip()], day=day, pv_day=pv_day, share=share,
        seed=seed, hosting=hosting, progress=progress,
    )
    if folder is not None:
        render_chile_technical(result, out_dir=folder, console=None if json_out else console)
    if json_out:
        print_json(result.to_dict(), indent=None)


@app.command(
    "opf", help="Three-phase OPF of a VPP on your own network and profiles, validated by exact power flow."
)
def opf_command(
    network: Path = typer.Argument(..., help="Network file: pandapower .json or OpenDSS .dss."),
    load: Path = typer.Option(..., "--load", help="CSV of demand (kW): time column, one column per site."),
    pv: Path | None = typer.Option(None, "--pv", help="CSV of PV output (kW), same layout."),
    batteries: str | None = typer.Option(
        None, "--batteries", help="Comma-separated site ids with a 5 kW battery (default: sites with PV)."
    ),
    objective: str = typer.Option("export", help="'export' (eq. 24) or 'self_consumption' (eq. 23)."),
    service: str = typer.Option("20:00", help="Start of the service period (HH:MM)."),
    service_minutes: float = typer.Option(30.0, help="Length of the service period (min)."),
    grid: bool = typer.Option(True, "--grid/--no-grid", help="Include the grid constraints (11)-(22)."),
    v_min: float = typer.Option(0.9, help="Lower voltage limit (pu)."),
    v_max: float = typer.Option(1.1, help="Upper voltage limit (pu)."),
    v_source: float | None = typer.Option(None, help="Head voltage behind the transformer (pu)."),
    r0_per_r1: float | None = typer.Option(
        None, "--r0-per-r1", help="Zero-sequence R ratio for lines the file gives without r0 (e.g. 3.5)."
    ),
    x0_per_x1: float | None = typer.Option(
        None, "--x0-per-x1", help="Zero-sequence X ratio for lines the file gives without x0 (e.g. 1.15)."
    ),
    vector_group: str | None = typer.Option(
        None, "--vector-group", help="Transformer vector group if the file has none: Dyn or YNyn."
    ),
    max_iter: int = typer.Option(200, "--max-iter", help="Solver iterations per OPF solve."),
    time_limit: float | None = typer.Option(None, "--time-limit", help="Solver time limit per solve (s)."),
    solver_tol: float = typer.Option(1e-8, "--solver-tol", help="Solver gap and feasibility tolerance."),
    out: Path | None = OUT_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Three-phase OPF of a VPP on your own network and profiles, validated by exact power flow (seed 000 §7).

    Parameters
    ----------
    network : Path
        Network file (pandapower ``.json`` or OpenDSS ``.dss``).
    load, pv : Path
        ``--load``, ``--pv``: profile CSVs. [kW]
    batteries : str or None
        ``--batteries``: comma-separated site ids.
    objective, service : str
        ``--objective``, ``--service`` (HH:MM).
    service_minutes : float
        ``--service-minutes``. [min]
    grid : bool
        ``--grid/--no-grid``.
    v_min, v_max : float
        ``--v-min``, ``--v-max``. [pu]
    v_source : float or None
        ``--v-source``. [pu]
    r0_per_r1, x0_per_x1 : float or None
        ``--r0-per-r1``, ``--x0-per-x1`` for lines without zero-sequence data. [-]
    vector_group : str or None
        ``--vector-group`` where the file has none.
    max_iter : int
        ``--max-iter``: solver iterations per solve. [-]
    time_limit : float or None
        ``--time-limit`` per solve. [s]
    solver_tol : float
        ``--solver-tol``: gap and feasibility tolerance. [-]
    out : Path or None
        ``--out``: folder for the dispatch (CSV, Parquet) and figures.
    json_out : bool
        ``--json``: print standard JSON.
    """
    from openvpp.errors import ValidationError
    from openvpp.grid.opf import SolverSettings
    from openvpp.report.grid import opf_payload, opf_table, write_opf_outputs
    from openvpp.studies.user_opf import run_opf_files

    try:
        settings: SolverSettings = SolverSettings.build(
            max_iter=max_iter, time_limit_s=time_limit, tol_gap_abs=solver_tol,
                                        tol_gap_rel=solver_tol, tol_feas=solver_tol)
    except ValidationError as exc:
        flags = {"max_iter": "--max-iter", "time_limit_s": "--time-limit", "tol_gap_abs": "--solver-tol",
                 "tol_gap_rel": "--solver-tol", "tol_feas": "--solver-tol"}
        msg = str(exc).replace("SolverSettings.", "")
        for field, flag in flags.items():
            msg = msg.replace(f"{field}:", f"{flag}:")
        raise ValidationError(msg) from None
    folder = out_folder(out, json_out)
    sites = [s.strip() for s in batteries.split(",") if s.strip()] if batteries is not None else None
    _, index, res = run_opf_files(
        network, load, pv_csv=pv, battery_sites=sites, objective=objective,  # type: ignore[arg-type]
        service_start=service, service_minutes=service_minutes, grid_constraints=grid,
        v_min_pu=v_min, v_max_pu=v_max, v_source_pu=v_source, r0_per_r1=r0_per_r1, x0_per_x1=x0_per_x1,
        vector_group=vector_group, solver=settings,
    )
    if res.message and not json_out:
        err_console.print(f"[yellow]warning:[/] {res.message}", soft_wrap=True)
    paths = write_opf_outputs(index, res, folder) if folder is not None else []
    if json_out:
        print_json(opf_payload(index, res, paths), indent=None)
        return
    console.print(opf_table(res))
    for path in paths:
        console.print(f"wrote {path}")
