"""Skill on held-out SimBench days: days parsing, input checks before loading, the pooled table."""

from __future__ import annotations

import numpy as np
import pytest

from openvpp.errors import ValidationError
from openvpp.forecast.backtest import DEFAULT_DAYS, backtest_simbench, check_backtest_inputs, parse_days

GRID = "1-LV-rural1--2-sw"


def test_parse_days():
    assert parse_days("2016-06-15, 2016-02-27..2016-03-01") == [
        "2016-02-27", "2016-02-28", "2016-02-29", "2016-03-01", "2016-06-15",
    ]
    assert len(parse_days(DEFAULT_DAYS)) == 28
    assert parse_days("2016-02-01..2016-02-10/4") == ["2016-02-01", "2016-02-05", "2016-02-09"]
    assert len(parse_days("2016-02-01..2016-12-28/4")) == 83
    for bad, match in [("", "empty"), ("2017-01-01", "2016"), ("2016-03-05..2016-03-01", "ends before"),
                       ("2016-01-01..2016-12-31", "at most 120"),
                       ("2016-02-01..2016-03-01/x", "range step")]:
        with pytest.raises(ValidationError, match=match):
            parse_days(bad)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"grid": "1-LV-nope"}, "--grid"),
        ({"days": "2016-01-10"}, "fewer than 28 days"),
        ({"history_days": 5}, "--history-days"),
        ({"load_method": "arima"}, "--method"),
        ({"window_days": 40}, "--window-days"),
    ],
)
def test_inputs_are_checked_first(kwargs, match):
    args = {
        "grid": GRID, "days": "2016-06-15", "history_days": 28, "load_method": "weekly", "window_days": 28
    }
    with pytest.raises(ValidationError, match=match):
        check_backtest_inputs(**{**args, **kwargs})


@pytest.fixture(scope="module")
def study():
    return backtest_simbench(GRID, "2016-06-14..2016-06-15", history_days=14, window_days=14, example_days=1)


@pytest.mark.slow
def test_table_pools_days_and_scores_against_persistence(study):
    t = study.table
    assert study.n_load_sites == 3 and study.n_pv_sites == 8
    assert set(t.index.get_level_values("method")) == {"weekly", "persistence", "clearsky_index"}
    row = t.loc[("load", "all", "weekly")]
    ref = t.loc[("load", "all", "persistence")]
    assert row["n_days"] == 2
    assert row["skill_mae"] == pytest.approx(1 - row["mae_kw"] / ref["mae_kw"])
    assert np.isnan(ref["skill_mae"])
    assert t["coverage_p10_p90"].between(0, 1).all()
    assert (t[["mae_kw", "rmse_kw", "pinball_kw"]] > 0).all().all()
    assert (t["rmse_kw"] >= t["mae_kw"]).all()
    ex = study.example["pv"]
    assert len(ex["index"]) == 96 and np.all(ex["p10_kw"] <= ex["p90_kw"]) and np.all(ex["p10_kw"] >= 0)
    doc = study.to_dict()
    assert doc["days"] == ["2016-06-14", "2016-06-15"] and len(doc["skill"]) == len(t)
    numbers = [v for r in doc["skill"] for v in r.values() if not isinstance(v, str)]
    assert all(v is None or np.isfinite(v) for v in numbers)
