"""The one droop function: hand values, the seed's CPF+ factor, symmetry, and the economics' factor."""

from __future__ import annotations

import pytest

from openvpp.control.droop import (
    FrequencyService,
    contingency_services,
    cpf_services,
    droop_factor,
    droop_response,
    lag_share,
)
from openvpp.errors import ValidationError
from openvpp.services import remuneration as rem


def test_one_droop_function_serves_control_and_the_economics():
    from openvpp.services import droop as services_droop

    assert droop_response is services_droop.droop_response and droop_factor is services_droop.droop_factor
    # the business model's CPF+ factor goes through the same function: by hand, 0.6857 (seed 000 Table 3)
    assert rem.droop_response_factor([49.7, 49.6, 49.5, 49.4], [0.2, 0.3, 0.3, 0.2], 50.0, 0.2, 0.007) == (
        pytest.approx(0.2 * (0.1 / 0.35) + 0.3 * (0.2 / 0.35) + 0.3 * (0.3 / 0.35) + 0.2, abs=1e-12)
    )


def test_cpf_plus_factor_is_0_6857_with_the_seed_parameters():
    # seed 000 Table 3: +-0.2 Hz band, 0.7 % droop, 49.7/49.6/49.5/49.4 Hz for 20/30/30/20 % of the time.
    # by hand: full scale 0.35 Hz beyond 49.8 Hz -> shares 0.1/0.35, 0.2/0.35, 0.3/0.35, 0.4/0.35 -> 1
    by_hand = 0.2 * (0.1 / 0.35) + 0.3 * (0.2 / 0.35) + 0.3 * (0.3 / 0.35) + 0.2 * 1.0
    plus, _ = cpf_services()
    f = droop_factor(
        [49.7, 49.6, 49.5, 49.4], [0.2, 0.3, 0.3, 0.2], plus.f_nominal_hz, plus.deadband_hz, plus.droop
    )
    assert f == pytest.approx(by_hand, abs=1e-12)
    assert round(f, 4) == 0.6857








def test_nominal_frequency_is_a_parameter():
    plus60 = cpf_services(60.0)[0]
    assert plus60.f_nominal_hz == 60.0
    # 60 Hz: full scale 0.007 x 60 = 0.42 Hz beyond 59.8 Hz
    assert float(plus60.share(59.8 - 0.21)) == pytest.approx(0.5)
    svcs = contingency_services(60.0)
    assert {s.key for s in svcs} == {
        f"fcas_{d}_{t}" for d in ("raise", "lower") for t in ("6s", "60s", "5min")
    }
    assert float(svcs[0].share(60.0 - 0.15)) == 0.0


def test_lag_reaches_90_percent_at_the_response_time():
    assert lag_share(0.0, 1.0, 2.0, 2.0) == pytest.approx(0.9)
    assert lag_share(0.0, 1.0, 1.0, 0.0) == 1.0


def test_a_frequency_service_needs_a_positive_activation_time():
    with pytest.raises(ValidationError):
        FrequencyService("x", "raise", 50.0, 0.2, 0.007, activation_s=0.0, delivery_s=1.0)
