"""The demo's report: every file written, figures in PNG, standard JSON, ``report.html`` in a real browser.

The browser test renders ``report.html`` in headless Chromium (Debian's, through Playwright), checks that
every figure loaded and the KPI table is present, and saves a screenshot under ``test-artifacts/report/``.
It skips with the reason where Chromium is absent and ``CI`` is unset; with ``CI=true`` it fails instead.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from openvpp.report.demo import FIGURES, summary_panel, write_demo
from openvpp.studies.demo import run_demo

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "report"


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    result = run_demo(hours=6.0)
    out = tmp_path_factory.mktemp("demo")
    return result, write_demo(result, out), out


@pytest.mark.slow
def test_every_file_is_written(written):
    result, _, out = written
    for name in FIGURES:
        path = out / FIGURES[name][0]
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000, name
    doc = json.loads((out / "summary.json").read_text(), parse_constant=lambda c: pytest.fail(c))
    assert doc["grid_code"] == result.grid_code
    tel = pd.read_parquet(out / "telemetry.parquet")
    assert len(tel) == result.fleet.n_sites * len(result.cosim.telemetry_index)
    kpis = pd.read_parquet(out / "kpis.parquet")
    assert list(kpis["kpi"]) == list(result.kpis["kpi"])
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == len(FIGURES) and 'id="kpi-table"' in html


@pytest.mark.slow
def test_summary_panel_fits_one_screen(written):
    result, _, _ = written
    console = Console(record=True, width=120)
    console.print(summary_panel(result))
    text = console.export_text()
    assert "activation time [s]" in text and "envelope fallback" in text
    assert text.count("\n") < 50


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (make test installs Debian's chromium)")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


@pytest.mark.slow
def test_report_renders_in_a_real_browser(written, browser):
    _, files, _ = written
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    page.goto(files["report"].resolve().as_uri())
    page.wait_for_load_state("load")
    widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
    assert len(widths) == len(FIGURES) and all(w > 0 for w in widths), widths
    rows = page.eval_on_selector_all("#kpi-table tbody tr", "rs => rs.length")
    assert rows >= 10
    assert page.inner_text("#kpi-table thead").split()[:2] == ["event", "kpi"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo_report.png"), full_page=True)
    page.close()
    assert not errors, errors
