"""Fixtures of the envelope tests: a hand-computed two-transformer case and a SimBench-derived population."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openvpp.envelopes.scenarios import ScenarioSet


@pytest.fixture
def hand_case() -> dict:
    """Two transformers, two scenarios of 8 three-hour steps; every expected value worked out by hand.

    m = 0.5, P_volt = (40, 100), P_therm = (60, 30) -> headroom m min(P_volt, P_therm) = (20, 15) kW.
    Scenario B is scenario A with 10 kW more net demand; A stands for 3 days, B for 1 day.
    """
    p_a = np.array([[10, 0, -10, -20, -30, -10, 5, 10], [0, -2, -4, -6, -8, -6, -4, 0]], dtype=float)
    p_net = np.stack([p_a, p_a + 10.0], axis=1)  # (2, 2, 8)
    solar = np.array([[5, 5, 7, 10, 10, 6, 5, 5]] * 2, dtype=float)
    daylight = np.zeros((2, 8), dtype=bool)
    daylight[:, 2:6] = True
    return {
        "p_net": p_net,
        "p_volt": np.array([40.0, 100.0]),
        "p_therm": np.array([60.0, 30.0]),
        "m": 0.5,
        "n_sites": np.array([2, 1]),
        "solar": solar,
        "daylight": daylight,
        "day_weights": np.array([3.0, 1.0]),
        # scenario A, by hand
        "raw_a": np.array([[30, 20, 10, 0, -10, 10, 25, 30], [15, 13, 11, 9, 7, 9, 11, 15]], dtype=float),
        "raw_site_a": np.array([[15, 10, 5, 0, -5, 5, 12.5, 15], [15, 13, 11, 9, 7, 9, 11, 15]], dtype=float),
        "med_a": np.array([[10, 10, 5, 5, 5, 5, 10, 10], [10, 10, 10, 9, 7, 9, 10, 10]], dtype=float),
        "ae_kwh": 39.0,  # (2 + 5 + 5 + 1) kW x 3 h
        "re_a": np.array([0.0, 27.0]),  # T1: (2 + 4 + 2 + 1) x 3
        "ac_day_a": np.array([7.5, 9.375]),
        "ac_dl_a": np.array([5.0, 7.25]),
        "vpp_ac_day_a": (2 * 7.5 + 9.375) / 3,
        # weighted lower quantiles of max(C, 0) over both scenarios, levels 100/99/90/80/50 % unconstrained
        "hosting": np.array([[0, 0, 0, 0, 20], [7, 7, 9, 9, 13]], dtype=float),
        "table6": np.array([50, 50, 50, 50, 100, 100, 100], dtype=float),
    }


@pytest.fixture
def hand_scenarios(hand_case) -> ScenarioSet:
    dates = pd.DatetimeIndex(["2021-01-15", "2021-01-16"]).tz_localize("Australia/Adelaide")
    return ScenarioSet(
        names=("A", "B"),
        month=np.array([1, 1]),
        workday=np.array([True, False]),
        heatwave=np.array([False, False]),
        dates=dates,
        day_weights=hand_case["day_weights"],
        n_steps=8,
        sunrise_h=np.array([6.0, 6.0]),
        sunset_h=np.array([18.0, 18.0]),
        daylight=hand_case["daylight"],
        solar_kw=hand_case["solar"],
        location="Adelaide",
        southern=True,
    )


@pytest.fixture(scope="session")
def adelaide_inputs():
    from openvpp.envelopes.scenarios import simbench_scenario_inputs

    return simbench_scenario_inputs(160, "adelaide", seed=3)
