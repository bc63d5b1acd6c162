"""OpenADR 3.1 VTN endpoints: programs, events, reports, subscriptions, vens and resources.

Paths, object shapes, query parameters (``skip``/``limit`` <= 50, ``targets``, ``programID``, ``active`` ...),
scopes and the error shape (``problem`` objects, RFC 7807) follow the OpenADR 3.1.1 OpenAPI document
(``openadr3.yaml``) and the object-privacy rules of its Definition ("Object Privacy"):

* the DSO's key with scope ``openadr:vtn`` is the business logic (BL: ``read_all``, ``write_programs``,
  ``write_events``, ``write_vens``, ``write_subscriptions``);
* an aggregator's key with scope ``openadr:ven`` is a VEN (``read_targets``, ``read_ven_objects``,
  ``write_reports``, ``write_subscriptions``, ``write_vens``); its ``clientID`` is its tenant id.

A VEN reads a program or event that has targets only when it asks for targets the BL granted to its ven and
resource objects, and the response shows only those targets (target hiding). A VEN reads, changes and
deletes only the vens, resources, reports and subscriptions carrying its ``clientID``; anything else is 404.
Every write enqueues a notification per matching subscription in the store's outbox, which the runtime
delivers to the subscription's ``callbackUrl`` (:mod:`openvpp.platform.runtime.jobs`).
"""

from __future__ import annotations

import fastapi

from openvpp.platform.api.openadr import clients, programs
from openvpp.platform.api.openadr.common import PROBLEM_RESPONSES, ProblemRoute

__all__ = ["router"]

#: the VTN's router (programs, events, reports, subscriptions, vens, resources), mounted at the API root
router = fastapi.APIRouter(route_class=ProblemRoute, responses=PROBLEM_RESPONSES, tags=["openadr"])
router.include_router(programs.router)
router.include_router(clients.router)
