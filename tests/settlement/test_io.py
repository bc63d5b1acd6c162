"""Telemetry and events tables (openvpp.settlement.io): bad input named by column, gaps reported."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openvpp.errors import ValidationError
from openvpp.settlement.io import events_from_frame, telemetry_from_long


def frame() -> pd.DataFrame:
    times = pd.date_range("2026-06-01", periods=4, freq="5min", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    return pd.DataFrame({"site_id": ["a"] * 4 + ["b"] * 4, "time": list(times) * 2, "p_kw": np.arange(8.0)})


def test_pivot_and_gaps():
    tel = telemetry_from_long(frame(), "UTC")
    assert tel.p_kw.shape == (2, 288) and tel.p_kw[1, 2] == 6.0
    # the rest of the day is missing and reported, never filled
    assert tel.gaps["n_intervals"].tolist() == [284, 284]
    assert np.isnan(tel.p_kw[:, 4:]).all()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: f.drop(columns="p_kw"), "missing column"),
        (lambda f: f.assign(p_kw=["x"] + [1.0] * 7), "'p_kw' must be a finite number"),
        (lambda f: pd.concat([f, f.iloc[:1]]), "duplicate intervals: site_id 'a'"),
        (lambda f: f.assign(time=f["time"].str.replace("Z", "")), "'time' has times without a UTC offset"),
        (lambda f: f.assign(time=[*f["time"][:7], "2026-06-01T00:07:00Z"]), "'time' is misaligned"),
        (
            lambda f: f.assign(device_class=["battery"] * 7 + ["ev"]),
            "'device_class' changes within site_id 'b'",
        ),
    ],
)
def test_bad_telemetry_is_named(edit, message):
    with pytest.raises(ValidationError, match=message):
        telemetry_from_long(edit(frame()), "UTC")


def test_bad_events_are_named():
    ev = pd.DataFrame(
        {
            "event_id": ["e1", "e1"],
            "service": ["ci", "ci"],
            "start": ["2026-06-01T18:00Z"] * 2,
            "end": ["2026-06-01T20:00Z"] * 2,
            "committed_kw": [1.0, 1.0],
            "site_ids": ["a", "a b"],
        }
    )
    with pytest.raises(ValidationError, match="'event_id' has a duplicate"):
        events_from_frame(ev)
    ev["event_id"] = ["e1", "e2"]
    assert events_from_frame(ev)["site_ids"].tolist() == [["a"], ["a", "b"]]
    with pytest.raises(ValidationError, match="'committed_kw' must be a number >= 0"):
        events_from_frame(ev.assign(committed_kw=[1.0, -1.0]))
    with pytest.raises(ValidationError, match="'end' must be after 'start'"):
        events_from_frame(ev.assign(end=["2026-06-01T17:00Z"] * 2))
    with pytest.raises(ValidationError, match="'site_ids' is empty"):
        events_from_frame(ev.assign(site_ids=["a", " "]))


