"""One runner per job across processes: the lease on SQLite (flock) and PostgreSQL (advisory lock)."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

from openvpp.platform.runtime.lease import JobLease, lock_key
from openvpp.platform.store.db import make_engine

HOLDER = """
import sys, time
from openvpp.platform.runtime.lease import JobLease
from openvpp.platform.store.db import make_engine
lease = JobLease(make_engine(sys.argv[1]), sys.argv[2])
print("held" if lease.acquire() else "refused", flush=True)
time.sleep(60)
"""


def test_a_second_worker_is_refused_until_the_first_dies(db_url):
    name = f"job-{uuid.uuid4().hex[:8]}"  # advisory locks are database-wide: a name of this test only
    other = subprocess.Popen([sys.executable, "-c", HOLDER, db_url, name], stdout=subprocess.PIPE, text=True)
    engine = make_engine(db_url)
    try:
        assert other.stdout.readline().strip() == "held"
        lease = JobLease(engine, name)
        assert not lease.acquire()
        other.kill()  # the holder crashes: its connection (or file) closes and the lease is free again
        other.wait(10)
        deadline = time.monotonic() + 10
        while not lease.acquire():
            assert time.monotonic() < deadline, "the lease of a dead worker was not released"
            time.sleep(0.1)
        assert lease.alive()
        assert not JobLease(engine, name).acquire()  # another thread of this process is refused too
        lease.release()
        with JobLease(engine, name) as again:
            assert again.acquired
    finally:
        other.kill()
        engine.dispose()


def test_lock_keys_are_stable_and_distinct():
    assert lock_key("outbox") == lock_key("outbox")
    assert lock_key("outbox") != lock_key("envelopes")
    assert -(2**63) <= lock_key("outbox") < 2**63
