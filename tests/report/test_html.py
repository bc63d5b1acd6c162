"""The self-contained HTML report: figures embedded as base64 PNG, the KPI table, escaping, bad input."""

from __future__ import annotations

import base64

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import pytest

from openvpp.errors import ValidationError
from openvpp.report import save_figure
from openvpp.report.html import Card, Figure, Section, TableBlock, fmt_number, render_html


@pytest.fixture
def png(tmp_path):
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    return save_figure(fig, tmp_path / "f.png")


def test_report_embeds_figures_tables_and_kpis(tmp_path, png):
    kpis = pd.DataFrame(
        {
            "event": ["a", "b"],
            "kpi": ["x [s]", "y [-]"],
            "value": [5.0, 2.0],
            "bound": ["<= 10", "<= 1"],
            "within": [True, False],
            "source": ["seed 000 §6.1", "s"],
        }
    )
    out = render_html(
        tmp_path / "r.html",
        "T <script>",
        cards=[Card("sites", "13", "SimBench")],
        kpis=kpis,
        sections=[
            Section(
                "s1",
                "One",
                "seed 000 §9",
                "text & more",
                tables=[TableBlock(pd.DataFrame({"k": ["v"], "n": [1234.5]}), "cap")],
                figures=[Figure(png, "a figure")],
            )
        ],
    )
    html = out.read_text()
    assert 'id="kpi-table"' in html and html.count('<tr class="fail">') == 1
    assert base64.b64encode(png.read_bytes()).decode() in html  # the PNG itself, not a link
    assert "<script>" not in html and "T &lt;script&gt;" in html and "text &amp; more" in html
    assert "seed 000 §6.1" in html and "seed 000 §9" in html and "1,234" in html
    assert "http://" not in html and "https://" not in html  # nothing to fetch


def test_bad_inputs_are_refused(tmp_path, png):
    with pytest.raises(ValidationError, match="html"):
        render_html(tmp_path / "r.txt", "T")
    bad = tmp_path / "x.png"
    bad.write_text("not a png")
    with pytest.raises(ValidationError, match="PNG"):
        render_html(tmp_path / "r.html", "T", sections=[Section("s", "S", figures=[Figure(bad, "c")])])
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(
    "v, text",
    [
        (0.0, "0"),
        (1234.56, "1,235"),
        (12.345, "12.3"),
        (0.5, "0.500"),
        (float("nan"), ""),
        (3, "3"),
        (True, "yes"),
        (0.001, "1.00e-03"),
    ],
)
def test_fmt_number(v, text):
    assert fmt_number(v) == text
