"""Authentication, scopes, roles and tenant isolation of the /v1 API (on SQLite and PostgreSQL).

Aggregator A cannot read, list, change or infer B's sites, DERs, telemetry, plans, dispatch, nodes or
envelopes: another tenant's id answers exactly like an unknown id (404, same body shape). An aggregator cannot
write envelopes; a DSO key cannot act as an aggregator.
"""

from __future__ import annotations

import pytest

from openvpp.platform.api.auth import RateLimiter

T = "2026-01-01T00:00:00+00:00"


def _fleet(client, key, auth, tag):
    h = auth(key)
    site = client.post("/v1/sites", json={"external_id": f"site-{tag}"}, headers=h).json()["id"]
    der = client.post(
        "/v1/ders",
        json={
            "site_id": site,
            "external_id": f"bat-{tag}",
            "der_class": "battery",
            "p_max_kw": 5,
            "e_max_kwh": 13.5,
        },
        headers=h,
    ).json()["id"]
    r = client.post("/v1/telemetry", json={"readings": [{"der_id": der, "start": T, "soc": 0.5}]}, headers=h)
    assert r.json()["accepted"] == 1
    plan = client.post("/v1/plans", json={"start": T, "end": "2026-01-02T00:00:00+00:00"}, headers=h).json()[
        "id"
    ]
    disp = client.post(
        "/v1/dispatch",
        json={"instructions": [{"der_id": der, "start": T, "duration_s": 300, "p_kw": -2}]},
        headers=h,
    ).json()[0]["id"]
    return {"site": site, "der": der, "plan": plan, "dispatch": disp}


@pytest.fixture
def world(module_client, module_keys, auth):
    c, k = module_client, module_keys
    a = _fleet(c, k["agg_a"], auth, "a")
    b = _fleet(c, k["agg_b"], auth, "b")
    dso = auth(k["dso"])
    tag = a["site"][:8]
    for node in (f"tx-a-{tag}", f"tx-b-{tag}"):
        assert c.post("/v1/nodes", json={"id": node, "kind": "transformer"}, headers=dso).status_code == 201
    r = c.put(
        "/v1/mapping",
        json={
            "mappings": [
                {"der_id": a["der"], "node_ids": [f"tx-a-{tag}"]},
                {"der_id": b["der"], "node_ids": [f"tx-b-{tag}"]},
            ],
            "valid_from": "2025-01-01T00:00:00+00:00",
        },
        headers=dso,
    )
    assert r.status_code == 200, r.text
    env = []
    for kind, subject in (
        ("site", a["site"]),
        ("site", b["site"]),
        ("node", f"tx-a-{tag}"),
        ("node", f"tx-b-{tag}"),
    ):
        r = c.post(
            "/v1/envelopes",
            json={
                "envelopes": [
                    {
                        "subject_kind": kind,
                        "subject_id": subject,
                        "start": T,
                        "duration_s": 1800,
                        "opModExpLimW": {"value": 5000},
                    }
                ]
            },
            headers=dso,
        )
        assert r.status_code == 201, r.text
        env.append(r.json()[0]["mRID"])
    a.update(node=f"tx-a-{tag}", env_site=env[0], env_node=env[2])
    b.update(node=f"tx-b-{tag}", env_site=env[1], env_node=env[3])
    return a, b


def test_aggregator_cannot_read_change_or_infer_another_tenants_objects(
    module_client, module_keys, auth, world
):
    c = module_client
    a, b = world
    ha = auth(module_keys["agg_a"])
    reads = [
        ("/v1/sites/{}", "site"),
        ("/v1/ders/{}", "der"),
        ("/v1/plans/{}", "plan"),
        ("/v1/nodes/{}", "node"),
        ("/v1/envelopes/{}", "env_site"),
        ("/v1/envelopes/{}", "env_node"),
    ]
    for path, key in reads:
        assert c.get(path.format(a[key]), headers=ha).status_code == 200, path
        theirs = c.get(path.format(b[key]), headers=ha)
        unknown = c.get(path.format("no-such-id"), headers=ha)
        assert theirs.status_code == unknown.status_code == 404, path
        assert (
            set(theirs.json()) == {"detail"}
            and theirs.json()["detail"][0]["field"] == unknown.json()["detail"][0]["field"]
        )
    assert c.get("/v1/telemetry", params={"der_id": b["der"]}, headers=ha).status_code == 404
    assert c.get("/v1/mapping", params={"der_id": b["der"]}, headers=ha).status_code == 404
    # lists show only A's own objects
    assert {s["id"] for s in c.get("/v1/sites", headers=ha).json()} == {a["site"]}
    assert {d["id"] for d in c.get("/v1/ders", headers=ha).json()} == {a["der"]}
    assert {d["id"] for d in c.get("/v1/dispatch", headers=ha).json()} == {a["dispatch"]}
    assert {p["id"] for p in c.get("/v1/plans", headers=ha).json()} == {a["plan"]}
    assert {n["id"] for n in c.get("/v1/nodes", headers=ha).json()} == {a["node"]}
    assert {m["der_id"] for m in c.get("/v1/mapping", headers=ha).json()} == {a["der"]}
    assert {e["mRID"] for e in c.get("/v1/envelopes", headers=ha).json()} == {a["env_site"], a["env_node"]}
    assert c.get("/v1/ders", params={"site_id": b["site"]}, headers=ha).json() == []
    # changes to B's objects: 404, and nothing changed
    assert c.patch(f"/v1/sites/{b['site']}", json={"name": "x"}, headers=ha).status_code == 404
    assert c.patch(f"/v1/ders/{b['der']}", json={"p_max_kw": 1}, headers=ha).status_code == 404
    assert c.patch(f"/v1/plans/{b['plan']}", json={"status": "cancelled"}, headers=ha).status_code == 404
    assert c.patch(f"/v1/dispatch/{b['dispatch']}", json={"status": "failed"}, headers=ha).status_code == 404
    r = c.post(
        "/v1/ders",
        json={"site_id": b["site"], "external_id": "sneaky", "der_class": "pv", "p_max_kw": 3},
        headers=ha,
    )
    assert r.status_code == 404
    r = c.post("/v1/telemetry", json={"readings": [{"der_id": b["der"], "start": T, "soc": 0.9}]}, headers=ha)
    assert r.json()["accepted"] == 0 and r.json()["rejected"][0]["field"] == "der_id"
    r = c.post(
        "/v1/dispatch",
        json={"instructions": [{"der_id": b["der"], "start": T, "duration_s": 300, "p_kw": 1}]},
        headers=ha,
    )
    assert r.status_code == 404
    hb = auth(module_keys["agg_b"])
    assert c.get(f"/v1/ders/{b['der']}", headers=hb).json()["p_max_kw"] == 5
    assert c.get("/v1/telemetry", params={"der_id": b["der"]}, headers=hb).json()[0]["soc"] == 0.5
    assert c.get("/v1/dispatch", headers=hb).json()[0]["status"] == "pending"


def test_roles_bound_what_a_key_can_do(module_client, module_keys, auth, world):
    c = module_client
    a, b = world
    ha, hd = auth(module_keys["agg_a"]), auth(module_keys["dso"])
    env = {
        "envelopes": [
            {
                "subject_kind": "site",
                "subject_id": a["site"],
                "start": T,
                "duration_s": 300,
                "opModExpLimW": {"value": 10000},
            }
        ]
    }
    r = c.post("/v1/envelopes", json=env, headers=ha)
    assert r.status_code == 403 and "envelopes:write" in r.json()["detail"][0]["reason"]
    assert c.delete(f"/v1/envelopes/{a['env_site']}", headers=ha).status_code == 403
    assert c.post("/v1/nodes", json={"id": "mine", "kind": "zone"}, headers=ha).status_code == 403
    # the DSO cannot act as an aggregator: no registration, telemetry, plans or dispatch
    assert c.post("/v1/sites", json={"external_id": "dso-site"}, headers=hd).status_code == 403
    assert c.post("/v1/telemetry", json={"readings": []}, headers=hd).status_code == 403
    assert c.patch(f"/v1/ders/{a['der']}", json={"p_max_kw": 1}, headers=hd).status_code == 403
    assert (
        c.post("/v1/plans", json={"start": T, "end": "2026-01-02T00:00:00Z"}, headers=hd).status_code == 403
    )
    # ... but reads every aggregator's registrations and monitoring
    ids = {d["id"] for d in c.get("/v1/ders", params={"limit": 1000}, headers=hd).json()}
    assert {a["der"], b["der"]} <= ids
    assert c.get("/v1/telemetry", params={"der_id": b["der"]}, headers=hd).status_code == 200


def test_missing_wrong_and_narrow_keys(module_client, module_db_url, make_key, auth):
    c = module_client
    r = c.get("/v1/sites")
    assert r.status_code == 401 and r.json()["detail"][0]["field"] == "Authorization"
    assert c.get("/v1/sites", headers=auth("ovpp_000000000000_nope")).status_code == 401
    assert c.get("/v1/sites", headers={"X-API-Key": "garbage"}).status_code == 401
    narrow = make_key(module_db_url, "agg-readonly", "aggregator", ["der:read"])
    assert c.get("/v1/sites", headers={"X-API-Key": narrow}).status_code == 200
    r = c.post("/v1/sites", json={"external_id": "x"}, headers=auth(narrow))
    assert r.status_code == 403 and "der:write" in r.json()["detail"][0]["reason"]


def test_rate_limit_answers_429_with_retry_after(module_app, module_client, module_db_url, make_key, auth):
    key = make_key(module_db_url, "agg-busy", "aggregator")
    old = module_app.state.rate_limiter
    module_app.state.rate_limiter = RateLimiter(rate_per_s=1.0, burst=3)
    try:
        codes = [module_client.get("/v1/sites", headers=auth(key)) for _ in range(5)]
    finally:
        module_app.state.rate_limiter = old
    assert [r.status_code for r in codes] == [200, 200, 200, 429, 429]
    assert int(codes[3].headers["Retry-After"]) >= 1
    assert "rate limit" in codes[3].json()["detail"][0]["reason"]


def test_token_bucket_refills_at_the_rate():
    lim = RateLimiter(rate_per_s=2.0, burst=2)
    assert lim.take("k", now=0.0) == 0 and lim.take("k", now=0.0) == 0
    assert lim.take("k", now=0.0) == pytest.approx(0.5)
    assert lim.take("k", now=0.5) == 0  # one token back after 1 / 2 s
    assert lim.take("other", now=0.5) == 0
