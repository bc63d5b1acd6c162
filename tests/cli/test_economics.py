"""`openvpp study economics|dynamics|finance|potential`: inputs named as typed, sizes bounded."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from openvpp.cli import app
from openvpp.errors import ValidationError

EARLY_CASES = [
    (["study", "economics", "--site", "mars"], "site"),
    (["study", "economics", "--mw", "-3"], "--mw"),
    (["study", "economics", "--mw", "nan"], "--mw"),
    (["study", "economics", "--mw", "1e12"], "10,000"),
    (["study", "economics", "--mw", "1", "abc"], "--mw"),
    (["study", "economics", "--out", "{bad_out}"], "--out"),
    (["study", "dynamics", "--out", "{bad_out}"], "--out"),
    (["study", "finance", "--convention", "x"], "--convention"),
    (["study", "potential", "--medium-share", "1.5"], "--medium-share"),
    (["study", "potential", "--low-share", "nan"], "--low-share"),
]


@pytest.mark.parametrize("args, field", EARLY_CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_bad_input_is_rejected(args, field, unwritable, rejected):
    rejected([a.replace("{bad_out}", unwritable) for a in args], field)


def test_bad_input_leaves_no_output_folder(tmp_path, rejected):
    rejected(["study", "economics", "--mw", "-3"], "--mw")
    assert not (tmp_path / "openvpp-out").exists()


def test_economics_json_is_standard_and_writes_no_figures(tmp_path, run_main):
    code, out, err = run_main(["study", "economics", "--mw", "1", "3", "--json"])
    assert code == 0, err
    doc = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert set(doc["cases"]) == {"1.0", "3.0"}
    assert not (tmp_path / "openvpp-out").exists()


def test_cli_json_economics():
    res = CliRunner().invoke(app, ["study", "economics", "--site", "osorno", "--mw", "1", "3", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert set(data["cases"]) == {"1.0", "3.0"}
    assert data["revenue_per_mw_usd"]["peak_reduction"] == pytest.approx(8.37 * 810 * 6)


def test_cli_unknown_site_is_an_openvpp_error():
    res = CliRunner().invoke(app, ["study", "economics", "--site", "paris"])
    assert isinstance(res.exception, ValidationError) and "site" in str(res.exception)
