"""`openvpp study pilot`: the pilot of seed 000 §9 (STO1-STO3) in co-simulation on a SimBench fleet."""

from __future__ import annotations

from pathlib import Path

import typer

from openvpp.cli.common import JSON_OPTION, console, out_folder, print_json, progress_bar, study_app

#: ``--out`` without a default: figures are written without ``--json``, or with it when ``--out`` is given
OUT_OPTION = typer.Option(
    None, "--out", help="Folder for figures (default openvpp-out; with --json only if given)."
)


@study_app.command(
    "pilot",
    help="Pilot of seed 000 §9 (STO1-STO3): controller, frequency response, events, "
    "island mode, KPIs, delay / drop-out sweep.",
)
def study_pilot(
    grid: str = typer.Option("1-LV-rural1--2-sw", "--grid", help="SimBench LV grid code."),
    day: str = typer.Option(
        "2016-03-16", "--day", help="Day of the SimBench profile year 2016 (YYYY-MM-DD)."
    ),
    scenario: list[str] = typer.Option(
        None, "--scenario", help="Bundled scenario name or TOML file; repeat for several (default: all)."
    ),
    mode: str = typer.Option("central", "--mode", help="Frequency response: central or local."),
    seed: int = typer.Option(0, "--seed", help="Seed of the fleet top-up and of the link delays / losses."),
    sweep: bool = typer.Option(True, "--sweep/--no-sweep", help="Run the delay / drop-out sweep."),
    out: Path | None = OUT_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Run the pilot study and print its KPI table (and sweep), write its figures.

    Parameters
    ----------
    grid : str
        ``--grid``: SimBench code.
    day : str
        ``--day``: local date of 2016.
    scenario : list of str
        ``--scenario``: names or TOML paths.
    mode : str
        ``--mode``: ``central`` or ``local``.
    seed : int
        ``--seed``. [-]
    sweep : bool
        ``--sweep/--no-sweep``.
    out : Path or None
        ``--out``: figure folder.
    json_out : bool
        ``--json``: print standard JSON, no figures unless ``--out`` is given.
    """
    from openvpp.errors import ValidationError
    from openvpp.studies.pilot import run_pilot

    if mode not in ("central", "local"):
        raise ValidationError(f"--mode must be 'central' or 'local' (got {mode!r})")
    folder = out_folder(out, json_out)
    prog, cb = progress_bar("pilot")
    with prog:
        result = run_pilot(
            grid,
            day,
            tuple(scenario) if scenario else None,
            seed=seed,
            mode=mode,
            with_sweep=sweep,
            progress=cb,
        )
    paths = []
    if folder is not None:
        from openvpp.report.control import pilot_figures

        paths = pilot_figures(result, folder)
    if json_out:
        print_json(result.to_dict(), indent=None)
        return
    _render(result, paths)


def _render(result, paths) -> None:  # type: ignore[no-untyped-def]
    """The KPI table, delay distribution, sweep table and figure list as rich tables."""
    import math

    from rich.table import Table

    def fmt(v: object) -> str:
        if isinstance(v, float):
            return "-" if not math.isfinite(v) else f"{v:.4g}"
        return str(v)

    kp = result.kpis.reset_index()
    t = Table(title=f"Pilot KPIs — {result.grid}, {result.day}")
    for c in kp.columns:
        t.add_column(str(c))
    for row in kp.itertuples(index=False):
        t.add_row(*[fmt(v) for v in row])
    console.print(t)
    if result.delays:
        console.print(
            "communication delay per DER [s]: " + ", ".join(f"{k} {v:.2f}" for k, v in result.delays.items())
        )
    if len(result.sweep):
        s = Table(title="KPI degradation with median delay and drop-out (central CPF response)")
        for c in result.sweep.columns:
            s.add_column(str(c))
        for row in result.sweep.itertuples(index=False):
            s.add_row(*[fmt(v) for v in row])
        console.print(s)
    for p in paths:
        console.print(f"wrote {p}")
