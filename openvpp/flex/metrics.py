"""The five operational-flexibility metrics of a set of DERs at one time step (seed 003, section 2).

Sarmiento-Vintimilla et al. (2024) describe the flexibility a unit offers over the next period with five
ranges (seed 003 §2 and Fig. 2):

====== ==================================================== ===========
symbol meaning                                              unit
====== ==================================================== ===========
pi     active power the unit can be at (range)              kW (MW)
rho    active ramp: largest decrease / increase per minute  kW/min
eps    energy the unit can deliver or absorb over horizon   kWh (MWh)
phi    reactive power at the operating point (range)        kvar (Mvar)
psi    reactive ramp per minute                             kvar/min
====== ==================================================== ===========

Eq. (1) of the seed links them in time (energy is the integral of power, power the integral of the ramp).

Orientation of the metrics
--------------------------
OpenVPP uses the load convention for powers (``p_kw`` > 0 = drawn from the grid, :mod:`openvpp.units`).
The paper's metrics are *injection oriented*: ``pi`` and ``eps`` are positive when the unit delivers power or
energy to the grid and negative when it absorbs them (a battery charging, a load consuming), and ``phi`` is
positive when the unit supplies reactive power. The ``pi_*``, ``eps_*``, ``phi_*`` names in this package
always carry that orientation: ``pi = -p_kw`` and ``phi = -q_kvar``. Use
:meth:`FlexMetrics.from_load_convention` to build a table from load-convention ranges; the device adapters
in :mod:`openvpp.flex.adapters` do the same.
Ramps follow the orientation of their quantity: ``rho_up`` (>= 0) raises the injection, ``rho_down`` (<= 0)
lowers it.

A :class:`FlexMetrics` table is columnar (struct of arrays, one row per device) so that aggregation and
verification are vectorised over devices. Every device carries a common-connection-point code ``ccp``
(integer >= 0): reactive metrics aggregate only within a CCP (seed 003 §3.2, step two).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openvpp.errors import ValidationError
from openvpp.tables import ParamTable, param
from openvpp.units import MIN_PER_H


class MetricSpec(NamedTuple):
    """Description of one flexibility metric."""

    name: str
    symbol: str
    lo_field: str
    hi_field: str
    device_unit: str
    aggregate_unit: str
    equation: int
    reactive: bool
    meaning: str


#: the five metrics, in the order of eqs (3)-(7) of seed 003 §3.2 (step four)
METRICS: dict[str, MetricSpec] = {
    "pi": MetricSpec("pi", "π", "pi_min_kw", "pi_max_kw", "kW", "MW", 3, False, "active power range"),
    "rho": MetricSpec(
        "rho", "ρ", "rho_down_kw_per_min", "rho_up_kw_per_min", "kW/min", "MW/min", 4, False, "active ramp"
    ),
    "eps": MetricSpec(
        "eps", "ε", "eps_min_kwh", "eps_max_kwh", "kWh", "MWh", 5, False, "energy over horizon"
    ),
    "phi": MetricSpec("phi", "φ", "phi_min_kvar", "phi_max_kvar", "kvar", "Mvar", 6, True, "reactive range"),
    "psi": MetricSpec(
        "psi",
        "ψ",
        "psi_down_kvar_per_min",
        "psi_up_kvar_per_min",
        "kvar/min",
        "Mvar/min",
        7,
        True,
        "reactive ramp",
    ),
}
ACTIVE = ("pi", "rho", "eps")
REACTIVE = ("phi", "psi")


@dataclasses.dataclass(frozen=True)
class FlexMetrics(ParamTable):
    """Flexibility metrics of a set of DERs for one time step, one row per device (seed 003 §2, §3.2).

    Injection orientation (+ = delivered to the grid), see the module docstring. ``ccp`` is the integer code
    of the common connection point; ``kind`` (not validated, free text) names the device class for reports.
    """

    table_name = "flex"

    pi_min_kw: NDArray = param("kW", "lowest active injection reachable in the period (<0: absorbing)")
    pi_max_kw: NDArray = param("kW", "highest active injection reachable in the period")
    rho_down_kw_per_min: NDArray = param("kW/min", "largest decrease of injection per minute (<= 0)", le=0.0)
    rho_up_kw_per_min: NDArray = param("kW/min", "largest increase of injection per minute (>= 0)", ge=0.0)
    eps_min_kwh: NDArray = param("kWh", "least energy delivered over the horizon (<0: absorbed)")
    eps_max_kwh: NDArray = param("kWh", "most energy delivered over the horizon")
    phi_min_kvar: NDArray = param(
        "kvar", "lowest reactive injection at the operating point (<0: absorbing)", default=0.0
    )
    phi_max_kvar: NDArray = param("kvar", "highest reactive injection at the operating point", default=0.0)
    psi_down_kvar_per_min: NDArray = param(
        "kvar/min", "largest decrease of reactive injection per minute (<= 0)", default=0.0, le=0.0
    )
    psi_up_kvar_per_min: NDArray = param(
        "kvar/min", "largest increase of reactive injection per minute (>= 0)", default=0.0, ge=0.0
    )
    pi0_kw: NDArray = param("kW", "active injection at the present operating point", default=0.0)
    phi0_kvar: NDArray = param("kvar", "reactive injection at the present operating point", default=0.0)
    s_max_kva: NDArray = param(
        "kVA",
        "apparent-power rating for the P-Q region (NaN: no circle, box only)",
        default=np.nan,
        gt=0.0,
        allow_nan=True,
    )
    horizon_h: NDArray = param("h", "horizon of the energy metric eps", default=1.0, gt=0.0)
    ccp: NDArray = param("-", "common connection point code", default=0.0, ge=0.0, dtype="int")
    kind: Any = None

    def _check(self) -> None:
        for spec in METRICS.values():
            lo, hi = getattr(self, spec.lo_field), getattr(self, spec.hi_field)
            self._fail_where(lo > hi, f"{spec.lo_field} must not exceed {spec.hi_field} ({spec.meaning})")
        kind = self.kind
        n = self.n
        kind = np.full(n, "der", dtype=object) if kind is None else np.asarray(kind, dtype=object)
        if kind.ndim == 0:
            kind = np.full(n, kind, dtype=object)
        if kind.shape != (n,):
            raise ValidationError(f"flex.kind must have one entry per device ({n}), got shape {kind.shape}")
        object.__setattr__(self, "kind", kind.astype(str))
        object.__setattr__(self, "ccp", self.ccp.astype(np.int64))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_load_convention(
        cls,
        device_id: ArrayLike,
        p_min_kw: ArrayLike,
        p_max_kw: ArrayLike,
        *,
        ramp_down_kw_per_min: ArrayLike,
        ramp_up_kw_per_min: ArrayLike,
        e_absorb_max_kwh: ArrayLike,
        e_deliver_max_kwh: ArrayLike,
        e_absorb_min_kwh: ArrayLike = 0.0,
        e_deliver_min_kwh: ArrayLike = 0.0,
        q_min_kvar: ArrayLike = 0.0,
        q_max_kvar: ArrayLike = 0.0,
        q_ramp_kvar_per_min: ArrayLike = 0.0,
        p0_kw: ArrayLike = 0.0,
        q0_kvar: ArrayLike = 0.0,
        s_max_kva: ArrayLike = np.nan,
        horizon_h: float = 1.0,
        ccp: ArrayLike = 0,
        kind: Any = None,
        site_id: ArrayLike | None = None,
    ) -> FlexMetrics:
        """Build the metrics from load-convention ranges (+ = drawn from the grid).

        Parameters
        ----------
        device_id : array_like of str, shape (n_devices,)
            [-]
        p_min_kw, p_max_kw : array_like, shape (n_devices,)
            Feasible active power in the period, load convention. [kW]
        ramp_down_kw_per_min, ramp_up_kw_per_min : array_like, shape (n_devices,)
            Largest decrease (<= 0) and increase (>= 0) of the load-convention power per minute. [kW/min]
        e_absorb_max_kwh, e_deliver_max_kwh : array_like, shape (n_devices,)
            Most energy the device can take from / give to the grid over the horizon (both >= 0). [kWh]
        e_absorb_min_kwh, e_deliver_min_kwh : array_like, shape (n_devices,)
            Energy the device must at least take (a load that must run) or give (a must-run unit); at most
            one of the two is non-zero per device. [kWh]
        q_min_kvar, q_max_kvar : array_like, shape (n_devices,)
            Reactive range at the operating point, load convention (+ = absorbing). [kvar]
        q_ramp_kvar_per_min : array_like, shape (n_devices,)
            Symmetric reactive ramp (>= 0). [kvar/min]
        p0_kw, q0_kvar : array_like, shape (n_devices,)
            Present operating point, load convention. [kW], [kvar]
        s_max_kva : array_like, shape (n_devices,)
            Apparent-power rating (NaN: none). [kVA]
        horizon_h : float
            Horizon of the energy metric. [h]
        ccp : array_like of int, shape (n_devices,)
            Common connection point codes. [-]
        kind : Any
            Device kind.
        site_id : ArrayLike | None
            Site of each device. [-]

        Returns
        -------
        FlexMetrics
            Injection-oriented metrics: ``pi = -p``, ``phi = -q``, ``rho_up = -ramp_down``.
        """
        ids = np.asarray(device_id, dtype=object)
        e_abs_max = np.asarray(e_absorb_max_kwh, dtype=float)
        e_del_max = np.asarray(e_deliver_max_kwh, dtype=float)
        e_abs_min = np.asarray(e_absorb_min_kwh, dtype=float)
        e_del_min = np.asarray(e_deliver_min_kwh, dtype=float)
        for name, arr in (
            ("e_absorb_max_kwh", e_abs_max),
            ("e_deliver_max_kwh", e_del_max),
            ("e_absorb_min_kwh", e_abs_min),
            ("e_deliver_min_kwh", e_del_min),
        ):
            if np.any(arr < 0):
                raise ValidationError(f"{name} must be >= 0 kWh (an amount of energy, not a signed flow)")
        qr = np.asarray(q_ramp_kvar_per_min, dtype=float)
        if np.any(qr < 0):
            raise ValidationError("q_ramp_kvar_per_min must be >= 0 (a symmetric reactive ramp magnitude)")
        eps_min = np.where(e_del_min > 0, e_del_min, -e_abs_max)
        eps_max = np.where(e_abs_min > 0, -e_abs_min, e_del_max)
        return cls(
            device_id=ids,
            site_id=site_id,
            pi_min_kw=0.0 - np.asarray(p_max_kw, dtype=float),
            pi_max_kw=0.0 - np.asarray(p_min_kw, dtype=float),
            rho_down_kw_per_min=0.0 - np.asarray(ramp_up_kw_per_min, dtype=float),
            rho_up_kw_per_min=0.0 - np.asarray(ramp_down_kw_per_min, dtype=float),
            eps_min_kwh=eps_min,
            eps_max_kwh=eps_max,
            phi_min_kvar=0.0 - np.asarray(q_max_kvar, dtype=float),
            phi_max_kvar=0.0 - np.asarray(q_min_kvar, dtype=float),
            psi_down_kvar_per_min=0.0 - qr,
            psi_up_kvar_per_min=qr,
            pi0_kw=0.0 - np.asarray(p0_kw, dtype=float),
            phi0_kvar=0.0 - np.asarray(q0_kvar, dtype=float),
            s_max_kva=np.asarray(s_max_kva),  # the table broadcasts scalars and validates the columns
            horizon_h=np.asarray(horizon_h),
            ccp=np.asarray(ccp),
            kind=kind,
        )

    # ------------------------------------------------------------------ views
    def bounds(self, metric: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Lower and upper bound of one metric for every device (device units, injection oriented).

        Parameters
        ----------
        metric : str
            Metric name (``pi``, ``rho``, ``epsilon``, ``phi``, ``psi``).
        """
        spec = _spec(metric)
        return getattr(self, spec.lo_field), getattr(self, spec.hi_field)

    def headroom(self, metric: str = "pi") -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Downward (<= 0) and upward (>= 0) room from the operating point (seed 003 Fig. 2), pi or phi.

        Parameters
        ----------
        metric : str
            Metric name (``pi``, ``rho``, ``epsilon``, ``phi``, ``psi``).
        """
        if metric == "pi":
            x0 = self.pi0_kw
        elif metric == "phi":
            x0 = self.phi0_kvar
        else:
            raise ValidationError(
                f"headroom is defined for 'pi' and 'phi' (got {metric!r}); ramps are already relative"
            )
        lo, hi = self.bounds(metric)
        return np.minimum(lo - x0, 0.0), np.maximum(hi - x0, 0.0)


def _spec(metric: str) -> MetricSpec:
    try:
        return METRICS[metric]
    except KeyError:
        raise ValidationError(f"unknown flexibility metric {metric!r}; use one of {list(METRICS)}") from None


def concat_metrics(parts: Sequence[FlexMetrics]) -> FlexMetrics:
    """Stack several tables (e.g. one per device class) into one.

    Parameters
    ----------
    parts : Sequence[FlexMetrics]
        Metric tables to concatenate.

    Raises
    ------
    ValidationError
        If ``parts`` is empty or device ids repeat across parts.
    """
    parts = [p for p in parts if p is not None]
    if not parts:
        raise ValidationError("concat_metrics needs at least one FlexMetrics table")
    if len(parts) == 1:
        return parts[0]
    kwargs = {
        f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in dataclasses.fields(FlexMetrics)
    }
    return FlexMetrics(**kwargs)


def metrics_from_records(records: Sequence[Mapping[str, Any]] | Any, scale: float = 1.0) -> FlexMetrics:
    """Build a table from records or a DataFrame with the column names of :class:`FlexMetrics`.

    ``scale`` multiplies every power/energy column (e.g. ``1000`` when the numbers are in MW, MWh, Mvar as in
    the paper's tables); ``horizon_h``, ``ccp`` and ids are not scaled.

    Parameters
    ----------
    records : Sequence[Mapping[str, Any]] | Any
        One mapping per device.
    scale : float
        Factor applied to every power and energy column (1000 for MW input). [-]
    """
    table = FlexMetrics.from_frame(records)
    if scale == 1.0:
        return table
    if not np.isfinite(scale) or scale <= 0:
        raise ValidationError(f"scale must be a positive finite factor (got {scale!r})")
    keep = {"horizon_h", "ccp"}
    changes = {
        f.name: getattr(table, f.name) * scale for f in FlexMetrics.param_fields() if f.name not in keep
    }
    return table.replace(**changes)


def ramp_limited_energy_kwh(
    p0_kw: ArrayLike, p_target_kw: ArrayLike, rate_kw_per_min: ArrayLike, horizon_h: ArrayLike
) -> NDArray[np.float64]:
    """Energy of a move from ``p0_kw`` towards ``p_target_kw`` at a ramp rate, held there until the horizon.

    Eq. (1) of seed 003 (energy is the integral of power, power the integral of the ramp): the power follows
    a straight ramp until it reaches the target (or the horizon ends) and then stays constant, so the energy
    is the area of a trapezoid. Any orientation works as long as all inputs share it.

    Parameters
    ----------
    p0_kw, p_target_kw : array_like
        Present and target power. [kW]
    rate_kw_per_min : array_like
        Ramp rate magnitude, > 0 (inf: a step). [kW/min]
    horizon_h : array_like
        Horizon. [h]

    Returns
    -------
    numpy.ndarray
        Energy over the horizon. [kWh]
    """
    p0 = np.asarray(p0_kw, dtype=float)
    pt = np.asarray(p_target_kw, dtype=float)
    r = np.asarray(rate_kw_per_min, dtype=float)
    hz_min = np.asarray(horizon_h, dtype=float) * MIN_PER_H
    if np.any(r <= 0):
        raise ValidationError("rate_kw_per_min must be > 0 (a ramp magnitude)")
    gap = np.abs(pt - p0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_reach = np.where(gap == 0, 0.0, gap / r)  # minutes; 0 for an infinite rate
    reached = t_reach <= hz_min
    direction = np.sign(pt - p0)
    e_reached = pt * hz_min - (pt - p0) * t_reach / 2.0
    e_partial = p0 * hz_min + direction * np.where(np.isfinite(r), r, 0.0) * hz_min**2 / 2.0
    return np.where(reached, e_reached, e_partial) / MIN_PER_H


def full_range_rate(rate_kw_per_min: ArrayLike, span_kw: ArrayLike) -> NDArray[np.float64]:
    """Ramp credited per minute: the rate, or the device's full range per minute when it has no limit.

    Devices without a ramp limit (``inf``, e.g. inverters) can cross their whole range within the metric's
    one-minute time base; crediting exactly that keeps every metric finite.

    Parameters
    ----------
    rate_kw_per_min : ArrayLike
        Ramp rate (inf = unlimited). [kW/min]
    span_kw : ArrayLike
        Width of the power range. [kW]
    """
    r = np.asarray(rate_kw_per_min, dtype=float)
    span = np.asarray(span_kw, dtype=float)
    return np.where(np.isfinite(r), r, np.maximum(span, 0.0))
