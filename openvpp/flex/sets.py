"""Convex flexibility sets and their Minkowski sums (seed 003 eq. (2) and §3.2, step two).

The aggregate flexibility of a group of units is the Minkowski sum ``A (+) B = {a + b : a in A, b in B}`` of
their sets (eq. (2)). Three representations are used, from exact-and-cheap to general:

1. **Intervals and boxes** (the five metrics as ranges). The Minkowski sum of boxes is the box of summed
   bounds, so aggregation is exact and reduces to group sums: :class:`GroupIndex` uses ``numpy.bincount``
   for one value per device and ``numpy.add.reduceat`` over devices sorted by group for ``(n, k)`` arrays.
2. **Polytopes by vertices** (a few general convex sets): the sum of polytopes is the convex hull of all
   pairwise vertex sums, taken with :class:`scipy.spatial.ConvexHull` (:func:`minkowski_sum`).
3. **Support functions in K directions** (many sets): ``h_{A (+) B}(d) = h_A(d) + h_B(d)``, so the support
   function of the aggregate is the group sum of the members' support functions, exact at the K directions.
   The polygon ``{x : d_k . x <= h(d_k), k = 1..K}`` is an *outer* approximation; the sums of the members'
   support points form an *inner* approximation (each is a point of the sum). For K equally spaced
   directions and a set of circumradius R the outer polygon lies within Hausdorff distance
   ``R tan(pi / K)`` of the set (:func:`outer_error_bound`); for a disk the exact figure is
   ``R (1 / cos(pi / K) - 1)``, which is *not* a bound for general sets (a segment of half-length R reaches
   ``R tan(pi / K)``). :func:`sandwich_gap` gives the sharper a-posteriori bound from the inner points.

Why own code: numpy and scipy give the group sums and the hull; no maintained library sums many small convex
sets grouped by a key, and the P-Q capability region (disk cut by a power range and reactive limits) has a
closed-form support point (:func:`pq_support_points`), which makes the large-fleet case a handful of array
operations.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import ConvexHull, QhullError

from openvpp.errors import ValidationError


# ---------------------------------------------------------------------------------------------- group sums
class GroupIndex:
    """Precomputed grouping of devices (e.g. by CCP code) for repeated, vectorised group sums.

    Parameters
    ----------
    groups : array_like of int, shape (n_devices,)
        Group code of every device, >= 0. [-]
    n_groups : int, optional
        Number of groups (default: largest code + 1). Groups without devices sum to zero. [-]
    """

    def __init__(self, groups: ArrayLike, n_groups: int | None = None) -> None:
        g = np.asarray(groups)
        if g.ndim != 1:
            raise ValidationError(f"groups must be 1-D, one code per device (got shape {g.shape})")
        if g.size and (not np.issubdtype(g.dtype, np.integer)):
            if np.any(g != np.round(g)):
                raise ValidationError("groups must be whole numbers (CCP codes)")
        g = g.astype(np.int64)
        if g.size and g.min() < 0:
            raise ValidationError(f"groups must be >= 0 (got {int(g.min())}); CCP codes start at 0")
        top = int(g.max()) + 1 if g.size else 0
        if n_groups is None:
            n_groups = top
        if n_groups < top:
            raise ValidationError(f"n_groups={n_groups} is smaller than the largest code + 1 ({top})")
        self.codes = g
        self.n = int(g.size)
        self.n_groups = int(n_groups)
        self.counts = np.bincount(g, minlength=self.n_groups)
        self.is_sorted = bool(np.all(g[1:] >= g[:-1])) if g.size else True
        self.order = np.arange(self.n) if self.is_sorted else np.argsort(g, kind="stable")
        self.present = np.flatnonzero(self.counts)
        self.starts = np.concatenate(([0], np.cumsum(self.counts[self.present])[:-1])).astype(np.int64)

    def sum(self, values: ArrayLike) -> NDArray[np.float64]:
        """Sum ``values`` (shape ``(n_devices, ...)``) over each group's devices -> ``(n_groups, ...)``.

        Parameters
        ----------
        values : ArrayLike
            Values per group. [-]
        """
        x = np.asarray(values, dtype=float)
        if x.shape[:1] != (self.n,):
            raise ValidationError(f"values must have one row per device ({self.n}), got shape {x.shape}")
        if x.ndim == 1:
            # weighted bincount returns float64 (the stubs only know the unweighted int result)
            return np.bincount(self.codes, weights=x, minlength=self.n_groups).astype(np.float64, copy=False)
        out = np.zeros((self.n_groups, *x.shape[1:]))
        if self.n:
            xs = x if self.is_sorted else x[self.order]
            out[self.present] = np.add.reduceat(xs, self.starts, axis=0)
        return out


def sum_intervals(
    lo: ArrayLike, hi: ArrayLike, groups: ArrayLike | GroupIndex
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Exact Minkowski sum of intervals ``[lo_i, hi_i]`` per group (eq. (2) for 1-D sets).

    Parameters
    ----------
    lo, hi : array_like, shape (n_devices,) or (n_devices, n_steps)
        Interval bounds, ``lo <= hi``. [any unit, the same for all devices]
    groups : array_like of int or GroupIndex
        Group code per device.

    Returns
    -------
    (lo_g, hi_g) : numpy.ndarray, shape (n_groups,) or (n_groups, n_steps)
    """
    gi = groups if isinstance(groups, GroupIndex) else GroupIndex(groups)
    lo_a = np.asarray(lo, dtype=float)
    hi_a = np.asarray(hi, dtype=float)
    if lo_a.shape != hi_a.shape:
        raise ValidationError(f"lo and hi must have the same shape (got {lo_a.shape} and {hi_a.shape})")
    if np.any(lo_a > hi_a):
        i = int(np.argmax((lo_a > hi_a).ravel()))
        raise ValidationError(f"interval {i} is empty: lo={lo_a.ravel()[i]:g} > hi={hi_a.ravel()[i]:g}")
    return gi.sum(lo_a), gi.sum(hi_a)


# ---------------------------------------------------------------------------------------------- hulls
def convex_hull_vertices(points: ArrayLike, tol: float = 1e-12) -> NDArray[np.float64]:
    """Vertices of the convex hull of a point cloud, also for flat (lower-dimensional) clouds.

    In 2-D the vertices come in counter-clockwise order. A cloud that spans only a line or a plane is
    hulled in its own affine subspace (Qhull alone refuses such input).

    Parameters
    ----------
    points : array_like, shape (m, d)
        [-]
    tol : float
        Relative singular-value threshold for the affine rank. [-]

    Returns
    -------
    numpy.ndarray, shape (n_vertices, d)
    """
    pts = np.asarray(points, dtype=float)
    if pts.ndim != 2 or pts.shape[0] == 0:
        raise ValidationError(f"points must be a non-empty (m, d) array (got shape {pts.shape})")
    if not np.all(np.isfinite(pts)):
        raise ValidationError("points must be finite (a NaN or inf vertex has no convex hull)")
    m, d = pts.shape
    center = pts.mean(axis=0)
    rel = pts - center
    scale = float(np.abs(rel).max())
    if scale == 0.0:
        return pts[:1].copy()
    _, sv, vt = np.linalg.svd(rel / scale, full_matrices=False)
    rank = int(np.sum(sv > tol * max(1.0, float(sv[0])) * max(m, d)))
    if rank == 1:
        t = rel @ vt[0]
        return pts[[int(np.argmin(t)), int(np.argmax(t))]].copy()
    coords = rel @ vt[:rank].T if rank < d else pts
    try:
        hull = ConvexHull(coords)
    except QhullError:  # nearly flat beyond the threshold: joggle
        hull = ConvexHull(coords, qhull_options="QJ")
    return pts[hull.vertices].copy()


def minkowski_sum(*vertex_sets: ArrayLike) -> NDArray[np.float64]:
    """Exact Minkowski sum of convex polytopes given by their vertices (eq. (2) of seed 003).

    The sum of two polytopes is the convex hull of all pairwise vertex sums; sets are added one at a time and
    reduced to hull vertices after each addition, so the cost stays ``O(sum of |A_acc| |B|)``. Meant for a few
    to a few hundred small sets; use :func:`group_support` for large fleets.

    Parameters
    ----------
    *vertex_sets : array_like, shape (m_i, d)
        Vertices (or any generating points) of each set, same dimension ``d``. [-]

    Returns
    -------
    numpy.ndarray, shape (n_vertices, d)
        Vertices of the sum (counter-clockwise in 2-D).
    """
    if not vertex_sets:
        raise ValidationError("minkowski_sum needs at least one set")
    sets = [np.atleast_2d(np.asarray(v, dtype=float)) for v in vertex_sets]
    d = sets[0].shape[1]
    for k, s in enumerate(sets):
        if s.ndim != 2 or s.shape[1] != d or s.shape[0] == 0:
            raise ValidationError(f"set {k} must be a non-empty (m, {d}) vertex array (got shape {s.shape})")
    acc = convex_hull_vertices(sets[0])
    for s in sets[1:]:
        acc = convex_hull_vertices((acc[:, None, :] + convex_hull_vertices(s)[None, :, :]).reshape(-1, d))
    return acc


# ---------------------------------------------------------------------------------------------- support
def directions_2d(k: int) -> NDArray[np.float64]:
    """``k`` unit vectors at equally spaced angles ``2 pi j / k`` (counter-clockwise), shape (k, 2).

    Parameters
    ----------
    k : int
        Index or count. [-]
    """
    if int(k) != k or k < 3:
        raise ValidationError(f"the number of directions must be an integer >= 3 (got {k!r})")
    ang = 2.0 * np.pi * np.arange(int(k)) / int(k)
    return np.column_stack((np.cos(ang), np.sin(ang)))


def support(vertices: ArrayLike, directions: ArrayLike) -> NDArray[np.float64]:
    """Support function ``h(d) = max_v d . v`` of polytopes given by vertices.

    Parameters
    ----------
    vertices : array_like, shape (m, d) or (n_sets, m, d)
        Vertices; rows that are NaN are ignored (padding of sets with fewer vertices). [-]
    directions : array_like, shape (k, d)
        [-]

    Returns
    -------
    numpy.ndarray, shape (k,) or (n_sets, k)
    """
    v = np.asarray(vertices, dtype=float)
    dirs = np.asarray(directions, dtype=float)
    proj = v @ dirs.T
    return np.nanmax(proj, axis=-2)


def group_support(
    vertices: ArrayLike, groups: ArrayLike | GroupIndex, directions: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Support function and support points of the Minkowski sum of many polytopes, per group.

    ``h_{sum}(d) = sum_i h_i(d)`` exactly; the sum of the members' maximising vertices is a point of the
    aggregate set lying on its supporting line, so those points span an inner approximation.

    Parameters
    ----------
    vertices : array_like, shape (n_sets, m, d)
        Vertices of every member (pad shorter lists with NaN rows). [-]
    groups : array_like of int or GroupIndex
        Group code per member.
    directions : array_like, shape (k, d)
        [-]

    Returns
    -------
    h : numpy.ndarray, shape (n_groups, k)
        Support function of each group's sum.
    points : numpy.ndarray, shape (n_groups, k, d)
        A point of each group's sum attaining ``h`` in each direction.
    """
    v = np.asarray(vertices, dtype=float)
    if v.ndim != 3:
        raise ValidationError(f"vertices must be shaped (n_sets, m, d) (got {v.shape})")
    gi = groups if isinstance(groups, GroupIndex) else GroupIndex(groups)
    dirs = np.asarray(directions, dtype=float)
    proj = v @ dirs.T  # (n, m, k)
    proj = np.where(np.isnan(proj), -np.inf, proj)
    arg = np.argmax(proj, axis=1)  # (n, k)
    pts = np.take_along_axis(v, arg[:, :, None], axis=1)  # (n, k, d)
    agg_pts = gi.sum(pts.reshape(v.shape[0], -1)).reshape(gi.n_groups, dirs.shape[0], v.shape[2])
    h = np.einsum("gkd,kd->gk", agg_pts, dirs)
    return h, agg_pts


def pq_support_points(
    p_lo: ArrayLike,
    p_hi: ArrayLike,
    q_cap_lo: ArrayLike,
    q_cap_hi: ArrayLike,
    s_max: ArrayLike,
    directions: ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Support points of P-Q capability regions in many directions, in closed form.

    Region of a device: ``{(p, q) : p_lo <= p <= p_hi, q_cap_lo <= q <= q_cap_hi, p^2 + q^2 <= s_max^2}``
    (the inverter circle cut by the active range and reactive limits, seed 003 §3.2 "capability diagrams").
    For a unit direction ``(c, s)`` the best ``q`` at a given ``p`` is ``sign(s) min(sqrt(S^2 - p^2), cap)``;
    the objective is then concave in ``p`` with its unconstrained maximum at ``S c`` when the cap does not
    bind and at ``sign(c) sqrt(S^2 - cap^2)`` when it does, so clipping that value to ``[p_lo, p_hi]`` gives
    the exact maximiser.

    Parameters
    ----------
    p_lo, p_hi : array_like, shape (n,)
        Active range (any orientation, the same for all). [kW]
    q_cap_lo, q_cap_hi : array_like, shape (n,)
        Reactive limits with ``q_cap_lo <= 0 <= q_cap_hi``. [kvar]
    s_max : array_like, shape (n,)
        Apparent-power rating, ``> 0``; ``inf`` or NaN means no circle. [kVA]
    directions : array_like, shape (k, 2)
        Unit directions. [-]

    Returns
    -------
    (p, q) : numpy.ndarray, shape (n, k)
        The maximising point of each device in each direction. [kW], [kvar]
    """
    pl = np.asarray(p_lo, dtype=float)
    ph = np.asarray(p_hi, dtype=float)
    ql = np.asarray(q_cap_lo, dtype=float)
    qh = np.asarray(q_cap_hi, dtype=float)
    s = np.asarray(s_max, dtype=float)
    if np.any(ql > 0) or np.any(qh < 0):
        raise ValidationError("q_cap_lo must be <= 0 <= q_cap_hi (reactive limits around zero)")
    no_circle = ~np.isfinite(s)
    if np.any(no_circle):
        big = np.sqrt(np.maximum(np.abs(pl), np.abs(ph)) ** 2 + np.maximum(-ql, qh) ** 2) + 1.0
        s = np.where(no_circle, big, s)
    if np.any(s <= 0):
        raise ValidationError("s_max must be > 0 kVA")
    # the active range must meet the circle
    pl = np.clip(pl, -s, s)
    ph = np.clip(ph, -s, s)
    dirs = np.asarray(directions, dtype=float)
    c = dirs[:, 0][None, :]
    sn = dirs[:, 1][None, :]
    up = sn >= 0.0
    cap = np.where(up, np.minimum(qh, s)[:, None], np.minimum(-ql, s)[:, None])  # (n, k), >= 0
    s2 = (s * s)[:, None]
    p = np.where(
        s[:, None] * np.abs(sn) <= cap, s[:, None] * c, np.sign(c) * np.sqrt(np.maximum(s2 - cap * cap, 0.0))
    )
    np.clip(p, pl[:, None], ph[:, None], out=p)
    q = np.minimum(np.sqrt(np.maximum(s2 - p * p, 0.0)), cap)
    q = np.where(up, q, -q)
    return p, q


# ---------------------------------------------------------------------------------------------- polygons
def outer_polygon(h: ArrayLike, directions: ArrayLike) -> NDArray[np.float64]:
    """Vertices of ``{x : d_k . x <= h_k}`` for directions in counter-clockwise order (2-D).

    Consecutive supporting lines are intersected; with ``h`` the support function of a convex set every line
    touches the set, so the K intersections are the polygon's vertices in order (some may coincide).

    Parameters
    ----------
    h : array_like, shape (k,) or (n, k)
        Support values. [unit of the set]
    directions : array_like, shape (k, 2)
        Unit directions, counter-clockwise, consecutive angles < pi. [-]

    Returns
    -------
    numpy.ndarray, shape (k, 2) or (n, k, 2)
    """
    hh = np.asarray(h, dtype=float)
    d = np.asarray(directions, dtype=float)
    d2 = np.roll(d, -1, axis=0)
    h2 = np.roll(hh, -1, axis=-1)
    det = d[:, 0] * d2[:, 1] - d[:, 1] * d2[:, 0]
    if np.any(det <= 1e-12):
        raise ValidationError("directions must be counter-clockwise with consecutive angles in (0, pi)")
    x = (hh * d2[:, 1] - h2 * d[:, 1]) / det
    y = (d[:, 0] * h2 - d2[:, 0] * hh) / det
    return np.stack((x, y), axis=-1)


def outer_error_bound(radius: ArrayLike, k: int, disk: bool = False) -> NDArray[np.float64]:
    """A-priori Hausdorff distance between a convex set and its K-direction outer polygon.

    For K equally spaced directions the vertex between two consecutive supporting lines lies at most
    ``(L / 2) tan(pi / K)`` from the chord joining their support points (apex angle ``pi - 2 pi / K``), where
    ``L <= 2 R``; hence ``d_H <= R tan(pi / K)`` for a set of circumradius ``R``. For a disk of radius ``R``
    the error is ``R (1 / cos(pi / K) - 1)`` (``disk=True``), about ``pi^2 R / (2 K^2)``.

    Parameters
    ----------
    radius : array_like
        Circumradius of the set (or an upper bound, e.g. half its diameter). [unit of the set]
    k : int
        Number of equally spaced directions (>= 3). [-]
    disk : bool
        Give the figure for a disk instead of the general bound.
    """
    if int(k) != k or k < 3:
        raise ValidationError(f"k must be an integer >= 3 (got {k!r})")
    r = np.asarray(radius, dtype=float)
    a = np.pi / int(k)
    return r * (1.0 / np.cos(a) - 1.0) if disk else r * np.tan(a)


def sandwich_gap(outer: ArrayLike, inner: ArrayLike) -> NDArray[np.float64]:
    """A-posteriori bound on the Hausdorff distance between a set and its outer polygon.

    ``outer[k]`` is the intersection of supporting lines k and k+1 and ``inner[k]`` a point of the set on line
    k (from :func:`group_support` or :func:`pq_support_points` summed per group). The set contains the segment
    ``inner[k] inner[k+1]``, so ``max_k dist(outer[k], segment)`` bounds both ``d_H(set, outer)`` and
    ``d_H(set, hull(inner))``.

    Parameters
    ----------
    outer, inner : array_like, shape (k, 2) or (n, k, 2)
        [-] [-]

    Returns
    -------
    numpy.ndarray, shape () or (n,)
    """
    o = np.asarray(outer, dtype=float)
    a = np.asarray(inner, dtype=float)
    b = np.roll(a, -1, axis=-2)
    ab = b - a
    t = np.einsum("...i,...i->...", o - a, ab)
    den = np.einsum("...i,...i->...", ab, ab)
    t = np.clip(np.divide(t, den, out=np.zeros_like(t), where=den > 0), 0.0, 1.0)
    closest = a + t[..., None] * ab
    return np.sqrt(((o - closest) ** 2).sum(axis=-1)).max(axis=-1)


def box_vertices(lo: ArrayLike, hi: ArrayLike) -> NDArray[np.float64]:
    """The ``2^d`` corners of an axis-aligned box, shape (2^d, d).

    Parameters
    ----------
    lo : ArrayLike
        Lower corner. [-]
    hi : ArrayLike
        Upper corner. [-]
    """
    lo_a = np.asarray(lo, dtype=float)
    hi_a = np.asarray(hi, dtype=float)
    d = lo_a.shape[-1]
    bits = (np.arange(2**d)[:, None] >> np.arange(d)[None, :]) & 1
    return np.where(bits.astype(bool), hi_a[..., None, :], lo_a[..., None, :])


def coupled_pi_eps_points(
    pi_min: ArrayLike,
    pi_max: ArrayLike,
    eps_min: ArrayLike,
    eps_max: ArrayLike,
    dt_h: float,
    horizon_h: ArrayLike,
) -> NDArray[np.float64]:
    """Generating points of the (pi, eps) set with the power-energy coupling, shape (n, 12, 2).

    A point ``(pi, eps)`` means: inject ``pi`` during the next step of length ``dt_h`` and deliver ``eps`` in
    total over the horizon. Physics couples the two (eq. (1) of seed 003, energy is the integral of power):

    * ``pi in [pi_min, pi_max]`` and ``eps in [eps_min, eps_max]`` (ratings, stored energy);
    * ``pi dt_h in [eps_min, eps_max]``: the first step alone must respect the energy limits, which is how
      stored energy limits how long maximum power lasts;
    * ``eps - pi dt_h in [pi_min (H - dt_h), pi_max (H - dt_h)]``: the rest of the horizon is delivered within
      the power range.

    The region is a box cut by a slanted strip; its vertices are among the 4 box corners and the 8
    intersections of the strip's two lines with the box edges. Points that violate a constraint are NaN
    (the padding convention of :func:`support` and :func:`group_support`). A unit whose horizon equals the
    step collapses to the segment ``eps = pi H``.

    Parameters
    ----------
    pi_min, pi_max : array_like, shape (n,)
        Injection range. [kW]
    eps_min, eps_max : array_like, shape (n,)
        Energy range over the horizon. [kWh]
    dt_h : float
        Step length. [h]
    horizon_h : array_like, shape (n,)
        Horizon, >= dt_h. [h]

    Returns
    -------
    numpy.ndarray, shape (n, 12, 2)
    """
    pl = np.asarray(pi_min, dtype=float)
    ph = np.asarray(pi_max, dtype=float)
    el = np.asarray(eps_min, dtype=float)
    eh = np.asarray(eps_max, dtype=float)
    hz = np.broadcast_to(np.asarray(horizon_h, dtype=float), pl.shape)
    if not np.isfinite(dt_h) or dt_h <= 0:
        raise ValidationError(f"dt_h must be a positive number of hours (got {dt_h!r})")
    if np.any(hz < dt_h - 1e-12):
        raise ValidationError(f"horizon_h must be >= dt_h ({dt_h} h) for the coupled (pi, eps) set")
    r = np.maximum(hz - dt_h, 0.0)
    xl = np.maximum(pl, el / dt_h)
    xh = np.minimum(ph, eh / dt_h)
    c_lo = pl * r  # strip: c_lo <= eps - pi dt <= c_hi
    c_hi = ph * r
    cand = []
    for x in (xl, xh):
        for y in (el, eh):
            cand.append((x, y))
    for c in (c_lo, c_hi):
        for x in (xl, xh):  # line meets the vertical edges
            cand.append((x, x * dt_h + c))
        for y in (el, eh):  # line meets the horizontal edges
            cand.append(((y - c) / dt_h, y))
    xs = np.stack([np.broadcast_to(a, pl.shape) for a, _ in cand], axis=1)
    ys = np.stack([np.broadcast_to(b, pl.shape) for _, b in cand], axis=1)
    tol = 1e-9 * (1.0 + np.abs(xs) + np.abs(ys))
    slack = ys - xs * dt_h
    ok = (
        (xs >= xl[:, None] - tol)
        & (xs <= xh[:, None] + tol)
        & (ys >= el[:, None] - tol)
        & (ys <= eh[:, None] + tol)
        & (slack >= c_lo[:, None] - tol)
        & (slack <= c_hi[:, None] + tol)
    )
    empty = ~ok.any(axis=1)
    if np.any(empty):
        i = int(np.argmax(empty))
        raise ValidationError(
            f"the coupled (pi, eps) set of device {i} is empty: no injection in [{pl[i]:g}, {ph[i]:g}] kW "
            f"fits the energy range [{el[i]:g}, {eh[i]:g}] kWh over {hz[i]:g} h; check the metrics"
        )
    pts = np.stack((xs, ys), axis=-1)
    pts[~ok] = np.nan
    return pts
