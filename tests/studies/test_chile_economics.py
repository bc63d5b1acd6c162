"""Economics studies and their CLI commands: results, JSON and PNG figures."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from openvpp.cli import app
from openvpp.studies.chile_economics import run_dynamics_study, run_economics, run_potential_study
from openvpp.studies.csiro_finance import run_finance_study


def test_economics_study_osorno():
    s = run_economics("osorno", mw=(1.0,))
    assert s.revenue_per_mw["ci_activation"] == 0.0
    assert s.cases[1.0].p_ev_hp_mw == 0.0
    json.dumps(s.to_dict(), default=float)


def test_dynamics_reference_case_is_near_the_reported_one():
    # seed 000 §6.2.2.3: 1.8 MW / 210 prosumers -> ~112,000 revenue, ~94,000 cost
    ref = run_dynamics_study().reference_case
    assert ref.p_batteries_mw + ref.p_ev_hp_mw == pytest.approx(1.8, abs=0.05)
    assert ref.revenue_total_usd == pytest.approx(112_000, rel=0.05)
    assert ref.cost_total_usd == pytest.approx(94_000, rel=0.05)


def test_potential_and_finance_studies():
    assert run_potential_study().result.total_gw == pytest.approx(8.0, abs=0.05)
    assert [round(c.npv_usd / 1e6, 2) for c in run_finance_study().cases] == [0.77, 2.46, 2.72]


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
def test_cli_writes_figures(tmp_path, args, files):
    res = CliRunner().invoke(app, ["study", *args, "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    for f in files:
        assert (tmp_path / f).stat().st_size > 1000


def test_cli_json_economics():
    res = CliRunner().invoke(app, ["study", "economics", "--site", "osorno", "--mw", "1", "3", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert set(data["cases"]) == {"1.0", "3.0"}
    assert data["revenue_per_mw_usd"]["peak_reduction"] == pytest.approx(8.37 * 810 * 6)


def test_cli_unknown_site_is_an_openvpp_error():
    from openvpp.errors import ValidationError

    res = CliRunner().invoke(app, ["study", "economics", "--site", "paris"])
    assert isinstance(res.exception, ValidationError) and "site" in str(res.exception)
