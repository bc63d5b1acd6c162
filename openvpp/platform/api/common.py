"""Small helpers shared by the ``/v1`` routers: time conversion, paging, "not found", the audit log."""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy.orm import Session

from openvpp.platform.api.auth import Principal
from openvpp.platform.api.errors import ApiError
from openvpp.platform.store.models import AuditLog

__all__ = ["Limit", "Offset", "audit", "not_found", "now_s", "unix", "utc"]

#: page size of list endpoints (1 .. 1000)
Limit = Annotated[int, Query(ge=1, le=1000, description="Most items to return (1 to 1000).")]
#: items to skip
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.")]


def now_s() -> int:
    """Current unix time.

    Returns
    -------
    int
        Seconds since 1970-01-01 UTC. [s]
    """
    return int(time.time())


def utc(t_s: int | float) -> dt.datetime:
    """A unix time as a UTC datetime.

    Parameters
    ----------
    t_s : int or float
        Unix time. [s]

    Returns
    -------
    datetime.datetime
    """
    return dt.datetime.fromtimestamp(t_s, tz=dt.UTC)


def unix(t: dt.datetime) -> int:
    """A tz-aware datetime as unix seconds.

    Parameters
    ----------
    t : datetime.datetime
        Tz-aware time.

    Returns
    -------
    int
        Unix time. [s]
    """
    return int(t.timestamp())


def not_found(field: str, what: str, ident: str) -> ApiError:
    """The 404 of an id the caller cannot see (unknown and other tenants' ids look the same).

    Parameters
    ----------
    field : str
        Path or body field holding the id.
    what : str
        Object kind ("site", "DER" ...).
    ident : str
        The id as sent.

    Returns
    -------
    ApiError
    """
    return ApiError(404, field, f"no {what} {ident!r}")


def audit(
    session: Session,
    principal: Principal,
    action: str,
    object_type: str,
    object_id: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an audit-log row in the caller's transaction.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session of the change.
    principal : Principal
        Who acts.
    action : str
        What was done (``create``, ``update``, ``supersede`` ...).
    object_type : str
        Table or object kind.
    object_id : str or None
        Object id.
    detail : dict, optional
        Extra JSON.
    """
    session.add(
        AuditLog(
            tenant_id=principal.tenant_id,
            key_id=principal.key_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            detail=detail or {},
            at_s=now_s(),
        )
    )
