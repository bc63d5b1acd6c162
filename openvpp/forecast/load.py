"""Household load forecasts: weekly profile, seasonal naive and persistence, with quantiles from residuals.

Point forecasts look back by whole seasons from each horizon step
(:func:`~openvpp.forecast.base.lagged_positions`):

* ``"weekly"`` - the mean of the same time of week over the last ``n_weeks`` weeks (a weekly profile);
* ``"seasonal_naive"`` - the value one season back (default one week), the classic seasonal naive forecast;
* :func:`persistence` - the value one day back ("tomorrow is like today"), the reference a forecast must beat.

Quantiles come from the same rule replayed over the history: every past step with at least one lag has a
residual (actual minus the point forecast made only from earlier data); per site and hour of day the 10 /
50 / 90 % empirical quantiles of those residuals are added to the point forecast, so P50 is the
median-corrected point forecast and P10 <= P50 <= P90 holds by construction (the probabilistic P10 / P50 /
P90 forecasts of seed 003 §2; "predict when support is needed", explainer 004). A site whose history never
goes below zero (a household's consumption) gets forecasts floored at zero.

All sites are computed together (arrays ``(n_sites, n_steps)``), in blocks of sites only to bound memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from openvpp.errors import ValidationError
from openvpp.forecast.base import (
    QUANTILES,
    Forecast,
    History,
    check_history,
    hour_of_day,
    lagged_positions,
    residual_quantiles,
    site_blocks,
)

__all__ = ["forecast_load", "lagged_mean", "persistence"]

_METHODS = ("weekly", "seasonal_naive")


def lagged_mean(values: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Mean of ``values`` at the lag positions of each target step, ignoring lags outside the history.

    Parameters
    ----------
    values : numpy.ndarray, shape (n_sites, n_hist)
        History. [kW]
    lags : numpy.ndarray of int, shape (n_lags, n_steps)
        Positions from :func:`~openvpp.forecast.base.lagged_positions` (-1 = outside). [-]

    Returns
    -------
    numpy.ndarray, shape (n_sites, n_steps)
        Mean over the valid lags, NaN where there is none. [kW]
    """
    total = np.zeros((values.shape[0], lags.shape[1]))
    count = np.zeros(lags.shape[1])
    for lag in lags:  # n_lags passes (a few weeks), each over every site and step
        ok = lag >= 0
        cols = np.flatnonzero(ok)
        if cols.size == 0:
            continue
        src = lag[cols]
        a, b = int(cols[0]), int(cols[-1]) + 1
        if b - a == cols.size and int(src[-1]) - int(src[0]) + 1 == src.size and np.all(np.diff(src) == 1):
            total[:, a:b] += values[:, int(src[0]) : int(src[-1]) + 1]  # contiguous: views, no gather
        else:
            total[:, cols] += values[:, src]
        count += ok
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _quantile_forecast(
    hist: History, season: int, n_lags: int, floor_at_zero: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Point forecast by lagged mean plus residual quantiles, per block of sites."""
    n_sites, n_hist = hist.values.shape
    lags_h = lagged_positions(hist.horizon_pos, n_hist, season, n_lags)
    res_pos = np.arange(season, n_hist)  # history steps with at least one earlier season
    if res_pos.size == 0:
        raise ValidationError("the history is shorter than one season plus one step; give a longer history")
    lags_r = lagged_positions(res_pos, n_hist, season, n_lags)
    # residuals: lags of a past step must stay in its past (they do: k0 = 1 inside the history)
    res_hour = hour_of_day(hist.index[res_pos], hist.index.tz)
    tgt_hour = hour_of_day(hist.horizon, hist.index.tz)
    out = np.empty((3, n_sites, len(hist.horizon)))
    for blk in site_blocks(n_sites, n_hist + res_pos.size * 2):
        v = hist.values[blk]
        point = lagged_mean(v, lags_h)
        resid = v[:, season:] - lagged_mean(v, lags_r)  # res_pos = season .. n_hist - 1
        rq = residual_quantiles(resid, res_hour, tgt_hour, QUANTILES)
        q = point[None] + rq
        if floor_at_zero:
            nonneg = (v.min(axis=1) >= 0)[None, :, None]
            q = np.where(nonneg, np.maximum(q, 0.0), q)
        out[:, blk] = q
    return out[0], out[1], out[2]


def forecast_load(
    history_kw: object,
    history_index: pd.DatetimeIndex,
    horizon_index: pd.DatetimeIndex,
    *,
    method: Literal["weekly", "seasonal_naive"] = "weekly",
    site_ids: Sequence[str] | np.ndarray | None = None,
    n_weeks: int = 4,
    season_days: int = 7,
) -> Forecast:
    """P10 / P50 / P90 load forecast per site from a weekly profile or a seasonal naive rule.

    Parameters
    ----------
    history_kw : array_like, shape (n_sites, n_hist) or (n_hist,)
        Past mean consumption per interval, load convention (+ = import), no NaN. [kW]
    history_index : pandas.DatetimeIndex
        Axis of the history (interval starts), tz-aware, fixed step; hours of day are read in its zone.
    horizon_index : pandas.DatetimeIndex
        Axis to forecast: same step, starting at or after the end of the history, on its grid, at most 31
        days long.
    method : {"weekly", "seasonal_naive"}
        ``"weekly"``: mean of the same time of week over the last ``n_weeks`` weeks; ``"seasonal_naive"``:
        the value ``season_days`` back.
    site_ids : sequence of str, optional
        One id per site (row).
    n_weeks : int
        Weeks averaged by ``"weekly"`` (1-52). [-]
    season_days : int
        Season of ``"seasonal_naive"`` (1 = yesterday, 7 = last week). [days]

    Returns
    -------
    Forecast
        ``quantity="load"``. [kW]

    Raises
    ------
    ValidationError
        Unknown method, history shorter than one season plus a day, misaligned axes, NaN, sizes above the
        stated bounds.
    """
    if method not in _METHODS:
        raise ValidationError(f"method must be one of {_METHODS} (got {method!r})")
    if isinstance(n_weeks, bool) or not isinstance(n_weeks, int | np.integer) or not 1 <= n_weeks <= 52:
        raise ValidationError(f"n_weeks must be a whole number of weeks in 1..52 (got {n_weeks!r})")
    if isinstance(season_days, bool) or not isinstance(season_days, int | np.integer)\
            or not 1 <= season_days <= 28:
        raise ValidationError(f"season_days must be a whole number of days in 1..28 (got {season_days!r})")
    days = 7 if method == "weekly" else int(season_days)
    hist = check_history(history_kw, history_index, horizon_index, site_ids, min_days=days + 1)
    season = days * hist.steps_per_day
    n_lags = int(n_weeks) if method == "weekly" else 1
    p10, p50, p90 = _quantile_forecast(hist, season, n_lags, floor_at_zero=True)
    return Forecast(hist.horizon, hist.site_ids, p10, p50, p90, quantity="load", method=method)


def persistence(
    history_kw: object,
    history_index: pd.DatetimeIndex,
    horizon_index: pd.DatetimeIndex,
    *,
    site_ids: Sequence[str] | np.ndarray | None = None,
    quantity: Literal["load", "pv"] = "load",
) -> Forecast:
    """Day-ahead persistence: each step repeats the same time of the last observed day; residual quantiles.

    The reference forecast that skill is measured against. P50 is the value one day back plus the median
    past residual of that hour (zero for a stationary series); P10 and P90 add the 10 % and 90 % residual
    quantiles, as in :func:`forecast_load`.

    Parameters
    ----------
    history_kw : array_like, shape (n_sites, n_hist) or (n_hist,)
        Past mean power per interval (load: consumption, + = import; PV: non-negative generation). [kW]
    history_index : pandas.DatetimeIndex
        Axis of the history (interval starts), tz-aware, fixed step, at least two days.
    horizon_index : pandas.DatetimeIndex
        Axis to forecast: same step, starting at or after the end of the history.
    site_ids : sequence of str, optional
        One id per site (row).
    quantity : {"load", "pv"}
        What the values are; a PV forecast is floored at zero.

    Returns
    -------
    Forecast
        ``method="persistence"``. [kW]
    """
    if quantity not in ("load", "pv"):
        raise ValidationError(f"quantity must be 'load' or 'pv' (got {quantity!r})")
    hist = check_history(history_kw, history_index, horizon_index, site_ids, min_days=2)
    p10, p50, p90 = _quantile_forecast(hist, hist.steps_per_day, 1, floor_at_zero=True)
    if quantity == "pv":
        p10, p50, p90 = (np.maximum(a, 0.0) for a in (p10, p50, p90))
    return Forecast(hist.horizon, hist.site_ids, p10, p50, p90, quantity=quantity, method="persistence")
