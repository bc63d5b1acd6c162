"""A hand-written OpenDSS circuit as input: the reader, the power flow and ``openvpp opf`` on it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

TINY_DSS = """\
Clear
New Circuit.tiny basekv=11 pu=1.0 phases=3 bus1=src MVAsc3=1000000 MVAsc1=1000000
New Transformer.tr phases=3 windings=2 buses=[src lv] conns=[delta wye]
~ kvs=[11 0.416] kvas=[250 250] %r=0.5 xhl=4
New Linecode.cable nphases=3 r1=0.2 x1=0.07 r0=0.7 x0=0.08 units=km normamps=200
New Line.l1 bus1=lv bus2=b1 linecode=cable length=0.1 units=km
New Line.l2 bus1=b1 bus2=b2 linecode=cable length=0.15 units=km
New Load.h1 bus1=b1.1 phases=1 kv=0.2402 kw=3 pf=0.98 model=1
New Load.h2 bus1=b2.2 phases=1 kv=0.2402 kw=5 pf=0.98 model=1
New Load.h3 bus1=b2.3 phases=1 kv=0.2402 kw=1 pf=0.98 model=1
Set voltagebases=[11 0.416]
Calcvoltagebases
"""


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.dss"
    path.write_text(TINY_DSS)
    return path


def test_reader_and_power_flow_agree_with_opendss_itself(tiny):
    import opendssdirect as dss

    from openvpp.grid.loaders import from_opendss
    from openvpp.grid.powerflow import BatchPowerFlow

    net = from_opendss(tiny)
    assert (net.n_bus, net.n_line, net.n_site) == (3, 2, 3)
    assert list(net.sites["phase"]) == ["a", "b", "c"]
    np.testing.assert_allclose(net.i_max_a, 200.0)
    dss.Text.Command(f'compile "{tiny}"')
    dss.Solution.Solve()
    p = np.array([3.0, 5.0, 1.0])
    q = p * np.sqrt(1 - 0.98**2) / 0.98
    ours = BatchPowerFlow(net).run(p[:, None], q[:, None])
    for bus in ("b1", "b2"):
        dss.Circuit.SetActiveBus(bus)
        theirs = np.array(dss.Bus.puVmagAngle()[::2])
        mine = ours.v_pu[list(net.bus_names).index(bus), :, 0]
        np.testing.assert_allclose(mine, theirs, atol=1e-3)


def test_opf_command_runs_on_a_dss_circuit(tiny, tmp_path, write_opf_profiles):
    from openvpp.cli import app

    write_opf_profiles(tmp_path, ["h1", "h2", "h3"])
    out = CliRunner().invoke(app, ["opf", str(tiny), "--load", str(tmp_path / "load.csv"), "--pv",
                                   str(tmp_path / "pv.csv"), "--service", "18:00", "--service-minutes", "180",
                                   "--json"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    assert payload["v_error_pu"] <= 0.005 and payload["max_violation_pct"] <= 0.5
    assert len(payload["p_vpp_kw"]) == 8
    # the service step exports (eq. (24)): the batteries discharge, so the VPP's net power is below its load
    assert payload["p_vpp_kw"][6] < 6.0
