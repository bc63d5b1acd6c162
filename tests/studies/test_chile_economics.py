"""Chile economics studies (openvpp.studies.chile_economics): revenue, dynamics and potential results."""

from __future__ import annotations

import json

import pytest

from openvpp.studies.chile_economics import run_dynamics_study, run_economics, run_potential_study


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


def test_potential_study():
    assert run_potential_study().result.total_gw == pytest.approx(8.0, abs=0.05)


