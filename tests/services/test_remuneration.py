"""Remuneration rules against the hand checks of SEEDS.md (seed 000 Table 3)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from openvpp.errors import ValidationError
from openvpp.services import remuneration as rem
from openvpp.services.catalogue import load_catalogue


@pytest.fixture(scope="module")
def chile():
    return load_catalogue("chile")


def test_droop_factor_hand_check(chile):
    # SEEDS.md: dead band 0.2 Hz, droop 0.7 % -> full scale 0.35 Hz; 0.1/0.35, 0.2/0.35, 0.3/0.35, 1
    by_hand = 0.2 * (0.1 / 0.35) + 0.3 * (0.2 / 0.35) + 0.3 * (0.3 / 0.35) + 0.2 * 1.0
    act = chile["cpf_plus"].rule("activation")
    got = rem.droop_response_factor(act.f_hz, act.time_share, 50.0, 0.2, 0.007)
    assert got == pytest.approx(by_hand) and got == pytest.approx(0.6857, abs=1e-4)
    hours = rem.droop_activation_energy(act.hours_per_year, got)
    # seed 000 Table 3: 5.3 / 2.3 / 7.0 / 2.0 hours affected by the frequency change
    assert np.round(hours, 1).tolist() == [5.3, 2.3, 7.0, 2.0]


@given(
    f=st.lists(st.floats(45.0, 55.0), min_size=1, max_size=6),
    droop=st.floats(0.001, 0.1),
    band=st.floats(0.0, 1.0),
)
def test_droop_factor_is_a_share(f, droop, band):
    w = np.full(len(f), 1.0 / len(f))
    k = rem.droop_response_factor(f, w, 50.0, band, droop)
    assert 0.0 <= k <= 1.0 + 1e-12


def test_direct_cost_and_days():
    assert rem.direct_cost_per_mw_day(5.0, 5.0) == pytest.approx(1000.0 / 365.0)
    assert rem.availability_days(0.98) == 358


def test_negative_price_rejected_naming_the_field():
    with pytest.raises(ValidationError, match="price_usd_per_mwh"):
        rem.capacity_hours(-5.5, 328.0)
    with pytest.raises(ValidationError, match="price_usd_per_kw_month"):
        rem.per_kw_month(-1.0, 810.0, 6)
