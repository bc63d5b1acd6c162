"""Network check of a day: exact power flow summarised against limits."""

from __future__ import annotations

import numpy as np
import pytest

from openvpp.errors import ValidationError
from openvpp.grid.check import check_day, network_for_sites
from openvpp.grid.loaders import simbench_lv


@pytest.fixture(scope="module")
def rural():
    return simbench_lv("1-LV-rural1--2-sw")


def test_check_day_flags_exactly_the_violating_steps(rural):
    n = rural.n_site
    p = np.zeros((n, 3))
    p[:, 1] = -25.0  # every site exports 25 kW: far beyond the 160 kVA transformer
    chk = check_day(rural, p)
    assert chk.steps_violating == 1 and not chk.ok
    assert chk.trafo_loading_max > 1.0
    assert chk.violations["trafo_overload"] == pytest.approx(chk.trafo_loading_max - 1.0)
    # the no-load step sits at the source voltage on every bus
    assert chk.result.v_pu[:, :, 0] == pytest.approx(rural.v_source_pu, abs=1e-9)
    assert check_day(rural, np.zeros((n, 2))).ok


def test_default_reactive_power_follows_the_power_factor(rural):
    p = np.full((rural.n_site, 1), 2.0)
    q = np.full((rural.n_site, 1), 2.0 * np.sqrt(1 - 0.98**2) / 0.98)
    a = check_day(rural, p)
    b = check_day(rural, p, q)
    np.testing.assert_allclose(a.result.v_pu, b.result.v_pu, atol=1e-12)


def test_network_for_sites_orders_and_rejects(rural):
    ids = list(rural.sites["site_id"][:3])[::-1]
    sub = network_for_sites(rural, ids)
    assert list(sub.sites["site_id"]) == ids
    with pytest.raises(ValidationError, match="not connected"):
        network_for_sites(rural, ["nowhere"])
    with pytest.raises(ValidationError, match="v_min_pu"):
        check_day(rural, np.zeros((rural.n_site, 1)), v_min_pu=1.2)


def test_check_day_agrees_with_pandapower(rural, rng):
    from openvpp.grid.powerflow import run_powerflow

    p = rng.uniform(-8.0, 6.0, size=(rural.n_site, 1))
    chk = check_day(rural, p, np.zeros_like(p))
    ref = run_powerflow(rural, p, np.zeros_like(p), engine="pandapower")
    np.testing.assert_allclose(chk.result.v_pu, ref.v_pu, atol=1e-5)
