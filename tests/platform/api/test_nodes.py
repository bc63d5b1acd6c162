"""Constraint nodes and the DER-to-node mapping: refresh makes a new version and keeps the old one."""

from __future__ import annotations


def test_refresh_versions_and_validity(module_client, module_keys, auth):
    c = module_client
    ha, hd = auth(module_keys["agg_a"]), auth(module_keys["dso"])
    site = c.post("/v1/sites", json={"external_id": "s"}, headers=ha).json()["id"]
    der = c.post(
        "/v1/ders", json={"site_id": site, "external_id": "pv", "der_class": "pv", "p_max_kw": 6}, headers=ha
    ).json()["id"]
    tag = der[:8]
    for n in ("tcp", "tx1", "tx2"):
        assert (
            c.post("/v1/nodes", json={"id": f"{n}-{tag}", "kind": "transformer"}, headers=hd).status_code
            == 201
        )
    assert (
        c.post("/v1/nodes", json={"id": f"tx1-{tag}", "kind": "transformer"}, headers=hd).status_code == 409
    )
    v1 = {
        "mappings": [{"der_id": der, "node_ids": [f"tx1-{tag}", f"tcp-{tag}"]}],
        "valid_from": "2026-01-01T00:00:00+00:00",
    }
    assert [m["version"] for m in c.put("/v1/mapping", json=v1, headers=hd).json()] == [1, 1]
    v2 = {
        "mappings": [{"der_id": der, "node_ids": [f"tx2-{tag}", f"tcp-{tag}"]}],
        "valid_from": "2026-03-01T00:00:00+00:00",
    }
    assert c.put("/v1/mapping", json=v2, headers=hd).status_code == 200
    now = c.get("/v1/mapping", params={"der_id": der}, headers=ha).json()
    assert sorted(m["node_id"] for m in now) == [f"tcp-{tag}", f"tx2-{tag}"] and {
        m["version"] for m in now
    } == {2}
    feb = c.get("/v1/mapping", params={"der_id": der, "at": "2026-02-01T00:00:00+00:00"}, headers=ha).json()
    assert sorted(m["node_id"] for m in feb) == [f"tcp-{tag}", f"tx1-{tag}"]
    hist = c.get("/v1/mapping", params={"der_id": der, "history": True}, headers=ha).json()
    assert len(hist) == 4 and all(m["valid_to"] is not None for m in hist if m["version"] == 1)
    # the aggregator sees the nodes its DER maps to now, not the old one
    assert c.get(f"/v1/nodes/tx2-{tag}", headers=ha).status_code == 200
    assert c.get(f"/v1/nodes/tx1-{tag}", headers=ha).status_code == 404
    # a refresh that does not start after the current version is refused, and names the field
    r = c.put("/v1/mapping", json=v1, headers=hd)
    assert r.status_code == 409 and r.json()["detail"][0]["field"] == "valid_from"
    r = c.put("/v1/mapping", json={"mappings": [{"der_id": der, "node_ids": ["nowhere"]}]}, headers=hd)
    assert r.status_code == 404 and r.json()["detail"][0]["field"] == "mappings[0].node_ids[0]"
