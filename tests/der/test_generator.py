"""Dispatchable and variable generators (openvpp.der.generator).

Independent checks: the seed 003 field-test figures (§4.2: 4 MW hydro, 8.4 / 14.4 MW/min synchronised,
1.3 MW/min from standstill, 25 s from minimum to rated, 17 s to stop, ~180 s from standstill; with a 1 MW PV
at 1 MW/min the aggregate is pi [0, 5] MW and rho [-15.4, 9.4] MW/min), a reservoir balance summed in the
test, and ramp checks re-derived from the realised output series.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openvpp.der.generator import (
    HYDRO_H1_SEED003,
    DispatchableGenerator,
    DispatchableGeneratorParams,
    QuantileForecast,
    VariableGenerator,
    VariableGeneratorParams,
    reservoir_balance,
    startup_time_min,
)
from openvpp.errors import ValidationError

HYP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MINUTE = 1 / 60
SECOND = 1 / 3600


def _h1(**kw) -> DispatchableGenerator:
    return DispatchableGenerator(DispatchableGeneratorParams(device_id=["H1"], **{**HYDRO_H1_SEED003, **kw}))


def _steps_to(p_gen, value, tol=1e-6):
    """Number of steps until ``p_gen`` first reaches ``value``."""
    return int(np.argmax(np.abs(p_gen - value) < tol)) + 1


def test_seed003_hydro_from_standstill():
    h1 = _h1()
    # at standstill: at most 1.3 MW more in the first minute, no decrease possible
    assert h1.power_range(MINUTE) == (pytest.approx([-1300.0]), pytest.approx([0.0]))
    assert h1.ramp_range(MINUTE) == (pytest.approx([-1300.0]), pytest.approx([0.0]))
    res = h1.simulate(np.full((1, 6), -4000.0), MINUTE)
    assert res.p_gen_kw[0, 0] == pytest.approx(1300.0)
    assert res.p_gen_kw[0].tolist() == pytest.approx([1300, 2600, 3900, 4000, 4000, 4000])
    assert np.all(res.p_kw <= 0)  # generation is negative in load convention
    # with one-second steps the start from standstill to 4 MW takes 4000 / 1.3 MW/min = 184.6 s (~180 s)
    res = _h1().simulate(np.full((1, 400), -4000.0), SECOND)
    assert _steps_to(res.p_gen_kw[0], 4000.0) == math.ceil(4000 / 1300 * 60)
    assert startup_time_min(4000.0, 1300.0) * 60 == pytest.approx(184.6, abs=0.1)


def test_seed003_hydro_synchronised_ramps():
    h1 = _h1(on0=True, p0_kw=500.0)  # at minimum synchronous power
    assert h1.ramp_range(MINUTE) == (pytest.approx([-8400.0]), pytest.approx([14400.0]))
    assert h1.power_range(MINUTE) == (pytest.approx([-4000.0]), pytest.approx([0.0]))
    # 0.5 -> 4 MW at 0.14 MW/s: 25 s; then stop at 0.24 MW/s: 4 MW / 240 kW/s = 16.7 s -> 17 one-second steps
    res = h1.simulate(np.concatenate([np.full((1, 40), -4000.0), np.zeros((1, 30))], axis=1), SECOND)
    g = res.p_gen_kw[0]
    assert _steps_to(g, 4000.0) == 25
    assert np.max(np.diff(np.concatenate([[500.0], g]))) == pytest.approx(8400 / 60)
    assert _steps_to(g[40:], 0.0) == 17
    assert np.min(np.diff(g)) == pytest.approx(-14400 / 60)
    assert not res.on[0, -1]
    # stopped again: the next start uses the start-up ramp
    assert h1.ramp_range(MINUTE)[0] == pytest.approx([-1300.0])


def test_seed003_case2_aggregate_hydro_and_pv():
    h1 = _h1(on0=True, p0_kw=500.0)
    fc = QuantileForecast([1000.0], [1000.0], [1000.0], device_id=["PV1"])
    pv1 = VariableGenerator(
        VariableGeneratorParams(device_id=["PV1"], p_max_kw=1000.0, ramp_up_kw_per_min=1000.0,
                                ramp_down_kw_per_min=1000.0, p0_kw=500.0),
        fc,
    )
    # rho: ramp ranges add (Minkowski sum of intervals); in generation terms [-15.4, 9.4] MW/min
    r_lo = h1.ramp_range(MINUTE)[0] + pv1.ramp_range(MINUTE)[0]
    r_hi = h1.ramp_range(MINUTE)[1] + pv1.ramp_range(MINUTE)[1]
    assert (-r_hi[0] / 1000, -r_lo[0] / 1000) == pytest.approx((-15.4, 9.4))
    # pi over an hour (ramps do not bind): [0, 5] MW of output
    p_lo = h1.power_range(1.0)[0] + pv1.power_range(1.0)[0]
    p_hi = h1.power_range(1.0)[1] + pv1.power_range(1.0)[1]
    assert (-p_hi[0] / 1000, -p_lo[0] / 1000) == pytest.approx((0.0, 5.0))


@st.composite
def dispatch_cases(draw):
    n = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dt = draw(st.sampled_from([SECOND * 10, MINUTE, 5 * MINUTE]))
    p_max = rng.uniform(100, 5000, n)
    on0 = rng.uniform(size=n) < 0.5
    p_min = rng.uniform(0, 0.5, n) * p_max
    pr = DispatchableGeneratorParams(
        device_id=[f"g{i}" for i in range(n)],
        p_max_kw=p_max,
        p_min_kw=p_min,
        ramp_up_kw_per_min=rng.uniform(0.05, 3, n) * p_max,
        ramp_down_kw_per_min=rng.uniform(0.05, 3, n) * p_max,
        ramp_startup_kw_per_min=rng.uniform(0.01, 0.5, n) * p_max,
        on0=on0,
        p0_kw=np.where(on0, p_min + rng.uniform(0, 1, n) * (p_max - p_min), 0.0),
    )
    n_steps = 60
    sp = -rng.uniform(0, 1.2, (n, n_steps)) * p_max[:, None]
    sp[rng.uniform(size=(n, n_steps)) < 0.15] = 0.0  # stop requests
    return pr, dt, sp


@HYP
@given(dispatch_cases())
def test_ramps_never_exceeded_including_start_from_standstill(case):
    pr, dt, sp = case
    gen = DispatchableGenerator(pr)
    res = gen.simulate(sp, dt)
    g = res.p_gen_kw
    dtm = dt * 60
    prev = np.concatenate([pr.p0_kw[:, None], g[:, :-1]], axis=1)
    d = g - prev
    assert np.all(g >= 0) and np.all(g <= pr.p_max_kw[:, None] + 1e-9)
    assert np.all(d >= -pr.ramp_down_kw_per_min[:, None] * dtm - 1e-9)
    fast = np.maximum(pr.ramp_up_kw_per_min, pr.ramp_startup_kw_per_min)
    assert np.all(d <= fast[:, None] * dtm + 1e-9)
    # a step that begins at standstill rises at most at the start-up ramp
    assert np.all(np.where(prev == 0, d, 0.0) <= pr.ramp_startup_kw_per_min[:, None] * dtm + 1e-9)
    # the start sequence, re-identified here: from standstill until the output reaches the request
    target = np.where(-sp > 1e-9, np.clip(-sp, pr.p_min_kw[:, None], pr.p_max_kw[:, None]), 0.0)
    for i in range(pr.n):
        starting = False
        for k in range(sp.shape[1]):
            if prev[i, k] == 0 and target[i, k] > 0:
                starting = True
            if starting:
                assert d[i, k] <= pr.ramp_startup_kw_per_min[i] * dtm + 1e-9
            if g[i, k] == 0 or g[i, k] >= target[i, k] - 1e-9:
                starting = False
            # a running unit sits below its minimum only while starting or stopping
            if 0 < g[i, k] < pr.p_min_kw[i] - 1e-9:
                assert starting or target[i, k] == 0 or d[i, k] > 0
    # power_range brackets the realised output of the next step
    lo, _ = gen.power_range(dt)
    nxt = gen.simulate(np.full((pr.n, 1), -1e9), dt).p_kw[:, 0]
    assert np.allclose(nxt, lo)


@HYP
@given(st.integers(0, 2**32 - 1), st.sampled_from([MINUTE, 0.25, 1.0]))
def test_reservoir_energy_balance(seed, dt):
    rng = np.random.default_rng(seed)
    n, n_steps = 4, 48
    e_max = rng.uniform(500, 5000, n)
    pr = DispatchableGeneratorParams(
        device_id=[f"h{i}" for i in range(n)],
        p_max_kw=rng.uniform(500, 4000, n),
        p_min_kw=rng.uniform(0, 300, n),
        ramp_up_kw_per_min=rng.uniform(10, 8400, n),
        ramp_down_kw_per_min=rng.uniform(10, 14400, n),
        ramp_startup_kw_per_min=rng.uniform(10, 1300, n),
        e_max_kwh=e_max,
        e_min_kwh=rng.uniform(0, 0.1, n) * e_max,
        e0_kwh=rng.uniform(0.2, 1.0, n) * e_max,
    )
    inflow = rng.uniform(0, 1500, (n, n_steps))
    sp = -rng.uniform(0, 4000, (n, n_steps))
    res = DispatchableGenerator(pr).simulate(sp, dt, inflow_kw=inflow)
    g = res.p_gen_kw
    balance = pr.e0_kwh + (inflow * dt).sum(1) - (g * dt).sum(1) - res.spill_kwh.sum(1)
    assert np.allclose(res.e_kwh[:, -1], balance, rtol=0, atol=1e-9)
    assert np.all(res.e_kwh >= pr.e_min_kwh[:, None] - 1e-9)
    assert np.all(res.e_kwh <= pr.e_max_kwh[:, None] + 1e-9)
    assert np.all(res.spill_kwh[res.e_kwh < pr.e_max_kwh[:, None] - 1e-9] == 0)
    e_chk, spill_chk = reservoir_balance(pr.e0_kwh, inflow, g, pr.e_max_kwh, dt)
    assert np.allclose(e_chk, res.e_kwh, atol=1e-9) and np.allclose(spill_chk, res.spill_kwh, atol=1e-9)


def test_reservoir_limits_output():
    # 50 kWh above the minimum level and no inflow: at most 50 kWh can be produced, then the unit stops
    h = _h1(on0=True, p0_kw=4000.0, e_max_kwh=1000.0, e_min_kwh=100.0, e0_kwh=150.0)
    res = h.simulate(np.full((1, 12), -4000.0), 5 * MINUTE)
    assert (res.p_gen_kw * 5 * MINUTE).sum() == pytest.approx(50.0, abs=1e-9)
    assert res.e_kwh[0, -1] == pytest.approx(100.0, abs=1e-9)
    assert not res.on[0, -1]
    assert h.power_range(5 * MINUTE) == (pytest.approx([0.0]), pytest.approx([0.0]))
    # with inflow the unit can run at the inflow once minimum output is sustainable
    res = h.simulate(np.full((1, 3), -4000.0), 1.0, inflow_kw=800.0)
    assert res.p_gen_kw[0].tolist() == pytest.approx([800.0, 800.0, 800.0])


def test_quantile_ordering_is_validated():
    # seed 003 Table 1 names quantiles by probability of exceedance: wind 3 / 2 / 1 MW, PV 4 / 3 / 2 MW
    table1 = QuantileForecast([3000.0, 4000.0], [2000.0, 3000.0], [1000.0, 2000.0], device_id=["wind", "pv"],
                              convention="exceedance")
    assert table1.get("p50")[:, 0].tolist() == [2000.0, 3000.0]
    with pytest.raises(ValidationError, match=r"forecast\.p50_kw.*forecast\.p10_kw.*'wind'.*exceedance"):
        QuantileForecast([3000.0, 4000.0], [2000.0, 3000.0], [1000.0, 2000.0], device_id=["wind", "pv"])
    with pytest.raises(ValidationError, match=r"forecast\.p90_kw.*'w2'.*step 1"):
        QuantileForecast([[1, 1], [1, 1]], [[2, 2], [2, 2]], [[3, 3], [3, 1.5]], device_id=["w1", "w2"])
    with pytest.raises(ValidationError, match=r"forecast\.p10_kw.*>= 0"):
        QuantileForecast([-1.0], [0.0], [1.0])
    with pytest.raises(ValidationError, match="quantile"):
        QuantileForecast([1.0], [2.0], [3.0]).get("p75")


def test_variable_generator_follows_quantile_and_curtails():
    fc = QuantileForecast([[100, 200, 300, 50]], [[200, 400, 600, 100]], [[300, 600, 900, 150]],
                          device_id=["w"])
    prm = VariableGeneratorParams(device_id=["w"], p_max_kw=800.0, ramp_up_kw_per_min=10.0)
    res = VariableGenerator(prm, fc, quantile="p90").simulate(None, 1.0)
    assert res.p_avail_kw[0].tolist() == [300, 600, 800, 150]  # P90 capped at the rating
    assert res.p_gen_kw[0].tolist() == [300, 600, 800, 150]  # 10 kW/min x 60 min does not bind
    assert np.all(res.curtailed_kw == 0)
    # curtailment to set-points, ramp-limited controlled increases, output never above available
    vg = VariableGenerator(VariableGeneratorParams(device_id=["w"], p_max_kw=800.0, ramp_up_kw_per_min=5), fc)
    res = vg.simulate([[-150, -1000, -1000, -1000]], 1.0)
    assert res.p_gen_kw[0].tolist() == [150, 400, 600, 100]
    vg = VariableGenerator(VariableGeneratorParams(device_id=["w"], p_max_kw=800.0, ramp_up_kw_per_min=1), fc)
    res = vg.simulate([[-1000, -1000, -1000, -1000]], 1.0)
    assert res.p_gen_kw[0].tolist() == [60, 120, 180, 100]
    assert np.all(res.p_gen_kw <= res.p_avail_kw + 1e-12)
    # a unit that cannot be curtailed produces what is available whatever the set-point
    vg = VariableGenerator(VariableGeneratorParams(device_id=["w"], p_max_kw=800.0, curtailable=False), fc)
    assert vg.power_range(1.0) == (pytest.approx([-200.0]), pytest.approx([-200.0]))
    assert vg.simulate(np.zeros((1, 4)), 1.0).p_gen_kw[0].tolist() == [200, 400, 600, 100]
    with pytest.raises(ValidationError, match="forecast length"):
        vg.simulate(np.zeros((1, 1)), 1.0)


def test_generator_validation_names_field_and_device():
    with pytest.raises(ValidationError, match=r"p_min_kw.*'g2'"):
        DispatchableGeneratorParams(device_id=["g1", "g2"], p_max_kw=[100.0, 100.0], p_min_kw=[10.0, 200.0])
    with pytest.raises(ValidationError, match=r"generator\.p_max_kw is required"):
        DispatchableGeneratorParams(device_id=["g1"])
    with pytest.raises(ValidationError, match=r"generator\.ramp_up_kw_per_min.*'b'"):
        DispatchableGeneratorParams.from_frame(
            [{"device_id": "a", "p_max_kw": 10.0},
             {"device_id": "b", "p_max_kw": 10.0, "ramp_up_kw_per_min": -1}]
        )
    with pytest.raises(ValidationError, match=r"e0_kwh.*'g1'"):
        DispatchableGeneratorParams(device_id=["g1"], p_max_kw=10.0, e_max_kwh=100.0, e0_kwh=200.0)
    with pytest.raises(ValidationError, match=r"p0_kw must be 0.*'g1'"):
        DispatchableGeneratorParams(device_id=["g1"], p_max_kw=10.0, p0_kw=5.0)
    with pytest.raises(ValidationError, match=r"vargen\.p_max_kw.*'v1'"):
        VariableGeneratorParams(device_id=["v1"], p_max_kw=0.0)
