"""Fixtures of the gateway tests: real Mosquitto brokers and a real store (SQLite and PostgreSQL).

Ordinary tests use the machine's broker at 127.0.0.1:1883; fault tests start their own ``mosquitto`` on a free
loopback port (so stopping it disturbs nobody). Stores come from ``db_url`` (tests/platform/conftest.py): a
fresh SQLite file or PostgreSQL schema per test. A missing service skips with the reason, except where ``CI``
is set: then it fails.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from openvpp.platform.store.db import make_engine, session_factory
from openvpp.platform.store.keys import get_or_create_tenant
from openvpp.platform.store.models import Der, Site

BROKER_URL = os.environ.get("OPENVPP_TEST_BROKER", "mqtt://127.0.0.1:1883")
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def _absent(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI")
    pytest.skip(f"{what} is not available on this machine")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def broker_url() -> str:
    """The shared broker at 127.0.0.1:1883."""
    host, port = BROKER_URL.removeprefix("mqtt://").split(":")
    if not _port_open(host, int(port)):
        _absent(f"Mosquitto at {BROKER_URL}")
    return BROKER_URL


class Broker:
    """A private Mosquitto on a free loopback port that a test can stop and start again."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\nuser {getpass.getuser()}\n"
            "persistence true\n"
            f"persistence_location {folder}/\nmax_queued_messages 0\nmax_inflight_messages 0\n"
            "log_dest none\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while not _port_open("127.0.0.1", self.port):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture
def private_broker(tmp_path: Path):
    """A Mosquitto of this test only (persistence on, so QoS 1 sessions survive a stop and start)."""
    if not os.path.exists(MOSQUITTO):
        _absent(f"the mosquitto binary ({MOSQUITTO})")
    broker = Broker(tmp_path)
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def store(db_url: str):
    """``(url, sessionmaker)`` of the migrated, empty store of ``db_url`` (SQLite and PostgreSQL)."""
    engine = make_engine(db_url)
    yield db_url, session_factory(engine)
    engine.dispose()


def register_fleet(
    sessions, n_sites: int, ders_per_site: int = 1, tenant: str = "agg"
) -> tuple[int, list, list]:
    """An aggregator with ``n_sites`` sites of ``ders_per_site`` batteries: (tenant id, DER ids, site ids)."""
    now = int(time.time())
    with sessions() as s:
        t = get_or_create_tenant(s, tenant, "aggregator")
        ders, sites = [], []
        for k in range(n_sites):
            site = Site(id=f"site-{k}", tenant_id=t.id, external_id=f"site-{k}", created_s=now, updated_s=now)
            s.add(site)
            s.flush()
            for j in range(ders_per_site):
                der_id = f"bat-{k}-{j}"
                s.add(
                    Der(
                        id=der_id,
                        tenant_id=t.id,
                        site_id=site.id,
                        external_id=der_id,
                        der_class="battery",
                        p_max_kw=5.0,
                        e_max_kwh=13.5,
                        created_s=now,
                        updated_s=now,
                    )
                )
                ders.append(der_id)
                sites.append(site.id)
        s.commit()
        return int(t.id), ders, sites


@pytest.fixture
def make_fleet():
    """The :func:`register_fleet` helper."""
    return register_fleet
