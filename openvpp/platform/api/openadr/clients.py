"""OpenADR 3.1 objects that belong to a VEN: reports, subscriptions, vens and resources."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import fastapi
from fastapi import Query
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from openvpp.platform.api.openadr.common import (
    MAX_LIMIT,
    Client,
    ClientDep,
    Limit,
    ProblemError,
    ProblemRoute,
    SessionDep,
    Skip,
    Targets,
    commit,
    granted_targets,
    new_id,
    not_found,
    notify,
    object_out,
    page,
    visible_targets,
)
from openvpp.platform.api.openadr.objects import (
    BlResourceRequest,
    BlVenRequest,
    Name,
    ObjectID,
    Report,
    ReportRequest,
    Resource,
    ResourceRequest,
    Subscription,
    SubscriptionRequest,
    Ven,
    VenRequest,
    VenResourceRequest,
    VenVenRequest,
)
from openvpp.platform.store.models import Tenant
from openvpp.platform.store.openadr import (
    OadrEvent,
    OadrProgram,
    OadrReport,
    OadrResource,
    OadrSubscription,
    OadrVen,
    utc_now,
)

router = fastapi.APIRouter(route_class=ProblemRoute)


# ------------------------------------------------------------------------------------ VEN-owned objects
def _owned_or_404(session: Session, cls: Any, kind: str, object_id: str, client: Client) -> Any:
    """A ven, resource, report or subscription the caller may see (the BL all; a VEN its own), else 404."""
    row = session.get(cls, object_id)
    if row is None or (not client.is_bl and row.client_id != client.client_id):
        raise not_found(kind, object_id)
    return row


def _owned_query(cls: Any, client: Client) -> Any:
    q = select(cls).order_by(cls.created, cls.id)
    return q if client.is_bl else q.where(cls.client_id == client.client_id)


# ---------------------------------------------------------------------------------------------- reports
def _report_event(session: Session, client: Client, event_id: str) -> OadrEvent:
    row = session.get(OadrEvent, event_id)
    granted = granted_targets(session, client.client_id)
    if row is None or (row.targets and visible_targets(row.targets, granted, granted) is None):
        raise ProblemError(400, "eventID", f"eventID {event_id!r} names no event visible to this VEN")
    return row


@router.get(
    "/reports",
    response_model=list[Report],
    response_model_exclude_none=True,
    operation_id="searchAllReports",
    summary="searches all reports",
)
def search_reports(
    client: ClientDep,
    session: SessionDep,
    programID: ObjectID | None = None,
    eventID: ObjectID | None = None,
    clientName: Name | None = None,
    skip: Skip = 0,
    limit: Limit = MAX_LIMIT,
) -> list[dict[str, Any]]:
    """List reports (``read_ven_objects``: a VEN sees its own, the BL all)."""
    q = _owned_query(OadrReport, client)
    if programID is not None:
        q = q.where(OadrReport.program_id == programID)
    if eventID is not None:
        q = q.where(OadrReport.event_id == eventID)
    if clientName is not None:
        q = q.where(OadrReport.client_name == clientName)
    q = q.offset(skip).limit(limit)
    return [object_out(r, "REPORT", clientID=r.client_id) for r in session.scalars(q)]


@router.post(
    "/reports",
    response_model=Report,
    status_code=201,
    response_model_exclude_none=True,
    operation_id="createReport",
    summary="add a report",
)
def create_report(body: ReportRequest, client: ClientDep, session: SessionDep) -> dict[str, Any]:
    """A VEN reports on an event it can see (``write_reports``: VENs only)."""
    client.require_ven("write reports")
    event = _report_event(session, client, body.eventID)
    row = OadrReport(
        id=new_id(),
        tenant_id=client.tenant_id,
        client_id=client.client_id,
        event_id=event.id,
        program_id=event.program_id,
        client_name=body.clientName,
        body=body.model_dump(mode="json", exclude_none=True),
    )
    session.add(row)
    commit(session, "report")
    out = object_out(row, "REPORT", clientID=row.client_id)
    notify(session, "REPORT", "CREATE", out, program_id=row.program_id, owner_client_id=row.client_id)
    session.commit()
    return out


@router.get(
    "/reports/{reportID}",
    response_model=Report,
    response_model_exclude_none=True,
    operation_id="searchReportsByReportID",
    summary="searches reports by reportID",
)
def get_report(reportID: ObjectID, client: ClientDep, session: SessionDep) -> dict[str, Any]:
    """One report (a VEN's own, or any for the BL)."""
    row = _owned_or_404(session, OadrReport, "report", reportID, client)
    return object_out(row, "REPORT", clientID=row.client_id)


@router.put(
    "/reports/{reportID}",
    response_model=Report,
    response_model_exclude_none=True,
    operation_id="updateReport",
    summary="update a report",
)
def update_report(
    reportID: ObjectID, body: ReportRequest, client: ClientDep, session: SessionDep
) -> dict[str, Any]:
    """Replace one of the VEN's own reports."""
    client.require_ven("write reports")
    row = _owned_or_404(session, OadrReport, "report", reportID, client)
    event = _report_event(session, client, body.eventID)
    row.event_id, row.program_id, row.client_name = event.id, event.program_id, body.clientName
    row.body, row.modified = body.model_dump(mode="json", exclude_none=True), utc_now()
    commit(session, "report")
    out = object_out(row, "REPORT", clientID=row.client_id)
    notify(session, "REPORT", "UPDATE", out, program_id=row.program_id, owner_client_id=row.client_id)
    session.commit()
    return out


@router.delete(
    "/reports/{reportID}",
    response_model=Report,
    response_model_exclude_none=True,
    operation_id="deleteReport",
    summary="delete a report",
)
def delete_report(reportID: ObjectID, client: ClientDep, session: SessionDep) -> dict[str, Any]:
    """Delete one of the VEN's own reports; returns it."""
    client.require_ven("write reports")
    row = _owned_or_404(session, OadrReport, "report", reportID, client)
    out = object_out(row, "REPORT", clientID=row.client_id)
    session.delete(row)
    notify(session, "REPORT", "DELETE", out, program_id=row.program_id, owner_client_id=row.client_id)
    session.commit()
    return out


# ---------------------------------------------------------------------------------------------- subscriptions
def _check_program(session: Session, program_id: str | None) -> None:
    if program_id is not None and session.get(OadrProgram, program_id) is None:
        raise ProblemError(400, "programID", f"programID {program_id!r} names no program")


@router.get(
    "/subscriptions",
    response_model=list[Subscription],
    response_model_exclude_none=True,
    operation_id="searchSubscriptions",
    summary="search subscriptions",
)
def search_subscriptions(
    client: ClientDep,
    session: SessionDep,
    programID: ObjectID | None = None,
    clientName: Name | None = None,
    objects: Annotated[
        list[Literal["PROGRAM", "EVENT", "REPORT", "SUBSCRIPTION", "VEN", "RESOURCE"]] | None,
        Query(description="list of objects to subscribe to."),
    ] = None,
    skip: Skip = 0,
    limit: Limit = MAX_LIMIT,
) -> list[dict[str, Any]]:
    """List subscriptions (a VEN its own, the BL all), filtered by program, client name and object types."""
    q = _owned_query(OadrSubscription, client)
    if programID is not None:
        q = q.where(OadrSubscription.program_id == programID)
    if clientName is not None:
        q = q.where(OadrSubscription.client_name == clientName)
    wanted = set(objects or ())
    rows = (
        r
        for r in session.scalars(q)
        if not wanted or any(wanted & set(op["objects"]) for op in r.body.get("objectOperations", ()))
    )
    return page((object_out(r, "SUBSCRIPTION", clientID=r.client_id) for r in rows), skip, limit)


@router.post(
    "/subscriptions",
    response_model=Subscription,
    status_code=201,
    response_model_exclude_none=True,
    operation_id="createSubscription",
    summary="create subscription",
)
def create_subscription(body: SubscriptionRequest, client: ClientDep, session: SessionDep) -> dict[str, Any]:
    """Subscribe a webhook to operations on object types (``write_subscriptions``: BL and VENs)."""
    _check_program(session, body.programID)
    row = OadrSubscription(
        id=new_id(),
        tenant_id=client.tenant_id,
        client_id=client.client_id,
        client_name=body.clientName,
        program_id=body.programID,
        body=body.model_dump(mode="json", exclude_none=True),
    )
    session.add(row)
    commit(session, "subscription")
    out = object_out(row, "SUBSCRIPTION", clientID=row.client_id)
    notify(session, "SUBSCRIPTION", "CREATE", out, program_id=row.program_id, owner_client_id=row.client_id)
    session.commit()
    return out


@router.get(
    "/subscriptions/{subscriptionID}",
    response_model=Subscription,
    response_model_exclude_none=True,
    operation_id="searchSubscriptionByID",
    summary="search subscriptions by ID",
)
def get_subscription(subscriptionID: ObjectID, client: ClientDep, session: SessionDep) -> dict[str, Any]:
    """One subscription (the caller's own, or any for the BL)."""
    row = _owned_or_404(session, OadrSubscription, "subscription", subscriptionID, client)
    return object_out(row, "SUBSCRIPTION", clientID=row.client_id)


@router.put(
    "/subscriptions/{subscriptionID}",
    response_model=Subscription,
    response_model_exclude_none=True,
    operation_id="updateSubscription",
    summary="update subscription",
)
def update_subscription(
    subscriptionID: ObjectID, body: SubscriptionRequest, client: ClientDep, session: SessionDep
) -> dict[str, Any]:
    """Replace a subscription."""
    row = _owned_or_404(session, OadrSubscription, "subscription", subscriptionID, client)
    _check_program(session, body.programID)
    row.client_name, row.program_id = body.clientName, body.programID
    row.body, row.modified = body.model_dump(mode="json", exclude_none=True), utc_now()
    commit(session, "subscription")
    out = object_out(row, "SUBSCRIPTION", clientID=row.client_id)
    notify(session, "SUBSCRIPTION", "UPDATE", out, program_id=row.program_id, owner_client_id=row.client_id)
    session.commit()
    return out


@router.delete(
    "/subscriptions/{subscriptionID}",
    response_model=Subscription,
    response_model_exclude_none=True,
    operation_id="deleteSubscription",
    summary="delete subscription",
)
def delete_subscription(subscriptionID: ObjectID, client: ClientDep, session: SessionDep) -> dict[str, Any]:
    """Delete a subscription; returns it."""
    row = _owned_or_404(session, OadrSubscription, "subscription", subscriptionID, client)
    out = object_out(row, "SUBSCRIPTION", clientID=row.client_id)
    session.delete(row)
    session.flush()
    notify(session, "SUBSCRIPTION", "DELETE", out, program_id=row.program_id, owner_client_id=row.client_id)
    session.commit()
    return out


# ---------------------------------------------------------------------------------------------- vens
def _aggregator(session: Session, client_id: str) -> int:
    """Tenant id of the aggregator a BL-written ``clientID`` names."""
    tenant = session.get(Tenant, int(client_id)) if client_id.isdigit() else None
    if tenant is None or tenant.role != "aggregator":
        raise ProblemError(
            400,
            "clientID",
            f"clientID {client_id!r} must be the tenant id of an aggregator (a VEN's clientID)",
        )
    return int(tenant.id)


def _ven_values(
    body: BlVenRequest | VenVenRequest, client: Client, session: Session, current: OadrVen | None
) -> dict[str, Any]:
    if isinstance(body, BlVenRequest):
        client.require_bl("write a ven's clientID and targets (send objectType VEN_VEN_REQUEST)")
        tenant_id, client_id, targets = _aggregator(session, body.clientID), body.clientID, body.targets or []
    else:
        if client.is_bl:
            raise ProblemError(
                400, "objectType", "the business logic writes vens with objectType BL_VEN_REQUEST"
            )
        tenant_id, client_id = client.tenant_id, client.client_id
        targets = current.targets if current is not None else []
    data = body.model_dump(mode="json", exclude_none=True)
    data.pop("objectType", None)
    data.update(clientID=client_id, targets=targets)
    return {
        "tenant_id": tenant_id,
        "client_id": client_id,
        "ven_name": body.venName,
        "targets": targets,
        "body": data,
    }


@router.get(
    "/vens",
    response_model=list[Ven],
    response_model_exclude_none=True,
    operation_id="searchVens",
    summary="search vens",
)
def search_vens(
    client: ClientDep,
    session: SessionDep,
    venName: Name | None = None,
    targets: Targets = None,
    skip: Skip = 0,
    limit: Limit = MAX_LIMIT,
) -> list[dict[str, Any]]:
    """List vens (a VEN its own, the BL all), filtered by name and targets."""
    q = _owned_query(OadrVen, client)
    if venName is not None:
        q = q.where(OadrVen.ven_name == venName)
    rows = (r for r in session.scalars(q) if targets is None or set(targets) & set(r.targets))
    return page((object_out(r, "VEN") for r in rows), skip, limit)


@router.post(
    "/vens",
    response_model=Ven,
    status_code=201,
    response_model_exclude_none=True,
    operation_id="createVen",
    summary="create ven",
)
def create_ven(body: VenRequest, client: ClientDep, session: SessionDep) -> dict[str, Any]:
    """Create a ven: the BL for an aggregator (granting targets), or a VEN for itself (``write_vens``)."""
    row = OadrVen(id=new_id(), **_ven_values(body, client, session, None))
    session.add(row)
    commit(session, f"venName {body.venName!r}")
    out = object_out(row, "VEN")
    notify(session, "VEN", "CREATE", out, owner_client_id=row.client_id)
    session.commit()
    return out


@router.get(
    "/vens/{venID}",
    response_model=Ven,
    response_model_exclude_none=True,
    operation_id="searchVenByID",
    summary="search vens by ID",
)
def get_ven(venID: ObjectID, client: ClientDep, session: SessionDep) -> dict[str, Any]:
    """One ven (the caller's own, or any for the BL)."""
    return object_out(_owned_or_404(session, OadrVen, "ven", venID, client), "VEN")


@router.put(
    "/vens/{venID}",
    response_model=Ven,
    response_model_exclude_none=True,
    operation_id="updateVen",
    summary="update ven",
)
def update_ven(venID: ObjectID, body: VenRequest, client: ClientDep, session: SessionDep) -> dict[str, Any]:
    """Replace a ven (a VEN cannot change its targets)."""
    row = _owned_or_404(session, OadrVen, "ven", venID, client)
    for k, v in _ven_values(body, client, session, row).items():
        setattr(row, k, v)
    row.modified = utc_now()
    commit(session, f"venName {body.venName!r}")
    out = object_out(row, "VEN")
    notify(session, "VEN", "UPDATE", out, owner_client_id=row.client_id)
    session.commit()
    return out


@router.delete(
    "/vens/{venID}",
    response_model=Ven,
    response_model_exclude_none=True,
    operation_id="deleteVen",
    summary="delete ven",
)
def delete_ven(venID: ObjectID, client: ClientDep, session: SessionDep) -> dict[str, Any]:
    """Delete a ven and its resources; returns it."""
    row = _owned_or_404(session, OadrVen, "ven", venID, client)
    out = object_out(row, "VEN")
    session.execute(delete(OadrResource).where(OadrResource.ven_id == venID))
    session.delete(row)
    notify(session, "VEN", "DELETE", out, owner_client_id=row.client_id)
    session.commit()
    return out


# ---------------------------------------------------------------------------------------------- resources
def _resource_values(
    body: BlResourceRequest | VenResourceRequest,
    client: Client,
    session: Session,
    current: OadrResource | None,
) -> dict[str, Any]:
    ven = session.get(OadrVen, body.venID)
    if ven is None or (not client.is_bl and ven.client_id != client.client_id):
        raise ProblemError(400, "venID", f"venID {body.venID!r} names no ven of this client")
    if isinstance(body, BlResourceRequest):
        client.require_bl("write a resource's clientID and targets (send objectType VEN_RESOURCE_REQUEST)")
        if body.clientID != ven.client_id:
            raise ProblemError(
                400, "clientID", f"clientID {body.clientID!r} differs from the clientID of ven {ven.id!r}"
            )
        targets = body.targets or []
    else:
        if client.is_bl:
            raise ProblemError(
                400, "objectType", "the business logic writes resources with objectType BL_RESOURCE_REQUEST"
            )
        targets = current.targets if current is not None else []
    data = body.model_dump(mode="json", exclude_none=True)
    data.pop("objectType", None)
    data.update(clientID=ven.client_id, targets=targets)
    return {
        "tenant_id": ven.tenant_id,
        "client_id": ven.client_id,
        "ven_id": ven.id,
        "resource_name": body.resourceName,
        "targets": targets,
        "body": data,
    }


@router.get(
    "/resources",
    response_model=list[Resource],
    response_model_exclude_none=True,
    operation_id="searchVenResources",
    summary="search ven resources",
)
def search_resources(
    client: ClientDep,
    session: SessionDep,
    resourceName: Name | None = None,
    venID: ObjectID | None = None,
    targets: Targets = None,
    skip: Skip = 0,
    limit: Limit = MAX_LIMIT,
) -> list[dict[str, Any]]:
    """List resources (a VEN its own, the BL all), filtered by name, ven and targets."""
    q = _owned_query(OadrResource, client)
    if resourceName is not None:
        q = q.where(OadrResource.resource_name == resourceName)
    if venID is not None:
        q = q.where(OadrResource.ven_id == venID)
    rows = (r for r in session.scalars(q) if targets is None or set(targets) & set(r.targets))
    return page((object_out(r, "RESOURCE") for r in rows), skip, limit)


@router.post(
    "/resources",
    response_model=Resource,
    status_code=201,
    response_model_exclude_none=True,
    operation_id="createResource",
    summary="create resource",
)
def create_resource(body: ResourceRequest, client: ClientDep, session: SessionDep) -> dict[str, Any]:
    """Create a resource of a ven (``write_vens``)."""
    row = OadrResource(id=new_id(), **_resource_values(body, client, session, None))
    session.add(row)
    commit(session, f"resourceName {body.resourceName!r} of ven {body.venID!r}")
    out = object_out(row, "RESOURCE")
    notify(session, "RESOURCE", "CREATE", out, owner_client_id=row.client_id)
    session.commit()
    return out


@router.get(
    "/resources/{resourceID}",
    response_model=Resource,
    response_model_exclude_none=True,
    operation_id="searchVenResourceByID",
    summary="search ven resources by ID",
)
def get_resource(resourceID: ObjectID, client: ClientDep, session: SessionDep) -> dict[str, Any]:
    """One resource (the caller's own, or any for the BL)."""
    return object_out(_owned_or_404(session, OadrResource, "resource", resourceID, client), "RESOURCE")


@router.put(
    "/resources/{resourceID}",
    response_model=Resource,
    response_model_exclude_none=True,
    operation_id="updateVenResource",
    summary="update ven resource",
)
def update_resource(
    resourceID: ObjectID, body: ResourceRequest, client: ClientDep, session: SessionDep
) -> dict[str, Any]:
    """Replace a resource (a VEN cannot change its targets)."""
    row = _owned_or_404(session, OadrResource, "resource", resourceID, client)
    for k, v in _resource_values(body, client, session, row).items():
        setattr(row, k, v)
    row.modified = utc_now()
    commit(session, f"resourceName {body.resourceName!r}")
    out = object_out(row, "RESOURCE")
    notify(session, "RESOURCE", "UPDATE", out, owner_client_id=row.client_id)
    session.commit()
    return out


@router.delete(
    "/resources/{resourceID}",
    response_model=Resource,
    response_model_exclude_none=True,
    operation_id="deleteVenResource",
    summary="delete ven resource",
)
def delete_resource(resourceID: ObjectID, client: ClientDep, session: SessionDep) -> dict[str, Any]:
    """Delete a resource; returns it."""
    row = _owned_or_404(session, OadrResource, "resource", resourceID, client)
    out = object_out(row, "RESOURCE")
    session.delete(row)
    notify(session, "RESOURCE", "DELETE", out, owner_client_id=row.client_id)
    session.commit()
    return out
