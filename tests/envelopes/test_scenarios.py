"""The 25 day-type scenarios and the SimBench-derived inputs (envelopes/scenarios.py, seed 001 Table 1)."""

from __future__ import annotations

import numpy as np

import openvpp.data.simbench as simbench_data
from openvpp.envelopes.scenarios import _simbench_profiles, make_scenario_set, season_of


def test_scenario_calendar_has_25_day_types():
    sc = make_scenario_set("santiago", year=2021)
    assert sc.n_scenarios == 25 and sc.day_weights.sum() == 365
    assert sc.names[-1] == "heatwave" and sc.heatwave.sum() == 1
    jan, jul = sc.names.index("Jan-workday"), sc.names.index("Jul-workday")
    assert sc.sunset_h[jan] - sc.sunrise_h[jan] > sc.sunset_h[jul] - sc.sunrise_h[jul] + 3  # southern summer
    assert season_of(7, southern=True) == "Winter" and season_of(1, southern=False) == "Winter"


def test_simbench_is_read_through_openvpp_data(monkeypatch):
    """The profiles come from openvpp.data (the one reader): refusing its loader refuses the scenarios."""
    calls = []
    real = simbench_data._read_simbench_net.__wrapped__

    def spy(code):
        calls.append(code)
        return real(code)

    _simbench_profiles.cache_clear()
    monkeypatch.setattr(simbench_data, "_read_simbench_net", spy)
    prof = _simbench_profiles("1-LV-rural1--2-sw")
    _simbench_profiles.cache_clear()
    assert calls == ["1-LV-rural1--2-sw"]
    assert prof["load_kw"].shape[0] == 366 * 96 and np.all(prof["pv_per_kwp"] >= 0)
