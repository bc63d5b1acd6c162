"""The runtime of ``openvpp serve``: periodic jobs in threads, one runner per job across workers.

:class:`Runtime` runs each job (:mod:`openvpp.platform.runtime.jobs`) in its own thread every ``interval_s``
while this process holds the job's :class:`~openvpp.platform.runtime.lease.JobLease`; a worker that does not
hold it keeps trying, so when the holder stops or dies another worker takes over within one interval. Several
API workers over one PostgreSQL therefore never run a job twice at once. :meth:`Runtime.stop` ends every
thread after its current run and releases the leases (a clean shutdown). Heavy jobs (day-ahead planning) go to
a Dask scheduler when ``dask_address`` is set (:func:`~openvpp.platform.runtime.jobs.plan_day_ahead`).

:func:`start_runtime` builds the default jobs from the service settings: outbox delivery every second and,
with a broker, the envelope refresh every ``envelope_interval_s``.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import Engine

from openvpp.errors import ValidationError
from openvpp.platform.gateway.mqtt import connect_client
from openvpp.platform.runtime.jobs import deliver_outbox, plan_day_ahead, refresh_envelopes
from openvpp.platform.runtime.lease import JobLease
from openvpp.platform.settings import ServiceSettings
from openvpp.platform.store.db import session_factory

__all__ = ["Job", "Runtime", "start_runtime"]

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Job:
    """A periodic job.

    Parameters
    ----------
    name : str
        Name (also the lease key).
    fn : callable
        Called with no argument at every run.
    interval_s : float
        Time between runs. [s]
    runs : int
        Runs done by this process. [-]
    errors : int
        Runs that raised (logged; the job keeps running). [-]
    """

    name: str
    fn: Callable[[], Any]
    interval_s: float
    runs: int = 0
    errors: int = 0


class Runtime:
    """Periodic jobs in threads, each under a database lease (module docstring).

    Parameters
    ----------
    engine : sqlalchemy.Engine
        Engine of the store (the leases live there).
    dask_address : str, optional
        Dask scheduler for heavy jobs (:meth:`add_planning_job`); None runs them in this process.
    """

    def __init__(self, engine: Engine, dask_address: str | None = None) -> None:
        self.engine = engine
        self.dask_address = dask_address
        self.plans: dict[str, Any] = {}
        self.jobs: dict[str, Job] = {}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._on_stop: list[Callable[[], Any]] = []

    def add_job(self, name: str, fn: Callable[[], Any], interval_s: float) -> Job:
        """Register a job (before :meth:`start`).

        Parameters
        ----------
        name : str
            Job name, unique.
        fn : callable
            What one run does.
        interval_s : float
            Time between runs, > 0. [s]

        Returns
        -------
        Job
        """
        if name in self.jobs:
            raise ValidationError(f"job {name!r} is already registered")
        if not interval_s > 0:
            raise ValidationError(f"job {name!r}: interval_s must be > 0 s (got {interval_s})")
        job = Job(name, fn, float(interval_s))
        self.jobs[name] = job
        return job

    def add_planning_job(
        self, name: str, planner: Callable[..., Any], interval_s: float, *args: Any, **kwargs: Any
    ) -> Job:
        """Register a heavy job (day-ahead planning): ``planner(*args, **kwargs)`` runs on the Dask scheduler
        when one is set, and its newest result is kept in :attr:`plans` under ``name``.

        Parameters
        ----------
        name : str
            Job name.
        planner : callable
            The scheduler's entry point (importable on the Dask workers).
        interval_s : float
            Time between runs (a day for day-ahead planning). [s]
        *args
            Its positional arguments.
        **kwargs
            Its keyword arguments.

        Returns
        -------
        Job
        """

        def run() -> None:
            self.plans[name] = plan_day_ahead(planner, *args, dask_address=self.dask_address, **kwargs)

        return self.add_job(name, run, interval_s)

    def on_stop(self, fn: Callable[[], Any]) -> None:
        """Call ``fn`` when the runtime stops (close clients).

        Parameters
        ----------
        fn : callable
            Cleanup.
        """
        self._on_stop.append(fn)

    def _loop(self, job: Job) -> None:
        lease = JobLease(self.engine, job.name)
        try:
            while not self._stop.is_set():
                if lease.alive() or lease.acquire():
                    try:
                        job.fn()
                        job.runs += 1
                    except Exception:
                        job.errors += 1
                        log.exception("job %s failed", job.name)
                self._stop.wait(job.interval_s)
        finally:
            lease.release()

    def start(self) -> Runtime:
        """Start one thread per job."""
        for job in self.jobs.values():
            t = threading.Thread(target=self._loop, args=(job,), name=f"job-{job.name}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop after the current runs, release the leases and run the cleanups.

        Parameters
        ----------
        timeout_s : float
            Longest wait per thread. [s]
        """
        self._stop.set()
        for t in self._threads:
            t.join(timeout_s)
        self._threads.clear()
        for fn in self._on_stop:
            fn()

    def __enter__(self) -> Runtime:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()


def start_runtime(
    settings: ServiceSettings,
    engine: Engine,
    outbox_interval_s: float = 1.0,
    envelope_interval_s: float = 60.0,
) -> Runtime:
    """The default runtime of a service: outbox delivery, and the envelope refresh when a broker is set.

    Parameters
    ----------
    settings : ServiceSettings
        Service settings (``broker_url``).
    engine : sqlalchemy.Engine
        Engine of the store.
    outbox_interval_s : float
        Period of outbox delivery. [s]
    envelope_interval_s : float
        Period of the envelope refresh: the feed's heartbeat, which the aggregators' envelope clients take as
        their ``feed_timeout_s``. [s]

    Returns
    -------
    Runtime
        Started.
    """
    sessions = session_factory(engine)
    runtime = Runtime(engine, dask_address=settings.dask_address)
    http = httpx.Client()
    runtime.on_stop(http.close)
    mqtt_client = None
    if settings.broker_url:
        mqtt_client = connect_client(
            settings.broker_url, status="openvpp/service/gateway/runtime/status", wait=False
        )
        runtime.on_stop(mqtt_client.disconnect)
        runtime.on_stop(mqtt_client.loop_stop)
        runtime.add_job("envelopes", lambda: refresh_envelopes(sessions, mqtt_client), envelope_interval_s)
    runtime.add_job("outbox", lambda: deliver_outbox(sessions, http, mqtt_client), outbox_interval_s)
    return runtime.start()
