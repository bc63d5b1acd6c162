"""``/v1/plans`` and ``/v1/dispatch``: an aggregator's operating plans and dispatch instructions with their
status. Aggregators write and read their own; the DSO reads all."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from openvpp.platform.api.auth import Principal, require, tenant_scoped
from openvpp.platform.api.common import Limit, Offset, audit, not_found, now_s, unix, utc
from openvpp.platform.api.deps import get_session, get_settings
from openvpp.platform.api.errors import ApiError
from openvpp.platform.api.schemas import DispatchBatch, DispatchOut, PlanIn, PlanOut, StatusPatch
from openvpp.platform.settings import ServiceSettings
from openvpp.platform.store.models import DISPATCH_STATUSES, PLAN_STATUSES, Der, DispatchInstruction, Plan
from openvpp.platform.store.outbox import enqueue

__all__ = ["router"]

router = APIRouter(tags=["plans"])

#: the longest plan horizon accepted (one week) [s]
MAX_PLAN_S = 7 * 86_400


def _plan_out(pl: Plan) -> PlanOut:
    return PlanOut(
        id=pl.id,
        start=utc(pl.start_s),
        end=utc(pl.end_s),
        status=pl.status,
        summary=pl.summary,
        created=utc(pl.created_s),
        updated=utc(pl.updated_s),
    )


def _dispatch_out(d: DispatchInstruction, der_id: str) -> DispatchOut:
    return DispatchOut(
        id=d.id,
        der_id=der_id,
        plan_id=d.plan_id,
        start=utc(d.start_s),
        duration_s=d.duration_s,
        p_kw=d.p_kw,
        status=d.status,
        updated=utc(d.updated_s),
    )


@router.post("/plans", status_code=201, response_model=PlanOut)
def create_plan(
    body: PlanIn, p: Principal = Depends(require("plans:write")), session: Session = Depends(get_session)
) -> PlanOut:
    """Record a plan for ``[start, end)``."""
    start, end = unix(body.start), unix(body.end)
    if end <= start or end - start > MAX_PLAN_S:
        raise ApiError(422, "end", f"end must be after start and within {MAX_PLAN_S // 86_400} days of it")
    t = now_s()
    pl = Plan(
        id=str(uuid.uuid4()),
        tenant_id=p.tenant_id,
        start_s=start,
        end_s=end,
        status=body.status,
        summary=body.summary,
        created_s=t,
        updated_s=t,
    )
    session.add(pl)
    audit(session, p, "create", "plan", pl.id)
    session.commit()
    return _plan_out(pl)


@router.get("/plans", response_model=list[PlanOut])
def list_plans(
    status: str | None = Query(default=None, max_length=16),
    limit: Limit = 100,
    offset: Offset = 0,
    p: Principal = Depends(require("plans:read")),
    session: Session = Depends(get_session),
) -> list[PlanOut]:
    """Plans the caller may see, newest first."""
    q = tenant_scoped(select(Plan), p, Plan)
    if status is not None:
        q = q.where(Plan.status == status)
    rows = session.scalars(q.order_by(Plan.created_s.desc(), Plan.id).limit(limit).offset(offset))
    return [_plan_out(pl) for pl in rows]


@router.get("/plans/{plan_id}", response_model=PlanOut)
def get_plan(
    plan_id: str, p: Principal = Depends(require("plans:read")), session: Session = Depends(get_session)
) -> PlanOut:
    """One plan."""
    pl = session.scalars(tenant_scoped(select(Plan).where(Plan.id == plan_id), p, Plan)).first()
    if pl is None:
        raise not_found("plan_id", "plan", plan_id)
    return _plan_out(pl)


@router.patch("/plans/{plan_id}", response_model=PlanOut)
def set_plan_status(
    plan_id: str,
    body: StatusPatch,
    p: Principal = Depends(require("plans:write")),
    session: Session = Depends(get_session),
) -> PlanOut:
    """Change a plan's status."""
    if body.status not in PLAN_STATUSES:
        raise ApiError(422, "status", f"status must be one of {list(PLAN_STATUSES)} (got {body.status!r})")
    pl = session.scalars(tenant_scoped(select(Plan).where(Plan.id == plan_id), p, Plan, write=True)).first()
    if pl is None:
        raise not_found("plan_id", "plan", plan_id)
    pl.status = body.status
    pl.updated_s = now_s()
    audit(session, p, "status", "plan", pl.id, {"status": body.status})
    session.commit()
    return _plan_out(pl)


@router.post("/dispatch", status_code=201, response_model=list[DispatchOut])
def create_dispatch(
    body: DispatchBatch,
    p: Principal = Depends(require("plans:write")),
    session: Session = Depends(get_session),
    settings: ServiceSettings = Depends(get_settings),
) -> list[DispatchOut]:
    """Record dispatch instructions (status ``pending``) for the caller's DERs."""
    if len(body.instructions) > settings.max_batch_items:
        raise ApiError(422, "instructions", f"at most {settings.max_batch_items} instructions per request")
    ids = sorted({i.der_id for i in body.instructions})
    ders = {
        d.id: d for d in session.scalars(select(Der).where(Der.tenant_id == p.tenant_id, Der.id.in_(ids)))
    }
    plans = {i.plan_id for i in body.instructions if i.plan_id is not None}
    known_plans = set(
        session.scalars(select(Plan.id).where(Plan.tenant_id == p.tenant_id, Plan.id.in_(plans)))
    )
    t = now_s()
    out = []
    for k, ins in enumerate(body.instructions):
        der = ders.get(ins.der_id)
        if der is None:
            raise not_found(f"instructions[{k}].der_id", "DER", ins.der_id)
        if ins.plan_id is not None and ins.plan_id not in known_plans:
            raise not_found(f"instructions[{k}].plan_id", "plan", ins.plan_id)
        if abs(ins.p_kw) > der.p_max_kw:
            raise ApiError(
                422,
                f"instructions[{k}].p_kw",
                f"|p_kw| = {abs(ins.p_kw):g} kW exceeds the DER rating {der.p_max_kw:g} kW",
            )
        d = DispatchInstruction(
            id=str(uuid.uuid4()),
            tenant_id=p.tenant_id,
            plan_id=ins.plan_id,
            der_pk=der.pk,
            start_s=unix(ins.start),
            duration_s=ins.duration_s,
            p_kw=ins.p_kw,
            status="pending",
            created_s=t,
            updated_s=t,
        )
        session.add(d)
        o = _dispatch_out(d, der.id)
        enqueue(session, p.tenant_id, f"openvpp/{p.tenant_id}/dispatch/{der.id}", o.model_dump(mode="json"))
        out.append(o)
    audit(session, p, "create", "dispatch", None, {"count": len(out)})
    session.commit()
    return out


@router.get("/dispatch", response_model=list[DispatchOut])
def list_dispatch(
    der_id: str | None = Query(default=None, max_length=100),
    plan_id: str | None = Query(default=None, max_length=100),
    status: str | None = Query(default=None, max_length=16),
    limit: Limit = 100,
    offset: Offset = 0,
    p: Principal = Depends(require("plans:read")),
    session: Session = Depends(get_session),
) -> list[DispatchOut]:
    """Dispatch instructions the caller may see, by start time."""
    q = tenant_scoped(
        select(DispatchInstruction, Der.id).join(Der, Der.pk == DispatchInstruction.der_pk),
        p,
        DispatchInstruction,
    )
    if der_id is not None:
        q = q.where(Der.id == der_id)
    if plan_id is not None:
        q = q.where(DispatchInstruction.plan_id == plan_id)
    if status is not None:
        q = q.where(DispatchInstruction.status == status)
    rows = session.execute(
        q.order_by(DispatchInstruction.start_s, DispatchInstruction.id).limit(limit).offset(offset)
    ).all()
    return [_dispatch_out(d, i) for d, i in rows]


@router.patch("/dispatch/{instruction_id}", response_model=DispatchOut)
def set_dispatch_status(
    instruction_id: str,
    body: StatusPatch,
    p: Principal = Depends(require("plans:write")),
    session: Session = Depends(get_session),
) -> DispatchOut:
    """Change a dispatch instruction's status (sent, acknowledged, delivered, failed, cancelled)."""
    if body.status not in DISPATCH_STATUSES:
        raise ApiError(
            422, "status", f"status must be one of {list(DISPATCH_STATUSES)} (got {body.status!r})"
        )
    row = session.execute(
        tenant_scoped(
            select(DispatchInstruction, Der.id)
            .join(Der, Der.pk == DispatchInstruction.der_pk)
            .where(DispatchInstruction.id == instruction_id),
            p,
            DispatchInstruction,
            write=True,
        )
    ).first()
    if row is None:
        raise not_found("instruction_id", "dispatch instruction", instruction_id)
    d, der_id = row
    d.status = body.status
    d.updated_s = now_s()
    audit(session, p, "status", "dispatch", d.id, {"status": body.status})
    session.commit()
    return _dispatch_out(d, der_id)
