"""Shared fixtures: seeded random generators and session-scoped real data."""

from __future__ import annotations

import numpy as np
import pytest


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
