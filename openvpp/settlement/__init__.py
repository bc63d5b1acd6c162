"""Settlement: baselines (measurement and verification), measured performance, participant payments and
statements, and the aggregator's margin (seed 000 §4, §6.1; explainer 002)."""

from openvpp.settlement.baselines import (
    business_days,
    control_group_baseline,
    day_matrix,
    day_of_adjustment,
    meter_before_baseline,
    x_of_y_baseline,
)
from openvpp.settlement.eligibility import EligibilityReport, accuracy_metrics, baseline_eligibility
from openvpp.settlement.io import Telemetry, events_from_frame, telemetry_from_long
from openvpp.settlement.performance import EventPerformance, measure_events, monthly_performance_factor
from openvpp.settlement.program import Program, load_program, program_from_business, program_from_toml
from openvpp.settlement.statements import Settlement, aggregator_view, participant_statements, settle

__all__ = [
    "EligibilityReport",
    "EventPerformance",
    "Program",
    "Settlement",
    "Telemetry",
    "accuracy_metrics",
    "aggregator_view",
    "baseline_eligibility",
    "business_days",
    "control_group_baseline",
    "day_matrix",
    "day_of_adjustment",
    "events_from_frame",
    "load_program",
    "measure_events",
    "meter_before_baseline",
    "monthly_performance_factor",
    "participant_statements",
    "program_from_business",
    "program_from_toml",
    "settle",
    "telemetry_from_long",
    "x_of_y_baseline",
]
