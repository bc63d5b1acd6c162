"""Technical assessment of a VPP on LV networks: §7 of the Chile roadmap (seed 000) on public feeders.

For each network (the IEEE European LV feeder and two SimBench LV grids by default) the study

1. builds a day of 30-min household profiles (§7.2): SimBench H0 household profiles (IEEE feeder) or the
   grid's own SimBench profiles, reactive power at power factor 0.98 inductive, one PV profile for every
   prosumer (clear sky at Lampa, Chile, on a southern summer day) scaled to 2.5 kWp;
2. picks ~50 % of the customers at random (seeded) as prosumers with PV and a 5 kW / 13.5 kWh battery
   (95 % round trip), head voltage 1.0 pu, limits 0.9-1.1 pu;
3. solves the OPF of :mod:`openvpp.grid.opf` for self-consumption (SC, eq. (23)) and for maximum export in
   a 30-min service period at 20:00 without (no GC) and with grid constraints (GC, eq. (24)) — Figs 13-16 —
   and the same for a service period at 12:30 (Fig 19); voltages and line / transformer utilisation at the
   service step from the exact power flow (Figs 17-18); every case validated by exact power flow on the
   reduced network (OPF-vs-exact voltage error, violations) and again on the full network;
4. computes the VPP hosting share (§7.4): the largest share of customers that can all discharge a 5 kW
   battery through the service period with no limit violated in the exact power flow, and the report's
   own measure (GC export at 20:00 divided by 5 kW per battery).

Hosting share method: customers join the VPP in a fixed random order (seeded), so the sets are nested;
the exact power flow is solved for *every* count ``n = 0..N`` at once (each count is one column of the
batched solver), and the hosting count is the largest ``n`` for which ``0..n`` are all free of
violations. This replaces a bisection: it costs one batched power flow, needs no monotonicity assumption,
and a tighter limit can never raise the result. Further random join orders give the spread of the share.

Data assumptions (also in docs/grid.md): SimBench profile year 2016, default demand day 2016-06-21 (a
northern summer weekday); PV from the pvlib clear sky at Lampa on 2016-12-21 (the southern summer solstice,
6.3 kWh/kWp; the SimBench PV profiles of northern Germany give about 4 kWh/kWp on their best June day),
matched by local clock time; IEEE customers draw H0 profiles of the SimBench
semi-urban grid ``1-LV-semiurb4--2-sw`` (its 32 household loads), each customer on the same weekday of a
week within +-2 weeks of the study day so that copies of one profile shape do not coincide; batteries start
the day at ``soc0 = 0.2``; in the SimBench grids the customers are the sites with household, agricultural
or commercial profiles (``H0*``, ``L*``, ``G*``) while heat pumps and EV chargers stay as plain loads.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, NotRequired, TypedDict

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openvpp.checks import check_seed
from openvpp.data import check_simbench_day, load_simbench_lv, simbench_profiles
from openvpp.der.battery import BatteryParams
from openvpp.errors import ValidationError
from openvpp.grid import opf
from openvpp.grid.loaders import ieee_european_lv, simbench_lv
from openvpp.grid.network import Network, check_voltage_limits
from openvpp.grid.powerflow import BatchPowerFlow
from openvpp.grid.reduction import reduce_network
from openvpp.timeseries import as_2d
from openvpp.units import KW_PER_MW, MIN_PER_H, q_from_power_factor

#: networks of the study: key -> (label, loader spec)
NETWORKS: dict[str, tuple[str, str]] = {
    "ieee": ("IEEE European LV feeder", "ieee"),
    "rural": ("SimBench 1-LV-rural1--2-sw", "1-LV-rural1--2-sw"),
    "semiurb": ("SimBench 1-LV-semiurb4--2-sw", "1-LV-semiurb4--2-sw"),
}
#: SimBench grid whose household (H0) profiles feed the IEEE feeder's customers
H0_SOURCE_GRID = "1-LV-semiurb4--2-sw"


class Location(TypedDict):
    """A PV site: latitude and longitude [deg], altitude [m] and IANA time zone."""

    lat: float
    lon: float
    alt: float
    tz: str


#: location of the PV profile (Lampa, Chile; the medium-density network of seed 000 §7)
LAMPA: Location = {"lat": -33.29, "lon": -70.88, "alt": 500.0, "tz": "America/Santiago"}
STEP_MIN = 30
#: largest number of networks one study run accepts (each is loaded and solved in full) [-]
MAX_NETWORKS = 12
CUSTOMER_PROFILE_PREFIXES = ("H0", "L", "G")


# ---------------------------------------------------------------------------------------------- data
@functools.lru_cache(maxsize=4)
def _simbench_tables(code: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Absolute 15-min load profiles [kW] (columns = load names, SimBench wall-clock time without zone) and
    the load table, read through :mod:`openvpp.data` (the one place that reads SimBench)."""
    net = load_simbench_lv(code)
    prof = simbench_profiles(net)[("load", "p_mw")]
    ld = net.load[net.load["in_service"].astype(bool)]
    index = pd.DatetimeIndex(prof.index).tz_localize(None)  # the profiles' own wall clock
    p = pd.DataFrame(prof[ld.index].to_numpy(float) * KW_PER_MW, index=index,
                     columns=ld["name"].astype(str).to_numpy())
    return p, ld[["name", "profile"]].astype(str).reset_index(drop=True)


def _day_slice(series: pd.DataFrame | pd.Series, day: pd.Timestamp) -> NDArray:
    """One day of a 15-min series as 30-min means, shape (48, ...)."""
    part = series.loc[day: day + pd.Timedelta(hours=23, minutes=45)]
    if len(part) != 96:
        raise ValidationError(f"day {day.date()} is not inside the SimBench profile year 2016")
    return part.resample(f"{STEP_MIN}min").mean().to_numpy()


def pv_profile_kw_per_kwp(pv_day: str = "2016-12-21") -> NDArray[np.float64]:
    """Clear-sky PV output per kWp at Lampa, Chile, for one day at 30-min resolution, shape (48,). [kW/kWp]

    One profile for every prosumer (seed 000 §7.2): :func:`openvpp.der.pv.pv_ac_power` with the Ineichen
    clear sky at Lampa (-33.29°, -70.88°, 500 m), 20° tilt facing north, on the local clock of
    ``America/Santiago``; interval means of 5-min values.

    Parameters
    ----------
    pv_day : str
        Day of the profile, e.g. ``"2016-12-21"``.

    Returns
    -------
    numpy.ndarray, shape (48,)
        AC output per kWp of DC rating. [kW/kWp]
    """
    from openvpp.der.pv import PVParams, pv_ac_power
    from openvpp.timeseries import make_index

    idx = make_index(f"{pv_day} 00:00", 288, 5.0, tz=LAMPA["tz"])
    params = PVParams(device_id=["pv"], p_dc_kwp=np.array([1.0]), latitude_deg=np.array([LAMPA["lat"]]),
                      longitude_deg=np.array([LAMPA["lon"]]), altitude_m=np.array([LAMPA["alt"]]))
    p = pv_ac_power(params, idx)[0]
    return p.reshape(48, 6).mean(axis=1)


def ieee_household_profiles(n_site: int, day: str, seed: int = 0) -> NDArray[np.float64]:
    """Household demand for ``n_site`` customers from SimBench H0 profiles, shape (n_site, 48). [kW]

    Each customer gets one of the household loads of :data:`H0_SOURCE_GRID` (seeded draw) on the same
    weekday of a week within +-2 weeks of ``day`` (module docstring).

    Parameters
    ----------
    n_site : int
        Number of customers. [-]
    day : str
        Study day in the SimBench year 2016.
    seed : int
        Seed of the draw. [-]

    Returns
    -------
    numpy.ndarray, shape (n_site, 48)
        Demand, load convention. [kW]
    """
    p, table = _simbench_tables(H0_SOURCE_GRID)
    h0 = table.loc[table["profile"].str.startswith("H0"), "name"].to_numpy()
    rng = np.random.default_rng(seed)
    pick = rng.choice(h0, size=n_site, replace=n_site > h0.size)
    weeks = rng.integers(-2, 3, size=n_site)
    base = pd.Timestamp(day)
    out = np.empty((n_site, 48))
    for w in np.unique(weeks):  # at most five days, vectorised over customers
        sel = weeks == w
        out[sel] = _day_slice(p[pick[sel]], base + pd.Timedelta(weeks=int(w))).T
    return out


@dataclasses.dataclass
class NetworkCase:
    """Inputs of one network of the study (full and reduced network, day profiles, prosumers)."""

    key: str
    label: str
    full: Network
    reduced: Network
    p_load_kw: NDArray[np.float64]  # (n_site, 48)
    q_load_kvar: NDArray[np.float64]
    pv_kw_per_kwp: NDArray[np.float64]  # (48,)
    customers: NDArray[np.int64]  # site indices of customers
    prosumers: NDArray[np.int64]  # site indices of prosumers (subset of customers)
    join_order: NDArray[np.int64]  # customers in the order they join the VPP (hosting share)


def build_case(
    key: str, day: str, share: float = 0.5, seed: int = 0, power_factor: float = 0.98,
    pv_day: str = "2016-12-21",
) -> NetworkCase:
    """Network, profiles and prosumers of one network of the study (§7.2 of seed 000).

    Parameters
    ----------
    key : {"ieee", "rural", "semiurb"} or a SimBench LV code
    day : str
        Day of the SimBench profile year 2016 for the demand, e.g. ``"2016-06-21"``.
    share : float
        Fraction of customers that are prosumers (PV + battery). [-]
    seed : int
        Seed of the random choices (prosumers, join order, IEEE profile draw). [-]
    power_factor : float
        Inductive power factor of the demand. [-]
    pv_day : str
        Day of the clear-sky PV profile at Lampa (:func:`pv_profile_kw_per_kwp`).
    """
    if not 0.0 <= share <= 1.0:
        raise ValidationError(f"share must be a fraction in [0, 1] (got {share})")
    label, spec = NETWORKS.get(key, (f"SimBench {key}", key))
    if spec == "ieee":
        full = ieee_european_lv().replace(v_source_pu=1.0)
        p_load = ieee_household_profiles(full.n_site, day, seed)
        customers = np.arange(full.n_site)
    else:
        full = simbench_lv(spec).replace(v_source_pu=1.0)
        p_df, table = _simbench_tables(spec)
        ids = full.sites["site_id"].to_numpy()
        missing = sorted(set(ids) - set(p_df.columns))
        if missing:
            raise ValidationError(f"no SimBench profile for sites {missing[:3]} of {spec}")
        p_load = np.asarray(_day_slice(p_df[ids], pd.Timestamp(day)), dtype=float).T
        prof = dict(zip(table["name"], table["profile"], strict=True))
        customers = np.flatnonzero([prof.get(s, "").startswith(CUSTOMER_PROFILE_PREFIXES) for s in ids])
    rng = np.random.default_rng(seed)
    order = rng.permutation(customers)
    n_pros = round(share * customers.size)
    prosumers = np.sort(order[:n_pros])
    join_order = rng.permutation(customers)
    return NetworkCase(
        key=key, label=label, full=full, reduced=reduce_network(full).reduced,
        p_load_kw=p_load, q_load_kvar=q_from_power_factor(p_load, power_factor),
        pv_kw_per_kwp=pv_profile_kw_per_kwp(pv_day), customers=customers, prosumers=prosumers,
        join_order=join_order,
    )


# ---------------------------------------------------------------------------------------------- hosting
class FirstViolation(TypedDict):
    """The worst violation when one customer more than the hosting count joins."""

    n: int
    kind: str  # "v_max", "v_min", "line" or "trafo"
    excess_pct: float


@dataclasses.dataclass
class HostingResult:
    """VPP hosting share of one network (§7.4 of seed 000).

    Attributes
    ----------
    n_customers : int
    n_max : int
        Largest number of VPP customers (in join order) that can all export with no violation.
    share : float
        ``n_max / n_customers``. [-]
    first_violation : dict or None
        The worst violation at ``n_max + 1`` customers (what limits the hosting).
    worst_excess_pct : numpy.ndarray, shape (n_customers + 1,)
        Largest relative violation for every count ``n`` (0 where none). [%]
    """

    n_customers: int
    n_max: int
    share: float
    first_violation: FirstViolation | None
    worst_excess_pct: NDArray[np.float64]


def hosting_share(
    network: Network,
    p_load_kw: NDArray,
    q_load_kvar: NDArray,
    p_pv_kw: NDArray,
    join_order: NDArray,
    service: NDArray,
    *,
    p_battery_kw: float = 5.0,
    v_min_pu: float = 0.9,
    v_max_pu: float = 1.1,
) -> HostingResult:
    """Largest share of customers that can all export ``p_battery_kw`` in the service period.

    For every count ``n = 0..N`` the first ``n`` customers of ``join_order`` discharge their battery at
    ``p_battery_kw`` (and keep their PV) through the ``service`` steps; all counts and steps are solved in
    one batched exact power flow. The hosting count is the largest ``n`` with no violation at ``0..n``.

    Parameters
    ----------
    network : Network
    p_load_kw, q_load_kvar : numpy.ndarray, shape (n_site, n_steps)
        Demand of every site, load convention. [kW], [kvar]
    p_pv_kw : numpy.ndarray, shape (n_site, n_steps)
        PV output a member would have (non-negative). [kW]
    join_order : numpy.ndarray of int, shape (N,)
        Site indices of the customers in the order they join. [-]
    service : sequence of bool, shape (n_steps,)
        Service period, a mask over the steps. [-]
    p_battery_kw : float
        Battery discharge power of every member. [kW]
    v_min_pu, v_max_pu : float
        Voltage limits. [pu]
    """
    check_voltage_limits(v_min_pu, v_max_pu)
    ns = network.n_site
    p_load_kw = as_2d("p_load_kw", p_load_kw, ns)
    q_load_kvar = as_2d("q_load_kvar", q_load_kvar, ns, p_load_kw.shape[1])
    p_pv_kw = as_2d("p_pv_kw", p_pv_kw, ns, p_load_kw.shape[1])
    svc = np.flatnonzero(np.asarray(service, dtype=bool))
    if svc.size == 0 or len(service) != p_load_kw.shape[1]:
        raise ValidationError(
            f"service must be a boolean mask of length {p_load_kw.shape[1]} selecting at least one step"
        )
    join_order = np.asarray(join_order, dtype=np.int64)
    if join_order.size and (join_order.min() < 0 or join_order.max() >= ns or np.unique(join_order).size
                            != join_order.size):
        raise ValidationError(f"join_order must hold distinct site indices in [0, {ns})")
    n_c = len(join_order)
    k = svc.size
    # member[i, n] = site i is a member when n customers have joined
    rank = np.full(ns, n_c + 1)
    rank[np.asarray(join_order)] = np.arange(n_c)
    member = rank[:, None] < np.arange(n_c + 1)[None, :]  # (ns, N+1)
    pl = p_load_kw[:, svc]  # (ns, k)
    p = pl[:, None, :] - member[:, :, None] * (p_pv_kw[:, svc][:, None, :] + p_battery_kw)
    q = np.broadcast_to(q_load_kvar[:, svc][:, None, :], p.shape).copy()
    flow = BatchPowerFlow(network, reduce=False).run(p.reshape(ns, -1), q.reshape(ns, -1))
    v = flow.v_pu.reshape(network.n_bus, 3, n_c + 1, k)
    line_u = flow.line_utilisation.reshape(network.n_line, n_c + 1, k)
    trafo_u = flow.trafo_loading.reshape(n_c + 1, k)
    excess = np.stack([
        (v / v_max_pu - 1.0).max(axis=(0, 1, 3)),
        (1.0 - v / v_min_pu).max(axis=(0, 1, 3)),
        (line_u - 1.0).max(axis=(0, 2)),
        (trafo_u - 1.0).max(axis=1),
    ])  # (4, N+1)
    worst = np.maximum(excess.max(axis=0), 0.0) * 100.0
    bad = np.flatnonzero(worst > 0)
    n_max = int(bad[0] - 1) if bad.size else n_c
    first: FirstViolation | None = None
    if bad.size:
        kinds = ("v_max", "v_min", "line", "trafo")
        kind = int(np.argmax(excess[:, bad[0]]))
        first = {"n": int(bad[0]), "kind": kinds[kind], "excess_pct": float(worst[bad[0]])}
    return HostingResult(
        n_customers=n_c, n_max=max(n_max, 0), share=max(n_max, 0) / n_c if n_c else 0.0,
        first_violation=first, worst_excess_pct=worst,
    )


# ---------------------------------------------------------------------------------------------- study
CASES = ("sc", "no_gc", "gc", "no_gc_1230", "gc_1230")


class HostingScanDict(TypedDict):
    """:class:`HostingResult` as plain JSON values."""

    n_customers: int
    n_max: int
    share: float
    first_violation: FirstViolation | None
    worst_excess_pct: list[float]


class JoinOrdersDict(TypedDict):
    """Hosting shares over further random join orders."""

    n_orders: int
    shares: list[float]
    median: float
    min: float
    max: float


class HostingDict(TypedDict):
    """The ``"hosting"`` entry of :meth:`NetworkStudy.to_dict`."""

    report_method_n: int
    report_method_share: float
    scan: NotRequired[HostingScanDict]
    scan_tight_vmax: NotRequired[HostingScanDict]
    join_orders: NotRequired[JoinOrdersDict]


class NetworkStudyDict(TypedDict):
    """:meth:`NetworkStudy.to_dict`: the numbers behind every figure of one network."""

    network: dict[str, object]
    reduced_n_bus: int
    n_customers: int
    n_prosumers: int
    cases: dict[str, dict[str, object]]  # OPF case -> OPFResult.summary() plus profiles and checks
    hosting: HostingDict


@dataclasses.dataclass
class NetworkStudy:
    """Results of one network: the OPF cases, full-network checks and the hosting share."""

    case: NetworkCase
    results: dict[str, opf.OPFResult]
    full_check: dict[str, dict[str, float]]
    service_step: int
    midday_step: int
    hosting: HostingResult | None
    hosting_tight: HostingResult | None
    hosting_orders: NDArray[np.float64] | None = None  # hosting share for other random join orders

    def to_dict(self) -> NetworkStudyDict:
        """Every figure's numbers (``--json``)."""
        c = self.case
        s20 = self.service_step
        cases: dict[str, dict[str, object]] = {}
        for name, r in self.results.items():
            step = self.midday_step if name.endswith("1230") else s20
            cases[name] = {
                **r.summary(),
                "p_vpp_kw": np.round(r.p_vpp_kw, 4).tolist(),
                "p_total_kw": np.round(r.p_total_kw, 4).tolist(),
                "service_p_vpp_kw": float(r.p_vpp_kw[step]),
                "boxplot_at_service": {
                    "v_pu": np.round(r.v_exact_pu[:, :, step].ravel(), 5).tolist(),
                    "line_utilisation": np.round(r.line_utilisation[:, :, step].ravel(), 5).tolist(),
                    "trafo_utilisation": np.round(r.trafo_utilisation[:, step], 5).tolist(),
                },
                "full_network_check": self.full_check[name],
                "violations": r.violations.head(10).to_dict(orient="records"),
            }
        gc = self.results["gc"]
        n_report = int(np.floor(max(-gc.p_vpp_kw[s20], 0.0) / 5.0 + 1e-9))
        hosting: HostingDict = {
            "report_method_n": n_report,
            "report_method_share": n_report / max(c.customers.size, 1),
        }
        if self.hosting is not None:
            hosting["scan"] = _hosting_scan_dict(self.hosting)
        if self.hosting_tight is not None:
            hosting["scan_tight_vmax"] = _hosting_scan_dict(self.hosting_tight)
        if self.hosting_orders is not None and self.hosting_orders.size:
            sh = self.hosting_orders
            hosting["join_orders"] = {
                "n_orders": int(sh.size), "shares": np.round(sh, 4).tolist(),
                "median": float(np.median(sh)), "min": float(sh.min()), "max": float(sh.max()),
            }
        return {
            "network": c.full.summary(),
            "reduced_n_bus": c.reduced.n_bus,
            "n_customers": int(c.customers.size),
            "n_prosumers": int(c.prosumers.size),
            "cases": cases,
            "hosting": hosting,
        }


def _hosting_scan_dict(h: HostingResult) -> HostingScanDict:
    return {
        "n_customers": h.n_customers, "n_max": h.n_max, "share": h.share,
        "first_violation": h.first_violation,
        "worst_excess_pct": np.round(h.worst_excess_pct, 4).tolist(),
    }


@dataclasses.dataclass
class ChileTechnicalResult:
    """All networks of the study and the parameters used."""

    studies: list[NetworkStudy]
    params: dict[str, object]

    def to_dict(self) -> dict[str, object]:
        """Every figure's numbers (``--json``), as standard JSON values (``None`` where undefined)."""
        return json_safe({
            "params": self.params,
            "networks": {s.case.key: s.to_dict() for s in self.studies},
        })


def json_safe(obj: Any) -> Any:
    """A copy of ``obj`` with every non-finite float (NaN, inf) replaced by ``None`` (standard JSON).

    Parameters
    ----------
    obj : object
        Nested dicts, lists, tuples, numpy arrays and scalars.

    Returns
    -------
    object
        The same structure with plain Python values.
    """
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


class _OPFOptions(TypedDict):
    """Keyword arguments of :func:`openvpp.grid.opf.solve_opf` shared by every case of a network."""

    v_min_pu: float
    v_max_pu: float
    power_flow: opf.ExactPowerFlow
    solver: opf.SolverSettings | None


def _step(time_hhmm: str) -> int:
    h, m = (int(x) for x in time_hhmm.split(":"))
    return int(h * MIN_PER_H + m) // STEP_MIN


def run_network(
    case: NetworkCase,
    *,
    service_time: str = "20:00",
    midday_time: str = "12:30",
    pv_kwp: float = 2.5,
    soc0: float = 0.2,
    v_min_pu: float = 0.9,
    v_max_pu: float = 1.1,
    tight_v_max_pu: float | None = 1.05,
    hosting: bool = True,
    hosting_orders: int = 20,
    seed: int = 0,
    solver: opf.SolverSettings | None = None,
) -> NetworkStudy:
    """Run every case of §7.3-7.4 of seed 000 on one network (module docstring).

    ``hosting_orders`` further random join orders (seeded by ``seed``) give the spread of the hosting
    share, which depends on which customers join first.

    Parameters
    ----------
    case : NetworkCase
        Network, profiles and prosumers (:func:`build_case`).
    service_time, midday_time : str
        Start of the evening and midday service periods, ``HH:MM``.
    pv_kwp : float
        PV rating of every prosumer. [kWp]
    soc0 : float
        Initial state of charge. [-]
    v_min_pu, v_max_pu : float
        Voltage limits. [pu]
    tight_v_max_pu : float or None
        Upper limit of a second hosting scan (None to skip). [pu]
    hosting : bool
        Compute the hosting share.
    hosting_orders : int
        Further random join orders for the spread of the hosting share. [-]
    seed : int
        Seed of those join orders. [-]
    solver : SolverSettings, optional
        Solver settings of every OPF.

    Returns
    -------
    NetworkStudy
    """
    net = case.reduced
    ns, t = case.p_load_kw.shape
    pv = np.zeros((ns, t))
    pv[case.prosumers] = pv_kwp * case.pv_kw_per_kwp[None, :]
    sid = net.sites["site_id"].to_numpy()[case.prosumers]
    bat = BatteryParams(device_id=[f"battery_{s}" for s in sid], site_id=sid, soc0=np.full(sid.size, soc0))
    s20, s1230 = _step(service_time), _step(midday_time)
    svc20 = np.zeros(t, dtype=bool)
    svc20[s20] = True
    svc12 = np.zeros(t, dtype=bool)
    svc12[s1230] = True
    engine = BatchPowerFlow(net, reduce=False).run
    common: _OPFOptions = {
        "v_min_pu": v_min_pu, "v_max_pu": v_max_pu, "power_flow": engine, "solver": solver,
    }
    args = (net, case.p_load_kw, case.q_load_kvar, pv, bat, STEP_MIN / MIN_PER_H)
    results = {
        "sc": opf.solve_opf(*args, objective="self_consumption", **common),
        "no_gc": opf.solve_opf(*args, service=svc20, grid_constraints=False, **common),
        "gc": opf.solve_opf(*args, service=svc20, **common),
        "no_gc_1230": opf.solve_opf(*args, service=svc12, grid_constraints=False, **common),
        "gc_1230": opf.solve_opf(*args, service=svc12, **common),
    }
    full_engine = BatchPowerFlow(case.full, reduce=True)
    full_check = {}
    for name, r in results.items():
        flow = full_engine.run(r.p_site_kw, r.q_site_kvar)
        _, _, _, viol = opf.find_violations(case.full, flow, v_min_pu, v_max_pu)
        full_check[name] = {
            "v_min_pu": float(flow.v_pu.min()), "v_max_pu": float(flow.v_pu.max()),
            "max_violation_pct": float(viol["excess_pct"].max()) if len(viol) else 0.0,
        }
    host = tight = spread = None
    if hosting:
        pv_all = np.zeros((ns, t))
        pv_all[case.customers] = pv_kwp * case.pv_kw_per_kwp[None, :]
        hargs = (net, case.p_load_kw, case.q_load_kvar, pv_all, case.join_order, svc20)
        host = hosting_share(*hargs, v_min_pu=v_min_pu, v_max_pu=v_max_pu)
        if tight_v_max_pu is not None:
            tight = hosting_share(*hargs, v_min_pu=v_min_pu, v_max_pu=tight_v_max_pu)
        rng = np.random.default_rng([seed, 1])
        spread = np.array([
            hosting_share(net, case.p_load_kw, case.q_load_kvar, pv_all, rng.permutation(case.customers),
                          svc20, v_min_pu=v_min_pu, v_max_pu=v_max_pu).share
            for _ in range(int(hosting_orders))
        ])
    return NetworkStudy(case=case, results=results, full_check=full_check, service_step=s20,
                        midday_step=s1230, hosting=host, hosting_tight=tight, hosting_orders=spread)


def check_study_inputs(
    networks: Sequence[str], day: str, pv_day: str, share: float, seed: int, soc0: float = 0.2,
    v_min_pu: float = 0.9, v_max_pu: float = 1.1, tight_v_max_pu: float | None = 1.05,
) -> list[str]:
    """Validate the inputs of :func:`run_chile_technical` before any network is loaded; return the networks.

    Parameters
    ----------
    networks : sequence of str or str
        Network keys (``--networks``).
    day, pv_day : str
        Demand day (2016) and PV day.
    share : float
        Prosumer share. [-]
    seed : int
        Random seed. [-]
    soc0 : float
        Initial state of charge. [-]
    v_min_pu, v_max_pu : float
        Voltage limits. [pu]
    tight_v_max_pu : float or None
        Tighter upper limit of the second hosting scan. [pu]

    Returns
    -------
    list of str
        The network keys.

    Raises
    ------
    ValidationError
        Naming the input and the fix.
    """
    keys = [str(k).strip() for k in ([networks] if isinstance(networks, str) else networks)]
    keys = [k for k in keys if k]
    if not keys:
        raise ValidationError(f"networks is empty; give one or more of {list(NETWORKS)}, e.g. 'ieee,rural'")
    if len(keys) > MAX_NETWORKS:
        raise ValidationError(
            f"networks lists {len(keys)} networks, over the bound of {MAX_NETWORKS} per run; run the study "
            "in several parts"
        )
    bad = [k for k in keys if k not in NETWORKS and not k.startswith("1-LV-")]
    if bad:
        raise ValidationError(
            f"networks must be among {list(NETWORKS)} or SimBench LV codes such as '1-LV-rural1--2-sw' "
            f"(got {bad[0]!r})"
        )
    check_simbench_day(day, "day")
    try:
        pv_ts = pd.Timestamp(pv_day)
    except (TypeError, ValueError):
        pv_ts = pd.NaT
    if pv_ts is pd.NaT:
        raise ValidationError(f"pv_day must be a date such as '2016-12-21' (got {pv_day!r})")
    if not (np.isfinite(share) and 0.0 <= share <= 1.0):
        raise ValidationError(f"share must be a fraction in [0, 1] (got {share!r}); e.g. 0.5")
    check_seed(seed)
    if not (np.isfinite(soc0) and 0.0 <= soc0 <= 1.0):
        raise ValidationError(f"soc0 must be a state of charge in [0, 1] (got {soc0!r}); e.g. 0.2")
    check_voltage_limits(v_min_pu, v_max_pu)
    if tight_v_max_pu is not None and not (np.isfinite(tight_v_max_pu) and 1.0 < tight_v_max_pu < 2.0):
        raise ValidationError(f"tight_v_max_pu must lie in (1, 2) pu or be None (got {tight_v_max_pu!r})")
    return keys


def run_chile_technical(
    networks: Sequence[str] = ("ieee", "rural", "semiurb"),
    *,
    day: str = "2016-06-21",
    pv_day: str = "2016-12-21",
    share: float = 0.5,
    seed: int = 0,
    soc0: float = 0.2,
    v_min_pu: float = 0.9,
    v_max_pu: float = 1.1,
    tight_v_max_pu: float | None = 1.05,
    hosting: bool = True,
    progress: Callable[[str], None] | None = None,
) -> ChileTechnicalResult:
    """The technical assessment of §7 of the Chile roadmap (seed 000) on public LV networks.

    Parameters
    ----------
    networks : sequence of str
        Keys of :data:`NETWORKS` (or SimBench LV codes).
    day : str
        Day of the SimBench profile year 2016 (demand).
    pv_day : str
        Day of the clear-sky PV profile at Lampa (southern summer by default).
    share : float
        Fraction of customers that are prosumers. [-]
    seed : int
        Seed of every random choice. [-]
    soc0 : float
        Battery state of charge at the start of the day. [-]
    v_min_pu, v_max_pu : float
        Voltage limits. [pu]
    tight_v_max_pu : float, optional
        A tighter upper voltage limit for a second hosting-share scan (None to skip). [pu]
    hosting : bool
        Compute the hosting share.
    progress : callable, optional
        Called with a short message before each network.

    Returns
    -------
    ChileTechnicalResult
    """
    networks = check_study_inputs(networks, day, pv_day, share, seed, soc0, v_min_pu, v_max_pu,
                                  tight_v_max_pu)
    studies = []
    for key in networks:
        if progress:
            progress(f"{key}: loading network and profiles")
        case = build_case(key, day, share=share, seed=seed, pv_day=pv_day)
        if progress:
            progress(f"{key}: solving OPF cases ({case.reduced.n_bus} buses after reduction)")
        studies.append(run_network(case, soc0=soc0, v_min_pu=v_min_pu, v_max_pu=v_max_pu,
                                   tight_v_max_pu=tight_v_max_pu, hosting=hosting, seed=seed))
    params = {"day": day, "pv_day": pv_day, "share": share, "seed": seed, "soc0": soc0, "v_min_pu": v_min_pu,
              "v_max_pu": v_max_pu, "tight_v_max_pu": tight_v_max_pu, "step_min": STEP_MIN,
              "pv_kwp": 2.5, "battery": "5 kW / 13.5 kWh, 95 % round trip", "power_factor": 0.98,
              "head_voltage_pu": 1.0, "service": "20:00-20:30", "midday_service": "12:30-13:00"}
    return ChileTechnicalResult(studies=studies, params=params)
