"""API keys: hashed at rest, looked up in constant time, scopes bounded by role, one DSO."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from openvpp.errors import ValidationError
from openvpp.platform.store.db import make_engine, session_factory
from openvpp.platform.store.keys import ROLE_SCOPES, create_key, get_or_create_tenant, lookup_key
from openvpp.platform.store.models import ApiKey


@pytest.fixture
def session(db_url):
    e = make_engine(db_url)
    with session_factory(e)() as s:
        yield s
    e.dispose()


def test_key_is_stored_as_its_sha256_only(session):
    made = create_key(session, "agg", "aggregator", ["der:read", "telemetry:write"])
    session.commit()
    row = session.scalars(select(ApiKey)).one()
    assert made.key not in (row.secret_sha256, row.scopes, row.id)
    assert row.secret_sha256 == hashlib.sha256(made.key.encode()).hexdigest()
    rec = lookup_key(session, made.key)
    assert rec is not None and rec.scopes == {"der:read", "telemetry:write"} and rec.role == "aggregator"
    # one character off, a wrong prefix, garbage: unknown
    assert lookup_key(session, made.key[:-1] + ("A" if made.key[-1] != "A" else "B")) is None
    assert lookup_key(session, "ovpp_000000000000_x") is None
    assert lookup_key(session, "not a key") is None


def test_scopes_are_bounded_by_role(session):
    with pytest.raises(ValidationError, match="not allowed for role 'dso'"):
        create_key(session, "dso", "dso", ["telemetry:write"])
    with pytest.raises(ValidationError, match="not allowed for role 'aggregator'"):
        create_key(session, "agg", "aggregator", ["envelopes:write"])
    with pytest.raises(ValidationError, match="unknown"):
        create_key(session, "agg", "aggregator", ["everything"])
    assert create_key(session, "dso", "dso").record.scopes == ROLE_SCOPES["dso"]
    assert not ROLE_SCOPES["dso"] & {"der:write", "telemetry:write", "plans:write", "openadr:ven"}


def test_exactly_one_dso_and_roles_do_not_change(session):
    get_or_create_tenant(session, "network", "dso")
    with pytest.raises(ValidationError, match="already has a DSO"):
        get_or_create_tenant(session, "another-network", "dso")
    with pytest.raises(ValidationError, match="exists with role 'dso'"):
        create_key(session, "network", "aggregator")
