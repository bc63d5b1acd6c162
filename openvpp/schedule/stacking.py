"""Fleet value stacking: the day-ahead plan of a whole fleet by three methods (seed 000 §6.1, seed 001 §5.4).

``exact``
    Every device, decomposed per site: the sites' LPs (:func:`~openvpp.schedule.site.solve_sites`, solved in
    blocks of sites) are coordinated on the coupling constraint of each constraint node - its reverse-flow
    (export) limit, which must hold also when every up reserve is activated - by a **sequential limit split**
    (primal decomposition): the node limit is first split into site export envelopes by the envelope engine
    (``fleet_day_envelopes``, mediated limit, equal shares), then, for some rounds,
    each site that leaves part of its share unused in an interval gives it back and the node's unused headroom
    is split equally among the sites whose envelope binds there, which are re-solved. A site that gives back
    unused headroom keeps its optimum, so the fleet objective never worsens from one round to the next and the
    node limit holds throughout.
``aggregate``
    Aggregate-then-disaggregate: the batteries, PV systems and flexible loads of each CCP become one virtual
    device whose ranges are the Minkowski sums of the devices' intervals (the flexibility sets of
    :mod:`openvpp.flex`: power and energy ranges add, :func:`openvpp.flex.sets.sum_intervals`); one LP per
    CCP against the sum of its sites' envelopes; the result is split to devices pro rata to their ratings
    (energy pro rata to capacity) and checked with :meth:`Plan.check`. EVs are charged as soon as possible.
``fixed-share``
    The seed's fixed allocation of each battery (seed 000 §6.1.2, ``[allocation]`` of
    ``services_chile.toml``): the frequency-control share of its power in every contingency FCAS market, the
    peak-reduction share as an up reserve in the distribution company's block, and the backup share of its
    energy kept as a SoC floor; the energy schedule is optimised around these fixed commitments.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openvpp.errors import ValidationError
from openvpp.fleet import Fleet
from openvpp.schedule.devices import DeviceModels, device_models, site_inflexible_kw
from openvpp.schedule.plan import Plan, PlanCheck
from openvpp.schedule.services import ServiceSpec, catalogue_specs, fcas_specs
from openvpp.schedule.site import SiteProblem, solve_sites
from openvpp.units import KW_PER_MW

__all__ = ["METHODS", "FleetPlanResult", "plan_fleet"]

METHODS = ("exact", "aggregate", "fixed-share")
#: sites per LP block of the exact method [-]
SITES_PER_BLOCK = 40
#: default reverse-flow limit of a constraint node per site it feeds (OpenVPP assumption: half the 5 kW static
#: export limit of seed 001 §5.4, so that the node binds on sunny afternoons) [kW]
NODE_LIMIT_KW_PER_SITE = 2.5
#: network tariff added to the energy price on imports when none is given (OpenVPP assumption of the order of
#: residential ToU network charge, seed 001 §5.4.1) [currency/MWh]
DEFAULT_TARIFF_PER_MWH = 100.0
#: largest fleet a call accepts [-]
MAX_DEVICES = 200_000


@dataclasses.dataclass(frozen=True)
class FleetPlanResult:
    """A fleet plan with its deliverability check and summary.

    Parameters
    ----------
    plan : Plan
        The plan.
    check : PlanCheck
        :meth:`Plan.check` against the fleet.
    revenue : pandas.DataFrame
        Revenue and cost lines (``item``, ``value``). [currency]
    method : str
        ``exact``, ``aggregate`` or ``fixed-share``.
    solve_s : float
        Wall time. [s]
    currency : str
        Currency of the prices.
    """

    plan: Plan
    check: PlanCheck
    revenue: pd.DataFrame
    method: str
    solve_s: float
    currency: str

    @property
    def net(self) -> float:
        """Net value of the day (revenues minus costs). [currency]"""
        return float(self.revenue["value"].iloc[-1])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "method": self.method,
            "currency": self.currency,
            "solve_s": self.solve_s,
            "n_devices": self.plan.n_devices,
            "n_sites": self.plan.n_sites,
            "n_steps": self.plan.n_steps,
            "revenue": {r.item: float(r.value) for r in self.revenue.itertuples()},
            "deliverable": self.check.ok,
            "n_breaches": len(self.check.breaches),
            "check": self.check.summary(),
            "commitment_up_mw_max": {k: float(v) for k, v in self.plan.commitment_up_mw.max().items()},
            "commitment_down_mw_max": {k: float(v) for k, v in self.plan.commitment_down_mw.max().items()},
        }


def _revenue_frame(meta: dict[str, Any]) -> pd.DataFrame:
    rows = [
        ("energy cost", -float(meta.get("energy_cost", 0.0))),
        ("energy revenue", float(meta.get("energy_revenue", 0.0))),
        ("degradation cost", -float(meta.get("degradation_cost", 0.0))),
    ]
    rows += [(f"reserve {k}", float(v)) for k, v in dict(meta.get("reserve_revenue", {})).items()]
    frame = pd.DataFrame(rows, columns=["item", "value"])
    net = pd.DataFrame([("net", float(frame["value"].sum()))], columns=["item", "value"])
    return pd.concat([frame, net], ignore_index=True)


def _lines(problem: SiteProblem, plan: Plan, models: DeviceModels) -> dict[str, Any]:
    """Revenue lines of a plan under a problem's prices. [currency]"""
    to = plan.dt_h / KW_PER_MW
    imp = np.maximum(plan.site_p_kw, 0.0)
    exp_ = np.maximum(-plan.site_p_kw, 0.0)
    thr = np.abs(plan.p_baseline_kw - models.p_fixed_kw)[models.cycles_counted]
    rev = {
        s.key: float(
            np.sum(s.price_per_mw_h * (plan.reserve_up_kw[k] + plan.reserve_down_kw[k]).sum(axis=0)) * to
        )
        for k, s in enumerate(problem.services)
    }
    return {
        "energy_cost": float(np.sum(problem.import_price_per_mwh * imp) * to),
        "energy_revenue": float(np.sum(problem.export_price_per_mwh * exp_) * to),
        "degradation_cost": float(problem.degradation_per_mwh * thr.sum() * to),
        "reserve_revenue": rev,
    }


def plan_fleet(
    fleet: Fleet,
    prices: Any,
    method: str = "exact",
    *,
    node_limit_kw: float | None = None,
    tariff_per_mwh: float = DEFAULT_TARIFF_PER_MWH,
    cycles_per_day: float = 1.0,
    rounds: int = 2,
    time_limit_s: float = 60.0,
) -> FleetPlanResult:
    """Day-ahead plan of a fleet by one of :data:`METHODS` (module docstring; seed 000 §6.1, seed 001 §5.4).

    Parameters
    ----------
    fleet : Fleet
        Fleet with profiles on the plan axis (:func:`openvpp.schedule.inputs.attach_day_profiles`).
    prices : PriceSeries
        Energy and FCAS prices on the plan axis (``prices.align(index)``). [currency/MWh]
    method : {"exact", "aggregate", "fixed-share"}
        Method.
    node_limit_kw : float, optional
        Reverse-flow limit of each constraint node; default :data:`NODE_LIMIT_KW_PER_SITE` per site. [kW]
    tariff_per_mwh : float
        Network tariff added to the import price (feed-in tariff zero, seed 001 §5.4.1). [currency/MWh]
    cycles_per_day : float
        Battery cycle limit (seed 001 §5.4.1: 365 a year). [1/d]
    rounds : int
        Coordination rounds of the exact method. [-]
    time_limit_s : float
        Solver time limit per LP. [s]

    Returns
    -------
    FleetPlanResult
    """
    if method not in METHODS:
        raise ValidationError(f"--method must be one of {list(METHODS)} (got {method!r})")
    if fleet.profiles is None:
        raise ValidationError("the fleet has no profiles on the plan axis; use attach_day_profiles first")
    index = fleet.profiles.index
    n_dev = sum(fleet.count().values())
    if n_dev > MAX_DEVICES:
        raise ValidationError(f"the fleet has {n_dev} devices, above the bound {MAX_DEVICES}; split it")
    aligned = prices.align(index, "plan axis")
    t0 = time.perf_counter()
    base = site_inflexible_kw(fleet, index)
    models = device_models(fleet, index)
    energy = aligned.price_per_mwh["energy"].to_numpy(float)
    services = _services(fleet, aligned, index)
    # envelopes: node limit split into site export envelopes by the envelope engine
    from openvpp.envelopes.daily import fleet_day_envelopes

    site_p0 = base.copy()
    np.add.at(site_p0, models.site_pos, models.p_fixed_kw)
    codes, labels = fleet.codes("constraint_node")
    per_node = np.bincount(codes, minlength=len(labels))
    limit = (
        (NODE_LIMIT_KW_PER_SITE * per_node.astype(float))
        if node_limit_kw is None
        else np.full(len(labels), float(node_limit_kw))
    )
    env = fleet_day_envelopes(
        fleet, site_p0, index, {str(k): float(v) for k, v in zip(labels, limit, strict=True)}
    )
    export_kw = np.asarray(env.site_export_kw, float)
    # the engine's static floor may give a node's sites more than its limit: scale them back onto it
    node_sum = np.zeros((len(labels), len(index)))
    np.add.at(node_sum, codes, export_kw)
    scale = np.where(node_sum > limit[:, None], limit[:, None] / np.maximum(node_sum, 1e-12), 1.0)
    export_kw = export_kw * scale[codes]
    problem = SiteProblem(
        models,
        fleet.sites.site_id,
        base,
        energy + tariff_per_mwh,
        energy,
        np.inf,
        export_kw,
        tuple(services),
        cycles_per_day=cycles_per_day,
    )
    if method == "exact":
        plan = _exact(problem, codes, limit, rounds, time_limit_s)
    elif method == "fixed-share":
        plan = _fixed_share(fleet, problem, time_limit_s)
    else:
        plan = _aggregate(fleet, problem, time_limit_s)
    elapsed = time.perf_counter() - t0
    meta = dict(plan.meta)
    meta.update(_lines(problem, plan, models))
    meta.update(method=method, solve_s=elapsed, currency=aligned.currency)
    plan = dataclasses.replace(plan, meta=meta)
    return FleetPlanResult(plan, plan.check(fleet), _revenue_frame(meta), method, elapsed, aligned.currency)


def _services(fleet: Fleet, prices: Any, index: pd.DatetimeIndex) -> list[ServiceSpec]:
    """Six contingency FCAS markets (seed 001 §5.4.1) plus peak reduction in its block (seed 000 Table 1)."""
    from openvpp.services.catalogue import load_catalogue

    specs = fcas_specs(prices)
    peak = [s for s in catalogue_specs(load_catalogue("chile"), index) if s.key == "peak_reduction"]
    return specs + peak


def _take_sites(
    problem: SiteProblem, sites: NDArray[np.int64], export_kw: NDArray[np.float64]
) -> tuple[SiteProblem, NDArray[np.int64]]:
    """The sub-problem of some sites (their devices) with the given export envelopes."""
    m = problem.models
    rows = np.flatnonzero(np.isin(m.site_pos, sites))
    sub = m.take(rows)
    remap = np.full(problem.site_ids.shape[0], -1)
    remap[sites] = np.arange(sites.size)
    sub = dataclasses.replace(sub, site_pos=remap[sub.site_pos])
    fixed = None if problem.reserve_fixed_kw is None else problem.reserve_fixed_kw[:, rows]
    cap = None if problem.reserve_cap_kw is None else problem.reserve_cap_kw[:, rows]
    return SiteProblem(
        sub,
        problem.site_ids[sites],
        problem.site_base_kw[sites],
        problem.import_price_per_mwh[sites],
        problem.export_price_per_mwh[sites],
        problem.import_limit_kw[sites],
        export_kw[sites],
        problem.services,
        problem.degradation_per_mwh,
        problem.cycles_per_day,
        fixed,
        cap,
    ), rows


def _solve_blocks(
    problem: SiteProblem, sites: NDArray[np.int64], export_kw: NDArray[np.float64], time_limit_s: float
) -> list[tuple[Plan, NDArray[np.int64], NDArray[np.int64]]]:
    out = []
    for k in range(0, sites.size, SITES_PER_BLOCK):
        block = sites[k : k + SITES_PER_BLOCK]
        sub, rows = _take_sites(problem, block, export_kw)
        if sub.models.n == 0:
            continue
        plan, _ = solve_sites(sub, time_limit_s=time_limit_s)
        out.append((plan, block, rows))
    return out


def _merge(
    problem: SiteProblem,
    parts: list[tuple[Plan, NDArray[np.int64], NDArray[np.int64]]],
    export_kw: NDArray[np.float64],
    method: str,
    base_plan: Plan | None = None,
) -> Plan:
    m = problem.models
    n, n_t, _n_s = m.n, len(m.index), problem.site_ids.shape[0]
    n_k = len(problem.services)
    if base_plan is None:
        p = m.p_fixed_kw.copy()
        r_up, r_dn = np.zeros((n_k, n, n_t)), np.zeros((n_k, n, n_t))
        soc = np.full((n, n_t + 1), np.nan)
        s_lo, s_hi = np.full((n, n_t), np.nan), np.full((n, n_t), np.nan)
        site_p = problem.site_base_kw.copy()
        np.add.at(site_p, m.site_pos, m.p_fixed_kw)
        meta: dict[str, Any] = {"status": "optimal", "n_rows": 0, "n_cols": 0}
    else:
        p, r_up, r_dn = (
            base_plan.p_baseline_kw.copy(),
            base_plan.reserve_up_kw.copy(),
            base_plan.reserve_down_kw.copy(),
        )
        soc, s_lo, s_hi = base_plan.soc_baseline.copy(), base_plan.soc_min.copy(), base_plan.soc_max.copy()
        site_p = base_plan.site_p_kw.copy()
        meta = dict(base_plan.meta)
    for plan, sites, rows in parts:
        p[rows] = plan.p_baseline_kw
        r_up[:, rows] = plan.reserve_up_kw
        r_dn[:, rows] = plan.reserve_down_kw
        soc[rows], s_lo[rows], s_hi[rows] = plan.soc_baseline, plan.soc_min, plan.soc_max
        site_p[sites] = plan.site_p_kw
        meta["n_rows"] = meta.get("n_rows", 0) + int(plan.meta.get("n_rows", 0))
        meta["n_cols"] = meta.get("n_cols", 0) + int(plan.meta.get("n_cols", 0))
        if plan.meta.get("status") != "optimal":
            meta["status"] = str(plan.meta.get("status"))
    st = m.storage
    emax = np.where(st, m.e_max_kwh, np.nan)
    for arr in (soc, s_lo, s_hi):  # devices without a plan part keep their fixed state
        miss = st[:, None] & np.isnan(arr)
        if np.any(miss):
            arr[miss] = (np.repeat(m.e0_kwh[:, None], arr.shape[1], axis=1) / emax[:, None])[miss]
    meta["method"] = method
    return Plan(
        index=m.index,
        device_ids=m.device_ids,
        device_class=m.device_class,
        site_of_device=m.site_pos,
        site_ids=problem.site_ids,
        services=tuple(s.key for s in problem.services),
        p_baseline_kw=p,
        reserve_up_kw=r_up,
        reserve_down_kw=r_dn,
        service_duration_h=np.array([s.duration_h for s in problem.services], float),
        soc_baseline=soc,
        soc_min=s_lo,
        soc_max=s_hi,
        e_max_kwh=emax,
        site_p_kw=site_p,
        site_export_limit_kw=export_kw,
        site_import_limit_kw=problem.import_limit_kw,
        p_min_kw=m.p_min_kw,
        p_max_kw=m.p_max_kw,
        meta=meta,
    )


def _exact(
    problem: SiteProblem,
    node_of_site: NDArray[np.int64],
    node_limit_kw: NDArray[np.float64],
    rounds: int,
    time_limit_s: float,
) -> Plan:
    """Per-site LPs coordinated by the sequential limit split of each node's export limit (module doc)."""
    export_kw = problem.export_limit_kw.copy()
    sites = np.unique(problem.models.site_pos)
    plan = _merge(problem, _solve_blocks(problem, sites, export_kw, time_limit_s), export_kw, "exact")
    n_nodes = node_limit_kw.size
    for r in range(int(rounds)):
        used = np.maximum(-(plan.site_p_kw - plan.site_reserve_kw("up")), 0.0)  # export incl. activation
        binding = used >= export_kw - 1e-6
        binding[~np.isin(np.arange(export_kw.shape[0]), sites)] = False
        node_used = np.zeros((n_nodes, export_kw.shape[1]))
        np.add.at(node_used, node_of_site, used)
        spare = np.maximum(node_limit_kw[:, None] - node_used, 0.0)
        n_bind = np.zeros_like(node_used)
        np.add.at(n_bind, node_of_site, binding.astype(float))
        share = np.where(n_bind > 0, spare / np.maximum(n_bind, 1.0), 0.0)
        new = np.where(binding, used + share[node_of_site], np.maximum(used, 0.0))
        # sites that do not bind keep at least what they use (their optimum is unchanged)
        new = np.where(binding, new, np.minimum(export_kw, np.maximum(used, new)))
        grow = np.flatnonzero(((new - export_kw) > 1e-6).any(axis=1))
        if grow.size == 0:
            break
        export_kw = np.where(binding, new, export_kw)
        parts = _solve_blocks(problem, grow, export_kw, time_limit_s)
        plan = _merge(problem, parts, export_kw, "exact", base_plan=plan)
        plan = dataclasses.replace(plan, meta={**plan.meta, "coordination_rounds": r + 1})
    return plan


def _fixed_share(fleet: Fleet, problem: SiteProblem, time_limit_s: float) -> Plan:
    """Seed 000 §6.1.2 allocation fixed per battery: the frequency-control share of the power rating is the
    most each battery offers in each FCAS market, the peak-reduction share the most it offers for peak
    reduction in that block, the energy schedule uses only the unallocated share of the rating, and the backup
    share of the energy is a SoC floor. The optimiser decides how much of each allocation the envelopes let it
    commit."""
    from openvpp.services.catalogue import load_catalogue

    alloc = load_catalogue("chile").allocation
    m = problem.models
    n_t = len(m.index)
    bat = m.device_class == "battery"
    p_rate = np.maximum(m.pd_max_kw, m.pc_max_kw)
    cap = np.zeros((len(problem.services), m.n, n_t))
    for k, s in enumerate(problem.services):
        share = (
            alloc["cpf"]
            if s.key.startswith("fcas_")
            else alloc["peak_reduction"]
            if s.key == "peak_reduction"
            else 0.0
        )
        avail = np.ones(n_t, bool) if s.available is None else s.available
        cap[k, bat] = np.where(avail[None, :], share * p_rate[bat], 0.0)
    free = max(0.0, 1.0 - alloc["cpf"] - alloc["peak_reduction"])
    pc_max, pd_max = m.pc_max_kw.copy(), m.pd_max_kw.copy()
    pc_max[bat] *= free
    pd_max[bat] *= free
    e_lo = m.e_lo_kwh.copy()
    e_lo[bat] = np.maximum(e_lo[bat], alloc["backup"] * m.e_max_kwh[bat, None])
    e_lo[bat, 0] = np.minimum(e_lo[bat, 0], m.e0_kwh[bat])
    models = dataclasses.replace(m, e_lo_kwh=e_lo, pc_max_kw=pc_max, pd_max_kw=pd_max)
    prob = dataclasses.replace(problem, models=models, reserve_cap_kw=cap)
    sites = np.unique(m.site_pos)
    plan = _merge(
        prob,
        _solve_blocks(prob, sites, prob.export_limit_kw, time_limit_s),
        prob.export_limit_kw,
        "fixed-share",
    )
    # the plan is checked against the batteries' full ratings: the allocation is a choice, not the device
    return dataclasses.replace(plan, p_min_kw=m.p_min_kw, p_max_kw=m.p_max_kw)


def _aggregate(fleet: Fleet, problem: SiteProblem, time_limit_s: float) -> Plan:
    """A virtual device per CCP and class, one LP for all CCPs, split pro rata to devices (module doc)."""
    from openvpp.flex.sets import GroupIndex

    m = problem.models
    n_t = len(m.index)
    ccp_of_site, ccp_labels = fleet.codes("ccp")
    n_c = len(ccp_labels)
    cls = m.device_class.astype(str)
    ev = cls == "ev"
    agg_cls = [c for c in ("battery", "pv", "flexload") if np.any(cls == c)]
    # virtual devices: one per (CCP, class)
    v_rows: list[dict[str, Any]] = []
    members: list[tuple[str, NDArray[np.int64], NDArray[np.int64]]] = []
    for c in agg_cls:
        rows = np.flatnonzero(cls == c)
        gi = GroupIndex(ccp_of_site[m.site_pos[rows]], n_c)
        present = np.flatnonzero(gi.counts > 0)

        def gsum(
            x: NDArray[np.float64],
            rows: NDArray[np.int64] = rows,
            gi: Any = gi,
            present: NDArray[np.int64] = present,
        ) -> NDArray[np.float64]:
            return np.asarray(gi.sum(x[rows]))[present]

        st = m.storage[rows]
        emax = np.where(st, m.e_max_kwh[rows], 0.0)
        cap = gsum(np.where(m.storage, np.nan_to_num(m.e_max_kwh), 0.0))
        w = np.where(cap > 0, 1.0, 0.0)

        def wmean(
            x: NDArray[np.float64],
            emax: NDArray[np.float64] = emax,
            cap: NDArray[np.float64] = cap,
            gi: Any = gi,
            present: NDArray[np.int64] = present,
        ) -> NDArray[np.float64]:
            return np.where(cap > 0, np.asarray(gi.sum(x * emax))[present] / np.maximum(cap, 1e-12), 1.0)

        has_e = bool(np.any(st))
        v_rows.append(
            {
                "device_ids": np.array([f"virtual-{c}-{ccp_labels[g]}" for g in present], dtype=object),
                "device_class": np.full(present.size, c, dtype=object),
                "site_pos": present,
                "p_fixed_kw": gsum(m.p_fixed_kw),
                "pc_max_kw": gsum(m.pc_max_kw),
                "pd_max_kw": gsum(m.pd_max_kw),
                "e0_kwh": gsum(np.nan_to_num(m.e0_kwh)) if has_e else np.full(present.size, np.nan),
                "e_lo_kwh": gsum(np.nan_to_num(m.e_lo_kwh, nan=0.0, neginf=0.0))
                if has_e
                else np.full((present.size, n_t + 1), np.nan),
                "e_hi_kwh": gsum(np.nan_to_num(m.e_hi_kwh, nan=0.0, posinf=0.0))
                if has_e
                else np.full((present.size, n_t + 1), np.nan),
                "e_max_kwh": cap if has_e else np.full(present.size, np.nan),
                "eta_charge": wmean(m.eta_charge[rows]),
                "eta_discharge": wmean(m.eta_discharge[rows]),
                "keep_per_step": wmean(m.keep_per_step[rows]),
                "cycles_counted": np.full(present.size, c == "battery"),
            }
        )
        members.append((c, rows, present))
        del w
    if not v_rows:
        raise ValidationError("the fleet has no battery, PV or flexible load to aggregate")
    cat = {k: np.concatenate([v[k] for v in v_rows]) for k in v_rows[0]}
    vmodels = DeviceModels(index=m.index, **cat)
    # CCP-level inputs: inflexible load incl. EVs charged as soon as possible
    problem.site_ids.shape[0]
    ev_p = _ev_asap(m, ev)
    site_base = problem.site_base_kw.copy()
    np.add.at(site_base, m.site_pos[ev], ev_p)
    gs = GroupIndex(ccp_of_site, n_c)
    base_c = np.asarray(gs.sum(site_base))
    exp_c = np.asarray(gs.sum(problem.export_limit_kw))
    imp_c = np.asarray(gs.sum(problem.import_limit_kw))
    first_site = np.array([np.flatnonzero(ccp_of_site == g)[0] for g in range(n_c)])
    vprob = SiteProblem(
        vmodels,
        np.asarray([str(x) for x in ccp_labels], dtype=object),
        base_c,
        problem.import_price_per_mwh[first_site],
        problem.export_price_per_mwh[first_site],
        imp_c,
        exp_c,
        problem.services,
        problem.degradation_per_mwh,
        problem.cycles_per_day,
    )
    vplan, info = solve_sites(vprob, time_limit_s=time_limit_s)
    # disaggregate: power and reserves pro rata to ratings, energy follows each device's own dynamics
    n, n_k = m.n, len(problem.services)
    p = m.p_fixed_kw.copy()
    r_up, r_dn = np.zeros((n_k, n, n_t)), np.zeros((n_k, n, n_t))
    p[ev] = ev_p
    off = 0
    for _c, rows, present in members:
        vrow = np.full(n_c, -1)
        vrow[present] = off + np.arange(present.size)
        g = vrow[ccp_of_site[m.site_pos[rows]]]
        off += present.size
        p[rows] = m.p_fixed_kw[rows] + _track_soc(m, rows, vplan, vmodels, g)
        rate = np.maximum(m.pc_max_kw[rows], m.pd_max_kw[rows])
        tot_r = np.zeros((n_c, n_t))
        np.add.at(tot_r, ccp_of_site[m.site_pos[rows]], rate)
        rshare = np.where(
            tot_r[ccp_of_site[m.site_pos[rows]]] > 0,
            rate / np.maximum(tot_r[ccp_of_site[m.site_pos[rows]]], 1e-12),
            0.0,
        )
        r_up[:, rows] = vplan.reserve_up_kw[:, g] * rshare[None]
        r_dn[:, rows] = vplan.reserve_down_kw[:, g] * rshare[None]
        # each device's reserves within its own power headroom
        for r, room in ((r_up, p[rows] - m.p_min_kw[rows]), (r_dn, m.p_max_kw[rows] - p[rows])):
            tot = r[:, rows].sum(axis=0)
            scale = np.where(tot > room, np.maximum(room, 0.0) / np.maximum(tot, 1e-12), 1.0)
            r[:, rows] *= scale[None]
    # device energy trajectories with their own dynamics
    st = m.storage
    e = np.full((n, n_t + 1), np.nan)
    e[:, 0] = m.e0_kwh
    q = p - m.p_fixed_kw
    flow = np.where(q > 0, m.eta_charge[:, None] * q, q / m.eta_discharge[:, None])
    dt = float((m.index[1] - m.index[0]).total_seconds() / 3600.0) if n_t > 1 else 1.0
    e[:, 1:] = e[:, :1] + np.cumsum(flow * dt, axis=1)
    emax = np.where(st, m.e_max_kwh, np.nan)
    soc = e / emax[:, None]
    site_p = problem.site_base_kw.copy()
    np.add.at(site_p, m.site_pos, p)
    site_p = _respect_site_envelopes(m, problem, p, r_up, site_p)
    dur = np.array([s.duration_h for s in problem.services], float)
    meta = {
        "method": "aggregate",
        "status": info.status,
        "n_rows": info.n_rows,
        "n_cols": info.n_cols,
        "virtual_devices": vmodels.n,
        "ccps": n_c,
    }
    lo = np.where(st[:, None], np.minimum(soc[:, :-1], soc[:, 1:]), np.nan)
    hi = np.where(st[:, None], np.maximum(soc[:, :-1], soc[:, 1:]), np.nan)
    return Plan(
        index=m.index,
        device_ids=m.device_ids,
        device_class=m.device_class,
        site_of_device=m.site_pos,
        site_ids=problem.site_ids,
        services=tuple(s.key for s in problem.services),
        p_baseline_kw=p,
        reserve_up_kw=r_up,
        reserve_down_kw=r_dn,
        service_duration_h=dur,
        soc_baseline=np.where(st[:, None], soc, np.nan),
        soc_min=lo,
        soc_max=hi,
        e_max_kwh=emax,
        site_p_kw=site_p,
        site_export_limit_kw=problem.export_limit_kw,
        site_import_limit_kw=problem.import_limit_kw,
        p_min_kw=m.p_min_kw,
        p_max_kw=m.p_max_kw,
        meta=meta,
    )


def _respect_site_envelopes(
    m: DeviceModels,
    problem: SiteProblem,
    p: NDArray[np.float64],
    r_up: NDArray[np.float64],
    site_p: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Pooled CCP envelopes may hide a site above its own: curtail its PV, then scale its up reserves down.
    Updates ``p`` and ``r_up`` in place and returns the new site power. [kW]"""
    lim = problem.export_limit_kw
    pv = np.flatnonzero(m.device_class == "pv")
    over = np.maximum(-site_p - lim, 0.0)
    if pv.size and np.any(over > 0):
        room = np.maximum(m.p_max_kw[pv] - p[pv], 0.0)  # curtailment still possible [kW]
        tot = np.zeros_like(site_p)
        np.add.at(tot, m.site_pos[pv], room)
        frac = np.where(
            tot[m.site_pos[pv]] > 0,
            np.minimum(over[m.site_pos[pv]] / np.maximum(tot[m.site_pos[pv]], 1e-12), 1.0),
            0.0,
        )
        cut = frac * room
        p[pv] += cut
        np.add.at(site_p, m.site_pos[pv], cut)
    up_site = np.zeros_like(site_p)
    np.add.at(up_site, m.site_pos, r_up.sum(axis=0))
    room = np.maximum(site_p + lim, 0.0)
    scale = np.where(up_site > room, room / np.maximum(up_site, 1e-12), 1.0)
    r_up *= scale[m.site_pos][None]
    return site_p


def _track_soc(
    m: DeviceModels, rows: NDArray[np.int64], vplan: Plan, vmodels: DeviceModels, g: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Controllable power of devices that follow their virtual device: storage tracks the virtual device's
    position in its energy band (the initial offset fades out over the first quarter of the horizon), other
    devices take the virtual power pro rata to their range. [kW]"""
    n_t = len(m.index)
    dt = float((m.index[1] - m.index[0]).total_seconds() / 3600.0) if n_t > 1 else 1.0
    q_v = vplan.p_baseline_kw[g] - vmodels.p_fixed_kw[g]
    if not np.all(m.storage[rows]):
        span = np.where(q_v > 0, m.pc_max_kw[rows], m.pd_max_kw[rows])
        v_span = np.where(q_v > 0, vmodels.pc_max_kw[g], vmodels.pd_max_kw[g])
        return np.where(v_span > 0, q_v * span / np.maximum(v_span, 1e-12), 0.0)
    lo_v, hi_v = vmodels.e_lo_kwh[g], vmodels.e_hi_kwh[g]
    e_v = vplan.soc_baseline[g] * vmodels.e_max_kwh[g, None]
    x_v = np.clip((e_v - lo_v) / np.maximum(hi_v - lo_v, 1e-12), 0.0, 1.0)
    lo, hi = m.e_lo_kwh[rows], m.e_hi_kwh[rows]
    x0 = (m.e0_kwh[rows] - lo[:, 0]) / np.maximum(hi[:, 0] - lo[:, 0], 1e-12)
    fade = np.clip(1.0 - np.arange(n_t + 1) / max(1.0, n_t / 4.0), 0.0, 1.0)
    x = np.clip(x_v + (x0 - x_v[:, 0])[:, None] * fade[None, :], 0.0, 1.0)
    e = lo + (hi - lo) * x
    de = np.diff(e, axis=1)
    eta_c, eta_d = m.eta_charge[rows, None], m.eta_discharge[rows, None]
    q = np.where(de > 0, de / (eta_c * dt), de * eta_d / dt)
    return np.clip(q, -m.pd_max_kw[rows], m.pc_max_kw[rows])


def _ev_asap(m: DeviceModels, ev: NDArray[np.bool_]) -> NDArray[np.float64]:
    """EVs charged at full rate from arrival until their departure target is stored. [kW]"""
    rows = np.flatnonzero(ev)
    if rows.size == 0:
        return np.zeros((0, len(m.index)))
    dt = float((m.index[1] - m.index[0]).total_seconds() / 3600.0) if len(m.index) > 1 else 1.0
    target = np.nanmax(np.where(np.isfinite(m.e_lo_kwh[rows]), m.e_lo_kwh[rows], -np.inf), axis=1)
    need = np.maximum(target - m.e0_kwh[rows], 0.0)
    step_e = m.pc_max_kw[rows] * m.eta_charge[rows, None] * dt
    before = np.cumsum(step_e, axis=1) - step_e
    left = np.clip(need[:, None] - before, 0.0, None)
    return np.minimum(m.pc_max_kw[rows], left / (m.eta_charge[rows, None] * dt))


#: half a year: SimBench's northern-hemisphere profiles shifted onto southern (SA1) market days [d]
SOUTHERN_SEASON_SHIFT_DAYS = 182


def schedule_day(
    fleet_spec: str,
    day: str,
    method: str = "exact",
    *,
    prices_path: str | None = None,
    step_min: float = 30.0,
    seed: int = 0,
    node_limit_kw: float | None = None,
) -> FleetPlanResult:
    """The day-ahead plan of ``openvpp schedule``: fleet from a spec, its noon-to-noon day, real prices.

    Parameters
    ----------
    fleet_spec : str
        ``simbench:<grid code>`` or ``synthetic:<n sites>`` (:func:`openvpp.flex.fleet.build_fleet`).
    day : str
        Market day ``YYYY-MM-DD``; the plan runs from its 12:00 to the next 12:00 (market time).
    method : {"exact", "aggregate", "fixed-share"}
        Method (module docstring).
    prices_path : str, optional
        Price CSV (AEMO or plain layout, :func:`openvpp.services.prices.read_price_csv`); default the bundled
        SA1 2019-20 year.
    step_min : float
        Plan step (a multiple or divisor of the price step). [min]
    seed : int
        Fleet and profile draw. [-]
    node_limit_kw : float, optional
        Reverse-flow limit per constraint node (default per site, :data:`NODE_LIMIT_KW_PER_SITE`). [kW]

    Returns
    -------
    FleetPlanResult
    """
    from openvpp.flex.fleet import build_fleet
    from openvpp.schedule.inputs import attach_day_profiles, day_index
    from openvpp.services.prices import load_sa1_prices, read_price_csv

    if method not in METHODS:
        raise ValidationError(f"--method must be one of {list(METHODS)} (got {method!r})")
    prices = load_sa1_prices() if prices_path is None else read_price_csv(prices_path)
    index = day_index(day, step_min, tz=str(prices.index.tz))
    if index[0] < prices.index[0] or index[-1] >= prices.index[-1] + (prices.index[1] - prices.index[0]):
        raise ValidationError(
            f"--day {day} (plan {index[0]} .. {index[-1]}) is outside the prices ({prices.index[0]} .. "
            f"{prices.index[-1]}); pick a day inside them, the plan runs noon to noon"
        )
    if step_min != prices.dt_h * 60:
        prices = prices.resample(step_min)
    fleet = attach_day_profiles(
        build_fleet(fleet_spec, seed), index, season_shift_days=SOUTHERN_SEASON_SHIFT_DAYS, seed=seed
    )
    return plan_fleet(fleet, prices, method, node_limit_kw=node_limit_kw)
