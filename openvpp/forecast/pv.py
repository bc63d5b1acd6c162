"""PV forecasts: pvlib clear-sky output times a clear-sky (cloudiness) index learned from recent history.

For each site the clear-sky AC output per kWp comes from the PV chain of :mod:`openvpp.der.pv` (pvlib NREL
SPA sun position, Ineichen clear sky with pvlib's Linke turbidity climatology, Hay-Davies transposition,
PVWatts DC and inverter; seed 000 §7.2 sizes a prosumer at 2.5 kWp). The clear-sky index of a past step is
measured output / (kWp x clear-sky output per kWp), kept where the clear sky gives at least 5 % of the rating.
For each horizon step the indices at the same time of day, and ``w = slot_window_min`` before and after it,
over the last ``window_days`` days give the 10 / 50 / 90 % quantiles, which multiply the clear-sky output of
the horizon step; weather persists from one day to the next, so the quantiles are scaled by an AR(1) forecast
of the daily clear-sky index:

``P_q(t) = kWp x PV_clear(t) x Q_q{ k(t - d days + o) : d = 1 .. window_days, o in (-w, 0, w) }
x K_hat / K_mean``,

``K_hat = K_mean + phi (K_last - K_mean)``, where ``K_j`` is the energy-weighted clear-sky index of the past
24-h block ``j``, ``K_mean`` its mean over the window, ``K_last`` the last block's, and ``phi`` the lag-1
autocorrelation of ``K_j`` over the window clipped to [0, 1] (``persistence_weight`` fixes it instead).

The index absorbs what the clear-sky model does not know about a site (orientation, shading, soiling,
inverter limits) as well as the weather of the season. Output is zero when the sun is down and never
negative; quantiles are ordered because quantiles of one sample are. Where no past index exists for a time of
day (dawn and dusk of a lengthening day) the site's energy-weighted index over the window is used.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from openvpp.der.pv import PVParams, pv_ac_power
from openvpp.errors import ValidationError
from openvpp.forecast.base import (
    QUANTILES,
    Forecast,
    History,
    check_history,
    lagged_positions,
    nan_quantiles,
    site_blocks,
)

__all__ = ["CLEARSKY_INDEX_MAX", "MIN_CLEARSKY_FRACTION", "clearsky_pv_per_kwp", "forecast_pv"]

#: a clear-sky index is learned only where the clear sky gives at least this share of the rating [-]
MIN_CLEARSKY_FRACTION = 0.05
#: largest clear-sky index kept (cloud enhancement rarely exceeds 1.3-1.5 at 15-min resolution) [-]
CLEARSKY_INDEX_MAX = 1.5


def clearsky_pv_per_kwp(
    index: pd.DatetimeIndex,
    latitude: ArrayLike,
    longitude: ArrayLike,
    tilt_deg: float = 20.0,
    location_decimals: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Clear-sky AC output per kWp at each distinct location, and the location of each site.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Tz-aware axis (interval starts).
    latitude, longitude : array_like, shape (n_sites,) or scalar
        Site coordinates, north and east positive. [deg]
    tilt_deg : float
        Module tilt, equator-facing. [deg]
    location_decimals : int
        Coordinates are rounded to this many decimals of a degree (1 ≈ 11 km) to share one computation. [-]

    Returns
    -------
    (p_per_kwp, loc_of_site) : tuple of numpy.ndarray
        ``p_per_kwp`` shape (n_locations, n_steps), non-negative AC output of 1 kWp [kW/kWp];
        ``loc_of_site`` shape (n_sites,), row of each site. [-]
    """
    lat = np.atleast_1d(np.asarray(latitude, dtype=float))
    lon = np.atleast_1d(np.asarray(longitude, dtype=float))
    lat, lon = np.broadcast_arrays(lat, lon)
    if lat.ndim != 1 or not np.all(np.isfinite(lat)) or not np.all(np.isfinite(lon)):
        raise ValidationError("latitude and longitude must be finite numbers or 1-D arrays, one per site")
    if np.any(np.abs(lat) > 90) or np.any(np.abs(lon) > 180):
        raise ValidationError(
            f"latitude must be in [-90, 90] and longitude in [-180, 180] degrees (got latitude "
            f"{lat.min()}..{lat.max()}, longitude {lon.min()}..{lon.max()})"
        )
    keys = np.round(np.column_stack([lat, lon]), location_decimals)
    uniq, loc_of_site = np.unique(keys, axis=0, return_inverse=True)
    params = PVParams(
        device_id=np.arange(uniq.shape[0]).astype(str), latitude_deg=uniq[:, 0], longitude_deg=uniq[:, 1],
        p_dc_kwp=np.ones(uniq.shape[0]), tilt_deg=np.full(uniq.shape[0], float(tilt_deg)),
    )
    p = pv_ac_power(params, index, location_decimals=None)
    return np.maximum(p, 0.0), np.asarray(loc_of_site).reshape(-1)


def forecast_pv(
    history_kw: object,
    history_index: pd.DatetimeIndex,
    horizon_index: pd.DatetimeIndex,
    *,
    kwp: ArrayLike,
    latitude: ArrayLike,
    longitude: ArrayLike,
    site_ids: Sequence[str] | np.ndarray | None = None,
    window_days: int = 28,
    tilt_deg: float = 20.0,
    persistence_weight: float | None = None,
    location_decimals: int = 0,
    slot_window_min: float = 15.0,
) -> Forecast:
    """P10 / P50 / P90 PV forecast per site: clear-sky output times clear-sky index quantiles of recent days.

    Parameters
    ----------
    history_kw : array_like, shape (n_sites, n_hist) or (n_hist,)
        Past mean AC generation per interval, non-negative (generation, not the load convention). [kW]
    history_index : pandas.DatetimeIndex
        Axis of the history (interval starts), tz-aware, fixed step, at least two days.
    horizon_index : pandas.DatetimeIndex
        Axis to forecast: same step, starting at or after the end of the history, on its grid.
    kwp : array_like, shape (n_sites,) or scalar
        DC rating of each system (> 0). [kWp]
    latitude, longitude : array_like, shape (n_sites,) or scalar
        Site coordinates, north and east positive. [deg]
    site_ids : sequence of str, optional
        One id per site (row).
    window_days : int
        Past days whose clear-sky indices form the quantiles (2-60). [days]
    tilt_deg : float
        Module tilt assumed for the clear-sky shape, equator-facing. [deg]
    persistence_weight : float, optional
        Weight ``phi`` in [0, 1] of the last day's clear-sky index (0 = pure window quantiles, 1 = the last
        day's level); default: the lag-1 autocorrelation learned from the window. [-]
    location_decimals : int
        Sites share one clear-sky computation per cell of this many decimals of a degree (0: 1° cells).
        The clear-sky index is learned per site and time of day against the same clear sky it is applied
        to, so a fixed error of the clear-sky shape (a cell's sun is at most ~2 min off in time) cancels;
        the sun-position computation, the costly part, then runs once per cell. [-]
    slot_window_min : float
        The indices this many minutes before and after the time of day also join the sample (0 - 120): the
        default adds the neighbouring quarter-hours, which triples the sample and widens the P10-P90 band
        towards its nominal 80 % (measured on SimBench at 15-min steps, see docs/forecasting.md). [min]

    Returns
    -------
    Forecast
        ``quantity="pv"``, ``method="clearsky_index"``; zero at night, never negative. [kW]

    Raises
    ------
    ValidationError
        Negative or NaN history, non-positive kWp, coordinates out of range, misaligned axes.
    """
    if (
        isinstance(window_days, bool)
        or not isinstance(window_days, int | np.integer)
        or not 2 <= window_days <= 60
    ):
        raise ValidationError(f"window_days must be a whole number of days in 2..60 (got {window_days!r})")
    if isinstance(location_decimals, bool) or not isinstance(location_decimals, int) or location_decimals < 0:
        raise ValidationError(f"location_decimals must be a whole number >= 0 (got {location_decimals!r})")
    if not np.isfinite(slot_window_min) or not 0.0 <= float(slot_window_min) <= 120.0:
        raise ValidationError(f"slot_window_min must be in 0..120 minutes (got {slot_window_min!r})")
    if persistence_weight is not None and not 0.0 <= float(persistence_weight) <= 1.0:
        raise ValidationError(f"persistence_weight must be in [0, 1] or None (got {persistence_weight!r})")
    hist = check_history(history_kw, history_index, horizon_index, site_ids, min_days=2)
    n_sites, n_hist = hist.values.shape
    if np.any(hist.values < 0):
        r, c = np.argwhere(hist.values < 0)[0]
        raise ValidationError(
            f"history_kw is PV generation and must be >= 0 (got {hist.values[r, c]} at site "
            f"{hist.site_ids[r]!r}, {hist.index[c]}); pass the AC output, not the load-convention power"
        )
    kwp_arr = np.broadcast_to(np.asarray(kwp, dtype=float), (n_sites,)).copy()
    if not np.all(np.isfinite(kwp_arr)) or np.any(kwp_arr <= 0):
        raise ValidationError(f"kwp must be > 0 kWp for every site (got min {np.nanmin(kwp_arr)})")
    lat = np.broadcast_to(np.asarray(latitude, dtype=float), (n_sites,))
    lon = np.broadcast_to(np.asarray(longitude, dtype=float), (n_sites,))
    both = pd.DatetimeIndex(hist.index.append(hist.horizon.tz_convert(hist.index.tz)))
    if _fixed_step(both):  # the horizon follows the history directly: one clear-sky computation
        cs_loc, loc = clearsky_pv_per_kwp(both, lat, lon, tilt_deg, location_decimals)
    else:
        cs_loc, loc = _clearsky_two(hist, lat, lon, tilt_deg, location_decimals)
    cs_hist, cs_hor = cs_loc[:, :n_hist], cs_loc[:, n_hist:]
    lags = lagged_positions(hist.horizon_pos, n_hist, hist.steps_per_day, int(window_days))
    hw = round(float(slot_window_min) / (hist.index[1] - hist.index[0]).total_seconds() * 60.0)
    if hw:
        shifted = [np.where((lags >= 0) & (lags + o >= 0) & (lags + o < n_hist), lags + o, -1)
                   for o in (-hw, 0, hw)]
        lags = np.concatenate(shifted, axis=0)
    window0 = max(0, n_hist - int(window_days) * hist.steps_per_day)
    out = np.empty((3, n_sites, len(hist.horizon)))
    for blk in site_blocks(n_sites, lags.size * 2 + n_hist):
        v = hist.values[blk]
        cap = kwp_arr[blk, None]
        ch = cs_hist[loc[blk]]
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(ch >= MIN_CLEARSKY_FRACTION, v / (cap * ch), np.nan)
            energy_ratio = v[:, window0:].sum(axis=1) / (cap[:, 0] * ch[:, window0:].sum(axis=1))
        energy_ratio = np.clip(np.nan_to_num(energy_ratio), 0.0, CLEARSKY_INDEX_MAX)
        samples = np.where(lags[None] >= 0, ratio[:, np.maximum(lags, 0)], np.nan)  # (n_blk, W, n_steps)
        kq = nan_quantiles(samples, QUANTILES, axis=1)
        kq = np.where(np.isnan(kq), energy_ratio[None, :, None], kq)
        if persistence_weight != 0.0:
            scale = _daily_index_scale(
                v[:, window0:], cap * ch[:, window0:], hist.steps_per_day, persistence_weight
            )
            kq = kq * scale[None, :, None]
        kq = np.clip(kq, 0.0, CLEARSKY_INDEX_MAX)
        out[:, blk] = kq * (cap * cs_hor[loc[blk]])[None]
    return Forecast(
        hist.horizon, hist.site_ids, out[0], out[1], out[2], quantity="pv", method="clearsky_index"
    )


def _fixed_step(index: pd.Index) -> bool:
    d = np.diff(index.asi8)
    return bool(d.size == 0 or np.all(d == d[0]))


def _clearsky_two(
    hist: History, lat: np.ndarray, lon: np.ndarray, tilt_deg: float, decimals: int
) -> tuple[np.ndarray, np.ndarray]:
    """Clear sky on the history and on a horizon that does not follow it directly (two computations)."""
    a, loc = clearsky_pv_per_kwp(hist.index, lat, lon, tilt_deg, decimals)
    b, _ = clearsky_pv_per_kwp(hist.horizon, lat, lon, tilt_deg, decimals)
    return np.concatenate([a, b], axis=1), loc


def _daily_index_scale(
    p_kw: np.ndarray, p_clear_kw: np.ndarray, steps_per_day: int, weight: float | None
) -> np.ndarray:
    """Scale of tomorrow's clear-sky index relative to the window mean, from an AR(1) on daily indices.

    Daily index ``K_j`` = energy / clear-sky energy of the 24-h blocks ending at the end of the history;
    ``K_hat = K_mean + phi (K_last - K_mean)`` with ``phi`` the lag-1 autocorrelation of ``K_j`` (clipped to
    [0, 1]) or ``weight`` when given; the scale is ``K_hat / K_mean``.
    """
    n_days = p_kw.shape[1] // steps_per_day
    tail = n_days * steps_per_day
    e = p_kw[:, -tail:].reshape(p_kw.shape[0], n_days, steps_per_day).sum(axis=2)
    c = p_clear_kw[:, -tail:].reshape(p_kw.shape[0], n_days, steps_per_day).sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.where(c > 0, e / c, np.nan)
    k_mean = np.nanmean(k, axis=1)
    if weight is None:
        a, b = k[:, 1:] - k_mean[:, None], k[:, :-1] - k_mean[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            phi = np.nansum(a * b, axis=1) / np.nansum((k - k_mean[:, None]) ** 2, axis=1)
        phi = np.clip(np.nan_to_num(phi), 0.0, 1.0)
    else:
        phi = np.full(p_kw.shape[0], float(weight))
    k_hat = k_mean + phi * (k[:, -1] - k_mean)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(k_mean > 0, k_hat / k_mean, 1.0)
    return np.clip(np.nan_to_num(scale, nan=1.0), 0.0, CLEARSKY_INDEX_MAX / 0.5)
