"""The :class:`Forecast` result and the array machinery every forecaster shares.

A forecast is columnar: quantiles ``p10_kw``, ``p50_kw``, ``p90_kw`` shaped ``(n_sites, n_steps)`` on a
tz-aware horizon axis, with ``P10 <= P50 <= P90`` the 10 / 50 / 90 % quantiles (DESIGN.md "Quantiles"; the
probabilistic P10 / P50 / P90 of seed 003 §2). Forecasters look back from each horizon step by whole
seasons (a day or a week) with :func:`lagged_positions`, and turn past errors into quantiles with
:func:`residual_quantiles` (empirical quantiles of in-sample residuals per hour of day), so no loop runs per
site or per step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from openvpp.errors import ValidationError
from openvpp.timeseries import as_2d, check_index

__all__ = [
    "MAX_ELEMENTS",
    "QUANTILES",
    "Forecast",
    "History",
    "check_history",
    "lagged_positions",
    "nan_quantiles",
    "residual_quantiles",
]

#: the three quantile levels of every forecast [-]
QUANTILES = (0.1, 0.5, 0.9)
#: largest array (sites x steps) a forecaster accepts for the history or the horizon [-]
MAX_ELEMENTS = 400_000_000
#: sites processed at once (bounds the temporaries of the lag gathers) [-]
BLOCK_ELEMENTS = 20_000_000
#: longest horizon accepted [days]
MAX_HORIZON_DAYS = 31


@dataclasses.dataclass(frozen=True)
class Forecast:
    """P10 / P50 / P90 forecasts of one quantity (load or PV) for many sites over a horizon.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Horizon axis (interval starts), tz-aware, fixed step, shape (n_steps,).
    site_ids : numpy.ndarray of str, shape (n_sites,)
        Site identifiers, unique.
    p10_kw, p50_kw, p90_kw : numpy.ndarray, shape (n_sites, n_steps)
        10 %, 50 % and 90 % quantiles of the mean power of each interval, ``P10 <= P50 <= P90``. Load is
        consumption (+ = import); PV is the non-negative AC generation. [kW]
    quantity : {"load", "pv"}
        What is forecast.
    method : str
        Name of the forecaster (``"weekly"``, ``"seasonal_naive"``, ``"persistence"``, ``"clearsky_index"``).

    Raises
    ------
    ValidationError
        On shapes that disagree with ``index``/``site_ids``, NaN, crossed quantiles or an unknown quantity.
    """

    index: pd.DatetimeIndex
    site_ids: np.ndarray
    p10_kw: np.ndarray
    p50_kw: np.ndarray
    p90_kw: np.ndarray
    quantity: str = "load"
    method: str = ""

    def __post_init__(self) -> None:
        check_index(self.index, "forecast.index")
        if self.quantity not in ("load", "pv"):
            raise ValidationError(f"forecast.quantity must be 'load' or 'pv' (got {self.quantity!r})")
        ids = np.asarray(self.site_ids).astype(str)
        if ids.ndim != 1 or len(np.unique(ids)) != ids.shape[0]:
            raise ValidationError("forecast.site_ids must be a 1-D array of unique site identifiers")
        n, m = ids.shape[0], len(self.index)
        arrays = {}
        for name in ("p10_kw", "p50_kw", "p90_kw"):
            arr = as_2d(f"forecast.{name}", getattr(self, name), n, m)
            arr.flags.writeable = False
            arrays[name] = arr
        tol = 1e-9
        p10, p50, p90 = arrays["p10_kw"], arrays["p50_kw"], arrays["p90_kw"]
        if np.any(p10 > p50 + tol) or np.any(p50 > p90 + tol):
            raise ValidationError(
                "forecast quantiles cross: P10 <= P50 <= P90 must hold at every site and "
                "step"
            )
        object.__setattr__(self, "site_ids", ids)
        for name, arr in arrays.items():
            object.__setattr__(self, name, arr)

    @property
    def n_sites(self) -> int:
        """Number of sites. [-]"""
        return int(self.site_ids.shape[0])

    @property
    def n_steps(self) -> int:
        """Number of horizon steps. [-]"""
        return len(self.index)

    def quantile(self, q: float) -> np.ndarray:
        """The forecast of quantile level ``q`` (0.1, 0.5 or 0.9).

        Parameters
        ----------
        q : float
            Quantile level. [-]

        Returns
        -------
        numpy.ndarray, shape (n_sites, n_steps)
            [kW]
        """
        for level, name in zip(QUANTILES, ("p10_kw", "p50_kw", "p90_kw"), strict=True):
            if abs(float(q) - level) < 1e-12:
                return np.asarray(getattr(self, name))
        raise ValidationError(f"quantile level must be one of {QUANTILES} (got {q!r})")

    def to_frame(self, quantile: str = "p50") -> pd.DataFrame:
        """One quantile as a frame: rows are the horizon steps, columns the sites.

        Parameters
        ----------
        quantile : {"p10", "p50", "p90"}
            Which quantile.

        Returns
        -------
        pandas.DataFrame
            [kW]
        """
        if quantile not in ("p10", "p50", "p90"):
            raise ValidationError(f"quantile must be 'p10', 'p50' or 'p90' (got {quantile!r})")
        return pd.DataFrame(np.asarray(getattr(self, f"{quantile}_kw")).T, index=self.index,
                            columns=pd.Index(self.site_ids, name="site_id"))

    def take(self, sites: Sequence[int] | np.ndarray | slice) -> Forecast:
        """The forecast of a subset of sites (by position).

        Parameters
        ----------
        sites : sequence of int, array or slice
            Site positions. [-]

        Returns
        -------
        Forecast
        """
        return Forecast(self.index, self.site_ids[sites], self.p10_kw[sites], self.p50_kw[sites],
                        self.p90_kw[sites], self.quantity, self.method)


@dataclasses.dataclass(frozen=True)
class History:
    """A checked history and horizon: ``values`` (n_sites, n_hist) and horizon positions on its grid."""

    values: np.ndarray
    index: pd.DatetimeIndex
    horizon: pd.DatetimeIndex
    horizon_pos: np.ndarray
    site_ids: np.ndarray
    steps_per_day: int


def check_history(
    history_kw: object,
    history_index: pd.DatetimeIndex,
    horizon_index: pd.DatetimeIndex,
    site_ids: Sequence[str] | np.ndarray | None,
    min_days: float,
    name: str = "history_kw",
) -> History:
    """Validate a forecaster's inputs and place the horizon on the history's grid.

    Parameters
    ----------
    history_kw : array_like, shape (n_sites, n_hist) or (n_hist,)
        Past mean power per interval. [kW]
    history_index : pandas.DatetimeIndex
        Axis of the history (interval starts).
    horizon_index : pandas.DatetimeIndex
        Axis to forecast; same step, starting at or after the end of the history, on its grid.
    site_ids : sequence of str, optional
        One id per site (default ``"0"``, ``"1"``, ...).
    min_days : float
        Shortest history accepted. [days]
    name : str
        Name of the history argument in messages.

    Returns
    -------
    History
    """
    hidx = check_index(history_index, "history_index")
    fidx = check_index(horizon_index, "horizon_index")
    if len(hidx) < 2 or len(fidx) < 1:
        raise ValidationError("history_index needs at least two steps and horizon_index at least one")
    step = hidx[1] - hidx[0]
    fstep = (fidx[1] - fidx[0]) if len(fidx) >= 2 else step
    if fstep != step:
        raise ValidationError(
            f"horizon_index has step {fstep} but history_index has {step}; resample one onto the other's step"
        )
    steps_per_day = pd.Timedelta(days=1) / step
    if abs(steps_per_day - round(steps_per_day)) > 1e-9:
        raise ValidationError(f"the step {step} does not divide a day; use e.g. 5, 15, 30 or 60 minutes")
    spd = round(steps_per_day)
    if len(hidx) < min_days * spd:
        raise ValidationError(
            f"{name} covers {len(hidx) / spd:g} days but this method needs at least {min_days:g} days of "
            "history"
        )
    if len(fidx) > MAX_HORIZON_DAYS * spd:
        raise ValidationError(
            f"horizon_index has {len(fidx)} steps, more than {MAX_HORIZON_DAYS} days; forecast at most "
            f"{MAX_HORIZON_DAYS} days at a time"
        )
    offset = (fidx[0] - hidx[0]) / step
    if abs(offset - round(offset)) > 1e-9:
        raise ValidationError(
            f"horizon_index starts at {fidx[0]}, which is not on the history's {step} grid from {hidx[0]}"
        )
    pos0 = round(offset)
    if pos0 < len(hidx):
        raise ValidationError(
            f"horizon_index starts at {fidx[0]}, before the end of the history ({hidx[-1] + step}); "
            "a forecast only looks forward: cut the history before the horizon"
        )
    arr = np.asarray(history_kw, dtype=float) if not isinstance(history_kw, np.ndarray) else history_kw
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim == 2 and arr.size > MAX_ELEMENTS:
        raise ValidationError(
            f"{name} has {arr.size} values, above the limit of {MAX_ELEMENTS}; forecast the sites in batches"
        )
    n_sites = arr.shape[0] if arr.ndim == 2 else 0
    if n_sites * len(fidx) * 3 > MAX_ELEMENTS:
        raise ValidationError(
            f"{n_sites} sites x {len(fidx)} steps x 3 quantiles exceeds {MAX_ELEMENTS} values; forecast the "
            "sites in batches"
        )
    values = as_2d(name, arr, None, len(hidx))
    if site_ids is None:
        ids = np.arange(values.shape[0]).astype(str)
    else:
        ids = np.asarray(site_ids).astype(str)
        if ids.shape != (values.shape[0],):
            raise ValidationError(
                f"site_ids has {ids.size} entries but {name} has {values.shape[0]} sites (rows); give one "
                "id per row"
            )
        if len(np.unique(ids)) != ids.shape[0]:
            raise ValidationError("site_ids must be unique")
    pos = pos0 + np.arange(len(fidx))
    return History(values, hidx, fidx, pos, ids, spd)


def lagged_positions(pos: np.ndarray, n_hist: int, season: int, n_lags: int) -> np.ndarray:
    """Positions one, two, ... seasons back from each target position, within the history.

    For a target at position ``p`` (counted from the first history step) the first lag is the smallest
    whole number of seasons ``k0 >= 1`` that lands inside the history; lags ``k0 .. k0 + n_lags - 1`` follow.
    Positions before the history are returned as -1.

    Parameters
    ----------
    pos : numpy.ndarray, shape (n_steps,)
        Target positions. [-]
    n_hist : int
        Length of the history. [-]
    season : int
        Season length in steps (a day or a week). [-]
    n_lags : int
        Number of seasons to look back. [-]

    Returns
    -------
    numpy.ndarray of int, shape (n_lags, n_steps)
        History positions, -1 where outside. [-]
    """
    k0 = np.maximum(1, -((n_hist - 1 - pos) // season))  # ceil((pos - n_hist + 1) / season), at least 1
    lags = pos[None, :] - (k0[None, :] + np.arange(n_lags)[:, None]) * season
    return np.where(lags >= 0, lags, -1)


def nan_quantiles(samples: np.ndarray, levels: Sequence[float], axis: int = 1) -> np.ndarray:
    """Quantiles along ``axis`` ignoring NaN (linear interpolation, numpy's default), fully vectorised.

    :func:`numpy.nanquantile` loops in Python over every 1-D slice; this sorts once (NaN last) and
    interpolates between the order statistics of each slice's valid count.

    Parameters
    ----------
    samples : numpy.ndarray
        Samples, NaN where missing. [any unit]
    levels : sequence of float
        Quantile levels in [0, 1]. [-]
    axis : int
        Axis of the samples. [-]

    Returns
    -------
    numpy.ndarray
        Shape ``(len(levels),) + samples.shape`` without ``axis``; NaN where a slice has no valid sample.
        [unit of samples]
    """
    s = np.sort(np.moveaxis(samples, axis, -1), axis=-1)
    count = np.sum(~np.isnan(s), axis=-1)
    out = []
    for q in levels:
        h = (count - 1) * float(q)
        lo = np.clip(np.floor(h).astype(np.int64), 0, s.shape[-1] - 1)
        hi = np.clip(lo + 1, 0, np.maximum(count - 1, 0))
        hi = np.minimum(hi, s.shape[-1] - 1)
        a = np.take_along_axis(s, lo[..., None], -1)[..., 0]
        b = np.take_along_axis(s, hi[..., None], -1)[..., 0]
        val = a + (h - np.floor(h)) * (b - a)
        out.append(np.where(count > 0, val, np.nan))
    return np.stack(out)


def hour_of_day(index: pd.DatetimeIndex, tz: object) -> np.ndarray:
    """Hour of day (0-23) of each stamp in the time zone ``tz`` (the history's).

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Tz-aware stamps.
    tz : tzinfo or str
        Zone in which the hour is read.

    Returns
    -------
    numpy.ndarray of int
        Hour of day. [h]
    """
    return np.asarray(index.tz_convert(tz).hour, dtype=np.int64)  # type: ignore[arg-type]


def residual_quantiles(
    residuals: np.ndarray, res_hour: np.ndarray, target_hour: np.ndarray, levels: Sequence[float] = QUANTILES
) -> np.ndarray:
    """Empirical quantiles of past residuals per site and hour of day, placed on the target steps.

    Parameters
    ----------
    residuals : numpy.ndarray, shape (n_sites, n_res)
        Actual minus point forecast over the history, NaN where there was no forecast. [kW]
    res_hour : numpy.ndarray of int, shape (n_res,)
        Hour of day of each residual. [h]
    target_hour : numpy.ndarray of int, shape (n_steps,)
        Hour of day of each target step. [h]
    levels : sequence of float
        Quantile levels. [-]

    Returns
    -------
    numpy.ndarray, shape (len(levels), n_sites, n_steps)
        Residual quantiles for each target step (0 where an hour had no residual at all). [kW]
    """
    n_sites = residuals.shape[0]
    by_hour = np.zeros((len(levels), n_sites, 24))
    valid_cols = ~np.all(np.isnan(residuals), axis=0)
    for h in np.unique(target_hour):  # at most 24 passes, each over every site at once
        cols = (res_hour == h) & valid_cols
        if not cols.any():  # no residual in this hour: pool the whole day
            cols = valid_cols
        if cols.any():
            by_hour[:, :, h] = nan_quantiles(residuals[:, cols], levels, axis=1)
    return np.nan_to_num(by_hour[:, :, target_hour])


def site_blocks(n_sites: int, n_cols: int) -> list[slice]:
    """Slices of sites processed together so that temporaries stay under :data:`BLOCK_ELEMENTS`.

    Parameters
    ----------
    n_sites : int
        Number of sites. [-]
    n_cols : int
        Values held per site by the computation. [-]

    Returns
    -------
    list of slice
    """
    size = max(1, BLOCK_ELEMENTS // max(n_cols, 1))
    return [slice(a, min(a + size, n_sites)) for a in range(0, n_sites, size)]
