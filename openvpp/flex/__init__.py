"""Operational flexibility of a VPP (seed 003, Sarmiento-Vintimilla et al. 2024): the five metrics per device,
Minkowski aggregation per common connection point and for the VPP, needed flexibility and its verification.

Orientation: the metrics are injection oriented (+ = delivered to the grid, ``pi = -p_kw``); see
:mod:`openvpp.flex.metrics`.
"""

from openvpp.flex.adapters import (
    ADAPTERS,
    metrics_from_battery,
    metrics_from_dispatchable_generator,
    metrics_from_ev,
    metrics_from_flexload,
    metrics_from_heatpump,
    metrics_from_pv,
    metrics_from_variable_generator,
    metrics_from_waterheater,
)
from openvpp.flex.aggregate import AggregateFlexibility, PQRegions, aggregate
from openvpp.flex.fleet import FleetFlexibility, fleet_flexibility
from openvpp.flex.metrics import (
    METRICS,
    FlexMetrics,
    concat_metrics,
    metrics_from_records,
    ramp_limited_energy_kwh,
)
from openvpp.flex.request import (
    FlexRequest,
    Need,
    Verification,
    dispatch_requests,
    regulation_band_request,
    verify,
    voltage_support_request,
)

__all__ = [
    "ADAPTERS",
    "METRICS",
    "AggregateFlexibility",
    "FleetFlexibility",
    "FlexMetrics",
    "FlexRequest",
    "Need",
    "PQRegions",
    "Verification",
    "aggregate",
    "concat_metrics",
    "dispatch_requests",
    "fleet_flexibility",
    "metrics_from_battery",
    "metrics_from_dispatchable_generator",
    "metrics_from_ev",
    "metrics_from_flexload",
    "metrics_from_heatpump",
    "metrics_from_pv",
    "metrics_from_records",
    "metrics_from_variable_generator",
    "metrics_from_waterheater",
    "ramp_limited_energy_kwh",
    "regulation_band_request",
    "verify",
    "voltage_support_request",
]
