"""Shared fixtures: seeded random generators and session-scoped real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openvpp.schedule.plan import Plan


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261123)


def _write_five_bus_feeder(path):
    """A 20/0.4 kV transformer and four 150 mm² cable sections feeding houses house1..house4 (pandapower)."""
    import pandapower as pp

    net = pp.create_empty_network()
    mv = pp.create_bus(net, 20.0)
    buses = [pp.create_bus(net, 0.4, name=f"lv{k}") for k in range(5)]
    pp.create_ext_grid(net, mv, vm_pu=1.0)
    pp.create_transformer(net, mv, buses[0], std_type="0.4 MVA 20/0.4 kV")  # Dyn5
    for k in range(4):
        pp.create_line(net, buses[k], buses[k + 1], 0.15, std_type="NAYY 4x150 SE")
    # the cable's own zero-sequence data (NAYY 4x150: r0 = 4 r1, x0 = x1): the file says what it is
    net.line["r0_ohm_per_km"], net.line["x0_ohm_per_km"], net.line["c0_nf_per_km"] = 0.728, 0.092, 0.0
    for k in range(1, 5):
        pp.create_load(net, buses[k], p_mw=0.002, name=f"house{k}")
    pp.to_json(net, str(path))
    return path


def _write_opf_profiles(folder, site_ids, n_pv_sites=None):
    """Eight 3-hourly steps: 2 kW demand at every site, 4 kW of PV from 09:00 to 18:00 at the first sites."""
    import pandas as pd

    index = pd.date_range("2024-01-15", periods=8, freq="3h")
    load = pd.DataFrame(2.0, index=index, columns=list(site_ids))
    pv = pd.DataFrame(0.0, index=index, columns=list(site_ids))
    pv.iloc[3:6, : len(site_ids) if n_pv_sites is None else n_pv_sites] = 4.0
    load.to_csv(folder / "load.csv")
    pv.to_csv(folder / "pv.csv")
    return load, pv


@pytest.fixture(scope="session")
def write_five_bus_feeder():
    """Writer of a small pandapower feeder as JSON: ``write_five_bus_feeder(path) -> path``."""
    return _write_five_bus_feeder


@pytest.fixture(scope="session")
def write_opf_profiles():
    """Writer of load.csv and pv.csv for ``openvpp opf``: ``write_opf_profiles(folder, ids, n_pv_sites)``."""
    return _write_opf_profiles


# ------------------------------------------------------- a small hand-made plan (control and sim tests)
def _small_plan(
    n_bat: int = 6,
    n_ev: int = 4,
    n_pv: int = 2,
    n_steps: int = 96,
    step_min: float = 15.0,
    services: tuple[str, ...] = ("cpf_plus", "cpf_minus", "peak", "ci"),
    bat_kw: float = 5.0,
    start: str = "2024-07-01 00:00",
) -> Plan:
    """Batteries idle at SoC 0.5 (5 kW / 13.5 kWh), EVs drawing 7 kW, PV at -2 kW; one site per device.

    Reserves: every battery commits 2 kW CPF+ (up) and 2 kW CPF- (down), 1 kW peak (up); every EV its
    whole 7 kW to CI (up).
    """
    index = pd.date_range(start, periods=n_steps, freq=pd.Timedelta(minutes=step_min), tz="UTC")
    n = n_bat + n_ev + n_pv
    cls = ["battery"] * n_bat + ["ev"] * n_ev + ["pv"] * n_pv
    base = np.zeros((n, n_steps))
    base[n_bat : n_bat + n_ev] = 7.0
    base[n_bat + n_ev :] = -2.0
    p_min = base.copy()
    p_max = base.copy()
    p_min[:n_bat] = -bat_kw
    p_max[:n_bat] = bat_kw
    p_min[n_bat : n_bat + n_ev] = 0.0
    p_max[n_bat : n_bat + n_ev] = 11.0
    p_max[n_bat + n_ev :] = 0.0
    ns = len(services)
    up = np.zeros((ns, n, n_steps))
    dn = np.zeros((ns, n, n_steps))
    if "cpf_plus" in services:
        up[services.index("cpf_plus"), :n_bat] = 2.0
    if "cpf_minus" in services:
        dn[services.index("cpf_minus"), :n_bat] = 2.0
    if "peak" in services:
        up[services.index("peak"), :n_bat] = 1.0
    if "ci" in services:
        up[services.index("ci"), n_bat : n_bat + n_ev] = 7.0
    e_max = np.full(n, np.nan)
    e_max[:n_bat] = 13.5
    soc_b = np.full((n, n_steps + 1), np.nan)
    soc_b[:n_bat] = 0.5
    soc_lo = np.full((n, n_steps), np.nan)
    soc_hi = np.full((n, n_steps), np.nan)
    soc_lo[:n_bat] = 0.1
    soc_hi[:n_bat] = 0.9
    site_p = base + 1.0
    return Plan(
        index=index,
        device_ids=[f"d{i}" for i in range(n)],
        device_class=cls,
        site_of_device=np.arange(n),
        site_ids=[f"s{i}" for i in range(n)],
        services=services,
        p_baseline_kw=base,
        reserve_up_kw=up,
        reserve_down_kw=dn,
        service_duration_h=np.full(ns, 0.25),
        soc_baseline=soc_b,
        soc_min=soc_lo,
        soc_max=soc_hi,
        e_max_kwh=e_max,
        site_p_kw=site_p,
        site_export_limit_kw=np.full((n, n_steps), np.inf),
        site_import_limit_kw=np.full((n, n_steps), np.inf),
        p_min_kw=p_min,
        p_max_kw=p_max,
    )


@pytest.fixture
def make_plan():
    """The :func:`_small_plan` factory: a hand-made Plan (a plain dataclass of arrays)."""
    return _small_plan
