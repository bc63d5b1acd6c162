"""Aggregate flexibility per common connection point and for the whole VPP (seed 003 §3.2, step two).

Each metric of each device is an interval; their Minkowski sum (eq. (2)) per CCP is the interval of summed
bounds, computed with one ``numpy.bincount`` per bound. Active metrics (pi, rho, eps) are also summed over
the whole VPP; reactive metrics (phi, psi) only within a CCP, because reactive power supports the voltage
at the point where it is injected (seed 003 §3.2 and Fig. 6).

Two optional richer sets are built on request:

* the **P-Q capability region** of each CCP (inverter circles cut by active ranges), by support functions in
  K directions with closed-form support points (:func:`openvpp.flex.sets.pq_support_points`);
* the **coupled (pi, eps) polygon** per CCP and for the VPP, where stored energy limits how long maximum
  power lasts (:func:`openvpp.flex.sets.coupled_pi_eps_points`), by vertex sums and convex hull for a few
  devices and by support functions for many.

Device metrics are in kW, kWh, kvar; aggregates are reported in MW, MWh, Mvar (DESIGN.md). Orientation:
injection (+ = delivered to the grid), see :mod:`openvpp.flex.metrics`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openvpp.errors import ValidationError
from openvpp.flex import sets
from openvpp.flex.metrics import ACTIVE, METRICS, FlexMetrics, _spec
from openvpp.units import KW_PER_MW

#: devices up to which the coupled (pi, eps) polygons are summed exactly (vertex sums + hull)
EXACT_POLYGON_LIMIT = 64


@dataclasses.dataclass(frozen=True)
class PQRegions:
    """P-Q capability regions of every CCP by support functions (injection orientation, MW / Mvar).

    Attributes
    ----------
    directions : numpy.ndarray, shape (k, 2)
        Unit directions in the (pi, phi) plane, counter-clockwise.
    h : numpy.ndarray, shape (n_ccp, k)
        Exact support function of each CCP's region in each direction. [MW-equivalent]
    inner : numpy.ndarray, shape (n_ccp, k, 2)
        Points of the region attaining ``h`` (their hull is an inner approximation). [MW, Mvar]
    outer : numpy.ndarray, shape (n_ccp, k, 2)
        Vertices of the outer polygon ``{x : d_k . x <= h_k}``. [MW, Mvar]
    gap : numpy.ndarray, shape (n_ccp,)
        A-posteriori bound on the Hausdorff distance between the region and either polygon. [MW]
    bound : numpy.ndarray, shape (n_ccp,)
        A-priori bound ``R tan(pi / k)`` with R half the region's diameter bound. [MW]
    """

    directions: NDArray[np.float64]
    h: NDArray[np.float64]
    inner: NDArray[np.float64]
    outer: NDArray[np.float64]
    gap: NDArray[np.float64]
    bound: NDArray[np.float64]

    def contains(self, i: int, pi_mw: float, phi_mvar: float) -> tuple[str, float]:
        """Whether the point lies in CCP row ``i``'s region: ``"inside"``, ``"outside"`` or ``"undecided"``.

        Returns the status and the smallest margin ``min_k (h_k - d_k . x)`` (negative: outside the outer
        polygon, certainly infeasible). "inside" is certain: the point is inside the inner polygon.

        Parameters
        ----------
        i : int
            Index of the CCP. [-]
        pi_mw : float
            Active power of the point. [MW]
        phi_mvar : float
            Reactive power of the point. [Mvar]
        """
        x = np.array([pi_mw, phi_mvar], dtype=float)
        margin = float(np.min(self.h[i] - self.directions @ x))
        if margin < -1e-9:
            return "outside", margin
        inner = self.inner[i]
        edges = np.roll(inner, -1, axis=0) - inner
        cross = edges[:, 0] * (x[1] - inner[:, 1]) - edges[:, 1] * (x[0] - inner[:, 0])
        return ("inside" if np.all(cross >= -1e-9) else "undecided"), margin


@dataclasses.dataclass(frozen=True)
class AggregateFlexibility:
    """Available flexibility per CCP and for the VPP (seed 003 §3.2 step two), aggregate units.

    Attributes
    ----------
    ccp_codes : numpy.ndarray of int, shape (n_ccp,)
        Codes of the CCPs that have devices, ascending.
    ccp_names : list of str
        Display names, aligned with ``ccp_codes``.
    n_devices : numpy.ndarray of int, shape (n_ccp,)
    ccp_lo, ccp_hi : dict of metric -> numpy.ndarray, shape (n_ccp,)
        Bounds of each metric per CCP. [MW, MW/min, MWh, Mvar, Mvar/min]
    vpp_lo, vpp_hi : dict of metric -> float
        Bounds of the active metrics for the whole VPP (reactive metrics are not aggregated across CCPs).
    pi0_mw : numpy.ndarray, shape (n_ccp,)
        Present active injection per CCP. [MW]
    horizon_h : float
        Horizon of the energy metric. [h]
    label : str
        Free text (e.g. the forecast quantile "P50").
    pq : PQRegions or None
    pi_eps : dict of scope -> numpy.ndarray (m, 2) or None
        Coupled (pi, eps) polygon vertices per CCP code and for ``"vpp"``. [MW, MWh]
    """

    ccp_codes: NDArray[np.int64]
    ccp_names: list[str]
    n_devices: NDArray[np.int64]
    ccp_lo: dict[str, NDArray[np.float64]]
    ccp_hi: dict[str, NDArray[np.float64]]
    vpp_lo: dict[str, float]
    vpp_hi: dict[str, float]
    pi0_mw: NDArray[np.float64]
    horizon_h: float
    label: str = ""
    pq: PQRegions | None = None
    pi_eps: dict[Any, NDArray[np.float64]] | None = None

    def row(self, ccp: int) -> int:
        """Row of CCP code ``ccp`` in the per-CCP arrays.

        Parameters
        ----------
        ccp : int
            Common connection point (index or None for the VPP). [-]
        """
        hit = np.flatnonzero(self.ccp_codes == int(ccp))
        if hit.size == 0:
            raise ValidationError(
                f"CCP {ccp!r} has no devices in this aggregate; CCPs present: {self.ccp_codes.tolist()}"
            )
        return int(hit[0])

    def interval(self, metric: str, ccp: int | None = None) -> tuple[float, float]:
        """Available interval of ``metric`` at CCP code ``ccp`` or, with ``ccp=None``, for the whole VPP.

        Parameters
        ----------
        metric : str
            Metric name (``pi``, ``rho``, ``epsilon``, ``phi``, ``psi``).
        ccp : int | None
            Common connection point (index or None for the VPP). [-]
        """
        spec = _spec(metric)
        if ccp is None:
            if spec.reactive:
                raise ValidationError(
                    f"{metric} is a reactive metric and is only aggregated within a CCP (seed 003 §3.2); "
                    "give the CCP code"
                )
            return self.vpp_lo[metric], self.vpp_hi[metric]
        i = self.row(ccp)
        return float(self.ccp_lo[metric][i]), float(self.ccp_hi[metric][i])

    def to_frame(self) -> pd.DataFrame:
        """Long table: one row per scope (CCP name or "VPP") and metric with lo, hi and unit."""
        rows = []
        for i, name in enumerate(self.ccp_names):
            for m, spec in METRICS.items():
                rows.append(
                    {
                        "scope": name,
                        "ccp": int(self.ccp_codes[i]),
                        "metric": m,
                        "lo": self.ccp_lo[m][i],
                        "hi": self.ccp_hi[m][i],
                        "unit": spec.aggregate_unit,
                    }
                )
        for m in ACTIVE:
            rows.append(
                {
                    "scope": "VPP",
                    "ccp": -1,
                    "metric": m,
                    "lo": self.vpp_lo[m],
                    "hi": self.vpp_hi[m],
                    "unit": METRICS[m].aggregate_unit,
                }
            )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (numbers as floats)."""
        out: dict[str, Any] = {"label": self.label, "horizon_h": self.horizon_h, "vpp": {}, "ccp": []}
        for m in ACTIVE:
            out["vpp"][m] = [float(self.vpp_lo[m]), float(self.vpp_hi[m]), METRICS[m].aggregate_unit]
        for i, name in enumerate(self.ccp_names):
            entry: dict[str, Any] = {
                "name": name,
                "code": int(self.ccp_codes[i]),
                "n_devices": int(self.n_devices[i]),
            }
            for m, spec in METRICS.items():
                entry[m] = [float(self.ccp_lo[m][i]), float(self.ccp_hi[m][i]), spec.aggregate_unit]
            out["ccp"].append(entry)
        return out


def group_index(metrics: FlexMetrics) -> sets.GroupIndex:
    """The CCP grouping of ``metrics``, computed once and cached on the table.

    Parameters
    ----------
    metrics : FlexMetrics
        Device metrics table.
    """
    gi = metrics.__dict__.get("_flex_group_index")
    if gi is None:
        gi = sets.GroupIndex(metrics.ccp)
        object.__setattr__(metrics, "_flex_group_index", gi)
    return gi


def aggregate(
    metrics: FlexMetrics,
    *,
    ccp_names: Mapping[int, str] | Sequence[str] | None = None,
    label: str = "",
    pq_directions: int = 0,
    pi_eps_dt_h: float | None = None,
) -> AggregateFlexibility:
    """Minkowski sum of the devices' flexibility per CCP and for the VPP (eq. (2) of seed 003).

    Parameters
    ----------
    metrics : FlexMetrics
        Device metrics (kW units, injection oriented), one row per device, all with the same horizon.
    ccp_names : mapping or sequence, optional
        Display name per CCP code (default ``"CCP<code>"``).
    label : str
        Free text stored on the result (e.g. ``"P50"``).
    pq_directions : int
        If > 0, also build the P-Q capability region of each CCP with this many support directions. [-]
    pi_eps_dt_h : float, optional
        If given, also build the coupled (pi, eps) polygons with this step length. [h]

    Returns
    -------
    AggregateFlexibility
        Bounds in MW, MW/min, MWh, Mvar, Mvar/min.
    """
    if not isinstance(metrics, FlexMetrics):
        raise ValidationError(f"metrics must be a FlexMetrics table (got {type(metrics).__name__})")
    if metrics.n == 0:
        raise ValidationError("metrics has no devices; nothing to aggregate")
    hz = metrics.horizon_h
    if np.ptp(hz) > 1e-9:
        raise ValidationError(
            f"all devices must share one energy horizon (horizon_h ranges {hz.min():g}-{hz.max():g} h); "
            "compute the metrics with one horizon_h"
        )
    gi = group_index(metrics)
    present = gi.present
    scale = 1.0 / KW_PER_MW
    ccp_lo: dict[str, NDArray[np.float64]] = {}
    ccp_hi: dict[str, NDArray[np.float64]] = {}
    vpp_lo: dict[str, float] = {}
    vpp_hi: dict[str, float] = {}
    for m, spec in METRICS.items():
        lo = gi.sum(getattr(metrics, spec.lo_field))[present] * scale
        hi = gi.sum(getattr(metrics, spec.hi_field))[present] * scale
        ccp_lo[m], ccp_hi[m] = lo, hi
        if m in ACTIVE:
            vpp_lo[m], vpp_hi[m] = float(lo.sum()), float(hi.sum())
    pi0 = gi.sum(metrics.pi0_kw)[present] * scale
    names = _names(present, ccp_names)
    pq = _pq_regions(metrics, gi, pq_directions) if pq_directions else None
    pi_eps = _pi_eps(metrics, gi, pi_eps_dt_h, names) if pi_eps_dt_h is not None else None
    return AggregateFlexibility(
        ccp_codes=present.astype(np.int64),
        ccp_names=names,
        n_devices=gi.counts[present].astype(np.int64),
        ccp_lo=ccp_lo,
        ccp_hi=ccp_hi,
        vpp_lo=vpp_lo,
        vpp_hi=vpp_hi,
        pi0_mw=pi0,
        horizon_h=float(hz[0]),
        label=label,
        pq=pq,
        pi_eps=pi_eps,
    )


def _names(codes: NDArray[np.int64], ccp_names: Mapping[int, str] | Sequence[str] | None) -> list[str]:
    if ccp_names is None:
        return [f"CCP{int(c)}" for c in codes]
    if isinstance(ccp_names, Mapping):
        return [str(ccp_names.get(int(c), f"CCP{int(c)}")) for c in codes]
    seq = list(ccp_names)
    if len(seq) <= int(codes.max()):
        raise ValidationError(
            f"ccp_names has {len(seq)} entries but CCP code {int(codes.max())} is used; "
            "give one name per code"
        )
    return [str(seq[int(c)]) for c in codes]


def pq_caps(metrics: FlexMetrics) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Reactive limits of each device's P-Q region (kvar, injection orientation).

    A device with an apparent-power rating is bounded by its circle (limits ``+-s_max``); a device without
    one by its reactive range (``phi_min``, ``phi_max``), widened to contain zero.

    Parameters
    ----------
    metrics : FlexMetrics
        Device metrics table.
    """
    s = metrics.s_max_kva
    circle = np.isfinite(s)
    lo = np.where(circle, -s, np.minimum(metrics.phi_min_kvar, 0.0))
    hi = np.where(circle, s, np.maximum(metrics.phi_max_kvar, 0.0))
    return lo, hi


def _pq_regions(metrics: FlexMetrics, gi: sets.GroupIndex, k: int) -> PQRegions:
    dirs = sets.directions_2d(k)
    order = gi.order
    ordered = gi if gi.is_sorted else sets.GroupIndex(gi.codes[order], gi.n_groups)
    q_lo, q_hi = pq_caps(metrics)
    p, q = sets.pq_support_points(
        metrics.pi_min_kw[order],
        metrics.pi_max_kw[order],
        q_lo[order],
        q_hi[order],
        metrics.s_max_kva[order],
        dirs,
    )
    present = gi.present
    scale = 1.0 / KW_PER_MW
    pa = ordered.sum(p)[present] * scale
    qa = ordered.sum(q)[present] * scale
    inner = np.stack((pa, qa), axis=-1)
    h = pa * dirs[:, 0] + qa * dirs[:, 1]
    outer = sets.outer_polygon(h, dirs)
    gap = sets.sandwich_gap(outer, inner)
    # the outer polygon contains the region: half its bounding-box diagonal bounds the circumradius
    radius = 0.5 * np.hypot(np.ptp(outer[..., 0], axis=1), np.ptp(outer[..., 1], axis=1))
    return PQRegions(
        directions=dirs, h=h, inner=inner, outer=outer, gap=gap, bound=sets.outer_error_bound(radius, k)
    )


def _pi_eps(
    metrics: FlexMetrics, gi: sets.GroupIndex, dt_h: float, names: list[str]
) -> dict[Any, NDArray[np.float64]]:
    pts = (
        sets.coupled_pi_eps_points(
            metrics.pi_min_kw,
            metrics.pi_max_kw,
            metrics.eps_min_kwh,
            metrics.eps_max_kwh,
            dt_h,
            metrics.horizon_h,
        )
        / KW_PER_MW
    )
    out: dict[Any, NDArray[np.float64]] = {}
    if metrics.n <= EXACT_POLYGON_LIMIT:
        per_dev = [p[~np.isnan(p[:, 0])] for p in pts]
        for c in gi.present:
            members = np.flatnonzero(gi.codes == c)
            out[int(c)] = sets.minkowski_sum(*[per_dev[i] for i in members])
        out["vpp"] = sets.minkowski_sum(*per_dev)
        return out
    k = 64
    dirs = sets.directions_2d(k)
    h, _ = sets.group_support(pts, gi, dirs)
    polygons = sets.outer_polygon(h[gi.present], dirs)  # (n_ccp, k, 2) in one call
    out.update({int(c): poly for c, poly in zip(gi.present, polygons, strict=True)})
    out["vpp"] = sets.outer_polygon(h[gi.present].sum(axis=0), dirs)
    return out
