"""The application: health and readiness, error bodies, a database outage answered with 503 (not a crash)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from openvpp.platform.api.app import create_app
from openvpp.platform.api.errors import loc_to_field
from openvpp.platform.settings import ServiceSettings


def test_health_ready_and_openapi(module_client):
    assert module_client.get("/v1/health").json() == {"status": "ok"}
    r = module_client.get("/v1/ready")
    assert r.status_code == 200 and r.json()["status"] == "ready" and "migrated" in r.json()["reason"]
    spec = module_client.get("/openapi.json").json()
    for path in ("/v1/ders", "/v1/telemetry", "/v1/envelopes", "/v1/mapping", "/v1/plans", "/v1/dispatch"):
        assert path in spec["paths"]
    limit = spec["components"]["schemas"]["EnvelopeIn"]["properties"]["opModExpLimW"]
    assert "ActivePower" in str(limit)


def test_validation_errors_name_the_field(module_client, module_keys, auth):
    h = auth(module_keys["agg_a"])
    r = module_client.post(
        "/v1/ders",
        json={"site_id": "x", "external_id": "b", "der_class": "nuclear", "p_max_kw": -1},
        headers=h,
    )
    assert r.status_code == 422
    fields = {d["field"] for d in r.json()["detail"]}
    assert {"der_class", "p_max_kw"} <= fields
    r = module_client.post(
        "/v1/sites", content=b"{not json", headers={**h, "Content-Type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["reason"]
    r = module_client.get("/v1/sites", params={"limit": 0}, headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "limit"
    assert loc_to_field(("body", "readings", 3, "soc")) == "readings[3].soc"
    # a NUL character is refused by PostgreSQL's text type: still a 4xx, never a 5xx
    r = module_client.get("/v1/telemetry", params={"der_id": "a\x00b"}, headers=h)
    assert 400 <= r.status_code < 500 and r.json()["detail"][0]["reason"]


def test_database_outage_is_503_and_ready_says_so(tmp_path):
    # a store that cannot be opened: the file's folder is a file
    (tmp_path / "blocked").write_text("")
    settings = ServiceSettings.build(db_url="sqlite:///" + str(tmp_path / "blocked" / "x.db"))
    app = create_app(settings, engine=create_engine(settings.db_url))
    with TestClient(app) as c:
        assert c.get("/v1/health").status_code == 200
        r = c.get("/v1/ready")
        assert r.status_code == 503 and r.json()["status"] == "not ready"
        r = c.get("/v1/sites", headers={"Authorization": "Bearer ovpp_0123456789ab_secret"})
        assert r.status_code == 503 and r.headers["Retry-After"] == "1"
        assert "retry" in r.json()["detail"][0]["reason"]
