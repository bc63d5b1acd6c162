"""Tests of the network loaders and the sequence -> phase frame conversion (openvpp.grid.loaders)."""

from __future__ import annotations

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
