"""Eligibility metrics against a hand calculation."""

from __future__ import annotations

import numpy as np
import pytest

from openvpp.settlement.eligibility import accuracy_metrics, baseline_eligibility


def test_accuracy_metrics_by_hand():
    rrmse, bias = accuracy_metrics(
        np.array([[2.0, 4.0], [1.0, 1.0], [0.0, 0.0]]), np.array([[3.0, 3.0], [1.0, 1.0], [-1.0, 0.0]])
    )
    assert rrmse[:2].tolist() == [pytest.approx(1 / 3), 0.0]
    assert bias[:2].tolist() == [0.0, 0.0]
    assert np.isnan(rrmse[2]) and np.isnan(bias[2])  # mean load not positive


def test_baseline_eligibility_by_hand():
    # days: [1,1] [2,2] [3,3] [2,4]; 2-of-2 baseline, no adjustment. Day 2: baseline 1.5 vs 3 -> errors -1.5,
    # -1.5; day 3: baseline 2.5 vs (2, 4) -> 0.5, -1.5 (days 0 and 1 lack history). RMSE sqrt(7/4), mean
    # load 3
    site = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [2.0, 4.0]])
    days = np.stack([site, 2 * site])
    rep = baseline_eligibility(
        days,
        np.ones(4, bool),
        np.zeros((2, 4), bool),
        range(4),
        slice(0, 2),
        ["a", "b"],
        x=2,
        y=2,
        lookback_days=10,
        adjustment="none",
        max_rrmse=0.5,
        max_abs_bias=0.4,
    )
    a = rep.sites.iloc[0]
    assert a["n_test_days"] == 2
    assert a["rrmse"] == pytest.approx(np.sqrt(7 / 4) / 3)
    assert a["bias"] == pytest.approx(-1 / 3)
    assert a["eligible"]
    assert rep.portfolio["rrmse"] == pytest.approx(np.sqrt(7 / 4) / 3)  # the portfolio is 3x site a
    strict = baseline_eligibility(
        days,
        np.ones(4, bool),
        np.zeros((2, 4), bool),
        range(4),
        slice(0, 2),
        ["a", "b"],
        x=2,
        y=2,
        lookback_days=10,
        adjustment="none",
        max_rrmse=0.2,
    )
    assert strict.n_eligible == 0 and strict.sites["reason"].iloc[0] == "accuracy (RRMSE) above threshold"
