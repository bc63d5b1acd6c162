"""The columnar fleet: sites, one parameter table per DER class, profiles, builders and operation."""

from openvpp.fleet.builders import DEFAULT_MIX, from_records, from_simbench, synthetic
from openvpp.fleet.classes import DER_CLASSES, available_der_classes, der_class
from openvpp.fleet.fleet import GROUPINGS, PROFILE_NAMES, Fleet, Profiles
from openvpp.fleet.sites import PHASES, Sites

__all__ = [
    "DEFAULT_MIX",
    "DER_CLASSES",
    "GROUPINGS",
    "PHASES",
    "PROFILE_NAMES",
    "Fleet",
    "Profiles",
    "Sites",
    "available_der_classes",
    "der_class",
    "from_records",
    "from_simbench",
    "synthetic",
]
