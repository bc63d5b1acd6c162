"""Tests of the three-phase network model (openvpp.grid.network)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openvpp.errors import ValidationError
from openvpp.grid.network import Network


def _small(**changes):
    z = np.tile(np.eye(3) * (0.1 + 0.05j), (3, 1, 1))
    kw = dict(
        name="t",
        bus_names=["src", "b1", "b2", "b3"],
        v_base_v=230.0,
        source_bus=0,
        line_from=[0, 1, 1],
        line_to=[1, 2, 3],
        z_ohm=z,
        i_max_a=[200.0, 100.0, 80.0],
        trafo_sn_kva=250.0,
        trafo_z_pu=0.01 + 0.04j,
        trafo_vector_group="Dyn",
        v_source_pu=1.0,
        sites=pd.DataFrame({"site_id": ["s1", "s2", "s3"], "bus": [2, 3, 3], "phase": ["a", "abc", "c"]}),
    )
    kw.update(changes)
    return Network(**kw)


def test_topology_helpers():
    net = _small()
    assert (net.n_bus, net.n_line, net.n_site) == (4, 3, 3)
    a = net.incidence().toarray()
    assert a.shape == (3, 4)
    assert np.allclose(a.sum(axis=1), 0.0)  # each line leaves one bus and enters another
    assert a[1, 1] == 1 and a[1, 2] == -1
    assert net.parent.tolist() == [-1, 0, 1, 1]
    assert net.parent_line.tolist() == [-1, 0, 1, 2]
    assert net.order[0] == 0 and set(net.order.tolist()) == {0, 1, 2, 3}
    assert net.line_is_oriented.all()


def test_site_phase_matrix_conserves_power():
    net = _small()
    m = net.site_phase_matrix().toarray()
    assert m.shape == (12, 3)
    assert np.allclose(m.sum(axis=0), 1.0)
    assert m[3 * 2 + 0, 0] == 1.0  # s1 on phase a of bus 2
    assert np.allclose(m[9:12, 1], 1 / 3)  # s2 three-phase on bus 3
    assert m[3 * 3 + 2, 2] == 1.0
    assert np.count_nonzero(m) == 5  # only the connected bus-phases are stored
    np.testing.assert_array_equal(net.site_phase_weights(), [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3], [0, 0, 1]])


def test_derived_quantities():
    net = _small()
    assert net.z_base_ohm == pytest.approx(230.0**2 / (250e3 / 3))
    assert net.trafo_i_rated_a == pytest.approx(250e3 / (3 * 230.0))
    assert net.trafo_z_ohm == pytest.approx((0.01 + 0.04j) * net.z_base_ohm)
    assert net.bus_index(["b3", "src"]).tolist() == [3, 0]
    assert net.summary()["sites_per_phase"] == {"a": 1, "b": 0, "c": 1, "abc": 1}


@pytest.mark.parametrize(
    "changes, fragment",
    [
        ({"line_from": [0, 1, 2], "line_to": [1, 2, 1]}, "not connected"),
        ({"sites": pd.DataFrame({"site_id": ["x"], "bus": [1], "phase": ["d"]})}, "phase"),
        ({"sites": pd.DataFrame({"site_id": ["x"], "bus": [9], "phase": ["a"]})}, "sites.bus"),
        ({"i_max_a": [200.0, -1.0, 80.0]}, "i_max_a"),
        ({"v_source_pu": 2.0}, "v_source_pu"),
        ({"bus_names": ["a", "a", "b", "c"]}, "unique"),
        ({"z_ohm": np.zeros((2, 3, 3))}, "z_ohm"),
        ({"sites": pd.DataFrame({"site_id": ["x"], "bus": [1]})}, "phase"),
    ],
)
def test_validation_names_the_field(changes, fragment):
    with pytest.raises(ValidationError, match=fragment):
        _small(**changes)


def test_replace_revalidates():
    net = _small()
    other = net.replace(v_source_pu=1.02)
    assert other.v_source_pu == 1.02 and net.v_source_pu == 1.0
    with pytest.raises(ValidationError):
        net.replace(source_bus=7)
