"""The topic tree and the broker URL."""

from __future__ import annotations

import pytest

from openvpp.errors import ValidationError
from openvpp.platform.gateway.topics import (
    BrokerAddress,
    check_id,
    envelope_topic,
    parse_broker_url,
    setpoint_topic,
    split_device_topic,
    status_topic,
    telemetry_topic,
)


def test_topic_tree():
    assert telemetry_topic(3, "s1", "b1") == "openvpp/3/s1/b1/telemetry"
    assert setpoint_topic(3, "s1", "b1") == "openvpp/3/s1/b1/setpoint"
    assert status_topic(3, "s1", "b1") == "openvpp/3/s1/b1/status"
    assert envelope_topic(3, "+") == "openvpp/3/+/envelope"
    assert split_device_topic("openvpp/3/s1/b1/telemetry") == ("3", "s1", "b1", "telemetry")
    with pytest.raises(ValidationError):
        split_device_topic("openvpp/3/s1/telemetry")


def test_ids_and_urls():
    assert check_id("bat-1", "der_id") == "bat-1"
    for bad in ("", "a/b", "a+b", "a#b", "x" * 101):
        with pytest.raises(ValidationError, match="der_id"):
            check_id(bad, "der_id")
    assert parse_broker_url("mqtt://127.0.0.1:1884") == BrokerAddress("127.0.0.1", 1884, False)
    assert parse_broker_url("mqtts://broker") == BrokerAddress("broker", 1883, True)
    for bad in ("127.0.0.1:1883", "http://x", "mqtt://h:99999"):
        with pytest.raises(ValidationError, match="--broker"):
            parse_broker_url(bad)
