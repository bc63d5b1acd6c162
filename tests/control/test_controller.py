"""Controller: plan following, events, envelopes, re-dispatch of unresponsive devices, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openvpp.control.controller import Controller, ControllerSettings
from openvpp.control.signals import EnvelopeUpdate, FrequencySample, Instruction, Measurements, Signals
from openvpp.errors import ValidationError


def _meas(plan, t, p=None, online=None):
    n = plan.n_devices
    p = plan.p_baseline_kw[:, 0] if p is None else p
    return Measurements(
        t,
        list(plan.device_ids),
        p,
        np.nan_to_num(plan.soc_baseline[:, 0], nan=np.nan),
        np.ones(n, bool) if online is None else online,
    )


def test_follows_the_plan_without_signals(make_plan):
    plan = make_plan()
    ctrl = Controller(plan)
    t = plan.index[3]
    sp = ctrl.step(t, _meas(plan, t))
    assert np.array_equal(sp.p_kw, plan.p_baseline_kw[:, 3])
    assert sp.valid_until > t


def test_central_frequency_response_by_hand(make_plan):
    plan = make_plan()
    ctrl = Controller(plan)
    t = plan.index[10]
    sp = ctrl.step(t, _meas(plan, t), Signals(frequency=FrequencySample(t, 49.625)))
    # CPF+ share (49.8 - 49.625) / 0.35 = 0.5 of 2 kW; contingency services are not in this plan
    bat = plan.device_class == "battery"
    assert np.allclose(sp.p_kw[bat], plan.p_baseline_kw[bat, 10] - 1.0)
    assert np.array_equal(sp.p_kw[~bat], plan.p_baseline_kw[~bat, 10])
    local = Controller(plan, ControllerSettings(mode="local"))
    sp = local.step(t, _meas(plan, t), Signals(frequency=FrequencySample(t, 49.625)))
    assert np.array_equal(sp.p_kw, plan.p_baseline_kw[:, 10])  # inverters respond themselves


def test_unresponsive_devices_share_goes_to_the_others_on_the_next_tick(make_plan):
    plan = make_plan()
    ctrl = Controller(plan)
    t = plan.index[10]
    online = np.ones(plan.n_devices, bool)
    online[0] = False
    sp = ctrl.step(t, _meas(plan, t, online=online), Signals(frequency=FrequencySample(t, 49.625)))
    bat = np.flatnonzero(plan.device_class == "battery")
    # device 0 should give 1 kW but is offline: the 5 other batteries take 1/5 kW more each (headroom split)
    assert sp.p_kw[0] == pytest.approx(plan.p_baseline_kw[0, 10] - 1.0)
    assert np.allclose(sp.p_kw[bat[1:]], plan.p_baseline_kw[bat[1:], 10] - 1.0 - 0.2)


def test_event_uses_only_its_targets_and_keeps_other_reserves(make_plan):
    plan = make_plan()
    ctrl = Controller(plan)
    t = plan.index[80]
    ins = Instruction("pk", "peak", t, t + pd.Timedelta(hours=1), ramp_s=0.0, delta_kw=-6.0)
    sp = ctrl.step(t, _meas(plan, t), Signals(instructions=(ins,)))
    bat = plan.device_class == "battery"
    # batteries are the peak targets (EVs are fully reserved for CI): 1 kW each
    assert np.allclose(sp.p_kw[bat], -1.0)
    assert np.array_equal(sp.p_kw[~bat], plan.p_baseline_kw[~bat, 80])
    big = Instruction("pk2", "peak", t, t + pd.Timedelta(hours=1), delta_kw=-40.0)
    ctrl2 = Controller(plan)
    sp = ctrl2.step(t, _meas(plan, t), Signals(instructions=(big,)))
    rec = ctrl2.events["pk2"]
    # the CPF+ reserve (2 kW per battery) is kept: at most 3 kW each
    assert np.allclose(sp.p_kw[bat], -3.0) and rec.reason == "reserved"


def test_live_envelope_limits_the_event(make_plan):
    plan = make_plan()
    ctrl = Controller(plan)
    t = plan.index[80]
    env = EnvelopeUpdate(t, ["s0"], [0.5], [np.inf], t + pd.Timedelta(minutes=30))
    ins = Instruction("pk", "peak", t, t + pd.Timedelta(hours=1), delta_kw=-2.0, device_ids=("d0",))
    sp = ctrl.step(t, _meas(plan, t), Signals(instructions=(ins,), envelopes=(env,)))
    # site s0 draws 1 kW at plan: it may go down to -0.5 kW, i.e. the battery to -1.5 kW (device and
    # reserves would allow -3 kW)
    assert sp.p_kw[0] == pytest.approx(-1.5)
    assert ctrl.events["pk"].reason == "envelope"
    assert ctrl.events["pk"].shortfall_kw == pytest.approx(-0.5)


def test_bad_input_is_rejected_and_changes_nothing(make_plan):
    plan = make_plan()
    ctrl = Controller(plan)
    t = plan.index[5]
    unknown = Instruction("x", "ci", t, t + pd.Timedelta(hours=1), delta_kw=-1.0, device_ids=("nope",))
    with pytest.raises(ValidationError, match="device_ids names devices not in the plan"):
        ctrl.step(t, _meas(plan, t), Signals(instructions=(unknown,)))
    assert ctrl.events == {} and ctrl.log["t_s"] == []
    a = Instruction("a", "ci", t, t + pd.Timedelta(hours=2), delta_kw=-20.0)
    b = Instruction("b", "ci", t + pd.Timedelta(hours=1), t + pd.Timedelta(hours=3), delta_kw=-20.0)
    ctrl.add_instruction(a)
    with pytest.raises(ValidationError, match="overlap"):
        ctrl.add_instruction(b)
    assert list(ctrl.events) == ["a"]
    with pytest.raises(ValidationError, match="no eligible device"):
        ctrl.add_instruction(Instruction("c", "ci", t, t + pd.Timedelta(hours=1), device_ids=("d0",)))
    with pytest.raises(ValidationError, match="outside the plan"):
        ctrl.step(plan.index[0] - pd.Timedelta(hours=1), _meas(plan, t))
    with pytest.raises(ValidationError, match="plan order"):
        ctrl.step(t, Measurements(t, ["d1"], [0.0], [0.5], [True]))
    env = EnvelopeUpdate(t, ["zz"], [1.0], [1.0], t)
    with pytest.raises(ValidationError, match="site_ids"):
        ctrl.step(t, _meas(plan, t), Signals(envelopes=(env,)))


def test_the_plan_arrays_are_used_as_given(make_plan):
    p = make_plan(n_bat=2, n_ev=0, n_pv=0, services=("cpf_plus",), n_steps=4)
    ctrl = Controller(p)
    assert [s.key for _, s in ctrl.freq] == ["cpf_plus"]
