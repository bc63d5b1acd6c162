"""The service side of ``openvpp demo``: the DSO and the aggregator talking to one in-process OpenVPP service.

The demo runs the real service application (:func:`openvpp.platform.api.app.create_app`) on a migrated store
(SQLite in a temporary folder by default, PostgreSQL when a ``postgresql://`` URL is given) and drives it
through HTTP exactly as the two roles of seed 001 §2.1 would:

* the **DSO** publishes the day's export envelopes per site (CSIP-AUS ``opModExpLimW``, IEEE 2030.5
  ActivePower) and the peak-reduction instruction as an OpenADR 3.1 event (``DISPATCH_SETPOINT_RELATIVE``);
* the **aggregator** registers its sites and DERs (location, ratings, VPP id; seed 001 §2.1), reads its
  envelopes back every 5 min (reverting to the service's static default export limit while the feed cannot be
  reached, seed 001 §2.1), reads the OpenADR event and turns it into a controller instruction
  (:func:`openvpp.platform.gateway.openadr_signals.event_signals`), and posts the 5-min telemetry of seed 001
  §2.1 (site power average / minimum / maximum, SoC, envelope fallback flag).

Every request goes through the service's authentication (API keys with the roles' scopes), validation and
store; any 4xx/5xx answer stops the demo with the service's message.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
import uuid
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openvpp.envelopes.objects import decode_active_power
from openvpp.errors import OpenVPPError, ValidationError
from openvpp.units import W_PER_KW, kw_to_w

__all__ = ["DemoService", "check_db_url", "demo_service"]

#: telemetry readings per request (the service's default batch bound is 5,000)
TELEMETRY_BATCH = 1000
#: envelopes per publication request
ENVELOPE_BATCH = 2000
#: name of the aggregator's VPP in the registry
VPP_ID = "openvpp-demo"
_ID_BAD = re.compile(r"[^A-Za-z0-9_.:\-]")


class ServiceUnavailable(OpenVPPError):
    """The envelope feed could not be reached (raised while the demo's feed drop-out is active)."""


def _ext(name: str) -> str:
    """A fleet id as a registry id (letters, digits and ``_.:-``; the original is kept as the name)."""
    return _ID_BAD.sub("_", str(name))[:100]


def _iso(t: pd.Timestamp) -> str:
    return pd.Timestamp(t).tz_convert("UTC").isoformat()


@dataclasses.dataclass
class DemoService:
    """An in-process OpenVPP service with a DSO key and an aggregator key.

    Attributes
    ----------
    client : fastapi.testclient.TestClient
        HTTP client of the running application.
    db_url : str
        Store URL (SQLite file or PostgreSQL schema).
    dso, aggregator : dict
        Authorization headers of the two roles.
    aggregator_tenant : int
        Tenant id of the aggregator (its OpenADR VEN client id). [-]
    site_ids : dict
        Fleet site id -> service site id, once registered.
    requests : int
        Requests sent so far. [-]
    """

    client: Any
    db_url: str
    dso: dict[str, str]
    aggregator: dict[str, str]
    aggregator_tenant: int
    requests: int = 0
    site_ids: dict[str, str] = dataclasses.field(default_factory=dict)

    def call(self, method: str, path: str, who: str, **kwargs: Any) -> Any:
        """Send one request as ``who`` (``"dso"`` or ``"aggregator"``); return the decoded JSON body.

        Parameters
        ----------
        method : str
            HTTP method.
        path : str
            Path on the service.
        who : {"dso", "aggregator"}
            Role sending the request.
        **kwargs
            Passed to the HTTP client (``json``, ``params``).
        """
        headers = self.dso if who == "dso" else self.aggregator
        self.requests += 1
        r = self.client.request(method, path, headers=headers, **kwargs)
        if r.status_code >= 400:
            raise OpenVPPError(f"the service refused {method} {path} ({r.status_code}): {r.text[:400]}")
        return r.json()

    # --- aggregator: registration ------------------------------------------------------------------------
    def register_fleet(
        self, site_ids: Sequence[str], ders: pd.DataFrame, lat_deg: float, lon_deg: float
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Register sites and DERs through ``/v1`` (seed 001 §2.1: location, class, ratings, VPP id).

        Parameters
        ----------
        site_ids : sequence of str
            The fleet's site ids.
        ders : pandas.DataFrame
            Columns ``device_id, site_id, der_class, p_max_kw [kW], e_max_kwh [kWh]`` (NaN without storage).
        lat_deg, lon_deg : float
            Location of the feeder. [deg]

        Returns
        -------
        tuple of dict
            Fleet site id -> service site id, and fleet device id -> service DER id.
        """
        sites: dict[str, str] = {}
        for s in site_ids:
            body = {"external_id": _ext(s), "name": str(s), "lat_deg": lat_deg, "lon_deg": lon_deg}
            sites[str(s)] = self.call("POST", "/v1/sites", "aggregator", json=body)["id"]
        der_ids: dict[str, str] = {}
        for row in ders.itertuples(index=False):
            body = {
                "site_id": sites[str(row.site_id)],
                "external_id": _ext(row.device_id),
                "der_class": str(row.der_class),
                "p_max_kw": float(max(row.p_max_kw, 0.1)),
                "control_affiliation": "aggregator",
                "vpp_id": VPP_ID,
            }
            if np.isfinite(row.e_max_kwh):
                body["e_max_kwh"] = float(row.e_max_kwh)
            der_ids[str(row.device_id)] = self.call("POST", "/v1/ders", "aggregator", json=body)["id"]
        self.site_ids.update(sites)
        return sites, der_ids

    # --- DSO: envelopes ------------------------------------------------------------------------------------
    def publish_envelopes(
        self, site_api_ids: Sequence[str], index: pd.DatetimeIndex, export_kw: NDArray[np.float64]
    ) -> int:
        """Publish one export envelope per site and interval (CSIP-AUS ``opModExpLimW``, seed 001 §2.2).

        Parameters
        ----------
        site_api_ids : sequence of str
            Service site ids, one per row of ``export_kw``.
        index : pandas.DatetimeIndex
            Interval starts (fixed step).
        export_kw : numpy.ndarray, shape (n_sites, n_steps)
            Export limits (magnitudes). [kW]

        Returns
        -------
        int
            Envelopes published. [-]
        """
        dur = int((index[1] - index[0]).total_seconds())
        items = []
        for j, t in enumerate(index):
            start = _iso(t)
            for i, sid in enumerate(site_api_ids):
                w = float(kw_to_w(max(float(export_kw[i, j]), 0.0)))
                items.append(
                    {
                        "subject_kind": "site",
                        "subject_id": sid,
                        "start": start,
                        "duration_s": dur,
                        "opModExpLimW": {"value": round(w), "multiplier": 0}
                        if w < 32767
                        else {"value": round(w / 10.0), "multiplier": 1},
                    }
                )
        for k in range(0, len(items), ENVELOPE_BATCH):
            self.call("POST", "/v1/envelopes", "dso", json={"envelopes": items[k : k + ENVELOPE_BATCH]})
        return len(items)

    def static_export_limit_kw(self) -> float:
        """The service's DefaultDERControl export limit, read as the aggregator (seed 001 §2.1). [kW]"""
        d = self.call("GET", "/v1/envelopes/default", "aggregator")["DERControlBase"]["opModExpLimW"]
        return float(decode_active_power(d["value"], d["multiplier"])) / W_PER_KW

    def read_envelopes(self, site_api_ids: Sequence[str], at: pd.Timestamp) -> NDArray[np.float64]:
        """The active export envelope of each site at ``at`` as the aggregator reads it (NaN: none). [kW]

        Parameters
        ----------
        site_api_ids : sequence of str
            Service site ids (order of the result).
        at : pandas.Timestamp
            Instant (tz-aware).
        """
        rows = self.call(
            "GET",
            "/v1/envelopes",
            "aggregator",
            params={"at": _iso(at), "subject_kind": "site", "limit": 1000},
        )
        pos = {s: i for i, s in enumerate(site_api_ids)}
        out = np.full(len(site_api_ids), np.nan)
        for e in rows:
            lim = e["DERControlBase"].get("opModExpLimW")
            if lim is not None and e["subject_id"] in pos:
                out[pos[e["subject_id"]]] = (
                    float(decode_active_power(lim["value"], lim["multiplier"])) / W_PER_KW
                )
        return out

    # --- DSO -> aggregator: OpenADR 3.1 ---------------------------------------------------------------------
    def publish_peak_event(self, start: pd.Timestamp, duration_h: float, delta_kw: float) -> dict[str, Any]:
        """The DSO publishes the peak-reduction instruction as an OpenADR 3.1 event through the VTN.

        Parameters
        ----------
        start : pandas.Timestamp
            Start of the event (tz-aware).
        duration_h : float
            Duration. [h]
        delta_kw : float
            Requested change of the fleet's consumption, load convention (< 0: less consumption). [kW]

        Returns
        -------
        dict
            The event as the VTN stored it.
        """
        program = self.call(
            "POST",
            "/programs",
            "dso",
            json={
                "programName": f"peak-reduction-{uuid.uuid4().hex[:6]}",
                "programLongName": "Distribution peak reduction 20:00-22:00 (seed 000 §6.1 Table 1)",
            },
        )
        self.call(
            "POST",
            "/vens",
            "dso",
            json={
                "objectType": "BL_VEN_REQUEST",
                "clientID": str(self.aggregator_tenant),
                "venName": VPP_ID,
                "targets": [VPP_ID],
            },
        )
        minutes = round(duration_h * 60)
        event = {
            "programID": program["id"],
            "eventName": "peak-reduction",
            "targets": [VPP_ID],
            "payloadDescriptors": [
                {
                    "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
                    "payloadType": "DISPATCH_SETPOINT_RELATIVE",
                    "units": "KW",
                },
                {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "DISPATCH_INSTRUCTION"},
            ],
            "intervalPeriod": {"start": _iso(start), "duration": f"PT{minutes}M"},
            "intervals": [
                {
                    "id": 0,
                    "payloads": [
                        {"type": "DISPATCH_SETPOINT_RELATIVE", "values": [round(float(delta_kw), 3)]},
                        {"type": "DISPATCH_INSTRUCTION", "values": ["peak"]},
                    ],
                }
            ],
        }
        return dict(self.call("POST", "/events", "dso", json=event))

    def read_events(self) -> list[dict[str, Any]]:
        """Events the aggregator's VEN may read (OpenADR 3.1 ``GET /events`` with its target)."""
        return list(self.call("GET", "/events", "aggregator", params={"targets": [VPP_ID]}))

    # --- aggregator: telemetry ---------------------------------------------------------------------------
    def post_telemetry(self, readings: list[dict[str, Any]]) -> dict[str, int]:
        """Post 5-min readings in batches (seed 001 §2.1 fields); return the counts of the service's answers.

        Counts: accepted, duplicates, rejected, flagged, and ``flag_<check>`` per plausibility check that
        flagged readings (flagged readings are stored, with their reasons).

        Parameters
        ----------
        readings : list of dict
            ``ReadingIn`` items of the ``/v1/telemetry`` API.
        """
        tot: dict[str, int] = {"accepted": 0, "duplicates": 0, "rejected": 0, "flagged": 0}
        for k in range(0, len(readings), TELEMETRY_BATCH):
            r = self.call(
                "POST", "/v1/telemetry", "aggregator", json={"readings": readings[k : k + TELEMETRY_BATCH]}
            )
            tot["accepted"] += int(r["accepted"])
            tot["duplicates"] += int(r["duplicates"])
            tot["rejected"] += len(r["rejected"])
            tot["flagged"] += len(r.get("flagged", []))
            for f in r.get("flagged", []):
                key = f"flag_{f.get('check', 'other')}"
                tot[key] = tot.get(key, 0) + 1
        return tot

    def post_telemetry_mqtt(
        self,
        broker_url: str,
        times: pd.DatetimeIndex,
        der_api_ids: Sequence[str],
        site_api_ids: Sequence[str],
        p_kw: NDArray[np.float64],
        soc: NDArray[np.float64],
        fallback: NDArray[np.bool_],
        timeout_s: float = 60.0,
    ) -> dict[str, int]:
        """Send the readings over MQTT (QoS 1) through the gateway's bridge into the store.

        The devices' side is :class:`~openvpp.platform.gateway.mqtt.MqttDeviceLink` (one reading per DER and
        interval: its power, SoC and envelope-fallback flag); the service side is
        :class:`~openvpp.platform.gateway.bridge.TelemetryBridge`, which stores each reading and acks it
        only after the commit.

        Parameters
        ----------
        broker_url : str
            ``mqtt://host:port``.
        times : pandas.DatetimeIndex
            Interval starts.
        der_api_ids, site_api_ids : sequence of str
            Service DER id and its site's id, one per row.
        p_kw : numpy.ndarray, shape (n_ders, n_intervals)
            DER power, load convention. [kW]
        soc : numpy.ndarray, shape (n_ders, n_intervals)
            SoC (NaN without storage). [-]
        fallback : numpy.ndarray of bool, shape (n_intervals,)
            Whether the static export limit applied. [-]
        timeout_s : float
            Longest wait for the broker and the bridge. [s]

        Returns
        -------
        dict
            published, acknowledged, received, accepted by the bridge. [-]
        """
        from openvpp.control.signals import Measurements
        from openvpp.platform.gateway.bridge import TelemetryBridge
        from openvpp.platform.gateway.mqtt import MqttDeviceLink
        from openvpp.platform.store.db import make_engine, session_factory

        engine = make_engine(self.db_url)
        tag = uuid.uuid4().hex[:8]
        bridge = TelemetryBridge(broker_url, session_factory(engine), client_id=f"openvpp-demo-bridge-{tag}")
        link = MqttDeviceLink(broker_url, self.aggregator_tenant, list(der_api_ids), list(site_api_ids))
        try:
            if not bridge.connected.wait(timeout_s):
                raise OpenVPPError(f"--broker {broker_url}: the telemetry bridge could not connect")
            n = len(der_api_ids)
            for j, t in enumerate(times):
                m = Measurements(t, tuple(der_api_ids), p_kw[:, j], soc[:, j], np.ones(n, dtype=bool))
                link.report(m, envelope_fallback=[bool(fallback[j])] * n)
            if not (link.wait_acknowledged(timeout_s) and bridge.wait_idle(timeout_s)):
                raise OpenVPPError(f"--broker {broker_url}: readings not acknowledged within {timeout_s:g} s")
            return {
                "published": int(link.published),
                "acknowledged": int(link.acknowledged),
                "received": int(bridge.stats.received),
                "accepted": int(bridge.stats.accepted),
            }
        finally:
            link.close()
            bridge.close()
            engine.dispose()

    def stored_readings(self, der_api_id: str) -> int:
        """Readings the store holds for one DER (read back through the API). [-]

        Parameters
        ----------
        der_api_id : str
            Service DER id.
        """
        return len(
            self.call("GET", "/v1/telemetry", "aggregator", params={"der_id": der_api_id, "limit": 1000})
        )


def check_db_url(db_url: str) -> str:
    """Check a ``--db`` URL's scheme (SQLite file or PostgreSQL); return it.

    Parameters
    ----------
    db_url : str
        Store URL.
    """
    if not isinstance(db_url, str) or not (
        db_url.startswith("sqlite:///") or db_url.startswith("postgresql")
    ):
        raise ValidationError(
            f"--db must be a sqlite:///FILE or postgresql://USER@HOST:PORT/DB URL (got {db_url!r})"
        )
    return db_url


@contextmanager
def demo_service(db_url: str | None = None) -> Iterator[DemoService]:
    """Start the service in-process on a migrated store with a DSO and an aggregator key.

    Parameters
    ----------
    db_url : str, optional
        ``postgresql://...`` (give a fresh schema with ``?options=-csearch_path%3D<schema>``) or
        ``sqlite:///FILE``; default a SQLite file in a temporary folder removed afterwards.

    Yields
    ------
    DemoService
    """
    with warnings.catch_warnings():  # starlette's note about its httpx dependency is not the user's business
        warnings.filterwarnings("ignore", message=".*httpx.*")
        from fastapi.testclient import TestClient

    from openvpp.platform.api.app import create_app
    from openvpp.platform.settings import ServiceSettings
    from openvpp.platform.store.db import make_engine, session_factory, upgrade
    from openvpp.platform.store.keys import create_key

    with tempfile.TemporaryDirectory(prefix="openvpp-demo-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'openvpp.db'}" if db_url is None else db_url
        check_db_url(url)
        upgrade(url)
        engine = make_engine(url)
        tag = uuid.uuid4().hex[:8]
        try:
            with session_factory(engine)() as s:
                dso = create_key(s, f"dso-{tag}", "dso", label="openvpp demo")
                agg = create_key(s, f"aggregator-{tag}", "aggregator", label="openvpp demo")
                s.commit()
        finally:
            engine.dispose()
        settings = ServiceSettings.build(db_url=url, rate_per_key_per_s=1e6, rate_burst=1_000_000)
        app = create_app(settings)
        try:
            with TestClient(app) as client:
                yield DemoService(
                    client=client,
                    db_url=url,
                    dso={"Authorization": f"Bearer {dso.key}"},
                    aggregator={"Authorization": f"Bearer {agg.key}"},
                    aggregator_tenant=agg.record.tenant_id,
                )
        finally:
            app.state.engine.dispose()
