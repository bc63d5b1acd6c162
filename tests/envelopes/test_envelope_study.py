"""SimBench-derived scenarios: the seed's qualitative findings, and envelopes for the demo grid."""

from __future__ import annotations

import numpy as np
import pytest

from openvpp.envelopes.daily import simbench_day_envelopes
from openvpp.envelopes.scenarios import make_scenario_set, season_of
from openvpp.envelopes.sweep import ArraySource, run_sweep
from openvpp.studies.envelopes import check_findings, scenario_envelopes


def test_scenario_calendar_has_25_day_types():
    sc = make_scenario_set("santiago", year=2021)
    assert sc.n_scenarios == 25 and sc.day_weights.sum() == 365
    assert sc.names[-1] == "heatwave" and sc.heatwave.sum() == 1
    jan, jul = sc.names.index("Jan-workday"), sc.names.index("Jul-workday")
    assert sc.sunset_h[jan] - sc.sunrise_h[jan] > sc.sunset_h[jul] - sc.sunrise_h[jul] + 3  # southern summer
    assert season_of(7, southern=True) == "Winter" and season_of(1, southern=False) == "Winter"


def test_seed_findings_hold_on_simbench_scenarios(adelaide_inputs):
    inp = adelaide_inputs
    src = ArraySource(inp.p_net_kw, inp.p_volt_kw, inp.p_therm_kw, inp.n_sites)
    sweep = run_sweep(src, inp.scenarios)
    findings = check_findings(sweep, inp.scenarios)
    for f in findings:
        print(f"{f.statement}: {'holds' if f.holds else 'FAILS'} -- {f.detail}")
    assert [f.holds for f in findings] == [True, True, True]
    # mediated limits stay in the band and the seed's ordering of seasons appears in the data
    assert np.all((sweep.mediated_per_site_kw >= 5.0) & (sweep.mediated_per_site_kw <= 10.0))
    env = scenario_envelopes(inp, "Jul-workday")
    assert env.n_subjects == inp.n_transformers and env.n_intervals == 288


def test_demo_grid_envelopes():
    day = simbench_day_envelopes("1-LV-rural1--2-sw", "2016-06-15", step_min=15)
    env = day.envelopes
    assert env.n_intervals == 96 and env.kind == "site"
    assert np.all((day.site_export_kw >= 5.0) & (day.site_export_kw <= 10.0))
    # the engine equation, checked independently on the node
    np.testing.assert_allclose(day.raw_kw[0], 0.8 * 160.0 + day.p_net_kw[0])
    midday = day.index.hour == 13
    assert day.raw_kw[0][midday].mean() < day.raw_kw[0][~midday].mean()
    with pytest.raises(Exception, match="2016"):
        simbench_day_envelopes(day="2019-01-01")
