"""MQTT transport of the operating loop (paho-mqtt 2, MQTT 5, QoS 1) behind the co-simulation's interface.

:class:`MqttTransport` is the controller's side of :class:`openvpp.sim.transport.Transport`: :meth:`send`
publishes each DER's set-point retained with a message-expiry interval up to its ``valid_until``;
:meth:`receive` returns the newest reading of each DER that arrived on its telemetry topic;
:meth:`poll_signals` returns instructions and outages from the tenant's signals topic and, through an
:class:`~openvpp.platform.gateway.envelopes.EnvelopeClient`, the envelopes in force (live or the static
fallback). :class:`MqttDeviceLink` is the devices' side (what the in-process transport offers the simulator
as ``deliver`` / ``report``): it applies the newest unexpired set-point and publishes readings in the store's
format (seed 001 §2.1 monitoring fields). Topics: :mod:`openvpp.platform.gateway.topics`.

Every client sets a last will (``offline``, retained) on its status topic and publishes ``online`` when it
connects, reconnects by itself when the broker returns, and re-sends QoS 1 messages the broker had not
acknowledged (paho keeps them while disconnected), so a reading published during a broker outage is delivered
once the broker is back; duplicates are possible (QoS 1 is at least once) and the store drops them (idempotent
by DER and interval). Load convention for every power (+ = import / charging).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
import pandas as pd
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from openvpp.control.signals import Instruction, Measurements, Outage, Setpoints, Signals, as_time
from openvpp.errors import ValidationError
from openvpp.platform.gateway.topics import (
    check_id,
    parse_broker_url,
    setpoint_topic,
    signals_topic,
    split_device_topic,
    status_topic,
    telemetry_topic,
)

__all__ = ["MqttDeviceLink", "MqttTransport", "connect_client", "publish_json"]

#: QoS of every message of the gateway (at least once)
QOS = 1
#: most QoS 1 messages in flight per client; large so throughput is not bound by round trips [-]
MAX_INFLIGHT = 1000
#: how long the broker keeps a disconnected client's session (its subscriptions and queued messages) [s]
SESSION_EXPIRY_S = 3600
#: wait for the first connection before giving up [s]
CONNECT_TIMEOUT_S = 10.0


def publish_json(
    client: mqtt.Client, topic: str, payload: Any, retain: bool = False, expiry_s: float | None = None
) -> mqtt.MQTTMessageInfo:
    """Publish a JSON payload with QoS 1, optionally retained with an MQTT 5 message-expiry interval.

    Parameters
    ----------
    client : paho.mqtt.client.Client
        Connected (or reconnecting: QoS 1 messages are queued) client.
    topic : str
        Topic.
    payload : JSON-serialisable
        Message body.
    retain : bool
        Keep as the topic's retained message.
    expiry_s : float, optional
        Message expiry interval: the broker drops the message (retained copy included) after it. [s]

    Returns
    -------
    paho.mqtt.client.MQTTMessageInfo
    """
    props = None
    if expiry_s is not None:
        props = Properties(PacketTypes.PUBLISH)
        props.MessageExpiryInterval = max(1, int(np.ceil(expiry_s)))
    return client.publish(
        topic, json.dumps(payload, separators=(",", ":")), qos=QOS, retain=retain, properties=props
    )


def connect_client(
    broker_url: str,
    client_id: str | None = None,
    status: str | None = None,
    on_message: Callable[[mqtt.Client, Any, mqtt.MQTTMessage], None] | None = None,
    subscriptions: Sequence[str] = (),
    persistent: bool = False,
    manual_ack: bool = False,
    on_connection: Callable[[bool], None] | None = None,
    wait: bool = True,
) -> mqtt.Client:
    """An MQTT 5 client with a last will, automatic reconnection and re-subscription, its loop started.

    Parameters
    ----------
    broker_url : str
        ``mqtt://host:port``.
    client_id : str, optional
        Client id (a persistent session needs a stable one; default a random id).
    status : str, optional
        Status topic: last will ``offline`` (retained), ``online`` published on every connection.
    on_message : callable, optional
        paho message callback ``(client, userdata, message)``.
    subscriptions : sequence of str
        Topic filters subscribed with QoS 1 on every connection.
    persistent : bool
        Keep the session (subscriptions, queued QoS 1 messages) across disconnections for
        :data:`SESSION_EXPIRY_S`.
    manual_ack : bool
        Acknowledge received messages only when :meth:`paho.mqtt.client.Client.ack` is called.
    on_connection : callable, optional
        Called with True on every connection and False on every disconnection.
    wait : bool
        Block until the first connection (:data:`CONNECT_TIMEOUT_S`).

    Returns
    -------
    paho.mqtt.client.Client
    """
    addr = parse_broker_url(broker_url)
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id or f"openvpp-{uuid.uuid4().hex[:12]}",
        protocol=mqtt.MQTTv5,
    )
    client.max_inflight_messages_set(MAX_INFLIGHT)
    client.reconnect_delay_set(min_delay=1, max_delay=2)
    if manual_ack:
        client.manual_ack_set(True)
    if status:
        client.will_set(status, "offline", qos=QOS, retain=True)
    if on_message is not None:
        client.on_message = on_message
    connected = threading.Event()

    def _on_connect(c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any = None) -> None:
        if getattr(reason, "is_failure", False):
            return
        for topic in subscriptions:
            c.subscribe(topic, qos=QOS)
        if status:
            c.publish(status, "online", qos=QOS, retain=True)
        connected.set()
        if on_connection is not None:
            on_connection(True)

    def _on_disconnect(_c: mqtt.Client, _u: Any, _f: Any, _reason: Any, _p: Any = None) -> None:
        connected.clear()
        if on_connection is not None:
            on_connection(False)

    client.on_connect = _on_connect
    client.on_disconnect = _on_disconnect
    props = Properties(PacketTypes.CONNECT)
    props.ReceiveMaximum = 65535
    if persistent:
        props.SessionExpiryInterval = SESSION_EXPIRY_S
    client.connect_async(addr.host, addr.port, keepalive=5, clean_start=not persistent, properties=props)
    client.loop_start()
    if wait and not connected.wait(CONNECT_TIMEOUT_S):
        client.loop_stop()
        raise ValidationError(f"no MQTT broker answered at {broker_url} within {CONNECT_TIMEOUT_S:g} s")
    return client


def _expiry_s(valid_until: pd.Timestamp, now: pd.Timestamp) -> float:
    return max(1.0, (valid_until - now).total_seconds())


class MqttTransport:
    """The controller's side of the MQTT gateway: set-points out, telemetry and signals in.

    Parameters
    ----------
    broker_url : str
        ``mqtt://host:port``.
    tenant : int
        Tenant id of the aggregator whose DERs these are. [-]
    device_ids : sequence of str
        DER ids, in the order of set-points and measurements.
    site_of : sequence of str
        Site id of each DER.
    envelopes : EnvelopeClient, optional
        Envelope client whose envelopes :meth:`poll_signals` passes on.
    name : str
        Name of this process in its status topic.
    """

    def __init__(
        self,
        broker_url: str,
        tenant: int,
        device_ids: Sequence[str],
        site_of: Sequence[str],
        envelopes: Any = None,
        name: str = "controller",
    ) -> None:
        self.tenant = int(tenant)
        self.device_ids = tuple(check_id(d, "der_id") for d in device_ids)
        self.site_of = tuple(check_id(s, "site_id") for s in site_of)
        if len(self.site_of) != len(self.device_ids):
            raise ValidationError(
                f"site_of needs one site per DER ({len(self.device_ids)}); got {len(self.site_of)}"
            )
        self._index = {d: i for i, d in enumerate(self.device_ids)}
        n = len(self.device_ids)
        self._p_kw = np.full(n, np.nan)
        self._soc = np.full(n, np.nan)
        self._seen_s = np.full(n, -np.inf)
        self._lock = threading.Lock()
        self._signals: list[Signals] = []
        self.envelopes = envelopes
        self._last_envelopes: Any = None
        self.client = connect_client(
            broker_url,
            status=f"openvpp/{self.tenant}/gateway/{name}/status",
            on_message=self._on_message,
            subscriptions=(telemetry_topic(self.tenant, "+", "+"), signals_topic(self.tenant)),
        )

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            data = json.loads(msg.payload)
        except ValueError:
            return
        if msg.topic == signals_topic(self.tenant):
            try:
                sig = Signals(
                    instructions=tuple(Instruction.from_dict(i) for i in data.get("instructions", ())),
                    outages=tuple(Outage.from_dict(o) for o in data.get("outages", ())),
                )
            except ValidationError:
                return
            with self._lock:
                self._signals.append(sig)
            return
        try:
            _t, _site, der, _leaf = split_device_topic(msg.topic)
        except ValidationError:
            return
        i = self._index.get(der)
        if i is None:
            return
        start = data.get("start")
        t_s = pd.Timestamp(start).timestamp() if isinstance(start, str) else float(start or 0)
        with self._lock:
            if t_s >= self._seen_s[i]:
                p = data.get("p_der_kw")
                soc = data.get("soc")
                self._p_kw[i] = np.nan if p is None else float(p)
                self._soc[i] = np.nan if soc is None else float(soc)
                self._seen_s[i] = t_s

    def send(self, setpoints: Setpoints) -> None:
        """Publish each DER's set-point, retained, expiring at ``setpoints.valid_until``.

        Parameters
        ----------
        setpoints : Setpoints
            Set-points of this tick for this transport's DERs (any order, any subset).
        """
        expiry = _expiry_s(setpoints.valid_until, setpoints.time)
        for der, p in zip(setpoints.device_ids, setpoints.p_kw, strict=True):
            i = self._index.get(der)
            if i is None:
                raise ValidationError(f"setpoints.device_ids: {der!r} is not a DER of this transport")
            body = {
                "time": setpoints.time.isoformat(),
                "p_kw": float(p),
                "valid_until": setpoints.valid_until.isoformat(),
            }
            publish_json(
                self.client,
                setpoint_topic(self.tenant, self.site_of[i], der),
                body,
                retain=True,
                expiry_s=expiry,
            )

    def receive(self, now: pd.Timestamp, stale_s: float = 900.0) -> Measurements:
        """The newest reading of each DER (NaN and offline where none arrived within ``stale_s``).

        Parameters
        ----------
        now : pandas.Timestamp
            The controller's clock.
        stale_s : float
            A reading older than this counts as missing. [s]

        Returns
        -------
        Measurements
        """
        t = as_time(now, "now").timestamp()
        with self._lock:
            fresh = self._seen_s >= t - stale_s
            p = np.where(fresh, self._p_kw, np.nan)
            soc = np.clip(np.where(fresh, self._soc, np.nan), 0.0, 1.0)
        return Measurements(
            time=now, device_ids=self.device_ids, p_kw=p, soc=soc, online=fresh & ~np.isnan(p)
        )

    def poll_signals(self, now: pd.Timestamp) -> Signals:
        """Instructions and outages received since the last call, and the envelopes in force if they changed.

        Parameters
        ----------
        now : pandas.Timestamp
            The controller's clock.

        Returns
        -------
        Signals
        """
        with self._lock:
            posted, self._signals = self._signals, []
        envelopes: tuple[Any, ...] = ()
        if self.envelopes is not None:
            env = self.envelopes.current(now)
            key = (env.status, tuple(env.export_limit_kw), tuple(env.import_limit_kw))
            if key != self._last_envelopes:
                envelopes, self._last_envelopes = (env,), key
        return Signals(
            instructions=tuple(i for s in posted for i in s.instructions),
            outages=tuple(o for s in posted for o in s.outages),
            envelopes=envelopes,
        )

    def close(self) -> None:
        """Disconnect (the status topic then says ``offline``)."""
        self.client.disconnect()
        self.client.loop_stop()


class MqttDeviceLink:
    """The devices' side of the MQTT gateway: set-points in, readings out (one client for many DERs).

    Parameters
    ----------
    broker_url : str
        ``mqtt://host:port``.
    tenant : int
        Tenant id. [-]
    device_ids : sequence of str
        DER ids.
    site_of : sequence of str
        Site id of each DER.
    interval_s : int
        Monitoring interval of the published readings (seed 001 §2.1: 5 min). [s]
    client_id : str, optional
        Stable client id (keeps the session across reconnections).
    """

    def __init__(
        self,
        broker_url: str,
        tenant: int,
        device_ids: Sequence[str],
        site_of: Sequence[str],
        interval_s: int = 300,
        client_id: str | None = None,
    ) -> None:
        self.tenant = int(tenant)
        self.device_ids = tuple(check_id(d, "der_id") for d in device_ids)
        self.site_of = tuple(check_id(s, "site_id") for s in site_of)
        if len(self.site_of) != len(self.device_ids):
            raise ValidationError(
                f"site_of needs one site per DER ({len(self.device_ids)}); got {len(self.site_of)}"
            )
        self.interval_s = int(interval_s)
        self._index = {d: i for i, d in enumerate(self.device_ids)}
        n = len(self.device_ids)
        self._p_kw = np.full(n, np.nan)
        self._until_s = np.full(n, -np.inf)
        self._lock = threading.Lock()
        self.published = 0
        self.acknowledged = 0
        self.client = connect_client(
            broker_url,
            client_id=client_id,
            status=f"openvpp/{self.tenant}/gateway/devices/status",
            on_message=self._on_message,
            subscriptions=(setpoint_topic(self.tenant, "+", "+"),),
            persistent=client_id is not None,
        )
        self.client.on_publish = self._on_publish

    def _on_publish(self, _c: mqtt.Client, _u: Any, _mid: int, _reason: Any, _p: Any) -> None:
        with self._lock:
            self.acknowledged += 1

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            _t, _site, der, _leaf = split_device_topic(msg.topic)
            data = json.loads(msg.payload)
            until = pd.Timestamp(data["valid_until"]).timestamp()
            p = float(data["p_kw"])
        except (ValidationError, ValueError, KeyError, TypeError):
            return
        i = self._index.get(der)
        if i is not None:
            with self._lock:
                self._p_kw[i], self._until_s[i] = p, until

    def deliver(self, now: pd.Timestamp) -> np.ndarray:
        """The set-point each DER applies at ``now`` (NaN: none arrived, or it expired).

        Parameters
        ----------
        now : pandas.Timestamp
            The clock.

        Returns
        -------
        numpy.ndarray, shape (n_devices,)
            Set-point in force, load convention. [kW]
        """
        t = as_time(now, "now").timestamp()
        with self._lock:
            return np.where(self._until_s >= t, self._p_kw, np.nan)

    def report(self, measurements: Measurements, envelope_fallback: Sequence[bool] | None = None) -> int:
        """Publish one reading per DER (QoS 1; queued while the broker is away).

        Parameters
        ----------
        measurements : Measurements
            Readings of these DERs.
        envelope_fallback : sequence of bool, optional
            Per DER, whether its site runs on the static fallback limit (reported in the telemetry).

        Returns
        -------
        int
            Messages published. [-]
        """
        start = int(measurements.time.timestamp())  # unix seconds: the cheapest form for the store to read
        n = 0
        for k, der in enumerate(measurements.device_ids):
            i = self._index.get(der)
            if i is None:
                raise ValidationError(f"measurements.device_ids: {der!r} is not a DER of this link")
            p, soc = measurements.p_kw[k], measurements.soc[k]
            reading = {
                "der_id": der,
                "start": start,
                "interval_s": self.interval_s,
                "p_der_kw": None if np.isnan(p) else float(p),
                "soc": None if np.isnan(soc) else float(soc),
            }
            if envelope_fallback is not None:
                reading["envelope_fallback"] = bool(envelope_fallback[k])
            publish_json(self.client, telemetry_topic(self.tenant, self.site_of[i], der), reading)
            n += 1
        with self._lock:
            self.published += n
        return n

    def wait_acknowledged(self, timeout_s: float = 30.0) -> bool:
        """Wait until the broker acknowledged every reading published so far.

        Parameters
        ----------
        timeout_s : float
            Longest wait. [s]

        Returns
        -------
        bool
            True when everything was acknowledged in time.
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if self.acknowledged >= self.published:
                    return True
            time.sleep(0.02)
        return False

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


_ = status_topic  # per-DER status topics are published by real DER gateways; listed in the topic tree
