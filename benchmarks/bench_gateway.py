"""MQTT to store with QoS 1: readings published by devices, stored by the telemetry bridge (goal >= 10,000
messages/s), on SQLite and on PostgreSQL.

Each run registers a fleet, starts a :class:`~openvpp.platform.gateway.bridge.TelemetryBridge` (persistent
session, manual acknowledgement after commit) and a device link, publishes ``n_ders x n_steps`` readings with
QoS 1 and times from the first publish until every reading is stored. It uses its own Mosquitto on a free
loopback port (``max_queued_messages 0``, ``max_inflight_messages 0``, persistence off) when the binary is
installed, otherwise the broker at 127.0.0.1:1883. PostgreSQL: 127.0.0.1:5432, database ``test``, a schema of
its own (skipped when absent). Prints medians over the repeats.

Run: ``python benchmarks/bench_gateway.py [--ders 1000] [--steps 20] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import func, select, text

from openvpp.control.signals import Measurements
from openvpp.platform.gateway.bridge import TelemetryBridge
from openvpp.platform.gateway.mqtt import MqttDeviceLink
from openvpp.platform.store.db import make_engine, session_factory, upgrade
from openvpp.platform.store.keys import get_or_create_tenant
from openvpp.platform.store.models import Der, Site, Telemetry

PG_URL = os.environ.get("OPENVPP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
GOAL_PER_S = 10_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_broker(folder: Path) -> tuple[str, subprocess.Popen[bytes] | None]:
    """A private Mosquitto tuned for throughput, or the shared one."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not os.path.exists(binary):
        return "mqtt://127.0.0.1:1883", None
    port = _free_port()
    conf = folder / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n"
        "max_inflight_messages 0\nlog_dest none\n"
    )
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    return f"mqtt://127.0.0.1:{port}", proc


def fleet(sessions, n_ders: int) -> tuple[int, list[str], list[str]]:
    """An aggregator with one battery per site."""
    now = int(time.time())
    tag = uuid.uuid4().hex[:6]
    sites = [f"{tag}-s{k}" for k in range(n_ders)]
    ders = [f"{tag}-d{k}" for k in range(n_ders)]
    with sessions() as s:
        t = get_or_create_tenant(s, f"bench-{tag}", "aggregator")
        s.add_all([Site(id=i, tenant_id=t.id, external_id=i, created_s=now, updated_s=now) for i in sites])
        s.flush()
        s.add_all(
            [
                Der(
                    id=d,
                    tenant_id=t.id,
                    site_id=i,
                    external_id=d,
                    der_class="battery",
                    p_max_kw=5.0,
                    e_max_kwh=13.5,
                    created_s=now,
                    updated_s=now,
                )
                for d, i in zip(ders, sites, strict=True)
            ]
        )
        s.commit()
        return int(t.id), ders, sites


def one_run(broker: str, url: str, n_ders: int, n_steps: int) -> float:
    """Messages per second of one run. [1/s]"""
    engine = make_engine(url)
    sessions = session_factory(engine)
    tenant, ders, sites = fleet(sessions, n_ders)
    tag = uuid.uuid4().hex[:8]
    bridge = TelemetryBridge(broker, sessions, client_id=f"bench-bridge-{tag}")
    link = MqttDeviceLink(broker, tenant, ders, sites, interval_s=300)
    t0 = pd.Timestamp.now(tz="UTC").floor("5min") - pd.Timedelta(minutes=5 * (n_steps + 1))
    rng = np.random.default_rng(7)
    batches = [
        Measurements(
            t0 + pd.Timedelta(minutes=5 * k),
            tuple(ders),
            np.round(rng.uniform(-3, 3, n_ders), 3),
            np.round(rng.uniform(0.2, 0.8, n_ders), 3),
            np.ones(n_ders, dtype=bool),
        )
        for k in range(n_steps)
    ]
    n = n_ders * n_steps
    start = time.perf_counter()
    for m in batches:
        link.report(m)
    while bridge.stats.accepted + bridge.stats.duplicates < n:
        if time.perf_counter() - start > 300:
            raise RuntimeError(f"only {bridge.stats.accepted} of {n} readings stored in 300 s")
        time.sleep(0.005)
    elapsed = time.perf_counter() - start
    link.close()
    bridge.close()
    with sessions() as s:
        stored = s.scalar(select(func.count()).select_from(Telemetry).where(Telemetry.tenant_id == tenant))
    assert stored == n, f"stored {stored} of {n}"
    engine.dispose()
    return n / elapsed


def pg_schema() -> tuple[str, str] | None:
    """A migrated schema on the test PostgreSQL, or None."""
    try:
        eng = make_engine(PG_URL)
        with eng.connect() as c:
            c.execute(text("select 1"))
        eng.dispose()
    except Exception:
        return None
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    upgrade(PG_URL, schema=schema)
    return f"{PG_URL}?options=-csearch_path%3D{schema}", schema


def main() -> None:
    """Run and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ders", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    broker, proc = start_broker(folder)
    rows = []
    try:
        engines: list[tuple[str, str, str | None]] = []
        sqlite_url = f"sqlite:///{folder}/store.db"
        upgrade(sqlite_url)
        engines.append(("SQLite", sqlite_url, None))
        pg = pg_schema()
        if pg is not None:
            engines.append(("PostgreSQL", pg[0], pg[1]))
        for name, url, _schema in engines:
            rates = [one_run(broker, url, args.ders, args.steps) for _ in range(args.repeats)]
            rows.append((name, statistics.median(rates), min(rates), max(rates)))
        if pg is not None:
            eng = make_engine(PG_URL)
            with eng.begin() as c:
                c.execute(text(f'DROP SCHEMA "{pg[1]}" CASCADE'))
            eng.dispose()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
    n = args.ders * args.steps
    load = os.getloadavg()[0]
    print(
        f"MQTT -> store, QoS 1, {n:,} readings per run ({args.ders} DERs x {args.steps} intervals), "
        f"broker {broker}, {args.repeats} runs, load average {load:.1f} on {os.cpu_count()} cores"
    )
    print(f"{'store':<12} {'median msg/s':>14} {'min':>10} {'max':>10} {'goal':>10}")
    for name, med, lo, hi in rows:
        print(f"{name:<12} {med:>14,.0f} {lo:>10,.0f} {hi:>10,.0f} {GOAL_PER_S:>10,}")


if __name__ == "__main__":
    main()
