"""`openvpp demo`: bad input rejected before loading; ``--json`` prints the summary as standard JSON."""

from __future__ import annotations

import json

import pytest

EARLY_CASES = [
    (["demo", "--grid", "nope"], "--grid"),
    (["demo", "--day", "2017-01-01"], "day must be a date in 2016"),
    (["demo", "--day", "2016-13-01"], "day must be a date in 2016"),
    (["demo", "--hours", "0"], "--hours"),
    (["demo", "--hours", "48"], "--hours"),
    (["demo", "--seed", "-1"], "seed"),
    (["demo", "--db", "mysql://x"], "--db"),
    (["demo", "--out", "{bad_out}"], "--out"),
]


@pytest.mark.parametrize("args, field", EARLY_CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
@pytest.mark.usefixtures("no_simbench")
def test_bad_input_is_rejected_before_loading(args, field, unwritable, rejected):
    rejected([a.replace("{bad_out}", unwritable) for a in args], field)


@pytest.mark.slow
def test_demo_json_prints_the_summary(tmp_path, run_main):
    code, out, err = run_main(["demo", "--hours", "2", "--json"])
    assert code == 0, err
    doc = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert doc["grid_code"] == "1-LV-rural1--2-sw" and doc["day"] == "2016-06-15"
    assert doc["counts"]["sites"] > 0 and doc["telemetry"]["rejected"] == 0
    assert not (tmp_path / "openvpp-out").exists()  # --json without --out: nothing written
