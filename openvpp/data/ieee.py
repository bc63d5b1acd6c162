"""The IEEE European LV test feeder as shipped with pandapower (asymmetric version).

``pandapower.networks.ieee_european_lv_asymmetric`` builds the 906-bus, 55-customer European LV feeder of
the IEEE PES distribution test feeders with single-phase loads (``net.asymmetric_load``); it ships inside
pandapower, nothing is downloaded.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from openvpp.errors import DataError, ValidationError

#: scenarios pandapower offers for the feeder (loading at a given minute of the published day)
IEEE_EUROPEAN_LV_SCENARIOS = ("on_peak_566", "off_peak_1", "off_peak_1440")


@functools.lru_cache(maxsize=4)
def _read(scenario: str) -> Any:
    import pandapower.networks as pn

    try:
        return pn.ieee_european_lv_asymmetric(scenario=scenario)
    except Exception as exc:
        raise DataError(f"pandapower could not build the IEEE European LV feeder: {exc}") from exc


def load_ieee_european_lv(scenario: str = "on_peak_566") -> Any:
    """Load the IEEE European LV feeder (pandapower, asymmetric loads).

    Cached per process like :func:`openvpp.data.load_simbench_lv`; every call returns a deep copy.

    Parameters
    ----------
    scenario : {"on_peak_566", "off_peak_1", "off_peak_1440"}
        Loading snapshot provided by pandapower.

    Returns
    -------
    pandapower.pandapowerNet
    """
    if scenario not in IEEE_EUROPEAN_LV_SCENARIOS:
        raise ValidationError(
            f"scenario must be one of {list(IEEE_EUROPEAN_LV_SCENARIOS)} (got {scenario!r})"
        )
    return copy.deepcopy(_read(scenario))
