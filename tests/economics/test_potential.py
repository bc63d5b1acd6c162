"""National potential against seed 000 §8.3 and Fig. 22 (values typed here)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from openvpp.economics import potential
from openvpp.errors import ValidationError

SEED_GW = {"battery_medium": 4.36, "battery_low": 1.47, "ev": 1.36, "climatisation": 0.85}


def test_national_potential_reproduces_section_8():
    r = potential.national_potential()
    for k, v in SEED_GW.items():
        assert r.gw[k] == pytest.approx(v, abs=0.02), k
    assert r.total_gw == pytest.approx(8.0, abs=0.05)
    assert r.batteries_per_network == {"medium": 25, "low": 9}  # round(118 x 0.21), round(37 x 0.25)


def test_hosting_share_is_an_input():
    base = potential.national_potential()
    more = potential.national_potential(hosting_share={"medium": 0.30})
    # round(118 x 0.30) = 35 per network
    assert more.gw["battery_medium"] == pytest.approx(34851 * 35 * 5 / 1e6)
    assert more.gw["battery_low"] == base.gw["battery_low"]
    with pytest.raises(ValidationError, match="hosting_share"):
        potential.national_potential(hosting_share={"high": 0.2})
    with pytest.raises(ValidationError, match="hosting_share"):
        potential.batteries_per_network(118, 1.2)


@given(a=st.floats(0, 1), b=st.floats(0, 1))
def test_battery_potential_monotone_in_share(a, b):
    lo, hi = sorted((a, b))
    assert potential.battery_potential_gw(100, 118, lo) <= potential.battery_potential_gw(100, 118, hi)


def test_sensitivity_table_passes_through_the_point_values():
    s = potential.hosting_share_sensitivity(np.array([0.21, 0.25]))
    r = potential.national_potential()
    assert s.loc[0, "battery_medium"] == pytest.approx(r.gw["battery_medium"])
    assert s.loc[1, "battery_low"] == pytest.approx(r.gw["battery_low"])
    # by hand (seed 000 Tables 6-7): at 21 % round(118 x 0.21) = 25 and round(37 x 0.21) = 8 batteries per
    # network of 5 kW; demand side 16.8 GW x 0.348 x (0.232 + 0.145)
    medium, low = 34851 * 25 * 5 / 1e6, 32618 * 8 * 5 / 1e6
    assert s.loc[0, "battery_medium"] == pytest.approx(medium)
    assert s.loc[0, "battery_low"] == pytest.approx(low)
    assert s.loc[0, "total_gw"] == pytest.approx(medium + low + 16.8 * 0.348 * (0.232 + 0.145))
