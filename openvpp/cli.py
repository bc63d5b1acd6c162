"""The ``openvpp`` command line (typer + rich).

Thin by design: each command parses its options, calls one library function and renders the result
(rich table, PNG via :mod:`openvpp.report`, or JSON with ``--json``). Every
:class:`~openvpp.errors.OpenVPPError` becomes a one-line message on stderr and exit code 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console

from openvpp.errors import OpenVPPError

if TYPE_CHECKING:
    from rich.progress import Progress

app = typer.Typer(
    name="openvpp",
    help="OpenVPP: run a virtual power plant — devices, fleets, networks, flexibility, envelopes, economics.",
    no_args_is_help=True,
    add_completion=False,
)
study_app = typer.Typer(help="Reproducible studies from the seed reports.", no_args_is_help=True)
app.add_typer(study_app, name="study")

console = Console()
err_console = Console(stderr=True)

OUT_DIR_OPTION = typer.Option(Path("openvpp-out"), "--out", help="Folder for figures and reports.")


@app.command()
def demo(
    grid: str = typer.Option("1-LV-semiurb4--2-sw", help="SimBench LV grid code to load as the demo fleet."),
    day: str = typer.Option("2016-06-15", help="Day to simulate (SimBench profile year 2016)."),
    out: Path = OUT_DIR_OPTION,
    seed: int = typer.Option(0, help="Seed for the documented random assignment of devices."),
) -> None:
    """Load a real LV grid as a fleet and simulate one day of today's practice (self-consumption)."""
    from openvpp.report import check_out_dir
    from openvpp.report.demo import render_demo
    from openvpp.studies.demo import run_demo

    check_out_dir(out)
    result = run_demo(grid_code=grid, day=day, seed=seed, progress=True)
    render_demo(result, out_dir=out, console=console)


# --- commands of other capabilities are registered below this line ---


# --- network limits (seed 001 §2-§4): `openvpp envelopes compute|metrics|hosting` ---
envelopes_app = typer.Typer(
    help="Dynamic export limits: constraint engine, capacity metrics, hosting capacity.", no_args_is_help=True
)
app.add_typer(envelopes_app, name="envelopes")


# options shared by the envelope commands (same flags, defaults and help texts in each)
_ENV_LOCATION_OPTION = typer.Option("adelaide", help="adelaide or santiago (sun times, PV, seasons).")
_ENV_TRANSFORMERS_OPTION = typer.Option(300, help="Transformers in the SimBench-derived population.")
_ENV_MARGIN_OPTION = typer.Option(0.8, "--margin", "-m", help="Confidence margin m in [0, 1].")
_ENV_SEED_OPTION = typer.Option(0, help="Seed of the transformer population.")
_ENV_WORKERS_OPTION = typer.Option(None, help="Run the sweep on a Dask LocalCluster with N workers.")
_ENV_SCHEDULER_OPTION = typer.Option(None, help="Address of a running Dask scheduler.")
_JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable results.")

_T = TypeVar("_T")


def _envelope_progress(label: str) -> tuple[Progress, Callable[[int, int], None]]:
    """A rich progress bar and the (done, total) callback that advances it."""
    from rich.progress import Progress

    prog = Progress(console=err_console, transient=True)
    task = prog.add_task(label, total=None)

    def cb(done: int, total: int) -> None:
        prog.update(task, completed=done, total=total)

    return prog, cb


def _run_envelope_study(
    label: str, out: Path, as_json: bool, run: Callable[..., _T], *args: Any, **kwargs: Any
) -> _T:
    """Check the figure folder ``out`` (unless ``--json``), then ``run(*args, progress=..., **kwargs)`` under
    a progress bar labelled ``label`` and return its result."""
    from openvpp.report import check_out_dir

    if not as_json:
        check_out_dir(out)
    prog, cb = _envelope_progress(label)
    with prog:
        return run(*args, progress=cb, **kwargs)


def _emit(as_json: bool, payload: Callable[[], object], render: Callable[[], object]) -> None:
    """Finish a command: print ``payload()`` as JSON with ``--json``, else ``render()`` tables and figures."""
    if as_json:
        _print_json(payload())
    else:
        render()


def _print_json(payload: object, indent: int | None = 2) -> None:
    """Print a result as plain JSON on stdout (numpy arrays and scalars converted, other objects as text)."""
    import json

    import numpy as np

    def default(o: object) -> object:
        if isinstance(o, np.ndarray):
            return o.tolist()
        if isinstance(o, np.generic):
            return o.item()
        return str(o)

    typer.echo(json.dumps(payload, default=default, indent=indent))


@envelopes_app.command("compute")
def envelopes_compute(
    location: str = _ENV_LOCATION_OPTION,
    transformers: int = _ENV_TRANSFORMERS_OPTION,
    margin: float = _ENV_MARGIN_OPTION,
    scenario: str = typer.Option("Jan-non-workday", help="Scenario for the figure and --envelopes."),
    envelopes: Path | None = typer.Option(None, help="Write the node envelopes (CSIP-AUS JSON) here."),
    seed: int = _ENV_SEED_OPTION,
    out: Path = OUT_DIR_OPTION,
    as_json: bool = _JSON_OPTION,
) -> None:
    """Raw and mediated limits for the 25 day-type scenarios (seed 001 §2.2)."""
    from openvpp.report import check_out_dir
    from openvpp.studies.envelopes import check_study_inputs, run_envelope_study, scenario_envelopes

    check_study_inputs(location, transformers, margin, seed, scenario=scenario)
    if envelopes is not None:
        check_out_dir(envelopes.parent, "--envelopes")
    result = _run_envelope_study(
        "constraint engine", out, as_json, run_envelope_study, location, transformers, margin, seed=seed
    )
    inputs = result.inputs
    assert inputs is not None  # run_envelope_study keeps its inputs (only synthetic hosting runs drop them)
    if envelopes is not None:
        envelopes.parent.mkdir(parents=True, exist_ok=True)
        envelopes.write_text(scenario_envelopes(inputs, scenario, margin).to_json())
    if as_json:
        sw = result.sweep
        _print_json({
            "location": result.location, "scenarios": list(inputs.scenarios.names),
            "mediated_per_site_kw_mean": sw.mediated_per_site_kw.mean(1).round(4).tolist(),
            "raw_per_site_kw_mean": sw.raw_per_site_kw.mean(1).round(4).tolist(),
        })
        return
    from openvpp.report.envelopes import render_compute

    render_compute(result, scenario, out, console)
    if envelopes is not None:
        console.print(f"wrote {envelopes}")


@envelopes_app.command("metrics")
def envelopes_metrics(
    location: str = _ENV_LOCATION_OPTION,
    transformers: int = _ENV_TRANSFORMERS_OPTION,
    margin: float = _ENV_MARGIN_OPTION,
    seed: int = _ENV_SEED_OPTION,
    workers: int | None = _ENV_WORKERS_OPTION,
    scheduler: str | None = _ENV_SCHEDULER_OPTION,
    out: Path = OUT_DIR_OPTION,
    as_json: bool = _JSON_OPTION,
) -> None:
    """Available/released energy, average available capacity and the seed's findings (seed 001 §2.4, §3)."""
    from openvpp.studies.envelopes import check_study_inputs, run_envelope_study

    check_study_inputs(location, transformers, margin, seed, workers, scheduler)
    result = _run_envelope_study(
        "capacity metrics", out, as_json, run_envelope_study, location, transformers, margin, seed=seed,
        workers=workers, scheduler=scheduler,
    )
    from openvpp.report.envelopes import render_metrics

    _emit(as_json, result.to_dict, lambda: render_metrics(result, out, console))


@envelopes_app.command("hosting")
def envelopes_hosting(
    transformers: int = typer.Option(2000, help="Transformers (75530 for SAPN's network size)."),
    synthetic: bool = typer.Option(False, help="Synthetic inputs (any size), not SimBench-derived ones."),
    location: str = typer.Option("adelaide", help="adelaide or santiago."),
    margin: float = _ENV_MARGIN_OPTION,
    seed: int = typer.Option(0, help="Seed of the inputs."),
    workers: int | None = _ENV_WORKERS_OPTION,
    scheduler: str | None = _ENV_SCHEDULER_OPTION,
    out: Path = OUT_DIR_OPTION,
    as_json: bool = _JSON_OPTION,
) -> None:
    """Hosting capacity vs % of the year unconstrained (seed 001 §4, Figure 21, Table 6)."""
    from openvpp.studies.envelopes import check_study_inputs, run_hosting_study

    check_study_inputs(location, transformers, margin, seed, workers, scheduler)
    result = _run_envelope_study(
        "hosting capacity", out, as_json, run_hosting_study, transformers, synthetic, location, margin,
        seed=seed, workers=workers, scheduler=scheduler,
    )
    from openvpp.report.envelopes import render_hosting

    _emit(as_json, result.to_dict, lambda: render_hosting(result, out, console))


@envelopes_app.command("network")
def envelopes_network(
    grid: str = typer.Option("1-LV-rural1--2-sw", help="SimBench LV grid code."),
    day: str = typer.Option("2016-06-15", help="Day of the SimBench profile year 2016."),
    fairness: str = typer.Option("equal", help="equal, proportional or maxmin."),
    v_min: float = typer.Option(0.9, help="Lowest phase voltage, pu."),
    v_max: float = typer.Option(1.1, help="Highest phase voltage, pu."),
    loading_max: float = typer.Option(1.0, help="Largest line / transformer loading (1 = rating)."),
    cap_kw: float | None = typer.Option(None, help="Largest envelope of a site, kW (default: none)."),
    margin: float = typer.Option(0.8, "--margin", "-m", help="Confidence margin m of the SAPN heuristic."),
    out: Path = OUT_DIR_OPTION,
    as_json: bool = _JSON_OPTION,
) -> None:
    """Per-site export/import envelopes from the exact power flow, compared with the SAPN heuristic."""
    from openvpp.envelopes.network_envelopes import compare_with_heuristic
    from openvpp.report import check_out_dir

    if not as_json:
        check_out_dir(out)
    result = compare_with_heuristic(grid, day, fairness, v_min, v_max, loading_max, cap_kw, m=margin)
    from openvpp.report.envelopes import render_network

    _emit(as_json, result.summary, lambda: render_network(result, out, console))


# --- LV grid OPF (seed 000 §7): `openvpp study chile-technical`, `openvpp opf` ---
@study_app.command("chile-technical")
def study_chile_technical(
    networks: str = typer.Option("ieee,rural,semiurb", help="Comma-separated: ieee, rural, semiurb."),
    day: str = typer.Option("2016-06-21", help="Demand day of the SimBench profile year 2016."),
    pv_day: str = typer.Option("2016-12-21", help="Day of the clear-sky PV profile at Lampa, Chile."),
    share: float = typer.Option(0.5, help="Fraction of customers that are prosumers (PV + battery)."),
    seed: int = typer.Option(0, help="Seed of the random prosumer choice and join order."),
    hosting: bool = typer.Option(True, "--hosting/--no-hosting", help="Compute the VPP hosting share."),
    out: Path = OUT_DIR_OPTION,
    json_out: bool = _JSON_OPTION,
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
        _print_json(result.to_dict(), indent=None)


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
    json_out: bool = _JSON_OPTION,
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
        _print_json({**res.summary(), "time": [str(t) for t in index], "p_vpp_kw": res.p_vpp_kw.tolist(),
                     "violations": res.violations.head(20).to_dict(orient="records")}, indent=None)
        return
    console.print(opf_table(res))


# --- flexibility (seed 003): `openvpp study flexibility-paper`, `openvpp flex` ---
@study_app.command("flexibility-paper")
def study_flexibility_paper(
    out: Path = OUT_DIR_OPTION,
    json_out: bool = _JSON_OPTION,
) -> None:
    """Reproduce both worked cases of the operational-flexibility paper (seed 003 §4) with figures."""
    from openvpp.report import check_out_dir
    from openvpp.report.flexibility import render_flexibility_paper
    from openvpp.studies.flexibility_paper import run_flexibility_paper

    check_out_dir(out)
    result = run_flexibility_paper()
    if json_out:
        render_flexibility_paper(result, out_dir=out, console=None)
        _print_json(result.summary())
        return
    render_flexibility_paper(result, out_dir=out, console=console)


@app.command("flex")
def flex_command(
    fleet: str = typer.Option(
        "simbench:1-LV-rural1--2-sw", "--fleet",
        help="'simbench:<grid code>' (real LV grid with profiles) or 'synthetic:<n sites>'.",
    ),
    time: str = typer.Option("2016-06-15 19:00", "--time", help="Start of the assessed period."),
    horizon_h: float = typer.Option(1.0, "--horizon-h", help="Horizon of the energy metric (h)."),
    seed: int = typer.Option(0, help="Seed of the fleet builder."),
    strip: bool = typer.Option(False, "--strip", help="Also compute the day's time strip (P50 VPP pi)."),
    out: Path | None = typer.Option(None, "--out", help="Folder for flex_fleet.png (no figure if omitted)."),
    json_out: bool = _JSON_OPTION,
) -> None:
    """Aggregate flexibility of a fleet per CCP at a chosen time, with its P10/P50/P90 table (seed 003)."""
    from openvpp.flex.fleet import flexibility_of_spec
    from openvpp.report import check_out_dir
    from openvpp.report.flexibility import render_fleet_flexibility

    if out is not None and not json_out:
        check_out_dir(out)
    result = flexibility_of_spec(fleet, time, horizon_h=horizon_h, seed=seed, strip=strip)
    if json_out:
        _print_json(result.to_dict())
        return
    render_fleet_flexibility(result, out_dir=out, console=console)


@study_app.command("economics")
def study_economics(
    site: str = typer.Option("lampa", help="Site parameter set: lampa or osorno (seed 000 Tables 3-5)."),
    mw: list[float] = typer.Option(None, "--mw", help="Battery sizes in MW, e.g. --mw 1 3 5 "),
    more_mw: list[str] = typer.Argument(None, hidden=True, help="Further sizes after --mw."),
    out: Path = OUT_DIR_OPTION,
    json_out: bool = _JSON_OPTION,
) -> None:
    """Stacked-service business model: revenue per service, cost, profit, threshold, tornado."""
    from openvpp.errors import ValidationError
    from openvpp.report import check_out_dir
    from openvpp.studies.chile_economics import run_economics

    extra = []
    for v in more_mw or []:
        try:
            extra.append(float(v))
        except ValueError:
            raise ValidationError(f"--mw takes battery sizes in MW, e.g. --mw 1 3 5 (got {v!r})") from None
    sizes = [*(mw or []), *extra] or [1.0, 3.0, 5.0]
    if not json_out:
        check_out_dir(out)
    study = run_economics(site=site, mw=sizes)
    from openvpp.report.economics import render_economics

    _emit(json_out, study.to_dict, lambda: render_economics(study, out_dir=out, console=console))


@study_app.command("dynamics")
def study_dynamics(
    out: Path = OUT_DIR_OPTION,
    json_out: bool = _JSON_OPTION,
) -> None:
    """Ten-year system-dynamics model of a rural VPP (seed 000 §6.2, Figs 11-12)."""
    from openvpp.report import check_out_dir
    from openvpp.studies.chile_economics import run_dynamics_study

    if not json_out:
        check_out_dir(out)
    study = run_dynamics_study()
    from openvpp.report.economics import render_dynamics

    _emit(json_out, study.to_dict, lambda: render_dynamics(study, out_dir=out, console=console))


@study_app.command("finance")
def study_finance(
    convention: str = typer.Option("annuity_due", help="Discounting: annuity_due or end_of_year."),
    out: Path = OUT_DIR_OPTION,
    json_out: bool = _JSON_OPTION,
) -> None:
    """NPV, BCR and payback of the CSIRO export-limit cases (seed 001 Table 9)."""
    from openvpp.errors import ValidationError
    from openvpp.report import check_out_dir
    from openvpp.studies.csiro_finance import run_finance_study

    if convention not in ("annuity_due", "end_of_year"):
        raise ValidationError(f"--convention must be annuity_due or end_of_year (got {convention!r})")
    if not json_out:
        check_out_dir(out)
    study = run_finance_study(convention)  # type: ignore[arg-type]
    from openvpp.report.economics import render_finance

    _emit(json_out, study.to_dict, lambda: render_finance(study, out_dir=out, console=console))


@study_app.command("potential")
def study_potential(
    medium_share: float = typer.Option(None, help="Hosting share, medium density (default 0.21)."),
    low_share: float = typer.Option(None, help="Hosting share, low density (default 0.25)."),
    out: Path = OUT_DIR_OPTION,
    json_out: bool = _JSON_OPTION,
) -> None:
    """National VPP potential in GW per resource (seed 000 §8, Fig. 22)."""
    from openvpp.report import check_out_dir
    from openvpp.studies.chile_economics import run_potential_study

    shares = {k: v for k, v in (("medium", medium_share), ("low", low_share)) if v is not None}
    if not json_out:
        check_out_dir(out)
    study = run_potential_study(hosting_share=shares or None)
    from openvpp.report.economics import render_potential

    _emit(json_out, study.to_dict, lambda: render_potential(study, out_dir=out, console=console))


def _usage_error_types() -> tuple[type[Exception], ...]:
    """Click's usage-error base class(es): recent typer releases vendor click as ``typer._click``."""
    import importlib

    found: list[type[Exception]] = []
    for module in ("click.exceptions", "typer._click.exceptions"):
        try:
            found.append(importlib.import_module(module).ClickException)
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def print_error(exc: BaseException) -> None:
    """The one-line ``error: ...`` message of an :class:`OpenVPPError` on stderr (no wrapping, no markup)."""
    from rich.markup import escape

    err_console.print(f"[bold red]error:[/] {escape(' '.join(str(exc).split()))}", soft_wrap=True)


def main() -> None:
    """Entry point of the ``openvpp`` script: run the app, map OpenVPPError to exit code 2."""
    try:
        app(standalone_mode=False)
    except OpenVPPError as exc:
        print_error(exc)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except _usage_error_types() as exc:  # unknown option, value of the wrong type, missing argument
        exc.show()  # type: ignore[attr-defined]
        sys.exit(exc.exit_code)  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
