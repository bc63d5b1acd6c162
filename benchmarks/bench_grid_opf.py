"""Benchmarks (b) and (c) of the LV-grid issue: the three-phase OPF of openvpp.grid.opf.

(b) 48-period OPF on the IEEE European LV feeder (exact reduction, 110 buses), ~50 % prosumers, service at
    20:00 (the study case) and at 12:30 (where line limits bind and the OPF re-linearises); build (sparse
    matrices + cvxpy + compilation), solver and exact power flow timed separately; goal < 30 s total.
(c) OPF time against size: networks of 14 / 43 / 110 buses (SimBench rural1, SimBench semiurb4, IEEE
    feeder, all reduced) at 12 / 24 / 48 periods; one GC export solve each.

Run: ``python benchmarks/bench_grid_opf.py`` (median of ``REPEATS`` runs; profiles are loaded once, untimed).
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from openvpp.der.battery import BatteryParams
from openvpp.grid import opf
from openvpp.studies.chile_technical import build_case

REPEATS = 3
GOAL_B_S = 30.0


def _inputs(case, n_steps: int, service_step: int):
    net = case.reduced
    ns = net.n_site
    # a day of n_steps periods: take evenly spaced 30-min steps so every size spans the whole day
    cols = np.linspace(0, 47, n_steps).round().astype(int)
    pv = np.zeros((ns, 48))
    pv[case.prosumers] = 2.5 * case.pv_kw_per_kwp[None, :]
    sid = net.sites["site_id"].to_numpy()[case.prosumers]
    bat = BatteryParams(device_id=[f"b_{s}" for s in sid], site_id=sid, soc0=0.2)
    svc = np.zeros(n_steps, dtype=bool)
    svc[int(np.argmin(np.abs(cols - service_step)))] = True
    dt_h = 24.0 / n_steps
    return net, case.p_load_kw[:, cols], case.q_load_kvar[:, cols], pv[:, cols], bat, dt_h, svc


def _run(args, repeats: int = REPEATS) -> dict[str, float]:
    net, pl, ql, pv, bat, dt_h, svc = args
    rows = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        r = opf.solve_opf(net, pl, ql, pv, bat, dt_h, service=svc)
        total = time.perf_counter() - t0
        rows.append((total, r.build_s, r.solve_s, r.pf_s, r.iterations, r.n_variables, r.v_error_pu))
    med = lambda k: statistics.median(x[k] for x in rows)  # noqa: E731
    return {"total": med(0), "build": med(1), "solve": med(2), "pf": med(3), "iterations": rows[0][4],
            "n_var": rows[0][5], "v_err": max(x[6] for x in rows)}


def main() -> None:
    console = Console(width=150)
    cases = {key: build_case(key, "2016-06-21") for key in ("rural", "semiurb", "ieee")}
    tab = Table(title="(b) 48-period three-phase OPF on the IEEE European LV feeder (reduced: "
                      f"{cases['ieee'].reduced.n_bus} buses)")
    for col in ("case", "variables", "iterations", "build [s]", "solve [s]", "exact PF [s]", "total [s]",
                "goal [s]", "|V_opf - V_exact| [pu]"):
        tab.add_column(col)
    for label, step in (("service 20:00", 40), ("service 12:30 (limits bind)", 25)):
        m = _run(_inputs(cases["ieee"], 48, step))
        tab.add_row(label, str(m["n_var"]), str(m["iterations"]), f"{m['build']:.2f}", f"{m['solve']:.2f}",
                    f"{m['pf']:.2f}", f"{m['total']:.2f}", f"< {GOAL_B_S:.0f}", f"{m['v_err']:.1e}")
    console.print(tab)
    tab = Table(title="(c) OPF time vs size (GC export, service 20:00, one run per cell)")
    for col in ("network", "buses", "periods", "variables", "iterations", "build [s]", "solve [s]",
                "total [s]"):
        tab.add_column(col)
    for key in ("rural", "semiurb", "ieee"):
        for n_steps in (12, 24, 48):
            m = _run(_inputs(cases[key], n_steps, 40), repeats=1)
            tab.add_row(key, str(cases[key].reduced.n_bus), str(n_steps), str(m["n_var"]),
                        str(m["iterations"]), f"{m['build']:.2f}", f"{m['solve']:.2f}", f"{m['total']:.2f}")
    console.print(tab)


if __name__ == "__main__":
    main()
