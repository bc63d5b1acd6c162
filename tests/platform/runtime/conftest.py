"""Fixtures of the runtime tests: the shared broker at 127.0.0.1:1883 (skip with the reason where absent, fail
in CI)."""

from __future__ import annotations

import os
import socket

import pytest

BROKER_URL = os.environ.get("OPENVPP_TEST_BROKER", "mqtt://127.0.0.1:1883")


@pytest.fixture
def broker_url() -> str:
    """The shared broker."""
    host, port = BROKER_URL.removeprefix("mqtt://").split(":")
    try:
        socket.create_connection((host, int(port)), timeout=0.5).close()
    except OSError:
        if os.environ.get("CI"):
            pytest.fail(f"Mosquitto at {BROKER_URL} is required in CI")
        pytest.skip(f"no Mosquitto at {BROKER_URL}")
    return BROKER_URL
