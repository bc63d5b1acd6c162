"""The runtime's jobs against the real store and broker: envelope refresh from stored CSIP-AUS envelopes,
outbox delivery to MQTT and webhooks, planning in-process and on Dask."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid

import httpx
import numpy as np
import pandas as pd

from openvpp.platform.gateway.envelopes import EnvelopeClient
from openvpp.platform.gateway.mqtt import connect_client
from openvpp.platform.runtime.jobs import deliver_outbox, plan_day_ahead, refresh_envelopes
from openvpp.platform.store import outbox
from openvpp.platform.store.db import make_engine, session_factory
from openvpp.platform.store.keys import get_or_create_tenant
from openvpp.platform.store.models import Envelope, Site
from openvpp.units import energy_kwh


def test_refresh_publishes_the_stored_envelope_in_kw(db_url, broker_url):
    engine = make_engine(db_url)
    sessions = session_factory(engine)
    now = int(time.time())
    site = f"site-{uuid.uuid4().hex[:10]}"
    with sessions() as s:
        dso = get_or_create_tenant(s, "dso", "dso")
        agg = get_or_create_tenant(s, f"agg-{site}", "aggregator")
        s.add(Site(id=site, tenant_id=agg.id, external_id=site, created_s=now, updated_s=now))
        s.flush()
        # opModExpLimW = 35 x 10^2 W = 3.5 kW; opModImpLimW = 12 x 10^3 W = 12 kW (IEEE 2030.5 ActivePower)
        s.add(
            Envelope(
                mrid=uuid.uuid4().hex,
                tenant_id=dso.id,
                subject_kind="site",
                subject_id=site,
                start_s=now - 60,
                duration_s=120,
                exp_lim_value=35,
                exp_lim_mult=2,
                imp_lim_value=12,
                imp_lim_mult=3,
                status="active",
                created_s=now,
            )
        )
        s.add(
            Envelope(
                mrid=uuid.uuid4().hex,
                tenant_id=dso.id,
                subject_kind="site",
                subject_id=site,
                start_s=now - 600,
                duration_s=120,
                exp_lim_value=1,
                exp_lim_mult=0,
                status="superseded",
                created_s=now,
            )
        )
        s.commit()
        tenant = int(agg.id)
    client = EnvelopeClient(broker_url, tenant, [site], static_export_limit_kw=5.0, feed_timeout_s=30)
    pub = connect_client(broker_url)
    try:
        assert refresh_envelopes(sessions, pub) >= 1
        deadline = time.monotonic() + 5
        while client.current(pd.Timestamp.now(tz="UTC")).status != "live":
            assert time.monotonic() < deadline, client.status()
            time.sleep(0.02)
        env = client.current(pd.Timestamp.now(tz="UTC"))
        assert env.export_limit_kw.tolist() == [3.5] and env.import_limit_kw.tolist() == [12.0]
        assert env.valid_until == pd.Timestamp(now + 60, unit="s", tz="UTC")
    finally:
        client.close()
        pub.loop_stop()
        engine.dispose()


def test_outbox_goes_to_mqtt_and_a_dead_webhook_is_retried(db_url, broker_url):
    engine = make_engine(db_url)
    sessions = session_factory(engine)
    topic = f"openvpp/test/{uuid.uuid4().hex}"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/cb"  # nothing listens there once closed
    got = threading.Event()
    payloads = []

    def on_message(_c, _u, msg):
        payloads.append(json.loads(msg.payload))
        got.set()

    sub = connect_client(broker_url, on_message=on_message, subscriptions=(topic,))
    pub = connect_client(broker_url)
    try:
        with sessions() as s:
            outbox.enqueue(s, None, topic, {"p_kw": 1.5})
            outbox.enqueue(
                s, None, "openadr/webhook/x", {"url": dead, "notification": {"operation": "CREATE"}}
            )
            s.commit()
        with httpx.Client() as http:
            res = deliver_outbox(sessions, http, pub)
            assert (res.delivered, res.failed) == (1, 1)
            assert got.wait(5) and payloads == [{"p_kw": 1.5}]
            with sessions() as s:
                assert outbox.pending_count(s) == 1  # the webhook waits for its next try
            assert deliver_outbox(sessions, http, None).delivered == 0  # still leased: not claimed twice
    finally:
        sub.loop_stop()
        pub.loop_stop()
        engine.dispose()


def test_planning_runs_here_and_on_dask():
    from dask.distributed import LocalCluster

    p = np.array([[1.0, 2.0], [3.0, -4.0]])
    here = plan_day_ahead(energy_kwh, p, 0.25)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        there = plan_day_ahead(energy_kwh, p, 0.25, dask_address=cluster.scheduler_address)
    assert np.array_equal(here, there) and np.allclose(here, p * 0.25)
