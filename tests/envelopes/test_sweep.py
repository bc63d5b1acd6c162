"""The chunked sweep equals the plain functions; the Dask path equals the single-process path."""

from __future__ import annotations

import numpy as np
import pytest

from openvpp.envelopes.scenarios import make_scenario_set
from openvpp.envelopes.sweep import ArraySource, SyntheticSource, run_sweep

FIELDS = (
    "ac_day_kw",
    "ac_dl_kw",
    "re_kwh",
    "hosting_kw",
    "raw_per_site_kw",
    "mediated_per_site_kw",
    "n_sites",
)


def test_sweep_matches_the_hand_case(hand_case, hand_scenarios):
    h = hand_case
    src = ArraySource(h["p_net"], h["p_volt"], h["p_therm"], h["n_sites"])
    res = run_sweep(src, hand_scenarios, m=h["m"], chunk_transformers=1)
    np.testing.assert_allclose(res.ac_day_kw[:, 0], h["ac_day_a"])
    np.testing.assert_allclose(res.ac_dl_kw[:, 0], h["ac_dl_a"])
    np.testing.assert_allclose(res.re_kwh[:, 0], h["re_a"])
    np.testing.assert_array_equal(res.hosting_kw, h["hosting"])
    assert res.ae_kwh[0] == pytest.approx(h["ae_kwh"])
    np.testing.assert_allclose(res.raw_per_site_kw[0], h["raw_a"].sum(axis=0) / 3)
    np.testing.assert_allclose(res.hosting_curve_mw(), h["hosting"].sum(axis=0) / 1000)


@pytest.fixture(scope="module")
def synthetic():
    sc = make_scenario_set("santiago")
    return sc, SyntheticSource(150, sc, seed=7)


def test_chunking_does_not_change_results(synthetic):
    sc, src = synthetic
    a = run_sweep(src, sc, chunk_transformers=150)
    b = run_sweep(src, sc, chunk_transformers=17)
    for f in FIELDS[:4]:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    for f in FIELDS[4:6]:
        np.testing.assert_allclose(getattr(a, f), getattr(b, f), rtol=1e-12)


def test_dask_local_cluster_equals_single_process(synthetic):
    sc, src = synthetic
    single = run_sweep(src, sc, chunk_transformers=32)
    calls = []
    dist = run_sweep(
        src, sc, chunk_transformers=32, workers=2, processes=False, progress=lambda d, t: calls.append((d, t))
    )
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(single, f), getattr(dist, f))
    assert calls[-1] == (5, 5)
