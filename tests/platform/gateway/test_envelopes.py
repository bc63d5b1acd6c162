"""The aggregator's envelope client against a real broker: live limits, the static fallback within one
interval of losing the feed (broker stopped, or publisher silent), expiry of retained envelopes, recovery."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest

from openvpp.control.signals import EnvelopeUpdate
from openvpp.errors import ValidationError
from openvpp.platform.gateway.envelopes import EnvelopeClient, publish_envelope
from openvpp.platform.gateway.mqtt import connect_client

INTERVAL_S = 1.0  # the feed's refresh interval (the service uses its envelope interval, e.g. 5 min)
STATIC_KW = 5.0
SITES = ("s1", "s2")


def _envelope(valid_s: float, export=(3.0, 2.5)) -> EnvelopeUpdate:
    now = pd.Timestamp.now(tz="UTC")
    return EnvelopeUpdate(
        time=now,
        site_ids=SITES,
        export_limit_kw=np.array(export),
        import_limit_kw=np.array([10.0, np.inf]),
        valid_until=now + pd.Timedelta(seconds=valid_s),
    )


class Feed:
    """The DSO's refresh job in miniature: republish every half interval until stopped."""

    def __init__(self, url: str, tenant: int) -> None:
        self.client = connect_client(url)
        self.tenant = tenant
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            if self.client.is_connected():
                publish_envelope(self.client, self.tenant, _envelope(60.0))
            self.stop.wait(INTERVAL_S / 2)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.client.loop_stop()


def _wait_status(client: EnvelopeClient, status: str, timeout_s: float) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        if client.current(pd.Timestamp.now(tz="UTC")).status == status:
            return time.monotonic() - t0
        time.sleep(0.02)
    raise AssertionError(f"envelope client not {status!r} within {timeout_s} s: {client.status()}")


def test_fallback_within_one_interval_of_losing_the_feed_and_recovery(private_broker):
    tenant = 41
    feed = Feed(private_broker.url, tenant)
    client = EnvelopeClient(private_broker.url, tenant, SITES, STATIC_KW, feed_timeout_s=INTERVAL_S)
    try:
        _wait_status(client, "live", 5)
        env = client.current(pd.Timestamp.now(tz="UTC"))
        assert env.export_limit_kw.tolist() == [3.0, 2.5] and env.import_limit_kw.tolist() == [10.0, np.inf]
        assert not client.fallback_mask(pd.Timestamp.now(tz="UTC")).any()

        # 1. the broker goes away: fallback to the static limit within one interval
        private_broker.stop()
        took = _wait_status(client, "fallback", 3 * INTERVAL_S)
        assert took <= INTERVAL_S
        env = client.current(pd.Timestamp.now(tz="UTC"))
        assert env.export_limit_kw.tolist() == [STATIC_KW, STATIC_KW]
        assert np.isinf(env.import_limit_kw).all()
        assert client.fallback_mask(pd.Timestamp.now(tz="UTC")).all()
        assert client.status()["status"] == "fallback" and client.status()["connected"] is False

        # 2. it returns: live again as soon as the feed delivers
        private_broker.start()
        _wait_status(client, "live", 10)
        assert client.current(pd.Timestamp.now(tz="UTC")).export_limit_kw.tolist() == [3.0, 2.5]

        # 3. the publisher falls silent while the broker stays up: fallback within one interval of silence
        feed.close()
        t_last = time.monotonic()
        _wait_status(client, "fallback", 3 * INTERVAL_S)
        assert (
            time.monotonic() - t_last <= INTERVAL_S + INTERVAL_S / 2 + 0.3
        )  # last message <= half an interval ago
        assert "no envelope" in client.status()["reason"]
        statuses = [s for _, s, _ in client.transitions]
        changes = [s for k, s in enumerate(statuses) if k == 0 or s != statuses[k - 1]]
        # before its first envelope the client is on the static limit; whether that start is recorded
        # depends on how fast the broker answers, so the history is read from the first "live"
        changes = changes[changes.index("live") - 1 :] if changes[0] != "live" else ["fallback", *changes]
        assert changes == [
            "fallback",
            "live",
            "fallback",
            "live",
            "fallback",
        ]  # start, loss, recovery, silence
    finally:
        client.close()
        feed.stop.set()


def test_expired_envelope_is_not_applied_nor_delivered(broker_url):
    tenant = 900_000 + int(time.time()) % 100_000  # topics of this test only on the shared broker
    pub = connect_client(broker_url)
    try:
        publish_envelope(pub, tenant, _envelope(1.0))
        client = EnvelopeClient(broker_url, tenant, SITES, STATIC_KW, feed_timeout_s=30)
        try:
            _wait_status(client, "live", 5)
            time.sleep(1.1)
            env = client.current(pd.Timestamp.now(tz="UTC"))
            assert env.status == "fallback" and env.export_limit_kw.tolist() == [STATIC_KW, STATIC_KW]
        finally:
            client.close()
        time.sleep(0.3)  # the retained copy has expired on the broker (MQTT 5 message expiry)
        late = EnvelopeClient(broker_url, tenant, SITES, STATIC_KW, feed_timeout_s=30)
        try:
            time.sleep(0.5)
            assert late.current(pd.Timestamp.now(tz="UTC")).status == "fallback"
        finally:
            late.close()
    finally:
        pub.loop_stop()


def test_bad_settings_are_refused(broker_url):
    with pytest.raises(ValidationError, match="static_export_limit_kw"):
        EnvelopeClient(broker_url, 1, SITES, -1.0)
    with pytest.raises(ValidationError, match="site_id"):
        EnvelopeClient(broker_url, 1, ("a/b",), 5.0)
    with pytest.raises(ValidationError, match="valid_until"):
        publish_envelope(None, 1, _envelope(-5.0))
