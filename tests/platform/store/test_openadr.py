"""The OpenADR tables: migrated on both engines, names unique where the spec says, owned by a tenant."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from openvpp.platform.store.db import make_engine, session_factory
from openvpp.platform.store.keys import get_or_create_tenant
from openvpp.platform.store.openadr import OBJECT_TABLES, OadrProgram, OadrResource, OadrVen


def test_tables_exist_and_names_are_unique(db_url):
    engine = make_engine(db_url)
    tables = set(inspect(engine).get_table_names())
    assert {cls.__tablename__ for cls in OBJECT_TABLES.values()} <= tables
    sessions = session_factory(engine)
    with sessions() as s:
        dso = get_or_create_tenant(s, "dso", "dso")
        agg = get_or_create_tenant(s, "agg", "aggregator")
        s.add(
            OadrProgram(
                id="p1", tenant_id=dso.id, program_name="flex", targets=[], body={"programName": "flex"}
            )
        )
        s.add(
            OadrVen(id="v1", tenant_id=agg.id, client_id=str(agg.id), ven_name="ven", targets=["t"], body={})
        )
        s.flush()
        s.add(
            OadrResource(
                id="r1",
                tenant_id=agg.id,
                ven_id="v1",
                client_id=str(agg.id),
                resource_name="r",
                targets=[],
                body={},
            )
        )
        s.commit()
        assert s.get(OadrProgram, "p1").body == {"programName": "flex"}
        assert s.get(OadrProgram, "p1").created.year >= 2025
        s.add(OadrProgram(id="p2", tenant_id=dso.id, program_name="flex", targets=[], body={}))
        with pytest.raises(IntegrityError):  # programName is unique in a VTN
            s.commit()
        s.rollback()
        s.add(
            OadrResource(
                id="r2",
                tenant_id=agg.id,
                ven_id="v1",
                client_id=str(agg.id),
                resource_name="r",
                targets=[],
                body={},
            )
        )
        with pytest.raises(IntegrityError):  # resourceName is unique within its ven
            s.commit()
    engine.dispose()
