"""The notification outbox: messages written in the same transaction as the change they announce and delivered
at least once by a worker, so nothing is lost while the broker is down (the transactional-outbox pattern).

* :func:`enqueue` adds a message (the caller commits it with its change);
* :func:`claim` leases up to ``limit`` undelivered messages to one worker: ``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL, so several workers never claim the same message at once; SQLite serialises writers anyway;
* :func:`mark_delivered` records delivery; a message whose lease ran out without delivery (worker crash,
  broker down) is claimed again: delivery is at least once, and consumers de-duplicate by message ``id``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from openvpp.errors import ValidationError
from openvpp.platform.store.models import Outbox

__all__ = ["MAX_CLAIM", "OutboxMessage", "claim", "enqueue", "mark_delivered", "pending_count"]

#: most messages one claim may lease [-]
MAX_CLAIM = 10_000


@dataclasses.dataclass(frozen=True)
class OutboxMessage:
    """A claimed message: ``id`` (for de-duplication and :func:`mark_delivered`), tenant, topic, payload,
    and how many times it was claimed (``attempts``)."""

    id: int
    tenant_id: int | None
    topic: str
    payload: dict[str, Any]
    attempts: int


def enqueue(session: Session, tenant_id: int | None, topic: str, payload: dict[str, Any]) -> int:
    """Add a message to the outbox (committed with the caller's transaction).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session of the change the message announces.
    tenant_id : int or None
        Tenant the message is for (None = the service). [-]
    topic : str
        Delivery topic, e.g. ``openvpp/<tenant>/envelopes/<site>``; 1-300 characters.
    payload : dict
        JSON-serialisable body.

    Returns
    -------
    int
        Message id. [-]
    """
    if not isinstance(topic, str) or not (1 <= len(topic) <= 300):
        raise ValidationError(f"topic must be 1 to 300 characters (got {topic!r})")
    if not isinstance(payload, dict):
        raise ValidationError(f"payload must be a JSON object (dict), got {type(payload).__name__}")
    row = Outbox(tenant_id=tenant_id, topic=topic, payload=payload, created_s=int(time.time()), attempts=0)
    session.add(row)
    session.flush()
    return int(row.id)


def claim(
    session: Session, limit: int = 100, lease_s: float = 30.0, now_s: float | None = None
) -> list[OutboxMessage]:
    """Lease up to ``limit`` undelivered messages, oldest first, and commit the lease.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session (committed by this call).
    limit : int
        Most messages to claim, 1 .. :data:`MAX_CLAIM`. [-]
    lease_s : float
        How long the claim holds before another worker may take the message again. [s]
    now_s : float, optional
        Current unix time (default now). [s]

    Returns
    -------
    list of OutboxMessage
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not (1 <= limit <= MAX_CLAIM):
        raise ValidationError(f"limit must be an integer in [1, {MAX_CLAIM}] (got {limit!r})")
    if not lease_s > 0:
        raise ValidationError(f"lease_s must be > 0 seconds (got {lease_s!r})")
    now = time.time() if now_s is None else float(now_s)
    rows = session.scalars(
        select(Outbox)
        .where(
            Outbox.delivered_s.is_(None), or_(Outbox.claimed_until_s.is_(None), Outbox.claimed_until_s < now)
        )
        .order_by(Outbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    out = []
    for r in rows:
        r.claimed_until_s = now + lease_s
        r.attempts = (r.attempts or 0) + 1
        out.append(OutboxMessage(r.id, r.tenant_id, r.topic, dict(r.payload), r.attempts))
    session.commit()
    return out


def mark_delivered(session: Session, ids: Iterable[int], now_s: float | None = None) -> int:
    """Record delivery of claimed messages and commit.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session (committed by this call).
    ids : iterable of int
        Message ids. [-]
    now_s : float, optional
        Delivery unix time (default now). [s]

    Returns
    -------
    int
        Messages marked now (already delivered ones are not counted again). [-]
    """
    id_list = sorted({int(i) for i in ids})
    if not id_list:
        return 0
    now = int(time.time() if now_s is None else now_s)
    res = session.execute(
        update(Outbox).where(Outbox.id.in_(id_list), Outbox.delivered_s.is_(None)).values(delivered_s=now)
    )
    session.commit()
    return int(res.rowcount or 0)  # type: ignore[attr-defined]


def pending_count(session: Session) -> int:
    """Messages not yet delivered.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session.

    Returns
    -------
    int
        Count. [-]
    """
    from sqlalchemy import func

    return int(
        session.scalar(select(func.count()).select_from(Outbox).where(Outbox.delivered_s.is_(None))) or 0
    )
