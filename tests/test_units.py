"""Units and the single sign convention (load convention: + = drawn from the grid)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from openvpp import units
from openvpp.der.battery import Battery, BatteryParams
from openvpp.errors import ValidationError


def test_conversions_round_trip():
    assert units.kw_to_mw(2500.0) == pytest.approx(2.5)
    assert units.mw_to_kw(units.kw_to_mw(123.4)) == pytest.approx(123.4)
    assert units.w_to_kw(5000) == pytest.approx(5.0)
    assert units.minutes_to_hours(15) == pytest.approx(0.25)
    assert units.energy_kwh(4.0, 0.25) == pytest.approx(1.0)


@given(st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=1, max_size=50))
def test_split_import_export_closes(values):
    p = np.array(values)
    imp, exp = units.split_import_export(p)
    assert np.all(imp >= 0) and np.all(exp >= 0)
    assert np.all((imp == 0) | (exp == 0))
    np.testing.assert_allclose(imp - exp, p)


def test_generation_and_load_conventions_are_opposite():
    p_gen = np.array([0.0, 1.5, 3.0])
    assert np.all(units.generation_to_load(p_gen) <= 0)
    np.testing.assert_array_equal(units.load_to_generation(units.generation_to_load(p_gen)), p_gen)


def test_power_factor_by_hand():
    # tan(acos(0.98)) = sqrt(1 - 0.9604) / 0.98 = 0.198997 / 0.98 = 0.2030587
    q = units.q_from_power_factor(10.0, 0.98)
    assert q == pytest.approx(2.030587, rel=1e-6)
    assert units.q_from_power_factor(10.0, 0.98, inductive=False) == pytest.approx(-q)
    with pytest.raises(ValidationError, match="power_factor"):
        units.q_from_power_factor(1.0, 1.2)


def test_battery_follows_the_load_convention():
    """Charging is positive (energy rises), discharging negative (energy falls)."""
    params = BatteryParams(device_id=["b"], soc0=0.5, eta_charge=0.9, eta_discharge=0.8)
    e0 = 0.5 * 13.5
    res = Battery(params).simulate(np.array([[2.0]]), dt_h=1.0)
    # by hand: 2 kW for 1 h at 90 % one-way efficiency stores 1.8 kWh
    assert res.p_kw[0, 0] == pytest.approx(2.0)
    assert res.e_kwh[0, 0] == pytest.approx(e0 + 1.8, abs=1e-6)
    res = Battery(params).simulate(np.array([[-2.0]]), dt_h=1.0)
    # by hand: delivering 2 kWh at the meter at 80 % one-way efficiency draws 2.5 kWh from storage
    assert res.p_kw[0, 0] == pytest.approx(-2.0)
    assert res.e_kwh[0, 0] == pytest.approx(e0 - 2.5, abs=1e-6)
