"""The outbox: at-least-once delivery, lease expiry, disjoint claims by concurrent workers on PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from openvpp.errors import ValidationError
from openvpp.platform.store.db import make_engine, session_factory
from openvpp.platform.store.outbox import claim, enqueue, mark_delivered, pending_count


@pytest.fixture
def sessions(db_url):
    e = make_engine(db_url)
    yield session_factory(e)
    e.dispose()


def test_claim_deliver_and_reclaim_after_the_lease(sessions):
    with sessions() as s:
        ids = [enqueue(s, None, f"openvpp/test/{k}", {"k": k}) for k in range(5)]
        s.commit()
    with sessions() as s:
        first = claim(s, limit=3, lease_s=30, now_s=1000)
        assert [m.id for m in first] == ids[:3] and [m.payload["k"] for m in first] == [0, 1, 2]
        # leased messages are not claimed again before the lease ends ...
        assert [m.id for m in claim(s, limit=10, lease_s=30, now_s=1010)] == ids[3:]
        assert mark_delivered(s, [first[0].id, first[1].id]) == 2
        assert mark_delivered(s, [first[0].id]) == 0
        # ... and are claimed again after it (the worker died): at least once
        again = claim(s, limit=10, lease_s=30, now_s=1100)
        assert [m.id for m in again] == [ids[2], *ids[3:]]
        assert again[0].attempts == 2
        assert pending_count(s) == 3


def test_bad_arguments_are_rejected(sessions):
    with sessions() as s:
        with pytest.raises(ValidationError, match="limit"):
            claim(s, limit=0)
        with pytest.raises(ValidationError, match="topic"):
            enqueue(s, None, "", {})


def test_concurrent_workers_claim_disjoint_messages(pg_url):
    e = make_engine(pg_url)
    sessions = session_factory(e)
    try:
        with sessions() as s:
            for k in range(200):
                enqueue(s, None, "openvpp/test", {"k": k})
            s.commit()
        got: list[list[int]] = [[] for _ in range(4)]
        barrier = threading.Barrier(4)

        def worker(w: int) -> None:
            barrier.wait()
            while True:
                with sessions() as s:
                    batch = claim(s, limit=7, lease_s=60)
                    if not batch:
                        return
                    got[w].extend(m.id for m in batch)
                    mark_delivered(s, [m.id for m in batch])

        threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        all_ids = [i for g in got for i in g]
        assert len(all_ids) == 200 and len(set(all_ids)) == 200
        with sessions() as s:
            assert pending_count(s) == 0
    finally:
        e.dispose()
