"""The application: health and readiness, error bodies, a database outage answered with 503 (not a crash)."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
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


# ---------------------------------------------------------------- the published OpenAPI under schemathesis
# Property-based tests of the published OpenAPI document with schemathesis: no input gives a 5xx.
#
# Every operation is called with generated (valid and invalid) inputs and a key of the role that may use it
# (the DSO for network writes and OpenADR business logic, an aggregator otherwise). In the suite: a few
# examples per operation; the ``slow`` test runs the whole document, 10 examples per operation, on both
# engines.
# Failures are collected over all operations so that one run reports every operation that answers 5xx.




DSO_WRITES = {
    ("POST", "/v1/envelopes"),
    ("DELETE", "/v1/envelopes/{mrid}"),
    ("POST", "/v1/nodes"),
    ("PUT", "/v1/mapping"),
}


def _key_for(op, keys) -> str:
    method, path = op.method.upper(), op.path
    if (method, path) in DSO_WRITES:
        return keys["dso"]
    if not path.startswith("/v1") and method != "GET" and path.split("/")[1] in ("programs", "events"):
        return keys["dso"]
    return keys["agg_a"]


#: operations whose request bodies take tens of seconds to generate: left to the ``slow`` test
SLOW_TO_GENERATE = {"POST /reports", "PUT /reports/{reportID}"}


def _check_operation(op, headers: dict, max_examples: int, failures: list[str]) -> None:
    """Call ``op`` with generated inputs; collect 5xx answers, check the shape of /v1 error bodies."""

    @given(case=op.as_strategy())
    @settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case):
        response = case.call(headers=headers)
        if response.status_code >= 500:
            failures.append(f"{op.label}: {response.status_code} {response.text[:200]}")
        elif response.status_code >= 400 and op.path.startswith("/v1"):
            body = response.json()
            assert isinstance(body["detail"], list), (op.label, body)
            assert all({"field", "reason"} <= set(d) for d in body["detail"]), (op.label, body)

    check()


def _run_spec(app, keys, max_examples: int, skip: frozenset[str] = frozenset()) -> list[str]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    n_ops = 0
    for result in schema.get_all_operations():
        op = result.ok()
        if op.label in skip:
            continue
        n_ops += 1
        _check_operation(op, {"Authorization": f"Bearer {_key_for(op, keys)}"}, max_examples, failures)
    assert n_ops >= 25
    return failures


@pytest.mark.parametrize("module_db_url", ["sqlite"], indirect=True)
def test_no_5xx_bounded(module_app, module_keys):
    failures = _run_spec(module_app, module_keys, max_examples=2, skip=frozenset(SLOW_TO_GENERATE))
    assert failures == []


@pytest.mark.slow
def test_no_5xx_whole_spec(module_app, module_keys):
    failures = _run_spec(module_app, module_keys, max_examples=10)
    assert failures == []
