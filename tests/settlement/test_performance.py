"""Measured delivery per event against a hand calculation; bad input named by column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openvpp.errors import ValidationError
from openvpp.settlement.io import events_from_frame, telemetry_from_long
from openvpp.settlement.performance import measure_events, monthly_performance_factor
from openvpp.settlement.program import load_program


def long_frame(p: np.ndarray, index: pd.DatetimeIndex, names=None, classes=None) -> pd.DataFrame:
    n = p.shape[0]
    names = names or [f"s{k}" for k in range(n)]
    frame = pd.DataFrame(
        {
            "site_id": np.repeat(names, len(index)),
            "time": np.tile(index.strftime("%Y-%m-%dT%H:%M:%S%z"), n),
            "p_kw": p.ravel(),
        }
    )
    if classes is not None:
        frame["device_class"] = np.repeat(classes, len(index))
    return frame


def hand_case(event_load: float = 1.0):
    """One site, three weeks of hourly history (see test_baselines), event Monday 2026-03-23 18:00-20:00."""
    index = pd.date_range("2026-03-02", periods=22 * 24, freq="h", tz="UTC")
    j = np.arange(22)[:, None]
    h = np.arange(24)[None, :]
    load = 1.0 + 0.1 * j + 0.05 * h
    load[(pd.Timestamp("2026-03-02") + pd.to_timedelta(np.arange(22), "D")).dayofweek >= 5] = 5.0
    load[21, 14:17] = 2.5 + 0.05 * np.arange(14, 17)
    load[21, 18:20] = event_load
    events = pd.DataFrame(
        {
            "event_id": ["e1"],
            "service": ["peak_reduction"],
            "start": ["2026-03-23T18:00Z"],
            "end": ["2026-03-23T20:00Z"],
            "committed_kw": [3.0],
            "site_ids": ["s0"],
        }
    )
    return long_frame(load.reshape(1, -1), index), events


@pytest.fixture
def program():
    return load_program().model_copy(update={"timezone": "UTC"})


def test_event_delivery_by_hand(program):
    frame, events = hand_case()
    tel = telemetry_from_long(frame, program.timezone)
    perf = measure_events(tel, events_from_frame(events, program.timezone), program)
    row = perf.sites.iloc[0]
    ratio = 3.25 / 3.0  # day-of adjustment over 14:00-17:00 (see test_baselines)
    b18, b19 = (2.25 + 0.9) * ratio, (2.25 + 0.95) * ratio
    assert row["baseline_kwh"] == pytest.approx(b18 + b19)
    assert row["delivered_kwh"] == pytest.approx(b18 + b19 - 2.0)
    assert row["delivered_avg_kw"] == pytest.approx((b18 + b19 - 2.0) / 2)
    assert row["performance"] == pytest.approx((b18 + b19 - 2.0) / 6.0)
    assert perf.events["delivered_kwh"].iloc[0] == pytest.approx(b18 + b19 - 2.0)


def test_monthly_performance_factor_by_hand():
    # site 0: 8 of 10 kWh then 12 of 10 (capped at 10) -> 18 / 20; site 1: no event -> 1
    pf = monthly_performance_factor(
        np.array([0, 0]),
        np.array([0, 0]),
        np.array([8.0, 12.0]),
        np.array([10.0, 10.0]),
        n_sites=2,
        n_months=1,
    )
    assert pf[:, 0].tolist() == [pytest.approx(0.9), 1.0]


def test_gap_in_history_is_reported_and_the_day_skipped(program):
    frame, events = hand_case()
    t = pd.to_datetime(frame["time"], format="ISO8601")
    frame = frame[~((t >= pd.Timestamp("2026-03-18T10:00Z")) & (t < pd.Timestamp("2026-03-18T12:00Z")))]
    tel = telemetry_from_long(frame, "UTC")
    assert tel.gaps[["site_id", "n_intervals"]].values.tolist() == [["s0", 2]]
    perf = measure_events(tel, events_from_frame(events, "UTC"), program)
    # day 16 (2026-03-18) has a gap: the ten days are now 4, 7-11, 14, 15, 17, 18 -> sum of j 113
    ratio = (2.5 + 0.75) / (2.13 + 0.75)
    assert perf.sites["baseline_kwh"].iloc[0] == pytest.approx((2.13 * 2 + 0.9 + 0.95) * ratio)


def test_gap_inside_an_event_is_an_error(program):
    frame, events = hand_case()
    frame = frame[frame["time"] != "2026-03-23T19:00:00+0000"]
    tel = telemetry_from_long(frame, "UTC")
    with pytest.raises(ValidationError, match="'p_kw' has a gap for site_id 's0'"):
        measure_events(tel, events_from_frame(events, "UTC"), program)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"start": "2026-03-23T18:30Z"}, "column 'start' .* not on the telemetry's"),
        ({"end": "2026-04-30T20:00Z"}, "column 'end' .* outside the telemetry"),
        ({"site_ids": "s0;s9"}, "'site_ids' .* unknown site"),
        ({"service": "nope"}, "service 'nope' is not in program"),
        ({"price_usd_per_mwh": -20.0}, "'price_usd_per_mwh' is negative"),
    ],
)
def test_bad_events_are_named(program, change, message):
    frame, events = hand_case()
    for k, v in change.items():
        events[k] = [v]
    tel = telemetry_from_long(frame, "UTC")
    with pytest.raises(ValidationError, match=message):
        measure_events(tel, events_from_frame(events, "UTC"), program)


def test_negative_prices_pass_where_the_program_allows_them(program):
    frame, events = hand_case()
    events["price_usd_per_mwh"] = [-20.0]
    allowed = program.model_copy(update={"allow_negative_prices": True})
    perf = measure_events(telemetry_from_long(frame, "UTC"), events_from_frame(events, "UTC"), allowed)
    assert perf.events["price_usd_per_mwh"].iloc[0] == -20.0


def test_too_short_history_names_the_site(program):
    frame, events = hand_case()
    t = pd.to_datetime(frame["time"], format="ISO8601")
    frame = frame[t >= pd.Timestamp("2026-03-12T00:00Z")]
    with pytest.raises(ValidationError, match=r"site_id 's0' has .* usable business days"):
        measure_events(telemetry_from_long(frame, "UTC"), events_from_frame(events, "UTC"), program)


def test_control_group_baseline_through_the_pipeline(program):
    # two participants and two controls, hourly, one day; the controls' load rises by 0.5 kW during the event
    index = pd.date_range("2026-03-02", periods=24, freq="h", tz="UTC")
    p = np.array([[2.0] * 24, [4.0] * 24, [1.0] * 24, [3.0] * 24])
    p[2:, 18:20] += 0.5
    p[:2, 18:20] = [[1.0, 1.0], [3.0, 3.0]]
    frame = long_frame(p, index, ["a", "b", "c1", "c2"], ["battery", "battery", "control", "control"])
    events = pd.DataFrame(
        {
            "event_id": ["e1"],
            "service": ["trial"],
            "start": ["2026-03-02T18:00Z"],
            "end": ["2026-03-02T20:00Z"],
            "committed_kw": [2.0],
            "site_ids": ["a b"],
        }
    )
    terms = program.services["peak_reduction"].model_copy(update={"baseline": "control_group"})
    prog = program.model_copy(update={"services": {**program.services, "trial": terms}})
    perf = measure_events(telemetry_from_long(frame, "UTC"), events_from_frame(events, "UTC"), prog)
    # baseline = own pre-event level (1 h) + 0.5 kW: a 2.5 (delivers 1.5 kW), b 4.5 (1.5 kW), 2 h each
    assert perf.sites["baseline_kwh"].tolist() == [pytest.approx(5.0), pytest.approx(9.0)]
    assert perf.sites["delivered_kwh"].tolist() == [pytest.approx(3.0), pytest.approx(3.0)]
    from openvpp.settlement.statements import settle

    res = settle(telemetry_from_long(frame, "UTC"), events_from_frame(events, "UTC"), prog, eligibility=False)
    assert sorted(res.statements["site_id"]) == ["a", "b"]  # controls are never paid
    events["site_ids"] = ["a c1"]
    with pytest.raises(ValidationError, match="control sites are never dispatched"):
        measure_events(telemetry_from_long(frame, "UTC"), events_from_frame(events, "UTC"), prog)
