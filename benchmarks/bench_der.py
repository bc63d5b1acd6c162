"""Benchmark of the battery, PV and EV models over 100,000 devices.

Figures (goal vs measured, median and min of repeats, time.perf_counter):

- simulate 100,000 batteries x 288 five-minute steps (goal < 1 s, issue 2 acceptance);
- build 100,000 battery parameter rows with validation (goal < 0.5 s);
- available AC output of 100,000 PV systems for one day at 5 min, clear sky via pvlib (goal < 3 s); the
  systems are spread over a 0.5° x 0.5° region with catalogue sizes and orientations, which the grouping
  reduces to a few hundred pvlib evaluations;
- simulate 100,000 EV charging sessions x 288 five-minute steps (goal < 2 s).

Run as ``python benchmarks/bench_der.py``.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

import numpy as np
from _timing import repeat_times
from rich.console import Console
from rich.table import Table

from openvpp.der.battery import Battery, BatteryParams
from openvpp.der.ev import EV, EVParams
from openvpp.der.pv import PVParams, pv_ac_power
from openvpp.timeseries import make_index

N = 100_000
N_STEPS = 288
DT_H = 5 / 60
REPEATS = 5


def _time(fn: Callable[[], object], repeats: int = REPEATS) -> tuple[float, float]:
    fn()  # warm-up (imports, caches, pvlib data files)
    times = repeat_times(fn, repeats)
    return statistics.median(times), min(times)


def main() -> list[dict[str, object]]:
    rng = np.random.default_rng(2026)
    ids = np.array([f"d{i}" for i in range(N)])
    rows: list[dict[str, object]] = []

    # batteries: seed 000 reference unit with scattered sizes and SoC
    bat_kwargs = dict(
        device_id=ids,
        p_charge_max_kw=rng.choice([3.3, 5.0, 7.6], N),
        p_discharge_max_kw=rng.choice([3.3, 5.0, 7.6], N),
        e_max_kwh=rng.choice([6.5, 10.0, 13.5], N),
        soc0=rng.uniform(0.1, 0.9, N),
        self_discharge_per_h=1e-4,
    )
    med, mn = _time(lambda: BatteryParams(**bat_kwargs))
    rows.append({"case": "build 100k battery params", "goal_s": 0.5, "median_s": med, "min_s": mn})

    params = BatteryParams(**bat_kwargs)
    sp = rng.uniform(-8.0, 8.0, (N, N_STEPS))
    med, mn = _time(lambda: Battery(params).simulate(sp, DT_H))
    rows.append({"case": "simulate 100k batteries x 288 steps", "goal_s": 1.0, "median_s": med, "min_s": mn})

    # PV: a metropolitan region, catalogue sizes and orientations
    index = make_index("2024-01-15", N_STEPS, 5, tz="America/Santiago")
    pv = PVParams(
        device_id=ids,
        latitude_deg=rng.uniform(-33.7, -33.2, N),
        longitude_deg=rng.uniform(-70.9, -70.4, N),
        p_dc_kwp=rng.choice([2.5, 3.0, 4.0, 5.0, 6.6], N),
        p_ac_max_kw=rng.choice([2.5, 3.0, 5.0], N),
        tilt_deg=rng.choice([10.0, 15.0, 20.0, 25.0, 30.0], N),
        azimuth_deg=rng.choice([0.0, 45.0, 90.0, 270.0, 315.0], N),
    )
    med, mn = _time(lambda: pv_ac_power(pv, index), repeats=3)
    rows.append({"case": "PV 100k systems, 1 day at 5 min", "goal_s": 3.0, "median_s": med, "min_s": mn})

    # EVs: evening arrival, morning departure (steps on a day that starts at midnight)
    arr = rng.integers(200, 240, N)
    ev_params = EVParams(
        device_id=ids, arrival_step=arr, departure_step=np.minimum(arr + rng.integers(40, 120, N), 288),
        e0_kwh=rng.uniform(5, 30, N), e_required_kwh=rng.uniform(30, 55, N), v2g=rng.uniform(size=N) < 0.3,
        p_v2g_max_kw=5.0,
    )
    ev_sp = rng.uniform(-5.0, 7.4, (N, N_STEPS))
    med, mn = _time(lambda: EV(ev_params, DT_H).simulate(ev_sp), repeats=3)
    rows.append(
        {"case": "simulate 100k EV sessions x 288 steps", "goal_s": 2.0, "median_s": med, "min_s": mn}
    )

    table = Table(title=f"openvpp.der benchmarks ({N:,} devices, {N_STEPS} steps of 5 min)")
    for col in ("case", "goal [s]", "median [s]", "min [s]", "met"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r["case"]), f"< {r['goal_s']:g}", f"{r['median_s']:.3f}", f"{r['min_s']:.3f}",
            "yes" if float(r["median_s"]) < float(r["goal_s"]) else "NO",
        )
    Console().print(table)
    return rows


if __name__ == "__main__":
    main()
