"""Who is calling and what they may see: API-key authentication, scopes, the per-key rate limit, and the
tenant filter every query goes through (seed 000 §4 and explainer 002: the data platform's attack surface).

* :func:`current_principal` reads ``Authorization: Bearer <key>`` (or ``X-API-Key: <key>``), checks it against
  the SHA-256 stored by :mod:`openvpp.platform.store.keys`, applies the per-key token bucket (429 with
  ``Retry-After``) and returns a :class:`Principal`.
* :func:`require` makes a dependency that also demands a scope (403 naming the scope). Scopes are bounded by
  role when keys are made *and* when they are read, so a DSO key never acts as an aggregator (no
  ``der:write``/``telemetry:write``/``plans:write``) and an aggregator never writes envelopes.
* :func:`tenant_scoped` is **the** place a query on a tenant-owned table is filtered by tenant;
  :func:`visible_node_ids` and :func:`visible_envelopes` are the same rule for the DSO-owned constraint nodes
  and envelopes (an aggregator sees those of its own sites and of the nodes its DERs map to now). A row
  outside the filter is "not found" (404), never "forbidden", so ids of other tenants cannot be probed.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from openvpp.platform.api.deps import get_session
from openvpp.platform.api.errors import ApiError
from openvpp.platform.store.keys import KeyRecord, hash_key, lookup_key
from openvpp.platform.store.models import Der, Envelope, NodeMapping, Site

__all__ = [
    "KeyCache",
    "Principal",
    "RateLimiter",
    "current_principal",
    "require",
    "tenant_scoped",
    "visible_envelopes",
    "visible_node_ids",
]

_S = TypeVar("_S", bound=Select)  # type: ignore[type-arg]


@dataclasses.dataclass(frozen=True)
class Principal:
    """The authenticated caller.

    Parameters
    ----------
    tenant_id : int
        Tenant the key belongs to. [-]
    role : {"dso", "aggregator"}
        Tenant role.
    scopes : frozenset of str
        Scopes the key holds (already bounded by the role).
    key_id : str
        Public id of the key (for the audit log and rate limit).
    tenant_name : str
        Tenant name.
    """

    tenant_id: int
    role: str
    scopes: frozenset[str]
    key_id: str
    tenant_name: str = ""

    @property
    def is_dso(self) -> bool:
        """True for the network operator."""
        return self.role == "dso"

    @classmethod
    def from_record(cls, rec: KeyRecord) -> Principal:
        """Principal of a key record from the store.

        Parameters
        ----------
        rec : KeyRecord
            What a key grants.

        Returns
        -------
        Principal
        """
        return cls(rec.tenant_id, rec.role, rec.scopes, rec.key_id, rec.tenant_name)


class RateLimiter:
    """Token bucket per API key: ``rate_per_s`` sustained, ``burst`` at once (per API worker process).

    Parameters
    ----------
    rate_per_s : float
        Sustained requests per second per key. [1/s]
    burst : int
        Bucket depth. [-]
    """

    def __init__(self, rate_per_s: float, burst: int) -> None:
        self.rate_per_s = float(rate_per_s)
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key_id: str, now: float | None = None) -> float:
        """Take one token for ``key_id``; return 0 when allowed, else the seconds to wait.

        Parameters
        ----------
        key_id : str
            Key id.
        now : float, optional
            Monotonic time (default :func:`time.monotonic`). [s]

        Returns
        -------
        float
            0.0 if the request may proceed, otherwise the wait before a token is available. [s]
        """
        t = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key_id, (self.burst, t))
            tokens = min(self.burst, tokens + (t - last) * self.rate_per_s)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0, t)
                return 0.0
            self._buckets[key_id] = (tokens, t)
            return (1.0 - tokens) / self.rate_per_s


class KeyCache:
    """Keys checked in the last ``ttl_s`` seconds (by SHA-256), so a hot client costs no query per request.

    A revoked key stops working within ``ttl_s``.

    Parameters
    ----------
    ttl_s : float
        How long a checked key is trusted without reading the store again. [s]
    max_items : int
        Entries kept before the cache is cleared. [-]
    """

    def __init__(self, ttl_s: float = 5.0, max_items: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_items = max_items
        self._items: dict[str, tuple[float, KeyRecord]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> KeyRecord | None:
        """The cached record of a key digest, or None.

        Parameters
        ----------
        digest : str
            SHA-256 of the key.

        Returns
        -------
        KeyRecord or None
        """
        with self._lock:
            hit = self._items.get(digest)
        if hit is None or time.monotonic() - hit[0] > self.ttl_s:
            return None
        return hit[1]

    def put(self, digest: str, rec: KeyRecord) -> None:
        """Remember a checked key.

        Parameters
        ----------
        digest : str
            SHA-256 of the key.
        rec : KeyRecord
            What it grants.
        """
        with self._lock:
            if len(self._items) >= self.max_items:
                self._items.clear()
            self._items[digest] = (time.monotonic(), rec)


_bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer ovpp_<id>_<secret>`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key (alternative header)")


def current_principal(
    request: Request,
    session: Session = Depends(get_session),
    bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
    x_api_key: str | None = Depends(_header),
) -> Principal:
    """FastAPI dependency: the caller of this request (401 without a valid key, 429 over the rate).

    Parameters
    ----------
    request : fastapi.Request
        The request (its app holds the key cache and the rate limiter).
    session : sqlalchemy.orm.Session
        Session of the request.
    bearer : HTTPAuthorizationCredentials or None
        ``Authorization: Bearer`` credentials.
    x_api_key : str or None
        ``X-API-Key`` header.

    Returns
    -------
    Principal
    """
    key = bearer.credentials if bearer is not None else x_api_key
    if not key:
        raise ApiError(
            401,
            "Authorization",
            "missing API key; send 'Authorization: Bearer <key>' (make one with 'openvpp keys create')",
            headers={"WWW-Authenticate": "Bearer"},
        )
    digest = hash_key(key)
    cache: KeyCache | None = getattr(request.app.state, "key_cache", None)
    rec = cache.get(digest) if cache is not None else None
    if rec is None:
        rec = lookup_key(session, key)
        # hand the connection back now: the endpoint may wait for a worker thread before it runs, and a
        # connection held meanwhile could leave every thread waiting on an empty pool
        session.rollback()
        if rec is None:
            raise ApiError(
                401, "Authorization", "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"}
            )
        if cache is not None:
            cache.put(digest, rec)
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None:
        wait_s = limiter.take(rec.key_id)
        if wait_s > 0:
            raise ApiError(
                429,
                "Authorization",
                f"rate limit of {limiter.rate_per_s:g} requests/s for key {rec.key_id} exceeded; "
                f"retry after {math.ceil(wait_s)} s",
                headers={"Retry-After": str(max(1, math.ceil(wait_s)))},
            )
    return Principal.from_record(rec)


def require(scope: str) -> Callable[..., Principal]:
    """A FastAPI dependency returning the caller if its key holds ``scope`` (403 naming the scope if not).

    Parameters
    ----------
    scope : str
        Scope such as ``"der:write"`` (see :data:`openvpp.platform.store.keys.SCOPES`).

    Returns
    -------
    callable
        Dependency for ``Depends(...)``.
    """

    def _dep(principal: Principal = Depends(current_principal)) -> Principal:
        if scope not in principal.scopes:
            raise ApiError(
                403,
                "Authorization",
                f"this {principal.role} key lacks scope {scope!r} (it holds {sorted(principal.scopes)})",
            )
        return principal

    _dep.__name__ = f"require_{scope.replace(':', '_')}"
    return _dep


def tenant_scoped(stmt: _S, principal: Principal, model: Any, write: bool = False) -> _S:
    """``stmt`` filtered to the rows of ``model`` the caller may see (the one tenant filter of the API).

    Aggregators see their own rows only. The DSO reads every aggregator's registrations and telemetry (the
    monitoring feed of seed 001 §2.1) but writes only its own rows (``write=True``).

    Parameters
    ----------
    stmt : sqlalchemy.Select
        Query selecting from ``model``.
    principal : Principal
        Caller.
    model : mapped class
        A table with a ``tenant_id`` column.
    write : bool
        True when the rows will be changed.

    Returns
    -------
    sqlalchemy.Select
    """
    if principal.is_dso and not write:
        return stmt
    return stmt.where(model.tenant_id == principal.tenant_id)


def visible_node_ids(principal: Principal, now_s: int | None = None) -> Select[Any] | None:
    """Sub-query of the constraint-node ids the caller may see (None = all, for the DSO).

    An aggregator sees the nodes its own DERs map to in the mapping valid at ``now_s``.

    Parameters
    ----------
    principal : Principal
        Caller.
    now_s : int, optional
        Unix time the mapping is taken at (default now). [s]

    Returns
    -------
    sqlalchemy.Select or None
    """
    if principal.is_dso:
        return None
    t = int(time.time()) if now_s is None else now_s
    return (
        select(NodeMapping.node_id)
        .join(Der, Der.pk == NodeMapping.der_pk)
        .where(
            Der.tenant_id == principal.tenant_id,
            NodeMapping.valid_from_s <= t,
            or_(NodeMapping.valid_to_s.is_(None), NodeMapping.valid_to_s > t),
        )
    )


def visible_envelopes(stmt: _S, principal: Principal) -> _S:
    """``stmt`` (selecting :class:`Envelope`) filtered to what the caller may read.

    The DSO reads the envelopes it published; an aggregator those of its own sites and of the nodes its DERs
    map to now.

    Parameters
    ----------
    stmt : sqlalchemy.Select
        Query selecting from ``Envelope``.
    principal : Principal
        Caller.

    Returns
    -------
    sqlalchemy.Select
    """
    if principal.is_dso:
        return stmt.where(Envelope.tenant_id == principal.tenant_id)
    own_sites = select(Site.id).where(Site.tenant_id == principal.tenant_id)
    nodes = visible_node_ids(principal)
    return stmt.where(
        or_(
            (Envelope.subject_kind == "site") & Envelope.subject_id.in_(own_sites),
            (Envelope.subject_kind == "node") & Envelope.subject_id.in_(nodes),  # type: ignore[arg-type]
        )
    )
