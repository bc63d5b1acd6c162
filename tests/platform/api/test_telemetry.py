"""Telemetry through the API: per-item errors, accepted items stored, replays, limits, flags."""

from __future__ import annotations

import datetime as dt

import pytest

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _at(k: int) -> str:
    return (T0 + dt.timedelta(minutes=5 * k)).isoformat()


@pytest.fixture
def der(module_client, module_keys, auth):
    h = auth(module_keys["agg_a"])
    site = module_client.post("/v1/sites", json={"external_id": "s"}, headers=h).json()["id"]
    r = module_client.post(
        "/v1/ders",
        json={"site_id": site, "external_id": "b", "der_class": "battery", "p_max_kw": 5, "e_max_kwh": 10},
        headers=h,
    )
    return r.json()["id"], h


def test_partial_batch_and_replay(module_client, der):
    der_id, h = der
    readings = [
        {
            "der_id": der_id,
            "start": _at(0),
            "p_site_avg_kw": 1.0,
            "p_site_min_kw": 0.0,
            "p_site_max_kw": 2.0,
            "soc": 0.50,
            "v_batt_avg_v": 51.2,
            "v_batt_min_v": 50.9,
            "v_batt_max_v": 51.4,
        },
        {"der_id": der_id, "start": _at(1), "p_site_avg_kw": 1.0, "p_site_min_kw": 1.5, "p_site_max_kw": 2.0},
        {"der_id": der_id, "start": _at(2), "soc": 0.95},  # 0.45 in 10 min from 0.50: a SoC jump, flagged
        {"der_id": der_id, "start": "2099-01-01T00:00:00+00:00", "soc": 0.5},
    ]
    r = module_client.post("/v1/telemetry", json={"readings": readings}, headers=h)
    assert r.status_code == 200
    body = r.json()
    assert (body["accepted"], body["duplicates"]) == (2, 0)
    assert [(e["index"], e["field"]) for e in body["rejected"]] == [(1, "p_site_min_kw"), (3, "start")]
    assert [(f["index"], f["check"]) for f in body["flagged"]] == [(2, "soc_jump")]
    stored = module_client.get("/v1/telemetry", params={"der_id": der_id}, headers=h).json()
    assert [s["start"][:16] for s in stored] == ["2026-01-01T00:00", "2026-01-01T00:10"]
    assert stored[0]["v_batt_min_v"] == 50.9 and stored[1]["flags"] == ["soc_jump"]
    flags = module_client.get("/v1/telemetry/flags", params={"der_id": der_id}, headers=h).json()
    assert [(f["check"], f["start"][:16]) for f in flags] == [("soc_jump", "2026-01-01T00:10")]
    again = module_client.post("/v1/telemetry", json={"readings": readings}, headers=h).json()
    assert (again["accepted"], again["duplicates"], len(again["rejected"])) == (0, 2, 2)
    assert len(module_client.get("/v1/telemetry", params={"der_id": der_id}, headers=h).json()) == 2


def test_type_errors_name_the_item_and_field(module_client, der):
    der_id, h = der
    r = module_client.post(
        "/v1/telemetry",
        json={
            "readings": [
                {"der_id": der_id, "start": _at(0)},
                {"der_id": der_id, "start": _at(1), "soc": "full"},
            ]
        },
        headers=h,
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "readings[1].soc"
    r = module_client.post(
        "/v1/telemetry", json={"readings": [{"der_id": der_id, "start": "2026-01-01T00:00"}]}, headers=h
    )
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "readings[0].start"


def test_batch_and_body_size_limits(module_app, module_client, der):
    der_id, h = der
    n = module_app.state.settings.max_batch_items + 1
    r = module_client.post(
        "/v1/telemetry",
        json={"readings": [{"der_id": der_id, "start": _at(k), "soc": 0.5} for k in range(n)]},
        headers=h,
    )
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "readings"
    assert "at most" in r.json()["detail"][0]["reason"]
    big = b'{"readings": [' + b" " * (module_app.state.settings.max_request_bytes + 10) + b"]}"
    r = module_client.post("/v1/telemetry", content=big, headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 413 and "larger than" in r.json()["detail"][0]["reason"]
    assert module_client.get("/v1/telemetry", params={"der_id": der_id}, headers=h).json() == []


def test_query_bounds(module_client, der):
    der_id, h = der
    module_client.post(
        "/v1/telemetry",
        json={"readings": [{"der_id": der_id, "start": _at(k), "soc": 0.5 + 0.001 * k} for k in range(6)]},
        headers=h,
    )
    got = module_client.get(
        "/v1/telemetry", params={"der_id": der_id, "start": _at(2), "end": _at(4)}, headers=h
    ).json()
    assert [g["soc"] for g in got] == [0.502, 0.503]
    r = module_client.get(
        "/v1/telemetry", params={"der_id": der_id, "start": "2026-01-01T00:00:00"}, headers=h
    )
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "start"
    r = module_client.get("/v1/telemetry/flags", params={"check": "bogus"}, headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "check"
