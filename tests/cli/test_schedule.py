"""`openvpp schedule` and `openvpp study arbitrage`: inputs checked first, one JSON document."""

from __future__ import annotations

import json

import pytest

EARLY_CASES = [
    (["schedule", "--method", "magic"], "--method"),
    (["schedule", "--day", "notaday"], "--day"),
    (["schedule", "--day", "2031-01-01"], "--day 2031-01-01"),
    (["schedule", "--step-min", "7"], "--step-min"),
    (["schedule", "--fleet", "foo:1"], "--fleet"),
    (["study", "arbitrage", "--sites", "0"], "--sites"),
    (["study", "arbitrage", "--limits", "2,x"], "--limits"),
    (["study", "arbitrage", "--limits", "-2"], "--limits"),
]


@pytest.mark.parametrize("args, field", EARLY_CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
@pytest.mark.usefixtures("no_simbench")
def test_bad_input_is_named_before_any_work(run_main, args, field):
    code, out, err = run_main(args)
    assert code == 2
    assert field in err
    assert "Traceback" not in err and out == ""


@pytest.mark.slow
def test_schedule_json_is_one_document_and_writes_nothing(run_main, tmp_path):
    code, out, err = run_main(["schedule", "--fleet", "synthetic:6", "--day", "2019-12-03", "--json"])
    assert code == 0, err
    doc = json.loads(out)
    assert doc["method"] == "exact" and doc["deliverable"] is True
    assert doc["n_steps"] == 48 and doc["currency"] == "AUD"
    assert not (tmp_path / "openvpp-out").exists()


@pytest.mark.slow
def test_schedule_writes_plan_and_figure(run_main, tmp_path):
    code, out, err = run_main(["schedule", "--fleet", "synthetic:6", "--method", "fixed-share", "--out", "o"])
    assert code == 0, err
    assert (tmp_path / "o" / "schedule_fixed-share.png").stat().st_size > 10_000
    assert (tmp_path / "o" / "plan" / "device_steps.parquet").exists()
    assert (tmp_path / "o" / "plan_csv" / "reserves.csv").exists()
    assert "deliverable" in out
