"""PV forecasts: never negative, zero at night, exact under a constant clear-sky index, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvpp.errors import ValidationError
from openvpp.forecast import forecast_pv
from openvpp.forecast.pv import clearsky_pv_per_kwp
from openvpp.timeseries import make_index

LAT, LON = -34.93, 138.60  # Adelaide
N_DAYS = 10


@pytest.fixture(scope="module")
def axes():
    h = make_index("2019-12-01", N_DAYS * 96, 15, tz="Australia/Adelaide")
    f = make_index(h[-1] + (h[1] - h[0]), 96, 15, tz="Australia/Adelaide")
    cs, _ = clearsky_pv_per_kwp(h.append(f), LAT, LON, location_decimals=0)  # the forecaster's 1° cell
    return h, f, cs[0]


def test_constant_clearsky_index_is_forecast_exactly(axes):
    h, f, cs = axes
    kwp = np.array([5.0, 2.5])
    index = np.array([0.8, 0.4])
    hist = index[:, None] * kwp[:, None] * cs[None, : len(h)]
    fc = forecast_pv(hist, h, f, kwp=kwp, latitude=LAT, longitude=LON)
    truth = index[:, None] * kwp[:, None] * cs[None, len(h):]
    for q in (fc.p10_kw, fc.p50_kw, fc.p90_kw):
        np.testing.assert_allclose(q, truth, rtol=1e-9, atol=1e-12)


def test_one_degree_cells_cost_little_accuracy(axes):
    # history made with the sun at the exact site (0.01° cells); the forecaster uses its 1° cell
    h, f, _ = axes
    exact, _ = clearsky_pv_per_kwp(h.append(f), LAT, LON, location_decimals=2)
    hist = 0.8 * 5.0 * exact[:, : len(h)]
    fc = forecast_pv(hist, h, f, kwp=5.0, latitude=LAT, longitude=LON)
    truth = 0.8 * 5.0 * exact[0, len(h):]
    assert np.abs(fc.p50_kw[0] - truth).max() < 0.02 * truth.max()
    fine = forecast_pv(hist, h, f, kwp=5.0, latitude=LAT, longitude=LON, location_decimals=2)
    np.testing.assert_allclose(fine.p50_kw[0], truth, rtol=1e-9, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 1.0))
def test_never_negative_zero_at_night_and_ordered(axes, seed, weight):
    h, f, cs = axes
    rng = np.random.default_rng(seed)
    kwp = rng.uniform(1, 10, size=4)
    hist = kwp[:, None] * cs[None, : len(h)] * rng.uniform(0, 1.3, size=(4, len(h)))
    fc = forecast_pv(hist, h, f, kwp=kwp, latitude=LAT, longitude=LON, window_days=7,
                     persistence_weight=weight)
    assert np.all(fc.p10_kw >= 0)
    assert np.all(fc.p10_kw <= fc.p50_kw) and np.all(fc.p50_kw <= fc.p90_kw)
    night = cs[len(h):] == 0
    assert night.sum() > 20
    assert np.all(fc.p90_kw[:, night] == 0)
    assert np.all(fc.p90_kw <= 1.5 * 3 * kwp[:, None] * cs[None, len(h):] + 1e-9)


def test_clearsky_per_kwp_is_a_pv_day(axes):
    h, _, cs = axes
    day = cs[:96]
    assert day.max() == pytest.approx(0.8, abs=0.15)  # 1 kWp, summer noon, PVWatts losses and inverter
    noon = int(np.argmax(day))
    assert 11.5 <= h[noon].hour + h[noon].minute / 60 <= 14.5  # Adelaide solar noon in daylight time


def test_bad_input_is_named(axes):
    h, f, _ = axes
    hist = np.ones((2, len(h)))
    with pytest.raises(ValidationError, match="must be >= 0"):
        forecast_pv(-hist, h, f, kwp=5, latitude=LAT, longitude=LON)
    with pytest.raises(ValidationError, match="kwp must be > 0"):
        forecast_pv(hist, h, f, kwp=[5, 0], latitude=LAT, longitude=LON)
    with pytest.raises(ValidationError, match="latitude"):
        forecast_pv(hist, h, f, kwp=5, latitude=95, longitude=LON)
    with pytest.raises(ValidationError, match="window_days"):
        forecast_pv(hist, h, f, kwp=5, latitude=LAT, longitude=LON, window_days=1)
    with pytest.raises(ValidationError, match="slot_window_min"):
        forecast_pv(hist, h, f, kwp=5, latitude=LAT, longitude=LON, slot_window_min=-15)
    with pytest.raises(ValidationError, match="persistence_weight"):
        forecast_pv(hist, h, f, kwp=5, latitude=LAT, longitude=LON, persistence_weight=2.0)
