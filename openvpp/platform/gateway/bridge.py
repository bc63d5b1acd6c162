"""Telemetry from the broker into the store: QoS 1, acknowledged only once stored, batched.

:class:`TelemetryBridge` subscribes to every DER's telemetry topic (``openvpp/+/+/+/telemetry``) in a
persistent MQTT 5 session with manual acknowledgement. A writer thread takes what arrived, groups it by tenant
(the topic's second level), calls :func:`openvpp.platform.store.telemetry.ingest_readings` (validated,
plausibility-checked, idempotent by DER and interval start) and only after the commit acknowledges the
messages (PUBACK). Hence:

* a reading the broker accepted is not lost if the bridge or the database fails before it is stored: it was
  not acknowledged, so the broker delivers it again when the session resumes;
* a reading delivered twice (QoS 1 is at least once; a broker restart re-sends unacknowledged messages) is
  stored once: the store drops the replay.

Several bridge processes share the load with ``group`` (an MQTT 5 shared subscription).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections import defaultdict
from typing import Any

import paho.mqtt.client as mqtt
from sqlalchemy.orm import Session, sessionmaker

from openvpp.platform.gateway.mqtt import connect_client
from openvpp.platform.gateway.topics import ROOT, gateway_status_topic
from openvpp.platform.store.telemetry import ingest_readings

__all__ = ["BridgeStats", "TelemetryBridge"]

log = logging.getLogger(__name__)

#: most readings written in one transaction [-]
MAX_BATCH = 5000
#: wait before retrying a batch the database refused [s]
RETRY_S = 0.5
#: how long the writer lets a batch fill after its first message: fewer, larger transactions [s]
LINGER_S = 0.1


@dataclasses.dataclass
class BridgeStats:
    """Counters of a bridge since it started.

    Parameters
    ----------
    received : int
        Messages received (duplicates included). [-]
    accepted : int
        Readings stored. [-]
    duplicates : int
        Readings already stored (replays). [-]
    rejected : int
        Readings refused by validation (acknowledged: resending would not help). [-]
    malformed : int
        Messages that are not a JSON reading on a valid topic. [-]
    db_errors : int
        Batches the database failed (retried). [-]
    """

    received: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    malformed: int = 0
    db_errors: int = 0


class TelemetryBridge:
    """MQTT telemetry -> store, acknowledged after commit (see the module docstring).

    Parameters
    ----------
    broker_url : str
        ``mqtt://host:port``.
    sessions : sqlalchemy.orm.sessionmaker
        Session factory of the store.
    client_id : str
        Stable MQTT client id: the broker keeps this session's unacknowledged messages across restarts.
    group : str, optional
        Shared-subscription group, so several bridges split the messages.
    max_batch : int
        Most readings per transaction. [-]
    linger_s : float
        Time a batch may wait to fill after its first message. [s]
    """

    def __init__(
        self,
        broker_url: str,
        sessions: sessionmaker[Session],
        client_id: str = "openvpp-bridge",
        group: str | None = None,
        max_batch: int = MAX_BATCH,
        linger_s: float = LINGER_S,
    ) -> None:
        self.sessions = sessions
        self.max_batch = int(max_batch)
        self.linger_s = float(linger_s)
        self.stats = BridgeStats()
        self._pending: list[mqtt.MQTTMessage] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._busy = 0
        self.connected = threading.Event()
        topic = f"{ROOT}/+/+/+/telemetry"
        if group:
            topic = f"$share/{group}/{topic}"
        self._writer = threading.Thread(target=self._run, name="telemetry-bridge", daemon=True)
        self._writer.start()
        self.client = connect_client(
            broker_url,
            client_id=client_id,
            status=gateway_status_topic("service", client_id),
            on_message=self._on_message,
            subscriptions=(topic,),
            persistent=True,
            manual_ack=True,
            on_connection=lambda up: self.connected.set() if up else self.connected.clear(),
        )

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            self._pending.append(msg)
            self._cond.notify()

    def _take(self) -> list[mqtt.MQTTMessage]:
        with self._cond:
            while not self._pending and not self._stop.is_set():
                self._cond.wait(0.2)
            deadline = time.monotonic() + self.linger_s
            while len(self._pending) < self.max_batch and not self._stop.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            self._busy = len(batch)
            return batch

    def _run(self) -> None:
        while not self._stop.is_set() or self._pending:
            batch = self._take()
            if not batch:
                continue
            try:
                self._store(batch)
            except Exception as exc:  # the database is away: keep the messages unacknowledged and retry
                log.warning("telemetry batch of %d not stored (%s); retrying", len(batch), exc)
                self.stats.db_errors += 1
                with self._cond:
                    self._pending[:0] = batch
                time.sleep(RETRY_S)
                continue
            for msg in batch:
                self.client.ack(msg.mid, msg.qos)
            with self._cond:
                self._busy = 0

    def _store(self, batch: list[mqtt.MQTTMessage]) -> None:
        by_tenant: dict[int, list[dict[str, Any]]] = defaultdict(list)
        malformed = 0
        for msg in batch:
            parts = msg.topic.split("/")
            try:
                reading = json.loads(msg.payload)
                tenant = int(parts[1])
            except (ValueError, IndexError):
                malformed += 1
                continue
            if not isinstance(reading, dict) or reading.get("der_id") != parts[3]:
                malformed += 1
                continue
            by_tenant[tenant].append(reading)
        results = []
        with self.sessions() as session:
            try:
                for tenant, readings in by_tenant.items():
                    results.append(ingest_readings(session, tenant, readings, commit=False))
                session.commit()
            except Exception:
                session.rollback()
                raise
        self.stats.received += len(batch)
        self.stats.malformed += malformed
        for r in results:
            self.stats.accepted += r.accepted
            self.stats.duplicates += r.duplicates
            self.stats.rejected += len(r.rejected)

    def wait_idle(self, timeout_s: float = 30.0, quiet_s: float = 0.5) -> bool:
        """Wait until connected, nothing is pending or being stored, and no message arrived for ``quiet_s``.

        Parameters
        ----------
        timeout_s : float
            Longest wait. [s]
        quiet_s : float
            Quiet time that counts as idle. [s]

        Returns
        -------
        bool
            True when idle in time.
        """
        deadline = time.monotonic() + timeout_s
        last = -1
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            with self._cond:
                busy = bool(self._pending) or self._busy > 0 or not self.connected.is_set()
            seen = self.stats.received
            if busy or seen != last:
                last, quiet_since = seen, time.monotonic()
            elif time.monotonic() - quiet_since >= quiet_s:
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        """Store what arrived, then disconnect (the session stays on the broker)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._writer.join(timeout=30)
        self.client.disconnect()
        self.client.loop_stop()
