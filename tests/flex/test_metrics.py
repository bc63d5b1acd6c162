"""Flexibility metrics tables (openvpp.flex.metrics): conventions, validation, ramp-limited energy."""

from __future__ import annotations

import numpy as np
import pytest

from openvpp.errors import ValidationError
from openvpp.flex.metrics import FlexMetrics, ramp_limited_energy_kwh


def test_load_convention_is_flipped_to_injection():
    m = FlexMetrics.from_load_convention(
        ["b"],
        [-5.0],
        [3.0],
        ramp_down_kw_per_min=[-2.0],
        ramp_up_kw_per_min=[1.0],
        e_absorb_max_kwh=[4.0],
        e_deliver_max_kwh=[6.0],
        q_min_kvar=[-1.0],
        q_max_kvar=[2.0],
        q_ramp_kvar_per_min=[0.5],
        p0_kw=[1.0],
    )
    assert (m.pi_min_kw[0], m.pi_max_kw[0]) == (-3.0, 5.0)
    assert (m.rho_down_kw_per_min[0], m.rho_up_kw_per_min[0]) == (-1.0, 2.0)
    assert (m.eps_min_kwh[0], m.eps_max_kwh[0]) == (-4.0, 6.0)
    assert (m.phi_min_kvar[0], m.phi_max_kvar[0]) == (-2.0, 1.0)
    assert m.pi0_kw[0] == -1.0
    assert m.headroom("pi") == (pytest.approx([-2.0]), pytest.approx([6.0]))


def test_invalid_metrics_name_the_field_and_device():
    with pytest.raises(ValidationError, match=r"pi_min_kw must not exceed pi_max_kw.*'x'"):
        FlexMetrics(
            device_id=["x"],
            pi_min_kw=2.0,
            pi_max_kw=1.0,
            rho_down_kw_per_min=-1,
            rho_up_kw_per_min=1,
            eps_min_kwh=0,
            eps_max_kwh=1,
        )
    with pytest.raises(ValidationError, match="rho_up_kw_per_min must be >= 0"):
        FlexMetrics(
            device_id=["x"],
            pi_min_kw=0.0,
            pi_max_kw=1.0,
            rho_down_kw_per_min=-1,
            rho_up_kw_per_min=-1,
            eps_min_kwh=0,
            eps_max_kwh=1,
        )


def test_ramp_limited_energy_by_hand():
    # 0 -> 4 kW at 2 kW/min over 1 h: 2 min ramp loses 4 kW * 2 min / 2 = 4 kW min
    assert ramp_limited_energy_kwh(0.0, 4.0, 2.0, 1.0) == pytest.approx(4.0 - 4.0 / 60)
    # not reached within 3 min: 0.5 * 1 kW/min * 9 min^2
    assert ramp_limited_energy_kwh(0.0, 100.0, 1.0, 0.05) == pytest.approx(4.5 / 60)
    assert ramp_limited_energy_kwh(3.0, 3.0, np.inf, 2.0) == pytest.approx(6.0)


