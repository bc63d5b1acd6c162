"""`openvpp demo` end to end: study result, rendering, and the command itself."""

from __future__ import annotations

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

from openvpp.errors import ValidationError
from openvpp.report.demo import DEMO_FIGURE, render_demo
from openvpp.studies.demo import DemoResult, run_demo


@pytest.fixture(scope="session")
def demo_result() -> DemoResult:
    return run_demo(grid_code="1-LV-rural1--2-sw", day="2016-06-15", seed=0)


def test_demo_result_is_consistent(demo_result):
    r = demo_result
    assert len(r.index) == 96 and str(r.index[0].date()) == "2016-06-15"
    op = r.operation
    bat_site = r.fleet.devices_to_sites("battery", op.battery.p_kw)
    np.testing.assert_allclose(r.aggregate_with_kw, r.aggregate_without_kw + bat_site.sum(axis=0), atol=1e-9)
    s = r.summary
    assert s.at["import_kwh", "with_battery"] <= s.at["import_kwh", "without_battery"] + 1e-9
    assert s.at["export_kwh", "with_battery"] <= s.at["export_kwh", "without_battery"] + 1e-9
    assert s.at["battery_cycles", "with_battery"] > 0.0
    assert r.counts["sites"] == r.fleet.n_sites and r.counts["battery"] >= 1
    assert set(r.to_dict()) >= {"grid_code", "day", "counts", "summary"}


def test_render_writes_the_png_and_prints_the_table(demo_result, tmp_path):
    console = Console(record=True, width=140)
    path = render_demo(demo_result, out_dir=tmp_path / "out", console=console)
    assert path == tmp_path / "out" / DEMO_FIGURE
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    text = console.export_text()
    assert "energy imported" in text and "battery equivalent full cycles" in text


@pytest.mark.parametrize("day", ["2017-06-15", "June"])
def test_bad_day_is_a_validation_error(day):
    with pytest.raises(ValidationError, match="day"):
        run_demo(day=day)


def test_the_command_runs_end_to_end(demo_result, tmp_path):
    from openvpp.cli import app

    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path), "--day", "2016-06-15"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / DEMO_FIGURE).is_file()
    assert "self-consumption ratio" in result.output


def test_envelope_compliance_by_hand():
    from openvpp.studies.demo import envelope_compliance

    # site 0 exports 8 kW against a 5 kW envelope for one step (3 kW over), site 1 imports
    p = np.array([[-8.0, -4.0], [2.0, 1.0]])
    lim = np.array([[5.0, 5.0], [5.0, 5.0]])
    chk = envelope_compliance(p, lim, dt_h=0.5)
    assert chk["site_steps_above"] == 1 and chk["sites_above"] == 1
    assert chk["energy_above_kwh"] == pytest.approx(1.5)
    assert chk["export_kwh"] == pytest.approx(6.0)
    assert chk["mean_export_limit_kw"] == pytest.approx(5.0)
