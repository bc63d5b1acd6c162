"""Device models of a fleet on a plan's time axis, as one columnar "generalised storage" table, and the
worst-case deliverability check of a :class:`~openvpp.schedule.plan.Plan`.

Every schedulable device is written as ``p = p_fixed + p_charge - p_discharge`` (load convention, + = import)
with ``0 <= p_charge <= pc_max_kw``, ``0 <= p_discharge <= pd_max_kw`` and, for devices with an energy state,
``e[t+1] = keep * e[t] + dt * (eta_charge * p_charge - p_discharge / eta_discharge)`` within
``[e_lo_kwh, e_hi_kwh]`` (eq. (9)-(10) of seed 000 §7.1.1):

========== ============================================================================================
battery    p_fixed 0, ratings, SoC window, efficiencies and self-discharge of :mod:`openvpp.der.battery`
ev         charging (and V2G) only while connected (``arrival_step <= t < departure_step`` on the plan's
           axis, :mod:`openvpp.der.ev`); ``e >= e_required_kwh`` at departure (explainer 002: charged by
           morning); no energy state before arrival / after departure
pv         ``p_fixed = -available``, curtailment as ``p_charge <= available`` (:mod:`openvpp.der.pv`)
flexload   ``p_fixed = baseline``, shedding as ``p_discharge <= curtailable share``; the shed energy budget
           ``curtail_max_energy_kwh`` is the energy state (:mod:`openvpp.der.flexload`)
========== ============================================================================================

Heat pumps and water heaters stay inflexible consumption in this version (their as-is profiles are part of
the site load); see docs/scheduling.md.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openvpp.errors import ValidationError
from openvpp.schedule.plan import CHECK_TOL, Breach, PlanCheck
from openvpp.timeseries import check_index, step_hours

if TYPE_CHECKING:
    from openvpp.fleet import Fleet
    from openvpp.schedule.plan import Plan

__all__ = ["SCHEDULED_CLASSES", "DeviceModels", "check_plan", "device_models", "site_inflexible_kw"]

#: DER classes the optimiser schedules (others stay in the inflexible site load)
SCHEDULED_CLASSES = ("battery", "ev", "pv", "flexload")

#: largest number of breaches a check lists
MAX_BREACHES = 1000


@dataclasses.dataclass(frozen=True)
class DeviceModels:
    """Schedulable devices of a fleet as generalised storage on one time axis (module docstring).

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Interval starts, shape (n_steps,).
    device_ids, device_class : numpy.ndarray of str, shape (n_devices,)
        Ids and DER classes.
    site_pos : numpy.ndarray of int, shape (n_devices,)
        Row of each device's site in the fleet's site table. [-]
    p_fixed_kw, pc_max_kw, pd_max_kw : numpy.ndarray, shape (n_devices, n_steps)
        Fixed part of the power and the ranges of the charging / discharging parts (load convention). [kW]
    e0_kwh : numpy.ndarray, shape (n_devices,)
        Energy at the start, NaN without storage. [kWh]
    e_lo_kwh, e_hi_kwh : numpy.ndarray, shape (n_devices, n_steps + 1)
        Energy band at each interval boundary (NaN without storage; -inf / inf where free). [kWh]
    e_max_kwh : numpy.ndarray, shape (n_devices,)
        Capacity used as the SoC reference, NaN without storage. [kWh]
    eta_charge, eta_discharge : numpy.ndarray, shape (n_devices,)
        One-way efficiencies. [-]
    keep_per_step : numpy.ndarray, shape (n_devices,)
        Share of stored energy kept over one step (self-discharge). [-]
    cycles_counted : numpy.ndarray of bool, shape (n_devices,)
        Devices whose discharge counts toward the cycle limit and degradation cost (batteries).
    """

    index: pd.DatetimeIndex
    device_ids: NDArray[Any]
    device_class: NDArray[Any]
    site_pos: NDArray[np.int64]
    p_fixed_kw: NDArray[np.float64]
    pc_max_kw: NDArray[np.float64]
    pd_max_kw: NDArray[np.float64]
    e0_kwh: NDArray[np.float64]
    e_lo_kwh: NDArray[np.float64]
    e_hi_kwh: NDArray[np.float64]
    e_max_kwh: NDArray[np.float64]
    eta_charge: NDArray[np.float64]
    eta_discharge: NDArray[np.float64]
    keep_per_step: NDArray[np.float64]
    cycles_counted: NDArray[np.bool_]

    @property
    def n(self) -> int:
        """Number of devices. [-]"""
        return int(self.device_ids.shape[0])

    @property
    def storage(self) -> NDArray[np.bool_]:
        """True for devices with an energy state, shape (n_devices,)."""
        return np.asarray(~np.isnan(self.e0_kwh))

    @property
    def p_min_kw(self) -> NDArray[np.float64]:
        """Lowest power per interval (load convention), shape (n_devices, n_steps). [kW]"""
        return self.p_fixed_kw - self.pd_max_kw

    @property
    def p_max_kw(self) -> NDArray[np.float64]:
        """Highest power per interval (load convention), shape (n_devices, n_steps). [kW]"""
        return self.p_fixed_kw + self.pc_max_kw

    def take(self, rows: NDArray[np.int64]) -> DeviceModels:
        """The models of a subset of devices.

        Parameters
        ----------
        rows : numpy.ndarray of int
            Device positions to keep. [-]

        Returns
        -------
        DeviceModels
        """
        kw = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out = {k: (v if k == "index" else v[rows]) for k, v in kw.items()}
        return DeviceModels(**out)


def _profile_rows(fleet: Fleet, name: str, index: pd.DatetimeIndex) -> NDArray[np.float64] | None:
    """A fleet profile restricted to ``index`` (None when the fleet has no such profile)."""
    prof = fleet.profiles
    if prof is None or name not in prof:
        return None
    pos = prof.index.get_indexer(index)
    if np.any(pos < 0):
        raise ValidationError(
            f"the fleet's profile {name!r} does not cover the plan's axis ({index[0]} .. {index[-1]}, step "
            f"{index.freq or (index[1] - index[0] if len(index) > 1 else '?')}); its axis runs "
            f"{prof.index[0]} .. {prof.index[-1]} every {prof.index[1] - prof.index[0]}; pick a day inside it"
        )
    return np.asarray(prof[name])[:, pos]


def site_inflexible_kw(fleet: Fleet, index: pd.DatetimeIndex) -> NDArray[np.float64]:
    """Site consumption the optimiser does not control: base load plus as-is heat pump (and, for sites whose
    EVs are not scheduled, EV) profiles, shape (n_sites, n_steps), load convention. [kW]

    Parameters
    ----------
    fleet : Fleet
        Fleet with site profiles covering ``index`` (``base_load_kw`` at least).
    index : pandas.DatetimeIndex
        Plan axis.

    Returns
    -------
    numpy.ndarray
        [kW]
    """
    base = _profile_rows(fleet, "base_load_kw", index)
    if base is None:
        raise ValidationError(
            "the fleet has no 'base_load_kw' site profile; build it with from_simbench or attach profiles "
            "(openvpp.schedule.inputs.attach_day_profiles)"
        )
    total = base.copy()
    hp = _profile_rows(fleet, "heatpump_kw", index)
    if hp is not None:
        total += hp
    ev = _profile_rows(fleet, "ev_kw", index)
    if ev is not None and not (fleet.has("ev") and fleet.der("ev").n):
        total += ev
    return total


def device_models(
    fleet: Fleet, index: pd.DatetimeIndex, classes: tuple[str, ...] = SCHEDULED_CLASSES
) -> DeviceModels:
    """The schedulable devices of ``fleet`` on ``index`` as :class:`DeviceModels` (module docstring).

    PV availability is the fleet's ``pv_pu`` profile times the array rating, clipped to the inverter
    rating; EV ``arrival_step`` / ``departure_step`` are positions on ``index``; a flexible load's baseline is
    the ``flexload_kw`` profile (owner ``flexload``), zero when absent.

    Parameters
    ----------
    fleet : Fleet
        The fleet.
    index : pandas.DatetimeIndex
        Plan axis (interval starts, fixed step).
    classes : tuple of str
        DER classes to schedule (subset of :data:`SCHEDULED_CLASSES`).

    Returns
    -------
    DeviceModels
    """
    index = check_index(index, "index")
    dt = step_hours(index)
    n_t = len(index)
    parts: list[dict[str, Any]] = []
    for cls_name in classes:
        if cls_name not in SCHEDULED_CLASSES:
            raise ValidationError(
                f"classes names {cls_name!r}; the optimiser schedules {list(SCHEDULED_CLASSES)}"
            )
        if not fleet.has(cls_name) or fleet.der(cls_name).n == 0:
            continue
        t: Any = fleet.der(cls_name)
        n = t.n
        part: dict[str, Any] = {
            "device_ids": np.asarray(t.device_id, dtype=object).astype(str),
            "device_class": np.full(n, cls_name, dtype=object),
            "site_pos": fleet.site_positions(cls_name),
            "p_fixed_kw": np.zeros((n, n_t)),
            "pc_max_kw": np.zeros((n, n_t)),
            "pd_max_kw": np.zeros((n, n_t)),
            "e0_kwh": np.full(n, np.nan),
            "e_lo_kwh": np.full((n, n_t + 1), np.nan),
            "e_hi_kwh": np.full((n, n_t + 1), np.nan),
            "e_max_kwh": np.full(n, np.nan),
            "eta_charge": np.ones(n),
            "eta_discharge": np.ones(n),
            "keep_per_step": np.ones(n),
            "cycles_counted": np.zeros(n, dtype=bool),
        }
        if cls_name == "battery":
            part["pc_max_kw"][:] = t.p_charge_max_kw[:, None]
            part["pd_max_kw"][:] = t.p_discharge_max_kw[:, None]
            part["e0_kwh"] = t.soc0 * t.e_max_kwh
            part["e_lo_kwh"][:] = t.e_min_kwh[:, None]
            part["e_hi_kwh"][:] = t.e_upper_kwh[:, None]
            part["e_max_kwh"] = np.asarray(t.e_max_kwh, float)
            part["eta_charge"] = np.asarray(t.eta_charge, float)
            part["eta_discharge"] = np.asarray(t.eta_discharge, float)
            part["keep_per_step"] = (1.0 - np.asarray(t.self_discharge_per_h, float)) ** dt
            part["cycles_counted"][:] = True
        elif cls_name == "ev":
            _ev_part(part, t, n_t, dt)
        elif cls_name == "pv":
            pu = _profile_rows(fleet, "pv_pu", index)
            if pu is None:
                raise ValidationError(
                    "the fleet has PV systems but no 'pv_pu' profile (owner 'pv'); attach one "
                    "(openvpp.schedule.inputs.attach_day_profiles) or drop 'pv' from classes"
                )
            avail = np.minimum(np.maximum(pu, 0.0) * t.p_dc_kwp[:, None], t.p_ac_kw[:, None])
            part["p_fixed_kw"] = -avail
            part["pc_max_kw"] = avail
        elif cls_name == "flexload":
            base = _profile_rows(fleet, "flexload_kw", index)
            base = np.zeros((n, n_t)) if base is None else np.maximum(base, 0.0)
            cap = np.minimum(t.curtail_share[:, None] * base, t.p_curtail_max_kw[:, None])
            part["p_fixed_kw"] = base
            part["pd_max_kw"] = cap
            budget = np.asarray(t.curtail_max_energy_kwh, float)
            has_budget = np.isfinite(budget)
            part["e0_kwh"] = np.where(has_budget, budget, np.nan)
            part["e_lo_kwh"][has_budget] = 0.0
            part["e_hi_kwh"][has_budget] = budget[has_budget, None]
            part["e_max_kwh"] = np.where(has_budget & (budget > 0), budget, np.nan)
            part["e0_kwh"] = np.where(np.isnan(part["e_max_kwh"]), np.nan, part["e0_kwh"])
            part["e_lo_kwh"][np.isnan(part["e_max_kwh"])] = np.nan
            part["e_hi_kwh"][np.isnan(part["e_max_kwh"])] = np.nan
        parts.append(part)
    if not parts:
        raise ValidationError(
            f"the fleet has no schedulable device (classes {list(classes)}); it holds {fleet.classes}"
        )
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return DeviceModels(index=index, **cat)


def _ev_part(part: dict[str, Any], t: Any, n_t: int, dt: float) -> None:
    """Fill the generalised-storage rows of EV sessions (positions on the plan axis)."""
    n = t.n
    arr = np.asarray(t.arrival_step, np.int64)
    dep = np.asarray(t.departure_step, np.int64)
    steps = np.arange(n_t)[None, :]
    conn = (steps >= arr[:, None]) & (steps < dep[:, None])
    part["pc_max_kw"] = np.where(conn, t.p_max_kw[:, None], 0.0)
    part["pd_max_kw"] = np.where(conn & t.v2g[:, None], t.p_discharge_kw[:, None], 0.0)
    bounds = np.arange(n_t + 1)[None, :]
    inside = (bounds >= arr[:, None]) & (bounds <= dep[:, None])
    e_min = np.asarray(t.e_min_kwh, float)[:, None]
    e_max = np.asarray(t.e_max_kwh, float)[:, None]
    lo = np.where(inside, e_min, -np.inf)
    hi = np.where(inside, e_max, np.inf)
    first = np.clip(arr, 0, n_t)
    lo[np.arange(n), first] = np.where(arr <= n_t, t.e0_kwh, lo[np.arange(n), first])
    hi[np.arange(n), first] = np.where(arr <= n_t, t.e0_kwh, hi[np.arange(n), first])
    at_dep = dep <= n_t
    rows = np.arange(n)[at_dep]
    lo[rows, dep[at_dep]] = np.maximum(lo[rows, dep[at_dep]], np.asarray(t.e_required_kwh, float)[at_dep])
    if np.any(arr > 0):
        # energy before arrival is not the car's: pin it to e0 so the dynamics carry it unchanged
        before = bounds < arr[:, None]
        lo = np.where(before, t.e0_kwh[:, None], lo)
        hi = np.where(before, t.e0_kwh[:, None], hi)
    need = np.asarray(t.e_required_kwh, float) - np.asarray(t.e0_kwh, float)
    reach = (np.minimum(dep, n_t) - np.clip(arr, 0, n_t)) * t.p_max_kw * t.eta_charge * dt
    bad = at_dep & (need > reach + 1e-9)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"ev.e_required_kwh of device {str(t.device_id[i])!r} needs {need[i]:.3g} kWh above e0_kwh but "
            f"its charger adds at most {reach[i]:.3g} kWh between arrival_step {arr[i]} and departure_step "
            f"{dep[i]} (p_max_kw {t.p_max_kw[i]:g}); lower e_required_kwh or widen the window"
        )
    part["e0_kwh"] = np.asarray(t.e0_kwh, float)
    part["e_lo_kwh"] = lo
    part["e_hi_kwh"] = hi
    part["e_max_kwh"] = np.asarray(t.e_max_kwh, float)
    part["eta_charge"] = np.asarray(t.eta_charge, float)
    part["eta_discharge"] = np.asarray(t.eta_discharge, float)


# ---------------------------------------------------------------------------------------------- check
def _energy_step(
    e: NDArray, q: NDArray, eta_c: NDArray, eta_d: NDArray, keep_h: NDArray, x_h: float | NDArray
) -> NDArray:
    """Stored energy after holding the controllable power ``q`` (+ charge) for ``x_h`` hours, exact."""
    flow = np.where(q > 0, eta_c * q, q / eta_d)
    keep = keep_h**x_h
    lam = -np.log(np.maximum(keep_h, 1e-300))
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = np.where(lam > 1e-12, (1.0 - keep) / np.where(lam > 1e-12, lam, 1.0), x_h)
    return keep * e + gain * flow


def check_plan(plan: Plan, fleet: Fleet) -> PlanCheck:
    """Worst-case activation check of a plan with the fleet's device models (see :meth:`Plan.check`).

    Parameters
    ----------
    plan : Plan
        The plan.
    fleet : Fleet
        The fleet it was made for.

    Returns
    -------
    PlanCheck
    """
    from openvpp.schedule.plan import Plan as _Plan

    if not isinstance(plan, _Plan):
        raise ValidationError(f"plan must be a Plan (got {type(plan).__name__})")
    classes = tuple(c for c in SCHEDULED_CLASSES if c in set(plan.device_class.tolist()))
    models = device_models(fleet, plan.index, classes) if classes else None
    breaches: list[Breach] = []
    index = plan.index
    dt = plan.dt_h
    n_checked = 0

    def add(kind: str, mask: NDArray[np.bool_], amount: NDArray, ids: NDArray, service: Any) -> None:
        for d, t in np.argwhere(mask)[: MAX_BREACHES - len(breaches)]:
            svc = service if isinstance(service, str) else str(service[d, t])
            breaches.append(Breach(kind, str(ids[d]), svc, int(t), index[int(t)], float(amount[d, t])))

    if models is not None and plan.n_devices:
        pos = pd.Index(models.device_ids).get_indexer(plan.device_ids.astype(str))
        if np.any(pos < 0):
            missing = plan.device_ids[pos < 0][:3].tolist()
            raise ValidationError(f"plan devices {missing} are not devices of the fleet given to check()")
        m = models.take(pos)
        p_b = plan.p_baseline_kw
        p_lo, p_hi = m.p_min_kw, m.p_max_kw
        ids = plan.device_ids
        add("power_low", p_b < p_lo - CHECK_TOL, p_lo - p_b, ids, "baseline")
        add("power_high", p_b > p_hi + CHECK_TOL, p_b - p_hi, ids, "baseline")
        q = p_b - m.p_fixed_kw
        st = m.storage
        eta_c, eta_d = m.eta_charge[:, None], m.eta_discharge[:, None]
        keep_h = (m.keep_per_step ** (1.0 / dt))[:, None]
        # baseline energy trajectory (exact device dynamics)
        e = np.empty((plan.n_devices, plan.n_steps + 1))
        e[:, 0] = np.where(st, m.e0_kwh, 0.0)
        flow = np.where(q > 0, eta_c * q, q / eta_d)
        if np.all(m.keep_per_step == 1.0):
            e[:, 1:] = e[:, :1] + np.cumsum(flow * dt, axis=1)
        else:
            for t in range(plan.n_steps):
                e[:, t + 1] = _energy_step(e[:, t], q[:, t], eta_c[:, 0], eta_d[:, 0], keep_h[:, 0], dt)
        # EV: no power before arrival keeps the energy at e0 (its band there); free after departure
        lo = np.where(st[:, None], np.where(np.isnan(m.e_lo_kwh), -np.inf, m.e_lo_kwh), -np.inf)
        hi = np.where(st[:, None], np.where(np.isnan(m.e_hi_kwh), np.inf, m.e_hi_kwh), np.inf)
        tol_e = CHECK_TOL * np.maximum(1.0, np.nan_to_num(m.e_max_kwh, nan=1.0))[:, None]
        add("energy_low", (e[:, 1:] < lo[:, 1:] - tol_e), lo[:, 1:] - e[:, 1:], ids, "baseline")
        add("energy_high", (e[:, 1:] > hi[:, 1:] + tol_e), e[:, 1:] - hi[:, 1:], ids, "baseline")
        # worst-case activations, per direction
        for direction in ("up", "down"):
            r = plan.reserve_up_kw if direction == "up" else plan.reserve_down_kw
            if not np.any(r > CHECK_TOL):
                continue
            durs = np.unique(plan.service_duration_h[r.reshape(r.shape[0], -1).max(axis=1) > CHECK_TOL])
            sign = -1.0 if direction == "up" else 1.0
            total = r.sum(axis=0)
            worst_svc = (
                np.asarray(plan.services, dtype=object)[np.argmax(r, axis=0)] if len(plan.services) else None
            )
            p_act = p_b + sign * total
            if direction == "up":
                add("power_low", p_act < p_lo - CHECK_TOL, p_lo - p_act, ids, worst_svc)
            else:
                add("power_high", p_act > p_hi + CHECK_TOL, p_act - p_hi, ids, worst_svc)
            n_checked += int(np.count_nonzero(total > CHECK_TOL))
            band_lo = np.maximum(lo[:, :-1], lo[:, 1:])
            band_hi = np.minimum(hi[:, :-1], hi[:, 1:])
            q_next = np.concatenate([q[:, 1:], np.zeros((q.shape[0], 1))], axis=1)
            for start, q_base in ((e[:, :-1], q), (e[:, 1:], q_next)):
                cur = start.copy()
                prev = 0.0
                for d_h in durs:
                    active = plan.service_duration_h >= d_h - 1e-12
                    r_seg = r[active].sum(axis=0)
                    q_seg = q_base + sign * r_seg
                    cur = np.where(
                        st[:, None], _energy_step(cur, q_seg, eta_c, eta_d, keep_h, d_h - prev), cur
                    )
                    prev = d_h
                    use = st[:, None] & (r_seg > CHECK_TOL)  # breakpoints where a reserve still runs
                    if direction == "up":
                        add("energy_low", use & (cur < band_lo - tol_e), band_lo - cur, ids, worst_svc)
                    else:
                        add("energy_high", use & (cur > band_hi + tol_e), cur - band_hi, ids, worst_svc)
    # site envelopes, baseline and activated
    sid = plan.site_ids
    sp = plan.site_p_kw
    add("import", sp > plan.site_import_limit_kw + CHECK_TOL, sp - plan.site_import_limit_kw, sid, "baseline")
    add(
        "export",
        -sp > plan.site_export_limit_kw + CHECK_TOL,
        -sp - plan.site_export_limit_kw,
        sid,
        "baseline",
    )
    up, dn = plan.site_reserve_kw("up"), plan.site_reserve_kw("down")
    add(
        "export",
        -(sp - up) > plan.site_export_limit_kw + CHECK_TOL,
        up - sp - plan.site_export_limit_kw,
        sid,
        "all up reserves",
    )
    add(
        "import",
        sp + dn > plan.site_import_limit_kw + CHECK_TOL,
        sp + dn - plan.site_import_limit_kw,
        sid,
        "all down reserves",
    )
    breaches.sort(key=lambda b: -b.amount)
    return PlanCheck(tuple(breaches[:MAX_BREACHES]), n_checked)
