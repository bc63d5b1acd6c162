"""Baselines for measurement and verification: what a site would have drawn had no event been called.

Seed 000 §4 asks for baseline methodologies that estimate a customer's consumption without the VPP's action,
so that the effective contribution can be measured and settled. This module implements the usual families
over columnar histories, vectorised over sites (power in the load convention, + = import):

- **X-of-Y day matching** (:func:`x_of_y_baseline`): of the ``y`` most recent eligible days of the same day
  type (business / non-business) within a look-back window, excluding event days and flagged days, average
  the ``x`` highest (by mean load over a ranking window) step by step. ``x = y = 10`` is the CAISO "10 of 10"
  standard baseline that AEMO's wholesale demand response mechanism (WDRM) adopted for business days; high
  5-of-10 is ``x = 5, y = 10``; non-business days use their own ``x``/``y`` (4 of 4 by default).
- **Day-of adjustment** (:func:`day_of_adjustment`): scale (ratio) or shift (additive) the day-matched
  baseline so that it meets the actual load over a window ending a gap before the event, capped (0.8-1.2).
- **Meter before / meter after** (:func:`meter_before_baseline`): for fast services metered at 1 s or 4 s,
  the mean of the last samples before the trigger, held through the event.
- **Control group** (:func:`control_group_baseline`): the participants' own pre-event level plus the change
  that matched non-participants show over the event (a difference in differences).

Histories are arrays ``(n_sites, n_steps)`` on a fixed-step, tz-aware axis that starts at a midnight and
covers whole days; :func:`day_matrix` views them as ``(n_sites, n_days, steps_per_day)`` without a copy.
Days are consecutive 24-hour blocks, so the axis must be in a time zone without daylight-saving changes
(UTC or a market's standard time such as ``Etc/GMT+4``); a block that does not start at midnight is an error.
float32 histories are accepted and kept float32 (half the memory of float64); sums are taken in float64.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from openvpp.errors import ValidationError
from openvpp.timeseries import check_index, step_minutes
from openvpp.units import MIN_PER_H

__all__ = [
    "AdjustedBaseline",
    "business_days",
    "control_group_baseline",
    "day_matrix",
    "day_of_adjustment",
    "meter_before_baseline",
    "select_days",
    "x_of_y_baseline",
]

MIN_PER_DAY = 24 * MIN_PER_H
#: sites handled per block by :func:`x_of_y_baseline` (bounds the temporary arrays to a few hundred MB)
SITE_CHUNK = 8192


def _as_float_2d(name: str, values: object) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype not in (np.float32, np.float64):
        try:
            arr = arr.astype(float)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"{name} must be numeric (got dtype {arr.dtype})") from exc
    if arr.ndim != 2:
        raise ValidationError(f"{name} must be 2-D shaped (n_sites, n_steps) (got shape {arr.shape})")
    return arr


def day_matrix(p_kw: np.ndarray, index: pd.DatetimeIndex) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """View a history ``(n_sites, n_steps)`` as ``(n_sites, n_days, steps_per_day)`` (seed 000 §4).

    Parameters
    ----------
    p_kw : numpy.ndarray, shape (n_sites, n_steps)
        Site power, load convention (+ = import); float32 or float64, NaN where a reading is missing. [kW]
    index : pandas.DatetimeIndex
        Fixed-step tz-aware axis of ``p_kw``; starts at a midnight and covers whole days.

    Returns
    -------
    (days_kw, dates)
        ``days_kw`` shaped ``(n_sites, n_days, steps_per_day)`` (a view when ``p_kw`` is contiguous) [kW]
        and the midnight of each day.

    Raises
    ------
    ValidationError
        Axis not whole days, not starting at midnight, a step that does not divide a day, or a day that does
        not start at midnight (a daylight-saving change: use a fixed-offset zone).
    """
    arr = _as_float_2d("p_kw", p_kw)
    check_index(index, "time")
    if arr.shape[1] != len(index):
        raise ValidationError(
            f"p_kw has {arr.shape[1]} steps but the time axis has {len(index)}; they must match"
        )
    step = step_minutes(index)
    spd = MIN_PER_DAY / step
    if spd != int(spd):
        raise ValidationError(f"time step {step} min does not divide a day; resample to e.g. 5 or 15 min")
    spd = int(spd)
    if len(index) % spd:
        raise ValidationError(
            f"history has {len(index)} steps, not a whole number of days of {spd} steps; trim it "
            f"to whole days"
        )
    starts = index[::spd]
    off = (starts.hour * 60 + starts.minute) * 60 + starts.second
    if np.any(off != 0):
        bad = starts[int(np.argmax(off != 0))]
        raise ValidationError(
            f"day blocks must start at midnight (got {bad}); start the history at 00:00 and use a time zone "
            "without daylight-saving changes (UTC or e.g. 'Etc/GMT+4')"
        )
    return arr.reshape(arr.shape[0], len(starts), spd), starts


def business_days(dates: pd.DatetimeIndex, holidays: Sequence[str | pd.Timestamp] = ()) -> np.ndarray:
    """Business-day flag of each day: Monday to Friday and not a holiday (AEMO WDRM / CAISO day types).

    Parameters
    ----------
    dates : pandas.DatetimeIndex
        Midnight of each day.
    holidays : sequence of dates
        Public holidays, counted as non-business days.

    Returns
    -------
    numpy.ndarray of bool, shape (n_days,)
    """
    hol = {pd.Timestamp(h).date() for h in holidays}
    wd = np.asarray(dates.dayofweek) < 5
    is_hol = np.array([d in hol for d in dates.date], dtype=bool) if hol else np.zeros(len(dates), bool)
    return wd & ~is_hol


def select_days(
    business: np.ndarray,
    excluded: np.ndarray,
    target_day: int,
    y: int,
    lookback_days: int,
) -> np.ndarray:
    """The ``y`` most recent eligible days of the target's day type, per site (X-of-Y, seed 000 §4).

    Parameters
    ----------
    business : numpy.ndarray of bool, shape (n_days,)
        Business-day flag of each day. [-]
    excluded : numpy.ndarray of bool, shape (n_sites, n_days)
        Days that may not serve (event days, flagged days, days with missing readings). [-]
    target_day : int
        Position of the day whose baseline is wanted; only earlier days are candidates. [-]
    y : int
        Number of days to select. [-]
    lookback_days : int
        Candidates lie within this many days before the target. [-]

    Returns
    -------
    numpy.ndarray of bool, shape (n_sites, target_day)
        Selected days (fewer than ``y`` where the history is short).
    """
    d = int(target_day)
    days = np.arange(d)
    ok_day = (business[:d] == business[d]) & (days >= d - int(lookback_days))
    cand = ok_day[None, :] & ~excluded[:, :d]
    # rank from the most recent: number of candidates in [j, d)
    rank = np.cumsum(cand[:, ::-1], axis=1)[:, ::-1]
    return cand & (rank <= int(y))


@dataclasses.dataclass(frozen=True)
class DayBaseline:
    """An unadjusted day-matched baseline and how it was made.

    Attributes
    ----------
    p_kw : numpy.ndarray, shape (n_sites, n_steps_returned)
        Baseline power, NaN where too few days were available. [kW]
    n_days_used : numpy.ndarray of int, shape (n_sites,)
        Days averaged for each site. [-]
    """

    p_kw: np.ndarray
    n_days_used: np.ndarray


def x_of_y_baseline(
    days_kw: np.ndarray,
    target_day: int,
    business: np.ndarray,
    excluded: np.ndarray | None = None,
    *,
    x: int = 10,
    y: int = 10,
    lookback_days: int = 45,
    rank_steps: slice | None = None,
    steps: slice | None = None,
    min_days: int | None = None,
) -> DayBaseline:
    """X-of-Y day-matching baseline for one target day (10-of-10 CAISO / WDRM, high 5-of-10; seed 000 §4).

    For each site, the ``y`` most recent eligible days of the target's day type within ``lookback_days`` are
    taken (:func:`select_days`); of these the ``x`` with the highest mean load over ``rank_steps`` are
    averaged step by step (with ``x == y`` all of them). Sites with fewer than ``min_days`` usable days
    get NaN
    and are counted in ``n_days_used`` — nothing is filled in.

    Parameters
    ----------
    days_kw : numpy.ndarray, shape (n_sites, n_days, steps_per_day)
        History from :func:`day_matrix`, load convention; NaN marks a missing reading. [kW]
    target_day : int
        Position of the target day in the history. [-]
    business : numpy.ndarray of bool, shape (n_days,)
        Business-day flags (:func:`business_days`). [-]
    excluded : numpy.ndarray of bool, shape (n_sites, n_days), optional
        Event days and flagged days per site; days with a NaN between the first and last step used
        (``rank_steps`` and ``steps``) are excluded as well. [-]
    x, y : int
        Days averaged and days considered. [-]
    lookback_days : int
        Window of candidate days before the target. [-]
    rank_steps : slice, optional
        Steps of the day whose mean load ranks the candidates (the event window); whole day by default.
    steps : slice, optional
        Steps of the day returned (default all).
    min_days : int, optional
        Fewest days for a valid baseline (default ``x``). [-]

    Returns
    -------
    DayBaseline
        ``p_kw`` shaped ``(n_sites, n_steps_returned)`` and ``n_days_used``. [kW], [-]
    """
    if days_kw.ndim != 3:
        raise ValidationError(f"days_kw must be (n_sites, n_days, steps_per_day) (got shape {days_kw.shape})")
    n_sites, n_days, spd = days_kw.shape
    if not (0 <= int(target_day) < n_days):
        raise ValidationError(f"target_day must lie in [0, {n_days - 1}] (got {target_day})")
    if not (1 <= x <= y):
        raise ValidationError(f"baseline needs 1 <= x <= y (got x={x}, y={y}); e.g. x = y = 10")
    if lookback_days < y:
        raise ValidationError(f"lookback_days must be >= y (got {lookback_days} < {y})")
    bus = np.asarray(business, dtype=bool)
    if bus.shape != (n_days,):
        raise ValidationError(f"business must have one flag per day ({n_days}) (got shape {bus.shape})")
    exc = np.zeros((n_sites, n_days), bool) if excluded is None else np.asarray(excluded, dtype=bool)
    if exc.shape != (n_sites, n_days):
        raise ValidationError(
            f"excluded must be shaped (n_sites, n_days) = {(n_sites, n_days)} (got {exc.shape})"
        )
    need = x if min_days is None else int(min_days)
    rank_steps = slice(None) if rank_steps is None else rank_steps
    steps = slice(None) if steps is None else steps
    d = int(target_day)
    n_out = len(range(spd)[steps])
    spans = [range(spd)[rank_steps], range(spd)[steps]]
    span_used = slice(min(r.start for r in spans if len(r)), max(r.stop for r in spans if len(r)))
    out = np.full((n_sites, n_out), np.nan, dtype=days_kw.dtype)
    used = np.zeros(n_sites, dtype=np.int64)
    for s0 in range(0, n_sites, SITE_CHUNK):
        blk = days_kw[s0 : s0 + SITE_CHUNK, :d]
        # a day with a missing reading in the span used is not a baseline day (whole-day gaps: pass them in
        # ``excluded``, as measure_events does)
        bad = np.isnan(blk[:, :, span_used]).any(axis=2) if d else np.zeros((blk.shape[0], 0), bool)
        sel = select_days(
            bus, exc[s0 : s0 + SITE_CHUNK] | np.pad(bad, ((0, 0), (0, n_days - d))), d, y, lookback_days
        )
        if x < y:
            score = np.where(sel, np.nanmean(blk[:, :, rank_steps], axis=2, dtype=np.float64), -np.inf)
        else:
            score = np.where(sel, 0.0, -np.inf)
        order = np.argsort(-score, axis=1, kind="stable")[:, :x]
        valid = np.take_along_axis(score, order, axis=1) > -np.inf
        n_valid = valid.sum(axis=1)
        rows = np.arange(blk.shape[0])
        acc = np.zeros((blk.shape[0], n_out), dtype=np.float64)
        for k in range(order.shape[1]):
            picked = blk[rows, order[:, k], steps] if d else np.zeros((blk.shape[0], n_out))
            acc += np.where(valid[:, k : k + 1], picked, 0.0)
        ok = n_valid >= need
        with np.errstate(invalid="ignore", divide="ignore"):
            res = acc / n_valid[:, None]
        out[s0 : s0 + SITE_CHUNK] = np.where(ok[:, None], res, np.nan)
        used[s0 : s0 + SITE_CHUNK] = n_valid
    return DayBaseline(p_kw=out, n_days_used=used)


@dataclasses.dataclass(frozen=True)
class AdjustedBaseline:
    """A day-matched baseline after the day-of adjustment.

    Attributes
    ----------
    p_kw : numpy.ndarray, shape like the input baseline
        Adjusted baseline. [kW]
    factor : numpy.ndarray, shape (n_sites,)
        Ratio applied (1 for the additive method). [-]
    offset_kw : numpy.ndarray, shape (n_sites,)
        Shift applied (0 for the ratio method). [kW]
    capped : numpy.ndarray of bool, shape (n_sites,)
        Whether the cap bound the adjustment.
    undefined : numpy.ndarray of bool, shape (n_sites,)
        Ratio not defined (baseline mean over the window <= 0, e.g. a net exporter); left unadjusted.
    """

    p_kw: np.ndarray
    factor: np.ndarray
    offset_kw: np.ndarray
    capped: np.ndarray
    undefined: np.ndarray


def day_of_adjustment(
    baseline_kw: np.ndarray,
    actual_kw: np.ndarray,
    window: slice | np.ndarray,
    method: Literal["ratio", "additive", "none"] = "ratio",
    cap: tuple[float, float] = (0.8, 1.2),
) -> AdjustedBaseline:
    """Day-of adjustment of a day-matched baseline, capped (CAISO / AEMO WDRM practice; seed 000 §4).

    With ``m_b`` and ``m_a`` the mean baseline and actual load over the adjustment ``window`` (hours
    before the
    event, a gap before its start):

    - ratio: ``baseline x clip(m_a / m_b, cap_low, cap_high)``; where ``m_b <= 0`` the ratio is undefined and
      the baseline is left unadjusted (flagged in ``undefined``);
    - additive: ``baseline + clip(m_a - m_b, (cap_low - 1) |m_b|, (cap_high - 1) |m_b|)`` — the same cap
      expressed as a share of the baseline's window mean.

    Parameters
    ----------
    baseline_kw : numpy.ndarray, shape (n_sites, n_steps_day)
        Unadjusted baseline over the day (or a span holding the window and the event). [kW]
    actual_kw : numpy.ndarray, shape (n_sites, n_steps_day)
        Metered power on the event day over the same span, load convention. [kW]
    window : slice or boolean mask over the span
        Steps of the adjustment window.
    method : {"ratio", "additive", "none"}
        Adjustment type.
    cap : (float, float)
        Lower and upper bound of the ratio, ``0 < low <= 1 <= high``. [-]

    Returns
    -------
    AdjustedBaseline
    """
    b = np.asarray(baseline_kw)
    a = np.asarray(actual_kw)
    if b.shape != a.shape or b.ndim != 2:
        raise ValidationError(f"baseline and actual must share a 2-D shape (got {b.shape} and {a.shape})")
    lo, hi = float(cap[0]), float(cap[1])
    if not (0.0 < lo <= 1.0 <= hi):
        raise ValidationError(
            f"adjustment cap must satisfy 0 < low <= 1 <= high (got {cap}); e.g. (0.8, 1.2)"
        )
    n = b.shape[0]
    ones, zeros, no = np.ones(n), np.zeros(n), np.zeros(n, bool)
    if method == "none":
        return AdjustedBaseline(b, ones, zeros, no, no)
    mb = np.asarray(b[:, window], dtype=np.float64).mean(axis=1)
    ma = np.asarray(a[:, window], dtype=np.float64).mean(axis=1)
    if method == "ratio":
        undefined = ~(mb > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            raw = np.where(undefined, 1.0, ma / np.where(undefined, 1.0, mb))
        factor = np.clip(raw, lo, hi)
        capped = (factor != raw) & ~undefined
        return AdjustedBaseline(b * factor[:, None].astype(b.dtype), factor, zeros, capped, undefined)
    if method == "additive":
        raw = ma - mb
        off = np.clip(raw, (lo - 1.0) * np.abs(mb), (hi - 1.0) * np.abs(mb))
        capped = off != raw
        return AdjustedBaseline(b + off[:, None].astype(b.dtype), ones, off, capped, no)
    raise ValidationError(f"adjustment method must be 'ratio', 'additive' or 'none' (got {method!r})")


def meter_before_baseline(
    p_kw: np.ndarray,
    index: pd.DatetimeIndex,
    start: pd.Timestamp,
    n_samples: int = 1,
) -> np.ndarray:
    """Meter-before baseline: mean of the last ``n_samples`` readings before the trigger, held (seed 000 §4).

    For fast services (frequency response) metered at 1 s or 4 s, the load just before the trigger is the
    best estimate of the load without response over the few minutes of the event.

    Parameters
    ----------
    p_kw : numpy.ndarray, shape (n_sites, n_steps)
        Site power, load convention. [kW]
    index : pandas.DatetimeIndex
        Time axis of ``p_kw`` (interval starts).
    start : pandas.Timestamp
        Trigger time (start of the event).
    n_samples : int
        Readings averaged before the trigger (1 = the last one). [-]

    Returns
    -------
    numpy.ndarray, shape (n_sites,)
        Baseline held through the event. [kW]

    Raises
    ------
    ValidationError
        Too few readings before the trigger, or a missing one.
    """
    if int(n_samples) < 1:
        raise ValidationError(f"meter_before_samples must be >= 1 (got {n_samples})")
    pos = int(index.searchsorted(pd.Timestamp(start)))
    if pos < n_samples:
        raise ValidationError(
            f"meter-before baseline needs {n_samples} reading(s) before the event start {start}; "
            f"the telemetry "
            f"starts at {index[0]}"
        )
    win = np.asarray(p_kw[:, pos - n_samples : pos], dtype=np.float64)
    base = win.mean(axis=1)
    if np.any(np.isnan(base)):
        raise ValidationError(
            f"meter-before baseline: a reading just before the event start {start} is missing; "
            f"gaps are not filled"
        )
    return base


def control_group_baseline(
    p_treat_kw: np.ndarray,
    p_control_kw: np.ndarray,
    pre: slice | np.ndarray,
    event: slice | np.ndarray,
    group_treat: np.ndarray | None = None,
    group_control: np.ndarray | None = None,
) -> np.ndarray:
    """Control-group baseline: own pre-event level plus the matched non-participants' change (seed 000 §4).

    ``baseline[s, t] = mean_pre(p_treat[s]) + (mean_{c in g(s)} p_control[c, t] - mean_{c in g(s)}
    mean_pre(p_control[c]))`` for the event steps ``t``: a difference in differences within matched groups.

    Parameters
    ----------
    p_treat_kw : numpy.ndarray, shape (n_treat, n_steps)
        Participants' power, load convention. [kW]
    p_control_kw : numpy.ndarray, shape (n_control, n_steps)
        Non-participants' power on the same axis. [kW]
    pre, event : slice or boolean mask over the steps
        Pre-event window and event steps.
    group_treat, group_control : numpy.ndarray of int, optional
        Matched group of each participant and each control site (one group when omitted). [-]

    Returns
    -------
    numpy.ndarray, shape (n_treat, n_event_steps)
        Baseline over the event. [kW]
    """
    t = _as_float_2d("p_treat_kw", p_treat_kw)
    c = _as_float_2d("p_control_kw", p_control_kw)
    if t.shape[1] != c.shape[1]:
        raise ValidationError(
            f"participants and controls must share a time axis ({t.shape[1]} vs {c.shape[1]} steps)"
        )
    gt = np.zeros(t.shape[0], np.int64) if group_treat is None else np.asarray(group_treat, np.int64)
    gc = np.zeros(c.shape[0], np.int64) if group_control is None else np.asarray(group_control, np.int64)
    if gt.shape != (t.shape[0],) or gc.shape != (c.shape[0],):
        raise ValidationError(
            "group_treat / group_control must give one group per participant / control site"
        )
    n_groups = int(max(gt.max(initial=0), gc.max(initial=0))) + 1
    counts = np.bincount(gc, minlength=n_groups)
    missing = np.setdiff1d(np.unique(gt), np.flatnonzero(counts))
    if missing.size:
        raise ValidationError(f"control group(s) {missing.tolist()} have no control sites; match every group")
    change = c[:, event] - c[:, pre].mean(axis=1, keepdims=True)
    sums = np.zeros((n_groups, change.shape[1]))
    np.add.at(sums, gc, change)
    mean_change = sums / counts[:, None].clip(min=1)
    return t[:, pre].mean(axis=1, keepdims=True) + mean_change[gt]
