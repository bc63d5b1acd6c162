"""Tests of the linearised three-phase OPF (openvpp.grid.opf) against exact power flow and hand checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openvpp.der.battery import BatteryParams, battery_energy
from openvpp.errors import InfeasibleError, ValidationError
from openvpp.grid import opf
from openvpp.grid.loaders import ieee_european_lv, sequence_to_phase
from openvpp.grid.network import Network
from openvpp.grid.powerflow import BatchPowerFlow
from openvpp.grid.reduction import reduce_network

T = 12  # short horizon: 6 h at 30 min
SERVICE_STEP = 9


def _profiles(n_site: int, n_steps: int, seed: int = 3):
    rng = np.random.default_rng(seed)
    tt = np.arange(n_steps)
    shape = 0.4 + 0.8 * np.exp(-(((tt - SERVICE_STEP) / 3.0) ** 2))
    p_load = (0.5 + rng.random((n_site, 1))) * shape[None, :]
    q_load = 0.2 * p_load
    p_pv = np.zeros((n_site, n_steps))
    p_pv[::2] = 2.5 * np.clip(np.sin(np.pi * (tt + 2) / 14.0), 0.0, None)
    return p_load, q_load, p_pv


def _batteries(network: Network, idx: np.ndarray, soc0: float = 0.6) -> BatteryParams:
    sid = network.sites["site_id"].to_numpy()[idx]
    return BatteryParams(device_id=[f"bat_{s}" for s in sid], site_id=sid, soc0=soc0)


@pytest.fixture(scope="session")
def ieee_reduced() -> Network:
    return reduce_network(ieee_european_lv().replace(v_source_pu=1.0)).reduced


@pytest.fixture(scope="session")
def small_feeder() -> Network:
    """Eight-bus three-phase feeder with a tight cable so that current limits bind."""
    nb = 8
    z = sequence_to_phase(np.full(nb - 1, 0.35 + 0.05j), np.full(nb - 1, 0.10 + 0.04j)) * 0.05
    sites = pd.DataFrame({
        "site_id": [f"h{k}" for k in range(1, 3 * (nb - 1) + 1)],
        "bus": np.repeat(np.arange(1, nb), 3),
        "phase": np.tile(["a", "b", "c"], nb - 1),
    })
    return Network(
        name="small", bus_names=[f"n{k}" for k in range(nb)], v_base_v=230.0, source_bus=0,
        line_from=np.r_[0, 1, 2, 3, 4, 3, 6], line_to=np.arange(1, nb), z_ohm=z,
        i_max_a=np.r_[60.0, 200.0, 200.0, 200.0, 200.0, 200.0, 200.0], trafo_sn_kva=250.0,
        trafo_z_pu=0.01 + 0.04j, trafo_vector_group="Dyn", v_source_pu=1.0, sites=sites,
    )


def _service(n_steps: int = T) -> np.ndarray:
    svc = np.zeros(n_steps, dtype=bool)
    svc[SERVICE_STEP] = True
    return svc


# ---------------------------------------------------------------------------------------------- helpers
def test_omega_of_seed_000():
    w = opf.omega_no_service(48)
    assert w[0] == pytest.approx(2.0) and w[47] == pytest.approx(2.0 - 0.01 * 47)


# ---------------------------------------------------------------------------------------------- households
def test_household_model_closes_the_balances(small_feeder):
    pl, ql, pv = _profiles(small_feeder.n_site, T)
    bat = _batteries(small_feeder, np.arange(0, small_feeder.n_site, 2))
    res = opf.solve_opf(small_feeder, pl, ql, pv, bat, 0.5, service=_service(), grid_constraints=False)
    idx = np.arange(0, small_feeder.n_site, 2)
    # eq. (4): net power = demand - PV + battery
    assert np.allclose(res.p_site_kw[idx], pl[idx] - pv[idx] + res.p_battery_kw, atol=1e-6)
    others = np.setdiff1d(np.arange(small_feeder.n_site), idx)
    assert np.allclose(res.p_site_kw[others], pl[others] - pv[others])
    # eq. (8): no charging in the service period; eq. (9)-(10) by a hand recursion
    assert np.all(res.p_battery_kw[:, SERVICE_STEP] <= 1e-6)
    e = np.full(idx.size, 0.6 * 13.5)
    eta = np.sqrt(0.95)
    for t in range(T):
        p = res.p_battery_kw[:, t]
        e = e + (eta * np.maximum(p, 0) - np.maximum(-p, 0) / eta) * 0.5
        assert np.allclose(res.e_battery_kwh[:, t], e, atol=1e-5)
    assert res.e_battery_kwh.min() >= -1e-6 and res.e_battery_kwh.max() <= 13.5 + 1e-6
    # without grid limits and with energy to spare, every battery exports at its rating in the service step
    assert np.allclose(res.p_battery_kw[:, SERVICE_STEP], -5.0, atol=1e-4)


def test_self_consumption_reduces_grid_exchange(small_feeder):
    pl, ql, pv = _profiles(small_feeder.n_site, T)
    idx = np.arange(0, small_feeder.n_site, 2)
    bat = _batteries(small_feeder, idx, soc0=0.3)
    res = opf.solve_opf(small_feeder, pl, ql, pv, bat, 0.5, objective="self_consumption",
                        grid_constraints=False)
    before = np.abs(pl[idx] - pv[idx]).sum()
    after = np.abs(res.p_site_kw[idx]).sum()
    assert after < before


# ---------------------------------------------------------------------------------------------- network
def test_current_limit_binds_and_holds_exactly(small_feeder):
    pl, ql, pv = _profiles(small_feeder.n_site, T)
    bat = _batteries(small_feeder, np.arange(small_feeder.n_site))
    free = opf.solve_opf(small_feeder, pl, ql, pv, bat, 0.5, service=_service(), grid_constraints=False)
    assert free.line_utilisation.max() > 1.05  # the 60 A cable is overloaded without grid constraints
    res = opf.solve_opf(small_feeder, pl, ql, pv, bat, 0.5, service=_service())
    assert res.converged and res.dv_history_pu[-1] < 1e-4
    assert res.v_error_pu <= 0.005
    assert res.max_violation_pct <= 0.5
    assert res.line_utilisation[0].max() == pytest.approx(1.0, abs=0.005)  # exported up to the limit
    assert res.p_vpp_kw[SERVICE_STEP] >= free.p_vpp_kw[SERVICE_STEP] - 1e-6  # GC export <= no-GC export


def test_opf_voltages_agree_with_exact_flow_on_ieee_feeder(ieee_reduced):
    net = ieee_reduced
    pl, ql, pv = _profiles(net.n_site, T)
    idx = np.arange(0, net.n_site, 2)
    bat = _batteries(net, idx)
    free = opf.solve_opf(net, pl, ql, pv, bat, 0.5, service=_service(), grid_constraints=False,
                         v_max_pu=1.03)
    assert free.violations["kind"].eq("v_max").any()  # exporting 5 kW each raises the voltage above 1.03
    res = opf.solve_opf(net, pl, ql, pv, bat, 0.5, service=_service(), v_max_pu=1.03, start="base")
    assert res.iterations >= 2 and res.converged
    assert len(res.v_error_history_pu) == res.iterations
    assert res.v_error_history_pu[-1] == pytest.approx(res.v_error_pu)
    assert res.v_error_pu <= 0.005
    assert res.max_violation_pct <= 0.5
    assert res.v_exact_pu.max() <= 1.03 * 1.005
    assert res.p_vpp_kw[SERVICE_STEP] >= free.p_vpp_kw[SERVICE_STEP] - 1e-6
    # the reported exact voltages are those of an independent run of the exact power flow
    again = BatchPowerFlow(net, reduce=False).run(res.p_site_kw, res.q_site_kvar)
    assert np.allclose(again.v_pu, res.v_exact_pu, atol=1e-8)


# ---------------------------------------------------------------------------------------------- checks
def test_find_violations_reports_planted_excess(small_feeder):
    pl, ql, _ = _profiles(small_feeder.n_site, 2)
    flow = BatchPowerFlow(small_feeder, reduce=False).run(pl * 8.0, ql * 8.0)
    _, line_u, _, viol = opf.find_violations(small_feeder, flow, 0.9, 1.1)
    assert line_u[0].max() > 1.0
    worst = viol[viol["kind"] == "line"].iloc[0]
    assert worst["excess_pct"] == pytest.approx(100 * (line_u.max() - 1.0))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"p_pv_kw": -1.0}, "p_pv_kw"),
        ({"service": None}, "service"),
        ({"v_max_pu": 0.95}, "voltage limits"),
        ({"dt_h": 0.0}, "dt_h"),
    ],
)
def test_bad_inputs_name_the_field(small_feeder, change, match):
    pl, ql, pv = _profiles(small_feeder.n_site, T)
    kwargs = {"p_pv_kw": pv, "service": _service(), "v_max_pu": 1.1, "dt_h": 0.5}
    for k, v in change.items():
        kwargs[k] = pv * 0 + v if k == "p_pv_kw" else v
    bat = _batteries(small_feeder, np.arange(2))
    with pytest.raises(ValidationError, match=match):
        opf.solve_opf(small_feeder, pl, ql, kwargs["p_pv_kw"], bat, kwargs["dt_h"], service=kwargs["service"],
                      v_max_pu=kwargs["v_max_pu"], grid_constraints=False)


def test_unknown_battery_site_is_rejected(small_feeder):
    pl, ql, pv = _profiles(small_feeder.n_site, T)
    bat = BatteryParams(device_id=["x"], site_id=["nowhere"])
    with pytest.raises(ValidationError, match="nowhere"):
        opf.solve_opf(small_feeder, pl, ql, pv, bat, 0.5, service=_service())


# ---------------------------------------------------------------------------------------------- solver
def test_a_solver_stopped_early_is_reported_not_called_infeasible(small_feeder):
    pl, ql, pv = _profiles(small_feeder.n_site, T)
    bat = _batteries(small_feeder, np.arange(small_feeder.n_site))
    # HEAD raised InfeasibleError "no dispatch meets the limits" for a solver stopped at its iteration limit
    res = opf.solve_opf(small_feeder, pl, ql, pv, bat, 0.5, service=_service(),
                        solver=opf.SolverSettings(max_iter=3))
    assert res.solver_status == "user_limit"
    assert not res.converged
    assert all(k <= 3 for k in res.solver_iterations)
    assert "iteration or time limit" in res.message and "--max-iter" in res.message
    assert res.summary()["solver_status"] == "user_limit"
    ok = opf.solve_opf(small_feeder, pl, ql, pv, bat, 0.5, service=_service())
    assert ok.solver_status == "optimal" and ok.converged and ok.message == ""
    assert max(ok.solver_iterations) > 3


def test_a_proven_infeasibility_is_infeasible(small_feeder):
    pl, ql, pv = _profiles(small_feeder.n_site, T)
    bat = _batteries(small_feeder, np.arange(2))
    # a 99 % lower voltage limit cannot hold under load: the solver proves infeasibility
    with pytest.raises(InfeasibleError, match="infeasible"):
        opf.solve_opf(small_feeder, pl * 8.0, ql * 8.0, pv, bat, 0.5, service=_service(), v_min_pu=0.995,
                      start="base")


def test_solver_settings_are_validated():
    with pytest.raises(ValidationError, match="max_iter"):
        opf.SolverSettings.build(max_iter=0)
    with pytest.raises(ValidationError, match="tol_feas"):
        opf.SolverSettings.build(tol_feas=-1.0)


def test_opf_size_is_bounded_before_building(small_feeder):
    n_steps = opf.MAX_OPF_BUS_STEPS // small_feeder.n_bus + 1
    p = np.broadcast_to(np.zeros((small_feeder.n_site, 1)), (small_feeder.n_site, n_steps))
    bat = _batteries(small_feeder, np.arange(2))
    with pytest.raises(ValidationError, match=f"{opf.MAX_OPF_BUS_STEPS:,}"):
        opf.solve_opf(small_feeder, p, p, p, bat, 0.5, objective="self_consumption")


# ---------------------------------------------------------------------------------------------- eq. (9)
def test_energy_is_the_battery_models_own_eq_9_including_self_discharge(small_feeder):
    pl, ql, pv = _profiles(small_feeder.n_site, T)
    idx = np.arange(0, small_feeder.n_site, 3)
    sid = small_feeder.sites["site_id"].to_numpy()[idx]
    bat = BatteryParams(device_id=[f"b_{s}" for s in sid], site_id=sid, soc0=0.6, self_discharge_per_h=0.05)
    res = opf.solve_opf(small_feeder, pl, ql, pv, bat, 0.5, service=_service(), grid_constraints=False)
    p = res.p_battery_kw
    expect = battery_energy(bat.soc0 * bat.e_max_kwh, np.maximum(p, 0), np.maximum(-p, 0), bat.eta_charge,
                            bat.eta_discharge, 0.5, bat.self_discharge_per_h)
    np.testing.assert_allclose(res.e_battery_kwh, expect, atol=1e-6)
    # by hand for one step: e1 = e0 (1 - 0.05)^0.5 + eta p_c dt - p_d dt / eta
    e0 = 0.6 * 13.5
    eta = np.sqrt(0.95)
    e1 = e0 * 0.95**0.5 + 0.5 * (eta * max(p[0, 0], 0) - max(-p[0, 0], 0) / eta)
    assert res.e_battery_kwh[0, 0] == pytest.approx(e1, abs=1e-6)
    # the OPF respects the SoC window with the decay it now models
    assert res.e_battery_kwh.min() >= -1e-6 and res.e_battery_kwh.max() <= 13.5 + 1e-6
    keep, a_c, a_d = opf.energy_step_coefficients(bat, 0.5)
    np.testing.assert_allclose(keep, 0.95**0.5)
    np.testing.assert_allclose(a_c, 0.5 * eta)
    np.testing.assert_allclose(a_d, 0.5 / eta)
