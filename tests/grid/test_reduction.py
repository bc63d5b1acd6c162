"""Tests of the exact network reduction (openvpp.grid.reduction)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvpp.errors import ValidationError
from openvpp.grid.loaders import ieee_european_lv, sequence_to_phase
from openvpp.grid.network import Network
from openvpp.grid.powerflow import BatchPowerFlow
from openvpp.grid.reduction import reduce_network


@pytest.fixture(scope="module")
def ieee():
    return ieee_european_lv()


def random_feeder(seed: int, n_bus: int, n_site: int) -> Network:
    """A random radial feeder with random cable lengths, ratings and single/three-phase sites."""
    rng = np.random.default_rng(seed)
    parent = np.array([rng.integers(0, b) for b in range(1, n_bus)])
    length = rng.uniform(0.005, 0.08, n_bus - 1)
    z1 = (0.2 + 0.3 * rng.random(n_bus - 1) + 0.08j) * length
    z0 = 3.5 * z1.real + 1.15j * z1.imag
    site_bus = rng.choice(np.arange(1, n_bus), size=n_site)
    phases = rng.choice(["a", "b", "c", "abc"], size=n_site)
    return Network(
        name=f"random{seed}",
        bus_names=[f"n{k}" for k in range(n_bus)],
        v_base_v=230.0,
        source_bus=0,
        line_from=parent,
        line_to=np.arange(1, n_bus),
        z_ohm=sequence_to_phase(z0, z1),
        i_max_a=rng.uniform(80, 300, n_bus - 1),
        trafo_sn_kva=250.0,
        trafo_z_pu=0.01 + 0.04j,
        trafo_vector_group="Dyn",
        v_source_pu=1.02,
        sites=pd.DataFrame({"site_id": [f"s{k}" for k in range(n_site)], "bus": site_bus, "phase": phases}),
    )


def test_ieee_reduction_is_small_and_exact(ieee, rng):
    red = reduce_network(ieee)
    assert red.reduced.n_bus < 150  # 906 buses, 55 customers
    assert red.reduced.n_site == 55
    p = rng.uniform(-4.0, 6.0, (55, 24))  # imports and exports
    q = 0.2 * np.abs(p)
    full = BatchPowerFlow(ieee, reduce=False).run(p, q)
    fast = BatchPowerFlow(ieee, reduce=True)
    on_reduced = fast.run(p, q, full=False)
    # acceptance: same voltages at the kept buses within 1e-6 pu
    assert np.abs(on_reduced.v_pu - full.v_pu[red.kept_bus]).max() < 1e-6
    # the per-chain expansion (volts and amperes) reproduces every full-network voltage
    vb = ieee.v_base_v
    by_chain = red.expand_voltages(on_reduced.v_complex_pu * vb, on_reduced.i_line_complex_a) / vb
    assert np.abs(by_chain - full.v_complex_pu).max() < 1e-6
    # and so does the fast path's sparse expansion, at every bus and line
    expanded = fast.run(p, q)
    assert np.abs(expanded.v_complex_pu - full.v_complex_pu).max() < 1e-6
    assert np.abs(expanded.i_line_a - full.i_line_a).max() < 1e-6


def test_merged_rating_is_the_tightest(ieee):
    red = reduce_network(ieee)
    for r in range(red.reduced.n_line):
        segs = np.flatnonzero(red.line_map == r)
        assert segs.size >= 1
        assert red.reduced.i_max_a[r] == ieee.i_max_a[segs].min()
        assert np.allclose(red.reduced.z_ohm[r], ieee.z_ohm[segs].sum(axis=0))


def test_dead_ends_are_pruned_and_take_the_attachment_voltage():
    # 0 - 1 - 2 (site) and a dead end 1 - 3 - 4 without sites
    z = sequence_to_phase(np.full(4, 0.05 + 0.01j), np.full(4, 0.02 + 0.005j))
    net = Network(
        name="dead", bus_names=list("01234"), v_base_v=230.0, source_bus=0, line_from=[0, 1, 1, 3],
        line_to=[1, 2, 3, 4], z_ohm=z, i_max_a=[100.0, 90.0, 50.0, 40.0], trafo_sn_kva=100.0,
        trafo_z_pu=0.01 + 0.04j, trafo_vector_group="Dyn", v_source_pu=1.0,
        sites=pd.DataFrame({"site_id": ["s"], "bus": [2], "phase": ["b"]}),
    )
    red = reduce_network(net)
    assert red.reduced.n_bus == 2 and red.reduced.n_line == 1  # 0 and 2; chain 0-1-2 merged
    assert red.line_map.tolist() == [0, 0, -1, -1]
    assert red.reduced.i_max_a[0] == 90.0
    res = BatchPowerFlow(net).run([5.0], [1.0])
    assert np.allclose(res.v_complex_pu[3], res.v_complex_pu[1])
    assert np.allclose(res.v_complex_pu[4], res.v_complex_pu[1])
    assert np.allclose(res.i_line_a[2:], 0.0)
    ref = BatchPowerFlow(net, reduce=False).run([5.0], [1.0])
    assert np.abs(res.v_complex_pu - ref.v_complex_pu).max() < 1e-9


def test_keep_buses_survive(ieee):
    red = reduce_network(ieee, keep_buses=[500, 700])
    assert {500, 700} <= set(red.kept_bus.tolist())
    with pytest.raises(ValidationError):
        reduce_network(ieee, keep_buses=[5000])


def test_shunts_refused():
    net = random_feeder(0, 5, 2)
    with pytest.raises(ValidationError, match="shunt"):
        reduce_network(net.replace(y_shunt_s=np.full((4, 3, 3), 1e-6j)))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n_bus=st.integers(2, 40), n_site=st.integers(1, 12))
def test_reduction_exact_on_random_feeders(seed, n_bus, n_site):
    net = random_feeder(seed, n_bus, n_site)
    rng = np.random.default_rng(seed)
    p = rng.uniform(-5.0, 8.0, (n_site, 3))
    q = rng.uniform(-1.0, 2.0, (n_site, 3))
    a = BatchPowerFlow(net, reduce=True).run(p, q)
    b = BatchPowerFlow(net, reduce=False).run(p, q)
    assert np.abs(a.v_complex_pu - b.v_complex_pu).max() < 1e-9
    assert np.abs(a.i_line_complex_a - b.i_line_complex_a).max() < 1e-6
    red = reduce_network(net)
    assert red.reduced.n_bus <= net.n_bus
    assert red.reduced.n_bus <= 2 * n_site + 1  # kept: source, site buses, junctions of live subtrees
