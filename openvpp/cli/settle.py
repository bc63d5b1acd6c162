"""`openvpp settle`: measurement and verification of events, participant statements, aggregator margin."""

from __future__ import annotations

from pathlib import Path

import typer

from openvpp.cli.common import JSON_OPTION, app, console, emit, err_console


@app.command("settle")
def settle_command(
    telemetry: Path = typer.Option(
        ..., "--telemetry", help="Site power, long format: site_id,time,p_kw[,device_class] (CSV or Parquet)."
    ),
    events: Path = typer.Option(
        ...,
        "--events",
        help="Events: event_id,service,start,end,committed_kw,site_ids[,price_usd_per_mwh] (CSV or Parquet).",
    ),
    program: Path = typer.Option(
        None, "--program", help="Program TOML (default: the bundled Chile program)."
    ),
    month: list[str] = typer.Option(
        None, "--month", help="Month(s) to settle, YYYY-MM (default: the events')."
    ),
    out: Path = typer.Option(
        None,
        "--out",
        help="Folder for statements (default openvpp-out; with --json "
        "statements are written only when --out is given).",
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Settle events from metered telemetry: baselines, performance, eligibility, statements (seed 000 §4)."""
    import re

    from openvpp.data.settlement_io import read_program_text, read_table
    from openvpp.errors import ValidationError
    from openvpp.report import check_out_dir
    from openvpp.settlement import (
        events_from_frame,
        load_program,
        program_from_toml,
        settle,
        telemetry_from_long,
    )

    for m in month or []:
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", m):
            raise ValidationError(f"--month must be YYYY-MM (got {m!r})")
    out_dir = out if out is not None else (None if json_out else Path("openvpp-out"))
    if out_dir is not None:
        check_out_dir(out_dir)
    prog = program_from_toml(read_program_text(program), str(program)) if program else load_program()
    with err_console.status("reading telemetry and settling events ..."):
        tel = telemetry_from_long(read_table(telemetry, "--telemetry"), prog.timezone)
        ev = events_from_frame(read_table(events, "--events"), prog.timezone)
        result = settle(tel, ev, prog, months=month or None)
    from openvpp.report.settlement import render_settlement, write_statements

    def payload() -> object:
        if out_dir is not None:
            write_statements(result, tel, out_dir)
        return result.to_dict()

    emit(json_out, payload, lambda: render_settlement(result, tel, out_dir or Path("openvpp-out"), console))
