"""Economics figures and tables (openvpp.report.economics): what is drawn and printed is the study."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.container import BarContainer
from typer.testing import CliRunner

from openvpp.cli import app
from openvpp.report.economics import (
    LINE_LABELS,
    render_dynamics,
    render_economics,
    render_finance,
    render_potential,
)
from openvpp.studies.chile_economics import run_dynamics_study, run_economics, run_potential_study
from openvpp.studies.csiro_finance import run_finance_study


def _bars(ax) -> dict[str, BarContainer]:
    return {c.get_label(): c for c in ax.containers if isinstance(c, BarContainer)}


def _line(ax, label: str) -> tuple[np.ndarray, np.ndarray]:
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == label]
    return np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)


def test_revenue_stack_and_tables_show_the_study(tmp_path, drawn, console, table_rows):
    study = run_economics("lampa", mw=(1.0, 3.0, 5.0))
    paths = render_economics(study, tmp_path, console)
    assert [p.name for p in paths] == ["economics_revenue_stack_lampa.png", "economics_tornado_lampa.png"]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in paths)
    ax = drawn["economics_revenue_stack_lampa.png"].axes[0]
    bars = _bars(ax)
    sizes = [1.0, 3.0, 5.0]
    stacked = np.zeros(3)
    for key, label in LINE_LABELS.items():
        want = np.array([study.cases[s].revenue_usd[key] for s in sizes]) / 1000.0
        if np.all(want == 0):
            assert label not in bars
            continue
        got = [b.get_height() for b in bars[label]]
        np.testing.assert_allclose(got, want)
        np.testing.assert_allclose([b.get_y() for b in bars[label]], stacked)  # stacked on the lines below
        stacked += want
    # the top of the stack is the total revenue, the diamonds the profit (thousand USD)
    total = [sum(study.cases[s].revenue_usd.values()) / 1000.0 for s in sizes]
    np.testing.assert_allclose(stacked, total)
    profit = [study.cases[s].profit_usd / 1000.0 for s in sizes]
    np.testing.assert_allclose(_line(ax, "annual profit")[1], profit)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1 MW", "3 MW", "5 MW"]
    # Table 3 layout: one row per service line with its revenue per MW
    text = console.file.getvalue()
    for key, label in LINE_LABELS.items():
        (row,) = table_rows(text, label)
        assert float(row[1].replace(",", "")) == pytest.approx(study.revenue_per_mw[key], abs=0.05)


def test_tornado_bars_span_the_low_and_high_profit(tmp_path, drawn):
    study = run_economics("lampa", mw=(1.0,))
    render_economics(study, tmp_path, None)
    ax = drawn["economics_tornado_lampa.png"].axes[0]
    t = study.tornado.iloc[::-1]
    base = t["base_profit_usd"].iloc[0] / 1000.0
    low, high = _bars(ax)["parameter -20 %"], _bars(ax)["parameter +20 %"]
    np.testing.assert_allclose([b.get_x() + b.get_width() for b in low], t["profit_low_usd"] / 1000.0)
    np.testing.assert_allclose([b.get_x() + b.get_width() for b in high], t["profit_high_usd"] / 1000.0)
    assert all(b.get_x() == pytest.approx(base) for b in [*low, *high])
    assert [lab.get_text() for lab in ax.get_yticklabels()] == t["parameter"].tolist()


def test_dynamics_lines_are_the_trajectories(tmp_path, drawn, console, table_rows):
    study = run_dynamics_study()
    paths = render_dynamics(study, tmp_path, console)
    assert {p.name for p in paths} == {"dynamics_revenue_cost.png", "dynamics_margin.png",
                                       "dynamics_stocks.png", "dynamics_revenue_by_service.png"}
    rev_ax, cost_ax = drawn["dynamics_revenue_cost.png"].axes
    margin_ax = drawn["dynamics_margin.png"].axes[0]
    for name, r in study.scenarios.items():
        f = r.frame
        x, y = _line(rev_ax, f"{name} ({r.initial_clients:g})")
        np.testing.assert_array_equal(x, f.index[1:])
        np.testing.assert_allclose(y, f["revenue_usd"].iloc[1:] / 1000.0)
        np.testing.assert_allclose(_line(cost_ax, name)[1], f["cost_usd"].iloc[1:] / 1000.0)
        # cumulative margin: the running sum of the annual margins
        _, cum = _line(margin_ax, f"{name}: cumulative margin")
        np.testing.assert_allclose(cum, np.cumsum(f["margin_usd"]) / 1000.0)
        # the printed table has one row per year with the clients and the margin
        rows = [r_ for r_ in table_rows(console.file.getvalue(), "1")]
        assert any(row[3] == f"{f['clients'].iloc[1]:,.0f}" and row[6] == f"{f['margin_usd'].iloc[1]:,.0f}"
                   for row in rows)
    # the revenue stack of the accelerated scenario adds up to its total revenue
    stack_ax = drawn["dynamics_revenue_by_service.png"].axes[0]
    acc = study.scenarios["accelerated"].frame.iloc[1:]
    verts = stack_ax.collections[-1].get_paths()[0].vertices  # the top layer: its upper edge is the sum
    tops = [verts[np.isclose(verts[:, 0], year), 1].max() for year in acc.index]
    np.testing.assert_allclose(tops, acc["revenue_usd"] / 1000.0, rtol=1e-9)


def test_potential_bars_are_the_gigawatts(tmp_path, drawn, console, table_rows):
    study = run_potential_study()
    render_potential(study, tmp_path, console)
    ax = drawn["potential_bars.png"].axes[0]
    (bars,) = _bars(ax).values()
    np.testing.assert_allclose([b.get_height() for b in bars], list(study.result.gw.values()))
    assert sum(b.get_height() for b in bars) == pytest.approx(study.result.total_gw)
    assert ax.get_title() == f"National VPP potential: {study.result.total_gw:.2f} GW"
    sens = drawn["potential_hosting_sensitivity.png"].axes[0]
    x, y = _line(sens, "total (with EVs and climatisation)")
    np.testing.assert_allclose(x, study.sensitivity["hosting_share"] * 100)
    np.testing.assert_allclose(y, study.sensitivity["total_gw"])
    (total_row,) = table_rows(console.file.getvalue(), "total")
    assert float(total_row[1]) == pytest.approx(study.result.total_gw, abs=5e-4)


def test_npv_bars_and_table9_rows(tmp_path, drawn, console, table_rows):
    study = run_finance_study()
    render_finance(study, tmp_path, console)
    ax = drawn["finance_npv.png"].axes[0]
    bars = _bars(ax)
    np.testing.assert_allclose([b.get_height() for b in bars["NPV"]], [c.npv_usd / 1e6 for c in study.cases])
    np.testing.assert_allclose([b.get_height() for b in bars["benefits (PV)"]],
                               [c.benefits_pv_usd / 1e6 for c in study.cases])
    assert _line(ax, "upfront cost")[1][0] == pytest.approx(study.cases[0].cost_upfront_usd / 1e6)
    # seed 001 Table 9, both conventions printed: NPV 0.77 / 2.46 / 2.72 million under annuity due
    rows = table_rows(console.file.getvalue(), "2 kW") + table_rows(console.file.getvalue(), "5 kW")
    rows += table_rows(console.file.getvalue(), "10 kW")
    npv_due = [float(r[3]) for r in rows[::2]]
    assert npv_due == [0.77, 2.46, 2.72]


@pytest.mark.parametrize(
    ("args", "files"),
    [
        (["economics", "--site", "lampa", "--mw", "1", "3", "5"],
         ["economics_revenue_stack_lampa.png", "economics_tornado_lampa.png"]),
        (["dynamics"], ["dynamics_margin.png", "dynamics_revenue_cost.png"]),
        (["finance"], ["finance_npv.png"]),
        (["potential"], ["potential_bars.png", "potential_hosting_sensitivity.png"]),
    ],
)
def test_cli_writes_figures(tmp_path, args, files, drawn):
    res = CliRunner().invoke(app, ["study", *args, "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    for f in files:
        assert (tmp_path / f).stat().st_size > 1000
        assert drawn[f].axes and any(ax.has_data() for ax in drawn[f].axes)
