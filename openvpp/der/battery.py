"""Battery energy storage, vectorised over many devices.

Energy follows eq. (9) of the Chile roadmap (seed 000 §7.1.1) with separate charging and discharging
efficiencies, extended by a self-discharge rate and bounded by the SoC window of eq. (10). Power is limited
by the charge/discharge ratings, by the energy that can still be stored or delivered within the step, by a
ramp rate and by the inverter's apparent-power rating, which also gives the P-Q capability circle.

Sign convention: ``p_kw`` is positive when the battery charges (draws from the grid) and negative when it
discharges (load convention, DESIGN.md); ``q_kvar`` is positive when absorbing reactive power.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openvpp.checks import check_dt as _check_dt
from openvpp.data import bundled_value
from openvpp.der._common import pq_capability_kvar, pq_range_kvar, ramp_window_kw
from openvpp.errors import ValidationError
from openvpp.tables import ParamTable, param
from openvpp.timeseries import as_2d
from openvpp.units import MIN_PER_H

#: the seed 000 reference battery (§5, Table 2, §7.2), read from the bundled household DER assumptions
_REFERENCE = "household_der_assumptions"
#: one-way efficiency giving the 95 % round trip of seed 000 §7.2 (sqrt(0.95))
ETA_ONE_WAY_95 = float(np.sqrt(bundled_value(_REFERENCE, "battery_round_trip_efficiency")))


@dataclasses.dataclass(frozen=True)
class BatteryParams(ParamTable):
    """Parameters of a set of batteries, one row per device.

    Defaults are the seed 000 reference battery (§5 and §7.2): 5 kW, 13.5 kWh, 95 % round trip.
    """

    table_name = "battery"

    p_charge_max_kw: NDArray = param(
        "kW", "maximum charging power", default=bundled_value(_REFERENCE, "battery_p_kw"), ge=0.0
    )
    p_discharge_max_kw: NDArray = param(
        "kW", "maximum discharging power", default=bundled_value(_REFERENCE, "battery_p_kw"), ge=0.0
    )
    e_max_kwh: NDArray = param(
        "kWh", "usable energy capacity", default=bundled_value(_REFERENCE, "battery_e_kwh"), gt=0.0
    )
    soc_min: NDArray = param(
        "-", "lowest state of charge, fraction of e_max_kwh", default=0.0, ge=0.0, le=1.0
    )
    soc_max: NDArray = param(
        "-", "highest state of charge, fraction of e_max_kwh", default=1.0, ge=0.0, le=1.0
    )
    eta_charge: NDArray = param("-", "one-way charging efficiency", default=ETA_ONE_WAY_95, gt=0.0, le=1.0)
    eta_discharge: NDArray = param(
        "-", "one-way discharging efficiency", default=ETA_ONE_WAY_95, gt=0.0, le=1.0
    )
    self_discharge_per_h: NDArray = param(
        "1/h", "fraction of stored energy lost per hour", default=0.0, ge=0.0, lt=1.0
    )
    s_max_kva: NDArray = param(
        "kVA", "inverter apparent-power rating (NaN: the larger power rating)", default=np.nan, gt=0.0,
        allow_nan=True,
    )
    ramp_kw_per_min: NDArray = param(
        "kW/min", "largest change of power per minute (inf: unlimited)", default=np.inf, gt=0.0,
        allow_inf=True,
    )
    soc0: NDArray = param("-", "initial state of charge", default=0.5, ge=0.0, le=1.0)

    def _check(self) -> None:
        self._fail_where(self.soc_min > self.soc_max, "soc_min must not exceed soc_max")
        self._fail_where(
            (self.soc0 < self.soc_min - 1e-12) | (self.soc0 > self.soc_max + 1e-12),
            "soc0 must lie within [soc_min, soc_max]",
        )

    @property
    def s_kva(self) -> NDArray[np.float64]:
        """Inverter rating with the NaN default resolved to the larger power rating. [kVA]"""
        s = self.s_max_kva
        return np.where(np.isnan(s), np.maximum(self.p_charge_max_kw, self.p_discharge_max_kw), s)

    @property
    def e_min_kwh(self) -> NDArray[np.float64]:
        """Lowest allowed stored energy. [kWh]"""
        return self.soc_min * self.e_max_kwh

    @property
    def e_upper_kwh(self) -> NDArray[np.float64]:
        """Highest allowed stored energy. [kWh]"""
        return self.soc_max * self.e_max_kwh


# ---------------------------------------------------------------------------------------------- functions
def battery_energy(
    e0_kwh: ArrayLike,
    p_charge_kw: ArrayLike,
    p_discharge_kw: ArrayLike,
    eta_charge: ArrayLike,
    eta_discharge: ArrayLike,
    dt_h: float,
    self_discharge_per_h: ArrayLike = 0.0,
) -> NDArray[np.float64]:
    """Stored energy after each step (eq. (9) of the Chile roadmap, seed 000 §7.1.1).

    With self-discharge ``d`` the stored energy decays by the factor ``(1 - d) ** dt_h`` each step before the
    step's charge and discharge are added; with ``d = 0`` this is exactly eq. (9).

    Parameters
    ----------
    e0_kwh : array_like, shape (n_devices,)
        Energy stored at the start of the horizon. [kWh]
    p_charge_kw, p_discharge_kw : array_like, shape (n_devices, n_steps)
        Non-negative charging and discharging power. [kW]
    eta_charge, eta_discharge : array_like, shape (n_devices,)
        One-way efficiencies in (0, 1]. [-]
    dt_h : float
        Step length. [h]
    self_discharge_per_h : array_like, shape (n_devices,)
        Fraction of stored energy lost per hour. [1/h]

    Returns
    -------
    numpy.ndarray, shape (n_devices, n_steps)
        Energy stored at the end of each step. [kWh]
    """
    pc = as_2d("p_charge_kw", p_charge_kw)
    pd_ = as_2d("p_discharge_kw", p_discharge_kw, pc.shape[0], pc.shape[1])
    if np.any(pc < 0) or np.any(pd_ < 0):
        raise ValidationError("p_charge_kw and p_discharge_kw must be non-negative (eq. (7))")
    if not np.isfinite(dt_h) or dt_h <= 0:
        raise ValidationError(f"dt_h must be a positive number of hours (got {dt_h!r})")
    n = pc.shape[0]
    e0 = np.broadcast_to(np.asarray(e0_kwh, dtype=float), (n,))
    eta_c = np.broadcast_to(np.asarray(eta_charge, dtype=float), (n,))
    eta_d = np.broadcast_to(np.asarray(eta_discharge, dtype=float), (n,))
    d = np.broadcast_to(np.asarray(self_discharge_per_h, dtype=float), (n,))
    delta = (eta_c[:, None] * pc - pd_ / eta_d[:, None]) * dt_h
    if not np.any(d):
        return e0[:, None] + np.cumsum(delta, axis=1)
    keep = (1.0 - d) ** dt_h
    out = np.empty_like(delta)
    e = e0.copy()
    for t in range(delta.shape[1]):
        e = e * keep + delta[:, t]
        out[:, t] = e
    return out


def equivalent_full_cycles(p_kw: ArrayLike, e_max_kwh: ArrayLike, dt_h: float) -> NDArray[np.float64]:
    """Equivalent full cycles: energy discharged at the terminals divided by the usable capacity.

    Parameters
    ----------
    p_kw : array_like, shape (n_devices, n_steps)
        Battery power, + = charging. [kW]
    e_max_kwh : array_like, shape (n_devices,)
        Usable capacity. [kWh]
    dt_h : float
        Step length. [h]

    Returns
    -------
    numpy.ndarray, shape (n_devices,)
        Cycles over the horizon. [-]
    """
    p = as_2d("p_kw", p_kw)
    e = np.asarray(e_max_kwh, dtype=float)
    return np.maximum(-p, 0.0).sum(axis=1) * dt_h / e


# ---------------------------------------------------------------------------------------------- state
@dataclasses.dataclass
class BatteryResult:
    """Outcome of :meth:`Battery.simulate`.

    Attributes
    ----------
    p_kw : numpy.ndarray, shape (n_devices, n_steps)
        Realised power, + = charging. [kW]
    q_kvar : numpy.ndarray, shape (n_devices, n_steps)
        Realised reactive power, + = absorbing. [kvar]
    e_kwh : numpy.ndarray, shape (n_devices, n_steps)
        Stored energy at the end of each step. [kWh]
    e_max_kwh : numpy.ndarray, shape (n_devices,)
        Capacity, for the state of charge. [kWh]
    """

    p_kw: NDArray[np.float64]
    q_kvar: NDArray[np.float64]
    e_kwh: NDArray[np.float64]
    e_max_kwh: NDArray[np.float64]

    @property
    def soc(self) -> NDArray[np.float64]:
        """State of charge at the end of each step, shape (n_devices, n_steps). [-]"""
        return self.e_kwh / self.e_max_kwh[:, None]


class Battery:
    """A set of batteries with state (stored energy and last power), simulated step by step.

    Parameters
    ----------
    params : BatteryParams
        One row per device.

    Examples
    --------
    >>> bat = Battery(BatteryParams(device_id=["b1", "b2"]))
    >>> res = bat.simulate(np.full((2, 4), 5.0), dt_h=0.25)   # charge at 5 kW for an hour
    """

    def __init__(self, params: BatteryParams) -> None:
        self.params = params
        self.e_kwh = params.soc0 * params.e_max_kwh
        self.p_kw = np.zeros(params.n)

    @property
    def n(self) -> int:
        """Number of batteries."""
        return self.params.n

    @property
    def soc(self) -> NDArray[np.float64]:
        """Present state of charge. [-]"""
        return self.e_kwh / self.params.e_max_kwh

    def power_range(self, dt_h: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Feasible power for the next step, given state, ratings, SoC window and ramp.

        Parameters
        ----------
        dt_h : float
            Step length. [h]

        Returns
        -------
        (p_min_kw, p_max_kw) : tuple of numpy.ndarray, shape (n_devices,)
            ``p_min_kw <= 0`` is the deepest discharge, ``p_max_kw >= 0`` the largest charge. [kW]
        """
        _check_dt(dt_h)
        lo, hi = self._energy_power_limits(dt_h)
        r_lo, r_hi = self.ramp_range(dt_h)
        lo2 = np.maximum(lo, self.p_kw + r_lo)
        hi2 = np.minimum(hi, self.p_kw + r_hi)
        # if the ramp window lies outside the energy window, the energy window wins (physics first)
        empty = lo2 > hi2
        lo2 = np.where(empty, np.clip(self.p_kw + r_lo, lo, hi), lo2)
        hi2 = np.where(empty, lo2, hi2)
        return lo2, hi2

    def ramp_range(self, dt_h: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Largest decrease and increase of power over the next step. [kW] (down <= 0 <= up)

        Parameters
        ----------
        dt_h : float
            Step length. [h]
        """
        return ramp_window_kw(self.params.ramp_kw_per_min, dt_h)

    def q_range(self, p_kw: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Reactive range at active power ``p_kw`` from the inverter's P-Q circle. [kvar]

        Parameters
        ----------
        p_kw : array_like, shape (n_devices,)
            Active power (load convention). [kW]
        """
        return pq_range_kvar(p_kw, self.params.s_kva)

    def _energy_power_limits(self, dt_h: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Power window from ratings, inverter kVA and the SoC window (same arithmetic as simulate)."""
        c = _step_constants(self.params, dt_h)
        e = self.e_kwh * c["keep"] if c["has_decay"] else self.e_kwh
        hi = np.minimum(np.maximum(c["e_hi"] - e, 0.0) / c["eta_c_dt"], c["pc_max"])
        lo = -np.minimum(np.maximum(e - c["e_lo"], 0.0) / c["dt_over_eta_d"], c["pd_max"])
        return lo, hi

    def simulate(
        self, setpoints_kw: ArrayLike, dt_h: float, q_setpoints_kvar: ArrayLike | None = None
    ) -> BatteryResult:
        """Apply set-points step by step, clipping each to what is physically possible.

        Parameters
        ----------
        setpoints_kw : array_like, shape (n_devices, n_steps)
            Requested power, + = charging. [kW]
        dt_h : float
            Step length. [h]
        q_setpoints_kvar : array_like, shape (n_devices, n_steps), optional
            Requested reactive power; clipped to the P-Q circle at the realised P. [kvar]

        Returns
        -------
        BatteryResult
            Realised power and energy; the object's state advances to the end of the horizon.
        """
        _check_dt(dt_h)
        sp = as_2d("setpoints_kw", setpoints_kw, self.n, None)
        n, n_steps = sp.shape
        qsp = None if q_setpoints_kvar is None else as_2d("q_setpoints_kvar", q_setpoints_kvar, n, n_steps)
        pr = self.params
        c = _step_constants(pr, dt_h)
        keep, has_decay = c["keep"], c["has_decay"]
        eta_c_dt, dt_over_eta_d = c["eta_c_dt"], c["dt_over_eta_d"]
        e_hi, e_lo = c["e_hi"], c["e_lo"]
        pc_max, pd_max = c["pc_max"], c["pd_max"]
        ramp = pr.ramp_kw_per_min * dt_h * MIN_PER_H
        has_ramp = bool(np.any(np.isfinite(ramp)))
        s = pr.s_kva
        # outputs are time-major in memory and returned as (n_devices, n_steps) views
        p_tm = np.empty((n_steps, n))
        e_tm = np.empty((n_steps, n))
        # devices in cache-sized chunks, time-major inside a chunk: each step touches contiguous memory
        for a in range(0, n, _CHUNK):
            b = min(a + _CHUNK, n)
            pt, et = _simulate_chunk(
                np.ascontiguousarray(sp[a:b].T), self.e_kwh[a:b].copy(), self.p_kw[a:b].copy(),
                keep[a:b], has_decay, eta_c_dt[a:b], dt_over_eta_d[a:b], e_hi[a:b], e_lo[a:b],
                pc_max[a:b], pd_max[a:b], ramp[a:b], has_ramp,
            )
            p_tm[:, a:b] = pt
            e_tm[:, a:b] = et
        p_out, e_out = p_tm.T, e_tm.T
        if qsp is None:
            q_out = np.zeros_like(p_out)
        else:
            qmax = pq_capability_kvar(p_out, s[:, None])
            q_out = np.clip(qsp, -qmax, qmax)
        self.e_kwh = e_out[:, -1].copy() if n_steps else self.e_kwh
        self.p_kw = p_out[:, -1].copy() if n_steps else self.p_kw
        return BatteryResult(p_kw=p_out, q_kvar=q_out, e_kwh=e_out, e_max_kwh=pr.e_max_kwh)


_CHUNK = 8192


def _step_constants(pr: BatteryParams, dt_h: float) -> dict:
    """Per-device constants of one step, shared by :meth:`Battery.simulate` and :meth:`Battery.power_range`.

    Both use exactly the same floating-point expressions, so that a set-point inside the range returned by
    ``power_range`` is realised bit for bit by ``simulate``. The inverter rating caps |P| as well (P-Q circle
    at Q = 0).
    """
    s = pr.s_kva
    return {
        "keep": (1.0 - pr.self_discharge_per_h) ** dt_h,
        "has_decay": bool(np.any(pr.self_discharge_per_h)),
        "eta_c_dt": pr.eta_charge * dt_h,
        "dt_over_eta_d": dt_h / pr.eta_discharge,
        "e_hi": pr.e_upper_kwh,
        "e_lo": pr.e_min_kwh,
        "pc_max": np.minimum(pr.p_charge_max_kw, s),
        "pd_max": np.minimum(pr.p_discharge_max_kw, s),
    }


def _simulate_chunk(
    sp_t, e, p_prev, keep, has_decay, eta_c_dt, dt_over_eta_d, e_hi, e_lo, pc_max, pd_max, ramp, has_ramp
):
    """Inner time loop of :meth:`Battery.simulate` on a time-major chunk ``sp_t`` (n_steps, n).

    Every operation writes into a preallocated buffer (no temporaries inside the loop); the arithmetic is
    the one of :meth:`Battery._energy_power_limits`.
    """
    n_steps, n = sp_t.shape
    p_out = np.empty((n_steps, n))
    e_out = np.empty((n_steps, n))
    hi = np.empty(n)
    lo = np.empty(n)
    p = np.empty(n)
    neg = np.empty(n)
    r_lo = np.empty(n)
    r_hi = np.empty(n)
    for t in range(n_steps):
        if has_decay:
            np.multiply(e, keep, out=e)
        # power that the energy window allows in this step
        np.subtract(e_hi, e, out=hi)
        np.maximum(hi, 0.0, out=hi)
        np.divide(hi, eta_c_dt, out=hi)
        np.minimum(hi, pc_max, out=hi)
        np.subtract(e, e_lo, out=lo)
        np.maximum(lo, 0.0, out=lo)
        np.divide(lo, dt_over_eta_d, out=lo)
        np.minimum(lo, pd_max, out=lo)
        np.negative(lo, out=lo)
        if has_ramp:
            np.subtract(p_prev, ramp, out=r_lo)
            np.add(p_prev, ramp, out=r_hi)
            np.clip(sp_t[t], r_lo, r_hi, out=p)
            np.maximum(p, lo, out=p)
        else:
            np.maximum(sp_t[t], lo, out=p)
        np.minimum(p, hi, out=p)
        # energy update, eq. (9): charging scaled by eta_c, discharging divided by eta_d; one of the two
        # parts is exactly zero, so the sum equals the single-branch expression bit for bit
        np.minimum(p, 0.0, out=neg)
        np.subtract(p, neg, out=hi)  # charging part, >= 0 (hi is free now)
        np.multiply(hi, eta_c_dt, out=hi)
        np.multiply(neg, dt_over_eta_d, out=neg)
        np.add(e, hi, out=e)
        np.add(e, neg, out=e)
        p_out[t] = p
        e_out[t] = e
        p_prev = p_out[t]
    return p_out, e_out
