"""The pilot study: rule-based plan, STO2 CPF activation with the default delays, STO3 island, the sweep."""

from __future__ import annotations

import numpy as np
import pytest

from openvpp.errors import ValidationError
from openvpp.studies.pilot import frequency_kpis, pilot_plan, run_pilot, sweep

GRID = "1-LV-rural1--2-sw"
DAY = "2016-03-16"


@pytest.fixture(scope="module")
def fleet():
    from openvpp.fleet import from_simbench

    return from_simbench(GRID, seed=0)


def test_bad_inputs_are_rejected_before_any_work():
    with pytest.raises(ValidationError, match="--day"):
        run_pilot(day="2016-02-30")
    with pytest.raises(ValidationError, match="--scenario"):
        run_pilot(scenarios=("nope",))
    with pytest.raises(ValidationError, match="at least one"):
        run_pilot(scenarios=())


@pytest.mark.slow
def test_plan_follows_the_capacity_allocation(fleet):
    plan = pilot_plan(fleet, DAY)
    bat = plan.device_class == "battery"
    p_dis = -plan.p_min_kw[bat, 0]
    assert np.allclose(plan.reserve_up_kw[0, bat, 0], 0.5 * p_dis)  # CPF+ 50 %
    h = plan.index.hour
    assert np.allclose(plan.reserve_up_kw[2][np.ix_(bat, h == 20)], 0.3 * p_dis[:, None])  # peak 30 %
    assert np.all(plan.reserve_up_kw[2][:, h == 12] == 0)
    assert np.allclose(plan.soc_baseline[bat], 0.5)


@pytest.mark.slow
def test_pilot_meets_cpf_10_s_and_runs_the_island(fleet):
    res = run_pilot(GRID, DAY, ("underfrequency", "chile_dip", "outage"), fleet=fleet, with_sweep=False)
    k = res.kpis
    assert bool(k.loc["underfrequency", "cpf_10s_met"]) and bool(k.loc["chile_dip", "cpf_10s_met"])
    assert k.loc["underfrequency", "delivered_share"] > 0.9
    assert k.loc["outage", "balance_error_kwh"] < 1e-6
    assert k.loc["outage", "saidi_with_h"] <= k.loc["outage", "saidi_without_h"]
    assert res.delays["max_s"] <= 5.0
    doc = res.to_dict()
    assert doc["kpis"][0]["scenario"] == "underfrequency" and "island" in doc


@pytest.mark.slow
def test_kpis_degrade_monotonically_with_delay_and_drop_out(fleet):
    plan = pilot_plan(fleet, DAY)
    from openvpp.sim.scenarios import load_scenario

    sc = load_scenario("chile_dip").resolve(plan, plan.index[0].normalize(), 50.0)
    sw = sweep(plan, sc, delays_s=(0.5, 2.0, 8.0), drops=(0.0, 0.5))
    for _, grp in sw.groupby("drop_prob"):
        act = grp.sort_values("median_delay_s")["activation_s"].to_numpy()
        assert np.all(np.diff(act) >= 0)
    for _, grp in sw.groupby("median_delay_s"):
        g = grp.sort_values("drop_prob")
        assert np.all(np.diff(g["mae_norm"].to_numpy()) >= -1e-9)
    assert frequency_kpis.__doc__
