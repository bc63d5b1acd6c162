"""Benchmark of openvpp.forecast: 10,000 sites, one day ahead at 5-min steps, from 4 weeks of history.

Issue "Scheduling" asks for columnar forecasts (no loop per site); this script times the load forecasters
(weekly profile, seasonal naive, persistence), the PV forecaster (pvlib clear sky x clear-sky index
quantiles, 100 distinct locations) and the skill metrics, each on arrays (10,000, 8,064) of history and
(10,000, 288) of horizon. Histories are synthetic (a daily shape times gamma noise; clear sky times a random
index) with a fixed seed: timing does not depend on the values. Medians of a few repeats of the wall time
(time.perf_counter) and of this process's CPU time (time.process_time; the forecasters are single-threaded
numpy, so CPU time is the wall time on an idle core). ``--sites N`` and ``--repeats R`` shrink the run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from openvpp.forecast import forecast_load, forecast_pv, persistence, skill
from openvpp.forecast.pv import clearsky_pv_per_kwp
from openvpp.timeseries import make_index

N_SITES = 10_000
HISTORY_DAYS = 28
STEP_MIN = 5.0
STEPS_PER_DAY = 288
TZ = "Australia/Adelaide"
LAT, LON = -34.93, 138.60


def _times(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall time and median CPU time of this process over ``repeats`` calls. [s]"""
    wall, cpu = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def _axes() -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    hist = make_index("2019-11-04", HISTORY_DAYS * STEPS_PER_DAY, STEP_MIN, tz=TZ)
    hor = make_index("2019-12-02", STEPS_PER_DAY, STEP_MIN, tz=TZ)
    return hist, hor


Rows = list[tuple[str, tuple[float, float]]]


def _bench_load(
    n: int, rng: np.random.Generator, hist: pd.DatetimeIndex, hor: pd.DatetimeIndex, repeats: int
) -> Rows:
    """Load forecasters and skill on ``n`` synthetic households."""
    n_hist = len(hist)
    t_day = np.arange(n_hist) % STEPS_PER_DAY / STEPS_PER_DAY
    shape = 0.3 + 0.5 * np.exp(-(((t_day - 0.8) / 0.08) ** 2)) + 0.3 * np.exp(-(((t_day - 0.3) / 0.05) ** 2))
    load = shape[None, :] * rng.gamma(2.0, 0.5, size=(n, n_hist))
    actual = load[:, -STEPS_PER_DAY:].copy()
    rows: Rows = []
    for method in ("weekly", "seasonal_naive"):
        run = _times(lambda m=method: forecast_load(load, hist, hor, method=m), repeats)
        rows.append((f"forecast_load method={method}", run))
    rows.append(("persistence (load)", _times(lambda: persistence(load, hist, hor), repeats)))
    fc = forecast_load(load, hist, hor)
    rows.append(("skill (MAE, RMSE, pinball, coverage)", _times(lambda: skill(fc, actual), repeats)))
    return rows


def _bench_pv(
    n: int, rng: np.random.Generator, hist: pd.DatetimeIndex, hor: pd.DatetimeIndex, repeats: int
) -> Rows:
    """PV forecaster on ``n`` synthetic systems at 100 distinct locations."""
    lat = LAT + rng.integers(0, 10, n) * 0.1  # 100 distinct 0.1-degree locations
    lon = LON + rng.integers(0, 10, n) * 0.1
    kwp = rng.uniform(3.0, 10.0, n)
    cs, loc = clearsky_pv_per_kwp(hist, lat, lon, location_decimals=0)
    pv = kwp[:, None] * cs[loc] * rng.uniform(0.2, 1.1, size=(n, len(hist)))
    run = _times(lambda: forecast_pv(pv, hist, hor, kwp=kwp, latitude=lat, longitude=lon), repeats)
    return [("forecast_pv (clear-sky index, 100 locations)", run)]


def main() -> None:
    """Print the timing table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sites", type=int, default=N_SITES)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n = args.sites
    rng = np.random.default_rng(0)
    hist, hor = _axes()
    rows = _bench_load(n, rng, hist, hor, args.repeats) + _bench_pv(n, rng, hist, hor, args.repeats)
    print(f"openvpp.forecast: {n:,} sites, {HISTORY_DAYS} days of {STEP_MIN:g}-min history "
          f"({len(hist):,} steps) -> 1 day ({STEPS_PER_DAY} steps), median of {args.repeats}")
    print(f"{'operation':<46} {'wall s':>8} {'CPU s':>8} {'CPU us/site':>12}")
    for name, (wall, cpu) in rows:
        print(f"{name:<46} {wall:>8.2f} {cpu:>8.2f} {cpu / n * 1e6:>12.1f}")


if __name__ == "__main__":
    main()
