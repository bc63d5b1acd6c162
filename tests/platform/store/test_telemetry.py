"""Telemetry writes on SQLite and PostgreSQL: partial batches, replays, conflicts, the bulk path, and a
database connection dropped mid-batch (real PostgreSQL, ``pg_terminate_backend`` from a second connection)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import event, func, select, text

from openvpp.platform.store.db import make_engine, session_factory
from openvpp.platform.store.keys import get_or_create_tenant
from openvpp.platform.store.models import Der, Site, Telemetry, TelemetryFlag
from openvpp.platform.store.telemetry import bulk_ingest, ingest_readings

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
NOW = T0 + 86_400


def _fleet(engine, tenant: str, n: int) -> tuple[int, list[str]]:
    """A tenant with ``n`` 5 kW / 10 kWh batteries on one site; returns (tenant id, DER ids)."""
    with session_factory(engine)() as s:
        t = get_or_create_tenant(s, tenant, "aggregator")
        s.add(Site(id=f"site-{tenant}", tenant_id=t.id, external_id="s", phases=1, created_s=0, updated_s=0))
        s.flush()
        ids = [f"{tenant}-der-{k}" for k in range(n)]
        s.add_all(
            Der(
                id=i,
                tenant_id=t.id,
                site_id=f"site-{tenant}",
                external_id=i,
                der_class="battery",
                p_max_kw=5.0,
                e_max_kwh=10.0,
                active=True,
                created_s=0,
                updated_s=0,
            )
            for i in ids
        )
        s.commit()
        return t.id, ids


def _count(engine, tenant_id: int | None = None) -> int:
    with engine.connect() as c:
        q = select(func.count()).select_from(Telemetry)
        if tenant_id is not None:
            q = q.where(Telemetry.tenant_id == tenant_id)
        return int(c.execute(q).scalar_one())


def _reading(der: str, k: int, **kw) -> dict:
    r = {
        "der_id": der,
        "start": T0 + 300 * k,
        "p_site_avg_kw": 1.0 + 0.01 * k,
        "p_site_min_kw": 0.5,
        "p_site_max_kw": 2.0,
        "soc": 0.5 + 0.001 * k,
    }
    r.update(kw)
    return r


@pytest.fixture
def engine(db_url):
    e = make_engine(db_url)
    yield e
    e.dispose()


def test_partial_batch_stores_only_the_accepted_items_and_a_replay_stores_nothing(engine):
    tid, ders = _fleet(engine, "a", 2)
    other, _ = _fleet(engine, "b", 1)
    batch = [
        _reading(ders[0], 0),
        _reading(ders[0], 1, soc=1.5),  # out of range
        _reading(ders[1], 0),
        _reading("b-der-0", 0),  # another tenant's DER: unknown to this one
        _reading(ders[1], 1, p_site_min_kw=3.0),  # min > avg
        _reading(ders[1], 2, start="2026-01-01T00:10:00"),  # naive time
        _reading(ders[0], 2, p_der_kw=20.0),  # > 3 x 5 kW: impossible
        _reading(ders[0], 3, p_der_kw=6.0),  # > 1.1 x 5 kW: stored and flagged
    ]
    with session_factory(engine)() as s:
        res = ingest_readings(s, tid, batch, now_s=NOW)
    assert res.accepted == 3 and res.duplicates == 0
    assert [(i, f) for i, f, _ in res.rejected] == [
        (1, "soc"),
        (3, "der_id"),
        (4, "p_site_min_kw"),
        (5, "start"),
        (6, "p_der_kw"),
    ]
    assert [(i, c) for i, c, _ in res.flagged] == [(7, "power_rating")]
    assert _count(engine, tid) == 3 and _count(engine, other) == 0
    with engine.connect() as c:
        assert c.execute(select(TelemetryFlag.check_name)).scalars().all() == ["power_rating"]
    # the same batch again: the three accepted are duplicates, nothing is stored twice
    with session_factory(engine)() as s:
        again = ingest_readings(s, tid, batch, now_s=NOW)
    assert again.accepted == 0 and again.duplicates == 3
    assert [i for i, _, _ in again.rejected] == [1, 3, 4, 5, 6]
    assert _count(engine, tid) == 3
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(TelemetryFlag)).scalar_one() == 1


def test_a_changed_reading_for_a_stored_interval_is_a_conflict(engine):
    tid, ders = _fleet(engine, "a", 1)
    with session_factory(engine)() as s:
        assert ingest_readings(s, tid, [_reading(ders[0], 0)], now_s=NOW).accepted == 1
        res = ingest_readings(
            s, tid, [_reading(ders[0], 0, p_site_avg_kw=1.7), _reading(ders[0], 0)], now_s=NOW
        )
    assert res.accepted == 0 and res.duplicates == 1
    assert [(i, f) for i, f, _ in res.rejected] == [(0, "p_site_avg_kw")]
    # inside one batch: the second copy is a duplicate, a changed copy a conflict
    with session_factory(engine)() as s:
        res = ingest_readings(
            s, tid, [_reading(ders[0], 5), _reading(ders[0], 5), _reading(ders[0], 5, soc=0.9)], now_s=NOW
        )
    assert (res.accepted, res.duplicates, [i for i, _, _ in res.rejected]) == (1, 1, [2])
    with engine.connect() as c:
        stored = c.execute(select(Telemetry.p_site_avg_kw).order_by(Telemetry.start_s)).scalars().all()
    assert stored == [1.0, 1.05]


def test_bulk_path_is_idempotent_and_rejects_bad_rows(engine):
    tid, ders = _fleet(engine, "a", 3)
    n_steps = 200
    frame = pd.DataFrame(
        {
            "der_id": np.repeat(ders, n_steps),
            "start_s": np.tile(T0 + 300 * np.arange(n_steps), 3),
            "p_site_avg_kw": np.linspace(-3, 3, 3 * n_steps),
            "soc": 0.5,
        }
    )
    frame.loc[7, "soc"] = 1.2
    frame.loc[8, "der_id"] = "nobody"
    res = bulk_ingest(engine, tid, frame, now_s=NOW)
    assert (res.accepted, res.duplicates) == (3 * n_steps - 2, 0)
    assert [(i, f) for i, f, _ in res.rejected] == [(7, "soc"), (8, "der_id")]
    again = bulk_ingest(engine, tid, frame, now_s=NOW)
    assert (again.accepted, again.duplicates) == (0, 3 * n_steps - 2)
    assert _count(engine, tid) == 3 * n_steps - 2
    with engine.connect() as c:
        total = c.execute(select(func.sum(Telemetry.p_site_avg_kw))).scalar_one()
    expected = frame.drop(index=[7, 8])["p_site_avg_kw"].sum()
    assert total == pytest.approx(expected, abs=1e-9)


def test_connection_dropped_mid_batch_loses_and_duplicates_nothing(pg_url):
    """Kill the server process of the writing connection while its INSERT runs; retry until accepted."""
    engine = make_engine(pg_url)
    admin = make_engine(pg_url)
    try:
        tid, ders = _fleet(engine, "a", 20)
        batches = [[_reading(d, k) for d in ders] for k in range(10)]
        killed = {"n": 0}

        def kill(conn) -> None:
            killed["n"] += 1
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            with admin.begin() as a:
                a.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})

        def kill_while_reading(conn, cursor, statement, parameters, context, executemany):
            # once: after the DER lookup, while the batch's transaction compares with stored readings
            if killed["n"] == 0 and "FROM telemetry" in statement:
                kill(conn)

        def kill_before_commit(conn):
            # twice: every row of the batch is written in the transaction, the commit is not yet sent
            if 1 <= killed["n"] < 3:
                kill(conn)

        event.listen(engine, "before_cursor_execute", kill_while_reading)
        event.listen(engine, "commit", kill_before_commit)
        accepted = duplicates = attempts = 0
        # replay batch 3 too, as a client does when its acknowledgement was lost
        for batch in [*batches[:4], batches[3], *batches[4:]]:
            while True:
                attempts += 1
                try:
                    with session_factory(engine)() as s:
                        res = ingest_readings(s, tid, batch, now_s=NOW)
                    break
                except Exception as exc:  # the dropped connection surfaces as a DBAPI error
                    assert "terminat" in str(exc).lower() or "closed" in str(exc).lower(), exc
            assert res.rejected == []
            accepted += res.accepted
            duplicates += res.duplicates
        assert killed["n"] == 3 and attempts == 11 + 3
        assert accepted == 200 and duplicates == 20
        assert _count(engine, tid) == 200
        with engine.connect() as c:
            n_distinct = c.execute(
                text("SELECT count(DISTINCT (der_pk, start_s)) FROM telemetry")
            ).scalar_one()
        assert n_distinct == 200
    finally:
        engine.dispose()
        admin.dispose()
