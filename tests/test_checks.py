"""Shared argument checks: step lengths and random seeds."""

from __future__ import annotations

import numpy as np
import pytest

from openvpp.checks import check_dt, check_seed
from openvpp.errors import ValidationError


@pytest.mark.parametrize("dt_h", [0.25, 1, np.float32(0.5), "0.5"])
def test_check_dt_accepts_positive_hours(dt_h):
    assert check_dt(dt_h) == pytest.approx(float(dt_h))
    assert isinstance(check_dt(dt_h), float)


@pytest.mark.parametrize("dt_h", [0, -0.25, float("nan"), float("inf"), "a quarter", None])
def test_check_dt_rejects_naming_dt_h(dt_h):
    with pytest.raises(ValidationError, match="dt_h must be a positive number of hours"):
        check_dt(dt_h)


def test_check_seed_keeps_whole_numbers_and_generators():
    rng = np.random.default_rng(1)
    assert check_seed(rng) is rng
    assert check_seed(np.int64(7)) == 7 and type(check_seed(np.int64(7))) is int


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True, None])
def test_check_seed_rejects_naming_the_flag(seed):
    with pytest.raises(ValidationError, match=r"^--seed must be a whole number >= 0"):
        check_seed(seed, "--seed")
