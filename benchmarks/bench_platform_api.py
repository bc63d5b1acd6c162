"""HTTP API throughput and latency of a real ``openvpp serve`` (uvicorn) on loopback, SQLite and PostgreSQL.

* telemetry ingest: ``POST /v1/telemetry`` in batches of 1,000 readings from 4 client threads
  (goal >= 20,000 readings/s);
* envelope reads: 100 concurrent clients (asyncio + httpx) each reading the envelope in force for one of
  their sites, ``GET /v1/envelopes?subject_id=...&at=...`` (goal p99 < 20 ms).

The server runs in its own process with one worker; the per-key rate limit is raised for the run
(``OPENVPP_RATE_PER_KEY_PER_S``) so that the figures measure the service, not the limiter. PostgreSQL:
127.0.0.1:5432, database ``test``, a schema of its own (skipped when absent). Prints medians.

Run: ``python benchmarks/bench_platform_api.py [--batches 40] [--reads 20]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import httpx
import numpy as np
from sqlalchemy import text

from openvpp.platform.store.db import make_engine, session_factory, upgrade
from openvpp.platform.store.keys import create_key
from openvpp.platform.store.models import Der, Site

PG_URL = os.environ.get("OPENVPP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
T0 = 1_767_225_600
GOAL_INGEST = 20_000
GOAL_P99_MS = 20.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stores():
    tmp = tempfile.mkdtemp(prefix="openvpp-bench-")
    yield "SQLite", f"sqlite:///{tmp}/api.db"
    try:
        admin = make_engine(PG_URL)
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with admin.begin() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        print(f"PostgreSQL skipped: {type(exc).__name__}")
        return
    try:
        yield "PostgreSQL", f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _setup(url: str, n_ders: int, n_sites: int) -> tuple[str, str, list[str], list[str]]:
    """Keys, one site per 10 DERs, ``n_ders`` DERs; returns (aggregator key, DSO key, DER ids, site ids)."""
    upgrade(url)
    engine = make_engine(url)
    with session_factory(engine)() as s:
        agg = create_key(s, "bench-agg", "aggregator")
        dso = create_key(s, "bench-dso", "dso")
        sites = [f"site-{k}" for k in range(n_sites)]
        s.add_all(
            Site(id=i, tenant_id=agg.record.tenant_id, external_id=i, phases=1, created_s=0, updated_s=0)
            for i in sites
        )
        s.flush()
        ders = [f"der-{k}" for k in range(n_ders)]
        s.add_all(
            Der(
                id=d,
                tenant_id=agg.record.tenant_id,
                site_id=sites[k % n_sites],
                external_id=d,
                der_class="battery",
                p_max_kw=5.0,
                e_max_kwh=13.5,
                active=True,
                created_s=0,
                updated_s=0,
            )
            for k, d in enumerate(ders)
        )
        s.commit()
    engine.dispose()
    return agg.key, dso.key, ders, sites


def _serve(url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "OPENVPP_RATE_PER_KEY_PER_S": "1000000", "OPENVPP_RATE_BURST": "1000000"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "openvpp.cli", "serve", "--db", url, "--port", str(port), "--no-migrate"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open("/tmp/bench_srv.log", "w"),
    )
    t0 = time.monotonic()
    while time.monotonic() - t0 < 180:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/ready", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("server did not start")


def _cpu_s(pid: int) -> float:
    """User + system CPU time of process ``pid`` and its children so far (Linux ``/proc``). [s]"""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _ingest(base: str, key: str, ders: list[str], n_batches: int, first: int = 0, threads: int = 4) -> float:
    bodies = [
        {
            "readings": [
                {
                    "der_id": d,
                    "start": T0 + 300 * (first + k),
                    "p_site_avg_kw": 1.0,
                    "p_site_min_kw": 0.5,
                    "p_site_max_kw": 1.5,
                    "soc": 0.5 + 0.0001 * k,
                }
                for d in ders
            ]
        }
        for k in range(n_batches)
    ]
    todo = list(range(n_batches))
    lock = threading.Lock()
    accepted = [0]

    def worker() -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
            while True:
                with lock:
                    if not todo:
                        return
                    k = todo.pop()
                r = c.post("/v1/telemetry", json=bodies[k])
                r.raise_for_status()
                with lock:
                    accepted[0] += r.json()["accepted"]

    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    dt = time.perf_counter() - t0
    assert accepted[0] == n_batches * len(ders), accepted
    return n_batches * len(ders) / dt


async def _reads(base: str, agg_key: str, sites: list[str], n_clients: int, n_reads: int) -> list[float]:
    lat: list[float] = []
    limits = httpx.Limits(max_connections=n_clients, max_keepalive_connections=n_clients)
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {agg_key}"}, limits=limits, timeout=60
    ) as c:

        async def client(k: int) -> None:
            site = sites[k % len(sites)]
            for _ in range(n_reads):
                t0 = time.perf_counter()
                r = await c.get(
                    "/v1/envelopes", params={"subject_id": site, "at": "2026-01-01T12:00:00+00:00"}
                )
                lat.append(time.perf_counter() - t0)
                assert r.status_code == 200 and len(r.json()) == 1, r.text

        await asyncio.gather(*(client(k) for k in range(n_clients)))
    return lat


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, default=40, help="telemetry batches of 1,000 readings")
    ap.add_argument("--reads", type=int, default=20, help="envelope reads per client (100 clients)")
    args = ap.parse_args()
    rows = []
    for name, url in _stores():
        agg, dso, ders, sites = _setup(url, 1000, 100)
        port = _free_port()
        proc = _serve(url, port)
        base = f"http://127.0.0.1:{port}"
        try:
            _ingest(base, agg, ders, 2)  # warm-up (first requests import and compile)
            c0 = _cpu_s(proc.pid)
            rate = _ingest(base, agg, ders, args.batches, first=2)
            cpu_ingest = (_cpu_s(proc.pid) - c0) / (args.batches * len(ders))
            env = {
                "envelopes": [
                    {
                        "subject_kind": "site",
                        "subject_id": s,
                        "start": "2026-01-01T00:00:00+00:00",
                        "duration_s": 86_400,
                        "opModExpLimW": {"value": 5000},
                    }
                    for s in sites
                ]
            }
            httpx.post(
                f"{base}/v1/envelopes", json=env, headers={"Authorization": f"Bearer {dso}"}, timeout=60
            ).raise_for_status()
            asyncio.run(_reads(base, agg, sites, 100, 2))  # warm-up
            c0 = _cpu_s(proc.pid)
            lat = np.array(asyncio.run(_reads(base, agg, sites, 100, args.reads))) * 1000
            cpu_read = (_cpu_s(proc.pid) - c0) / len(lat)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        rows.append(
            (name, rate, float(np.median(lat)), float(np.percentile(lat, 99)), len(lat), cpu_ingest, cpu_read)
        )
    print(
        f"HTTP API on loopback (uvicorn, 1 worker): ingest goal >= {GOAL_INGEST:,} readings/s, "
        f"envelope reads goal p99 < {GOAL_P99_MS:g} ms at 100 concurrent clients"
    )
    print(
        f"{'engine':<12}{'ingest [readings/s]':>21}{'goal':>9}{'read p50 [ms]':>15}{'read p99 [ms]':>15}"
        f"{'reads':>8}{'goal':>9}"
    )
    for name, rate, p50, p99, n, _, _ in rows:
        print(
            f"{name:<12}{rate:>21,.0f}{'met' if rate >= GOAL_INGEST else 'not met':>9}"
            f"{p50:>15.1f}{p99:>15.1f}"
            f"{n:>8}{'met' if p99 < GOAL_P99_MS else 'not met':>9}"
        )
    print(
        "server CPU time (independent of other load on the machine): readings per server CPU-second, "
        "CPU per envelope read"
    )
    for name, *_, cpu_ingest, cpu_read in rows:
        print(f"{name:<12}{1 / cpu_ingest:>21,.0f} readings/CPU-s{cpu_read * 1000:>12.2f} ms CPU/read")


if __name__ == "__main__":
    main()
