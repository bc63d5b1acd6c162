"""Object privacy by targets (OpenADR 3.1 Definition, "program and event objects - targeting")."""

from __future__ import annotations

import pytest

from openvpp.platform.api.openadr.common import visible_targets

CASES = [
    # object targets, asked, granted (None = the BL), expected
    ([], None, None, []),  # BL, no filter
    (["a", "b"], None, None, ["a", "b"]),
    (["a", "b"], ["b"], None, ["a", "b"]),  # BL filtering: no hiding
    (["a"], ["z"], None, None),
    ([], None, {"a"}, []),  # VEN: untargeted objects are public
    (["a"], None, {"a"}, None),  # VEN must ask with targets (read_targets)
    (["a"], ["a"], set(), None),  # asked but not granted
    (["a", "secret"], ["a", "secret"], {"a"}, ["a"]),  # target hiding
    (["a"], ["b"], {"a", "b"}, None),  # granted but the object is not for it
]


@pytest.mark.parametrize(("obj", "asked", "granted", "expected"), CASES)
def test_visible_targets(obj, asked, granted, expected):
    assert visible_targets(obj, asked, granted) == expected


def test_untargeted_objects_are_hidden_from_a_targeted_query():
    assert visible_targets([], ["a"], {"a"}) is None


def test_problem_bodies_name_the_field(client, keys, auth):
    r = client.post("/programs", json={"programName": ""}, headers=auth(keys["dso"]))
    body = r.json()
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    assert set(body) == {"type", "title", "status", "detail", "instance", "errors"}
    assert body["errors"][0]["field"] == "programName" and body["instance"] == "/programs"
    r = client.post(
        "/programs", content=b"{", headers={**auth(keys["dso"]), "Content-Type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "body"
    r = client.get("/programs")
    assert r.status_code == 401 and r.json()["errors"][0]["field"] == "Authorization"
