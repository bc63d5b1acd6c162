"""`openvpp envelopes compute|metrics|hosting|network`: inputs checked first, sizes bounded, CSIP-AUS."""

from __future__ import annotations

import json
import time

import pandas as pd
import pytest

from openvpp.envelopes.objects import EnvelopeSet

EARLY_CASES = [
    (["envelopes", "compute", "--location", "paris"], "--location"),
    (["envelopes", "compute", "--margin", "-1"], "--margin"),
    (["envelopes", "compute", "--margin", "nan"], "--margin"),
    (["envelopes", "compute", "--margin", "1.5"], "--margin"),
    (["envelopes", "compute", "--transformers", "0"], "--transformers"),
    (["envelopes", "compute", "--transformers", "10000000"], "at most 10,000"),
    (["envelopes", "compute", "--scenario", "nope"], "--scenario"),
    (["envelopes", "compute", "--seed", "-1"], "--seed"),
    (["envelopes", "compute", "--out", "{bad_out}"], "--out"),
    (["envelopes", "compute", "--envelopes", "/nonexistent/dir/x.json"], "--envelopes"),
    (["envelopes", "compute", "--envelopes", "{tmp}"], "is a directory"),
    (["envelopes", "compute", "--nodes", "-1"], "--nodes"),
    (["envelopes", "metrics", "--workers", "0"], "--workers"),
    (["envelopes", "metrics", "--scheduler", " "], "--scheduler"),
    (["envelopes", "metrics", "--scheduler", "nohost"], "tcp://host:8786"),
    (["envelopes", "metrics", "--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], "exclude each other"),
    (["envelopes", "hosting", "--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], "--workers"),
    (["envelopes", "hosting", "--synthetic", "--margin", "2"], "--margin"),
    (["envelopes", "hosting", "--synthetic", "--transformers", "-5"], "--transformers"),
    (["envelopes", "hosting", "--synthetic", "--transformers", "1000000000"], "at most 1,000,000"),
    (["envelopes", "hosting", "--transformers", "75530"], "--synthetic"),
    (["envelopes", "network", "--grid", "nope"], "grid code"),
    (["envelopes", "network", "--day", "2017-01-01"], "day"),
    (["envelopes", "network", "--fairness", "best"], "fairness"),
    (["envelopes", "network", "--v-min", "1.2", "--v-max", "1.0"], "v_min_pu"),
    (["envelopes", "network", "--loading-max", "0"], "loading_max"),
    (["envelopes", "network", "--cap-kw", "-5"], "cap_kw"),
    (["envelopes", "network", "--margin", "nan"], "margin"),
    (["envelopes", "network", "--out", "{bad_out}"], "--out"),
    (["envelopes", "network", "--export", "/nonexistent/dir/x.csv"], "--export"),
    (["envelopes", "network", "--export", "{tmp}/x.xlsx"], "--export"),
]


@pytest.mark.parametrize("args, field", EARLY_CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
@pytest.mark.usefixtures("no_simbench")
def test_bad_input_is_rejected_before_loading(args, field, unwritable, tmp_path, rejected):
    args = [a.replace("{bad_out}", unwritable).replace("{tmp}", str(tmp_path)) for a in args]
    rejected(args, field)


def test_envelopes_option_never_creates_folders(tmp_path, rejected):
    target = tmp_path / "nonexistent" / "dir" / "x.json"
    rejected(["envelopes", "compute", "--envelopes", str(target)], "--envelopes")
    assert not (tmp_path / "nonexistent").exists()


def test_unreachable_scheduler_fails_fast(rejected):
    t0 = time.perf_counter()
    err = rejected(["envelopes", "hosting", "--synthetic", "--transformers", "10", "--json",
                    "--scheduler", "tcp://127.0.0.1:1"], "cannot be reached")
    assert time.perf_counter() - t0 < 15, "the scheduler wait must be bounded (5 s)"
    assert "tcp://127.0.0.1:1" in err


def test_compute_json_carries_csip_envelopes(tmp_path, run_main):
    path = tmp_path / "env.json"
    code, out, err = run_main(["envelopes", "compute", "--transformers", "6", "--nodes", "2", "--json",
                               "--envelopes", str(path)])
    assert code == 0, err
    doc = json.loads(out)
    env = EnvelopeSet.from_dict(doc["envelopes"])
    assert env.n_subjects == 2 and env.n_intervals == 288
    ctrl = doc["envelopes"]["DERControl"][0]
    assert len(ctrl["mRID"]) == 32 and isinstance(ctrl["DERControlBase"]["opModExpLimW"]["value"], int)
    full = EnvelopeSet.from_json(path.read_text())
    assert full.n_subjects == 6
    assert (full.limits_w[0, :2] == env.limits_w[0]).all()
    assert not (tmp_path / "openvpp-out").exists()  # --json writes no figures


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
def test_network_exports_site_envelopes(tmp_path, run_main, suffix):
    path = tmp_path / f"sites{suffix}"
    code, out, err = run_main(["envelopes", "network", "--json", "--export", str(path)])
    assert code == 0, err
    summary = json.loads(out)
    assert path.exists()
    if suffix == ".json":
        env = EnvelopeSet.from_json(path.read_text())
        assert env.n_subjects == summary["n_sites"] and env.n_intervals == 96
    else:
        frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
        assert len(frame) == summary["n_sites"] * 96
        assert {"site_id", "start", "export_kw", "import_kw"} <= set(frame.columns)
        # the export energy of the file is the one the summary reports (15-min steps)
        assert frame["export_kw"].sum() * 0.25 == pytest.approx(summary["network_export_kwh"], abs=1e-2)


def test_scenario_names_are_never_cut_in_tables(run_main):
    code, out, err = run_main(["envelopes", "metrics", "--transformers", "4"])
    assert code == 0, err
    for name in ("Jan-non-workday", "Sep-non-workday", "heatwave"):
        assert name in out
    assert "…" not in out
