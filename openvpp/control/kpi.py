"""Pilot KPIs (seed 000 §9): activation, communication delay, tracking, reserves, delivery, ENS, SAIDI/SAIFI.

Plain functions over arrays; the pilot study (:mod:`openvpp.studies.pilot`) applies them to co-simulation
runs.

* **activation time**: from the command (the frequency leaving the normal band, or an instruction's start) to
  the aggregate response first reaching 90 % of the change requested, as the open-loop response time of the
  IEEE 1547.1 step tests;
* **communication delay** per DER: distribution (mean, median, P90, P99, max) of the one-way delays;
* **tracking error**: MAE, RMSE and maximum of ``response - request`` over the event, time-weighted, also
  normalised by the largest requested change;
* **reserve delivered vs committed**: time-weighted mean response over the delivery window divided by the
  committed reserve;
* **delivery duration**: longest continuous time the response stays at or above 90 % of the request;
* **energy not supplied** and **SAIDI / SAIFI** (IEEE 1366: customer-hours and customer interruptions per
  customer served);
* **compute time per tick** of the controller.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openvpp.errors import ValidationError

__all__ = [
    "activation_time_s",
    "compute_time_stats",
    "delay_stats",
    "delivery_duration_s",
    "energy_not_supplied_kwh",
    "reserve_delivered_share",
    "saidi_saifi",
    "tracking_error",
]


def _series(t_s: ArrayLike, *arrays: ArrayLike) -> list[NDArray[np.float64]]:
    t = np.asarray(t_s, dtype=float)
    if t.ndim != 1 or (t.size > 1 and np.any(np.diff(t) <= 0)):
        raise ValidationError("t_s must be a 1-D strictly increasing array of seconds")
    out = [t]
    for a in arrays:
        arr = np.asarray(a, dtype=float)
        if arr.shape != t.shape:
            raise ValidationError(f"every series must have the shape of t_s {t.shape} (got {arr.shape})")
        out.append(arr)
    return out


def _weights(t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Length each sample is held (zero-order hold), the last one gets the median step."""
    if t.size < 2:
        return np.ones_like(t)
    d = np.diff(t)
    return np.append(d, np.median(d))


def activation_time_s(
    t_s: ArrayLike, response_kw: ArrayLike, request_kw: ArrayLike, t_command_s: float, level: float = 0.9
) -> float:
    """Time from the command until the response first reaches ``level`` of the request (IEEE 1547.1 style).

    Parameters
    ----------
    t_s : array_like, shape (n,)
        Sample times. [s]
    response_kw : array_like, shape (n,)
        Aggregate change delivered (same sign convention as the request). [kW]
    request_kw : array_like, shape (n,)
        Change requested at each sample. [kW]
    t_command_s : float
        Time of the command. [s]
    level : float
        Share of the request that counts as activated (0.9). [-]

    Returns
    -------
    float
        Activation time, NaN if never reached. [s]
    """
    t, resp, req = _series(t_s, response_kw, request_kw)
    if not 0 < level <= 1:
        raise ValidationError(f"level must lie in (0, 1] (got {level})")
    after = t >= t_command_s
    big = np.abs(req) > 1e-9
    ok = after & big & (resp * np.sign(req) >= level * np.abs(req) * (1.0 - 1e-9))
    if not ok.any():
        return math.nan
    return float(t[int(np.argmax(ok))] - t_command_s)


def delay_stats(delay_s: ArrayLike) -> dict[str, float]:
    """Distribution of the per-device communication delays.

    Parameters
    ----------
    delay_s : array_like, shape (n_devices,)
        One-way delay of each device. [s]

    Returns
    -------
    dict
        ``mean_s``, ``p50_s``, ``p90_s``, ``p99_s``, ``max_s``. [s]
    """
    d = np.asarray(delay_s, dtype=float)
    if d.size == 0 or np.any(~np.isfinite(d)) or np.any(d < 0):
        raise ValidationError("delay_s must be a non-empty array of delays >= 0 s")
    q = np.quantile(d, [0.5, 0.9, 0.99])
    return {
        "mean_s": float(d.mean()),
        "p50_s": float(q[0]),
        "p90_s": float(q[1]),
        "p99_s": float(q[2]),
        "max_s": float(d.max()),
    }


def tracking_error(t_s: ArrayLike, response_kw: ArrayLike, request_kw: ArrayLike) -> dict[str, float]:
    """Time-weighted tracking error of the response against the request.

    Parameters
    ----------
    t_s : array_like, shape (n,)
        Sample times. [s]
    response_kw, request_kw : array_like, shape (n,)
        Delivered and requested change. [kW]

    Returns
    -------
    dict
        ``mae_kw``, ``rmse_kw``, ``max_kw`` and the same divided by the largest ``|request|``
        (``mae_norm``, ``rmse_norm``, ``max_norm``, NaN when nothing was requested). [kW], [-]
    """
    t, resp, req = _series(t_s, response_kw, request_kw)
    w = _weights(t)
    err = resp - req
    mae = float(np.sum(w * np.abs(err)) / w.sum())
    rmse = float(np.sqrt(np.sum(w * err**2) / w.sum()))
    mx = float(np.max(np.abs(err))) if err.size else 0.0
    scale = float(np.max(np.abs(req))) if req.size else 0.0
    norm = (lambda x: x / scale) if scale > 0 else (lambda x: math.nan)
    return {
        "mae_kw": mae,
        "rmse_kw": rmse,
        "max_kw": mx,
        "mae_norm": norm(mae),
        "rmse_norm": norm(rmse),
        "max_norm": norm(mx),
    }


def reserve_delivered_share(t_s: ArrayLike, response_kw: ArrayLike, committed_kw: float) -> float:
    """Time-weighted mean response over the window divided by the committed reserve.

    Parameters
    ----------
    t_s : array_like, shape (n,)
        Sample times of the delivery window. [s]
    response_kw : array_like, shape (n,)
        Delivered change (positive in the committed direction). [kW]
    committed_kw : float
        Committed reserve (> 0). [kW]

    Returns
    -------
    float
        Delivered / committed. [-]
    """
    t, resp = _series(t_s, response_kw)
    if not committed_kw > 0:
        raise ValidationError(f"committed_kw must be > 0 (got {committed_kw})")
    w = _weights(t)
    return float(np.sum(w * resp) / w.sum() / committed_kw)


def delivery_duration_s(
    t_s: ArrayLike, response_kw: ArrayLike, request_kw: ArrayLike, level: float = 0.9
) -> float:
    """Longest continuous time the response stays at or above ``level`` of a non-zero request.

    Parameters
    ----------
    t_s : array_like, shape (n,)
        Sample times. [s]
    response_kw, request_kw : array_like, shape (n,)
        Delivered and requested change. [kW]
    level : float
        Share of the request that counts as delivered. [-]

    Returns
    -------
    float
        Duration. [s]
    """
    t, resp, req = _series(t_s, response_kw, request_kw)
    w = _weights(t)
    ok = (np.abs(req) > 1e-9) & (resp * np.sign(req) >= level * np.abs(req))
    best = cur = 0.0
    # run lengths of consecutive ok samples, weighted by their hold times
    edges = np.flatnonzero(np.diff(np.concatenate([[0], ok.astype(np.int8), [0]])))
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        cur = float(w[a:b].sum())
        best = max(best, cur)
    return best


def energy_not_supplied_kwh(shed_kw: ArrayLike, dt_h: ArrayLike) -> float:
    """Energy of the load not served (shed).

    Parameters
    ----------
    shed_kw : array_like, shape (..., n_steps)
        Load shed per step (>= 0). [kW]
    dt_h : array_like, shape (n_steps,) or float
        Step lengths. [h]

    Returns
    -------
    float
        Energy not supplied. [kWh]
    """
    shed = np.asarray(shed_kw, dtype=float)
    if np.any(shed < -1e-9):
        raise ValidationError("shed_kw must be >= 0 kW")
    return float(np.sum(shed * np.asarray(dt_h, dtype=float)))


def saidi_saifi(
    customers_interrupted: ArrayLike, duration_h: ArrayLike, n_customers: int
) -> dict[str, float]:
    """SAIDI and SAIFI of a set of interruptions (IEEE 1366).

    Parameters
    ----------
    customers_interrupted : array_like, shape (n_events,)
        Customers interrupted in each event. [-]
    duration_h : array_like, shape (n_events,)
        Interruption duration of each event (0 for events the customers rode through). [h]
    n_customers : int
        Customers served. [-]

    Returns
    -------
    dict
        ``saidi_h`` (customer-hours per customer) and ``saifi`` (interruptions per customer). [h], [-]
    """
    n = np.asarray(customers_interrupted, dtype=float)
    d = np.asarray(duration_h, dtype=float)
    if n.shape != d.shape or np.any(n < 0) or np.any(d < 0):
        raise ValidationError("customers_interrupted and duration_h must be >= 0 and of equal length")
    if n_customers <= 0:
        raise ValidationError(f"n_customers must be > 0 (got {n_customers})")
    hit = d > 0
    return {"saidi_h": float(np.sum(n * d) / n_customers), "saifi": float(np.sum(n[hit]) / n_customers)}


def compute_time_stats(compute_s: ArrayLike) -> dict[str, float]:
    """Controller compute time per tick.

    Parameters
    ----------
    compute_s : array_like, shape (n_ticks,)
        Wall time of each tick. [s]

    Returns
    -------
    dict
        ``median_ms``, ``p99_ms``, ``max_ms``. [ms]
    """
    c = np.asarray(compute_s, dtype=float) * 1e3
    if c.size == 0:
        raise ValidationError("compute_s is empty")
    return {"median_ms": float(np.median(c)), "p99_ms": float(np.quantile(c, 0.99)), "max_ms": float(c.max())}
