"""Synthetic fleets (determinism, shares, distributions) and fleets from SimBench (counts, profiles)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openvpp.data import load_simbench_lv, simbench_profiles
from openvpp.errors import ValidationError
from openvpp.fleet import PHASES, from_simbench, synthetic
from openvpp.fleet.builders import EV_PROFILE_PREFIXES, HEATPUMP_PROFILE_PREFIXES

CODE = "1-LV-rural1--2-sw"
MIX = {"pv": 0.5, "battery": 0.4, "heatpump": 0.115, "waterheater": 0.2}


@pytest.fixture(scope="session")
def simbench_fleet():
    return from_simbench(CODE, prosumer_share=0.5, seed=7)


@pytest.fixture(scope="session")
def simbench_net():
    return load_simbench_lv(CODE)


def _frames(fleet):
    return [fleet.sites.to_frame()] + [fleet.der(c).to_frame() for c in sorted(fleet.classes)]


def test_synthetic_is_deterministic_by_seed():
    a, b, c = synthetic(3000, MIX, seed=11), synthetic(3000, MIX, seed=11), synthetic(3000, MIX, seed=12)
    for fa, fb in zip(_frames(a), _frames(b), strict=True):
        pd.testing.assert_frame_equal(fa, fb)
    assert not a.der("pv").to_frame().equals(c.der("pv").to_frame())
    # a numpy Generator seeds it as well: two generators in the same state give the same fleet
    d = synthetic(100, MIX, seed=np.random.default_rng(5))
    e = synthetic(100, MIX, seed=np.random.default_rng(5))
    assert d.n_sites == 100
    for fd, fe in zip(_frames(d), _frames(e), strict=True):
        pd.testing.assert_frame_equal(fd, fe)


def test_synthetic_shares_layout_and_distributions():
    n = 20000
    fleet = synthetic(n, MIX, seed=3)
    for cls_name, share in MIX.items():
        assert fleet.count(cls_name) == round(share * n)
    # batteries sit on PV sites while the battery share does not exceed the PV share (seed 000 prosumers)
    assert np.all(fleet.site_mask("pv")[fleet.site_positions("battery")])
    kwp = fleet.der("pv").p_dc_kwp
    assert kwp.mean() == pytest.approx(2.5, rel=0.03) and kwp.min() >= 1.0 and kwp.max() <= 10.0
    e = fleet.der("battery").e_max_kwh
    assert set(np.unique(e)) == {10.0, 13.5} and np.mean(e == 13.5) == pytest.approx(0.8, abs=0.02)
    assert set(fleet.sites.phase) <= set(PHASES)
    assert np.mean(fleet.sites.phase == "abc") == pytest.approx(0.15, abs=0.02)
    per_trafo = pd.Series(fleet.sites.constraint_node).value_counts()
    assert per_trafo.max() == 118
    hp = fleet.der("heatpump").p_max_kw
    assert hp.mean() == pytest.approx(4.5, rel=0.05)


def test_synthetic_battery_share_above_pv_share_spills_over():
    fleet = synthetic(1000, {"pv": 0.2, "battery": 0.3}, seed=0)
    assert fleet.count("battery") == 300
    assert np.sum(fleet.site_mask("pv") & fleet.site_mask("battery")) == 200


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((0, None), "n_sites"),
        ((10, {"pv": 1.5}), r"mix\['pv'\]"),
        ((10, {"fusion": 0.1}), "unknown DER class"),
        ((10, {"generator": 0.1}), "from_records"),
    ],
)
def test_synthetic_rejects_bad_arguments(args, match):
    with pytest.raises(ValidationError, match=match):
        synthetic(*args)


def test_simbench_fleet_counts_match_the_net(simbench_fleet, simbench_net):
    fleet, net = simbench_fleet, simbench_net
    prof = net.load["profile"].astype(str)
    is_hp = prof.str.startswith(HEATPUMP_PROFILE_PREFIXES)
    is_ev = prof.str.startswith(EV_PROFILE_PREFIXES)
    n_customers = int((~is_hp & ~is_ev).sum())
    meta = fleet.meta
    assert fleet.n_sites == n_customers + meta["n_orphan_sites"]
    assert n_customers + int(is_hp.sum()) + int(is_ev.sum()) == len(net.load)
    assert fleet.has("heatpump") and fleet.has("ev") and meta["tables_not_built"] == []
    assert fleet.count("heatpump") == int(is_hp.sum()) == 8
    assert fleet.count("ev") == int(is_ev.sum()) == 7
    n_pv_sgen = int(net.sgen["type"].str.contains("PV").sum())
    assert fleet.count("pv") == n_pv_sgen + meta["pv_for_storage"] + meta["added_pv"]
    assert fleet.count("battery") == len(net.storage) + meta["added_battery"]
    prosumers = fleet.site_mask("pv") & fleet.site_mask("battery")
    assert prosumers.sum() == max(round(0.5 * fleet.n_sites), len(net.storage))
    # every sgen and storage keeps its name and sits on a site at its own bus
    pv = fleet.der("pv")
    for _, row in net.sgen.iterrows():
        j = list(pv.device_id).index(row["name"])
        assert fleet.sites.bus[fleet.site_positions("pv")[j]] == row["bus"]
        assert pv.p_dc_kwp[j] == pytest.approx(row["p_mw"] * 1000.0)
    bat = fleet.der("battery")
    for _, row in net.storage.iterrows():
        j = list(bat.device_id).index(row["name"])
        assert bat.e_max_kwh[j] == pytest.approx(row["max_e_mwh"] * 1000.0)


def test_simbench_profiles_conserve_the_net_energy(simbench_fleet, simbench_net):
    fleet, net = simbench_fleet, simbench_net
    absolute = simbench_profiles(net)
    loads_kw = absolute[("load", "p_mw")].to_numpy().sum(axis=1) * 1000.0
    site_kw = sum(fleet.profile(n).sum(axis=0) for n in ("base_load_kw", "heatpump_kw", "ev_kw"))
    np.testing.assert_allclose(site_kw, loads_kw, rtol=1e-9, atol=1e-9)
    # a site's base load is its own load's rated power times its relative profile
    k = 0
    rel = net.profiles["load"][net.load.at[k, "profile"] + "_pload"].to_numpy()
    s = fleet.sites.positions([net.load.at[k, "name"]])[0]
    np.testing.assert_allclose(fleet.profile("base_load_kw")[s], net.load.at[k, "p_mw"] * 1000.0 * rel)
    # PV: the site PV output is the sum over its systems of kWp x per-unit profile
    pv_kw = fleet.der("pv").p_dc_kwp[:, None] * fleet.profile("pv_pu")
    np.testing.assert_allclose(fleet.profile("pv_ac_kw"), fleet.devices_to_sites("pv", pv_kw), atol=1e-9)
    sgen_total = absolute[("sgen", "p_mw")].to_numpy().sum() * 1000.0
    assert fleet.profile("pv_ac_kw").sum() >= sgen_total - 1e-6
    idx = fleet.profiles.index
    assert idx.tz is not None and len(idx) == 366 * 96


def test_simbench_top_up_is_reproducible(simbench_net):
    a = from_simbench(CODE, 0.9, seed=1, net=simbench_net)
    b = from_simbench(CODE, 0.9, seed=1, net=simbench_net)
    pd.testing.assert_frame_equal(a.der("battery").to_frame(), b.der("battery").to_frame())
    assert (a.site_mask("pv") & a.site_mask("battery")).sum() == round(0.9 * a.n_sites)
    added = a.der("battery").to_frame().query("device_id.str.startswith('battery added')", engine="python")
    assert (added["p_discharge_max_kw"] == 5.0).all() and (added["e_max_kwh"] == 13.5).all()
    with pytest.raises(ValidationError, match="prosumer_share"):
        from_simbench(CODE, 1.5, net=simbench_net)


def test_synthetic_ev_sessions_are_evening_to_morning():
    fleet = synthetic(2000, {"ev": 0.5}, seed=4)
    ev = fleet.der("ev")
    assert ev.n == 1000
    # noon-to-noon axis of 15-min steps: step = (hours after 12:00) x 4
    arrive_h = 12.0 + ev.arrival_step / 4.0
    leave_h = 12.0 + ev.departure_step / 4.0 - 24.0  # next morning
    assert arrive_h.min() >= 15.0 and arrive_h.max() <= 23.0  # evening arrivals, 15:00-23:00
    assert leave_h.min() >= 5.0 and leave_h.max() <= 10.0  # morning departures, 05:00-10:00
    assert arrive_h.mean() == pytest.approx(18.0, abs=0.5) and leave_h.mean() == pytest.approx(7.0, abs=0.5)
    added = ev.e_required_kwh - ev.e0_kwh  # 5-15 kWh a day for 30-100 km at ~0.15 kWh/km
    assert added.min() >= 5.0 and added.max() <= 15.0 and np.all(ev.e_required_kwh == 50.0)
    assert set(np.unique(ev.p_max_kw)) <= {3.7, 7.0, 11.0}
