"""Commercial and industrial (C&I) flexible load: curtailable share and shiftable energy, vectorised.

Seed 002 names C&I flexible loads (processes, pumping, refrigeration) among the resources a VPP shifts or
sheds; seed 000 Table 1 prices interruptible loads (CI) with events of about 2 h and at most 15 events a
season, which give the curtailment defaults here. A device has

* a **baseline** profile ``baseline_kw`` (n_devices, n_steps): what it draws when left alone (>= 0, load
  convention: consumption positive);
* a **curtailable** part: up to ``min(p_curtail_max_kw, curtail_share * baseline)`` may be shed; shedding
  happens in events (consecutive steps with curtailment) of at most ``curtail_max_duration_h`` and
  ``curtail_max_energy_kwh``, at most ``curtail_max_events`` events, separated by ``curtail_min_gap_h``;
  curtailed energy is not recovered;
* a **shiftable** task: ``shift_e_kwh`` that must be served within the window ``[shift_earliest_h,
  shift_latest_h]`` (hours from the start of the horizon) at no more than ``shift_p_max_kw``, on top of the
  baseline.

The realised power is ``baseline - curtailed + shifted``. Each step the shiftable power is kept at least at
the least-laxity minimum ``(e_remaining - shift_p_max_kw * t_window_left_after_step) / dt``, so the task is
always finished by its deadline whatever the set-points (the window is checked to fit the energy when the
table is built). Written here because no library models this bookkeeping on arrays of devices.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openvpp.checks import check_dt
from openvpp.errors import ValidationError
from openvpp.tables import ParamTable, param
from openvpp.timeseries import as_2d

_EPS = 1e-9


@dataclasses.dataclass(frozen=True)
class FlexLoadParams(ParamTable):
    """Parameters of a set of C&I flexible loads, one row per device.

    Curtailment defaults follow the interruptible-load service of seed 000 Table 1 (events of ~2 h, at most
    15 events); the curtailable share (20 %) is illustrative. No shiftable task by default.
    """

    table_name = "flexload"

    curtail_share: NDArray = param("-", "share of the baseline that may be shed", default=0.2, ge=0.0, le=1.0)
    p_curtail_max_kw: NDArray = param(
        "kW", "largest curtailment (inf: only the share limits)", default=np.inf, ge=0.0, allow_inf=True
    )
    curtail_max_duration_h: NDArray = param(
        "h", "longest curtailment event", default=2.0, ge=0.0, allow_inf=True
    )
    curtail_max_energy_kwh: NDArray = param(
        "kWh", "largest energy shed in one event (inf: unlimited)", default=np.inf, ge=0.0, allow_inf=True
    )
    curtail_max_events: NDArray = param(
        "-", "number of curtailment events allowed (inf: unlimited)", default=15.0, ge=0.0, allow_inf=True,
        dtype="int",
    )
    curtail_min_gap_h: NDArray = param("h", "shortest pause between two events", default=0.0, ge=0.0)
    shift_e_kwh: NDArray = param("kWh", "energy of the shiftable task", default=0.0, ge=0.0)
    shift_p_max_kw: NDArray = param("kW", "largest power of the shiftable task", default=0.0, ge=0.0)
    shift_earliest_h: NDArray = param("h", "window start, hours from the horizon start", default=0.0, ge=0.0)
    shift_latest_h: NDArray = param("h", "deadline, hours from the horizon start", default=24.0, ge=0.0)

    def _check(self) -> None:
        self._fail_where(
            self.shift_latest_h < self.shift_earliest_h, "shift_latest_h must not be before shift_earliest_h"
        )
        fits = self.shift_e_kwh <= self.shift_p_max_kw * (self.shift_latest_h - self.shift_earliest_h) + _EPS
        self._fail_where(
            ~fits,
            "shift_e_kwh cannot be served within [shift_earliest_h, shift_latest_h] at shift_p_max_kw; "
            "widen the window or raise the rate",
        )


# ---------------------------------------------------------------------------------------------- functions
def window_overlap_h(
    t_start_h: ArrayLike, dt_h: float, earliest_h: ArrayLike, latest_h: ArrayLike
) -> NDArray[np.float64]:
    """Hours of the step ``[t_start_h, t_start_h + dt_h]`` that fall inside the window. [h]

    Parameters
    ----------
    dt_h : float
        Step length. [h]
    earliest_h : array_like, shape (n_devices,)
        Start of the allowed window, hours after the axis start. [h]
    latest_h : array_like, shape (n_devices,)
        End of the allowed window, hours after the axis start. [h]
    t_start_h : array_like, shape (n_steps,)
        Start of each step, hours after the axis start. [h]
    """
    t0 = np.asarray(t_start_h, dtype=float)
    return np.clip(np.minimum(t0 + dt_h, latest_h) - np.maximum(t0, earliest_h), 0.0, dt_h)


def shift_power_bounds(
    e_remaining_kwh: ArrayLike,
    t_start_h: ArrayLike,
    dt_h: float,
    p_max_kw: ArrayLike,
    earliest_h: ArrayLike,
    latest_h: ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Least and largest average shiftable power in a step that still meets the deadline.

    The least value is the least-laxity rule: serve now what cannot be served in the window time left after
    this step at the maximum rate.

    Parameters
    ----------
    e_remaining_kwh : array_like, shape (n_devices,)
        Energy of the task still to serve. [kWh]
    t_start_h : array_like
        Start of the step, hours from the horizon start. [h]
    dt_h : float
        Step length. [h]
    p_max_kw : array_like
        Largest task power. [kW]
    earliest_h, latest_h : array_like
        Window. [h]

    Returns
    -------
    (p_min_kw, p_max_kw) : tuple of numpy.ndarray
        Average power of the task over the step, >= 0. [kW]
    """
    e = np.maximum(np.asarray(e_remaining_kwh, dtype=float), 0.0)
    overlap = window_overlap_h(t_start_h, dt_h, earliest_h, latest_h)
    t_end = np.asarray(t_start_h, dtype=float) + dt_h
    after = np.maximum(np.asarray(latest_h) - np.maximum(t_end, earliest_h), 0.0)
    hi = np.minimum(np.asarray(p_max_kw) * overlap, e) / dt_h
    lo = np.clip((e - np.asarray(p_max_kw) * after) / dt_h, 0.0, hi)
    return lo, hi


# ---------------------------------------------------------------------------------------------- state
@dataclasses.dataclass
class FlexLoadResult:
    """Outcome of :meth:`FlexibleLoad.simulate`; arrays shaped (n_devices, n_steps).

    Attributes
    ----------
    p_kw : numpy.ndarray
        Realised power, ``baseline - curtailed + shifted`` (load convention, >= 0). [kW]
    baseline_kw : numpy.ndarray
        Baseline over the simulated steps. [kW]
    curtailed_kw : numpy.ndarray
        Power shed (>= 0). [kW]
    shifted_kw : numpy.ndarray
        Power of the shiftable task (>= 0). [kW]
    shift_remaining_kwh : numpy.ndarray
        Task energy still to serve at the end of each step. [kWh]
    """

    p_kw: NDArray[np.float64]
    baseline_kw: NDArray[np.float64]
    curtailed_kw: NDArray[np.float64]
    shifted_kw: NDArray[np.float64]
    shift_remaining_kwh: NDArray[np.float64]


class FlexibleLoad:
    """A set of C&I flexible loads with state (task energy left, curtailment events), stepped in time.

    Parameters
    ----------
    params : FlexLoadParams
        One row per device.
    baseline_kw : array_like, shape (n_devices, n_steps)
        Baseline consumption over the whole horizon (>= 0). [kW]

    Examples
    --------
    >>> fl = FlexibleLoad(FlexLoadParams(device_id=["f1"], shift_e_kwh=10, shift_p_max_kw=5,
    ...                                  shift_earliest_h=1, shift_latest_h=4), np.full((1, 8), 50.0))
    >>> res = fl.simulate(np.full((1, 8), 40.0), dt_h=0.5)
    """

    def __init__(self, params: FlexLoadParams, baseline_kw: ArrayLike) -> None:
        base = as_2d("baseline_kw", baseline_kw, params.n, None)
        if np.any(base < 0):
            i, s = np.argwhere(base < 0)[0]
            raise ValidationError(
                f"flexload.baseline_kw must be >= 0 (got {base[i, s]:g} for device "
                f"{str(params.device_id[i])!r} at step {s}); the baseline is consumption in load convention"
            )
        self.params = params
        self.baseline_kw = base
        self.step = 0
        self.t_h = 0.0
        self.shift_remaining_kwh = params.shift_e_kwh.copy()
        self.p_kw = base[:, 0].copy() if base.shape[1] else np.zeros(params.n)
        n = params.n
        self.in_event = np.zeros(n, dtype=bool)
        self.event_h = np.zeros(n)
        self.event_kwh = np.zeros(n)
        self.events_used = np.zeros(n)
        self.gap_h = np.full(n, np.inf)

    @property
    def n(self) -> int:
        """Number of loads."""
        return self.params.n

    def _curtail_cap(self, dt: float, base: NDArray) -> NDArray:
        pr = self.params
        cont = self.in_event & (self.event_h + dt <= pr.curtail_max_duration_h + _EPS)
        start = (
            ~self.in_event
            & (self.events_used < pr.curtail_max_events)
            & (self.gap_h >= pr.curtail_min_gap_h - _EPS)
            & (dt <= pr.curtail_max_duration_h + _EPS)
        )
        e_ev = pr.curtail_max_energy_kwh
        e_left = np.maximum(np.where(self.in_event, e_ev - self.event_kwh, e_ev), 0.0)
        cap = np.minimum(np.minimum(pr.p_curtail_max_kw, pr.curtail_share * base), e_left / dt)
        return np.where(cont | start, cap, 0.0)

    def _shift_bounds(self, dt: float) -> tuple[NDArray, NDArray]:
        pr = self.params
        return shift_power_bounds(
            self.shift_remaining_kwh, self.t_h, dt, pr.shift_p_max_kw, pr.shift_earliest_h, pr.shift_latest_h
        )

    def _baseline_at(self, step: int) -> NDArray:
        if step >= self.baseline_kw.shape[1]:
            raise ValidationError(
                f"flexload: the baseline has {self.baseline_kw.shape[1]} steps and all were simulated; "
                "give a longer baseline_kw"
            )
        return self.baseline_kw[:, step]

    def power_range(self, dt_h: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Feasible power for the next step: the baseline less the curtailment still allowed, plus the
        shiftable power between its deadline-driven minimum and its maximum (load convention). [kW]


        Parameters
        ----------
        dt_h : float
            Step length. [h]
        """
        dt = check_dt(dt_h)
        base = self._baseline_at(self.step)
        s_lo, s_hi = self._shift_bounds(dt)
        return base - self._curtail_cap(dt, base) + s_lo, base + s_hi

    def ramp_range(self, dt_h: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """A C&I load has no ramp limit of its own (``-inf, inf``); :meth:`power_range` bounds the change.

        Parameters
        ----------
        dt_h : float
            Step length. [h]
        """
        check_dt(dt_h)
        return np.full(self.n, -np.inf), np.full(self.n, np.inf)

    def simulate(self, p_setpoints_kw: ArrayLike, dt_h: float) -> FlexLoadResult:
        """Apply total-power set-points step by step: serve the task first, curtail for what remains.

        A set-point above the baseline is met with shiftable power (within its bounds); a set-point below the
        baseline by curtailment (within the event limits) while the task runs at its least-laxity minimum.

        Parameters
        ----------
        p_setpoints_kw : array_like, shape (n_devices, n_steps)
            Requested total power (load convention). [kW]
        dt_h : float
            Step length; the baseline is read on the same step. [h]

        Returns
        -------
        FlexLoadResult
            The object's state (step, task energy, events) advances to the end of the horizon.
        """
        dt = check_dt(dt_h)
        sp = as_2d("p_setpoints_kw", p_setpoints_kw, self.n, None)
        n, n_steps = sp.shape
        if self.step + n_steps > self.baseline_kw.shape[1]:
            raise ValidationError(
                f"flexload: {n_steps} set-point steps from step {self.step} exceed the baseline length "
                f"{self.baseline_kw.shape[1]}; give a longer baseline_kw or fewer steps"
            )
        base_all = self.baseline_kw[:, self.step : self.step + n_steps]
        base_t, sp_t = np.ascontiguousarray(base_all.T), np.ascontiguousarray(sp.T)
        p_out = np.empty((n_steps, n))
        cur = np.empty((n_steps, n))
        shf = np.empty((n_steps, n))
        rem = np.empty((n_steps, n))
        for s in range(n_steps):
            base = base_t[s]
            s_lo, s_hi = self._shift_bounds(dt)
            c_cap = self._curtail_cap(dt, base)
            flex = sp_t[s] - base
            shift = np.clip(flex, s_lo, s_hi)
            c = np.clip(shift - flex, 0.0, c_cap)
            # event bookkeeping
            active = c > 0.0
            new = active & ~self.in_event
            self.events_used = self.events_used + new
            self.event_h = np.where(new, 0.0, self.event_h) + np.where(active, dt, 0.0)
            self.event_kwh = np.where(new, 0.0, self.event_kwh) + c * dt
            self.gap_h = np.where(active, 0.0, np.where(self.in_event, dt, self.gap_h + dt))
            self.in_event = active
            self.shift_remaining_kwh = np.maximum(self.shift_remaining_kwh - shift * dt, 0.0)
            self.t_h += dt
            p = base - c + shift
            self.p_kw = p
            p_out[s], cur[s], shf[s], rem[s] = p, c, shift, self.shift_remaining_kwh
        self.step += n_steps
        return FlexLoadResult(p_kw=p_out.T, baseline_kw=base_all.copy(), curtailed_kw=cur.T, shifted_kw=shf.T,
                              shift_remaining_kwh=rem.T)
