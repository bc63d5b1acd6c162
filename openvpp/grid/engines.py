"""Independent unbalanced power-flow engines, for validation and benchmarks.

Each engine builds its own model from a :class:`~openvpp.grid.network.Network` and solves it with its
own code:

* :func:`run_pandapower` — pandapower ``runpp_3ph`` (sequence-domain Newton-Raphson), one call per step;
* :func:`run_opendss` — OpenDSS through ``opendssdirect`` (nodal current injection), one solve per step,
  each engine in its own OpenDSS context (no process-wide state shared between engines);
* :func:`run_pgm` — power-grid-model asymmetric Newton-Raphson, all steps in one batch call.

The engines return node voltages; line and transformer currents are then computed from those voltages
with the network's line impedances (linear and exact for series lines), so every engine returns the same
:class:`~openvpp.grid.results.PowerFlowResult`. Every engine takes the same ``tol_pu`` and ``max_iter``
(:func:`openvpp.grid.powerflow.run_powerflow` dispatches to them by name).

Modelling differences (the source of the residuals between engines, see docs/grid.md):

* OpenDSS models the Dyn transformer with one leakage impedance for all sequences (``z0 = z1``) and
  its MV source behind a (very large) short-circuit level;
* pandapower builds the Dyn zero sequence from ``vk0_percent`` with a T model whose magnetising branch is
  set by ``mag0_percent`` and ``si0_hv_partial``; :func:`to_pandapower` sets them so that the zero-sequence
  impedance equals ``network.trafo_z0_pu``;
* power-grid-model uses one leakage impedance for all sequences and its source's short-circuit power
  ``sk``; lines are given as sequence impedances (``r1, x1, r0, x0``), so only symmetric line matrices
  are accepted by the pandapower and power-grid-model builders.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openvpp.errors import InfeasibleError, ValidationError
from openvpp.grid.loaders import keep_working_directory, phase_to_sequence
from openvpp.grid.network import Network
from openvpp.grid.results import PowerFlowResult, bus_phase_power_va, check_bus_steps, matvec3
from openvpp.units import A_PER_KA, KW_PER_MW, V_PER_KV, W_PER_KW, kw_to_mw, kw_to_w

#: nominal voltage given to the (fictitious) MV side of the transformer in the engine models [kV]
MV_KV = 20.0


#: default convergence tolerance and iteration limit of the engines [pu], [-]
DEFAULT_TOL_PU = 1e-10
DEFAULT_MAX_ITER = 100
#: largest number of steps the step-by-step engines (pandapower, OpenDSS) accept in one call [-]
MAX_STEPS_STEPWISE = 10_000


def _check_options(tol_pu: float, max_iter: int) -> tuple[float, int]:
    """Validate the common engine options (``tol_pu`` > 0 and finite, ``max_iter`` a whole number >= 1)."""
    ok = isinstance(tol_pu, (int, float)) and not isinstance(tol_pu, bool) and np.isfinite(tol_pu)
    if not (ok and tol_pu > 0):
        raise ValidationError(f"tol_pu must be a positive number of per unit (got {tol_pu!r}); e.g. 1e-8")
    if isinstance(max_iter, bool) or int(max_iter) != max_iter or int(max_iter) < 1:
        raise ValidationError(f"max_iter must be a whole number >= 1 (got {max_iter!r}); e.g. 100")
    return float(tol_pu), int(max_iter)


def _check_steps(network: Network, p_kw: ArrayLike, engine: str, stepwise: bool) -> None:
    """Bound the number of steps before an engine allocates per-step results."""
    shape = np.shape(p_kw)
    n_steps = 1 if len(shape) < 2 else int(shape[-1])
    check_bus_steps(network.n_bus, n_steps, f"{engine} power flow")
    if stepwise and n_steps > MAX_STEPS_STEPWISE:
        raise ValidationError(
            f"{engine} power flow solves one step at a time: {n_steps:,} steps exceed the bound of "
            f"{MAX_STEPS_STEPWISE:,}; use engine='fast' or 'pgm' for long horizons"
        )


def _sequence_lines(network: Network) -> tuple[NDArray[np.complex128], NDArray[np.complex128]]:
    z012 = phase_to_sequence(network.z_ohm)
    off = z012.copy()
    off[:, [0, 1, 2], [0, 1, 2]] = 0
    scale = np.abs(z012).max()
    asym = np.abs(z012[:, 1, 1] - z012[:, 2, 2]).max()
    if np.abs(off).max() > 1e-9 * max(scale, 1e-12) or asym > 1e-9 * scale:
        raise ValidationError(
            "this engine takes lines as sequence impedances; network.z_ohm must be symmetric "
            "(Zabc = A diag(z0, z1, z1) A^-1)"
        )
    return z012[:, 0, 0], z012[:, 1, 1]


def _result_from_voltages(
    network: Network,
    v_pu: NDArray[np.complex128],
    s_va: NDArray[np.complex128],
    engine: str,
    iterations: int = 0,
) -> PowerFlowResult:
    """Complete a result from bus voltages (n_bus, 3, T): line currents, transformer current and power."""
    vb = network.v_base_v
    v = v_pu * vb
    i_line = matvec3(np.linalg.inv(network.z_ohm), v[network.line_from] - v[network.line_to])
    src = network.source_bus
    s_src = s_va.reshape(network.n_bus, 3, -1)[src]
    i_tr = np.conj(s_src / v[src])
    out = network.line_from == src
    inc = network.line_to == src
    i_tr = i_tr + i_line[out].sum(axis=0) - i_line[inc].sum(axis=0)
    s_tr = v[src] * np.conj(i_tr) / W_PER_KW
    return PowerFlowResult(
        network=network,
        v_complex_pu=v_pu,
        i_line_complex_a=i_line,
        trafo_i_complex_a=i_tr,
        trafo_s_kva=s_tr,
        iterations=iterations,
        engine=engine,
    )


# ---------------------------------------------------------------------------------------------- pandapower
def to_pandapower(network: Network) -> Any:
    """A pandapower net equivalent to ``network`` for ``runpp_3ph`` (one asymmetric load per loaded bus).

    The MV side is an external grid of very high short-circuit power at ``MV_KV``; lines are given per km
    with a length of 1 km; loads are wye, constant power.

    Parameters
    ----------
    network : Network
        The network to convert (symmetric line matrices only, see the module docstring).

    Returns
    -------
    pandapowerNet
        The equivalent pandapower network.
    """
    import pandapower as pp

    if network.line_names is None:  # always set by Network.__post_init__
        raise ValidationError(f"network {network.name!r} has no line_names; build it with Network(...)")
    line_names = network.line_names
    z0, z1 = _sequence_lines(network)
    net = pp.create_empty_network(name=network.name, sn_mva=1.0)
    kv_lv = network.v_base_v * np.sqrt(3.0) / V_PER_KV
    hv = pp.create_bus(net, vn_kv=MV_KV, name="mv")
    buses = pp.create_buses(net, network.n_bus, vn_kv=kv_lv, name=network.bus_names.tolist())
    pp.create_ext_grid(
        net, hv, vm_pu=network.v_source_pu, s_sc_max_mva=1e8, s_sc_min_mva=1e8, rx_max=0.1, rx_min=0.1,
        r0x0_max=0.1, x0x_max=1.0, r0x0_min=0.1, x0x_min=1.0,
    )
    zt = complex(network.trafo_z_pu)
    zt0 = complex(network.trafo_z0_pu if network.trafo_z0_pu is not None else zt)
    pp.create_transformer_from_parameters(
        net, hv, buses[network.source_bus], sn_mva=float(kw_to_mw(network.trafo_sn_kva)), vn_hv_kv=MV_KV,
        vn_lv_kv=kv_lv, vkr_percent=zt.real * 100, vk_percent=abs(zt) * 100, pfe_kw=0.0, i0_percent=0.0,
        vector_group="Dyn", vk0_percent=abs(zt0) * 100, vkr0_percent=zt0.real * 100, mag0_percent=1e9,
        mag0_rx=0.0, si0_hv_partial=0.9, shift_degree=0.0,
    )
    pp.create_lines_from_parameters(
        net, buses[network.line_from], buses[network.line_to], length_km=1.0, r_ohm_per_km=z1.real,
        x_ohm_per_km=z1.imag, c_nf_per_km=0.0, max_i_ka=network.i_max_a / A_PER_KA, r0_ohm_per_km=z0.real,
        x0_ohm_per_km=z0.imag, c0_nf_per_km=0.0, name=line_names.tolist(),
    )
    loaded = np.unique(network.sites["bus"].to_numpy())
    for b in loaded:
        pp.create_asymmetric_load(net, buses[b], name=f"load_{network.bus_names[b]}")
    net["_openvpp_loaded_buses"] = loaded
    return net


def run_pandapower(
    network: Network,
    p_kw: ArrayLike,
    q_kvar: ArrayLike | None = None,
    pp_net: Any | None = None,
    tol_pu: float = DEFAULT_TOL_PU,
    max_iter: int = DEFAULT_MAX_ITER,
) -> PowerFlowResult:
    """Unbalanced power flow with pandapower ``runpp_3ph``, one call per time step (see module docstring).

    Parameters
    ----------
    network : Network
        The network to solve.
    p_kw, q_kvar : array_like, shape (n_site,), (n_site, T) or (n_site, 3, T)
        Power drawn by each site (load convention). [kW], [kvar]
    pp_net : pandapowerNet, optional
        A net built by :func:`to_pandapower` (reuse it across calls to save the build time).
    tol_pu : float
        Newton-Raphson power mismatch tolerance on the net's 1 MVA base (``tolerance_mva``). [pu]
    max_iter : int
        Newton-Raphson iteration limit per step. [-]

    Returns
    -------
    PowerFlowResult
    """
    import pandapower as pp

    tol_pu, max_iter = _check_options(tol_pu, max_iter)
    _check_steps(network, p_kw, "pandapower", stepwise=True)
    s = bus_phase_power_va(network, p_kw, q_kvar)
    net = pp_net if pp_net is not None else to_pandapower(network)
    loaded = net["_openvpp_loaded_buses"]
    sb = s.reshape(network.n_bus, 3, -1)[loaded] / (W_PER_KW * KW_PER_MW)  # MVA
    t_steps = s.shape[1]
    v = np.empty((network.n_bus, 3, t_steps), dtype=complex)
    lv_idx = net.bus.index[1:].to_numpy()
    al = net.asymmetric_load
    for t in range(t_steps):
        al["p_a_mw"], al["p_b_mw"], al["p_c_mw"] = sb[:, 0, t].real, sb[:, 1, t].real, sb[:, 2, t].real
        al["q_a_mvar"], al["q_b_mvar"], al["q_c_mvar"] = sb[:, 0, t].imag, sb[:, 1, t].imag, sb[:, 2, t].imag
        try:
            pp.runpp_3ph(net, tolerance_mva=tol_pu, max_iteration=max_iter)
        except Exception as exc:  # pandapower raises its own LoadflowNotConverged
            raise InfeasibleError(f"pandapower runpp_3ph did not converge at step {t}: {exc}") from exc
        r = net.res_bus_3ph.loc[lv_idx]
        for k, ph in enumerate("abc"):
            ang = np.deg2rad(r[f"va_{ph}_degree"].to_numpy())
            v[:, k, t] = r[f"vm_{ph}_pu"].to_numpy() * np.exp(1j * ang)
    return _result_from_voltages(network, v, s, "pandapower")


# ---------------------------------------------------------------------------------------------- opendss
def to_opendss(
    network: Network, tol_pu: float = DEFAULT_TOL_PU, max_iter: int = DEFAULT_MAX_ITER
) -> list[str]:
    """OpenDSS commands building ``network`` (buses ``b<index>``, loads ``s<site index>``).

    Parameters
    ----------
    network : Network
        The network to write.
    tol_pu : float
        OpenDSS solution tolerance (largest voltage change between iterations). [pu]
    max_iter : int
        OpenDSS iteration limit per solve. [-]

    Returns
    -------
    list of str
        The commands, starting with ``clear``.
    """
    kv_lv = network.v_base_v * np.sqrt(3.0) / V_PER_KV
    zt = complex(network.trafo_z_pu)
    cmds = [
        "clear",
        f"new circuit.openvpp basekv={MV_KV} pu={network.v_source_pu:.12g} phases=3 bus1=sourcebus "
        "mvasc3=1e8 mvasc1=1e8",
        f"new transformer.mvlv phases=3 windings=2 buses=[sourcebus, b{network.source_bus}] "
        f"conns=[delta, wye] kvs=[{MV_KV}, {kv_lv:.12g}] kvas=[{network.trafo_sn_kva:.12g}, "
        f"{network.trafo_sn_kva:.12g}] %rs=[{zt.real * 50:.12g}, {zt.real * 50:.12g}] "
        f"xhl={zt.imag * 100:.12g} %noloadloss=0 %imag=0",
    ]
    for k in range(network.n_line):
        z = network.z_ohm[k]
        rm = " | ".join(" ".join(f"{z[i, j].real:.15g}" for j in range(i + 1)) for i in range(3))
        xm = " | ".join(" ".join(f"{z[i, j].imag:.15g}" for j in range(i + 1)) for i in range(3))
        cmds.append(
            f"new line.l{k} bus1=b{network.line_from[k]}.1.2.3 bus2=b{network.line_to[k]}.1.2.3 phases=3 "
            f"length=1 units=none rmatrix=({rm}) xmatrix=({xm}) cmatrix=(0 | 0 0 | 0 0 0) "
            f"normamps={network.i_max_a[k]:.12g}"
        )
    vln = network.v_base_v / V_PER_KV
    for i, (bus, ph) in enumerate(zip(network.sites["bus"], network.sites["phase"], strict=True)):
        if ph == "abc":
            cmds.append(f"new load.s{i} bus1=b{bus}.1.2.3 phases=3 kv={kv_lv:.12g} kw=0 kvar=0 model=1 "
                        "conn=wye vminpu=0.3 vmaxpu=3")
        else:
            node = "abc".index(ph) + 1
            cmds.append(f"new load.s{i} bus1=b{bus}.{node} phases=1 kv={vln:.12g} kw=0 kvar=0 model=1 "
                        "conn=wye vminpu=0.3 vmaxpu=3")
    cmds += [
        f"set voltagebases=[{MV_KV}, {kv_lv:.12g}]",
        "calcvoltagebases",
        f"set mode=snapshot maxiterations={int(max_iter)} tolerance={float(tol_pu):.6g}",
    ]
    return cmds


class OpenDSSEngine:
    """A compiled OpenDSS model of a network in its own OpenDSS context, solved step by step.

    Every engine compiles into a separate OpenDSS engine context (``opendssdirect.NewContext()``), never
    into the process-wide default instance: building a second engine, or reading a ``.dss`` file with
    :func:`openvpp.grid.loaders.from_opendss`, leaves the first engine's circuit and results unchanged.

    Parameters
    ----------
    network : Network
        The network to compile.
    tol_pu : float
        OpenDSS solution tolerance. [pu]
    max_iter : int
        OpenDSS iteration limit per step. [-]
    """

    def __init__(self, network: Network, tol_pu: float = DEFAULT_TOL_PU, max_iter: int = DEFAULT_MAX_ITER):
        import opendssdirect

        tol_pu, max_iter = _check_options(tol_pu, max_iter)
        self.network = network
        with keep_working_directory():
            dss = opendssdirect.NewContext()
            for c in to_opendss(network, tol_pu=max(tol_pu, 1e-12), max_iter=max_iter):
                dss.Text.Command(c)
        self._dss = dss
        names = [n.lower() for n in dss.Circuit.AllNodeNames()]
        pos = {n: i for i, n in enumerate(names)}
        idx = np.empty((network.n_bus, 3), dtype=np.int64)
        for b in range(network.n_bus):
            for k in range(3):
                idx[b, k] = pos[f"b{b}.{k + 1}"]
        self._node_idx = idx
        self._loads = [f"s{i}" for i in range(network.n_site)]

    def run(self, p_kw: ArrayLike, q_kvar: ArrayLike | None = None) -> PowerFlowResult:
        """Solve every step (loads updated through the Loads interface, one snapshot solve per step).

        Parameters
        ----------
        p_kw, q_kvar : array_like, shape (n_site,) or (n_site, T)
            Power drawn by each site (load convention). [kW], [kvar]

        Returns
        -------
        PowerFlowResult
        """
        _check_steps(self.network, p_kw, "OpenDSS", stepwise=True)
        s = bus_phase_power_va(self.network, p_kw, q_kvar)
        return _result_from_voltages(self.network, self.voltages_pu(p_kw, q_kvar), s, "opendss")

    def voltages_pu(self, p_kw: ArrayLike, q_kvar: ArrayLike | None = None) -> NDArray[np.complex128]:
        """Bus voltage phasors only, shape (n_bus, 3, T), from one OpenDSS snapshot solve per step. [pu]

        Parameters
        ----------
        p_kw, q_kvar : array_like, shape (n_site,) or (n_site, T)
            Power drawn by each site (load convention). [kW], [kvar]

        Returns
        -------
        numpy.ndarray of complex, shape (n_bus, 3, T)
            Phase-to-neutral voltage phasors. [pu]
        """
        _check_steps(self.network, p_kw, "OpenDSS", stepwise=True)
        dss = self._dss
        net = self.network
        p = np.asarray(p_kw, dtype=float)
        q = np.zeros_like(p) if q_kvar is None else np.asarray(q_kvar, dtype=float)
        if p.ndim == 1:
            p, q = p[:, None], q[:, None]
        if p.ndim != 2:
            raise ValidationError("the OpenDSS engine takes p_kw of shape (n_site,) or (n_site, T)")
        t_steps = p.shape[1]
        v = np.empty((net.n_bus, 3, t_steps), dtype=np.complex128)
        loads = dss.Loads
        for t in range(t_steps):
            for i, name in enumerate(self._loads):
                loads.Name(name)
                loads.kW(float(p[i, t]))
                loads.kvar(float(q[i, t]))
            dss.Solution.Solve()
            if not dss.Solution.Converged():
                raise InfeasibleError(f"OpenDSS did not converge at step {t}")
            raw = np.asarray(dss.Circuit.AllBusVolts())
            vc = raw[0::2] + 1j * raw[1::2]
            v[:, :, t] = vc[self._node_idx]
        return v / net.v_base_v


def run_opendss(
    network: Network,
    p_kw: ArrayLike,
    q_kvar: ArrayLike | None = None,
    tol_pu: float = DEFAULT_TOL_PU,
    max_iter: int = DEFAULT_MAX_ITER,
) -> PowerFlowResult:
    """Unbalanced power flow with OpenDSS, one snapshot solve per step (see module docstring).

    Parameters
    ----------
    network : Network
        The network to solve (compiled into a fresh OpenDSS context, :class:`OpenDSSEngine`).
    p_kw, q_kvar : array_like, shape (n_site,) or (n_site, T)
        Power drawn by each site (load convention). [kW], [kvar]
    tol_pu : float
        OpenDSS solution tolerance. [pu]
    max_iter : int
        OpenDSS iteration limit per step. [-]

    Returns
    -------
    PowerFlowResult
    """
    _check_steps(network, p_kw, "OpenDSS", stepwise=True)
    return OpenDSSEngine(network, tol_pu=tol_pu, max_iter=max_iter).run(p_kw, q_kvar)


# ---------------------------------------------------------------------------------------------- pgm
class PGMEngine:
    """A power-grid-model model of a network, solved for all steps in one asymmetric batch call.

    Parameters
    ----------
    network : Network
        The network to model (symmetric line matrices only, see the module docstring).
    tol_pu : float
        Newton-Raphson tolerance (power-grid-model's ``error_tolerance``, a voltage change). [pu]
    max_iter : int
        Newton-Raphson iteration limit. [-]
    """

    def __init__(self, network: Network, tol_pu: float = DEFAULT_TOL_PU, max_iter: int = DEFAULT_MAX_ITER):
        from power_grid_model import (
            ComponentType,
            DatasetType,
            LoadGenType,
            PowerGridModel,
            WindingType,
            initialize_array,
        )

        self.tol_pu, self.max_iter = _check_options(tol_pu, max_iter)
        self.network = network
        z0, z1 = _sequence_lines(network)
        nb, nl = network.n_bus, network.n_line
        kv_lv = network.v_base_v * np.sqrt(3.0)
        node = initialize_array(DatasetType.input, ComponentType.node, nb + 1)
        node["id"] = np.arange(nb + 1)
        node["u_rated"] = np.r_[np.full(nb, kv_lv), MV_KV * V_PER_KV]
        mv = nb
        line = initialize_array(DatasetType.input, ComponentType.line, nl)
        base = nb + 1
        line["id"] = base + np.arange(nl)
        line["from_node"], line["to_node"] = network.line_from, network.line_to
        line["from_status"], line["to_status"] = 1, 1
        line["r1"], line["x1"], line["c1"], line["tan1"] = z1.real, z1.imag, 0.0, 0.0
        line["r0"], line["x0"], line["c0"], line["tan0"] = z0.real, z0.imag, 0.0, 0.0
        line["i_n"] = network.i_max_a
        tr = initialize_array(DatasetType.input, ComponentType.transformer, 1)
        zt = complex(network.trafo_z_pu)
        sn = float(kw_to_w(network.trafo_sn_kva))
        tr["id"] = base + nl
        tr["from_node"], tr["to_node"] = mv, network.source_bus
        tr["from_status"], tr["to_status"] = 1, 1
        tr["u1"], tr["u2"], tr["sn"] = MV_KV * V_PER_KV, kv_lv, sn
        tr["uk"], tr["pk"], tr["i0"], tr["p0"] = abs(zt), zt.real * sn, 0.0, 0.0
        tr["winding_from"], tr["winding_to"], tr["clock"] = WindingType.delta, WindingType.wye_n, 1
        for field in ("tap_side", "tap_pos", "tap_min", "tap_max", "tap_nom", "tap_size"):
            tr[field] = 0
        src = initialize_array(DatasetType.input, ComponentType.source, 1)
        src["id"], src["node"], src["status"] = base + nl + 1, mv, 1
        src["u_ref"], src["sk"], src["rx_ratio"], src["z01_ratio"] = network.v_source_pu, 1e15, 0.1, 1.0
        ns = network.n_site
        load = initialize_array(DatasetType.input, ComponentType.asym_load, ns)
        self._load_ids = base + nl + 2 + np.arange(ns)
        load["id"] = self._load_ids
        load["node"] = network.sites["bus"].to_numpy()
        load["status"] = 1
        load["type"] = LoadGenType.const_power
        load["p_specified"], load["q_specified"] = 0.0, 0.0
        self._ct = ComponentType
        self._model = PowerGridModel(
            {
                ComponentType.node: node,
                ComponentType.line: line,
                ComponentType.transformer: tr,
                ComponentType.source: src,
                ComponentType.asym_load: load,
            }
        )
        self._init = initialize_array

    def run(self, p_kw: ArrayLike, q_kvar: ArrayLike | None = None, threading: int = -1) -> PowerFlowResult:
        """Solve every step in one batch.

        Parameters
        ----------
        p_kw, q_kvar : array_like, shape (n_site,), (n_site, T) or (n_site, 3, T)
            Power drawn by each site (load convention). [kW], [kvar]
        threading : int
            power-grid-model's thread setting: -1 serial, 0 all hardware threads, n threads. [-]

        Returns
        -------
        PowerFlowResult
        """
        s = bus_phase_power_va(self.network, p_kw, q_kvar)
        v = self.voltages_pu(p_kw, q_kvar, threading=threading)
        return _result_from_voltages(self.network, v, s, "pgm")

    def voltages_pu(
        self, p_kw: ArrayLike, q_kvar: ArrayLike | None = None, threading: int = -1
    ) -> NDArray[np.complex128]:
        """Bus voltage phasors only, shape (n_bus, 3, T), from one batch call. [pu]

        Parameters
        ----------
        p_kw, q_kvar : array_like, shape (n_site,), (n_site, T) or (n_site, 3, T)
            Power drawn by each site (load convention). [kW], [kvar]
        threading : int
            power-grid-model's thread setting (see :meth:`run`). [-]

        Returns
        -------
        numpy.ndarray of complex, shape (n_bus, 3, T)
            Phase-to-neutral voltage phasors. [pu]
        """
        from power_grid_model import CalculationMethod, DatasetType

        net = self.network
        _check_steps(net, p_kw, "power-grid-model", stepwise=False)
        bus_phase_power_va(net, p_kw, q_kvar)  # validates shapes and values
        p = np.asarray(p_kw, dtype=float)
        q = np.zeros_like(p) if q_kvar is None else np.asarray(q_kvar, dtype=float)
        if p.ndim == 1:
            p, q = p[:, None], q[:, None]
        if p.ndim == 2:  # distribute to phases like bus_phase_power_va
            w = net.site_phase_weights()
            p3, q3 = w[:, :, None] * p[:, None, :], w[:, :, None] * q[:, None, :]
        else:
            p3, q3 = p, q
        t_steps = p3.shape[2]
        upd = self._init(DatasetType.update, self._ct.asym_load, (t_steps, net.n_site))
        upd["id"] = self._load_ids[None, :]
        upd["p_specified"] = kw_to_w(np.transpose(p3, (2, 0, 1)))
        upd["q_specified"] = kw_to_w(np.transpose(q3, (2, 0, 1)))
        out = self._model.calculate_power_flow(
            symmetric=False,
            update_data={self._ct.asym_load: upd},
            calculation_method=CalculationMethod.newton_raphson,
            error_tolerance=self.tol_pu,
            max_iterations=self.max_iter,
            threading=threading,
            output_component_types={self._ct.node: ["u", "u_angle"]},
        )
        nd = out[self._ct.node]
        u: NDArray[np.complex128] = nd["u"][:, : net.n_bus, :] * np.exp(1j * nd["u_angle"][:, : net.n_bus, :])
        return np.transpose(u, (1, 2, 0)) / net.v_base_v


def run_pgm(
    network: Network,
    p_kw: ArrayLike,
    q_kvar: ArrayLike | None = None,
    tol_pu: float = DEFAULT_TOL_PU,
    max_iter: int = DEFAULT_MAX_ITER,
) -> PowerFlowResult:
    """Unbalanced power flow with power-grid-model, all steps in one batch (see module docstring).

    Parameters
    ----------
    network : Network
        The network to solve.
    p_kw, q_kvar : array_like, shape (n_site,), (n_site, T) or (n_site, 3, T)
        Power drawn by each site (load convention). [kW], [kvar]
    tol_pu : float
        Newton-Raphson tolerance. [pu]
    max_iter : int
        Newton-Raphson iteration limit. [-]

    Returns
    -------
    PowerFlowResult
    """
    return PGMEngine(network, tol_pu=tol_pu, max_iter=max_iter).run(p_kw, q_kvar)
