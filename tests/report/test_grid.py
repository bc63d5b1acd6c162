"""Figures and tables of the OPF studies (openvpp.report.grid): what is drawn is the OPF result.

The results come from real OPF runs on a five-bus feeder (no SimBench load): ``openvpp opf`` outputs, and a
Chile-style network study assembled from the same runs.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from matplotlib.container import BarContainer

from openvpp.report.grid import (
    LABELS,
    chile_table,
    opf_payload,
    opf_table,
    render_chile_technical,
    write_opf_outputs,
)
from openvpp.studies.chile_technical import STEP_MIN, ChileTechnicalResult, NetworkCase, NetworkStudy
from openvpp.studies.user_opf import run_opf_files

HOUSES = ["house1", "house2", "house3", "house4"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, write_five_bus_feeder, write_opf_profiles):
    """OPF runs on the feeder: self-consumption, export without and with grid constraints, export at noon."""
    d = tmp_path_factory.mktemp("feeder")
    write_five_bus_feeder(d / "net.json")
    write_opf_profiles(d, HOUSES, n_pv_sites=2)
    common = {"pv_csv": d / "pv.csv", "service_minutes": 180.0}
    out = {}
    for name, kw in {
        "sc": {"objective": "self_consumption"},
        "no_gc": {"service_start": "18:00", "grid_constraints": False},
        "gc": {"service_start": "18:00"},
        "no_gc_1230": {"service_start": "12:00", "grid_constraints": False},
        "gc_1230": {"service_start": "12:00"},
    }.items():
        out[name] = run_opf_files(d / "net.json", d / "load.csv", **common, **kw)
    return out


@pytest.fixture(scope="module")
def chile(runs):
    """A one-network study of the feeder's runs (service at step 6 = 18:00, midday at step 4 = 12:00)."""
    net, index, _ = runs["gc"]
    p = np.full((4, index.size), 2.0)
    case = NetworkCase(
        key="feeder", label="Five-bus feeder", full=net, reduced=net, p_load_kw=p, q_load_kvar=0.2 * p,
        pv_kw_per_kwp=np.zeros(index.size), customers=np.arange(4), prosumers=np.arange(2),
        join_order=np.arange(4),
    )
    results = {name: r[2] for name, r in runs.items()}
    study = NetworkStudy(case=case, results=results, full_check={n: {} for n in results}, service_step=6,
                         midday_step=4, hosting=None, hosting_tight=None)
    return ChileTechnicalResult(studies=[study], params={"v_max_pu": 1.1, "tight_v_max_pu": 1.05})


def test_opf_outputs_hold_the_dispatch(runs, tmp_path, drawn):
    _, index, res = runs["gc"]
    paths = write_opf_outputs(index, res, tmp_path)
    assert [p.name for p in paths] == ["opf_dispatch.csv", "opf_dispatch.parquet", "opf_net_power.png",
                                       "opf_voltage.png"]
    csv = pd.read_csv(tmp_path / "opf_dispatch.csv")
    parquet = pd.read_parquet(tmp_path / "opf_dispatch.parquet")
    assert len(csv) == 4 * 8 and list(parquet.columns) == list(csv.columns)
    # per site and step, site-major: the site powers of the result
    np.testing.assert_allclose(csv["p_site_kw"].to_numpy().reshape(4, 8), res.p_site_kw)
    np.testing.assert_allclose(parquet["p_site_kw"], csv["p_site_kw"])
    bat = csv.set_index(["site_id", "time"])["p_battery_kw"].unstack().loc[["house1", "house2"]].to_numpy()
    np.testing.assert_allclose(bat, res.p_battery_kw)
    assert csv.loc[csv["site_id"].isin(["house3", "house4"]), "p_battery_kw"].isna().all()
    # the figures: the aggregate and total net power, and the exact power flow's voltage range per step
    net_ax = drawn["opf_net_power.png"].axes[0]
    vpp, total = net_ax.get_lines()[:2]
    np.testing.assert_allclose(vpp.get_ydata(), res.p_vpp_kw)
    np.testing.assert_allclose(total.get_ydata(), res.p_total_kw)
    np.testing.assert_allclose(vpp.get_ydata(), res.p_site_kw[res.managed].sum(axis=0))  # managed sites' sum
    lo, hi = drawn["opf_voltage.png"].axes[0].get_lines()
    np.testing.assert_allclose(lo.get_ydata(), res.v_exact_pu.min(axis=(0, 1)))
    np.testing.assert_allclose(hi.get_ydata(), res.v_exact_pu.max(axis=(0, 1)))
    assert np.all(lo.get_ydata() <= hi.get_ydata())
    for p in paths[2:]:
        assert p.stat().st_size > 10_000


def test_opf_payload_is_json_of_the_result(runs):
    _, index, res = runs["gc"]
    doc = json.loads(json.dumps(opf_payload(index, res, [])), parse_constant=pytest.fail)
    assert doc["time"][0] == "2024-01-15T00:00:00" and len(doc["time"]) == 8
    np.testing.assert_allclose(doc["sites"]["p_site_kw"], res.p_site_kw)
    assert doc["batteries"]["site_id"] == ["house1", "house2"]
    np.testing.assert_allclose(doc["batteries"]["e_battery_kwh"], res.e_battery_kwh)
    assert doc["files"] == [] and doc["converged"] is True


def test_opf_table_lists_the_summary(runs, console, table_rows):
    res = runs["gc"][2]
    console.print(opf_table(res))
    text = console.file.getvalue()
    for key, value in res.summary().items():
        (row,) = table_rows(text, key)
        assert row[1] == (f"{value:.4g}" if isinstance(value, float) else str(value))


def test_chile_figures_draw_each_case(chile, tmp_path, drawn, console):
    paths = render_chile_technical(chile, tmp_path, console)
    assert [p.name for p in paths] == ["chile_net_power_feeder.png", "chile_midday_feeder.png",
                                       "chile_boxplots_feeder.png"]  # no hosting scan: no hosting figure
    study = chile.studies[0]
    hours = np.arange(8) * STEP_MIN / 60
    for fig_name, names in (("chile_net_power_feeder.png", ("sc", "no_gc", "gc")),
                            ("chile_midday_feeder.png", ("no_gc_1230", "gc_1230"))):
        ax = drawn[fig_name].axes[0]
        lines = {ln.get_label(): ln for ln in ax.get_lines() if not ln.get_label().startswith("_")}
        assert set(lines) == {LABELS[n] for n in names}
        for n in names:
            np.testing.assert_allclose(lines[LABELS[n]].get_xdata(), hours)
            np.testing.assert_allclose(lines[LABELS[n]].get_ydata(), study.results[n].p_vpp_kw)
    # the service window is shaded from the service step on, one step wide
    (span,) = [p for p in drawn["chile_net_power_feeder.png"].axes[0].patches if p.get_label() == "service"]
    x0, x1 = span.get_path().transformed(span.get_patch_transform()).get_extents().intervalx
    assert (x0, x1) == pytest.approx((6 * STEP_MIN / 60, 7 * STEP_MIN / 60))
    # boxplots at the service step: the medians are those of the exact power flow's voltages and loadings
    v_ax, line_ax, trafo_ax = drawn["chile_boxplots_feeder.png"].axes
    for ax, values in (
        (v_ax, [study.results[n].v_exact_pu[:, :, 6].ravel() for n in ("sc", "no_gc", "gc")]),
        (line_ax, [100 * study.results[n].line_utilisation[:, :, 6].ravel() for n in ("sc", "no_gc", "gc")]),
        (trafo_ax, [100 * study.results[n].trafo_utilisation[:, 6] for n in ("sc", "no_gc", "gc")]),
    ):
        lines = ax.get_lines()  # per box: box, whisker x2, cap x2, median, fliers
        np.testing.assert_allclose([ln.get_ydata()[0] for ln in lines[5::7]], [np.median(v) for v in values])
        np.testing.assert_allclose([ln.get_ydata()[[0, 2]] for ln in lines[0::7]],
                                   [np.percentile(v, [25, 75]) for v in values])
    title = drawn["chile_boxplots_feeder.png"]._suptitle.get_text()
    assert title == "Five-bus feeder at 03:00 (exact power flow)"  # step 6 of 30 min
    assert not any(isinstance(c, BarContainer) for f in drawn.values() for a in f.axes for c in a.containers)


def test_chile_table_rows_are_the_cases(chile, console, table_rows):
    console.print(chile_table(chile))
    text = console.file.getvalue()
    rows = table_rows(text, "feeder")
    assert [r[1] for r in rows] == ["SC", "VPP no GC", "VPP GC", "VPP no GC 12:30", "VPP GC 12:30"]
    study = chile.studies[0]
    for row, name in zip(rows, ("sc", "no_gc", "gc", "no_gc_1230", "gc_1230"), strict=True):
        step = 4 if name.endswith("1230") else 6
        assert float(row[2]) == pytest.approx(study.results[name].p_vpp_kw[step], abs=0.05)
        assert row[7] == f"{study.results[name].max_violation_pct:.2f}"
