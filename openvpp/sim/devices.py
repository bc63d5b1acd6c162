"""Vectorised simulated devices for the co-simulation, built on the device models of :mod:`openvpp.der`.

Batteries are :class:`openvpp.der.battery.Battery` objects (ratings, SoC window, efficiencies, ramp limits,
energy bookkeeping of eq. (9) of seed 000 §7.1.1), advanced one tick at a time with the tick's length. The
other
devices follow their set-point within the plan's range for the interval (PV: ``[-available, 0]``, i.e.
curtailment only, as :func:`openvpp.der.pv.curtail`; EV / heat pump / flexible load: between their minimum and
maximum consumption). Every device approaches its target with a first-order lag whose 90 % time is its
open-loop response time (IEEE 1547.1), and in ``local`` frequency mode adds its own droop response
(:func:`openvpp.control.droop.droop_response`) to the set-point it holds.

Sign convention: load convention (+ = import / consumption / charging).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openvpp.control.droop import lag_share
from openvpp.der.battery import Battery, BatteryParams
from openvpp.errors import ValidationError
from openvpp.units import S_PER_H

if TYPE_CHECKING:
    from openvpp.schedule.plan import Plan

__all__ = ["DEFAULT_RESPONSE_S", "SimulatedFleet", "battery_params_from_plan"]

#: open-loop response time (90 %) per device class: inverters fast, chargers and compressors slower [s]
DEFAULT_RESPONSE_S = {
    "battery": 1.0,
    "pv": 2.0,
    "ev": 5.0,
    "heatpump": 30.0,
    "waterheater": 5.0,
    "flexload": 10.0,
    "generator": 10.0,
}


def battery_params_from_plan(plan: Plan, rows: NDArray[np.int64], k0: int = 0) -> BatteryParams:
    """Battery parameters implied by a plan (ratings from its power range, SoC window and initial SoC).

    Parameters
    ----------
    plan : Plan
        The plan.
    rows : numpy.ndarray of int
        Plan positions of the batteries. [-]
    k0 : int
        Plan interval the simulation starts in (initial SoC). [-]

    Returns
    -------
    BatteryParams
    """
    p_lo = np.asarray(plan.p_min_kw)[rows].min(axis=1)
    p_hi = np.asarray(plan.p_max_kw)[rows].max(axis=1)
    return BatteryParams(
        device_id=np.asarray(plan.device_ids[rows], dtype=str),
        p_charge_max_kw=np.maximum(p_hi, 0.0),
        p_discharge_max_kw=np.maximum(-p_lo, 0.0),
        e_max_kwh=plan.e_max_kwh[rows],
        soc_min=np.min(plan.soc_min[rows], axis=1),
        soc_max=np.max(plan.soc_max[rows], axis=1),
        soc0=plan.soc_baseline[rows, k0],
        eta_charge=np.ones(rows.size),
        eta_discharge=np.ones(rows.size),
    )


class SimulatedFleet:
    """The plan's devices as simulated physics (module docstring).

    Parameters
    ----------
    plan : Plan
        Gives the devices, their classes and, for non-battery devices, the range per interval.
    battery_params : BatteryParams, optional
        Parameters of the plan's batteries in plan order (default :func:`battery_params_from_plan`).
    response_s : array_like, shape (n_devices,), optional
        Open-loop response time of each device (default by class, :data:`DEFAULT_RESPONSE_S`). [s]
    k0 : int
        Plan interval the simulation starts in. [-]
    """

    def __init__(
        self,
        plan: Plan,
        battery_params: BatteryParams | None = None,
        response_s: ArrayLike | None = None,
        k0: int = 0,
    ) -> None:
        self.plan = plan
        n = plan.n_devices
        self.n = n
        cls = plan.device_class
        self.is_bat = cls == "battery"
        self.bat_rows = np.flatnonzero(self.is_bat)
        if battery_params is None:
            battery_params = battery_params_from_plan(plan, self.bat_rows, k0)
        if battery_params.n != self.bat_rows.size:
            raise ValidationError(
                f"battery_params has {battery_params.n} rows but the plan has {self.bat_rows.size} batteries"
            )
        self.battery = Battery(battery_params)
        if response_s is None:
            self.response_s = np.array([DEFAULT_RESPONSE_S.get(c, 10.0) for c in cls.tolist()])
        else:
            self.response_s = np.asarray(response_s, dtype=float)
            if self.response_s.shape != (n,) or np.any(self.response_s < 0):
                raise ValidationError(f"response_s must be >= 0 s, one per device ({n})")
        self.p_kw = plan.p_baseline_kw[:, k0].copy()
        self.battery.p_kw = self.p_kw[self.bat_rows].copy()
        self.soc = plan.soc_baseline[:, k0].copy()
        self.soc[self.bat_rows] = self.battery.soc

    def advance(
        self, target_kw: NDArray[np.float64], k: int, dt_prev_s: float, dt_next_s: float
    ) -> NDArray[np.float64]:
        """Move every device toward ``target_kw`` over the last ``dt_prev_s`` and hold the result for the
        next ``dt_next_s`` (batteries' stored energy advances by that interval).

        Parameters
        ----------
        target_kw : numpy.ndarray, shape (n_devices,)
            What each device aimed at during the previous interval, load convention. [kW]
        k : int
            Plan interval of the next interval. [-]
        dt_prev_s : float
            Length of the previous interval. [s]
        dt_next_s : float
            Length of the interval the new power is held for (0 at the end). [s]

        Returns
        -------
        numpy.ndarray, shape (n_devices,)
            Power held over the next interval, load convention. [kW]
        """
        plan = self.plan
        p = lag_share(self.p_kw, target_kw, dt_prev_s, self.response_s)
        other = ~self.is_bat
        p = np.where(other, np.clip(p, np.asarray(plan.p_min_kw)[:, k], np.asarray(plan.p_max_kw)[:, k]), p)
        if self.bat_rows.size and dt_next_s > 0:
            dt_h = dt_next_s / S_PER_H
            lo, hi = self.battery.power_range(dt_h)
            pb = np.clip(p[self.bat_rows], lo, hi)
            res = self.battery.simulate(pb[:, None], dt_h)
            p[self.bat_rows] = res.p_kw[:, 0]
            self.soc[self.bat_rows] = self.battery.soc
        self.p_kw = p
        return p
