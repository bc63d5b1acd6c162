"""Envelopes over MQTT: the DSO side publishes them retained with expiry; the aggregator side caches them and
reverts to the static default export limit when they expire or the feed is lost (seed 001 §2.1).

:func:`publish_envelope` sends one retained message per site on ``openvpp/{tenant}/{site}/envelope`` with an
MQTT 5 message-expiry interval up to ``valid_until``. The envelope-refresh job of the runtime republishes them
every interval, which is the feed's heartbeat.

:class:`EnvelopeClient` (the aggregator's side) keeps the newest envelope of each site and answers
:meth:`EnvelopeClient.current` with, per site, either the live limits or the fallback - export limited to the
static default (``ServiceSettings.static_export_limit_kw``, SAPN's 5 kW quoted by seed 001), import
unlimited - when

* the site's envelope has expired (``valid_until`` passed), or none was received yet;
* the connection to the broker is lost (immediately), or
* no envelope message arrived for ``feed_timeout_s`` (one refresh interval) although connected.

It says so: :meth:`EnvelopeClient.current` returns ``status="fallback"``, :meth:`EnvelopeClient.fallback_mask`
gives the per-site flag the telemetry carries (``envelope_fallback``), and :meth:`EnvelopeClient.status` the
reason. It recovers by itself: the next envelope message after the feed returns makes the site live again.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import paho.mqtt.client as mqtt
import pandas as pd

from openvpp.control.signals import EnvelopeUpdate, as_time
from openvpp.errors import ValidationError
from openvpp.platform.gateway.mqtt import connect_client, publish_json
from openvpp.platform.gateway.topics import check_id, envelope_topic, gateway_status_topic

__all__ = ["EnvelopeClient", "publish_envelope"]


def publish_envelope(
    client: mqtt.Client, tenant: int, envelope: EnvelopeUpdate, now: pd.Timestamp | None = None
) -> int:
    """Publish an envelope as one retained, expiring message per site.

    Parameters
    ----------
    client : paho.mqtt.client.Client
        Connected client (from :func:`~openvpp.platform.gateway.mqtt.connect_client`).
    tenant : int
        Aggregator tenant the sites belong to. [-]
    envelope : EnvelopeUpdate
        Limits per site (magnitudes, kW) and ``valid_until``.
    now : pandas.Timestamp, optional
        Current time (default: now) for the expiry interval.

    Returns
    -------
    int
        Messages published. [-]
    """
    now = pd.Timestamp.now(tz="UTC") if now is None else as_time(now, "now")
    expiry_s = (envelope.valid_until - now).total_seconds()
    if expiry_s <= 0:
        raise ValidationError(f"envelope.valid_until ({envelope.valid_until}) is not after now ({now})")
    for k, site in enumerate(envelope.site_ids):
        one = EnvelopeUpdate(
            time=envelope.time,
            site_ids=(site,),
            export_limit_kw=envelope.export_limit_kw[k : k + 1],
            import_limit_kw=envelope.import_limit_kw[k : k + 1],
            valid_until=envelope.valid_until,
        )
        publish_json(
            client,
            envelope_topic(int(tenant), check_id(site, "site_id")),
            one.to_dict(),
            retain=True,
            expiry_s=expiry_s,
        )
    return len(envelope.site_ids)


class EnvelopeClient:
    """The aggregator's cache of its sites' envelopes, with the static fallback (module docstring).

    Parameters
    ----------
    broker_url : str
        ``mqtt://host:port``.
    tenant : int
        The aggregator's tenant id. [-]
    site_ids : sequence of str
        Sites whose envelopes are followed.
    static_export_limit_kw : float
        Export limit per site when no live envelope applies (seed 001 §2.1 static default). [kW]
    feed_timeout_s : float
        Longest silence of the feed before falling back: the publisher's refresh interval. [s]
    name : str
        Name in the status topic.
    """

    def __init__(
        self,
        broker_url: str,
        tenant: int,
        site_ids: Sequence[str],
        static_export_limit_kw: float,
        feed_timeout_s: float = 300.0,
        name: str = "envelope-client",
    ) -> None:
        if not np.isfinite(static_export_limit_kw) or static_export_limit_kw < 0:
            raise ValidationError(
                f"static_export_limit_kw must be a finite limit >= 0 kW (got {static_export_limit_kw})"
            )
        if not feed_timeout_s > 0:
            raise ValidationError(f"feed_timeout_s must be > 0 s (got {feed_timeout_s})")
        self.tenant = int(tenant)
        self.site_ids = tuple(check_id(s, "site_id") for s in site_ids)
        self._index = {s: i for i, s in enumerate(self.site_ids)}
        self.static_export_limit_kw = float(static_export_limit_kw)
        self.feed_timeout_s = float(feed_timeout_s)
        n = len(self.site_ids)
        self._export = np.full(n, np.nan)
        self._import = np.full(n, np.inf)
        self._until_s = np.full(n, -np.inf)
        self._last_msg = -np.inf
        self._connected = False
        self._lock = threading.Lock()
        self.transitions: list[tuple[float, str, str]] = []
        self._state = ("fallback", "no envelope received yet")
        self.client = connect_client(
            broker_url,
            status=gateway_status_topic(self.tenant, name),
            on_message=self._on_message,
            subscriptions=(envelope_topic(self.tenant, "+"),),
            on_connection=self._on_connection,
        )

    def _on_connection(self, up: bool) -> None:
        with self._lock:
            self._connected = up

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            env = EnvelopeUpdate.from_dict(json.loads(msg.payload))
        except (ValueError, ValidationError, TypeError):
            return
        with self._lock:
            self._last_msg = time.monotonic()
            for k, site in enumerate(env.site_ids):
                i = self._index.get(site)
                if i is not None:
                    self._export[i] = env.export_limit_kw[k]
                    self._import[i] = env.import_limit_kw[k]
                    self._until_s[i] = env.valid_until.timestamp()

    def _live(self, now: pd.Timestamp) -> tuple[np.ndarray, str]:
        t = as_time(now, "now").timestamp()
        with self._lock:
            if not self._connected:
                return np.zeros(len(self.site_ids), dtype=bool), "broker connection lost"
            if time.monotonic() - self._last_msg > self.feed_timeout_s:
                return np.zeros(len(self.site_ids), dtype=bool), f"no envelope for {self.feed_timeout_s:g} s"
            live = (self._until_s > t) & ~np.isnan(self._export)
        return live, "" if live.all() else "envelope expired or missing for some sites"

    def fallback_mask(self, now: pd.Timestamp) -> np.ndarray:
        """Per site, True where the static fallback applies at ``now``.

        Parameters
        ----------
        now : pandas.Timestamp
            The clock.

        Returns
        -------
        numpy.ndarray of bool, shape (n_sites,)
        """
        return ~self._live(now)[0]

    def current(self, now: pd.Timestamp) -> EnvelopeUpdate:
        """The limits in force at ``now``: live where possible, the static fallback elsewhere.

        Parameters
        ----------
        now : pandas.Timestamp
            The clock.

        Returns
        -------
        EnvelopeUpdate
            Export and import limits per site [kW]; ``status`` is ``fallback`` if any site is on the fallback.
        """
        live, reason = self._live(now)
        with self._lock:
            export = np.where(live, self._export, self.static_export_limit_kw)
            imp = np.where(live, self._import, np.inf)
            until = self._until_s.copy()
        status: Literal["live", "fallback"] = "live" if live.all() else "fallback"
        self._record(status, reason)
        t = as_time(now, "now")
        valid_until = (
            pd.Timestamp(float(until[live].min()), unit="s", tz="UTC")
            if live.all() and len(live)
            else (t + pd.Timedelta(seconds=self.feed_timeout_s))
        )
        return EnvelopeUpdate(
            time=t,
            site_ids=self.site_ids,
            export_limit_kw=export,
            import_limit_kw=imp,
            valid_until=max(valid_until, t),
            status=status,
        )

    def _record(self, status: str, reason: str) -> None:
        with self._lock:
            if (status, reason) != self._state:
                self._state = (status, reason)
                self.transitions.append((time.time(), status, reason))

    def status(self) -> dict[str, Any]:
        """The client's state as JSON-safe values: ``status`` (live / fallback), ``reason``, ``connected``.

        Returns
        -------
        dict
        """
        with self._lock:
            return {
                "status": self._state[0],
                "reason": self._state[1],
                "connected": self._connected,
                "static_export_limit_kw": self.static_export_limit_kw,
            }

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()
