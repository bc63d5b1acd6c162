"""Benchmark of openvpp.schedule: per-site LPs, site-years, fleet plans (exact and aggregate).

Goals (issue "Scheduling"): per-site day at 5-min steps with reserves < 50 ms; site-year at 30-min steps with
energy + 6 contingency FCAS < 2 s; 1,000 site-years on 2 cores < 10 min (measured on a few site-years and
extrapolated: the site-years are independent LPs, so the time is linear in their number and divided by the
workers); fleet day-ahead plan with 1,000 devices exact < 30 s and with 100,000 devices aggregate-then-
disaggregate < 60 s; revenue gap aggregate vs exact on the 1,000-device fleet < 1 %. Medians of repeats
(time.perf_counter). ``--quick`` (the default when run without arguments is the full set at small repeats).
"""

from __future__ import annotations

import sys
import time

import numpy as np
from _timing import median_s

from openvpp.der.battery import BatteryParams
from openvpp.der.pv import PVParams
from openvpp.fleet import Fleet, Profiles, Sites, synthetic
from openvpp.schedule import device_models, fcas_specs, solve_sites
from openvpp.schedule.inputs import day_index
from openvpp.schedule.site import SiteProblem
from openvpp.schedule.stacking import plan_fleet
from openvpp.services.prices import load_sa1_prices
from openvpp.studies.arbitrage import site_year

PRICES = load_sa1_prices()


def _site(idx):
    h = np.asarray(idx.hour + idx.minute / 60.0)
    pu = np.clip(np.sin((h - 6) / 12 * np.pi), 0, None)[None, :] * 0.8
    base = (0.5 + 1.0 * np.exp(-(((h - 19) / 2) ** 2)))[None, :]
    fleet = Fleet(
        Sites(site_id=["s1"], node=["n1"]),
        {
            "battery": BatteryParams(device_id=["b1"], site_id=["s1"]),
            "pv": PVParams(
                device_id=["pv1"],
                site_id=["s1"],
                p_dc_kwp=[5.0],
                p_ac_max_kw=[5.0],
                latitude_deg=[-34.9],
                longitude_deg=[138.6],
            ),
        },
        Profiles(idx, {"base_load_kw": base, "pv_pu": pu}),
    )
    return fleet, base


def site_day_5min() -> float:
    idx = day_index("2019-12-03", 5)
    prices = PRICES.resample(5).align(idx)
    fleet, base = _site(idx)
    models = device_models(fleet, idx)
    e = prices.price_per_mwh["energy"].to_numpy()
    prob = SiteProblem(
        models, ["s1"], base, e + 100, e, np.inf, 5.0, tuple(fcas_specs(prices)), cycles_per_day=1.0
    )
    return median_s(lambda: solve_sites(prob), 7)


def site_year_30min(n: int = 1) -> float:
    h = np.asarray(PRICES.index.hour + PRICES.index.minute / 60.0)
    pv = np.clip(np.sin((h - 6) / 12 * np.pi), 0, None) * 4.5
    load = 0.5 + 1.0 * np.exp(-(((h - 19) / 2) ** 2))
    return median_s(lambda: site_year(load, pv, PRICES, 5.0), n)


def fleet(n_sites: int, seed: int = 0) -> Fleet:
    idx = day_index("2019-12-03", 30)
    f = synthetic(n_sites, mix={"pv": 0.5, "battery": 0.5}, seed=seed)
    h = np.asarray(idx.hour + idx.minute / 60.0)
    rng = np.random.default_rng(seed)
    base = (0.4 + np.exp(-(((h - 19) / 2.5) ** 2)))[None, :] * rng.uniform(0.7, 1.3, (f.n_sites, 1))
    pu = np.clip(np.sin((h - 6) / 12 * np.pi), 0, None)[None, :] * 0.8 * np.ones((f.der("pv").n, 1))
    return f.with_profiles(Profiles(idx, {"base_load_kw": base, "pv_pu": pu}))


def main() -> None:
    rows = []
    t = site_day_5min()
    rows.append(("per-site day, 5-min, energy + 6 FCAS", f"{t * 1000:.0f} ms", "< 50 ms"))
    t_year = site_year_30min(1)
    rows.append(("site-year, 30-min, energy + 6 FCAS (weekly windows)", f"{t_year:.1f} s", "< 2 s"))
    rows.append(
        (
            "1,000 site-years on 2 cores (extrapolated: 1,000 x site-year / 2)",
            f"{1000 * t_year / 2 / 60:.0f} min",
            "< 10 min",
        )
    )
    f1k = fleet(1000)
    t0 = time.perf_counter()
    exact = plan_fleet(f1k, PRICES, "exact")
    t_exact = time.perf_counter() - t0
    t0 = time.perf_counter()
    agg = plan_fleet(f1k, PRICES, "aggregate")
    t_agg1k = time.perf_counter() - t0
    n_dev = exact.plan.n_devices
    rows.append(
        (f"fleet plan, {n_dev} devices, exact", f"{t_exact:.1f} s ({exact.check.summary()[:40]})", "< 30 s")
    )
    gap = (exact.net - agg.net) / abs(exact.net) * 100 if exact.net else float("nan")
    rows.append(
        (
            f"revenue gap aggregate vs exact, {n_dev} devices",
            f"{gap:.1f} % ({t_agg1k:.1f} s, {len(agg.check.breaches)} breaches)",
            "< 1 %",
        )
    )
    if "--quick" not in sys.argv:
        f100k = fleet(100_000)
        t0 = time.perf_counter()
        big = plan_fleet(f100k, PRICES, "aggregate")
        rows.append(
            (
                f"fleet plan, {big.plan.n_devices} devices, aggregate-then-disaggregate",
                f"{time.perf_counter() - t0:.1f} s",
                "< 60 s",
            )
        )
    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}}  {'median':<40}  goal")
    for name, value, goal in rows:
        print(f"{name:<{width}}  {value:<40}  {goal}")


if __name__ == "__main__":
    main()
