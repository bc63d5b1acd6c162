"""Skill metrics checked by hand: pinball loss, MAE, RMSE, P10-P90 coverage, skill scores."""

from __future__ import annotations

import numpy as np
import pytest

from openvpp.errors import ValidationError
from openvpp.forecast import Forecast, pinball_loss, skill, skill_score
from openvpp.timeseries import make_index


def test_pinball_loss_by_hand():
    # y = 10, f = 8 (under-forecast by 2): q=0.9 -> 0.9*2 = 1.8; q=0.1 -> 0.1*2 = 0.2
    assert pinball_loss(10, 8, 0.9) == pytest.approx(1.8)
    assert pinball_loss(10, 8, 0.1) == pytest.approx(0.2)
    # over-forecast by 3: q=0.9 -> 0.1*3 = 0.3; q=0.5 -> 1.5
    assert pinball_loss(5, 8, 0.9) == pytest.approx(0.3)
    assert pinball_loss(5, 8, 0.5) == pytest.approx(1.5)
    with pytest.raises(ValidationError, match="q must be"):
        pinball_loss(1, 1, 1.0)


def test_skill_by_hand():
    idx = make_index("2016-06-01", 4, 15, tz="UTC")
    p10 = np.array([[0.0, 0.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0]])
    p50 = np.array([[1.0, 1.0, 2.0, 2.0], [3.0, 3.0, 3.0, 3.0]])
    p90 = np.array([[2.0, 2.0, 3.0, 3.0], [4.0, 4.0, 4.0, 4.0]])
    fc = Forecast(idx, ["a", "b"], p10, p50, p90)
    y = np.array([[1.0, 3.0, 2.0, 0.0], [3.0, 3.0, 5.0, 3.0]])
    t = skill(fc, y)
    # site a: errors y - p50 = 0, 2, 0, -2 -> MAE 1, RMSE sqrt(2); inside [p10, p90]: yes, no, yes, no -> 0.5
    assert t.loc["a", "mae_kw"] == pytest.approx(1.0)
    assert t.loc["a", "rmse_kw"] == pytest.approx(np.sqrt(2.0))
    assert t.loc["a", "coverage_p10_p90"] == pytest.approx(0.5)
    # pinball of site a, step by step (q = 0.1, 0.5, 0.9), mean over quantiles then steps:
    # t0 y=1: 0.1*1, 0, 0.1*1 -> 0.2/3;  t1 y=3: 0.1*3, 0.5*2, 0.9*1 -> 2.2/3
    # t2 y=2: 0.1*1, 0, 0.1*1 -> 0.2/3;  t3 y=0: 0.9*1, 0.5*2, 0.1*3 -> 2.2/3
    assert t.loc["a", "pinball_kw"] == pytest.approx((0.2 + 2.2 + 0.2 + 2.2) / 3 / 4)
    # site b: errors 0, 0, 2, 0 -> MAE 0.5, RMSE 1, coverage 0.75
    assert t.loc["b", ["mae_kw", "rmse_kw", "coverage_p10_p90"]].tolist() == pytest.approx([0.5, 1.0, 0.75])
    assert t.loc["all", "mae_kw"] == pytest.approx(0.75)
    assert t.loc["all", "rmse_kw"] == pytest.approx(np.sqrt((8 + 4) / 8))
    assert t.loc["all", "coverage_p10_p90"] == pytest.approx(5 / 8)
    assert t.loc["all", "mean_actual_kw"] == pytest.approx(y.mean())


def test_mask_scores_only_the_chosen_steps():
    idx = make_index("2016-06-01", 4, 15, tz="UTC")
    z = np.zeros((1, 4))
    fc = Forecast(idx, ["a"], z, np.array([[0.0, 1.0, 2.0, 0.0]]), np.array([[0.0, 2.0, 2.0, 0.0]]), "pv")
    y = np.array([[0.0, 2.0, 3.0, 0.0]])
    day = np.array([False, True, True, False])
    t = skill(fc, y, mask=day)
    # steps 1 and 2 only: errors 1, 1 -> MAE 1; inside: yes (2 in [0, 2]), no (3 > 2) -> coverage 0.5
    got = t.loc["a", ["mae_kw", "coverage_p10_p90", "mean_actual_kw"]].tolist()
    assert got == pytest.approx([1, 0.5, 2.5])
    # unmasked: the two night steps are perfect and covered
    assert skill(fc, y).loc["a", ["mae_kw", "coverage_p10_p90"]].tolist() == pytest.approx([0.5, 0.75])
    assert np.isnan(skill(fc, y, mask=np.zeros(4, bool)).loc["a", "mae_kw"])
    with pytest.raises(ValidationError, match="mask"):
        skill(fc, y, mask=np.ones(3, bool))


def test_a_perfect_forecast_scores_zero_and_full_coverage():
    idx = make_index("2016-06-01", 3, 15, tz="UTC")
    y = np.array([[1.0, 2.0, 3.0]])
    t = skill(Forecast(idx, ["a"], y, y, y), y)
    assert t.loc["all", ["mae_kw", "rmse_kw", "pinball_kw"]].tolist() == [0, 0, 0]
    assert t.loc["all", "coverage_p10_p90"] == 1.0
    with pytest.raises(ValidationError, match="actual_kw"):
        skill(Forecast(idx, ["a"], y, y, y), np.ones((1, 4)))


def test_skill_score():
    assert skill_score(0.5, 1.0) == pytest.approx(0.5)
    assert skill_score(2.0, 1.0) == pytest.approx(-1.0)
    assert np.isnan(skill_score(1.0, 0.0))
