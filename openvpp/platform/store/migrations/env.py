"""Alembic environment of the store.

Migrations run on the connection :func:`openvpp.platform.store.db.upgrade` passes in
``config.attributes["connection"]`` (or on ``sqlalchemy.url`` when run from the ``alembic`` tool).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from openvpp.platform.store import models  # noqa: F401  (register the core tables)
from openvpp.platform.store.base import Base

try:  # the OpenADR tables, when that module is present
    from openvpp.platform.store import openadr  # noqa: F401
except ImportError:  # pragma: no cover
    pass

target_metadata = Base.metadata


def run_migrations() -> None:
    """Run the migrations online, on the given connection or a new one."""
    conn = context.config.attributes.get("connection")
    if conn is None:
        engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "sqlite://")
        with engine.begin() as new_conn:
            context.configure(connection=new_conn, target_metadata=target_metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
        return
    context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
