"""`openvpp forecast`: day-ahead load and PV forecasts scored on held-out SimBench days."""

from __future__ import annotations

from pathlib import Path

import typer

from openvpp.cli.common import JSON_OPTION, app, console, print_json, progress_bar

# the defaults of openvpp.forecast.backtest, written here so that the CLI starts without importing pvlib
DEFAULT_GRID = "1-LV-urban6--2-sw"
DEFAULT_DAYS = "2016-02-08..2016-02-14,2016-05-09..2016-05-15,2016-08-08..2016-08-14,2016-11-07..2016-11-13"


@app.command("forecast")
def forecast_command(
    grid: str = typer.Option(DEFAULT_GRID, "--grid", help="SimBench LV grid code (households and PV)."),
    days: str = typer.Option(
        DEFAULT_DAYS, "--days",
        help="Held-out days of 2016, comma-separated: dates, ranges start..end, every N-th day start..end/N "
        "(default: a week per season).",
    ),
    history_days: int = typer.Option(28, "--history-days", help="Days of history each forecast sees."),
    method: str = typer.Option("weekly", "--method", help="Load forecaster: weekly | seasonal_naive."),
    window_days: int = typer.Option(
        28, "--window-days", help="Days of clear-sky indices for the PV quantiles."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Folder for forecast_skill.png (default openvpp-out; with --json only if given)."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Skill of the load and PV forecasts against persistence (MAE, RMSE, pinball, P10-P90 coverage)."""
    from openvpp.forecast.backtest import backtest_simbench, check_backtest_inputs
    from openvpp.report import check_out_dir
    from openvpp.report.forecast import render_forecast_skill

    check_backtest_inputs(grid, days, history_days, method, window_days)
    fig_dir = out if (out is not None or json_out) else Path("openvpp-out")
    if fig_dir is not None:
        check_out_dir(fig_dir)
    prog, cb = progress_bar("forecasting held-out days")
    with prog:
        result = backtest_simbench(grid, days, history_days=history_days, load_method=method,
                                   window_days=window_days, progress=cb)
    if json_out:
        render_forecast_skill(result, out_dir=fig_dir, console=None)
        print_json(result.to_dict())
        return
    render_forecast_skill(result, out_dir=fig_dir, console=console)
