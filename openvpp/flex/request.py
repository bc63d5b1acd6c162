"""Needed flexibility and its verification against the available flexibility (seed 003 §3.2, steps 3-4).

A request states what a system operator (or the VPP's own schedule) needs, in the same five metrics. Each
need is an interval ``[lo, hi]`` of one metric at one scope (the whole VPP, or one CCP; reactive needs always
name a CCP):

* a single value ``x`` (e.g. "supply 8 MW", "absorb 1 Mvar") is the degenerate interval ``[x, x]``: the VPP
  must be able to reach that level;
* a band (e.g. a frequency-regulation band ``+-r``) must be covered entirely.

Verification applies eqs (3)-(7) of seed 003 to every need: ``needed <= available`` on the upper side
(``hi_needed <= hi_available``) and the same on the lower side (``lo_needed >= lo_available``), reporting the
margin of each side and, where negative, the deficit and the inequality that fails. Geometrically this is the
paper's test that the needed box lies inside the available one (Figs 7, 10, 14).

Orientation: injection (+ = delivered to the grid), aggregate units (MW, MW/min, MWh, Mvar, Mvar/min).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from openvpp.errors import ValidationError
from openvpp.flex.aggregate import AggregateFlexibility
from openvpp.flex.metrics import METRICS, _spec

#: tolerance of the inequalities, in aggregate units (1 W, 1 Wh, 1 var)
TOL = 1e-6


@dataclasses.dataclass(frozen=True)
class Need:
    """One needed interval of one metric at one scope.

    Attributes
    ----------
    metric : str
        ``"pi"``, ``"rho"``, ``"eps"``, ``"phi"`` or ``"psi"``.
    lo, hi : float
        Needed interval in aggregate units, ``lo <= hi``.
    ccp : int or None
        CCP code, or None for the whole VPP (active metrics only).
    """

    metric: str
    lo: float
    hi: float
    ccp: int | None = None

    def __post_init__(self) -> None:
        spec = _spec(self.metric)
        lo, hi = float(self.lo), float(self.hi)
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise ValidationError(f"need {self.metric}: bounds must be finite (got [{lo}, {hi}])")
        if lo > hi:
            raise ValidationError(f"need {self.metric}: lo={lo:g} > hi={hi:g}; give the interval in order")
        if spec.reactive and self.ccp is None:
            raise ValidationError(
                f"reactive need {self.metric} must name a CCP: reactive flexibility is only aggregated "
                "within a common connection point (seed 003 §3.2)"
            )
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)


def _interval(name: str, value: float | Sequence[float]) -> tuple[float, float]:
    arr = np.atleast_1d(np.asarray(value, dtype=float))
    if arr.shape == (1,):
        return float(arr[0]), float(arr[0])
    if arr.shape == (2,):
        return float(arr[0]), float(arr[1])
    raise ValidationError(f"{name} must be a number or a (lo, hi) pair (got {value!r})")


@dataclasses.dataclass(frozen=True)
class FlexRequest:
    """A set of needs, e.g. one period of a system operator's request (seed 003 §3.2 step three)."""

    name: str
    needs: tuple[Need, ...]

    @classmethod
    def build(
        cls,
        name: str = "request",
        *,
        pi_mw: float | Sequence[float] | None = None,
        rho_mw_per_min: float | Sequence[float] | None = None,
        eps_mwh: float | Sequence[float] | None = None,
        reactive: Mapping[int, Mapping[str, float | Sequence[float]]] | None = None,
        ccp: int | None = None,
    ) -> FlexRequest:
        """Build a request from values or (lo, hi) bands.

        Parameters
        ----------
        name : str
            Label (e.g. ``"t1"``).
        pi_mw, rho_mw_per_min, eps_mwh : float or (lo, hi), optional
            Active needs. [MW], [MW/min], [MWh]
        reactive : mapping CCP code -> {"phi": ..., "psi": ...}, optional
            Reactive needs per CCP. [Mvar], [Mvar/min]
        ccp : int, optional
            Scope of the active needs (None: the whole VPP). [-]
        """
        needs: list[Need] = []
        for metric, value in (("pi", pi_mw), ("rho", rho_mw_per_min), ("eps", eps_mwh)):
            if value is not None:
                lo, hi = _interval(metric, value)
                needs.append(Need(metric, lo, hi, ccp))
        for code, items in (reactive or {}).items():
            for metric, value in items.items():
                if metric not in ("phi", "psi"):
                    raise ValidationError(
                        f"reactive needs take 'phi' and 'psi' (got {metric!r} at CCP {code})"
                    )
                lo, hi = _interval(metric, value)
                needs.append(Need(metric, lo, hi, int(code)))
        if not needs:
            raise ValidationError(f"request {name!r} has no needs; give at least one metric")
        return cls(name=name, needs=tuple(needs))


@dataclasses.dataclass(frozen=True)
class Verification:
    """Outcome of :func:`verify`: one row per need (aggregate units, injection orientation).

    ``margin_up = available_hi - needed_hi`` and ``margin_down = needed_lo - available_lo``; a negative margin
    is a deficit of that size and a violation of the metric's inequality (eqs (3)-(7) of seed 003).
    """

    request: str
    label: str
    metric: list[str]
    scope: list[str]
    ccp: list[int | None]
    equation: NDArray[np.int64]
    needed_lo: NDArray[np.float64]
    needed_hi: NDArray[np.float64]
    available_lo: NDArray[np.float64]
    available_hi: NDArray[np.float64]

    @property
    def margin_up(self) -> NDArray[np.float64]:
        """Margin up."""
        return self.available_hi - self.needed_hi

    @property
    def margin_down(self) -> NDArray[np.float64]:
        """Margin down."""
        return self.needed_lo - self.available_lo

    @property
    def deficit(self) -> NDArray[np.float64]:
        """Largest shortfall of each need (0 when met). [aggregate unit of the metric]"""
        return np.maximum(np.maximum(-self.margin_up, -self.margin_down), 0.0)

    @property
    def met(self) -> NDArray[np.bool_]:
        """Met."""
        return (self.margin_up >= -TOL) & (self.margin_down >= -TOL)

    @property
    def ok(self) -> bool:
        """Whether every need is met."""
        return bool(np.all(self.met))

    def deficit_of(self, metric: str, ccp: int | None = None) -> float:
        """Deficit of one metric at one scope (0 when met or not requested).

        Parameters
        ----------
        metric : str
            Metric name (``pi``, ``rho``, ``epsilon``, ``phi``, ``psi``).
        ccp : int | None
            Common connection point (index or None for the VPP). [-]
        """
        d = [
            self.deficit[i]
            for i in range(len(self.metric))
            if self.metric[i] == metric and self.ccp[i] == ccp
        ]
        return float(max(d)) if d else 0.0

    def violations(self) -> list[str]:
        """One sentence per failed inequality, naming the equation, the side and the deficit."""
        out = []
        for i in np.flatnonzero(~self.met):
            spec = METRICS[self.metric[i]]
            unit = spec.aggregate_unit
            where = self.scope[i]
            if self.margin_up[i] < -TOL:
                out.append(
                    f"{self.request}: eq. ({spec.equation}) {spec.name}_needed <= {spec.name}_available "
                    "fails "
                    f"upward at {where}: needed {self.needed_hi[i]:g} {unit} > available "
                    f"{self.available_hi[i]:g} {unit} (deficit {-self.margin_up[i]:g} {unit})"
                )
            if self.margin_down[i] < -TOL:
                out.append(
                    f"{self.request}: eq. ({spec.equation}) {spec.name}_needed <= {spec.name}_available "
                    "fails "
                    f"downward at {where}: needed {self.needed_lo[i]:g} {unit} < available "
                    f"{self.available_lo[i]:g} {unit} (deficit {-self.margin_down[i]:g} {unit})"
                )
        return out

    def to_frame(self) -> pd.DataFrame:
        """The verification as a table (one row per need)."""
        return pd.DataFrame(
            {
                "request": self.request,
                "metric": self.metric,
                "scope": self.scope,
                "equation": self.equation,
                "needed_lo": self.needed_lo,
                "needed_hi": self.needed_hi,
                "available_lo": self.available_lo,
                "available_hi": self.available_hi,
                "margin_down": self.margin_down,
                "margin_up": self.margin_up,
                "deficit": self.deficit,
                "met": self.met,
                "unit": [METRICS[m].aggregate_unit for m in self.metric],
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        frame = self.to_frame()
        return {
            "request": self.request,
            "label": self.label,
            "ok": self.ok,
            "violations": self.violations(),
            "needs": frame.drop(columns="request").to_dict(orient="records"),
        }


def verify(request: FlexRequest, available: AggregateFlexibility) -> Verification:
    """Check every need of ``request`` against the available flexibility (eqs (3)-(7) of seed 003).

    Parameters
    ----------
    request : FlexRequest
    available : AggregateFlexibility
        From :func:`openvpp.flex.aggregate.aggregate`.

    Returns
    -------
    Verification
        Needed and available intervals, margins, deficits and the failed inequalities.
    """
    n = len(request.needs)
    a_lo = np.empty(n)
    a_hi = np.empty(n)
    n_lo = np.empty(n)
    n_hi = np.empty(n)
    eq = np.empty(n, dtype=np.int64)
    metric: list[str] = []
    scope: list[str] = []
    ccp: list[int | None] = []
    for i, need in enumerate(request.needs):
        a_lo[i], a_hi[i] = available.interval(need.metric, need.ccp)
        n_lo[i], n_hi[i] = need.lo, need.hi
        eq[i] = METRICS[need.metric].equation
        metric.append(need.metric)
        ccp.append(need.ccp)
        scope.append("VPP" if need.ccp is None else available.ccp_names[available.row(need.ccp)])
    return Verification(
        request=request.name,
        label=available.label,
        metric=metric,
        scope=scope,
        ccp=ccp,
        equation=eq,
        needed_lo=n_lo,
        needed_hi=n_hi,
        available_lo=a_lo,
        available_hi=a_hi,
    )


# ---------------------------------------------------------------------------------------------- builders
def dispatch_requests(
    p_mw: ArrayLike,
    dt_h: float,
    *,
    ramp_window_min: float,
    variability_mw_per_min: float = 0.0,
    p_start_mw: float | None = None,
    names: Sequence[str] | None = None,
) -> list[FlexRequest]:
    """Needs of a dispatch curve (a schedule the VPP must follow), one request per period.

    Period ``t`` needs the level ``pi = p_t`` and the energy ``eps = p_t dt_h``; moving from the previous
    level within ``ramp_window_min`` needs the ramp ``(p_t - p_{t-1}) / ramp_window_min``, widened by
    ``+-variability_mw_per_min`` to compensate the variability of uncontrolled units (seed 003 §4.2: the
    hydro unit follows the PV plant's fluctuations).

    Parameters
    ----------
    p_mw : array_like, shape (n_steps,)
        Requested injection per period (+ = delivered to the grid). [MW]
    dt_h : float
        Period length. [h]
    ramp_window_min : float
        Time allowed to reach a new level. [min]
    variability_mw_per_min : float
        Ramp band to absorb fluctuations (>= 0). [MW/min]
    p_start_mw : float, optional
        Level before the first period (default: the first level). [MW]
    names : sequence of str, optional
        Period labels (default ``t1, t2, ...``).
    """
    p = np.asarray(p_mw, dtype=float)
    if p.ndim != 1 or p.size == 0 or not np.all(np.isfinite(p)):
        raise ValidationError(f"p_mw must be a non-empty 1-D array of finite MW values (got shape {p.shape})")
    if not np.isfinite(dt_h) or dt_h <= 0:
        raise ValidationError(f"dt_h must be a positive number of hours (got {dt_h!r})")
    if not np.isfinite(ramp_window_min) or ramp_window_min <= 0:
        raise ValidationError(f"ramp_window_min must be > 0 min (got {ramp_window_min!r})")
    if variability_mw_per_min < 0:
        raise ValidationError(f"variability_mw_per_min must be >= 0 (got {variability_mw_per_min!r})")
    labels = list(names) if names is not None else [f"t{i + 1}" for i in range(p.size)]
    if len(labels) != p.size:
        raise ValidationError(f"names has {len(labels)} labels for {p.size} periods")
    prev = np.concatenate(([p[0] if p_start_mw is None else float(p_start_mw)], p[:-1]))
    step = (p - prev) / ramp_window_min
    out = []
    for t in range(p.size):
        r_lo = min(step[t], 0.0) - variability_mw_per_min
        r_hi = max(step[t], 0.0) + variability_mw_per_min
        out.append(FlexRequest.build(labels[t], pi_mw=p[t], rho_mw_per_min=(r_lo, r_hi), eps_mwh=p[t] * dt_h))
    return out


def regulation_band_request(
    band_mw: float,
    full_activation_min: float,
    duration_h: float,
    *,
    baseline_mw: float = 0.0,
    name: str = "regulation",
) -> FlexRequest:
    """Needs of a symmetric frequency-regulation band around a baseline.

    The VPP must reach ``baseline +- band`` (eq. (3)), get there within ``full_activation_min`` (eq. (4):
    ``+-band / full_activation_min``) and sustain it for ``duration_h`` (eq. (5): energy
    ``(baseline +- band) duration_h``).

    Parameters
    ----------
    band_mw : float
        Half-width of the band, > 0. [MW]
    full_activation_min : float
        Time to full activation, > 0. [min]
    duration_h : float
        Time the full band must be held, > 0. [h]
    baseline_mw : float
        Injection around which the band is offered. [MW]
    name : str
        Name of the request.
    """
    for fname, v in (
        ("band_mw", band_mw),
        ("full_activation_min", full_activation_min),
        ("duration_h", duration_h),
    ):
        if not np.isfinite(v) or v <= 0:
            raise ValidationError(f"{fname} must be > 0 (got {v!r})")
    lo, hi = baseline_mw - band_mw, baseline_mw + band_mw
    r = band_mw / full_activation_min
    return FlexRequest.build(
        name, pi_mw=(lo, hi), rho_mw_per_min=(-r, r), eps_mwh=(lo * duration_h, hi * duration_h)
    )


def voltage_support_request(
    ccp: int,
    q_mvar: float | Sequence[float],
    ramp_mvar_per_min: float | Sequence[float],
    name: str = "voltage",
) -> FlexRequest:
    """Needs of a voltage-support request at one CCP (eqs (6)-(7)): reactive level and its ramp.

    Parameters
    ----------
    ccp : int
        CCP code. [-]
    q_mvar : float or (lo, hi)
        Reactive injection needed (+ = supplied to the grid). [Mvar]
    ramp_mvar_per_min : float or (lo, hi)
        Reactive ramp needed. [Mvar/min]
    name : str
        Name of the request.
    """
    return FlexRequest.build(name, reactive={int(ccp): {"phi": q_mvar, "psi": ramp_mvar_per_min}})
