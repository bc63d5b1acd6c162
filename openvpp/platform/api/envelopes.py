"""``/v1/envelopes``: operating envelopes as CSIP-AUS DERControls (seed 001 §2.1 forecast export limits per
site and constraint node; the static default export limit as the DefaultDERControl).

The DSO publishes; each new envelope supersedes the *active* envelopes of the same subject whose interval it
overlaps (they are kept, with status ``superseded`` and the new ``mRID`` in ``superseded_by``), as the
reference CSIP-AUS server does. An aggregator reads the envelopes of its own sites and of the nodes its DERs
map to now. Limits are IEEE 2030.5 ActivePower (Int16 value, power-of-ten multiplier), encoded and decoded
with :func:`openvpp.envelopes.objects.encode_active_power` and ``decode_active_power``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from openvpp.envelopes.objects import LIMIT_FIELDS, decode_active_power, encode_active_power
from openvpp.errors import ValidationError
from openvpp.platform.api.auth import Principal, require, visible_envelopes
from openvpp.platform.api.common import Limit, Offset, audit, not_found, now_s, unix, utc
from openvpp.platform.api.deps import get_session, get_settings
from openvpp.platform.api.errors import ApiError
from openvpp.platform.api.schemas import ActivePower, EnvelopeBatch, EnvelopeOut
from openvpp.platform.settings import ServiceSettings
from openvpp.platform.store.models import ConstraintNode, Envelope, Site
from openvpp.platform.store.outbox import enqueue
from openvpp.units import kw_to_w

__all__ = ["envelope_out", "router"]

router = APIRouter(tags=["envelopes"])

#: DERControl field -> (value column, multiplier column) of :class:`Envelope`
_COLUMNS = {
    "opModExpLimW": ("exp_lim_value", "exp_lim_mult"),
    "opModImpLimW": ("imp_lim_value", "imp_lim_mult"),
    "opModGenLimW": ("gen_lim_value", "gen_lim_mult"),
    "opModLoadLimW": ("load_lim_value", "load_lim_mult"),
}
assert tuple(_COLUMNS) == LIMIT_FIELDS


def envelope_out(e: Envelope) -> EnvelopeOut:
    """Response body of a stored envelope.

    Parameters
    ----------
    e : Envelope
        Stored envelope.

    Returns
    -------
    EnvelopeOut
    """
    base = {}
    for f, (vc, mc) in _COLUMNS.items():
        v = getattr(e, vc)
        if v is not None:
            base[f] = ActivePower(value=v, multiplier=getattr(e, mc))
    return EnvelopeOut(
        mRID=e.mrid,
        subject_kind=e.subject_kind,
        subject_id=e.subject_id,
        start=utc(e.start_s),
        duration_s=e.duration_s,
        status=e.status,
        superseded_by=e.superseded_by,
        created=utc(e.created_s),
        DERControlBase=base,
    )


@router.post("/envelopes", status_code=201, response_model=list[EnvelopeOut])
def publish_envelopes(
    body: EnvelopeBatch,
    p: Principal = Depends(require("envelopes:write")),
    session: Session = Depends(get_session),
    settings: ServiceSettings = Depends(get_settings),
) -> list[EnvelopeOut]:
    """Publish envelopes (DSO); overlapping active envelopes of the same subject become ``superseded``."""
    if len(body.envelopes) > settings.max_batch_items:
        raise ApiError(422, "envelopes", f"at most {settings.max_batch_items} envelopes per request")
    t = now_s()
    site_owner: dict[str, int] = {}
    created: list[Envelope] = []
    for i, e in enumerate(body.envelopes):
        if e.subject_kind == "site":
            owner = session.scalar(select(Site.tenant_id).where(Site.id == e.subject_id))
            if owner is None:
                raise not_found(f"envelopes[{i}].subject_id", "site", e.subject_id)
            site_owner[e.subject_id] = owner
        elif session.get(ConstraintNode, e.subject_id) is None:
            raise not_found(f"envelopes[{i}].subject_id", "constraint node", e.subject_id)
        limits: dict[str, Any] = {}
        for f, (vc, mc) in _COLUMNS.items():
            ap = getattr(e, f)
            if ap is None:
                continue
            try:
                p_w = float(decode_active_power(ap.value, ap.multiplier))
                if p_w < 0:
                    raise ValidationError(f"a limit is a magnitude >= 0 W (got {p_w:g} W)")
                value, mult = encode_active_power(p_w)
            except ValidationError as exc:
                raise ApiError(422, f"envelopes[{i}].{f}", str(exc)) from None
            limits[vc], limits[mc] = int(value), int(mult)
        if not limits:
            raise ApiError(
                422, f"envelopes[{i}]", "an envelope needs at least one of " + ", ".join(LIMIT_FIELDS)
            )
        start = unix(e.start)
        end = start + e.duration_s
        new = Envelope(
            mrid=uuid.uuid4().hex.upper(),
            tenant_id=p.tenant_id,
            subject_kind=e.subject_kind,
            subject_id=e.subject_id,
            start_s=start,
            duration_s=e.duration_s,
            status="active",
            created_s=t,
            **limits,
        )
        older = session.scalars(
            select(Envelope).where(
                Envelope.subject_kind == e.subject_kind,
                Envelope.subject_id == e.subject_id,
                Envelope.status == "active",
                Envelope.start_s < end,
                Envelope.start_s + Envelope.duration_s > start,
            )
        ).all()
        for old in older:
            old.status = "superseded"
            old.superseded_by = new.mrid
        session.add(new)
        session.flush()
        created.append(new)
        out = envelope_out(new)
        tenant = site_owner.get(e.subject_id) if e.subject_kind == "site" else None
        enqueue(
            session,
            tenant,
            f"openvpp/envelopes/{e.subject_kind}/{e.subject_id}",
            out.model_dump(mode="json"),
        )
        audit(session, p, "publish", "envelope", new.mrid, {"superseded": [o.mrid for o in older]})
    session.commit()
    return [envelope_out(e) for e in created]


@router.get("/envelopes", response_model=list[EnvelopeOut])
def list_envelopes(
    subject_kind: str | None = Query(default=None, pattern="^(site|node)$"),
    subject_id: str | None = Query(default=None, max_length=100),
    at: dt.datetime | None = Query(
        default=None, description="Only envelopes whose interval contains this time."
    ),
    status: str | None = Query(default="active", pattern="^(active|superseded|cancelled|all)$"),
    limit: Limit = 100,
    offset: Offset = 0,
    p: Principal = Depends(require("envelopes:read")),
    session: Session = Depends(get_session),
) -> list[EnvelopeOut]:
    """Envelopes the caller may read, by interval start."""
    if at is not None and at.tzinfo is None:
        raise ApiError(422, "at", "at must have a UTC offset, e.g. 2026-01-01T00:00:00+00:00")
    q = visible_envelopes(select(Envelope), p)
    if subject_kind is not None:
        q = q.where(Envelope.subject_kind == subject_kind)
    if subject_id is not None:
        q = q.where(Envelope.subject_id == subject_id)
    if at is not None:
        t = unix(at)
        q = q.where(Envelope.start_s <= t, Envelope.start_s + Envelope.duration_s > t)
    if status is not None and status != "all":
        q = q.where(Envelope.status == status)
    rows = session.scalars(q.order_by(Envelope.start_s, Envelope.pk).limit(limit).offset(offset))
    return [envelope_out(e) for e in rows]


@router.get("/envelopes/default")
def default_envelope(
    p: Principal = Depends(require("envelopes:read")), settings: ServiceSettings = Depends(get_settings)
) -> dict[str, Any]:
    """The DefaultDERControl: the static export limit to revert to without an envelope (seed 001 §2.1)."""
    value, mult = encode_active_power(float(kw_to_w(settings.static_export_limit_kw)))
    return {"DERControlBase": {"opModExpLimW": {"value": int(value), "multiplier": int(mult)}}}


@router.get("/envelopes/{mrid}", response_model=EnvelopeOut)
def get_envelope(
    mrid: str, p: Principal = Depends(require("envelopes:read")), session: Session = Depends(get_session)
) -> EnvelopeOut:
    """One envelope by mRID."""
    e = session.scalars(visible_envelopes(select(Envelope).where(Envelope.mrid == mrid), p)).first()
    if e is None:
        raise not_found("mrid", "envelope", mrid)
    return envelope_out(e)


@router.delete("/envelopes/{mrid}", response_model=EnvelopeOut)
def cancel_envelope(
    mrid: str, p: Principal = Depends(require("envelopes:write")), session: Session = Depends(get_session)
) -> EnvelopeOut:
    """Cancel an active envelope (DSO); it is kept with status ``cancelled``."""
    e = session.scalars(visible_envelopes(select(Envelope).where(Envelope.mrid == mrid), p)).first()
    if e is None:
        raise not_found("mrid", "envelope", mrid)
    if e.status != "active":
        raise ApiError(
            409, "mrid", f"envelope {mrid!r} is {e.status}; only an active envelope can be cancelled"
        )
    e.status = "cancelled"
    audit(session, p, "cancel", "envelope", mrid)
    session.commit()
    return envelope_out(e)


def decode_limits_w(e: Envelope) -> dict[str, float | None]:
    """The limits of a stored envelope in W (None where not set).

    Parameters
    ----------
    e : Envelope
        Stored envelope.

    Returns
    -------
    dict
        ``{field: W or None}``. [W]
    """
    out: dict[str, float | None] = {}
    for f, (vc, mc) in _COLUMNS.items():
        v = getattr(e, vc)
        out[f] = None if v is None else float(decode_active_power(v, getattr(e, mc)))
    return out
