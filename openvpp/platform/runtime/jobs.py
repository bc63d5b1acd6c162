"""The service's jobs, one function each: outbox delivery, envelope refresh, control tick, planning.

* :func:`deliver_outbox` claims messages from the store's outbox (at least once, with a lease) and delivers
  them: OpenADR subscription notifications (topic ``openadr/webhook/<subscriptionID>``) as an HTTP POST of
  the ``notification`` object to the subscription's ``callbackUrl`` (``Authorization: Bearer`` with its
  ``bearerToken``); every other topic to the MQTT broker, QoS 1. A message is marked delivered only when the
  callback answered 2xx or the broker acknowledged it; otherwise its lease runs out and it is tried again.
* :func:`refresh_envelopes` publishes the envelopes in force for every site, retained with expiry
  (:func:`openvpp.platform.gateway.envelopes.publish_envelope`); run every interval it is the envelope feed's
  heartbeat that the aggregators' :class:`~openvpp.platform.gateway.envelopes.EnvelopeClient` watches.
* :func:`control_tick` is one tick of the operating loop (DESIGN.md): measurements and signals from the
  transport, :meth:`openvpp.control.controller.Controller.step`, set-points back to the transport. The same
  controller object runs in the co-simulation; only the transport and the clock differ.
* :func:`plan_day_ahead` runs a planner (the scheduler of :mod:`openvpp.schedule`) in-process or on a Dask
  scheduler.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openvpp.control.signals import EnvelopeUpdate, Setpoints
from openvpp.platform.api.envelopes import decode_limits_w
from openvpp.platform.gateway.envelopes import publish_envelope
from openvpp.platform.gateway.mqtt import publish_json
from openvpp.platform.store import outbox
from openvpp.platform.store.models import Envelope, Site
from openvpp.units import w_to_kw

__all__ = ["DeliveryResult", "control_tick", "deliver_outbox", "plan_day_ahead", "refresh_envelopes"]

#: outbox topic prefix of OpenADR webhook notifications (see :mod:`openvpp.platform.api.openadr.common`)
WEBHOOK_PREFIX = "openadr/webhook/"
#: timeout of one webhook call [s]
WEBHOOK_TIMEOUT_S = 5.0


@dataclasses.dataclass
class DeliveryResult:
    """What one outbox pass did.

    Parameters
    ----------
    delivered : int
        Messages delivered and marked. [-]
    failed : int
        Messages whose delivery failed (tried again after their lease). [-]
    skipped : int
        MQTT messages left for later because no broker is configured. [-]
    """

    delivered: int = 0
    failed: int = 0
    skipped: int = 0


def deliver_outbox(
    sessions: sessionmaker[Session],
    http: httpx.Client,
    mqtt_client: Any = None,
    limit: int = 100,
    lease_s: float = 30.0,
) -> DeliveryResult:
    """Deliver one batch of outbox messages (module docstring).

    Parameters
    ----------
    sessions : sqlalchemy.orm.sessionmaker
        Session factory of the store.
    http : httpx.Client
        HTTP client for webhook callbacks.
    mqtt_client : paho.mqtt.client.Client, optional
        Connected MQTT client for the other topics (None: they wait).
    limit : int
        Most messages claimed in this pass. [-]
    lease_s : float
        Claim lease: after it an undelivered message is claimed again. [s]

    Returns
    -------
    DeliveryResult
    """
    result = DeliveryResult()
    with sessions() as session:
        messages = outbox.claim(session, limit=limit, lease_s=lease_s)
    done: list[int] = []
    pending_mqtt = []
    for msg in messages:
        if msg.topic.startswith(WEBHOOK_PREFIX):
            headers = {"Content-Type": "application/json"}
            token = msg.payload.get("bearerToken")
            if token:
                headers["Authorization"] = f"Bearer {token}"
            try:
                resp = http.post(
                    msg.payload["url"],
                    json=msg.payload["notification"],
                    headers=headers,
                    timeout=WEBHOOK_TIMEOUT_S,
                )
                ok = 200 <= resp.status_code < 300
            except (httpx.HTTPError, KeyError):
                ok = False
            if ok:
                done.append(msg.id)
            else:
                result.failed += 1
        elif mqtt_client is None:
            result.skipped += 1
        else:
            pending_mqtt.append((msg.id, publish_json(mqtt_client, msg.topic, msg.payload)))
    for msg_id, info in pending_mqtt:
        try:
            info.wait_for_publish(timeout=WEBHOOK_TIMEOUT_S)
        except (RuntimeError, ValueError):
            pass
        if info.is_published():
            done.append(msg_id)
        else:
            result.failed += 1
    if done:
        with sessions() as session:
            outbox.mark_delivered(session, done)
    result.delivered = len(done)
    return result


def current_envelopes(session: Session, now: pd.Timestamp) -> dict[int, EnvelopeUpdate]:
    """The active site envelopes at ``now``, grouped by the aggregator tenant owning each site.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session.
    now : pandas.Timestamp
        The clock (tz-aware).

    Returns
    -------
    dict of int to EnvelopeUpdate
        Per tenant, export / import limits of its sites [kW] (CSIP-AUS ``opModExpLimW`` / ``opModImpLimW``
        decoded from IEEE 2030.5 ActivePower) valid until the earliest end among them.
    """
    t = int(now.timestamp())
    rows = session.execute(
        select(Envelope, Site.tenant_id)
        .join(Site, Site.id == Envelope.subject_id)
        .where(
            Envelope.subject_kind == "site",
            Envelope.status == "active",
            Envelope.start_s <= t,
            Envelope.start_s + Envelope.duration_s > t,
        )
    ).all()
    by_tenant: dict[int, dict[str, tuple[float, float, int]]] = defaultdict(dict)
    for env, tenant in rows:
        lim = decode_limits_w(env)
        exp = lim.get("opModExpLimW")
        imp = lim.get("opModImpLimW")
        by_tenant[int(tenant)][env.subject_id] = (
            np.inf if exp is None else float(w_to_kw(exp)),
            np.inf if imp is None else float(w_to_kw(imp)),
            env.start_s + env.duration_s,
        )
    out = {}
    for tenant, sites in by_tenant.items():
        ids = sorted(sites)
        until = min(sites[s][2] for s in ids)
        out[tenant] = EnvelopeUpdate(
            time=now,
            site_ids=tuple(ids),
            export_limit_kw=np.array([sites[s][0] for s in ids]),
            import_limit_kw=np.array([sites[s][1] for s in ids]),
            valid_until=pd.Timestamp(until, unit="s", tz="UTC"),
        )
    return out


def refresh_envelopes(
    sessions: sessionmaker[Session], mqtt_client: Any, now: pd.Timestamp | None = None
) -> int:
    """Publish every site's envelope in force, retained with expiry (the feed's heartbeat).

    Parameters
    ----------
    sessions : sqlalchemy.orm.sessionmaker
        Session factory of the store.
    mqtt_client : paho.mqtt.client.Client
        Connected MQTT client.
    now : pandas.Timestamp, optional
        The clock (default: now).

    Returns
    -------
    int
        Messages published. [-]
    """
    now = pd.Timestamp.now(tz="UTC") if now is None else now
    with sessions() as session:
        envelopes = current_envelopes(session, now)
    return sum(publish_envelope(mqtt_client, tenant, env, now) for tenant, env in envelopes.items())


def control_tick(controller: Any, transport: Any, now: pd.Timestamp) -> Setpoints:
    """One tick of the operating loop: receive, poll signals, step the controller, send.

    Parameters
    ----------
    controller : openvpp.control.controller.Controller
        The controller (the same class as in the co-simulation).
    transport : Transport
        In-process or :class:`~openvpp.platform.gateway.mqtt.MqttTransport`.
    now : pandas.Timestamp
        The clock.

    Returns
    -------
    Setpoints
        What was sent.
    """
    measurements = transport.receive(now)
    signals = transport.poll_signals(now)
    setpoints: Setpoints = controller.step(now, measurements, signals)
    transport.send(setpoints)
    return setpoints


def plan_day_ahead(
    planner: Callable[..., Any], *args: Any, dask_address: str | None = None, **kwargs: Any
) -> Any:
    """Run a planner (e.g. :func:`openvpp.schedule.site.solve_sites` on a problem) here or on Dask.

    Parameters
    ----------
    planner : callable
        Function returning a plan; must be importable by the Dask workers when ``dask_address`` is set.
    *args
        Its positional arguments.
    dask_address : str, optional
        ``tcp://host:8786`` of a Dask scheduler; None runs in this process.
    **kwargs
        Its keyword arguments.

    Returns
    -------
    Any
        The planner's result (an :class:`openvpp.schedule.plan.Plan`).
    """
    if dask_address is None:
        return planner(*args, **kwargs)
    from dask.distributed import Client

    with Client(dask_address, timeout="10s") as client:
        return client.submit(planner, *args, pure=False, **kwargs).result()
