"""Shared parts of the OpenADR 3.1 VTN: problem responses, the caller's role, object privacy and
notifications (OpenADR 3.1 Definition, "Object Privacy" and "Subscriptions")."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Callable, Coroutine, Iterable
from typing import Annotated, Any

import fastapi
from fastapi import Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openvpp.errors import OpenVPPError
from openvpp.platform.api.auth import Principal, current_principal
from openvpp.platform.api.deps import get_session
from openvpp.platform.api.errors import ApiError
from openvpp.platform.api.openadr.objects import (
    Name,
    Problem,
)
from openvpp.platform.store import outbox
from openvpp.platform.store.models import Tenant
from openvpp.platform.store.openadr import (
    OadrResource,
    OadrSubscription,
    OadrVen,
)

#: objectTypes of openadr3.yaml
__all__ = [
    "MAX_LIMIT",
    "OBJECT_TYPES",
    "PROBLEM_RESPONSES",
    "Client",
    "ProblemError",
    "ProblemRoute",
    "notify",
    "visible_targets",
]

OBJECT_TYPES = ("PROGRAM", "EVENT", "REPORT", "SUBSCRIPTION", "VEN", "RESOURCE")
#: largest page (openadr3.yaml: limit maximum 50) [-]
MAX_LIMIT = 50
#: outbox topic prefix of webhook notifications
WEBHOOK_TOPIC = "openadr/webhook"


# ---------------------------------------------------------------------------------------------- errors
class ProblemError(Exception):
    """An error answered with a ``problem`` object.

    Parameters
    ----------
    status : int
        HTTP status code. [-]
    field : str or None
        The offending field as the client wrote it (JSON path or query parameter), None for the whole request.
    reason : str
        What is wrong: the value and what is expected.
    """

    def __init__(self, status: int, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.status, self.errors = status, [(field, reason)]


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Payload Too Large",
    429: "Too Many Requests",
}


def _problem(
    status: int, errors: list[tuple[str | None, str]], instance: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    detail = "; ".join(f"{f}: {r}" if f else r for f, r in errors)
    body = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": instance,
        "errors": [{"field": f, "reason": r} for f, r in errors],
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type="application/problem+json")


def _field_errors(exc: RequestValidationError) -> list[tuple[str | None, str]]:
    out: list[tuple[str | None, str]] = []
    for err in exc.errors()[:20]:
        if err.get("type") == "json_invalid":
            out.append(("body", f"not valid JSON: {err.get('msg')}"))
            continue
        loc = [p for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".") or None
        out.append((field, str(err.get("msg"))))
    return out


class ProblemRoute(APIRoute):
    """Route class that answers every error of an OpenADR endpoint with a ``problem`` object."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The endpoint's handler wrapped to turn errors into problem responses."""
        handler = super().get_route_handler()

        async def wrapped(request: Request) -> Response:
            instance = request.url.path
            try:
                return await handler(request)
            except ProblemError as exc:
                return _problem(exc.status, exc.errors, instance)
            except ApiError as exc:
                return _problem(exc.status, exc.errors, instance, exc.headers)
            except RequestValidationError as exc:
                return _problem(400, _field_errors(exc), instance)
            except fastapi.HTTPException as exc:
                detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
                return _problem(exc.status_code, [(None, detail)], instance, dict(exc.headers or {}))
            except OpenVPPError as exc:
                return _problem(400, [(None, str(exc))], instance)

        return wrapped


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": text}
    for code, text in (
        (400, "The request is malformed or invalid"),
        (401, "Unauthorized"),
        (403, "Forbidden"),
        (404, "The specified resource was not found"),
        (409, "Conflict"),
    )
}


# ---------------------------------------------------------------------------------------------- roles
class Client:
    """Who is calling, in OpenADR terms: the BL (the DSO) or a VEN (an aggregator) with its clientID.

    Parameters
    ----------
    principal : Principal
        The authenticated caller; its tenant id is the VEN's ``clientID``.
    """

    def __init__(self, principal: Principal) -> None:
        self.tenant_id = int(principal.tenant_id)
        self.client_id = str(principal.tenant_id)
        scopes = set(principal.scopes)
        if principal.role == "dso" and "openadr:vtn" in scopes:
            self.is_bl = True
        elif principal.role == "aggregator" and "openadr:ven" in scopes:
            self.is_bl = False
        else:
            raise ProblemError(
                403,
                "Authorization",
                "this key has no OpenADR scope for its role: the DSO needs 'openadr:vtn', an aggregator "
                "'openadr:ven'",
            )

    def require_bl(self, what: str) -> None:
        """Refuse (403) unless the caller is the business logic.

        Parameters
        ----------
        what : str
            The action, for the message.
        """
        if not self.is_bl:
            raise ProblemError(
                403, "Authorization", f"only the business logic (the DSO's VTN key) may {what}"
            )

    def require_ven(self, what: str) -> None:
        """Refuse (403) unless the caller is a VEN.

        Parameters
        ----------
        what : str
            The action, for the message.
        """
        if self.is_bl:
            raise ProblemError(403, "Authorization", f"only a VEN (an aggregator's key) may {what}")


def client_dep(principal: Principal = Depends(current_principal)) -> Client:
    """FastAPI dependency: the caller as an OpenADR client.

    Parameters
    ----------
    principal : Principal
        The authenticated caller.
    """
    return Client(principal)


ClientDep = Annotated[Client, Depends(client_dep)]
SessionDep = Annotated[Session, Depends(get_session)]
Skip = Annotated[int, Query(ge=0, le=2**31 - 1, description="number of records to skip for pagination.")]
Limit = Annotated[int, Query(ge=0, le=MAX_LIMIT, description="maximum number of records to return.")]
Targets = Annotated[list[Name] | None, Query(description="Indicates targets")]


def granted_targets(session: Session, client_id: str) -> set[str]:
    """Targets the BL granted to a VEN through its ven and resource objects.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session.
    client_id : str
        The VEN's clientID.
    """
    out: set[str] = set()
    for (targets,) in session.execute(select(OadrVen.targets).where(OadrVen.client_id == client_id)):
        out.update(targets or ())
    for (targets,) in session.execute(
        select(OadrResource.targets).where(OadrResource.client_id == client_id)
    ):
        out.update(targets or ())
    return out


def visible_targets(
    object_targets: Iterable[str], asked: Iterable[str] | None, granted: set[str] | None
) -> list[str] | None:
    """Targets of a program or event a client may see, or None if it may not see the object.

    The rule of the OpenADR 3.1 Definition, "program and event objects - targeting": the BL (``granted``
    None) sees everything, filtered by the targets it asks for; a VEN sees an object without targets, and an
    object with targets only when the intersection of the targets it asks for and those granted to it meets
    the object's targets; it then sees only those targets (target hiding).

    Parameters
    ----------
    object_targets : iterable of str
        The object's targets.
    asked : iterable of str or None
        The ``targets`` query parameter.
    granted : set of str or None
        Targets granted to the VEN (None for the BL).

    Returns
    -------
    list of str or None
        The targets to show, or None when the object is not visible.
    """
    obj = list(object_targets or ())
    ask = None if asked is None else set(asked)
    if granted is None:  # BL: filter only
        if ask is not None and not ask & set(obj):
            return None
        return obj
    if ask is None:
        return [] if not obj else None
    effective = ask & granted
    shown = [t for t in obj if t in effective]
    return shown if shown else None


def page(rows: Iterable[dict[str, Any]], skip: int, limit: int) -> list[dict[str, Any]]:
    """One page of visible objects.

    Parameters
    ----------
    rows : iterable of dict
        Objects in order.
    skip : int
        Objects to skip. [-]
    limit : int
        Most objects to return. [-]
    """
    return list(itertools.islice(rows, skip, skip + limit))


def object_out(row: Any, object_type: str, **extra: Any) -> dict[str, Any]:
    """A stored object as the VTN returns it: its body with the object metadata.

    Parameters
    ----------
    row : OadrProgram, OadrEvent, ...
        Stored object.
    object_type : str
        ``objectType``.
    **extra
        Fields to set (``clientID``, shown ``targets``).
    """
    body = dict(row.body)
    body.update(
        id=row.id,
        createdDateTime=as_utc(row.created).isoformat(),
        modificationDateTime=as_utc(row.modified).isoformat(),
        objectType=object_type,
        **extra,
    )
    return body


def as_utc(t: dt.datetime) -> dt.datetime:
    """``t`` with UTC attached when the engine returned it naive (SQLite).

    Parameters
    ----------
    t : datetime.datetime
        Time read from the store.
    """
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


def new_id() -> str:
    """A new VTN-assigned object id (URL-safe, 32 hex characters)."""
    return uuid.uuid4().hex


def not_found(kind: str, object_id: str) -> ProblemError:
    """The 404 of an object that does not exist or is not visible to the caller (indistinguishable).

    Parameters
    ----------
    kind : str
        ``program``, ``event`` ...
    object_id : str
        The id asked for.
    """
    return ProblemError(404, kind + "ID", f"{kind} {object_id!r} does not exist")


def commit(session: Session, what: str) -> None:
    """Commit, answering 409 when a unique name is already taken.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session.
    what : str
        The object, for the message.
    """
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ProblemError(
            409, None, f"{what} conflicts with an existing object (a name must be unique)"
        ) from None


# ---------------------------------------------------------------------------------------------- notifications
def _subscribers(
    session: Session, object_type: str, operation: str, program_id: str | None
) -> list[OadrSubscription]:
    subs = session.scalars(select(OadrSubscription)).all()
    out = []
    for s in subs:
        if s.program_id and program_id and s.program_id != program_id:
            continue
        for op in s.body.get("objectOperations", ()):
            if object_type in op["objects"] and operation in op["operations"]:
                out.append(s)
                break
    return out


def notify(
    session: Session,
    object_type: str,
    operation: str,
    obj: dict[str, Any],
    *,
    program_id: str | None = None,
    owner_client_id: str | None = None,
) -> int:
    """Enqueue a notification in the outbox for every subscription that asks for it (OpenADR 3.1
    Definition, "Subscriptions" and "Object Privacy"): programs and events by target matching against the
    subscriber's grants, VEN-owned objects only to their own VEN, everything to the BL.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Open session; the notifications commit with the change that caused them.
    object_type : str
        ``PROGRAM``, ``EVENT``, ``REPORT``, ``SUBSCRIPTION``, ``VEN`` or ``RESOURCE``.
    operation : str
        ``CREATE``, ``UPDATE`` or ``DELETE``.
    obj : dict
        The object as the VTN returns it.
    program_id : str, optional
        Program the object belongs to (subscriptions may be limited to one program).
    owner_client_id : str, optional
        ``clientID`` of a VEN-owned object (ven, resource, report, subscription).

    Returns
    -------
    int
        Number of notifications enqueued. [-]
    """
    dso_ids = {str(i) for (i,) in session.execute(select(Tenant.id).where(Tenant.role == "dso"))}
    n = 0
    for sub in _subscribers(session, object_type, operation, program_id):
        shown = obj
        if sub.client_id not in dso_ids:
            if object_type in ("PROGRAM", "EVENT"):
                targets = visible_targets(
                    obj.get("targets") or [], sub.body.get("targets"), granted_targets(session, sub.client_id)
                )
                if targets is None:
                    continue
                shown = {**obj, "targets": targets}
            elif owner_client_id != sub.client_id:
                continue
        for op in sub.body.get("objectOperations", ()):
            if object_type in op["objects"] and operation in op["operations"]:
                note = {"objectType": object_type, "operation": operation, "object": shown}
                payload = {
                    "url": op["callbackUrl"],
                    "bearerToken": op.get("bearerToken"),
                    "notification": note,
                }
                outbox.enqueue(session, sub.tenant_id, f"{WEBHOOK_TOPIC}/{sub.id}", payload)
                n += 1
    return n
