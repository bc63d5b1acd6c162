"""Telemetry store throughput on SQLite and PostgreSQL: the bulk path (goal >= 200,000 readings/s) and the
checked path :func:`ingest_readings` in batches of 1,000 (what the API and the gateway call).

Bulk: ``bulk_ingest`` of ``n_ders x n_steps`` readings (COPY + INSERT ... ON CONFLICT on PostgreSQL,
executemany INSERT OR IGNORE on SQLite) into an empty table, then the same frame again (a replay: nothing
written). PostgreSQL: 127.0.0.1:5432, database ``test``, a schema of its own (skipped when absent).
Prints medians over the repeats.

Run: ``python benchmarks/bench_store.py [--ders 1000] [--steps 200] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid

import numpy as np
import pandas as pd
from sqlalchemy import text

from openvpp.platform.store.db import make_engine, session_factory, upgrade
from openvpp.platform.store.keys import get_or_create_tenant
from openvpp.platform.store.models import Der, Site
from openvpp.platform.store.telemetry import bulk_ingest, ingest_readings

PG_URL = os.environ.get("OPENVPP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
T0 = 1_767_225_600
GOAL_BULK = 200_000


def _stores():
    tmp = tempfile.mkdtemp(prefix="openvpp-bench-")
    yield "SQLite", f"sqlite:///{tmp}/bench.db", None
    try:
        admin = make_engine(PG_URL)
        with admin.begin() as c:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        print(f"PostgreSQL skipped: {type(exc).__name__}")
        return
    try:
        yield "PostgreSQL", f"{PG_URL}?options=-csearch_path%3D{schema}", None
    finally:
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _fleet(engine, tenant: str, n: int) -> tuple[int, list[str]]:
    with session_factory(engine)() as s:
        t = get_or_create_tenant(s, tenant, "aggregator")
        s.add(Site(id=f"site-{tenant}", tenant_id=t.id, external_id="s", phases=1, created_s=0, updated_s=0))
        s.flush()
        ids = [f"{tenant}-{k}" for k in range(n)]
        s.add_all(
            Der(
                id=i,
                tenant_id=t.id,
                site_id=f"site-{tenant}",
                external_id=i,
                der_class="battery",
                p_max_kw=5.0,
                e_max_kwh=13.5,
                active=True,
                created_s=0,
                updated_s=0,
            )
            for i in ids
        )
        s.commit()
        return t.id, ids


def _frame(ids: list[str], n_steps: int, rng: np.random.Generator) -> pd.DataFrame:
    n = len(ids) * n_steps
    p = rng.normal(0.5, 1.5, n)
    return pd.DataFrame(
        {
            "der_id": np.repeat(ids, n_steps),
            "start_s": np.tile(T0 + 300 * np.arange(n_steps), len(ids)),
            "p_site_avg_kw": p,
            "p_site_min_kw": p - 0.5,
            "p_site_max_kw": p + 0.5,
            "v_batt_avg_v": 51.0,
            "v_batt_min_v": 50.5,
            "v_batt_max_v": 51.5,
            "soc": rng.uniform(0.1, 0.9, n),
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ders", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    rows = []
    for name, url, _ in _stores():
        upgrade(url)
        engine = make_engine(url)
        bulk, replay, checked = [], [], []
        for r in range(args.repeats):
            tid, ids = _fleet(engine, f"bulk{r}", args.ders)
            frame = _frame(ids, args.steps, rng)
            t0 = time.perf_counter()
            res = bulk_ingest(engine, tid, frame)
            bulk.append(len(frame) / (time.perf_counter() - t0))
            assert res.accepted == len(frame), res
            t0 = time.perf_counter()
            res = bulk_ingest(engine, tid, frame)
            replay.append(len(frame) / (time.perf_counter() - t0))
            assert res.accepted == 0 and res.duplicates == len(frame)
            # the checked path, batches of 1,000 readings (one interval of 1,000 DERs per batch)
            tid2, ids2 = _fleet(engine, f"chk{r}", 1000)
            batches = [
                [
                    {
                        "der_id": d,
                        "start": T0 + 300 * k,
                        "p_site_avg_kw": 1.0,
                        "p_site_min_kw": 0.5,
                        "p_site_max_kw": 1.5,
                        "soc": 0.5 + 0.001 * k,
                    }
                    for d in ids2
                ]
                for k in range(10)
            ]
            t0 = time.perf_counter()
            for b in batches:
                with session_factory(engine)() as s:
                    assert ingest_readings(s, tid2, b, now_s=T0 + 86_400).accepted == len(b)
            checked.append(10 * 1000 / (time.perf_counter() - t0))
        engine.dispose()
        rows.append((name, statistics.median(bulk), statistics.median(replay), statistics.median(checked)))
    n = args.ders * args.steps
    print(
        f"telemetry store, {n:,} readings per bulk call ({args.ders} DERs x {args.steps} steps), "
        f"median of {args.repeats}; goal bulk >= {GOAL_BULK:,}/s"
    )
    print(
        f"{'engine':<12}{'bulk new [1/s]':>18}{'bulk replay [1/s]':>20}"
        f"{'checked, 1k/batch [1/s]':>26}{'goal':>7}"
    )
    for name, b, rp, c in rows:
        print(f"{name:<12}{b:>18,.0f}{rp:>20,.0f}{c:>26,.0f}{'met' if b >= GOAL_BULK else 'not met':>9}")


if __name__ == "__main__":
    main()
