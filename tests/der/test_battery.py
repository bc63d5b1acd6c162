"""Battery physics: energy balance, limits, power-range consistency, validation (openvpp.der.battery).

Independent checks are plain Python loops over one device and one step at a time, written here from
eq. (9) of the Chile roadmap (seed 000 §7.1.1), not from the vectorised code.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openvpp.der.battery import (
    Battery,
    BatteryParams,
    battery_energy,
    equivalent_full_cycles,
    pq_capability_kvar,
)
from openvpp.errors import ValidationError

HYP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOL = 1e-9


# ---------------------------------------------------------------------------------------------- strategies
@st.composite
def fleets(draw, decay: bool | None = None, ramp: bool = True):
    """A few batteries with random but valid parameters, a step length and a random day of set-points."""
    n = draw(st.integers(1, 4))
    dt_h = draw(st.sampled_from([5 / 60, 0.25, 0.5, 1.0]))
    n_steps = round(24 / dt_h)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    soc_a = rng.uniform(0, 1, n)
    soc_b = rng.uniform(0, 1, n)
    soc_min, soc_max = np.minimum(soc_a, soc_b), np.maximum(soc_a, soc_b)
    if decay is None:
        decay = draw(st.booleans())
    kwargs = dict(
        device_id=[f"b{i}" for i in range(n)],
        p_charge_max_kw=rng.uniform(0.5, 10, n),
        p_discharge_max_kw=rng.uniform(0.5, 10, n),
        e_max_kwh=rng.uniform(1, 30, n),
        soc_min=soc_min,
        soc_max=soc_max,
        soc0=soc_min + rng.uniform(0, 1, n) * (soc_max - soc_min),
        eta_charge=rng.uniform(0.8, 1.0, n),
        eta_discharge=rng.uniform(0.8, 1.0, n),
        self_discharge_per_h=rng.uniform(0, 0.02, n) if decay else 0.0,
        s_max_kva=np.where(rng.uniform(size=n) < 0.5, np.nan, rng.uniform(0.5, 10, n)),
        ramp_kw_per_min=np.where(rng.uniform(size=n) < 0.5, np.inf, rng.uniform(0.01, 2, n))
        if ramp
        else np.inf,
    )
    params = BatteryParams(**kwargs)
    # set-points: a mix of in-range values, wild values far beyond every rating, and exact zeros
    sp = rng.uniform(-15, 15, (n, n_steps))
    wild = rng.uniform(size=(n, n_steps)) < 0.1
    sp[wild] = rng.choice([-1e6, 1e6], size=int(wild.sum()))
    sp[rng.uniform(size=(n, n_steps)) < 0.05] = 0.0
    return params, sp, dt_h


def energy_by_hand(pr: BatteryParams, p_kw: np.ndarray, dt_h: float) -> np.ndarray:
    """Eq. (9) with self-discharge, one device and one step at a time in plain Python floats."""
    out = np.empty_like(p_kw)
    for i in range(p_kw.shape[0]):
        e = float(pr.soc0[i] * pr.e_max_kwh[i])
        keep = (1.0 - float(pr.self_discharge_per_h[i])) ** dt_h
        for t in range(p_kw.shape[1]):
            p = float(p_kw[i, t])
            charge, discharge = max(p, 0.0), max(-p, 0.0)
            e = e * keep + (pr.eta_charge[i] * charge - discharge / pr.eta_discharge[i]) * dt_h
            out[i, t] = e
    return out


# ---------------------------------------------------------------------------------------------- energy
@HYP
@given(fleets(decay=False))
def test_energy_balance_closes_without_self_discharge(case):
    pr, sp, dt_h = case
    res = Battery(pr).simulate(sp, dt_h)
    e0 = pr.soc0 * pr.e_max_kwh
    p = res.p_kw
    # end energy == start + sum(eta_c * p_charge - p_discharge / eta_d) * dt, summed in a Python loop
    for i in range(pr.n):
        total = 0.0
        for t in range(p.shape[1]):
            pc, pdis = max(p[i, t], 0.0), max(-p[i, t], 0.0)
            total += (pr.eta_charge[i] * pc - pdis / pr.eta_discharge[i]) * dt_h
        assert abs(res.e_kwh[i, -1] - (e0[i] + total)) <= TOL
    assert np.allclose(res.e_kwh, energy_by_hand(pr, p, dt_h), rtol=0, atol=TOL)


@HYP
@given(fleets(decay=True))
def test_energy_balance_closes_with_self_discharge(case):
    pr, sp, dt_h = case
    res = Battery(pr).simulate(sp, dt_h)
    by_hand = energy_by_hand(pr, res.p_kw, dt_h)
    assert np.max(np.abs(res.e_kwh - by_hand)) <= TOL


@HYP
@given(fleets())
def test_battery_energy_function_agrees_with_simulate(case):
    pr, sp, dt_h = case
    res = Battery(pr).simulate(sp, dt_h)
    e = battery_energy(
        pr.soc0 * pr.e_max_kwh,
        np.maximum(res.p_kw, 0.0),
        np.maximum(-res.p_kw, 0.0),
        pr.eta_charge,
        pr.eta_discharge,
        dt_h,
        pr.self_discharge_per_h,
    )
    assert np.max(np.abs(e - res.e_kwh)) <= TOL


def test_energy_hand_case_eq9():
    # 10 kWh battery at 50 %, eta 0.9 both ways, 1 h steps: charge 2 kW, discharge 1.8 kW, idle
    pr = BatteryParams(device_id=["b"], e_max_kwh=10.0, eta_charge=0.9, eta_discharge=0.9, soc0=0.5)
    res = Battery(pr).simulate([[2.0, -1.8, 0.0]], dt_h=1.0)
    assert res.e_kwh[0] == pytest.approx([5.0 + 1.8, 6.8 - 2.0, 4.8], abs=1e-12)
    assert res.soc[0, -1] == pytest.approx(0.48)


# ---------------------------------------------------------------------------------------------- limits
@HYP
@given(fleets())
def test_limits_never_exceeded(case):
    pr, sp, dt_h = case
    qsp = np.random.default_rng(1).uniform(-20, 20, sp.shape)
    res = Battery(pr).simulate(sp, dt_h, q_setpoints_kvar=qsp)
    p, q, e = res.p_kw, res.q_kvar, res.e_kwh
    s = np.where(np.isnan(pr.s_max_kva), np.maximum(pr.p_charge_max_kw, pr.p_discharge_max_kw), pr.s_max_kva)
    # power ratings and the inverter circle
    assert np.all(p <= pr.p_charge_max_kw[:, None] + TOL)
    assert np.all(-p <= pr.p_discharge_max_kw[:, None] + TOL)
    assert np.all(p**2 + q**2 <= s[:, None] ** 2 + 1e-7)
    # SoC window: with self-discharge the store may only drift below soc_min by decay, never by discharge
    e_prev = np.concatenate([(pr.soc0 * pr.e_max_kwh)[:, None], e[:, :-1]], axis=1)
    keep = ((1.0 - pr.self_discharge_per_h) ** dt_h)[:, None]
    e_lo = (pr.soc_min * pr.e_max_kwh)[:, None]
    e_hi = (pr.soc_max * pr.e_max_kwh)[:, None]
    assert np.all(e <= e_hi + TOL)
    assert np.all(e >= np.minimum(e_lo, e_prev * keep) - TOL)
    assert np.all((p >= -TOL) | (e >= e_lo - TOL))  # discharging never takes it below soc_min
    # without a ramp limit the set-point is followed in direction and never exceeded in magnitude
    free = np.isinf(pr.ramp_kw_per_min)
    assert np.all(p[free] * sp[free] >= -TOL)
    assert np.all(np.abs(p[free]) <= np.abs(sp[free]) + TOL)


@HYP
@given(fleets())
def test_ramp_respected_unless_energy_window_forbids(case):
    pr, sp, dt_h = case
    res = Battery(pr).simulate(sp, dt_h)
    p = res.p_kw
    p_prev = np.concatenate([np.zeros((pr.n, 1)), p[:, :-1]], axis=1)
    r = (pr.ramp_kw_per_min * dt_h * 60.0)[:, None]
    ok = np.abs(p - p_prev) <= r + 1e-9
    # where the ramp was broken, the energy window alone must have excluded the ramp window: the
    # battery hit full (p at its charge bound, below p_prev - r) or empty (p above p_prev + r)
    e_prev = np.concatenate([(pr.soc0 * pr.e_max_kwh)[:, None], res.e_kwh[:, :-1]], axis=1)
    e_prev = e_prev * ((1.0 - pr.self_discharge_per_h) ** dt_h)[:, None]
    hi = np.maximum(pr.soc_max[:, None] * pr.e_max_kwh[:, None] - e_prev, 0) / (pr.eta_charge[:, None] * dt_h)
    avail = np.maximum(e_prev - pr.soc_min[:, None] * pr.e_max_kwh[:, None], 0)
    lo = -avail * pr.eta_discharge[:, None] / dt_h
    forced_down = np.isclose(p, hi, atol=1e-9) & (p < p_prev - r)
    forced_up = np.isclose(p, lo, atol=1e-9) & (p > p_prev + r)
    assert np.all(ok | forced_down | forced_up)


@HYP
@given(fleets())
def test_power_range_is_realised_exactly(case):
    """Stepping with power_range: the result stays in the range; a set-point inside it is met bit for bit."""
    pr, sp, dt_h = case
    rng = np.random.default_rng(7)
    bat = Battery(pr)
    steps = min(sp.shape[1], 48)
    for t in range(steps):
        lo, hi = bat.power_range(dt_h)
        assert np.all(lo <= hi)
        frac = rng.uniform(size=pr.n)
        inside = lo + frac * (hi - lo)
        at_end = rng.integers(0, 3, pr.n)  # 0: interior, 1: upper end, 2: lower end (exact bounds)
        inside = np.where(at_end == 1, hi, np.where(at_end == 2, lo, inside))
        use_inside = rng.uniform(size=pr.n) < 0.6
        request = np.where(use_inside, inside, sp[:, t])
        res = bat.simulate(request[:, None], dt_h)
        p = res.p_kw[:, 0]
        assert np.all(p >= lo) and np.all(p <= hi)
        assert np.array_equal(p[use_inside], request[use_inside])
        # outside the range the realised power is the nearest end of the range
        assert np.array_equal(p[~use_inside], np.clip(request[~use_inside], lo[~use_inside], hi[~use_inside]))


def test_stepwise_equals_one_call(rng):
    pr = BatteryParams(
        device_id=["a", "b", "c"], ramp_kw_per_min=[0.1, np.inf, 1.0], self_discharge_per_h=0.01
    )
    sp = rng.uniform(-8, 8, (3, 96))
    whole = Battery(pr).simulate(sp, 0.25)
    bat = Battery(pr)
    parts = [bat.simulate(sp[:, t : t + 1], 0.25).p_kw[:, 0] for t in range(96)]
    assert np.array_equal(np.column_stack(parts), whole.p_kw)
    assert np.array_equal(bat.e_kwh, whole.e_kwh[:, -1])


def test_inverter_rating_caps_power_and_gives_circle():
    pr = BatteryParams(device_id=["b"], p_charge_max_kw=5.0, s_max_kva=3.0)
    bat = Battery(pr)
    lo, hi = bat.power_range(0.25)
    assert hi[0] == 3.0 and lo[0] == -3.0
    res = bat.simulate([[5.0]], 0.25, q_setpoints_kvar=[[5.0]])
    assert res.p_kw[0, 0] == 3.0 and res.q_kvar[0, 0] == 0.0
    qlo, qhi = bat.q_range(np.array([1.8]))
    assert qhi[0] == pytest.approx(2.4) and qlo[0] == pytest.approx(-2.4)  # 3-4-5 triangle scaled by 0.6
    assert pq_capability_kvar(4.0, 3.0) == 0.0


def test_full_battery_refuses_charge_empty_refuses_discharge():
    pr = BatteryParams(device_id=["full", "empty"], soc0=[1.0, 0.1], soc_min=0.1)
    lo, hi = Battery(pr).power_range(0.5)
    assert hi[0] == 0.0 and lo[1] == 0.0
    res = Battery(pr).simulate([[5.0], [-5.0]], 0.5)
    assert res.p_kw[0, 0] == 0.0 and res.p_kw[1, 0] == 0.0


def test_ramp_range():
    bat = Battery(BatteryParams(device_id=["b"], ramp_kw_per_min=0.5))
    down, up = bat.ramp_range(5 / 60)
    assert up[0] == pytest.approx(2.5) and down[0] == pytest.approx(-2.5)
    res = bat.simulate([[5.0, 5.0, -5.0]], 5 / 60)
    assert res.p_kw[0] == pytest.approx([2.5, 5.0, 2.5])  # 5 -> -5 is limited to 5 - 2.5


# ---------------------------------------------------------------------------------------------- cycles
def test_equivalent_full_cycles_by_hand():
    # discharge 5 kW for 1 h and 2 kW for 0.5 h -> 6 kWh out of a 12 kWh battery -> 0.5 cycles;
    # charging does not count
    p = np.array([[-5.0, -5.0, 4.0, -2.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0]])
    cyc = equivalent_full_cycles(p, [12.0, 10.0], dt_h=0.5)
    assert cyc[0] == pytest.approx((5 * 0.5 + 5 * 0.5 + 2 * 0.5) / 12.0)
    assert cyc[1] == 0.0


# ---------------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("e_max_kwh", -13.5, "e_max_kwh"),
        ("e_max_kwh", 0.0, "e_max_kwh"),
        ("soc0", 1.5, "soc0"),
        ("soc_min", -0.1, "soc_min"),
        ("soc_max", 1.2, "soc_max"),
        ("p_charge_max_kw", math.nan, "p_charge_max_kw"),
        ("eta_discharge", math.nan, "eta_discharge"),
        ("eta_charge", 1.2, "eta_charge"),
        ("self_discharge_per_h", 1.0, "self_discharge_per_h"),
        ("ramp_kw_per_min", -1.0, "ramp_kw_per_min"),
    ],
)
def test_invalid_parameter_names_the_field(field, value, needle):
    built = None
    with pytest.raises(ValidationError, match=needle):
        built = BatteryParams(device_id=["ok", "bad"], **{field: [0.5, value]})
    assert built is None


def test_soc_min_above_soc_max_is_rejected():
    with pytest.raises(ValidationError, match="soc_min") as info:
        BatteryParams(device_id=["b1", "b2"], soc_min=[0.1, 0.8], soc_max=[0.9, 0.2], soc0=[0.5, 0.5])
    assert "b2" in str(info.value)


def test_malformed_records_build_nothing():
    records = [
        {"device_id": "b1", "e_max_kwh": 13.5, "soc0": 0.5},
        {"device_id": "b2", "e_max_kwh": -1.0, "soc0": 0.5},
    ]
    with pytest.raises(ValidationError, match=r"e_max_kwh.*'b2'"):
        BatteryParams.from_frame(records)
    with pytest.raises(ValidationError, match="soc0"):
        BatteryParams.from_frame(pd.DataFrame({"device_id": ["x"], "soc0": [np.nan]}))
    with pytest.raises(ValidationError, match="e_maxkwh"):
        BatteryParams.from_frame([{"device_id": "x", "e_maxkwh": 5.0}])  # typo, not a silent default


def test_simulate_input_validation():
    bat = Battery(BatteryParams(device_id=["a", "b"]))
    with pytest.raises(ValidationError, match="setpoints_kw"):
        bat.simulate(np.full((2, 3), np.nan), 0.25)
    with pytest.raises(ValidationError, match="n_devices"):
        bat.simulate(np.zeros((3, 4)), 0.25)
    with pytest.raises(ValidationError, match="dt_h"):
        bat.simulate(np.zeros((2, 4)), 0.0)
    with pytest.raises(ValidationError, match="non-negative"):
        battery_energy([1.0], [[-1.0]], [[0.0]], 0.9, 0.9, 1.0)
    before = bat.e_kwh.copy()
    with pytest.raises(ValidationError):
        bat.simulate(np.full((2, 3), np.inf), 0.25)
    assert np.array_equal(bat.e_kwh, before)  # a rejected call leaves the state untouched
