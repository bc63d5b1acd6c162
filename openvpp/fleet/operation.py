"""Today's practice: each prosumer's battery maximises self-consumption, and the resulting site powers.

Eq. (23) of the Chile roadmap (seed 000 §7.1.3) minimises, per household, imports plus exports over the
day. Without price signals or foresight, the greedy rule below reaches the same goal step by step and is
what home batteries do in self-consumption mode: *charge from the PV surplus, discharge to cover the net
load, within the power and energy limits*. The battery set-point is the negative of the site's net load
(:func:`self_consumption_setpoints`); :meth:`openvpp.der.battery.Battery.simulate` then clips each step to
what the state of charge allows, so no export happens while the battery has room to charge and no import
while it has energy and power to discharge. The rule is written here (rather than as an LP) because it is
the device behaviour being modelled, is exact for one battery per site, and vectorises over any number of
sites with one pass over time.

Sign convention: load convention throughout (+ = import / charging / consumption).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from openvpp.checks import check_dt
from openvpp.der.battery import Battery, BatteryParams, BatteryResult, equivalent_full_cycles
from openvpp.errors import ValidationError
from openvpp.fleet.fleet import Fleet
from openvpp.timeseries import as_2d
from openvpp.units import split_import_export


def self_consumption_setpoints(
    net_load_kw: ArrayLike,
    p_charge_max_kw: ArrayLike | None = None,
    p_discharge_max_kw: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Battery set-points that cancel a site's net load (self-consumption, intent of eq. (23), seed 000).

    Parameters
    ----------
    net_load_kw : array_like, shape (n_devices, n_steps)
        Net load the battery sees, without the battery (consumption minus PV), + = import. [kW]
    p_charge_max_kw, p_discharge_max_kw : array_like, shape (n_devices,), optional
        Power ratings to clip to (the energy window is left to the battery model). [kW]

    Returns
    -------
    numpy.ndarray, shape (n_devices, n_steps)
        Set-point, + = charging: ``-net_load_kw`` clipped to ``[-p_discharge_max_kw, p_charge_max_kw]``.
        [kW]
    """
    net = as_2d("net_load_kw", net_load_kw)
    sp = -net
    n = net.shape[0]
    if p_charge_max_kw is not None:
        hi = np.broadcast_to(np.asarray(p_charge_max_kw, dtype=float), (n,))
        if np.any(~np.isfinite(hi) | (hi < 0)):
            raise ValidationError("p_charge_max_kw must be finite and >= 0 kW")
        sp = np.minimum(sp, hi[:, None])
    if p_discharge_max_kw is not None:
        lo = np.broadcast_to(np.asarray(p_discharge_max_kw, dtype=float), (n,))
        if np.any(~np.isfinite(lo) | (lo < 0)):
            raise ValidationError("p_discharge_max_kw must be finite and >= 0 kW")
        sp = np.maximum(sp, -lo[:, None])
    return sp


def site_net_load_kw(fleet: Fleet, steps: slice | None = None) -> NDArray[np.float64]:
    """Site net load without batteries from the fleet's site profiles. [kW], shape (n_sites, n_steps)

    ``base_load_kw + heatpump_kw + ev_kw - pv_ac_kw`` (absent profiles count as zero; ``base_load_kw`` is
    required), + = import.

    Parameters
    ----------
    steps : slice, optional
        Steps of the profiles to use (None: all).
    fleet : Fleet
        Fleet with profiles.
    """
    if fleet.profiles is None:
        raise ValidationError(
            "the fleet has no profiles; attach them with fleet.with_profiles(Profiles(index, {...})) "
            "or build the fleet with from_simbench"
        )
    steps = slice(None) if steps is None else steps
    net = fleet.site_profile("base_load_kw")[:, steps].copy()
    for name, sign in (("heatpump_kw", 1.0), ("ev_kw", 1.0), ("pv_ac_kw", -1.0)):
        if name in fleet.profiles:
            net += sign * fleet.site_profile(name)[:, steps]
    return net


@dataclasses.dataclass
class SelfConsumptionResult:
    """Outcome of :func:`simulate_self_consumption` (load convention, + = import / charging).

    Attributes
    ----------
    index : pandas.DatetimeIndex
        Reported steps.
    dt_h : float
        Step length. [h]
    site_p_without_kw, site_p_with_kw : numpy.ndarray, shape (n_sites, n_steps)
        Site power without and with the batteries. [kW]
    pv_ac_kw : numpy.ndarray, shape (n_sites, n_steps)
        PV AC output per site (>= 0). [kW]
    battery : BatteryResult
        Realised battery power and energy, one row per battery.
    """

    index: pd.DatetimeIndex
    dt_h: float
    site_p_without_kw: NDArray[np.float64]
    site_p_with_kw: NDArray[np.float64]
    pv_ac_kw: NDArray[np.float64]
    battery: BatteryResult

    @property
    def aggregate_without_kw(self) -> NDArray[np.float64]:
        """Sum over sites without batteries, shape (n_steps,). [kW]"""
        return self.site_p_without_kw.sum(axis=0)

    @property
    def aggregate_with_kw(self) -> NDArray[np.float64]:
        """Sum over sites with batteries, shape (n_steps,). [kW]"""
        return self.site_p_with_kw.sum(axis=0)


def simulate_self_consumption(fleet: Fleet, steps: slice | None = None, warmup_steps: int = 0
                              ) -> SelfConsumptionResult:
    """Simulate every battery of the fleet in self-consumption mode over the fleet's profiles.

    Each battery receives the set-point of :func:`self_consumption_setpoints` for its share of its site's
    net load (share = its discharge rating over the site's total, so several batteries on one site split
    the work) and :class:`~openvpp.der.battery.Battery` realises it within its limits.

    Parameters
    ----------
    fleet : Fleet
        With site profiles (``base_load_kw`` and optionally ``heatpump_kw``, ``ev_kw``, ``pv_ac_kw``) and
        possibly a ``battery`` table.
    steps : slice, optional
        Reported time steps (positions on the profile axis). Default: all.
    warmup_steps : int
        Steps simulated before ``steps.start`` (when available) so that the batteries start the reported
        window with a state of charge reached by the same rule; not reported. [-]

    Returns
    -------
    SelfConsumptionResult
    """
    if fleet.profiles is None:
        raise ValidationError(
            "the fleet has no profiles; attach them with fleet.with_profiles(Profiles(index, {...})) "
            "or build the fleet with from_simbench"
        )
    n_total = fleet.profiles.n_steps
    steps = slice(0, n_total) if steps is None else steps
    start, stop, stride = steps.indices(n_total)
    if stride != 1 or stop <= start:
        raise ValidationError(f"steps must be a non-empty contiguous slice of the profile axis (got {steps})")
    if int(warmup_steps) != warmup_steps or warmup_steps < 0:
        raise ValidationError(f"warmup_steps must be a whole number >= 0 (got {warmup_steps!r})")
    w0 = max(start - int(warmup_steps), 0)
    window = slice(w0, stop)
    dt_h = fleet.profiles.dt_h
    net = site_net_load_kw(fleet, window)
    pv = (fleet.site_profile("pv_ac_kw")[:, window] if "pv_ac_kw" in fleet.profiles
          else np.zeros_like(net))
    if fleet.has("battery") and fleet.der("battery").n > 0:
        params = fleet.der("battery")
        if not isinstance(params, BatteryParams):
            raise ValidationError(
                f"the fleet's 'battery' table must be a BatteryParams table (got {type(params).__name__}); "
                "build it with BatteryParams.from_frame"
            )
        pos = fleet.site_positions("battery")
        rating = (np.asarray(params.p_discharge_max_kw, dtype=np.float64)
                  + np.asarray(params.p_charge_max_kw, dtype=np.float64))
        total = np.bincount(pos, weights=rating, minlength=fleet.n_sites)[pos]
        share = np.divide(rating, total, out=np.full_like(rating, 0.0), where=total > 0)
        sp = self_consumption_setpoints(net[pos] * share[:, None])
        res = Battery(params).simulate(sp, dt_h)
        p_bat_site = fleet.devices_to_sites("battery", res.p_kw)
    else:
        res = BatteryResult(np.zeros((0, net.shape[1])), np.zeros((0, net.shape[1])),
                            np.zeros((0, net.shape[1])), np.zeros(0))
        p_bat_site = np.zeros_like(net)
    k = start - w0
    battery = BatteryResult(res.p_kw[:, k:], res.q_kvar[:, k:], res.e_kwh[:, k:], res.e_max_kwh)
    return SelfConsumptionResult(
        index=fleet.profiles.index[start:stop], dt_h=dt_h, site_p_without_kw=net[:, k:],
        site_p_with_kw=net[:, k:] + p_bat_site[:, k:], pv_ac_kw=pv[:, k:], battery=battery,
    )


def energy_metrics(site_p_kw: ArrayLike, pv_ac_kw: ArrayLike, dt_h: float) -> dict[str, float]:
    """Energy and peak figures of a set of site powers over a horizon.

    Parameters
    ----------
    site_p_kw : array_like, shape (n_sites, n_steps)
        Site power, + = import. [kW]
    pv_ac_kw : array_like, shape (n_sites, n_steps)
        PV AC output per site (>= 0). [kW]
    dt_h : float
        Step length. [h]

    Returns
    -------
    dict
        ``import_kwh`` and ``export_kwh`` (sums over site meters, eq. (5) of seed 000), ``peak_import_kw``
        and ``peak_export_kw`` of the aggregate (export as a positive number), ``pv_kwh``,
        ``self_consumption_ratio`` = 1 - export / PV energy (share of PV energy used behind the meters,
        NaN without PV), ``self_sufficiency`` = 1 - import / consumption.
    """
    p = as_2d("site_p_kw", site_p_kw)
    pv = as_2d("pv_ac_kw", pv_ac_kw, p.shape[0], p.shape[1])
    dt_h = check_dt(dt_h)
    imp, exp = split_import_export(p)
    e_imp = float(imp.sum() * dt_h)
    e_exp = float(exp.sum() * dt_h)
    e_pv = float(pv.sum() * dt_h)
    consumption = float((p + pv).sum() * dt_h)  # energy used behind the meters (incl. battery losses)
    agg = p.sum(axis=0)
    return {
        "import_kwh": e_imp,
        "export_kwh": e_exp,
        "peak_import_kw": float(max(agg.max(initial=0.0), 0.0)),
        "peak_export_kw": float(max(-agg.min(initial=0.0), 0.0)),
        "pv_kwh": e_pv,
        "self_consumption_ratio": 1.0 - e_exp / e_pv if e_pv > 0 else float("nan"),
        "self_sufficiency": 1.0 - e_imp / consumption if consumption > 0 else float("nan"),
    }


def self_consumption_summary(result: SelfConsumptionResult) -> pd.DataFrame:
    """Energy metrics without and with batteries, plus mean battery equivalent full cycles.

    Parameters
    ----------
    result : SelfConsumptionResult
        The simulated day(s).

    Returns
    -------
    pandas.DataFrame
        Index: metric names of :func:`energy_metrics` and ``battery_cycles``; columns ``without_battery``
        and ``with_battery``.
    """
    a = energy_metrics(result.site_p_without_kw, result.pv_ac_kw, result.dt_h)
    b = energy_metrics(result.site_p_with_kw, result.pv_ac_kw, result.dt_h)
    bat = result.battery
    cycles = (float(np.mean(equivalent_full_cycles(bat.p_kw, bat.e_max_kwh, result.dt_h)))
              if bat.p_kw.shape[0] else 0.0)
    a["battery_cycles"] = 0.0
    b["battery_cycles"] = cycles
    return pd.DataFrame({"without_battery": a, "with_battery": b})
