"""`openvpp opf` and `openvpp study chile-technical`: the LV grid OPF (seed 000 §7)."""

from __future__ import annotations

from pathlib import Path

import typer

from openvpp.cli.common import JSON_OPTION, OUT_DIR_OPTION, app, console, err_console, print_json, study_app


@study_app.command("chile-technical")
def study_chile_technical(
    networks: str = typer.Option("ieee,rural,semiurb", help="Comma-separated: ieee, rural, semiurb."),
    day: str = typer.Option("2016-06-21", help="Demand day of the SimBench profile year 2016."),
    pv_day: str = typer.Option("2016-12-21", help="Day of the clear-sky PV profile at Lampa, Chile."),
    share: float = typer.Option(0.5, help="Fraction of customers that are prosumers (PV + battery)."),
    seed: int = typer.Option(0, help="Seed of the random prosumer choice and join order."),
    hosting: bool = typer.Option(True, "--hosting/--no-hosting", help="Compute the VPP hosting share."),
    out: Path = OUT_DIR_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Technical VPP assessment of the Chile roadmap (seed 000 §7) on public LV networks."""
    from openvpp.report import check_out_dir
    from openvpp.report.grid import render_chile_technical
    from openvpp.studies.chile_technical import run_chile_technical

    check_out_dir(out)
    progress = None if json_out else (lambda msg: err_console.print(f"[dim]{msg}[/]"))
    result = run_chile_technical(
        [n.strip() for n in networks.split(",") if n.strip()], day=day, pv_day=pv_day, share=share,
        seed=seed, hosting=hosting, progress=progress,
    )
    render_chile_technical(result, out_dir=out, console=None if json_out else console)
    if json_out:
        print_json(result.to_dict(), indent=None)


@app.command("opf")
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
    json_out: bool = JSON_OPTION,
) -> None:
    """Three-phase OPF of a VPP on your own network and profiles, validated by exact power flow."""
    from openvpp.report.grid import opf_table
    from openvpp.studies.user_opf import run_opf_files

    sites = [s.strip() for s in batteries.split(",") if s.strip()] if batteries is not None else None
    _, index, res = run_opf_files(
        network, load, pv_csv=pv, battery_sites=sites, objective=objective,  # type: ignore[arg-type]
        service_start=service, service_minutes=service_minutes, grid_constraints=grid,
        v_min_pu=v_min, v_max_pu=v_max, v_source_pu=v_source,
    )
    if json_out:
        print_json({**res.summary(), "time": [str(t) for t in index], "p_vpp_kw": res.p_vpp_kw.tolist(),
                     "violations": res.violations.head(20).to_dict(orient="records")}, indent=None)
        return
    console.print(opf_table(res))
