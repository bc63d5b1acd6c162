"""OpenADR 3.1 programs and events: written by the business logic, read by VENs through targets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import fastapi
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from openvpp.errors import ValidationError
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
    as_utc,
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
    Event,
    EventRequest,
    ObjectID,
    Program,
    ProgramRequest,
)
from openvpp.platform.store.openadr import (
    OadrEvent,
    OadrProgram,
    OadrReport,
    utc_now,
)

router = fastapi.APIRouter(route_class=ProblemRoute)


# ---------------------------------------------------------------------------------------------- programs
def _program_or_404(session: Session, program_id: str) -> OadrProgram:
    row = session.get(OadrProgram, program_id)
    if row is None:
        raise not_found("program", program_id)
    return row


def _shown(
    session: Session,
    client: Client,
    row: Any,
    object_type: str,
    asked: list[str] | None,
    granted: set[str] | None,
) -> dict[str, Any] | None:
    targets = visible_targets(row.targets, asked, granted)
    if targets is None:
        return None
    return object_out(
        row, object_type, targets=targets if targets or row.targets else row.body.get("targets")
    )


@router.get(
    "/programs",
    response_model=list[Program],
    response_model_exclude_none=True,
    operation_id="searchAllPrograms",
    summary="searches all programs",
)
def search_programs(
    client: ClientDep, session: SessionDep, targets: Targets = None, skip: Skip = 0, limit: Limit = MAX_LIMIT
) -> list[dict[str, Any]]:
    """List programs visible to the caller (``read_targets``), ``skip``/``limit`` paginated."""
    granted = None if client.is_bl else granted_targets(session, client.client_id)
    rows = session.scalars(select(OadrProgram).order_by(OadrProgram.created, OadrProgram.id))
    shown = (_shown(session, client, r, "PROGRAM", targets, granted) for r in rows)
    return page((s for s in shown if s is not None), skip, limit)


@router.post(
    "/programs",
    response_model=Program,
    status_code=201,
    response_model_exclude_none=True,
    operation_id="createProgram",
    summary="create a program",
)
def create_program(body: ProgramRequest, client: ClientDep, session: SessionDep) -> dict[str, Any]:
    """Create a program (``write_programs``: the BL only)."""
    client.require_bl("write programs")
    data = body.model_dump(mode="json", exclude_none=True)
    row = OadrProgram(
        id=new_id(),
        tenant_id=client.tenant_id,
        program_name=body.programName,
        targets=body.targets or [],
        body=data,
    )
    session.add(row)
    commit(session, f"programName {body.programName!r}")
    out = object_out(row, "PROGRAM")
    notify(session, "PROGRAM", "CREATE", out, program_id=row.id)
    session.commit()
    return out


@router.get(
    "/programs/{programID}",
    response_model=Program,
    response_model_exclude_none=True,
    operation_id="searchProgramByProgramId",
    summary="searches programs by program ID",
)
def get_program(
    programID: ObjectID, client: ClientDep, session: SessionDep, targets: Targets = None
) -> dict[str, Any]:
    """One program, if visible to the caller."""
    row = _program_or_404(session, programID)
    granted = None if client.is_bl else granted_targets(session, client.client_id)
    shown = _shown(session, client, row, "PROGRAM", None if client.is_bl else targets, granted)
    if shown is None:
        raise not_found("program", programID)
    return shown


@router.put(
    "/programs/{programID}",
    response_model=Program,
    response_model_exclude_none=True,
    operation_id="updateProgram",
    summary="update a program",
)
def update_program(
    programID: ObjectID, body: ProgramRequest, client: ClientDep, session: SessionDep
) -> dict[str, Any]:
    """Replace a program (the BL only)."""
    client.require_bl("write programs")
    row = _program_or_404(session, programID)
    row.body = body.model_dump(mode="json", exclude_none=True)
    row.program_name, row.targets, row.modified = body.programName, body.targets or [], utc_now()
    commit(session, f"programName {body.programName!r}")
    out = object_out(row, "PROGRAM")
    notify(session, "PROGRAM", "UPDATE", out, program_id=row.id)
    session.commit()
    return out


@router.delete(
    "/programs/{programID}",
    response_model=Program,
    response_model_exclude_none=True,
    operation_id="deleteProgram",
    summary="delete a program",
)
def delete_program(programID: ObjectID, client: ClientDep, session: SessionDep) -> dict[str, Any]:
    """Delete a program and its events (the BL only); returns the deleted program."""
    client.require_bl("write programs")
    row = _program_or_404(session, programID)
    out = object_out(row, "PROGRAM")
    events = select(OadrEvent.id).where(OadrEvent.program_id == programID)
    session.execute(delete(OadrReport).where(OadrReport.event_id.in_(events)))
    session.execute(delete(OadrEvent).where(OadrEvent.program_id == programID))
    session.delete(row)
    notify(session, "PROGRAM", "DELETE", out, program_id=programID)
    session.commit()
    return out


# ---------------------------------------------------------------------------------------------- events
def event_end(body: dict[str, Any]) -> dt.datetime | None:
    """End of an event's last interval, or None when open-ended or undetermined.

    Interval timing follows the OpenADR 3.1 User Guide: ``event.intervalPeriod`` sets the default start and
    duration; an interval's own ``intervalPeriod`` overrides them; intervals without a start follow one
    another.

    Parameters
    ----------
    body : dict
        The event as stored (camelCase JSON).

    Returns
    -------
    datetime.datetime or None
        End of the event (tz-aware UTC).
    """
    from openvpp.platform.gateway.openadr_signals import interval_windows

    try:
        windows = interval_windows(body)
    except ValidationError:  # timing this service cannot represent: treated as open-ended
        return None
    if not windows or any(end is None for _, end in windows):
        return None
    ends = [end for _, end in windows if end is not None]
    return max(ends).to_pydatetime() if ends else None


def _event_or_404(session: Session, event_id: str) -> OadrEvent:
    row = session.get(OadrEvent, event_id)
    if row is None:
        raise not_found("event", event_id)
    return row


def _event_row_values(body: EventRequest) -> dict[str, Any]:
    data = body.model_dump(mode="json", exclude_none=True)
    return {
        "body": data,
        "targets": body.targets or [],
        "ends": event_end(data),
        "priority": body.priority,
        "program_id": body.programID,
    }


@router.get(
    "/events",
    response_model=list[Event],
    response_model_exclude_none=True,
    operation_id="searchAllEvents",
    summary="searches all events",
)
def search_events(
    client: ClientDep,
    session: SessionDep,
    programID: ObjectID | None = None,
    targets: Targets = None,
    skip: Skip = 0,
    limit: Limit = MAX_LIMIT,
    active: bool | None = None,
) -> list[dict[str, Any]]:
    """List events visible to the caller, optionally of one program and only those not yet over."""
    granted = None if client.is_bl else granted_targets(session, client.client_id)
    q = select(OadrEvent).order_by(OadrEvent.created, OadrEvent.id)
    if programID is not None:
        q = q.where(OadrEvent.program_id == programID)
    now = utc_now()
    rows = (r for r in session.scalars(q) if not active or r.ends is None or as_utc(r.ends) > now)
    shown = (_shown(session, client, r, "EVENT", targets, granted) for r in rows)
    return page((s for s in shown if s is not None), skip, limit)


@router.post(
    "/events",
    response_model=Event,
    status_code=201,
    response_model_exclude_none=True,
    operation_id="createEvent",
    summary="create an event",
)
def create_event(body: EventRequest, client: ClientDep, session: SessionDep) -> dict[str, Any]:
    """Create an event of an existing program (``write_events``: the BL only)."""
    client.require_bl("write events")
    if session.get(OadrProgram, body.programID) is None:
        raise ProblemError(
            400, "programID", f"programID {body.programID!r} names no program; create it first"
        )
    row = OadrEvent(id=new_id(), tenant_id=client.tenant_id, **_event_row_values(body))
    session.add(row)
    commit(session, "event")
    out = object_out(row, "EVENT")
    notify(session, "EVENT", "CREATE", out, program_id=row.program_id)
    session.commit()
    return out


@router.get(
    "/events/{eventID}",
    response_model=Event,
    response_model_exclude_none=True,
    operation_id="searchEventsByID",
    summary="search events by ID",
)
def get_event(
    eventID: ObjectID, client: ClientDep, session: SessionDep, targets: Targets = None
) -> dict[str, Any]:
    """One event, if visible to the caller."""
    row = _event_or_404(session, eventID)
    granted = None if client.is_bl else granted_targets(session, client.client_id)
    shown = _shown(session, client, row, "EVENT", None if client.is_bl else targets, granted)
    if shown is None:
        raise not_found("event", eventID)
    return shown


@router.put(
    "/events/{eventID}",
    response_model=Event,
    response_model_exclude_none=True,
    operation_id="updateEvent",
    summary="update an event",
)
def update_event(
    eventID: ObjectID, body: EventRequest, client: ClientDep, session: SessionDep
) -> dict[str, Any]:
    """Replace an event (the BL only)."""
    client.require_bl("write events")
    row = _event_or_404(session, eventID)
    if session.get(OadrProgram, body.programID) is None:
        raise ProblemError(400, "programID", f"programID {body.programID!r} names no program")
    for k, v in _event_row_values(body).items():
        setattr(row, k, v)
    row.modified = utc_now()
    commit(session, "event")
    out = object_out(row, "EVENT")
    notify(session, "EVENT", "UPDATE", out, program_id=row.program_id)
    session.commit()
    return out


@router.delete(
    "/events/{eventID}",
    response_model=Event,
    response_model_exclude_none=True,
    operation_id="deleteEvent",
    summary="delete an event",
)
def delete_event(eventID: ObjectID, client: ClientDep, session: SessionDep) -> dict[str, Any]:
    """Delete an event and its reports (the BL only); returns the deleted event."""
    client.require_bl("write events")
    row = _event_or_404(session, eventID)
    out = object_out(row, "EVENT")
    session.execute(delete(OadrReport).where(OadrReport.event_id == eventID))
    session.delete(row)
    notify(session, "EVENT", "DELETE", out, program_id=row.program_id)
    session.commit()
    return out
