"""Load forecasts: exact on periodic series, ordered quantiles, calibrated quantiles, columnar, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvpp.errors import ValidationError
from openvpp.forecast import forecast_load, persistence, skill
from openvpp.timeseries import make_index

SPD = 24  # hourly steps keep the tests small


def _axes(n_hist_days: int, n_hor_steps: int = SPD, start="2016-03-07"):
    h = make_index(start, n_hist_days * SPD, 60, tz="Etc/GMT-1")
    f = make_index(h[-1] + (h[1] - h[0]), n_hor_steps, 60, tz="Etc/GMT-1")
    return h, f


def _weekly_pattern(n_steps: int, rng: np.random.Generator, n_sites: int = 3) -> np.ndarray:
    week = rng.uniform(0.1, 3.0, size=(n_sites, 7 * SPD))
    reps = -(-n_steps // (7 * SPD))
    return np.tile(week, reps)[:, :n_steps]


@pytest.mark.parametrize("method", ["seasonal_naive", "weekly"])
def test_perfectly_weekly_series_is_forecast_exactly(method, rng):
    n_days, n_hor = 21, 2 * SPD + 5
    series = _weekly_pattern(n_days * SPD + n_hor, rng)
    h, f = _axes(n_days, n_hor)
    fc = forecast_load(series[:, : n_days * SPD], h, f, method=method)
    truth = series[:, n_days * SPD:]
    for q in (fc.p10_kw, fc.p50_kw, fc.p90_kw):
        np.testing.assert_allclose(q, truth, atol=1e-12)


def test_daily_persistence_is_exact_on_a_daily_series(rng):
    day = rng.uniform(0, 2, size=(2, SPD))
    series = np.tile(day, 6)
    h, f = _axes(5)
    fc = persistence(series[:, : 5 * SPD], h, f)
    np.testing.assert_allclose(fc.p50_kw, day, atol=1e-12)
    np.testing.assert_allclose(fc.p90_kw - fc.p10_kw, 0.0, atol=1e-12)


def test_weekly_profile_is_the_mean_of_past_weeks_by_hand():
    h, f = _axes(14, 1)
    x = np.zeros((1, 14 * SPD))
    x[0, 0], x[0, 7 * SPD] = 1.0, 3.0  # the target is Monday 00:00: one and two weeks back
    fc = forecast_load(x, h, f, method="weekly", n_weeks=2)
    # point forecast (1 + 3) / 2 = 2. Residuals at hour 0 in the second week (days 7..13): 3 - 1 = 2 on
    # day 7, 0 on the six others. Sorted [0, 0, 0, 0, 0, 0, 2]: 10 % and 50 % quantiles 0; the 90 % quantile
    # lies at rank 0.9 x 6 = 5.4, i.e. 0 + 0.4 x (2 - 0) = 0.8
    assert [fc.p10_kw[0, 0], fc.p50_kw[0, 0], fc.p90_kw[0, 0]] == pytest.approx([2.0, 2.0, 2.8])
    naive = forecast_load(x, h, f, method="seasonal_naive")
    # one week back: 3; same residuals -> 3, 3, 3.8
    assert [naive.p10_kw[0, 0], naive.p50_kw[0, 0], naive.p90_kw[0, 0]] == pytest.approx([3.0, 3.0, 3.8])


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["weekly", "seasonal_naive"]), st.integers(1, 4))
def test_quantiles_are_ordered_and_floored(seed, method, n_sites):
    rng = np.random.default_rng(seed)
    h, f = _axes(15, 30)
    x = rng.gamma(1.0, 1.0, size=(n_sites, len(h))) * rng.uniform(0, 5)
    fc = forecast_load(x, h, f, method=method)
    assert np.all(fc.p10_kw <= fc.p50_kw) and np.all(fc.p50_kw <= fc.p90_kw)
    assert np.all(fc.p10_kw >= 0)  # households never export: forecasts floored at zero
    signed = x - 2.0  # a net load can be negative: no floor then
    fc2 = forecast_load(signed, h, f, method=method)
    assert np.all(fc2.p10_kw <= fc2.p50_kw) and np.all(fc2.p50_kw <= fc2.p90_kw)


def test_quantiles_are_calibrated_on_iid_noise(rng):
    # weekly pattern plus independent noise: about 80 % of new values fall within P10-P90
    n_days = 56
    n = (n_days + 7) * SPD
    series = _weekly_pattern(n, rng, n_sites=40) + rng.normal(0, 0.3, size=(40, n))
    h, f = _axes(n_days, 7 * SPD)
    fc = forecast_load(series[:, : n_days * SPD], h, f, method="weekly")
    cover = skill(fc, series[:, n_days * SPD:]).loc["all", "coverage_p10_p90"]
    assert 0.72 < cover < 0.88


def test_sites_are_independent_columns(rng):
    h, f = _axes(15)
    x = rng.uniform(0, 3, size=(5, len(h)))
    together = forecast_load(x, h, f, site_ids=list("abcde"))
    alone = forecast_load(x[3], h, f, site_ids=["d"])
    np.testing.assert_allclose(together.p90_kw[3], alone.p90_kw[0])
    assert together.site_ids.tolist() == list("abcde")


def test_bad_input_is_named():
    h, f = _axes(15)
    x = np.ones((2, len(h)))
    with pytest.raises(ValidationError, match="method must be one of"):
        forecast_load(x, h, f, method="prophet")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="n_weeks"):
        forecast_load(x, h, f, n_weeks=0)
    with pytest.raises(ValidationError, match="at least 8 days"):
        forecast_load(x[:, : 6 * SPD], h[: 6 * SPD], make_index(h[6 * SPD], SPD, 60, tz=h.tz))
    with pytest.raises(ValidationError, match="quantity"):
        persistence(x, h, f, quantity="wind")  # type: ignore[arg-type]
