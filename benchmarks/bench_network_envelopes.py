"""Benchmark of the network envelopes (issue 6, part 3): export and import envelopes for every 15-min
interval of one day from the exact batched unbalanced power flow, for each fairness rule, on SimBench LV
feeders, with the comparison against the SAPN constraint engine on the same feeder and day.

Goal (set here, no figure in the issue): a whole day of export + import envelopes in < 2 s for the equal
and proportional rules and < 20 s for max-min water-filling, per feeder, single process.

Like with like: the network envelopes are capped at each site's inverter limit (the default, PV rating + 5 kW
battery) and, in a second run, at the heuristic's own 10 kW dynamic cap; the heuristic is mediated to
[5, 10] kW. Run: ``python benchmarks/bench_network_envelopes.py [--repeats 3]`` (prints a table).
"""

from __future__ import annotations

import argparse
import functools

from _timing import median_s

from openvpp.envelopes.engine import DYNAMIC_CAP_KW
from openvpp.envelopes.network_envelopes import (
    FAIRNESS,
    compare_with_heuristic,
    simbench_feeder_day,
    simbench_network_envelopes,
)

GRIDS = ("1-LV-rural1--2-sw", "1-LV-semiurb4--2-sw")
DAY = "2016-06-15"
GOAL_S = {"equal": 2.0, "proportional": 2.0, "maxmin": 20.0}
REPEATS = 3


def main() -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=REPEATS)
    args = ap.parse_args()
    rows = []
    for grid in GRIDS:
        fd = simbench_feeder_day(grid, DAY)
        for fairness in FAIRNESS:
            time_s = median_s(functools.partial(simbench_network_envelopes, fd, fairness), args.repeats)
            s = compare_with_heuristic(feeder=fd, fairness=fairness).summary()
            s10 = compare_with_heuristic(feeder=fd, fairness=fairness, cap_kw=DYNAMIC_CAP_KW).summary()
            rows.append({
                "grid": grid, "fairness": fairness, "sites": s["n_sites"], "time_s": time_s,
                "goal_s": GOAL_S[fairness], "net_export_kwh": s["network_export_kwh"],
                "net10_export_kwh": s10["network_export_kwh"],
                "net10_added_viol": s10["network_export_check"]["intervals_violating_added"],
                "net_import_kwh": s["network_import_kwh"], "sapn_export_kwh": s["heuristic_export_kwh"],
                "net_added_viol": s["network_export_check"]["intervals_violating_added"],
                "sapn_viol": s["heuristic_check"]["intervals_violating"],
                "sapn_added_viol": s["heuristic_check"]["intervals_violating_added"],
                "sapn_trafo_max": s["heuristic_check"]["trafo_loading_max"],
                "sapn_v_max": s["heuristic_check"]["v_max_pu"],
            })
    head = ("grid", "fairness", "sites", "time s (median)", "goal s", "network export kWh (inverter cap)",
            "network export kWh (10 kW cap)", "network (10 kW) added", "network import kWh",
            "SAPN export kWh", "network intervals >0.5% added", "SAPN intervals >0.5%",
            "SAPN added", "SAPN trafo max", "SAPN V max pu")
    print(" | ".join(head))
    for r in rows:
        print(" | ".join([
            r["grid"], r["fairness"], str(r["sites"]), f"{r['time_s']:.2f}", f"{r['goal_s']:.0f}",
            f"{r['net_export_kwh']:.0f}", f"{r['net10_export_kwh']:.0f}", str(r["net10_added_viol"]),
            f"{r['net_import_kwh']:.0f}", f"{r['sapn_export_kwh']:.0f}",
            str(r["net_added_viol"]), str(r["sapn_viol"]), str(r["sapn_added_viol"]),
            f"{r['sapn_trafo_max']:.2f}", f"{r['sapn_v_max']:.4f}",
        ]))
    return rows


if __name__ == "__main__":
    main()
