"""``/v1/nodes`` and ``/v1/mapping``: constraint nodes and the DER-to-node mapping (seed 001 §2.1: a DER maps
to one or more nodes, at least its transmission connection point; the mapping changes with network
reconfiguration and must be refreshed).

The DSO creates nodes and refreshes the mapping: a refresh closes the DER's current links
(``valid_to = valid_from`` of the new version) and writes a new version; old versions are kept and can be
queried with ``at=`` or ``history=true``. An aggregator reads the mapping of its own DERs and the nodes they
map to now; other nodes are 404.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from openvpp.platform.api.auth import Principal, require, tenant_scoped, visible_node_ids
from openvpp.platform.api.common import Limit, Offset, audit, not_found, now_s, unix, utc
from openvpp.platform.api.deps import get_session
from openvpp.platform.api.ders import visible_der
from openvpp.platform.api.errors import ApiError
from openvpp.platform.api.schemas import MappingEntry, MappingRefresh, NodeIn, NodeOut
from openvpp.platform.store.models import ConstraintNode, Der, NodeMapping
from openvpp.platform.store.outbox import enqueue

__all__ = ["router"]

router = APIRouter(tags=["network"])


def _node_out(n: ConstraintNode) -> NodeOut:
    return NodeOut(id=n.id, kind=n.kind, name=n.name, parent_id=n.parent_id)


@router.post("/nodes", status_code=201, response_model=NodeOut)
def create_node(
    body: NodeIn, p: Principal = Depends(require("nodes:write")), session: Session = Depends(get_session)
) -> NodeOut:
    """Create a constraint node (DSO)."""
    if session.get(ConstraintNode, body.id) is not None:
        raise ApiError(409, "id", f"constraint node {body.id!r} exists")
    if body.parent_id is not None and session.get(ConstraintNode, body.parent_id) is None:
        raise not_found("parent_id", "constraint node", body.parent_id)
    node = ConstraintNode(tenant_id=p.tenant_id, created_s=now_s(), **body.model_dump())
    session.add(node)
    audit(session, p, "create", "node", node.id)
    session.commit()
    return _node_out(node)


@router.get("/nodes", response_model=list[NodeOut])
def list_nodes(
    limit: Limit = 100,
    offset: Offset = 0,
    p: Principal = Depends(require("nodes:read")),
    session: Session = Depends(get_session),
) -> list[NodeOut]:
    """Constraint nodes the caller may see (an aggregator: those its DERs map to now)."""
    q = select(ConstraintNode)
    vis = visible_node_ids(p)
    if vis is not None:
        q = q.where(ConstraintNode.id.in_(vis))
    rows = session.scalars(q.order_by(ConstraintNode.id).limit(limit).offset(offset))
    return [_node_out(n) for n in rows]


@router.get("/nodes/{node_id}", response_model=NodeOut)
def get_node(
    node_id: str, p: Principal = Depends(require("nodes:read")), session: Session = Depends(get_session)
) -> NodeOut:
    """One constraint node."""
    q = select(ConstraintNode).where(ConstraintNode.id == node_id)
    vis = visible_node_ids(p)
    if vis is not None:
        q = q.where(ConstraintNode.id.in_(vis))
    node = session.scalars(q).first()
    if node is None:
        raise not_found("node_id", "constraint node", node_id)
    return _node_out(node)


@router.put("/mapping", response_model=list[MappingEntry])
def refresh_mapping(
    body: MappingRefresh,
    p: Principal = Depends(require("nodes:write")),
    session: Session = Depends(get_session),
) -> list[MappingEntry]:
    """Write a new mapping version for each listed DER (DSO); the previous version is closed and kept."""
    t = unix(body.valid_from) if body.valid_from is not None else now_s()
    wanted_nodes = sorted({n for m in body.mappings for n in m.node_ids})
    known = set(session.scalars(select(ConstraintNode.id).where(ConstraintNode.id.in_(wanted_nodes))))
    for i, m in enumerate(body.mappings):
        for k, n in enumerate(m.node_ids):
            if n not in known:
                raise not_found(f"mappings[{i}].node_ids[{k}]", "constraint node", n)
    seen: set[str] = set()
    out: list[MappingEntry] = []
    for i, m in enumerate(body.mappings):
        if m.der_id in seen:
            raise ApiError(422, f"mappings[{i}].der_id", f"DER {m.der_id!r} listed twice in one refresh")
        seen.add(m.der_id)
        der = session.scalars(tenant_scoped(select(Der).where(Der.id == m.der_id), p, Der)).first()
        if der is None:
            raise not_found(f"mappings[{i}].der_id", "DER", m.der_id)
        latest = (
            session.scalar(select(func.max(NodeMapping.version)).where(NodeMapping.der_pk == der.pk)) or 0
        )
        later = session.scalar(
            select(func.count())
            .select_from(NodeMapping)
            .where(NodeMapping.der_pk == der.pk, NodeMapping.valid_from_s >= t)
        )
        if later:
            raise ApiError(
                409,
                "valid_from",
                f"DER {m.der_id!r} has a mapping version starting at or after {utc(t)}; "
                "a refresh must start after the current version",
            )
        session.execute(
            update(NodeMapping)
            .where(NodeMapping.der_pk == der.pk, NodeMapping.valid_to_s.is_(None))
            .values(valid_to_s=t)
        )
        for n in dict.fromkeys(m.node_ids):
            session.add(
                NodeMapping(der_pk=der.pk, node_id=n, version=latest + 1, valid_from_s=t, valid_to_s=None)
            )
            out.append(
                MappingEntry(der_id=der.id, node_id=n, version=latest + 1, valid_from=utc(t), valid_to=None)
            )
        enqueue(
            session,
            der.tenant_id,
            f"openvpp/{der.tenant_id}/mapping/{der.id}",
            {
                "der_id": der.id,
                "version": latest + 1,
                "node_ids": list(dict.fromkeys(m.node_ids)),
                "valid_from_s": t,
            },
        )
        audit(session, p, "refresh", "mapping", der.id, {"version": latest + 1, "node_ids": m.node_ids})
    session.commit()
    return out


@router.get("/mapping", response_model=list[MappingEntry])
def get_mapping(
    der_id: str | None = Query(default=None, max_length=100),
    at: dt.datetime | None = Query(default=None, description="Mapping valid at this time (default now)."),
    history: bool = Query(default=False, description="All versions instead of the one valid at `at`."),
    limit: Limit = 1000,
    offset: Offset = 0,
    p: Principal = Depends(require("nodes:read")),
    session: Session = Depends(get_session),
) -> list[MappingEntry]:
    """The DER-to-node mapping the caller may see (its own DERs; the DSO all), valid at ``at``."""
    if at is not None and at.tzinfo is None:
        raise ApiError(422, "at", "at must have a UTC offset, e.g. 2026-01-01T00:00:00+00:00")
    q = tenant_scoped(select(NodeMapping, Der.id).join(Der, Der.pk == NodeMapping.der_pk), p, Der)
    if der_id is not None:
        der, _ = visible_der(session, p, der_id)
        q = q.where(NodeMapping.der_pk == der.pk)
    if not history:
        t = unix(at) if at is not None else now_s()
        q = q.where(
            NodeMapping.valid_from_s <= t, or_(NodeMapping.valid_to_s.is_(None), NodeMapping.valid_to_s > t)
        )
    rows = session.execute(
        q.order_by(NodeMapping.der_pk, NodeMapping.version, NodeMapping.node_id).limit(limit).offset(offset)
    ).all()
    return [
        MappingEntry(
            der_id=d,
            node_id=m.node_id,
            version=m.version,
            valid_from=utc(m.valid_from_s),
            valid_to=None if m.valid_to_s is None else utc(m.valid_to_s),
        )
        for m, d in rows
    ]
