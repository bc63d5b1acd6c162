"""Fixtures of the service tests: a migrated store on SQLite and on the real PostgreSQL, the app, keys.

* ``db_url`` — parametrised ``sqlite`` / ``postgresql``: a freshly migrated store per test (a temporary SQLite
  file, or a new schema on PostgreSQL at 127.0.0.1:5432, database ``test``, selected through the URL's
  ``options=-csearch_path=...`` so the same URL works in a subprocess), dropped afterwards. PostgreSQL skips
  with the reason where it is absent and ``CI`` is unset; with ``CI=true`` it fails instead.
* ``pg_url`` — the same, PostgreSQL only (fault tests).
* ``module_db_url`` — one migrated store per module and engine (cheaper; tests use distinct tenants).
* ``app`` / ``client`` — :func:`openvpp.platform.api.app.create_app` on ``db_url`` and its ``TestClient``;
  ``module_client`` on ``module_db_url``.
* ``make_key(db_url, tenant, role, scopes=None) -> str`` and ``keys`` — a DSO key and two aggregator keys
  (``{"dso", "agg_a", "agg_b"}``) on ``db_url``; ``module_keys`` likewise for ``module_db_url`` with tenant
  names unique to the test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import text

PG_BASE = os.environ.get("OPENVPP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
_pg_ok: bool | None = None


def _pg_available() -> bool:
    global _pg_ok
    if _pg_ok is None:
        try:
            import psycopg

            with psycopg.connect(
                PG_BASE.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3
            ):
                _pg_ok = True
        except Exception:
            _pg_ok = False
    return _pg_ok


def _need_pg() -> None:
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI at {PG_BASE}")
        pytest.skip(f"no PostgreSQL at {PG_BASE} (start it, or set OPENVPP_TEST_PG)")


def schema_url(schema: str) -> str:
    """URL of the test PostgreSQL with ``search_path`` pinned to ``schema``."""
    sep = "&" if "?" in PG_BASE else "?"
    return f"{PG_BASE}{sep}options=-csearch_path%3D{schema}"


def _fresh_store(engine_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from openvpp.platform.store.db import make_engine, upgrade

    if engine_kind == "sqlite":
        path = tmp_path_factory.mktemp("store") / "openvpp.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url
        return
    _need_pg()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_BASE)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = schema_url(schema)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A freshly migrated store (SQLite file or PostgreSQL schema) for one test."""
    yield from _fresh_store(request.param, tmp_path_factory)


@pytest.fixture
def pg_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A freshly migrated PostgreSQL schema for one test."""
    yield from _fresh_store("postgresql", tmp_path_factory)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated store shared by the tests of one module (one per engine)."""
    yield from _fresh_store(request.param, tmp_path_factory)


def _settings(url: str):
    from openvpp.platform.settings import ServiceSettings

    return ServiceSettings.build(db_url=url, rate_per_key_per_s=1e6, rate_burst=1_000_000)


def _make_app(url: str):
    from openvpp.platform.api.app import create_app

    return create_app(_settings(url))


@pytest.fixture
def app(db_url: str):
    """The service application on ``db_url``."""
    a = _make_app(db_url)
    yield a
    a.state.engine.dispose()


@pytest.fixture
def client(app) -> Iterator:
    """``TestClient`` of ``app``."""
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def module_app(module_db_url: str):
    """The service application on ``module_db_url``."""
    a = _make_app(module_db_url)
    yield a
    a.state.engine.dispose()


@pytest.fixture(scope="module")
def module_client(module_app) -> Iterator:
    """``TestClient`` of ``module_app``."""
    from fastapi.testclient import TestClient

    with TestClient(module_app) as c:
        yield c


def _make_key(url: str, tenant: str, role: str, scopes: list[str] | None = None) -> str:
    from openvpp.platform.store.db import make_engine, session_factory
    from openvpp.platform.store.keys import create_key

    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            made = create_key(s, tenant, role, scopes)
            s.commit()
            return made.key
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def make_key() -> Callable[..., str]:
    """``make_key(db_url, tenant, role, scopes=None) -> key``: an API key (tenant made if new)."""
    return _make_key


@pytest.fixture
def keys(db_url: str) -> dict[str, str]:
    """A DSO key and two aggregator keys (all scopes of their role) on ``db_url``."""
    return {
        "dso": _make_key(db_url, "dso", "dso"),
        "agg_a": _make_key(db_url, "aggregator-a", "aggregator"),
        "agg_b": _make_key(db_url, "aggregator-b", "aggregator"),
    }


@pytest.fixture
def module_keys(module_db_url: str) -> dict[str, str]:
    """As ``keys`` on ``module_db_url``; the aggregator tenants are new for each test."""
    tag = uuid.uuid4().hex[:8]
    return {
        "dso": _make_key(module_db_url, "dso", "dso"),
        "agg_a": _make_key(module_db_url, f"agg-a-{tag}", "aggregator"),
        "agg_b": _make_key(module_db_url, f"agg-b-{tag}", "aggregator"),
    }


@pytest.fixture(scope="session")
def auth() -> Callable[[str], dict[str, str]]:
    """``auth(key) -> headers`` with ``Authorization: Bearer <key>``."""
    return lambda key: {"Authorization": f"Bearer {key}"}
