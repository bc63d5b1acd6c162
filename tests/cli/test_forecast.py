"""`openvpp forecast`: inputs checked before SimBench loads, the skill table, JSON, and the figure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openvpp.cli import forecast as cli_forecast
from openvpp.forecast import backtest

GRID = "1-LV-rural1--2-sw"


def test_cli_defaults_are_the_library_defaults():
    assert cli_forecast.DEFAULT_GRID == backtest.DEFAULT_GRID
    assert cli_forecast.DEFAULT_DAYS == backtest.DEFAULT_DAYS


@pytest.mark.parametrize(
    "args, field",
    [
        (["--grid", "1-LV-nope"], "--grid"),
        (["--days", "2016-13-01"], "--days"),
        (["--days", "2016-01-03"], "--days"),
        (["--days", "2015-06-01"], "--days"),
        (["--history-days", "3"], "--history-days"),
        (["--method", "arima"], "--method"),
        (["--window-days", "1"], "--window-days"),
        (["--out", "{bad_out}"], "--out"),
    ],
)
@pytest.mark.usefixtures("no_simbench")
def test_bad_input_is_rejected_before_loading(args, field, unwritable, rejected):
    rejected(["forecast", *[a.replace("{bad_out}", unwritable) for a in args]], field)


def test_json_prints_the_table_and_writes_no_figure(run_main, tmp_path):
    code, out, err = run_main(["forecast", "--grid", GRID, "--days", "2016-06-15", "--history-days", "10",
                               "--window-days", "10", "--json"])
    assert code == 0, err
    doc = json.loads(out)
    assert doc["grid"] == GRID and doc["days"] == ["2016-06-15"]
    methods = {(r["quantity"], r["method"]) for r in doc["skill"]}
    assert methods == {
        ("load", "weekly"), ("load", "persistence"), ("pv", "clearsky_index"), ("pv", "persistence")
    }
    assert "NaN" not in out
    assert not (Path.cwd() / "openvpp-out").exists()


@pytest.mark.slow
def test_table_and_figure(run_main, tmp_path):
    code, out, err = run_main(["forecast", "--grid", GRID, "--days", "2016-06-15", "--history-days", "10",
                               "--window-days", "10", "--out", str(tmp_path / "fig")])
    assert code == 0, err
    assert "skill" in out and "persistence" in out and "clearsky_index" in out
    png = tmp_path / "fig" / "forecast_skill.png"
    assert png.is_file() and png.stat().st_size > 10_000
