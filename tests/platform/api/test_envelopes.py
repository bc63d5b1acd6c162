"""Envelopes through the API: ActivePower encoding, supersession (old kept), cancel, the static default."""

from __future__ import annotations

import pytest

from openvpp.envelopes.objects import decode_active_power

T = "2026-01-01T10:00:00+00:00"


@pytest.fixture
def site(module_client, module_keys, auth):
    h = auth(module_keys["agg_a"])
    return module_client.post("/v1/sites", json={"external_id": "s"}, headers=h).json()["id"], h


def _env(site_id, start=T, duration_s=1800, **limits):
    return {
        "envelopes": [
            {
                "subject_kind": "site",
                "subject_id": site_id,
                "start": start,
                "duration_s": duration_s,
                **limits,
            }
        ]
    }


def test_publish_supersede_and_keep_the_old(module_client, module_keys, auth, site):
    site_id, ha = site
    hd = auth(module_keys["dso"])
    # 1.5 W is written (15, -1); 40 kW as (40, 3) is stored canonically as (4000, 1): the same power
    r = module_client.post(
        "/v1/envelopes",
        json=_env(
            site_id, opModExpLimW={"value": 40, "multiplier": 3}, opModImpLimW={"value": 15, "multiplier": -1}
        ),
        headers=hd,
    )
    assert r.status_code == 201, r.text
    first = r.json()[0]
    base = first["DERControlBase"]
    assert base["opModExpLimW"] == {"value": 4000, "multiplier": 1}
    assert decode_active_power(
        base["opModImpLimW"]["value"], base["opModImpLimW"]["multiplier"]
    ) == pytest.approx(1.5)
    # an overlapping envelope supersedes it; a non-overlapping one does not
    second = module_client.post(
        "/v1/envelopes",
        json=_env(site_id, start="2026-01-01T10:15:00+00:00", opModExpLimW={"value": 7000}),
        headers=hd,
    ).json()[0]
    later = module_client.post(
        "/v1/envelopes",
        json=_env(site_id, start="2026-01-01T11:00:00+00:00", opModExpLimW={"value": 9000}),
        headers=hd,
    ).json()[0]
    active = module_client.get("/v1/envelopes", headers=ha).json()
    assert [e["mRID"] for e in active] == [second["mRID"], later["mRID"]]
    old = module_client.get(f"/v1/envelopes/{first['mRID']}", headers=ha).json()
    assert old["status"] == "superseded" and old["superseded_by"] == second["mRID"]
    assert len(module_client.get("/v1/envelopes", params={"status": "all"}, headers=ha).json()) == 3
    at = module_client.get("/v1/envelopes", params={"at": "2026-01-01T10:20:00+00:00"}, headers=ha).json()
    assert [e["mRID"] for e in at] == [second["mRID"]]
    # cancel keeps it too
    assert module_client.delete(f"/v1/envelopes/{later['mRID']}", headers=hd).json()["status"] == "cancelled"
    assert module_client.delete(f"/v1/envelopes/{later['mRID']}", headers=hd).status_code == 409


def test_bad_envelopes_are_refused_with_the_field(module_client, module_keys, auth, site):
    site_id, _ = site
    hd = auth(module_keys["dso"])
    cases = [
        (_env(site_id, opModExpLimW={"value": -5}), "envelopes[0].opModExpLimW"),
        (_env(site_id, opModExpLimW={"value": 40000}), "envelopes[0].opModExpLimW.value"),
        (_env(site_id), "envelopes[0]"),
        (_env("nowhere", opModExpLimW={"value": 1}), "envelopes[0].subject_id"),
        (_env(site_id, start="2026-01-01T10:00:00", opModExpLimW={"value": 1}), "envelopes[0].start"),
    ]
    for body, field in cases:
        r = module_client.post("/v1/envelopes", json=body, headers=hd)
        assert 400 <= r.status_code < 500 and r.json()["detail"][0]["field"] == field, (field, r.text)
    assert module_client.get("/v1/envelopes", params={"subject_id": site_id}, headers=hd).json() == []


def test_default_control_is_the_static_export_limit(module_app, module_client, site):
    _, ha = site
    d = module_client.get("/v1/envelopes/default", headers=ha).json()["DERControlBase"]["opModExpLimW"]
    w = decode_active_power(d["value"], d["multiplier"])
    assert w == pytest.approx(module_app.state.settings.static_export_limit_kw * 1000) == pytest.approx(5000)
