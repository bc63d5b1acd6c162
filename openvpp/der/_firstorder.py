"""Exact discretisation of a first-order (one-capacitance) thermal model, shared by heat pumps and tanks.

Both the 1R1C dwelling of :mod:`openvpp.der.heatpump` and the fully mixed tank of
:mod:`openvpp.der.waterheater` obey

    C dT/dt = Q - k (T - T_ref)

with capacitance ``C`` [kWh/degC], conductance ``k`` [kW/degC], a reference temperature ``T_ref`` [degC]
and a heat input ``Q`` [kW], all constant within a step. Its exact solution over a step of ``dt`` hours
(zero-order hold on the inputs) is

    T(dt) = T0 + (Q - k (T0 - T_ref)) * dt / C * phi(k dt / C),   phi(x) = (1 - exp(-x)) / x,

which is the usual ``T_inf + (T0 - T_inf) exp(-dt / tau)`` with ``tau = C / k``, written with ``expm1`` so
that it stays exact and finite when ``k -> 0`` (``phi(0) = 1``: pure integration). The heat exchanged
through ``k`` over the step is the exact integral of ``k (T - T_ref)``, so the energy balance
``C (T(dt) - T0) = Q dt - loss`` holds to rounding. Written here (not taken from a library) because the
closed form is three lines and must be vectorised over devices with state carried between calls.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openvpp.errors import ValidationError
from openvpp.timeseries import as_2d

_TINY = 1e-12


class BandParams(Protocol):
    """Columns a thermostat-controlled device needs to map its temperature band to power."""

    @property
    def t_min_c(self) -> NDArray: ...

    @property
    def t_max_c(self) -> NDArray: ...

    @property
    def p_max_kw(self) -> NDArray: ...


def phi(x: ArrayLike) -> NDArray[np.float64]:
    """``(1 - exp(-x)) / x`` with ``phi(0) = 1``, accurate for small ``x`` (uses ``expm1``). [-]"""
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < _TINY
    safe = np.where(small, 1.0, x)
    return np.where(small, 1.0 - 0.5 * x, -np.expm1(-safe) / safe)


def first_order_step(
    t0_c: ArrayLike,
    q_kw: ArrayLike,
    k_kw_per_c: ArrayLike,
    t_ref_c: ArrayLike,
    c_kwh_per_c: ArrayLike,
    dt_h: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Temperature after one step and heat exchanged through ``k`` during it (exact solution).

    Parameters
    ----------
    t0_c : array_like
        Temperature at the start of the step. [degC]
    q_kw : array_like
        Heat input held constant over the step (+ = heating). [kW]
    k_kw_per_c : array_like
        Conductance to the reference temperature (>= 0). [kW/degC]
    t_ref_c : array_like
        Reference (outdoor / ambient / inlet) temperature over the step. [degC]
    c_kwh_per_c : array_like
        Heat capacity (> 0). [kWh/degC]
    dt_h : float
        Step length. [h]

    Returns
    -------
    t1_c : numpy.ndarray
        Temperature at the end of the step. [degC]
    loss_kwh : numpy.ndarray
        Heat that left through ``k`` during the step, the integral of ``k (T - T_ref)``. [kWh]
    """
    t0 = np.asarray(t0_c, dtype=float)
    k = np.asarray(k_kw_per_c, dtype=float)
    c = np.asarray(c_kwh_per_c, dtype=float)
    q = np.asarray(q_kw, dtype=float)
    gain = q - k * (t0 - np.asarray(t_ref_c, dtype=float))
    dtc = dt_h / c
    t1 = t0 + gain * dtc * phi(k * dtc)
    loss = q * dt_h - c * (t1 - t0)
    return t1, loss


def psi(x: ArrayLike) -> NDArray[np.float64]:
    """``(x - 1 + exp(-x)) / x**2`` with ``psi(0) = 1/2`` (series below 1e-3 to avoid cancellation). [-]"""
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < 1e-3
    safe = np.where(small, 1.0, x)
    series = 0.5 - x / 6.0 + x * x / 24.0 - x**3 / 120.0
    return np.where(small, series, (safe + np.expm1(-safe)) / (safe * safe))


def as_step_input(
    name: str, values: ArrayLike | None, n_devices: int, n_steps: int, default: ArrayLike = 0.0
) -> NDArray[np.float64]:
    """Coerce an exogenous input to shape ``(n_devices, n_steps)``.

    Accepts a scalar, a per-device vector ``(n_devices,)`` (constant over time), a time series
    ``(n_steps,)`` shared by all devices, or the full 2-D array. ``None`` gives ``default``. When
    ``n_devices == n_steps`` a 1-D input is read as a time series.
    """
    if values is None:
        values = default
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name} must be numeric (could not convert: {exc})") from exc
    if arr.ndim == 1 and arr.shape[0] == n_devices and arr.shape[0] != n_steps:
        arr = np.broadcast_to(arr[:, None], (n_devices, n_steps))  # per device, constant over time
    elif not (arr.ndim == 0 or arr.shape in ((n_steps,), (n_devices, n_steps))):
        raise ValidationError(
            f"{name} has shape {arr.shape}; give a scalar, ({n_steps},) per step, ({n_devices},) per device "
            f"or ({n_devices}, {n_steps}) (n_devices, n_steps)"
        )
    # scalar and per-step broadcasting and the NaN/inf check are those of as_2d; the copy is the caller's
    return np.array(as_2d(name, arr, n_devices, n_steps))


def band_power_bounds(
    t_min_c: ArrayLike,
    t_max_c: ArrayLike,
    t_free_c: ArrayLike,
    dtemp_c_per_kw: ArrayLike,
    p_prev_kw: ArrayLike,
    ramp_kw: ArrayLike,
    p_max_kw: ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Electric power that keeps the end-of-step temperature in a band, within rating and ramp.

    The end-of-step temperature is affine in the (constant) electric power ``p``:
    ``T_end = t_free_c + dtemp_c_per_kw * p``. The band ``[t_min_c, t_max_c]`` maps to a power interval,
    intersected with ``[max(0, p_prev - ramp), min(p_max, p_prev + ramp)]``. When the two do not overlap the
    band cannot be kept this step and the interval collapses to the nearest physically possible power.

    Parameters
    ----------
    t_min_c, t_max_c : array_like
        Temperature band. [degC]
    t_free_c : array_like
        End-of-step temperature with the unit off. [degC]
    dtemp_c_per_kw : array_like
        Change of the end-of-step temperature per kW of electric power (signed, non-zero). [degC/kW]
    p_prev_kw, ramp_kw, p_max_kw : array_like
        Previous power, largest change over the step, rating. [kW]

    Returns
    -------
    (p_lo_kw, p_hi_kw) : tuple of numpy.ndarray
        Feasible electric power (load convention, >= 0). [kW]
    """
    t_free = np.asarray(t_free_c, dtype=float)
    dtemp = np.asarray(dtemp_c_per_kw, dtype=float)
    p_prev, ramp = np.asarray(p_prev_kw, dtype=float), np.asarray(ramp_kw, dtype=float)
    x1 = (np.asarray(t_min_c) - t_free) / dtemp
    x2 = (np.asarray(t_max_c) - t_free) / dtemp
    c_lo, c_hi = np.minimum(x1, x2), np.maximum(x1, x2)
    ph_lo = np.maximum(0.0, p_prev - ramp)
    ph_hi = np.minimum(p_max_kw, p_prev + ramp)
    lo = np.maximum(c_lo, ph_lo)
    hi = np.minimum(c_hi, ph_hi)
    empty = lo > hi
    forced = np.where(c_lo > ph_hi, ph_hi, ph_lo)
    return np.where(empty, forced, lo), np.where(empty, forced, hi)


def band_bounds(
    params: BandParams,
    t_free_c: ArrayLike,
    dtemp_c_per_kw: ArrayLike,
    p_prev_kw: ArrayLike,
    ramp_kw: ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """:func:`band_power_bounds` for the band ``[t_min_c, t_max_c]`` and rating ``p_max_kw`` of ``params``.

    Parameters
    ----------
    params : ParamTable with columns ``t_min_c``, ``t_max_c`` [degC] and ``p_max_kw`` [kW]
    t_free_c, dtemp_c_per_kw, p_prev_kw, ramp_kw : array_like
        As in :func:`band_power_bounds`. [degC, degC/kW, kW, kW]

    Returns
    -------
    (p_lo_kw, p_hi_kw) : tuple of numpy.ndarray
        Feasible electric power (load convention, >= 0). [kW]
    """
    return band_power_bounds(
        params.t_min_c, params.t_max_c, t_free_c, dtemp_c_per_kw, p_prev_kw, ramp_kw, params.p_max_kw
    )


def clip_step_power(
    params: BandParams,
    setpoint_kw: ArrayLike,
    t_free_c: ArrayLike,
    dtemp_c_per_kw: ArrayLike,
    p_prev_kw: NDArray[np.float64],
    ramp_kw: NDArray[np.float64],
    enforce_band: bool,
) -> NDArray[np.float64]:
    """Electric power of one step: the set-point clipped to the rating and ramp, and to the band if enforced.

    Parameters
    ----------
    params : ParamTable with columns ``t_min_c``, ``t_max_c`` [degC] and ``p_max_kw`` [kW]
    setpoint_kw : array_like, shape (n_devices,)
        Requested electric power. [kW]
    t_free_c, dtemp_c_per_kw : array_like, shape (n_devices,)
        End-of-step temperature with the unit off and its change per kW (see :func:`band_power_bounds`).
        [degC, degC/kW]
    p_prev_kw : numpy.ndarray, shape (n_devices,)
        Power of the previous step. [kW]
    ramp_kw : array_like, shape (n_devices,)
        Largest change of power over the step. [kW]
    enforce_band : bool
        True: keep the end-of-step temperature in the band where the rating and ramp allow it (thermostat
        override); False: only the rating and ramp clip.

    Returns
    -------
    numpy.ndarray, shape (n_devices,)
        Realised electric power (load convention, >= 0). [kW]
    """
    if enforce_band:
        lo, hi = band_bounds(params, t_free_c, dtemp_c_per_kw, p_prev_kw, ramp_kw)
    else:
        lo = np.maximum(0.0, p_prev_kw - ramp_kw)
        hi = np.minimum(params.p_max_kw, p_prev_kw + ramp_kw)
    return np.clip(setpoint_kw, lo, hi)
