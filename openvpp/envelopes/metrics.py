"""Capacity metrics and hosting capacity of seed 001 (CSIRO/SAPN §2.4, §3, §4).

Per VPP site (or transformer, all of whose sites share one mediated limit ``M_i(t)``) and day-type scenario,
with the export-capability curve ``S(t)`` of :mod:`openvpp.envelopes.solar`, the static floor (5 kW), the
step ``dt_h`` and the daylight steps ``dl`` (``n_dl`` of them):

* available energy   ``AE = sum_{t in dl} (S(t) - floor) dt_h``                       [kWh]
* released energy    ``RE_i = sum_{t in dl} max(min(M_i(t), S(t)) - floor, 0) dt_h``   [kWh]
* whole-day average available capacity  ``AC_day_i = mean_t M_i(t)``                  [kW]
* daylight average available capacity   ``AC_dl_i = mean_{t in dl} min(M_i(t), S(t))`` [kW]

Hosting capacity (§4.2, interpretation adopted in SEEDS.md): the capacity of transformer ``i`` that is
available for X % of the year is the (100 - X) % quantile over the year of ``max(C_i(t), 0)``, where the year
is the set of day-type scenarios each weighted by the number of days it represents. The quantile is the
*lower* weighted quantile ``Q(q) = min{v : F(v) >= q}`` over samples of positive weight (``q = 0`` is the
minimum: "unconstrained 100 % of the time").

Weighted quantiles of 7,200 samples for each of 75,530 transformers are the bottleneck of a network-wide run;
neither numpy (no weights) nor scipy offers a fast vectorised weighted order statistic, so
:func:`weighted_lower_quantiles` implements an exact histogram-refinement selection: one weighted histogram
per row locates the bin holding each quantile, and only the few samples in that bin are sorted. With integer
weights (days) every comparison is exact, so the result equals a full weighted sort.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openvpp.envelopes.engine import STATIC_FLOOR_KW
from openvpp.errors import ValidationError
from openvpp.units import H_PER_DAY

#: "% of the year unconstrained" levels of seed 001 Figure 21
UNCONSTRAINED_PCT: tuple[float, ...] = (100.0, 99.0, 90.0, 80.0, 50.0)
#: capacity classes of seed 001 Table 6 (0 kW means exactly zero) [kW]
TABLE6_THRESHOLDS_KW: tuple[float, ...] = (0.0, 1.0, 2.0, 3.0, 10.0, 20.0, 30.0)


def _check_profiles(
    mediated_kw: ArrayLike, solar_kw: ArrayLike, daylight: ArrayLike
) -> tuple[NDArray, NDArray, NDArray[np.bool_]]:
    m = np.asarray(mediated_kw)
    if m.dtype.kind != "f":  # float32 stays float32 (the network sweep's inputs)
        m = m.astype(float)
    s = np.asarray(solar_kw, dtype=m.dtype)
    d = np.asarray(daylight, dtype=bool)
    if m.ndim < 1 or m.shape[-s.ndim :] != s.shape or s.shape != d.shape:
        raise ValidationError(
            f"mediated_kw {m.shape} must end with the shape of solar_kw {s.shape} and daylight {d.shape}, "
            "e.g. (n_transformers, n_scenarios, n_steps) with (n_scenarios, n_steps)"
        )
    if np.any(d.sum(axis=-1) == 0):
        raise ValidationError("daylight has a day without any daylight step; check sunrise and sunset")
    return m, s, d


def _dt_h(n_steps: int) -> float:
    return H_PER_DAY / n_steps


def _daylight_sum(x: NDArray[np.float64], daylight: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Sum of ``x`` over the daylight steps (last axis)."""
    return np.where(daylight, x, 0.0).sum(axis=-1)


def available_energy_kwh(
    solar_kw: ArrayLike, daylight: ArrayLike, floor_kw: float = STATIC_FLOOR_KW
) -> NDArray[np.float64]:
    """Available energy per site: area between solar curve and static floor over daylight (seed 001 §2.4).

    Parameters
    ----------
    solar_kw : array_like, shape (..., n_steps)
        Export capability curve S(t) of a site over one day. [kW]
    daylight : array_like of bool, same shape
        Daylight steps. [-]
    floor_kw : float
        Static export limit. [kW]

    Returns
    -------
    numpy.ndarray, shape (...)
        [kWh]
    """
    s = np.asarray(solar_kw, dtype=float)
    d = np.asarray(daylight, dtype=bool)
    if s.shape != d.shape:
        raise ValidationError(f"solar_kw {s.shape} and daylight {d.shape} must have the same shape")
    return _daylight_sum(np.maximum(s - floor_kw, 0.0), d) * _dt_h(s.shape[-1])


def daylight_ranges(daylight: ArrayLike) -> list[tuple[int, int]] | None:
    """(first, stop) step of each day's daylight when every day's daylight steps are contiguous, else None.

    Parameters
    ----------
    daylight : array_like of bool, shape (n_scenarios, n_steps)
        Daylight steps. [-]

    Returns
    -------
    list of (int, int) or None
        Step ranges [-], used to sum over daylight by slicing instead of masking.
    """
    out = []
    for row in np.asarray(daylight, dtype=bool):
        idx = np.flatnonzero(row)
        if idx.size == 0 or idx[-1] - idx[0] + 1 != idx.size:
            return None
        out.append((int(idx[0]), int(idx[-1]) + 1))
    return out


def capacity_metrics(
    mediated_kw: ArrayLike,
    solar_kw: ArrayLike,
    daylight: ArrayLike,
    floor_kw: float = STATIC_FLOOR_KW,
    overwrite: bool = False,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Whole-day and daylight average available capacity and released energy in one pass (seed 001 §2.4).

    The one implementation behind :func:`average_available_capacity_kw`, :func:`released_energy_kwh` and the
    network sweep (:func:`openvpp.envelopes.sweep.process_chunk`): ``AC_day = mean_t M``, ``AC_dl =
    mean_{t in dl} min(M, S)``, ``RE = sum_{t in dl} max(min(M, S) - floor, 0) dt_h``.

    Parameters
    ----------
    mediated_kw : array_like, shape (..., n_scenarios, n_steps)
        Mediated per-site limit M(t) (float32 is kept). [kW]
    solar_kw : array_like, shape (n_scenarios, n_steps)
        Export capability curve S(t). [kW]
    daylight : array_like of bool, shape (n_scenarios, n_steps)
        Daylight steps. [-]
    floor_kw : float
        Static export limit. [kW]
    overwrite : bool
        Reuse ``mediated_kw``'s memory for ``min(M, S)`` (the sweep's large chunks; the input is then lost).

    Returns
    -------
    (ac_day_kw, ac_dl_kw, re_kwh) : tuple of numpy.ndarray, shape (..., n_scenarios)
        [kW], [kW], [kWh per site]
    """
    m, s, d = _check_profiles(mediated_kw, solar_kw, daylight)
    ac_day = m.mean(axis=-1, dtype=float)
    same = bool(overwrite) and (m is mediated_kw)
    x: NDArray = m if same else m.copy()
    np.minimum(x, s, out=x)
    n_dl = d.sum(axis=-1)
    ranges = daylight_ranges(d)
    dt_h = _dt_h(s.shape[-1])
    if ranges is not None:  # contiguous daylight: sum slices, no full-size temporaries
        sdl = np.empty(x.shape[:-1])
        re = np.empty(x.shape[:-1])
        for j, (a, b) in enumerate(ranges):
            part = x[..., j, a:b]
            sdl[..., j] = part.sum(axis=-1, dtype=float)
            re[..., j] = np.maximum(part - floor_kw, 0.0).sum(axis=-1, dtype=float)
        re *= dt_h
    else:
        sdl = np.where(d, x, 0.0).sum(axis=-1, dtype=float)
        re = np.where(d, np.maximum(x - floor_kw, 0.0), 0.0).sum(axis=-1, dtype=float) * dt_h
    return ac_day, sdl / n_dl, re


def released_energy_kwh(
    mediated_kw: ArrayLike, solar_kw: ArrayLike, daylight: ArrayLike, floor_kw: float = STATIC_FLOOR_KW
) -> NDArray[np.float64]:
    """Released energy per site: area between min(mediated, solar curve) and the floor over daylight (§2.4).

    Parameters
    ----------
    mediated_kw : array_like, shape (..., n_scenarios, n_steps)
        Mediated per-site limit M(t). [kW]
    solar_kw : array_like, shape (n_scenarios, n_steps)
        Export capability curve S(t). [kW]
    daylight : array_like of bool, shape (n_scenarios, n_steps)
        Daylight steps. [-]
    floor_kw : float
        Static export limit. [kW]

    Returns
    -------
    numpy.ndarray, shape (..., n_scenarios)
        [kWh per site]
    """
    return capacity_metrics(mediated_kw, solar_kw, daylight, floor_kw)[2]


def average_available_capacity_kw(
    mediated_kw: ArrayLike, solar_kw: ArrayLike, daylight: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Whole-day and daylight average available capacity per site (seed 001 §2.4).

    Parameters
    ----------
    mediated_kw : array_like, shape (..., n_scenarios, n_steps)
        Mediated per-site limit M(t). [kW]
    solar_kw : array_like, shape (n_scenarios, n_steps)
        Export capability curve S(t). [kW]
    daylight : array_like of bool, shape (n_scenarios, n_steps)
        Daylight steps. [-]

    Returns
    -------
    (ac_day_kw, ac_dl_kw) : tuple of numpy.ndarray, shape (..., n_scenarios)
        ``mean_t M(t)`` and ``mean_{t in dl} min(M(t), S(t))``. [kW]
    """
    ac_day, ac_dl, _ = capacity_metrics(mediated_kw, solar_kw, daylight)
    return ac_day, ac_dl


def vpp_average(per_site: ArrayLike, n_sites: ArrayLike) -> NDArray[np.float64]:
    """Average over every VPP site of a per-site metric given per transformer (eqs 3 and 7 of seed 001 §2.2).

    Parameters
    ----------
    per_site : array_like, shape (n_transformers, ...)
        Metric of each site on a transformer (all sites of a transformer share it). [-]
    n_sites : array_like, shape (n_transformers,)
        VPP sites per transformer. [-]

    Returns
    -------
    numpy.ndarray, shape (...)
        Site-weighted mean.
    """
    x = np.asarray(per_site, dtype=float)
    n = np.asarray(n_sites, dtype=float)
    if n.shape != x.shape[:1]:
        raise ValidationError(f"n_sites {n.shape} must match the transformer axis of per_site {x.shape}")
    return np.tensordot(n, x, axes=(0, 0)) / n.sum()


def weighted_lower_quantiles(
    values: ArrayLike, weights: ArrayLike, q: ArrayLike, n_bins: int = 128
) -> NDArray[np.float64]:
    """Exact lower weighted quantiles ``min{v : F(v) >= q}`` of each row, over samples of positive weight.

    ``F(v)`` is the weight of the samples ``<= v`` divided by the total weight. Integer weights (e.g. days)
    make every comparison exact. See the module docstring for the algorithm.

    Parameters
    ----------
    values : array_like, shape (n_rows, n_samples)
        Finite sample values. [-]
    weights : array_like, shape (n_samples,)
        Non-negative weight of each sample column (at least one positive). [-]
    q : array_like, shape (n_levels,)
        Probability levels in [0, 1].
    n_bins : int
        Histogram bins used to locate each quantile (speed only, not the result). [-]

    Returns
    -------
    numpy.ndarray, shape (n_rows, n_levels)
    """
    x = np.asarray(values)
    if x.dtype.kind != "f":
        x = x.astype(float)
    w = np.asarray(weights, dtype=float)
    qs = np.atleast_1d(np.asarray(q, dtype=float))
    if x.ndim != 2 or w.shape != (x.shape[1],):
        raise ValidationError(
            f"values must be (n_rows, n_samples) and weights (n_samples,) (got {x.shape}, {w.shape})"
        )
    if np.any(~np.isfinite(w)) or np.any(w < 0) or not np.any(w > 0):
        raise ValidationError("weights must be finite, >= 0 and not all zero")
    if np.any((qs < 0) | (qs > 1)) or np.any(~np.isfinite(qs)):
        raise ValidationError(f"quantile levels q must lie in [0, 1] (got {qs})")
    pos = w > 0
    if not np.all(pos):
        x, w = x[:, pos], w[pos]
    if not np.all(np.isfinite(x)):
        raise ValidationError("values contain NaN or inf; fill them first")
    return _lower_quantiles(x[:, :, None], w, qs, n_bins)


def _lower_quantiles(x3: NDArray, wg: NDArray, qs: NDArray, n_bins: int = 128) -> NDArray[np.float64]:
    """Core of :func:`weighted_lower_quantiles` over a grouped layout.

    ``x3`` is (n_rows, n_groups, n_per_group); every sample of group ``g`` weighs ``wg[g] > 0``. Values must
    be finite (checked by the callers).
    """
    n_rows, n_g, n_k = x3.shape
    if n_rows == 0:
        return np.empty((0, qs.size))
    x2 = x3.reshape(n_rows, -1)
    lo = x2.min(axis=1)
    span = (x2.max(axis=1) - lo).astype(float)
    scale = np.divide(n_bins, span, out=np.zeros_like(span), where=span > 0).astype(x3.dtype)
    y = x2 - lo[:, None]
    y *= scale[:, None]
    b = y.astype(np.int32).reshape(n_rows, n_g, n_k)
    del y
    np.minimum(b, n_bins - 1, out=b)
    rows_all = np.arange(n_rows)
    if n_bins <= 4 * n_k and n_rows * n_g * n_bins < 2**31:
        # few groups of many samples: unweighted counts per (row, group), weighted afterwards
        off = (np.arange(n_rows * n_g, dtype=np.int32) * n_bins).reshape(n_rows, n_g)
        b += off[:, :, None]
        counts = np.bincount(b.ravel(), minlength=n_rows * n_g * n_bins).reshape(n_rows, n_g, n_bins)
        hist = np.tensordot(counts, wg.astype(float), axes=(1, 0))
    else:
        off = np.broadcast_to((np.arange(n_rows, dtype=np.int64) * n_bins)[:, None], (n_rows, n_g))
        b = b + off[:, :, None]
        w_full = np.broadcast_to(wg.astype(float)[None, :, None], b.shape)
        hist = np.bincount(b.ravel(), weights=w_full.ravel(), minlength=n_rows * n_bins).reshape(
            n_rows, n_bins
        )
    cum = np.cumsum(hist, axis=1)
    total = cum[:, -1]
    x_flat = x2.ravel()
    flat_rows = np.flatnonzero(span == 0)
    out = np.empty((n_rows, qs.size))
    for k, qk in enumerate(qs):
        thr = qk * total
        t = np.argmax(cum >= thr[:, None], axis=1)
        below = np.where(t > 0, cum[rows_all, np.maximum(t - 1, 0)], 0.0)
        target = off + t.astype(off.dtype)[:, None]
        target[flat_rows] = -1  # constant rows: the answer is their value, no candidates needed
        target = target[:, :, None]
        flat = np.flatnonzero(b == target)
        rows = flat // (n_g * n_k)
        vals = x_flat[flat]
        wts = wg[(flat // n_k) % n_g].astype(float)
        rows, vals, wts, below, done = _refine(rows, vals, wts, below, thr, n_rows)
        cnt = np.bincount(rows, minlength=n_rows)
        pos = np.arange(rows.size) - (np.cumsum(cnt) - cnt)[rows]
        width = int(cnt.max()) if cnt.size else 0
        if width == 0:  # every row is constant or resolved
            out[:, k] = np.where(np.isnan(done), lo, done)
            out[flat_rows, k] = lo[flat_rows]
            continue
        padded = np.full((n_rows, width), np.inf, dtype=float)
        pw = np.zeros((n_rows, width))
        padded[rows, pos] = vals
        pw[rows, pos] = wts
        order = np.argsort(padded, axis=1)
        padded = np.take_along_axis(padded, order, axis=1)
        cw = np.cumsum(np.take_along_axis(pw, order, axis=1), axis=1)
        ok = (below[:, None] + cw >= thr[:, None]) & (np.arange(width)[None, :] < cnt[:, None])
        # the bin's last sample if rounding of non-integer weights leaves a row short (never with integers)
        pick = np.where(ok.any(axis=1), np.argmax(ok, axis=1), cnt - 1)
        out[:, k] = padded[rows_all, np.maximum(pick, 0)]
        resolved = ~np.isnan(done)
        out[resolved, k] = done[resolved]
        out[flat_rows, k] = lo[flat_rows]
    return out


def _refine(rows, vals, wts, below, thr, n_rows, max_candidates: int = 128, n_sub: int = 64):
    """Narrow large candidate sets by weighted sub-histograms until each row keeps at most ``max_candidates``.

    ``rows`` is sorted ascending. Rows whose remaining candidates are all equal are resolved (their value is
    the quantile) and returned in ``done`` (NaN elsewhere). With integer weights every step is exact.
    """
    done = np.full(n_rows, np.nan)
    below = below.copy()
    while rows.size:
        cnt = np.bincount(rows, minlength=n_rows)
        if cnt.max() <= max_candidates:
            break
        present = np.flatnonzero(cnt)
        starts = (np.cumsum(cnt) - cnt)[present]
        vlo = np.full(n_rows, np.inf)
        vhi = np.full(n_rows, -np.inf)
        vlo[present] = np.minimum.reduceat(vals, starts)
        vhi[present] = np.maximum.reduceat(vals, starts)
        flat_row = np.zeros(n_rows, dtype=bool)
        flat_row[present] = vhi[present] == vlo[present]
        done[flat_row] = vlo[flat_row]
        span = vhi - vlo
        scale = np.divide(n_sub, span, out=np.zeros(n_rows), where=(span > 0) & np.isfinite(span))
        sb = ((vals - vlo[rows]) * scale[rows]).astype(np.int64)
        np.minimum(sb, n_sub - 1, out=sb)
        h2 = np.bincount(rows * n_sub + sb, weights=wts, minlength=n_rows * n_sub).reshape(n_rows, n_sub)
        c2 = np.cumsum(h2, axis=1)
        reach = below[:, None] + c2 >= thr[:, None]
        last = n_sub - 1 - np.argmax(h2[:, ::-1] > 0, axis=1)  # rounding fallback for non-integer weights
        t2 = np.where(reach.any(axis=1), np.argmax(reach, axis=1), last)
        below = below + np.where(t2 > 0, c2[np.arange(n_rows), np.maximum(t2 - 1, 0)], 0.0)
        keep = (sb == t2[rows]) & ~flat_row[rows]
        rows, vals, wts = rows[keep], vals[keep], wts[keep]
    return rows, vals, wts, below, done


def check_day_weights(day_weights: ArrayLike, n_scenarios: int) -> NDArray[np.float64]:
    """Validate the days of the year each scenario stands for (non-negative, not all zero).

    Parameters
    ----------
    day_weights : ArrayLike
        Days of the year each scenario stands for. [d]
    n_scenarios : int
        Number of scenarios. [-]
    """
    w = np.asarray(day_weights, dtype=float)
    if w.shape != (n_scenarios,) or np.any(~np.isfinite(w)) or np.any(w < 0) or not np.any(w > 0):
        raise ValidationError(
            f"day_weights must be {n_scenarios} non-negative numbers of days, not all zero "
            f"(got shape {w.shape}); "
            "use ScenarioSet.day_weights"
        )
    return w


def hosting_quantile_levels(unconstrained_pct: ArrayLike = UNCONSTRAINED_PCT) -> NDArray[np.float64]:
    """Quantile levels ``(100 - X) / 100`` for "unconstrained X % of the time".

    Parameters
    ----------
    unconstrained_pct : ArrayLike
        Shares of the year without constraint. [%]
    """
    pct = np.atleast_1d(np.asarray(unconstrained_pct, dtype=float))
    if np.any((pct <= 0) | (pct > 100)):
        raise ValidationError(f"unconstrained_pct must lie in (0, 100] (got {pct})")
    return (100.0 - pct) / 100.0


def hosting_capacity_kw(
    raw_kw: ArrayLike,
    day_weights: ArrayLike,
    unconstrained_pct: ArrayLike = UNCONSTRAINED_PCT,
) -> NDArray[np.float64]:
    """Hosting capacity of each transformer for each "% of the year unconstrained" level (seed 001 §4.2).

    ``H_i(X) = Q_{(100 - X)/100}(max(C_i(t), 0))`` over every step of every scenario, each step weighted by
    the days its scenario stands for (interpretation adopted in SEEDS.md).

    Parameters
    ----------
    raw_kw : array_like, shape (n_transformers, n_scenarios, n_steps)
        Raw transformer limits C_i(t). [kW]
    day_weights : array_like, shape (n_scenarios,)
        Days of the year each scenario represents (integers keep the quantile exact). [d]
    unconstrained_pct : array_like, shape (n_levels,)
        Shares of the year without constraint, in (0, 100]. [%]

    Returns
    -------
    numpy.ndarray, shape (n_transformers, n_levels)
        [kW]
    """
    c = np.asarray(raw_kw)
    if c.ndim != 3:
        raise ValidationError(f"raw_kw must be (n_transformers, n_scenarios, n_steps) (got shape {c.shape})")
    w = check_day_weights(day_weights, c.shape[1])
    qs = hosting_quantile_levels(unconstrained_pct)
    pos = w > 0
    if not np.all(pos):
        c, w = c[:, pos, :], w[pos]
    if not np.all(np.isfinite(c)):
        raise ValidationError("raw_kw contains NaN or inf; fill it first")
    q = _lower_quantiles(c, w, qs)
    return np.maximum(q, 0.0)


def hosting_table(h100_kw: ArrayLike, thresholds_kw: ArrayLike = TABLE6_THRESHOLDS_KW) -> NDArray[np.float64]:
    """Share of transformers whose 100 %-unconstrained capacity is at most each threshold (seed 001 Table 6).

    The first class, 0 kW, counts transformers with no capacity at all.

    Parameters
    ----------
    h100_kw : array_like, shape (n_transformers,)
        Hosting capacity for 100 % of the time unconstrained. [kW]
    thresholds_kw : array_like
        Upper class bounds (cumulative). [kW]

    Returns
    -------
    numpy.ndarray, shape (n_thresholds,)
        Percent of transformers. [%]
    """
    h = np.asarray(h100_kw, dtype=float)
    if h.ndim != 1 or h.size == 0:
        raise ValidationError("h100_kw must be a non-empty 1-D array of transformer capacities in kW")
    thr = np.asarray(thresholds_kw, dtype=float)
    return 100.0 * (h[:, None] <= thr[None, :]).mean(axis=0)
