"""The MQTT transport against the real broker: the co-simulation's Controller runs over it unchanged;
set-points are retained and expire; readings and instructions reach the controller; liveness by last will."""

from __future__ import annotations

import threading
import time
import uuid

import numpy as np
import pandas as pd
import pytest

from openvpp.control.controller import Controller
from openvpp.control.signals import Instruction, Measurements, Setpoints, Signals
from openvpp.errors import ValidationError
from openvpp.platform.gateway.mqtt import MqttDeviceLink, MqttTransport, connect_client, publish_json
from openvpp.platform.gateway.topics import parse_broker_url, setpoint_topic, signals_topic
from openvpp.platform.runtime.jobs import control_tick
from openvpp.schedule.plan import Plan
from openvpp.sim.transport import Transport

DERS = ("b0", "b1", "ev0")
SITES = ("s0", "s1", "s2")


def _plan(start: pd.Timestamp) -> Plan:
    """Two idle 5 kW batteries with 1 kW peak reserve each, one EV drawing 7 kW (load convention)."""
    n, n_t = 3, 8
    index = pd.date_range(start, periods=n_t, freq="15min", tz="UTC")
    base = np.zeros((n, n_t))
    base[2] = 7.0
    p_min, p_max = base.copy(), base.copy()
    p_min[:2], p_max[:2] = -5.0, 5.0
    up = np.zeros((1, n, n_t))
    up[0, :2] = 1.0
    soc = np.full((n, n_t + 1), np.nan)
    soc[:2] = 0.5
    lo, hi = np.full((n, n_t), np.nan), np.full((n, n_t), np.nan)
    lo[:2], hi[:2] = 0.1, 0.9
    return Plan(
        index=index,
        device_ids=list(DERS),
        device_class=["battery", "battery", "ev"],
        site_of_device=np.arange(n),
        site_ids=list(SITES),
        services=("peak",),
        p_baseline_kw=base,
        reserve_up_kw=up,
        reserve_down_kw=np.zeros((1, n, n_t)),
        service_duration_h=np.full(1, 0.25),
        soc_baseline=soc,
        soc_min=lo,
        soc_max=hi,
        e_max_kwh=np.array([13.5, 13.5, np.nan]),
        site_p_kw=base,
        site_export_limit_kw=np.full((n, n_t), np.inf),
        site_import_limit_kw=np.full((n, n_t), np.inf),
        p_min_kw=p_min,
        p_max_kw=p_max,
    )


def _wait(cond, timeout_s=5.0):
    t0 = time.monotonic()
    while not cond():
        assert time.monotonic() - t0 < timeout_s, "condition not met in time"
        time.sleep(0.02)


@pytest.fixture
def tenant() -> int:
    return 800_000 + uuid.uuid4().int % 100_000  # topics of this test only on the shared broker


def test_controller_runs_over_mqtt(broker_url, tenant):
    now = pd.Timestamp.now(tz="UTC")
    plan = _plan(now.floor("15min"))
    ctrl = Controller(plan)
    transport = MqttTransport(broker_url, tenant, DERS, SITES)
    devices = MqttDeviceLink(broker_url, tenant, DERS, SITES, interval_s=60)
    try:
        assert isinstance(transport, Transport)
        p = np.array([0.0, 0.0, 7.0])
        devices.report(Measurements(now, DERS, p, np.array([0.5, 0.5, np.nan]), np.ones(3, bool)))
        _wait(lambda: transport.receive(now).online.all())
        got = transport.receive(now)
        assert got.p_kw.tolist() == [0.0, 0.0, 7.0] and got.soc[:2].tolist() == [0.5, 0.5]

        ins = Instruction(
            id="peak-1",
            kind="peak",
            start=now,
            end=now + pd.Timedelta(hours=1),
            delta_kw=-2.0,
            device_ids=("b0", "b1"),
        )
        sender = connect_client(broker_url)
        publish_json(sender, signals_topic(tenant), Signals(instructions=(ins,)).to_dict()).wait_for_publish(
            5
        )
        sender.loop_stop()
        time.sleep(0.3)
        sp = control_tick(ctrl, transport, now)
        assert "peak-1" in ctrl.events  # the instruction arrived through the broker
        assert sp.p_kw[:2].sum() == pytest.approx(-2.0)  # both batteries discharge 1 kW: their peak reserve
        _wait(lambda: not np.isnan(devices.deliver(now)).any())
        assert np.allclose(devices.deliver(now), sp.p_kw)
    finally:
        transport.close()
        devices.close()


def test_setpoints_are_retained_and_expire(broker_url, tenant):
    now = pd.Timestamp.now(tz="UTC")
    transport = MqttTransport(broker_url, tenant, DERS, SITES)
    try:
        transport.send(
            Setpoints(now, DERS, np.array([1.0, -1.0, 3.0]), None, now + pd.Timedelta(seconds=1.5))
        )
        time.sleep(0.3)
        late = MqttDeviceLink(broker_url, tenant, DERS, SITES)  # connects after: gets the retained set-points
        try:
            _wait(lambda: not np.isnan(late.deliver(now)).any())
            assert late.deliver(now).tolist() == [1.0, -1.0, 3.0]
            assert np.isnan(late.deliver(now + pd.Timedelta(seconds=2))).all()  # expired: local settings
        finally:
            late.close()
        time.sleep(2.5)
        later = MqttDeviceLink(
            broker_url, tenant, DERS, SITES
        )  # the broker dropped the expired retained copy
        try:
            time.sleep(0.5)
            assert np.isnan(later.deliver(now)).all()
        finally:
            later.close()
        with pytest.raises(ValidationError, match="not a DER"):
            transport.send(Setpoints(now, ("zz",), np.array([1.0]), None, now + pd.Timedelta(seconds=5)))
    finally:
        transport.close()


def test_last_will_marks_a_dead_link_offline(broker_url, tenant):
    seen: dict[str, str] = {}
    done = threading.Event()

    def on_message(_c, _u, msg):
        seen[msg.topic] = msg.payload.decode()
        if msg.payload == b"offline":
            done.set()

    status = f"openvpp/{tenant}/gateway/devices/status"
    watcher = connect_client(broker_url, on_message=on_message, subscriptions=(status,))
    link = MqttDeviceLink(broker_url, tenant, DERS, SITES)
    try:
        _wait(lambda: seen.get(status) == "online")
        link.client._sock.close()  # the link dies without a DISCONNECT: the broker sends its last will
        assert done.wait(15), "no last will"
    finally:
        link.client.loop_stop()
        watcher.loop_stop()


def test_bad_broker_and_ids(broker_url):
    with pytest.raises(ValidationError, match="--broker"):
        parse_broker_url("http://x")
    with pytest.raises(ValidationError, match="der_id"):
        MqttTransport(broker_url, 1, ("a+b",), ("s",))
    with pytest.raises(ValidationError, match="one site per DER"):
        MqttDeviceLink(broker_url, 1, ("a", "b"), ("s",))
    assert setpoint_topic(3, "s", "d") == "openvpp/3/s/d/setpoint"
