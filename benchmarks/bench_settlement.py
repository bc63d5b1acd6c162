"""Settlement at scale: baselines for 100,000 sites (5-min, 45 days) and a month of statements.

Memory: the full history, 100,000 x 45 days x 288 steps, is 10.4 GB as float64 and 5.2 GB as float32. The
baseline benchmark keeps float32 and feeds the sites in blocks of 10,000 (0.52 GB each, generated outside the
timer); the time reported is the sum over the blocks, i.e. the throughput for 100,000 sites. Inside
``x_of_y_baseline`` the sites are processed 8,192 at a time, so the temporaries stay below ~100 MB.

Statements: ``participant_statements`` + ``aggregator_view`` for 100,000 participants and a month with eight
events each (800,000 measured (event, site) rows), and ``measure_events`` (meter-before baselines) on two days
of 5-min telemetry for the same 100,000 sites. Usage: ``python benchmarks/bench_settlement.py [n_sites]``.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import pandas as pd

from openvpp.settlement.baselines import business_days, day_of_adjustment, x_of_y_baseline
from openvpp.settlement.io import Telemetry
from openvpp.settlement.performance import EventPerformance, measure_events
from openvpp.settlement.program import load_program
from openvpp.settlement.statements import aggregator_view, participant_statements

BLOCK = 10_000


def bench_baselines(n_sites: int, n_days: int = 45, spd: int = 288) -> float:
    rng = np.random.default_rng(0)
    dates = pd.date_range("2026-05-01", periods=n_days, freq="D", tz="Etc/GMT+4")
    bus = business_days(dates)
    total = 0.0
    for s0 in range(0, n_sites, BLOCK):
        n = min(BLOCK, n_sites - s0)
        days = rng.random((n, n_days, spd), dtype=np.float32) + 0.5
        t0 = time.perf_counter()
        base = x_of_y_baseline(
            days, n_days - 1, bus, x=10, y=10, rank_steps=slice(240, 264), steps=slice(192, 264)
        )
        day_of_adjustment(base.p_kw, days[:, -1, 192:264], slice(0, 36), "ratio")
        total += time.perf_counter() - t0
        del days
    return total


def _performance(n_sites: int, n_events: int = 8) -> EventPerformance:
    rng = np.random.default_rng(1)
    n = n_sites * n_events
    months = np.full(n, "2026-06", dtype=object)
    services = np.resize(np.array(["peak_reduction", "cpf_plus"], dtype=object), n_events)
    committed = np.full(n, 4.0)
    delivered = committed * rng.uniform(0.5, 1.1, n)
    sites = pd.DataFrame(
        {
            "event_id": np.repeat([f"e{k}" for k in range(n_events)], n_sites),
            "service": np.repeat(services, n_sites),
            "month": months,
            "site_id": np.tile(np.arange(n_sites).astype(str), n_events),
            "event_pos": np.repeat(np.arange(n_events), n_sites),
            "site_pos": np.tile(np.arange(n_sites), n_events),
            "committed_kw": 2.0,
            "committed_kwh": committed,
            "baseline_kwh": 6.0,
            "actual_kwh": 6.0 - delivered,
            "delivered_kwh": delivered,
            "delivered_avg_kw": delivered / 2,
            "export_kwh": 0.0,
            "performance": 1.0,
            "factor": 1.0,
            "capped": False,
        }
    )
    events = pd.DataFrame(
        {
            "event_id": [f"e{k}" for k in range(n_events)],
            "service": services,
            "month": "2026-06",
            "start": pd.Timestamp("2026-06-10 20:00", tz="Etc/GMT+4"),
            "end": pd.Timestamp("2026-06-10 22:00", tz="Etc/GMT+4"),
            "n_sites": n_sites,
            "committed_kw": 2.0 * n_sites,
            "delivered_kwh": sites.groupby("event_pos")["delivered_kwh"].sum().to_numpy(),
            "delivered_avg_kw": 0.0,
            "performance": 1.0,
            "price_usd_per_mwh": np.nan,
        }
    )
    return EventPerformance(sites=sites, events=events, excluded_days=np.zeros((1, 1), bool), dt_h=1 / 12)


def bench_statements(n_sites: int) -> tuple[float, float]:
    prog = load_program()
    perf = _performance(n_sites)
    ids = np.arange(n_sites).astype(str).astype(object)
    classes = np.full(n_sites, "battery", dtype=object)
    t0 = time.perf_counter()
    st = participant_statements(perf, ids, classes, prog, ["2026-06"])
    aggregator_view(perf, st, prog)
    t_statements = time.perf_counter() - t0
    # measurement: two days of 5-min telemetry, eight one-hour meter-before events on all sites
    index = pd.date_range("2026-06-10", periods=576, freq="5min", tz="Etc/GMT+4")
    p = np.random.default_rng(2).random((n_sites, 576), dtype=np.float32) + 0.5
    tel = Telemetry(
        site_ids=ids,
        device_class=classes,
        index=index,
        p_kw=p,
        gaps=pd.DataFrame({"site_id": [], "start": [], "end": [], "n_intervals": []}),
    )
    all_sites = list(ids)
    ev = pd.DataFrame(
        {
            "event_id": [f"f{k}" for k in range(8)],
            "service": "cpf_plus",
            "start": [index[0] + pd.Timedelta(hours=2 + 5 * k) for k in range(8)],
            "end": [index[0] + pd.Timedelta(hours=3 + 5 * k) for k in range(8)],
            "committed_kw": 2.0 * n_sites,
            "site_ids": [all_sites] * 8,
        }
    )
    t0 = time.perf_counter()
    measure_events(tel, ev, prog)
    return t_statements, time.perf_counter() - t0


def main() -> None:
    n_sites = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    t_base = bench_baselines(n_sites)
    t_st, t_meas = bench_statements(n_sites)
    print(f"{'case (' + format(n_sites, ',') + ' sites)':62s} {'goal s':>7s} {'time s':>8s}")
    print(f"{'10-of-10 baselines + ratio adjustment, 5-min, 45 days, float32':62s} {5.0:7.1f} {t_base:8.2f}")
    print(f"{'statements + aggregator view, one month, 8 events/participant':62s} {10.0:7.1f} {t_st:8.2f}")
    print(f"{'measure 8 meter-before events on 2 days of 5-min telemetry':62s} {'-':>7s} {t_meas:8.2f}")
    print(f"(load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
