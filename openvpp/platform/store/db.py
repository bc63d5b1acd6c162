"""Engines, sessions and migrations of the store, the same on SQLite (embedded) and PostgreSQL (psycopg 3).

* :func:`make_engine` maps ``postgresql://`` to the psycopg 3 driver, pins a PostgreSQL ``schema`` through the
  connection's ``search_path`` (tests run each in their own schema), and on SQLite creates the data folder,
  turns on foreign keys, WAL and a busy timeout so several threads of one server can share the file.
* :func:`session_factory` gives ``Session`` objects that do not expire on commit.
* :func:`upgrade` runs the Alembic migrations shipped in ``openvpp/platform/store/migrations`` to head,
  programmatically (no ``alembic.ini`` needed).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from openvpp.errors import ValidationError

__all__ = ["MIGRATIONS_DIR", "is_postgres", "make_engine", "normalise_url", "session_factory", "upgrade"]

#: folder of the Alembic environment shipped with the package
MIGRATIONS_DIR = Path(__file__).with_name("migrations")

_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def normalise_url(url: str) -> str:
    """SQLAlchemy URL with the psycopg 3 driver for PostgreSQL (``postgresql://`` -> ``postgresql+psycopg://``).

    Parameters
    ----------
    url : str
        ``sqlite:///path.db``, ``sqlite://`` (memory), ``postgresql://user@host:port/db`` or an explicit
        ``postgresql+psycopg://`` URL.

    Returns
    -------
    str
        The URL to pass to SQLAlchemy.
    """
    if not isinstance(url, str) or not url:
        raise ValidationError(
            f"--db must be a database URL such as 'sqlite:///openvpp-data/openvpp.db' (got {url!r})"
        )
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith("postgresql+psycopg://") or url.startswith("sqlite"):
        return url
    raise ValidationError(
        f"--db {url!r} is not supported; use 'sqlite:///path/to/openvpp.db' or 'postgresql://user@host:5432/db'"
    )


def is_postgres(engine_or_url: Engine | str) -> bool:
    """True when the engine (or URL) is PostgreSQL.

    Parameters
    ----------
    engine_or_url : sqlalchemy.Engine or str
        Engine or database URL.

    Returns
    -------
    bool
    """
    if isinstance(engine_or_url, str):
        return normalise_url(engine_or_url).startswith("postgresql")
    return engine_or_url.dialect.name == "postgresql"


def _check_schema(schema: str | None) -> None:
    if schema is not None and not _SCHEMA_RE.match(schema):
        raise ValidationError(
            f"schema must be a lower-case SQL identifier of at most 63 characters (got {schema!r})"
        )


def make_engine(url: str, schema: str | None = None, **kwargs: Any) -> Engine:
    """A SQLAlchemy engine for the store on SQLite or PostgreSQL.

    Parameters
    ----------
    url : str
        Database URL (see :func:`normalise_url`).
    schema : str, optional
        PostgreSQL schema every connection uses (``search_path``); ignored on SQLite.
    **kwargs
        Passed to :func:`sqlalchemy.create_engine` (e.g. ``pool_size`` [-]).

    Returns
    -------
    sqlalchemy.Engine
    """
    _check_schema(schema)
    full = normalise_url(url)
    try:
        parsed = make_url(full)
    except ArgumentError as exc:
        raise ValidationError(f"--db {url!r} is not a valid database URL: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:" and not db.startswith("file:"):
            Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {})["check_same_thread"] = False
        if db and db != ":memory:":  # one connection per API thread (FastAPI's thread pool has 40)
            kwargs.setdefault("pool_size", 20)
            kwargs.setdefault("max_overflow", 40)
        engine = create_engine(full, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            if db and db != ":memory:":
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    connect_args = kwargs.setdefault("connect_args", {})
    if schema is not None:
        connect_args["options"] = f"-csearch_path={schema}"
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 40)
    return create_engine(full, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Session maker bound to ``engine`` (objects stay readable after commit).

    Parameters
    ----------
    engine : sqlalchemy.Engine
        Engine from :func:`make_engine`.

    Returns
    -------
    sqlalchemy.orm.sessionmaker
    """
    return sessionmaker(bind=engine, expire_on_commit=False)


def upgrade(url: str | Engine, schema: str | None = None, revision: str = "head") -> None:
    """Run the store's Alembic migrations up to ``revision`` (creates the PostgreSQL schema if needed).

    Parameters
    ----------
    url : str or sqlalchemy.Engine
        Database URL or an engine from :func:`make_engine` (its schema is then already set).
    schema : str, optional
        PostgreSQL schema to migrate (created if missing); ignored on SQLite.
    revision : str
        Target revision (default the newest).
    """
    from alembic import command
    from alembic.config import Config

    _check_schema(schema)
    engine = make_engine(url, schema=schema) if isinstance(url, str) else url
    try:
        if schema is not None and engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        if isinstance(url, str):
            engine.dispose()
