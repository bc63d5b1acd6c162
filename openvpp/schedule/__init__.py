"""Scheduling: the day-ahead :class:`Plan`, the exact per-site optimiser and fleet value stacking."""

from openvpp.schedule.devices import SCHEDULED_CLASSES, DeviceModels, device_models
from openvpp.schedule.plan import Breach, Plan, PlanCheck
from openvpp.schedule.services import FCAS_DURATION_H, ServiceSpec, catalogue_specs, fcas_specs
from openvpp.schedule.site import SiteProblem, SolveInfo, solve_sites

__all__ = [
    "FCAS_DURATION_H",
    "SCHEDULED_CLASSES",
    "Breach",
    "DeviceModels",
    "Plan",
    "PlanCheck",
    "ServiceSpec",
    "SiteProblem",
    "SolveInfo",
    "catalogue_specs",
    "device_models",
    "fcas_specs",
    "solve_sites",
]
