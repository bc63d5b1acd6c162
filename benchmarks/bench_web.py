"""Dashboard speed on PostgreSQL: server time of the overview and site pages, and first render in Chromium.

Goal (issue 13): with 10,000 sites and 30 days of 5-min telemetry, server time < 200 ms p95 for the overview
and a site drill-down, first render in the browser < 1 s. The store is filled through the bulk path
(``bulk_ingest``: COPY); one battery per site. Server time is measured in process with the ASGI test client
(no network), p95 over ``--requests`` requests; the browser figure is the navigation's ``domContentLoaded``
and ``load`` events in Debian's Chromium through Playwright against a live server on loopback.

Run: ``python benchmarks/bench_web.py [--sites 10000] [--days 30] [--requests 20]``. Thirty days of 10,000
sites are 86.4 M readings (about 10 GB in PostgreSQL and tens of minutes to load): pass smaller ``--days``
for a quick look; the table says what was run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import threading
import time
import uuid

import numpy as np
import pandas as pd
from sqlalchemy import text

from openvpp.platform.api.app import create_app
from openvpp.platform.settings import ServiceSettings
from openvpp.platform.store.db import make_engine, session_factory, upgrade
from openvpp.platform.store.keys import create_key
from openvpp.platform.store.models import Der, Site
from openvpp.platform.store.telemetry import bulk_ingest
from openvpp.platform.web import mount_web

PG_URL = os.environ.get("OPENVPP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
STEP_S = 300


def _fill(url: str, n_sites: int, days: float) -> tuple[str, str, float]:
    """Sites, one battery each, ``days`` of telemetry up to now; returns (key, a site id, load time [s])."""
    engine = make_engine(url)
    with session_factory(engine)() as s:
        made = create_key(s, "bench-aggregator", "aggregator")
        s.commit()
        tid = made.record.tenant_id
        now = int(time.time())
        s.add_all(Site(id=f"s{k}", tenant_id=tid, external_id=f"site-{k:05d}", phases=1, created_s=now,
                       updated_s=now) for k in range(n_sites))
        s.flush()
        s.add_all(Der(id=f"d{k}", tenant_id=tid, site_id=f"s{k}", external_id=f"bat-{k:05d}",
                      der_class="battery", p_max_kw=5.0, e_max_kwh=13.5, active=True, created_s=now,
                      updated_s=now) for k in range(n_sites))
        s.commit()
    n_steps = int(days * 86_400 / STEP_S)
    end = int(time.time()) // STEP_S * STEP_S
    starts = end - STEP_S * np.arange(n_steps)[::-1]
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    chunk = max(1, 2_000_000 // n_steps)
    for a in range(0, n_sites, chunk):
        ids = np.arange(a, min(n_sites, a + chunk))
        der = np.repeat([f"d{k}" for k in ids], n_steps)
        st = np.tile(starts, ids.size)
        p = rng.normal(0.5, 1.0, st.size).round(3)
        frame = pd.DataFrame({"der_id": der, "start_s": st, "p_site_avg_kw": p, "p_site_min_kw": p - 0.3,
                              "p_site_max_kw": p + 0.3, "soc": rng.uniform(0.2, 0.9, st.size).round(3)})
        bulk_ingest(engine, made.record.tenant_id, frame)
    load_s = time.perf_counter() - t0
    with engine.begin() as c:
        c.execute(text("ANALYZE"))
    engine.dispose()
    return made.key, "s0", load_s


def _p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=10_000)
    ap.add_argument("--days", type=float, default=2.0)
    ap.add_argument("--requests", type=int, default=20)
    args = ap.parse_args()
    admin = make_engine(PG_URL)
    schema = f"bench_web_{uuid.uuid4().hex[:8]}"
    try:
        with admin.begin() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        print(f"PostgreSQL at {PG_URL} is not reachable ({type(exc).__name__}); nothing measured")
        return
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    try:
        upgrade(url)
        key, site, load_s = _fill(url, args.sites, args.days)
        settings = ServiceSettings.build(db_url=url, rate_per_key_per_s=1e6, rate_burst=10**6)
        app = mount_web(create_app(settings))
        from fastapi.testclient import TestClient

        rows = []
        with TestClient(app, follow_redirects=False) as client:
            form = client.get("/ui/login").text
            token = form.split('name="csrf" value="')[1].split('"')[0]
            client.post("/ui/login", data={"api_key": key, "csrf": token})
            whole = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() - args.days * 86_400 - 600))
            for name, path in (("overview page", "/ui/"), ("overview data (poll)", "/ui/data/overview"),
                               ("site list page", "/ui/sites?page=37"),
                               ("site drill-down, 24 h", f"/ui/sites/{site}"),
                               ("site data, whole period", f"/ui/data/sites/{site}?start={whole}")):
                times = []
                for _ in range(args.requests):
                    t = time.perf_counter()
                    r = client.get(path)
                    times.append(time.perf_counter() - t)
                    assert r.status_code == 200, (path, r.status_code)
                rows.append((name, statistics.median(times) * 1e3, _p95(times) * 1e3))
            cookie = client.cookies.get("ovpp_session")
        browser_rows = _browser(app, cookie)
        n_read = args.sites * int(args.days * 86_400 / STEP_S)
        print(f"\nDashboard on PostgreSQL: {args.sites:,} sites, {args.days:g} days of 5-min telemetry "
              f"({n_read:,} readings, loaded in {load_s:.0f} s)")
        print(f"{'request':32s} {'goal':>10s} {'median [ms]':>12s} {'p95 [ms]':>10s}")
        for name, med, p95 in rows:
            print(f"{name:32s} {'< 200 p95':>10s} {med:12.1f} {p95:10.1f}")
        for name, ms in browser_rows:
            print(f"{name:32s} {'< 1000':>10s} {ms:12.1f} {'':>10s}")
    finally:
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _browser(app, cookie: str | None) -> list[tuple[str, float]]:
    chromium = shutil.which("chromium")
    if chromium is None or cookie is None:
        print("Chromium not installed: no browser figure")
        return []
    import uvicorn
    from playwright.sync_api import sync_playwright

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    out = []
    try:
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=chromium, headless=True,
                                   args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            ctx = b.new_context()
            ctx.add_cookies([{"name": "ovpp_session", "value": cookie, "url": f"http://127.0.0.1:{port}"}])
            page = ctx.new_page()
            for name, path in (("browser: overview first render", "/ui/"),
                               ("browser: site first render", "/ui/sites/s0")):
                page.goto(f"http://127.0.0.1:{port}{path}")
                timing = page.evaluate("JSON.stringify(performance.getEntriesByType('navigation')[0])")
                import json

                nav = json.loads(timing)
                out.append((name, float(nav["loadEventEnd"])))
            b.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    return out


if __name__ == "__main__":
    main()
