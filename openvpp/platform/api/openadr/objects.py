"""OpenADR 3.1 object shapes as pydantic models, after the OpenADR 3.1.1 OpenAPI document (``openadr3.yaml``).

The request objects (``programRequest``, ``eventRequest``, ``reportRequest``, ``subscriptionRequest``,
``BlVenRequest`` / ``VenVenRequest``, ``BlResourceRequest`` / ``VenResourceRequest``) validate what a client
writes; the server objects (``program``, ``event`` ...) add the VTN's metadata (``id``, ``createdDateTime``,
``modificationDateTime``, ``objectType``). Field names are the spec's camelCase JSON names. Sizes are bounded
(:data:`MAX_ITEMS`) before anything is stored; string lengths and patterns are the spec's.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "MAX_ITEMS",
    "BlResourceRequest",
    "BlVenRequest",
    "Duration",
    "Event",
    "EventPayloadDescriptor",
    "EventRequest",
    "Interval",
    "IntervalPeriod",
    "Name",
    "ObjectID",
    "Point",
    "Problem",
    "Program",
    "ProgramRequest",
    "Report",
    "ReportDescriptor",
    "ReportPayloadDescriptor",
    "ReportRequest",
    "Resource",
    "ResourceRequest",
    "Subscription",
    "SubscriptionRequest",
    "Url",
    "ValuesMap",
    "Ven",
    "VenRequest",
    "VenResourceRequest",
    "VenVenRequest",
]

#: largest number of intervals / payload values / resources one object may carry (bounded before storing) [-]
MAX_ITEMS = 10_000

_DURATION_RE = (
    r"^(-?)P"
    r"(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)([DW]))?"
    r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)
Name = Annotated[str, StringConstraints(min_length=1, max_length=128)]
ObjectID = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[a-zA-Z0-9_-]*$")]
Duration = Annotated[str, StringConstraints(pattern=_DURATION_RE, max_length=64)]
Url = Annotated[str, StringConstraints(min_length=2, max_length=8000)]
#: a webhook: only http(s) URLs are called back
CallbackUrl = Annotated[str, StringConstraints(min_length=8, max_length=8000, pattern=r"^https?://[^\s]+$")]


# ---------------------------------------------------------------------------------------------- schemas
class _Schema(BaseModel):
    model_config = ConfigDict(extra="ignore", regex_engine="python-re")


class Problem(_Schema):
    """Error response of every OpenADR endpoint (``problem`` of openadr3.yaml, RFC 7807), with the
    offending fields listed in the extension member ``errors``."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, str | None]] | None = Field(
        default=None, description="extension: each offending field as the client wrote it and the reason"
    )


class IntervalPeriod(_Schema):
    """Start, duration and start randomisation of an interval (``intervalPeriod``)."""

    start: dt.datetime | None = None
    duration: Duration | None = None
    randomizeStart: Duration | None = None


class Point(_Schema):
    """A point of a curve (``point``)."""

    x: float
    y: float


class ValuesMap(_Schema):
    """A typed list of values (``valuesMap``): the payload of an interval or an attribute."""

    type: Name
    values: list[bool | int | float | Point | str] = Field(max_length=MAX_ITEMS)


class Interval(_Schema):
    """An interval of an event or a report (``interval``)."""

    id: int
    intervalPeriod: IntervalPeriod | None = None
    payloads: list[ValuesMap] = Field(max_length=MAX_ITEMS)


class EventPayloadDescriptor(_Schema):
    """Context of an event payload type: units and currency (``eventPayloadDescriptor``)."""

    objectType: Literal["EVENT_PAYLOAD_DESCRIPTOR"] = "EVENT_PAYLOAD_DESCRIPTOR"
    payloadType: Name
    units: str | None = None
    currency: str | None = None


class ReportPayloadDescriptor(_Schema):
    """Context of a report payload type (``reportPayloadDescriptor``)."""

    objectType: Literal["REPORT_PAYLOAD_DESCRIPTOR"] = "REPORT_PAYLOAD_DESCRIPTOR"
    payloadType: Name
    readingType: str | None = None
    units: str | None = None
    accuracy: float | None = None
    confidence: int | None = Field(default=None, ge=0, le=100)


class ReportDescriptor(_Schema):
    """A report an event asks the VENs for (``reportDescriptor``)."""

    payloadType: Name
    readingType: str | None = None
    units: str | None = None
    targets: list[Name] | None = None
    aggregate: bool = False
    startInterval: int = -1
    numIntervals: int = -1
    historical: bool = True
    frequency: int = -1
    repeat: int = 1
    reportIntervals: Literal["INTERVALS", "SUB_INTERVALS", "OPEN_INTERVALS"] = "INTERVALS"


class ProgramDescription(_Schema):
    """A link to a human or machine readable program description."""

    URL: Url


class ProgramRequest(_Schema):
    """A program as the BL writes it (``programRequest``)."""

    programName: Name
    intervalPeriod: IntervalPeriod | None = None
    programDescriptions: list[ProgramDescription] | None = None
    payloadDescriptors: (
        list[Annotated[EventPayloadDescriptor | ReportPayloadDescriptor, Field(discriminator="objectType")]]
        | None
    ) = None
    attributes: list[ValuesMap] | None = None
    targets: list[Name] | None = None


class EventRequest(_Schema):
    """An event as the BL writes it (``eventRequest``)."""

    programID: ObjectID
    eventName: str | None = None
    duration: Duration | None = None
    priority: int | None = Field(default=None, ge=0)
    targets: list[Name] | None = None
    reportDescriptors: list[ReportDescriptor] | None = None
    payloadDescriptors: list[EventPayloadDescriptor] | None = None
    intervalPeriod: IntervalPeriod | None = None
    intervals: list[Interval] | None = Field(default=None, max_length=MAX_ITEMS)


class ReportResource(_Schema):
    """Report data of one resource."""

    resourceName: Name
    intervalPeriod: IntervalPeriod | None = None
    intervals: list[Interval] = Field(max_length=MAX_ITEMS)


class ReportRequest(_Schema):
    """A report as a VEN writes it (``reportRequest``)."""

    eventID: ObjectID
    clientName: Name
    reportName: str | None = None
    payloadDescriptors: list[ReportPayloadDescriptor] | None = None
    resources: list[ReportResource] = Field(max_length=MAX_ITEMS)


class ObjectOperation(_Schema):
    """Object types, operations and the webhook a subscription asks notifications for."""

    objects: list[Literal["PROGRAM", "EVENT", "REPORT", "SUBSCRIPTION", "VEN", "RESOURCE"]]
    operations: list[Literal["READ", "CREATE", "UPDATE", "DELETE"]]
    callbackUrl: CallbackUrl
    bearerToken: str | None = None


class SubscriptionRequest(_Schema):
    """A subscription as a client writes it (``subscriptionRequest``)."""

    clientName: Name
    programID: ObjectID | None = None
    objectOperations: list[ObjectOperation] = Field(max_length=100)
    targets: list[Name] | None = None


class BlVenRequest(_Schema):
    """A ven as the BL writes it: names the VEN's ``clientID`` and grants targets (``BlVenRequest``)."""

    objectType: Literal["BL_VEN_REQUEST"]
    clientID: Name
    targets: list[Name] | None = None
    venName: Name
    attributes: list[ValuesMap] | None = None


class VenVenRequest(_Schema):
    """A ven as a VEN writes it (``VenVenRequest``); the VTN fills in its ``clientID``."""

    objectType: Literal["VEN_VEN_REQUEST"]
    venName: Name
    attributes: list[ValuesMap] | None = None


class BlResourceRequest(_Schema):
    """A resource as the BL writes it (``BlResourceRequest``)."""

    objectType: Literal["BL_RESOURCE_REQUEST"]
    clientID: Name
    targets: list[Name] | None = None
    resourceName: Name
    venID: ObjectID
    attributes: list[ValuesMap] | None = None


class VenResourceRequest(_Schema):
    """A resource as a VEN writes it (``VenResourceRequest``)."""

    objectType: Literal["VEN_RESOURCE_REQUEST"]
    resourceName: Name
    venID: ObjectID
    attributes: list[ValuesMap] | None = None


VenRequest = Annotated[BlVenRequest | VenVenRequest, Field(discriminator="objectType")]
ResourceRequest = Annotated[BlResourceRequest | VenResourceRequest, Field(discriminator="objectType")]


class _Meta(_Schema):
    id: str
    createdDateTime: dt.datetime
    modificationDateTime: dt.datetime
    objectType: str


class Program(_Meta, ProgramRequest):
    """A program as the VTN returns it (``program``)."""


class Event(_Meta, EventRequest):
    """An event as the VTN returns it (``event``)."""


class Report(_Meta, ReportRequest):
    """A report as the VTN returns it (``report``)."""

    clientID: str


class Subscription(_Meta, SubscriptionRequest):
    """A subscription as the VTN returns it (``subscription``)."""

    clientID: str


class Ven(_Meta):
    """A ven as the VTN returns it (``ven``)."""

    clientID: str
    targets: list[str] | None = None
    venName: str
    attributes: list[ValuesMap] | None = None


class Resource(_Meta):
    """A resource as the VTN returns it (``resource``)."""

    clientID: str
    targets: list[str] | None = None
    resourceName: str
    venID: str
    attributes: list[ValuesMap] | None = None
