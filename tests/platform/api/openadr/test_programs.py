"""OpenADR 3.1 programs and events: the independent ``openadr3`` client from PyPI against a live server (list
programs, read events, post a report, create a subscription whose webhook is called through the outbox on
127.0.0.1), and the ``active`` filter."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
import typing

import httpx
import openadr3
import pytest
import uvicorn

from openvpp.platform.api.app import create_app
from openvpp.platform.gateway.openadr_signals import event_signals
from openvpp.platform.runtime.jobs import deliver_outbox
from openvpp.platform.settings import ServiceSettings
from openvpp.platform.store.db import make_engine, session_factory
from openvpp.platform.store.keys import lookup_key

EVENT_START = "2030-07-01T20:00:00Z"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(db_url):
    """``create_app`` served by uvicorn in a thread on a free loopback port."""
    settings = ServiceSettings.build(db_url=db_url, rate_per_key_per_s=1e6, rate_burst=1_000_000)
    app = create_app(settings)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", app
    server.should_exit = True
    thread.join(10)
    app.state.engine.dispose()


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: typing.ClassVar[list[tuple[dict, str | None]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((json.loads(body), self.headers.get("Authorization")))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def receiver():
    """A webhook receiver on 127.0.0.1 collecting (notification, Authorization header)."""
    _Receiver.received = []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/notify", _Receiver.received
    srv.shutdown()


def _tenant_id(db_url, key):
    engine = make_engine(db_url)
    with session_factory(engine)() as s:
        rec = lookup_key(s, key)
    engine.dispose()
    return rec.tenant_id


def _event(program_id, targets, payload_type="EXPORT_CAPACITY_LIMIT", value=3500.0, units="W"):
    return {
        "programID": program_id,
        "eventName": "evening-limit",
        "targets": targets,
        "payloadDescriptors": [
            {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": payload_type, "units": units}
        ],
        "intervalPeriod": {"start": EVENT_START, "duration": "PT1H"},
        "intervals": [
            {"id": 0, "payloads": [{"type": payload_type, "values": [value]}]},
            {"id": 1, "payloads": [{"type": payload_type, "values": [value / 2]}]},
        ],
    }


def test_openadr3_client_against_live_server(live_server, db_url, make_key, receiver):
    base, app = live_server
    dso_key = make_key(db_url, "dso", "dso")
    ven_key = make_key(db_url, "aggregator-a", "aggregator")
    callback, received = receiver
    bl = openadr3.create_bl_client(base, dso_key)
    ven = openadr3.create_ven_client(base, ven_key)
    try:
        # the business logic (DSO) writes a program, grants aggregator A the target, publishes an event
        prog = bl.create_program({"programName": "sapn-flex", "targets": ["feeder-7"]})
        assert prog.status_code == 201, prog.text
        program_id = prog.json()["id"]
        client_id = str(_tenant_id(db_url, ven_key))
        r = bl.create_ven(
            {
                "objectType": "BL_VEN_REQUEST",
                "clientID": client_id,
                "venName": "agg-a",
                "targets": ["feeder-7"],
            }
        )
        assert r.status_code == 201, r.text
        ev = bl.create_event(_event(program_id, ["feeder-7"]))
        assert ev.status_code == 201, ev.text

        # the VEN (aggregator A), through the independent client: list programs, read events
        programs = ven.programs(targets=["feeder-7"])
        assert [p.program_name for p in programs] == ["sapn-flex"]
        assert ven.programs() == []  # targeted objects need matching targets in the query (read_targets)
        events = ven.events(programID=program_id, targets=["feeder-7"])
        assert len(events) == 1 and events[0].event_name == "evening-limit"
        intervals = events[0].resolved_intervals()  # the client's own interval arithmetic
        assert [iv.interval_period.start.isoformat() for iv in intervals] == [
            "2030-07-01T20:00:00+00:00",
            "2030-07-01T21:00:00+00:00",
        ]

        # the event as controller signals: 3500 W -> 3.5 kW, then 1.75 kW, one envelope per interval
        sig = event_signals(events[0]._raw, site_ids=["site-1"])
        assert [float(e.export_limit_kw[0]) for e in sig.envelopes] == [3.5, 1.75]

        # post a report and create a subscription
        rep = ven.create_report(
            {
                "eventID": events[0].id,
                "clientName": "agg-a",
                "resources": [
                    {
                        "resourceName": "site-1",
                        "intervals": [{"id": 0, "payloads": [{"type": "USAGE", "values": [1.2]}]}],
                    }
                ],
            }
        )
        assert rep.status_code == 201, rep.text
        assert openadr3.coerce(rep.json()).client_id == client_id  # the VTN wrote the VEN's clientID
        sub = ven.create_subscription(
            {
                "clientName": "agg-a",
                "programID": program_id,
                "targets": ["feeder-7"],
                "objectOperations": [
                    {
                        "objects": ["EVENT"],
                        "operations": ["CREATE", "UPDATE"],
                        "callbackUrl": callback,
                        "bearerToken": "cb-secret",
                    }
                ],
            }
        )
        assert sub.status_code == 201, sub.text
        assert [s.id for s in ven.subscriptions()] == [sub.json()["id"]]

        # a new event reaches the subscriber's webhook through the outbox
        ev2 = bl.create_event(_event(program_id, ["feeder-7"], value=4000.0))
        assert ev2.status_code == 201
        bl.create_event(_event(program_id, ["feeder-9"]))  # not granted to A: no notification
        with httpx.Client() as http:
            result = deliver_outbox(app.state.session_factory, http)
        assert result.delivered == 1 and result.failed == 0
        ((note, auth),) = received
        assert auth == "Bearer cb-secret"
        n = openadr3.coerce_notification(note)
        assert n.operation == "CREATE" and n.object.id == ev2.json()["id"]
    finally:
        bl.close()
        ven.close()


def test_active_filter_drops_past_events(client, keys, auth):
    dso = auth(keys["dso"])
    pid = client.post("/programs", json={"programName": "p"}, headers=dso).json()["id"]
    past = _event(pid, None)
    past["intervalPeriod"] = {"start": "2020-01-01T00:00:00Z", "duration": "PT1H"}
    open_ended = _event(pid, None)
    open_ended["intervalPeriod"] = {"start": "2020-01-01T00:00:00Z", "duration": "P9999Y"}
    ids = [
        client.post("/events", json=e, headers=dso).json()["id"]
        for e in (past, _event(pid, None), open_ended)
    ]
    active = [e["id"] for e in client.get("/events", params={"active": True}, headers=dso).json()]
    assert active == ids[1:]
    assert len(client.get("/events", headers=dso).json()) == 3
