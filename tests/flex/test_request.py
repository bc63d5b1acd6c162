"""Flexibility requests and their verification (openvpp.flex.request): builders, margins, violations."""

from __future__ import annotations

import pytest

from openvpp.errors import ValidationError
from openvpp.flex.aggregate import aggregate
from openvpp.flex.metrics import FlexMetrics
from openvpp.flex.request import (
    Need,
    dispatch_requests,
    regulation_band_request,
    verify,
    voltage_support_request,
)


def test_request_builders():
    reqs = dispatch_requests([4.0, 6.0], 1.0, ramp_window_min=2.0, variability_mw_per_min=0.5)
    assert reqs[1].needs[1].lo == pytest.approx(-0.5) and reqs[1].needs[1].hi == pytest.approx(1.5)
    band = regulation_band_request(2.0, 4.0, 0.5, baseline_mw=1.0)
    assert [(n.metric, n.lo, n.hi) for n in band.needs] == [
        ("pi", -1.0, 3.0),
        ("rho", -0.5, 0.5),
        ("eps", -0.5, 1.5),
    ]
    v = voltage_support_request(0, 1.0, (-0.2, 0.2))
    assert {n.metric for n in v.needs} == {"phi", "psi"} and all(n.ccp == 0 for n in v.needs)
    with pytest.raises(ValidationError, match="must name a CCP"):
        Need("phi", 0.0, 1.0)


def test_band_needs_must_be_covered_on_both_sides():
    m = FlexMetrics(
        device_id=["g"],
        pi_min_kw=0.0,
        pi_max_kw=3000.0,
        rho_down_kw_per_min=-500.0,
        rho_up_kw_per_min=500.0,
        eps_min_kwh=0.0,
        eps_max_kwh=3000.0,
    )
    a = aggregate(m)
    v = verify(regulation_band_request(1.0, 1.0, 1.0, baseline_mw=0.5), a)
    frame = v.to_frame().set_index("metric")
    assert frame.loc["pi", "margin_down"] == pytest.approx(-0.5)  # cannot absorb 0.5 MW
    assert frame.loc["rho", "deficit"] == pytest.approx(0.5)
    assert not v.ok
    assert any("downward" in line and "eq. (3)" in line for line in v.violations())
