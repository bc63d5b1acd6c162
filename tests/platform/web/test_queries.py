"""What the dashboard reads: downsampling by hand, site-deduplicated fleet power, tenant isolation."""

from __future__ import annotations

import numpy as np
import pytest

from openvpp.platform.api.auth import Principal
from openvpp.platform.store.db import make_engine, session_factory
from openvpp.platform.store.keys import lookup_key
from openvpp.platform.web import queries


def test_downsample_keeps_mean_min_and_max_by_hand():
    t = np.arange(10) * 300
    y = np.array([1, 5, 2, np.nan, 3, 3, -4, 0, 7, 1], dtype=float)
    s = queries.downsample(t, y, max_points=4)  # buckets of 3: [1,5,2] [nan,3,3] [-4,0,7] [1]
    assert s.t_s == [0, 900, 1800, 2700]
    assert s.mean == [pytest.approx(8 / 3, abs=1e-4), 3.0, 1.0, 1.0]
    assert s.low == [1.0, 3.0, -4.0, 1.0] and s.high == [5.0, 3.0, 7.0, 1.0]
    assert queries.downsample([], [], 10).t_s == []
    all_nan = queries.downsample([0, 300], [np.nan, np.nan], 10)
    assert all_nan.mean == [None, None] and all_nan.low == [None, None]


def _principal(url: str, key: str) -> Principal:
    engine = make_engine(url)
    with session_factory(engine)() as s:
        rec = lookup_key(s, key)
    engine.dispose()
    assert rec is not None
    return Principal.from_record(rec)


def test_overview_counts_each_site_once_and_sees_only_its_tenant(db_url, keys, web_client, populate):
    populate(web_client, keys["agg_a"], n_sites=3, prefix="a", p_kw=2.0)
    populate(web_client, keys["agg_b"], n_sites=2, prefix="b", p_kw=-1.0)
    engine = make_engine(db_url)
    with session_factory(engine)() as s:
        a = queries.overview(s, _principal(db_url, keys["agg_a"]))
        b = queries.overview(s, _principal(db_url, keys["agg_b"]))
        dso = queries.overview(s, _principal(db_url, keys["dso"]))
        # 3 sites x 2 DERs report the same meter: the fleet power is 3 x 2 kW, not 6 x 2 kW
        assert a["power_now_kw"] == pytest.approx(6.0) and a["sites"] == 3
        assert a["ders"] == {"battery": {"total": 3, "online": 3}, "pv": {"total": 3, "online": 3}}
        assert b["power_now_kw"] == pytest.approx(-2.0) and b["sites"] == 2
        # the DSO monitors every aggregator: 6 - 2 kW
        assert dso["power_now_kw"] == pytest.approx(4.0) and dso["sites"] == 5
        # three 5-min intervals of 6 kW imported by A: 1.5 kWh
        assert a["kpis"]["energy_import_kwh"] == pytest.approx(1.5) and a["kpis"]["energy_export_kwh"] == 0
        pages_a = queries.site_page(s, _principal(db_url, keys["agg_a"]), per_page=2)
        assert pages_a["total"] == 3 and pages_a["pages"] == 2 and len(pages_a["rows"]) == 2
        assert all(r["external_id"].startswith("a-") for r in pages_a["rows"])
        site_b = queries.site_page(s, _principal(db_url, keys["agg_b"]))["rows"][0]["id"]
        assert queries.site_detail(s, _principal(db_url, keys["agg_a"]), site_b, 0, 2**40) is None
        detail = queries.site_detail(s, _principal(db_url, keys["agg_b"]), site_b, 0, 2**40)
        assert detail is not None and detail["power"]["mean"][-1] == pytest.approx(-1.0)
        assert detail["soc"]["mean"][-1] == pytest.approx(0.5)
    engine.dispose()
