"""`openvpp demo`: the main job."""

from __future__ import annotations

from pathlib import Path

import typer

from openvpp.cli.common import OUT_DIR_OPTION, app, console


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
