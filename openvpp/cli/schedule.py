"""`openvpp schedule` (day-ahead value-stacked plan) and `openvpp study arbitrage` (seed 001 §5.4)."""

from __future__ import annotations

from pathlib import Path

import typer

from openvpp.cli.common import JSON_OPTION, app, console, out_folder, print_json, progress_bar, study_app

#: folder for the plan and figures when ``--out`` is not given and ``--json`` is not asked for
_OUT_OPTION = typer.Option(
    None, "--out", help="Folder for the plan and figures (default openvpp-out; with --json only when given)."
)


@app.command("schedule")
def schedule_command(
    fleet: str = typer.Option(
        "synthetic:40", "--fleet", help="'simbench:<grid code>' or 'synthetic:<n sites>'."
    ),
    day: str = typer.Option(
        "2019-12-03", "--day", help="Market day; the plan runs from its 12:00 to the next 12:00."
    ),
    method: str = typer.Option("exact", "--method", help="exact | aggregate | fixed-share."),
    prices: Path | None = typer.Option(
        None,
        "--prices",
        help="Price CSV (AEMO or time,price layout); default the bundled SA1 2019-20 prices.",
    ),
    step_min: float = typer.Option(30.0, "--step-min", help="Plan step in minutes."),
    seed: int = typer.Option(0, "--seed", help="Fleet and profile draw."),
    out: Path | None = _OUT_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Day-ahead value-stacked plan of a fleet: energy + contingency FCAS + peak reduction under envelopes."""
    from openvpp.report.schedule import render_schedule
    from openvpp.schedule.stacking import schedule_day

    folder = out_folder(out, json_out)
    result = schedule_day(
        fleet, day, method, prices_path=None if prices is None else str(prices), step_min=step_min, seed=seed
    )
    if json_out:
        written = render_schedule(result, folder, None) if folder is not None else []
        payload = result.to_dict()
        payload["files"] = [str(p) for p in written]
        print_json(payload)
        return
    render_schedule(result, folder, console)


@study_app.command("arbitrage")
def study_arbitrage(
    sites: int = typer.Option(20, "--sites", help="Number of sites (the seed had twenty participants)."),
    limits: str = typer.Option("0,2,5,10", "--limits", help="Export limits in kW, comma separated."),
    workers: int = typer.Option(2, "--workers", help="Dask LocalCluster workers."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Address of a running Dask scheduler."),
    seed: int = typer.Option(0, "--seed", help="Draw of the household profiles."),
    out: Path | None = _OUT_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Arbitrage + FCAS benefit of the export limit per site and year on real SA1 prices (seed 001 §5.4)."""
    from rich.table import Table

    from openvpp.errors import ValidationError
    from openvpp.report.schedule import plot_arbitrage
    from openvpp.studies.arbitrage import run_arbitrage

    try:
        lims = [float(v) for v in limits.split(",") if v.strip()]
    except ValueError as exc:
        raise ValidationError(f"--limits must be numbers in kW separated by commas (got {limits!r})") from exc
    folder = out_folder(out, json_out)
    prog, cb = progress_bar("site-years")
    with prog:
        study = run_arbitrage(sites, lims, workers=workers, scheduler=scheduler, seed=seed, progress=cb)
    written = []
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        study.sites.to_csv(folder / "arbitrage_sites.csv", index=False)
        written.append(plot_arbitrage(study.summary, folder / "arbitrage_benefit.png"))
    if json_out:
        payload = study.to_dict()
        payload["files"] = [str(p) for p in written]
        print_json(payload)
        return
    table = Table(title=f"mean benefit per site and year over 0 kW, {sites} sites, SA1 2019-20 [AUD]")
    for col in (
        "export limit [kW]",
        "energy arbitrage",
        "energy + FCAS",
        "seed 001",
        "NPV energy [M]",
        "BCR energy",
    ):
        table.add_column(col, justify="right")
    for row, fin in zip(study.summary.itertuples(), study.finance, strict=True):
        table.add_row(
            f"{row.limit_kw:g}",
            f"{row.benefit_energy:,.0f}",
            f"{row.benefit_total:,.0f}",
            f"{row.seed:,.0f}",
            f"{fin['npv_energy'] / 1e6:.2f}",
            f"{fin['bcr_energy']:.2f}",
        )
    console.print(table)
    console.print(f"elapsed {study.elapsed_s:.0f} s")
    for p in written:
        console.print(f"wrote {p}")
