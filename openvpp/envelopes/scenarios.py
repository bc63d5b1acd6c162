"""The 25 day-type scenarios of the SAPN constraint engine and realistic inputs from SimBench + pvlib.

Seed 001 §2.2 (Table 1): 12 months x {workday, non-workday} plus a heatwave day, each a 24-h profile in 5-min
steps. :func:`make_scenario_set` builds that calendar for a location: the representative local date of each
scenario (the 15th of the month; the heatwave on the 20th of the first summer month), the days of the year
each
scenario stands for (weekday/weekend counts of the chosen year; the heatwave days are taken from the summer
month's non-workdays), sunrise and sunset from pvlib and the approximate solar curve.

:func:`simbench_scenario_inputs` makes the modelled net demand ``D_i(t) - G_i(t)`` of a population of
transformers, following the seed's prototypical approach (a few representative networks scaled to the
population):

* demand: SimBench year-long 15-min load profiles of the chosen LV grid (``simbench.get_absolute_values``),
  averaged over the days of each month and day type of the SimBench year (2016; weekends are the
  non-workdays, public holidays are ignored) and interpolated linearly to 5 min. For a southern-hemisphere
  location the SimBench (German) months are shifted by six months so that local winter gets winter demand;
* generation: pvlib clear-sky irradiance (Haurwitz) at the location for the scenario date, times a
  performance ratio of 0.8, times the mean daily clearness of the matching SimBench PV days (daily energy over
  the month's 95th percentile); the heatwave day is clear (clearness 1) and adds an air-conditioning load of
  ``ac_kw`` per customer peaking at 16:30 (Gaussian, 3 h standard deviation) -- a documented assumption, the
  seed's heatwave profiles are not public;
* each transformer draws ``n_customers`` (20-150) from the grid's load profiles, installed PV per customer
  (uniform 1-5 kWp: penetration x system size), a standard kVA rating above 1.2 x its peak mean-profile
  demand (``P_therm``) and a voltage limit ``P_volt`` equal to its largest modelled reverse flow times a
  lognormal headroom factor (median 1.2, log-sd 0.45). The headroom is a calibration, not physics: it was
  chosen so that with ``m = 0.8`` about 56 % of the transformers have no capacity that is unconstrained all
  year, the share of Table 6 of the seed (SAPN's network data are not public);
* the number of VPP sites per transformer follows the distribution of Table 2 of the seed.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openvpp.envelopes.solar import daylight_mask, get_location, solar_curve_kw, sun_times_h
from openvpp.errors import DataError, ValidationError
from openvpp.units import H_PER_DAY, MIN_PER_H, STC_IRRADIANCE_W_PER_M2, mw_to_kw

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: VPP sites per transformer and their occurrences (seed 001 Table 2)
TABLE2_SITES = np.array([1, 2, 3, 4, 5, 8])
TABLE2_COUNTS = np.array([314, 75, 29, 5, 1, 1])
#: standard distribution transformer ratings used for P_therm [kVA]
STANDARD_KVA = np.array([25, 50, 63, 100, 160, 200, 250, 315, 400, 500, 630, 800, 1000, 1250, 1600])
#: seasons of seed 001 Figure 13 by local month in the southern hemisphere
SEASONS_SOUTH = {3: "Autumn", 4: "Autumn", 5: "Shoulder", 8: "Shoulder", 6: "Winter", 7: "Winter"}


def season_of(month: int, southern: bool = True) -> str:
    """Season category of seed 001 Figure 13 (Autumn, Shoulder, Winter, Summer) for a local month.

    Parameters
    ----------
    month : int
        Local month, 1-12. [-]
    southern : bool
        True south of the equator.
    """
    m = int(month) if southern else (int(month) + 5) % 12 + 1
    return SEASONS_SOUTH.get(m, "Summer")


def winter_months(southern: bool = True) -> tuple[int, ...]:
    """Local months of winter: June-August south of the equator, December-February north of it.

    Parameters
    ----------
    southern : bool
        True south of the equator.
    """
    return (6, 7, 8) if southern else (12, 1, 2)


@dataclasses.dataclass(frozen=True)
class ScenarioSet:
    """The day-type scenarios of one location (seed 001 Table 1).

    Attributes
    ----------
    names : tuple of str
        ``"Jan-workday"``, ``"Jan-non-workday"``, ..., ``"heatwave"``.
    month : numpy.ndarray of int, shape (n_scenarios,)
        Local month 1-12.
    workday, heatwave : numpy.ndarray of bool, shape (n_scenarios,)
    dates : pandas.DatetimeIndex
        Representative local date of each scenario (tz-aware midnight).
    day_weights : numpy.ndarray, shape (n_scenarios,)
        Days of the year each scenario stands for (integers, sum = days in the year). [d]
    n_steps : int
        Steps per day (288 for 5-min).
    sunrise_h, sunset_h : numpy.ndarray, shape (n_scenarios,)
        Local sunrise and sunset. [h]
    daylight : numpy.ndarray of bool, shape (n_scenarios, n_steps)
    solar_kw : numpy.ndarray, shape (n_scenarios, n_steps)
        Export capability curve of a PV + battery site S(t). [kW]
    location : str
        Location name.
    southern : bool
        True south of the equator.
    """

    names: tuple[str, ...]
    month: NDArray[np.int64]
    workday: NDArray[np.bool_]
    heatwave: NDArray[np.bool_]
    dates: pd.DatetimeIndex
    day_weights: NDArray[np.float64]
    n_steps: int
    sunrise_h: NDArray[np.float64]
    sunset_h: NDArray[np.float64]
    daylight: NDArray[np.bool_]
    solar_kw: NDArray[np.float64]
    location: str
    southern: bool

    @property
    def n_scenarios(self) -> int:
        """N scenarios."""
        return len(self.names)

    @property
    def step_min(self) -> float:
        """Step min."""
        return H_PER_DAY * MIN_PER_H / self.n_steps

    @property
    def seasons(self) -> list[str]:
        """Season category (seed 001 Figure 13) of each scenario; the heatwave is its own category."""
        return [
            "Heatwave" if h else season_of(m, self.southern)
            for m, h in zip(self.month, self.heatwave, strict=True)
        ]

    def index(self, k: int) -> pd.DatetimeIndex:
        """Time axis (interval starts, local time) of scenario ``k``.

        Parameters
        ----------
        k : int
            Index or count. [-]
        """
        return pd.date_range(self.dates[k], periods=self.n_steps, freq=pd.Timedelta(minutes=self.step_min))


def make_scenario_set(
    location: str = "adelaide",
    year: int = 2021,
    n_steps: int = 288,
    heatwave_days: int = 2,
    p_pv_kw: float = 5.0,
    p_batt_kw: float = 5.0,
) -> ScenarioSet:
    """The 25 day-type scenarios of seed 001 Table 1 for a location and calendar year.

    Parameters
    ----------
    location : str or pvlib.location.Location
        ``"adelaide"`` (default, the seed's site), ``"santiago"`` or a pvlib Location.
    year : int
        Calendar year for dates, weekday counts and sun times. [-]
    n_steps : int
        Steps per day (288 = 5-min steps of the seed). [-]
    heatwave_days : int
        Days of the year represented by the heatwave scenario, taken from the summer month's non-workdays. [-]
    p_pv_kw, p_batt_kw : float
        Site PV and battery inverter ratings of the solar curve (seed: 5 kW each). [kW]

    Returns
    -------
    ScenarioSet
    """
    loc = get_location(location)
    southern = loc.latitude < 0
    if int(heatwave_days) != heatwave_days or heatwave_days < 0:
        raise ValidationError(f"heatwave_days must be a whole number >= 0 (got {heatwave_days!r})")
    days = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
    names, month, workday, heat, dates, weights = [], [], [], [], [], []
    summer = 1 if southern else 7
    for m in range(1, 13):
        in_month = days[days.month == m]
        for wd in (True, False):
            n = int(np.sum((in_month.weekday < 5) == wd))
            if m == summer and not wd:
                if heatwave_days > n:
                    raise ValidationError(
                        f"heatwave_days={heatwave_days} exceeds the {n} non-workdays of month {m}"
                    )
                n -= int(heatwave_days)
            names.append(f"{MONTH_NAMES[m - 1]}-{'workday' if wd else 'non-workday'}")
            month.append(m)
            workday.append(wd)
            heat.append(False)
            dates.append(pd.Timestamp(year=year, month=m, day=15))
            weights.append(n)
    names.append("heatwave")
    month.append(summer)
    workday.append(False)
    heat.append(True)
    dates.append(pd.Timestamp(year=year, month=summer, day=20))
    weights.append(int(heatwave_days))
    didx = pd.DatetimeIndex(dates).tz_localize(loc.tz)
    rise, sset = sun_times_h(didx, loc)
    return ScenarioSet(
        names=tuple(names),
        month=np.array(month),
        workday=np.array(workday),
        heatwave=np.array(heat),
        dates=didx,
        day_weights=np.array(weights, dtype=float),
        n_steps=int(n_steps),
        sunrise_h=rise,
        sunset_h=sset,
        daylight=daylight_mask(rise, sset, n_steps),
        solar_kw=solar_curve_kw(rise, sset, n_steps, p_pv_kw=p_pv_kw, p_batt_kw=p_batt_kw),
        location=str(loc.name),
        southern=bool(southern),
    )


@dataclasses.dataclass(frozen=True)
class ScenarioInputs:
    """Inputs of the constraint engine for a population of transformers over a scenario set.

    Attributes
    ----------
    p_net_kw : numpy.ndarray, shape (n_transformers, n_scenarios, n_steps)
        Modelled net demand D - G at each transformer, load convention (+ = import). [kW]
    p_volt_kw, p_therm_kw : numpy.ndarray, shape (n_transformers,)
        Largest reverse flow before a voltage / thermal limit is exceeded. [kW]
    n_sites : numpy.ndarray of int, shape (n_transformers,)
        VPP sites per transformer.
    scenarios : ScenarioSet
    n_customers : numpy.ndarray of int, shape (n_transformers,)
        Customers (all, not only VPP sites) behind each transformer.
    pv_kwp : numpy.ndarray, shape (n_transformers,)
        Installed PV behind each transformer. [kWp]
    source : str
        Where the profiles come from.
    """

    p_net_kw: NDArray[np.float64]
    p_volt_kw: NDArray[np.float64]
    p_therm_kw: NDArray[np.float64]
    n_sites: NDArray[np.int64]
    scenarios: ScenarioSet
    n_customers: NDArray[np.int64]
    pv_kwp: NDArray[np.float64]
    source: str

    @property
    def n_transformers(self) -> int:
        """N transformers."""
        return int(self.p_net_kw.shape[0])


@functools.lru_cache(maxsize=4)
def _simbench_profiles(grid_code: str) -> dict:
    """Year-long 15-min load profiles of every load (kW) and the mean PV output per kWp of a SimBench grid,
    read through :mod:`openvpp.data` (the one place that reads SimBench)."""
    from openvpp.data import load_simbench_lv, simbench_profiles

    net = load_simbench_lv(grid_code)
    prof = simbench_profiles(net)
    load_kw = mw_to_kw(prof[("load", "p_mw")].to_numpy(dtype=float))
    is_pv = net.sgen["type"].astype(str).str.upper().str.contains("PV").to_numpy()
    if not is_pv.any():
        raise DataError(f"SimBench grid {grid_code!r} has no PV generators to derive PV profiles from")
    pv_kw = mw_to_kw(prof[("sgen", "p_mw")].to_numpy(dtype=float)[:, is_pv])
    pv_rated = mw_to_kw(net.sgen["p_mw"].to_numpy(dtype=float)[is_pv])
    pv_per_kwp = (pv_kw / pv_rated).mean(axis=1)
    return {"load_kw": load_kw, "pv_per_kwp": pv_per_kwp}


def _periodic_interp(day_profiles: NDArray, n_steps: int) -> NDArray:
    """Linear interpolation of (…, n_src) daily profiles (values at interval starts) to n_steps per day."""
    n_src = day_profiles.shape[-1]
    x_src = np.arange(n_src + 1) * (H_PER_DAY / n_src)
    ext = np.concatenate([day_profiles, day_profiles[..., :1]], axis=-1)
    x_new = np.arange(n_steps) * (H_PER_DAY / n_steps)
    flat = ext.reshape(-1, n_src + 1)
    j = np.minimum(np.searchsorted(x_src, x_new, side="right") - 1, n_src - 1)
    frac = (x_new - x_src[j]) / (x_src[j + 1] - x_src[j])
    out = flat[:, j] * (1 - frac) + flat[:, j + 1] * frac
    return out.reshape((*day_profiles.shape[:-1], n_steps))


def scenario_profiles(
    scenarios: ScenarioSet,
    grid_code: str = "1-LV-rural1--2-sw",
    ac_kw: float = 1.5,
    performance_ratio: float = 0.8,
) -> dict:
    """Per-scenario mean load profiles of every SimBench load and PV output per kWp at the location.

    Parameters
    ----------
    scenarios : ScenarioSet
        Day-type scenario set.
    grid_code : str
        SimBench LV grid code.
    ac_kw : float
        Heatwave air-conditioning load per customer at its peak. [kW]
    performance_ratio : float
        PV performance ratio. [-]

    Returns
    -------
    dict
        ``load_kw`` (n_loads, n_scenarios, n_steps) [kW], ``pv_per_kwp`` (n_scenarios, n_steps) [kW/kWp].
    """
    data = _simbench_profiles(grid_code)
    load = data["load_kw"]
    n_days = load.shape[0] // 96
    day_index = pd.date_range("2016-01-01", periods=n_days, freq="D")
    load_days = load[: n_days * 96].reshape(n_days, 96, -1)
    pv_days = data["pv_per_kwp"][: n_days * 96].reshape(n_days, 96)
    e_day = pv_days.sum(axis=1)
    shift = 6 if scenarios.southern else 0
    loc = (
        get_location(scenarios.location.lower())
        if scenarios.location.lower() in ("adelaide", "santiago")
        else None
    )
    if loc is None:
        raise ValidationError(
            "scenario_profiles needs a ScenarioSet of a built-in location (adelaide, santiago)"
        )
    n_s, k = scenarios.n_scenarios, scenarios.n_steps
    load_out = np.empty((load.shape[1], n_s, k))
    pv_out = np.empty((n_s, k))
    t_mid = (np.arange(k) + 0.5) * (H_PER_DAY / k)
    for s in range(n_s):
        src_month = (scenarios.month[s] - 1 + shift) % 12 + 1
        in_month = day_index.month == src_month
        wd = day_index.weekday < 5
        sel = in_month & (wd if scenarios.workday[s] else ~wd)
        mean_load = load_days[sel].mean(axis=0).T  # (n_loads, 96)
        clear = np.clip(e_day[sel] / np.percentile(e_day[in_month], 95), 0.0, 1.0).mean()
        prof = _periodic_interp(mean_load, k)
        if scenarios.heatwave[s]:
            prof = prof + ac_kw * np.exp(-0.5 * ((t_mid - 16.5) / 3.0) ** 2)
            clear = 1.0
        load_out[:, s, :] = prof
        times = scenarios.dates[s] + pd.to_timedelta(t_mid, unit="h")
        ghi = loc.get_clearsky(times, model="haurwitz")["ghi"].to_numpy()
        pv_out[s] = performance_ratio * ghi / STC_IRRADIANCE_W_PER_M2 * clear
    return {"load_kw": load_out, "pv_per_kwp": pv_out}


def simbench_scenario_inputs(
    n_transformers: int = 200,
    location: str = "adelaide",
    grid_code: str = "1-LV-rural1--2-sw",
    seed: int | np.random.Generator = 0,
    scenarios: ScenarioSet | None = None,
    pv_kwp_per_customer: tuple[float, float] = (1.0, 5.0),
    ac_kw: float = 1.5,
    voltage_headroom: tuple[float, float] = (1.2, 0.45),
) -> ScenarioInputs:
    """Realistic constraint-engine inputs for a population of transformers (see the module docstring).

    Parameters
    ----------
    n_transformers : int
        Transformers to generate. [-]
    location : str
        ``"adelaide"`` or ``"santiago"``.
    grid_code : str
        SimBench LV grid whose load and PV profiles and prototype limits are used.
    seed : int or numpy.random.Generator
        Random source of the population.
    scenarios : ScenarioSet, optional
        Scenario set (default: :func:`make_scenario_set` for the location).
    pv_kwp_per_customer : (float, float)
        Range of the uniform draw of installed PV per customer (penetration x size). [kWp]
    ac_kw : float
        Heatwave air-conditioning load per customer at its 16:30 peak. [kW]
    voltage_headroom : (float, float)
        Median and log-standard deviation of ``P_volt`` over the transformer's largest modelled reverse flow
        (lognormal). The default median 1.2 with ``m = 0.8`` leaves about 56 % of the transformers without
        capacity that is unconstrained all year, as in Table 6 of seed 001. [-]

    Returns
    -------
    ScenarioInputs
    """
    if int(n_transformers) != n_transformers or n_transformers < 1:
        raise ValidationError(f"n_transformers must be a positive integer (got {n_transformers!r})")
    lo_pv, hi_pv = pv_kwp_per_customer
    if not 0 <= lo_pv <= hi_pv:
        raise ValidationError(
            f"pv_kwp_per_customer must be (low, high) with 0 <= low <= high (got {pv_kwp_per_customer})"
        )
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    sc = scenarios if scenarios is not None else make_scenario_set(location)
    prof = scenario_profiles(sc, grid_code, ac_kw=ac_kw)
    load = prof["load_kw"]  # (n_loads, S, K)
    n_loads = load.shape[0]
    n_t = int(n_transformers)
    n_cust = rng.integers(20, 151, size=n_t)
    mix = rng.multinomial(n_cust, np.full(n_loads, 1.0 / n_loads)).astype(float)  # (T, n_loads)
    # each SimBench load stands for one customer of its own size; the mix counts customers per profile
    demand = np.tensordot(mix, load, axes=(1, 0))  # (T, S, K)
    pv_kwp = n_cust * rng.uniform(lo_pv, hi_pv, size=n_t)
    gen = pv_kwp[:, None, None] * prof["pv_per_kwp"][None, :, :]
    p_net = demand - gen
    peak = demand.max(axis=(1, 2))
    need = 1.2 * peak  # mean profiles understate peaks; rating above the diversified peak
    p_therm = STANDARD_KVA[np.minimum(np.searchsorted(STANDARD_KVA, need), STANDARD_KVA.size - 1)].astype(
        float
    )
    backfeed = np.maximum(-p_net.min(axis=(1, 2)), 1.0)
    p_volt = backfeed * rng.lognormal(np.log(voltage_headroom[0]), voltage_headroom[1], size=n_t)
    n_sites = rng.choice(TABLE2_SITES, size=n_t, p=TABLE2_COUNTS / TABLE2_COUNTS.sum())
    return ScenarioInputs(
        p_net_kw=p_net,
        p_volt_kw=p_volt,
        p_therm_kw=p_therm,
        n_sites=n_sites,
        scenarios=sc,
        n_customers=n_cust,
        pv_kwp=pv_kwp,
        source=f"SimBench {grid_code} profiles, pvlib clear sky at {sc.location}",
    )
