"""`openvpp flex` and `openvpp study flexibility-paper`: operational flexibility (seed 003)."""

from __future__ import annotations

from pathlib import Path

import typer

from openvpp.cli.common import (
    JSON_OPTION,
    OPTIONAL_OUT_OPTION,
    app,
    console,
    out_folder,
    print_json,
    study_app,
)

#: folder for figures when ``--out`` is not given and ``--json`` is not asked for
_OUT_OPTION = OPTIONAL_OUT_OPTION


@study_app.command("flexibility-paper")
def study_flexibility_paper(
    out: Path | None = _OUT_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Reproduce both worked cases of the operational-flexibility paper (seed 003 §4) with figures."""
    from openvpp.report.flexibility import render_flexibility_paper
    from openvpp.studies.flexibility_paper import run_flexibility_paper

    folder = out_folder(out, json_out)
    result = run_flexibility_paper()
    if json_out:
        if folder is not None:
            render_flexibility_paper(result, out_dir=folder, console=None)
        print_json(result.summary())
        return
    assert folder is not None
    render_flexibility_paper(result, out_dir=folder, console=console)


@app.command("flex")
def flex_command(
    fleet: str = typer.Option(
        "simbench:1-LV-rural1--2-sw", "--fleet",
        help="'simbench:<grid code>' (real LV grid with profiles) or 'synthetic:<n sites>'.",
    ),
    time: str = typer.Option(
        "2016-06-15 19:00", "--time",
        help="Start of the assessed period. With an offset (…+02:00, …Z) it is that instant; without one it "
        "is read on the fleet's clock: UTC+01:00 for SimBench, America/Santiago for synthetic fleets.",
    ),
    horizon_h: float = typer.Option(1.0, "--horizon-h", help="Horizon of the energy metric (h)."),
    seed: int = typer.Option(0, help="Seed of the fleet builder."),
    strip: bool = typer.Option(False, "--strip", help="Also compute the day's time strip (P50 VPP pi)."),
    out: Path | None = _OUT_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Aggregate flexibility of a fleet per CCP at a chosen time, with its P10/P50/P90 table (seed 003)."""
    from openvpp.flex.fleet import flexibility_of_spec
    from openvpp.report.flexibility import render_fleet_flexibility

    folder = out_folder(out, json_out)
    result = flexibility_of_spec(fleet, time, horizon_h=horizon_h, seed=seed, strip=strip)
    if json_out:
        if folder is not None:
            render_fleet_flexibility(result, out_dir=folder, console=None)
        print_json(result.to_dict())
        return
    render_fleet_flexibility(result, out_dir=folder, console=console)
