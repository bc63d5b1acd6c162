"""Tests of the shared power-flow inputs and size guard (openvpp.grid.results)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openvpp.errors import ValidationError
from openvpp.grid.network import Network
from openvpp.grid.powerflow import BatchPowerFlow
from openvpp.grid.results import MAX_BUS_STEPS, bus_phase_power_va, check_bus_steps


def _net() -> Network:
    z = np.tile(np.eye(3) * (0.1 + 0.05j), (2, 1, 1))
    return Network(
        name="t", bus_names=["src", "b1", "b2"], v_base_v=230.0, source_bus=0, line_from=[0, 1],
        line_to=[1, 2], z_ohm=z, i_max_a=[200.0, 100.0], trafo_sn_kva=250.0, trafo_z_pu=0.01 + 0.04j,
        trafo_vector_group="Dyn", v_source_pu=1.0,
        sites=pd.DataFrame({"site_id": ["s1", "s2"], "bus": [1, 2], "phase": ["b", "abc"]}),
    )


def test_bus_phase_power_by_hand():
    s = bus_phase_power_va(_net(), [2.0, 3.0], [1.0, 0.0])
    expect = np.zeros((9, 1), dtype=complex)
    expect[3 * 1 + 1] = 2000.0 + 1000.0j  # s1 on phase b of bus 1, in VA
    expect[6:9] = 1000.0  # s2: a third of 3 kW on each phase of bus 2
    np.testing.assert_allclose(s, expect)


def test_size_guard_states_the_bound_before_allocating():
    check_bus_steps(1000, MAX_BUS_STEPS // 1000)
    with pytest.raises(ValidationError, match=f"{MAX_BUS_STEPS:,}"):
        check_bus_steps(1000, MAX_BUS_STEPS // 1000 + 1)
    # the power flow refuses a horizon over the bound without building its (3 n_bus, T) arrays
    n_steps = MAX_BUS_STEPS // 3 + 1
    p = np.broadcast_to(np.zeros((2, 1)), (2, n_steps))  # a view: no memory of that size
    with pytest.raises(ValidationError, match="bus-steps exceeds the bound"):
        BatchPowerFlow(_net(), reduce=False).run(p)
