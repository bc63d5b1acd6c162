"""Island mode: a feeder section run on a grid-forming battery during an outage (seed 000 §9, STO3).

When the line (or switch) feeding a section opens, the section's batteries form the island:

* the largest battery of the section is **grid-forming**: it is the island's voltage source (the slack of the
  power flow, behind its inverter impedance) and its f-P droop sets the quasi-static frequency
  ``f = f_nominal - droop x f_nominal x P_batteries / P_rated`` (discharge lowers the frequency); the other
  batteries share the balance in proportion to their ratings (equal droop);
* each step (``step_min``) the balance ``served load - PV used`` is covered by the batteries within their
  power
  and their energy above the SoC floor; when it cannot be, load is **shed by priority** (whole sites, lowest
  priority first, critical sites last); when PV exceeds what the batteries can absorb (storage full), **PV is
  curtailed**;
* the **exact unbalanced power flow** of the island (:class:`openvpp.grid.powerflow.BatchPowerFlow` on the
  section re-rooted at the grid-forming bus) gives every voltage and the losses, which the grid-forming
  battery supplies; the energy balance ``batteries + PV used = served load + line losses`` is checked every
  step (closes to solver precision);
* at the end of the outage the island is **resynchronised** only inside the voltage / frequency / phase-angle
  windows (IEEE 1547-2018 Table 5 for DER up to 500 kVA: 10 %, 0.3 Hz, 20 degrees): secondary control brings
  the frequency back to a small slip and the breaker closes when the angle passes through the window.

SAIDI and SAIFI of the section's customers with and without the VPP follow from the interruption each
customer sees (:func:`openvpp.control.kpi.saidi_saifi`).

Sign convention: load convention (+ = import / consumption / charging) for site powers; battery power
positive when charging.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openvpp.control import kpi
from openvpp.errors import ValidationError
from openvpp.units import S_PER_H, w_to_kw

if TYPE_CHECKING:
    from openvpp.control.signals import Outage
    from openvpp.grid.network import Network
    from openvpp.schedule.plan import Plan

__all__ = [
    "IslandResult",
    "downstream_buses",
    "island_network",
    "resync_check",
    "run_island",
    "run_island_scenario",
]

#: resynchronisation windows (IEEE 1547-2018 Table 5, DER <= 500 kVA): voltage [pu], frequency [Hz],
#: angle [deg]
RESYNC_DV_PU, RESYNC_DF_HZ, RESYNC_DANGLE_DEG = 0.10, 0.3, 20.0
#: grid-forming inverter impedance on its own rating [pu] and the island's voltage limits [pu]
GF_Z_PU = complex(0.01, 0.05)
V_MIN_PU, V_MAX_PU = 0.9, 1.1


def downstream_buses(network: Network, line: str) -> NDArray[np.bool_]:
    """Buses fed through ``line`` (the section that islands when it opens).

    Parameters
    ----------
    network : Network
        A radial network, lines oriented from the source.
    line : str
        Name of the line (or switch modelled as a line).

    Returns
    -------
    numpy.ndarray of bool, shape (n_bus,)
    """
    names = list(np.asarray(network.line_names))
    if line not in names:
        raise ValidationError(
            f"section line {line!r} is not a line of network {network.name!r} (e.g. {names[:3]})"
        )
    k = names.index(line)
    parent = network.parent
    mask = np.zeros(network.n_bus, dtype=bool)
    mask[network.line_to[k]] = True
    for b in network.order:  # parents come first
        if parent[b] >= 0 and mask[parent[b]]:
            mask[b] = True
    return mask


def island_network(
    network: Network, section: NDArray[np.bool_], gf_bus: int, gf_kva: float
) -> tuple[Network, NDArray[np.int64]]:
    """The section as a network of its own, re-rooted at the grid-forming battery's bus.

    Parameters
    ----------
    network : Network
        The full network.
    section : numpy.ndarray of bool, shape (n_bus,)
        Buses of the island (mask). [-]
    gf_bus : int
        Bus of the grid-forming battery (in ``network`` numbering). [-]
    gf_kva : float
        Rating of the grid-forming inverter(s), the base of :data:`GF_Z_PU`. [kVA]

    Returns
    -------
    (Network, numpy.ndarray)
        The island network and, for each of its sites, the row of the site in ``network.sites``.
    """
    from collections import deque

    from openvpp.grid.network import Network as Net

    buses = np.flatnonzero(section)
    keep = section[network.line_from] & section[network.line_to]
    lf, lt = network.line_from[keep], network.line_to[keep]
    adj: dict[int, list[tuple[int, int]]] = {int(b): [] for b in buses}
    for j, (f, t) in enumerate(zip(lf.tolist(), lt.tolist(), strict=True)):
        adj[f].append((t, j))
        adj[t].append((f, j))
    order = []
    seen = {gf_bus}
    q = deque([gf_bus])
    parent_of_line = np.full(lf.size, -1, dtype=np.int64)
    while q:
        u = q.popleft()
        order.append(u)
        for v, j in adj[u]:
            if v not in seen:
                seen.add(v)
                parent_of_line[j] = u
                q.append(v)
    pos = {b: i for i, b in enumerate(order)}
    new_from = np.array([pos[int(parent_of_line[j])] for j in range(lf.size)], dtype=np.int64)
    new_to = np.array(
        [pos[int(lt[j] if parent_of_line[j] == lf[j] else lf[j])] for j in range(lf.size)], dtype=np.int64
    )
    sites = network.sites
    in_sec = sites["bus"].isin(buses).to_numpy()
    rows = np.flatnonzero(in_sec)
    isl_sites = sites.iloc[rows].copy()
    isl_sites["bus"] = [pos[int(b)] for b in isl_sites["bus"]]
    net = Net(
        name=f"{network.name} island",
        bus_names=network.bus_names[np.array(order)],
        v_base_v=network.v_base_v,
        source_bus=0,
        line_from=new_from,
        line_to=new_to,
        z_ohm=network.z_ohm[keep],
        i_max_a=network.i_max_a[keep],
        trafo_sn_kva=float(gf_kva),
        trafo_z_pu=GF_Z_PU,
        trafo_vector_group="Dyn",
        v_source_pu=1.0,
        sites=isl_sites.reset_index(drop=True),
        line_names=np.asarray(network.line_names)[keep],
    )
    return net, rows


def resync_check(
    v_island_pu: float,
    f_island_hz: float,
    f_nominal_hz: float,
    angle0_deg: float,
    slip_hz: float = 0.1,
    v_grid_pu: float = 1.0,
) -> dict[str, float]:
    """Reconnection: secondary control brings the island to ``f_nominal + slip``; the breaker closes when
    voltage, frequency and phase angle are all inside the windows.

    Parameters
    ----------
    v_island_pu : float
        Island voltage at the open line. [pu]
    f_island_hz : float
        Island frequency before secondary control. [Hz]
    f_nominal_hz : float
        Grid frequency. [Hz]
    angle0_deg : float
        Phase-angle difference when the slip is reached. [deg]
    slip_hz : float
        Frequency slip kept while waiting for the angle (< 0.3 Hz). [Hz]
    v_grid_pu : float
        Grid voltage at the open line. [pu]

    Returns
    -------
    dict
        ``dv_pu``, ``df_hz``, ``dangle_deg`` at closing, ``wait_s`` and ``ok`` (1.0 / 0.0).
        [pu], [Hz], [deg], [s]
    """
    dv = abs(v_island_pu - v_grid_pu)
    df = abs(slip_hz)
    # the angle difference turns at 360 x slip degrees per second; close at the first entry into the window
    a = (angle0_deg + 180.0) % 360.0 - 180.0
    if abs(a) <= RESYNC_DANGLE_DEG:
        wait, close_angle = 0.0, a
    else:
        to_go = (RESYNC_DANGLE_DEG - a) % 360.0 if slip_hz < 0 else (-RESYNC_DANGLE_DEG - a) % 360.0
        wait = to_go / (360.0 * df)
        close_angle = -RESYNC_DANGLE_DEG if slip_hz > 0 else RESYNC_DANGLE_DEG
    ok = dv <= RESYNC_DV_PU and df <= RESYNC_DF_HZ and abs(close_angle) <= RESYNC_DANGLE_DEG
    return {
        "dv_pu": dv,
        "df_hz": df,
        "dangle_deg": close_angle,
        "wait_s": wait,
        "ok": 1.0 if ok else 0.0,
        "f_before_hz": f_island_hz,
    }


@dataclasses.dataclass(frozen=True)
class IslandResult:
    """One island run.

    Attributes
    ----------
    index : pandas.DatetimeIndex
        Step starts during the outage.
    f_hz : numpy.ndarray, shape (n_steps,)
        Quasi-static island frequency. [Hz]
    v_min_pu, v_max_pu : numpy.ndarray, shape (n_steps,)
        Extreme phase voltages in the island. [pu]
    p_batteries_kw : numpy.ndarray, shape (n_steps,)
        Total battery power, + = charging. [kW]
    served_kw, shed_kw, pv_used_kw, pv_curtailed_kw, losses_kw : numpy.ndarray, shape (n_steps,)
        Island balance terms. [kW]
    soc : numpy.ndarray, shape (n_steps + 1,)
        Energy-weighted SoC of the island's batteries. [-]
    balance_error_kwh : float
        ``sum |batteries + PV - served - losses| x dt`` (closure). [kWh]
    violations : list of dict
        Bus, phase and time of every voltage outside 0.9-1.1 pu.
    resync : dict
        :func:`resync_check` at the end.
    n_customers, n_interrupted_with_vpp : int
        Customers of the section and those shed at any time. [-]
    outage_h : float
        Outage length. [h]
    hours_sustained : float
        Hours from the start with no customer shed. [h]
    """

    index: pd.DatetimeIndex
    f_hz: NDArray[np.float64]
    v_min_pu: NDArray[np.float64]
    v_max_pu: NDArray[np.float64]
    p_batteries_kw: NDArray[np.float64]
    served_kw: NDArray[np.float64]
    shed_kw: NDArray[np.float64]
    pv_used_kw: NDArray[np.float64]
    pv_curtailed_kw: NDArray[np.float64]
    losses_kw: NDArray[np.float64]
    soc: NDArray[np.float64]
    balance_error_kwh: float
    violations: list[dict[str, Any]]
    resync: dict[str, float]
    n_customers: int
    n_interrupted_with_vpp: int
    outage_h: float
    hours_sustained: float
    section: str = ""

    @property
    def ens_kwh(self) -> float:
        """Energy not supplied. [kWh]"""
        dt_h = self.outage_h / max(len(self.index), 1)
        return kpi.energy_not_supplied_kwh(self.shed_kw, dt_h)

    def kpis(self) -> dict[str, float]:
        """STO3 KPIs: hours sustained, ENS, extreme f and V, closure, resync, SAIDI / SAIFI with/without."""
        without = kpi.saidi_saifi([self.n_customers], [self.outage_h], self.n_customers)
        shed_h = self.outage_h - self.hours_sustained if self.n_interrupted_with_vpp else 0.0
        with_vpp = kpi.saidi_saifi([self.n_interrupted_with_vpp], [shed_h], self.n_customers)
        return {
            "hours_sustained": self.hours_sustained,
            "ens_kwh": self.ens_kwh,
            "f_min_hz": float(self.f_hz.min()),
            "v_min_pu": float(self.v_min_pu.min()),
            "v_max_pu": float(self.v_max_pu.max()),
            "balance_error_kwh": self.balance_error_kwh,
            "resync_ok": bool(self.resync["ok"]),
            "saidi_without_h": without["saidi_h"],
            "saidi_with_h": with_vpp["saidi_h"],
            "saifi_without": without["saifi"],
            "saifi_with": with_vpp["saifi"],
        }

    def summary(self) -> dict[str, Any]:
        """KPIs plus the section and the voltage violations (first 20)."""
        return {
            "section": self.section,
            **self.kpis(),
            "n_violations": len(self.violations),
            "violations": self.violations[:20],
        }


def run_island(
    network: Network,
    section_line: str,
    index: pd.DatetimeIndex,
    demand_kw: NDArray[np.float64],
    pv_kw: NDArray[np.float64],
    bat_site: NDArray[np.int64],
    bat_p_max_kw: NDArray[np.float64],
    bat_e_max_kwh: NDArray[np.float64],
    bat_soc0: NDArray[np.float64],
    bat_soc_min: NDArray[np.float64],
    priority: NDArray[np.float64] | None = None,
    f_nominal_hz: float = 50.0,
    droop: float = 0.007,
    seed: int = 0,
) -> IslandResult:
    """Run the island of the section downstream of ``section_line`` (module docstring).

    Parameters
    ----------
    network : Network
        Radial network; its ``sites`` rows are the customers.
    section_line : str
        Line that opens.
    index : pandas.DatetimeIndex
        Step starts of the outage (fixed step).
    demand_kw : numpy.ndarray, shape (n_sites, n_steps)
        Consumption of every network site without PV and batteries (>= 0). [kW]
    pv_kw : numpy.ndarray, shape (n_sites, n_steps)
        PV available at every site (>= 0). [kW]
    bat_site : numpy.ndarray of int, shape (n_bat,)
        Network site row of each battery. [-]
    bat_p_max_kw, bat_e_max_kwh : numpy.ndarray, shape (n_bat,)
        Battery power rating and capacity. [kW], [kWh]
    bat_soc0, bat_soc_min : numpy.ndarray, shape (n_bat,)
        SoC at the start of the outage and the floor kept (1 - resilience share). [-]
    priority : numpy.ndarray, shape (n_sites,), optional
        Shedding priority (higher = shed later; critical loads the highest). [-]
    f_nominal_hz : float
        Nominal frequency. [Hz]
    droop : float
        Grid-forming f-P droop. [-]
    seed : int
        Seed of the phase angle at resynchronisation. [-]

    Returns
    -------
    IslandResult
    """
    from openvpp.grid.powerflow import BatchPowerFlow

    n_sites = len(network.sites)
    n_t = len(index)
    if demand_kw.shape != (n_sites, n_t) or pv_kw.shape != (n_sites, n_t):
        raise ValidationError(f"demand_kw and pv_kw must have shape ({n_sites}, {n_t})")
    if n_t < 1 or n_t > 100_000:
        raise ValidationError(f"the outage must have 1 to 100,000 steps (got {n_t})")
    section = downstream_buses(network, section_line)
    site_bus = network.sites["bus"].to_numpy()
    in_sec = section[site_bus]
    bat_in = in_sec[bat_site] & (bat_p_max_kw > 0)
    if not bat_in.any():
        raise ValidationError(
            f"section downstream of {section_line!r} has no battery to form the grid; choose another section "
            "line or add a battery there (grid-forming unit)"
        )
    bsite = bat_site[bat_in]
    p_max = bat_p_max_kw[bat_in]
    e_max = bat_e_max_kwh[bat_in]
    e = bat_soc0[bat_in] * e_max
    e_floor = bat_soc_min[bat_in] * e_max
    gf = int(np.argmax(p_max))
    gf_bus = int(site_bus[bsite[gf]])
    net, rows = island_network(network, section, gf_bus, float(p_max.sum()))
    pf = BatchPowerFlow(net)
    dt_h = (index[1] - index[0]).total_seconds() / S_PER_H if n_t > 1 else 1.0 / 60.0
    dem = np.maximum(demand_kw[rows], 0.0)
    pv = np.maximum(pv_kw[rows], 0.0)
    prio = np.zeros(n_sites) if priority is None else np.asarray(priority, dtype=float)
    prio = prio[rows]
    order = np.lexsort((-dem.mean(axis=1), prio))  # lowest priority first, larger loads first
    pos_of_row = {int(r): i for i, r in enumerate(rows)}
    bat_isl = np.array([pos_of_row[int(s)] for s in bsite], dtype=np.int64)
    share = p_max / p_max.sum()
    out = {k: np.zeros(n_t) for k in ("f", "vmin", "vmax", "pb", "served", "shed", "pvu", "pvc", "loss")}
    soc = np.zeros(n_t + 1)
    soc[0] = e.sum() / e_max.sum()
    shed_any = np.zeros(rows.size, dtype=bool)
    first_shed = n_t
    err = 0.0
    violations: list[dict[str, Any]] = []
    loss_est = 0.0
    for t in range(n_t):
        d = dem[:, t]
        a = pv[:, t]
        dis_cap = float(np.sum(np.minimum(p_max, np.maximum(e - e_floor, 0.0) / dt_h)))
        ch_cap = float(np.sum(np.minimum(p_max, np.maximum(e_max - e, 0.0) / dt_h)))
        # shed by priority until the batteries can cover the rest (losses estimated from the last step)
        need = d.sum() - a.sum() + loss_est
        served = np.ones(rows.size, dtype=bool)
        if need > dis_cap:
            gap = need - dis_cap
            cum = np.cumsum(d[order] - 0.0)
            n_shed = int(np.searchsorted(cum, gap - 1e-12) + 1)
            served[order[:n_shed]] = False
        d_served = np.where(served, d, 0.0)
        need = d_served.sum() - a.sum() + loss_est
        curtail = max(0.0, -need - ch_cap)
        pv_used = a * (1.0 - curtail / a.sum()) if a.sum() > 0 else a
        # batteries other than the grid-forming one inject their share of the planned balance; the
        # grid-forming one is the slack and supplies the rest (its share and the losses)
        plan_bat = -(d_served.sum() - pv_used.sum() + loss_est)  # + = charging
        p_bat = share * plan_bat
        site_p = d_served - pv_used
        site_p[bat_isl] += np.where(np.arange(p_bat.size) == gf, 0.0, p_bat)
        res = pf.run(site_p[:, None], full=False)
        p_slack = float(np.real(res.trafo_s_kva.sum()))  # power the grid-forming source delivers [kW]
        i_line = res.i_line_complex_a[..., 0]
        z = pf.solve_network.z_ohm
        loss = float(w_to_kw(np.real(np.einsum("la,lab,lb->", np.conj(i_line), z, i_line))))
        # the slack sits behind the inverter impedance: its delivered power includes that loss too
        p_bat[gf] = -p_slack
        total_bat = float(p_bat.sum())
        # energy balance with the losses computed independently from the line currents (I^H Z I):
        # batteries (discharge) + PV used = served load + line losses
        balance = -total_bat + pv_used.sum() - d_served.sum() - loss
        err += abs(balance) * dt_h
        loss_est = p_slack - float(np.sum(site_p))
        e = np.clip(e + p_bat * dt_h, 0.0, e_max)
        soc[t + 1] = e.sum() / e_max.sum()
        v = np.abs(res.v_complex_pu[..., 0])
        out["f"][t] = f_nominal_hz - droop * f_nominal_hz * (-total_bat) / p_max.sum()
        out["vmin"][t], out["vmax"][t] = float(v.min()), float(v.max())
        bad = np.argwhere((v < V_MIN_PU) | (v > V_MAX_PU))
        for b, ph in bad[:5]:
            violations.append(
                {
                    "bus": str(res.network.bus_names[b]),
                    "phase": "abc"[ph],
                    "time": str(index[t]),
                    "v_pu": float(v[b, ph]),
                }
            )
        out["pb"][t] = total_bat
        out["served"][t] = d_served.sum()
        out["shed"][t] = d.sum() - d_served.sum()
        out["pvu"][t] = pv_used.sum()
        out["pvc"][t] = a.sum() - pv_used.sum()
        out["loss"][t] = loss
        if (~served).any():
            shed_any |= ~served
            first_shed = min(first_shed, t)
    outage_h = n_t * dt_h
    rng = np.random.default_rng(seed)
    v_end = float(np.abs(res.v_complex_pu[0, 0, 0]))
    resync = resync_check(v_end, float(out["f"][-1]), f_nominal_hz, float(rng.uniform(-180.0, 180.0)))
    return IslandResult(
        index=index,
        f_hz=out["f"],
        v_min_pu=out["vmin"],
        v_max_pu=out["vmax"],
        p_batteries_kw=out["pb"],
        served_kw=out["served"],
        shed_kw=out["shed"],
        pv_used_kw=out["pvu"],
        pv_curtailed_kw=out["pvc"],
        losses_kw=out["loss"],
        soc=soc,
        balance_error_kwh=err,
        violations=violations,
        resync=resync,
        n_customers=int(rows.size),
        n_interrupted_with_vpp=int(shed_any.sum()),
        outage_h=outage_h,
        hours_sustained=first_shed * dt_h,
        section=section_line,
    )


def run_island_scenario(
    fleet: Any,
    plan: Plan,
    outages: tuple[Outage, ...],
    *,
    grid: str,
    network: Network | None = None,
    step_min: float = 1.0,
    resilience_share: float = 0.8,
) -> IslandResult:
    """The first outage of a scenario on the fleet's SimBench network (pilot STO3).

    ``section = "auto"`` picks the line that feeds the most customers while leaving at least one battery
    downstream. Demand and PV come from the plan (held over ``step_min`` steps); batteries start from the
    plan's
    SoC and may use ``resilience_share`` of their capacity (seed 000 §6.1: up to 80 %).

    Parameters
    ----------
    fleet : openvpp.fleet.Fleet
        The fleet (sites are network loads by ``site_id``).
    plan : Plan
        The day's plan.
    outages : tuple of Outage
        Outages of the scenario (the first is run).
    grid : str
        SimBench code of the network.
    network : Network, optional
        The network (default loaded from ``grid``).
    step_min : float
        Island step. [min]
    resilience_share : float
        Share of each battery's capacity usable in the island. [-]
    """
    from openvpp.grid.loaders import simbench_lv

    if not outages:
        raise ValidationError("the scenario has no outage")
    out = outages[0]
    net = network if network is not None else simbench_lv(grid)
    site_row = pd.Index(net.sites["site_id"]).get_indexer(list(fleet.sites.site_id))
    p = plan
    steps = pd.date_range(out.start, out.end, freq=pd.Timedelta(minutes=step_min), inclusive="left")
    if steps[0] < p.index[0] or out.end > p.index[-1] + (p.index[1] - p.index[0]):
        raise ValidationError(f"outage {out.id!r} ({out.start} - {out.end}) lies outside the plan day")
    k = np.searchsorted(p.index, steps, side="right") - 1
    is_pv = p.device_class == "pv"
    is_bat = p.device_class == "battery"
    n_sites = len(net.sites)
    dev_site_row = site_row[p.site_of_device]
    pv_site = np.zeros((p.n_sites, len(steps)))
    np.add.at(pv_site, p.site_of_device[is_pv], -p.p_baseline_kw[is_pv][:, k])
    dem_site = (
        p.site_p_kw[:, k]
        + pv_site
        - np.vstack(
            [
                np.bincount(p.site_of_device[is_bat], p.p_baseline_kw[is_bat, j], minlength=p.n_sites)
                for j in k
            ]
        ).T
    )
    demand = np.zeros((n_sites, len(steps)))
    pv = np.zeros((n_sites, len(steps)))
    ok = site_row >= 0
    demand[site_row[ok]] = np.maximum(dem_site[ok], 0.0)
    pv[site_row[ok]] = pv_site[ok]
    bat_rows = np.flatnonzero(is_bat & (dev_site_row >= 0))
    if out.section == "auto":
        section = _auto_section(net, site_row[p.site_of_device[bat_rows]])
    else:
        section = out.section
    soc0 = p.soc_baseline[bat_rows, k[0]]
    p_max = np.maximum(-np.asarray(p.p_min_kw)[bat_rows].min(axis=1), 0.0)
    prio = np.zeros(n_sites)
    return run_island(
        net,
        section,
        steps,
        demand,
        pv,
        dev_site_row[bat_rows],
        p_max,
        p.e_max_kwh[bat_rows],
        soc0,
        np.maximum(soc0 - resilience_share, np.nan_to_num(p.soc_min[bat_rows, k[0]])),
        prio,
        f_nominal_hz=_nominal(),
    )


def _nominal() -> float:
    from openvpp.control.droop import cpf_services

    return cpf_services()[0].f_nominal_hz


def _auto_section(net: Network, bat_site_rows: NDArray[np.int64]) -> str:
    """The line feeding the most customers with at least one battery downstream (not the first feeder line
    when another qualifies, so that the island is a true section)."""
    if bat_site_rows.size == 0:
        raise ValidationError(
            "no battery of the fleet sits on the network: the island has no grid-forming unit"
        )
    site_bus = net.sites["bus"].to_numpy()
    best, best_n = None, -1
    bat_bus = site_bus[bat_site_rows]
    for name in np.asarray(net.line_names):
        sec = downstream_buses(net, str(name))
        if not sec[bat_bus].any():
            continue
        n = int(sec[site_bus].sum())
        if n > best_n and n < len(site_bus):
            best, best_n = str(name), n
    if best is None:
        raise ValidationError("no line has a battery downstream: the island has no grid-forming unit")
    return best
