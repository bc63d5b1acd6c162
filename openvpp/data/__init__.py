"""Data: loaders of public LV grids and profiles, and the small bundled input tables.

Nothing is downloaded at run time: SimBench grids and profiles ship in the ``simbench`` package, the IEEE
European LV feeder in ``pandapower``, and seed input tables in ``openvpp/data/bundled/``.
"""

from openvpp.data.bundled import bundled_table, bundled_value, list_bundled
from openvpp.data.ieee import load_ieee_european_lv
from openvpp.data.simbench import (
    LV_GRIDS,
    SIMBENCH_TZ,
    LVGridInfo,
    check_simbench_day,
    day_slice,
    load_simbench_lv,
    lv_grid_codes,
    simbench_index,
    simbench_profiles,
    simbench_relative_profiles,
)

__all__ = [
    "LV_GRIDS",
    "SIMBENCH_TZ",
    "LVGridInfo",
    "bundled_table",
    "bundled_value",
    "check_simbench_day",
    "day_slice",
    "list_bundled",
    "load_ieee_european_lv",
    "load_simbench_lv",
    "lv_grid_codes",
    "simbench_index",
    "simbench_profiles",
    "simbench_relative_profiles",
]
