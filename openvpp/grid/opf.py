"""Multi-period three-phase linearised AC OPF for a VPP on an unbalanced LV network, with exact validation.

This is the convex formulation of §7.1 of the Chile roadmap (seed 000), solved with cvxpy + Clarabel:

* households and batteries, eqs (4)-(10): net site power, import/export split, charging/discharging split,
  discharge-only service period, stored energy with one-way efficiencies, energy and power ratings;
* the network in rectangular current-voltage form, eqs (11)-(14): KVL over every line's 3x3 phase
  impedance and KCL per bus and phase; the MV/LV transformer is a series impedance (its positive and zero
  sequence turned into a 3x3 phase matrix) fed from an ideal source at ``network.v_source_pu``;
* constant-power loads and PV as currents linearised around an estimated voltage, eqs (15)-(17); battery
  currents from their power at the estimated voltage, eqs (18)-(19) (unity power factor, ``Q = 0``);
* line and transformer current limits as second-order cones, eq. (20); maximum voltage as a cone, eq. (21);
  minimum voltage as the tangent of ``|V|^2`` at the estimate, eq. (22) (conservative: a convex function
  lies above its tangent);
* objectives: self-consumption, eq. (23), and maximum aggregate export in a service period, eq. (24), with
  or without the grid constraints (11)-(22).

The solver (Clarabel through cvxpy) takes :class:`SolverSettings`; its outcome is reported as it is:
``optimal``, ``optimal_inaccurate`` or stopped at a limit with an iterate (returned, flagged in
``OPFResult.solver_status`` / ``message``, never "converged"), a proven infeasibility
(:class:`~openvpp.errors.InfeasibleError`) or no usable solution (:class:`SolverStoppedError`).

The estimate is refined by re-linearising around the *exact* unbalanced power flow of the OPF's own
dispatch until the estimate moves less than ``tol_v_pu``; after every solve the exact power flow is run with
the OPF's injections and the largest voltage-magnitude error and every limit the exact solution violates are
reported (:class:`OPFResult`).

Why a formulation of our own: no open-source package offers a multi-period, three-phase, current-voltage
OPF with batteries; the constraint matrices are therefore built here once per linearisation with
``scipy.sparse`` (per-unit, block structure of the radial network) and handed to cvxpy as a few
matrix-valued constraints over variables shaped ``(3 * n_bus, n_steps)`` — no Python loop over elements.

Per unit: voltages on ``network.v_base_v`` (phase-to-neutral), powers on ``S_BASE_KVA`` per phase, currents
on ``S_BASE_KVA / v_base_v``. Sign convention: load convention everywhere (:mod:`openvpp.units`): a site's
``p_kw`` is positive when importing, a battery's when charging; PV output ``p_pv_kw`` is non-negative.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable
from typing import Literal

import cvxpy as cp
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from pydantic import Field

from openvpp.config import StrictModel
from openvpp.der.battery import BatteryParams, battery_energy
from openvpp.errors import InfeasibleError, OpenVPPError, ValidationError
from openvpp.grid.network import Network, check_voltage_limits
from openvpp.grid.powerflow import BatchPowerFlow, source_voltages_v, trafo_z_abc_ohm
from openvpp.grid.results import PowerFlowResult, check_bus_steps
from openvpp.timeseries import as_2d
from openvpp.units import W_PER_KW

#: per-phase power base of the OPF's per unit [kVA]; 10 kVA keeps LV currents and impedances O(1e-3..10)
S_BASE_KVA = 10.0
#: objective weights of seed 000 §7.2: omega_s, omega_sc(t) = 2 - 0.01 (t - 1), mu
OMEGA_SERVICE = 1.0
MU_BATTERY = 0.1

Objective = Literal["export", "self_consumption"]

#: largest ``n_bus x n_steps`` of one OPF (about 10x the 48-step IEEE benchmark, minutes of solver time
#: and about 2 GB of solver memory at the bound); split longer horizons into days
MAX_OPF_BUS_STEPS = 50_000

#: an exact power flow of the network: (p_site_kw (n_site, T), q_site_kvar (n_site, T)) -> PowerFlowResult
ExactPowerFlow = Callable[[NDArray, NDArray], PowerFlowResult]


# ---------------------------------------------------------------------------------------------- solver
class SolverSettings(StrictModel):
    """Settings of the conic solver (Clarabel through cvxpy) for every solve of :func:`solve_opf`.

    Attributes
    ----------
    max_iter : int
        Interior-point iterations per solve (Clarabel's ``max_iter``; ``openvpp opf --max-iter``). [-]
    time_limit_s : float or None
        Wall-time limit per solve (``--time-limit``); None = none. [s]
    tol_gap_abs, tol_gap_rel : float
        Absolute and relative duality-gap tolerances (``--solver-tol`` sets both and ``tol_feas``). [-]
    tol_feas : float
        Primal and dual feasibility tolerance. [-]
    verbose : bool
        Print the solver's own log.
    """

    max_iter: int = Field(default=200, ge=1, le=100_000)
    time_limit_s: float | None = Field(default=None, gt=0.0, le=86_400.0)
    tol_gap_abs: float = Field(default=1e-8, gt=0.0, lt=1.0)
    tol_gap_rel: float = Field(default=1e-8, gt=0.0, lt=1.0)
    tol_feas: float = Field(default=1e-8, gt=0.0, lt=1.0)
    verbose: bool = False

    def solve_kwargs(self) -> dict[str, object]:
        """Keyword arguments for ``cvxpy.Problem.solve`` (Clarabel settings)."""
        out: dict[str, object] = {
            "solver": cp.CLARABEL, "max_iter": self.max_iter, "tol_gap_abs": self.tol_gap_abs,
            "tol_gap_rel": self.tol_gap_rel, "tol_feas": self.tol_feas, "verbose": self.verbose,
        }
        if self.time_limit_s is not None:
            out["time_limit"] = self.time_limit_s
        return out


class SolverStoppedError(OpenVPPError):
    """The solver stopped without a usable solution (iteration or time limit, numerical trouble).

    Not an infeasibility: nothing is known about whether a dispatch meets the limits. The message states
    the solver's status, its iterations and the setting to change.
    """


# ---------------------------------------------------------------------------------------------- results
@dataclasses.dataclass
class OPFResult:
    """Dispatch, voltages and validation of one OPF run (all arrays in the load convention).

    Attributes
    ----------
    objective : str
        ``"export"`` (eq. (24)) or ``"self_consumption"`` (eq. (23)).
    grid_constraints : bool
        Whether eqs (11)-(22) were part of the problem.
    site_ids : numpy.ndarray of str, shape (n_site,)
    managed : numpy.ndarray of bool, shape (n_site,)
        Sites whose battery the VPP dispatches (set S of eq. (4)).
    p_site_kw, q_site_kvar : numpy.ndarray, shape (n_site, n_steps)
        Net site power at the meter, + = import. [kW], [kvar]
    p_battery_kw, e_battery_kwh : numpy.ndarray, shape (n_battery, n_steps)
        Battery power (+ = charging) and stored energy at the end of each step. [kW], [kWh]
    v_opf_pu : numpy.ndarray, shape (n_bus, 3, n_steps) or None
        Voltage magnitudes of the OPF's network model (None without grid constraints). [pu]
    v_exact_pu : numpy.ndarray, shape (n_bus, 3, n_steps)
        Voltage magnitudes of the exact power flow of the dispatch. [pu]
    line_utilisation, trafo_utilisation : numpy.ndarray, shapes (n_line, 3, n_steps) and (3, n_steps)
        Exact phase current over rating. [-]
    iterations : int
        Number of OPF solves (linearisations); 1 without grid constraints.
    dv_history_pu : list of float
        After each solve, the largest move of the linearisation point ``max |V_exact - V*|``. [pu]
    v_error_history_pu : list of float
        After each solve, ``max | |V_opf| - |V_exact| |`` of that solve (empty without grid constraints). [pu]
    converged : bool
        Whether every solve ended ``optimal`` (not ``optimal_inaccurate`` nor stopped at a limit) and,
        with grid constraints, the last move of the linearisation point was below ``tol_v_pu``.
    v_error_pu : float
        ``max | |V_opf| - |V_exact| |`` over buses, phases and steps of the last solve (NaN without grid
        constraints). [pu]
    violations : pandas.DataFrame
        Limits the exact solution violates: ``kind`` (``v_max``, ``v_min``, ``line``, ``trafo``), ``element``,
        ``phase``, ``step``, ``value``, ``limit``, ``excess_pct`` (relative excess in percent), worst first.
    objective_value : float
        Value of eq. (23) / (24) at the solution. [kW-weighted]
    build_s, solve_s, pf_s : float
        Wall time spent building the problems (sparse matrices, cvxpy expressions and cvxpy's compilation
        to the solver's form), inside the solver (Clarabel), and in the exact power flow. [s]
    n_variables : int
        Scalar variables of the last OPF problem.
    solver_status : str
        Worst status the solver reported over the solves: ``"optimal"``, ``"optimal_inaccurate"`` (the
        solver's tolerances were not all met) or ``"user_limit"`` (stopped at ``SolverSettings.max_iter``
        or ``time_limit_s``; the dispatch is the last iterate, not an optimum).
    solver_iterations : list of int
        Interior-point iterations of each solve (including the no-GC start). [-]
    message : str
        What happened, in words (empty when every solve was optimal and the linearisation converged).
    battery_site_index : numpy.ndarray of int, shape (n_battery,)
        Site (row of ``p_site_kw``) of each battery row of ``p_battery_kw``.
    """

    objective: str
    grid_constraints: bool
    site_ids: NDArray
    managed: NDArray[np.bool_]
    p_site_kw: NDArray[np.float64]
    q_site_kvar: NDArray[np.float64]
    p_battery_kw: NDArray[np.float64]
    e_battery_kwh: NDArray[np.float64]
    v_opf_pu: NDArray[np.float64] | None
    v_exact_pu: NDArray[np.float64]
    line_utilisation: NDArray[np.float64]
    trafo_utilisation: NDArray[np.float64]
    iterations: int
    dv_history_pu: list[float]
    v_error_history_pu: list[float]
    converged: bool
    v_error_pu: float
    violations: pd.DataFrame
    objective_value: float
    build_s: float
    solve_s: float
    pf_s: float
    n_variables: int = 0
    solver_status: str = "optimal"
    solver_iterations: list[int] = dataclasses.field(default_factory=list)
    message: str = ""
    battery_site_index: NDArray[np.int64] = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def p_vpp_kw(self) -> NDArray[np.float64]:
        """Aggregated net power of the managed households per step, + = import. [kW]"""
        return self.p_site_kw[self.managed].sum(axis=0)

    @property
    def p_total_kw(self) -> NDArray[np.float64]:
        """Aggregated net power of every site per step, + = import. [kW]"""
        return self.p_site_kw.sum(axis=0)

    @property
    def max_violation_pct(self) -> float:
        """Largest relative excess over any limit in the exact solution (0 when none). [%]"""
        return float(self.violations["excess_pct"].max()) if len(self.violations) else 0.0

    def summary(self) -> dict[str, object]:
        """Scalars for reports and ``--json`` (standard JSON values: ``None`` where undefined, never NaN)."""
        return {
            "objective": self.objective,
            "grid_constraints": self.grid_constraints,
            "iterations": self.iterations,
            "converged": self.converged,
            "solver_status": self.solver_status,
            "solver_iterations": [int(k) for k in self.solver_iterations],
            "message": self.message,
            "dv_history_pu": [None if np.isnan(x) else float(x) for x in self.dv_history_pu],
            "v_error_history_pu": [float(x) for x in self.v_error_history_pu],
            "v_error_pu": None if np.isnan(self.v_error_pu) else float(self.v_error_pu),
            "v_exact_min_pu": float(self.v_exact_pu.min()),
            "v_exact_max_pu": float(self.v_exact_pu.max()),
            "line_utilisation_max": float(self.line_utilisation.max()),
            "trafo_utilisation_max": float(self.trafo_utilisation.max()),
            "n_violations": len(self.violations),
            "max_violation_pct": self.max_violation_pct,
            "objective_value": float(self.objective_value),
            "build_s": float(self.build_s),
            "solve_s": float(self.solve_s),
            "pf_s": float(self.pf_s),
            "n_variables": int(self.n_variables),
        }


# ---------------------------------------------------------------------------------------------- helpers
def omega_no_service(n_steps: int) -> NDArray[np.float64]:
    """Weight of imports/exports outside the service, ``2 - 0.01 (t - 1)``, t = 1..T (seed 000 §7.2).

    Parameters
    ----------
    n_steps : int
        Number of steps T. [-]

    Returns
    -------
    numpy.ndarray, shape (n_steps,)
        The weights omega_sc(t). [-]
    """
    return 2.0 - 0.01 * np.arange(n_steps, dtype=np.float64)


@dataclasses.dataclass(frozen=True)
class _Structure:
    """Sparse per-unit matrices of a radial network, indexed by ``m = 3 * bus + phase`` (built once)."""

    parent: sp.csr_matrix  # (M, M): picks the parent bus's voltage; zero row for the source bus
    r_pu: sp.csr_matrix  # (M, M) block-diagonal resistance of the branch into each bus
    x_pu: sp.csr_matrix  # (M, M) reactance
    kcl: sp.csr_matrix  # (M, M): I - children
    v_source: NDArray[np.complex128]  # (M,) ideal-source voltage on the source bus rows, 0 elsewhere
    i_max_pu: NDArray[np.float64]  # (M,) rating of the branch into each bus (transformer for the source bus)
    i_base_a: float
    z_base_ohm: float


def _structure(network: Network) -> _Structure:
    nb = network.n_bus
    m = 3 * nb
    parent = network.parent
    pline = network.parent_line
    src = int(network.source_bus)
    if not np.all(network.line_is_oriented):
        raise ValidationError(
            f"network {network.name!r} has lines not oriented from the source outwards; the loaders orient "
            "them so (line_from is the end towards the source)"
        )
    i_base_a = S_BASE_KVA * W_PER_KW / network.v_base_v
    z_base_ohm = network.v_base_v**2 / (S_BASE_KVA * W_PER_KW)
    zb = np.empty((nb, 3, 3), dtype=complex)
    not_src = np.flatnonzero(np.arange(nb) != src)
    zb[not_src] = network.z_ohm[pline[not_src]]
    zb[src] = trafo_z_abc_ohm(network)
    zb /= z_base_ohm
    # block-diagonal 3x3 matrices: row 3j+p, col 3j+q
    rows = (3 * np.arange(nb)[:, None, None] + np.arange(3)[None, :, None]) * np.ones((1, 1, 3), dtype=int)
    cols = (3 * np.arange(nb)[:, None, None] + np.arange(3)[None, None, :]) * np.ones((1, 3, 1), dtype=int)
    r_pu = sp.csr_matrix((zb.real.ravel(), (rows.ravel(), cols.ravel())), shape=(m, m))
    x_pu = sp.csr_matrix((zb.imag.ravel(), (rows.ravel(), cols.ravel())), shape=(m, m))
    # parent selector
    ch = np.repeat(not_src, 3) * 3 + np.tile(np.arange(3), not_src.size)
    par = np.repeat(parent[not_src], 3) * 3 + np.tile(np.arange(3), not_src.size)
    psel = sp.csr_matrix((np.ones(ch.size), (ch, par)), shape=(m, m))
    kcl = (sp.identity(m, format="csr") - psel.T).tocsr()
    v_source = np.zeros(m, dtype=complex)
    v_source[3 * src : 3 * src + 3] = source_voltages_v(network) / network.v_base_v
    i_max = np.empty(nb)
    i_max[not_src] = network.i_max_a[pline[not_src]]
    i_max[src] = network.trafo_i_rated_a
    return _Structure(
        parent=psel, r_pu=r_pu, x_pu=x_pu, kcl=kcl, v_source=v_source,
        i_max_pu=np.repeat(i_max, 3) / i_base_a, i_base_a=i_base_a, z_base_ohm=z_base_ohm,
    )


def _check_inputs(
    network: Network, p_load_kw: ArrayLike, q_load_kvar: ArrayLike, p_pv_kw: ArrayLike,
    batteries: BatteryParams, dt_h: float, service: ArrayLike | None, v_min_pu: float, v_max_pu: float,
) -> tuple[NDArray, NDArray, NDArray, NDArray[np.int64], NDArray[np.bool_]]:
    ns = network.n_site
    pl = as_2d("p_load_kw", p_load_kw, ns)
    t = pl.shape[1]
    ql = as_2d("q_load_kvar", q_load_kvar, ns, t)
    pv = as_2d("p_pv_kw", p_pv_kw, ns, t)
    if np.any(pv < 0):
        raise ValidationError(
            "p_pv_kw must be non-negative PV output (generator convention for this input); got "
            f"{pv.min():.3g} kW"
        )
    if not (np.isfinite(dt_h) and dt_h > 0):
        raise ValidationError(f"dt_h must be a positive number of hours (got {dt_h!r})")
    check_voltage_limits(v_min_pu, v_max_pu)
    lookup = {s: k for k, s in enumerate(network.sites["site_id"].tolist())}
    missing = [s for s in batteries.site_id.tolist() if s not in lookup]
    if missing:
        raise ValidationError(
            f"batteries.site_id {missing[0]!r} is not a site of network {network.name!r}; give the "
            "site_id of the household that holds each battery"
        )
    if batteries.n == 0:
        raise ValidationError(
            "batteries is empty: the OPF dispatches at least one managed battery; for the network alone "
            "run openvpp.grid.powerflow.BatchPowerFlow"
        )
    bsite = np.array([lookup[s] for s in batteries.site_id.tolist()], dtype=np.int64)
    if len(np.unique(bsite)) != bsite.size:
        raise ValidationError("batteries.site_id must be unique: one managed battery per household (eq. (4))")
    if service is None:
        svc = np.zeros(t, dtype=bool)
    else:
        svc = np.asarray(service, dtype=bool)
        if svc.shape != (t,):
            raise ValidationError(f"service must be a boolean mask of shape ({t},) (got {svc.shape})")
    return pl, ql, pv, bsite, svc


# ---------------------------------------------------------------------------------------------- build
def energy_step_coefficients(
    batteries: BatteryParams, dt_h: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """One step of eq. (9) (seed 000 §7.1.1) as ``e_t = keep e_(t-1) + a_c p_charge - a_d p_discharge``.

    The coefficients are read from :func:`openvpp.der.battery.battery_energy` itself (one step from unit
    energy, unit charge and unit discharge), so the OPF's constraint and the battery model are one relation,
    including self-discharge.

    Parameters
    ----------
    batteries : BatteryParams
        The batteries (efficiencies, self-discharge).
    dt_h : float
        Step length. [h]

    Returns
    -------
    keep, a_c, a_d : numpy.ndarray, shape (n_battery,)
        Share of stored energy kept over one step [-], energy stored per kW of charging [kWh/kW] and
        energy removed per kW of discharging [kWh/kW].
    """
    n = batteries.n
    one, zero = np.ones((n, 1)), np.zeros((n, 1))
    args = (batteries.eta_charge, batteries.eta_discharge, dt_h, batteries.self_discharge_per_h)
    keep = battery_energy(np.ones(n), zero, zero, *args)[:, 0]
    a_c = battery_energy(np.zeros(n), one, zero, *args)[:, 0]
    a_d = -battery_energy(np.zeros(n), zero, one, *args)[:, 0]
    return keep, a_c, a_d


@dataclasses.dataclass
class _Problem:
    problem: cp.Problem
    p_charge: cp.Variable
    p_discharge: cp.Variable
    vr: cp.Variable | None
    vi: cp.Variable | None


def _build(
    st: _Structure | None, b_site: sp.csr_matrix, pl: NDArray, ql: NDArray, pv: NDArray, bsite: NDArray,
    batteries: BatteryParams, dt_h: float, svc: NDArray, objective: Objective, v_star: NDArray | None,
    v_min_pu: float, v_max_pu: float, mu: float,
) -> _Problem:
    n_b = bsite.size
    t = pl.shape[1]
    pc = cp.Variable((n_b, t), nonneg=True, name="p_charge_kw")
    pd_ = cp.Variable((n_b, t), nonneg=True, name="p_discharge_kw")
    p_imp = cp.Variable((n_b, t), nonneg=True, name="p_import_kw")
    p_exp = cp.Variable((n_b, t), nonneg=True, name="p_export_kw")
    p_fix = pl[bsite] - pv[bsite]
    keep, a_c, a_d = energy_step_coefficients(batteries, dt_h)
    # eq. (9) as a recursion on a state variable (banded, unlike the cumulative sum, which couples every
    # step with all earlier ones and fills the KKT factor); its coefficients come from battery_energy
    e = cp.Variable((n_b, t), name="e_kwh")
    e_prev = cp.hstack([(batteries.soc0 * batteries.e_max_kwh)[:, None], e[:, :-1]]) if t > 1 else (
        (batteries.soc0 * batteries.e_max_kwh)[:, None])
    net = p_fix + pc - pd_  # eq. (4) with (6)
    cons = [
        e == cp.multiply(keep[:, None], e_prev) + cp.multiply(a_c[:, None], pc)
        - cp.multiply(a_d[:, None], pd_),
        net == p_imp - p_exp,  # eq. (5)
        pc <= batteries.p_charge_max_kw[:, None],
        pd_ <= batteries.p_discharge_max_kw[:, None],
        e <= batteries.e_upper_kwh[:, None],  # eq. (10)
        e >= batteries.e_min_kwh[:, None],
    ]
    if objective == "export":
        if svc.any():
            cons.append(pc[:, svc] == 0)  # eq. (8)
        w_sc = omega_no_service(t)[None, ~svc]
        obj = (
            OMEGA_SERVICE * cp.sum(net[:, svc])
            + cp.sum(cp.multiply(w_sc, p_imp[:, ~svc] + p_exp[:, ~svc]))
            + mu * cp.sum(pc + pd_)
        )  # eq. (24)
    else:
        obj = cp.sum(p_imp + p_exp) + mu * cp.sum(pc + pd_)  # eq. (23)
    vr = vi = None
    if st is not None and v_star is not None:
        m = st.parent.shape[0]
        vr = cp.Variable((m, t), name="v_re_pu")
        vi = cp.Variable((m, t), name="v_im_pu")
        ir = cp.Variable((m, t), name="i_re_pu")
        ii = cp.Variable((m, t), name="i_im_pu")
        vs_r = st.v_source.real[:, None]
        vs_i = st.v_source.imag[:, None]
        # eqs (11)-(12): V_parent - V = Z I for the branch into every bus (transformer for the source bus)
        cons += [
            st.parent @ vr + vs_r - vr == st.r_pu @ ir - st.x_pu @ ii,
            st.parent @ vi + vs_i - vi == st.r_pu @ ii + st.x_pu @ ir,
        ]
        # eqs (15)-(17): constant-power load + PV current, linearised around v_star (complex form:
        # I = conj(S) / conj(V) ~ I* + g conj(V - V*), g = -conj(S) / conj(V*)^2)
        s_fix = (b_site @ ((pl - pv) + 1j * ql)) / S_BASE_KVA  # (M, T) pu, load convention
        i0 = np.conj(s_fix) / np.conj(v_star)
        g = -np.conj(s_fix) / np.conj(v_star) ** 2
        c0 = i0 - g * np.conj(v_star)  # constant part: I = c0 + g conj(V)
        load_r = c0.real + cp.multiply(g.real, vr) + cp.multiply(g.imag, vi)
        load_i = c0.imag + cp.multiply(g.imag, vr) - cp.multiply(g.real, vi)
        # eqs (18)-(19) with Q_b = 0: I_b = P_b V* / |V*|^2
        d_star = np.abs(v_star) ** 2
        b_bat = b_site[:, bsite]
        p_bat_bus = b_bat @ (pc - pd_) / S_BASE_KVA
        bat_r = cp.multiply(v_star.real / d_star, p_bat_bus)
        bat_i = cp.multiply(v_star.imag / d_star, p_bat_bus)
        # eqs (13)-(14): KCL per bus and phase
        cons += [st.kcl @ ir == load_r + bat_r, st.kcl @ ii == load_i + bat_i]
        flat = m * t
        # eq. (20): current limits as second-order cones (both line ends carry the same current)
        i_lim = np.repeat(st.i_max_pu, t)  # C order of (M, T)
        cons.append(cp.SOC(i_lim, cp.vstack([cp.reshape(ir, (1, flat), order="C"),
                                             cp.reshape(ii, (1, flat), order="C")]), axis=0))
        # eq. (21): maximum voltage as a cone
        cons.append(cp.SOC(np.full(flat, v_max_pu), cp.vstack([cp.reshape(vr, (1, flat), order="C"),
                                                               cp.reshape(vi, (1, flat), order="C")]),
                           axis=0))
        # eq. (22): minimum voltage, tangent of |V|^2 at v_star
        cons.append(
            cp.multiply(2.0 * v_star.real, vr) + cp.multiply(2.0 * v_star.imag, vi) >= v_min_pu**2 + d_star
        )
    return _Problem(cp.Problem(cp.Minimize(obj), cons), pc, pd_, vr, vi)


_STATUS_RANK = {cp.OPTIMAL: 0, cp.OPTIMAL_INACCURATE: 1, cp.USER_LIMIT: 2}


def _solve(prob: _Problem, settings: SolverSettings) -> tuple[float, float, float, str, int]:
    """Solve; returns (objective value, cvxpy compilation time [s], solver time [s], status, iterations).

    ``optimal``, ``optimal_inaccurate`` and ``user_limit`` with a solution come back (the caller flags the
    last two); a proven infeasibility raises :class:`InfeasibleError`; anything else
    :class:`SolverStoppedError` with the status and iterations.
    """
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():  # cvxpy warns of inaccurate solutions; the status is reported instead
            warnings.simplefilter("ignore", UserWarning)
            prob.problem.solve(**settings.solve_kwargs())
    except cp.error.SolverError as exc:
        raise SolverStoppedError(
            f"the OPF solver (Clarabel) failed: {exc}; check the data for NaNs or extreme values, or loosen "
            "the solver tolerance (--solver-tol)"
        ) from exc
    wall = time.perf_counter() - t0
    stats = prob.problem.solver_stats
    iters = int(stats.num_iters) if stats is not None and stats.num_iters is not None else -1
    solver_s = min(float((stats.solve_time if stats is not None else None) or wall), wall)
    status = str(prob.problem.status)
    if status == cp.INFEASIBLE:
        raise InfeasibleError(
            f"the OPF is infeasible (solver certificate after {iters} iterations): no dispatch meets the "
            "limits (e.g. the base load alone already breaks a voltage or current limit); relax "
            "v_min_pu/v_max_pu (--v-min/--v-max) or check the ratings"
        )
    has_value = status in _STATUS_RANK and prob.problem.value is not None and prob.p_charge.value is not None
    if not has_value:
        hint = {
            cp.USER_LIMIT: "it stopped at its iteration or time limit without a usable iterate; raise "
                           "SolverSettings.max_iter / time_limit_s (--max-iter / --time-limit)",
            cp.INFEASIBLE_INACCURATE: "it suspects an infeasibility it could not prove; relax the voltage "
                                      "limits or loosen the solver tolerance (--solver-tol)",
        }.get(status, "check the data for NaNs or extreme values, or loosen --solver-tol")
        raise SolverStoppedError(
            f"the OPF solver (Clarabel) ended with status {status!r} after {iters} iterations and returned "
            f"no solution; {hint}"
        )
    return float(prob.problem.value), wall - solver_s, solver_s, status, iters


def _solved(var: cp.Variable | None, name: str) -> NDArray[np.float64]:
    """Value of ``var`` after a successful :func:`_solve`; raises if the solver left it unset."""
    if var is None or var.value is None:
        raise InfeasibleError(
            f"the OPF solver returned no value for {name}; the problem has no usable solution (check the "
            "limits and the data for NaNs)"
        )
    return var.value


# ---------------------------------------------------------------------------------------------- validation
def find_violations(
    network: Network, flow: PowerFlowResult, v_min_pu: float, v_max_pu: float, tol_pct: float = 0.0
) -> tuple[NDArray, NDArray, NDArray, pd.DataFrame]:
    """Limits an exact power flow violates (validation step of the OPF).

    Parameters
    ----------
    network : Network
    flow : PowerFlowResult
        Exact voltages and currents of ``network`` (:mod:`openvpp.grid.powerflow`).
    v_min_pu, v_max_pu : float
        Voltage limits. [pu]
    tol_pct : float
        Relative excess ignored as numerical noise. [%]

    Returns
    -------
    v_pu, line_utilisation, trafo_utilisation, violations
        Voltage magnitudes (n_bus, 3, T), utilisation (n_line, 3, T) and (3, T), and a DataFrame of
        violations (columns ``kind, element, phase, step, value, limit, excess_pct``), worst first.
    """
    if network.line_names is None:  # always set by Network.__post_init__
        raise ValidationError(f"network {network.name!r} has no line_names; build it with Network(...)")
    v = flow.v_pu
    line_u = flow.i_line_a / network.i_max_a[:, None, None]
    trafo_u = flow.trafo_i_a / network.trafo_i_rated_a
    tol = tol_pct / 100.0
    frames = []
    checks = (
        ("v_max", v, v / v_max_pu - 1.0, v_max_pu, network.bus_names),
        ("v_min", v, 1.0 - v / v_min_pu, v_min_pu, network.bus_names),
        ("line", line_u, line_u - 1.0, 1.0, network.line_names),
        ("trafo", trafo_u[None], trafo_u[None] - 1.0, 1.0, np.array(["trafo"])),
    )
    for kind, value, excess, limit, names in checks:
        idx = np.argwhere(excess > tol)
        if idx.size:
            frames.append(pd.DataFrame({
                "kind": kind,
                "element": names[idx[:, 0]],
                "phase": np.array(["a", "b", "c"])[idx[:, 1]],
                "step": idx[:, 2],
                "value": value[idx[:, 0], idx[:, 1], idx[:, 2]],
                "limit": limit,
                "excess_pct": 100.0 * excess[idx[:, 0], idx[:, 1], idx[:, 2]],
            }))
    cols = ["kind", "element", "phase", "step", "value", "limit", "excess_pct"]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    out = out.sort_values("excess_pct", ascending=False, ignore_index=True)
    return v, line_u, trafo_u, out


# ---------------------------------------------------------------------------------------------- API
def solve_opf(
    network: Network,
    p_load_kw: ArrayLike,
    q_load_kvar: ArrayLike,
    p_pv_kw: ArrayLike,
    batteries: BatteryParams,
    dt_h: float,
    *,
    objective: Objective = "export",
    service: ArrayLike | None = None,
    grid_constraints: bool = True,
    v_min_pu: float = 0.9,
    v_max_pu: float = 1.1,
    mu: float = MU_BATTERY,
    tol_v_pu: float = 1e-4,
    max_iter: int = 8,
    power_flow: ExactPowerFlow | None = None,
    violation_tol_pct: float = 0.0,
    start: Literal["no_gc", "base"] = "no_gc",
    solver: SolverSettings | None = None,
) -> OPFResult:
    """Dispatch the VPP's batteries with the linearised three-phase AC OPF and validate it exactly.

    Implements §7.1 of the Chile roadmap (seed 000): eqs (4)-(10) for households and batteries, (11)-(22)
    for the network when ``grid_constraints``, and objective (23) (``"self_consumption"``) or (24)
    (``"export"`` in the ``service`` steps, weights of §7.2). With grid constraints the problem is re-solved
    around the exact power flow of its own dispatch until the linearisation point moves less than
    ``tol_v_pu`` (or ``max_iter`` solves; a stalled move is damped by taking the midpoint of the last two
    points). The exact power flow of the final dispatch gives the validation:
    voltage error of the OPF and every limit the exact solution violates.

    Parameters
    ----------
    network : Network
        Radial three-phase LV network (use the exactly reduced network to keep the problem small).
    p_load_kw, q_load_kvar : array_like, shape (n_site, n_steps)
        Non-controllable demand of every site (managed or not), load convention. [kW], [kvar]
    p_pv_kw : array_like, shape (n_site, n_steps)
        PV output of every site at unity power factor, non-negative (0 for sites without PV). [kW]
    batteries : BatteryParams
        The managed batteries, one per household; ``site_id`` names the site in ``network.sites``. The
        model of eqs (9)-(10) uses the power ratings, capacity, SoC window, efficiencies, self-discharge
        and ``soc0`` (one step of :func:`openvpp.der.battery.battery_energy`,
        :func:`energy_step_coefficients`); ramp limits and reactive power are not part of it (``Q_b = 0``).
    dt_h : float
        Step length. [h]
    objective : {"export", "self_consumption"}
        Eq. (24) or eq. (23).
    service : sequence of bool, shape (n_steps,), optional
        Service period T^s (required for ``"export"``), a mask over the steps. [-]
    grid_constraints : bool
        Include eqs (11)-(22). Without them the households are dispatched alone and the exact power flow
        shows what the network would see.
    v_min_pu, v_max_pu : float
        Voltage limits of eqs (21)-(22). [pu]
    mu : float
        Weight of the battery-throughput term. [-]
    tol_v_pu : float
        Re-linearisation stops when the point moves less than this. [pu]
    max_iter : int
        Largest number of OPF solves (linearisations; the solver's own iterations are in ``solver``). [-]
    power_flow : callable, optional
        Exact engine ``(p_site_kw, q_site_kvar) -> PowerFlowResult`` for ``network``; default the batched
        fixed-point solver :class:`~openvpp.grid.powerflow.BatchPowerFlow` (factorised once per call).
    violation_tol_pct : float
        Relative excess reported as a violation only above this. [%]
    start : {"no_gc", "base"}
        First linearisation point: the exact flow of the dispatch without grid constraints (one cheap
        extra solve; when no limit binds the first OPF solve is already exact) or of demand and PV alone.
    solver : SolverSettings, optional
        Settings of the conic solver (Clarabel): iteration and time limits, tolerances. A solve that
        ends ``optimal_inaccurate`` or at a limit with an iterate is returned flagged
        (``result.solver_status``, ``result.message``, ``converged=False``) and stops the
        re-linearisation; one without an iterate raises :class:`SolverStoppedError`.

    Returns
    -------
    OPFResult

    Raises
    ------
    ValidationError
        Inputs of wrong shape, sign, range or size (``n_bus x n_steps`` over :data:`MAX_OPF_BUS_STEPS`).
    InfeasibleError
        The solver proved that no dispatch satisfies the limits.
    SolverStoppedError
        The solver stopped (limit, numerical trouble) without a usable solution.
    """
    check_bus_steps(network.n_bus, np.shape(p_load_kw)[-1] if np.ndim(p_load_kw) else 1, "OPF",
                    limit=MAX_OPF_BUS_STEPS)
    pl, ql, pv, bsite, svc = _check_inputs(
        network, p_load_kw, q_load_kvar, p_pv_kw, batteries, dt_h, service, v_min_pu, v_max_pu
    )
    settings = solver if solver is not None else SolverSettings()
    if not isinstance(settings, SolverSettings):
        raise ValidationError(f"solver must be a SolverSettings (got {type(solver).__name__})")
    statuses: list[str] = []
    solver_iters: list[int] = []
    if objective not in ("export", "self_consumption"):
        raise ValidationError(f"objective must be 'export' or 'self_consumption' (got {objective!r})")
    if objective == "export" and not svc.any():
        raise ValidationError("objective 'export' needs a service period: give service as a boolean mask")
    if start not in ("no_gc", "base"):
        raise ValidationError(f"start must be 'no_gc' or 'base' (got {start!r})")
    if int(max_iter) < 1:
        raise ValidationError(f"max_iter (linearisations) must be >= 1 (got {max_iter})")
    pf = power_flow or BatchPowerFlow(network, reduce=False).run
    b_site = network.site_phase_matrix()
    ns, t = pl.shape
    build_s = solve_s = pf_s = 0.0
    st = None
    v_star = None
    if grid_constraints:
        t0 = time.perf_counter()
        st = _structure(network)
        build_s += time.perf_counter() - t0
        p0 = pl - pv  # initial point: exact flow of the demand and PV alone ...
        if start == "no_gc":  # ... or of the dispatch without grid constraints (cheap, usually closer)
            t0 = time.perf_counter()
            prob0 = _build(None, b_site, pl, ql, pv, bsite, batteries, dt_h, svc, objective, None,
                           v_min_pu, v_max_pu, mu)
            build_s += time.perf_counter() - t0
            _, compile_s, solver_s, status, iters = _solve(prob0, settings)
            statuses.append(status)
            solver_iters.append(iters)
            build_s += compile_s
            solve_s += solver_s
            p0 = p0.copy()
            p0[bsite] += _solved(prob0.p_charge, "p_charge") - _solved(prob0.p_discharge, "p_discharge")
        t0 = time.perf_counter()
        flow = pf(p0, ql)
        pf_s += time.perf_counter() - t0
        v_star = flow.v_complex_pu.reshape(3 * network.n_bus, t)
    history: list[float] = []
    err_history: list[float] = []
    n_iter = 0
    v_opf = None
    while True:
        t0 = time.perf_counter()
        prob = _build(st, b_site, pl, ql, pv, bsite, batteries, dt_h, svc, objective, v_star,
                      v_min_pu, v_max_pu, mu)
        build_s += time.perf_counter() - t0
        value, compile_s, solver_s, status, iters = _solve(prob, settings)
        statuses.append(status)
        solver_iters.append(iters)
        build_s += compile_s
        solve_s += solver_s
        n_iter += 1
        p_bat = _solved(prob.p_charge, "p_charge") - _solved(prob.p_discharge, "p_discharge")
        p_site = pl - pv
        p_site[bsite] += p_bat
        t0 = time.perf_counter()
        flow = pf(p_site, ql)
        pf_s += time.perf_counter() - t0
        if not grid_constraints:
            history.append(float("nan"))
            break
        if v_star is None:  # set before the loop whenever grid_constraints is on
            raise ValidationError("solve_opf: no linearisation point with grid_constraints=True")
        v_new = flow.v_complex_pu.reshape(3 * network.n_bus, t)
        v_opf = np.abs(_solved(prob.vr, "vr") + 1j * _solved(prob.vi, "vi")).reshape(network.n_bus, 3, t)
        err_history.append(float(np.abs(v_opf - flow.v_pu).max()))
        history.append(float(np.abs(v_new - v_star).max()))
        if history[-1] < tol_v_pu or n_iter >= max_iter or status != cp.OPTIMAL:
            break  # an inaccurate or stopped solve is no point to re-linearise around
        # the move shrinks about tenfold per solve; if it stalls (a dispatch flipping between two
        # near-equal optima), take the midpoint of the last two points instead
        stalled = len(history) >= 2 and history[-1] > 0.5 * history[-2]
        v_star = 0.5 * (v_star + v_new) if stalled else v_new
    v, line_u, trafo_u, viol = find_violations(network, flow, v_min_pu, v_max_pu, violation_tol_pct)
    v_err = float(np.abs(v_opf - v).max()) if v_opf is not None else float("nan")
    p_charge, p_discharge = _solved(prob.p_charge, "p_charge"), _solved(prob.p_discharge, "p_discharge")
    e = battery_energy(batteries.soc0 * batteries.e_max_kwh, np.maximum(p_charge, 0.0),
                       np.maximum(p_discharge, 0.0), batteries.eta_charge, batteries.eta_discharge, dt_h,
                       batteries.self_discharge_per_h)  # eq. (9): the battery model's own function
    worst = max(statuses, key=lambda s: _STATUS_RANK.get(s, 3))
    lin_ok = not grid_constraints or history[-1] < tol_v_pu
    notes = []
    if worst == cp.OPTIMAL_INACCURATE:
        notes.append(f"the solver ended 'optimal_inaccurate' (iterations {solver_iters}): its tolerances "
                     "were not all met, the dispatch may be slightly suboptimal or infeasible")
    elif worst == cp.USER_LIMIT:
        notes.append(f"the solver stopped at its iteration or time limit (iterations {solver_iters}, "
                     f"max_iter {settings.max_iter}): the dispatch is its last iterate, not an optimum; "
                     "raise --max-iter / SolverSettings.max_iter")
    if grid_constraints and not lin_ok:
        notes.append(f"the linearisation point still moved {history[-1]:.2g} pu after {n_iter} solves "
                     f"(tolerance {tol_v_pu:g} pu)")
    managed = np.zeros(ns, dtype=bool)
    managed[bsite] = True
    return OPFResult(
        objective=objective, grid_constraints=grid_constraints,
        site_ids=network.sites["site_id"].to_numpy(), managed=managed,
        p_site_kw=p_site, q_site_kvar=ql.copy(), p_battery_kw=p_bat, e_battery_kwh=e,
        v_opf_pu=v_opf, v_exact_pu=v, line_utilisation=line_u, trafo_utilisation=trafo_u,
        iterations=n_iter, dv_history_pu=history, v_error_history_pu=err_history,
        converged=bool(lin_ok and worst == cp.OPTIMAL),
        v_error_pu=v_err, violations=viol, objective_value=value,
        build_s=build_s, solve_s=solve_s, pf_s=pf_s,
        n_variables=int(sum(var.size for var in prob.problem.variables())),
        solver_status=worst, solver_iterations=solver_iters, message="; ".join(notes),
        battery_site_index=bsite.copy(),
    )

