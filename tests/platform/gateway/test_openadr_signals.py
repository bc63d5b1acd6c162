"""OpenADR 3.1 events as controller signals, checked by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from openvpp.errors import ValidationError
from openvpp.platform.gateway.openadr_signals import event_signals, interval_windows, parse_duration

T0 = "2030-07-01T20:00:00Z"


def _event(payloads, units=None, targets=None, period=None, interval_periods=None):
    descriptors = [
        {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": t, "units": u}
        for t, u in (units or {}).items()
    ]
    intervals = []
    for k, p in enumerate(payloads):
        iv = {"id": k, "payloads": p}
        if interval_periods:
            iv["intervalPeriod"] = interval_periods[k]
        intervals.append(iv)
    return {
        "id": "ev1",
        "programID": "p",
        "targets": targets or [],
        "payloadDescriptors": descriptors,
        "intervalPeriod": period or {"start": T0, "duration": "PT30M"},
        "intervals": intervals,
    }


def test_durations_by_hand():
    assert parse_duration("PT15M") == pd.Timedelta(minutes=15)
    assert parse_duration("P1DT2H30M5.5S") == pd.Timedelta(days=1, hours=2, minutes=30, seconds=5.5)
    assert parse_duration("P2W") == pd.Timedelta(days=14)
    assert parse_duration("P9999Y") is None  # "until further notice" (User Guide)
    with pytest.raises(ValidationError, match="fixed length"):
        parse_duration("P1M")
    with pytest.raises(ValidationError, match="ISO 8601"):
        parse_duration("15 minutes")


def test_interval_timing_follows_the_user_guide():
    ev = _event([[], [], []], interval_periods=[{}, {"duration": "PT1H"}, {"start": "2030-07-02T00:00:00Z"}])
    w = interval_windows(ev)
    t0 = pd.Timestamp(T0)
    assert w == [
        (t0, t0 + pd.Timedelta(minutes=30)),
        (t0 + pd.Timedelta(minutes=30), t0 + pd.Timedelta(minutes=90)),
        (pd.Timestamp("2030-07-02T00:00:00Z"), pd.Timestamp("2030-07-02T00:30:00Z")),
    ]
    now = pd.Timestamp("2030-01-01T00:00:00Z")
    assert (
        interval_windows(_event([[]], period={"start": "0001-01-01T00:00:00Z", "duration": "PT5M"}), now)[0][
            0
        ]
        == now
    )


def test_export_and_import_limits_become_envelopes():
    ev = _event(
        [
            [
                {"type": "EXPORT_CAPACITY_LIMIT", "values": [3500]},
                {"type": "IMPORT_CAPACITY_LIMIT", "values": [7]},
            ],
            [{"type": "EXPORT_CAPACITY_LIMIT", "values": [1500]}],
        ],
        units={"EXPORT_CAPACITY_LIMIT": "W", "IMPORT_CAPACITY_LIMIT": "KW"},
        targets=["site:a", "site:b"],
    )
    sig = event_signals(ev, site_ids=["ignored"])
    first, second = sig.envelopes
    assert first.site_ids == ("a", "b")
    assert first.export_limit_kw.tolist() == [3.5, 3.5] and first.import_limit_kw.tolist() == [7.0, 7.0]
    assert (
        second.export_limit_kw.tolist() == [1.5, 1.5]
        and second.import_limit_kw.tolist() == [float("inf")] * 2
    )
    assert first.valid_until == pd.Timestamp(T0) + pd.Timedelta(minutes=30) == second.time
    assert sig.signals().envelopes == sig.envelopes


def test_dispatch_becomes_an_instruction():
    one = event_signals(
        _event(
            [[{"type": "DISPATCH_SETPOINT_RELATIVE", "values": [-0.02]}]],
            units={"DISPATCH_SETPOINT_RELATIVE": "MW"},
        ),
        ramp_s=60,
    )
    (ins,) = one.instructions
    assert (ins.kind, ins.delta_kw, ins.ramp_s) == ("peak", -20.0, 60.0)
    assert ins.start == pd.Timestamp(T0) and ins.end == pd.Timestamp(T0) + pd.Timedelta(minutes=30)
    # absolute set-points against the plan's 50 kW: a curve of changes, each held over its interval
    two = event_signals(
        _event(
            [[{"type": "DISPATCH_SETPOINT", "values": [40]}], [{"type": "DISPATCH_SETPOINT", "values": [30]}]]
        ),
        baseline_kw=50.0,
    )
    (track,) = two.instructions
    assert track.kind == "track"
    assert track.request_kw(pd.Timestamp(T0) + pd.Timedelta(minutes=10)) == pytest.approx(-10.0)
    assert track.request_kw(pd.Timestamp(T0) + pd.Timedelta(minutes=40)) == pytest.approx(-20.0)
    ci = event_signals(
        _event(
            [
                [
                    {"type": "DISPATCH_SETPOINT_RELATIVE", "values": [-5]},
                    {"type": "DISPATCH_INSTRUCTION", "values": ["ci"]},
                ]
            ]
        )
    )
    assert ci.instructions[0].kind == "ci"


def test_prices_and_other_payloads():
    sig = event_signals(
        _event(
            [
                [{"type": "PRICE", "values": [0.25]}, {"type": "GHG", "values": [420.0]}],
                [{"type": "PRICE", "values": [0.10]}],
            ],
            units={"PRICE": "KWH"},
        )
    )
    assert [p.price_usd_per_mwh for p in sig.prices] == pytest.approx([250.0, 100.0])
    assert sig.other == (("GHG", (420.0,)),)


def test_bad_payloads_name_the_place():
    with pytest.raises(ValidationError, match=r"intervals\[0\].payloads\[0\].*one number"):
        event_signals(_event([[{"type": "EXPORT_CAPACITY_LIMIT", "values": ["lots"]}]]), site_ids=["a"])
    with pytest.raises(ValidationError, match=">= 0"):
        event_signals(_event([[{"type": "EXPORT_CAPACITY_LIMIT", "values": [-1]}]]), site_ids=["a"])
    with pytest.raises(ValidationError, match="needs sites"):
        event_signals(_event([[{"type": "EXPORT_CAPACITY_LIMIT", "values": [1]}]]))
    with pytest.raises(ValidationError, match="power unit"):
        event_signals(
            _event(
                [[{"type": "EXPORT_CAPACITY_LIMIT", "values": [1]}]],
                units={"EXPORT_CAPACITY_LIMIT": "PERCENT"},
            ),
            site_ids=["a"],
        )
