"""`openvpp study pilot`: inputs are checked before any grid is loaded; a JSON run on a SimBench grid."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize(
    "args, field",
    [
        (["--day", "2016-13-45"], "--day"),
        (["--scenario", "no-such-scenario"], "--scenario"),
        (["--mode", "sideways"], "--mode"),
    ],
)
def test_bad_input_is_rejected_before_loading_the_grid(rejected, no_simbench, args, field):
    rejected(["study", "pilot", *args], field)


def test_bad_scenario_file_is_rejected(rejected, no_simbench, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[instructions]]\nid = "a"\nkind = "ci"\nstart = "10:00"\nramp_s = -5\n')
    err = rejected(["study", "pilot", "--scenario", str(bad)], "ramp_s")
    assert "instruction 'a'" in err


def test_unwritable_out_dir(rejected, no_simbench, unwritable):
    rejected(["study", "pilot", "--out", unwritable], "--out")


@pytest.mark.slow
def test_pilot_json_on_a_simbench_grid(run_main):
    code, out, err = run_main(["study", "pilot", "--scenario", "chile_dip", "--no-sweep", "--json"])
    assert code == 0, err
    doc = json.loads(out)
    row = doc["kpis"][0]
    assert row["scenario"] == "chile_dip" and row["cpf_10s_met"] is True
    assert doc["delays"]["max_s"] <= 5.0
