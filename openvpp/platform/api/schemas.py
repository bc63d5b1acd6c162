"""Request and response bodies of the ``/v1`` API (pydantic v2; they make the published OpenAPI document).

Field names carry units (``p_max_kw``, ``e_max_kwh``, ``duration_s``); powers follow the load convention
(+ = import/charging); times are ISO 8601 with an offset (responses in UTC). Envelope limits are CSIP-AUS
DERControl fields as IEEE 2030.5 ActivePower objects ``{"value": Int16, "multiplier": Int8}`` meaning
``value x 10**multiplier`` W.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from openvpp.platform.store.models import DER_CLASSES, DISPATCH_STATUSES, PLAN_STATUSES

__all__ = [
    "ActivePower",
    "DerIn",
    "DerOut",
    "DerPatch",
    "DispatchBatch",
    "DispatchIn",
    "DispatchOut",
    "EnvelopeBatch",
    "EnvelopeIn",
    "EnvelopeOut",
    "IngestOut",
    "MappingEntry",
    "MappingRefresh",
    "NodeIn",
    "NodeOut",
    "PlanIn",
    "PlanOut",
    "ReadingIn",
    "ReadingOut",
    "SiteIn",
    "SiteOut",
    "SitePatch",
    "StatusPatch",
    "TelemetryBatch",
]

DerClass = Literal["battery", "pv", "ev", "heatpump", "waterheater", "flexload", "generator"]
assert set(DerClass.__args__) == set(DER_CLASSES)  # type: ignore[attr-defined]
PlanStatus = Literal["draft", "submitted", "active", "completed", "cancelled"]
assert set(PlanStatus.__args__) == set(PLAN_STATUSES)  # type: ignore[attr-defined]
DispatchStatus = Literal["pending", "sent", "acknowledged", "delivered", "failed", "cancelled"]
assert set(DispatchStatus.__args__) == set(DISPATCH_STATUSES)  # type: ignore[attr-defined]

Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Text = Annotated[str, Field(max_length=300)]
Kw = Annotated[float, Field(gt=0, le=1e5, allow_inf_nan=False)]
Kwh = Annotated[float, Field(gt=0, le=1e6, allow_inf_nan=False)]
Value = Annotated[float, Field(ge=-1e6, le=1e6, allow_inf_nan=False)]

_IN = ConfigDict(extra="forbid")


class SiteIn(BaseModel):
    """A site (connection point) to register: the aggregator's own id and its location (seed 001 §2.1)."""

    model_config = _IN
    external_id: Name
    name: Text | None = None
    lat_deg: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)] | None = None
    lon_deg: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)] | None = None
    address: Text | None = None
    phases: Literal[1, 3] = 1


class SitePatch(BaseModel):
    """Fields of a site that can change."""

    model_config = _IN
    name: Text | None = None
    lat_deg: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)] | None = None
    lon_deg: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)] | None = None
    address: Text | None = None
    phases: Literal[1, 3] | None = None


class SiteOut(BaseModel):
    """A registered site."""

    id: str
    external_id: str
    name: str | None
    lat_deg: float | None
    lon_deg: float | None
    address: str | None
    phases: int
    created: dt.datetime
    updated: dt.datetime


class DerIn(BaseModel):
    """A DER to register behind a site: class, ratings, control affiliation and VPP id (seed 001 §2.1)."""

    model_config = _IN
    site_id: Name
    external_id: Name
    der_class: DerClass
    p_max_kw: Kw
    e_max_kwh: Kwh | None = None
    control_affiliation: Text | None = None
    vpp_id: Name | None = None


class DerPatch(BaseModel):
    """Fields of a DER that can change (ratings after a replacement, affiliation, VPP, active flag)."""

    model_config = _IN
    p_max_kw: Kw | None = None
    e_max_kwh: Kwh | None = None
    control_affiliation: Text | None = None
    vpp_id: Name | None = None
    active: bool | None = None


class DerOut(BaseModel):
    """A registered DER with its site's location."""

    id: str
    site_id: str
    external_id: str
    der_class: str
    p_max_kw: float
    e_max_kwh: float | None
    control_affiliation: str | None
    vpp_id: str | None
    active: bool
    lat_deg: float | None
    lon_deg: float | None
    created: dt.datetime
    updated: dt.datetime


class ReadingIn(BaseModel):
    """One monitoring interval of one DER: the seed's 5-min fields (seed 001 §2.1), + = import/charging."""

    model_config = _IN
    der_id: Name
    start: AwareDatetime
    interval_s: Annotated[int, Field(gt=0, le=86_400)] = 300
    p_site_avg_kw: Value | None = None
    p_site_min_kw: Value | None = None
    p_site_max_kw: Value | None = None
    v_batt_avg_v: Value | None = None
    v_batt_min_v: Value | None = None
    v_batt_max_v: Value | None = None
    soc: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    p_der_kw: Value | None = None
    envelope_fallback: bool | None = None


class TelemetryBatch(BaseModel):
    """A batch of readings (at most ``max_batch_items`` of the service settings)."""

    model_config = _IN
    readings: list[ReadingIn]


class ItemError(BaseModel):
    """Why one item of a batch was not stored."""

    index: int
    field: str
    reason: str


class ItemFlag(BaseModel):
    """A plausibility flag on a stored item."""

    index: int
    check: str
    reason: str


class IngestOut(BaseModel):
    """Outcome of a telemetry batch: accepted items are stored, duplicates were stored before."""

    accepted: int
    duplicates: int
    rejected: list[ItemError]
    flagged: list[ItemFlag]


class ReadingOut(BaseModel):
    """A stored reading."""

    der_id: str
    start: dt.datetime
    interval_s: int
    p_site_avg_kw: float | None
    p_site_min_kw: float | None
    p_site_max_kw: float | None
    v_batt_avg_v: float | None
    v_batt_min_v: float | None
    v_batt_max_v: float | None
    soc: float | None
    p_der_kw: float | None
    envelope_fallback: bool | None
    flags: list[str] = []


class FlagOut(BaseModel):
    """A stored plausibility flag."""

    der_id: str
    start: dt.datetime
    check: str
    reason: str


class NodeIn(BaseModel):
    """A constraint node (the DSO's id, e.g. a transformer's asset number)."""

    model_config = _IN
    id: Name
    kind: Literal["transformer", "feeder", "zone", "substation", "tcp"]
    name: Text | None = None
    parent_id: Name | None = None


class NodeOut(BaseModel):
    """A constraint node."""

    id: str
    kind: str
    name: str | None
    parent_id: str | None


class MappingItem(BaseModel):
    """The nodes one DER maps to (at least its transmission connection point, seed 001 §2.1)."""

    model_config = _IN
    der_id: Name
    node_ids: Annotated[list[Name], Field(min_length=1, max_length=20)]


class MappingRefresh(BaseModel):
    """A new mapping version for the listed DERs, valid from ``valid_from`` (default now)."""

    model_config = _IN
    mappings: Annotated[list[MappingItem], Field(min_length=1)]
    valid_from: AwareDatetime | None = None


class MappingEntry(BaseModel):
    """One DER-to-node link of one version."""

    der_id: str
    node_id: str
    version: int
    valid_from: dt.datetime
    valid_to: dt.datetime | None


class ActivePower(BaseModel):
    """IEEE 2030.5 ActivePower: ``value x 10**multiplier`` W."""

    model_config = _IN
    value: Annotated[int, Field(ge=-32768, le=32767)]
    multiplier: Annotated[int, Field(ge=-9, le=9)] = 0


class EnvelopeIn(BaseModel):
    """A CSIP-AUS DERControl for a site or constraint node over one interval (limits are magnitudes, >= 0)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    subject_kind: Literal["site", "node"]
    subject_id: Name
    start: AwareDatetime
    duration_s: Annotated[int, Field(gt=0, le=7 * 86_400)]
    opModExpLimW: ActivePower | None = None
    opModImpLimW: ActivePower | None = None
    opModGenLimW: ActivePower | None = None
    opModLoadLimW: ActivePower | None = None


class EnvelopeBatch(BaseModel):
    """Envelopes to publish; each supersedes the active ones of its subject whose interval it overlaps."""

    model_config = _IN
    envelopes: Annotated[list[EnvelopeIn], Field(min_length=1)]


class EnvelopeOut(BaseModel):
    """A stored envelope with its status (``active``, ``superseded``, ``cancelled``)."""

    mRID: str
    subject_kind: str
    subject_id: str
    start: dt.datetime
    duration_s: int
    status: str
    superseded_by: str | None
    created: dt.datetime
    DERControlBase: dict[str, ActivePower]


class PlanIn(BaseModel):
    """An operating plan for ``[start, end)`` with a JSON summary (e.g. the scheduler's KPIs)."""

    model_config = _IN
    start: AwareDatetime
    end: AwareDatetime
    status: PlanStatus = "submitted"
    summary: dict[str, Any] = {}


class PlanOut(BaseModel):
    """A stored plan."""

    id: str
    start: dt.datetime
    end: dt.datetime
    status: str
    summary: dict[str, Any]
    created: dt.datetime
    updated: dt.datetime


class StatusPatch(BaseModel):
    """A status change."""

    model_config = _IN
    status: str = Field(min_length=1, max_length=16)


class DispatchIn(BaseModel):
    """A set-point for one DER over one interval (+ = import/charging)."""

    model_config = _IN
    der_id: Name
    start: AwareDatetime
    duration_s: Annotated[int, Field(gt=0, le=86_400)]
    p_kw: Value
    plan_id: Name | None = None


class DispatchBatch(BaseModel):
    """Dispatch instructions to record."""

    model_config = _IN
    instructions: Annotated[list[DispatchIn], Field(min_length=1)]


class DispatchOut(BaseModel):
    """A stored dispatch instruction and its status."""

    id: str
    der_id: str
    plan_id: str | None
    start: dt.datetime
    duration_s: int
    p_kw: float
    status: str
    updated: dt.datetime
