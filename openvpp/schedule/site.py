"""The exact per-site optimiser: one LP (MILP only where a device needs it) per site or block of sites.

Formulation (docs/scheduling.md has it in full; seed 001 §5.4.1 for the per-site arbitrage + FCAS model,
seed 000 §7.1 eqs (9)-(10) and (23)-(24) for the storage and the objective). Load convention throughout.

Variables per device ``d`` and interval ``t``: charging / discharging parts ``pc, pd >= 0`` of the power
``p = p_fixed + pc - pd`` (:mod:`openvpp.schedule.devices`), the energy ``e`` at every interval boundary for
devices with storage, the reserve ``r[k, d, t] >= 0`` of each eligible service ``k``; per site the import and
export ``imp, exp >= 0`` with ``imp - exp = base + sum_d p``.

Constraints
    * storage dynamics ``e[t+1] = keep e[t] + dt (eta_c pc - pd / eta_d)`` in the band ``[e_lo, e_hi]``
      (EV: target at departure);
    * power headroom: ``p - sum_up r >= p_min`` and ``p + sum_down r <= p_max``;
    * **energy headroom on the lowest SoC the interval can reach**: with the distinct durations
      ``D_1 < ... < D_J`` of the up services, for both interval boundaries ``b in {t, t+1}`` and each ``j``::

          e_b + D_j (eta_c pc_b - pd_b / eta_d) - sum_k r_k min(D_j, D_k) / eta_d >= max(e_lo[t], e_lo[t+1])

      (``pc_b, pd_b``: the baseline the activation runs under, the interval's own from its start, the next
      interval's from its end)

      (and the mirror image with ``<= min(e_hi[t], e_hi[t+1])`` for down services). An activation can start
      at any instant of the interval, so the start SoC is the worse of the two boundaries; the published
      end-of-interval form (``e[t+1] - r D / eta_d >= e_lo``) over-promises when the interval charges from a
      low SoC. The bound is sufficient for the exact piecewise dynamics checked by :meth:`Plan.check`
      (the efficiency curve is concave, so ``f(q - r) >= f(q) - r / eta_d``), and exact at the breakpoints
      ``x = D_j`` where the worst case of the convex lower bound lies. For devices with self-discharge the
      baseline term of the helping sign is dropped and ``e_b`` is scaled by ``1 - lambda D_j``.
    * site envelope: ``-export_limit <= imp - exp - sum_up r`` and ``imp - exp + sum_down r <= import_limit``;
    * a cycle limit ``sum_t pd dt <= cycles_per_day x days x e_max`` for batteries.

Objective (minimised): ``sum_t dt [pi_imp imp - pi_exp exp + c_deg (pc + pd) - sum_k rho_k r_k]``.

Where the LP charges and discharges one device in the same interval (only profitable at negative prices),
the problem is re-solved with a binary per interval for those devices (MILP only where needed).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from openvpp.errors import InfeasibleError, OpenVPPError, ValidationError
from openvpp.schedule.devices import DeviceModels
from openvpp.schedule.plan import Plan
from openvpp.schedule.services import ServiceSpec
from openvpp.units import KW_PER_MW

__all__ = ["DEFAULT_DEGRADATION_PER_MWH", "SiteProblem", "SolveInfo", "solve_sites"]

#: default degradation cost of battery throughput (a small positive value so that idle beats cycling at
#: zero prices; replace it with the owner's warranty cost) [currency/MWh]
DEFAULT_DEGRADATION_PER_MWH = 5.0
#: largest LP a call accepts (columns); bounded before any allocation [-]
MAX_COLUMNS = 5_000_000
_INF = highspy.kHighsInf
_CMPL_TOL = 1e-6


@dataclasses.dataclass(frozen=True)
class SiteProblem:
    """Inputs of the per-site optimiser for one or more sites on one time axis.

    Parameters
    ----------
    models : DeviceModels
        Schedulable devices (their ``site_pos`` index rows of ``site_ids``).
    site_ids : array_like of str, shape (n_sites,)
        Sites.
    site_base_kw : array_like, shape (n_sites, n_steps)
        Inflexible consumption (load convention). [kW]
    import_price_per_mwh, export_price_per_mwh : array_like, shape (n_steps,) or (n_sites, n_steps)
        Price paid per imported / earned per exported energy; import >= export in every interval.
        [currency/MWh]
    import_limit_kw, export_limit_kw : array_like, shape (n_sites, n_steps) or scalar
        Site envelope, >= 0 (inf: none). [kW]
    services : tuple of ServiceSpec
        Reserve products.
    degradation_per_mwh : float
        Cost of battery throughput (charge plus discharge). [currency/MWh]
    cycles_per_day : float
        Battery cycle limit (equivalent full discharges per day; seed 001 §5.4.1: 365 a year). [1/d]
    reserve_fixed_kw : array_like, shape (n_services, n_devices, n_steps), optional
        Reserve imposed per device (NaN: free for the optimiser). [kW]
    reserve_cap_kw : array_like, shape (n_services, n_devices, n_steps), optional
        Largest reserve per device (e.g. a fixed capacity allocation). [kW]
    """

    models: DeviceModels
    site_ids: Any
    site_base_kw: Any
    import_price_per_mwh: Any
    export_price_per_mwh: Any
    import_limit_kw: Any
    export_limit_kw: Any
    services: tuple[ServiceSpec, ...] = ()
    degradation_per_mwh: float = DEFAULT_DEGRADATION_PER_MWH
    cycles_per_day: float = np.inf
    reserve_fixed_kw: NDArray[np.float64] | None = None
    reserve_cap_kw: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        m = self.models
        n_t = len(m.index)
        sites = np.asarray(self.site_ids, dtype=object).astype(str)
        n_s = sites.shape[0]
        object.__setattr__(self, "site_ids", sites)
        if m.n and (m.site_pos.min() < 0 or m.site_pos.max() >= n_s):
            raise ValidationError("models.site_pos must index rows of site_ids")
        base = _grid("site_base_kw", self.site_base_kw, n_s, n_t)
        object.__setattr__(self, "site_base_kw", base)
        for name in ("import_price_per_mwh", "export_price_per_mwh"):
            object.__setattr__(self, name, _grid(name, getattr(self, name), n_s, n_t))
        bad = self.export_price_per_mwh > self.import_price_per_mwh + 1e-9
        if np.any(bad):
            s, t = np.argwhere(bad)[0]
            raise ValidationError(
                f"export price ({self.export_price_per_mwh[s, t]:.4g}) exceeds import price "
                f"({self.import_price_per_mwh[s, t]:.4g}) at site {sites[s]!r}, interval {m.index[t]}; "
                "a site would import and export at once - add the network tariff to the import price"
            )
        for name in ("import_limit_kw", "export_limit_kw"):
            arr = _grid(name, getattr(self, name), n_s, n_t, allow_inf=True)
            if np.any(arr < 0):
                s, t = np.argwhere(arr < 0)[0]
                raise ValidationError(
                    f"{name} must be >= 0 kW (got {arr[s, t]:g} at site {sites[s]!r}, "
                    f"interval {m.index[t]}); the direction is in the name"
                )
            object.__setattr__(self, name, arr)
        services = tuple(self.services)
        keys = [s.key for s in services]
        if len(set(keys)) != len(keys):
            raise ValidationError(f"services must have unique keys (got {keys})")
        for s in services:
            if s.n_steps != n_t:
                raise ValidationError(
                    f"service {s.key!r} prices have {s.n_steps} intervals but the plan has {n_t}; align the "
                    "price series to the plan axis (PriceSeries.align)"
                )
        object.__setattr__(self, "services", services)
        if not np.isfinite(self.degradation_per_mwh) or self.degradation_per_mwh < 0:
            raise ValidationError(f"degradation_per_mwh must be >= 0 (got {self.degradation_per_mwh!r})")
        if not (self.cycles_per_day > 0):
            raise ValidationError(f"cycles_per_day must be > 0 (got {self.cycles_per_day!r})")
        if self.reserve_fixed_kw is not None:
            fx = np.asarray(self.reserve_fixed_kw, dtype=float)
            if fx.shape != (len(services), m.n, n_t):
                raise ValidationError(f"reserve_fixed_kw must have shape {(len(services), m.n, n_t)}")
            if np.any(fx < 0):
                raise ValidationError("reserve_fixed_kw must be >= 0 kW (NaN where free)")
            object.__setattr__(self, "reserve_fixed_kw", fx)
        if self.reserve_cap_kw is not None:
            cap = np.asarray(self.reserve_cap_kw, dtype=float)
            if cap.shape != (len(services), m.n, n_t) or np.any(np.isnan(cap)) or np.any(cap < 0):
                raise ValidationError(
                    f"reserve_cap_kw must be >= 0 kW with shape {(len(services), m.n, n_t)}"
                )
            object.__setattr__(self, "reserve_cap_kw", cap)


@dataclasses.dataclass(frozen=True)
class SolveInfo:
    """How a solve went.

    Parameters
    ----------
    status : str
        ``optimal``, ``time_limit`` (best plan found), ``fallback`` (rule-based plan) .
    objective : float
        Cost minimised (negative = profit). [currency]
    solve_s : float
        Wall time of build plus solve. [s]
    n_rows, n_cols : int
        LP size. [-]
    milp : bool
        Whether binaries were needed.
    """

    status: str
    objective: float
    solve_s: float
    n_rows: int
    n_cols: int
    milp: bool


def _grid(name: str, value: ArrayLike, n_s: int, n_t: int, allow_inf: bool = False) -> NDArray[np.float64]:
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full((n_s, n_t), float(arr))
    elif arr.ndim == 1 and arr.shape[0] == n_t:
        arr = np.broadcast_to(arr, (n_s, n_t)).copy()
    if arr.shape != (n_s, n_t):
        raise ValidationError(f"{name} must have shape ({n_s}, {n_t}) or ({n_t},) (got {arr.shape})")
    bad = np.isnan(arr) if allow_inf else ~np.isfinite(arr)
    if np.any(bad):
        s, t = np.argwhere(bad)[0]
        raise ValidationError(
            f"{name} has a missing value (NaN{'' if allow_inf else '/inf'}) at row {s}, "
            f"interval {t}; fill the gap or drop the interval"
        )
    return arr


class _Builder:
    """Sparse triplets and row metadata of one LP, added in vectorised blocks."""

    def __init__(self) -> None:
        self.rows: list[NDArray] = []
        self.cols: list[NDArray] = []
        self.vals: list[NDArray] = []
        self.lo: list[NDArray] = []
        self.hi: list[NDArray] = []
        self.kind: list[str] = []
        self.kind_code: list[NDArray] = []
        self.obj_idx: list[NDArray] = []
        self.step: list[NDArray] = []
        self.n_rows = 0

    def block(
        self, kind: str, n: int, lo: ArrayLike, hi: ArrayLike, who: ArrayLike, step: ArrayLike
    ) -> NDArray[np.int64]:
        """Reserve ``n`` rows; returns their numbers."""
        r = np.arange(self.n_rows, self.n_rows + n)
        self.n_rows += n
        self.lo.append(np.broadcast_to(np.asarray(lo, float), (n,)))
        self.hi.append(np.broadcast_to(np.asarray(hi, float), (n,)))
        self.kind_code.append(np.full(n, len(self.kind)))
        self.kind.append(kind)
        self.obj_idx.append(np.broadcast_to(np.asarray(who), (n,)))
        self.step.append(np.broadcast_to(np.asarray(step), (n,)))
        return r

    def add(self, rows: ArrayLike, cols: ArrayLike, vals: ArrayLike) -> None:
        rows_a, cols_a = np.broadcast_arrays(np.asarray(rows), np.asarray(cols))
        self.rows.append(rows_a.ravel())
        self.cols.append(cols_a.ravel())
        self.vals.append(np.broadcast_to(np.asarray(vals, float), rows_a.shape).ravel())

    def matrix(self, n_cols: int) -> sp.csc_matrix:
        rows = np.concatenate(self.rows) if self.rows else np.zeros(0, np.int64)
        cols = np.concatenate(self.cols) if self.cols else np.zeros(0, np.int64)
        vals = np.concatenate(self.vals) if self.vals else np.zeros(0)
        keep = vals != 0.0
        return sp.csc_matrix((vals[keep], (rows[keep], cols[keep])), shape=(self.n_rows, n_cols))


def _bounds_inf(a: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.where(np.isposinf(a), _INF, np.where(np.isneginf(a), -_INF, a))


def solve_sites(
    problem: SiteProblem, *, time_limit_s: float = 60.0, mip_gap: float = 1e-4, threads: int = 1
) -> tuple[Plan, SolveInfo]:
    """Solve the per-site problem exactly and return the :class:`Plan` (module docstring; seed 001 §5.4.1).

    Parameters
    ----------
    problem : SiteProblem
        Devices, site loads, prices, envelopes, services.
    time_limit_s : float
        Solver time limit; on expiry the best plan found is returned, or a rule-based fallback plan (batteries
        idle, EVs charged as soon as possible, PV curtailed to the envelope, no reserves). [s]
    mip_gap : float
        Relative optimality gap of the MILP re-solve. [-]
    threads : int
        Solver threads. [-]

    Returns
    -------
    (Plan, SolveInfo)

    Raises
    ------
    InfeasibleError
        Naming the binding constraint, the device or site and the interval.
    """
    t0 = time.perf_counter()
    lp = _build(problem)
    if lp["n_cols"] > MAX_COLUMNS:
        raise ValidationError(
            f"the problem has {lp['n_cols']} variables, above the bound {MAX_COLUMNS}; "
            "split the fleet into sites or shorten the horizon"
        )
    x, status, obj = _run(lp, time_limit_s, mip_gap, threads, integrality=None)
    milp = False
    if status == "infeasible":
        raise InfeasibleError(_diagnose(lp, problem))
    if x is not None:
        flagged = np.zeros((problem.models.n, len(problem.models.index)), bool)
        for _ in range(5):  # binaries only on the (device, interval) pairs that need them
            pc, pdis = lp["pc_of"](x), lp["pd_of"](x)
            both = np.minimum(pc, pdis) > _CMPL_TOL * np.maximum(1.0, np.maximum(pc, pdis))
            if not np.any(both & ~flagged):
                break
            flagged |= both
            x_new, status, obj = _solve_milp(lp, problem, flagged, time_limit_s, mip_gap, threads)
            milp = True
            if x_new is None:
                x = None
                break
            x = x_new
    if x is None:
        plan = _fallback_plan(problem, lp, f"solver stopped ({status}) without a plan")
        info = SolveInfo("fallback", float("nan"), time.perf_counter() - t0, lp["n_rows"], lp["n_cols"], milp)
        return plan, info
    elapsed = time.perf_counter() - t0
    info = SolveInfo(status, obj, elapsed, lp["n_rows"], lp["n_cols"], milp)
    return _to_plan(problem, lp, x, info), info


# ---------------------------------------------------------------------------------------------- build
def _build(problem: SiteProblem) -> dict[str, Any]:
    m = problem.models
    n, n_t = m.n, len(m.index)
    dt = float((m.index[1] - m.index[0]).total_seconds() / 3600.0) if n_t > 1 else 1.0
    services = problem.services
    n_k = len(services)
    n_s = problem.site_ids.shape[0]
    st = m.storage
    st_rows = np.flatnonzero(st)
    n_e = st_rows.size
    e_pos = np.full(n, -1)
    e_pos[st_rows] = np.arange(n_e)
    # eligible (service, device) pairs
    cls = m.device_class.astype(str)
    pair_k, pair_d = [], []
    for k, s in enumerate(services):
        d = np.flatnonzero(np.isin(cls, s.der_classes))
        pair_k.append(np.full(d.size, k))
        pair_d.append(d)
    pk = np.concatenate(pair_k) if pair_k else np.zeros(0, np.int64)
    pdv = np.concatenate(pair_d) if pair_d else np.zeros(0, np.int64)
    n_m = pk.size
    up = np.array([s.direction == "up" for s in services], bool)
    dur = np.array([s.duration_h for s in services], float)
    # column layout
    o_pc, o_pd = 0, n * n_t
    o_e = 2 * n * n_t
    o_r = o_e + n_e * (n_t + 1)
    o_imp = o_r + n_m * n_t
    o_exp = o_imp + n_s * n_t
    n_cols = o_exp + n_s * n_t
    tt = np.arange(n_t)
    c_pc = o_pc + np.arange(n)[:, None] * n_t + tt  # (n, T)
    c_pd = o_pd + np.arange(n)[:, None] * n_t + tt
    c_e = o_e + np.arange(n_e)[:, None] * (n_t + 1) + np.arange(n_t + 1)  # (n_e, T+1)
    c_r = o_r + np.arange(n_m)[:, None] * n_t + tt  # (n_m, T)
    c_imp = o_imp + np.arange(n_s)[:, None] * n_t + tt
    c_exp = o_exp + np.arange(n_s)[:, None] * n_t + tt
    # bounds
    lb = np.zeros(n_cols)
    ub = np.full(n_cols, _INF)
    ub[c_pc] = m.pc_max_kw
    ub[c_pd] = m.pd_max_kw
    if n_e:
        elo = _bounds_inf(m.e_lo_kwh[st_rows])
        ehi = _bounds_inf(m.e_hi_kwh[st_rows])
        elo[:, 0] = ehi[:, 0] = m.e0_kwh[st_rows]
        lb[c_e] = elo
        ub[c_e] = ehi
    avail = np.array([s.available for s in services]) if n_k else np.zeros((0, n_t), bool)
    if n_m:
        r_ub = np.where(avail[pk], _INF, 0.0)
        r_lb = np.zeros((n_m, n_t))
        if problem.reserve_fixed_kw is not None:
            fx = problem.reserve_fixed_kw[pk, pdv]
            has = ~np.isnan(fx)
            r_ub = np.where(has, fx, r_ub)
            r_lb = np.where(has, fx, r_lb)
        if problem.reserve_cap_kw is not None:
            r_ub = np.minimum(r_ub, problem.reserve_cap_kw[pk, pdv])
        lb[c_r] = r_lb
        ub[c_r] = r_ub
    ub[c_imp] = _bounds_inf(problem.import_limit_kw)
    ub[c_exp] = _bounds_inf(problem.export_limit_kw)
    # objective [currency]
    to_kwh = dt / KW_PER_MW
    cost = np.zeros(n_cols)
    cost[c_imp] = problem.import_price_per_mwh * to_kwh
    cost[c_exp] = -problem.export_price_per_mwh * to_kwh
    deg = problem.degradation_per_mwh * to_kwh * m.cycles_counted
    cost[c_pc] = deg[:, None]
    cost[c_pd] = deg[:, None]
    if n_m:
        price = np.array([s.price_per_mw_h for s in services])
        cost[c_r] = -price[pk] * to_kwh
    b = _Builder()
    site = m.site_pos
    # (a) site balance: sum_d (pc - pd) - imp + exp = -(base + sum_d p_fixed)
    fixed = problem.site_base_kw.copy()
    np.add.at(fixed, site, m.p_fixed_kw)
    rows = b.block(
        "site balance",
        n_s * n_t,
        -fixed.ravel(),
        -fixed.ravel(),
        np.repeat(np.arange(n_s), n_t),
        np.tile(tt, n_s),
    ).reshape(n_s, n_t)
    b.add(rows[site], c_pc, 1.0)
    b.add(rows[site], c_pd, -1.0)
    b.add(rows, c_imp, -1.0)
    b.add(rows, c_exp, 1.0)
    # (b) storage dynamics
    if n_e:
        keep = m.keep_per_step[st_rows][:, None]
        rows = b.block(
            "energy balance", n_e * n_t, 0.0, 0.0, np.repeat(st_rows, n_t), np.tile(tt, n_e)
        ).reshape(n_e, n_t)
        b.add(rows, c_e[:, 1:], 1.0)
        b.add(rows, c_e[:, :-1], -keep)
        b.add(rows, c_pc[st_rows], -dt * m.eta_charge[st_rows][:, None])
        b.add(rows, c_pd[st_rows], dt / m.eta_discharge[st_rows][:, None])
    # (c) power headroom and (d) energy headroom, per direction
    for direction in ("up", "down"):
        sel = np.flatnonzero(up[pk] == (direction == "up")) if n_m else np.zeros(0, np.int64)
        if sel.size == 0:
            continue
        devs = np.unique(pdv[sel])
        sign = -1.0 if direction == "up" else 1.0
        if direction == "up":
            rows = b.block(
                "power headroom (up reserves)",
                devs.size * n_t,
                -m.pd_max_kw[devs].ravel(),
                _INF,
                np.repeat(devs, n_t),
                np.tile(tt, devs.size),
            ).reshape(devs.size, n_t)
        else:
            rows = b.block(
                "power headroom (down reserves)",
                devs.size * n_t,
                -_INF,
                m.pc_max_kw[devs].ravel(),
                np.repeat(devs, n_t),
                np.tile(tt, devs.size),
            ).reshape(devs.size, n_t)
        dev_row = np.full(n, -1)
        dev_row[devs] = np.arange(devs.size)
        b.add(rows, c_pc[devs], 1.0)
        b.add(rows, c_pd[devs], -1.0)
        b.add(rows[dev_row[pdv[sel]]], c_r[sel], sign)
        sdev = devs[st[devs]]
        if sdev.size:
            _energy_headroom(b, m, direction, sel, sdev, pk, pdv, dur, c_pc, c_pd, c_e, c_r, e_pos, dt, n_t)
        # (e) site envelope in the direction the activation moves the site
        lim = problem.export_limit_kw if direction == "up" else problem.import_limit_kw
        if np.any(np.isfinite(lim)):
            if direction == "up":
                rows = b.block(
                    "site export envelope under activation",
                    n_s * n_t,
                    -_bounds_inf(lim).ravel(),
                    _INF,
                    np.repeat(np.arange(n_s), n_t),
                    np.tile(tt, n_s),
                ).reshape(n_s, n_t)
            else:
                rows = b.block(
                    "site import envelope under activation",
                    n_s * n_t,
                    -_INF,
                    _bounds_inf(lim).ravel(),
                    np.repeat(np.arange(n_s), n_t),
                    np.tile(tt, n_s),
                ).reshape(n_s, n_t)
            b.add(rows, c_imp, 1.0)
            b.add(rows, c_exp, -1.0)
            b.add(rows[site[pdv[sel]]], c_r[sel], sign)
    # (f) cycle limit
    cyc = np.flatnonzero(m.cycles_counted)
    if cyc.size and np.isfinite(problem.cycles_per_day):
        days = n_t * dt / 24.0
        cap = problem.cycles_per_day * days * m.e_max_kwh[cyc]
        rows = b.block("cycle limit", cyc.size, -_INF, cap, cyc, -1)
        b.add(rows[:, None], c_pd[cyc], dt)
    a = b.matrix(n_cols)
    return {
        "A": a,
        "lb": lb,
        "ub": ub,
        "cost": cost,
        "row_lo": _bounds_inf(np.concatenate(b.lo)),
        "row_hi": _bounds_inf(np.concatenate(b.hi)),
        "kinds": b.kind,
        "kind_code": np.concatenate(b.kind_code),
        "who": np.concatenate(b.obj_idx),
        "step": np.concatenate(b.step),
        "n_rows": b.n_rows,
        "n_cols": n_cols,
        "dt": dt,
        "pk": pk,
        "pd_dev": pdv,
        "c_pc": c_pc,
        "c_pd": c_pd,
        "c_e": c_e,
        "c_r": c_r,
        "c_imp": c_imp,
        "c_exp": c_exp,
        "st_rows": st_rows,
        "up": up,
        "dur": dur,
        "pc_of": lambda x: x[c_pc],
        "pd_of": lambda x: x[c_pd],
    }


def _energy_headroom(
    b: _Builder,
    m: DeviceModels,
    direction: str,
    sel: NDArray,
    sdev: NDArray,
    pk: NDArray,
    pdv: NDArray,
    dur: NDArray,
    c_pc: NDArray,
    c_pd: NDArray,
    c_e: NDArray,
    c_r: NDArray,
    e_pos: NDArray,
    dt: float,
    n_t: int,
) -> None:
    """Rows of the energy headroom on the lowest (up) / highest (down) SoC of each interval (module doc)."""
    tt = np.arange(n_t)
    lam = -np.log(np.maximum(m.keep_per_step, 1e-300)) / dt  # [1/h]
    sel_st = sel[np.isin(pdv[sel], sdev)]
    durations = np.unique(dur[pk[sel_st]])
    lo = np.where(np.isnan(m.e_lo_kwh), -np.inf, m.e_lo_kwh)
    hi = np.where(np.isnan(m.e_hi_kwh), np.inf, m.e_hi_kwh)
    for d_h in durations:
        for boundary in (0, 1):
            n_d = sdev.size
            if direction == "up":
                band = np.maximum(lo[sdev, :-1], lo[sdev, 1:])
                rows = b.block(
                    f"energy headroom (up reserves, {d_h * 60:.3g} min)",
                    n_d * n_t,
                    _bounds_inf(band).ravel(),
                    _INF,
                    np.repeat(sdev, n_t),
                    np.tile(tt, n_d),
                )
            else:
                band = np.minimum(hi[sdev, :-1], hi[sdev, 1:])
                rows = b.block(
                    f"energy headroom (down reserves, {d_h * 60:.3g} min)",
                    n_d * n_t,
                    -_INF,
                    _bounds_inf(band).ravel(),
                    np.repeat(sdev, n_t),
                    np.tile(tt, n_d),
                )
            rows = rows.reshape(n_d, n_t)
            lossy = lam[sdev] > 1e-12
            # an activation starting at the interval's end runs under the next interval's baseline
            cpc, cpd = c_pc[sdev], c_pd[sdev]
            scale = np.where(lossy, 1.0 - lam[sdev] * d_h, 1.0)[:, None]
            b.add(rows, c_e[e_pos[sdev]][:, boundary : boundary + n_t], scale)
            eta_c = m.eta_charge[sdev][:, None]
            eta_d = m.eta_discharge[sdev][:, None]
            if direction == "up":
                b.add(
                    rows[:, : n_t - boundary], cpc[:, boundary:], np.where(lossy[:, None], 0.0, d_h * eta_c)
                )
                b.add(rows[:, : n_t - boundary], cpd[:, boundary:], -d_h / eta_d)
            else:
                b.add(rows[:, : n_t - boundary], cpc[:, boundary:], d_h * eta_c)
                b.add(
                    rows[:, : n_t - boundary], cpd[:, boundary:], np.where(lossy[:, None], 0.0, -d_h / eta_d)
                )
            row_of = np.full(m.n, -1)
            row_of[sdev] = np.arange(n_d)
            sign = -1.0 if direction == "up" else 1.0
            coef = sign * np.minimum(d_h, dur[pk[sel_st]]) / m.eta_discharge[pdv[sel_st]]
            b.add(rows[row_of[pdv[sel_st]]], c_r[sel_st], coef[:, None])


# ---------------------------------------------------------------------------------------------- solve
_BANNER_SHOWN = False


def _highs() -> highspy.Highs:
    """A silent HiGHS instance (the library prints a banner to stdout on its first construction in a
    process; it is sent to /dev/null so that ``--json`` output stays one JSON document)."""
    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        return highspy.Highs()
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _BANNER_SHOWN = True
    return h


def _run(
    lp: dict[str, Any],
    time_limit_s: float,
    mip_gap: float,
    threads: int,
    integrality: NDArray[np.int64] | None,
) -> tuple[NDArray[np.float64] | None, str, float]:
    h = _highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    a: sp.csc_matrix = lp["A"]
    h.passModel(_model(lp, integrality))
    del a
    h.run()
    st = h.getModelStatus()
    if st == highspy.HighsModelStatus.kOptimal:
        status = "optimal"
    elif st in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        return None, "infeasible", float("nan")
    elif st == highspy.HighsModelStatus.kTimeLimit:
        status = "time_limit"
    else:
        status = h.modelStatusToString(st)
    sol = h.getSolution()
    info = h.getInfo()
    if not sol.value_valid or (status != "optimal" and info.primal_solution_status != 2):
        return None, status, float("nan")
    return np.asarray(sol.col_value), status, float(info.objective_function_value)


def _model(lp: dict[str, Any], integrality: NDArray[np.int64] | None) -> highspy.HighsModel:
    a: sp.csc_matrix = lp["A"]
    model = highspy.HighsModel()
    lpm = model.lp_
    lpm.num_col_ = lp["n_cols"] if integrality is None else int(integrality.size)
    lpm.num_row_ = lp["n_rows"]
    lpm.col_cost_ = lp["cost"]
    lpm.col_lower_ = lp["lb"]
    lpm.col_upper_ = lp["ub"]
    lpm.row_lower_ = lp["row_lo"]
    lpm.row_upper_ = lp["row_hi"]
    lpm.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lpm.a_matrix_.start_ = a.indptr
    lpm.a_matrix_.index_ = a.indices
    lpm.a_matrix_.value_ = a.data
    lpm.a_matrix_.num_col_ = a.shape[1]
    lpm.a_matrix_.num_row_ = a.shape[0]
    if integrality is not None:
        lpm.integrality_ = [highspy.HighsVarType(int(v)) for v in integrality]
    return model


def _solve_milp(
    lp: dict[str, Any],
    problem: SiteProblem,
    flagged: NDArray[np.bool_],
    time_limit_s: float,
    mip_gap: float,
    threads: int,
) -> tuple[NDArray[np.float64] | None, str, float]:
    """Re-solve with a binary ``u`` per flagged (device, interval).

    ``pc <= pc_max u`` and ``pd <= pd_max (1 - u)``.
    """
    m = problem.models
    d_idx, t_idx = np.nonzero(flagged)
    nb = d_idx.size
    n0 = lp["n_cols"]
    c_u = n0 + np.arange(nb)
    a = lp["A"]
    pc_max = m.pc_max_kw[d_idx, t_idx]
    pd_max = m.pd_max_kw[d_idx, t_idx]
    r = np.arange(2 * nb)
    rows = np.concatenate([r[:nb], r[:nb], r[nb:], r[nb:]])
    cols = np.concatenate([lp["c_pc"][d_idx, t_idx], c_u, lp["c_pd"][d_idx, t_idx], c_u])
    vals = np.concatenate([np.ones(nb), -pc_max, np.ones(nb), pd_max])
    extra = sp.csc_matrix((vals, (rows, cols)), shape=(2 * nb, n0 + nb))
    big = sp.vstack([sp.hstack([a, sp.csc_matrix((a.shape[0], nb))]), extra]).tocsc()
    lp2 = dict(lp)
    lp2.update(
        A=big,
        n_cols=n0 + nb,
        n_rows=a.shape[0] + 2 * nb,
        cost=np.concatenate([lp["cost"], np.zeros(nb)]),
        lb=np.concatenate([lp["lb"], np.zeros(nb)]),
        ub=np.concatenate([lp["ub"], np.ones(nb)]),
        row_lo=np.concatenate([lp["row_lo"], np.full(2 * nb, -_INF)]),
        row_hi=np.concatenate([lp["row_hi"], np.zeros(nb), pd_max]),
    )
    integ = np.concatenate([np.zeros(n0, np.int64), np.ones(nb, np.int64)])
    x, status, obj = _run(lp2, time_limit_s, mip_gap, threads, integ)
    if status == "infeasible":
        raise InfeasibleError(_diagnose(lp, problem))
    return (None if x is None else x[:n0]), status, obj


def _diagnose(lp: dict[str, Any], problem: SiteProblem) -> str:
    """Name the binding constraint of an infeasible problem: elastic LP minimising row violations."""
    m = problem.models
    n_t = len(m.index)
    a: sp.csc_matrix = lp["A"]
    n_r = lp["n_rows"]
    lo, hi = lp["row_lo"], lp["row_hi"]
    # slack columns: +s relaxes the lower side, -s the upper side
    eye = sp.identity(n_r, format="csc")
    big = sp.hstack([a, eye, -eye]).tocsc()
    lp2 = dict(lp)
    lp2.update(
        A=big,
        n_cols=lp["n_cols"] + 2 * n_r,
        cost=np.concatenate([np.zeros(lp["n_cols"]), np.ones(2 * n_r)]),
        lb=np.concatenate([lp["lb"], np.zeros(2 * n_r)]),
        ub=np.concatenate([lp["ub"], np.full(2 * n_r, _INF)]),
    )
    try:
        x, status, _ = _run(lp2, 60.0, 1e-4, 1, None)
    except OpenVPPError:  # pragma: no cover - the elastic problem is always feasible
        x, status = None, "error"
    if x is None:
        bad = np.flatnonzero(np.asarray(lp["lb"]) > np.asarray(lp["ub"]) + 1e-9)
        what = f"a variable bound (column {bad[0]})" if bad.size else f"the solver ({status})"
        return f"the schedule is infeasible: {what}; check EV targets, envelopes and fixed reserves"
    slack = x[lp["n_cols"] : lp["n_cols"] + n_r] + x[lp["n_cols"] + n_r :]
    i = int(np.argmax(slack))
    kind = lp["kinds"][int(lp["kind_code"][i])]
    who = int(lp["who"][i])
    step = int(lp["step"][i])
    when = f"interval {step} ({m.index[step]})" if 0 <= step < n_t else "the whole horizon"
    if kind.startswith("site"):
        obj = f"site {str(problem.site_ids[who])!r}"
        fix = "raise the site envelope or reduce the inflexible load / fixed reserves"
    else:
        obj = f"device {str(m.device_ids[who])!r} ({m.device_class[who]})"
        fix = "lower the fixed reserve or the energy target, or widen the device's band"
    del lo, hi
    return (
        f"the schedule is infeasible: binding constraint '{kind}' of {obj} in {when} is short by "
        f"{slack[i]:.4g} (kW or kWh); {fix}"
    )


# ---------------------------------------------------------------------------------------------- results
def _to_plan(problem: SiteProblem, lp: dict[str, Any], x: NDArray[np.float64], info: SolveInfo) -> Plan:
    m = problem.models
    n, n_t = m.n, len(m.index)
    dt = lp["dt"]
    pc, pdis = x[lp["c_pc"]], x[lp["c_pd"]]
    p = m.p_fixed_kw + pc - pdis
    n_k = len(problem.services)
    r_up = np.zeros((n_k, n, n_t))
    r_dn = np.zeros((n_k, n, n_t))
    pk, pdv = lp["pk"], lp["pd_dev"]
    if pk.size:
        r = np.maximum(x[lp["c_r"]], 0.0)
        is_up = lp["up"][pk]
        r_up[pk[is_up], pdv[is_up]] = r[is_up]
        r_dn[pk[~is_up], pdv[~is_up]] = r[~is_up]
    e = np.full((n, n_t + 1), np.nan)
    e[lp["st_rows"]] = x[lp["c_e"]]
    imp, exp_ = x[lp["c_imp"]], x[lp["c_exp"]]
    site_p = imp - exp_
    return _assemble(problem, p, r_up, r_dn, e, site_p, info, extra=_revenue(problem, lp, x, dt))


def _revenue(problem: SiteProblem, lp: dict[str, Any], x: NDArray[np.float64], dt: float) -> dict[str, Any]:
    to = dt / KW_PER_MW
    imp, exp_ = x[lp["c_imp"]], x[lp["c_exp"]]
    out: dict[str, Any] = {
        "energy_cost": float(np.sum(problem.import_price_per_mwh * imp) * to),
        "energy_revenue": float(np.sum(problem.export_price_per_mwh * exp_) * to),
    }
    m = problem.models
    thr = (x[lp["c_pc"]] + x[lp["c_pd"]])[m.cycles_counted]
    out["degradation_cost"] = float(problem.degradation_per_mwh * thr.sum() * to)
    rev = {}
    pk = lp["pk"]
    r = x[lp["c_r"]] if pk.size else np.zeros((0, 0))
    for k, s in enumerate(problem.services):
        rev[s.key] = float(np.sum(s.price_per_mw_h * r[pk == k].sum(axis=0)) * to) if pk.size else 0.0
    out["reserve_revenue"] = rev
    return out


def _assemble(
    problem: SiteProblem,
    p: NDArray,
    r_up: NDArray,
    r_dn: NDArray,
    e: NDArray,
    site_p: NDArray,
    info: SolveInfo,
    extra: dict[str, Any],
) -> Plan:
    m = problem.models
    st = m.storage
    emax = np.where(st, m.e_max_kwh, np.nan)
    soc = e / emax[:, None]
    lo = np.where(np.isnan(m.e_lo_kwh), -np.inf, m.e_lo_kwh)
    hi = np.where(np.isnan(m.e_hi_kwh), np.inf, m.e_hi_kwh)
    dur = np.array([s.duration_h for s in problem.services], float)
    need_up = np.einsum("k,kdt->dt", dur, r_up) / m.eta_discharge[:, None]
    need_dn = np.einsum("k,kdt->dt", dur, r_dn) / m.eta_discharge[:, None]
    band_lo = np.maximum(lo[:, :-1], lo[:, 1:])
    band_hi = np.minimum(hi[:, :-1], hi[:, 1:])
    band_lo = np.where(np.isfinite(band_lo), band_lo, 0.0)
    band_hi = np.where(np.isfinite(band_hi), band_hi, emax[:, None])
    s_lo = np.minimum((band_lo + need_up) / emax[:, None], np.minimum(soc[:, :-1], soc[:, 1:]))
    s_hi = np.maximum((band_hi - need_dn) / emax[:, None], np.maximum(soc[:, :-1], soc[:, 1:]))
    s_lo = np.where(st[:, None], s_lo, np.nan)
    s_hi = np.where(st[:, None], s_hi, np.nan)
    meta = {
        "method": "exact",
        "status": info.status,
        "objective": info.objective,
        "solve_s": info.solve_s,
        "n_rows": info.n_rows,
        "n_cols": info.n_cols,
        "milp": info.milp,
        "degradation_per_mwh": problem.degradation_per_mwh,
        "cycles_per_day": problem.cycles_per_day,
    }
    meta.update(extra)
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
        soc_baseline=soc,
        soc_min=s_lo,
        soc_max=s_hi,
        e_max_kwh=emax,
        site_p_kw=site_p,
        site_export_limit_kw=problem.export_limit_kw,
        site_import_limit_kw=problem.import_limit_kw,
        p_min_kw=m.p_min_kw,
        p_max_kw=m.p_max_kw,
        meta=meta,
    )


def _fallback_plan(problem: SiteProblem, lp: dict[str, Any], reason: str) -> Plan:
    """Rule-based plan when the solver returns nothing in time: batteries idle, EVs charged as soon as
    possible, flexible loads at baseline, PV curtailed to the export envelope, no reserves."""
    m = problem.models
    n, n_t = m.n, len(m.index)
    dt = lp["dt"]
    pc = np.zeros((n, n_t))
    ev = np.flatnonzero(m.device_class == "ev")
    e = np.full((n, n_t + 1), np.nan)
    st = m.storage
    e[st, 0] = m.e0_kwh[st]
    for t in range(n_t):  # fallback only: charge EVs at full rate while below their target
        if ev.size:
            target = np.nanmax(np.where(np.isfinite(m.e_lo_kwh[ev]), m.e_lo_kwh[ev], 0.0), axis=1)
            need = np.maximum(target - e[ev, t], 0.0)
            pc[ev, t] = np.minimum(m.pc_max_kw[ev, t], need / (m.eta_charge[ev] * dt))
        e[st, t + 1] = m.keep_per_step[st] * e[st, t] + dt * m.eta_charge[st] * pc[st, t]
    p = m.p_fixed_kw + pc
    site_p = problem.site_base_kw.copy()
    np.add.at(site_p, m.site_pos, p)
    # curtail PV to the export envelope
    pv = np.flatnonzero(m.device_class == "pv")
    over = np.maximum(-site_p - problem.export_limit_kw, 0.0)
    if pv.size and np.any(over > 0):
        avail = m.pc_max_kw[pv]
        tot = np.zeros_like(site_p)
        np.add.at(tot, m.site_pos[pv], avail)
        share = np.where(tot[m.site_pos[pv]] > 0, avail / np.maximum(tot[m.site_pos[pv]], 1e-12), 0.0)
        cut = np.minimum(share * over[m.site_pos[pv]], avail)
        p[pv] += cut
        np.add.at(site_p, m.site_pos[pv], cut)
    n_k = len(problem.services)
    zeros = np.zeros((n_k, n, n_t))
    info = SolveInfo("fallback", float("nan"), 0.0, lp["n_rows"], lp["n_cols"], False)
    plan = _assemble(problem, p, zeros, zeros, e, site_p, info, extra={"fallback_reason": reason})
    return plan
