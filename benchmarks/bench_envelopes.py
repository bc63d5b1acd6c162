"""Benchmark: constraint engine + every capacity metric + hosting curve at SAPN's network size.

Shape: 75,530 transformers x 25 day-type scenarios x 288 five-minute steps (seed 001 §2.2, §4), synthetic
inputs (:class:`openvpp.envelopes.sweep.SyntheticSource`, float32) generated chunk by chunk inside the sweep.
Goal: < 30 s in a single process and < 4 GB peak memory. The memory-bandwidth floor is the time to stream
the input array once from memory at the bandwidth measured here (a large ``numpy`` sum).

Run ``python benchmarks/bench_envelopes.py [--scale 0.05] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import numpy as np
from _timing import repeat_times

from openvpp.envelopes.scenarios import make_scenario_set
from openvpp.envelopes.sweep import SyntheticSource, run_sweep

N_TRANSFORMERS = 75_530
GOAL_S = 30.0
GOAL_MEM_GB = 4.0


def read_bandwidth_gb_s(n_bytes: int = 512 * 2**20, repeats: int = 5) -> float:
    """Sustained read bandwidth of one core: sum over a float64 array larger than every cache. [GB/s]"""
    a = np.ones(n_bytes // 8)
    a.sum()
    return n_bytes / min(repeat_times(a.sum, repeats)) / 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of the 75,530 transformers")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=32, help="transformers per chunk")
    args = ap.parse_args()
    n_t = max(1, round(N_TRANSFORMERS * args.scale))
    sc = make_scenario_set("adelaide")
    src = SyntheticSource(n_t, sc, seed=0, dtype="float32")
    n_values = n_t * sc.n_scenarios * sc.n_steps

    # generation alone, to separate it from the engine
    t = time.perf_counter()
    for a in range(0, n_t, args.chunk):
        src.chunk(a, a + args.chunk)
    gen_s = time.perf_counter() - t

    walls, cpus = [], []
    result = None
    for _ in range(args.repeats):
        t, c = time.perf_counter(), time.process_time()
        result = run_sweep(src, sc, chunk_transformers=args.chunk)
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    assert result is not None
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9  # Linux: KiB
    bw = read_bandwidth_gb_s()
    in_bytes32 = n_values * 4
    in_bytes64 = n_values * 8
    wall = statistics.median(walls)
    cpu = statistics.median(cpus)
    h = result.hosting_curve_mw()

    rows = [
        ("shape (transformers x scenarios x steps)", f"{n_t:,} x {sc.n_scenarios} x {sc.n_steps}", ""),
        ("values", f"{n_values / 1e6:,.1f} M", ""),
        ("engine + metrics + hosting, wall (median)", f"{wall:.2f} s", f"< {GOAL_S * args.scale:.1f} s"),
        ("  same, process CPU time (median)", f"{cpu:.2f} s", ""),
        ("  of which synthetic input generation", f"{gen_s:.2f} s", ""),
        ("  per value", f"{wall / n_values * 1e9:.1f} ns", ""),
        ("peak memory (max RSS of the process)", f"{peak_gb:.2f} GB", f"< {GOAL_MEM_GB:.0f} GB"),
        ("measured read bandwidth (one core)", f"{bw:.1f} GB/s", ""),
        ("bandwidth floor: read inputs once, float32", f"{in_bytes32 / bw / 1e9:.2f} s", ""),
        ("bandwidth floor: read inputs once, float64", f"{in_bytes64 / bw / 1e9:.2f} s", ""),
        ("hosting curve 100/99/90/80/50 % (MW)", " / ".join(f"{v:,.0f}" for v in h), ""),
    ]
    print(f"{'figure':<46} {'measured':>28} {'goal':>12}")
    for name, val, goal in rows:
        print(f"{name:<46} {val:>28} {goal:>12}")
    print(f"repeats (wall s): {', '.join(f'{w:.2f}' for w in walls)}")


if __name__ == "__main__":
    main()
