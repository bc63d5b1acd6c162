"""Electric-vehicle chargers (one charging session per device row), vectorised over many devices.

An EV is connected from ``arrival_step`` (inclusive) to ``departure_step`` (exclusive) and must hold
``e_required_kwh`` in its battery at departure: the customer constraint "car charged by the morning" of the
VPP explainer (seed 002). While connected it charges at up to ``p_max_kw`` and, with ``v2g`` enabled,
discharges at up to ``p_v2g_max_kw`` (vehicle-to-grid) without going below ``e_min_kwh``. Outside its window
the power is zero.

Must-charge rule: the feasible range of every step keeps the departure target reachable, i.e. the energy
after the step plus what the remaining steps can add at full rate must reach the target,

    e + eta_c * p * dt + k * eta_c * p_max * dt >= e_required   (k = steps left after this one),

which gives the lowest allowed power of the step (a forced charge when the deadline is close). Clipping any
set-point to this range meets the target whenever it is reachable at all; when it is not (too little time
at full rate), the EV charges at full rate for the whole window and the shortfall is reported, not raised.
This is the standard deadline (laxity) rule of EV scheduling, written here in a few lines because no
library in the stack provides it over arrays.

Sign convention: ``p_kw`` is positive when the vehicle charges (drawn from the grid) and negative when it
discharges to the grid (V2G), the load convention of DESIGN.md.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from openvpp.checks import check_dt as _check_dt
from openvpp.errors import ValidationError
from openvpp.tables import ParamTable, param
from openvpp.timeseries import as_2d, check_index, step_minutes


@dataclasses.dataclass(frozen=True)
class EVParams(ParamTable):
    """Parameters of a set of EV charging sessions, one row per device.

    Defaults: a 60 kWh car on a 7.4 kW single-phase (32 A) charger, 90 % charging efficiency from the AC
    connection into the battery (typical on-board charger losses), no V2G.
    """

    table_name = "ev"

    arrival_step: NDArray = param("step", "first connected step (index into the horizon)", ge=0, dtype="int")
    departure_step: NDArray = param(
        "step", "first step after the car has left (exclusive)", ge=1, dtype="int"
    )
    e_max_kwh: NDArray = param("kWh", "battery capacity", default=60.0, gt=0.0)
    e0_kwh: NDArray = param("kWh", "energy stored at arrival", default=20.0, ge=0.0)
    e_required_kwh: NDArray = param("kWh", "energy that must be stored at departure", default=50.0, ge=0.0)
    e_min_kwh: NDArray = param("kWh", "lowest energy V2G may leave in the battery", default=0.0, ge=0.0)
    p_max_kw: NDArray = param("kW", "maximum charging power at the connection", default=7.4, ge=0.0)
    v2g: NDArray = param("-", "whether the car may discharge to the grid", default=False, dtype="bool")
    p_v2g_max_kw: NDArray = param(
        "kW", "maximum V2G discharging power at the connection", default=0.0, ge=0.0
    )
    eta_charge: NDArray = param(
        "-", "charging efficiency, connection to battery", default=0.9, gt=0.0, le=1.0
    )
    eta_discharge: NDArray = param(
        "-", "discharging efficiency, battery to connection", default=0.9, gt=0.0, le=1.0
    )

    def _check(self) -> None:
        self._fail_where(
            self.departure_step <= self.arrival_step, "departure_step must be later than arrival_step"
        )
        self._fail_where(self.e0_kwh > self.e_max_kwh, "e0_kwh must not exceed e_max_kwh")
        self._fail_where(
            self.e_required_kwh > self.e_max_kwh,
            "e_required_kwh must not exceed e_max_kwh (the battery cannot hold it)",
        )
        self._fail_where(self.e_min_kwh > self.e0_kwh, "e_min_kwh must not exceed e0_kwh")
        self._fail_where(self.e_min_kwh > self.e_required_kwh, "e_min_kwh must not exceed e_required_kwh")

    @property
    def p_discharge_kw(self) -> NDArray[np.float64]:
        """Usable V2G rating: ``p_v2g_max_kw`` where ``v2g`` is enabled, else 0. [kW]"""
        return np.where(self.v2g, self.p_v2g_max_kw, 0.0)


def steps_from_times(times: ArrayLike, index: pd.DatetimeIndex) -> NDArray[np.int64]:
    """Step numbers of time stamps on a fixed-step axis (the step that contains each time).

    Parameters
    ----------
    times : array_like of datetime, shape (n_devices,)
        Arrival or departure times, tz-aware. [datetime or h]
    index : pandas.DatetimeIndex
        The simulation axis (interval start stamps).

    Returns
    -------
    numpy.ndarray of int, shape (n_devices,)
        ``i`` such that ``index[i] <= time < index[i + 1]``; times after the horizon give ``len(index)``.
    """
    check_index(index, "index")
    ts = pd.DatetimeIndex(pd.to_datetime(np.atleast_1d(times)))
    if ts.tz is None:
        raise ValidationError("times are time-zone naive; localise them like index")
    if np.any(ts < index[0]):
        raise ValidationError(
            f"times before the start of the horizon {index[0]}; clip or drop those sessions"
        )
    step = index[1] - index[0] if len(index) > 1 else pd.Timedelta(minutes=step_minutes(index))
    k = np.floor((ts - index[0]) / step).astype(np.int64)
    return np.minimum(np.asarray(k), len(index))


def energy_target_feasible(params: EVParams, dt_h: float) -> NDArray[np.bool_]:
    """Whether each session can reach ``e_required_kwh`` charging at full rate over its whole window.

    Parameters
    ----------
    params : EVParams
    dt_h : float
        Step length. [h]

    Returns
    -------
    numpy.ndarray of bool, shape (n_devices,)
    """
    _check_dt(dt_h)
    n_conn = params.departure_step - params.arrival_step
    reach = params.e0_kwh + n_conn * params.p_max_kw * params.eta_charge * dt_h
    return reach >= params.e_required_kwh - 1e-9


def _window(params: EVParams, n_steps: int, t0: int = 0) -> tuple[NDArray, NDArray, NDArray]:
    t = np.arange(t0, t0 + n_steps)[None, :]
    arr = params.arrival_step[:, None]
    dep = params.departure_step[:, None]
    return (t >= arr) & (t < dep), t - arr, dep - 1 - t


def _full_rate_profile(
    params: EVParams, conn: NDArray[np.bool_], steps_before: NDArray, dt_h: float
) -> NDArray[np.float64]:
    """Full-rate charging that stores exactly the missing energy, given how many full-rate steps come first.

    ``steps_before`` counts, for each step, the full-rate steps charged before it within the window (since
    arrival for :func:`charge_asap`, until departure for :func:`charge_latest`); the step gets the energy
    still missing after those, clipped to ``[0, p_max_kw]``, and 0 outside the connection window ``conn``.
    [kW]
    """
    need = np.maximum(params.e_required_kwh - params.e0_kwh, 0.0)[:, None]
    step_e = (params.p_max_kw * params.eta_charge * dt_h)[:, None]
    left = need - steps_before * step_e  # energy still missing at this step if the others run at full rate
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.clip(left / (params.eta_charge[:, None] * dt_h), 0.0, params.p_max_kw[:, None])
    return np.where(conn, p, 0.0)


def charge_asap(params: EVParams, n_steps: int, dt_h: float) -> NDArray[np.float64]:
    """"As fast as possible" profile: full rate from arrival until ``e_required_kwh`` is stored.

    Parameters
    ----------
    params : EVParams
    n_steps : int
        Horizon length. [steps]
    dt_h : float
        Step length. [h]

    Returns
    -------
    numpy.ndarray, shape (n_devices, n_steps)
        Charging power, load convention (+ = charging, never negative here). [kW]
    """
    _check_dt(dt_h)
    conn, since_arrival, _ = _window(params, n_steps)
    return _full_rate_profile(params, conn, since_arrival, dt_h)


def charge_latest(params: EVParams, n_steps: int, dt_h: float) -> NDArray[np.float64]:
    """Deferred ("latest start") profile: charge as late as possible, at full rate, ending at departure.

    It is the lower edge of the must-charge range: :class:`EV` fed with zero set-points follows it.

    Parameters
    ----------
    params : EVParams
    n_steps : int
        Horizon length. [steps]
    dt_h : float
        Step length. [h]

    Returns
    -------
    numpy.ndarray, shape (n_devices, n_steps)
        Charging power, load convention (+ = charging, never negative here). [kW]
    """
    _check_dt(dt_h)
    conn, _, steps_after = _window(params, n_steps)
    return _full_rate_profile(params, conn, steps_after, dt_h)


# ---------------------------------------------------------------------------------------------- state
@dataclasses.dataclass
class EVResult:
    """Outcome of :meth:`EV.simulate`.

    Attributes
    ----------
    p_kw : numpy.ndarray, shape (n_devices, n_steps)
        Realised power at the connection, + = charging, - = V2G discharge (load convention). [kW]
    e_kwh : numpy.ndarray, shape (n_devices, n_steps)
        Energy stored at the end of each step (the arrival energy before arrival). [kWh]
    connected : numpy.ndarray of bool, shape (n_devices, n_steps)
        Whether the car is plugged in during each step.
    e_departure_kwh : numpy.ndarray, shape (n_devices,)
        Energy stored when the car left (NaN if it has not left within the simulated steps). [kWh]
    shortfall_kwh : numpy.ndarray, shape (n_devices,)
        ``max(e_required - e_departure, 0)`` for cars that left, else 0. [kWh]
    target_feasible : numpy.ndarray of bool, shape (n_devices,)
        Whether the target was reachable at all (see :func:`energy_target_feasible`).
    """

    p_kw: NDArray[np.float64]
    e_kwh: NDArray[np.float64]
    connected: NDArray[np.bool_]
    e_departure_kwh: NDArray[np.float64]
    shortfall_kwh: NDArray[np.float64]
    target_feasible: NDArray[np.bool_]

    @property
    def target_met(self) -> NDArray[np.bool_]:
        """Cars that left with at least the required energy (within 1e-9 kWh)."""
        return np.isfinite(self.e_departure_kwh) & (self.shortfall_kwh <= 1e-9)


class EV:
    """A set of EV charging sessions with state (time cursor, stored energy), simulated step by step.

    Parameters
    ----------
    params : EVParams
        One row per session; steps count from the start of the first :meth:`simulate` call.
    dt_h : float
        Step length the sessions are defined on. [h]
    """

    def __init__(self, params: EVParams, dt_h: float) -> None:
        _check_dt(dt_h)
        self.params = params
        self.dt_h = float(dt_h)
        self.t = 0
        self.e_kwh = params.e0_kwh.copy()
        self.p_kw = np.zeros(params.n)
        self.e_departure_kwh = np.where(params.departure_step <= 0, params.e0_kwh, np.nan)
        self._c = _constants(params, self.dt_h)

    @property
    def n(self) -> int:
        """Number of chargers."""
        return self.params.n

    @property
    def target_feasible(self) -> NDArray[np.bool_]:
        """Whether each session can reach its target at all (see :func:`energy_target_feasible`)."""
        return energy_target_feasible(self.params, self.dt_h)

    @property
    def connected(self) -> NDArray[np.bool_]:
        """Whether each car is plugged in during the next step."""
        pr = self.params
        return (pr.arrival_step <= self.t) & (self.t < pr.departure_step)

    def _range(self, e: NDArray[np.float64], t: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return _range(e, t, self._c)

    def power_range(self, dt_h: float | None = None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Feasible power of the next step, load convention (+ = charging).

        ``p_min_kw`` includes the must-charge rule: it is positive when the car must charge now to still
        meet its departure target. Both are 0 while the car is away.

        Parameters
        ----------
        dt_h : float, optional
            Must equal the step the sessions were built with, if given. [h]

        Returns
        -------
        (p_min_kw, p_max_kw) : tuple of numpy.ndarray, shape (n_devices,)
            [kW]
        """
        self._same_dt(dt_h)
        return self._range(self.e_kwh, self.t)

    def ramp_range(self, dt_h: float | None = None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Largest decrease and increase of power over the next step. [kW]

        Chargers change power within seconds, so the ramp over a step is bounded only by the power range:
        from the present power to the ends of the next step's range.

        Parameters
        ----------
        dt_h : float, optional
            Step length (unused: chargers follow set-points within the step). [h]
        """
        lo, hi = self.power_range(dt_h)
        return np.minimum(lo - self.p_kw, 0.0), np.maximum(hi - self.p_kw, 0.0)

    def _same_dt(self, dt_h: float | None) -> None:
        if dt_h is not None and not np.isclose(dt_h, self.dt_h):
            raise ValidationError(
                f"dt_h={dt_h!r} differs from the EV's step {self.dt_h} h; rebuild EV with it"
            )

    def simulate(self, setpoints_kw: ArrayLike, dt_h: float | None = None) -> EVResult:
        """Apply set-points step by step, clipping each to the feasible range (incl. the must-charge rule).

        Parameters
        ----------
        setpoints_kw : array_like, shape (n_devices, n_steps)
            Requested power, load convention (+ = charging, - = V2G). [kW]
        dt_h : float, optional
            Must equal the step the sessions were built with, if given. [h]

        Returns
        -------
        EVResult
            Realised power and energy; the object's state advances by ``n_steps``. Infeasible targets show
            as ``shortfall_kwh > 0`` and ``target_feasible == False``, never as an exception.
        """
        self._same_dt(dt_h)
        sp = as_2d("setpoints_kw", setpoints_kw, self.n, None)
        n_steps = sp.shape[1]
        p_out = np.empty((self.n, n_steps))
        e_out = np.empty((self.n, n_steps))
        e = self.e_kwh.copy()
        e_dep = self.e_departure_kwh.copy()
        # devices in cache-sized chunks, a time loop inside each chunk (vectorised over its devices)
        for a in range(0, self.n, _CHUNK):
            sl = slice(a, min(a + _CHUNK, self.n))
            c = {k: v[sl] for k, v in self._c.items()}
            ec, edc, spc = e[sl], e_dep[sl], sp[sl]
            for k in range(n_steps):
                t = self.t + k
                lo, hi = _range(ec, t, c)
                p = np.minimum(np.maximum(spc[:, k], lo), hi) + 0.0  # + 0.0 turns -0.0 into 0.0
                ec = ec + np.where(p > 0.0, p * c["eta_c_dt"], p * c["dt_over_eta_d"])
                edc = np.where(c["dep"] == t + 1, ec, edc)
                p_out[sl, k] = p
                e_out[sl, k] = ec
            e[sl], e_dep[sl] = ec, edc
        pr = self.params
        conn_out = _window(pr, n_steps, self.t)[0]
        self.t += n_steps
        self.e_kwh = e
        if n_steps:
            self.p_kw = p_out[:, -1].copy()
        self.e_departure_kwh = e_dep
        left = np.isfinite(e_dep)
        shortfall = np.where(left, np.maximum(pr.e_required_kwh - np.where(left, e_dep, 0.0), 0.0), 0.0)
        return EVResult(
            p_kw=p_out,
            e_kwh=e_out,
            connected=conn_out,
            e_departure_kwh=e_dep.copy(),
            shortfall_kwh=shortfall,
            target_feasible=self.target_feasible,
        )


_CHUNK = 8192


def _constants(pr: EVParams, dt_h: float) -> dict[str, NDArray[np.float64]]:
    """Per-device constants of one step, shared by :meth:`EV.simulate` and :meth:`EV.power_range`."""
    eta_c_dt = pr.eta_charge * dt_h
    return {
        "arr": pr.arrival_step,
        "dep": pr.departure_step,
        "dep_m1": pr.departure_step - 1.0,
        "eta_c_dt": eta_c_dt,
        "dt_over_eta_d": dt_h / pr.eta_discharge,
        "p_max": pr.p_max_kw,
        "p_dis": pr.p_discharge_kw,
        "e_max": pr.e_max_kwh,
        "e_min": pr.e_min_kwh,
        "e_req": pr.e_required_kwh,
        "pm_e": pr.p_max_kw * eta_c_dt,
    }


def _range(
    e: NDArray[np.float64], t: int, c: dict[str, NDArray[np.float64]]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Feasible power at step ``t`` for stored energy ``e`` (must-charge rule of the module docstring)."""
    conn = (c["arr"] <= t) & (t < c["dep"])
    # upper: rating and room in the battery
    hi = np.minimum(c["p_max"], np.maximum(c["e_max"] - e, 0.0) / c["eta_c_dt"])
    # lower: V2G rating and floor, then the must-charge rule (target still reachable after this step)
    lo = -np.minimum(c["p_dis"], np.maximum(e - c["e_min"], 0.0) / c["dt_over_eta_d"])
    need = c["e_req"] - np.maximum(c["dep_m1"] - t, 0.0) * c["pm_e"] - e  # energy this step must add
    must = np.where(need > 0, need / c["eta_c_dt"], need / c["dt_over_eta_d"])
    lo = np.minimum(np.maximum(lo, must), hi)
    return np.where(conn, lo, 0.0), np.where(conn, hi, 0.0)
