"""Aggregation per CCP and VPP (openvpp.flex.aggregate): P-Q regions and coupled (pi, eps) polygons."""

from __future__ import annotations

import numpy as np

from openvpp.flex import sets
from openvpp.flex.aggregate import EXACT_POLYGON_LIMIT, aggregate
from openvpp.flex.metrics import FlexMetrics


def test_pq_regions_of_inverters_are_sandwiched(rng):
    n = 200
    s = rng.uniform(3, 6, n)
    m = FlexMetrics(
        device_id=[f"d{i}" for i in range(n)],
        pi_min_kw=-s * rng.uniform(0, 1, n),
        pi_max_kw=s * rng.uniform(0, 1, n),
        rho_down_kw_per_min=-1.0,
        rho_up_kw_per_min=1.0,
        eps_min_kwh=-1.0,
        eps_max_kwh=1.0,
        s_max_kva=s,
        ccp=rng.integers(0, 3, n),
    )
    a = aggregate(m, pq_directions=64)
    assert a.pq is not None
    assert np.all(a.pq.gap <= a.pq.bound + 1e-9)
    # the summed support points satisfy the summed circle: |P|, |Q| <= sum of ratings
    for i, c in enumerate(a.ccp_codes):
        total_s = s[m.ccp == c].sum() / 1000
        assert np.all(np.hypot(a.pq.inner[i, :, 0], a.pq.inner[i, :, 1]) <= total_s + 1e-9)
        status, _ = a.pq.contains(i, 0.0, 0.0)
        assert status == "inside"
        status, margin = a.pq.contains(i, 2 * total_s, 0.0)
        assert status == "outside" and margin < 0


def test_coupled_pi_eps_polygons_of_a_large_fleet_match_the_exact_sum(rng):
    # more devices than EXACT_POLYGON_LIMIT: polygons come from support functions; check them against the
    # exact Minkowski sum (vertex sums + hull) of the devices' coupled (pi, eps) sets
    n = EXACT_POLYGON_LIMIT + 16
    p = rng.uniform(1.0, 5.0, n)
    e = rng.uniform(0.5, 10.0, n)
    m = FlexMetrics(
        device_id=[f"b{i}" for i in range(n)],
        pi_min_kw=-p,
        pi_max_kw=p,
        rho_down_kw_per_min=-1.0,
        rho_up_kw_per_min=1.0,
        eps_min_kwh=-e,
        eps_max_kwh=e,
        horizon_h=2.0,
        ccp=rng.integers(0, 2, n),
    )
    polys = aggregate(m, pi_eps_dt_h=0.25).pi_eps
    assert polys is not None
    pts = sets.coupled_pi_eps_points(-p, p, -e, e, 0.25, 2.0) / 1000.0
    per_dev = [q[~np.isnan(q[:, 0])] for q in pts]
    dirs = sets.directions_2d(64)
    for scope, members in ((0, m.ccp == 0), (1, m.ccp == 1), ("vpp", np.ones(n, bool))):
        exact = sets.minkowski_sum(*[per_dev[i] for i in np.flatnonzero(members)])
        assert np.allclose(sets.support(polys[scope], dirs), sets.support(exact, dirs), atol=1e-9)
