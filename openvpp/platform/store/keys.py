"""Tenants and API keys: creation, hashing at rest, lookup (seed 000 §4: cybersecurity of the data platform).

A key is ``ovpp_<id>_<secret>``: ``id`` (12 hex digits) is stored in clear and used to find the row,
``secret`` is 32 random bytes (256 bits, URL-safe base64). Only the SHA-256 of the whole key is stored, and it
is compared in constant time. A slow password hash (bcrypt, scrypt, Argon2) protects *low-entropy* secrets
against guessing; a 256-bit random secret cannot be guessed, so a fast hash is as safe here and keeps the
lookup on every request (tens of thousands per second) cheap.

Scopes are limited by role: a DSO key can never hold an aggregator's write scopes (``der:write``,
``telemetry:write``, ``plans:write``, ``openadr:ven``) and an aggregator key can never hold the DSO's
(``envelopes:write``, ``nodes:write``, ``openadr:vtn``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from openvpp.errors import ValidationError
from openvpp.platform.store.models import ROLES, ApiKey, Tenant

__all__ = [
    "KEY_PREFIX",
    "ROLE_SCOPES",
    "SCOPES",
    "CreatedKey",
    "KeyRecord",
    "create_key",
    "get_or_create_tenant",
    "hash_key",
    "lookup_key",
]

KEY_PREFIX = "ovpp"

#: every scope the service knows, with what it allows
SCOPES: dict[str, str] = {
    "der:read": "read sites and DERs",
    "der:write": "register and update sites and DERs (aggregator)",
    "telemetry:read": "read telemetry and trust flags",
    "telemetry:write": "post telemetry (aggregator)",
    "nodes:read": "read constraint nodes and the DER-to-node mapping",
    "nodes:write": "create constraint nodes and refresh the mapping (DSO)",
    "envelopes:read": "read operating envelopes",
    "envelopes:write": "publish operating envelopes (DSO)",
    "plans:read": "read plans and dispatch instructions",
    "plans:write": "submit plans and dispatch instructions, update their status (aggregator)",
    "openadr:vtn": "OpenADR 3 business logic: programs and events (DSO)",
    "openadr:ven": "OpenADR 3 VEN: read programs and events, post reports and subscriptions (aggregator)",
}
_READ = frozenset({"der:read", "telemetry:read", "nodes:read", "envelopes:read", "plans:read"})
#: scopes a key of each role may hold
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "dso": _READ | {"nodes:write", "envelopes:write", "openadr:vtn"},
    "aggregator": _READ | {"der:write", "telemetry:write", "plans:write", "openadr:ven"},
}


@dataclasses.dataclass(frozen=True)
class KeyRecord:
    """What a valid key grants: the tenant (id, name, role), the scopes and the key id."""

    tenant_id: int
    tenant_name: str
    role: str
    scopes: frozenset[str]
    key_id: str


@dataclasses.dataclass(frozen=True)
class CreatedKey:
    """A new key: ``key`` is shown once and never stored; ``record`` is what it grants."""

    key: str
    record: KeyRecord


def hash_key(key: str) -> str:
    """Hex SHA-256 of a whole API key (what the store keeps).

    Parameters
    ----------
    key : str
        The key as the client sends it.

    Returns
    -------
    str
        64 hex digits.
    """
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def get_or_create_tenant(session: Session, name: str, role: str) -> Tenant:
    """The tenant called ``name``, created with ``role`` if it does not exist (one DSO at most).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Open session (the caller commits).
    name : str
        Tenant name, 1-100 characters.
    role : {"dso", "aggregator"}
        Role of a new tenant; must match an existing tenant's role.

    Returns
    -------
    Tenant
    """
    if role not in ROLES:
        raise ValidationError(f"--role must be one of {list(ROLES)} (got {role!r})")
    if not isinstance(name, str) or not (1 <= len(name.strip()) <= 100):
        raise ValidationError(f"--tenant must be a name of 1 to 100 characters (got {name!r})")
    name = name.strip()
    tenant = session.scalars(select(Tenant).where(Tenant.name == name)).first()
    if tenant is not None:
        if tenant.role != role:
            raise ValidationError(
                f"tenant {name!r} exists with role {tenant.role!r}; "
                f"a key for it must use --role {tenant.role}"
            )
        return tenant
    if role == "dso":
        other = session.scalars(select(Tenant).where(Tenant.role == "dso")).first()
        if other is not None:
            raise ValidationError(
                f"the service already has a DSO tenant ({other.name!r}); "
                "there is exactly one network operator"
            )
    tenant = Tenant(name=name, role=role, created_s=int(time.time()))
    session.add(tenant)
    session.flush()
    return tenant


def create_key(
    session: Session, tenant: str, role: str, scopes: list[str] | None = None, label: str | None = None
) -> CreatedKey:
    """Create an API key for ``tenant`` (created if new) with ``scopes`` (default: all its role may hold).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Open session (the caller commits).
    tenant : str
        Tenant name.
    role : {"dso", "aggregator"}
        Tenant role.
    scopes : list of str, optional
        Scopes of the key; each must be allowed for the role (:data:`ROLE_SCOPES`).
    label : str, optional
        Free text kept with the key.

    Returns
    -------
    CreatedKey
        The key (shown once) and what it grants.
    """
    if role not in ROLES:
        raise ValidationError(f"--role must be one of {list(ROLES)} (got {role!r})")
    wanted = frozenset(scopes) if scopes else ROLE_SCOPES[role]
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise ValidationError(f"--scope {unknown} unknown; known scopes: {sorted(SCOPES)}")
    forbidden = sorted(wanted - ROLE_SCOPES[role])
    if forbidden:
        raise ValidationError(
            f"--scope {forbidden} not allowed for role {role!r}; "
            f"a {role} key may hold {sorted(ROLE_SCOPES[role])}"
        )
    t = get_or_create_tenant(session, tenant, role)
    key_id = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    session.add(
        ApiKey(
            id=key_id,
            tenant_id=t.id,
            secret_sha256=hash_key(key),
            scopes=" ".join(sorted(wanted)),
            label=label,
            created_s=int(time.time()),
        )
    )
    session.flush()
    return CreatedKey(key=key, record=KeyRecord(t.id, t.name, t.role, wanted, key_id))


def parse_key_id(key: str) -> str | None:
    """The lookup id of a key ``ovpp_<id>_<secret>``, or None if it is not shaped like one.

    Parameters
    ----------
    key : str
        The key as sent.

    Returns
    -------
    str or None
    """
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12 or not parts[2]:
        return None
    return parts[1]


def lookup_key(session: Session, key: str) -> KeyRecord | None:
    """What ``key`` grants, or None when it is unknown, revoked or wrong (constant-time hash comparison).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Open session.
    key : str
        The key as sent.

    Returns
    -------
    KeyRecord or None
    """
    key_id = parse_key_id(key)
    if key_id is None:
        return None
    row = session.execute(
        select(ApiKey, Tenant).join(Tenant, Tenant.id == ApiKey.tenant_id).where(ApiKey.id == key_id)
    ).first()
    if row is None:
        return None
    api_key, tenant = row
    if api_key.revoked_s is not None or not hmac.compare_digest(api_key.secret_sha256, hash_key(key)):
        return None
    scopes = frozenset(api_key.scopes.split()) & ROLE_SCOPES[tenant.role]
    return KeyRecord(tenant.id, tenant.name, tenant.role, scopes, api_key.id)
