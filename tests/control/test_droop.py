"""The one droop function: hand values, the seed's CPF+ factor, symmetry, and the economics' factor."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

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


def test_same_factor_as_the_economics_catalogue_formula():
    f_levels = np.linspace(49.0, 50.0, 11)
    w = np.full(11, 1 / 11)
    for f0, db, droop in ((50.0, 0.2, 0.007), (60.0, 0.036, 0.05), (50.0, 0.0, 0.04)):
        assert droop_factor(f_levels * f0 / 50.0, w, f0, db, droop) == pytest.approx(
            rem.droop_response_factor(f_levels * f0 / 50.0, w, f0, db, droop), abs=1e-12
        )


def test_dead_band_saturation_and_direction():
    r = droop_response([49.85, 49.8, 49.625, 49.45, 49.0], 50.0, 0.2, 0.007)
    assert np.allclose(r, [0.0, 0.0, 0.5, 1.0, 1.0])
    low = droop_response([50.15, 50.375, 51.0], 50.0, 0.2, 0.007, direction="lower", saturation=0.8)
    assert np.allclose(low, [0.0, 0.5, 0.8])


@given(st.floats(40.0, 70.0), st.floats(0.0, 1.0))
def test_raise_and_lower_mirror_each_other(f0, x):
    dev = x * 0.5 * f0 / 50.0
    a = droop_response(f0 - dev, f0, 0.2, 0.007, "raise")
    b = droop_response(f0 + dev, f0, 0.2, 0.007, "lower")
    assert a == pytest.approx(b, abs=1e-9)
    assert 0.0 <= a <= 1.0


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


@pytest.mark.parametrize(
    "kw",
    [
        {"f_nominal_hz": 0.0},
        {"deadband_hz": -0.1},
        {"droop": 0.0},
        {"droop": 1.5},
    ],
)
def test_bad_settings_are_rejected(kw):
    args = {"f_nominal_hz": 50.0, "deadband_hz": 0.2, "droop": 0.007} | kw
    with pytest.raises(ValidationError):
        droop_response(49.0, **args)


def test_bad_direction_and_nan():
    with pytest.raises(ValidationError, match="direction"):
        droop_response(49.0, 50.0, 0.2, 0.007, direction="up")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="finite"):
        droop_response([np.nan], 50.0, 0.2, 0.007)
    with pytest.raises(ValidationError, match="sum to 1"):
        droop_factor([49.5], [0.5], 50.0, 0.2, 0.007)
    with pytest.raises(ValidationError):
        FrequencyService("x", "raise", 50.0, 0.2, 0.007, activation_s=0.0, delivery_s=1.0)
