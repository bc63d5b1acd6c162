"""OpenADR 3.1 objects of a VEN (reports, vens, resources, subscriptions) and the role and privacy rules of
the OpenADR 3.1 Definition ("Object Privacy"): 403 for the wrong role, 404 for another VEN's objects, target
hiding, problem responses naming the field."""

from __future__ import annotations

from openvpp.platform.store.db import make_engine, session_factory
from openvpp.platform.store.keys import lookup_key

EVENT_START = "2030-07-01T20:00:00Z"


def _tenant_id(db_url, key):
    engine = make_engine(db_url)
    with session_factory(engine)() as s:
        rec = lookup_key(s, key)
    engine.dispose()
    return rec.tenant_id


def _event(program_id, targets, payload_type="EXPORT_CAPACITY_LIMIT", value=3500.0, units="W"):
    return {
        "programID": program_id,
        "eventName": "evening-limit",
        "targets": targets,
        "payloadDescriptors": [
            {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": payload_type, "units": units}
        ],
        "intervalPeriod": {"start": EVENT_START, "duration": "PT1H"},
        "intervals": [
            {"id": 0, "payloads": [{"type": payload_type, "values": [value]}]},
            {"id": 1, "payloads": [{"type": payload_type, "values": [value / 2]}]},
        ],
    }


def test_roles_privacy_and_problems(client, keys, db_url, auth):
    dso, a, b = (auth(keys[k]) for k in ("dso", "agg_a", "agg_b"))
    a_id = str(_tenant_id(db_url, keys["agg_a"]))
    # an aggregator cannot write programs or events; the DSO cannot post reports
    r = client.post("/programs", json={"programName": "x"}, headers=a)
    assert r.status_code == 403 and r.json()["title"] == "Forbidden" and r.json()["status"] == 403
    pid = client.post("/programs", json={"programName": "p"}, headers=dso).json()["id"]
    client.post(
        "/vens",
        json={"objectType": "BL_VEN_REQUEST", "clientID": a_id, "venName": "ven-a", "targets": ["zone-a"]},
        headers=dso,
    )
    eid = client.post("/events", json=_event(pid, ["zone-a"]), headers=dso).json()["id"]
    report = {"eventID": eid, "clientName": "x", "resources": []}
    assert client.post("/reports", json=report, headers=dso).status_code == 403
    # B cannot see, report on or infer A's targeted event (404 / 400 alike for unknown and hidden ids)
    assert client.get(f"/events/{eid}", params={"targets": ["zone-a"]}, headers=b).status_code == 404
    assert client.get("/events/unknown", headers=b).status_code == 404
    assert client.post("/reports", json=report, headers=b).status_code == 400
    # A sees it with its target, and only the granted targets (target hiding)
    client.put(f"/events/{eid}", json=_event(pid, ["zone-a", "zone-secret"]), headers=dso)
    seen = client.get(f"/events/{eid}", params={"targets": ["zone-a", "zone-secret"]}, headers=a).json()
    assert seen["targets"] == ["zone-a"]
    rid = client.post("/reports", json=report, headers=a).json()["id"]
    assert client.get(f"/reports/{rid}", headers=b).status_code == 404
    assert client.get("/reports", headers=b).json() == []
    assert [r["id"] for r in client.get("/reports", headers=dso).json()] == [rid]  # the BL reads all
    # a VEN cannot grant itself targets
    r = client.post(
        "/vens", json={"objectType": "BL_VEN_REQUEST", "clientID": a_id, "venName": "v2"}, headers=a
    )
    assert r.status_code == 403
    # validation errors name the field, pagination is bounded by the spec's 50
    r = client.post("/events", json={"programID": pid, "priority": -1}, headers=dso)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "priority"
    r = client.get("/programs", params={"limit": 51}, headers=dso)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "limit"
    for k in range(3):
        client.post("/programs", json={"programName": f"page-{k}"}, headers=dso)
    names = [
        p["programName"] for p in client.get("/programs", params={"skip": 1, "limit": 2}, headers=dso).json()
    ]
    assert names == ["page-0", "page-1"]
    # duplicate programName is a conflict; deleting a program deletes its events
    assert client.post("/programs", json={"programName": "p"}, headers=dso).status_code == 409
    assert client.delete(f"/programs/{pid}", headers=dso).status_code == 200
    assert client.get(f"/events/{eid}", headers=dso).status_code == 404


def test_any_ven_reports_on_an_untargeted_event(client, keys, auth):
    dso, b = auth(keys["dso"]), auth(keys["agg_b"])
    pid = client.post("/programs", json={"programName": "open"}, headers=dso).json()["id"]
    eid = client.post("/events", json=_event(pid, None), headers=dso).json()["id"]
    report = {"eventID": eid, "clientName": "b", "resources": []}
    r = client.post("/reports", json=report, headers=b)
    assert r.status_code == 201 and r.json()["eventID"] == eid
