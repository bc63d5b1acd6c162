"""Long horizons (a site-year) as a chain of windows of the per-site LP (seed 001 §5.4.1).

Each window is solved by :func:`openvpp.schedule.site.solve_sites` with some look-ahead, its plan kept for the
window only, and the storage energy at its end starts the next window.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import NDArray

from openvpp.errors import ValidationError
from openvpp.schedule.devices import DeviceModels
from openvpp.schedule.plan import Plan
from openvpp.schedule.site import SiteProblem, SolveInfo, solve_sites
from openvpp.units import KW_PER_MW

__all__ = ["solve_long_horizon"]


# ---------------------------------------------------------------------------------------------- long horizons
def _slice_problem(
    problem: SiteProblem, sl: slice, e0_kwh: NDArray[np.float64] | None, cycles_per_day: float
) -> SiteProblem:
    """The problem restricted to the intervals ``sl`` with the storage starting at ``e0_kwh``."""
    m = problem.models
    fields = {f.name: getattr(m, f.name) for f in dataclasses.fields(m)}
    for name in ("p_fixed_kw", "pc_max_kw", "pd_max_kw"):
        fields[name] = fields[name][:, sl]
    stop = sl.stop + 1
    fields["e_lo_kwh"] = m.e_lo_kwh[:, sl.start : stop]
    fields["e_hi_kwh"] = m.e_hi_kwh[:, sl.start : stop]
    fields["index"] = m.index[sl]
    if e0_kwh is not None:
        fields["e0_kwh"] = e0_kwh
    models = DeviceModels(**fields)
    services = tuple(
        dataclasses.replace(
            s, price_per_mw_h=s.price_per_mw_h[sl], available=None if s.available is None else s.available[sl]
        )
        for s in problem.services
    )
    fixed = None if problem.reserve_fixed_kw is None else problem.reserve_fixed_kw[:, :, sl]
    cap = None if problem.reserve_cap_kw is None else problem.reserve_cap_kw[:, :, sl]
    return SiteProblem(
        models,
        problem.site_ids,
        problem.site_base_kw[:, sl],
        problem.import_price_per_mwh[:, sl],
        problem.export_price_per_mwh[:, sl],
        problem.import_limit_kw[:, sl],
        problem.export_limit_kw[:, sl],
        services,
        problem.degradation_per_mwh,
        cycles_per_day,
        fixed,
        cap,
    )


def solve_long_horizon(
    problem: SiteProblem,
    *,
    window_steps: int,
    lookahead_steps: int = 0,
    time_limit_s: float = 60.0,
    threads: int = 1,
) -> tuple[Plan, SolveInfo]:
    """Solve a long horizon (e.g. a site-year) as a chain of windows of the same LP (seed 001 §5.4.1).

    Each window of ``window_steps`` intervals is solved with ``lookahead_steps`` more intervals of perfect
    foresight, its plan kept for the window only, and the storage energy at the window's end starts the next.
    The cycle limit is applied pro rata per window (``cycles_per_day`` x the window's days over the window
    plus look-ahead), so the chain never exceeds the horizon's limit. The chain is a restriction of the
    horizon-long LP: its objective is an upper bound of the horizon optimum (the cost is at least as high).

    Parameters
    ----------
    problem : SiteProblem
        The horizon-long problem.
    window_steps : int
        Intervals kept per window (> 0). [-]
    lookahead_steps : int
        Extra intervals solved but not kept (>= 0). [-]
    time_limit_s : float
        Time limit per window. [s]
    threads : int
        Solver threads. [-]

    Returns
    -------
    (Plan, SolveInfo)
        The chained plan (``meta`` sums the revenue lines) and the summed solve statistics.
    """
    n_t = len(problem.models.index)
    if int(window_steps) != window_steps or window_steps <= 0 or lookahead_steps < 0:
        raise ValidationError(
            f"window_steps must be > 0 and lookahead_steps >= 0 (got {window_steps}, {lookahead_steps})"
        )
    if window_steps >= n_t:
        return solve_sites(problem, time_limit_s=time_limit_s, threads=threads)
    plans: list[Plan] = []
    infos: list[SolveInfo] = []
    e0 = None
    kept = 0
    while kept < n_t:
        stop = min(kept + window_steps + lookahead_steps, n_t)
        keep = min(window_steps, n_t - kept)
        cyc = problem.cycles_per_day * keep / (stop - kept)
        sub = _slice_problem(problem, slice(kept, stop), e0, cyc)
        plan, info = solve_sites(sub, time_limit_s=time_limit_s, threads=threads)
        plans.append(_head(plan, keep))
        infos.append(info)
        soc = plan.soc_baseline[:, keep]
        e0 = np.where(np.isnan(problem.models.e0_kwh), np.nan, soc * np.nan_to_num(plan.e_max_kwh, nan=1.0))
        kept += keep
    return _concat(problem, plans, infos)


def _head(plan: Plan, keep: int) -> Plan:
    """The first ``keep`` intervals of a plan (revenue lines recomputed on them)."""
    fields = {f.name: getattr(plan, f.name) for f in dataclasses.fields(plan)}
    out = dict(fields)
    out["index"] = plan.index[:keep]
    for name in (
        "p_baseline_kw",
        "soc_min",
        "soc_max",
        "site_p_kw",
        "site_export_limit_kw",
        "site_import_limit_kw",
        "p_min_kw",
        "p_max_kw",
    ):
        out[name] = fields[name][..., :keep]
    out["reserve_up_kw"] = plan.reserve_up_kw[..., :keep]
    out["reserve_down_kw"] = plan.reserve_down_kw[..., :keep]
    out["soc_baseline"] = plan.soc_baseline[:, : keep + 1]
    return Plan(**out)


def _concat(problem: SiteProblem, plans: list[Plan], infos: list[SolveInfo]) -> tuple[Plan, SolveInfo]:
    first = plans[0]
    fields = {f.name: getattr(first, f.name) for f in dataclasses.fields(first)}
    fields["index"] = problem.models.index
    for name in (
        "p_baseline_kw",
        "soc_min",
        "soc_max",
        "site_p_kw",
        "site_export_limit_kw",
        "site_import_limit_kw",
        "p_min_kw",
        "p_max_kw",
        "reserve_up_kw",
        "reserve_down_kw",
    ):
        fields[name] = np.concatenate([getattr(p, name) for p in plans], axis=-1)
    fields["soc_baseline"] = np.concatenate(
        [plans[0].soc_baseline[:, :1]] + [p.soc_baseline[:, 1:] for p in plans], axis=1
    )
    meta = dict(first.meta)
    meta["windows"] = len(plans)
    for key in ("solve_s", "n_rows", "n_cols"):
        meta[key] = float(sum(float(getattr(i, key)) for i in infos))
    statuses = sorted({i.status for i in infos})
    meta["status"] = statuses[0] if len(statuses) == 1 else ",".join(statuses)
    fields["meta"] = meta
    plan = Plan(**fields)
    dt = plan.dt_h
    to = dt / KW_PER_MW
    imp = np.maximum(plan.site_p_kw, 0.0)
    exp_ = np.maximum(-plan.site_p_kw, 0.0)
    m = problem.models
    q = plan.p_baseline_kw - m.p_fixed_kw
    thr = np.abs(q)[m.cycles_counted]
    rev = {
        s.key: float(
            np.sum(s.price_per_mw_h * (plan.reserve_up_kw[k] + plan.reserve_down_kw[k]).sum(axis=0)) * to
        )
        for k, s in enumerate(problem.services)
    }
    lines: dict[str, Any] = {
        "energy_cost": float(np.sum(problem.import_price_per_mwh * imp) * to),
        "energy_revenue": float(np.sum(problem.export_price_per_mwh * exp_) * to),
        "degradation_cost": float(problem.degradation_per_mwh * thr.sum() * to),
        "reserve_revenue": rev,
    }
    cost = lines["energy_cost"] - lines["energy_revenue"] + lines["degradation_cost"]
    objective = float(cost) - sum(rev.values())
    meta.update(lines)
    meta["objective"] = objective
    plan = dataclasses.replace(plan, meta=meta)
    info = SolveInfo(
        meta["status"],
        objective,
        float(meta["solve_s"]),
        int(meta["n_rows"]),
        int(meta["n_cols"]),
        any(i.milp for i in infos),
    )
    return plan, info
