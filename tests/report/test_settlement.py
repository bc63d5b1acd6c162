"""Settlement rendering (openvpp.report.settlement): files, figures and tables hold the settlement."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import openvpp.report.settlement as report_settlement
from openvpp.report.settlement import plot_participant_events, render_settlement, write_statements
from openvpp.settlement.io import events_from_frame, telemetry_from_long
from openvpp.settlement.program import load_program
from openvpp.settlement.statements import settle

NAMES = ["site00", "site01", "site02", "site03"]


@pytest.fixture(scope="module")
def settled():
    """Four sites, four weeks of hourly load; two 2-h peak events for site00 and site01, who cut 2 kW."""
    rng = np.random.default_rng(0)
    index = pd.date_range("2026-05-04", periods=28 * 24, freq="h", tz="UTC")
    p = 1.0 + 0.3 * rng.random((4, len(index)))
    for day in (21, 23):
        p[:2, day * 24 + 20 : day * 24 + 22] -= 2.0
    frame = pd.DataFrame({"site_id": np.repeat(NAMES, len(index)),
                          "time": np.tile(index.strftime("%Y-%m-%dT%H:%M:%SZ"), 4), "p_kw": p.ravel()})
    events = pd.DataFrame({
        "event_id": ["e1", "e2"], "service": ["peak_reduction"] * 2,
        "start": ["2026-05-25T20:00Z", "2026-05-27T20:00Z"],
        "end": ["2026-05-25T22:00Z", "2026-05-27T22:00Z"],
        "committed_kw": [4.0, 4.0], "site_ids": ["site00 site01"] * 2,
    })
    tel = telemetry_from_long(frame, "UTC")
    program = load_program().model_copy(update={"timezone": "UTC"})
    return settle(tel, events_from_frame(events, "UTC"), program), tel


def test_statement_files_hold_the_settlement(settled, tmp_path):
    result, tel = settled
    written = write_statements(result, tel, tmp_path)
    names = sorted(p.relative_to(tmp_path).as_posix() for p in written)
    assert names == sorted(
        ["settlement_statements.csv", "settlement_events.csv", "settlement_aggregator.csv"]
        + [f"statements/{s}_2026-05.{ext}" for s in NAMES for ext in ("json", "png")]
    )
    csv = pd.read_csv(tmp_path / "settlement_statements.csv")
    np.testing.assert_allclose(csv["total_usd"], result.statements["total_usd"])
    assert csv["site_id"].tolist() == result.statements["site_id"].tolist()
    agg = pd.read_csv(tmp_path / "settlement_aggregator.csv")
    np.testing.assert_allclose(agg["margin_usd"], result.aggregator["margin_usd"])
    events = pd.read_csv(tmp_path / "settlement_events.csv")
    assert len(events) == 4 and "site_pos" not in events.columns  # 2 events x 2 sites, internal columns gone
    doc = json.loads((tmp_path / "statements" / "site00_2026-05.json").read_text())
    assert doc == json.loads(json.dumps(result.statement("site00", "2026-05"), default=str))
    assert [e["event_id"] for e in doc["events"]] == ["e1", "e2"]


def test_figures_are_optional_and_capped(settled, tmp_path, monkeypatch):
    result, tel = settled
    assert not any(p.suffix == ".png" for p in write_statements(result, tel, tmp_path / "a", figures=False))
    monkeypatch.setattr(report_settlement, "MAX_FIGURES", 1)
    pngs = [p for p in write_statements(result, tel, tmp_path / "b") if p.suffix == ".png"]
    assert [p.name for p in pngs] == ["site00_2026-05.png"]


def test_event_figure_draws_the_metered_power_and_the_baseline(settled, tmp_path, drawn):
    result, tel = settled
    plot_participant_events(result, tel, "site00", "2026-05", tmp_path / "s.png")
    fig = drawn["s.png"]
    axes = [ax for ax in fig.axes if ax.get_lines()]
    assert len(axes) == 2  # one panel per event
    rows = result.performance.sites.query("site_id == 'site00'").set_index("event_id")
    for ax, (event_id, start) in zip(axes, [("e1", "2026-05-25 20:00"), ("e2", "2026-05-27 20:00")],
                                     strict=True):
        i0 = int(tel.index.searchsorted(pd.Timestamp(start, tz="UTC")))
        (line,) = ax.get_lines()
        np.testing.assert_allclose(line.get_ydata(), tel.p_kw[0, i0 - 4 : i0 + 2 + 4])  # event +- 4 steps
        (baseline,) = [c for c in ax.collections if c.get_label() == "baseline (mean)"]
        assert baseline.get_segments()[0][0][1] == pytest.approx(rows.loc[event_id, "baseline_kwh"] / 2.0)
        assert ax.get_title().startswith(f"{event_id} (peak_reduction)")
    total = result.statements.set_index("site_id").loc["site00", "total_usd"]
    assert fig._suptitle.get_text() == f"site00 - 2026-05: {total:,.2f} USD"
    plot_participant_events(result, tel, "site03", "2026-05", tmp_path / "q.png")
    assert [t.get_text() for t in drawn["q.png"].axes[0].texts] == ["no events this month"]


def test_printed_tables_match_the_settlement(settled, tmp_path, console, table_rows):
    result, tel = settled
    render_settlement(result, tel, tmp_path, console)
    text = console.file.getvalue()
    for e in result.performance.events.itertuples(index=False):
        (row,) = table_rows(text, e.event_id)
        assert row[3:6] == ["2", f"{e.committed_kw:,.1f}", f"{e.delivered_kwh:,.1f}"]
    (month,) = table_rows(text, "2026-05")
    agg = result.aggregator.iloc[0]
    assert month[1:] == [f"{agg.revenue_usd:,.2f}", f"{agg.participant_payments_usd:,.2f}",
                         f"{agg.margin_usd:,.2f}"]
    assert "4 statements written" in text and (tmp_path / "statements" / "site03_2026-05.png").exists()
