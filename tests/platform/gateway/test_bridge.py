"""Telemetry over MQTT into the store: nothing accepted is lost or stored twice, across a broker restart."""

from __future__ import annotations

import threading
import time
import uuid

import numpy as np
import pandas as pd
from sqlalchemy import func, select, text

from openvpp.control.signals import Measurements
from openvpp.platform.gateway.bridge import TelemetryBridge
from openvpp.platform.gateway.mqtt import MqttDeviceLink
from openvpp.platform.store.db import make_engine, session_factory
from openvpp.platform.store.models import Telemetry

N_STEPS = 30
STEP_S = 60


def _measurements(ders, k, t0):
    n = len(ders)
    p = np.round(np.linspace(-2.0, 2.0, n) + 0.01 * k, 3)
    return Measurements(
        time=t0 + pd.Timedelta(seconds=STEP_S * k),
        device_ids=tuple(ders),
        p_kw=p,
        soc=np.full(n, 0.5),
        online=np.ones(n, dtype=bool),
    )


def _stored(sessions):
    with sessions() as s:
        n = s.scalar(select(func.count()).select_from(Telemetry))
        pairs = s.execute(select(Telemetry.der_pk, Telemetry.start_s)).all()
    return int(n), len(set(pairs))


def test_broker_restart_mid_stream_loses_and_duplicates_nothing(private_broker, store, make_fleet):
    _url, sessions = store
    tenant, ders, sites = make_fleet(sessions, n_sites=10, ders_per_site=2)
    t0 = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(seconds=STEP_S * (N_STEPS + 1))
    tag = uuid.uuid4().hex[:8]
    bridge = TelemetryBridge(private_broker.url, sessions, client_id=f"bridge-{tag}")
    link = MqttDeviceLink(private_broker.url, tenant, ders, sites, interval_s=STEP_S, client_id=f"dev-{tag}")
    try:

        def stream():
            for k in range(N_STEPS):
                link.report(_measurements(ders, k, t0))
                time.sleep(0.02)

        worker = threading.Thread(target=stream)
        worker.start()
        time.sleep(0.25)
        private_broker.stop()  # mid-stream: readings published now wait in the device's client
        time.sleep(1.0)
        private_broker.start()
        worker.join()
        assert link.wait_acknowledged(timeout_s=30), "the broker did not acknowledge every reading"
        assert bridge.wait_idle(timeout_s=30, quiet_s=1.0)
    finally:
        link.close()
        bridge.close()
    n_rows, n_distinct = _stored(sessions)
    expected = N_STEPS * len(ders)
    assert link.published == expected
    assert n_rows == expected, f"{expected - n_rows} accepted readings lost; {bridge.stats}"
    assert n_distinct == n_rows
    assert bridge.stats.accepted == expected  # every reading stored once; replays were counted, not stored
    assert bridge.stats.rejected == 0 and bridge.stats.malformed == 0


def test_database_connection_dropped_mid_stream_loses_nothing(private_broker, pg_url, make_fleet):
    tag = f"bridge_{uuid.uuid4().hex[:8]}"
    engine = make_engine(pg_url, connect_args={"application_name": tag})
    sessions = session_factory(engine)
    tenant, ders, sites = make_fleet(sessions, n_sites=10, ders_per_site=2)
    t0 = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(seconds=STEP_S * (N_STEPS + 1))
    bridge = TelemetryBridge(private_broker.url, sessions, client_id=tag, linger_s=0.02)
    link = MqttDeviceLink(private_broker.url, tenant, ders, sites, interval_s=STEP_S, client_id=f"dev-{tag}")
    admin = make_engine(pg_url)
    killed = 0
    try:
        for k in range(N_STEPS):
            link.report(_measurements(ders, k, t0))
            time.sleep(0.02)
            if k % 10 == 5:  # drop every connection of the bridge, whatever it is doing
                with admin.begin() as c:
                    killed += len(
                        c.execute(
                            text(
                                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                " WHERE application_name = :a"
                            ),
                            {"a": tag},
                        ).all()
                    )
        assert link.wait_acknowledged(timeout_s=30)
        assert bridge.wait_idle(timeout_s=30, quiet_s=1.0)
    finally:
        link.close()
        bridge.close()
        admin.dispose()
    n_rows, n_distinct = _stored(sessions)
    engine.dispose()
    assert killed > 0
    assert n_rows == n_distinct == N_STEPS * len(ders), bridge.stats
