"""Flexibility figures and tables (openvpp.report.flexibility): boxes, strips and rows are the aggregates'.

Inputs: the worked cases of seed 003 §4 (:func:`openvpp.studies.flexibility_paper.run_flexibility_paper`)
and a one-site fleet (battery + EV) whose P50 range is worked out by hand in ``tests/flex/test_fleet.py``.
"""

from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np
import pytest

from openvpp.fleet import from_records
from openvpp.flex import fleet_flexibility
from openvpp.report.flexibility import (
    NEEDED_COLOR,
    render_fleet_flexibility,
    render_flexibility_paper,
    verification_table,
)
from openvpp.studies.flexibility_paper import run_flexibility_paper


@pytest.fixture(scope="module")
def paper():
    return run_flexibility_paper()


def test_strips_and_planes_draw_the_aggregates_and_mark_the_unmet_need(paper, tmp_path, drawn, console):
    paths = render_flexibility_paper(paper, tmp_path, console)
    assert {p.name for p in paths} >= {"flex_case1_aggregate.png", "flex_case1_verification.png",
                                       "flex_case2_volumes.png", "flex_case2_strip.png"}
    c2 = paper.case2
    for ax, m in zip(drawn["flex_case2_strip.png"].axes, ("pi", "rho", "eps"), strict=True):
        (band,) = ax.collections
        y = band.get_paths()[0].vertices[:, 1]
        assert (y.min(), y.max()) == pytest.approx((c2.aggregate.vpp_lo[m], c2.aggregate.vpp_hi[m]))
        # one bar per needed bound and period: black where met, red where not (t4 misses pi and eps)
        bars = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 2]
        for k, (req, ver) in enumerate(zip(c2.requests, c2.verification, strict=True)):
            mine = [ln for ln in bars if np.mean(ln.get_xdata()) == pytest.approx(k)]
            need = next(n for n in req.needs if n.metric == m)
            assert sorted({ln.get_ydata()[0] for ln in mine}) == pytest.approx(sorted({need.lo, need.hi}))
            met = bool(np.all(ver.met[np.asarray(ver.metric) == m]))
            want = mcolors.to_rgba("k" if met else NEEDED_COLOR)
            assert all(mcolors.to_rgba(ln.get_color()) == want for ln in mine)
    met = [all(v.met[np.isin(v.metric, ["pi", "eps"])]) for v in c2.verification]
    assert met == [True, True, True, False]
    # case 1, Fig. 10: the (phi, psi) rectangle of each grid is its reactive interval
    agg = paper.case1.aggregates["P50"]
    planes = [ax for ax in drawn["flex_case1_verification.png"].axes if ax.name != "3d"]
    assert len(planes) == len(agg.ccp_codes)
    for ax, code in zip(planes, agg.ccp_codes, strict=True):
        (rect,) = [p for p in ax.patches if p.get_label() == "available"]
        (p_lo, p_hi), (s_lo, s_hi) = agg.interval("phi", int(code)), agg.interval("psi", int(code))
        assert rect.get_xy() == pytest.approx((p_lo, s_lo))
        assert (rect.get_width(), rect.get_height()) == pytest.approx((p_hi - p_lo, s_hi - s_lo))


def test_verification_table_rows(paper, console, table_rows):
    ver = paper.case2.verification[-1]
    console.print(verification_table(ver, "t4"))
    text = console.file.getvalue()
    for i, m in enumerate(ver.metric):
        (row,) = table_rows(text, m)
        assert row[1] == ver.scope[i] and float(row[5]) == pytest.approx(ver.deficit[i], rel=1e-2, abs=1e-12)
        assert row[6] == ("yes" if ver.met[i] else "NO")
        lo, hi = (float(v) for v in row[3].split("]")[0].strip("[").split(","))
        assert (lo, hi) == pytest.approx((ver.needed_lo[i], ver.needed_hi[i]), rel=1e-2)


def test_fleet_table_and_volume_by_hand(tmp_path, drawn, console, table_rows):
    sites = [{"site_id": "s1", "node": "n1"}]
    ev = [{"device_id": "car", "site_id": "s1", "arrival_step": 24, "departure_step": 76,
           "e_max_kwh": 60.0, "e0_kwh": 40.0, "e_required_kwh": 50.0, "p_max_kw": 7.0}]
    fleet = from_records(sites, {"ev": ev, "battery": [{"device_id": "bat", "site_id": "s1", "soc0": 0.5}]})
    res = fleet_flexibility(fleet, "2016-06-15 19:00")
    paths = render_fleet_flexibility(res, tmp_path, console)
    assert [p.name for p in paths] == ["flex_fleet.png"]
    # P50 at the VPP: the car absorbs 7 kW, the battery 5 kW either way -> pi in [-0.012, 0.005] MW
    (vpp,) = [r for r in table_rows(console.file.getvalue(), "P50") if r[1] == "VPP"]
    assert vpp[2] == "2" and vpp[3] == "[-0.012, 0.005]"
    ax = drawn["flex_fleet.png"].axes[0]
    pad = 0.08 * 0.017
    assert ax.get_xlim() == pytest.approx((-0.012 - pad, 0.005 + pad))
    lo, hi = res.aggregates["P50"].interval("eps")
    assert ax.get_zlim() == pytest.approx((lo - 0.08 * (hi - lo), hi + 0.08 * (hi - lo)))
