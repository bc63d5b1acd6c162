"""Tests of ``openvpp opf``'s library side (openvpp.studies.user_opf): file checks, defaults, size bounds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openvpp.errors import ValidationError
from openvpp.grid import opf
from openvpp.studies.user_opf import dispatch_frame, load_network_file, run_opf_files

HOUSES = ["house1", "house2", "house3", "house4"]


def write_feeder(path, vector_group="Dyn", zero_sequence=True):
    """A 20/0.4 kV Dyn transformer and four cable sections feeding house1..house4 (pandapower JSON)."""
    import pandapower as pp

    net = pp.create_empty_network()
    mv = pp.create_bus(net, 20.0)
    buses = [pp.create_bus(net, 0.4, name=f"lv{k}") for k in range(5)]
    pp.create_ext_grid(net, mv, vm_pu=1.0)
    pp.create_transformer_from_parameters(
        net, mv, buses[0], sn_mva=0.25, vn_hv_kv=20.0, vn_lv_kv=0.4, vkr_percent=1.44, vk_percent=6.0,
        pfe_kw=0.0, i0_percent=0.0, vector_group=vector_group, name="T1")
    zero = {"r0_ohm_per_km": 0.728, "x0_ohm_per_km": 0.092, "c0_nf_per_km": 0.0} if zero_sequence else {}
    for k in range(4):
        pp.create_line_from_parameters(net, buses[k], buses[k + 1], 0.15, r_ohm_per_km=0.208,
                                       x_ohm_per_km=0.08, c_nf_per_km=0.0, max_i_ka=0.27, name=f"cable{k}",
                                       **zero)
    for k in range(1, 5):
        pp.create_load(net, buses[k], p_mw=0.002, name=f"house{k}")
    pp.to_json(net, str(path))
    return path


def write_profiles(folder, n_steps=8, n_pv_sites=2):
    index = pd.date_range("2024-01-15", periods=n_steps, freq="3h")
    load = pd.DataFrame(2.0, index=index, columns=HOUSES)
    pv = pd.DataFrame(0.0, index=index, columns=HOUSES)
    pv.iloc[3:6, :n_pv_sites] = 4.0
    load.to_csv(folder / "load.csv")
    pv.to_csv(folder / "pv.csv")
    return folder / "load.csv", folder / "pv.csv"


@pytest.fixture
def files(tmp_path):
    net = write_feeder(tmp_path / "net.json")
    load, pv = write_profiles(tmp_path)
    return net, load, pv


def test_batteries_go_to_the_sites_with_pv(files):
    net, load, pv = files
    _, index, res = run_opf_files(net, load, pv_csv=pv, service_start="18:00", service_minutes=180)
    assert res.site_ids[res.battery_site_index].tolist() == ["house1", "house2"]
    assert len(index) == 8 and res.converged and res.solver_status == "optimal"


def test_without_pv_no_site_gets_a_battery_by_default(files):
    net, load, _ = files
    # HEAD put a battery at every site although the help says "sites with PV"
    with pytest.raises(ValidationError, match=r"no site has PV.*--pv.*--batteries"):
        run_opf_files(net, load, service_start="18:00", service_minutes=180)
    _, _, res = run_opf_files(net, load, battery_sites=["house3"], service_start="18:00", service_minutes=180)
    assert res.site_ids[res.battery_site_index].tolist() == ["house3"]


def test_a_directory_is_reported_as_a_directory(files, tmp_path):
    net, load, pv = files
    with pytest.raises(ValidationError, match=r"--load CSV .* is a directory"):
        run_opf_files(net, tmp_path, pv_csv=pv)
    with pytest.raises(ValidationError, match=r"network file .* is a directory"):
        run_opf_files(tmp_path, load, pv_csv=pv)


def test_a_header_only_csv_is_reported_as_empty(files, tmp_path):
    net, _, pv = files
    head = tmp_path / "head.csv"
    head.write_text("time," + ",".join(HOUSES) + "\n")
    # HEAD: "column 'house1' is not numeric"
    with pytest.raises(ValidationError, match=r"--load CSV .*head.csv.* is empty"):
        run_opf_files(net, head, pv_csv=pv, service_start="18:00")


def test_a_one_year_csv_is_rejected_before_it_is_parsed(files, tmp_path, monkeypatch):
    net, _, _ = files
    index = pd.date_range("2024-01-01", periods=366 * 96, freq="15min")
    year = tmp_path / "year.csv"
    pd.DataFrame(1.0, index=index, columns=HOUSES).to_csv(year)

    def no_parse(*args, **kwargs):
        raise AssertionError("the CSV was parsed before its size was checked")

    monkeypatch.setattr(pd, "read_csv", no_parse)
    with pytest.raises(ValidationError, match=f"{opf.MAX_OPF_BUS_STEPS:,}"):
        run_opf_files(net, year, battery_sites=["house1"])


def test_messages_name_the_flags(files):
    net, load, pv = files
    cases = [
        ({"v_min_pu": 1.2, "v_max_pu": 1.0}, "--v-min"),
        ({"v_source_pu": float("nan")}, "--v-source"),
        ({"service_start": "25:00"}, "--service"),
        ({"battery_sites": ["nowhere"], "service_start": "18:00"}, "--batteries"),
        ({"objective": "foo"}, "--objective"),
    ]
    for kwargs, flag in cases:
        with pytest.raises(ValidationError, match=flag):
            run_opf_files(net, load, **{"pv_csv": pv, **kwargs})


def test_network_file_data_are_used_or_asked_for(tmp_path):
    with pytest.raises(ValidationError, match=r"transformer 'T1' has vector group 'Yzn5'"):
        load_network_file(write_feeder(tmp_path / "yzn.json", vector_group="Yzn5"))
    bare = write_feeder(tmp_path / "bare.json", zero_sequence=False)
    with pytest.raises(ValidationError, match="--r0-per-r1"):
        load_network_file(bare)
    assert load_network_file(bare, r0_per_r1=3.5, x0_per_x1=1.15).n_line == 4


def test_dispatch_frame_is_per_site_and_step(files):
    net, load, pv = files
    _, index, res = run_opf_files(net, load, pv_csv=pv, service_start="18:00", service_minutes=180)
    frame = dispatch_frame(index, res)
    assert len(frame) == 4 * 8
    h1 = frame[frame["site_id"] == "house1"]
    np.testing.assert_allclose(h1["p_site_kw"], res.p_site_kw[0])
    k = int(np.flatnonzero(res.battery_site_index == 0)[0])
    np.testing.assert_allclose(h1["p_battery_kw"], res.p_battery_kw[k])
    assert frame.loc[frame["site_id"] == "house4", "p_battery_kw"].isna().all()
    # eq. (4) per row: net power = demand - PV + battery for the managed sites
    assert np.allclose(h1["p_site_kw"].to_numpy(), 2.0 - pd.read_csv(pv, index_col=0)["house1"].to_numpy()
                       + h1["p_battery_kw"].to_numpy(), atol=1e-6)
