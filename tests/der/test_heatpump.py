"""Heat pump and 1R1C dwelling (openvpp.der.heatpump).

Independent checks: the closed-form step response written out here, a fine-step explicit Euler integration
of the ODE, and the heat-loss integral of the exponential solution computed by hand per step.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openvpp.der.heatpump import (
    HeatPump,
    HeatPumpParams,
    cop_from_lift,
    heat_pump_cop,
    indoor_temperature,
)
from openvpp.errors import ValidationError

HYP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _euler(t0, t_out, q_kw, r, c, dt_h, sub=4000):
    """Explicit Euler with ``sub`` sub-steps per step, one device, pure Python."""
    t = t0
    out = []
    h = dt_h / sub
    for k in range(len(q_kw)):
        for _ in range(sub):
            t += h * ((t_out[k] - t) / r + q_kw[k]) / c
        out.append(t)
    return np.array(out)


def test_single_step_matches_closed_form():
    r, c, t0, t_out, q, dt = 4.0, 8.0, 20.0, -5.0, 6.0, 0.5
    t_inf = t_out + r * q
    expected = t_inf + (t0 - t_inf) * math.exp(-dt / (r * c))
    got = indoor_temperature([t0], [[t_out]], [[q]], [r], [c], dt)
    assert got[0, 0] == pytest.approx(expected, abs=1e-12)
    # the same through the class with a constant COP of 3 (heat 6 kW from 2 kW electric)
    hp = HeatPump(HeatPumpParams(device_id=["h"], r_c_per_kw=r, c_kwh_per_c=c, t0_c=t0, cop_c0=3.0,
                                 cop_c1=0.0, cop_c2=0.0, t_min_c=-50, t_max_c=100))
    res = hp.simulate([[2.0]], dt, t_out_c=t_out, enforce_comfort=False)
    assert res.t_in_c[0, 0] == pytest.approx(expected, abs=1e-12)
    assert res.q_hp_kw[0, 0] == pytest.approx(6.0)


def test_exact_discretisation_matches_fine_euler(rng):
    n_steps, dt = 12, 1.0
    r, c = 3.0, 6.0
    t_out = rng.uniform(-10, 10, n_steps)
    q = rng.uniform(0, 8, n_steps)
    exact = indoor_temperature([19.0], t_out, q[None, :], [r], [c], dt)[0]
    euler = _euler(19.0, t_out, q, r, c, dt)
    # Euler's global error is O(h): h = 2.5e-4 h against tau = 18 h
    assert np.max(np.abs(exact - euler)) < 2e-4
    # the exact solution does not depend on the step: two half steps give the same end temperature
    halves = indoor_temperature([19.0], np.repeat(t_out, 2), np.repeat(q, 2)[None, :], [r], [c], dt / 2)
    assert np.allclose(halves[0, 1::2], exact, atol=1e-12)


def test_energy_conservation_of_thermal_model(rng):
    n, n_steps, dt = 5, 48, 0.25
    pr = HeatPumpParams(
        device_id=[f"h{i}" for i in range(n)],
        r_c_per_kw=rng.uniform(2, 10, n),
        c_kwh_per_c=rng.uniform(3, 20, n),
        p_max_kw=rng.uniform(1, 5, n),
        cooling=[False, True, False, True, False],
        t_min_c=-50,
        t_max_c=100,
        t0_c=rng.uniform(15, 25, n),
    )
    t_out = rng.uniform(-10, 35, (n, n_steps))
    gains = rng.uniform(0, 1, (n, n_steps))
    res = HeatPump(pr).simulate(rng.uniform(0, 5, (n, n_steps)), dt, t_out, gains, enforce_comfort=False)
    # heat lost to the outdoors, integrated by hand from the exponential solution of each step
    tau = pr.r_c_per_kw * pr.c_kwh_per_c
    a = np.exp(-dt / tau)
    t_prev = np.concatenate([pr.t0_c[:, None], res.t_in_c[:, :-1]], axis=1)
    q_tot = res.q_hp_kw + gains
    t_inf = t_out + pr.r_c_per_kw[:, None] * q_tot
    integral_t = t_inf * dt + (t_prev - t_inf) * (tau * (1 - a))[:, None]
    loss = (integral_t - t_out * dt) / pr.r_c_per_kw[:, None]
    assert np.allclose(res.loss_kwh, loss, atol=1e-9)
    # first law over the horizon: C (T_end - T_0) = heat in - heat lost
    lhs = pr.c_kwh_per_c * (res.t_in_c[:, -1] - pr.t0_c)
    rhs = (q_tot * dt).sum(axis=1) - loss.sum(axis=1)
    assert np.allclose(lhs, rhs, atol=1e-9)


@st.composite
def comfort_cases(draw):
    """Dwellings and weather for which the comfort band can always be kept (checked in the test)."""
    n = draw(st.integers(1, 4))
    cooling = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    dt_h = draw(st.sampled_from([5 / 60, 0.25, 1.0]))
    rng = np.random.default_rng(seed)
    n_steps = 24
    t_min = rng.uniform(20, 24, n) if cooling else rng.uniform(18, 21, n)
    t_max = t_min + rng.uniform(1, 4, n)
    pr = HeatPumpParams(
        device_id=[f"h{i}" for i in range(n)],
        r_c_per_kw=rng.uniform(2, 10, n),
        c_kwh_per_c=rng.uniform(2, 20, n),
        p_max_kw=rng.uniform(2, 6, n),
        cooling=cooling,
        t_min_c=t_min,
        t_max_c=t_max,
        t0_c=t_min + rng.uniform(0, 1, n) * (t_max - t_min),
    )
    if cooling:
        t_out = t_max[:, None] + rng.uniform(3, 9, (n, n_steps))
    else:
        t_out = t_min[:, None] - rng.uniform(3, 9, (n, n_steps))
    gains = rng.uniform(0, 0.3, (n, n_steps))
    u = rng.uniform(0, 1, (n, n_steps))
    u[rng.uniform(size=(n, n_steps)) < 0.3] = 1.0  # pre-heat / pre-cool at the top of the range
    return pr, dt_h, t_out, gains, u, rng.uniform(-10, 10, (n, n_steps))


@HYP
@given(comfort_cases())
def test_comfort_band_respected_when_setpoints_feasible(case):
    pr, dt, t_out, gains, u, wild = case
    r = pr.r_c_per_kw[:, None]
    cop = HeatPump(pr).cop(t_out)
    sign = np.where(pr.cooling, -1.0, 1.0)[:, None]
    # feasibility of the band at every step (steady states with the unit off / at full power)
    off, full = t_out + r * gains, t_out + r * (gains + sign * cop * pr.p_max_kw[:, None])
    assert np.all(np.where(sign > 0, (off <= pr.t_max_c[:, None]) & (full >= pr.t_min_c[:, None]),
                           (off >= pr.t_min_c[:, None]) & (full <= pr.t_max_c[:, None])))
    hp = HeatPump(pr)
    for k in range(t_out.shape[1]):
        lo, hi = hp.power_range(dt, t_out[:, k], gains[:, k])
        assert np.all(lo <= hi + 1e-12) and np.all(lo >= 0) and np.all(hi <= pr.p_max_kw + 1e-12)
        sp = lo + u[:, k] * (hi - lo)
        res = hp.simulate(sp[:, None], dt, t_out[:, k : k + 1], gains[:, k : k + 1], enforce_comfort=False)
        assert np.allclose(res.p_kw[:, 0], sp)
        assert np.all(res.t_in_c >= pr.t_min_c[:, None] - 1e-9)
        assert np.all(res.t_in_c <= pr.t_max_c[:, None] + 1e-9)
    # arbitrary set-points: the thermostat (enforce_comfort) keeps the band too
    res = HeatPump(pr).simulate(wild, dt, t_out, gains)
    assert np.all(res.t_in_c >= pr.t_min_c[:, None] - 1e-9)
    assert np.all(res.t_in_c <= pr.t_max_c[:, None] + 1e-9)
    assert np.all((res.p_kw >= 0) & (res.p_kw <= pr.p_max_kw[:, None] + 1e-12))


def test_forced_on_off_and_preheat():
    base = dict(device_id=["cold", "warm", "mid"], r_c_per_kw=5.0, c_kwh_per_c=10.0, t_min_c=19.0,
                t_max_c=23.0)
    hp = HeatPump(HeatPumpParams(**base, t0_c=[19.0, 23.0, 21.0]))
    lo, hi = hp.power_range(0.25, t_out_c=0.0)
    assert lo[0] > 0  # at the bottom edge in the cold: forced on
    # at the top edge the most it may draw is what holds 23 degC: heat = loss = 23 K / 5 degC/kW
    assert hi[1] == pytest.approx(23.0 / 5.0 / hp.cop(0.0)[1], rel=1e-9)
    assert lo[2] == 0.0 and hi[2] == pytest.approx(3.0)  # mid-band: free, pre-heating at full power
    lo, hi = hp.power_range(0.25, t_out_c=[0.0, 25.0, 0.0])
    assert lo[1] == hi[1] == 0.0  # warm outdoors at the top edge: forced off
    # pre-heat: full power for an hour from mid-band stays inside the band
    res = hp.simulate(np.full((3, 4), 3.0), 0.25, t_out_c=0.0)
    assert np.allclose(res.p_kw[2], 3.0)
    assert res.t_in_c[2, -1] > 21.0
    # heat pump too small for the cold: the range collapses to full power
    small = HeatPump(HeatPumpParams(device_id=["s"], p_max_kw=0.5, t0_c=19.0))
    lo, hi = small.power_range(1.0, t_out_c=-15.0)
    assert lo[0] == hi[0] == 0.5


def test_cop_regression_by_hand():
    # Staffell et al. 2012, ASHP: COP = 6.81 - 0.121 dT + 0.000630 dT^2; lift 33 K -> 3.50307
    assert cop_from_lift(33.0, 6.81, -0.121, 0.000630) == pytest.approx(6.81 - 0.121 * 33 + 0.00063 * 33**2)
    assert heat_pump_cop(7.0, False, t_supply_heat_c=40.0) == pytest.approx(3.50307)
    # cooling at 35 degC outdoors with 15 degC supply: lift 20 K, COP_cool = COP_heat(20) - 1
    assert heat_pump_cop(35.0, True, t_supply_cool_c=15.0) == pytest.approx(6.81 - 2.42 + 0.252 - 1)
    cops = heat_pump_cop(np.linspace(-80, 40, 241), False)
    assert np.all(np.diff(cops) >= 0) and np.all(cops >= 1.0)  # never better when colder, floored at 1
    hp = HeatPump(HeatPumpParams(device_id=["a", "b"], cooling=[False, True]))
    assert np.allclose(hp.cop([7.0, 35.0]), [3.50307, 3.642])


def test_validation_names_field_and_device():
    with pytest.raises(ValidationError, match=r"heatpump\.r_c_per_kw.*'h2'"):
        HeatPumpParams(device_id=["h1", "h2"], r_c_per_kw=[5.0, -1.0])
    with pytest.raises(ValidationError, match=r"t_min_c.*'h1'"):
        HeatPumpParams(device_id=["h1"], t_min_c=24.0, t_max_c=20.0)
    with pytest.raises(ValidationError, match=r"heatpump\.c_kwh_per_c.*nan"):
        HeatPumpParams.from_frame([{"device_id": "a", "c_kwh_per_c": 10.0}, {"device_id": "b",
                                                                            "c_kwh_per_c": float("nan")}])
    hp = HeatPump(HeatPumpParams(device_id=["h1"]))
    with pytest.raises(ValidationError, match="t_out_c"):
        hp.simulate(np.ones((1, 3)), 0.25, t_out_c=np.ones(5))
    with pytest.raises(ValidationError, match="dt_h"):
        hp.power_range(0.0, t_out_c=0.0)


def test_first_order_helpers_near_zero():
    from openvpp.der._firstorder import phi, psi

    x = np.array([0.0, 1e-9, 1e-6, 0.999e-3, 1.001e-3, 0.1, 5.0])
    # Taylor series written out here: phi = 1 - x/2 + x^2/6 - x^3/24, psi = 1/2 - x/6 + x^2/24 - x^3/120
    small = x < 0.01
    assert np.allclose(phi(x)[small], (1 - x / 2 + x**2 / 6 - x**3 / 24)[small], rtol=1e-12, atol=0)
    assert np.allclose(psi(x)[small], (0.5 - x / 6 + x**2 / 24 - x**3 / 120)[small], rtol=1e-9, atol=0)
    assert phi(5.0) == pytest.approx((1 - math.exp(-5.0)) / 5.0, rel=1e-14)
    assert psi(5.0) == pytest.approx((5.0 - 1 + math.exp(-5.0)) / 25.0, rel=1e-14)
