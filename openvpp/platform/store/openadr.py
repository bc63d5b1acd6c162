"""OpenADR 3.1 tables of the store: programs, events, reports, subscriptions, vens and resources.

Each table keeps the columns the VTN filters and joins on (ids, names, owner tenant, ``clientID``, targets,
time window) and the whole object as the client wrote it, validated, in ``body`` (a JSON column; camelCase
keys of the OpenADR 3.1.1 OpenAPI document, ``openadr3.yaml``). Object metadata (``id``, ``createdDateTime``,
``modificationDateTime``, ``objectType``) lives in columns and is merged into the body when an object is read.

Ownership follows the object-privacy rules of the OpenADR 3.1 Definition ("Object Privacy"): programs and
events belong to the business-logic tenant (the DSO) that wrote them; vens, resources, reports and
subscriptions carry the ``clientID`` of the VEN (the aggregator tenant) they belong to.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from openvpp.platform.store.base import Base

__all__ = [
    "OBJECT_TABLES",
    "OadrEvent",
    "OadrProgram",
    "OadrReport",
    "OadrResource",
    "OadrSubscription",
    "OadrVen",
    "utc_now",
]

#: length of VTN-assigned object ids and of names (objectID, programName ... maxLength in openadr3.yaml) [-]
ID_LEN = 128


def utc_now() -> dt.datetime:
    """The current instant, tz-aware UTC (the VTN's clock for createdDateTime / modificationDateTime)."""
    return dt.datetime.now(dt.UTC)


class _Object:
    """Columns common to every OpenADR object (objectMetadata of openadr3.yaml)."""

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    modified: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    body: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OadrProgram(_Object, Base):
    """An OpenADR program (``program`` of openadr3.yaml), written by the business logic (the DSO)."""

    __tablename__ = "oadr_programs"
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    program_name: Mapped[str] = mapped_column(String(ID_LEN), unique=True)
    targets: Mapped[list[str]] = mapped_column(JSON, default=list)


class OadrEvent(_Object, Base):
    """An OpenADR event (``event``): intervals of payloads for the VENs its targets name."""

    __tablename__ = "oadr_events"
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("oadr_programs.id", ondelete="CASCADE"), index=True)
    targets: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: end of the last interval (None = open-ended); ``active=true`` queries drop events that ended before now
    ends: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    priority: Mapped[int | None] = mapped_column(Integer, nullable=True)


class OadrVen(_Object, Base):
    """A VEN (``ven``): one per aggregator client; the business logic grants it targets."""

    __tablename__ = "oadr_vens"
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(ID_LEN), index=True)
    ven_name: Mapped[str] = mapped_column(String(ID_LEN), unique=True)
    targets: Mapped[list[str]] = mapped_column(JSON, default=list)


class OadrResource(_Object, Base):
    """A resource of a VEN (``resource``); ``resourceName`` is unique within its VEN."""

    __tablename__ = "oadr_resources"
    __table_args__ = (UniqueConstraint("ven_id", "resource_name"),)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    ven_id: Mapped[str] = mapped_column(ForeignKey("oadr_vens.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(ID_LEN), index=True)
    resource_name: Mapped[str] = mapped_column(String(ID_LEN))
    targets: Mapped[list[str]] = mapped_column(JSON, default=list)


class OadrReport(_Object, Base):
    """A report a VEN posted about an event (``report``)."""

    __tablename__ = "oadr_reports"
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(ID_LEN), index=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("oadr_events.id", ondelete="CASCADE"), index=True)
    program_id: Mapped[str] = mapped_column(String(ID_LEN), index=True)
    client_name: Mapped[str] = mapped_column(String(ID_LEN))


class OadrSubscription(_Object, Base):
    """A subscription (``subscription``): webhook callbacks for operations on object types."""

    __tablename__ = "oadr_subscriptions"
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(ID_LEN), index=True)
    client_name: Mapped[str] = mapped_column(String(ID_LEN))
    program_id: Mapped[str | None] = mapped_column(String(ID_LEN), nullable=True, index=True)


Index("ix_oadr_events_program_created", OadrEvent.program_id, OadrEvent.created)

#: objectType (openadr3.yaml ``objectTypes``) -> table class
OBJECT_TABLES: dict[str, type[_Object]] = {
    "PROGRAM": OadrProgram,
    "EVENT": OadrEvent,
    "VEN": OadrVen,
    "RESOURCE": OadrResource,
    "REPORT": OadrReport,
    "SUBSCRIPTION": OadrSubscription,
}
