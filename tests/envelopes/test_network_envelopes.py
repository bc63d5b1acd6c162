"""Network envelopes: hand-computed two-bus case, exact power-flow acceptance on a SimBench feeder, fairness,
monotonicity and the comparison with the SAPN heuristic."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from openvpp.envelopes.network_envelopes import (
    CHECK_TOL,
    FAIRNESS,
    check_envelopes,
    compare_with_heuristic,
    network_envelopes,
    simbench_feeder_day,
)
from openvpp.envelopes.objects import EnvelopeSet
from openvpp.errors import ValidationError
from openvpp.grid.network import Network
from openvpp.grid.powerflow import BatchPowerFlow, run_powerflow
from openvpp.timeseries import make_index

# every 3 h over the day: night, morning ramp, midday PV peak, evening; a regular 3-h axis
COLS = np.arange(0, 96, 12)
V_BASE = 230.0
R_OHM, X_OHM = 0.5, 0.2
TRAFO_KVA, TRAFO_Z_PU = 1000.0, complex(0.01, 0.04)


@pytest.fixture(scope="session")
def feeder():
    return simbench_feeder_day("1-LV-rural1--2-sw", "2016-06-15")


@pytest.fixture(scope="session")
def sub(feeder):
    """Eight intervals of the feeder day (keeps the tests fast)."""
    return feeder.p_base_kw[:, COLS], feeder.q_base_kvar[:, COLS], feeder.index[COLS]


def _run(feeder, sub, fairness, **kw):
    p, q, idx = sub
    return network_envelopes(feeder.network, p, q, idx, sites=feeder.vpp_sites, fairness=fairness,
                             der_kw=feeder.der_kw, **kw)


@pytest.fixture(scope="session")
def results(feeder, sub):
    return {f: _run(feeder, sub, f) for f in FAIRNESS}


# ---------------------------------------------------------------------------------------------- hand case
def two_bus(i_max_a: float = 1e4) -> Network:
    """Source busbar -> one line (R + jX per phase, no mutual coupling) -> one balanced three-phase site."""
    z = np.zeros((1, 3, 3), dtype=complex)
    z[0] += np.eye(3) * complex(R_OHM, X_OHM)
    return Network(
        name="two-bus", bus_names=np.array(["src", "far"]), v_base_v=V_BASE, source_bus=0,
        line_from=np.array([0]), line_to=np.array([1]), z_ohm=z, i_max_a=np.array([i_max_a]),
        trafo_sn_kva=TRAFO_KVA, trafo_z_pu=TRAFO_Z_PU, trafo_vector_group="Dyn", v_source_pu=1.0,
        sites=pd.DataFrame({"site_id": ["s"], "bus": [1], "phase": ["abc"]}),
    )


def hand_limit_kw(u_pu: float) -> float:
    """Three-phase power at which the receiving-end voltage is ``u_pu``, from the two-port equation.

    Per phase, a load P (+ drawn, unity power factor) behind ``Z = R + jX`` from a source ``E`` gives
    ``U^4 + (2 R P - E^2) U^2 + |Z|^2 P^2 = 0``; solved for P at ``U = u_pu V_base`` (root of the normal
    operating branch). Export is ``-P``.
    """
    z_base = V_BASE**2 / (TRAFO_KVA * 1000.0 / 3.0)
    zt = TRAFO_Z_PU * z_base
    r, x = R_OHM + zt.real, X_OHM + zt.imag
    z2, e, u = r * r + x * x, V_BASE, u_pu * V_BASE
    a, b, c = z2, 2.0 * r * u * u, u**4 - e * e * u * u
    roots = np.roots([a, b, c]).real
    p_w = roots[np.argmin(np.abs(roots))]  # the small-power root
    return 3.0 * p_w / 1000.0


def test_two_bus_export_and_import_match_hand_calculation():
    net = two_bus()
    idx = make_index("2016-06-15 00:00", 2, 15, tz="UTC")
    res = network_envelopes(net, np.zeros((1, 2)), None, idx, v_min_pu=0.95, v_max_pu=1.05, tol_kw=1e-3,
                            step_kw=0.01, cap_kw=np.inf)
    exp_hand = -hand_limit_kw(1.05)  # export: negative drawn power
    imp_hand = hand_limit_kw(0.95)
    assert exp_hand > 5 and imp_hand > 5
    np.testing.assert_allclose(res.export_kw, exp_hand, atol=2e-3)
    np.testing.assert_allclose(res.import_kw, imp_hand, atol=2e-3)
    assert np.all(res.export_kw <= exp_hand + 1e-6) and np.all(res.import_kw <= imp_hand + 1e-6)


def test_two_bus_thermal_limit_binds_when_the_line_is_weak():
    net = two_bus(i_max_a=10.0)
    idx = make_index("2016-06-15 00:00", 2, 15, tz="UTC")
    res = network_envelopes(net, np.zeros((1, 2)), None, idx, tol_kw=1e-3, step_kw=0.01, cap_kw=np.inf)
    # 10 A per phase at about 1 pu: 3 x 230 V x 10 A = 6.9 kW, a little more at the raised voltage on export
    assert 6.8 < res.export_kw[0, 0] < 7.2
    assert 6.5 < res.import_kw[0, 0] < 6.9
    np.testing.assert_allclose(res.export_check.line_loading, 1.0, atol=1e-3)


# ---------------------------------------------------------------------------------------------- acceptance
@pytest.mark.parametrize("fairness", FAIRNESS)
def test_exact_power_flow_at_the_envelopes_shows_no_violation(feeder, sub, results, fairness):
    res = results[fairness]
    p, q, _ = sub
    pairs = (("export", res.export_kw, res.export_check), ("import", res.import_kw, res.import_check))
    for d, env, chk in pairs:
        assert env.shape == (len(feeder.vpp_sites), len(COLS)) and np.all(env >= 0)
        assert env.sum() > 10.0  # something is released
        ok_base = chk.base_violation == 0
        assert np.all(chk.violation[ok_base] <= CHECK_TOL)
        assert np.all(chk.added_violation <= CHECK_TOL)
        # independent engine (power-grid-model) with every site at its envelope at once
        sign = -1.0 if d == "export" else 1.0
        pp = p.copy()
        pp[: len(feeder.vpp_sites)] += sign * env
        pgm = run_powerflow(feeder.network, pp, q, engine="pgm")
        v = pgm.v_pu
        over = np.maximum(v.max(axis=(0, 1)) - 1.1, 0) / 1.1
        under = np.maximum(0.9 - v.min(axis=(0, 1)), 0) / 0.9
        load = np.maximum(np.maximum(pgm.line_utilisation.max(0), pgm.trafo_loading) - 1.0, 0)
        worst = np.maximum(np.maximum(over, under), load)
        assert np.all(worst[ok_base] <= CHECK_TOL)
        assert np.all(worst <= np.maximum(chk.base_violation, 0) + CHECK_TOL)


def test_envelopes_publish_as_csip_limits(results):
    res = results["equal"]
    env = res.envelopes()
    assert isinstance(env, EnvelopeSet)
    np.testing.assert_allclose(env.limits_w[0], res.export_kw * 1000.0)
    np.testing.assert_allclose(env.limits_w[1], res.import_kw * 1000.0)
    back = EnvelopeSet.from_json(env.to_json())
    # Int16 ActivePower: below 32,767 W the document keeps the nearest W (or finer)
    np.testing.assert_allclose(back.limits_w[:2], env.limits_w[:2], rtol=0, atol=0.5)
    json.dumps(res.to_dict())


# ---------------------------------------------------------------------------------------------- fairness
def test_equal_gives_every_site_the_same_limit(results):
    e = results["equal"].export_kw
    np.testing.assert_allclose(e, e[:1].repeat(e.shape[0], 0), atol=1e-12)


def test_proportional_limits_follow_der_sizes(feeder, results):
    e = results["proportional"].export_kw
    ratio = feeder.der_kw / feeder.der_kw.max()
    top = e.max(axis=0)
    np.testing.assert_allclose(e, ratio[:, None] * top[None, :], rtol=1e-12, atol=1e-12)
    assert np.unique(np.round(ratio, 6)).size > 2


def test_maxmin_no_site_can_rise_alone_and_floor_is_the_equal_level(feeder, sub, results):
    e = results["maxmin"].export_kw
    eq = results["equal"].export_kw[0]
    assert np.all(e.min(axis=0) >= eq - 0.011)  # water-filling starts with the equal level
    assert np.any(e.max(axis=0) > eq + 0.5)  # and uses the room the equal rule leaves
    # check by trying: raise each site alone by 0.2 kW in every interval, all trials in one batch
    p, q, _ = sub
    n, t = e.shape
    site, col = np.divmod(np.arange(n * t), t)
    trial = e[:, col].copy()
    trial[site, np.arange(n * t)] += 0.2
    chk = check_envelopes(feeder.network, p[:, col], q[:, col], np.arange(n), trial, "export")
    assert np.all(chk.added_violation > 0)


def test_maxmin_import_has_the_same_properties(feeder, sub, results):
    e = results["maxmin"].import_kw
    assert np.all(e.min(axis=0) >= results["equal"].import_kw[0] - 0.011)
    p, q, _ = sub
    n, t = e.shape
    site, col = np.divmod(np.arange(n * t), t)
    trial = e[:, col].copy()
    trial[site, np.arange(n * t)] += 0.2
    chk = check_envelopes(feeder.network, p[:, col], q[:, col], np.arange(n), trial, "import")
    assert np.all(chk.added_violation > 0)


# ---------------------------------------------------------------------------------------------- monotonicity
@pytest.mark.parametrize("fairness", ["equal", "proportional"])
def test_tighter_voltage_limit_never_increases_the_envelope(feeder, sub, results, fairness):
    prev = results[fairness].export_kw
    binds = False
    for v_max in (1.04, 1.03, 1.02):
        cur = _run(feeder, sub, fairness, v_max_pu=v_max, directions=("export",)).export_kw
        assert np.all(cur <= prev + 0.011)  # within the bisection tolerance
        binds |= bool(np.any(cur < prev - 0.1))
        prev = cur
    assert binds  # the voltage limit became binding somewhere


def test_tighter_voltage_limit_never_raises_the_maxmin_floor(feeder, sub, results):
    prev = results["maxmin"].export_kw.min(axis=0)
    for v_max in (1.03, 1.02):
        cur = _run(feeder, sub, "maxmin", v_max_pu=v_max, directions=("export",)).export_kw.min(axis=0)
        assert np.all(cur <= prev + 0.011)
        prev = cur


def test_cap_bounds_every_envelope(feeder, sub):
    for f in FAIRNESS:
        e = _run(feeder, sub, f, cap_kw=3.0, directions=("export",)).export_kw
        assert e.max() <= 3.0 + 1e-9


# ---------------------------------------------------------------------------------------------- heuristic
def test_comparison_with_the_sapn_heuristic(feeder):
    cmp_ = compare_with_heuristic(feeder=feeder, fairness="equal")
    s = cmp_.summary()
    net, hc = cmp_.network, cmp_.heuristic_check
    assert s["network_export_kwh"] > 0 and s["heuristic_export_kwh"] > 0
    assert net.export_check.n_violating(added=True) == 0
    # the heuristic's static floor keeps 5 kW per site at midday when PV already fills the transformer
    assert np.all(cmp_.heuristic_export_kw >= 5.0 - 1e-9)
    assert hc.n_violating(added=True) > 0 and hc.trafo_loading.max() > 1.05
    # the heuristic check is the same exact PF with the sites at its limits
    pf = BatchPowerFlow(feeder.network)
    p = feeder.p_base_kw.copy()
    p[: len(feeder.vpp_sites)] -= cmp_.heuristic_export_kw
    np.testing.assert_allclose(pf.run(p, feeder.q_base_kvar).trafo_loading, hc.trafo_loading, rtol=1e-9)


# ---------------------------------------------------------------------------------------------- validation
def test_inputs_are_validated(feeder, sub):
    p, q, idx = sub
    net = feeder.network
    with pytest.raises(ValidationError, match="fairness"):
        network_envelopes(net, p, q, idx, fairness="fair")
    with pytest.raises(ValidationError, match="der_kw"):
        network_envelopes(net, p, q, idx, fairness="proportional")
    with pytest.raises(ValidationError, match="v_min_pu"):
        network_envelopes(net, p, q, idx, v_max_pu=0.98)
    with pytest.raises(ValidationError, match="not in network"):
        network_envelopes(net, p, q, idx, sites=["nope"])
    with pytest.raises(ValidationError, match="steps"):
        network_envelopes(net, p[:, :3], q[:, :3], idx)
    with pytest.raises(ValidationError, match="direction"):
        check_envelopes(net, p, q, [0], np.zeros((1, p.shape[1])), "sideways")


def test_default_cap_is_each_sites_inverter_limit(feeder, sub, results):
    # no household gets more than its own DER size (PV rating + battery), the default cap
    for f in FAIRNESS:
        e = results[f].export_kw
        assert np.all(e <= feeder.der_kw[:, None] + 1e-9), f
        assert results[f].params["cap_kw"].startswith("der_kw")
    # equal sharing: one common envelope, at most the smallest site's limit
    assert results["equal"].export_kw.max() <= feeder.der_kw.min() + 1e-9
    # without any site limit households with only a 5 kW battery get envelopes their inverter cannot use
    free = _run(feeder, sub, "maxmin", cap_kw=np.inf, directions=("export",)).export_kw
    assert np.any(free > feeder.der_kw[:, None] + 0.5)


def test_network_envelopes_need_a_site_limit():
    net = two_bus()
    idx = make_index("2016-06-15 00:00", 2, 15, tz="UTC")
    with pytest.raises(ValidationError, match="der_kw"):
        network_envelopes(net, np.zeros((1, 2)), None, idx)
    with pytest.raises(ValidationError, match="cap_kw"):
        network_envelopes(net, np.zeros((1, 2)), None, idx, cap_kw=-1.0)
