"""`openvpp study flexibility-paper` and `openvpp flex` end to end."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from openvpp.cli import app


def test_study_flexibility_paper_writes_figures(tmp_path):
    res = CliRunner().invoke(app, ["study", "flexibility-paper", "--out", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert [p["ok"] for p in data["case2"]["periods"]] == [True, True, True, False]
    assert not data["case1"]["P50"]["ok"]
    names = {p.name for p in tmp_path.iterdir()}
    assert {"flex_case1_verification.png", "flex_case2_volumes.png", "flex_case2_strip.png"} <= names


def test_flex_command_on_a_synthetic_fleet(tmp_path):
    res = CliRunner().invoke(
        app, ["flex", "--fleet", "synthetic:300", "--time", "2024-06-15 16:00-04:00", "--json"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert set(data["quantiles"]) == {"P10", "P50", "P90"}
    p10, p50, p90 = (data["quantiles"][q]["vpp"]["pi"][1] for q in ("P10", "P50", "P90"))
    assert p10 <= p50 <= p90
    res = CliRunner().invoke(app, ["flex", "--fleet", "nonsense", "--time", "2024-06-15 16:00"])
    assert res.exit_code != 0
