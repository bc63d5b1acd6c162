"""C&I flexible load: shiftable task deadlines and curtailment limits (openvpp.der.flexload).

Independent checks: the served energy is summed in the test, curtailment events are re-identified from the
realised curtailment series (runs of positive values) and checked against the limits one by one.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openvpp.der.flexload import FlexibleLoad, FlexLoadParams, window_overlap_h
from openvpp.errors import ValidationError

HYP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def cases(draw):
    n = draw(st.integers(1, 4))
    dt = draw(st.sampled_from([0.25, 0.5, 1.0]))
    n_steps = int(24 / dt)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    earliest = rng.uniform(0, 12, n)
    latest = earliest + rng.uniform(1, 11, n)
    p_max = rng.uniform(5, 50, n)
    e = rng.uniform(0, 1, n) * p_max * (latest - earliest)
    pr = FlexLoadParams(
        device_id=[f"f{i}" for i in range(n)],
        curtail_share=rng.uniform(0, 0.5, n),
        p_curtail_max_kw=np.where(rng.uniform(size=n) < 0.5, np.inf, rng.uniform(1, 30, n)),
        curtail_max_duration_h=rng.choice([1.0, 2.0, 3.0], n),
        curtail_max_energy_kwh=np.where(rng.uniform(size=n) < 0.5, np.inf, rng.uniform(5, 60, n)),
        curtail_max_events=rng.integers(0, 5, n),
        curtail_min_gap_h=rng.choice([0.0, 1.0], n),
        shift_e_kwh=e,
        shift_p_max_kw=p_max,
        shift_earliest_h=earliest,
        shift_latest_h=latest,
    )
    baseline = rng.uniform(20, 200, (n, n_steps))
    mode = draw(st.sampled_from(["low", "high", "random"]))
    if mode == "low":  # always ask for less: the task must still be finished, curtailment is capped
        sp = np.zeros((n, n_steps))
    elif mode == "high":
        sp = baseline + 1e3
    else:
        sp = baseline * rng.uniform(0, 1.5, (n, n_steps))
    return pr, dt, baseline, sp


@HYP
@given(cases())
def test_task_served_by_deadline_and_curtailment_within_limits(case):
    pr, dt, baseline, sp = case
    n, n_steps = baseline.shape
    res = FlexibleLoad(pr, baseline).simulate(sp, dt)
    t0 = np.arange(n_steps) * dt
    # balance of the realised power
    assert np.allclose(res.p_kw, baseline - res.curtailed_kw + res.shifted_kw)
    # shiftable energy: served by the deadline, never outside the window, never above the rate
    served = res.shifted_kw * dt
    assert np.allclose(served.sum(axis=1), pr.shift_e_kwh, atol=1e-9)
    for i in range(n):
        overlap = window_overlap_h(t0, dt, pr.shift_earliest_h[i], pr.shift_latest_h[i])
        assert np.all(served[i] <= pr.shift_p_max_kw[i] * overlap + 1e-9)
        by_deadline = served[i][t0 + dt <= pr.shift_latest_h[i] + 1e-12].sum()
        partial = served[i][(t0 < pr.shift_latest_h[i]) & (t0 + dt > pr.shift_latest_h[i])].sum()
        assert by_deadline + partial == pytest.approx(pr.shift_e_kwh[i], abs=1e-9)
    # curtailment: rate limits, then events re-identified from the series
    c = res.curtailed_kw
    assert np.all(c >= 0)
    assert np.all(c <= np.minimum(pr.p_curtail_max_kw[:, None], pr.curtail_share[:, None] * baseline) + 1e-9)
    for i in range(n):
        on = np.concatenate([[False], c[i] > 0, [False]])
        starts = np.flatnonzero(~on[:-1] & on[1:])
        ends = np.flatnonzero(on[:-1] & ~on[1:])
        assert len(starts) <= pr.curtail_max_events[i]
        for k, (a, b) in enumerate(zip(starts, ends, strict=True)):
            assert (b - a) * dt <= pr.curtail_max_duration_h[i] + 1e-9
            assert c[i, a:b].sum() * dt <= pr.curtail_max_energy_kwh[i] + 1e-9
            if k:
                assert (a - ends[k - 1]) * dt >= pr.curtail_min_gap_h[i] - 1e-9


def test_hand_example():
    # 10 kWh at <= 5 kW between 1 h and 4 h; baseline 50 kW; ask for 30 kW all day (half-hour steps)
    pr = FlexLoadParams(device_id=["f1"], shift_e_kwh=10, shift_p_max_kw=5, shift_earliest_h=1,
                        shift_latest_h=4, curtail_share=0.2)
    fl = FlexibleLoad(pr, np.full((1, 12), 50.0))
    assert np.allclose(fl.power_range(0.5), ([40.0], [50.0]))
    res = fl.simulate(np.full((1, 12), 30.0), 0.5)
    # curtailment capped at 20 % = 10 kW, events of 2 h = 4 steps: steps 0-3, a forced pause, then 5-8
    assert res.curtailed_kw[0].tolist() == [10, 10, 10, 10, 0, 10, 10, 10, 10, 0, 10, 10]
    # least laxity: nothing until the latest start (4 h - 10 kWh / 5 kW = 2 h), then 5 kW to the deadline
    assert res.shifted_kw[0].tolist() == [0, 0, 0, 0, 5, 5, 5, 5, 0, 0, 0, 0]
    assert res.shift_remaining_kwh[0, 7] == 0.0
    # power-range consistency: ask for more, the task runs early at full rate
    fl = FlexibleLoad(pr, np.full((1, 12), 50.0))
    res = fl.simulate(np.full((1, 12), 80.0), 0.5)
    assert res.shifted_kw[0].tolist() == [0, 0, 5, 5, 5, 5, 0, 0, 0, 0, 0, 0]


def test_power_range_bounds_the_realised_power(rng):
    pr = FlexLoadParams(device_id=["a", "b"], shift_e_kwh=[6.0, 0.0], shift_p_max_kw=[4.0, 0.0],
                        shift_earliest_h=[0.5, 0.0], shift_latest_h=[3.0, 0.0], curtail_max_duration_h=1.0)
    fl = FlexibleLoad(pr, rng.uniform(10, 20, (2, 16)))
    for _ in range(16):
        lo, hi = fl.power_range(0.25)
        sp = rng.uniform(0, 30, 2)
        p = fl.simulate(sp[:, None], 0.25).p_kw[:, 0]
        assert np.all(p >= lo - 1e-12) and np.all(p <= hi + 1e-12)
        assert np.allclose(p, np.clip(sp, lo, hi))


def test_validation_names_field_and_device():
    with pytest.raises(ValidationError, match=r"shift_e_kwh.*'f2'"):
        FlexLoadParams(device_id=["f1", "f2"], shift_e_kwh=[1.0, 30.0], shift_p_max_kw=5.0,
                       shift_earliest_h=0.0, shift_latest_h=4.0)
    with pytest.raises(ValidationError, match=r"flexload\.curtail_share.*'f1'"):
        FlexLoadParams.from_frame([{"device_id": "f1", "curtail_share": 1.5}])
    with pytest.raises(ValidationError, match=r"shift_latest_h.*'f1'"):
        FlexLoadParams(device_id=["f1"], shift_earliest_h=5.0, shift_latest_h=2.0)
    with pytest.raises(ValidationError, match=r"baseline_kw.*'f1'"):
        FlexibleLoad(FlexLoadParams(device_id=["f1"]), [[1.0, -2.0]])
    fl = FlexibleLoad(FlexLoadParams(device_id=["f1"]), np.ones((1, 4)))
    with pytest.raises(ValidationError, match="baseline length"):
        fl.simulate(np.ones((1, 5)), 0.25)
