"""Capacity metrics and hosting capacity against hand calculations and a brute-force weighted sort."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvpp.envelopes.metrics import (
    available_energy_kwh,
    average_available_capacity_kw,
    hosting_capacity_kw,
    hosting_table,
    released_energy_kwh,
    vpp_average,
    weighted_lower_quantiles,
)
from openvpp.errors import ValidationError


def test_metrics_match_the_hand_calculation(hand_case):
    h = hand_case
    med = h["med_a"][:, None, :]
    s, d = h["solar"][:1], h["daylight"][:1]
    assert available_energy_kwh(s, d)[0] == pytest.approx(h["ae_kwh"])
    np.testing.assert_allclose(released_energy_kwh(med, s, d)[:, 0], h["re_a"])
    ac_day, ac_dl = average_available_capacity_kw(med, s, d)
    np.testing.assert_allclose(ac_day[:, 0], h["ac_day_a"])
    np.testing.assert_allclose(ac_dl[:, 0], h["ac_dl_a"])
    assert vpp_average(ac_day, h["n_sites"])[0] == pytest.approx(h["vpp_ac_day_a"])


def test_hosting_capacity_matches_the_hand_calculation(hand_case):
    h = hand_case
    raw = h["p_net"] + np.array([20.0, 15.0])[:, None, None]
    got = hosting_capacity_kw(raw, h["day_weights"])
    np.testing.assert_array_equal(got, h["hosting"])
    np.testing.assert_allclose(hosting_table(got[:, 0]), h["table6"])


def _brute(x, w, qs):
    out = []
    for row in x:
        o = np.argsort(row, kind="stable")
        v, c, wo = row[o], np.cumsum(w[o]), w[o]
        out.append([v[(c >= q * c[-1]) & (wo > 0)][0] for q in qs])
    return np.array(out)


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 12), st.integers(1, 120), st.integers(0, 2**31 - 1), st.integers(1, 40))
def test_weighted_quantiles_equal_a_full_weighted_sort(n_rows, n, seed, n_bins):
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=(n_rows, n)) * rng.choice([0.01, 1.0, 100.0]), 1)  # many ties
    w = rng.integers(0, 6, size=n).astype(float)
    w[rng.integers(n)] = 1.0
    qs = [0.0, 0.01, 0.1, 0.2, 0.5, 0.9, 1.0]
    np.testing.assert_array_equal(weighted_lower_quantiles(x, w, qs, n_bins=n_bins), _brute(x, w, qs))


def test_skewed_rows_take_the_refinement_path():
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(0, 1e-3, size=(4, 5000)), rng.normal(-50, 10, size=(4, 200))], axis=1)
    w = rng.integers(1, 20, size=x.shape[1]).astype(float)
    qs = [0.0, 0.02, 0.1, 0.5]
    np.testing.assert_array_equal(weighted_lower_quantiles(x, w, qs), _brute(x, w, qs))


def test_quantile_inputs_are_validated():
    with pytest.raises(ValidationError, match="weights"):
        weighted_lower_quantiles(np.zeros((1, 3)), [0.0, 0.0, 0.0], [0.5])
    with pytest.raises(ValidationError, match="day_weights"):
        hosting_capacity_kw(np.zeros((1, 2, 3)), [1.0])


