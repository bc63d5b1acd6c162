"""Rendering of forecast skill: the rich table rows and the P10 / P50 / P90 figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
from rich.console import Console

from openvpp.forecast.backtest import ForecastSkillStudy
from openvpp.report.forecast import plot_forecast_example, render_forecast_skill, skill_table
from openvpp.timeseries import make_index


def _study() -> ForecastSkillStudy:
    rows = [
        ("load", "all", "weekly", 0.15, 0.27, 0.05, 0.79, 0.18, 0.19, 0.20),
        ("load", "all", "persistence", 0.185, 0.335, 0.065, 0.77, np.nan, np.nan, np.nan),
    ]
    cols = ["quantity", "season", "method", "mae_kw", "rmse_kw", "pinball_kw", "coverage_p10_p90",
            "skill_mae", "skill_rmse", "skill_pinball"]
    table = pd.DataFrame(rows, columns=cols).set_index(["quantity", "season", "method"])
    idx = make_index("2016-06-15", 96, 15, tz="Etc/GMT-1")
    t = np.arange(96)
    p50 = 0.3 + 0.2 * np.sin(t / 96 * 2 * np.pi)
    example = {"load": {"site": "h1", "index": idx, "p10_kw": p50 - 0.1, "p50_kw": p50, "p90_kw": p50 + 0.1,
                        "actual_kw": p50 + 0.05}}
    return ForecastSkillStudy("1-LV-rural1--2-sw", ("2016-06-15",), 14, "weekly", 3, 8, table, example)


def test_skill_table_has_one_row_per_method():
    table = skill_table(_study())
    assert table.row_count == 2
    console = Console(record=True, width=200)
    console.print(table)
    text = console.export_text()
    assert "persistence" in text and "0.150" in text and "0.79" in text
    assert "nan" not in text.lower()  # an undefined skill score prints as "-"


def test_figure_is_written_and_nothing_without_a_folder(tmp_path):
    path = plot_forecast_example(_study(), tmp_path / "f.png")
    assert path.is_file() and path.stat().st_size > 5_000
    assert render_forecast_skill(_study(), out_dir=None, console=None) is None
    out = render_forecast_skill(_study(), out_dir=tmp_path / "o", console=None)
    assert out is not None and out.name == "forecast_skill.png" and out.is_file()
