"""The droop characteristic: dead band, saturation, direction, symmetry, bad settings."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from openvpp.errors import ValidationError
from openvpp.services.droop import droop_factor, droop_response


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
