"""Flexibility metrics from the device models and their present state (seed 003 §3.2, step one).

One adapter per device class, ``metrics_from_<class>(device, dt_h, horizon_h, ...)``, each returning a
:class:`~openvpp.flex.metrics.FlexMetrics` table (one row per device, injection orientation ``pi = -p_kw``):

* ``pi`` - the device's own :meth:`power_range` over the next step of ``dt_h`` hours (ratings, ramps from the
  present output, state of charge / comfort band / forecast);
* ``rho`` - its ramp rates per minute in the present state (a unit at standstill gets its start-up ramp);
  an unlimited ramp is credited as the full range per minute (:func:`~openvpp.flex.metrics.full_range_rate`);
* ``eps`` - the energy it can deliver (+) or absorb (-) over ``horizon_h`` from its state: stored energy,
  reservoir, forecast, thermal band, or task energy, with ramp-limited trapezoids (eq. (1));
* ``phi`` - the reactive range of its P-Q circle at the present operating point, where the model has one;
* ``psi`` - the reactive ramp: inverters are credited their full reactive range per minute.

The device modules are imported lazily so that a fleet without, say, heat pumps does not need that module.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openvpp.errors import ValidationError
from openvpp.flex.metrics import FlexMetrics, full_range_rate, ramp_limited_energy_kwh
from openvpp.units import MIN_PER_H


def _check(dt_h: float, horizon_h: float, names: tuple[str, str] = ("dt_h", "horizon_h")) -> int:
    for name, v in zip(names, (dt_h, horizon_h), strict=True):
        if isinstance(v, bool) or not isinstance(v, int | float | np.number) or not np.isfinite(v) or v <= 0:
            raise ValidationError(f"{name} must be a positive number of hours (got {v!r})")
    n_h = round(horizon_h / dt_h)
    if n_h < 1 or abs(n_h * dt_h - horizon_h) > 1e-9 * max(1.0, horizon_h):
        raise ValidationError(
            f"{names[1]} ({horizon_h} h) must be a whole number of steps of {names[0]} ({dt_h} h)"
        )
    return int(n_h)


def _table(
    device: Any,
    p_range: tuple[ArrayLike, ArrayLike],
    rates: tuple[ArrayLike, ArrayLike],
    horizon_h: float,
    ccp: ArrayLike,
    **kw: Any,
) -> FlexMetrics:
    """The metrics table of ``device`` (ids, kind and present power ``p0_kw`` taken from it by default).

    Parameters
    ----------
    device : object with ``params`` (a ParamTable) and ``p_kw``
    p_range : (p_min_kw, p_max_kw)
        Its power range over the next step, load convention. [kW]
    rates : (down, up)
        Largest decrease and increase of the load-convention power per minute, both as magnitudes
        (>= 0). [kW/min]
    horizon_h : float
        Horizon of the energy metrics. [h]
    ccp : array_like
        Connection point of each device.
    **kw
        The energy and reactive metrics, and overrides of ``kind`` or ``p0_kw``
        (see :meth:`FlexMetrics.from_load_convention`).
    """
    params = device.params
    kw.setdefault("kind", params.table_name)
    if "p0_kw" not in kw:  # PV has no p_kw attribute and passes its own
        kw["p0_kw"] = device.p_kw
    return FlexMetrics.from_load_convention(
        device_id=params.device_id,
        site_id=params.site_id,
        p_min_kw=p_range[0],
        p_max_kw=p_range[1],
        ramp_down_kw_per_min=-np.asarray(rates[0]),
        ramp_up_kw_per_min=rates[1],
        horizon_h=horizon_h,
        ccp=ccp,
        **kw,
    )


def _reactive(device: Any, p_kw: ArrayLike) -> dict[str, Any]:
    """Reactive metrics of an inverter at active power ``p_kw``: its P-Q circle range, credited as its full
    reactive range per minute, and its rating. [kvar, kvar/min, kVA]"""
    q_lo, q_hi = device.q_range(p_kw)
    s = device.params.s_kva
    return {"q_min_kvar": q_lo, "q_max_kvar": q_hi, "q_ramp_kvar_per_min": 2.0 * s, "s_max_kva": s}


def _generator_rates(device: Any, dt_h: float) -> tuple[NDArray, NDArray]:
    """Output increase and decrease per minute of a generator, from its ``ramp_range``. [kW/min]

    Either may be inf (unlimited) or 0 (a unit at standstill cannot ramp down).
    """
    r_lo, r_hi = device.ramp_range(dt_h)  # changes of p_kw over the step
    per_min = dt_h * MIN_PER_H
    return -r_lo / per_min, r_hi / per_min


def _shutdown_energy_kwh(p_gen_kw: ArrayLike, down_raw: NDArray, horizon_h: float) -> NDArray:
    """Energy of a ramp of the output down to zero at ``down_raw`` per minute (0: a step). [kWh]"""
    return ramp_limited_energy_kwh(p_gen_kw, 0.0, np.where(down_raw > 0, down_raw, np.inf), horizon_h)


def metrics_from_battery(device: Any, dt_h: float, horizon_h: float, ccp: ArrayLike = 0) -> FlexMetrics:
    """Metrics of a :class:`openvpp.der.battery.Battery` in its present state.

    ``eps`` is the energy that reaches (+) or leaves (-) the grid over the horizon: the stored energy above
    the SoC floor times the discharge efficiency (after self-discharge), or the room below the ceiling
    divided by the charge efficiency, capped by the ramp-limited trapezoid at the power ratings.

    Parameters
    ----------
    device : Any
        Device model holding its parameters and state.
    dt_h : float
        Step over which the power range is reachable. [h]
    horizon_h : float
        Horizon of the energy metric. [h]
    ccp : ArrayLike
        Common connection point (index or None for the VPP). [-]
    """
    _check(dt_h, horizon_h)
    pr = device.params
    s = pr.s_kva
    pc_max = np.minimum(pr.p_charge_max_kw, s)
    pd_max = np.minimum(pr.p_discharge_max_kw, s)
    rate = full_range_rate(pr.ramp_kw_per_min, pc_max + pd_max)
    keep = (1.0 - pr.self_discharge_per_h) ** horizon_h
    e = device.e_kwh * keep
    deliver = np.maximum(e - pr.e_min_kwh, 0.0) * pr.eta_discharge
    absorb = np.maximum(pr.e_upper_kwh - e, 0.0) / pr.eta_charge
    gen0 = -device.p_kw  # injection now
    raw = pr.ramp_kw_per_min  # the energy trapezoid uses the true rate (inf: a step)
    deliver = np.minimum(deliver, np.maximum(ramp_limited_energy_kwh(gen0, pd_max, raw, horizon_h), 0.0))
    absorb = np.minimum(absorb, np.maximum(-ramp_limited_energy_kwh(gen0, -pc_max, raw, horizon_h), 0.0))
    return _table(
        device, device.power_range(dt_h), (rate, rate), horizon_h, ccp,
        e_absorb_max_kwh=absorb, e_deliver_max_kwh=deliver, **_reactive(device, device.p_kw),
    )


def metrics_from_pv(device: Any, dt_h: float, horizon_h: float, ccp: ArrayLike = 0) -> FlexMetrics:
    """Metrics of a :class:`openvpp.der.pv.PV` from its available output and present output.

    The output can be curtailed to zero, so ``eps`` spans from the energy of a ramp down to zero to the
    available energy over the horizon (the device's series from its time cursor on).

    Parameters
    ----------
    device : Any
        Device model holding its parameters and state.
    dt_h : float
        Step over which the power range is reachable. [h]
    horizon_h : float
        Horizon of the energy metric. [h]
    ccp : ArrayLike
        Common connection point (index or None for the VPP). [-]
    """
    n_h = _check(dt_h, horizon_h)
    if device.steps_left < n_h:
        raise ValidationError(
            f"pv: the horizon needs {n_h} steps of available output but only {device.steps_left} remain; "
            "build PV with a longer p_available_kw or shorten horizon_h"
        )
    pr = device.params
    p_range = device.power_range(dt_h)
    avail = device.p_available_kw[:, device.t : device.t + n_h]
    rate = full_range_rate(pr.ramp_kw_per_min, pr.p_ac_kw)
    if np.all(np.isinf(pr.ramp_kw_per_min)):
        e_max = avail.sum(axis=1) * dt_h
    else:  # ramp up from the present output, never above the available power
        t_h = dt_h * np.arange(1, n_h + 1)
        ramped = device.p_ac_kw[:, None] + rate[:, None] * t_h[None, :] * MIN_PER_H
        e_max = np.minimum(avail, ramped).sum(axis=1) * dt_h
    e_min = np.minimum(ramp_limited_energy_kwh(device.p_ac_kw, 0.0, pr.ramp_kw_per_min, horizon_h), e_max)
    return _table(
        device, p_range, (rate, rate), horizon_h, ccp,
        e_absorb_max_kwh=0.0, e_deliver_max_kwh=e_max, e_deliver_min_kwh=e_min, p0_kw=-device.p_ac_kw,
        **_reactive(device, -device.p_ac_kw),
    )


def metrics_from_dispatchable_generator(
    device: Any, dt_h: float, horizon_h: float, ccp: ArrayLike = 0, inflow_kw: ArrayLike | None = None
) -> FlexMetrics:
    """Metrics of a :class:`openvpp.der.generator.DispatchableGenerator` (e.g. hydro H1 of seed 003 §4.2).

    ``rho`` up is the synchronised up-ramp, or the start-up ramp from standstill; ``rho`` down the down-ramp
    (zero at standstill). ``eps`` spans from the energy of a shutdown along the down-ramp to the energy of a
    ramp to rated output, capped by the reservoir (usable level plus inflow over the horizon).

    Parameters
    ----------
    device : Any
        Device model holding its parameters and state.
    dt_h : float
        Step over which the power range is reachable. [h]
    horizon_h : float
        Horizon of the energy metric. [h]
    ccp : ArrayLike
        Common connection point (index or None for the VPP). [-]
    inflow_kw : ArrayLike | None
        Water inflow expressed as power. [kW]
    """
    _check(dt_h, horizon_h)
    pr = device.params
    p_range = device.power_range(dt_h, inflow_kw)
    up_raw, down_raw = _generator_rates(device, dt_h)
    up = full_range_rate(up_raw, pr.p_max_kw)
    down = full_range_rate(down_raw, pr.p_max_kw)
    g = device.p_gen_kw
    inflow = pr.inflow_kw if inflow_kw is None else np.broadcast_to(np.asarray(inflow_kw, float), (device.n,))
    reservoir = np.maximum(device.e_kwh - pr.e_min_kwh, 0.0) + inflow * horizon_h
    e_up = ramp_limited_energy_kwh(g, pr.p_max_kw, np.where(up_raw > 0, up_raw, 1.0), horizon_h)
    e_max = np.minimum(np.where(up_raw > 0, e_up, g * horizon_h), reservoir)
    e_min = np.minimum(_shutdown_energy_kwh(g, down_raw, horizon_h), e_max)
    return _table(
        device, p_range, (up, down), horizon_h, ccp,
        e_absorb_max_kwh=0.0,
        e_deliver_max_kwh=np.maximum(e_max, 0.0),
        e_deliver_min_kwh=np.maximum(e_min, 0.0),
    )


def metrics_from_variable_generator(
    device: Any, dt_h: float, horizon_h: float, quantile: str = "p50", ccp: ArrayLike = 0
) -> FlexMetrics:
    """Metrics of a :class:`openvpp.der.generator.VariableGenerator` at one forecast quantile.

    Seed 003 §3.2: the flexibility of a variable unit is probabilistic; call once per quantile ("p10",
    "p50", "p90") for the P10 / P50 / P90 sets (mind the forecast's naming convention, see its docstring).

    Parameters
    ----------
    device : Any
        Device model holding its parameters and state.
    dt_h : float
        Step over which the power range is reachable. [h]
    horizon_h : float
        Horizon of the energy metric. [h]
    quantile : str
        ``P10``, ``P50`` or ``P90``.
    ccp : ArrayLike
        Common connection point (index or None for the VPP). [-]
    """
    n_h = _check(dt_h, horizon_h)
    pr = device.params
    p_range = device.power_range(dt_h, quantile)
    avail = device.available_kw(n_h, quantile)
    up_raw, down_raw = _generator_rates(device, dt_h)
    up = np.where(pr.curtailable, full_range_rate(up_raw, pr.p_max_kw), 0.0)
    down = np.where(pr.curtailable, full_range_rate(down_raw, pr.p_max_kw), 0.0)
    e_avail = avail.sum(axis=1) * dt_h
    e_down = _shutdown_energy_kwh(device.p_gen_kw, down_raw, horizon_h)
    e_min = np.where(pr.curtailable, np.minimum(e_down, e_avail), e_avail)
    return _table(
        device, p_range, (up, down), horizon_h, ccp,
        e_absorb_max_kwh=0.0, e_deliver_max_kwh=e_avail, e_deliver_min_kwh=np.maximum(e_min, 0.0),
    )


def _thermal(device: Any, dt_h: float, horizon_h: float, ccp: ArrayLike, **inputs: Any) -> FlexMetrics:
    """Heat pump / water heater: power range over the step, energy from a constant power over the horizon.

    The model's own ``power_range`` evaluated with one step as long as the horizon gives the constant power
    that keeps the comfort band over the whole horizon; times the horizon it bounds the energy consumed.
    """
    _check(dt_h, horizon_h)
    pr = device.params
    p_range = device.power_range(dt_h, **inputs)
    h_lo, h_hi = device.power_range(horizon_h, **inputs)
    rate = full_range_rate(pr.ramp_kw_per_min, pr.p_max_kw)
    return _table(
        device, p_range, (rate, rate), horizon_h, ccp,
        e_absorb_max_kwh=h_hi * horizon_h, e_deliver_max_kwh=0.0, e_absorb_min_kwh=h_lo * horizon_h,
    )


def metrics_from_heatpump(
    device: Any, dt_h: float, horizon_h: float, t_out_c: ArrayLike, ccp: ArrayLike = 0
) -> FlexMetrics:
    """Metrics of a :class:`openvpp.der.heatpump.HeatPump` at outdoor temperature ``t_out_c`` [degC].

    Parameters
    ----------
    device : Any
        Device model holding its parameters and state.
    dt_h : float
        Step over which the power range is reachable. [h]
    horizon_h : float
        Horizon of the energy metric. [h]
    t_out_c : ArrayLike
        Outdoor temperature. [degC]
    ccp : ArrayLike
        Common connection point (index or None for the VPP). [-]
    """
    return _thermal(device, dt_h, horizon_h, ccp, t_out_c=t_out_c)


def metrics_from_waterheater(
    device: Any, dt_h: float, horizon_h: float, draw_l_per_min: ArrayLike | None = None, ccp: ArrayLike = 0
) -> FlexMetrics:
    """Metrics of a :class:`openvpp.der.waterheater.WaterHeater` with an expected draw [L/min].

    Parameters
    ----------
    device : Any
        Device model holding its parameters and state.
    dt_h : float
        Step over which the power range is reachable. [h]
    horizon_h : float
        Horizon of the energy metric. [h]
    draw_l_per_min : ArrayLike | None
        Hot-water draw. [l/min]
    ccp : ArrayLike
        Common connection point (index or None for the VPP). [-]
    """
    return _thermal(device, dt_h, horizon_h, ccp, draw_l_per_min=draw_l_per_min)


def metrics_from_flexload(device: Any, dt_h: float, horizon_h: float, ccp: ArrayLike = 0) -> FlexMetrics:
    """Metrics of a :class:`openvpp.der.flexload.FlexibleLoad` (C&I load, curtailment and a shiftable task).

    ``eps`` spans the baseline energy over the horizon plus the shiftable task that fits in it (most
    consumption) down to the baseline less one curtailment event (least consumption), if an event is left.

    Parameters
    ----------
    device : Any
        Device model holding its parameters and state.
    dt_h : float
        Step over which the power range is reachable. [h]
    horizon_h : float
        Horizon of the energy metric. [h]
    ccp : ArrayLike
        Common connection point (index or None for the VPP). [-]
    """
    n_h = _check(dt_h, horizon_h)
    pr = device.params
    if device.step + n_h > device.baseline_kw.shape[1]:
        raise ValidationError(
            f"flexload: the horizon needs {n_h} steps of baseline from step {device.step} but the baseline "
            "has "
            f"{device.baseline_kw.shape[1]}; give a longer baseline_kw or shorten horizon_h"
        )
    p_lo, p_hi = device.power_range(dt_h)
    base = device.baseline_kw[:, device.step : device.step + n_h]
    e_base = base.sum(axis=1) * dt_h
    events_left = device.events_used < pr.curtail_max_events
    e_curt = np.minimum.reduce(
        [
            np.asarray(pr.curtail_max_energy_kwh, float),
            pr.p_curtail_max_kw * np.minimum(horizon_h, pr.curtail_max_duration_h),
            pr.curtail_share * e_base,
        ]
    )
    e_curt = np.where(events_left, e_curt, 0.0)
    e_shift = np.minimum(device.shift_remaining_kwh, pr.shift_p_max_kw * horizon_h)
    span = p_hi - p_lo
    rate = full_range_rate(np.full(device.n, np.inf), span)
    return _table(
        device, (p_lo, p_hi), (rate, rate), horizon_h, ccp,
        e_absorb_max_kwh=e_base + e_shift,
        e_deliver_max_kwh=0.0,
        e_absorb_min_kwh=np.maximum(e_base - e_curt, 0.0),
    )


def metrics_from_ev(device: Any, dt_h: float, horizon_h: float, ccp: ArrayLike = 0) -> FlexMetrics:
    """Metrics of a :class:`openvpp.der.ev.EV` (charging sessions) at its time cursor.

    ``pi`` is the session's own ``power_range`` (including its must-charge rule); chargers change power within
    seconds, so ``rho`` is the full range per minute. Over the horizon the car can absorb up to the room in
    its battery at the connection rating during its connected steps, deliver (V2G) down to its floor, and
    must absorb what its departure target still needs if it leaves within the horizon (or cannot make it
    up after the horizon at full power).

    Parameters
    ----------
    device : Any
        Device model holding its parameters and state.
    dt_h : float
        Step over which the power range is reachable. [h]
    horizon_h : float
        Horizon of the energy metric. [h]
    ccp : ArrayLike
        Common connection point (index or None for the VPP). [-]
    """
    n_h = _check(dt_h, horizon_h)
    pr = device.params
    p_lo, p_hi = device.power_range(dt_h)
    t0 = device.t
    steps = t0 + np.arange(n_h)
    conn = (pr.arrival_step[:, None] <= steps[None, :]) & (steps[None, :] < pr.departure_step[:, None])
    conn_h = conn.sum(axis=1) * dt_h
    e = device.e_kwh
    absorb = np.minimum(np.maximum(pr.e_max_kwh - e, 0.0) / pr.eta_charge, pr.p_max_kw * conn_h)
    deliver = np.minimum(np.maximum(e - pr.e_min_kwh, 0.0) * pr.eta_discharge, pr.p_discharge_kw * conn_h)
    after_h = np.maximum(pr.departure_step - (t0 + n_h), 0) * dt_h  # connected time left after the horizon
    still = pr.e_required_kwh - e - pr.p_max_kw * pr.eta_charge * after_h
    must = np.where(conn.any(axis=1), np.clip(still / pr.eta_charge, 0.0, absorb), 0.0)
    rate = full_range_rate(np.full(device.n, np.inf), pr.p_max_kw + pr.p_discharge_kw)
    return _table(
        device, (p_lo, p_hi), (rate, rate), horizon_h, ccp,
        e_absorb_max_kwh=absorb, e_deliver_max_kwh=np.where(must > 0, 0.0, deliver), e_absorb_min_kwh=must,
    )


ADAPTERS: dict[str, Any] = {
    "ev": metrics_from_ev,
    "battery": metrics_from_battery,
    "pv": metrics_from_pv,
    "generator": metrics_from_dispatchable_generator,
    "variable_generator": metrics_from_variable_generator,
    "heatpump": metrics_from_heatpump,
    "waterheater": metrics_from_waterheater,
    "flexload": metrics_from_flexload,
}
