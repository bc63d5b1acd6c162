"""The operator dashboard served by ``openvpp serve``: server-rendered pages with a little JavaScript.

Every asset (the uPlot charting library, the page script and style) is served by OpenVPP itself from
``/ui/static``, so the page works on machines without internet access. :func:`mount_web` adds the pages to
the service application; ``/`` redirects to the overview.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from openvpp.platform.web.views import LOGIN_REQUIRED, login_redirect, router

__all__ = ["mount_web"]


def mount_web(app: FastAPI) -> FastAPI:
    """Add the dashboard (``/ui``), its static files (``/ui/static``) and a ``/`` redirect to ``app`` (once).

    Parameters
    ----------
    app : fastapi.FastAPI
        The service application (:func:`openvpp.platform.api.app.create_app`).

    Returns
    -------
    fastapi.FastAPI
        The same application.
    """
    if getattr(app.state, "web_mounted", False):
        return app
    app.state.web_mounted = True
    static = Path(__file__).resolve().parent / "static"
    app.mount("/ui/static", StaticFiles(directory=str(static)), name="ui-static")
    app.include_router(router)
    app.add_exception_handler(LOGIN_REQUIRED, login_redirect)

    @app.get("/", include_in_schema=False)
    def _root() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=307)

    return app
