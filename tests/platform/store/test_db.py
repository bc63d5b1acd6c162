"""Engines and migrations: URL handling, upgrade to head (twice is a no-op), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from openvpp.errors import ValidationError
from openvpp.platform.store.db import make_engine, normalise_url, upgrade


def test_urls_map_to_psycopg_and_bad_ones_are_refused():
    assert normalise_url("postgresql://u@h:5432/d") == "postgresql+psycopg://u@h:5432/d"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"
    with pytest.raises(ValidationError, match="--db"):
        normalise_url("mysql://h/d")
    with pytest.raises(ValidationError, match="schema"):
        make_engine("sqlite://", schema="Bad-Name")


def test_upgrade_creates_the_core_tables_and_is_idempotent(db_url):
    upgrade(db_url)  # already at head: nothing to do, no error
    e = make_engine(db_url)
    try:
        names = set(inspect(e).get_table_names())
        assert {
            "tenants",
            "api_keys",
            "sites",
            "ders",
            "constraint_nodes",
            "node_mappings",
            "telemetry",
            "telemetry_flags",
            "envelopes",
            "plans",
            "dispatch_instructions",
            "audit_log",
            "outbox",
        } <= names
        with e.connect() as c:
            revs = c.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert len(revs) == 1
    finally:
        e.dispose()


def test_sqlite_store_folder_is_created(tmp_path):
    url = f"sqlite:///{tmp_path / 'a' / 'b' / 'openvpp.db'}"
    upgrade(url)
    assert (tmp_path / "a" / "b" / "openvpp.db").exists()
