"""The dashboard's routes: server-rendered pages (Jinja2) and the JSON and CSV they load.

Pages (all under ``/ui``): ``login``, the overview (``/ui/``), ``network``, ``sites`` (paginated) and one
site's drill-down (``sites/{id}``), ``events``. Each chart fetches its numbers from ``/ui/data/...`` (already
aggregated and downsampled on the server) and offers them as CSV (``/ui/csv/...``): the text alternative of
the chart. The overview refreshes itself by polling ``/ui/data/overview`` without reloading the page.

Access: a session cookie made at login from an API key (:mod:`openvpp.platform.web.session`); without it
every page redirects to the login form and every data URL answers 401. Logging out is a POST with the
session's CSRF token. The same tenant filter as the API applies to every query
(:mod:`openvpp.platform.web.queries`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from openvpp.platform.api.deps import get_session
from openvpp.platform.web import queries
from openvpp.platform.web.session import (
    COOKIE,
    LOGIN_COOKIE,
    SESSION_TTL_S,
    WebSession,
    check_csrf,
    open_session,
    read_session,
)

__all__ = ["MAX_PERIOD_S", "router", "templates"]

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(prefix="/ui", include_in_schema=False)
SessionDep = Annotated[Session, Depends(get_session)]
#: longest period a site drill-down may ask for [s]
MAX_PERIOD_S = 400 * 86_400


def _fmt_time(t_s: int | None) -> str:
    if t_s is None:
        return "never"
    return dt.datetime.fromtimestamp(int(t_s), dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


templates.env.filters["utc"] = _fmt_time


class _LoginRequired(Exception):
    pass


def _web_session(request: Request, session: SessionDep) -> WebSession:
    ws = read_session(session, request.cookies.get(COOKIE))
    if ws is None:
        raise _LoginRequired
    return ws


def _data_session(request: Request, session: SessionDep) -> WebSession:
    ws = read_session(session, request.cookies.get(COOKIE))
    if ws is None:
        raise HTTPException(401, "log in at /ui/login first")
    return ws


PageAuth = Annotated[WebSession, Depends(_web_session)]
DataAuth = Annotated[WebSession, Depends(_data_session)]


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _page(request: Request, name: str, ws: WebSession | None, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"ws": ws, "nav": name.removesuffix(".html"), **context})


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, error: str | None = None) -> HTMLResponse:
    """The login form (a fresh CSRF token in a short-lived cookie and a hidden field).

    Parameters
    ----------
    request : fastapi.Request
        The request.
    error : str, optional
        Message shown above the form.

    Returns
    -------
    fastapi.responses.HTMLResponse
    """
    import secrets

    token = secrets.token_urlsafe(24)
    response = _page(request, "login.html", None, csrf=token, error=error)
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=600,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/ui",
    )
    return response


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    api_key: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Check the API key and open a session (redirect to the overview), or show the form with the reason.

    Parameters
    ----------
    request : fastapi.Request
        The request.
    session : sqlalchemy.orm.Session
        Store session.
    api_key : str
        The key typed.
    csrf : str
        The form's CSRF token.

    Returns
    -------
    fastapi.Response
    """
    if not check_csrf(request.cookies.get(LOGIN_COOKIE, ""), csrf):
        return login_form(request, "the form expired; please try again")
    opened = open_session(session, api_key) if api_key.strip() else None
    if opened is None:
        return login_form(request, "unknown or revoked API key; make one with 'openvpp keys create'")
    cookie, _ = opened
    response = RedirectResponse("/ui/", status_code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=SESSION_TTL_S,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/ui")
    return response


@router.post("/logout")
def logout(request: Request, ws: PageAuth, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    """End the session (needs the session's CSRF token).

    Parameters
    ----------
    request : fastapi.Request
        The request.
    ws : WebSession
        The session.
    csrf : str
        The form's CSRF token.

    Returns
    -------
    fastapi.Response
    """
    if not check_csrf(ws.csrf, csrf):
        raise HTTPException(403, "missing or wrong CSRF token")
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/", response_class=HTMLResponse)
def overview_page(request: Request, ws: PageAuth, session: SessionDep) -> HTMLResponse:
    """The overview page (its numbers refresh by polling :func:`overview_data`).

    Parameters
    ----------
    request : fastapi.Request
        The request.
    ws : WebSession
        The session.
    session : sqlalchemy.orm.Session
        Store session.

    Returns
    -------
    fastapi.responses.HTMLResponse
    """
    data = queries.overview(session, ws.principal, with_series=False)
    return _page(request, "overview.html", ws, data=data)


@router.get("/data/overview")
def overview_data(ws: DataAuth, session: SessionDep) -> JSONResponse:
    """The overview's numbers as JSON (polled by the page).

    Parameters
    ----------
    ws : WebSession
        The session.
    session : sqlalchemy.orm.Session
        Store session.

    Returns
    -------
    fastapi.responses.JSONResponse
    """
    return JSONResponse(queries.overview(session, ws.principal), headers={"Cache-Control": "no-store"})


@router.get("/network", response_class=HTMLResponse)
def network_page(request: Request, ws: PageAuth, session: SessionDep) -> HTMLResponse:
    """Envelopes per constraint node over the day, their current value and where they bind.

    Parameters
    ----------
    request : fastapi.Request
        The request.
    ws : WebSession
        The session.
    session : sqlalchemy.orm.Session
        Store session.

    Returns
    -------
    fastapi.responses.HTMLResponse
    """
    return _page(request, "network.html", ws, data=queries.network_view(session, ws.principal))


@router.get("/data/network")
def network_data(ws: DataAuth, session: SessionDep) -> JSONResponse:
    """The network page's numbers as JSON.

    Parameters
    ----------
    ws : WebSession
        The session.
    session : sqlalchemy.orm.Session
        Store session.

    Returns
    -------
    fastapi.responses.JSONResponse
    """
    return JSONResponse(queries.network_view(session, ws.principal))


@router.get("/sites", response_class=HTMLResponse)
def sites_page(
    request: Request,
    ws: PageAuth,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    """The site list, 50 per page, with a search box.

    Parameters
    ----------
    request : fastapi.Request
        The request.
    ws : WebSession
        The session.
    session : sqlalchemy.orm.Session
        Store session.
    page : int
        Page number. [-]
    q : str, optional
        Search text (external id or name).

    Returns
    -------
    fastapi.responses.HTMLResponse
    """
    return _page(request, "sites.html", ws, data=queries.site_page(session, ws.principal, page, query=q))


def _period(start: str | None, end: str | None) -> tuple[int, int]:
    """Period of a drill-down from ``YYYY-MM-DD[THH:MM]`` strings (UTC); default the last 24 h."""
    now = int(time.time())

    def parse(text: str, field: str) -> int:
        try:
            t = dt.datetime.fromisoformat(text)
        except ValueError:
            raise HTTPException(
                422, f"{field} must be a date or time like 2026-01-31 or 2026-01-31T18:00 (got {text!r})"
            ) from None
        return int((t if t.tzinfo else t.replace(tzinfo=dt.UTC)).timestamp())

    end_s = parse(end, "end") if end else now
    start_s = parse(start, "start") if start else end_s - 86_400
    if end_s <= start_s:
        raise HTTPException(422, "end must be after start; pick a later end or an earlier start")
    if end_s - start_s > MAX_PERIOD_S:
        raise HTTPException(422, f"the period may be at most {MAX_PERIOD_S // 86_400} days; shorten it")
    return start_s, end_s


@router.get("/sites/{site_id}", response_class=HTMLResponse)
def site_page(
    request: Request,
    site_id: str,
    ws: PageAuth,
    session: SessionDep,
    start: Annotated[str | None, Query(max_length=32)] = None,
    end: Annotated[str | None, Query(max_length=32)] = None,
) -> HTMLResponse:
    """One site: telemetry, SoC, envelope and set-points over a chosen period.

    Parameters
    ----------
    request : fastapi.Request
        The request.
    site_id : str
        Site id.
    ws : WebSession
        The session.
    session : sqlalchemy.orm.Session
        Store session.
    start, end : str, optional
        Period (``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM``, UTC); default the last 24 hours.

    Returns
    -------
    fastapi.responses.HTMLResponse
    """
    start_s, end_s = _period(start, end)
    data = queries.site_detail(session, ws.principal, site_id, start_s, end_s)
    if data is None:
        return _page(request, "notfound.html", ws, what=f"site {site_id!r}")
    return _page(request, "site.html", ws, data=data, start=_iso(start_s), end=_iso(end_s))


def _site_or_404(session: Session, ws: WebSession, site_id: str, start: str | None, end: str | None) -> dict:
    """One site's data over the period the query names; 404 for a site the caller may not see."""
    start_s, end_s = _period(start, end)
    data = queries.site_detail(session, ws.principal, site_id, start_s, end_s)
    if data is None:
        raise HTTPException(404, f"no site {site_id!r}")
    return data


def _iso(t_s: int) -> str:
    return dt.datetime.fromtimestamp(t_s, dt.UTC).strftime("%Y-%m-%dT%H:%M")


@router.get("/data/sites/{site_id}")
def site_data(
    site_id: str,
    ws: DataAuth,
    session: SessionDep,
    start: Annotated[str | None, Query(max_length=32)] = None,
    end: Annotated[str | None, Query(max_length=32)] = None,
) -> JSONResponse:
    """One site's series as JSON (404 for a site the caller may not see).

    Parameters
    ----------
    site_id : str
        Site id.
    ws : WebSession
        The session.
    session : sqlalchemy.orm.Session
        Store session.
    start, end : str, optional
        Period (UTC).

    Returns
    -------
    fastapi.responses.JSONResponse
    """
    data = _site_or_404(session, ws, site_id, start, end)
    return JSONResponse(data)


def _csv(rows: list[list[Any]], header: list[str], name: str) -> Response:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(
        buf.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get("/csv/overview")
def overview_csv(ws: DataAuth, session: SessionDep) -> Response:
    """The overview chart's numbers as CSV (fleet power over the last 24 hours, load convention).

    Parameters
    ----------
    ws : WebSession
        The session.
    session : sqlalchemy.orm.Session
        Store session.

    Returns
    -------
    fastapi.Response
    """
    s = queries.overview(session, ws.principal)["power_recent"]
    rows = [
        [_iso(t), m, lo, hi] for t, m, lo, hi in zip(s["t_s"], s["mean"], s["low"], s["high"], strict=True)
    ]
    return _csv(rows, ["time_utc", "p_mean_kw", "p_min_kw", "p_max_kw"], "fleet_power_24h")


@router.get("/csv/sites/{site_id}")
def site_csv(
    site_id: str,
    ws: DataAuth,
    session: SessionDep,
    start: Annotated[str | None, Query(max_length=32)] = None,
    end: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """One site's power and SoC as CSV (the text alternative of its charts).

    Parameters
    ----------
    site_id : str
        Site id.
    ws : WebSession
        The session.
    session : sqlalchemy.orm.Session
        Store session.
    start, end : str, optional
        Period (UTC).

    Returns
    -------
    fastapi.Response
    """
    data = _site_or_404(session, ws, site_id, start, end)
    p, soc = data["power"], data["soc"]
    soc_at = dict(zip(soc["t_s"], soc["mean"], strict=True))
    rows = [
        [_iso(t), m, lo, hi, soc_at.get(t)]
        for t, m, lo, hi in zip(p["t_s"], p["mean"], p["low"], p["high"], strict=True)
    ]
    return _csv(
        rows, ["time_utc", "p_site_mean_kw", "p_site_min_kw", "p_site_max_kw", "soc"], f"site_{site_id}"
    )


@router.get("/csv/network")
def network_csv(ws: DataAuth, session: SessionDep) -> Response:
    """Node envelopes of the day as CSV.

    Parameters
    ----------
    ws : WebSession
        The session.
    session : sqlalchemy.orm.Session
        Store session.

    Returns
    -------
    fastapi.Response
    """
    rows = []
    for node in queries.network_view(session, ws.principal)["nodes"]:
        for t, e, i in zip(node["t_s"], node["export_kw"], node["import_kw"], strict=True):
            rows.append([node["id"], _iso(t), e, i])
    return _csv(rows, ["node", "start_utc", "export_limit_kw", "import_limit_kw"], "node_envelopes")


@router.get("/events", response_class=HTMLResponse)
def events_page(request: Request, ws: PageAuth, session: SessionDep) -> HTMLResponse:
    """OpenADR programs and events with status and delivered performance.

    Parameters
    ----------
    request : fastapi.Request
        The request.
    ws : WebSession
        The session.
    session : sqlalchemy.orm.Session
        Store session.

    Returns
    -------
    fastapi.responses.HTMLResponse
    """
    return _page(request, "events.html", ws, data=queries.events_view(session, ws.principal))


def login_redirect(request: Request, exc: Exception) -> Response:
    """Exception handler: a page that needs a session redirects to the login form.

    Parameters
    ----------
    request : fastapi.Request
        The request.
    exc : Exception
        The login-required signal.

    Returns
    -------
    fastapi.Response
    """
    return RedirectResponse("/ui/login", status_code=303)


LOGIN_REQUIRED = _LoginRequired
