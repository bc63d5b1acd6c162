"""Fixtures of the dashboard tests: the service with its web pages, a populated store, a live server."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest


def _with_web(app):
    from openvpp.platform.web import mount_web

    return mount_web(app)  # the service mounts it already; a second call changes nothing


@pytest.fixture
def web_app(app):
    """The service application of ``db_url`` with the dashboard mounted."""
    return _with_web(app)


@pytest.fixture
def web_client(web_app) -> Iterator:
    from fastapi.testclient import TestClient

    with TestClient(web_app, follow_redirects=False) as c:
        yield c


def _interval_start(k: int = 0) -> dt.datetime:
    """Start of the current 5-min interval, ``k`` intervals back (UTC)."""
    now = int(time.time())
    return dt.datetime.fromtimestamp(now - now % 300 - 300 * k, dt.UTC)


@pytest.fixture
def populate(auth) -> Callable[..., dict]:
    """``populate(client, key, n_sites, prefix, p_kw)``: sites with a battery and a PV each, telemetry now."""

    def run(client, key: str, n_sites: int = 3, prefix: str = "site", p_kw: float = 1.0) -> dict:
        h = auth(key)
        sites, ders = [], []
        for i in range(n_sites):
            sid = client.post("/v1/sites", json={"external_id": f"{prefix}-{i}", "name": f"{prefix} {i}"},
                              headers=h).json()["id"]
            sites.append(sid)
            for cls, extra in (("battery", {"e_max_kwh": 13.5}), ("pv", {})):
                r = client.post("/v1/ders", json={"site_id": sid, "external_id": f"{prefix}-{i}-{cls}",
                                                  "der_class": cls, "p_max_kw": 5, **extra}, headers=h)
                assert r.status_code in (200, 201), r.text
                ders.append((r.json()["id"], cls))
        readings = []
        for der_id, cls in ders:
            for k in range(3):
                reading = {"der_id": der_id, "start": _interval_start(k).isoformat(),
                           "p_site_avg_kw": p_kw, "p_site_min_kw": p_kw - 0.5, "p_site_max_kw": p_kw + 0.5}
                if cls == "battery":
                    reading["soc"] = 0.5
                readings.append(reading)
        r = client.post("/v1/telemetry", json={"readings": readings}, headers=h)
        assert r.status_code == 200 and r.json()["accepted"] == len(readings), r.text
        return {"sites": sites, "ders": ders, "headers": h}

    return run


def _login(client, key: str):
    """Log a TestClient in through the form; returns the response of the POST."""
    import re

    form = client.get("/ui/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    return client.post("/ui/login", data={"api_key": key, "csrf": token})


@pytest.fixture(scope="session")
def login() -> Callable:
    """``login(client, key)``: log a TestClient in through the login form (returns the POST's response)."""
    return _login


@pytest.fixture(scope="session")
def interval_start() -> Callable[[int], dt.datetime]:
    """``interval_start(k)``: start of the current 5-min interval, ``k`` intervals back (UTC)."""
    return _interval_start


@pytest.fixture
def live_server(web_app) -> Iterator[str]:
    """The dashboard served by uvicorn on a free loopback port, in a thread; yields the base URL."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = uvicorn.Server(uvicorn.Config(web_app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the dashboard server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
