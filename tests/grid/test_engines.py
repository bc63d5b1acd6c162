"""Tests of the independent power-flow engines (openvpp.grid.engines): agreement with the fast path,
common options, size bounds, and isolation of OpenDSS engine instances."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openvpp.errors import ValidationError
from openvpp.grid import engines
from openvpp.grid.loaders import ieee_european_lv, ieee_european_lv_snapshot, sequence_to_phase, simbench_lv
from openvpp.grid.network import Network
from openvpp.grid.powerflow import BatchPowerFlow, run_powerflow


@pytest.fixture(scope="module")
def ieee():
    return ieee_european_lv()


@pytest.fixture(scope="module")
def snapshot():
    return ieee_european_lv_snapshot("on_peak_566")


@pytest.fixture(scope="module")
def fast_snapshot(ieee, snapshot):
    return BatchPowerFlow(ieee).run(*snapshot)


def _feeder(scale: float = 1.0, name: str = "feeder") -> Network:
    """Three buses, two cables (impedances x ``scale``), one single-phase and one three-phase site."""
    z = sequence_to_phase(np.array([0.2 + 0.02j, 0.3 + 0.03j]), np.array([0.06 + 0.02j, 0.09 + 0.025j]))
    return Network(
        name=name, bus_names=["lv", "m", "end"], v_base_v=230.0, source_bus=0, line_from=[0, 1],
        line_to=[1, 2], z_ohm=z * scale, i_max_a=[150.0, 60.0], trafo_sn_kva=100.0, trafo_z_pu=0.01 + 0.04j,
        trafo_vector_group="Dyn", v_source_pu=1.03,
        sites=pd.DataFrame({"site_id": ["h1", "h2", "shop"], "bus": [1, 2, 2], "phase": ["a", "c", "abc"]}),
    )


def test_fast_path_vs_pgm_and_opendss(ieee, snapshot, fast_snapshot):
    res_pgm = engines.run_pgm(ieee, *snapshot)
    res_dss = engines.run_opendss(ieee, *snapshot)
    for res in (res_pgm, res_dss):
        assert np.abs(res.v_pu - fast_snapshot.v_pu).max() < 1e-3
    # the residual (~6e-4 pu) is the transformer zero-sequence impedance: power-grid-model and OpenDSS use
    # z0 = z1 for the Dyn transformer; with the same assumption the engines agree to 1e-6 pu
    same_z0 = ieee.replace(trafo_z0_pu=None)
    fast_same = BatchPowerFlow(same_z0).run(*snapshot)
    assert np.abs(res_pgm.v_pu - fast_same.v_pu).max() < 1e-6
    assert np.abs(res_dss.v_pu - fast_same.v_pu).max() < 1e-6
    assert np.abs(res_pgm.v_pu - fast_snapshot.v_pu).max() > 1e-4


def test_simbench_fast_path_vs_pandapower_built_from_the_network():
    net = simbench_lv("1-LV-semiurb4--2-sw")
    rng = np.random.default_rng(4)
    p = rng.uniform(-3.0, 6.0, (net.n_site, 2))
    q = 0.3 * p
    fast = BatchPowerFlow(net).run(p, q)
    ref = engines.run_pandapower(net, p, q)
    assert np.abs(fast.v_pu - ref.v_pu).max() < 1e-6
    assert np.abs(fast.i_line_a - ref.i_line_a).max() < 1e-3



# ---------------------------------------------------------------------------------------------- opendss state
def test_a_second_opendss_engine_leaves_the_first_unchanged(tmp_path):
    p = np.array([[4.0, 1.0], [6.0, 0.5], [9.0, 3.0]])
    first = engines.OpenDSSEngine(_feeder())
    before = first.voltages_pu(p)
    # a second engine on another network, and a .dss file read in between, both compile OpenDSS circuits
    other = engines.OpenDSSEngine(_feeder(scale=3.0, name="other"))
    other_v = other.voltages_pu(p)
    path = tmp_path / "third.dss"
    path.write_text("\n".join(engines.to_opendss(_feeder(scale=5.0, name="third"))) + "\n")
    from openvpp.grid.loaders import from_opendss

    from_opendss(path)
    after = first.voltages_pu(p)
    np.testing.assert_allclose(after, before, atol=1e-9)  # OpenDSS warm-starts: equal to its tolerance
    assert np.abs(other_v - before).max() > 1e-3  # the second network really differs
    # and each engine still agrees with the fast path on its own network
    fast = BatchPowerFlow(_feeder(), reduce=False).run(p)
    assert np.abs(np.abs(after) - fast.v_pu).max() < 1e-6


# ---------------------------------------------------------------------------------------------- options
@pytest.mark.parametrize("engine", ["fast", "full", "pgm", "opendss", "pandapower"])
def test_every_engine_takes_tol_and_max_iter(engine, rng):
    p = rng.uniform(-4.0, 6.0, (3, 2))
    ref = run_powerflow(_feeder(), p, engine="full")
    res = run_powerflow(_feeder(), p, engine=engine, tol_pu=1e-9, max_iter=60)
    assert np.abs(res.v_pu - ref.v_pu).max() < 1e-6


@pytest.mark.parametrize("engine", ["pgm", "opendss", "pandapower"])
@pytest.mark.parametrize("opts, field", [({"tol_pu": -1.0}, "tol_pu"), ({"max_iter": 0}, "max_iter")])
def test_bad_engine_options_name_the_option(engine, opts, field):
    with pytest.raises(ValidationError, match=field):
        run_powerflow(_feeder(), np.ones(3), engine=engine, **opts)


def test_step_by_step_engines_are_bounded():
    with pytest.raises(ValidationError, match="10,000"):
        engines.run_pandapower(_feeder(), np.zeros((3, 10_001)))


def test_engines_and_the_fast_path_do_not_import_each_other():
    """One dispatch (powerflow.run_powerflow), result types in results.py: engines never import powerflow."""
    import ast
    import inspect

    from openvpp.grid import powerflow, results

    def imported(module):
        tree = ast.parse(inspect.getsource(module))
        names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        return names | {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}

    assert "openvpp.grid.powerflow" not in imported(engines)
    assert not {"openvpp.grid.powerflow", "openvpp.grid.engines"} & imported(results)
    assert engines.PowerFlowResult is powerflow.PowerFlowResult is results.PowerFlowResult
