"""Inputs of a plan: a fleet's day axis, its load and PV profiles on that axis, and its EV sessions.

A day-ahead plan for ``day`` runs **noon to noon** (``day`` 12:00 to the next day 12:00, local market time):
the horizon of the fleet builders' EV sessions (``openvpp.fleet.builders.EV_SESSION_HORIZON``), so that the
evening peak and the overnight charging of one session fall in one plan.

Profiles come from SimBench's 2016 year (household loads ``H0-*``, their PV ``pv_pu``) mapped onto the plan
axis by **clock time and day of year** (the same month, day and wall-clock time), averaged onto longer steps
and held constant on shorter ones; ``season_shift_days`` moves the lookup by whole days (182 maps a southern
summer onto the northern one).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openvpp.errors import ValidationError
from openvpp.timeseries import check_index, make_index, step_minutes

if TYPE_CHECKING:
    from openvpp.fleet import Fleet

__all__ = ["EV_SESSION_STEP_MIN", "attach_day_profiles", "clock_positions", "day_index", "sessions_on_axis"]

#: step of the builders' EV session axis (noon-to-noon, 15 min) [min]
EV_SESSION_STEP_MIN = 15.0
#: SimBench profile step [min]
SIMBENCH_STEP_MIN = 15.0
#: largest number of plan steps a day axis may have (1-min steps) [-]
MAX_DAY_STEPS = 1440


def day_index(day: str | pd.Timestamp, step_min: float = 30.0, tz: str = "Etc/GMT-10") -> pd.DatetimeIndex:
    """The noon-to-noon plan axis of ``day`` (module docstring).

    Parameters
    ----------
    day : str or pandas.Timestamp
        Date, ``YYYY-MM-DD``.
    step_min : float
        Step; must divide 24 h. [min]
    tz : str
        Market time zone (default NEM time, AEST).

    Returns
    -------
    pandas.DatetimeIndex
    """
    try:
        d = pd.Timestamp(day)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"--day must be a date such as 2019-12-03 (got {day!r})") from exc
    if d is pd.NaT:
        raise ValidationError(f"--day must be a date such as 2019-12-03 (got {day!r})")
    n = 24 * 60 / float(step_min)
    if not np.isfinite(n) or n != int(n) or n > MAX_DAY_STEPS or n < 1:
        raise ValidationError(
            f"--step-min must divide 24 h into at most {MAX_DAY_STEPS} steps (got {step_min!r})"
        )
    start = pd.Timestamp(d.date()) + pd.Timedelta(hours=12)
    return make_index(start, int(n), float(step_min), tz=tz)


def clock_positions(index: pd.DatetimeIndex, season_shift_days: int = 0) -> NDArray[np.int64]:
    """Position in the SimBench 15-min year of each stamp of ``index`` by month, day and wall-clock time.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Target axis.
    season_shift_days : int
        Whole days added before the lookup. [d]

    Returns
    -------
    numpy.ndarray of int, shape (n_steps,)
        Positions in ``[0, 366 * 96)``. [-]
    """
    index = check_index(index, "index")
    wall = index.tz_localize(None) + pd.Timedelta(days=int(season_shift_days))
    month, dom = np.asarray(wall.month), np.asarray(wall.day)
    # 2016 is a leap year: every month-day has a SimBench day
    doy = np.asarray(
        pd.to_datetime({"year": np.full(month.size, 2016), "month": month, "day": dom}).dt.dayofyear
    )
    minute = np.asarray(wall.hour * 60 + wall.minute)
    per_day = int(24 * 60 / SIMBENCH_STEP_MIN)
    return (doy - 1) * per_day + (minute // int(SIMBENCH_STEP_MIN)).astype(np.int64)


def resample_year_profile(
    year_15min: NDArray[np.float64], index: pd.DatetimeIndex, season_shift_days: int = 0
) -> NDArray[np.float64]:
    """A SimBench 15-min year (rows x 35,136) on ``index``: mean over the plan step, or held on shorter steps.

    Parameters
    ----------
    year_15min : numpy.ndarray, shape (n_rows, 35136)
        Profiles. [kW] or [-]
    index : pandas.DatetimeIndex
        Target axis.
    season_shift_days : int
        See :func:`clock_positions`. [d]

    Returns
    -------
    numpy.ndarray, shape (n_rows, n_steps)
        [same unit as the input]
    """
    pos = clock_positions(index, season_shift_days)
    k = max(1, round(step_minutes(index) / SIMBENCH_STEP_MIN))
    n = year_15min.shape[1]
    cols = (pos[:, None] + np.arange(k)[None, :]) % n
    return np.asarray(year_15min[:, cols].mean(axis=2))


def sessions_on_axis(ev: Any, index: pd.DatetimeIndex) -> Any:
    """EV sessions of the builders' noon-to-noon 15-min axis converted to positions on ``index``.

    Parameters
    ----------
    ev : EVParams
        Sessions with ``arrival_step`` / ``departure_step`` on the 15-min noon-to-noon axis.
    index : pandas.DatetimeIndex
        A noon-to-noon plan axis (:func:`day_index`).

    Returns
    -------
    EVParams
    """
    scale = EV_SESSION_STEP_MIN / step_minutes(index)
    n_t = len(index)
    arr = np.minimum(np.floor(np.asarray(ev.arrival_step) * scale), n_t).astype(np.int64)
    dep = np.minimum(np.ceil(np.asarray(ev.departure_step) * scale), n_t).astype(np.int64)
    return dataclasses.replace(ev, arrival_step=arr, departure_step=np.maximum(dep, arr))


def attach_day_profiles(
    fleet: Fleet,
    index: pd.DatetimeIndex,
    *,
    grid_code: str = "1-LV-rural1--2-sw",
    season_shift_days: int = 0,
    seed: int = 0,
) -> Fleet:
    """The fleet with ``base_load_kw`` and ``pv_pu`` profiles on ``index`` (and EV sessions on its axis).

    A fleet from :func:`openvpp.fleet.from_simbench` keeps its own profiles (by clock time and day of year);
    a fleet without profiles (e.g. :func:`openvpp.fleet.synthetic`) gets SimBench household (``H0-*``) loads
    and PV profiles of ``grid_code``, drawn per site with ``seed``.

    Parameters
    ----------
    fleet : Fleet
        The fleet.
    index : pandas.DatetimeIndex
        Plan axis.
    grid_code : str
        SimBench grid lending its profiles to a fleet without any.
    season_shift_days : int
        See :func:`clock_positions`. [d]
    seed : int
        Draw of profiles per site. [-]

    Returns
    -------
    Fleet
    """
    from openvpp.data import load_simbench_lv, simbench_relative_profiles
    from openvpp.fleet import Profiles

    index = check_index(index, "index")
    data: dict[str, Any] = {}
    owner: dict[str, str] = {}
    if fleet.profiles is not None and "base_load_kw" in fleet.profiles:
        src = fleet.profiles
        if len(src.index) < 365 * 96:
            raise ValidationError(
                "the fleet's profiles must span the SimBench year (15-min) to map onto a day"
            )
        for name in src.names():
            data[name] = resample_year_profile(np.asarray(src[name]), index, season_shift_days)
            owner[name] = dict(src.owner or {}).get(name, "site")
    else:
        net = load_simbench_lv(grid_code)
        rng = np.random.default_rng(seed)
        load = net.profiles["load"]
        cols = [c for c in load.columns if c.startswith("H0") and c.endswith("_pload")]
        if not cols:
            raise ValidationError(f"SimBench grid {grid_code!r} has no H0 household profiles")
        pick = rng.choice(len(cols), fleet.n_sites)
        # relative household profiles scaled to HOUSEHOLD_KWH_PER_YEAR
        rel = load[cols].to_numpy(float).T
        annual_kwh = rel.sum(axis=1, keepdims=True) * SIMBENCH_STEP_MIN / 60.0
        kw = rel / np.maximum(annual_kwh, 1e-9) * HOUSEHOLD_KWH_PER_YEAR
        data["base_load_kw"] = resample_year_profile(kw[pick], index, season_shift_days)
        owner["base_load_kw"] = "site"
        if fleet.has("pv") and fleet.der("pv").n:
            ren = simbench_relative_profiles(net, "renewables")
            pv_cols = [c for c in ren.columns if c.startswith("PV")]
            pv_year = ren[pv_cols].to_numpy(float).T
            which = rng.choice(len(pv_cols), fleet.der("pv").n)
            data["pv_pu"] = resample_year_profile(pv_year[which], index, season_shift_days)
            owner["pv_pu"] = "pv"
    out = fleet.with_profiles(Profiles(index, data, owner))
    if out.has("ev") and out.der("ev").n:
        out = out.with_der("ev", sessions_on_axis(out.der("ev"), index))
    return out


#: annual consumption given to a SimBench household profile (OpenVPP assumption: an average household of the
#: order of SimBench's H0 standard profile, 1,000 kWh/yr per 1 MWh/yr unit scaled to 3,500 kWh) [kWh]
HOUSEHOLD_KWH_PER_YEAR = 3500.0
