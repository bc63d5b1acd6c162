"""The demo's service client against the real in-process service on SQLite (no SimBench): registration,
envelopes round trip in IEEE 2030.5 ActivePower, the static default, the OpenADR event as an instruction,
telemetry stored once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openvpp.errors import OpenVPPError, ValidationError
from openvpp.studies.demo_service import check_db_url, demo_service
from openvpp.studies.pilot_day import aggregator_instructions


@pytest.fixture(scope="module")
def svc():
    with demo_service() as s:
        ders = pd.DataFrame(
            {
                "device_id": ["LV1 bat 1", "LV1 pv 1"],
                "site_id": ["LV1 Load 1", "LV1 Load 1"],
                "der_class": ["battery", "pv"],
                "p_max_kw": [5.0, 4.0],
                "e_max_kwh": [13.5, np.nan],
            }
        )
        sites, der_ids = s.register_fleet(["LV1 Load 1", "LV1 Load 2"], ders, -33.4, -70.9)
        yield s, sites, der_ids


def test_envelopes_round_trip_and_fall_back(svc):
    s, sites, _ = svc
    idx = pd.date_range("2016-06-15 12:00", periods=2, freq="15min", tz="UTC")
    api = [sites["LV1 Load 1"], sites["LV1 Load 2"]]
    assert s.publish_envelopes(api, idx, np.array([[1.234, 40.0], [0.0, 7.5]])) == 4
    got = s.read_envelopes(api, idx[1] + pd.Timedelta(minutes=1))
    assert got == pytest.approx([40.0, 7.5])  # 40 kW is (4000, 1) in ActivePower
    assert s.read_envelopes(api, idx[0])[0] == pytest.approx(1.234)  # 1234 W, multiplier 0
    assert np.isnan(s.read_envelopes(api, idx[0] - pd.Timedelta(hours=1))).all()  # none: fallback applies
    assert s.static_export_limit_kw() == pytest.approx(5.0)


def test_openadr_event_becomes_the_instruction(svc):
    s, _, _ = svc
    start = pd.Timestamp("2016-06-15 19:00", tz="UTC")
    s.publish_peak_event(start, 2.0, -9.0)
    ins = aggregator_instructions(s.read_events(), ["LV1 Load 1"])
    assert len(ins) == 1 and ins[0].kind == "peak" and ins[0].delta_kw == pytest.approx(-9.0)
    assert ins[0].start == start and ins[0].end == start + pd.Timedelta(hours=2)


def test_telemetry_is_stored_once(svc):
    s, _, der_ids = svc
    der = der_ids["LV1 bat 1"]
    readings = [
        {
            "der_id": der,
            "start": f"2016-06-15T10:{m:02d}:00+00:00",
            "p_site_avg_kw": 1.0,
            "p_site_min_kw": 0.5,
            "p_site_max_kw": 1.5,
            "soc": 0.5 + 0.01 * k,
        }
        for k, m in enumerate((0, 5, 10))
    ]
    first = s.post_telemetry(readings)
    again = s.post_telemetry(readings)
    assert (first["accepted"], again["accepted"], again["duplicates"]) == (3, 0, 3)
    assert s.stored_readings(der) == 3


def test_refusals_name_the_flag_or_the_service_answer(svc):
    s, _, _ = svc
    with pytest.raises(ValidationError, match="--db"):
        check_db_url("mysql://x")
    with pytest.raises(OpenVPPError, match="refused"):
        s.call("POST", "/v1/envelopes", "aggregator", json={"envelopes": []})
