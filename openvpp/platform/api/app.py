"""The service's FastAPI application: ``/v1`` routers, the OpenADR 3.1 VTN, limits and error handling.

:func:`create_app` builds one application over one store. It keeps the engine, session factory, settings,
API-key cache and per-key rate limiter on ``app.state``. Limits: a request body larger than
``settings.max_request_bytes`` gets 413 before it is read in full; batches larger than
``settings.max_batch_items`` get 422; more than ``settings.rate_per_key_per_s`` requests per second per key
get 429 with ``Retry-After``. A database that cannot be reached gives 503 with ``Retry-After`` (the client
retries; telemetry writes are idempotent), a constraint violation 409; bad input is always a 4xx whose JSON
body names the field and the reason (:mod:`openvpp.platform.api.errors`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from openvpp.platform.api.auth import KeyCache, RateLimiter
from openvpp.platform.api.errors import error_body, install_error_handlers
from openvpp.platform.settings import ServiceSettings
from openvpp.platform.store.db import make_engine, session_factory

_log = logging.getLogger("openvpp.platform.api")

__all__ = ["API_VERSION", "BodySizeLimit", "ConcurrencyLimit", "app_from_env", "check_ready", "create_app"]

API_VERSION = "1.0.0"


class BodySizeLimit:
    """ASGI middleware: 413 for a request body over ``max_bytes`` (by ``Content-Length`` or as it streams).

    Parameters
    ----------
    app : ASGI application
        The wrapped application.
    max_bytes : int
        Largest body accepted. [B]
    """

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = int(max_bytes)

    def _reject(self) -> JSONResponse:
        return JSONResponse(
            error_body([(None, f"request body larger than {self.max_bytes} bytes; send smaller batches")]),
            status_code=413,
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Run the request, refusing oversized bodies.

        Parameters
        ----------
        scope : dict
            ASGI scope.
        receive : callable
            ASGI receive.
        send : callable
            ASGI send.
        """
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await self._reject()(scope, receive, send)
                    return
        seen = 0
        started = False

        async def limited_receive() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await self._reject()(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


class ConcurrencyLimit:
    """ASGI middleware: at most ``limit`` requests inside the application at once; the rest wait on the loop.

    A synchronous endpoint holds a database connection from its first query until its response has been
    validated and its session closed, and FastAPI needs a worker thread for several of those steps. Keeping
    the requests in flight below both the connection pool and the thread pool means that a burst of clients
    queues cheaply here instead of leaving threads waiting for connections held by requests that wait for
    threads.

    Parameters
    ----------
    app : ASGI application
        The wrapped application.
    limit : int
        Requests processed at once. [-]
    """

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = int(limit)
        self._sem: asyncio.Semaphore | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Run the request when a slot is free.

        Parameters
        ----------
        scope : dict
            ASGI scope.
        receive : callable
            ASGI receive.
        send : callable
            ASGI send.
        """
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.limit)
        async with self._sem:
            await self.app(scope, receive, send)


def create_app(
    settings: ServiceSettings | None = None, engine: Engine | None = None, run_jobs: bool = False
) -> FastAPI:
    """The service application over the store of ``settings.db_url`` (or ``engine``).

    The store must be migrated (``openvpp db upgrade`` or :func:`openvpp.platform.store.db.upgrade`).

    Parameters
    ----------
    settings : ServiceSettings, optional
        Service settings (default: from the environment).
    engine : sqlalchemy.Engine, optional
        Engine to use instead of one made from ``settings.db_url`` (tests share one per session).
    run_jobs : bool
        Start the runtime jobs (:func:`openvpp.platform.runtime.service.start_runtime`: outbox delivery,
        envelope refresh) with the application and stop them with it, as ``openvpp serve`` does.

    Returns
    -------
    fastapi.FastAPI
    """
    from openvpp.platform.api import v1
    from openvpp.platform.api.openadr import router as openadr_router
    from openvpp.platform.web import mount_web

    cfg = settings or ServiceSettings.build()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = None
        if run_jobs:
            from openvpp.platform.runtime.service import start_runtime

            runtime = start_runtime(cfg, app.state.engine)
        try:
            yield
        finally:
            if runtime is not None:
                runtime.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="OpenVPP service",
        version=API_VERSION,
        description=(
            "Network-to-VPP API (seed 001 §2.1): DER registration, 5-min telemetry, constraint-node mapping, "
            "CSIP-AUS operating envelopes, plans and dispatch; and an OpenADR 3.1 VTN. "
            "Authenticate with `Authorization: Bearer <API key>`."
        ),
    )
    app.state.settings = cfg
    app.state.engine = engine or make_engine(cfg.db_url, schema=cfg.db_schema)
    app.state.session_factory = session_factory(app.state.engine)
    app.state.key_cache = KeyCache()
    app.state.rate_limiter = RateLimiter(cfg.rate_per_key_per_s, cfg.rate_burst)
    install_error_handlers(app)

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> JSONResponse:
        return JSONResponse(
            error_body([(None, "conflicts with stored data (a duplicate id or a missing reference)")]),
            status_code=409,
        )

    @app.exception_handler(DataError)
    async def _data(_request: Request, exc: DataError) -> JSONResponse:
        return JSONResponse(
            error_body(
                [
                    (
                        None,
                        "a value cannot be stored: text must not contain NUL characters, numbers must "
                        "fit their column",
                    )
                ]
            ),
            status_code=422,
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(DBAPIError)
    @app.exception_handler(PoolTimeoutError)
    async def _db_down(_request: Request, exc: Exception) -> JSONResponse:
        _log.warning("database error answered with 503: %s", exc)
        return JSONResponse(
            error_body([(None, "the database is unavailable; nothing was stored, retry the request")]),
            status_code=503,
            headers={"Retry-After": "1"},
        )

    app.include_router(v1.router)
    app.include_router(openadr_router)
    mount_web(app)  # the operator dashboard under /ui (openvpp.platform.web)
    app.add_middleware(BodySizeLimit, max_bytes=cfg.max_request_bytes)
    pool = app.state.engine.pool
    capacity = pool.size() + getattr(pool, "_max_overflow", 0) if hasattr(pool, "size") else 32
    app.add_middleware(ConcurrencyLimit, limit=max(1, min(32, capacity - 2)))
    return app


def check_ready(engine: Engine) -> tuple[bool, str]:
    """Whether the store answers and is migrated.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        Store engine.

    Returns
    -------
    (bool, str)
        Ready flag and the reason.
    """
    try:
        with engine.connect() as conn:
            rev = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except DBAPIError as exc:
        return False, f"database not reachable or not migrated ({type(exc.orig).__name__})"
    if not rev:
        return False, "database not migrated; run 'openvpp db upgrade'"
    return True, f"migrated to {', '.join(sorted(rev))}"


def app_from_env() -> FastAPI:
    """The application configured from ``OPENVPP_*`` environment variables, with the runtime jobs running
    (the uvicorn factory ``openvpp serve`` uses, one per worker).

    Returns
    -------
    fastapi.FastAPI
    """
    return create_app(ServiceSettings.build(), run_jobs=True)
