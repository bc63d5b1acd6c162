"""Device adapters (openvpp.flex.adapters): device models' flexibility metrics against hand calculations."""

from __future__ import annotations

import numpy as np
import pytest

from openvpp.der.battery import Battery, BatteryParams
from openvpp.der.ev import EV, EVParams
from openvpp.der.heatpump import HeatPump, HeatPumpParams
from openvpp.der.pv import PV, PVParams
from openvpp.errors import ValidationError
from openvpp.flex.adapters import (
    metrics_from_battery,
    metrics_from_ev,
    metrics_from_heatpump,
    metrics_from_pv,
)


def test_battery_adapter_against_hand_calculation():
    bat = Battery(BatteryParams(device_id=["b1", "b2"], soc0=[0.5, 0.9], eta_charge=1.0, eta_discharge=1.0))
    m = metrics_from_battery(bat, 0.25, 2.0, ccp=[0, 1])
    # 13.5 kWh, 5 kW: half full -> 6.75 kWh each way; 90 % -> 10 kWh over 2 h at 5 kW, 1.35 kWh room
    assert m.eps_max_kwh == pytest.approx([6.75, 10.0])
    assert m.eps_min_kwh == pytest.approx([-6.75, -1.35])
    assert m.pi_max_kw == pytest.approx([5.0, 5.0]) and m.pi_min_kw == pytest.approx([-5.0, -5.0])
    assert m.phi_max_kvar == pytest.approx([5.0, 5.0])  # P-Q circle at P = 0
    assert m.s_max_kva == pytest.approx([5.0, 5.0])


def test_pv_and_thermal_adapters_use_the_device_models():
    params = PVParams(device_id=["p1"], latitude_deg=-33.0, longitude_deg=-70.0, p_dc_kwp=4.0)
    pv = PV(params, np.array([[2.0, 3.0, 4.0, 1.0]]))
    m = metrics_from_pv(pv, 0.25, 1.0)
    assert m.pi_max_kw[0] == pytest.approx(2.0) and m.pi_min_kw[0] == pytest.approx(0.0)
    assert m.eps_max_kwh[0] == pytest.approx((2 + 3 + 4 + 1) * 0.25)
    with pytest.raises(ValidationError, match="remain"):
        metrics_from_pv(pv, 0.25, 2.0)
    hp = HeatPump(HeatPumpParams(device_id=["h1"]))
    mh = metrics_from_heatpump(hp, 0.25, 1.0, t_out_c=5.0)
    lo, hi = hp.power_range(0.25, t_out_c=5.0)
    assert (mh.pi_min_kw[0], mh.pi_max_kw[0]) == pytest.approx((-hi[0], -lo[0]))
    assert mh.eps_max_kwh[0] <= 0.0


def test_ev_adapter_by_hand():
    # connected for steps 0..3 (1 h at 15 min), 20 kWh stored, 50 kWh needed at departure, 7.4 kW, eta 0.9
    params = EVParams(device_id=["e1", "e2"], arrival_step=[0, 8], departure_step=[4, 12])
    ev = EV(params, 0.25)
    m = metrics_from_ev(ev, 0.25, 1.0)
    absorb = min((60.0 - 20.0) / 0.9, 7.4 * 1.0)
    assert m.eps_min_kwh[0] == pytest.approx(-absorb)
    # it leaves within the horizon: the whole shortfall (capped by what fits) must be absorbed
    assert m.eps_max_kwh[0] == pytest.approx(-min(30.0 / 0.9, absorb))
    assert (m.eps_min_kwh[1], m.eps_max_kwh[1]) == (0.0, 0.0)  # not connected within the horizon
    assert m.pi_max_kw[1] == 0.0 and m.pi_min_kw[1] == 0.0
