"""FastAPI dependencies shared by every router: the database session and the service settings.

The application (:func:`openvpp.platform.api.app.create_app`) keeps its engine, session factory and
settings on ``app.state``; these dependencies hand them to endpoints.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request
from sqlalchemy.orm import Session

from openvpp.platform.settings import ServiceSettings

__all__ = ["get_session", "get_settings"]


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for one request, closed afterwards (endpoints commit what they change; the rest rolls back).

    The dependency is ``async`` on purpose: its clean-up (returning the connection to the pool) then runs on
    the event loop and never waits for a worker thread. With a synchronous generator, a burst of requests can
    fill the thread pool with endpoints waiting for a connection while the connections of finished requests
    wait for a thread to be released: a deadlock until the pool times out.

    Parameters
    ----------
    request : fastapi.Request
        The request.

    Returns
    -------
    AsyncIterator[sqlalchemy.orm.Session]
    """
    session: Session = request.app.state.session_factory()
    try:
        yield session
    finally:
        session.close()


def get_settings(request: Request) -> ServiceSettings:
    """The service settings of this application.

    Parameters
    ----------
    request : fastapi.Request
        The request.

    Returns
    -------
    ServiceSettings
    """
    settings: ServiceSettings = request.app.state.settings
    return settings
