"""The ``/v1`` API: registration, telemetry, network (nodes and mapping), envelopes, plans and dispatch,
and the unauthenticated health and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from openvpp.platform.api import ders, envelopes, nodes, plans, telemetry

__all__ = ["router"]

router = APIRouter(prefix="/v1")
router.include_router(ders.router)
router.include_router(telemetry.router)
router.include_router(nodes.router)
router.include_router(envelopes.router)
router.include_router(plans.router)


@router.get("/health", tags=["service"])
def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/ready", tags=["service"])
def ready(request: Request) -> JSONResponse:
    """Readiness: the store answers and is migrated (503 otherwise)."""
    from openvpp.platform.api.app import check_ready

    ok, reason = check_ready(request.app.state.engine)
    return JSONResponse(
        {"status": "ready" if ok else "not ready", "reason": reason}, status_code=200 if ok else 503
    )
