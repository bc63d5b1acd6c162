"""Electric water heater as a fully mixed (stratification-free) hot-water tank, vectorised over devices.

Seed 002 lists water heaters as "thermal batteries": heating water earlier than needed stores electricity as
heat. The tank of volume ``V`` holds ``C = rho c_p V`` of heat capacity; the element delivers ``eta p_kw``;
the jacket loses ``UA (T - T_amb)``; a hot-water draw of ``q`` L/min leaves at tank temperature and is
replaced by cold water at ``T_inlet``, removing ``rho c_p q (T - T_inlet)``; an optional draw given directly
as heat (kWh per step, as in domestic hot-water profiles expressed in energy) is removed as such:

    rho c_p V dT/dt = eta p - UA (T - T_amb) - rho c_p q (T - T_inlet) - q_draw

With inputs constant within a step this is a first-order linear system, solved exactly
(:mod:`openvpp.der._firstorder`), so the energy balance ``rho c_p V (T_end - T_0) = sum(eta p dt) - standby
- drawn`` closes to rounding. Water properties: 1 kg/L and 4.186 kJ/(kg K). Stratification is ignored (the
whole tank is at one temperature), which overstates how soon a draw cools the outlet but keeps the stored
energy exact.

Sign convention: ``p_kw`` >= 0 is electricity drawn from the grid (load convention).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openvpp.checks import check_dt
from openvpp.der._common import ramp_window_kw
from openvpp.der._firstorder import as_step_input, band_bounds, clip_step_power, phi, psi
from openvpp.errors import ValidationError
from openvpp.tables import ParamTable, param
from openvpp.timeseries import as_2d
from openvpp.units import MIN_PER_H, S_PER_H

#: specific heat of water per litre, density 1 kg/L and c_p = 4.186 kJ/(kg K). [kWh/(L K)]
WATER_KWH_PER_L_K = 4.186 / S_PER_H


@dataclasses.dataclass(frozen=True)
class WaterHeaterParams(ParamTable):
    """Parameters of a set of electric water heaters, one row per device.

    Defaults: a 200 L tank with a 3 kW element; a standing loss of 2 W/K (about 90 W at a 45 K difference,
    the order of the EU labelling class C limit of Regulation (EU) 812/2013 for this volume), mains water at
    15 degC, a heated room at 20 degC and a 50-65 degC band.
    """

    table_name = "waterheater"

    volume_l: NDArray = param("L", "tank volume", default=200.0, gt=0.0)
    p_max_kw: NDArray = param("kW", "element rating", default=3.0, ge=0.0)
    eta: NDArray = param("-", "share of electric power that reaches the water", default=1.0, gt=0.0, le=1.0)
    ua_kw_per_c: NDArray = param("kW/degC", "standing-loss conductance of the jacket", default=0.002, ge=0.0)
    t_amb_c: NDArray = param("degC", "temperature around the tank", default=20.0, ge=-50.0, le=100.0)
    t_inlet_c: NDArray = param("degC", "cold-water inlet temperature", default=15.0, ge=0.0, le=100.0)
    t_min_c: NDArray = param("degC", "lowest allowed tank temperature", default=50.0, ge=0.0, le=100.0)
    t_max_c: NDArray = param("degC", "highest allowed tank temperature", default=65.0, ge=0.0, le=100.0)
    t0_c: NDArray = param("degC", "tank temperature at the start", default=60.0, ge=0.0, le=100.0)
    ramp_kw_per_min: NDArray = param(
        "kW/min", "largest change of power per minute (inf: unlimited)", default=np.inf, gt=0.0,
        allow_inf=True,
    )

    def _check(self) -> None:
        self._fail_where(self.t_min_c > self.t_max_c, "t_min_c must not exceed t_max_c")

    @property
    def c_kwh_per_c(self) -> NDArray[np.float64]:
        """Heat capacity of the full tank, ``rho c_p V``. [kWh/degC]"""
        return WATER_KWH_PER_L_K * self.volume_l

    def stored_heat_kwh(self, t_c: ArrayLike) -> NDArray[np.float64]:
        """Heat stored above the inlet temperature at tank temperature ``t_c``. [kWh]

        Parameters
        ----------
        t_c : array_like
            Tank temperature. [degC]
        """
        return self.c_kwh_per_c * (np.asarray(t_c, dtype=float) - self.t_inlet_c)


# ---------------------------------------------------------------------------------------------- functions
def tank_energy_kwh(volume_l: ArrayLike, t_c: ArrayLike, t_ref_c: ArrayLike) -> NDArray[np.float64]:
    """Heat held by a mixed tank above a reference temperature, ``rho c_p V (T - T_ref)``. [kWh]

    Parameters
    ----------
    volume_l : array_like
        Tank volume. [L]
    t_c, t_ref_c : array_like
        Tank and reference temperatures. [degC]
    """
    return WATER_KWH_PER_L_K * np.asarray(volume_l, dtype=float) * (
        np.asarray(t_c, dtype=float) - np.asarray(t_ref_c, dtype=float)
    )


def _exchange(pr: WaterHeaterParams, flow_l_per_min: NDArray) -> tuple[NDArray, NDArray, NDArray]:
    """Total conductance, its weighted reference temperature and the draw conductance. [kW/degC, degC]"""
    k_draw = WATER_KWH_PER_L_K * flow_l_per_min * MIN_PER_H
    k = pr.ua_kw_per_c + k_draw
    safe = np.where(k > 0, k, 1.0)
    t_ref = np.where(k > 0, (pr.ua_kw_per_c * pr.t_amb_c + k_draw * pr.t_inlet_c) / safe, pr.t_amb_c)
    return k, t_ref, k_draw


# ---------------------------------------------------------------------------------------------- state
@dataclasses.dataclass
class WaterHeaterResult:
    """Outcome of :meth:`WaterHeater.simulate`.

    Attributes
    ----------
    p_kw : numpy.ndarray, shape (n_devices, n_steps)
        Realised electric power, >= 0 (load convention). [kW]
    t_tank_c : numpy.ndarray, shape (n_devices, n_steps)
        Tank temperature at the end of each step. [degC]
    standby_kwh : numpy.ndarray, shape (n_devices, n_steps)
        Heat lost through the jacket during each step. [kWh]
    drawn_kwh : numpy.ndarray, shape (n_devices, n_steps)
        Heat taken by draws during each step (hot water above inlet temperature + heat draws). [kWh]
    """

    p_kw: NDArray[np.float64]
    t_tank_c: NDArray[np.float64]
    standby_kwh: NDArray[np.float64]
    drawn_kwh: NDArray[np.float64]


class WaterHeater:
    """A set of electric water heaters with state (tank temperature, last power), simulated step by step.

    Parameters
    ----------
    params : WaterHeaterParams
        Validated parameters, one row per tank.

    Examples
    --------
    >>> wh = WaterHeater(WaterHeaterParams(device_id=["w1"]))
    >>> res = wh.simulate([[3.0, 0.0]], dt_h=0.5, draw_l_per_min=[[0.0, 2.0]])
    """

    def __init__(self, params: WaterHeaterParams) -> None:
        self.params = params
        self.t_tank_c = params.t0_c.copy()
        self.p_kw = np.zeros(params.n)

    @property
    def n(self) -> int:
        """Number of water heaters."""
        return self.params.n

    def _draw_inputs(self, draw_l_per_min, draw_kwh, n_steps, dt):
        flow = as_step_input("draw_l_per_min", draw_l_per_min, self.n, n_steps)
        heat = as_step_input("draw_kwh", draw_kwh, self.n, n_steps)
        if np.any(flow < 0) or np.any(heat < 0):
            raise ValidationError("draw_l_per_min and draw_kwh must be >= 0 (water leaves the tank)")
        return flow, heat / dt

    def power_range(
        self, dt_h: float, draw_l_per_min: ArrayLike | None = None, draw_kwh: ArrayLike | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Electric power for the next step that ends the step within ``[t_min_c, t_max_c]``.

        If no power within the rating (and ramp window) keeps the band, the range collapses to full power
        (tank too cold) or to zero (too hot).

        Parameters
        ----------
        dt_h : float
            Step length. [h]
        draw_l_per_min, draw_kwh : array_like, scalar or (n_devices,), optional
            Expected draws during the next step. [L/min], [kWh]

        Returns
        -------
        (p_min_kw, p_max_kw) : tuple of numpy.ndarray, shape (n_devices,)
            Both >= 0 (load convention). [kW]
        """
        dt = check_dt(dt_h)
        flow, q_draw = self._draw_inputs(draw_l_per_min, draw_kwh, 1, dt)
        return self._range(dt, flow[:, 0], q_draw[:, 0], self.p_kw)

    def ramp_range(self, dt_h: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Largest decrease and increase of power over the next step. [kW] (down <= 0 <= up)

        Parameters
        ----------
        dt_h : float
            Step length. [h]
        """
        return ramp_window_kw(self.params.ramp_kw_per_min, dt_h)

    def _range(self, dt, flow, q_draw, p_prev):
        pr = self.params
        k, t_ref, _ = _exchange(pr, flow)
        dtc_phi = dt / pr.c_kwh_per_c * phi(k * dt / pr.c_kwh_per_c)
        t_free = self.t_tank_c + (-q_draw - k * (self.t_tank_c - t_ref)) * dtc_phi
        return band_bounds(pr, t_free, pr.eta * dtc_phi, p_prev, pr.ramp_kw_per_min * dt * MIN_PER_H)

    def simulate(
        self,
        p_setpoints_kw: ArrayLike,
        dt_h: float,
        draw_l_per_min: ArrayLike | None = None,
        draw_kwh: ArrayLike | None = None,
        enforce_band: bool = True,
    ) -> WaterHeaterResult:
        """Apply electric set-points with hot-water draws and evolve the tank temperature exactly.

        Parameters
        ----------
        p_setpoints_kw : array_like, shape (n_devices, n_steps)
            Requested element power (>= 0, load convention). [kW]
        dt_h : float
            Step length. [h]
        draw_l_per_min : array_like, scalar, (n_steps,), (n_devices,) or (n_devices, n_steps), optional
            Hot water drawn at tank temperature, replaced by inlet water. [L/min]
        draw_kwh : array_like, same shapes, optional
            Heat drawn during each step, for profiles given in energy. [kWh]
        enforce_band : bool
            True: the thermostat overrides set-points that would leave the band (clip to
            :meth:`power_range`); False: only the rating and ramp clip.

        Returns
        -------
        WaterHeaterResult
            The object's state advances to the end of the horizon.
        """
        dt = check_dt(dt_h)
        sp = as_2d("p_setpoints_kw", p_setpoints_kw, self.n, None)
        n, n_steps = sp.shape
        flow, q_draw = self._draw_inputs(draw_l_per_min, draw_kwh, n_steps, dt)
        pr = self.params
        c = pr.c_kwh_per_c
        ramp = pr.ramp_kw_per_min * dt * MIN_PER_H
        # state-free terms of the exact step for the whole horizon, computed time-major (n_steps, n) so
        # that each step reads contiguous memory; per-device parameters broadcast along the rows
        flow_t, qd_t = np.ascontiguousarray(flow.T), np.ascontiguousarray(q_draw.T)
        k_t, tref_t, kd_t = _exchange(pr, flow_t)
        x = k_t * (dt / c)
        phi_t = phi(x) * (dt / c)
        psi_t = psi(x) * (dt / c)
        dtemp_t = pr.eta * phi_t
        sp_t = np.ascontiguousarray(sp.T)
        p_t = np.empty((n_steps, n))
        temp_t = np.empty((n_steps, n))
        mean_t = np.empty((n_steps, n))
        t = self.t_tank_c.copy()
        p = self.p_kw.copy()
        for s in range(n_steps):
            gain0 = -qd_t[s] - k_t[s] * (t - tref_t[s])
            t_free = t + gain0 * phi_t[s]
            p = clip_step_power(pr, sp_t[s], t_free, dtemp_t[s], p, ramp, enforce_band)
            mean_t[s] = t + (gain0 + pr.eta * p) * psi_t[s]
            t = t_free + dtemp_t[s] * p
            p_t[s] = p
            temp_t[s] = t
        if n_steps:
            self.t_tank_c, self.p_kw = t.copy(), p.copy()
        p_out, t_out, t_mean = p_t.T, temp_t.T, mean_t.T
        standby = pr.ua_kw_per_c[:, None] * (t_mean - pr.t_amb_c[:, None]) * dt
        drawn = kd_t.T * (t_mean - pr.t_inlet_c[:, None]) * dt + q_draw * dt
        return WaterHeaterResult(p_kw=p_out, t_tank_c=t_out, standby_kwh=standby, drawn_kwh=drawn)
