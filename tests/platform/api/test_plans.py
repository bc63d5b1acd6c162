"""Plans and dispatch instructions with their status."""

from __future__ import annotations


def test_plan_and_dispatch_life_cycle(module_client, module_keys, auth):
    c = module_client
    ha, hd = auth(module_keys["agg_a"]), auth(module_keys["dso"])
    site = c.post("/v1/sites", json={"external_id": "s"}, headers=ha).json()["id"]
    der = c.post(
        "/v1/ders",
        json={"site_id": site, "external_id": "b", "der_class": "battery", "p_max_kw": 5, "e_max_kwh": 10},
        headers=ha,
    ).json()["id"]
    plan = c.post(
        "/v1/plans",
        json={
            "start": "2026-01-01T00:00:00Z",
            "end": "2026-01-02T00:00:00Z",
            "summary": {"revenue_usd": 12.5},
        },
        headers=ha,
    ).json()
    assert plan["status"] == "submitted" and plan["summary"] == {"revenue_usd": 12.5}
    r = c.post(
        "/v1/dispatch",
        json={
            "instructions": [
                {
                    "der_id": der,
                    "start": "2026-01-01T20:00:00Z",
                    "duration_s": 1800,
                    "p_kw": -5,
                    "plan_id": plan["id"],
                }
            ]
        },
        headers=ha,
    )
    assert r.status_code == 201
    ins = r.json()[0]
    assert (
        c.patch(f"/v1/dispatch/{ins['id']}", json={"status": "delivered"}, headers=ha).json()["status"]
        == "delivered"
    )
    assert c.patch(f"/v1/dispatch/{ins['id']}", json={"status": "lost"}, headers=ha).status_code == 422
    assert [
        d["status"] for d in c.get("/v1/dispatch", params={"plan_id": plan["id"]}, headers=hd).json()
    ] == ["delivered"]
    assert (
        c.patch(f"/v1/plans/{plan['id']}", json={"status": "active"}, headers=ha).json()["status"] == "active"
    )
    # a set-point beyond the rating, a reversed horizon: refused with the field
    r = c.post(
        "/v1/dispatch",
        json={
            "instructions": [{"der_id": der, "start": "2026-01-01T20:00:00Z", "duration_s": 300, "p_kw": 7}]
        },
        headers=ha,
    )
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "instructions[0].p_kw"
    r = c.post("/v1/plans", json={"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}, headers=ha)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "end"
