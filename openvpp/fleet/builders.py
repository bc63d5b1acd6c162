"""Build fleets: from records, as a synthetic mix, or from a SimBench LV grid with its profiles.

Every builder validates all inputs before the :class:`~openvpp.fleet.fleet.Fleet` is created; tables are
immutable, so a failing record leaves nothing half-built.

Sign convention: profiles are stored as non-negative consumption (``*_kw`` loads) and non-negative PV AC
output (``pv_ac_kw``); the site power in the load convention is ``base + heat pump + EV - PV + battery``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from openvpp.checks import check_seed
from openvpp.data import bundled_value, load_simbench_lv, simbench_profiles, simbench_relative_profiles
from openvpp.data.simbench import SIMBENCH_TZ
from openvpp.der.battery import BatteryParams
from openvpp.errors import ConfigError, DataError, ValidationError
from openvpp.fleet.classes import DER_CLASSES, der_class
from openvpp.fleet.fleet import Fleet, Profiles
from openvpp.fleet.sites import Sites
from openvpp.tables import ParamTable
from openvpp.units import mw_to_kw

Records: TypeAlias = pd.DataFrame | Iterable[Mapping[str, Any]]

#: seed 000 shares used by :func:`synthetic` when no mix is given (§5 assumptions 1-2)
DEFAULT_MIX: dict[str, float] = {"pv": 0.5, "battery": 0.5, "ev": 0.178, "heatpump": 0.115}

#: the name of the rated-power column in each class, tried in order (first one the class declares wins)
_RATING_COLUMNS: dict[str, tuple[str, ...]] = {
    "pv": ("p_dc_kwp", "p_kwp", "pdc0_kw", "p_dc_kw", "p_peak_kwp", "p_ac_max_kw"),
    "ev": ("p_max_kw", "p_charge_max_kw", "p_rated_kw"),
    "heatpump": ("p_max_kw", "p_rated_kw"),
    "waterheater": ("p_max_kw",),
    "flexload": ("p_max_kw", "p_kw"),
}


#: classes without a household-scale default that synthetic could draw
_NOT_SYNTHETIC = ("generator", "variable_generator")


def _household_value(parameter: str) -> float:
    return bundled_value("household_der_assumptions", parameter)


# ---------------------------------------------------------------------------------------------- records


def from_records(
    sites: Records | Sites,
    der: Mapping[str, Records | ParamTable] | None = None,
    *,
    profiles: Profiles | None = None,
    classes: Mapping[str, type[ParamTable]] | None = None,
    name: str = "vpp",
    meta: Mapping[str, Any] | None = None,
) -> Fleet:
    """Build a fleet from one sites frame and one frame (or list of dicts) per DER class.

    Parameters
    ----------
    sites : DataFrame, list of dict or Sites
        Columns ``site_id``, ``node`` and optionally ``phase`` (a/b/c/abc), ``constraint_node``, ``ccp``,
        ``customer_type``, ``bus`` (see :class:`~openvpp.fleet.sites.Sites`).
    der : mapping of str to DataFrame / list of dict / ParamTable, optional
        One entry per DER class name (``"battery"``, ``"pv"``, ``"ev"``...; see
        :data:`~openvpp.fleet.classes.DER_CLASSES`), each with a ``device_id`` and a ``site_id`` column plus
        the class's parameters (units in the column names, e.g. ``e_max_kwh``).
    profiles : Profiles, optional
        Time series of the sites / devices.
    classes : mapping of str to ParamTable subclass, optional
        Parameter-table classes for names outside :data:`DER_CLASSES` (or to override them).
    name : str
        Label of the fleet.
    meta : mapping, optional
        Provenance carried by the fleet.

    Returns
    -------
    Fleet

    Raises
    ------
    ValidationError
        For the first bad value, naming the table, field and device/site (negative capacity, SoC outside
        [0, 1], unknown phase, NaN, duplicates, a device on an unknown site). Nothing is built then.
    """
    site_table = sites if isinstance(sites, Sites) else Sites.from_frame(sites)
    tables: dict[str, ParamTable] = {}
    for cls_name, frame in (der or {}).items():
        if isinstance(frame, ParamTable):
            tables[cls_name] = frame
            continue
        cls = (classes or {}).get(cls_name) or der_class(cls_name)
        tables[cls_name] = cls.from_frame(frame)
    return Fleet(site_table, tables, profiles, name, dict(meta or {}))


# ---------------------------------------------------------------------------------------------- synthetic
def _rated_table(cls_name: str, device_id: np.ndarray, site_id: np.ndarray, rating_kw: np.ndarray | None,
                 **extra: Any) -> ParamTable:
    """A table of class ``cls_name`` with its rating column (whatever the class calls it) and extras."""
    cls = der_class(cls_name)
    fields = {f.name for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {"device_id": device_id, "site_id": site_id}
    if rating_kw is not None:
        kwargs[rating_column(cls_name)] = rating_kw
    kwargs.update({k: v for k, v in extra.items() if k in fields})
    return cls(**kwargs)


#: EV sessions are written on a noon-to-noon day of 15-min steps (step 0 = 12:00, 96 steps)
EV_SESSION_HORIZON = "noon-to-noon day, 15-min steps (step 0 = 12:00)"


def _ev_sessions(m: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One evening-to-morning charging session per EV on the :data:`EV_SESSION_HORIZON` axis.

    Assumptions (documented in docs/fleet.md): arrival ~ normal(18:00, 1.5 h) within [15:00, 23:00],
    departure ~ normal(07:00, 1 h) within [05:00, 10:00] of the next morning, 60 kWh battery, energy to add
    uniform in [5, 15] kWh (30-100 km a day at ~0.15 kWh/km) up to 50 kWh at departure.
    """
    arrival = np.clip(np.round(rng.normal(24.0, 6.0, m)), 12, 44).astype(int)
    departure = np.clip(np.round(rng.normal(76.0, 4.0, m)), 68, 88).astype(int)
    need = rng.uniform(5.0, 15.0, m)
    return {"arrival_step": arrival, "departure_step": departure, "e_max_kwh": np.full(m, 60.0),
            "e_required_kwh": np.full(m, 50.0), "e0_kwh": 50.0 - need}


def rating_column(cls_name: str) -> str:
    """Name of the rated-power column of DER class ``cls_name`` (e.g. ``"p_max_kw"``).

    Parameters
    ----------
    cls_name : str
        DER class name.
    """
    if cls_name == "battery":
        return "p_discharge_max_kw"
    cls = der_class(cls_name)
    fields = {f.name for f in dataclasses.fields(cls)}
    col = next((c for c in _RATING_COLUMNS.get(cls_name, ()) if c in fields), None)
    if col is None:
        raise ConfigError(
            f"{cls.__name__} declares none of the rating columns {_RATING_COLUMNS.get(cls_name)}; "
            "add the name to openvpp.fleet.builders._RATING_COLUMNS"
        )
    return col


def synthetic(n_sites: int, mix: Mapping[str, float] | None = None, seed: int | np.random.Generator = 0,
              *, name: str = "synthetic", location: tuple[float, float] = (-33.29, -70.88)) -> Fleet:
    """A synthetic fleet of ``n_sites`` customers with a mix of DER, reproducible by ``seed``.

    Layout (documented in ``openvpp/data/bundled/synthetic_fleet_distributions.csv``): 118 sites per
    distribution transformer (constraint node; seed 000 §8, 3,893,059 dwellings / 34,851 medium-density LV
    networks), 3 sites per LV node, 10 transformers per CCP; 85 % single-phase sites spread evenly over
    a/b/c and 15 % three-phase; 5 % commercial customers.

    Devices: ``mix[c]`` is the share of sites with one device of class ``c`` (chosen at random without
    replacement). Batteries go to PV sites first (the prosumers of seed 000 have both) and to other sites
    only when the battery share exceeds the PV share. Parameter distributions:

    ========== ==================================================================================
    pv         p [kWp] lognormal, mean 2.5 (seed 000 §7.2), coefficient of variation 0.35, in [1, 10]
    battery    80 %: 5 kW / 13.5 kWh (seed 000 §5); 20 %: 3.3 kW / 10 kWh; 95 % round trip;
               initial SoC uniform in [0.2, 0.8]
    ev         charger 7 kW (70 %, seed 000 §5), 3.7 kW (20 %), 11 kW (10 %); one evening session on
               a noon-to-noon day (see ``_ev_sessions``)
    heatpump   rating normal, mean 4.5 kW (seed 000 §5), sd 0.8 kW, in [2, 8]
    others     the class's documented defaults (water heaters, flexible loads); generators are not
               drawn (give them with :func:`from_records`)
    ========== ==================================================================================

    Parameters
    ----------
    n_sites : int
        Number of sites (> 0). [-]
    mix : mapping of str to float, optional
        Share in [0, 1] of sites per DER class. Default :data:`DEFAULT_MIX` (seed 000: 50 % PV + battery,
        17.8 % EV, 11.5 % heat pump).
    seed : int or numpy.random.Generator
        Randomness; the same seed gives the same fleet. [-]
    name : str
        Label of the fleet.
    location : (float, float)
        Latitude and longitude of every PV system [deg]; default Lampa, Chile (the seed 000 case study).

    Returns
    -------
    Fleet
        A fleet **without profiles**: it has devices and their ratings but no time series. Studies that
        simulate time (self-consumption, flexibility over a horizon) need profiles: attach them with
        ``fleet.with_profiles(Profiles(index, {"base_load_kw": ..., "pv_pu": ...}))`` (see
        :data:`openvpp.fleet.PROFILE_NAMES`), or build a fleet with real profiles by :func:`from_simbench`.
    """
    if isinstance(n_sites, bool) or int(n_sites) != n_sites or n_sites <= 0:
        raise ValidationError(f"n_sites must be a positive whole number (got {n_sites!r})")
    n = int(n_sites)
    mix = dict(DEFAULT_MIX if mix is None else mix)
    for cls_name, share in mix.items():
        if cls_name not in DER_CLASSES:
            raise ValidationError(f"mix names unknown DER class {cls_name!r}; known: {sorted(DER_CLASSES)}")
        if not (np.isfinite(share) and 0.0 <= share <= 1.0):
            raise ValidationError(f"mix[{cls_name!r}] must be a share in [0, 1] (got {share!r})")
        if cls_name in _NOT_SYNTHETIC and share > 0:
            raise ValidationError(
                f"synthetic does not draw {cls_name!r} devices (no household default rating); "
                "add them with from_records and explicit parameters"
            )
    seed = check_seed(seed)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    # ---- sites
    i = np.arange(n)
    site_id = np.array([f"s{k:07d}" for k in range(n)], dtype=object)
    trafo = i // 118
    node = np.char.add(np.char.add(np.char.add("T", trafo.astype(str)), "-N"), ((i % 118) // 3).astype(str))
    constraint_node = np.char.add("T", trafo.astype(str))
    ccp = np.char.add("CCP", (trafo // 10).astype(str))
    single = rng.random(n) < 0.85
    phase = np.where(single, np.array(["a", "b", "c"])[rng.integers(0, 3, n)], "abc")
    customer_type = np.where(rng.random(n) < 0.05, "commercial", "household")
    sites = Sites(site_id=site_id, node=node, phase=phase, constraint_node=constraint_node, ccp=ccp,
                  customer_type=customer_type, bus=-1)

    # ---- devices
    def pick(share: float, prefer: np.ndarray | None = None) -> np.ndarray:
        k = round(share * n)
        if prefer is None or k == 0:
            return np.sort(rng.choice(n, size=k, replace=False))
        if k <= prefer.size:
            return np.sort(rng.choice(prefer, size=k, replace=False))
        rest = np.setdiff1d(i, prefer, assume_unique=True)
        return np.sort(np.concatenate([prefer, rng.choice(rest, size=k - prefer.size, replace=False)]))

    tables: dict[str, ParamTable] = {}
    order = sorted(mix, key=lambda c: (c != "pv", c))  # PV first: batteries prefer PV sites
    pv_sites: np.ndarray | None = None
    for cls_name in order:
        chosen = pick(mix[cls_name], pv_sites if cls_name == "battery" else None)
        dev_id = np.char.add(f"{cls_name}-", site_id[chosen].astype(str)).astype(object)
        sid = site_id[chosen]
        m = chosen.size
        if cls_name == "pv":
            pv_sites = chosen
            mean, cv = _household_value("pv_p_kwp"), 0.35
            sigma = np.sqrt(np.log1p(cv**2))
            kwp = np.clip(rng.lognormal(np.log(mean) - sigma**2 / 2, sigma, m), 1.0, 10.0)
            tables["pv"] = _rated_table("pv", dev_id, sid, kwp, latitude_deg=location[0],
                                        longitude_deg=location[1])
        elif cls_name == "battery":
            big = rng.random(m) < 0.8
            p = np.where(big, _household_value("battery_p_kw"), 3.3)
            tables["battery"] = BatteryParams(
                device_id=dev_id, site_id=sid, p_charge_max_kw=p, p_discharge_max_kw=p,
                e_max_kwh=np.where(big, _household_value("battery_e_kwh"), 10.0),
                soc0=rng.uniform(0.2, 0.8, m),
            )
        elif cls_name == "ev":
            p = np.array([7.0, 3.7, 11.0])[rng.choice(3, size=m, p=[0.7, 0.2, 0.1])]
            tables["ev"] = _rated_table("ev", dev_id, sid, p, **_ev_sessions(m, rng))
        elif cls_name == "heatpump":
            p = np.clip(rng.normal(4.5, 0.8, m), 2.0, 8.0)
            tables["heatpump"] = _rated_table("heatpump", dev_id, sid, p)
        else:
            tables[cls_name] = der_class(cls_name)(device_id=dev_id, site_id=sid)
    seed_meta = seed if isinstance(seed, int | np.integer) else "generator"
    return Fleet(sites, tables, None, name, {"builder": "synthetic", "seed": seed_meta, "mix": mix})


# ---------------------------------------------------------------------------------------------- SimBench
#: SimBench load-profile prefixes that denote heat pumps and EV charging (simbench profile naming)
HEATPUMP_PROFILE_PREFIXES = ("Soil_", "Air_")
EV_PROFILE_PREFIXES = ("HLS_", "APLS_")


def _sub_seed(seed: int | np.random.Generator, k: int) -> np.random.SeedSequence | np.random.Generator:
    """An independent stream for a secondary random choice (keeps the top-up draw unchanged)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.SeedSequence([int(seed), k])


def _customer_type(profile: str) -> str:
    if profile.startswith("H"):
        return "household"
    if profile.startswith("G"):
        return "commercial"
    if profile.startswith("L"):
        return "agricultural"
    return "other"


def _bus_to_transformer(net: Any) -> tuple[dict[int, str], dict[int, str]]:
    """Map each bus to the transformer feeding it and that transformer's HV bus name (the CCP)."""
    import networkx as nx
    import pandapower.topology as top

    graph = top.create_nxgraph(net, include_trafos=False, respect_switches=True)
    trafo_of: dict[int, str] = {}
    ccp_of: dict[int, str] = {}
    for _, tr in net.trafo.iterrows():
        if tr.lv_bus not in graph:
            continue
        for b in nx.node_connected_component(graph, tr.lv_bus):
            trafo_of.setdefault(int(b), str(tr["name"]))
            ccp_of.setdefault(int(b), str(net.bus.at[tr.hv_bus, "name"]))
    return trafo_of, ccp_of


#: where SimBench grids lie when a bus has no coordinates (the centre of Germany) [deg]
SIMBENCH_FALLBACK_LAT_LON = (51.0, 10.0)


def _bus_coordinates(net: Any, buses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude of pandapower buses from ``net.bus.geo`` (GeoJSON points) [deg].

    Buses without coordinates take the mean of the others, or :data:`SIMBENCH_FALLBACK_LAT_LON`.
    """
    import json

    lat = np.full(len(buses), np.nan)
    lon = np.full(len(buses), np.nan)
    geo = net.bus["geo"] if "geo" in net.bus else pd.Series(dtype=object)
    for j, b in enumerate(buses):
        g = geo.get(int(b)) if len(geo) else None
        if isinstance(g, str) and g:
            try:
                x, y = json.loads(g)["coordinates"][:2]
                lon[j], lat[j] = float(x), float(y)
            except (ValueError, KeyError, TypeError):
                pass
    ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    fill = (np.mean(lat[ok]), np.mean(lon[ok])) if ok.any() else SIMBENCH_FALLBACK_LAT_LON
    return np.where(ok, lat, fill[0]), np.where(ok, lon, fill[1])


def from_simbench(
    code: str = "1-LV-rural1--2-sw",
    prosumer_share: float = 0.5,
    seed: int | np.random.Generator = 0,
    *,
    tz: str = SIMBENCH_TZ,
    net: Any = None,
) -> Fleet:
    """A fleet from a SimBench LV grid with its year-long 15-min profiles, topped up to ``prosumer_share``.

    Mapping (one site per customer load; SimBench data ship with the ``simbench`` package):

    * every load whose profile is not a heat pump or EV profile becomes a **site** (``site_id`` = load
      name; node = bus name; ``bus`` = pandapower bus index; phase ``"abc"`` since SimBench loads are
      balanced; constraint node = the transformer feeding the bus; CCP = the transformer's MV bus;
      customer type from the profile: ``H*`` household, ``G*`` commercial, ``L*`` agricultural);
      its profile becomes the site's ``base_load_kw``;
    * loads with profiles ``Soil_*`` / ``Air_*`` are **heat pumps** and ``HLS_*`` / ``APLS_*`` are **EV
      chargers**; each joins a site on the same bus (cyclically when a bus has several sites; a bus with
      no customer load gets a site of its own), its profile is added to the site's ``heatpump_kw`` /
      ``ev_kw`` and a device with the rating max(p_mw, profile peak) goes to the ``heatpump`` / ``ev``
      table;
    * PV ``sgen`` rows become **PV** systems (kWp = ``p_mw``; relative profile ``pv_pu``);
    * ``storage`` rows become **batteries** (power ``sn_mva``, capacity ``max_e_mwh``, SoC window from
      ``min_e_mwh``, round trip ``efficiency_percent`` split evenly into charge/discharge, self-discharge
      from ``self-discharge_percent_per_day``); a storage of a site without PV whose profile names a PV
      profile (``Storage_PV8_L1-A`` -> ``PV8``) brings that PV system, sized at the storage's power rating
      (assumption: SimBench stores these PV-storage systems without their PV ``sgen``).

    Top-up rule (seed 000 §7.2-7.3: ~50 % prosumers with 2.5 kWp PV and 5 kW / 13.5 kWh batteries, 95 %
    round trip): a prosumer is a site with PV and a battery. With ``n_target = round(prosumer_share x
    n_sites)``, sites that are not yet prosumers are drawn uniformly at random (``numpy`` generator seeded
    by ``seed``) until there are ``n_target`` prosumers; each drawn site gets a 2.5 kWp PV system if it has
    none (its profile drawn at random among the grid's own PV profiles) and a 5 kW / 13.5 kWh battery
    (initial SoC 0.5) if it has none. If there are already ``n_target`` prosumers, nothing is added.

    Parameters
    ----------
    code : str
        SimBench LV grid code (see :data:`openvpp.data.LV_GRIDS`).
    prosumer_share : float
        Target share of sites with PV and a battery, in [0, 1].
    seed : int or numpy.random.Generator
        Randomness of the top-up draw.
    tz : str
        Zone of the profile axis (default fixed UTC+01:00, see :mod:`openvpp.data.simbench`).
    net : pandapower.pandapowerNet, optional
        An already loaded SimBench network (skips loading ``code``).

    Returns
    -------
    Fleet
        With site profiles ``base_load_kw``, ``heatpump_kw``, ``ev_kw``, ``pv_ac_kw`` and device profile
        ``pv_pu`` (owner ``"pv"``), 35,136 steps of 15 min; ``meta`` records the code and what was added.
    """
    if not (np.isfinite(prosumer_share) and 0.0 <= prosumer_share <= 1.0):
        raise ValidationError(f"prosumer_share must be in [0, 1] (got {prosumer_share!r})")
    seed = check_seed(seed)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if net is None:
        net = load_simbench_lv(code)
    values = simbench_profiles(net, tz=tz)
    index = values[("load", "p_mw")].index
    n_steps = len(index)
    load_p_kw = mw_to_kw(values[("load", "p_mw")].to_numpy(dtype=float).T)  # (n_loads, n_steps)

    loads = net.load.reset_index(drop=False).rename(columns={"index": "pp_index"})
    prof = loads["profile"].astype(str)
    is_hp = prof.str.startswith(HEATPUMP_PROFILE_PREFIXES).to_numpy()
    is_ev = prof.str.startswith(EV_PROFILE_PREFIXES).to_numpy()
    is_customer = ~(is_hp | is_ev)
    col_pos = pd.Index(values[("load", "p_mw")].columns).get_indexer(loads["pp_index"])
    if np.any(col_pos < 0):
        raise DataError("SimBench profiles do not cover every load of the network")
    load_p_kw = load_p_kw[col_pos]

    trafo_of, ccp_of = _bus_to_transformer(net)
    bus_name = net.bus["name"].astype(str)

    # ---- sites: customer loads, then one site per bus that only has HP/EV loads
    site_rows: list[dict[str, Any]] = []
    site_load_rows: list[int] = []
    for k in np.flatnonzero(is_customer):
        b = int(loads.at[k, "bus"])
        site_rows.append(
            {"site_id": str(loads.at[k, "name"]), "bus": b, "customer_type": _customer_type(prof[k])}
        )
        site_load_rows.append(int(k))
    customer_buses = {r["bus"] for r in site_rows}
    orphan_buses = sorted({int(loads.at[k, "bus"]) for k in np.flatnonzero(~is_customer)} - customer_buses)
    for b in orphan_buses:
        site_rows.append({"site_id": f"site at {bus_name.at[b]}", "bus": b, "customer_type": "household"})
        site_load_rows.append(-1)
    for r in site_rows:
        b = r["bus"]
        r["node"] = bus_name.at[b]
        r["phase"] = "abc"
        r["constraint_node"] = trafo_of.get(b, "unassigned")
        r["ccp"] = ccp_of.get(b, "unassigned")
    sites = Sites.from_frame(pd.DataFrame(site_rows))
    n_sites = sites.n
    sites_at_bus: dict[int, list[int]] = {}
    for s, b in enumerate(sites.bus):
        sites_at_bus.setdefault(int(b), []).append(s)
    counters: dict[tuple[str, int], int] = {}

    def site_for_bus(kind: str, b: int) -> int:
        cands = sites_at_bus[b]
        j = counters.get((kind, b), 0)
        counters[(kind, b)] = j + 1
        return cands[j % len(cands)]

    base = np.zeros((n_sites, n_steps))
    rows = np.asarray(site_load_rows)
    has_load = rows >= 0
    base[has_load] = load_p_kw[rows[has_load]]

    # ---- heat pumps and EV chargers
    site_profiles = {"base_load_kw": base}
    tables: dict[str, ParamTable] = {}
    skipped: list[str] = []
    for kind, mask in (("heatpump", is_hp), ("ev", is_ev)):
        ks = np.flatnonzero(mask)
        spos = np.array([site_for_bus(kind, int(loads.at[k, "bus"])) for k in ks], dtype=np.int64)
        agg = np.zeros((n_sites, n_steps))
        if ks.size:
            np.add.at(agg, spos, load_p_kw[ks])
        site_profiles[f"{kind}_kw"] = agg
        if ks.size == 0:
            continue
        rating = np.maximum(mw_to_kw(loads.loc[ks, "p_mw"].to_numpy(float)), load_p_kw[ks].max(axis=1))
        extra = _ev_sessions(ks.size, np.random.default_rng(_sub_seed(seed, 1))) if kind == "ev" else {}
        try:
            tables[kind] = _rated_table(kind, loads.loc[ks, "name"].astype(str).to_numpy(object),
                                        sites.site_id[spos], rating, **extra)
        except ConfigError:
            skipped.append(kind)  # device module not available: its load stays in the site profile

    # ---- PV from sgens
    sg = net.sgen.reset_index(drop=False).rename(columns={"index": "pp_index"})
    is_pv = sg["type"].astype(str).str.upper().str.contains("PV").to_numpy() if len(sg) else np.zeros(0, bool)
    sg_pv = sg[is_pv].reset_index(drop=True)
    sgen_kw = values[("sgen", "p_mw")]
    pv_pos = np.array([site_for_bus("pv", int(b)) if int(b) in sites_at_bus else -1 for b in sg_pv["bus"]],
                      dtype=np.int64)
    if np.any(pv_pos < 0):
        pv_pos, sg_pv = pv_pos[pv_pos >= 0], sg_pv[pv_pos >= 0].reset_index(drop=True)  # PV on empty buses
    pv_kwp = mw_to_kw(sg_pv["p_mw"].to_numpy(float))
    pv_pu = (sgen_kw[sg_pv["pp_index"].to_numpy()].to_numpy(float).T * 1000.0
             / np.where(pv_kwp > 0, pv_kwp, 1.0)[:, None] if len(sg_pv) else np.zeros((0, n_steps)))
    pv_ids = list(sg_pv["name"].astype(str))

    # ---- batteries from storages
    st = net.storage
    bat_ids = list(st["name"].astype(str))
    bat_pos = np.array([site_for_bus("battery", int(b)) if int(b) in sites_at_bus else -1 for b in st["bus"]],
                       dtype=np.int64)
    keep = bat_pos >= 0
    st = st[keep]
    bat_pos = bat_pos[keep]
    bat_ids = [x for x, k in zip(bat_ids, keep, strict=True) if k]
    eff = st["efficiency_percent"].to_numpy(float) if "efficiency_percent" in st else np.full(len(st), 0.95)
    eff = np.where(eff > 1.0, eff / 100.0, eff)
    e_max = mw_to_kw(st["max_e_mwh"].to_numpy(float))
    p_bat = np.where(st["sn_mva"].to_numpy(float) > 0, st["sn_mva"].to_numpy(float),
                     np.abs(st["min_p_mw"].to_numpy(float))) * 1000.0
    soc_min = np.clip(mw_to_kw(st["min_e_mwh"].to_numpy(float)) / e_max, 0.0, 1.0) if len(st) else np.zeros(0)
    sd = (st["self-discharge_percent_per_day"].to_numpy(float) / 100.0 / 24.0
          if "self-discharge_percent_per_day" in st else np.zeros(len(st)))
    soc0 = (np.maximum(np.clip(st["soc_percent"].to_numpy(float) / 100.0, 0.0, 1.0), soc_min)
            if len(st) else [])
    bat_cols: dict[str, list[Any]] = {
        "device_id": bat_ids, "site_id": list(sites.site_id[bat_pos]), "p_charge_max_kw": list(p_bat),
        "p_discharge_max_kw": list(p_bat), "e_max_kwh": list(e_max), "soc_min": list(soc_min),
        "eta_charge": list(np.sqrt(eff)), "eta_discharge": list(np.sqrt(eff)),
        "self_discharge_per_h": list(sd), "soc0": list(soc0),
    }

    # ---- PV that a SimBench PV-storage names ('Storage_PV8_L1-A' -> PV8) but the sgen table lacks
    pv_profiles = simbench_relative_profiles(net, "renewables", tz=tz)
    pv_profiles = pv_profiles[[c for c in pv_profiles.columns if str(c).upper().startswith("PV")]]
    has_pv = np.zeros(n_sites, bool)
    has_pv[pv_pos] = True
    st_prof = st["profile"].astype(str).str.extract(r"^Storage_(PV\d+)_", expand=False) if len(st) else []
    completed = 0
    for j, (s_pos, pname) in enumerate(zip(bat_pos, st_prof, strict=True)):
        if has_pv[s_pos] or not isinstance(pname, str) or pname not in pv_profiles.columns:
            continue
        pv_pu = np.vstack([pv_pu, pv_profiles[pname].to_numpy(float)[None, :]])
        pv_pos = np.concatenate([pv_pos, [s_pos]])
        pv_kwp = np.concatenate([pv_kwp, [p_bat[j]]])
        pv_ids.append(f"pv of {bat_ids[j]}")
        has_pv[s_pos] = True
        completed += 1

    # ---- top-up to the prosumer share (seed 000 §7.2)
    has_bat = np.zeros(n_sites, bool)
    has_bat[bat_pos] = True
    n_target = round(prosumer_share * n_sites)
    candidates = np.flatnonzero(~(has_pv & has_bat))
    n_add = max(n_target - int(np.sum(has_pv & has_bat)), 0)
    drawn = np.sort(rng.choice(candidates, size=min(n_add, candidates.size), replace=False))
    add_pv = drawn[~has_pv[drawn]]
    add_bat = drawn[~has_bat[drawn]]
    if add_pv.size and pv_profiles.shape[1] == 0:
        raise DataError(f"SimBench grid {code!r} has no PV profile to give the added PV systems")
    added_kwp = _household_value("pv_p_kwp")
    if add_pv.size:
        which = rng.integers(0, pv_profiles.shape[1], add_pv.size)
        pv_pu = np.vstack([pv_pu, pv_profiles.to_numpy(float).T[which]])
        pv_pos = np.concatenate([pv_pos, add_pv])
        pv_kwp = np.concatenate([pv_kwp, np.full(add_pv.size, added_kwp)])
        pv_ids += [f"pv added {sites.site_id[s]}" for s in add_pv]
    eta = float(np.sqrt(_household_value("battery_round_trip_efficiency")))
    p_add, e_add = _household_value("battery_p_kw"), _household_value("battery_e_kwh")
    for s in add_bat:
        for col, val in (("device_id", f"battery added {sites.site_id[s]}"), ("site_id", sites.site_id[s]),
                         ("p_charge_max_kw", p_add), ("p_discharge_max_kw", p_add), ("e_max_kwh", e_add),
                         ("soc_min", 0.0), ("eta_charge", eta), ("eta_discharge", eta),
                         ("self_discharge_per_h", 0.0), ("soc0", 0.5)):
            bat_cols[col].append(val)
    tables["battery"] = BatteryParams(**{k: np.asarray(v) for k, v in bat_cols.items()})

    pv_ac = np.zeros((n_sites, n_steps))
    if pv_pos.size:
        np.add.at(pv_ac, pv_pos, pv_kwp[:, None] * pv_pu)
    site_profiles["pv_ac_kw"] = pv_ac
    data: dict[str, np.ndarray] = dict(site_profiles)
    owner = {k: "site" for k in data}
    try:
        lat, lon = _bus_coordinates(net, sites.bus[pv_pos])
        tables["pv"] = _rated_table("pv", np.asarray(pv_ids, dtype=object), sites.site_id[pv_pos], pv_kwp,
                                    latitude_deg=lat, longitude_deg=lon)
        data["pv_pu"] = pv_pu
        owner["pv_pu"] = "pv"
    except ConfigError:
        skipped.append("pv")
    meta = {
        "builder": "from_simbench", "grid_code": code, "prosumer_share": prosumer_share,
        "seed": seed if isinstance(seed, int | np.integer) else "generator",
        "n_loads": len(net.load), "n_sgen_pv": int(is_pv.sum()), "n_storage": len(net.storage),
        "n_orphan_sites": len(orphan_buses),
        "pv_for_storage": completed, "added_pv": int(add_pv.size), "added_battery": int(add_bat.size),
        "tables_not_built": skipped,
    }
    return Fleet(sites, tables, Profiles(index, data, owner), f"simbench {code}", meta)
