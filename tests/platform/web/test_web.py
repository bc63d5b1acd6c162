"""Mounting the dashboard: its routes, its static files served locally, the root redirect."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from openvpp.platform.web import mount_web


def test_mount_web_serves_pages_and_local_assets():
    app = mount_web(FastAPI())
    n_routes = len(app.routes)
    assert mount_web(app) is app and len(app.routes) == n_routes  # mounting twice changes nothing
    with TestClient(app, follow_redirects=False) as client:
        assert client.get("/").headers["location"] == "/ui/"
        js = client.get("/ui/static/vendor/uPlot.iife.min.js")
        assert js.status_code == 200 and "uPlot" in js.text[:2000]
        assert client.get("/ui/static/app.css").status_code == 200


def test_the_service_includes_the_dashboard(tmp_path):
    from openvpp.platform.api.app import create_app
    from openvpp.platform.settings import ServiceSettings
    from openvpp.platform.store.db import upgrade

    url = f"sqlite:///{tmp_path}/store.db"
    upgrade(url)
    app = create_app(ServiceSettings.build(db_url=url))
    with TestClient(app, follow_redirects=False) as client:
        for path in ("/ui/", "/ui/sites", "/ui/network", "/ui/events"):
            assert client.get(path).headers["location"] == "/ui/login", path  # pages ask for a login
        login = client.get("/ui/login")
        assert login.status_code == 200
        # every asset the page loads is served by OpenVPP itself: no other host is named
        assert "http://" not in login.text and "https://" not in login.text and "//cdn" not in login.text
    app.state.engine.dispose()
