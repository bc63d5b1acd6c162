"""Benchmark of openvpp.flex: aggregating 100,000 DERs per CCP and for the VPP, and verifying a request.

Goals (issue "Operational flexibility"): aggregation of 100,000 mixed DERs into per-CCP and VPP sets < 50 ms;
verification of a request < 1 ms. The fleet mixes batteries (from the Battery device model), PV, heat pumps
and generators as metric arrays over 1,000 CCPs. Timings are the median of several repeats
(time.perf_counter); the table also shows the optional P-Q regions by support functions.
"""

from __future__ import annotations

import numpy as np
from _timing import repeat_times

from openvpp.der.battery import Battery, BatteryParams
from openvpp.flex import FlexMetrics, FlexRequest, aggregate, concat_metrics, metrics_from_battery, verify

N_DEVICES = 100_000
N_CCP = 1_000


def mixed_fleet(n: int = N_DEVICES, n_ccp: int = N_CCP, seed: int = 0) -> FlexMetrics:
    """A mixed fleet: 40 % batteries from the device model, 40 % PV, 15 % heat pumps, 5 % generators."""
    rng = np.random.default_rng(seed)
    n_bat, n_pv, n_hp = int(0.4 * n), int(0.4 * n), int(0.15 * n)
    n_gen = n - n_bat - n_pv - n_hp
    bat = Battery(BatteryParams(device_id=[f"b{i}" for i in range(n_bat)], soc0=rng.uniform(0.2, 0.8, n_bat)))
    parts = [metrics_from_battery(bat, 0.25, 1.0, ccp=rng.integers(0, n_ccp, n_bat))]

    def table(prefix, m, pmin, pmax, ramp, emin, emax, s, kind):
        q = np.nan_to_num(s, nan=0.0)
        return FlexMetrics(
            device_id=[f"{prefix}{i}" for i in range(m)],
            pi_min_kw=pmin,
            pi_max_kw=pmax,
            rho_down_kw_per_min=-ramp,
            rho_up_kw_per_min=ramp,
            eps_min_kwh=emin,
            eps_max_kwh=emax,
            phi_min_kvar=-0.3 * q,
            phi_max_kvar=0.3 * q,
            psi_down_kvar_per_min=-q,
            psi_up_kvar_per_min=q,
            s_max_kva=s,
            ccp=rng.integers(0, n_ccp, m),
            kind=kind,
        )

    pv = rng.uniform(0.5, 4.0, n_pv)
    parts.append(table("pv", n_pv, np.zeros(n_pv), pv, pv, np.zeros(n_pv), pv, pv * 1.1, "pv"))
    hp = rng.uniform(2.0, 6.0, n_hp)
    no_circle = np.full(n_hp, np.nan)
    parts.append(table("hp", n_hp, -hp, np.zeros(n_hp), hp, -hp, np.zeros(n_hp), no_circle, "heatpump"))
    g = rng.uniform(50.0, 500.0, n_gen)
    parts.append(table("g", n_gen, np.zeros(n_gen), g, g / 2, np.zeros(n_gen), g, g * 1.2, "generator"))
    return concat_metrics(parts)


def _median_ms(fn, repeats: int) -> float:
    return float(np.median(np.asarray(repeat_times(fn, repeats)) * 1e3))


def main() -> list[tuple[str, str, float, bool]]:
    m = mixed_fleet()
    aggregate(m)  # warm-up (also caches the CCP grouping of the table)
    rows = []
    fresh = lambda: m.replace()  # noqa: E731 - a copy without the cached grouping
    copies = [fresh() for _ in range(7)]
    it = iter(copies)
    t_cold = _median_ms(lambda: aggregate(next(it)), 7)
    rows.append(
        ("aggregate 100k DERs -> 1,000 CCP + VPP boxes (incl. grouping)", "< 50 ms", t_cold, t_cold < 50)
    )
    t_warm = _median_ms(lambda: aggregate(m), 15)
    rows.append(("aggregate 100k DERs, grouping cached", "< 50 ms", t_warm, t_warm < 50))
    t_pq = _median_ms(lambda: aggregate(m, pq_directions=16), 5)
    rows.append(("  + P-Q regions per CCP, 16 support directions", "(info)", t_pq, True))
    agg = aggregate(m)
    req = FlexRequest.build(
        "r", pi_mw=50.0, rho_mw_per_min=(-20.0, 20.0), eps_mwh=40.0, reactive={3: {"phi": 0.2, "psi": 0.1}}
    )
    verify(req, agg)
    t_ver = _median_ms(lambda: verify(req, agg), 200)
    rows.append(("verify a request (4 needs, eqs (3)-(7))", "< 1 ms", t_ver, t_ver < 1.0))
    print(f"{'measure':<66} {'goal':>8} {'median ms':>10} ok")
    for name, goal, ms, ok in rows:
        print(f"{name:<66} {goal:>8} {ms:>10.3f} {'yes' if ok else 'NO'}")
    return rows


if __name__ == "__main__":
    main()
