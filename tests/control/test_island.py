"""Island mode on a hand-built feeder: energy closure, shedding, curtailment, voltages, resync, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openvpp.control.island import downstream_buses, resync_check, run_island
from openvpp.errors import ValidationError
from openvpp.grid.network import Network


def _feeder(n=6, r_ohm=0.05):
    z = np.tile(np.eye(3) * complex(r_ohm, 0.5 * r_ohm) + complex(0.01, 0.01), (n - 1, 1, 1))
    sites = pd.DataFrame(
        {"site_id": [f"h{b}" for b in range(1, n)], "bus": list(range(1, n)), "phase": "abc"}
    )
    return Network(
        name="test",
        bus_names=[f"b{k}" for k in range(n)],
        v_base_v=230.0,
        source_bus=0,
        line_from=np.arange(n - 1),
        line_to=np.arange(1, n),
        z_ohm=z,
        i_max_a=np.full(n - 1, 300.0),
        trafo_sn_kva=250.0,
        trafo_z_pu=complex(0.01, 0.04),
        trafo_vector_group="Dyn",
        v_source_pu=1.0,
        sites=sites,
        line_names=[f"l{k}" for k in range(n - 1)],
    )


IDX = pd.date_range("2024-07-01 11:00", periods=60, freq="1min", tz="UTC")


def _run(demand, pv, soc0=0.5, e_max=10.0, p_max=5.0, net=None, **kw):
    net = net or _feeder()
    n = len(net.sites)
    return run_island(
        net,
        "l1",
        IDX,
        np.broadcast_to(demand, (n, 60)).copy(),
        np.broadcast_to(pv, (n, 60)).copy(),
        np.array([1, 3]),
        np.full(2, p_max),
        np.full(2, e_max),
        np.full(2, soc0),
        np.full(2, 0.1),
        **kw,
    )


def test_section_is_everything_downstream_of_the_line():
    assert downstream_buses(_feeder(), "l1").tolist() == [False, False, True, True, True, True]


def test_energy_balance_closes_and_the_section_is_supplied():
    res = _run(1.0, 0.0)
    assert res.balance_error_kwh < 1e-6
    # 4 customers x 1 kW for 1 h from 2 x 4 kWh usable: no shedding, batteries supply load plus losses
    assert res.ens_kwh == 0.0 and res.hours_sustained == pytest.approx(1.0)
    assert np.allclose(-res.p_batteries_kw, res.served_kw + res.losses_kw - res.pv_used_kw, atol=1e-8)
    assert np.all(res.losses_kw > 0)
    assert res.f_hz.min() < 50.0 and np.all(res.v_min_pu > 0.9)
    k = res.kpis()
    assert k["saidi_without_h"] == pytest.approx(1.0) and k["saidi_with_h"] == 0.0


def test_load_is_shed_by_priority_when_storage_runs_out():
    prio = np.array([0.0, 0.0, 5.0, 1.0, 9.0])  # site h5 (bus 5) is critical
    res = _run(3.0, 0.0, soc0=0.3, priority=prio)
    assert res.ens_kwh > 0 and res.hours_sustained < 1.0
    assert res.balance_error_kwh < 1e-6
    # the battery energy above the floor (2 x 2 kWh) bounds what was served
    assert np.sum(res.served_kw + res.losses_kw) / 60 <= 4.0 + 1e-6


def test_pv_is_curtailed_when_storage_is_full():
    res = _run(0.5, 4.0, soc0=0.99)
    assert res.pv_curtailed_kw.sum() > 0
    assert res.soc.max() <= 1.0 + 1e-12 and res.balance_error_kwh < 1e-6


def test_voltage_violations_name_bus_phase_and_time():
    res = _run(10.0, 0.0, p_max=100.0, e_max=500.0, net=_feeder(r_ohm=1.0))
    assert res.violations and {"bus", "phase", "time", "v_pu"} <= set(res.violations[0])
    assert res.violations[0]["v_pu"] < 0.9


def test_resync_only_inside_the_windows():
    ok = resync_check(1.02, 49.9, 50.0, angle0_deg=100.0, slip_hz=0.1)
    # the island runs 0.1 Hz fast: the angle advances 36 deg/s from 100 deg through 180 to the window edge
    # at -20 deg, 240 deg later
    assert ok["ok"] == 1.0 and ok["dangle_deg"] == -20.0 and ok["wait_s"] == pytest.approx(240.0 / 36.0)
    assert resync_check(1.2, 49.9, 50.0, 0.0)["ok"] == 0.0


def test_no_grid_forming_unit_is_an_error():
    net = _feeder()
    with pytest.raises(ValidationError, match="grid-forming"):
        run_island(
            net,
            "l3",
            IDX,
            np.ones((5, 60)),
            np.zeros((5, 60)),
            np.array([0, 1]),
            np.full(2, 5.0),
            np.full(2, 10.0),
            np.full(2, 0.5),
            np.full(2, 0.1),
        )
    with pytest.raises(ValidationError, match="not a line"):
        downstream_buses(net, "nope")
