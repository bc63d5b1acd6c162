"""Constraint engine: raw, per-site and mediated limits, allocation rules."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvpp.envelopes.engine import (
    allocate_sites_kw,
    mediated_kw,
    mediated_limit_kw,
    raw_limit_kw,
    raw_per_site_kw,
)
from openvpp.errors import ValidationError


def test_raw_and_mediated_match_the_hand_calculation(hand_case):
    h = hand_case
    raw = raw_limit_kw(h["p_net"], h["p_volt"], h["p_therm"], h["m"])
    np.testing.assert_allclose(raw[:, 0], h["raw_a"])
    np.testing.assert_allclose(raw[:, 1], h["raw_a"] + 10.0)
    site = raw_per_site_kw(raw, h["n_sites"])
    np.testing.assert_allclose(site[:, 0], h["raw_site_a"])
    np.testing.assert_allclose(mediated_kw(site)[:, 0], h["med_a"])
    np.testing.assert_allclose(
        mediated_limit_kw(h["p_net"], h["p_volt"], h["p_therm"], h["n_sites"], h["m"])[:, 0], h["med_a"]
    )


def test_band_is_a_parameter():
    np.testing.assert_allclose(
        mediated_kw([0.0, 3.0, 7.0, 20.0], floor_kw=1.5, cap_kw=6.0), [1.5, 3.0, 6.0, 6.0]
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"m": 1.2}, "confidence margin"),
        ({"p_volt_kw": [-1.0, 2.0]}, "p_volt_kw must be >= 0"),
        ({"p_therm_kw": [1.0]}, "one value per transformer"),
    ],
)
def test_raw_limit_rejects_bad_inputs(kwargs, match):
    args = {"p_net_kw": np.zeros((2, 3)), "p_volt_kw": [1.0, 2.0], "p_therm_kw": [1.0, 2.0], "m": 0.5}
    args.update(kwargs)
    with pytest.raises(ValidationError, match=match):
        raw_limit_kw(**args)


def test_nan_and_zero_sites_are_rejected():
    with pytest.raises(ValidationError, match="NaN"):
        raw_limit_kw([[np.nan]], [1.0], [1.0])
    with pytest.raises(ValidationError, match="n_sites"):
        raw_per_site_kw([[1.0]], [0])


def test_maxmin_and_proportional_by_hand():
    # node 0 holds sites 0, 1, 2 with capabilities 2, 10, 10 kW; node 1 holds site 3 (5 kW)
    raw = np.array([[20.0, 40.0, -6.0], [4.0, 4.0, 4.0]])
    node = np.array([0, 0, 0, 1])
    der = np.array([2.0, 10.0, 10.0, 5.0])
    mm = allocate_sites_kw(raw, node, "maxmin", der)
    # 20 kW: site 0 capped at 2, the others share 18 -> 9 each; 40 kW > 22: capability + equal surplus 6
    np.testing.assert_allclose(mm[:, 0], [2.0, 9.0, 9.0, 4.0])
    np.testing.assert_allclose(mm[:, 1], [8.0, 16.0, 16.0, 4.0])
    np.testing.assert_allclose(mm[:, 2], [-2.0, -2.0, -2.0, 4.0])
    pr = allocate_sites_kw(raw, node, "proportional", der)
    np.testing.assert_allclose(pr[:, 0], [20 * 2 / 22, 20 * 10 / 22, 20 * 10 / 22, 4.0])
    eq = allocate_sites_kw(raw, node, "equal")
    np.testing.assert_allclose(eq[:, 0], [20 / 3, 20 / 3, 20 / 3, 4.0])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 3), min_size=1, max_size=12),
    st.lists(st.floats(0.5, 20.0), min_size=12, max_size=12),
    st.lists(st.floats(-50.0, 80.0), min_size=4, max_size=4),
    st.sampled_from(["equal", "proportional", "maxmin"]),
)
def test_every_allocation_conserves_the_node_total(nodes, caps, totals, strategy):
    node = np.array(nodes)
    present = np.unique(node)
    raw = np.array(totals)[:, None]
    der = np.array(caps[: node.size])
    x = allocate_sites_kw(raw, node, strategy, der)
    sums = np.bincount(node, weights=x[:, 0], minlength=4)
    np.testing.assert_allclose(sums[present], raw[present, 0], atol=1e-9)
    if strategy == "maxmin":
        # max-min fairness: nobody above its capability while another site of the node is below the level
        for n in present:
            xs, cs = x[node == n, 0], der[node == n]
            if raw[n, 0] >= 0 and raw[n, 0] <= cs.sum():
                assert np.all(xs <= cs + 1e-9)
                level = xs.max()
                assert np.all((np.abs(xs - level) < 1e-9) | (np.abs(xs - cs) < 1e-9))
