"""Per-site optimiser: independent cvxpy formulation, the lowest-SoC hand case, properties and bad input."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openvpp.der.battery import BatteryParams
from openvpp.der.ev import EVParams
from openvpp.der.pv import PVParams
from openvpp.errors import InfeasibleError, ValidationError
from openvpp.fleet import Fleet, Profiles, Sites
from openvpp.schedule import Plan, ServiceSpec, SiteProblem, device_models, solve_sites
from openvpp.timeseries import make_index


def site_fleet(
    n_t: int = 24,
    step_min: float = 60,
    *,
    p_kw: float = 5.0,
    e_kwh: float = 13.5,
    soc0: float = 0.5,
    eta: float = 0.95,
    pv_kwp: float = 5.0,
    ev: dict | None = None,
    seed: int = 0,
    base_scale: float = 1.0,
) -> tuple[Fleet, np.ndarray]:
    """One site with a battery, a PV system (and optionally an EV) and a bell-shaped evening load."""
    idx = make_index("2020-01-15", n_t, step_min, tz="Etc/GMT-10")
    h = np.asarray(idx.hour + idx.minute / 60.0)
    rng = np.random.default_rng(seed)
    pu = np.clip(np.sin((h - 6) / 12 * np.pi), 0, None)[None, :] * 0.8
    base = base_scale * (0.4 + 1.2 * np.exp(-(((h - 19) / 2) ** 2)) + rng.uniform(0, 0.2, n_t))[None, :]
    ders = {
        "battery": BatteryParams(
            device_id=["b1"],
            site_id=["s1"],
            p_charge_max_kw=[p_kw],
            p_discharge_max_kw=[p_kw],
            e_max_kwh=[e_kwh],
            soc0=[soc0],
            eta_charge=[eta],
            eta_discharge=[eta],
        ),
        "pv": PVParams(
            device_id=["pv1"],
            site_id=["s1"],
            p_dc_kwp=[pv_kwp],
            p_ac_max_kw=[pv_kwp],
            latitude_deg=[-34.9],
            longitude_deg=[138.6],
        ),
    }
    if ev is not None:
        ders["ev"] = EVParams(device_id=["ev1"], site_id=["s1"], **{k: [v] for k, v in ev.items()})
    fleet = Fleet(
        Sites(site_id=["s1"], node=["n1"]), ders, Profiles(idx, {"base_load_kw": base, "pv_pu": pu})
    )
    return fleet, base


def fcas(n_t: int, rng: np.random.Generator, keys=("raise_6s", "lower_6s", "raise_5min", "lower_5min")):
    dur = {"6s": 1 / 60, "60s": 5 / 60, "5min": 10 / 60}
    return tuple(
        ServiceSpec(
            f"fcas_{k}",
            "up" if k.startswith("raise") else "down",
            dur[k.split("_")[1]],
            ("battery",),
            rng.uniform(0, 20, n_t),
        )
        for k in keys
    )


def problem(fleet, base, energy, services=(), export_limit=5.0, import_limit=np.inf, tariff=80.0, **kw):
    models = device_models(fleet, fleet.profiles.index)
    return SiteProblem(
        models, ["s1"], base, energy + tariff, energy, import_limit, export_limit, services, **kw
    )


# ---------------------------------------------------------------------------------------------- cvxpy
def cvxpy_objective(fleet, base, energy, services, export_limit, tariff, deg_per_mwh, cycles_per_day):
    """The same battery + PV + reserves site problem, written independently with cvxpy (Clarabel)."""
    idx = fleet.profiles.index
    n_t = len(idx)
    dt = (idx[1] - idx[0]).total_seconds() / 3600
    b = fleet.der("battery")
    pv = fleet.der("pv")
    avail = np.minimum(fleet.profiles["pv_pu"][0] * pv.p_dc_kwp[0], pv.p_ac_max_kw[0])
    P, E, ec, ed = b.p_charge_max_kw[0], b.e_max_kwh[0], b.eta_charge[0], b.eta_discharge[0]
    ch, dis, cur = cp.Variable(n_t, nonneg=True), cp.Variable(n_t, nonneg=True), cp.Variable(n_t, nonneg=True)
    e = cp.Variable(n_t + 1)
    imp, exp_ = cp.Variable(n_t, nonneg=True), cp.Variable(n_t, nonneg=True)
    r = {s.key: cp.Variable(n_t, nonneg=True) for s in services}
    up = [s for s in services if s.direction == "up"]
    dn = [s for s in services if s.direction == "down"]
    R_up = sum((r[s.key] for s in up), start=cp.Constant(np.zeros(n_t)))
    R_dn = sum((r[s.key] for s in dn), start=cp.Constant(np.zeros(n_t)))
    net = base[0] + ch - dis - avail + cur
    cons = [
        ch <= P,
        dis <= P,
        cur <= avail,
        e[0] == b.soc0[0] * E,
        e >= 0,
        e <= E,
        e[1:] == e[:-1] + dt * (ec * ch - dis / ed),
        imp - exp_ == net,
        exp_ <= export_limit,
        ch - dis - R_up >= -P,
        ch - dis + R_dn <= P,
        imp - exp_ - R_up >= -export_limit,
        cp.sum(dis) * dt <= cycles_per_day * n_t * dt / 24 * E,
    ]
    for group, sign in ((up, -1), (dn, 1)):
        for dj in sorted({s.duration_h for s in group}):
            tot = sum(
                (r[s.key] * min(dj, s.duration_h) / ed for s in group), start=cp.Constant(np.zeros(n_t))
            )
            # from the interval's start under its own baseline, from its end under the next interval's
            flow = ec * ch - dis / ed
            flow_next = cp.hstack([flow[1:], cp.Constant(np.zeros(1))])
            for eb, f in ((e[:-1], flow), (e[1:], flow_next)):
                cons.append(eb + dj * f + sign * tot >= 0 if sign < 0 else eb + dj * f + tot <= E)
    cost = cp.sum(cp.multiply(energy + tariff, imp) - cp.multiply(energy, exp_)) * dt / 1000
    cost += deg_per_mwh * cp.sum(ch + dis) * dt / 1000
    cost -= sum(cp.sum(cp.multiply(s.price_per_mw_h, r[s.key])) for s in services) * dt / 1000
    prob = cp.Problem(cp.Minimize(cost), cons)
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    assert prob.status == "optimal"
    return prob.value


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_objective_matches_independent_cvxpy_formulation(seed):
    rng = np.random.default_rng(seed)
    fleet, base = site_fleet(24, 60, seed=seed)
    energy = rng.uniform(-20, 200, 24)
    services = fcas(24, rng)
    plan, info = solve_sites(
        problem(fleet, base, energy, services, export_limit=3.0, degradation_per_mwh=7.0, cycles_per_day=1.0)
    )
    ref = cvxpy_objective(fleet, base, energy, services, 3.0, 80.0, 7.0, 1.0)
    assert info.status == "optimal"
    assert info.objective == pytest.approx(ref, rel=1e-6, abs=1e-7)
    assert plan.check(fleet).ok


# ---------------------------------------------------------------------------------------------- hand case
def test_energy_headroom_uses_lowest_soc_of_the_interval():
    """Empty battery charging 5 kW for 30 min; a 5-min raise service.

    End-of-interval model: e(end) = 2.5 kWh covers r * 5/60 h for r up to 30 kW, so the 10 kW power headroom
    binds and it promises 10 kW; but an activation at the start of the interval finds 0 kWh and would have to
    discharge 5 kW from an empty battery. The lowest SoC of the interval is 0, so r <= the 5 kW of charging.
    """
    fleet, _ = site_fleet(2, 30, p_kw=5.0, e_kwh=10.0, soc0=0.0, eta=1.0, pv_kwp=1.0)
    fleet = fleet.with_profiles(
        Profiles(fleet.profiles.index, {"base_load_kw": np.zeros((1, 2)), "pv_pu": np.zeros((1, 2))})
    )
    raise5 = ServiceSpec("fcas_raise_5min", "up", 5 / 60, ("battery",), np.array([1000.0, 0.0]))
    # paid to import in interval 0 (negative price), so the battery charges at 5 kW
    plan, _ = solve_sites(
        problem(
            fleet, np.zeros((1, 2)), np.array([-500.0, 0.0]), (raise5,), tariff=0.0, degradation_per_mwh=0.0
        )
    )
    b = list(plan.device_ids).index("b1")
    assert plan.p_baseline_kw[b, 0] == pytest.approx(5.0)
    assert plan.reserve_up_kw[0, b, 0] == pytest.approx(5.0, abs=1e-6)
    assert plan.check(fleet).ok
    # the end-of-interval promise of 10 kW breaks at the start of the interval
    r = plan.reserve_up_kw.copy()
    r[0, b, 0] = 10.0
    over = Plan(**{**_fields(plan), "reserve_up_kw": r})
    res = over.check(fleet)
    assert not res.ok
    kinds = {(x.kind, x.device_id, x.step) for x in res.breaches}
    assert ("energy_low", "b1", 0) in kinds
    worst = next(x for x in res.breaches if x.kind == "energy_low")
    # from 0 kWh at -5 kW for 5 minutes: 5 * 5/60 kWh short
    assert worst.amount == pytest.approx(5 * 5 / 60, rel=1e-9)


def _fields(plan: Plan) -> dict:
    import dataclasses

    return {f.name: getattr(plan, f.name) for f in dataclasses.fields(plan)}


# ---------------------------------------------------------------------------------------------- properties
cases = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 10_000),
        "p_kw": st.floats(1.0, 8.0),
        "e_kwh": st.floats(2.0, 20.0),
        "soc0": st.floats(0.0, 1.0),
        "eta": st.floats(0.8, 1.0),
        "pv_kwp": st.floats(0.5, 8.0),
        "export_limit": st.floats(0.0, 10.0),
        "n_services": st.integers(0, 4),
        "ev": st.booleans(),
    }
)


def _case(c):
    rng = np.random.default_rng(c["seed"])
    ev = None
    if c["ev"]:
        arr = int(rng.integers(0, 10))
        dep = int(rng.integers(arr + 4, 24))
        ev = {
            "arrival_step": arr,
            "departure_step": dep,
            "e0_kwh": 20.0,
            "e_required_kwh": min(20.0 + (dep - arr) * 2.0, 58.0),
            "p_max_kw": 7.0,
            "e_max_kwh": 60.0,
        }
    fleet, base = site_fleet(
        24,
        60,
        p_kw=c["p_kw"],
        e_kwh=c["e_kwh"],
        soc0=c["soc0"],
        eta=c["eta"],
        pv_kwp=c["pv_kwp"],
        ev=ev,
        seed=c["seed"],
    )
    energy = rng.uniform(-50, 300, 24)
    services = fcas(24, rng, ("raise_6s", "lower_6s", "raise_5min", "lower_5min")[: c["n_services"]])
    return fleet, base, energy, services


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases)
def test_plans_are_deliverable_and_within_envelopes(c):
    fleet, base, energy, services = _case(c)
    plan, _ = solve_sites(problem(fleet, base, energy, services, export_limit=c["export_limit"]))
    assert plan.check(fleet).ok, plan.check(fleet).summary()
    tol = 1e-6
    assert np.all(-plan.site_p_kw <= c["export_limit"] + tol)
    assert np.all(-(plan.site_p_kw - plan.site_reserve_kw("up")) <= c["export_limit"] + tol)
    if c["ev"]:
        t = fleet.der("ev")
        k = list(plan.device_ids).index("ev1")
        dep = int(t.departure_step[0])
        assert plan.soc_baseline[k, dep] * 60.0 >= t.e_required_kwh[0] - 1e-6
    storage = plan.has_storage
    assert np.all(plan.soc_min[storage] <= plan.soc_max[storage] + 1e-9)


@settings(max_examples=15, deadline=None)
@given(cases)
def test_zero_prices_mean_no_cycling(c):
    fleet, base, _, services = _case(c)
    n_t = len(fleet.profiles.index)
    zero_svc = tuple(
        ServiceSpec(s.key, s.direction, s.duration_h, s.der_classes, np.zeros(n_t)) for s in services
    )
    plan, _ = solve_sites(problem(fleet, base, np.zeros(n_t), zero_svc, tariff=0.0, export_limit=1e6))
    b = list(plan.device_ids).index("b1")
    assert np.allclose(plan.p_baseline_kw[b], 0.0, atol=1e-7)


@settings(max_examples=15, deadline=None)
@given(cases, st.floats(0.0, 5.0))
def test_more_services_or_looser_envelope_never_lower_the_optimum(c, extra_kw):
    fleet, base, energy, services = _case(c)
    rng = np.random.default_rng(c["seed"] + 1)
    _, fewer = solve_sites(
        problem(fleet, base, energy, services[:-1] if services else (), export_limit=c["export_limit"])
    )
    _, more = solve_sites(
        problem(fleet, base, energy, services or fcas(24, rng, ("raise_6s",)), export_limit=c["export_limit"])
    )
    _, looser = solve_sites(
        problem(
            fleet, base, energy, services[:-1] if services else (), export_limit=c["export_limit"] + extra_kw
        )
    )
    # objectives are costs: more options can only lower (or keep) them; a MILP re-solve (negative prices) is
    # optimal up to its relative gap (mip_gap=1e-4)
    milp = more.milp or fewer.milp or looser.milp
    tol = (2e-4 if milp else 1e-7) * max(1.0, abs(fewer.objective))
    assert more.objective <= fewer.objective + tol
    assert looser.objective <= fewer.objective + tol


# ---------------------------------------------------------------------------------------------- answers
def test_time_limit_falls_back_to_a_valid_plan():
    rng = np.random.default_rng(3)
    fleet, base = site_fleet(
        48,
        30,
        ev={
            "arrival_step": 2,
            "departure_step": 30,
            "e0_kwh": 20.0,
            "e_required_kwh": 40.0,
            "p_max_kw": 7.0,
            "e_max_kwh": 60.0,
        },
    )
    plan, info = solve_sites(
        problem(fleet, base, rng.uniform(0, 100, 48), fcas(48, rng), export_limit=2.0), time_limit_s=1e-9
    )
    assert info.status in ("fallback", "time_limit", "optimal")
    assert plan.check(fleet).ok
    if info.status == "fallback":
        assert plan.reserve_up_kw.sum() == 0.0
        k = list(plan.device_ids).index("ev1")
        assert plan.soc_baseline[k, 30] * 60 >= 40.0 - 1e-9


def test_envelope_below_inflexible_load_names_site_and_interval():
    fleet, base = site_fleet(24, 60, base_scale=3.0)
    with pytest.raises(InfeasibleError, match=r"site 's1' in interval \d+"):
        solve_sites(problem(fleet, base, np.full(24, 50.0), import_limit=0.5))


def test_fixed_reserve_above_the_battery_names_the_device():
    fleet, base = site_fleet(24, 60)
    rng = np.random.default_rng(0)
    services = fcas(24, rng, ("raise_6s",))
    fixed = np.full((1, 2, 24), np.nan)
    fixed[0, 0, 5] = 50.0  # 50 kW from a 5 kW battery
    with pytest.raises(InfeasibleError, match=r"device 'b1' \(battery\) in interval 5"):
        solve_sites(
            problem(fleet, base, np.full(24, 50.0), services, export_limit=1e6, reserve_fixed_kw=fixed)
        )


def test_ev_need_above_charger_capability_is_a_validation_error():
    with pytest.raises(ValidationError, match=r"ev.e_required_kwh .*'ev1'.*p_max_kw"):
        site_fleet_ev = site_fleet(
            24,
            60,
            ev={
                "arrival_step": 20,
                "departure_step": 22,
                "e0_kwh": 10.0,
                "e_required_kwh": 50.0,
                "p_max_kw": 7.0,
                "e_max_kwh": 60.0,
            },
        )
        device_models(site_fleet_ev[0], site_fleet_ev[0].profiles.index)


def test_prices_on_another_axis_or_with_gaps_are_rejected():
    fleet, base = site_fleet(24, 60)
    energy = np.full(24, 50.0)
    with pytest.raises(ValidationError, match=r"service .x. prices have 23 intervals.*PriceSeries.align"):
        problem(fleet, base, energy, (ServiceSpec("x", "up", 0.1, ("battery",), np.ones(23)),))
    energy[3] = np.nan
    with pytest.raises(ValidationError, match=r"import_price_per_mwh has a missing value.*interval 3"):
        problem(fleet, base, energy)
