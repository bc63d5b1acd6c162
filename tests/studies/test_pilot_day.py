"""Stages of the demo that need no SimBench grid: envelopes honoured by PV curtailment (hand calculation)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openvpp.schedule.plan import Plan
from openvpp.studies.pilot_day import honour_envelopes


def _plan() -> Plan:
    """Two sites, one 15-min step. Site 0: PV -6 kW and a 1 kW load (exports 5); site 1: PV -2, load 3."""
    index = pd.date_range("2016-06-15 12:00", periods=1, freq="15min", tz="UTC")
    n, t = 3, 1
    return Plan(
        index=index,
        device_ids=np.array(["pv0", "pv1", "bat1"], dtype=object),
        device_class=np.array(["pv", "pv", "battery"], dtype=object),
        site_of_device=np.array([0, 1, 1]),
        site_ids=np.array(["s0", "s1"]),
        services=("cpf_plus",),
        p_baseline_kw=np.array([[-6.0], [-2.0], [0.0]]),
        reserve_up_kw=np.zeros((1, n, t)),
        reserve_down_kw=np.zeros((1, n, t)),
        service_duration_h=np.array([0.25]),
        soc_baseline=np.array([[np.nan, np.nan], [np.nan, np.nan], [0.5, 0.5]]),
        soc_min=np.array([[np.nan], [np.nan], [0.0]]),
        soc_max=np.array([[np.nan], [np.nan], [1.0]]),
        e_max_kwh=np.array([np.nan, np.nan, 10.0]),
        site_p_kw=np.array([[-5.0], [1.0]]),
        site_export_limit_kw=np.full((2, t), np.inf),
        site_import_limit_kw=np.full((2, t), np.inf),
        p_min_kw=np.array([[-6.0], [-2.0], [-5.0]]),
        p_max_kw=np.array([[0.0], [0.0], [5.0]]),
        meta={},
    )


def test_pv_is_curtailed_to_the_envelope_by_hand():
    plan = _plan()
    out = honour_envelopes(plan, np.array([[1.5], [np.inf]]))
    # site 0 exports 5 kW against 1.5: 3.5 kW of its PV is cut (-6 -> -2.5); site 1 imports: untouched
    assert out.p_baseline_kw[:, 0] == pytest.approx([-2.5, -2.0, 0.0])
    assert out.site_p_kw[:, 0] == pytest.approx([-1.5, 1.0])
    assert out.p_min_kw[0, 0] == pytest.approx(-2.5)  # the controller may not exceed the curtailed PV
    assert out.meta["pv_curtailed_kwh"] == pytest.approx(3.5 * 0.25)
    assert out.site_export_limit_kw[0, 0] == 1.5


def test_a_limit_below_the_load_cannot_be_met_by_pv_alone():
    plan = _plan()
    # site 0 asked to export at most 0 kW: all 6 kW of PV would have to go, but the load is 1 kW so 5 suffice
    out = honour_envelopes(plan, np.array([[0.0], [0.0]]))
    assert out.p_baseline_kw[0, 0] == pytest.approx(-1.0) and out.site_p_kw[0, 0] == pytest.approx(0.0)
    assert out.site_p_kw[1, 0] == pytest.approx(1.0)
