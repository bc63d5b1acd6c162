"""The API's error bodies: every 4xx is ``{"detail": [{"field": ..., "reason": ...}, ...]}``.

``field`` names the input as the client wrote it (a JSON path such as ``readings[3].soc``, a query parameter,
a header such as ``Authorization``) or is None when the error is about the request as a whole; ``reason`` says
what is wrong and what is expected. Routers raise :class:`ApiError`; :func:`install_error_handlers` also turns
every :class:`~openvpp.errors.OpenVPPError` (422, or 409 for an :class:`~openvpp.errors.InfeasibleError`),
request-validation errors (422) and Starlette's HTTP errors into this shape. An ``HTTPException`` whose
``detail`` is a dict is sent as that dict unchanged (for routers with a standard error object of their own,
such as OpenADR's Problem).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from openvpp.errors import InfeasibleError, OpenVPPError

__all__ = ["ApiError", "error_body", "install_error_handlers", "loc_to_field"]


class ApiError(OpenVPPError):
    """An HTTP error with a status code and one or more (field, reason) pairs.

    Parameters
    ----------
    status : int
        HTTP status code (4xx). [-]
    field : str or None
        Field the error is about, as the client wrote it.
    reason : str
        What is wrong and what is expected.
    headers : dict, optional
        Extra response headers (e.g. ``Retry-After``).
    errors : sequence of (field, reason), optional
        Several errors at once (then ``field``/``reason`` are the first).
    """

    def __init__(
        self,
        status: int,
        field: str | None,
        reason: str,
        headers: dict[str, str] | None = None,
        errors: Sequence[tuple[str | None, str]] | None = None,
    ) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.status = status
        self.errors = list(errors) if errors else [(field, reason)]
        self.headers = headers or {}


def error_body(errors: Sequence[tuple[str | None, str]]) -> dict[str, list[dict[str, Any]]]:
    """The JSON body of an error response.

    Parameters
    ----------
    errors : sequence of (field, reason)
        The errors.

    Returns
    -------
    dict
        ``{"detail": [{"field": ..., "reason": ...}, ...]}``.
    """
    return {"detail": [{"field": f, "reason": r} for f, r in errors]}


def loc_to_field(loc: Sequence[Any]) -> str | None:
    """A pydantic error location as a JSON path (``("body", "readings", 3, "soc")`` -> ``readings[3].soc``).

    Parameters
    ----------
    loc : sequence
        Pydantic ``loc`` tuple.

    Returns
    -------
    str or None
    """
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or None


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the body of :func:`error_body` (never a traceback).

    Parameters
    ----------
    app : fastapi.FastAPI
        The application.
    """

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.errors), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = []
        for e in exc.errors():
            field = loc_to_field(e.get("loc", ()))
            reason = str(e.get("msg", "invalid"))
            if "input" in e and e.get("type") != "missing":
                shown = repr(e["input"])
                reason += f" (got {shown[:80]})"
            errs.append((field, reason))
        return JSONResponse(error_body(errs), status_code=422)

    @app.exception_handler(InfeasibleError)
    async def _infeasible(_request: Request, exc: InfeasibleError) -> JSONResponse:
        return JSONResponse(error_body([(None, str(exc))]), status_code=409)

    @app.exception_handler(OpenVPPError)
    async def _openvpp(_request: Request, exc: OpenVPPError) -> JSONResponse:
        return JSONResponse(error_body([(None, str(exc))]), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = getattr(exc, "headers", None)
        if isinstance(exc.detail, dict):
            return JSONResponse(exc.detail, status_code=exc.status_code, headers=headers)
        return JSONResponse(
            error_body([(None, str(exc.detail))]), status_code=exc.status_code, headers=headers
        )
