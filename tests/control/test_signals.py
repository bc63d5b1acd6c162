"""Typed signals: JSON round trips and clear errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from openvpp.control.signals import (
    EnvelopeUpdate,
    FrequencySample,
    FrequencyTrace,
    Instruction,
    Measurements,
    Outage,
    Setpoints,
    Signals,
)
from openvpp.errors import ValidationError

T = pd.Timestamp("2024-07-01T20:00:00+00:00")


def _roundtrip(obj):
    d = json.loads(json.dumps(obj.to_dict(), allow_nan=False))
    return type(obj).from_dict(d)


def test_round_trips_are_exact():
    sp = Setpoints(T, ["a", "b"], [1.5, -2.0], [0.1, 0.0], T + pd.Timedelta(seconds=30))
    back = _roundtrip(sp)
    assert back.device_ids == sp.device_ids and np.array_equal(back.p_kw, sp.p_kw)
    assert np.array_equal(back.q_kvar, sp.q_kvar) and back.valid_until == sp.valid_until
    m = Measurements(T, ["a", "b"], [1.0, np.nan], [0.5, np.nan], [True, False], f_hz=49.9)
    mb = _roundtrip(m)
    assert (
        np.isnan(mb.p_kw[1]) and mb.soc[0] == 0.5 and mb.online.tolist() == [True, False] and mb.f_hz == 49.9
    )
    ins = Instruction(
        "ci-1", "ci", T, T + pd.Timedelta(hours=2), ramp_s=1800, delta_kw=-50.0, site_ids=("s1",)
    )
    assert _roundtrip(ins) == ins
    env = EnvelopeUpdate(T, ["s1", "s2"], [5.0, np.inf], [10.0, 7.0], T + pd.Timedelta(minutes=5), "fallback")
    eb = _roundtrip(env)
    assert np.isinf(eb.export_limit_kw[1]) and eb.status == "fallback"
    out = Outage("o1", "line_3", T, T + pd.Timedelta(hours=4))
    assert _roundtrip(out) == out and out.duration_h == 4.0
    tr = FrequencyTrace(T, [0.0, 2.0, 10.0], [50.0, 49.5, 49.5])
    assert _roundtrip(tr).at(T + pd.Timedelta(seconds=1)) == pytest.approx(49.75)
    sig = Signals(FrequencySample(T, 49.8), (ins,), (env,), (out,))
    sb = _roundtrip(sig)
    assert sb.instructions == (ins,) and sb.frequency.f_hz == 49.8


def test_instruction_profile_ramp_hold_release():
    ins = Instruction("p", "peak", T, T + pd.Timedelta(seconds=100), ramp_s=10.0, delta_kw=-20.0)
    at = [ins.request_kw(T + pd.Timedelta(seconds=s)) for s in (-1, 0, 5, 10, 50, 100, 105, 110, 200)]
    assert np.allclose(at, [0, 0, -10, -20, -20, -20, -10, 0, 0])
    trk = Instruction("t", "track", T, T + pd.Timedelta(seconds=20), curve_t_s=(0, 20), curve_kw=(0, 10))
    assert trk.request_kw(T + pd.Timedelta(seconds=5)) == pytest.approx(2.5)


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: Setpoints(T, ["a"], [1.0, 2.0], None, T), "one value per device"),
        (lambda: Setpoints(T, ["a"], [np.nan], None, T), "finite"),
        (lambda: Setpoints("2024-07-01 20:00", ["a"], [1.0], None, T), "time zone"),
        (lambda: Measurements(T, ["a"], [1.0], [50.0], [True]), "fraction"),
        (lambda: Instruction("x", "shed", T, T), "kind"),
        (lambda: Instruction("x", "ci", T, T, ramp_s=60), "hold"),
        (lambda: Instruction("x", "track", T, T + pd.Timedelta(hours=1)), "curve"),
        (lambda: EnvelopeUpdate(T, ["s"], [-1.0], [1.0], T), "magnitudes"),
        (lambda: Outage("o", "l1", T, T), "after"),
        (lambda: FrequencyTrace(T, [0.0, 0.0], [50.0, 50.0]), "increasing"),
        (lambda: Setpoints.from_dict({"time": T.isoformat()}), "missing the field 'device_ids'"),
        (
            lambda: Instruction.from_dict({"id": "x", "kind": "ci", "start": "x", "end": "y", "power": 1}),
            "unknown",
        ),
    ],
)
def test_bad_signals_name_the_field(build, match):
    with pytest.raises(ValidationError, match=match):
        build()
