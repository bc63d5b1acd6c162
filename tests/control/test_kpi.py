"""KPIs against hand calculations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from openvpp.control import kpi
from openvpp.errors import ValidationError


def test_activation_time_of_a_first_order_step():
    t = np.arange(0.0, 20.0, 0.5)
    req = np.where(t >= 2.0, 10.0, 0.0)
    # 90 % of a first-order response is reached at tau x ln 10 = 4.6 s after the command at 2 s
    resp = np.where(t >= 2.0, 10.0 * (1 - np.exp(-(t - 2.0) / 2.0)), 0.0)
    assert kpi.activation_time_s(t, resp, req, 2.0) == 5.0  # first sample at or after 4.605 s
    assert math.isnan(kpi.activation_time_s(t, resp * 0.5, req, 2.0))
    # negative requests (raise = less consumption) work the same way
    assert kpi.activation_time_s(t, -resp, -req, 2.0) == 5.0


def test_tracking_error_by_hand():
    t = np.array([0.0, 1.0, 3.0])
    err = kpi.tracking_error(t, [1.0, 2.0, 4.0], [1.0, 3.0, 4.0])
    # hold times 1, 2 and 1.5 (the median step): |e| = 0, 1, 0 -> MAE 2/4.5, RMSE sqrt(2/4.5)
    assert err["mae_kw"] == pytest.approx(2 / 4.5) and err["rmse_kw"] == pytest.approx(np.sqrt(2 / 4.5))
    assert err["max_kw"] == 1.0 and err["max_norm"] == pytest.approx(0.25)


def test_reserve_delivery_and_duration():
    t = np.arange(10.0)
    resp = np.array([0, 9, 10, 10, 10, 5, 10, 10, 10, 10], float)
    req = np.full(10, 10.0)
    assert kpi.delivery_duration_s(t, resp, req) == 4.0
    assert kpi.reserve_delivered_share(t, resp, 10.0) == pytest.approx(resp.mean() / 10)


def test_saidi_saifi_and_ens():
    r = kpi.saidi_saifi([100, 50, 0], [4.0, 1.0, 0.0], 1000)
    assert r["saidi_h"] == pytest.approx((400 + 50) / 1000) and r["saifi"] == pytest.approx(0.15)
    assert kpi.energy_not_supplied_kwh([[1.0, 2.0], [0.0, 3.0]], [0.5, 0.25]) == pytest.approx(
        0.5 + 0.5 + 0.75
    )


def test_delay_and_compute_stats():
    d = kpi.delay_stats(np.arange(101.0))
    assert d["p50_s"] == 50.0 and d["p90_s"] == 90.0 and d["max_s"] == 100.0
    c = kpi.compute_time_stats([0.001, 0.002, 0.003])
    assert c["median_ms"] == pytest.approx(2.0)


def test_bad_input():
    with pytest.raises(ValidationError, match="increasing"):
        kpi.tracking_error([0.0, 0.0], [1, 1], [1, 1])
    with pytest.raises(ValidationError, match="committed_kw"):
        kpi.reserve_delivered_share([0.0], [1.0], 0.0)
    with pytest.raises(ValidationError, match="n_customers"):
        kpi.saidi_saifi([1], [1.0], 0)
