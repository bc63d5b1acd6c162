"""Envelope figures and tables (openvpp.report.envelopes): the drawn and printed values are the sweep's.

The sweep is the hand-computed two-transformer case of ``tests/envelopes/conftest.py`` (no SimBench load):
m = 0.5, headroom (20, 15) kW, 2 + 1 sites, scenario A (3 days) and B (A + 10 kW, 1 day), 3-h steps.
"""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from rich.table import Table

from openvpp.envelopes.scenarios import ScenarioSet
from openvpp.envelopes.sweep import ArraySource, run_sweep
from openvpp.report.envelopes import (
    hosting_tables,
    keep_whole,
    metrics_table,
    plot_released_energy,
    render_compute,
    render_hosting,
)

P_A = np.array([[10, 0, -10, -20, -30, -10, 5, 10], [0, -2, -4, -6, -8, -6, -4, 0]], dtype=float)
SOLAR = np.array([[5, 5, 7, 10, 10, 6, 5, 5]] * 2, dtype=float)
# by hand: mediated limit per site of T1 (2 sites) and T2 (1 site) in scenario A, clipped to [5, 10] kW
MED_A = np.array([[10, 10, 5, 5, 5, 5, 10, 10], [10, 10, 10, 9, 7, 9, 10, 10]], dtype=float)


@pytest.fixture(scope="module")
def study():
    daylight = np.zeros((2, 8), dtype=bool)
    daylight[:, 2:6] = True
    sc = ScenarioSet(
        names=("A", "B"), month=np.array([1, 1]), workday=np.array([True, False]),
        heatwave=np.array([False, False]),
        dates=pd.DatetimeIndex(["2021-01-15", "2021-01-16"]).tz_localize("Australia/Adelaide"),
        day_weights=np.array([3.0, 1.0]), n_steps=8, sunrise_h=np.array([6.0, 6.0]),
        sunset_h=np.array([18.0, 18.0]), daylight=daylight, solar_kw=SOLAR, location="Adelaide",
        southern=True,
    )
    src = ArraySource(np.stack([P_A, P_A + 10.0], axis=1), np.array([40.0, 100.0]), np.array([60.0, 30.0]),
                      np.array([2, 1]))
    sweep = run_sweep(src, sc, m=0.5, chunk_transformers=1)
    return SimpleNamespace(sweep=sweep, scenarios=sc, findings=[])


def test_profile_figure_draws_the_vpp_average_limits(study, tmp_path, drawn, console, table_rows):
    paths = render_compute(study, "A", tmp_path, console)
    assert [p.name for p in paths] == ["envelopes_profile_A.png"]
    ax = drawn["envelopes_profile_A.png"].axes[0]
    lines = {ln.get_label(): ln for ln in ax.get_lines() if not ln.get_label().startswith("_")}
    hours = np.arange(8) * 3.0
    med = lines["mediated limit per site (VPP average)"]
    np.testing.assert_allclose(med.get_xdata(), hours)
    np.testing.assert_allclose(med.get_ydata(), (2 * MED_A[0] + MED_A[1]) / 3)  # weighted by sites
    np.testing.assert_allclose(lines["solar curve (battery + PV)"].get_ydata(), SOLAR[0])
    # raw limit per site, by hand: headroom (20, 15) kW less net power, shared by the sites; view clipped
    raw_site = np.array([[15, 10, 5, 0, -5, 5, 12.5, 15], [15, 13, 11, 9, 7, 9, 11, 15]])
    np.testing.assert_allclose(lines["raw limit per site (clipped view)"].get_ydata(),
                               np.clip((2 * raw_site[0] + raw_site[1]) / 3, 0, 15))
    assert ax.get_title() == "Adelaide, A, m = 0.5"
    # the summary table: one row per scenario, mediated min and steps at the 5 kW floor
    (row,) = table_rows(console.file.getvalue(), "A")
    assert row[3] == f"{((2 * MED_A[0] + MED_A[1]) / 3).min():.2f}" and row[5] == "0"


def test_hosting_figure_and_tables_by_hand(study, tmp_path, drawn, console, table_rows):
    render_hosting(study, tmp_path, console)
    ax = drawn["envelopes_hosting.png"].axes[0]
    # hosting per transformer at 100/99/90/80/50 % unconstrained: (0, 0, 0, 0, 20) and (7, 7, 9, 9, 13) kW
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights, np.array([7, 7, 9, 9, 33]) / 1000)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["100 %", "99 %", "90 %", "80 %", "50 %"]
    text = console.file.getvalue()
    curve, table6 = table_rows(text, "100 %")[0], table_rows(text, "50.0 %")[0]
    assert curve[1:] == ["0.01", "1.00"]  # 7 kW = 0.007 MW
    assert table6 == ["50.0 %", "50.0 %", "50.0 %", "50.0 %", "100.0 %", "100.0 %", "100.0 %"]
    a, b = hosting_tables(study.sweep)
    assert list(a.columns[1].cells)[-1] == "0.03" and list(a.columns[2].cells)[-1] == f"{33 / 7:.2f}"
    assert len(b.columns) == 7


def test_metrics_table_and_released_energy(study, tmp_path, drawn, console, table_rows):
    console.print(metrics_table(study.sweep, study.scenarios))
    (row,) = table_rows(console.file.getvalue(), "A")
    # AE = (2 + 5 + 5 + 1) kW x 3 h; RE per site = (2 x 0 + 27) / 3; AC_day = (2 x 7.5 + 9.375) / 3
    assert row[1:5] == ["3", "39.0", "9.0", f"{(2 * 7.5 + 9.375) / 3:.2f}"]
    plot_released_energy(study.sweep, study.scenarios, tmp_path / "re.png")
    bars = drawn["re.png"].axes[0].patches
    assert bars[0].get_height() == pytest.approx((2 * 0.0 + 1 * 27.0) / 1000)  # MWh per day, scenario A
    np.testing.assert_allclose([b.get_height() for b in bars],
                               study.sweep.n_sites @ study.sweep.re_kwh / 1000)


def test_key_columns_are_never_cut():
    t = Table()
    for c in ("scenario", "value"):
        t.add_column(c)
    t.add_row("Sep-non-workday", "10382.123456789")
    buf = io.StringIO()
    Console(file=buf, width=32).print(keep_whole(t, 0))
    text = buf.getvalue()
    assert "Sep-non-workday" in text and "…" not in text
    cells = "".join(line.split("│")[2] for line in text.splitlines() if line.count("│") == 3)
    assert cells.replace(" ", "") == "10382.123456789"  # folded over lines, every digit kept

