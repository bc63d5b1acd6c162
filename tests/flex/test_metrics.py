"""Metrics tables, device adapters, aggregation results and verification builders."""

from __future__ import annotations

import numpy as np
import pytest

from openvpp.der.battery import Battery, BatteryParams
from openvpp.errors import ValidationError
from openvpp.flex import (
    FlexMetrics,
    Need,
    aggregate,
    dispatch_requests,
    metrics_from_battery,
    ramp_limited_energy_kwh,
    regulation_band_request,
    verify,
    voltage_support_request,
)


def test_load_convention_is_flipped_to_injection():
    m = FlexMetrics.from_load_convention(
        ["b"],
        [-5.0],
        [3.0],
        ramp_down_kw_per_min=[-2.0],
        ramp_up_kw_per_min=[1.0],
        e_absorb_max_kwh=[4.0],
        e_deliver_max_kwh=[6.0],
        q_min_kvar=[-1.0],
        q_max_kvar=[2.0],
        q_ramp_kvar_per_min=[0.5],
        p0_kw=[1.0],
    )
    assert (m.pi_min_kw[0], m.pi_max_kw[0]) == (-3.0, 5.0)
    assert (m.rho_down_kw_per_min[0], m.rho_up_kw_per_min[0]) == (-1.0, 2.0)
    assert (m.eps_min_kwh[0], m.eps_max_kwh[0]) == (-4.0, 6.0)
    assert (m.phi_min_kvar[0], m.phi_max_kvar[0]) == (-2.0, 1.0)
    assert m.pi0_kw[0] == -1.0
    assert m.headroom("pi") == (pytest.approx([-2.0]), pytest.approx([6.0]))


def test_invalid_metrics_name_the_field_and_device():
    with pytest.raises(ValidationError, match=r"pi_min_kw must not exceed pi_max_kw.*'x'"):
        FlexMetrics(
            device_id=["x"],
            pi_min_kw=2.0,
            pi_max_kw=1.0,
            rho_down_kw_per_min=-1,
            rho_up_kw_per_min=1,
            eps_min_kwh=0,
            eps_max_kwh=1,
        )
    with pytest.raises(ValidationError, match="rho_up_kw_per_min must be >= 0"):
        FlexMetrics(
            device_id=["x"],
            pi_min_kw=0.0,
            pi_max_kw=1.0,
            rho_down_kw_per_min=-1,
            rho_up_kw_per_min=-1,
            eps_min_kwh=0,
            eps_max_kwh=1,
        )


def test_ramp_limited_energy_by_hand():
    # 0 -> 4 kW at 2 kW/min over 1 h: 2 min ramp loses 4 kW * 2 min / 2 = 4 kW min
    assert ramp_limited_energy_kwh(0.0, 4.0, 2.0, 1.0) == pytest.approx(4.0 - 4.0 / 60)
    # not reached within 3 min: 0.5 * 1 kW/min * 9 min^2
    assert ramp_limited_energy_kwh(0.0, 100.0, 1.0, 0.05) == pytest.approx(4.5 / 60)
    assert ramp_limited_energy_kwh(3.0, 3.0, np.inf, 2.0) == pytest.approx(6.0)


def test_battery_adapter_against_hand_calculation():
    bat = Battery(BatteryParams(device_id=["b1", "b2"], soc0=[0.5, 0.9], eta_charge=1.0, eta_discharge=1.0))
    m = metrics_from_battery(bat, 0.25, 2.0, ccp=[0, 1])
    # 13.5 kWh, 5 kW: half full -> 6.75 kWh each way; 90 % -> 10 kWh over 2 h at 5 kW, 1.35 kWh room
    assert m.eps_max_kwh == pytest.approx([6.75, 10.0])
    assert m.eps_min_kwh == pytest.approx([-6.75, -1.35])
    assert m.pi_max_kw == pytest.approx([5.0, 5.0]) and m.pi_min_kw == pytest.approx([-5.0, -5.0])
    assert m.phi_max_kvar == pytest.approx([5.0, 5.0])  # P-Q circle at P = 0
    assert m.s_max_kva == pytest.approx([5.0, 5.0])


def test_pv_and_thermal_adapters_use_the_device_models():
    pv_mod = pytest.importorskip("openvpp.der.pv")
    from openvpp.flex import metrics_from_pv

    params = pv_mod.PVParams(device_id=["p1"], latitude_deg=-33.0, longitude_deg=-70.0, p_dc_kwp=4.0)
    pv = pv_mod.PV(params, np.array([[2.0, 3.0, 4.0, 1.0]]))
    m = metrics_from_pv(pv, 0.25, 1.0)
    assert m.pi_max_kw[0] == pytest.approx(2.0) and m.pi_min_kw[0] == pytest.approx(0.0)
    assert m.eps_max_kwh[0] == pytest.approx((2 + 3 + 4 + 1) * 0.25)
    with pytest.raises(ValidationError, match="remain"):
        metrics_from_pv(pv, 0.25, 2.0)
    hp_mod = pytest.importorskip("openvpp.der.heatpump")
    from openvpp.flex import metrics_from_heatpump

    hp = hp_mod.HeatPump(hp_mod.HeatPumpParams(device_id=["h1"]))
    mh = metrics_from_heatpump(hp, 0.25, 1.0, t_out_c=5.0)
    lo, hi = hp.power_range(0.25, t_out_c=5.0)
    assert (mh.pi_min_kw[0], mh.pi_max_kw[0]) == pytest.approx((-hi[0], -lo[0]))
    assert mh.eps_max_kwh[0] <= 0.0


def test_pq_regions_of_inverters_are_sandwiched(rng):
    n = 200
    s = rng.uniform(3, 6, n)
    m = FlexMetrics(
        device_id=[f"d{i}" for i in range(n)],
        pi_min_kw=-s * rng.uniform(0, 1, n),
        pi_max_kw=s * rng.uniform(0, 1, n),
        rho_down_kw_per_min=-1.0,
        rho_up_kw_per_min=1.0,
        eps_min_kwh=-1.0,
        eps_max_kwh=1.0,
        s_max_kva=s,
        ccp=rng.integers(0, 3, n),
    )
    a = aggregate(m, pq_directions=64)
    assert a.pq is not None
    assert np.all(a.pq.gap <= a.pq.bound + 1e-9)
    # the summed support points satisfy the summed circle: |P|, |Q| <= sum of ratings
    for i, c in enumerate(a.ccp_codes):
        total_s = s[m.ccp == c].sum() / 1000
        assert np.all(np.hypot(a.pq.inner[i, :, 0], a.pq.inner[i, :, 1]) <= total_s + 1e-9)
        status, _ = a.pq.contains(i, 0.0, 0.0)
        assert status == "inside"
        status, margin = a.pq.contains(i, 2 * total_s, 0.0)
        assert status == "outside" and margin < 0


def test_request_builders():
    reqs = dispatch_requests([4.0, 6.0], 1.0, ramp_window_min=2.0, variability_mw_per_min=0.5)
    assert reqs[1].needs[1].lo == pytest.approx(-0.5) and reqs[1].needs[1].hi == pytest.approx(1.5)
    band = regulation_band_request(2.0, 4.0, 0.5, baseline_mw=1.0)
    assert [(n.metric, n.lo, n.hi) for n in band.needs] == [
        ("pi", -1.0, 3.0),
        ("rho", -0.5, 0.5),
        ("eps", -0.5, 1.5),
    ]
    v = voltage_support_request(0, 1.0, (-0.2, 0.2))
    assert {n.metric for n in v.needs} == {"phi", "psi"} and all(n.ccp == 0 for n in v.needs)
    with pytest.raises(ValidationError, match="must name a CCP"):
        Need("phi", 0.0, 1.0)


def test_band_needs_must_be_covered_on_both_sides():
    m = FlexMetrics(
        device_id=["g"],
        pi_min_kw=0.0,
        pi_max_kw=3000.0,
        rho_down_kw_per_min=-500.0,
        rho_up_kw_per_min=500.0,
        eps_min_kwh=0.0,
        eps_max_kwh=3000.0,
    )
    a = aggregate(m)
    v = verify(regulation_band_request(1.0, 1.0, 1.0, baseline_mw=0.5), a)
    frame = v.to_frame().set_index("metric")
    assert frame.loc["pi", "margin_down"] == pytest.approx(-0.5)  # cannot absorb 0.5 MW
    assert frame.loc["rho", "deficit"] == pytest.approx(0.5)
    assert not v.ok
    assert any("downward" in line and "eq. (3)" in line for line in v.violations())


def test_ev_adapter_by_hand():
    ev_mod = pytest.importorskip("openvpp.der.ev")
    from openvpp.flex import metrics_from_ev

    # connected for steps 0..3 (1 h at 15 min), 20 kWh stored, 50 kWh needed at departure, 7.4 kW, eta 0.9
    params = ev_mod.EVParams(device_id=["e1", "e2"], arrival_step=[0, 8], departure_step=[4, 12])
    ev = ev_mod.EV(params, 0.25)
    m = metrics_from_ev(ev, 0.25, 1.0)
    absorb = min((60.0 - 20.0) / 0.9, 7.4 * 1.0)
    assert m.eps_min_kwh[0] == pytest.approx(-absorb)
    # it leaves within the horizon: the whole shortfall (capped by what fits) must be absorbed
    assert m.eps_max_kwh[0] == pytest.approx(-min(30.0 / 0.9, absorb))
    assert (m.eps_min_kwh[1], m.eps_max_kwh[1]) == (0.0, 0.0)  # not connected within the horizon
    assert m.pi_max_kw[1] == 0.0 and m.pi_min_kw[1] == 0.0


def test_coupled_pi_eps_polygons_of_a_large_fleet_match_the_exact_sum(rng):
    # more devices than EXACT_POLYGON_LIMIT: polygons come from support functions; check them against the
    # exact Minkowski sum (vertex sums + hull) of the devices' coupled (pi, eps) sets
    from openvpp.flex import sets
    from openvpp.flex.aggregate import EXACT_POLYGON_LIMIT

    n = EXACT_POLYGON_LIMIT + 16
    p = rng.uniform(1.0, 5.0, n)
    e = rng.uniform(0.5, 10.0, n)
    m = FlexMetrics(
        device_id=[f"b{i}" for i in range(n)],
        pi_min_kw=-p,
        pi_max_kw=p,
        rho_down_kw_per_min=-1.0,
        rho_up_kw_per_min=1.0,
        eps_min_kwh=-e,
        eps_max_kwh=e,
        horizon_h=2.0,
        ccp=rng.integers(0, 2, n),
    )
    polys = aggregate(m, pi_eps_dt_h=0.25).pi_eps
    assert polys is not None
    pts = sets.coupled_pi_eps_points(-p, p, -e, e, 0.25, 2.0) / 1000.0
    per_dev = [q[~np.isnan(q[:, 0])] for q in pts]
    dirs = sets.directions_2d(64)
    for scope, members in ((0, m.ccp == 0), (1, m.ccp == 1), ("vpp", np.ones(n, bool))):
        exact = sets.minkowski_sum(*[per_dev[i] for i in np.flatnonzero(members)])
        assert np.allclose(sets.support(polys[scope], dirs), sets.support(exact, dirs), atol=1e-9)
