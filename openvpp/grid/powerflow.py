"""Unbalanced (three-phase, four-wire Kron-reduced) power flow, batched over time.

The fast path, :class:`BatchPowerFlow`, is a fixed-point current-injection solver (the implicit Z-bus
method) on the exactly reduced network (:mod:`openvpp.grid.reduction`):

* the admittance matrix ``Y`` (3 unknowns per bus, lines as 3x3 phase impedances, the MV/LV transformer as
  a 3x3 impedance from its sequence impedances behind an ideal balanced source of ``v_source_pu``) is
  factorised **once** with a sparse LU;
* the columns of ``Z = Y^-1`` at the bus-phases where a site is connected are computed from that one
  factorisation; every iteration then updates ``V = V0 + Z I(V)`` at those bus-phases for all T time steps
  at once, where ``V0`` is the no-load voltage and ``I = -conj(S / V)`` the current drawn by constant-power
  wye loads (load convention: ``S = p + j q`` drawn from the grid, ``p_kw < 0`` is an injection);
* iterations stop when no voltage moves by more than ``tol_pu``; all voltages then follow from one
  product with ``Z`` and are expanded back to every bus and line of the full network by one sparse
  product (:meth:`~openvpp.grid.reduction.Reduction.expansion_matrix`).

It is written here rather than taken from a library because the batch engines at hand solve each step
from scratch (power-grid-model) or step by step (OpenDSS, pandapower), while a feeder with fixed topology
needs one factorisation for every time step: the whole day is a handful of sparse triangular solves with
many right-hand sides. Independent engines for validation live in :mod:`openvpp.grid.engines`.

Transformer model: the LV side of the MV/LV transformer is an ideal balanced source behind the
short-circuit impedance (positive = negative sequence ``trafo_z_pu``; zero sequence ``trafo_z0_pu``);
magnetising current, iron losses and the MV network's impedance are neglected, and the phase shift of
the vector group is not applied (voltage angles are referred to the LV no-load voltage of phase a).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import ArrayLike, NDArray

from openvpp.errors import InfeasibleError, ValidationError
from openvpp.grid import engines
from openvpp.grid.loaders import A_OP, sequence_to_phase
from openvpp.grid.network import Network
from openvpp.grid.reduction import Reduction, reduce_network
from openvpp.grid.results import PowerFlowResult, bus_phase_power_va, check_bus_steps, matvec3
from openvpp.units import W_PER_KW

__all__ = [
    "BatchPowerFlow", "PowerFlowResult", "admittance_matrix", "bus_phase_power_va", "matvec3",
    "run_powerflow", "source_voltages_v", "trafo_z_abc_ohm",
]


# ---------------------------------------------------------------------------------------------- inputs
def source_voltages_v(network: Network) -> NDArray[np.complex128]:
    """No-load LV phase voltages behind the transformer, balanced, phase a at 0°.

    Parameters
    ----------
    network : Network
        The network (``v_source_pu``, ``v_base_v``).

    Returns
    -------
    numpy.ndarray of complex, shape (3,)
        Phase-to-neutral voltages. [V]
    """
    return network.v_source_pu * network.v_base_v * np.array([1.0, A_OP**2, A_OP], dtype=np.complex128)


def trafo_z_abc_ohm(network: Network) -> NDArray[np.complex128]:
    """Transformer short-circuit impedance in the LV phase frame (from z1 and z0).

    Parameters
    ----------
    network : Network
        The network (``trafo_z_pu``, ``trafo_z0_pu``, base).

    Returns
    -------
    numpy.ndarray of complex, shape (3, 3)
        Phase-frame impedance. [ohm]
    """
    z1 = network.trafo_z_ohm
    z0 = (network.trafo_z0_pu if network.trafo_z0_pu is not None else network.trafo_z_pu) * network.z_base_ohm
    return sequence_to_phase(z0, z1)[0]


def admittance_matrix(network: Network) -> sp.csc_matrix:
    """Bus admittance matrix with the transformer impedance to ground at the source bus.

    Parameters
    ----------
    network : Network
        The network.

    Returns
    -------
    scipy.sparse.csc_matrix of complex, shape (3 n_bus, 3 n_bus)
        Admittance matrix, row and column ``3 * bus + phase``. [S]
    """
    yl = np.linalg.inv(network.z_ohm).astype(np.complex128, copy=False)
    f, t = network.line_from, network.line_to
    ii, jj = np.meshgrid(np.arange(3), np.arange(3), indexing="ij")
    rows: list[NDArray[np.int64]] = []
    cols: list[NDArray[np.int64]] = []
    vals: list[NDArray[np.complexfloating]] = []
    for a, b, sign in ((f, f, 1.0), (t, t, 1.0), (f, t, -1.0), (t, f, -1.0)):
        rows.append((3 * a[:, None, None] + ii[None]).ravel())
        cols.append((3 * b[:, None, None] + jj[None]).ravel())
        vals.append((sign * yl).ravel())
    yt = np.linalg.inv(trafo_z_abc_ohm(network))
    s = network.source_bus
    rows.append((3 * s + ii).ravel())
    cols.append((3 * s + jj).ravel())
    vals.append(yt.ravel())
    n = 3 * network.n_bus
    return sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))


# ---------------------------------------------------------------------------------------------- solver
class BatchPowerFlow:
    """Fast batched unbalanced power flow on a fixed network (see the module docstring).

    Parameters
    ----------
    network : Network
        The network; lines oriented from the source (every loader does so).
    reduce : bool
        Solve on the exact reduction (:func:`~openvpp.grid.reduction.reduce_network`) and expand the
        result to the full network; ``False`` solves the full network directly (same answer, slower).
    tol_pu : float
        Stop when no voltage changes by more than this between iterations. [pu]
    max_iter : int
        Iteration limit; :class:`~openvpp.errors.InfeasibleError` when reached (load beyond the
        feeder's transfer capability, or a voltage collapse). [-]

    Examples
    --------
    >>> from openvpp.grid.loaders import ieee_european_lv
    >>> net = ieee_european_lv()
    >>> pf = BatchPowerFlow(net)
    >>> res = pf.run(p_kw, q_kvar)        # p_kw, q_kvar: (55, T), + = drawn from the grid
    >>> res.v_pu.shape                    # (906, 3, T)
    """

    def __init__(self, network: Network, reduce: bool = True, tol_pu: float = 1e-10, max_iter: int = 200):
        if not (tol_pu > 0 and np.isfinite(tol_pu)):
            raise ValidationError(f"tol_pu must be a positive number (got {tol_pu!r})")
        if int(max_iter) < 1:
            raise ValidationError(f"max_iter must be >= 1 (got {max_iter!r})")
        if network.y_shunt_s is not None and np.any(network.y_shunt_s != 0):
            raise ValidationError(
                "BatchPowerFlow neglects line shunts; set network.y_shunt_s=None (LV cable capacitance)"
            )
        self.network = network
        self.tol_pu = float(tol_pu)
        self.max_iter = int(max_iter)
        self.reduction: Reduction | None = reduce_network(network) if reduce else None
        self.solve_network = self.reduction.reduced if self.reduction is not None else network
        net = self.solve_network
        lu = spla.splu(admittance_matrix(net), permc_spec="MMD_AT_PLUS_A")
        vs = source_voltages_v(net)
        self._v0 = np.tile(vs, net.n_bus)
        # bus-phases that can draw power: only their injections enter the fixed point, through the
        # columns of Z = Y^-1 obtained from the one factorisation
        self._loaded = np.flatnonzero(np.diff(net.site_phase_matrix().indptr))
        e = np.zeros((3 * net.n_bus, self._loaded.size), dtype=complex)
        e[self._loaded, np.arange(self._loaded.size)] = 1.0
        z_all = lu.solve(e) if self._loaded.size else e
        # kept as CSR: the products then run in scipy's single-threaded C loops, whose speed does not
        # collapse when BLAS threads compete for busy cores (measured: 20-300x slower small zgemm calls
        # on a loaded 2-core machine)
        self._z_all = sp.csr_matrix(z_all)
        self._z_ll = sp.csr_matrix(z_all[self._loaded])
        self._expand = (
            self.reduction.expansion_matrix(1.0 / network.v_base_v) if self.reduction is not None else None
        )
        self._yt = np.linalg.inv(trafo_z_abc_ohm(net))
        self._yl = np.linalg.inv(net.z_ohm)
        self._vs = vs

    def run(self, p_kw: ArrayLike, q_kvar: ArrayLike | None = None, full: bool = True) -> PowerFlowResult:
        """Solve every time step.

        Parameters
        ----------
        p_kw, q_kvar : array_like, shape (n_site,), (n_site, T) or (n_site, 3, T)
            Power drawn by each site, in the site order of ``network.sites`` (load convention:
            + = import, PV and battery discharge negative). See :func:`bus_phase_power_va`. [kW, kvar]
        full : bool
            Expand the result to every bus and line of the network (default). ``False`` returns it on the
            reduced network (``result.network`` is then ``self.solve_network``): every site bus, junction
            and the source bus, and one line per merged chain with its tightest rating, so line
            utilisation is exact; voltages at the dropped chain buses follow from the kept ends and the
            chain current (:meth:`~openvpp.grid.reduction.Reduction.expand_voltages`).

        Returns
        -------
        PowerFlowResult
        """
        net = self.solve_network
        shape = np.shape(p_kw)
        out_net = self.network if full and self.reduction is not None else net
        check_bus_steps(out_net.n_bus, int(shape[-1]) if len(shape) >= 2 else 1, "power flow")
        s = bus_phase_power_va(net, p_kw, q_kvar)
        v, it, change = self._iterate(s)
        nb = net.n_bus
        v3 = v.reshape(nb, 3, -1)
        i_line = matvec3(self._yl, v3[net.line_from] - v3[net.line_to])
        src = v3[net.source_bus]
        i_tr = self._yt @ (self._vs[:, None] - src)
        s_tr = src * np.conj(i_tr) / W_PER_KW
        out_net = net
        if self.reduction is not None and self._expand is not None and full:
            stacked = np.concatenate([v, i_line.reshape(3 * net.n_line, -1)], axis=0)
            v3 = (self._expand @ stacked).reshape(self.network.n_bus, 3, -1)
            i_line = self.reduction.expand_currents(i_line)
            out_net = self.network
        else:
            v3 *= 1.0 / self.network.v_base_v
        return PowerFlowResult(
            network=out_net,
            v_complex_pu=v3,
            i_line_complex_a=i_line,
            trafo_i_complex_a=i_tr,
            trafo_s_kva=s_tr,
            iterations=it,
            max_change_pu=change,
            engine="fast",
        )

    def _iterate(self, s_va: NDArray[np.complex128]) -> tuple[NDArray[np.complex128], int, float]:
        nl = self._loaded
        off = np.ones(s_va.shape[0], dtype=bool)
        off[nl] = False
        if np.any(s_va[off] != 0):
            raise ValidationError("power drawn on a bus-phase without a site connected to it")
        s_l = s_va[nl]
        v0_l = self._v0[nl][:, None]
        v_l = np.repeat(v0_l, s_va.shape[1], axis=1)
        tol_v = self.tol_pu * self.network.v_base_v
        change = np.inf
        for it in range(1, self.max_iter + 1):
            i_l = -np.conj(s_l / v_l)
            v_new = v0_l + self._z_ll @ i_l
            change = float(np.max(np.abs(v_new - v_l))) if v_new.size else 0.0
            v_l = v_new
            if change < tol_v:
                i_l = -np.conj(s_l / v_l)
                v = self._v0[:, None] + self._z_all @ i_l
                return v, it, change / self.network.v_base_v
            if not np.all(np.isfinite(v_l)):
                break
        raise InfeasibleError(
            f"unbalanced power flow did not converge in {self.max_iter} iterations (last change "
            f"{change / self.network.v_base_v:.3g} pu); the loading is likely beyond the feeder's capability "
            "(check p_kw units: kW, load convention) or raise max_iter"
        )


#: engines of :func:`run_powerflow`: name -> what it is (the one place engines are dispatched by name)
ENGINES: dict[str, str] = {
    "fast": "BatchPowerFlow on the exactly reduced network (default)",
    "full": "BatchPowerFlow on the unreduced network",
    "pandapower": "pandapower runpp_3ph, one call per step",
    "opendss": "OpenDSS through opendssdirect (own engine context), one snapshot solve per step",
    "pgm": "power-grid-model asymmetric Newton-Raphson, all steps in one batch",
}


def run_powerflow(
    network: Network,
    p_kw: ArrayLike,
    q_kvar: ArrayLike | None = None,
    *,
    engine: str = "fast",
    tol_pu: float | None = None,
    max_iter: int | None = None,
) -> PowerFlowResult:
    """Unbalanced power flow for T time steps with the chosen engine (the one dispatch by engine name).

    Parameters
    ----------
    network : Network
        The network to solve.
    p_kw, q_kvar : array_like, shape (n_site,), (n_site, T) or (n_site, 3, T)
        Power drawn by each site (load convention, + = import). [kW], [kvar]
    engine : {'fast', 'full', 'pandapower', 'opendss', 'pgm'}
        ``'fast'``: :class:`BatchPowerFlow` on the reduced network; ``'full'``: the same solver on the
        unreduced network; the others are the independent engines of :mod:`openvpp.grid.engines`
        (:data:`ENGINES`).
    tol_pu : float, optional
        Convergence tolerance, passed to every engine (voltage change for the fixed point and OpenDSS,
        mismatch for the Newton-Raphson engines); each engine's default when omitted. [pu]
    max_iter : int, optional
        Iteration limit of the engine (per step for the step-by-step engines). [-]

    Returns
    -------
    PowerFlowResult

    Raises
    ------
    ValidationError
        Unknown engine, bad tolerance or iteration limit, or inputs of the wrong shape or size.
    """
    if engine not in ENGINES:
        raise ValidationError(f"engine must be one of {list(ENGINES)} (got {engine!r})")
    opts: dict[str, Any] = {}
    if tol_pu is not None:
        opts["tol_pu"] = tol_pu
    if max_iter is not None:
        opts["max_iter"] = max_iter
    if engine in ("fast", "full"):
        return BatchPowerFlow(network, reduce=engine == "fast", **opts).run(p_kw, q_kvar)
    runners: dict[str, Callable[..., PowerFlowResult]] = {
        "pandapower": engines.run_pandapower, "opendss": engines.run_opendss, "pgm": engines.run_pgm,
    }
    return runners[engine](network, p_kw, q_kvar, **opts)
