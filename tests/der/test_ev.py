"""EV charging sessions: departure energy, connection window, V2G, must-charge range (openvpp.der.ev)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openvpp.der.ev import (
    EV,
    EVParams,
    charge_asap,
    charge_latest,
    energy_target_feasible,
    steps_from_times,
)
from openvpp.errors import ValidationError
from openvpp.timeseries import make_index

HYP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def sessions(draw):
    n = draw(st.integers(1, 6))
    dt_h = draw(st.sampled_from([0.25, 0.5, 1.0]))
    n_steps = round(24 / dt_h)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    arr = rng.integers(0, n_steps - 1, n)
    dep = np.minimum(arr + rng.integers(1, n_steps, n), n_steps + 2)  # some leave after the horizon
    e_max = rng.uniform(20, 80, n)
    e0 = rng.uniform(0, 1, n) * e_max
    e_req = rng.uniform(0, 1, n) * e_max
    e_min = np.minimum(e0, e_req) * rng.uniform(0, 1, n)
    v2g = rng.uniform(size=n) < 0.5
    pr = EVParams(
        device_id=[f"ev{i}" for i in range(n)],
        arrival_step=arr,
        departure_step=dep,
        e_max_kwh=e_max,
        e0_kwh=e0,
        e_required_kwh=e_req,
        e_min_kwh=e_min,
        p_max_kw=rng.uniform(1, 22, n),
        v2g=v2g,
        p_v2g_max_kw=rng.uniform(0, 11, n),
        eta_charge=rng.uniform(0.8, 1.0, n),
        eta_discharge=rng.uniform(0.8, 1.0, n),
    )
    sp = rng.uniform(-30, 30, (n, n_steps))
    sp[rng.uniform(size=sp.shape) < 0.1] = 1e6 * rng.choice([-1, 1])
    return pr, sp, dt_h


def energy_by_hand(pr: EVParams, p_kw: np.ndarray, dt_h: float) -> np.ndarray:
    out = np.empty_like(p_kw)
    for i in range(pr.n):
        e = float(pr.e0_kwh[i])
        for t in range(p_kw.shape[1]):
            p = float(p_kw[i, t])
            e += (pr.eta_charge[i] * max(p, 0.0) - max(-p, 0.0) / pr.eta_discharge[i]) * dt_h
            out[i, t] = e
    return out


@HYP
@given(sessions())
def test_departure_energy_met_whenever_feasible(case):
    pr, sp, dt_h = case
    res = EV(pr, dt_h).simulate(sp)
    feasible = energy_target_feasible(pr, dt_h)
    # independent feasibility: full rate over the whole window, in a Python loop
    for i in range(pr.n):
        e = pr.e0_kwh[i]
        for _ in range(int(pr.departure_step[i] - pr.arrival_step[i])):
            e += pr.p_max_kw[i] * pr.eta_charge[i] * dt_h
        assert feasible[i] == (e >= pr.e_required_kwh[i] - 1e-9)
    left = pr.departure_step <= sp.shape[1]
    assert np.all(np.isfinite(res.e_departure_kwh[left])) and np.all(np.isnan(res.e_departure_kwh[~left]))
    ok = left & feasible
    assert np.all(res.e_departure_kwh[ok] >= pr.e_required_kwh[ok] - 1e-9)
    assert np.all(res.shortfall_kwh[ok] <= 1e-9)
    # infeasible sessions charge flat out for the whole window and report the exact shortfall
    bad = left & ~feasible
    for i in np.flatnonzero(bad):
        window = res.p_kw[i, int(pr.arrival_step[i]) : int(pr.departure_step[i])]
        assert np.allclose(window, pr.p_max_kw[i])
        assert res.shortfall_kwh[i] == pytest.approx(pr.e_required_kwh[i] - res.e_departure_kwh[i])
        assert res.shortfall_kwh[i] > 0
    assert np.array_equal(res.target_feasible, feasible)


@HYP
@given(sessions())
def test_window_rates_capacity_and_v2g(case):
    pr, sp, dt_h = case
    res = EV(pr, dt_h).simulate(sp)
    p, e = res.p_kw, res.e_kwh
    t = np.arange(sp.shape[1])[None, :]
    window = (t >= pr.arrival_step[:, None]) & (t < pr.departure_step[:, None])
    assert np.array_equal(res.connected, window)
    assert np.all(p[~window] == 0.0)  # never charges or discharges outside the window
    assert np.all(p <= pr.p_max_kw[:, None] + 1e-12)
    assert np.all(p[~pr.v2g] >= 0.0)  # V2G only when enabled
    assert np.all(-p <= np.where(pr.v2g, pr.p_v2g_max_kw, 0.0)[:, None] + 1e-12)
    assert np.all(e <= pr.e_max_kwh[:, None] + 1e-9)
    assert np.all(e >= np.minimum(pr.e_min_kwh, pr.e0_kwh)[:, None] - 1e-9)
    assert np.allclose(e, energy_by_hand(pr, p, dt_h), rtol=0, atol=1e-9)


@HYP
@given(sessions())
def test_power_range_is_what_simulate_realises(case):
    pr, sp, dt_h = case
    ev = EV(pr, dt_h)
    rng = np.random.default_rng(3)
    for t in range(min(sp.shape[1], 30)):
        lo, hi = ev.power_range(dt_h)
        assert np.all(lo <= hi)
        assert np.all(lo[~pr.v2g] >= 0.0)
        req = np.where(rng.uniform(size=pr.n) < 0.5, lo + rng.uniform(size=pr.n) * (hi - lo), sp[:, t])
        p = ev.simulate(req[:, None]).p_kw[:, 0]
        assert np.array_equal(p, np.clip(req, lo, hi) + 0.0)


def test_zero_setpoints_follow_latest_start_and_asap_meets_target():
    pr = EVParams(
        device_id=["a", "b", "c"], arrival_step=[2, 0, 4], departure_step=[10, 8, 6],
        e0_kwh=[10.0, 20.0, 10.0], e_required_kwh=[30.0, 25.0, 55.0], p_max_kw=7.4,
    )
    res = EV(pr, 1.0).simulate(np.zeros((3, 12)))
    assert np.allclose(res.p_kw, charge_latest(pr, 12, 1.0), atol=1e-12)
    # car a needs 20 kWh / 0.9 = 22.22 kWh at the plug: 3 full hours (22.2) and 0.0222 kWh before them
    assert res.p_kw[0, 6] == pytest.approx((20.0 / 0.9 - 3 * 7.4), abs=1e-9)
    assert np.allclose(res.p_kw[0, 7:10], 7.4)
    asap = charge_asap(pr, 12, 1.0)
    assert np.allclose(asap[0, 2:5], 7.4) and asap[0, 5] == pytest.approx(20.0 / 0.9 - 22.2)
    assert np.all(asap[0, 6:] == 0.0)
    res_asap = EV(pr, 1.0).simulate(asap)
    assert np.allclose(res_asap.p_kw, asap)  # the ASAP profile is feasible as it stands
    for r in (res, res_asap):
        assert r.target_met.tolist() == [True, True, False]  # c: 10 + 2 h x 6.66 kWh < 55 kWh
        assert r.shortfall_kwh[2] == pytest.approx(55.0 - 10.0 - 2 * 7.4 * 0.9)


def test_must_charge_forces_power_near_deadline():
    pr = EVParams(device_id=["a"], arrival_step=0, departure_step=4, e0_kwh=0.0, e_required_kwh=20.0,
                  e_max_kwh=40.0, p_max_kw=7.0, eta_charge=1.0)
    ev = EV(pr, 1.0)
    lo, hi = ev.power_range()
    assert lo[0] == 0.0 and hi[0] == 7.0  # 3 h at 7 kW still give 21 kWh
    ev.simulate([[0.0]])
    lo, _ = ev.power_range()
    assert lo[0] == pytest.approx(6.0)  # now 20 - 2 x 7 = 6 kWh must go in this hour


def test_v2g_discharges_only_above_what_target_needs():
    pr = EVParams(
        device_id=["v"], arrival_step=0, departure_step=3, e0_kwh=30.0, e_required_kwh=30.0, e_max_kwh=60.0,
        p_max_kw=10.0, v2g=True, p_v2g_max_kw=10.0, eta_charge=1.0, eta_discharge=1.0,
    )
    res = EV(pr, 1.0).simulate([[-20.0, -20.0, -20.0]])
    assert res.p_kw[0].tolist() == [-10.0, 0.0, 10.0]  # discharge 10, hold, recharge to the target
    assert res.e_departure_kwh[0] == pytest.approx(30.0)


def test_steps_from_times():
    idx = make_index("2024-06-01", 96, 15, tz="America/Santiago")
    times = pd.DatetimeIndex(["2024-06-01 18:07", "2024-06-02 07:00", "2024-06-03 00:00"]).tz_localize(
        "America/Santiago"
    )
    assert steps_from_times(times, idx).tolist() == [72, 96, 96]
    with pytest.raises(ValidationError, match="naive"):
        steps_from_times(pd.DatetimeIndex(["2024-06-01 18:00"]), idx)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"departure_step": 2}, "departure_step"),
        ({"e_required_kwh": 70.0}, "e_required_kwh"),
        ({"e0_kwh": -1.0}, "e0_kwh"),
        ({"e_max_kwh": np.nan}, "e_max_kwh"),
        ({"p_max_kw": -7.4}, "p_max_kw"),
        ({"arrival_step": 1.5}, "arrival_step"),
        ({"eta_charge": 0.0}, "eta_charge"),
    ],
)
def test_invalid_parameters_name_the_field(kwargs, needle):
    base = dict(device_id=["e1"], arrival_step=2, departure_step=8, e_max_kwh=60.0)
    base.update(kwargs)
    with pytest.raises(ValidationError, match=needle):
        EVParams(**base)


def test_simulate_validation():
    ev = EV(EVParams(device_id=["a"], arrival_step=0, departure_step=4), 0.25)
    with pytest.raises(ValidationError, match="setpoints_kw"):
        ev.simulate([[np.nan]])
    with pytest.raises(ValidationError, match="dt_h"):
        ev.simulate([[1.0]], dt_h=0.5)
    with pytest.raises(ValidationError, match="dt_h"):
        EV(EVParams(device_id=["a"], arrival_step=0, departure_step=4), 0.0)
