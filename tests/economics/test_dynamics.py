"""System dynamics against seed 000 §6.2 and its own stock-flow balance.

Three parameters are calibrated, one target each (docs/economics.md): the migration response to housing
(end population 57,569), the adoption rate (~790 accelerated clients) and the capital per initial client
(conservative payback 3.7 years). Tests of those targets only check that the bundled calibration still
reaches them (``test_calibrated_*``); they validate nothing. Every other outcome is a prediction.
"""

from __future__ import annotations

import numpy as np
import pytest

from openvpp.economics import dynamics
from openvpp.errors import ValidationError


@pytest.fixture(scope="module")
def runs():
    return dynamics.run_scenarios()


def test_calibrated_population_end_value(runs):
    # calibration target, seed 000 §6.2.2.2: 60,000 -> 57,569 after ten years
    pop = runs["conservative"].frame["population"]
    assert pop.iloc[0] == 60000
    assert pop.iloc[-1] == pytest.approx(57569, rel=0.01)


def test_constant_rates_alone_would_not_reach_57569():
    # SEEDS.md hand check: net -2.4 %/yr without the housing response gives ~47,000
    p = dynamics.load_dynamics_params(migration_housing_elasticity=0.0)
    end = dynamics.run_dynamics(0.0, p).frame["population"].iloc[-1]
    assert end == pytest.approx(60000 * 0.976**10, rel=1e-9)
    assert end < 48000


def test_calibrated_conservative_payback(runs):
    # calibration target: the capital per initial client is fitted to this payback
    assert runs["conservative"].payback_years == pytest.approx(3.7, abs=0.3)


def test_predicted_accelerated_cumulative_margin_above_800k(runs):
    # a prediction (nothing was fitted to it): seed 000 Fig. 12 reports > 800,000 USD by year ten
    acc = runs["accelerated"]
    assert acc.frame["cumulative_margin_usd"].iloc[-1] > 800_000
    # the accelerated scenario pays back earlier (seed: between years 2 and 3; conservative ~3.7)
    assert acc.payback_years < runs["conservative"].payback_years


def test_shape_of_figs_11_12(runs):
    for r in runs.values():
        f = r.frame.iloc[1:]
        assert (np.diff(f["revenue_usd"]) > 0).all()  # revenue grows every year
        cost = f["cost_usd"].to_numpy()
        assert (np.diff(cost[:5]) > 0).all() and cost[5] < cost[4]  # rises for five years, drops in year six
        assert f["margin_usd"].iloc[0] < 0  # both scenarios start with a negative margin
    # calibration target (adoption rate), not a validation
    assert runs["accelerated"].frame["clients"].iloc[-1] == pytest.approx(800, rel=0.05)


def test_stocks_balance_their_flows(runs):
    f = runs["accelerated"].frame
    d_pop = f["population"].diff().iloc[1:]
    flows = (f["births"] + f["immigration"] - f["deaths"] - f["emigration"]).iloc[1:]
    assert np.allclose(d_pop, flows)
    assert np.allclose(f["housing"].iloc[1:].to_numpy(), f["housing"].iloc[:-1].to_numpy() * 1.055)
    assert np.allclose(f["batteries"], f["clients"])


def test_bundled_calibration_is_reproducible():
    fit = dynamics.calibrate_dynamics()
    p = dynamics.load_dynamics_params()
    assert fit["migration_housing_elasticity"] == pytest.approx(p.migration_housing_elasticity, rel=1e-3)
    assert fit["adoption_rate"] == pytest.approx(p.adoption_rate, rel=1e-3)
    assert fit["capital_usd_per_initial_client"] == pytest.approx(p.capital_usd_per_initial_client, rel=1e-3)


def test_land_limit_slows_housing():
    free = dynamics.run_dynamics(150, dynamics.load_dynamics_params()).frame["housing"].iloc[-1]
    limited = dynamics.run_dynamics(150, dynamics.load_dynamics_params(houses_max=20000)).frame["housing"]
    assert limited.iloc[-1] < free and limited.max() <= 20000


def test_bad_parameters():
    with pytest.raises(ValidationError, match="birth_rate"):
        dynamics.load_dynamics_params(birth_rate=-0.1)
    with pytest.raises(ValidationError, match="unknown"):
        dynamics.load_dynamics_params(nonsense=1.0)
    with pytest.raises(ValidationError, match="initial_clients"):
        dynamics.run_dynamics(-5)
