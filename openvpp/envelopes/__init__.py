"""Network limits: the SAPN constraint engine, capacity metrics, hosting capacity and publishable envelopes.

Seed 001 (CSIRO/SAPN) §2.2-§4. See docs/envelopes.md for the method and the adopted interpretation of the
raw-limit equation.
"""

from openvpp.envelopes.daily import DayEnvelopes, fleet_day_envelopes, simbench_day_envelopes, site_envelopes
from openvpp.envelopes.engine import (
    ALLOCATIONS,
    DEFAULT_MARGIN,
    DYNAMIC_CAP_KW,
    STATIC_FLOOR_KW,
    allocate_sites_kw,
    mediated_kw,
    mediated_limit_kw,
    raw_limit_kw,
    raw_per_site_kw,
)
from openvpp.envelopes.metrics import (
    UNCONSTRAINED_PCT,
    available_energy_kwh,
    average_available_capacity_kw,
    capacity_metrics,
    hosting_capacity_kw,
    hosting_table,
    released_energy_kwh,
    vpp_average,
    weighted_lower_quantiles,
)
from openvpp.envelopes.network_envelopes import (
    EnvelopeComparison,
    FeederDay,
    NetworkEnvelopes,
    compare_with_heuristic,
    network_envelopes,
    simbench_feeder_day,
)
from openvpp.envelopes.objects import (
    LIMIT_FIELDS,
    EnvelopeSet,
    active_power_from_dict,
    active_power_to_dict,
    decode_active_power,
    encode_active_power,
    envelopes_from_limits,
    make_mrid,
)
from openvpp.envelopes.scenarios import (
    ScenarioInputs,
    ScenarioSet,
    make_scenario_set,
    season_of,
    simbench_scenario_inputs,
)
from openvpp.envelopes.solar import LOCATIONS, solar_curve_kw, sun_times_h
from openvpp.envelopes.sweep import ArraySource, PopulationParams, SweepResult, SyntheticSource, run_sweep

__all__ = [
    "ALLOCATIONS",
    "DEFAULT_MARGIN",
    "DYNAMIC_CAP_KW",
    "LIMIT_FIELDS",
    "LOCATIONS",
    "STATIC_FLOOR_KW",
    "UNCONSTRAINED_PCT",
    "ArraySource",
    "DayEnvelopes",
    "EnvelopeComparison",
    "EnvelopeSet",
    "FeederDay",
    "NetworkEnvelopes",
    "PopulationParams",
    "ScenarioInputs",
    "ScenarioSet",
    "SweepResult",
    "SyntheticSource",
    "active_power_from_dict",
    "active_power_to_dict",
    "allocate_sites_kw",
    "available_energy_kwh",
    "average_available_capacity_kw",
    "capacity_metrics",
    "compare_with_heuristic",
    "decode_active_power",
    "encode_active_power",
    "envelopes_from_limits",
    "fleet_day_envelopes",
    "hosting_capacity_kw",
    "hosting_table",
    "make_mrid",
    "make_scenario_set",
    "mediated_kw",
    "mediated_limit_kw",
    "network_envelopes",
    "raw_limit_kw",
    "raw_per_site_kw",
    "released_energy_kwh",
    "run_sweep",
    "season_of",
    "simbench_day_envelopes",
    "simbench_feeder_day",
    "simbench_scenario_inputs",
    "site_envelopes",
    "solar_curve_kw",
    "sun_times_h",
    "vpp_average",
    "weighted_lower_quantiles",
]
