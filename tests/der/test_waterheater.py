"""Electric water heater, fully mixed tank (openvpp.der.waterheater).

Independent checks: energy balances computed by hand with rho c_p V dT (1 kg/L, 4.186 kJ/(kg K)), the
closed-form dilution of a mixed tank by a draw, and a fine-step Euler integration of the tank ODE.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openvpp.der.waterheater import WaterHeater, WaterHeaterParams, tank_energy_kwh
from openvpp.errors import ValidationError

HYP = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KWH_PER_L_K = 4.186 / 3600.0  # 1 kg/L x 4.186 kJ/(kg K) / 3600 kJ/kWh


def test_heating_200_litres_by_10_kelvin_by_hand():
    e_needed = 200 * KWH_PER_L_K * 10.0  # = 2.32556 kWh
    assert e_needed == pytest.approx(2.325556, rel=1e-6)
    assert tank_energy_kwh(200.0, 60.0, 50.0) == pytest.approx(e_needed, rel=1e-12)
    wh = WaterHeater(WaterHeaterParams(device_id=["w"], ua_kw_per_c=0.0, t0_c=50.0, t_max_c=90.0))
    # the same energy in four quarter-hour steps
    res = wh.simulate(np.full((1, 4), e_needed), dt_h=0.25)
    assert res.t_tank_c[0, -1] == pytest.approx(60.0, abs=1e-9)
    assert res.t_tank_c[0, 1] == pytest.approx(55.0, abs=1e-9)
    assert np.all(res.standby_kwh == 0) and np.all(res.drawn_kwh == 0)


def test_standby_loss_and_draw_by_hand():
    # standby only: T = T_amb + (T0 - T_amb) exp(-UA t / C)
    c = 150 * KWH_PER_L_K
    wh = WaterHeater(WaterHeaterParams(device_id=["w"], volume_l=150, ua_kw_per_c=0.003, t_amb_c=18.0,
                                       t0_c=65.0, t_min_c=0.0))
    res = wh.simulate(np.zeros((1, 10)), dt_h=1.0)
    expected = 18.0 + 47.0 * math.exp(-0.003 * 10 / c)
    assert res.t_tank_c[0, -1] == pytest.approx(expected, abs=1e-9)
    assert res.standby_kwh.sum() == pytest.approx(c * (65.0 - expected), abs=1e-9)
    # draw only: 50 L taken over an hour from a 200 L tank at 60 degC, inlet 10 degC:
    # a mixed tank dilutes as T = T_in + (T0 - T_in) exp(-V_drawn / V)
    wh = WaterHeater(WaterHeaterParams(device_id=["w"], ua_kw_per_c=0.0, t_inlet_c=10.0, t0_c=60.0,
                                       t_min_c=0.0))
    res = wh.simulate([[0.0]], dt_h=1.0, draw_l_per_min=50 / 60)
    t_end = 10.0 + 50.0 * math.exp(-50 / 200)
    assert res.t_tank_c[0, 0] == pytest.approx(t_end, abs=1e-9)
    assert res.drawn_kwh[0, 0] == pytest.approx(200 * KWH_PER_L_K * (60.0 - t_end), abs=1e-9)
    # a draw given as heat: 1.5 kWh removed from a 200 L tank lowers it by 1.5 / (200 rho c_p)
    wh = WaterHeater(WaterHeaterParams(device_id=["w"], ua_kw_per_c=0.0, t0_c=60.0, t_min_c=0.0))
    res = wh.simulate([[0.0, 0.0]], dt_h=0.5, draw_kwh=[[1.5, 0.0]])
    assert res.t_tank_c[0, -1] == pytest.approx(60.0 - 1.5 / (200 * KWH_PER_L_K), abs=1e-9)


def _euler(t0, p, flow, heat_kw, pr, dt, sub=2000):
    """Explicit Euler with ``sub`` sub-steps per step, all devices at once."""
    c = pr.volume_l * KWH_PER_L_K
    t = t0.copy()
    h = dt / sub
    out = np.empty_like(p)
    for k in range(p.shape[1]):
        for _ in range(sub):
            d = (pr.eta * p[:, k] - pr.ua_kw_per_c * (t - pr.t_amb_c)
                 - KWH_PER_L_K * flow[:, k] * 60 * (t - pr.t_inlet_c) - heat_kw[:, k])
            t = t + h * d / c
        out[:, k] = t
    return out


@HYP
@given(st.integers(0, 2**32 - 1), st.sampled_from([1 / 60, 0.25, 0.5]))
def test_energy_balance_closes_and_matches_euler(seed, dt):
    rng = np.random.default_rng(seed)
    n, n_steps = 3, 8
    pr = WaterHeaterParams(
        device_id=["a", "b", "c"],
        volume_l=rng.uniform(80, 300, n),
        p_max_kw=rng.uniform(1, 4, n),
        eta=rng.uniform(0.9, 1.0, n),
        ua_kw_per_c=rng.uniform(0, 0.005, n),
        t0_c=rng.uniform(45, 70, n),
        t_min_c=0.0,
        t_max_c=100.0,
    )
    p = rng.uniform(0, 4, (n, n_steps))
    flow = np.where(rng.uniform(size=(n, n_steps)) < 0.3, rng.uniform(0, 10, (n, n_steps)), 0.0)
    heat = np.where(rng.uniform(size=(n, n_steps)) < 0.2, rng.uniform(0, 0.3, (n, n_steps)) * dt, 0.0)
    res = WaterHeater(pr).simulate(p, dt, draw_l_per_min=flow, draw_kwh=heat, enforce_band=False)
    assert np.allclose(res.p_kw, np.minimum(p, pr.p_max_kw[:, None]))
    c = pr.volume_l * KWH_PER_L_K
    lhs = c * (res.t_tank_c[:, -1] - pr.t0_c)
    rhs = (pr.eta[:, None] * res.p_kw * dt).sum(1) - res.standby_kwh.sum(1) - res.drawn_kwh.sum(1)
    assert np.allclose(lhs, rhs, atol=1e-9)
    assert np.all(res.drawn_kwh >= -1e-12)
    # Euler's error is O(h); Richardson extrapolation of two resolutions cancels the first-order term
    e1 = _euler(pr.t0_c, res.p_kw, flow, heat / dt, pr, dt, sub=1000)
    e2 = _euler(pr.t0_c, res.p_kw, flow, heat / dt, pr, dt, sub=2000)
    # Euler at 2000 substeps errs by about |e2 - e1| (its error halves when the substep halves)
    assert np.all(np.abs(res.t_tank_c - e2) <= 2.0 * np.abs(e2 - e1) + 1e-6)
    assert np.allclose(res.t_tank_c, 2 * e2 - e1, atol=1e-4)


def test_power_range_keeps_the_band():
    pr = WaterHeaterParams(device_id=["low", "mid", "high"], t0_c=[50.0, 57.0, 65.0])
    wh = WaterHeater(pr)
    lo, hi = wh.power_range(0.25, draw_l_per_min=[1.0, 0.0, 0.0])
    assert lo[0] > 0  # at the bottom with a draw: forced on
    assert lo[1] == 0.0 and hi[1] == pytest.approx(3.0)  # in the band: free (pre-heating possible)
    assert hi[2] < 0.1  # at the top: only the standby loss may be made up
    flow = np.array([[1.0, 0.0, 0.5, 0.0]] * 3)
    res = wh.simulate(np.array([[0.0, 3.0, 0.0, 3.0]] * 3), 0.25, draw_l_per_min=flow)
    assert np.all(res.t_tank_c >= 50.0 - 1e-9) and np.all(res.t_tank_c <= 65.0 + 1e-9)
    # an element too small for a long shower: full power, and the tank falls below the band (reported)
    tiny = WaterHeater(WaterHeaterParams(device_id=["t"], p_max_kw=1.0, t0_c=50.0))
    res = tiny.simulate([[0.0]], 0.5, draw_l_per_min=10.0)
    assert res.p_kw[0, 0] == 1.0 and res.t_tank_c[0, 0] < 50.0


def test_validation_names_field_and_device():
    with pytest.raises(ValidationError, match=r"waterheater\.volume_l.*'w2'"):
        WaterHeaterParams(device_id=["w1", "w2"], volume_l=[200.0, 0.0])
    with pytest.raises(ValidationError, match=r"t_min_c.*'w1'"):
        WaterHeaterParams(device_id=["w1"], t_min_c=70.0, t_max_c=60.0)
    wh = WaterHeater(WaterHeaterParams(device_id=["w1"]))
    with pytest.raises(ValidationError, match="draw_l_per_min"):
        wh.simulate(np.ones((1, 2)), 0.25, draw_l_per_min=[[-1.0, 0.0]])
