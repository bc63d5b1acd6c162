"""Tests of the Chile §7 study helpers: hosting share scan, PV profile, study wiring on a short case."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvpp.grid.loaders import ieee_european_lv
from openvpp.grid.powerflow import BatchPowerFlow
from openvpp.grid.reduction import reduce_network
from openvpp.studies import chile_technical as ct

#: the report's VPP hosting shares (seed 000 §7.4): results the study is compared with, not inputs
REPORT_HOSTING_SHARE = {"Lampa": 0.25, "Osorno": 0.21}


@pytest.fixture(scope="session")
def ieee_hosting_case():
    net = reduce_network(ieee_european_lv().replace(v_source_pu=1.0)).reduced
    rng = np.random.default_rng(5)
    n = net.n_site
    p_load = 0.3 + 0.6 * rng.random((n, 2))
    q_load = 0.2 * p_load
    pv = np.zeros((n, 2))
    order = rng.permutation(n)
    service = np.array([False, True])
    return net, p_load, q_load, pv, order, service


def _scan(case, v_max_pu=1.1, v_min_pu=0.9):
    net, pl, ql, pv, order, svc = case
    return ct.hosting_share(net, pl, ql, pv, order, svc, v_min_pu=v_min_pu, v_max_pu=v_max_pu)


def test_hosting_scan_matches_a_direct_power_flow(ieee_hosting_case):
    net, pl, ql, _, order, _ = ieee_hosting_case
    res = _scan(ieee_hosting_case)
    assert 0 < res.n_max < res.n_customers  # the feeder limits some but not all of its customers
    engine = BatchPowerFlow(net, reduce=False)
    for n, expect_ok in ((res.n_max, True), (res.n_max + 1, False)):
        p = pl[:, 1].copy()
        p[order[:n]] -= 5.0
        flow = engine.run(p[:, None], ql[:, 1:2])
        v = flow.v_pu
        ok = (v.max() <= 1.1 and v.min() >= 0.9 and flow.line_utilisation.max() <= 1.0
              and flow.trafo_loading.max() <= 1.0)
        assert ok == expect_ok
    assert res.share == pytest.approx(res.n_max / res.n_customers)


@settings(max_examples=6, deadline=None)
@given(st.floats(1.02, 1.1), st.floats(0.0, 0.04))
def test_tighter_voltage_limit_never_raises_the_hosting_share(ieee_hosting_case, v_max, tighten):
    loose = _scan(ieee_hosting_case, v_max_pu=v_max)
    tight = _scan(ieee_hosting_case, v_max_pu=max(v_max - tighten, 1.005))
    assert tight.n_max <= loose.n_max


def test_pv_profile_is_a_clear_summer_day_at_lampa():
    p = ct.pv_profile_kw_per_kwp("2016-12-21")
    assert p.shape == (48,)
    assert p[:10].max() == 0.0 and p[42:].max() == 0.0  # night
    peak = int(np.argmax(p))
    assert 24 <= peak <= 30  # solar noon ~13:40 local summer time in Santiago
    assert 5.0 < p.sum() * 0.5 < 7.5  # kWh/kWp on a clear summer day


@pytest.mark.slow
def test_study_on_the_ieee_feeder_validates_every_case():
    case = ct.build_case("ieee", "2016-06-21", share=0.5, seed=0)
    assert case.prosumers.size == round(0.5 * case.customers.size)
    res = ct.run_network(case, tight_v_max_pu=1.05)
    for name, r in res.results.items():
        if r.grid_constraints:
            assert r.v_error_pu <= 0.005, name
            assert r.max_violation_pct <= 0.5, name
            assert res.full_check[name]["max_violation_pct"] <= 0.5, name
    s20, s12 = res.service_step, res.midday_step
    assert res.results["gc"].p_vpp_kw[s20] >= res.results["no_gc"].p_vpp_kw[s20] - 1e-6
    assert res.results["gc_1230"].p_vpp_kw[s12] >= res.results["no_gc_1230"].p_vpp_kw[s12] - 1e-6
    assert res.hosting_tight.n_max <= res.hosting.n_max
    d = res.to_dict()
    assert set(d["cases"]) == set(ct.CASES)
    # against the report (§7.4, networks not public): the IEEE feeder's hosting share over random join
    # orders (27-53 % documented in docs/grid.md) is of the order of the report's 21-25 %: no share below
    # half the report's lowest, none above two and a half times its highest
    lo, hi = min(REPORT_HOSTING_SHARE.values()), max(REPORT_HOSTING_SHARE.values())
    shares = np.r_[res.hosting.share, res.hosting_orders]
    assert lo / 2 <= shares.min() and shares.max() <= 2.5 * hi


def test_simbench_is_read_through_openvpp_data(monkeypatch):
    """The study reads SimBench only through openvpp.data (the one reader), never the simbench package."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(ct))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not any(m.split(".")[0] == "simbench" for m in imported)
    import openvpp.data.simbench as reader

    calls = []
    real = reader.load_simbench_lv

    def counting(code):
        calls.append(code)
        return real(code)

    monkeypatch.setattr(ct, "load_simbench_lv", counting)
    ct._simbench_tables.cache_clear()
    p, table = ct._simbench_tables("1-LV-rural1--2-sw")
    ct._simbench_tables.cache_clear()
    assert calls == ["1-LV-rural1--2-sw"]
    assert p.shape == (366 * 96, len(table)) and p.index[0] == pd.Timestamp("2016-01-01 00:00")


def test_json_safe_turns_non_finite_floats_into_null():
    import json

    out = ct.json_safe({"a": float("nan"), "b": [1.0, np.inf, np.float64(2.5)], "c": np.array([np.nan, 1.0])})
    assert json.dumps(out, allow_nan=False) == '{"a": null, "b": [1.0, null, 2.5], "c": [null, 1.0]}'


def test_study_inputs_are_bounded():
    from openvpp.errors import ValidationError

    with pytest.raises(ValidationError, match=f"bound of {ct.MAX_NETWORKS}"):
        ct.check_study_inputs(["rural"] * (ct.MAX_NETWORKS + 1), "2016-06-21", "2016-12-21", 0.5, 0)
