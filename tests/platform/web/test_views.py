"""The dashboard's pages: login, tenant isolation, CSRF, pagination, CSV text alternatives, a real browser.

The browser tests drive Debian's Chromium through Playwright against a live server on loopback. They skip with
the reason where Chromium is absent and ``CI`` is unset; with ``CI=true`` they fail instead. Screenshots of
every page are saved under ``test-artifacts/dashboard/`` (git-ignored) to be looked at.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "dashboard"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_pages_need_a_session(web_client):
    for path in ("/ui/", "/ui/network", "/ui/sites", "/ui/events", "/ui/sites/x"):
        r = web_client.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/ui/login", path
    assert web_client.get("/ui/data/overview").status_code == 401
    assert web_client.get("/ui/csv/overview").status_code == 401
    assert web_client.get("/").headers["location"] == "/ui/"


def test_login_needs_the_form_token_and_a_valid_key(web_client, keys, login):
    r = web_client.post("/ui/login", data={"api_key": keys["agg_a"], "csrf": "forged"})
    assert r.status_code == 200 and "form expired" in r.text
    assert "ovpp_session" not in r.headers.get("set-cookie", "")
    r = login(web_client, "ovpp_wrongwrong00_nope")
    assert r.status_code == 200 and "unknown or revoked API key" in r.text
    r = login(web_client, keys["agg_a"])
    assert r.status_code == 303 and r.headers["location"] == "/ui/"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")


def test_an_aggregator_sees_its_fleet_and_never_another(web_client, keys, populate, login):
    a = populate(web_client, keys["agg_a"], n_sites=2, prefix="alpha")
    b = populate(web_client, keys["agg_b"], n_sites=2, prefix="bravo")
    login(web_client, keys["agg_a"])
    page = web_client.get("/ui/")
    assert page.status_code == 200 and "aggregator-a" in page.text
    sites = web_client.get("/ui/sites").text
    assert "alpha-0" in sites and "bravo" not in sites
    assert web_client.get(f"/ui/sites/{a['sites'][0]}").status_code == 200
    other = web_client.get(f"/ui/sites/{b['sites'][0]}")
    assert "Not found" in other.text and "bravo" not in other.text
    assert web_client.get(f"/ui/data/sites/{b['sites'][0]}").status_code == 404
    data = web_client.get("/ui/data/overview").json()
    assert data["sites"] == 2 and data["ders_total"] == 4


def test_logout_needs_the_csrf_token(web_client, keys, login):
    login(web_client, keys["dso"])
    assert web_client.post("/ui/logout", data={"csrf": "nope"}).status_code == 403
    assert web_client.get("/ui/").status_code == 200  # still logged in
    token = re.search(r'name="csrf" value="([^"]+)"', web_client.get("/ui/").text).group(1)
    r = web_client.post("/ui/logout", data={"csrf": token})
    assert r.status_code == 303
    web_client.cookies.clear()
    assert web_client.get("/ui/").status_code == 303


def test_lists_are_paginated_and_charts_have_csv(web_client, keys, populate, login):
    made = populate(web_client, keys["agg_a"], n_sites=55, prefix="s")
    login(web_client, keys["agg_a"])
    first = web_client.get("/ui/sites").text
    assert "Page 1 of 2" in first and first.count('href="/ui/sites/') == 50
    second = web_client.get("/ui/sites", params={"page": 2}).text
    assert second.count('href="/ui/sites/') == 5
    assert web_client.get("/ui/sites", params={"page": 0}).status_code == 422
    csv = web_client.get("/ui/csv/overview")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0] == "time_utc,p_mean_kw,p_min_kw,p_max_kw" and len(lines) == 4  # three intervals
    assert float(lines[-1].split(",")[1]) == pytest.approx(55.0)  # 55 sites x 1 kW, each counted once
    site_csv = web_client.get(f"/ui/csv/sites/{made['sites'][0]}").text.splitlines()
    assert site_csv[0].endswith("soc") and len(site_csv) == 4


def test_bad_periods_are_422_naming_the_field(web_client, keys, populate, login):
    made = populate(web_client, keys["agg_a"], n_sites=1)
    login(web_client, keys["agg_a"])
    site = made["sites"][0]
    r = web_client.get(f"/ui/data/sites/{site}", params={"start": "yesterday"})
    assert r.status_code == 422 and "start" in r.text
    r = web_client.get(f"/ui/data/sites/{site}", params={"start": "2026-01-02", "end": "2026-01-01"})
    assert r.status_code == 422 and "end must be after start" in r.text
    r = web_client.get(f"/ui/data/sites/{site}", params={"start": "2020-01-01", "end": "2026-01-01"})
    assert r.status_code == 422 and "at most" in r.text


# ------------------------------------------------------------------------------------------------ browser
@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (make test installs Debian's chromium)")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield b
        b.close()


def _page(browser, errors: list[str]):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    return page


@pytest.mark.slow
def test_dashboard_in_a_real_browser(browser, live_server, web_client, keys, populate, interval_start):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    mine = populate(web_client, keys["agg_a"], n_sites=4, prefix="alpha", p_kw=1.5)
    populate(web_client, keys["agg_b"], n_sites=3, prefix="bravo", p_kw=-2.0)
    errors: list[str] = []
    page = _page(browser, errors)
    page.goto(f"{live_server}/ui/")
    assert page.url.endswith("/ui/login")
    page.get_by_label("API key").fill(keys["agg_a"])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server}/ui/")
    assert page.get_by_role("heading", name=re.compile("Overview")).is_visible()
    page.wait_for_selector("#chart-power canvas")
    assert page.locator("[data-field=sites]").inner_text() == "4"
    power = page.locator("[data-field=power_now_kw]")
    assert float(power.inner_text()) == pytest.approx(6.0)
    page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)

    # telemetry of the next interval, posted through the API, shows on the open page within a few seconds
    readings = [{"der_id": der_id, "start": interval_start(-1).isoformat(), "p_site_avg_kw": 4.0}
                for der_id, _ in mine["ders"]]
    r = web_client.post("/v1/telemetry", json={"readings": readings}, headers=mine["headers"])
    assert r.status_code == 200 and r.json()["accepted"] == len(readings), r.text
    t0 = time.monotonic()
    page.wait_for_function("document.querySelector('[data-field=power_now_kw]').textContent.trim() === '16'",
                           timeout=12_000)  # 4 sites x 4 kW
    assert time.monotonic() - t0 < 12

    page.goto(f"{live_server}/ui/sites")
    assert "bravo" not in page.content() and page.get_by_role("link", name="alpha-0").is_visible()
    page.screenshot(path=str(ARTIFACTS / "sites.png"), full_page=True)
    page.get_by_role("link", name="alpha-0").click()
    page.wait_for_selector("#chart-site-power canvas")
    assert page.get_by_role("heading", name=re.compile("Site alpha-0")).is_visible()
    page.screenshot(path=str(ARTIFACTS / "site.png"), full_page=True)
    for path, name in (("/ui/network", "network"), ("/ui/events", "events")):
        page.goto(f"{live_server}{path}")
        assert page.locator("h1").count() == 1
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert not errors, errors
