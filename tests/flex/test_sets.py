"""Minkowski sums: exact vertex sums, support functions, error bounds (hypothesis properties)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from openvpp.flex import sets

coords = st.floats(-50, 50, allow_nan=False, allow_infinity=False)
clouds = arrays(np.float64, st.tuples(st.integers(3, 8), st.just(2)), elements=coords)


@settings(max_examples=60, deadline=None)
@given(st.lists(clouds, min_size=2, max_size=4), st.integers(0, 2**31 - 1))
def test_minkowski_sum_contains_member_sums_and_adds_support_functions(members, seed):
    total = sets.minkowski_sum(*members)
    dirs = sets.directions_2d(24)
    # support function of the sum = sum of support functions
    assert np.allclose(sets.support(total, dirs), sum(sets.support(m, dirs) for m in members), atol=1e-7)
    # every sum of member points (here random convex combinations) lies inside the sum
    rng = np.random.default_rng(seed)
    for _ in range(5):
        point = sum(rng.dirichlet(np.ones(len(m))) @ m for m in members)
        assert np.all(dirs @ point <= sets.support(total, dirs) + 1e-7)


@settings(max_examples=40, deadline=None)
@given(st.lists(clouds, min_size=2, max_size=5), st.randoms())
def test_aggregation_is_order_independent(members, rnd):
    shuffled = list(members)
    rnd.shuffle(shuffled)
    dirs = sets.directions_2d(16)
    a = sets.support(sets.minkowski_sum(*members), dirs)
    b = sets.support(sets.minkowski_sum(*shuffled), dirs)
    assert np.allclose(a, b, atol=1e-7)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 30), st.just(2)), elements=coords), st.randoms())
def test_interval_group_sums_are_exact_and_order_independent(bounds, rnd):
    lo, hi = np.sort(bounds, axis=1).T
    groups = np.array([rnd.randrange(3) for _ in range(len(lo))])
    glo, ghi = sets.sum_intervals(lo, hi, groups)
    perm = np.array(rnd.sample(range(len(lo)), len(lo)))
    plo, phi = sets.sum_intervals(lo[perm], hi[perm], groups[perm])
    assert np.allclose(glo, plo) and np.allclose(ghi, phi)
    for g in range(glo.size):  # by hand
        assert glo[g] == pytest.approx(lo[groups == g].sum(), abs=1e-9)
        assert ghi[g] == pytest.approx(hi[groups == g].sum(), abs=1e-9)


def test_group_sum_2d_matches_a_loop(rng):
    x = rng.normal(size=(50, 7))
    g = rng.integers(0, 5, 50)
    out = sets.GroupIndex(g, 6).sum(x)
    for k in range(6):
        assert np.allclose(out[k], x[g == k].sum(axis=0))


@settings(max_examples=40, deadline=None)
@given(st.lists(clouds, min_size=1, max_size=6), st.sampled_from([8, 16, 32]))
def test_group_support_outer_inner_sandwich(members, k):
    m = max(len(c) for c in members)
    padded = np.full((len(members), m, 2), np.nan)
    for i, c in enumerate(members):
        padded[i, : len(c)] = c
    dirs = sets.directions_2d(k)
    h, pts = sets.group_support(padded, np.zeros(len(members), dtype=int), dirs)
    exact = sets.minkowski_sum(*members)
    assert np.allclose(h[0], sets.support(exact, dirs), atol=1e-7)
    outer = sets.outer_polygon(h[0], dirs)
    # the outer polygon lies within the a-priori and a-posteriori bounds of the exact sum
    dist = _max_dist_to_polygon(outer, exact)
    radius = 0.5 * np.hypot(*np.ptp(exact, axis=0))
    assert dist <= sets.outer_error_bound(radius, k) + 1e-6
    assert dist <= sets.sandwich_gap(outer, pts[0]) + 1e-6


def _max_dist_to_polygon(points, poly_vertices):
    hull = sets.convex_hull_vertices(poly_vertices)
    if len(hull) < 3:
        a, b = hull[0], hull[-1]
        return max(_seg_dist(p, a, b) for p in points)
    out = 0.0
    for p in points:
        edges = [(hull[i], hull[(i + 1) % len(hull)]) for i in range(len(hull))]
        cross = [(b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) for a, b in edges]
        if all(c >= -1e-9 for c in cross):
            continue
        out = max(out, min(_seg_dist(p, a, b) for a, b in edges))
    return out


def _seg_dist(p, a, b):
    ab = b - a
    den = ab @ ab
    t = 0.0 if den == 0 else np.clip((p - a) @ ab / den, 0, 1)
    return float(np.linalg.norm(p - (a + t * ab)))


def test_the_disk_formula_is_not_a_general_bound():
    # a segment of half-length R: the outer polygon reaches R tan(pi/K), above R (1/cos(pi/K) - 1)
    k, r = 8, 1.0
    dirs = sets.directions_2d(k)
    rot = np.pi / 2 - np.pi / k  # put the segment between two directions
    seg = np.array([[np.cos(rot), np.sin(rot)], [-np.cos(rot), -np.sin(rot)]]) * r
    outer = sets.outer_polygon(sets.support(seg, dirs), dirs)
    dist = _max_dist_to_polygon(outer, seg)
    assert dist > sets.outer_error_bound(r, k, disk=True)
    assert dist == pytest.approx(sets.outer_error_bound(r, k), rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.floats(-10, 10), st.floats(0, 10), st.floats(0.5, 12), st.floats(0, 1), st.floats(0, 1))
def test_pq_support_points_match_a_dense_sample(p_lo, width, s, cap_lo_frac, cap_hi_frac):
    p_hi = p_lo + width
    q_lo, q_hi = -cap_lo_frac * s, cap_hi_frac * s
    if max(p_lo, -s) > min(p_hi, s):
        return
    dirs = sets.directions_2d(16)
    p, q = sets.pq_support_points([p_lo], [p_hi], [q_lo], [q_hi], [s], dirs)
    # the points are feasible
    assert np.all(p[0] >= max(p_lo, -s) - 1e-9) and np.all(p[0] <= min(p_hi, s) + 1e-9)
    assert np.all(q[0] >= q_lo - 1e-9) and np.all(q[0] <= q_hi + 1e-9)
    assert np.all(p[0] ** 2 + q[0] ** 2 <= s**2 * (1 + 1e-9) + 1e-9)
    # and optimal against a dense sample of the region
    pp = np.linspace(max(p_lo, -s), min(p_hi, s), 401)
    qmax = np.minimum(np.sqrt(np.maximum(s**2 - pp**2, 0)), q_hi)
    qmin = np.maximum(-np.sqrt(np.maximum(s**2 - pp**2, 0)), q_lo)
    cloud = np.concatenate([np.column_stack((pp, qmax)), np.column_stack((pp, qmin))])
    h = p[0] * dirs[:, 0] + q[0] * dirs[:, 1]
    assert np.all(h >= sets.support(cloud, dirs) - 1e-9)


def test_coupled_pi_eps_polygon_by_hand():
    # hydro-like unit, 8 MW, 15-min step, 1-h horizon: eps - pi/4 in [0, 6] (seed 003 eq. (1))
    pts = sets.coupled_pi_eps_points([0.0], [8.0], [0.0], [8.0], 0.25, 1.0)[0]
    hull = sets.convex_hull_vertices(pts[~np.isnan(pts[:, 0])])
    expect = {(0.0, 0.0), (8.0, 2.0), (8.0, 8.0), (0.0, 6.0)}
    assert {tuple(np.round(v, 9)) for v in hull} == expect
    # a battery with little energy: max power only for part of the horizon
    pts = sets.coupled_pi_eps_points([-5.0], [5.0], [-2.0], [1.0], 0.25, 2.0)[0]
    ok = pts[~np.isnan(pts[:, 0])]
    assert ok[:, 0].max() <= 4.0 + 1e-9  # 1 kWh in the first 15 min caps pi at 4 kW
    assert ok[:, 1].max() == pytest.approx(1.0)


def test_flat_clouds_are_hulled():
    line = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [0.5, 0.5]])
    assert len(sets.convex_hull_vertices(line)) == 2
    assert len(sets.convex_hull_vertices(np.zeros((3, 2)))) == 1
