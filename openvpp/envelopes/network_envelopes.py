"""Network-based operating envelopes: per-site export and import limits from the LV feeder's power flow.

Beyond seed 001 (whose constraint engine, :mod:`openvpp.envelopes.engine`, derives limits from a
transformer-level reverse-flow rule), this module computes, for every interval, the largest export (resp.
import) each VPP site may add on top of the uncontrolled net load of that interval such that the *exact
unbalanced power flow* of the feeder keeps every phase voltage in ``[v_min_pu, v_max_pu]`` (0.9-1.1 pu by
default) and every line and the MV/LV transformer within ``loading_max`` of their current rating, when **all
sites use their envelope simultaneously**. The total allowed export (import) is maximised under a fairness
rule:

* ``equal`` -- every site gets the same limit ``E_i(t) = lambda(t)``;
* ``proportional`` -- ``E_i(t) = lambda(t) * der_kw_i / max(der_kw)`` (limits in proportion to DER size);
* ``maxmin`` -- max-min fair by water-filling: all unfrozen sites rise together; a site is frozen when raising
  it alone would violate a limit or would raise a constraint that binds at the common level; the others
  continue. A final pass unfreezes sites that the exact power flow shows can still rise (in an unbalanced
  feeder, raising one phase can relieve another). The result is max-min fair with respect to single-site
  increases: no site can rise alone by ``step_kw``, and the smallest envelope is never below the equal one.
  Because of the phase coupling (a site's export can *lower* the voltage of another phase), a site may gain
  room when a larger site on another phase is lowered, so it is not a strict lexicographic optimum; the
  total is not monotone in the limits either (tightening a voltage limit can free thermal room for others).

Basis of the envelope (the same as the SAPN engine's "modelled net demand"): site ``i`` at its export envelope
draws ``p_i(t) = u_i(t) - E_i(t)`` and at its import envelope ``p_i(t) = u_i(t) + I_i(t)`` (load convention,
+ = import), where ``u_i`` is its uncontrolled net load; sites without an envelope (e.g. uncontrolled rooftop
PV) keep ``u``. The extra power is at unity power factor. Envelopes are non-negative magnitudes in kW and are
published as CSIP-AUS ``opModExpLimW`` / ``opModImpLimW`` (:func:`~openvpp.envelopes.objects
.envelopes_from_limits`). Where the uncontrolled state of an interval already violates a limit, that element's
limit is relaxed to its uncontrolled value (the envelope may not make it worse); such intervals are flagged in
:attr:`EnvelopeCheck.base_violation`.

Method and why: **bisection with the exact batched power flow**, not the linearised OPF of
:mod:`openvpp.grid.opf`. For ``equal`` and ``proportional`` the envelope has one free scale per interval, so
the largest feasible scale is found by bracketing (doubling) and bisection where every trial is one exact
unbalanced power flow (:class:`~openvpp.grid.powerflow.BatchPowerFlow`, vectorised over all intervals at
once: one factorisation, ~0.1 ms per interval). Max-min fairness repeats that bisection for the unfrozen
sites (water-filling) and decides freezing by trying each unfrozen site ``step_kw`` higher with the exact
power flow (all trials of a round in one batch). Every accepted point is exactly feasible, so no linearisation
error has to be corrected afterwards, and a final full-network power flow with every site at its envelope
(:func:`check_envelopes`) verifies the result. The feasible set in the common scale is an interval starting
at 0 (voltages rise monotonically with export; line currents are convex in it), which is what makes bisection
exact up to ``tol_kw``. No library offers fairness-constrained hosting envelopes on an unbalanced feeder,
hence the own implementation.

:func:`simbench_network_envelopes` builds the inputs from a SimBench LV grid and one day of its 2016 profiles
(loads as VPP sites, SimBench PV as uncontrolled three-phase injections) and :func:`compare_with_heuristic`
compares the result with the SAPN constraint engine on the same feeder and day.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from openvpp.envelopes.daily import SITE_BATTERY_KW, simbench_day_envelopes
from openvpp.envelopes.engine import (
    DEFAULT_MARGIN,
    DYNAMIC_CAP_KW,
    STATIC_FLOOR_KW,
    check_band,
    check_margin,
)
from openvpp.envelopes.objects import EnvelopeSet, envelopes_from_limits
from openvpp.errors import InfeasibleError, ValidationError
from openvpp.grid.network import Network, check_voltage_limits
from openvpp.grid.powerflow import BatchPowerFlow, PowerFlowResult
from openvpp.timeseries import as_2d, check_index, step_hours
from openvpp.units import KW_PER_MW, mw_to_kw

#: fairness rules of :func:`network_envelopes`
FAIRNESS: tuple[str, ...] = ("equal", "proportional", "maxmin")
#: directions of :func:`network_envelopes`
DIRECTIONS: tuple[str, ...] = ("export", "import")
#: acceptance threshold of the exact power-flow check: largest relative excess over a limit [-]
CHECK_TOL = 0.005
#: the method, as stated in results and reports
METHOD = "bisection / water-filling on the exact batched unbalanced power flow"

_FEAS_EPS = 1e-9  # numerical slack of the feasibility test (pu and loading units)


# ---------------------------------------------------------------------------------------------- checks
@dataclasses.dataclass(frozen=True)
class EnvelopeCheck:
    """Exact unbalanced power flow with every site at its envelope, per interval.

    Relative excess of an element: ``(v - v_max) / v_max``, ``(v_min - v) / v_min`` or
    ``(loading - loading_max) / loading_max``; 0 where the limit holds.

    Attributes
    ----------
    direction : str
        ``"export"`` or ``"import"``.
    v_max_pu, v_min_pu : numpy.ndarray, shape (n_steps,)
        Highest and lowest phase voltage in the network. [pu]
    line_loading, trafo_loading : numpy.ndarray, shape (n_steps,)
        Largest line utilisation and transformer loading. [-]
    violation : numpy.ndarray, shape (n_steps,)
        Largest relative excess over the limits. [-]
    added_violation : numpy.ndarray, shape (n_steps,)
        Largest relative excess over ``max(limit, uncontrolled value)`` element by element: what the
        envelopes add to the uncontrolled state. [-]
    base_violation : numpy.ndarray, shape (n_steps,)
        Largest relative excess of the uncontrolled state (no envelope used). [-]
    """

    direction: str
    v_max_pu: NDArray[np.float64]
    v_min_pu: NDArray[np.float64]
    line_loading: NDArray[np.float64]
    trafo_loading: NDArray[np.float64]
    violation: NDArray[np.float64]
    added_violation: NDArray[np.float64]
    base_violation: NDArray[np.float64]

    def n_violating(self, tol: float = CHECK_TOL, added: bool = False) -> int:
        """Intervals whose (added) violation exceeds ``tol`` (relative, 0.005 = 0.5 %).

        Parameters
        ----------
        tol : float
            Relative excess counted as a violation. [-]
        added : bool
            Count only what the envelopes add to the uncontrolled state.
        """
        v = self.added_violation if added else self.violation
        return int(np.sum(v > tol))

    def summary(self, tol: float = CHECK_TOL) -> dict:
        """Worst values and counts as plain numbers.

        Parameters
        ----------
        tol : float
            Relative excess counted as a violation. [-]
        """
        return {
            "direction": self.direction,
            "v_max_pu": float(self.v_max_pu.max()),
            "v_min_pu": float(self.v_min_pu.min()),
            "line_loading_max": float(self.line_loading.max()),
            "trafo_loading_max": float(self.trafo_loading.max()),
            "worst_violation": float(self.violation.max()),
            "worst_added_violation": float(self.added_violation.max()),
            "intervals_violating": self.n_violating(tol),
            "intervals_violating_added": self.n_violating(tol, added=True),
            "intervals_base_violating": int(np.sum(self.base_violation > tol)),
        }


def _relative_excess(res: PowerFlowResult, v_min_pu: float, v_max_pu: float,
                     loading_max: float) -> NDArray[np.float64]:
    """Per-element relative excess over the limits, shape (n_elem, T) (negative = slack)."""
    v = res.v_pu.reshape(-1, res.n_steps)
    return np.concatenate([
        (v - v_max_pu) / v_max_pu,
        (v_min_pu - v) / v_min_pu,
        (res.line_utilisation - loading_max) / loading_max,
        ((res.trafo_loading - loading_max) / loading_max)[None, :],
    ])


def _site_power(p_base: NDArray, idx: NDArray, site_kw: NDArray, sign: float) -> NDArray:
    p = p_base.copy()
    p[idx] += sign * site_kw
    return p


def check_envelopes(
    network: Network,
    p_base_kw: ArrayLike,
    q_base_kvar: ArrayLike | None,
    site_index: ArrayLike,
    site_kw: ArrayLike,
    direction: str = "export",
    v_min_pu: float = 0.9,
    v_max_pu: float = 1.1,
    loading_max: float = 1.0,
    pf: BatchPowerFlow | None = None,
) -> EnvelopeCheck:
    """Run the exact unbalanced power flow with every site at its envelope and measure the violations.

    Parameters
    ----------
    network : Network
    p_base_kw, q_base_kvar : array_like, shape (n_site, n_steps)
        Uncontrolled net load of every site of ``network`` (load convention, + = import). [kW, kvar]
    site_index : array_like of int, shape (n_env,)
        Rows of ``network.sites`` that hold the envelopes. [-]
    site_kw : array_like, shape (n_env, n_steps)
        Envelope of each of those sites (non-negative magnitude). [kW]
    direction : {"export", "import"}
        Export: ``p = u - E``; import: ``p = u + I``.
    v_min_pu, v_max_pu : float
        Voltage limits. [pu]
    loading_max : float
        Largest line utilisation / transformer loading. [-]
    pf : BatchPowerFlow, optional
        A power flow already built for ``network`` (full network results are used).

    Returns
    -------
    EnvelopeCheck
    """
    p0, q0, idx = _check_base(network, p_base_kw, q_base_kvar, site_index)
    sign = _direction_sign(direction)
    e = as_2d("site_kw", site_kw, idx.size, p0.shape[1])
    if np.any(~np.isfinite(e)) or np.any(e < 0):
        raise ValidationError("site_kw must be finite and >= 0 kW: envelopes are magnitudes")
    _check_limits(v_min_pu, v_max_pu, loading_max)
    pf = pf if pf is not None else BatchPowerFlow(network)
    base = pf.run(p0, q0)
    at = pf.run(_site_power(p0, idx, e, sign), q0)
    ex_b = _relative_excess(base, v_min_pu, v_max_pu, loading_max)
    ex_a = _relative_excess(at, v_min_pu, v_max_pu, loading_max)
    return EnvelopeCheck(
        direction=direction,
        v_max_pu=at.v_max_pu(),
        v_min_pu=at.v_min_pu(),
        line_loading=at.line_utilisation.max(axis=0),
        trafo_loading=at.trafo_loading,
        violation=np.maximum(ex_a.max(axis=0), 0.0),
        added_violation=np.maximum((ex_a - np.maximum(ex_b, 0.0)).max(axis=0), 0.0),
        base_violation=np.maximum(ex_b.max(axis=0), 0.0),
    )


# ---------------------------------------------------------------------------------------------- validation
def _direction_sign(direction: str) -> float:
    if direction not in DIRECTIONS:
        raise ValidationError(f"direction must be one of {DIRECTIONS} (got {direction!r})")
    return -1.0 if direction == "export" else 1.0


def _check_limits(v_min_pu: float, v_max_pu: float, loading_max: float) -> None:
    check_voltage_limits(v_min_pu, v_max_pu)
    if not (np.isfinite(loading_max) and loading_max > 0):
        raise ValidationError(f"loading_max must be > 0 (got {loading_max!r}); 1.0 = at the rating")


def _check_options(fairness: str, v_min_pu: float, v_max_pu: float, loading_max: float,
                   cap_kw: ArrayLike | None) -> None:
    """Checks of :func:`network_envelopes`'s options that need no network (run first by every caller)."""
    if fairness not in FAIRNESS:
        raise ValidationError(f"fairness must be one of {FAIRNESS} (got {fairness!r})")
    _check_limits(v_min_pu, v_max_pu, loading_max)
    if cap_kw is not None:
        c = np.asarray(cap_kw, dtype=float)
        if np.any(np.isnan(c)) or np.any(c < 0):
            raise ValidationError(
                f"cap_kw must be >= 0 kW (inf = network limits only) or None for each site's DER size "
                f"(got {cap_kw!r})"
            )


def _check_base(network: Network, p_base_kw: ArrayLike, q_base_kvar: ArrayLike | None,
                site_index: ArrayLike) -> tuple[NDArray, NDArray, NDArray]:
    p0 = np.asarray(p_base_kw, dtype=float)
    if p0.ndim != 2:
        raise ValidationError(f"p_base_kw must have shape (n_site, n_steps) (got {p0.shape})")
    p0 = as_2d("p_base_kw", p0, network.n_site, p0.shape[1])
    q0 = np.zeros_like(p0) if q_base_kvar is None else as_2d("q_base_kvar", q_base_kvar, *p0.shape)
    if not (np.all(np.isfinite(p0)) and np.all(np.isfinite(q0))):
        raise ValidationError("p_base_kw and q_base_kvar must be finite (NaN or inf found)")
    idx = np.atleast_1d(np.asarray(site_index)).astype(np.int64)
    if idx.ndim != 1 or idx.size == 0 or np.any((idx < 0) | (idx >= network.n_site)):
        raise ValidationError(
            f"site_index must list rows of network.sites in [0, {network.n_site}) (got {idx.tolist()[:5]})"
        )
    if np.unique(idx).size != idx.size:
        raise ValidationError("site_index must not repeat a site")
    return p0, q0, idx


# ---------------------------------------------------------------------------------------------- search
class _Feasibility:
    """Exact-PF feasibility of envelope columns (reduced network, per-element relaxed limits)."""

    def __init__(self, pf: BatchPowerFlow, p0: NDArray, q0: NDArray, idx: NDArray, sign: float,
                 v_min_pu: float, v_max_pu: float, loading_max: float):
        self.pf, self.p0, self.q0, self.idx, self.sign = pf, p0, q0, idx, sign
        self.lim = (v_min_pu, v_max_pu, loading_max)
        base = self._excess_raw(p0, q0)
        # an element already beyond its limit without envelopes may not get worse
        self.relax = np.maximum(base, 0.0)
        self.base = base
        self.n_pf = 0

    def _excess_raw(self, p: NDArray, q: NDArray) -> NDArray:
        """Relative excess per element and column; +inf where the power flow does not converge."""
        try:
            res = self.pf.run(p, q, full=False)
        except InfeasibleError:
            n = p.shape[1]
            if n == 1:
                return np.full((self._n_elem(), 1), np.inf)
            h = n // 2
            return np.concatenate([self._excess_raw(p[:, :h], q[:, :h]),
                                   self._excess_raw(p[:, h:], q[:, h:])], axis=1)
        return _relative_excess(res, *self.lim)

    def _n_elem(self) -> int:
        net = self.pf.solve_network
        return 6 * net.n_bus + net.n_line + 1

    def excess(self, e_kw: NDArray, cols: NDArray) -> NDArray:
        """Excess over the relaxed limits, (n_elem, C), for envelopes ``e_kw`` (n_env, C) at ``cols``."""
        self.n_pf += cols.size
        p = _site_power(self.p0[:, cols], self.idx, e_kw, self.sign)
        return self._excess_raw(p, self.q0[:, cols]) - self.relax[:, cols]

    @staticmethod
    def ok(ex: NDArray) -> NDArray[np.bool_]:
        return np.all(ex <= _FEAS_EPS, axis=0)


def _max_step(fz: _Feasibility, e0: NDArray, w: NDArray, cols: NDArray, step_max: NDArray, h0: NDArray,
              tol_kw: float) -> tuple[NDArray, NDArray]:
    """Largest feasible ``s`` with ``e0 + s w`` (max(w) = 1 per column), by doubling then bisection.

    Returns (lo, hi): ``lo`` feasible, ``hi`` infeasible or equal to ``lo`` at ``step_max``.
    """
    n = cols.size
    lo = np.zeros(n)
    hi = np.minimum(h0, step_max)
    open_ = np.ones(n, dtype=bool)  # still bracketing
    for _ in range(64):
        k = np.flatnonzero(open_)
        if k.size == 0:
            break
        ok = fz.ok(fz.excess(e0[:, k] + hi[k] * w[:, k], cols[k]))
        lo[k[ok]] = hi[k[ok]]
        at_max = hi[k] >= step_max[k]
        grow = ok & ~at_max
        hi[k[grow]] = np.minimum(2.0 * hi[k[grow]], step_max[k[grow]])
        open_[k[~grow]] = False
        if np.any(hi[k[grow]] > 1e7):
            raise InfeasibleError("envelope search found no binding limit below 10 GW; check the network")
    for _ in range(80):
        k = np.flatnonzero(hi - lo > tol_kw)
        if k.size == 0:
            break
        mid = 0.5 * (lo[k] + hi[k])
        ok = fz.ok(fz.excess(e0[:, k] + mid * w[:, k], cols[k]))
        lo[k[ok]] = mid[ok]
        hi[k[~ok]] = mid[~ok]
    return lo, hi


def _scale_search(fz: _Feasibility, w: NDArray, cap: NDArray, h0: float, tol_kw: float) -> NDArray:
    """Equal / proportional: ``E = s(t) w`` with the largest feasible ``s(t)``."""
    n_env, n_t = fz.idx.size, fz.p0.shape[1]
    cols = np.arange(n_t)
    ww = np.repeat(w[:, None], n_t, axis=1)
    with np.errstate(divide="ignore"):
        step_max = np.full(n_t, np.min(np.where(w > 0, cap / w, np.inf)))
    lo, _ = _max_step(fz, np.zeros((n_env, n_t)), ww, cols, step_max, np.full(n_t, h0), tol_kw)
    return lo[None, :] * ww


def _maxmin_search(fz: _Feasibility, cap: NDArray, h0: float, tol_kw: float, step_kw: float,
                   max_polish: int = 20) -> NDArray:
    """Max-min fair envelopes by water-filling with exact power-flow freezing tests."""
    n_env, n_t = fz.idx.size, fz.p0.shape[1]
    e = np.zeros((n_env, n_t))
    frozen = np.repeat((cap <= 0)[:, None], n_t, axis=1)
    capm = np.repeat(cap[:, None], n_t, axis=1)
    polish = 0
    for _ in range(8 * n_env + 40):
        cols = np.flatnonzero((~frozen).any(axis=0))
        if cols.size == 0:
            if polish >= max_polish:
                break
            polish += 1
            frozen = _freeze_test(fz, e, np.ones_like(frozen, dtype=bool), capm, step_kw)[0]
            frozen |= e >= capm - 1e-9
            if frozen.all():
                break
            continue
        w = (~frozen[:, cols]).astype(float)
        room = np.where(w > 0, capm[:, cols] - e[:, cols], np.inf).min(axis=0)
        lo, hi = _max_step(fz, e[:, cols], w, cols, room, np.full(cols.size, h0), tol_kw)
        e[:, cols] += lo * w
        # elements that bind at the common level: beyond their limit at ``hi``
        binding = np.zeros((fz.relax.shape[0], n_t), dtype=bool)
        moved = hi > lo
        if moved.any():
            cm = cols[moved]
            binding[:, cm] = fz.excess(e[:, cm] + (hi - lo)[moved] * w[:, moved], cm) > _FEAS_EPS
        trial = ~frozen.copy()
        new_frozen, worst = _freeze_test(fz, e, trial, capm, step_kw, binding)
        new_frozen |= e >= capm - 1e-9
        # guard: a column where nothing was frozen and nothing moved freezes its most constraining site
        stuck = cols[(lo <= tol_kw) & ~(new_frozen & ~frozen)[:, cols].any(axis=0)]
        for t in stuck:
            cand = np.flatnonzero(~new_frozen[:, t])
            if cand.size:
                new_frozen[cand[np.argmax(worst[cand, t])], t] = True
        frozen = new_frozen
    return e


def _freeze_test(fz: _Feasibility, e: NDArray, trial: NDArray, capm: NDArray, step_kw: float,
                 binding: NDArray | None = None) -> tuple[NDArray, NDArray]:
    """Try every (site, interval) in ``trial`` ``step_kw`` higher (one batch of exact power flows).

    Returns the new frozen mask (sites not tried keep frozen = ``~trial``; a tried site is frozen when its
    trial is infeasible or raises an element in ``binding``) and the worst excess of each trial.
    """
    n_env, n_t = e.shape
    frozen = ~trial.copy()
    worst = np.full((n_env, n_t), -np.inf)
    site, col = np.nonzero(trial)
    if site.size == 0:
        return frozen, worst
    et = e[:, col].copy()
    et[site, np.arange(site.size)] += np.minimum(step_kw, np.maximum(capm[site, col] - e[site, col], 0.0))
    ex = fz.excess(et, col)
    bad = ~fz.ok(ex)
    if binding is not None:
        used = np.unique(col)
        ref = np.empty((ex.shape[0], n_t))
        ref[:, used] = fz.excess(e[:, used], used)
        rises = (ex - ref[:, col]) > 1e-9
        bad |= np.any(rises & binding[:, col], axis=0)
    frozen[site, col] = bad
    worst[site, col] = ex.max(axis=0)
    return frozen, worst


# ---------------------------------------------------------------------------------------------- results
@dataclasses.dataclass(frozen=True)
class NetworkEnvelopes:
    """Per-site export and import envelopes from the network, with their exact power-flow checks.

    Attributes
    ----------
    site_ids : tuple of str
        Sites holding envelopes.
    index : pandas.DatetimeIndex, shape (n_steps,)
        Interval starts.
    fairness : str
        ``equal``, ``proportional`` or ``maxmin``.
    export_kw, import_kw : numpy.ndarray, shape (n_sites, n_steps) or None
        Envelopes (non-negative magnitudes) on top of the uncontrolled net load. [kW]
    export_check, import_check : EnvelopeCheck or None
        Exact power flow with every site at its envelope.
    der_kw : numpy.ndarray, shape (n_sites,)
        DER size used by ``proportional``. [kW]
    params : dict
        Limits and tolerances used.
    method : str
        The search method.
    """

    site_ids: tuple[str, ...]
    index: pd.DatetimeIndex
    fairness: str
    export_kw: NDArray[np.float64] | None
    import_kw: NDArray[np.float64] | None
    export_check: EnvelopeCheck | None
    import_check: EnvelopeCheck | None
    der_kw: NDArray[np.float64]
    params: dict
    method: str = METHOD

    @property
    def export_kwh(self) -> float:
        """Total allowed export energy over the horizon, all sites. [kWh]"""
        return 0.0 if self.export_kw is None else float(self.export_kw.sum() * step_hours(self.index))

    @property
    def import_kwh(self) -> float:
        """Total allowed import energy over the horizon, all sites. [kWh]"""
        return 0.0 if self.import_kw is None else float(self.import_kw.sum() * step_hours(self.index))

    def envelopes(self, default_export_kw: float = STATIC_FLOOR_KW) -> EnvelopeSet:
        """The envelopes as CSIP-AUS ``opModExpLimW`` / ``opModImpLimW`` controls (kind ``"site"``).

        Parameters
        ----------
        default_export_kw : float
            Static export limit of the DefaultDERControl. [kW]
        """
        n = (len(self.site_ids), len(self.index))
        exp = self.export_kw if self.export_kw is not None else np.zeros(n)
        return envelopes_from_limits(self.site_ids, self.index, exp, self.import_kw, kind="site",
                                     default_export_kw=default_export_kw)

    def to_frame(self) -> pd.DataFrame:
        """Per-site envelopes as a long table: one row per site and interval.

        Returns
        -------
        pandas.DataFrame
            Columns ``site_id``, ``start`` (tz-aware), ``export_kw`` and ``import_kw`` (NaN when not
            computed) [kW].
        """
        n_s, n_t = len(self.site_ids), len(self.index)
        nan = np.full((n_s, n_t), np.nan)
        return pd.DataFrame({
            "site_id": np.repeat(np.asarray(self.site_ids, dtype=object), n_t),
            "start": pd.DatetimeIndex(np.tile(self.index.asi8, n_s), tz="UTC").tz_convert(self.index.tz),
            "export_kw": (self.export_kw if self.export_kw is not None else nan).reshape(-1),
            "import_kw": (self.import_kw if self.import_kw is not None else nan).reshape(-1),
        })

    def to_dict(self) -> dict:
        """Plain summary for ``--json``."""
        out: dict = {"fairness": self.fairness, "method": self.method, "n_sites": len(self.site_ids),
                     "n_steps": len(self.index), "params": self.params,
                     "export_kwh": round(self.export_kwh, 3), "import_kwh": round(self.import_kwh, 3)}
        for name, chk in (("export_check", self.export_check), ("import_check", self.import_check)):
            if chk is not None:
                out[name] = chk.summary()
        return out


def network_envelopes(
    network: Network,
    p_base_kw: ArrayLike,
    q_base_kvar: ArrayLike | None,
    index: pd.DatetimeIndex,
    sites: ArrayLike | None = None,
    fairness: str = "equal",
    der_kw: ArrayLike | None = None,
    v_min_pu: float = 0.9,
    v_max_pu: float = 1.1,
    loading_max: float = 1.0,
    cap_kw: ArrayLike | None = None,
    directions: tuple[str, ...] = DIRECTIONS,
    tol_kw: float = 0.01,
    step_kw: float = 0.1,
) -> NetworkEnvelopes:
    """Per-site export and import envelopes for each interval from the exact unbalanced power flow.

    See the module docstring for the envelope's basis, the fairness rules and the method.

    Parameters
    ----------
    network : Network
        The LV feeder.
    p_base_kw, q_base_kvar : array_like, shape (n_site, n_steps)
        Uncontrolled net load of every site of ``network`` in each interval (load convention, + = import;
        rooftop PV negative). ``q_base_kvar`` None means 0. [kW, kvar]
    index : pandas.DatetimeIndex, shape (n_steps,)
        Interval starts (tz-aware, fixed step).
    sites : array_like of str, optional
        ``site_id`` of the sites that get envelopes (default: every site). [-]
    fairness : {"equal", "proportional", "maxmin"}
        Sharing rule.
    der_kw : array_like, shape (n_env,), optional
        DER size of each envelope site (required by ``proportional``, > 0). [kW]
    v_min_pu, v_max_pu : float
        Phase-to-neutral voltage limits. [pu]
    loading_max : float
        Largest line utilisation and transformer loading (1.0 = at the current rating). [-]
    cap_kw : float or array_like, shape (n_env,), optional
        Largest envelope of each site. None (default) = each site's own inverter or connection limit
        ``der_kw`` (required then); ``numpy.inf`` = the network limits only. With ``equal`` sharing every
        site gets the same envelope, so the smallest cap bounds them all. [kW]
    directions : tuple of {"export", "import"}
        Envelopes to compute.
    tol_kw : float
        Bisection tolerance on the largest site's envelope. [kW]
    step_kw : float
        Increment tried on one site when testing whether it can still rise (max-min). [kW]

    Returns
    -------
    NetworkEnvelopes
    """
    check_index(index, "index")
    _check_options(fairness, v_min_pu, v_max_pu, loading_max, cap_kw)
    for d in directions:
        _direction_sign(d)
    if not (tol_kw > 0 and step_kw > tol_kw):
        raise ValidationError(f"need 0 < tol_kw < step_kw (got tol_kw={tol_kw!r}, step_kw={step_kw!r})")
    all_ids = network.sites["site_id"].to_numpy()
    if sites is None:
        idx = np.arange(network.n_site)
    else:
        lookup = {s: i for i, s in enumerate(all_ids.tolist())}
        wanted = np.atleast_1d(np.asarray(sites)).astype(str).tolist()
        missing = [s for s in wanted if s not in lookup]
        if missing:
            raise ValidationError(f"sites {missing[:3]} are not in network {network.name!r}")
        idx = np.asarray([lookup[s] for s in wanted], dtype=np.int64)
    p0, q0, idx = _check_base(network, p_base_kw, q_base_kvar, idx)
    if p0.shape[1] != len(index):
        raise ValidationError(f"p_base_kw has {p0.shape[1]} steps but index has {len(index)}")
    if der_kw is None:
        if fairness == "proportional":
            raise ValidationError("fairness='proportional' needs der_kw (DER size of each site, kW)")
        der = np.ones(idx.size)
    else:
        der = np.atleast_1d(np.asarray(der_kw, dtype=float))
        if der.shape != idx.shape or np.any(~np.isfinite(der)) or np.any(der <= 0):
            raise ValidationError(f"der_kw must hold {idx.size} positive sizes in kW (got shape {der.shape})")
    if cap_kw is None:
        if der_kw is None:
            raise ValidationError(
                "network_envelopes needs each site's inverter or connection limit: pass der_kw (kW per "
                "site), or cap_kw (kW; numpy.inf for the network limits only)"
            )
        cap = der.copy()
    else:
        c = np.asarray(cap_kw, dtype=float)
        if c.ndim > 1 or (c.ndim == 1 and c.shape != idx.shape):
            raise ValidationError(f"cap_kw must be one value or one per site ({idx.size}); got {c.shape}")
        cap = np.broadcast_to(c, idx.shape).astype(float)
    w = der / der.max() if fairness == "proportional" else np.ones(idx.size)
    h0 = max(0.05 * network.trafo_sn_kva / idx.size, 10.0 * tol_kw)
    pf = BatchPowerFlow(network)
    out: dict[str, NDArray | None] = {"export": None, "import": None}
    checks: dict[str, EnvelopeCheck | None] = {"export": None, "import": None}
    for d in directions:
        fz = _Feasibility(pf, p0, q0, idx, _direction_sign(d), v_min_pu, v_max_pu, loading_max)
        if fairness == "maxmin":
            e = _maxmin_search(fz, cap, h0, tol_kw, step_kw)
        else:
            e = _scale_search(fz, w, cap, h0, tol_kw)
        out[d] = e
        checks[d] = check_envelopes(network, p0, q0, idx, e, d, v_min_pu, v_max_pu, loading_max, pf=pf)
    cap_text: object = "der_kw (each site's inverter limit)"
    if cap_kw is not None:
        c0 = np.asarray(cap_kw, dtype=float)
        cap_text = "per site" if c0.ndim else (float(c0) if np.isfinite(c0) else "none (network limits only)")
    params = {"v_min_pu": v_min_pu, "v_max_pu": v_max_pu, "loading_max": loading_max, "cap_kw": cap_text,
              "tol_kw": tol_kw, "step_kw": step_kw}
    return NetworkEnvelopes(
        site_ids=tuple(all_ids[idx].tolist()), index=index, fairness=fairness, export_kw=out["export"],
        import_kw=out["import"], export_check=checks["export"], import_check=checks["import"], der_kw=der,
        params=params,
    )


# ---------------------------------------------------------------------------------------------- SimBench
@dataclasses.dataclass(frozen=True)
class FeederDay:
    """A SimBench LV feeder and one day of its uncontrolled net load, ready for :func:`network_envelopes`.

    Attributes
    ----------
    grid_code, day : str
        SimBench code and day (2016).
    network : Network
        The feeder with one single-phase site per SimBench load (the VPP sites, first) and one balanced
        three-phase site per SimBench PV unit (``phase='abc'``, uncontrolled).
    index : pandas.DatetimeIndex, shape (96,)
        15-min interval starts of the day.
    p_base_kw, q_base_kvar : numpy.ndarray, shape (n_site, 96)
        Uncontrolled power of every site (load convention; PV negative). [kW, kvar]
    vpp_sites : tuple of str
        The sites that get envelopes (the loads).
    der_kw : numpy.ndarray, shape (n_vpp,)
        DER size of each VPP site: PV rating at its bus + :data:`SITE_BATTERY_KW`. [kW]
    """

    grid_code: str
    day: str
    network: Network
    index: pd.DatetimeIndex
    p_base_kw: NDArray[np.float64]
    q_base_kvar: NDArray[np.float64]
    vpp_sites: tuple[str, ...]
    der_kw: NDArray[np.float64]


def simbench_feeder_day(grid_code: str = "1-LV-rural1--2-sw", day: str = "2016-06-15") -> FeederDay:
    """Build the inputs of :func:`network_envelopes` from a SimBench LV grid and one day of 2016.

    Loads keep the phases of :func:`openvpp.grid.loaders.simbench_lv`; SimBench PV units (balanced
    three-phase static generators) become uncontrolled ``'abc'`` sites at their bus. The storage units of a
    SimBench grid, if any, are left out.

    Parameters
    ----------
    grid_code : str
        SimBench LV code, e.g. ``'1-LV-rural1--2-sw'``.
    day : str
        Day of the profile year 2016, ``YYYY-MM-DD``.

    Returns
    -------
    FeederDay
    """
    from openvpp.data import check_simbench_day, day_slice, load_simbench_lv, simbench_profiles
    from openvpp.grid.loaders import simbench_lv

    day = check_simbench_day(day, "day")
    net = simbench_lv(grid_code)
    pp = load_simbench_lv(grid_code)
    prof = simbench_profiles(pp)
    rows = day_slice(prof[("load", "p_mw")].index, day)
    ld = pp.load[pp.load["in_service"].astype(bool)]
    sg = pp.sgen[pp.sgen["in_service"].astype(bool)]
    names = ld["name"].astype(str).to_numpy()
    order = {n: k for k, n in enumerate(names.tolist())}
    pos = np.asarray([order[s] for s in net.sites["site_id"].tolist()])
    p_load = mw_to_kw(prof[("load", "p_mw")][ld.index].to_numpy(float)[rows].T[pos])
    q_load = mw_to_kw(prof[("load", "q_mvar")][ld.index].to_numpy(float)[rows].T[pos])
    p_pv = -mw_to_kw(prof[("sgen", "p_mw")][sg.index].to_numpy(float)[rows].T)
    q_key = ("sgen", "q_mvar")
    q_pv = -mw_to_kw(prof[q_key][sg.index].to_numpy(float)[rows].T) if q_key in prof else np.zeros_like(p_pv)
    pv_bus = net.bus_index(pp.bus.loc[sg["bus"].to_numpy(), "name"].astype(str).to_numpy())
    pv_sites = pd.DataFrame({"site_id": [f"pv:{n}" for n in sg["name"].astype(str)], "bus": pv_bus,
                             "phase": "abc"})
    network = net.replace(sites=pd.concat([net.sites, pv_sites], ignore_index=True))
    pv_at_bus = sg.groupby("bus")["p_mw"].sum() * KW_PER_MW
    der = ld["bus"].map(pv_at_bus).fillna(0.0).to_numpy()[pos] + SITE_BATTERY_KW
    index = prof[("load", "p_mw")].index[rows]
    return FeederDay(
        grid_code=grid_code, day=str(day), network=network, index=pd.DatetimeIndex(index),
        p_base_kw=np.vstack([p_load, p_pv]), q_base_kvar=np.vstack([q_load, q_pv]),
        vpp_sites=tuple(net.sites["site_id"].tolist()), der_kw=der,
    )


def simbench_network_envelopes(
    feeder: FeederDay,
    fairness: str = "equal",
    v_min_pu: float = 0.9,
    v_max_pu: float = 1.1,
    loading_max: float = 1.0,
    cap_kw: ArrayLike | None = None,
    directions: tuple[str, ...] = DIRECTIONS,
) -> NetworkEnvelopes:
    """:func:`network_envelopes` for the VPP sites of a :class:`FeederDay` (DER sizes from the feeder).

    Parameters
    ----------
    feeder : FeederDay
        Feeder and day from :func:`simbench_feeder_day`.
    fairness : str
        ``equal``, ``proportional`` or ``maxmin``.
    v_min_pu : float
        Lowest phase voltage. [pu]
    v_max_pu : float
        Highest phase voltage. [pu]
    loading_max : float
        Largest line / transformer loading. [-]
    cap_kw : ArrayLike | None
        Largest limit per site (dynamic cap). [kW]
    directions : tuple[str, ...]
        Envelopes to compute (``export``, ``import``).
    """
    return network_envelopes(
        feeder.network, feeder.p_base_kw, feeder.q_base_kvar, feeder.index, sites=feeder.vpp_sites,
        fairness=fairness, der_kw=feeder.der_kw, v_min_pu=v_min_pu, v_max_pu=v_max_pu,
        loading_max=loading_max, cap_kw=cap_kw, directions=directions,
    )


@dataclasses.dataclass(frozen=True)
class EnvelopeComparison:
    """Network envelopes against the SAPN constraint engine on the same feeder and day.

    Attributes
    ----------
    feeder : FeederDay
    network : NetworkEnvelopes
        Envelopes from the exact power flow.
    heuristic_export_kw : numpy.ndarray, shape (n_vpp, n_steps)
        Mediated export limit of each site from :func:`~openvpp.envelopes.daily.simbench_day_envelopes`. [kW]
    heuristic_check : EnvelopeCheck
        Exact power flow with every site exporting at the heuristic's limit.
    heuristic_params : dict
        Margin, floor, cap and allocation of the heuristic.
    """

    feeder: FeederDay
    network: NetworkEnvelopes
    heuristic_export_kw: NDArray[np.float64]
    heuristic_check: EnvelopeCheck
    heuristic_params: dict

    @property
    def heuristic_export_kwh(self) -> float:
        """Total export energy the heuristic allows over the day, all sites. [kWh]"""
        return float(self.heuristic_export_kw.sum() * step_hours(self.feeder.index))

    def summary(self, tol: float = CHECK_TOL) -> dict:
        """The comparison as plain numbers (for tables and ``--json``).

        Parameters
        ----------
        tol : float
            Relative excess counted as a violation. [-]
        """
        net = self.network
        out = {
            "grid": self.feeder.grid_code, "day": self.feeder.day, "fairness": net.fairness,
            "n_sites": len(net.site_ids), "method": net.method,
            "network_export_kwh": round(net.export_kwh, 3),
            "network_import_kwh": round(net.import_kwh, 3),
            "heuristic_export_kwh": round(self.heuristic_export_kwh, 3),
            "heuristic": self.heuristic_params,
            "heuristic_check": self.heuristic_check.summary(tol),
        }
        if net.export_check is not None:
            out["network_export_check"] = net.export_check.summary(tol)
        if net.import_check is not None:
            out["network_import_check"] = net.import_check.summary(tol)
        return out


def compare_with_heuristic(
    grid_code: str = "1-LV-rural1--2-sw",
    day: str = "2016-06-15",
    fairness: str = "equal",
    v_min_pu: float = 0.9,
    v_max_pu: float = 1.1,
    loading_max: float = 1.0,
    cap_kw: ArrayLike | None = None,
    m: float = DEFAULT_MARGIN,
    floor_kw: float = STATIC_FLOOR_KW,
    heuristic_cap_kw: float = DYNAMIC_CAP_KW,
    feeder: FeederDay | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> EnvelopeComparison:
    """Network envelopes and the SAPN heuristic on one SimBench feeder and day, both checked by exact PF.

    The heuristic is :func:`~openvpp.envelopes.daily.simbench_day_envelopes` (raw limit ``m min(P_volt,
    P_therm) + (D - G)`` with ``P_volt = P_therm`` = transformer rating, shared by ``fairness``, mediated to
    ``[floor_kw, heuristic_cap_kw]``); its limits are run through the exact power flow with every site
    exporting at them on top of the same uncontrolled net load.

    Parameters
    ----------
    grid_code, day : str
        SimBench LV grid and day of 2016.
    fairness : {"equal", "proportional", "maxmin"}
        Sharing rule of both methods.
    v_min_pu, v_max_pu, loading_max, cap_kw
        As in :func:`network_envelopes`. [pu, pu, -, kW]
    m, floor_kw, heuristic_cap_kw : float
        Confidence margin, static floor and dynamic cap of the heuristic. [-, kW, kW]
    feeder : FeederDay, optional
        Already built inputs (else :func:`simbench_feeder_day`).
    progress : callable(done, total), optional
        Called after each of the four stages (feeder, network envelopes, heuristic, check). [-]

    Returns
    -------
    EnvelopeComparison
    """
    from openvpp.data import check_simbench_day, load_simbench_lv

    # cheap checks first: a bad option must not wait for the grid, its profiles and the power flows
    _check_options(fairness, v_min_pu, v_max_pu, loading_max, cap_kw)
    check_margin(m)
    check_band(floor_kw, heuristic_cap_kw)
    if feeder is None:
        day = check_simbench_day(day, "day")
    step = progress or (lambda done, total: None)
    step(0, 4)
    fd = feeder if feeder is not None else simbench_feeder_day(grid_code, day)
    step(1, 4)
    env = simbench_network_envelopes(fd, fairness, v_min_pu, v_max_pu, loading_max, cap_kw)
    step(2, 4)
    heur = simbench_day_envelopes(fd.grid_code, fd.day, net=load_simbench_lv(fd.grid_code), m=m,
                                  floor_kw=floor_kw, cap_kw=heuristic_cap_kw, strategy=fairness)
    step(3, 4)
    if len(heur.index) != len(fd.index) or heur.index[0] != fd.index[0]:
        raise ValidationError(
            f"heuristic envelopes cover {heur.index[0]} x {len(heur.index)} but the feeder day "
            f"{fd.index[0]} x {len(fd.index)}; both must use the 15-min SimBench day"
        )
    ids = heur.envelopes.subjects
    lookup = {s: k for k, s in enumerate(ids)}
    missing = [s for s in fd.vpp_sites if s not in lookup]
    if missing:
        raise ValidationError(f"heuristic envelopes miss sites {missing[:3]}")
    h_kw = heur.site_export_kw[[lookup[s] for s in fd.vpp_sites]]
    n_vpp = len(fd.vpp_sites)
    chk = check_envelopes(fd.network, fd.p_base_kw, fd.q_base_kvar, np.arange(n_vpp), h_kw, "export",
                          v_min_pu, v_max_pu, loading_max)
    params = {"m": m, "floor_kw": floor_kw, "cap_kw": heuristic_cap_kw, "allocation": fairness,
              "p_volt_kw": "transformer rating"}
    step(4, 4)
    return EnvelopeComparison(fd, env, h_kw, chk, params)
