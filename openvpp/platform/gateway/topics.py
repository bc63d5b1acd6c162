"""The MQTT topic tree of the gateway and the broker URL.

Topics are per tenant, site and DER (``{tenant}`` is the tenant id; ids contain no ``/``, ``+``, ``#``)::

    openvpp/{tenant}/{site}/{der}/telemetry  device -> service    readings (store format)
    openvpp/{tenant}/{site}/{der}/setpoint   service -> device    retained set-point, expires at valid_until
    openvpp/{tenant}/{site}/{der}/status     device               retained "online", last will "offline"
    openvpp/{tenant}/{site}/envelope         DSO -> aggregator    retained envelope, expires at valid_until
    openvpp/{tenant}/signals                 service -> control   instructions, outages
    openvpp/{tenant}/gateway/{name}/status   gateway processes    retained "online", last will "offline"

Every message is published with QoS 1 (at least once).

Retained messages carry an MQTT 5 message-expiry interval, so a device or an aggregator that (re)connects
after a set-point or an envelope has expired does not receive it (seed 001 §2.1: an expired limit must not be
applied; the static default applies instead).
"""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import urlparse

from openvpp.errors import ValidationError

__all__ = [
    "ROOT",
    "BrokerAddress",
    "check_id",
    "envelope_topic",
    "gateway_status_topic",
    "parse_broker_url",
    "setpoint_topic",
    "signals_topic",
    "split_device_topic",
    "status_topic",
    "telemetry_topic",
]

#: first level of every topic
ROOT = "openvpp"
_BAD = re.compile(r"[/+#\x00]")
#: default MQTT port [-]
DEFAULT_PORT = 1883


@dataclasses.dataclass(frozen=True)
class BrokerAddress:
    """Where the MQTT broker listens.

    Parameters
    ----------
    host : str
        Host name or address.
    port : int
        TCP port. [-]
    tls : bool
        True for ``mqtts://``.
    """

    host: str
    port: int = DEFAULT_PORT
    tls: bool = False


def parse_broker_url(url: str) -> BrokerAddress:
    """Host and port of ``mqtt://host:port`` (``mqtts://`` for TLS).

    Parameters
    ----------
    url : str
        Broker URL, as given to ``--broker``.

    Returns
    -------
    BrokerAddress
    """
    parsed = urlparse(url or "")
    if parsed.scheme not in ("mqtt", "mqtts") or not parsed.hostname:
        raise ValidationError(f"--broker must look like 'mqtt://127.0.0.1:1883' (got {url!r})")
    try:
        port = parsed.port or DEFAULT_PORT
    except ValueError:
        raise ValidationError(f"--broker {url!r} has an invalid port") from None
    return BrokerAddress(parsed.hostname, port, parsed.scheme == "mqtts")


def check_id(value: str, name: str) -> str:
    """An id usable as one topic level (no ``/``, ``+``, ``#``, not empty, at most 100 characters).

    Parameters
    ----------
    value : str
        The id.
    name : str
        What it is (for the message): ``site_id``, ``der_id`` ...

    Returns
    -------
    str
        The id as a string.
    """
    s = str(value)
    if not s or len(s) > 100 or _BAD.search(s):
        raise ValidationError(f"{name} {s!r} must be 1-100 characters without '/', '+' or '#'")
    return s


def telemetry_topic(tenant: int | str, site: str, der: str) -> str:
    """Topic a DER publishes its readings to.

    Parameters
    ----------
    tenant : int or str
        Tenant id. [-]
    site, der : str
        Site and DER ids.
    """
    return f"{ROOT}/{tenant}/{site}/{der}/telemetry"


def setpoint_topic(tenant: int | str, site: str, der: str) -> str:
    """Topic of a DER's retained set-point.

    Parameters
    ----------
    tenant : int or str
        Tenant id. [-]
    site, der : str
        Site and DER ids.
    """
    return f"{ROOT}/{tenant}/{site}/{der}/setpoint"


def status_topic(tenant: int | str, site: str, der: str) -> str:
    """Topic of a DER's liveness (retained ``online``, last will ``offline``).

    Parameters
    ----------
    tenant : int or str
        Tenant id. [-]
    site, der : str
        Site and DER ids.
    """
    return f"{ROOT}/{tenant}/{site}/{der}/status"


def envelope_topic(tenant: int | str, site: str) -> str:
    """Topic of a site's retained envelope.

    Parameters
    ----------
    tenant : int or str
        Tenant id of the aggregator the site belongs to. [-]
    site : str
        Site id (``+`` to subscribe to every site).
    """
    return f"{ROOT}/{tenant}/{site}/envelope"


def signals_topic(tenant: int | str) -> str:
    """Topic of the signals (instructions, outages, frequency) for a tenant's controller.

    Parameters
    ----------
    tenant : int or str
        Tenant id. [-]
    """
    return f"{ROOT}/{tenant}/signals"


def gateway_status_topic(tenant: int | str, name: str) -> str:
    """Topic of a gateway process's liveness.

    Parameters
    ----------
    tenant : int or str
        Tenant id (``+`` for the service's own processes). [-]
    name : str
        Process name.
    """
    return f"{ROOT}/{tenant}/gateway/{name}/status"


def split_device_topic(topic: str) -> tuple[str, str, str, str]:
    """``(tenant, site, der, leaf)`` of a per-DER topic.

    Parameters
    ----------
    topic : str
        A topic such as ``openvpp/3/site-1/bat-1/telemetry``.

    Returns
    -------
    tuple of str
        Tenant, site, DER and last level.
    """
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != ROOT:
        raise ValidationError(f"topic {topic!r} is not openvpp/<tenant>/<site>/<der>/<leaf>")
    return parts[1], parts[2], parts[3], parts[4]
