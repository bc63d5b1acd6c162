"""Baselines against hand calculations (10-of-10, day-of adjustment, cap, exclusions) and invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvpp.errors import ValidationError
from openvpp.settlement.baselines import (
    business_days,
    control_group_baseline,
    day_matrix,
    day_of_adjustment,
    meter_before_baseline,
    x_of_y_baseline,
)

# three weeks from Monday 2026-03-02 plus the target Monday (day 21), hourly
START = pd.Timestamp("2026-03-02", tz="UTC")
N_DAYS = 22


def hand_history(window_level: float = 2.5) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Load on day j at hour h: 1 + 0.1 j + 0.05 h on business days, 5 kW on weekends (must never count).

    On the target day the load over 14:00-17:00 is ``window_level + 0.05 h``.
    """
    index = pd.date_range(START, periods=N_DAYS * 24, freq="h")
    j = np.arange(N_DAYS)[:, None]
    h = np.arange(24)[None, :]
    load = 1.0 + 0.1 * j + 0.05 * h
    weekend = (START + pd.to_timedelta(np.arange(N_DAYS), "D")).dayofweek >= 5
    load[weekend] = 5.0
    load[21, 14:17] = window_level + 0.05 * np.arange(14, 17)
    return load.reshape(1, -1), index


def test_ten_of_ten_picks_the_last_ten_business_days_by_hand():
    p, index = hand_history()
    days, dates = day_matrix(p, index)
    bus = business_days(dates)
    base = x_of_y_baseline(days, 21, bus)
    # business days 7-11 and 14-18: sum of j = 125 -> mean day level 1 + 0.1 x 12.5 = 2.25
    assert base.n_days_used[0] == 10
    assert np.allclose(base.p_kw[0], 2.25 + 0.05 * np.arange(24))


def test_event_day_is_excluded_by_hand():
    p, index = hand_history()
    days, dates = day_matrix(p, index)
    excluded = np.zeros((1, N_DAYS), bool)
    excluded[0, 15] = True  # an event on day 15: the window reaches back to day 4
    base = x_of_y_baseline(days, 21, business_days(dates), excluded)
    # days 4, 7-11, 14, 16-18: sum of j = 114 -> 2.14
    assert np.allclose(base.p_kw[0, 18], 2.14 + 0.05 * 18)


def test_day_of_adjustment_ratio_by_hand():
    p, index = hand_history(window_level=2.5)
    days, dates = day_matrix(p, index)
    base = x_of_y_baseline(days, 21, business_days(dates)).p_kw
    adj = day_of_adjustment(base, days[:, 21], slice(14, 17), "ratio", (0.8, 1.2))
    # window means: baseline 2.25 + 0.75 = 3.0, actual 2.5 + 0.75 = 3.25 -> ratio 1.083333
    assert adj.factor[0] == pytest.approx(3.25 / 3.0)
    assert not adj.capped[0]
    assert adj.p_kw[0, 18] == pytest.approx((2.25 + 0.9) * 3.25 / 3.0)


def test_day_of_adjustment_cap_binds_by_hand():
    p, index = hand_history(window_level=4.0)
    days, dates = day_matrix(p, index)
    base = x_of_y_baseline(days, 21, business_days(dates)).p_kw
    adj = day_of_adjustment(base, days[:, 21], slice(14, 17), "ratio", (0.8, 1.2))
    # raw ratio 4.75 / 3.0 = 1.583 is capped at 1.2
    assert adj.capped[0] and adj.factor[0] == pytest.approx(1.2)
    assert adj.p_kw[0, 18] == pytest.approx(3.15 * 1.2)
    add = day_of_adjustment(base, days[:, 21], slice(14, 17), "additive", (0.8, 1.2))
    # raw offset 1.75 kW is capped at 0.2 x 3.0 = 0.6 kW
    assert add.offset_kw[0] == pytest.approx(0.6) and add.capped[0]
    assert add.p_kw[0, 18] == pytest.approx(3.15 + 0.6)


def test_high_five_of_ten_and_short_history():
    p, index = hand_history()
    days, dates = day_matrix(p, index)
    base = x_of_y_baseline(days, 21, business_days(dates), x=5, y=10, rank_steps=slice(18, 20))
    # the five highest of days 7-11, 14-18 are 14-18: mean level 2.6
    assert np.allclose(base.p_kw[0], 2.6 + 0.05 * np.arange(24))
    short = x_of_y_baseline(days, 8, business_days(dates))  # days 0-4 and 7 only
    assert short.n_days_used[0] == 6 and np.isnan(short.p_kw).all()


def test_day_matrix_rejects_a_day_that_does_not_start_at_midnight():
    index = pd.date_range("2026-03-02 01:00", periods=48, freq="h", tz="UTC")
    with pytest.raises(ValidationError, match="midnight"):
        day_matrix(np.zeros((1, 48)), index)


def test_meter_before_holds_the_last_reading_at_one_second():
    index = pd.date_range("2026-03-02 20:00", periods=600, freq="1s", tz="UTC")
    p = np.full((2, 600), 3.0)
    p[1] = 1.0
    p[:, 299] = [4.0, 2.0]
    base = meter_before_baseline(p, index, index[300], n_samples=1)
    assert base.tolist() == [4.0, 2.0]
    assert meter_before_baseline(p, index, index[300], n_samples=2).tolist() == [3.5, 1.5]
    with pytest.raises(ValidationError, match="before the event start"):
        meter_before_baseline(p, index, index[0])


def test_control_group_difference_in_differences_by_hand():
    # participants: pre level 2 and 4; controls rise by 1 kW during the event in group 0, by 0.5 in group 1
    treat = np.array([[2.0, 2.0, 0.0, 0.0], [4.0, 4.0, 1.0, 1.0]])
    control = np.array([[1.0, 1.0, 2.0, 2.0], [3.0, 3.0, 3.5, 3.5]])
    base = control_group_baseline(
        treat, control, slice(0, 2), slice(2, 4), np.array([0, 1]), np.array([0, 1])
    )
    assert np.allclose(base, [[3.0, 3.0], [4.5, 4.5]])


@settings(max_examples=30, deadline=None)
@given(scale=st.floats(0.1, 50.0), seed=st.integers(0, 1000), method=st.sampled_from(["ratio", "additive"]))
def test_scaling_the_history_scales_the_baseline(scale, seed, method):
    rng = np.random.default_rng(seed)
    index = pd.date_range(START, periods=N_DAYS * 24, freq="h")
    p = rng.uniform(0.5, 3.0, size=(3, N_DAYS * 24))
    days, dates = day_matrix(p, index)
    days2, _ = day_matrix(p * scale, index)
    bus = business_days(dates)
    b1 = x_of_y_baseline(days, 21, bus, x=5, y=10, rank_steps=slice(18, 20)).p_kw
    b2 = x_of_y_baseline(days2, 21, bus, x=5, y=10, rank_steps=slice(18, 20)).p_kw
    assert np.allclose(b2, scale * b1)
    a1 = day_of_adjustment(b1, days[:, 21], slice(14, 17), method).p_kw
    a2 = day_of_adjustment(b2, days2[:, 21], slice(14, 17), method).p_kw
    assert np.allclose(a2, scale * a1)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 1000))
def test_reordering_sites_reorders_the_baseline(seed):
    rng = np.random.default_rng(seed)
    index = pd.date_range(START, periods=N_DAYS * 24, freq="h")
    p = rng.uniform(0.5, 3.0, size=(5, N_DAYS * 24))
    excluded = rng.random((5, N_DAYS)) < 0.1
    perm = rng.permutation(5)
    days, dates = day_matrix(p, index)
    bus = business_days(dates)
    b = x_of_y_baseline(days, 21, bus, excluded, min_days=1).p_kw
    bp = x_of_y_baseline(days[perm], 21, bus, excluded[perm], min_days=1).p_kw
    assert np.allclose(bp, b[perm])


def test_float32_history_matches_float64():
    rng = np.random.default_rng(3)
    index = pd.date_range(START, periods=N_DAYS * 24, freq="h")
    p = rng.uniform(0.5, 3.0, size=(4, N_DAYS * 24))
    d64, dates = day_matrix(p, index)
    d32, _ = day_matrix(p.astype(np.float32), index)
    bus = business_days(dates)
    assert np.allclose(x_of_y_baseline(d32, 21, bus).p_kw, x_of_y_baseline(d64, 21, bus).p_kw, rtol=1e-6)


def test_a_gap_in_the_span_used_excludes_the_day():
    p, index = hand_history()
    days, dates = day_matrix(p.copy(), index)
    days[0, 18, 19] = np.nan  # day 18 loses its 19:00 reading: days 4, 7-11, 14-17 remain -> sum of j 111
    base = x_of_y_baseline(days, 21, business_days(dates), rank_steps=slice(18, 20), steps=slice(14, 20))
    assert np.allclose(base.p_kw[0], 1 + 0.1 * 11.1 + 0.05 * np.arange(14, 20))
    days[0, 17, 2] = np.nan  # outside the span used: day 17 still serves
    again = x_of_y_baseline(days, 21, business_days(dates), rank_steps=slice(18, 20), steps=slice(14, 20))
    assert np.allclose(again.p_kw, base.p_kw)
