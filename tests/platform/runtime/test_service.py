"""The runtime's job threads: periodic runs, one runner per job, a clean stop that frees the leases."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from openvpp.errors import ValidationError
from openvpp.platform.runtime.lease import JobLease
from openvpp.platform.runtime.service import Runtime, start_runtime
from openvpp.platform.settings import ServiceSettings
from openvpp.platform.store.db import make_engine


def test_two_workers_never_run_a_job_at_once(db_url):
    engine = make_engine(db_url)
    name = f"tick-{uuid.uuid4().hex[:8]}"
    running = []
    overlaps = []
    lock = threading.Lock()

    def work(worker):
        with lock:
            if running:
                overlaps.append(worker)
            running.append(worker)
        time.sleep(0.02)
        with lock:
            running.remove(worker)

    a, b = Runtime(engine), Runtime(engine)
    ja = a.add_job(name, lambda: work("a"), 0.05)
    jb = b.add_job(name, lambda: work("b"), 0.05)
    with a, b:
        time.sleep(0.8)
    assert overlaps == []
    assert ja.runs + jb.runs >= 5 and min(ja.runs, jb.runs) == 0  # one worker holds the job
    with JobLease(engine, name) as lease:  # stopped: the lease is free
        assert lease.acquired
    engine.dispose()


def test_a_failing_job_keeps_running_and_bad_jobs_are_refused(db_url):
    engine = make_engine(db_url)
    rt = Runtime(engine)

    def boom():
        raise RuntimeError("job failed")

    job = rt.add_job(f"boom-{uuid.uuid4().hex[:6]}", boom, 0.05)
    with pytest.raises(ValidationError, match="already registered"):
        rt.add_job(job.name, boom, 1.0)
    with pytest.raises(ValidationError, match="interval_s"):
        rt.add_job("other", boom, 0.0)
    with rt:
        time.sleep(0.4)
    assert job.errors >= 3 and job.runs == 0
    engine.dispose()


def test_default_runtime_starts_and_stops(db_url, broker_url):
    engine = make_engine(db_url)
    rt = start_runtime(
        ServiceSettings.build(db_url=db_url, broker_url=broker_url),
        engine,
        outbox_interval_s=0.1,
        envelope_interval_s=0.1,
    )
    time.sleep(0.5)
    rt.stop()
    assert set(rt.jobs) == {"outbox", "envelopes"}
    assert all(j.errors == 0 for j in rt.jobs.values())
    engine.dispose()


def test_planning_job_keeps_the_newest_plan(db_url):
    import numpy as np

    from openvpp.units import energy_kwh

    engine = make_engine(db_url)
    rt = Runtime(engine)
    rt.add_planning_job(f"plan-{uuid.uuid4().hex[:6]}", energy_kwh, 60.0, np.array([[4.0, -2.0]]), 0.5)
    with rt:
        deadline = time.monotonic() + 5
        while not rt.plans:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    (plan,) = rt.plans.values()
    assert plan.tolist() == [[2.0, -1.0]]  # 4 kW and -2 kW for half an hour
    engine.dispose()
