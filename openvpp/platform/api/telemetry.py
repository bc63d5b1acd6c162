"""``/v1/telemetry``: batch ingest with per-item errors and flags, reading back, and trust flags (seed 001
§2.1 monitoring; seed 000 §4 false-data injection, :mod:`openvpp.platform.trust`)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from openvpp.platform.api.auth import Principal, require, tenant_scoped
from openvpp.platform.api.common import Limit, Offset, unix, utc
from openvpp.platform.api.deps import get_session, get_settings
from openvpp.platform.api.ders import visible_der
from openvpp.platform.api.errors import ApiError
from openvpp.platform.api.schemas import FlagOut, IngestOut, ItemError, ItemFlag, ReadingOut, TelemetryBatch
from openvpp.platform.settings import ServiceSettings
from openvpp.platform.store.models import Der, Telemetry, TelemetryFlag
from openvpp.platform.store.telemetry import VALUE_FIELDS, ingest_readings
from openvpp.platform.trust import TRUST_CHECKS, TrustLimits

__all__ = ["router"]

router = APIRouter(tags=["telemetry"])


@router.post("/telemetry", response_model=IngestOut)
def post_telemetry(
    body: TelemetryBatch,
    p: Principal = Depends(require("telemetry:write")),
    session: Session = Depends(get_session),
    settings: ServiceSettings = Depends(get_settings),
) -> IngestOut:
    """Store a batch of readings: accepted items are stored, exact replays counted as duplicates, the rest
    rejected with index, field and reason; plausibility flags are returned and stored."""
    n = len(body.readings)
    if n > settings.max_batch_items:
        raise ApiError(
            422,
            "readings",
            f"{n} readings in one batch; at most {settings.max_batch_items} (split the batch)",
        )
    items = [r.model_dump() for r in body.readings]
    res = ingest_readings(
        session, p, items, limits=TrustLimits(future_tolerance_s=settings.telemetry_future_tolerance_s)
    )
    return IngestOut(
        accepted=res.accepted,
        duplicates=res.duplicates,
        rejected=[ItemError(index=i, field=f, reason=r) for i, f, r in res.rejected],
        flagged=[ItemFlag(index=i, check=c, reason=r) for i, c, r in res.flagged],
    )


@router.get("/telemetry", response_model=list[ReadingOut])
def get_telemetry(
    der_id: str = Query(max_length=100),
    start: dt.datetime | None = Query(default=None, description="First interval start (tz-aware)."),
    end: dt.datetime | None = Query(default=None, description="Interval starts before this (tz-aware)."),
    limit: Limit = 1000,
    offset: Offset = 0,
    p: Principal = Depends(require("telemetry:read")),
    session: Session = Depends(get_session),
) -> list[ReadingOut]:
    """Readings of one DER in ``[start, end)``, oldest first, with the names of their flags."""
    for name, t in (("start", start), ("end", end)):
        if t is not None and t.tzinfo is None:
            raise ApiError(422, name, f"{name} must have a UTC offset, e.g. 2026-01-01T00:00:00+00:00")
    der, _site = visible_der(session, p, der_id)
    q = select(Telemetry).where(Telemetry.der_pk == der.pk)
    if start is not None:
        q = q.where(Telemetry.start_s >= unix(start))
    if end is not None:
        q = q.where(Telemetry.start_s < unix(end))
    rows = session.scalars(q.order_by(Telemetry.start_s).limit(limit).offset(offset)).all()
    flags: dict[int, list[str]] = {}
    if rows:
        for s, c in session.execute(
            select(TelemetryFlag.start_s, TelemetryFlag.check_name).where(
                TelemetryFlag.der_pk == der.pk,
                TelemetryFlag.start_s >= rows[0].start_s,
                TelemetryFlag.start_s <= rows[-1].start_s,
            )
        ):
            flags.setdefault(s, []).append(c)
    return [
        ReadingOut(
            der_id=der.id,
            start=utc(r.start_s),
            interval_s=r.interval_s,
            envelope_fallback=r.envelope_fallback,
            flags=sorted(flags.get(r.start_s, [])),
            **{f: getattr(r, f) for f in VALUE_FIELDS},
        )
        for r in rows
    ]


@router.get("/telemetry/flags", response_model=list[FlagOut])
def get_flags(
    der_id: str | None = Query(default=None, max_length=100),
    check: str | None = Query(default=None, description=f"One of {', '.join(TRUST_CHECKS)}."),
    limit: Limit = 100,
    offset: Offset = 0,
    p: Principal = Depends(require("telemetry:read")),
    session: Session = Depends(get_session),
) -> list[FlagOut]:
    """Plausibility flags on stored readings (newest first), optionally of one DER or one check."""
    if check is not None and check not in TRUST_CHECKS:
        raise ApiError(422, "check", f"unknown check {check!r}; one of {list(TRUST_CHECKS)}")
    q = tenant_scoped(
        select(TelemetryFlag, Der.id).join(Der, Der.pk == TelemetryFlag.der_pk), p, TelemetryFlag
    )
    if der_id is not None:
        der, _ = visible_der(session, p, der_id)
        q = q.where(TelemetryFlag.der_pk == der.pk)
    if check is not None:
        q = q.where(TelemetryFlag.check_name == check)
    rows = session.execute(
        q.order_by(TelemetryFlag.start_s.desc(), TelemetryFlag.id.desc()).limit(limit).offset(offset)
    ).all()
    return [FlagOut(der_id=d, start=utc(f.start_s), check=f.check_name, reason=f.reason) for f, d in rows]
