"""Benchmark of the heat-pump, water-heater, flexible-load and generator models over many devices.

Goal: 20,000 devices x 288 five-minute steps in < 1 s per class, i.e. 100,000 devices in < 5 s (the
thermal models evaluate an exponential per device and step; 20,000 devices keep the result arrays of the five
classes within a few hundred MB on a shared machine). Run as ``python benchmarks/bench_der_devices.py``;
prints the median of several repeats (time.perf_counter).
"""

from __future__ import annotations

import numpy as np
from _timing import median_s

from openvpp.der.flexload import FlexibleLoad, FlexLoadParams
from openvpp.der.generator import (
    DispatchableGenerator,
    DispatchableGeneratorParams,
    QuantileForecast,
    VariableGenerator,
    VariableGeneratorParams,
)
from openvpp.der.heatpump import HeatPump, HeatPumpParams
from openvpp.der.waterheater import WaterHeater, WaterHeaterParams

N = 20_000
N_STEPS = 288
DT_H = 5 / 60
REPEATS = 3
GOAL_S = 1.0


def _median(fn, repeats: int = REPEATS) -> float:
    return median_s(fn, repeats)


def main() -> list[tuple[str, float]]:
    rng = np.random.default_rng(0)
    ids = [f"d{i}" for i in range(N)]
    t_out = np.linspace(-2.0, 8.0, N_STEPS)
    hp_params = HeatPumpParams(device_id=ids, r_c_per_kw=rng.uniform(3, 8, N),
                               c_kwh_per_c=rng.uniform(5, 20, N))
    wh_params = WaterHeaterParams(device_id=ids)
    fl_params = FlexLoadParams(device_id=ids, shift_e_kwh=10.0, shift_p_max_kw=5.0, shift_earliest_h=6.0,
                               shift_latest_h=20.0)
    gen_params = DispatchableGeneratorParams(device_id=ids, p_max_kw=4000.0, p_min_kw=500.0,
                                             ramp_up_kw_per_min=8400.0, ramp_down_kw_per_min=14400.0,
                                             ramp_startup_kw_per_min=1300.0, e_max_kwh=20_000.0)
    vg_params = VariableGeneratorParams(device_id=ids, p_max_kw=1000.0, ramp_up_kw_per_min=100.0)
    p50 = np.broadcast_to(np.clip(1000 * np.sin(np.linspace(0, np.pi, N_STEPS)), 0, None), (N, N_STEPS))
    fc = QuantileForecast(0.8 * p50, p50, np.minimum(1.2 * p50, 1000.0))
    sp_hp = rng.uniform(0, 3, (N, N_STEPS))
    sp_gen = -rng.uniform(0, 4000, (N, N_STEPS))
    base = rng.uniform(20, 100, (N, N_STEPS))
    cases = [
        ("heat pumps (comfort enforced)", lambda: HeatPump(hp_params).simulate(sp_hp, DT_H, t_out)),
        ("water heaters with draws",
         lambda: WaterHeater(wh_params).simulate(sp_hp, DT_H, draw_l_per_min=1.0)),
        ("C&I flexible loads", lambda: FlexibleLoad(fl_params, base).simulate(0.8 * base, DT_H)),
        ("dispatchable generators + reservoir",
         lambda: DispatchableGenerator(gen_params).simulate(sp_gen, DT_H, inflow_kw=1000.0)),
        ("variable generators (P50, curtailed)",
         lambda: VariableGenerator(vg_params, fc).simulate(-0.5 * p50, DT_H)),
    ]
    rows = []
    print(f"{'case':40s} {'devices x steps':>18s} {'goal [s]':>9s} {'median [s]':>11s}")
    for name, fn in cases:
        t = _median(fn)
        rows.append((name, t))
        print(f"{name:40s} {f'{N:,} x {N_STEPS}':>18s} {GOAL_S:9.1f} {t:11.2f}", flush=True)
    return rows


if __name__ == "__main__":
    main()
