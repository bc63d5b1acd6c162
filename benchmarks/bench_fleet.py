"""Benchmark of the columnar fleet: build 100,000 sites from records, synthetic fleets, aggregation.

Goal (foundation issue): building a fleet of 100,000 sites from records in < 2 s. Run as
``python benchmarks/bench_fleet.py``; prints the median of several repeats (time.perf_counter).
"""

from __future__ import annotations

import numpy as np
from _timing import median_s

from openvpp.fleet import from_records, synthetic

N_SITES = 100_000
REPEATS = 5


def _records(n: int, seed: int = 0) -> tuple[list[dict], dict[str, list[dict]]]:
    """Plain Python records, as an API or a CSV reader would hand them over: sites, PV and batteries."""
    rng = np.random.default_rng(seed)
    phases = np.array(["a", "b", "c", "abc"])[rng.integers(0, 4, n)]
    sites = [
        {"site_id": f"s{i:07d}", "node": f"T{i // 118}-N{(i % 118) // 3}", "phase": str(phases[i]),
         "constraint_node": f"T{i // 118}", "ccp": f"CCP{i // 1180}", "customer_type": "household"}
        for i in range(n)
    ]
    prosumers = np.flatnonzero(rng.random(n) < 0.5)
    kwp = rng.uniform(1.5, 5.0, prosumers.size)
    pv = [{"device_id": f"pv{i}", "site_id": f"s{i:07d}", "p_dc_kwp": float(k), "latitude_deg": -33.29,
           "longitude_deg": -70.88} for i, k in zip(prosumers, kwp, strict=True)]
    battery = [{"device_id": f"b{i}", "site_id": f"s{i:07d}", "p_charge_max_kw": 5.0,
                "p_discharge_max_kw": 5.0, "e_max_kwh": 13.5, "soc0": 0.5} for i in prosumers]
    return sites, {"pv": pv, "battery": battery}


def _median(fn, repeats: int = REPEATS) -> float:
    return median_s(fn, repeats)


def main() -> list[tuple[str, str, float]]:
    sites, der = _records(N_SITES)
    n_dev = len(der["battery"])
    rows = [
        (f"from_records: {N_SITES:,} sites + {n_dev:,} PV + {n_dev:,} batteries", "< 2 s",
         _median(lambda: from_records(sites, der))),
        (f"synthetic({N_SITES:,}) with the seed 000 mix", "-", _median(lambda: synthetic(N_SITES, seed=1))),
    ]
    fleet = from_records(sites, der)
    p = np.random.default_rng(1).normal(1.0, 0.5, (N_SITES, 96))
    fleet.aggregate(p[:, 0], "node")  # build the code cache once, as any user would
    rows.append((f"aggregate ({N_SITES:,} x 96) by node", "-", _median(lambda: fleet.aggregate(p, "node"))))
    rows.append((f"aggregate ({N_SITES:,} x 96) by constraint node", "-",
                 _median(lambda: fleet.aggregate(p, "constraint_node"))))
    print(f"{'case':<70} {'goal':>8} {'median [s]':>11}")
    for name, goal, t in rows:
        print(f"{name:<70} {goal:>8} {t:>11.3f}")
    return rows


if __name__ == "__main__":
    main()
