"""``openvpp opf`` and ``openvpp study chile-technical`` end to end (openvpp.cli.grid)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from openvpp.cli import app
from openvpp.errors import ValidationError

HOUSES = ["house1", "house2", "house3", "house4"]


def _strict_json(text: str) -> object:
    """Parse standard JSON only (NaN / Infinity are not JSON)."""

    def refuse(name: str) -> object:
        raise AssertionError(f"not standard JSON: {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def opf_files(tmp_path, monkeypatch):
    """A Dyn feeder with zero-sequence data (pandapower JSON), load and PV CSVs; run in a fresh folder."""
    import pandapower as pp

    monkeypatch.chdir(tmp_path)
    net = pp.create_empty_network()
    mv = pp.create_bus(net, 20.0)
    buses = [pp.create_bus(net, 0.4, name=f"lv{k}") for k in range(5)]
    pp.create_ext_grid(net, mv, vm_pu=1.0)
    pp.create_transformer_from_parameters(
        net, mv, buses[0], sn_mva=0.25, vn_hv_kv=20.0, vn_lv_kv=0.4, vkr_percent=1.44, vk_percent=6.0,
        pfe_kw=0.0, i0_percent=0.0, vector_group="Dyn", name="T1")
    for k in range(4):
        pp.create_line_from_parameters(net, buses[k], buses[k + 1], 0.15, r_ohm_per_km=0.208,
                                       x_ohm_per_km=0.08, c_nf_per_km=0.0, max_i_ka=0.27, name=f"cable{k}",
                                       r0_ohm_per_km=0.728, x0_ohm_per_km=0.092, c0_nf_per_km=0.0)
    for k in range(1, 5):
        pp.create_load(net, buses[k], p_mw=0.002, name=f"house{k}")
    pp.to_json(net, str(tmp_path / "net.json"))
    index = pd.date_range("2024-01-15", periods=8, freq="3h")
    pd.DataFrame(2.0, index=index, columns=HOUSES).to_csv(tmp_path / "load.csv")
    pv = pd.DataFrame(0.0, index=index, columns=HOUSES)
    pv.iloc[3:6, :2] = 4.0
    pv.to_csv(tmp_path / "pv.csv")
    return tmp_path


def _opf(folder, *extra):
    args = ["opf", str(folder / "net.json"), "--load", str(folder / "load.csv"), "--pv",
            str(folder / "pv.csv"), "--service", "18:00", "--service-minutes", "180", *extra]
    return CliRunner().invoke(app, args)


def test_opf_json_has_per_site_set_points_and_writes_nothing(opf_files):
    out = _opf(opf_files, "--json")
    assert out.exit_code == 0, out.output
    payload = _strict_json(out.output)
    assert payload["solver_status"] == "optimal" and payload["converged"]
    assert payload["v_error_pu"] <= 0.005 and payload["max_violation_pct"] <= 0.5
    sites = payload["sites"]
    assert sites["site_id"] == HOUSES and np.shape(sites["p_site_kw"]) == (4, 8)
    assert payload["batteries"]["site_id"] == ["house1", "house2"]
    assert np.shape(payload["batteries"]["p_battery_kw"]) == (2, 8)
    # the aggregate is the sum of the managed sites' set-points
    np.testing.assert_allclose(np.sum(sites["p_site_kw"][:2], axis=0), payload["p_vpp_kw"])
    # the service step (18:00) exports: both batteries discharge
    assert max(payload["batteries"]["p_battery_kw"][0][6], payload["batteries"]["p_battery_kw"][1][6]) < 0
    assert not any(opf_files.rglob("*.png")) and not (opf_files / "openvpp-out").exists()


def test_opf_out_writes_the_dispatch_and_figures(opf_files):
    out = _opf(opf_files, "--out", "res")
    assert out.exit_code == 0, out.output
    csv = pd.read_csv(opf_files / "res" / "opf_dispatch.csv")
    parquet = pd.read_parquet(opf_files / "res" / "opf_dispatch.parquet")
    assert len(csv) == 4 * 8 and list(parquet.columns) == list(csv.columns)
    np.testing.assert_allclose(parquet["p_site_kw"], csv["p_site_kw"])
    assert {"time", "site_id", "p_site_kw", "p_battery_kw", "e_battery_kwh"} <= set(csv.columns)
    assert (opf_files / "res" / "opf_voltage.png").exists()  # figure contents: tests/report/test_grid.py
    # --json with an explicit --out writes the files too and lists them
    payload = _strict_json(_opf(opf_files, "--json", "--out", "res2").output)
    assert len(payload["files"]) == 4 and (opf_files / "res2" / "opf_dispatch.parquet").exists()


def test_opf_solver_limit_is_reported(opf_files):
    payload = _strict_json(_opf(opf_files, "--json", "--max-iter", "3").output)
    assert payload["solver_status"] == "user_limit" and not payload["converged"]
    assert "iteration or time limit" in payload["message"]
    out = _opf(opf_files, "--max-iter", "0")
    assert isinstance(out.exception, ValidationError) and "--max-iter" in str(out.exception)


def test_opf_without_pv_asks_for_batteries(opf_files):
    out = CliRunner().invoke(app, ["opf", str(opf_files / "net.json"), "--load", str(opf_files / "load.csv"),
                                   "--service", "18:00"])
    assert isinstance(out.exception, ValidationError) and "--batteries" in str(out.exception)


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


def test_opf_runs_on_a_dss_circuit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.dss").write_text(TINY_DSS)
    index = pd.date_range("2024-01-15", periods=8, freq="3h")
    pd.DataFrame(2.0, index=index, columns=["h1", "h2", "h3"]).to_csv(tmp_path / "load.csv")
    pv = pd.DataFrame(0.0, index=index, columns=["h1", "h2", "h3"])
    pv.iloc[3:6] = 4.0
    pv.to_csv(tmp_path / "pv.csv")
    out = CliRunner().invoke(app, ["opf", "tiny.dss", "--load", "load.csv", "--pv", "pv.csv", "--service",
                                   "18:00", "--service-minutes", "180", "--json"])
    assert out.exit_code == 0, out.output
    payload = _strict_json(out.output)
    assert payload["v_error_pu"] <= 0.005 and payload["max_violation_pct"] <= 0.5
    assert len(payload["p_vpp_kw"]) == 8
    assert payload["p_vpp_kw"][6] < 6.0  # the service step exports: below the 3 x 2 kW demand


def test_chile_technical_json_is_standard_json_and_draws_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["study", "chile-technical", "--networks", "rural", "--no-hosting", "--json"]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    payload = _strict_json(out.output)  # HEAD printed NaN (dv_history_pu of the no-GC cases)
    case = payload["networks"]["rural"]["cases"]["no_gc"]
    assert case["dv_history_pu"] == [None] and case["v_error_pu"] is None
    assert all(v is None or math.isfinite(v) for v in case["p_vpp_kw"])
    assert not any(tmp_path.rglob("*.png"))  # HEAD drew every figure even with --json


# ------------------------------------------------------------------------------------- bad input, named
# (arguments, text the message must contain); "{bad_out}" is replaced by an unwritable folder
CHILE_EARLY_CASES = [
    (["study", "chile-technical", "--networks", "mars"], "networks"),
    (["study", "chile-technical", "--networks", " , "], "networks"),
    (["study", "chile-technical", "--day", "2017-06-21"], "day"),
    (["study", "chile-technical", "--pv-day", "notaday"], "pv_day"),
    (["study", "chile-technical", "--share", "1.5"], "share"),
    (["study", "chile-technical", "--share", "nan"], "share"),
    (["study", "chile-technical", "--seed", "-1"], "seed"),
    (["study", "chile-technical", "--out", "{bad_out}"], "--out"),
]


@pytest.mark.parametrize("args, field", CHILE_EARLY_CASES,
                         ids=lambda v: " ".join(v) if isinstance(v, list) else "")
@pytest.mark.usefixtures("no_simbench")
def test_chile_technical_bad_input_is_rejected_before_loading(args, field, unwritable, rejected):
    rejected([a.replace("{bad_out}", unwritable) for a in args], field)


@pytest.fixture(scope="module")
def bad_opf_files(tmp_path_factory, write_five_bus_feeder, write_opf_profiles):
    """A five-bus pandapower feeder with four houses and profile CSVs, good and bad."""
    d = tmp_path_factory.mktemp("opf_files")
    write_five_bus_feeder(d / "net.json")
    (d / "garbage.json").write_text("{not json")
    load, pv = write_opf_profiles(d, [f"house{k}" for k in range(1, 5)], n_pv_sites=2)
    index = load.index
    bad = load.copy()
    bad.iloc[2, 1] = np.nan
    bad.to_csv(d / "load_nan.csv")
    load.drop(columns="house2").to_csv(d / "load_missing_site.csv")
    pv.set_axis(index + pd.Timedelta("1h")).to_csv(d / "pv_shifted.csv")
    load.iloc[[0, 1, 3, 4, 5, 6, 7]].to_csv(d / "load_gap.csv")
    text = load.astype(object)
    text.iloc[2, 1] = "abc"
    text.to_csv(d / "load_text.csv")
    load.set_axis(range(8)).to_csv(d / "load_no_time.csv")
    return d


OPF_CASES = [
    (["{d}/missing.json", "--load", "{d}/load.csv"], "network file"),
    (["{d}/garbage.json", "--load", "{d}/load.csv"], "network file"),
    (["{d}/net.json", "--load", "{d}/missing.csv"], "load CSV"),
    (["{d}/net.json", "--load", "{d}/load_nan.csv"], "load CSV has a missing or infinite value"),
    (["{d}/net.json", "--load", "{d}/load_missing_site.csv"], "house2"),
    (["{d}/net.json", "--load", "{d}/load_text.csv"], "not numeric"),
    (["{d}/net.json", "--load", "{d}/load_no_time.csv"], "first column of the --load CSV"),
    (["{d}/net.json", "--load", "{d}/load_gap.csv"], "time column of the --load CSV"),
    (["{d}/net.json", "--load", "{d}/load.csv", "--pv", "{d}/pv_shifted.csv"], "--load and --pv CSVs"),
    (["{d}/net.json", "--load", "{d}/load.csv"], "--service"),  # 20:00 + 30 min holds no 3-h step
    (["{d}/net.json", "--load", "{d}/load.csv", "--service", "abc"], "--service"),
    (["{d}/net.json", "--load", "{d}/load.csv", "--service", "25:00"], "--service"),
    (["{d}/net.json", "--load", "{d}/load.csv", "--service-minutes", "-5"], "--service-minutes"),
    (["{d}/net.json", "--load", "{d}/load.csv", "--service-minutes", "nan"], "--service-minutes"),
    (["{d}/net.json", "--load", "{d}/load.csv", "--objective", "foo"], "objective"),
    (["{d}/net.json", "--load", "{d}/load.csv", "--v-min", "1.2", "--v-max", "1.0"], "v_min_pu"),
    (["{d}/net.json", "--load", "{d}/load.csv", "--v-source", "nan"], "v_source_pu"),
    (["{d}/net.json", "--load", "{d}/load.csv", "--batteries", ","], "--batteries"),
    (["{d}/net.json", "--load", "{d}/load.csv", "--batteries", "nowhere", "--service", "18:00"], "nowhere"),
]


@pytest.mark.parametrize("args, field", OPF_CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_opf_bad_files_and_options_are_named(args, field, bad_opf_files, rejected):
    rejected(["opf", *(a.replace("{d}", str(bad_opf_files)) for a in args)], field)
