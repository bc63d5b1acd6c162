"""Trust in data: plausibility checks on DER telemetry before it is stored (seed 000 §4 and explainer 002:
false data injection into the monitoring feed of seed 001 §2.1).

Each check works on arrays of readings (one element per reading, ordered as received) and returns, per
reading, either nothing, a *flag* (stored with the reading and queryable) or a *rejection* (the reading is not
stored; the client is told why). The checks and their thresholds (:class:`TrustLimits`):

==================  ============================================================================  =========
check               rule                                                                          outcome
==================  ============================================================================  =========
``future``          interval starts later than ``now + future_tolerance_s``                       reject
``power_rating``    ``|p_der_kw| > reject_rating_factor x p_max_kw`` (physically impossible)      reject
``power_rating``    ``|p_der_kw| > flag_rating_factor x p_max_kw``                                flag
``soc_jump``        ``|ΔSoC| > p_max_kw x Δt_h / e_max_kwh + soc_tolerance`` between consecutive    flag
                    readings of one DER: more energy than the rating could move in the time
``out_of_order``    interval starts before one already received for the DER                       flag
``frozen``          every reported value equal to the previous reading's, and no spread within    flag
                    the interval (``p_site_min_kw == p_site_max_kw``): a stuck meter or a replay
``duplicate``       same (DER, interval) as a stored or earlier reading with the same values      stored once
``conflict``        same (DER, interval) as a stored or earlier reading with other values         reject
==================  ============================================================================  =========

``duplicate`` and ``conflict`` are decided by the store (:mod:`openvpp.platform.store.telemetry`), which
knows what is stored; the functions here need only arrays.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openvpp.units import S_PER_H

__all__ = ["TRUST_CHECKS", "TrustFindings", "TrustLimits", "check_readings", "previous_reading"]

#: larger than any unix time in seconds, to separate DER groups in one running maximum [s]
_GROUP_STRIDE = np.int64(2**36)
#: names of the plausibility checks, as stored in ``telemetry_flags.check_name``
TRUST_CHECKS = ("future", "power_rating", "soc_jump", "out_of_order", "frozen")


@dataclasses.dataclass(frozen=True)
class TrustLimits:
    """Thresholds of the plausibility checks.

    Parameters
    ----------
    future_tolerance_s : float
        Clock-skew allowance before a reading counts as "in the future". [s]
    flag_rating_factor : float
        DER power above this multiple of its rating is flagged (meters and inverters exceed their nameplate
        by a few percent). [-]
    reject_rating_factor : float
        DER power above this multiple of its rating is rejected as impossible. [-]
    soc_tolerance : float
        SoC change allowed on top of what the rating can move (metering and SoC-estimation error). [-]
    """

    future_tolerance_s: float = 300.0
    flag_rating_factor: float = 1.1
    reject_rating_factor: float = 3.0
    soc_tolerance: float = 0.02


@dataclasses.dataclass
class TrustFindings:
    """Outcome of :func:`check_readings`.

    Attributes
    ----------
    reject : numpy.ndarray of bool, shape (n,)
        Readings that must not be stored.
    reject_field, reject_reason : list of str
        Field and reason of each rejection (empty strings where not rejected).
    flags : list of (index, check, reason)
        Flags on readings that are stored.
    """

    reject: NDArray[np.bool_]
    reject_field: list[str]
    reject_reason: list[str]
    flags: list[tuple[int, str, str]]


def previous_reading(
    der: ArrayLike, start_s: ArrayLike, stored_last_start_s: ArrayLike
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """For each reading, the position of the previous reading of the same DER in the batch, and whether it
    arrives out of order.

    Readings are taken in arrival order; the previous reading of a DER is the latest one (by interval start)
    received before it, in the batch, or the last stored one (position ``-1``).

    Parameters
    ----------
    der : array_like of int, shape (n,)
        DER key of each reading. [-]
    start_s : array_like of int, shape (n,)
        Interval starts (unix). [s]
    stored_last_start_s : array_like of int, shape (n,)
        Start of the last stored reading of the same DER, ``-1`` if none. [s]

    Returns
    -------
    prev : numpy.ndarray of int, shape (n,)
        Index in the batch of the previous reading of the same DER, ``-1`` = the stored one (or none). [-]
    out_of_order : numpy.ndarray of bool, shape (n,)
        True where the interval starts before one already received for the DER.
    """
    d = np.asarray(der, dtype=np.int64)
    t = np.asarray(start_s, dtype=np.int64)
    last = np.asarray(stored_last_start_s, dtype=np.int64)
    n = d.size
    order = np.lexsort((np.arange(n), d))  # group by DER, keep arrival order inside a group
    ds, ts = d[order], t[order]
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = ds[1:] != ds[:-1]
    gid = np.cumsum(new_group) - 1
    # the start received just before each reading of its DER (the stored last start for the first one) ...
    before = np.empty(n, dtype=np.int64)
    before[1:] = ts[:-1]
    before = np.where(new_group, np.maximum(last[order], -1), before)
    # ... and its running maximum within each DER group: offset the groups so one accumulate does them all
    offset = gid * _GROUP_STRIDE
    seen_max = np.maximum.accumulate(before + 1 + offset) - offset - 1
    ooo_sorted = ts < seen_max
    prev_sorted = np.full(n, -1, dtype=np.int64)
    has_prev_in_batch = ~new_group
    prev_sorted[has_prev_in_batch] = order[np.flatnonzero(has_prev_in_batch) - 1]
    prev = np.empty(n, dtype=np.int64)
    prev[order] = prev_sorted
    out_of_order = np.empty(n, dtype=bool)
    out_of_order[order] = ooo_sorted
    return prev, out_of_order


def check_readings(
    start_s: ArrayLike,
    interval_s: ArrayLike,
    p_der_kw: ArrayLike,
    soc: ArrayLike,
    values: ArrayLike,
    p_max_kw: ArrayLike,
    e_max_kwh: ArrayLike,
    prev: ArrayLike,
    out_of_order: ArrayLike,
    prev_stored_start_s: ArrayLike,
    prev_stored_soc: ArrayLike,
    prev_stored_values: ArrayLike,
    now_s: float,
    limits: TrustLimits | None = None,
) -> TrustFindings:
    """Run the plausibility checks of the module table on a batch of readings.

    Power signs follow the load convention (+ = import/charging); the rating checks use magnitudes.

    Parameters
    ----------
    start_s : array_like of int, shape (n,)
        Interval starts (unix). [s]
    interval_s : array_like of int, shape (n,)
        Interval lengths. [s]
    p_der_kw : array_like of float, shape (n,)
        DER power, NaN where not reported. [kW]
    soc : array_like of float, shape (n,)
        State of charge, NaN where not reported. [-]
    values : array_like of float, shape (n, k)
        Every reported value of each reading, NaN where absent (for the frozen check). [kW, V, -]
    p_max_kw : array_like of float, shape (n,)
        Rating of the reading's DER. [kW]
    e_max_kwh : array_like of float, shape (n,)
        Energy capacity of the reading's DER, NaN if not storage. [kWh]
    prev : array_like of int, shape (n,)
        Previous reading of the same DER in the batch, ``-1`` = the stored one (:func:`previous_reading`). [-]
    out_of_order : array_like of bool, shape (n,)
        Out-of-order mask from :func:`previous_reading`. [-]
    prev_stored_start_s : array_like of int, shape (n,)
        Start of the last stored reading of the DER, ``-1`` if none. [s]
    prev_stored_soc : array_like of float, shape (n,)
        Its SoC (NaN if none). [-]
    prev_stored_values : array_like of float, shape (n, k)
        Its values, as ``values`` (NaN if none). [kW, V, -]
    now_s : float
        Server time (unix). [s]
    limits : TrustLimits, optional
        Thresholds (defaults of :class:`TrustLimits`).

    Returns
    -------
    TrustFindings
    """
    lim = limits or TrustLimits()
    t = np.asarray(start_s, dtype=np.int64)
    n = t.size
    dur = np.asarray(interval_s, dtype=np.int64)
    p = np.asarray(p_der_kw, dtype=float)
    s = np.asarray(soc, dtype=float)
    vals = np.asarray(values, dtype=float).reshape(n, -1)
    pmax = np.asarray(p_max_kw, dtype=float)
    emax = np.asarray(e_max_kwh, dtype=float)
    pv = np.asarray(prev, dtype=np.int64)
    ooo = np.asarray(out_of_order, dtype=bool)
    st_t = np.asarray(prev_stored_start_s, dtype=np.int64)
    st_soc = np.asarray(prev_stored_soc, dtype=float)
    st_vals = np.asarray(prev_stored_values, dtype=float).reshape(n, -1)

    reject = np.zeros(n, dtype=bool)
    r_field = [""] * n
    r_reason = [""] * n
    flags: list[tuple[int, str, str]] = []

    future = t > now_s + lim.future_tolerance_s
    for i in np.flatnonzero(future):
        reject[i] = True
        r_field[i] = "start"
        r_reason[i] = (
            f"interval starts {int(t[i] - now_s)} s after the server clock (more than "
            f"{lim.future_tolerance_s:g} s): a reading cannot be from the future"
        )
    ap = np.abs(p)
    with np.errstate(invalid="ignore"):
        impossible = ~reject & (ap > lim.reject_rating_factor * pmax)
        high = ~reject & ~impossible & (ap > lim.flag_rating_factor * pmax)
    for i in np.flatnonzero(impossible):
        reject[i] = True
        r_field[i] = "p_der_kw"
        r_reason[i] = (
            f"|p_der_kw| = {ap[i]:g} kW is more than {lim.reject_rating_factor:g} x the DER rating "
            f"{pmax[i]:g} kW: physically impossible"
        )
    for i in np.flatnonzero(high):
        flags.append(
            (
                int(i),
                "power_rating",
                f"|p_der_kw| = {ap[i]:g} kW exceeds the rating {pmax[i]:g} kW by more "
                f"than {round((lim.flag_rating_factor - 1) * 100):d} %",
            )
        )

    # the previous reading's start, SoC and values (batch or stored)
    in_batch = pv >= 0
    safe = np.where(in_batch, pv, 0)
    p_t = np.where(in_batch, t[safe], st_t)
    p_soc = np.where(in_batch, s[safe], st_soc)
    p_vals = np.where(in_batch[:, None], vals[safe], st_vals)
    has_prev = (in_batch | (st_t >= 0)) & ~ooo & ~reject
    dt_h = np.maximum(t - p_t, 0) / S_PER_H
    with np.errstate(invalid="ignore", divide="ignore"):
        max_dsoc = pmax * dt_h / emax + lim.soc_tolerance
        dsoc = np.abs(s - p_soc)
        jump = has_prev & (dsoc > max_dsoc)
    for i in np.flatnonzero(jump):
        flags.append(
            (
                int(i),
                "soc_jump",
                f"SoC changed by {dsoc[i]:.3f} in {dt_h[i] * 60:g} min; a {pmax[i]:g} kW, "
                f"{emax[i]:g} kWh DER can move at most {max_dsoc[i]:.3f}",
            )
        )
    for i in np.flatnonzero(ooo & ~reject):
        flags.append((int(i), "out_of_order", "interval starts before one already received for this DER"))
    present = ~np.isnan(vals)
    same = np.all((vals == p_vals) | (~present & np.isnan(p_vals)), axis=1) & np.any(present, axis=1)
    if vals.shape[1] >= 3:  # columns 0..2 are p_site avg/min/max
        flat = ~(vals[:, 1] < vals[:, 2])
    else:
        flat = np.ones(n, dtype=bool)
    frozen = has_prev & same & flat & (t != p_t) & (dur > 0)
    for i in np.flatnonzero(frozen):
        flags.append(
            (
                int(i),
                "frozen",
                "every value equals the previous reading's, with no spread within the "
                "interval: a stuck meter or replayed data",
            )
        )
    return TrustFindings(reject, r_field, r_reason, flags)
