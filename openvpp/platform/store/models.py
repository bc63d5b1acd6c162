"""Core tables of the store (SQLAlchemy 2 declarative models); OpenADR tables live in :mod:`.openadr`.

What seed 001 §2.1 asks a network-to-VPP API to hold, plus what a multi-tenant service needs:

* ``tenants`` (one DSO, any number of aggregators) and ``api_keys`` (SHA-256 of the secret, scopes);
* ``sites`` (location, NMI-like external id) and ``ders`` (class, ratings, control affiliation, VPP id);
* ``constraint_nodes`` and ``node_mappings``: the DER-to-node mapping with a version and a validity interval
  (a refresh closes the current rows and writes a new version; old versions are kept);
* ``telemetry``: the seed's 5-min monitoring fields, one row per (DER, interval start), times as unix
  seconds (UTC) so that both engines store and compare them the same way and the bulk path stays fast;
* ``telemetry_flags``: trust-in-data findings on stored readings (:mod:`openvpp.platform.trust`);
* ``envelopes``: CSIP-AUS DERControl limits as IEEE 2030.5 ActivePower (Int16 value, power-of-ten
  multiplier) per subject (site or constraint node) and interval; a newer envelope supersedes an overlapping
  older one, which is kept with status ``superseded``;
* ``plans`` and ``dispatch_instructions`` with their status;
* ``audit_log`` (who changed what) and ``outbox`` (notifications delivered at least once, so nothing is lost
  while a broker is down).

Every tenant-owned table has a ``tenant_id`` column; :func:`openvpp.platform.api.auth.tenant_scoped` is the
one place queries are filtered by it. Times are unix seconds (UTC) in ``*_s`` columns.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from openvpp.platform.store.base import Base

__all__ = [
    "DER_CLASSES",
    "DISPATCH_STATUSES",
    "ENVELOPE_STATUSES",
    "PLAN_STATUSES",
    "ROLES",
    "ApiKey",
    "AuditLog",
    "ConstraintNode",
    "Der",
    "DispatchInstruction",
    "Envelope",
    "NodeMapping",
    "Outbox",
    "Plan",
    "Site",
    "Telemetry",
    "TelemetryFlag",
    "Tenant",
]

#: tenant roles: the network operator and the aggregators
ROLES = ("dso", "aggregator")
#: DER classes (the device classes of :mod:`openvpp.der`)
DER_CLASSES = ("battery", "pv", "ev", "heatpump", "waterheater", "flexload", "generator")
#: envelope life cycle: active until a newer overlapping one supersedes it, or the DSO cancels it
ENVELOPE_STATUSES = ("active", "superseded", "cancelled")
#: plan life cycle
PLAN_STATUSES = ("draft", "submitted", "active", "completed", "cancelled")
#: dispatch instruction life cycle
DISPATCH_STATUSES = ("pending", "sent", "acknowledged", "delivered", "failed", "cancelled")


class Tenant(Base):
    """A party using the service: the DSO (exactly one) or an aggregator."""

    __tablename__ = "tenants"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    created_s: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        Index(
            "uq_tenants_one_dso",
            "role",
            unique=True,
            sqlite_where=text("role = 'dso'"),
            postgresql_where=text("role = 'dso'"),
        ),
    )


class ApiKey(Base):
    """An API key: public ``id`` (the lookup prefix), SHA-256 of the whole key, space-separated scopes."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_s: Mapped[int] = mapped_column(BigInteger)
    revoked_s: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Site(Base):
    """A connection point (customer site) registered by an aggregator, with its location (seed 001 §2.1)."""

    __tablename__ = "sites"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lat_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    address: Mapped[str | None] = mapped_column(String(300), nullable=True)
    phases: Mapped[int] = mapped_column(SmallInteger, default=1)
    created_s: Mapped[int] = mapped_column(BigInteger)
    updated_s: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (UniqueConstraint("tenant_id", "external_id", name="uq_sites_tenant_external"),)


class Der(Base):
    """A DER behind a site: class, ratings, control affiliation and VPP id (seed 001 §2.1)."""

    __tablename__ = "ders"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(100))
    der_class: Mapped[str] = mapped_column(String(16))
    p_max_kw: Mapped[float] = mapped_column(Float)
    e_max_kwh: Mapped[float | None] = mapped_column(Float, nullable=True)
    control_affiliation: Mapped[str | None] = mapped_column(String(100), nullable=True)
    vpp_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_s: Mapped[int] = mapped_column(BigInteger)
    updated_s: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (UniqueConstraint("tenant_id", "external_id", name="uq_ders_tenant_external"),)


class ConstraintNode(Base):
    """A network constraint node (transformer, feeder, zone, transmission connection point) of the DSO."""

    __tablename__ = "constraint_nodes"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    parent_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_s: Mapped[int] = mapped_column(BigInteger)


class NodeMapping(Base):
    """One DER-to-node link of one mapping version, valid in ``[valid_from_s, valid_to_s)`` (None = open)."""

    __tablename__ = "node_mappings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    der_pk: Mapped[int] = mapped_column(ForeignKey("ders.pk"), index=True)
    node_id: Mapped[str] = mapped_column(ForeignKey("constraint_nodes.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    valid_from_s: Mapped[int] = mapped_column(BigInteger)
    valid_to_s: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Telemetry(Base):
    """One monitoring interval of one DER: the seed's 5-min fields (seed 001 §2.1); + = import/charging.

    ``p_site_*_kw`` is the site's real power at the meter, ``v_batt_*_v`` the battery terminal voltage,
    ``soc`` the state of charge in [0, 1], ``p_der_kw`` the DER's own power (optional, finer monitoring).
    """

    __tablename__ = "telemetry"
    der_pk: Mapped[int] = mapped_column(ForeignKey("ders.pk"), primary_key=True)
    start_s: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(Integer)
    interval_s: Mapped[int] = mapped_column(Integer)
    p_site_avg_kw: Mapped[float | None] = mapped_column(Float, nullable=True)
    p_site_min_kw: Mapped[float | None] = mapped_column(Float, nullable=True)
    p_site_max_kw: Mapped[float | None] = mapped_column(Float, nullable=True)
    v_batt_avg_v: Mapped[float | None] = mapped_column(Float, nullable=True)
    v_batt_min_v: Mapped[float | None] = mapped_column(Float, nullable=True)
    v_batt_max_v: Mapped[float | None] = mapped_column(Float, nullable=True)
    soc: Mapped[float | None] = mapped_column(Float, nullable=True)
    p_der_kw: Mapped[float | None] = mapped_column(Float, nullable=True)
    envelope_fallback: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    received_s: Mapped[int] = mapped_column(BigInteger)
    # one B-tree on SQLite (the primary key is the table); no tenant index: reads go through the DER; the
    # time index serves "the last 15 minutes / today of every DER" (dashboard, network view; migration 0003)
    __table_args__ = (Index("ix_telemetry_start_s", "start_s"), {"sqlite_with_rowid": False})


class TelemetryFlag(Base):
    """A plausibility finding on a stored reading (``check_name`` and human-readable ``reason``)."""

    __tablename__ = "telemetry_flags"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    der_pk: Mapped[int] = mapped_column(ForeignKey("ders.pk"))
    start_s: Mapped[int] = mapped_column(BigInteger)
    check_name: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    created_s: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        Index("ix_telemetry_flags_der_start", "der_pk", "start_s"),
        UniqueConstraint("der_pk", "start_s", "check_name", name="uq_telemetry_flags_der_start_check"),
    )


class Envelope(Base):
    """One CSIP-AUS DERControl for one subject and interval; limits as ActivePower (value, multiplier) [W]."""

    __tablename__ = "envelopes"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mrid: Mapped[str] = mapped_column(String(36), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    subject_kind: Mapped[str] = mapped_column(String(8))
    subject_id: Mapped[str] = mapped_column(String(100))
    start_s: Mapped[int] = mapped_column(BigInteger)
    duration_s: Mapped[int] = mapped_column(Integer)
    exp_lim_value: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    exp_lim_mult: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    imp_lim_value: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    imp_lim_mult: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    gen_lim_value: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    gen_lim_mult: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    load_lim_value: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    load_lim_mult: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    superseded_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_s: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (Index("ix_envelopes_subject", "subject_kind", "subject_id", "start_s"),)


class Plan(Base):
    """An aggregator's operating plan for a horizon, with its status and a JSON summary."""

    __tablename__ = "plans"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    start_s: Mapped[int] = mapped_column(BigInteger)
    end_s: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    summary: Mapped[dict] = mapped_column(JSON)
    created_s: Mapped[int] = mapped_column(BigInteger)
    updated_s: Mapped[int] = mapped_column(BigInteger)


class DispatchInstruction(Base):
    """A set-point for one DER over one interval (+ = import/charging) and its delivery status."""

    __tablename__ = "dispatch_instructions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    plan_id: Mapped[str | None] = mapped_column(ForeignKey("plans.id"), nullable=True, index=True)
    der_pk: Mapped[int] = mapped_column(ForeignKey("ders.pk"), index=True)
    start_s: Mapped[int] = mapped_column(BigInteger)
    duration_s: Mapped[int] = mapped_column(Integer)
    p_kw: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    created_s: Mapped[int] = mapped_column(BigInteger)
    updated_s: Mapped[int] = mapped_column(BigInteger)


class AuditLog(Base):
    """Who (tenant, key) did what (action) to which object, when."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int | None] = mapped_column(Integer, index=True, nullable=True)
    key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    detail: Mapped[dict] = mapped_column(JSON)
    at_s: Mapped[int] = mapped_column(BigInteger)


class Outbox(Base):
    """A notification to deliver at least once (topic, JSON payload), claimed with a lease by a worker."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    topic: Mapped[str] = mapped_column(String(300))
    payload: Mapped[dict] = mapped_column(JSON)
    created_s: Mapped[int] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    delivered_s: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    __table_args__ = (Index("ix_outbox_pending", "delivered_s", "id"),)
