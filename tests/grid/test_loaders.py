"""Tests of the network loaders and the sequence -> phase frame conversion (openvpp.grid.loaders)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvpp.data import load_ieee_european_lv
from openvpp.errors import ValidationError
from openvpp.grid.engines import to_opendss
from openvpp.grid.loaders import (
    IEEE_EU_LV_CABLE_RATINGS_A,
    assign_phases,
    electrical_distance_ohm,
    from_opendss,
    from_pandapower,
    ieee_european_lv,
    ieee_european_lv_snapshot,
    phase_to_sequence,
    sequence_to_phase,
    simbench_lv,
    simbench_site_profiles,
)

A = np.exp(2j * np.pi / 3)


@pytest.fixture(scope="module")
def ieee():
    return ieee_european_lv()


@pytest.fixture(scope="module")
def rural():
    return simbench_lv("1-LV-rural1--2-sw")


# ---------------------------------------------------------------------------------------------- frames
def test_sequence_to_phase_by_hand():
    z0, z1 = 1.5 + 0.08j, 0.45 + 0.07j
    z = sequence_to_phase(z0, z1)[0]
    assert np.allclose(np.diag(z), (z0 + 2 * z1) / 3)
    off = z[~np.eye(3, dtype=bool)]
    assert np.allclose(off, (z0 - z1) / 3)


complexes = st.complex_numbers(min_magnitude=1e-3, max_magnitude=10.0, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(z0=complexes, z1=complexes, z2=complexes)
def test_sequence_components_are_eigenvectors(z0, z1, z2):
    # a positive-sequence current sees z1, a negative one z2 and a zero-sequence one z0
    z = sequence_to_phase(z0, z1, z2)[0]
    pos = np.array([1, A**2, A])
    neg = np.array([1, A, A**2])
    zero = np.ones(3)
    assert np.allclose(z @ pos, z1 * pos)
    assert np.allclose(z @ neg, z2 * neg)
    assert np.allclose(z @ zero, z0 * zero)
    back = phase_to_sequence(z[None])[0]
    assert np.allclose(back, np.diag([z0, z1, z2]))


def test_phase_to_sequence_rejects_bad_shape():
    with pytest.raises(ValidationError):
        phase_to_sequence(np.zeros((3, 2)))


def test_assign_phases_round_robin_by_distance():
    phases = assign_phases([5.0, 1.0, 3.0, 2.0, 4.0], ["e", "a", "c", "b", "d"])
    # nearest first: a(1) b(2) c(3) d(4) e(5) -> phases a b c a b
    assert phases.tolist() == ["b", "a", "c", "b", "a"]
    assert assign_phases([1.0, 1.0], ["y", "x"]).tolist() == ["b", "a"]  # ties broken by id


# ---------------------------------------------------------------------------------------------- ieee
def test_ieee_feeder_facts(ieee):
    assert (ieee.n_bus, ieee.n_line, ieee.n_site) == (906, 905, 55)
    counts = ieee.sites["phase"].value_counts().to_dict()
    assert counts == {"a": 21, "b": 19, "c": 15}
    assert ieee.trafo_sn_kva == pytest.approx(800.0)
    assert ieee.trafo_vector_group == "Dyn"
    assert ieee.v_base_v == pytest.approx(416 / np.sqrt(3))
    assert ieee.v_source_pu == pytest.approx(1.05)
    assert ieee.line_is_oriented.all()
    # ratings come from the cable table, never the 421 A placeholder
    assert not np.any(np.isclose(ieee.i_max_a, 421.0))
    assert set(np.unique(ieee.i_max_a)) <= {v[3] for v in IEEE_EU_LV_CABLE_RATINGS_A.values()}


def test_ieee_line_impedance_matches_cable_data(ieee):
    pp = load_ieee_european_lv()
    row = pp.line.iloc[100]
    k = int(np.flatnonzero(ieee.line_names == row["name"])[0])
    z1 = (row.r_ohm_per_km + 1j * row.x_ohm_per_km) * row.length_km
    z0 = (row.r0_ohm_per_km + 1j * row.x0_ohm_per_km) * row.length_km
    z = ieee.z_ohm[k]
    assert z[0, 0] == pytest.approx((z0 + 2 * z1) / 3)
    assert z[0, 1] == pytest.approx((z0 - z1) / 3)
    assert ieee.i_max_a[k] == IEEE_EU_LV_CABLE_RATINGS_A[row.std_type][3]


def test_ieee_cable_table_is_consistent_with_resistance():
    # resistance x section within the range of copper / aluminium at operating temperature
    pp = load_ieee_european_lv()
    r = pp.line.groupby("std_type")["r_ohm_per_km"].first()
    for code, (material, section, standard, rating) in IEEE_EU_LV_CABLE_RATINGS_A.items():
        rho = r[code] * section  # ohm mm^2 / km
        lo, hi = (16.0, 22.5) if material == "Cu" else (27.0, 36.0)
        assert lo <= rho <= hi, code
        assert standard <= section and rating > 0


def test_ieee_snapshot(ieee):
    p, q = ieee_european_lv_snapshot("on_peak_566")
    assert p.shape == (55,) and q.shape == (55,)
    assert p.sum() == pytest.approx(57.358, rel=1e-4)
    with pytest.raises(ValidationError):
        ieee_european_lv_snapshot("noon")


# ---------------------------------------------------------------------------------------------- simbench
@pytest.mark.parametrize("code", ["1-LV-rural1--2-sw", "1-LV-semiurb4--2-sw"])
def test_simbench_assumptions(code):
    net = simbench_lv(code)
    assert net.n_line == net.n_bus - 1
    assert set(net.sites["phase"]) <= {"a", "b", "c"}
    counts = net.sites["phase"].value_counts()
    assert counts.max() - counts.min() <= 1
    z012 = phase_to_sequence(net.z_ohm)
    assert np.allclose(z012[:, 0, 0].real / z012[:, 1, 1].real, 3.5)
    assert np.allclose(z012[:, 0, 0].imag / z012[:, 1, 1].imag, 1.15)
    assert net.trafo_vector_group == "Dyn"
    assert net.trafo_z0_pu == net.trafo_z_pu
    # phases go round-robin along the electrical distance
    d = electrical_distance_ohm(net)[net.sites["bus"].to_numpy()]
    order = np.lexsort((net.sites["site_id"].to_numpy(), d))
    assert net.sites["phase"].to_numpy()[order][:6].tolist() == ["a", "b", "c", "a", "b", "c"]


def test_simbench_rural_tap_and_voltage(rural):
    # ext grid 1.025 pu, HV tap +1 x 2.5 % -> 1.0 pu at no load on the LV side
    assert rural.v_source_pu == pytest.approx(1.0)
    assert rural.trafo_sn_kva == pytest.approx(160.0)


def test_simbench_profiles_follow_site_order(rural):
    p, q = simbench_site_profiles("1-LV-rural1--2-sw", rural)
    assert list(p.columns) == rural.sites["site_id"].tolist()
    assert p.shape == (366 * 96, rural.n_site) and q.shape == p.shape
    assert p.index.tz is not None
    assert np.isfinite(p.to_numpy()).all() and (p.to_numpy().max() > 0)


# ---------------------------------------------------------------------------------------------- opendss
def test_opendss_round_trip(tmp_path, rural):
    path = tmp_path / "feeder.dss"
    path.write_text("\n".join(c for c in to_opendss(rural) if not c.startswith("set mode")) + "\n")
    back = from_opendss(path)
    assert back.n_bus == rural.n_bus and back.n_line == rural.n_line
    assert np.allclose(np.sort(np.abs(back.z_ohm).ravel()), np.sort(np.abs(rural.z_ohm).ravel()), rtol=1e-9)
    assert back.trafo_sn_kva == pytest.approx(rural.trafo_sn_kva)
    assert back.trafo_z_pu == pytest.approx(rural.trafo_z_pu, rel=1e-6)
    assert back.v_source_pu == pytest.approx(rural.v_source_pu)
    assert back.v_base_v == pytest.approx(rural.v_base_v)
    assert sorted(back.sites["phase"]) == sorted(rural.sites["phase"])
    assert np.allclose(np.sort(back.i_max_a), np.sort(rural.i_max_a))


# ---------------------------------------------------------------------------------------- from_pandapower
def _pp_feeder(vector_group="Dyn", r0=True, vk0=True):
    """A 20/0.4 kV transformer and three cable sections with houses h1..h3 (pandapower, from parameters)."""
    import pandapower as pp

    net = pp.create_empty_network(name="pp_feeder")
    mv = pp.create_bus(net, 20.0, name="mv")
    lv = [pp.create_bus(net, 0.4, name=f"lv{k}") for k in range(4)]
    pp.create_ext_grid(net, mv, vm_pu=1.0)
    extra = {"vk0_percent": 4.0, "vkr0_percent": 1.0, "mag0_percent": 100.0, "mag0_rx": 0.0,
             "si0_hv_partial": 0.9} if vk0 else {}
    pp.create_transformer_from_parameters(
        net, mv, lv[0], sn_mva=0.25, vn_hv_kv=20.0, vn_lv_kv=0.4, vkr_percent=1.2, vk_percent=4.0,
        pfe_kw=0.0, i0_percent=0.0, vector_group=vector_group, name="T1", **extra)
    zero = {"r0_ohm_per_km": 0.9, "x0_ohm_per_km": 0.1, "c0_nf_per_km": 0.0} if r0 else {}
    for k in range(3):
        pp.create_line_from_parameters(net, lv[k], lv[k + 1], 0.1, r_ohm_per_km=0.2, x_ohm_per_km=0.08,
                                       c_nf_per_km=0.0, max_i_ka=0.27, name=f"L{k}", **zero)
    for k in range(1, 4):
        pp.create_asymmetric_load(net, lv[k], p_a_mw=0.002 * (k == 1), p_b_mw=0.002 * (k == 2),
                                  p_c_mw=0.002 * (k == 3), name=f"h{k}")
    return net


def test_the_files_own_zero_sequence_data_are_used_even_when_ratios_are_given():
    # HEAD replaced r0/x0 by r0_per_r1 * r1 whenever ratios were passed (the opf command always passed them
    # for nets without a vector group)
    net = from_pandapower(_pp_feeder(), r0_per_r1=3.5, x0_per_x1=1.15)
    z012 = phase_to_sequence(net.z_ohm)
    np.testing.assert_allclose(z012[:, 0, 0], (0.9 + 0.1j) * 0.1)
    np.testing.assert_allclose(z012[:, 1, 1], (0.2 + 0.08j) * 0.1)


def test_missing_zero_sequence_data_is_an_error_naming_the_lines_unless_ratios_are_given():
    with pytest.raises(ValidationError, match=r"zero-sequence.*'L0'.*--r0-per-r1"):
        from_pandapower(_pp_feeder(r0=False))
    net = from_pandapower(_pp_feeder(r0=False), r0_per_r1=3.0, x0_per_x1=2.0)
    z012 = phase_to_sequence(net.z_ohm)
    np.testing.assert_allclose(z012[:, 0, 0], (0.6 + 0.16j) * 0.1)


def test_transformer_zero_sequence_comes_from_the_file_without_a_vector_group():
    # HEAD: no vector group in the file -> z0 = z1 even when vk0_percent is there
    pp_net = _pp_feeder()
    pp_net.trafo["vector_group"] = None
    net = from_pandapower(pp_net, vector_group="Dyn")
    # by hand: z0k = 0.01 + j sqrt(0.04^2 - 0.01^2); T model with 90 % on the HV side and |Zm| = |Z0k|
    z0k = complex(0.01, np.sqrt(0.04**2 - 0.01**2))
    zm = 1j * abs(z0k)
    expect = 0.1 * z0k + (0.9 * z0k * zm) / (0.9 * z0k + zm)
    assert net.trafo_z0_pu == pytest.approx(expect)
    assert abs(net.trafo_z0_pu - net.trafo_z_pu) > 1e-3


@pytest.mark.parametrize(
    "group, base", [("Dyn", "Dyn"), ("Dyn5", "Dyn"), ("YNyn0", "YNyn"), ("YNyn", "YNyn")]
)
def test_supported_vector_groups(group, base):
    assert from_pandapower(_pp_feeder(vector_group=group)).trafo_vector_group == base


@pytest.mark.parametrize("group", ["Yzn", "Yzn5", "Yy", "Yyn", "Dd", "YNd", "Dy", "Dzn", "dyn"])
def test_unsupported_vector_groups_are_refused_naming_the_transformer(group):
    with pytest.raises(ValidationError, match=rf"transformer 'T1' has vector group '{group}'"):
        from_pandapower(_pp_feeder(vector_group=group))


def test_a_load_on_a_bus_not_reached_from_the_busbar_names_load_and_bus():
    import pandapower as pp

    net = _pp_feeder()
    island = pp.create_bus(net, 0.4, name="island")
    pp.create_load(net, island, p_mw=0.001, name="cut_off")
    with pytest.raises(ValidationError, match=r"load 'cut_off' is connected to bus \d+ \('island'\)"):
        from_pandapower(net)


def test_a_single_phase_load_with_zero_power_stays_single_phase():
    net = _pp_feeder()
    net.asymmetric_load.loc[net.asymmetric_load["name"] == "h2", "p_b_mw"] = 0.0
    # HEAD made it a balanced three-phase site; its phase cannot be read from zero power: say so ...
    with pytest.raises(ValidationError, match=r"asymmetric load 'h2' at bus .*site_phase"):
        from_pandapower(net)
    # ... and take it from site_phase
    got = from_pandapower(net, site_phase={"h2": "b"})
    assert got.sites.set_index("site_id")["phase"].to_dict() == {"h1": "a", "h2": "b", "h3": "c"}


# ---------------------------------------------------------------------------------------------- from_opendss
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
def tiny_dss(tmp_path):
    path = tmp_path / "tiny.dss"
    path.write_text(TINY_DSS)
    return path


def test_dss_reader_and_power_flow_agree_with_opendss_itself(tiny_dss):
    import opendssdirect

    from openvpp.grid.powerflow import BatchPowerFlow

    cwd = os.getcwd()
    net = from_opendss(tiny_dss)
    assert os.getcwd() == cwd  # OpenDSS moves the process's working directory; the reader puts it back
    assert (net.n_bus, net.n_line, net.n_site) == (3, 2, 3)
    assert list(net.sites["phase"]) == ["a", "b", "c"]
    assert net.trafo_vector_group == "Dyn"
    np.testing.assert_allclose(net.i_max_a, 200.0)
    dss = opendssdirect.NewContext()
    dss.Text.Command(f'compile "{tiny_dss}"')
    dss.Solution.Solve()
    p = np.array([3.0, 5.0, 1.0])
    q = p * np.sqrt(1 - 0.98**2) / 0.98
    ours = BatchPowerFlow(net).run(p[:, None], q[:, None])
    for bus in ("b1", "b2"):
        dss.Circuit.SetActiveBus(bus)
        theirs = np.array(dss.Bus.puVmagAngle()[::2])
        mine = ours.v_pu[list(net.bus_names).index(bus), :, 0]
        np.testing.assert_allclose(mine, theirs, atol=1e-3)


@pytest.mark.parametrize("text", ["this is not an OpenDSS script\n", "New Line.x bus1=a bus2=b\n", ""])
def test_a_dss_file_that_is_not_a_circuit_is_a_validation_error_naming_the_file(tmp_path, text):
    path = tmp_path / "notacircuit.dss"
    path.write_text(text)
    with pytest.raises(ValidationError, match=r"notacircuit\.dss"):
        from_opendss(path)


def test_dss_reader_rejects_directories_and_ungrounded_lv(tmp_path, tiny_dss):
    with pytest.raises(ValidationError, match="is a directory"):
        from_opendss(tmp_path)
    dd = tmp_path / "dd.dss"
    dd.write_text(TINY_DSS.replace("conns=[delta wye]", "conns=[delta delta]"))
    with pytest.raises(ValidationError, match=r"transformer 'tr'.*vector group 'Dd'"):
        from_opendss(dd)
