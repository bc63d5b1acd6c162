"""Acceptance: both worked cases of seed 003 §4 from the paper's numbers (and from device models)."""

from __future__ import annotations

import numpy as np
import pytest

from openvpp.flex import aggregate, concat_metrics, verify
from openvpp.flex.adapters import metrics_from_dispatchable_generator, metrics_from_variable_generator
from openvpp.studies.flexibility_paper import (
    CASE1_CCP_NAMES,
    case1_metrics,
    case1_request,
    case2_metrics,
    case2_requests,
    run_flexibility_paper,
)


def test_case2_aggregate_is_the_papers():
    a = aggregate(case2_metrics())
    assert (a.vpp_lo["pi"], a.vpp_hi["pi"]) == pytest.approx((0.0, 5.0), abs=1e-12)
    assert (a.vpp_lo["rho"], a.vpp_hi["rho"]) == pytest.approx((-15.4, 9.4), abs=1e-12)
    assert (a.vpp_lo["eps"], a.vpp_hi["eps"]) == pytest.approx((0.0, 5.0), abs=1e-12)


def test_case2_requests_t1_t3_met_t4_not_with_deficits_in_pi_and_eps():
    a = aggregate(case2_metrics())
    results = [verify(r, a) for r in case2_requests()]
    assert [v.ok for v in results] == [True, True, True, False]
    t4 = results[3]
    assert t4.deficit_of("pi") == pytest.approx(1.0)
    assert t4.deficit_of("eps") == pytest.approx(1.0)
    assert t4.deficit_of("rho") == 0.0
    text = " ".join(t4.violations())
    assert "eq. (3)" in text and "eq. (5)" in text and "eq. (4)" not in text


def test_case2_from_the_generator_devices():
    gen = pytest.importorskip("openvpp.der.generator")
    h1 = gen.DispatchableGenerator(
        gen.DispatchableGeneratorParams(device_id=["H1"], on0=True, p0_kw=500.0, **gen.HYDRO_H1_SEED003)
    )
    fc = gen.QuantileForecast(
        p10_kw=np.full((1, 1), 1000.0), p50_kw=np.full((1, 1), 1000.0), p90_kw=np.full((1, 1), 1000.0)
    )
    pv = gen.VariableGenerator(
        gen.VariableGeneratorParams(
            device_id=["PV1"],
            p_max_kw=1000.0,
            ramp_up_kw_per_min=1000.0,
            ramp_down_kw_per_min=1000.0,
            p0_kw=1000.0,
        ),
        fc,
    )
    m = concat_metrics(
        [
            metrics_from_dispatchable_generator(h1, 1.0, 1.0, ccp=0),
            metrics_from_variable_generator(pv, 1.0, 1.0, ccp=1),
        ]
    )
    a = aggregate(m)
    assert (a.vpp_lo["pi"], a.vpp_hi["pi"]) == pytest.approx((0.0, 5.0), abs=1e-9)
    assert (a.vpp_lo["rho"], a.vpp_hi["rho"]) == pytest.approx((-15.4, 9.4), abs=1e-9)
    # energy: ramp trapezoids of eq. (1) shave a few kWh off the paper's rounded [0, 5] MWh;
    # by hand: H1 from 0.5 MW to 4 MW at 8.4 MW/min loses 3.5^2 / (2 * 8.4) / 60 MWh
    assert a.vpp_hi["eps"] == pytest.approx(5.0 - 3.5**2 / (2 * 8.4) / 60, abs=1e-9)
    assert a.vpp_lo["eps"] == pytest.approx(0.5**2 / (2 * 14.4) / 60 + 1.0**2 / (2 * 1.0) / 60, abs=1e-9)
    # from standstill H1 only has its 1.3 MW/min start-up ramp (seed 003 §4.2)
    h0 = gen.DispatchableGenerator(gen.DispatchableGeneratorParams(device_id=["H1"], **gen.HYDRO_H1_SEED003))
    m0 = metrics_from_dispatchable_generator(h0, 1 / 60, 1.0)
    assert m0.rho_up_kw_per_min[0] == pytest.approx(1300.0)
    assert m0.pi_max_kw[0] == pytest.approx(1300.0)


def test_case1_active_met_reactive_grid1_not():
    a = aggregate(case1_metrics("P50"), ccp_names=CASE1_CCP_NAMES)
    v = verify(case1_request(), a)
    frame = v.to_frame().set_index(["metric", "scope"])
    assert frame.loc[("pi", "VPP"), "met"] and frame.loc[("rho", "VPP"), "met"]
    assert not frame.loc[("phi", "grid 1"), "met"] and not frame.loc[("psi", "grid 1"), "met"]
    assert frame.loc[("phi", "grid 2"), "met"] and frame.loc[("psi", "grid 2"), "met"]
    # by hand from §4.1: grid 1 phi = PV +-2 + storage +-0.5; psi up = 1.5 + 0.5
    assert a.interval("phi", 0) == pytest.approx((-2.5, 2.5))
    assert a.interval("psi", 0) == pytest.approx((-3.0, 2.0))
    assert a.interval("pi") == pytest.approx((-1.0, 14.0))
    text = " ".join(v.violations())
    assert "eq. (6)" in text and "eq. (7)" in text and "grid 1" in text and "grid 2" not in text


def test_case1_quantiles_are_ordered_like_table1():
    res = run_flexibility_paper(pq_directions=0).case1
    hi = [res.aggregates[q].vpp_hi["pi"] for q in ("P10", "P50", "P90")]
    assert hi == pytest.approx([18.0, 14.0, 11.0])  # 4+1+10+3, 3+1+8+2, 2+1+7+1
    assert all(not v.ok for v in res.verification.values())  # grid 1 reactive fails at every level


def test_reactive_metrics_are_not_summed_across_ccps():
    a = aggregate(case1_metrics("P50"))
    from openvpp.errors import ValidationError

    with pytest.raises(ValidationError, match="within a CCP"):
        a.interval("phi")
