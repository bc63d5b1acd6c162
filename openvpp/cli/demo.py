"""`openvpp demo`: one pilot day of a VPP on a real LV feeder, end to end, with ``report.html``."""

from __future__ import annotations

from pathlib import Path

import typer

from openvpp.cli.common import JSON_OPTION, app, console, err_console, out_folder, print_json

#: folder for the report when ``--out`` is not given and ``--json`` is not asked for


@app.command()
def demo(
    grid: str = typer.Option("1-LV-rural1--2-sw", "--grid", help="SimBench LV grid code of the feeder."),
    day: str = typer.Option("2016-06-15", "--day", help="Day to run (SimBench profile year 2016)."),
    hours: float = typer.Option(
        24.0, "--hours", help="Simulated hours; fewer than 24 runs from 17:00 (tests)."
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Folder for report.html, figures, Parquet and JSON (default openvpp-out; with "
        "--json only when given).",
    ),
    db: str | None = typer.Option(
        None,
        "--db",
        help="Store URL (default SQLite in a temporary folder), e.g. "
        "postgresql://postgres@127.0.0.1:5432/test",
    ),
    broker: str | None = typer.Option(None, "--broker", help="MQTT broker URL, e.g. mqtt://127.0.0.1:1883."),
    seed: int = typer.Option(0, "--seed", help="Seed of the fleet top-up and the communication delays."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run one day of the Chile pilot on a SimBench LV feeder: DSO envelopes, aggregator plan, co-simulation
    with a frequency event, an OpenADR peak event, an outage in island mode and an envelope drop-out, the
    network check, settlement and the business case; write report.html."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from openvpp.report.demo import summary_panel, write_demo
    from openvpp.studies.demo import STAGES, check_demo_inputs, run_demo

    check_demo_inputs(grid, day, hours, seed)
    if db is not None:
        from openvpp.studies.demo_service import check_db_url

        check_db_url(db)
    if broker is not None:
        from openvpp.platform.gateway.topics import parse_broker_url

        parse_broker_url(broker)
    folder = out_folder(out, as_json)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=len(STAGES))
        seen: list[str] = []

        def progress(stage: str) -> None:
            if seen:
                bar.advance(task)
            seen.append(stage)
            bar.update(task, description=stage)

        result = run_demo(grid, day, hours=hours, seed=seed, db_url=db, broker_url=broker, progress=progress)
        bar.update(task, completed=len(STAGES))
    files = write_demo(result, folder) if folder is not None else {}
    if as_json:
        print_json(result.summary())
        return
    console.print(summary_panel(result))
    if "report" in files:
        console.print(f"report: {files['report']}  (figures, Parquet and summary.json in {folder})")
