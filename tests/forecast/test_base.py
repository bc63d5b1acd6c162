"""The Forecast result, the lag positions and the vectorised NaN quantiles."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from openvpp.errors import ValidationError
from openvpp.forecast import Forecast
from openvpp.forecast.base import check_history, lagged_positions, nan_quantiles
from openvpp.timeseries import make_index


def test_lagged_positions_by_hand():
    # history of 10 steps (0..9), season 4: target 10 -> 6, 2; target 13 -> 9, 5; target 17: 13 is not yet
    # observed, so the first lag is two seasons back -> 9, 5
    lags = lagged_positions(np.array([10, 11, 13, 17]), n_hist=10, season=4, n_lags=2)
    assert lags.tolist() == [[6, 7, 9, 9], [2, 3, 5, 5]]
    assert lagged_positions(np.array([10]), 10, 4, 4).ravel().tolist() == [6, 2, -1, -1]


@settings(max_examples=60, deadline=None)
@given(arrays(float, st.tuples(st.integers(1, 4), st.integers(1, 9)),
              elements=st.one_of(st.floats(-1e3, 1e3), st.just(np.nan))))
def test_nan_quantiles_equal_numpy(samples):
    ours = nan_quantiles(samples, (0.1, 0.5, 0.9), axis=1)
    with warnings.catch_warnings():  # numpy warns on all-NaN slices
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = np.nanquantile(samples, [0.1, 0.5, 0.9], axis=1)
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-9, equal_nan=True)


def test_forecast_rejects_crossed_quantiles_and_bad_shapes():
    idx = make_index("2016-06-01", 3, 15, tz="UTC")
    ok = np.ones((2, 3))
    fc = Forecast(idx, ["a", "b"], ok * 0.5, ok, ok * 2, quantity="pv")
    assert fc.n_sites == 2 and fc.quantile(0.9)[0, 0] == 2 and fc.to_frame("p10").shape == (3, 2)
    assert fc.take([1]).site_ids.tolist() == ["b"]
    with pytest.raises(ValidationError, match="quantiles cross"):
        Forecast(idx, ["a", "b"], ok * 2, ok, ok * 3)
    with pytest.raises(ValidationError, match="n_steps must be 3"):
        Forecast(idx, ["a", "b"], np.ones((2, 4)), ok, ok)
    with pytest.raises(ValidationError, match="quantity"):
        Forecast(idx, ["a", "b"], ok, ok, ok, quantity="wind")
    with pytest.raises(ValidationError, match="unique"):
        Forecast(idx, ["a", "a"], ok, ok, ok)
    with pytest.raises(ValidationError, match="NaN"):
        Forecast(idx, ["a", "b"], ok, np.full((2, 3), np.nan), ok)


def test_check_history_messages():
    h = make_index("2016-06-01", 96 * 8, 15, tz="Etc/GMT-1")
    f = make_index("2016-06-09", 96, 15, tz="Etc/GMT-1")
    x = np.ones((2, len(h)))
    with pytest.raises(ValidationError, match="before the end of the history"):
        check_history(x, h, make_index("2016-06-08", 96, 15, tz="Etc/GMT-1"), None, 2)
    with pytest.raises(ValidationError, match="resample"):
        check_history(x, h, make_index("2016-06-09", 48, 30, tz="Etc/GMT-1"), None, 2)
    with pytest.raises(ValidationError, match="not on the history's"):
        check_history(x, h, make_index("2016-06-09 00:05", 96, 15, tz="Etc/GMT-1"), None, 2)
    with pytest.raises(ValidationError, match="at least 9 days"):
        check_history(x, h, f, None, 9)
    with pytest.raises(ValidationError, match="site_ids has 3 entries"):
        check_history(x, h, f, ["a", "b", "c"], 2)
    with pytest.raises(ValidationError, match="more than 31 days"):
        check_history(x, h, make_index("2016-06-09", 96 * 32, 15, tz="Etc/GMT-1"), None, 2)
    x[1, 5] = np.nan
    with pytest.raises(ValidationError, match="history_kw contains NaN or inf at device 1, step 5"):
        check_history(x, h, f, None, 2)
    # the same instant written in another zone is the same horizon
    same = check_history(np.ones(len(h)), h, f.tz_convert("UTC"), None, 2)
    assert same.horizon_pos[0] == len(h)
