"""SimBench low-voltage grids and their year-long 15-min profiles (package ``simbench``, shipped offline).

SimBench (Meinecke et al., Energies 13(12) 3290, 2020) publishes benchmark distribution grids with one year
of 15-min load, PV and storage profiles for 2016; the data ships inside the ``simbench`` package, so nothing
is downloaded. :func:`load_simbench_lv` reads a grid once per process (reading the CSV data set takes ~5 s)
and hands out deep copies, so callers may modify the network they get.

Time zone
---------
The profiles carry wall-clock stamps ``01.01.2016 00:00`` ... ``31.12.2016 23:45``: exactly 366 x 96 rows,
with no daylight-saving gap or repeat, so they run on a fixed-offset clock. OpenVPP assigns
:data:`SIMBENCH_TZ` = ``"Etc/GMT-1"`` (UTC+01:00 all year, central European *standard* time, the clock of
the German grids SimBench models). Pass ``tz`` to :func:`simbench_profiles` to relabel the same stamps in
another zone.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from openvpp.errors import DataError, ValidationError

#: time zone assigned to SimBench profile stamps (fixed UTC+01:00; see the module docstring)
SIMBENCH_TZ = "Etc/GMT-1"
#: the profile year of SimBench
SIMBENCH_YEAR = 2016
#: profile step [min]
SIMBENCH_STEP_MIN = 15.0
#: number of 15-min steps in the (leap) year 2016
SIMBENCH_N_STEPS = 366 * 96


@dataclass(frozen=True)
class LVGridInfo:
    """One entry of the registry of useful SimBench LV grids."""

    code: str
    kind: str
    description: str


#: SimBench LV grids that suit VPP studies (counts are those of simbench 1.5/1.6: loads incl. heat pumps
#: and EV chargers, PV generators, storages, transformer rating)
LV_GRIDS: dict[str, LVGridInfo] = {
    g.code: g
    for g in (
        LVGridInfo("1-LV-rural1--2-sw", "rural",
                   "small rural feeder, 15 buses, 28 loads (13 households/farms, 8 heat pumps, 7 EV), "
                   "8 PV, 5 storages, 160 kVA transformer; loads in ~5 s, the demo default"),
        LVGridInfo("1-LV-rural2--2-sw", "rural",
                   "rural feeder, 97 buses, 118 loads, 11 PV, 8 storages, 250 kVA transformer"),
        LVGridInfo("1-LV-rural3--2-sw", "rural",
                   "long rural feeder, 129 buses, 153 loads, 27 PV, 16 storages, 400 kVA transformer"),
        LVGridInfo("1-LV-semiurb4--2-sw", "semi-urban",
                   "semi-urban feeder, 44 buses, 58 loads incl. commercial, 6 PV, 4 storages, 400 kVA "
                   "transformer"),
        LVGridInfo("1-LV-semiurb5--2-sw", "semi-urban",
                   "semi-urban feeder, 111 buses, 129 loads, 15 PV, 15 storages, 630 kVA transformer"),
        LVGridInfo("1-LV-urban6--2-sw", "urban",
                   "urban feeder, 59 buses, 135 loads (mostly households), 12 PV, 7 storages, 630 kVA "
                   "transformer"),
    )
}


def lv_grid_codes() -> list[str]:
    """Codes of the registered SimBench LV grids (see :data:`LV_GRIDS`)."""
    return list(LV_GRIDS)


def _check_code(code: str) -> str:
    if not isinstance(code, str) or not code.strip():
        raise ValidationError(
            f"grid code must be a non-empty string such as '1-LV-rural1--2-sw' (got {code!r})"
        )
    return code.strip()


@functools.lru_cache(maxsize=8)
def _read_simbench_net(code: str) -> Any:
    import simbench

    try:
        return simbench.get_simbench_net(code)
    except Exception as exc:  # simbench raises plain ValueError/KeyError/UserWarning on bad codes
        raise DataError(
            f"SimBench grid code {code!r} could not be loaded ({type(exc).__name__}: {exc}); "
            f"registered LV codes are {lv_grid_codes()}"
        ) from exc


def load_simbench_lv(code: str = "1-LV-rural1--2-sw") -> Any:
    """Load a SimBench grid as a pandapower network (with its profiles in ``net.profiles``).

    Caching: the first call for a code reads the data shipped with ``simbench`` (~5 s) and keeps it in an
    in-process LRU cache (8 grids); every call returns a deep copy, so the caller may change it freely.

    Parameters
    ----------
    code : str
        SimBench code, e.g. ``"1-LV-rural1--2-sw"``; :data:`LV_GRIDS` lists the LV grids OpenVPP uses.

    Returns
    -------
    pandapower.pandapowerNet

    Raises
    ------
    DataError
        If simbench does not know the code.
    """
    net = _read_simbench_net(_check_code(code))
    if len(net.load) == 0:
        raise DataError(f"SimBench grid {code!r} has no loads; choose an LV grid from {lv_grid_codes()}")
    return copy.deepcopy(net)


def simbench_index(tz: str = SIMBENCH_TZ, n_steps: int = SIMBENCH_N_STEPS) -> pd.DatetimeIndex:
    """The SimBench profile axis: 2016-01-01 00:00, 15-min steps, in ``tz`` (default fixed UTC+01:00).

    Parameters
    ----------
    n_steps : int
        Number of 15-min steps. [-]
    tz : str
        Time zone of the axis (default: SimBench's fixed UTC+1).
    """
    from openvpp.timeseries import make_index

    return make_index(f"{SIMBENCH_YEAR}-01-01 00:00", n_steps, SIMBENCH_STEP_MIN, tz=tz)


def simbench_profiles(net: Any, tz: str = SIMBENCH_TZ) -> dict[tuple[str, str], pd.DataFrame]:
    """Absolute year-long 15-min profiles of every load, sgen and storage of a SimBench network.

    Wraps ``simbench.get_absolute_values(net, profiles_instead_of_study_cases=True)`` (relative profile x
    rated power of each element) and replaces the integer index by a tz-aware
    :class:`~pandas.DatetimeIndex` (see the module docstring for the time zone).

    Parameters
    ----------
    net : pandapower.pandapowerNet
        A network from :func:`load_simbench_lv` (it must carry ``net.profiles``).
    tz : str
        Zone given to the stamps. Default :data:`SIMBENCH_TZ`.

    Returns
    -------
    dict
        ``{("load", "p_mw"): DataFrame, ("load", "q_mvar"): ..., ("sgen", "p_mw"): ...,
        ("storage", "p_mw"): ...}``; columns are the element indices of the network, values in MW / Mvar
        in the generator convention of pandapower for sgen (output positive) and the load convention for
        loads.
    """
    import simbench

    if not hasattr(net, "profiles") or not isinstance(net.profiles, dict) or "load" not in net.profiles:
        raise DataError("net has no SimBench profiles (net.profiles['load']); load it with load_simbench_lv")
    try:
        values = simbench.get_absolute_values(net, profiles_instead_of_study_cases=True)
    except Exception as exc:
        raise DataError(f"SimBench profiles could not be computed: {type(exc).__name__}: {exc}") from exc
    out: dict[tuple[str, str], pd.DataFrame] = {}
    index: pd.DatetimeIndex | None = None
    for key, frame in values.items():
        if index is None or len(index) != len(frame):
            index = simbench_index(tz, len(frame))
        df = frame.copy()
        df.index = index
        out[key] = df
    return out


def simbench_relative_profiles(net: Any, table: str = "renewables", tz: str = SIMBENCH_TZ) -> pd.DataFrame:
    """Relative (per-unit of rated power) SimBench profiles of one profile table, on a tz-aware axis.

    Parameters
    ----------
    net : pandapower.pandapowerNet
        A SimBench network.
    table : {"load", "renewables", "storage", "powerplants"}
        Profile table; ``"renewables"`` holds PV profiles such as ``"PV5"`` (AC output per kW of rated
        power, in [0, 1]).
    tz : str
        Zone given to the stamps.

    Returns
    -------
    pandas.DataFrame
        One column per profile (the ``time`` column removed), values in p.u. [-].
    """
    profiles = getattr(net, "profiles", None)
    if not isinstance(profiles, dict) or table not in profiles:
        known = sorted(profiles) if isinstance(profiles, dict) else []
        raise ValidationError(f"profile table {table!r} not in net.profiles; known tables are {known}")
    df = profiles[table].drop(columns=["time"], errors="ignore").astype(float)
    df = df.copy()
    df.index = simbench_index(tz, len(df))
    if df.isna().to_numpy().any():
        raise DataError(f"SimBench profile table {table!r} contains NaN")
    return df


def check_simbench_day(day: str | pd.Timestamp, name: str = "day") -> str:
    """Validate a day of the SimBench profile year (:data:`SIMBENCH_YEAR`) and return it as ``YYYY-MM-DD``.

    Cheap: call it before loading a grid so that a bad day fails fast.

    Parameters
    ----------
    day : str or pandas.Timestamp
        A day of the SimBench profile year 2016 (``YYYY-MM-DD``).
    name : str
        The argument as the user wrote it, for the message.

    Raises
    ------
    ValidationError
        Naming ``name``, if ``day`` is not a date or lies outside 2016.
    """
    try:
        ts = pd.Timestamp(day)
    except (ValueError, TypeError) as exc:
        raise ValidationError(
            f"{name} must be a date in {SIMBENCH_YEAR} such as '{SIMBENCH_YEAR}-06-15' (got {day!r})"
        ) from exc
    if ts is pd.NaT or ts.year != SIMBENCH_YEAR:
        raise ValidationError(
            f"{name} must be a date in {SIMBENCH_YEAR}, the SimBench profile year (got {day!r}); "
            f"e.g. '{SIMBENCH_YEAR}-06-15'"
        )
    return ts.strftime("%Y-%m-%d")


def day_slice(index: pd.DatetimeIndex, day: str | pd.Timestamp, n_days: int = 1) -> slice:
    """Positions of ``n_days`` whole days starting at ``day`` (local date in the index's zone).

    Parameters
    ----------
    index : pandas.DatetimeIndex
        The profile axis (tz-aware, fixed step).
    day : str or pandas.Timestamp
        First local day (``YYYY-MM-DD``).
    n_days : int
        Number of days. [-]

    Raises
    ------
    ValidationError
        If ``day`` is not a date or the days are not fully covered by ``index``.
    """
    try:
        start = pd.Timestamp(day)
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"day must be a date such as '2016-06-15' (got {day!r})") from exc
    if start is pd.NaT:
        raise ValidationError(f"day must be a date such as '2016-06-15' (got {day!r})")
    start = start.tz_localize(index.tz) if start.tzinfo is None else start.tz_convert(index.tz)
    start = start.normalize()
    if int(n_days) != n_days or n_days < 1:
        raise ValidationError(f"n_days must be a positive whole number (got {n_days!r})")
    step = (index[1] - index[0]) if len(index) > 1 else pd.Timedelta(minutes=SIMBENCH_STEP_MIN)
    n_expected = round(pd.Timedelta(days=int(n_days)) / step)
    i0 = int(np.searchsorted(index, start))
    if i0 >= len(index) or index[i0] != start or i0 + n_expected > len(index):
        raise ValidationError(
            f"day {str(day)!r} (x{n_days}) is not covered by the profile axis {index[0]} .. {index[-1]}; "
            f"pick dates within that range"
        )
    return slice(i0, i0 + n_expected)
