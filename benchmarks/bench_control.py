"""Benchmark of the real-time layer (issue 10): disaggregation, one co-simulated day, island power flow.

Figures (goal vs measured, medians, time.perf_counter):

- set-point disaggregation over 100,000 devices, each strategy (goal < 10 ms);
- one simulated day of 10,000 devices (6,000 batteries, 3,000 EV chargers, 1,000 PV) with 1-s ticks
  during 2 hours of frequency events and 5-min ticks otherwise, central control through the in-process
  transport (goal < 60 s; one run);
- one step of the exact unbalanced power flow of an island on the IEEE European LV feeder (the section
  downstream of a line re-rooted at a grid-forming battery; goal < 1 ms).

Run as ``python benchmarks/bench_control.py``.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pandas as pd
from _timing import repeat_times
from rich.console import Console
from rich.table import Table

from openvpp.control.disaggregate import disaggregate
from openvpp.control.signals import FrequencyTrace
from openvpp.schedule.plan import Plan
from openvpp.sim.cosim import run_cosim
from openvpp.sim.scenarios import ResolvedScenario


def synthetic_plan(n_bat: int, n_ev: int, n_pv: int, n_steps: int = 96) -> Plan:
    """Batteries idle at SoC 0.5 holding 2 kW CPF+/CPF-, EVs at 7 kW, PV at -2 kW; one site per device."""
    index = pd.date_range("2024-07-01", periods=n_steps, freq="15min", tz="UTC")
    n = n_bat + n_ev + n_pv
    cls = np.array(["battery"] * n_bat + ["ev"] * n_ev + ["pv"] * n_pv, dtype=object)
    base = np.zeros((n, n_steps))
    base[n_bat : n_bat + n_ev] = 7.0
    base[n_bat + n_ev :] = -2.0
    lo, hi = base.copy(), base.copy()
    lo[:n_bat], hi[:n_bat] = -5.0, 5.0
    lo[n_bat : n_bat + n_ev], hi[n_bat : n_bat + n_ev] = 0.0, 11.0
    hi[n_bat + n_ev :] = 0.0
    up = np.zeros((2, n, n_steps))
    dn = np.zeros((2, n, n_steps))
    up[0, :n_bat] = 2.0
    dn[1, :n_bat] = 2.0
    e_max = np.where(cls == "battery", 13.5, np.nan)
    soc = np.where(cls == "battery", 0.5, np.nan)
    return Plan(
        index=index,
        device_ids=np.array([f"d{i}" for i in range(n)], dtype=object),
        device_class=cls,
        site_of_device=np.arange(n),
        site_ids=np.array([f"s{i}" for i in range(n)], dtype=object),
        services=("cpf_plus", "cpf_minus"),
        p_baseline_kw=base,
        reserve_up_kw=up,
        reserve_down_kw=dn,
        service_duration_h=np.array([0.25, 0.25]),
        soc_baseline=np.repeat(soc[:, None], n_steps + 1, axis=1),
        soc_min=np.repeat(np.where(cls == "battery", 0.1, np.nan)[:, None], n_steps, axis=1),
        soc_max=np.repeat(np.where(cls == "battery", 0.9, np.nan)[:, None], n_steps, axis=1),
        e_max_kwh=e_max,
        site_p_kw=base + 1.0,
        site_export_limit_kw=np.full((n, n_steps), np.inf),
        site_import_limit_kw=np.full((n, n_steps), np.inf),
        p_min_kw=lo,
        p_max_kw=hi,
    )


def bench_disaggregation(n: int = 100_000) -> list[tuple[str, float, float]]:
    rng = np.random.default_rng(0)
    lo, hi = -rng.uniform(0, 5, n), rng.uniform(0, 5, n)
    ref = lo + rng.random(n) * (hi - lo)
    soc = rng.random(n)
    cost = rng.integers(0, 10, n).astype(float)
    site = rng.integers(0, n // 2, n)
    site_p = np.bincount(site, ref, minlength=n // 2)
    rows = []
    for strategy in ("headroom", "soc", "merit"):

        def run(strategy: str = strategy) -> object:
            return disaggregate(
                -0.3 * np.sum(ref - lo),
                ref,
                lo,
                hi,
                strategy=strategy,
                soc=soc,
                soc_min=0.1,  # type: ignore[arg-type]
                soc_max=0.9,
                e_max_kwh=13.5,
                reserved_up_kw=0.5,
                site_of_device=site,
                site_p_kw=site_p,
                site_export_limit_kw=20.0,
                site_import_limit_kw=20.0,
                cost_usd_per_kwh=cost,
            )

        run()
        t = repeat_times(run, 15)
        rows.append((f"disaggregate {n:,} devices ({strategy})", statistics.median(t) * 1e3, 10.0))
    return rows


def bench_day(n_bat: int = 6000, n_ev: int = 3000, n_pv: int = 1000) -> tuple[str, float, float, int]:
    plan = synthetic_plan(n_bat, n_ev, n_pv)
    t0 = plan.index[0] + pd.Timedelta(hours=17)
    # two hours of frequency events: a dip, an under-frequency plateau, an over-frequency spell
    t_s = [0, 60, 63, 300, 1800, 1900, 3600, 3700, 6000, 7200]
    df = [0, 0, -0.5, -0.3, -0.3, 0.0, 0.0, 0.35, 0.35, 0.0]
    sc = ResolvedScenario("bench", FrequencyTrace(t0, t_s, 50.0 + np.array(df)), (), ())
    start = time.perf_counter()
    res = run_cosim(plan, sc, seed=0)
    wall = time.perf_counter() - start
    return (f"one day, {plan.n_devices:,} devices, 1-s ticks over 2 h of events", wall, 60.0, len(res.ticks))


def bench_island_pf() -> tuple[str, float, float, int]:
    from openvpp.control.island import downstream_buses, island_network
    from openvpp.grid.loaders import ieee_european_lv
    from openvpp.grid.powerflow import BatchPowerFlow

    net = ieee_european_lv()
    # the line feeding the largest section that is not the whole feeder
    best, best_n = None, -1
    site_bus = net.sites["bus"].to_numpy()
    for name in np.asarray(net.line_names)[:200]:
        sec = downstream_buses(net, str(name))
        n = int(sec[site_bus].sum())
        if best_n < n < len(site_bus) * 0.8:
            best, best_n, best_sec = str(name), n, sec
    assert best is not None
    gf_bus = int(site_bus[best_sec[site_bus]][0])
    isl, _ = island_network(net, best_sec, gf_bus, 50.0)
    pf = BatchPowerFlow(isl)
    rng = np.random.default_rng(0)
    p = rng.uniform(0.2, 1.5, (len(isl.sites), 1))
    pf.run(p, full=False)
    t = repeat_times(lambda: pf.run(p * rng.uniform(0.9, 1.1), full=False), 200)
    return (
        f"island power flow per step, IEEE European LV ({best_n} customers)",
        statistics.median(t) * 1e3,
        1.0,
        best_n,
    )


def main() -> None:
    console = Console()
    table = Table(title="Real-time control (issue 10): medians")
    for col in ("case", "measured", "goal"):
        table.add_column(col)
    for name, ms, goal in bench_disaggregation():
        table.add_row(name, f"{ms:.2f} ms", f"< {goal:.0f} ms")
    name, ms, goal, _ = bench_island_pf()
    table.add_row(name, f"{ms:.3f} ms", f"< {goal:.0f} ms")
    name, s, goal, ticks = bench_day()
    table.add_row(f"{name} ({ticks:,} ticks)", f"{s:.1f} s", f"< {goal:.0f} s")
    console.print(table)


if __name__ == "__main__":
    main()
