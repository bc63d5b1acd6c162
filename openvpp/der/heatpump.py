"""Heat pump serving a dwelling modelled as a first-order (1R1C) thermal network, vectorised over devices.

Thermal model. The indoor air and fabric form one heat capacity ``C`` [kWh/degC] coupled to the outdoor
temperature through one thermal resistance ``R`` [degC/kW]:

    C dT_in/dt = (T_out - T_in) / R + Q_hp + Q_gain

which is the single-node reduction of the ISO 13790 / ISO 52016 simple hourly method and the "Ti" model of
Bacher & Madsen (2011), "Identifying suitable models for the heat dynamics of buildings", Energy and
Buildings 43(7). Inputs are held constant within a step and the model is solved exactly
(``exp(-dt / (R C))``, see :mod:`openvpp.der._firstorder`), so results do not depend on the step length.

Heat pump. Electric power ``p_kw`` (>= 0, load convention: consumption is positive) gives heat
``Q_hp = COP * p_kw`` in heating mode and removes heat ``Q_hp = -COP_cool * p_kw`` in cooling mode. The COP
follows the quadratic regression in the temperature lift of Staffell et al. (2012), "A review of domestic heat
pumps", Energy Environ. Sci. 5, 9291, fitted on field and test data of air-source units:
``COP = 6.81 - 0.121 dT + 0.000630 dT**2`` with ``dT = T_sink - T_source`` (defaults below); set ``cop_c1 =
cop_c2 = 0`` for a constant COP. In cooling the same cycle runs in reverse, and the first law gives
``COP_cool = COP_heat(lift) - 1`` with the lift ``T_out - t_supply_cool_c``. COPs are floored at 1.

Comfort. The comfort band ``[t_min_c, t_max_c]`` is the customer constraint of seed 002 (smart thermostats
keep the home within a comfort band while the VPP shifts their consumption). Because the end-of-step
temperature is affine in the step's power, the power that keeps the dwelling in the band at the end of the
next step is an interval; :meth:`HeatPump.power_range` intersects it with the rating. At the bottom edge of
the band in heating mode the unit is forced on, at the top edge forced off; anywhere in the band it may run at
full power (pre-heating / pre-cooling) as long as the band holds at the end of the step.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openvpp.checks import check_dt
from openvpp.der._common import ramp_window_kw
from openvpp.der._firstorder import as_step_input, band_bounds, clip_step_power, first_order_step
from openvpp.tables import ParamTable, param
from openvpp.timeseries import as_2d
from openvpp.units import MIN_PER_H

#: Staffell et al. (2012) air-source heat-pump regression COP = c0 + c1 dT + c2 dT^2, dT in K
COP_ASHP_STAFFELL_2012 = (6.81, -0.121, 0.000630)
#: ground-source regression from the same review, for reference
COP_GSHP_STAFFELL_2012 = (8.77, -0.150, 0.000734)


@dataclasses.dataclass(frozen=True)
class HeatPumpParams(ParamTable):
    """Parameters of a set of heat pumps and the dwellings they serve, one row per device.

    Defaults describe an illustrative detached dwelling (UA = 200 W/K, 10 kWh/K, time constant 50 h) with a
    3 kW (electric) air-source heat pump on low-temperature emitters (40 degC supply) and a 19-23 degC band.
    """

    table_name = "heatpump"

    p_max_kw: NDArray = param("kW", "electric rating of the heat pump", default=3.0, ge=0.0)
    r_c_per_kw: NDArray = param("degC/kW", "thermal resistance dwelling-outdoor (1/UA)", default=5.0, gt=0.0)
    c_kwh_per_c: NDArray = param("kWh/degC", "heat capacity of the dwelling", default=10.0, gt=0.0)
    t_min_c: NDArray = param("degC", "lower edge of the comfort band", default=19.0, ge=-50.0, le=100.0)
    t_max_c: NDArray = param("degC", "upper edge of the comfort band", default=23.0, ge=-50.0, le=100.0)
    t0_c: NDArray = param("degC", "indoor temperature at the start", default=21.0, ge=-50.0, le=100.0)
    cooling: NDArray = param("-", "true: cooling mode, false: heating mode", default=False, dtype="bool")
    cop_c0: NDArray = param("-", "COP regression constant term", default=COP_ASHP_STAFFELL_2012[0], gt=0.0)
    cop_c1: NDArray = param("1/K", "COP regression linear term", default=COP_ASHP_STAFFELL_2012[1])
    cop_c2: NDArray = param("1/K^2", "COP regression quadratic term", default=COP_ASHP_STAFFELL_2012[2])
    t_supply_heat_c: NDArray = param("degC", "sink (supply) temperature in heating", default=40.0)
    t_supply_cool_c: NDArray = param("degC", "source (chilled supply) temperature in cooling", default=15.0)
    q_gain_kw: NDArray = param("kW", "internal and solar gains when no series is given", default=0.0)
    ramp_kw_per_min: NDArray = param(
        "kW/min", "largest change of electric power per minute (inf: unlimited)", default=np.inf, gt=0.0,
        allow_inf=True,
    )

    def _check(self) -> None:
        self._fail_where(self.t_min_c > self.t_max_c, "t_min_c must not exceed t_max_c")

    @property
    def tau_h(self) -> NDArray[np.float64]:
        """Thermal time constant ``R C`` of each dwelling. [h]"""
        return self.r_c_per_kw * self.c_kwh_per_c


# ---------------------------------------------------------------------------------------------- functions
def cop_from_lift(lift_k: ArrayLike, c0: ArrayLike, c1: ArrayLike = 0.0, c2: ArrayLike = 0.0) -> NDArray:
    """Heating COP from the temperature lift, ``c0 + c1 dT + c2 dT**2``, floored at 1.

    For lifts past the vertex of the parabola (96 K for the default fit) the vertex value is kept, so the
    COP never rises with the lift.

    The default coefficients (:data:`COP_ASHP_STAFFELL_2012`) are the air-source regression of Staffell et
    al. (2012), Energy Environ. Sci. 5, 9291, fitted for lifts of about 15-60 K.

    Parameters
    ----------
    lift_k : array_like
        Sink minus source temperature. [K]
    c0, c1, c2 : array_like
        Regression coefficients. [-, 1/K, 1/K^2]

    Returns
    -------
    numpy.ndarray
        Coefficient of performance (heat out / electricity in), >= 1. [-]
    """
    c1a, c2a = np.asarray(c1, dtype=float), np.asarray(c2, dtype=float)
    # beyond the vertex of an upward parabola the fit would make COP rise with the lift: hold it there
    vertex = np.where(c2a > 0, -c1a / np.where(c2a > 0, 2.0 * c2a, 1.0), np.inf)
    dt = np.minimum(np.asarray(lift_k, dtype=float), vertex)
    return np.maximum(np.asarray(c0) + c1a * dt + c2a * dt * dt, 1.0)


def heat_pump_cop(
    t_out_c: ArrayLike,
    cooling: ArrayLike,
    t_supply_heat_c: ArrayLike = 40.0,
    t_supply_cool_c: ArrayLike = 15.0,
    c0: ArrayLike = COP_ASHP_STAFFELL_2012[0],
    c1: ArrayLike = COP_ASHP_STAFFELL_2012[1],
    c2: ArrayLike = COP_ASHP_STAFFELL_2012[2],
) -> NDArray[np.float64]:
    """COP in the device's mode: heat delivered (heating) or removed (cooling) per kW of electricity.

    Heating: lift ``t_supply_heat_c - t_out_c``, COP from :func:`cop_from_lift`. Cooling: lift
    ``t_out_c - t_supply_cool_c`` and ``COP_cool = COP_heat(lift) - 1`` (first law for a reversed cycle),
    floored at 1.

    Parameters
    ----------
    t_out_c : array_like
        Outdoor (source in heating, sink in cooling) temperature. [degC]
    cooling : array_like of bool
        Mode of each device. [-] (1 = cooling mode, 0 = heating)
    t_supply_heat_c, t_supply_cool_c : array_like
        Supply temperatures in heating and cooling. [degC]
    c0, c1, c2 : array_like
        Regression coefficients of :func:`cop_from_lift`. [-], [1/K], [1/K^2]

    Returns
    -------
    numpy.ndarray
        COP (>= 1). [-]
    """
    t_out = np.asarray(t_out_c, dtype=float)
    cool = np.asarray(cooling, dtype=bool)
    lift = np.where(cool, t_out - np.asarray(t_supply_cool_c), np.asarray(t_supply_heat_c) - t_out)
    cop_h = cop_from_lift(lift, c0, c1, c2)
    return np.where(cool, np.maximum(cop_h - 1.0, 1.0), cop_h)


def indoor_temperature(
    t0_c: ArrayLike,
    t_out_c: ArrayLike,
    q_kw: ArrayLike,
    r_c_per_kw: ArrayLike,
    c_kwh_per_c: ArrayLike,
    dt_h: float,
) -> NDArray[np.float64]:
    """Indoor temperature at the end of each step of the 1R1C model, exact discretisation.

    ``T[k+1] = T_inf + (T[k] - T_inf) exp(-dt / (R C))`` with ``T_inf = T_out + R Q`` for inputs held
    constant within a step (Bacher & Madsen 2011, "Ti" model; single-node ISO 13790).

    Parameters
    ----------
    t0_c : array_like, shape (n_devices,)
        Indoor temperature at the start. [degC]
    t_out_c : array_like, shape (n_devices, n_steps) or (n_steps,)
        Outdoor temperature during each step. [degC]
    q_kw : array_like, shape (n_devices, n_steps)
        Total heat input (heat pump + gains, + = heating) during each step. [kW]
    r_c_per_kw : array_like, shape (n_devices,)
        Thermal resistance. [degC/kW]
    c_kwh_per_c : array_like, shape (n_devices,)
        Heat capacity. [kWh/degC]
    dt_h : float
        Step length. [h]

    Returns
    -------
    numpy.ndarray, shape (n_devices, n_steps)
        Indoor temperature at the end of each step. [degC]
    """
    dt = check_dt(dt_h)
    q = as_2d("q_kw", q_kw)
    n, n_steps = q.shape
    t_out = as_step_input("t_out_c", t_out_c, n, n_steps)
    k = 1.0 / np.broadcast_to(np.asarray(r_c_per_kw, dtype=float), (n,))
    c = np.broadcast_to(np.asarray(c_kwh_per_c, dtype=float), (n,))
    t = np.broadcast_to(np.asarray(t0_c, dtype=float), (n,)).copy()
    out = np.empty((n, n_steps))
    for s in range(n_steps):
        t, _ = first_order_step(t, q[:, s], k, t_out[:, s], c, dt)
        out[:, s] = t
    return out


# ---------------------------------------------------------------------------------------------- state
@dataclasses.dataclass
class HeatPumpResult:
    """Outcome of :meth:`HeatPump.simulate`.

    Attributes
    ----------
    p_kw : numpy.ndarray, shape (n_devices, n_steps)
        Realised electric power, >= 0 (load convention: consumption). [kW]
    q_hp_kw : numpy.ndarray, shape (n_devices, n_steps)
        Heat delivered to the dwelling (+ heating, - cooling). [kW]
    t_in_c : numpy.ndarray, shape (n_devices, n_steps)
        Indoor temperature at the end of each step. [degC]
    cop : numpy.ndarray, shape (n_devices, n_steps)
        COP during each step. [-]
    loss_kwh : numpy.ndarray, shape (n_devices, n_steps)
        Heat lost to the outdoors during each step (exact integral of (T_in - T_out) / R). [kWh]
    """

    p_kw: NDArray[np.float64]
    q_hp_kw: NDArray[np.float64]
    t_in_c: NDArray[np.float64]
    cop: NDArray[np.float64]
    loss_kwh: NDArray[np.float64]


class HeatPump:
    """A set of heat pumps with state (indoor temperature and last power), simulated step by step.

    Parameters
    ----------
    params : HeatPumpParams
        One row per device.

    Examples
    --------
    >>> hp = HeatPump(HeatPumpParams(device_id=["h1", "h2"]))
    >>> lo, hi = hp.power_range(0.25, t_out_c=2.0)
    >>> res = hp.simulate(np.full((2, 4), 3.0), dt_h=0.25, t_out_c=2.0)   # pre-heat at full power for 1 h
    """

    def __init__(self, params: HeatPumpParams) -> None:
        self.params = params
        self.t_in_c = params.t0_c.copy()
        self.p_kw = np.zeros(params.n)

    @property
    def n(self) -> int:
        """Number of heat pumps."""
        return self.params.n

    def cop(self, t_out_c: ArrayLike) -> NDArray[np.float64]:
        """COP of each device at ``t_out_c``: scalar, (n_devices,) or (n_devices, n_steps). [-]

        Parameters
        ----------
        t_out_c : array_like
            Outdoor temperature. [degC]
        """
        pr = self.params
        t = np.asarray(t_out_c, dtype=float)
        cols = [pr.cooling, pr.t_supply_heat_c, pr.t_supply_cool_c, pr.cop_c0, pr.cop_c1, pr.cop_c2]
        if t.ndim == 2:
            cols = [c[:, None] for c in cols]
        return heat_pump_cop(t, *cols)

    def power_range(
        self, dt_h: float, t_out_c: ArrayLike, q_gain_kw: ArrayLike | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Electric power for the next step that ends the step inside the comfort band, within the rating.

        When no power in ``[0, p_max_kw]`` (and the ramp window) keeps the band, the range collapses to the
        nearest feasible value: full power when too cold (heating) / too warm (cooling), off otherwise.

        Parameters
        ----------
        dt_h : float
            Step length. [h]
        t_out_c : array_like, scalar or (n_devices,)
            Outdoor temperature during the next step. [degC]
        q_gain_kw : array_like, scalar or (n_devices,), optional
            Internal gains during the next step (default: the parameter ``q_gain_kw``). [kW]

        Returns
        -------
        (p_min_kw, p_max_kw) : tuple of numpy.ndarray, shape (n_devices,)
            Both >= 0 (load convention). [kW]
        """
        dt = check_dt(dt_h)
        t_out = as_step_input("t_out_c", t_out_c, self.n, 1)[:, 0]
        gains = as_step_input("q_gain_kw", q_gain_kw, self.n, 1, default=self.params.q_gain_kw)[:, 0]
        return self._range(dt, t_out, gains, self.cop(t_out), self.p_kw)

    def ramp_range(self, dt_h: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Largest decrease and increase of electric power over the next step. [kW] (down <= 0 <= up)

        Parameters
        ----------
        dt_h : float
            Step length. [h]
        """
        return ramp_window_kw(self.params.ramp_kw_per_min, dt_h)

    def _range(self, dt, t_out, gains, cop, p_prev):
        pr = self.params
        a, b = self._decay(dt)
        t_free = a * self.t_in_c + b * (t_out + pr.r_c_per_kw * gains)
        dtemp = np.where(pr.cooling, -1.0, 1.0) * cop * b * pr.r_c_per_kw
        return band_bounds(pr, t_free, dtemp, p_prev, pr.ramp_kw_per_min * dt * MIN_PER_H)

    def _decay(self, dt: float) -> tuple[NDArray, NDArray]:
        """``a = exp(-dt / (R C))`` and ``b = 1 - a`` (via expm1) of the exact one-step solution."""
        x = dt / self.params.tau_h
        return np.exp(-x), -np.expm1(-x)

    def simulate(
        self,
        p_setpoints_kw: ArrayLike,
        dt_h: float,
        t_out_c: ArrayLike,
        q_gain_kw: ArrayLike | None = None,
        enforce_comfort: bool = True,
    ) -> HeatPumpResult:
        """Apply electric set-points step by step and evolve the indoor temperature exactly.

        Parameters
        ----------
        p_setpoints_kw : array_like, shape (n_devices, n_steps)
            Requested electric power (>= 0, load convention). [kW]
        dt_h : float
            Step length. [h]
        t_out_c : array_like, scalar, (n_steps,), (n_devices,) or (n_devices, n_steps)
            Outdoor temperature during each step. [degC]
        q_gain_kw : array_like, same shapes as ``t_out_c``, optional
            Internal and solar gains (default: the parameter ``q_gain_kw``). [kW]
        enforce_comfort : bool
            True: the thermostat overrides set-points that would leave the comfort band (clip to
            :meth:`power_range`). False: only the rating and ramp clip the set-points.

        Returns
        -------
        HeatPumpResult
            The object's state (indoor temperature, last power) advances to the end of the horizon.
        """
        dt = check_dt(dt_h)
        sp = as_2d("p_setpoints_kw", p_setpoints_kw, self.n, None)
        n, n_steps = sp.shape
        pr = self.params
        t_out = as_step_input("t_out_c", t_out_c, n, n_steps)
        gains = as_step_input("q_gain_kw", q_gain_kw, n, n_steps, default=pr.q_gain_kw)
        cop = self.cop(t_out)
        sign = np.where(pr.cooling, -1.0, 1.0)
        ramp = pr.ramp_kw_per_min * dt * MIN_PER_H
        # exact step, T1 = a T0 + b (T_out + R (Q_gain + Q_hp)); state-free terms for the whole horizon,
        # time-major so that each step reads contiguous memory
        a, b = self._decay(dt)
        r = pr.r_c_per_kw
        drive = np.ascontiguousarray((t_out + r[:, None] * gains).T)
        dtemp = np.ascontiguousarray((sign[:, None] * cop * (b * r)[:, None]).T)
        sp_t = np.ascontiguousarray(sp.T)
        p_t = np.empty((n_steps, n))
        t_t = np.empty((n_steps, n))
        t_start = self.t_in_c.copy()
        t = t_start.copy()
        p = self.p_kw.copy()
        for s in range(n_steps):
            t_free = a * t + b * drive[s]
            p = clip_step_power(pr, sp_t[s], t_free, dtemp[s], p, ramp, enforce_comfort)
            t = t_free + dtemp[s] * p
            p_t[s] = p
            t_t[s] = t
        p_out, t_res = p_t.T, t_t.T
        if n_steps:
            self.t_in_c, self.p_kw = t.copy(), p.copy()
        q_hp = sign[:, None] * cop * p_out
        t_prev = np.concatenate([t_start[:, None], t_res[:, :-1]], axis=1)
        loss = (q_hp + gains) * dt - pr.c_kwh_per_c[:, None] * (t_res - t_prev)
        return HeatPumpResult(p_kw=p_out, q_hp_kw=q_hp, t_in_c=t_res, cop=cop, loss_kwh=loss)
