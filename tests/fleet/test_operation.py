"""Self-consumption operation of home batteries, checked by hand and by invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvpp.der.battery import BatteryParams
from openvpp.errors import ValidationError
from openvpp.fleet import Fleet, Profiles, Sites
from openvpp.fleet.operation import (
    energy_metrics,
    self_consumption_setpoints,
    self_consumption_summary,
    simulate_self_consumption,
)
from openvpp.timeseries import make_index


def _one_site(load_kw, pv_kw, e_max=10.0, p_max=5.0, soc0=0.0, eta=1.0, step_min=60):
    n = len(load_kw)
    idx = make_index("2016-06-15", n, step_min, tz="UTC")
    sites = Sites(site_id=["h"], node=["n"])
    bat = BatteryParams(device_id=["b"], site_id=["h"], e_max_kwh=e_max, p_charge_max_kw=p_max,
                        p_discharge_max_kw=p_max, soc0=soc0, eta_charge=eta, eta_discharge=eta)
    prof = Profiles(idx, {"base_load_kw": [load_kw], "pv_ac_kw": [pv_kw]})
    return Fleet(sites, {"battery": bat}, prof)


def test_hand_calculated_day():
    # net load = load - PV:      -3   -3   +2   +4   -8   +1   +9
    load = np.array([1.0, 1.0, 2.0, 4.0, 1.0, 1.0, 9.0])
    pv = np.array([4.0, 4.0, 0.0, 0.0, 9.0, 0.0, 0.0])
    res = simulate_self_consumption(_one_site(load, pv, e_max=10.0, p_max=5.0))
    # by hand (1-h steps, lossless, 10 kWh, 5 kW): energy 3, 6, 4, 0, 5, 4, 0
    np.testing.assert_allclose(res.battery.p_kw[0], [3, 3, -2, -4, 5, -1, -4], atol=1e-12)
    np.testing.assert_allclose(res.battery.e_kwh[0], [3, 6, 4, 0, 5, 4, 0], atol=1e-12)
    # site: no export while the battery had room and power; the -8 step exports 3 (5 kW charge limit);
    # the last step imports 5 because only 4 kWh were left
    np.testing.assert_allclose(res.site_p_with_kw[0], [0, 0, 0, 0, -3, 0, 5], atol=1e-12)
    np.testing.assert_allclose(res.site_p_without_kw[0], load - pv)


def test_full_battery_exports_and_losses_are_counted():
    load = np.zeros(4)
    pv = np.full(4, 4.0)
    res = simulate_self_consumption(_one_site(load, pv, e_max=6.0, p_max=5.0, soc0=0.5, eta=0.9))
    # start 3 kWh; 4 kW for 1 h stores 3.6 kWh -> the first step fills 3 kWh of room with 3/0.9 kW
    assert res.battery.p_kw[0, 0] == pytest.approx(3.0 / 0.9)
    np.testing.assert_allclose(res.battery.p_kw[0, 1:], 0.0, atol=1e-12)
    np.testing.assert_allclose(res.site_p_with_kw[0], [-4 + 3 / 0.9, -4, -4, -4])


def test_warmup_sets_the_initial_state_and_is_not_reported():
    load = np.array([0.0, 0.0, 3.0, 3.0])
    pv = np.array([4.0, 4.0, 0.0, 0.0])
    fleet = _one_site(load, pv)
    res = simulate_self_consumption(fleet, steps=slice(2, 4), warmup_steps=2)
    assert len(res.index) == 2 and res.index[0] == fleet.profiles.index[2]
    np.testing.assert_allclose(res.battery.p_kw[0], [-3, -3])  # 8 kWh stored during the warm-up
    np.testing.assert_allclose(res.site_p_with_kw[0], [0, 0], atol=1e-12)
    cold = simulate_self_consumption(fleet, steps=slice(2, 4))
    np.testing.assert_allclose(cold.site_p_with_kw[0], [3, 3])


def test_two_batteries_on_one_site_share_the_work():
    idx = make_index("2016-06-15", 2, 60, tz="UTC")
    sites = Sites(site_id=["h"], node=["n"])
    bat = BatteryParams(device_id=["b1", "b2"], site_id=["h", "h"], p_charge_max_kw=[2.0, 6.0],
                        p_discharge_max_kw=[2.0, 6.0], e_max_kwh=20.0, soc0=0.0, eta_charge=1.0,
                        eta_discharge=1.0)
    prof = Profiles(idx, {"base_load_kw": [[0.0, 0.0]], "pv_ac_kw": [[8.0, 4.0]]})
    fleet = Fleet(sites, {"battery": bat}, prof)
    res = simulate_self_consumption(fleet)
    np.testing.assert_allclose(res.battery.p_kw, [[2.0, 1.0], [6.0, 3.0]])
    np.testing.assert_allclose(res.site_p_with_kw, [[0.0, 0.0]], atol=1e-12)


def test_setpoints_are_the_negative_net_load_within_ratings():
    sp = self_consumption_setpoints([[-7.0, 2.0, 9.0]], p_charge_max_kw=5.0, p_discharge_max_kw=4.0)
    np.testing.assert_allclose(sp, [[5.0, -2.0, -4.0]])
    with pytest.raises(ValidationError, match="p_charge_max_kw"):
        self_consumption_setpoints([[1.0]], p_charge_max_kw=-1.0)
    with pytest.raises(ValidationError, match="NaN"):
        self_consumption_setpoints([[np.nan]])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-12.0, 12.0), min_size=1, max_size=48), st.floats(0.0, 1.0))
def test_export_only_when_full_or_at_limit_and_import_only_when_empty_or_at_limit(net, soc0):
    net = np.array(net)
    load, pv = np.maximum(net, 0.0), np.maximum(-net, 0.0)
    e_max, p_max, dt_h = 10.0, 5.0, 0.25
    res = simulate_self_consumption(_one_site(load, pv, e_max=e_max, p_max=p_max, soc0=soc0, step_min=15))
    p_site, p_bat, e = res.site_p_with_kw[0], res.battery.p_kw[0], res.battery.e_kwh[0]
    e_before = np.concatenate([[soc0 * e_max], e[:-1]])
    tol = 1e-9
    exporting = p_site < -tol
    assert np.all((e[exporting] >= e_max - tol) | (p_bat[exporting] >= p_max - tol)
                  | (e_before[exporting] + p_bat[exporting] * dt_h >= e_max - tol))
    importing = p_site > tol
    assert np.all((e[importing] <= tol) | (p_bat[importing] <= -p_max + tol))
    # the battery never makes the site worse than without it
    assert np.all(np.abs(p_site) <= np.abs(net) + tol)
    assert np.all((e >= -tol) & (e <= e_max + tol))


def test_energy_metrics_by_hand():
    p = np.array([[2.0, -1.0, 0.0], [1.0, 1.0, -3.0]])
    pv = np.array([[0.0, 2.0, 1.0], [0.0, 0.0, 4.0]])
    m = energy_metrics(p, pv, dt_h=0.5)
    assert m["import_kwh"] == pytest.approx((2 + 1 + 1) * 0.5)
    assert m["export_kwh"] == pytest.approx((1 + 3) * 0.5)
    assert m["peak_import_kw"] == pytest.approx(3.0) and m["peak_export_kw"] == pytest.approx(3.0)
    assert m["pv_kwh"] == pytest.approx(3.5)
    assert m["self_consumption_ratio"] == pytest.approx(1 - 2.0 / 3.5)
    consumption = (p + pv).sum() * 0.5
    assert m["self_sufficiency"] == pytest.approx(1 - 2.0 / consumption)


def test_summary_reports_cycles_and_improvement():
    load = np.array([1.0, 1.0, 2.0, 4.0, 1.0, 1.0, 9.0])
    pv = np.array([4.0, 4.0, 0.0, 0.0, 9.0, 0.0, 0.0])
    res = simulate_self_consumption(_one_site(load, pv))
    s = self_consumption_summary(res)
    assert s.at["battery_cycles", "with_battery"] == pytest.approx((2 + 4 + 1 + 4) / 10.0)
    assert s.at["import_kwh", "with_battery"] == pytest.approx(5.0)
    assert s.at["import_kwh", "without_battery"] == pytest.approx(2 + 4 + 1 + 9)
    assert s.at["self_consumption_ratio", "with_battery"] > s.at["self_consumption_ratio", "without_battery"]


def test_a_fleet_without_profiles_says_how_to_add_them():
    from openvpp.errors import ValidationError
    from openvpp.fleet import synthetic
    from openvpp.fleet.operation import simulate_self_consumption

    fleet = synthetic(20, seed=0)
    assert fleet.profiles is None
    with pytest.raises(ValidationError, match=r"with_profiles\(Profiles\(index"):
        simulate_self_consumption(fleet)
    with pytest.raises(ValidationError, match=r"with_profiles\(Profiles\(index"):
        fleet.profile("base_load_kw")
