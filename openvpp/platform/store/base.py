"""The declarative base shared by every table of the store (core tables and OpenADR tables alike).

One ``MetaData`` with a naming convention, so that constraints have stable names on SQLite and PostgreSQL
and Alembic migrations can refer to them.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every OpenVPP table."""

    #: the tables of the store, with constraint names from :data:`NAMING_CONVENTION`
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
