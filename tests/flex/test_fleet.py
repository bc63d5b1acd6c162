"""EV charging sessions of a fleet in its flexibility assessment."""

from __future__ import annotations

import pytest

from openvpp.fleet import from_records
from openvpp.flex import fleet_flexibility


def _fleet():
    sites = [{"site_id": "s1", "node": "n1"}]
    ev = [{
        "device_id": "car", "site_id": "s1", "arrival_step": 24, "departure_step": 76,  # 18:00 -> 07:00
        "e_max_kwh": 60.0, "e0_kwh": 40.0, "e_required_kwh": 50.0, "p_max_kw": 7.0,
    }]
    battery = [{"device_id": "bat", "site_id": "s1", "soc0": 0.5}]
    return from_records(sites, {"ev": ev, "battery": battery})


def test_connected_ev_adds_its_charging_range_by_hand():
    res = fleet_flexibility(_fleet(), "2016-06-15 19:00")
    assert res.device_counts["ev"] == 1
    lo, hi = res.aggregates["P50"].interval("pi")
    # injection convention: the battery can absorb 5 kW or deliver 5 kW; the car can absorb 7 kW and, with
    # 12 h left to add 10 kWh, has no must-charge yet
    assert lo == pytest.approx(-(5.0 + 7.0) / 1000.0)
    assert hi == pytest.approx(5.0 / 1000.0)


def test_ev_away_adds_nothing():
    res = fleet_flexibility(_fleet(), "2016-06-15 14:00")
    lo, hi = res.aggregates["P50"].interval("pi")
    assert lo == pytest.approx(-5.0 / 1000.0) and hi == pytest.approx(5.0 / 1000.0)
    assert any("EV sessions advanced" in n for n in res.notes)
