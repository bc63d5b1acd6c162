"""`openvpp flex` and `openvpp study flexibility-paper`: one instant one answer, options named in messages."""

from __future__ import annotations

import json

import pytest

EARLY_CASES = [
    (["flex", "--fleet", "foo:1"], "--fleet"),
    (["flex", "--fleet", "simbench:NOPE"], "simbench:1-LV-rural1--2-sw"),
    (["flex", "--fleet", "synthetic:abc"], "--fleet synthetic:N"),
    (["flex", "--fleet", "synthetic:0"], "--fleet synthetic:N"),
    (["flex", "--fleet", "synthetic:2000000000"], "1,000,000"),
    (["flex", "--horizon-h", "0"], "--horizon-h"),
    (["flex", "--horizon-h", "-1"], "--horizon-h"),
    (["flex", "--horizon-h", "nan"], "--horizon-h"),
    (["flex", "--horizon-h", "inf"], "--horizon-h"),
    (["flex", "--horizon-h", "1e6"], "--horizon-h"),
    (["flex", "--time", "notatime"], "--time"),
    (["flex", "--time", "2017-06-15 19:00"], "--time must be a 15-min stamp"),
    (["flex", "--time", "2016-06-15 19:07"], "--time must be a 15-min stamp"),
    (["flex", "--seed", "-1"], "--seed"),
    (["flex", "--out", "{bad_out}"], "--out"),
    (["study", "flexibility-paper", "--out", "{bad_out}"], "--out"),
]


@pytest.mark.parametrize("args, field", EARLY_CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
@pytest.mark.usefixtures("no_simbench")
def test_bad_input_is_rejected_before_loading(args, field, unwritable, rejected):
    rejected([a.replace("{bad_out}", unwritable) for a in args], field)


def test_unknown_simbench_code_lists_the_valid_ones(rejected):
    err = rejected(["flex", "--fleet", "simbench:NOPE"], "--fleet simbench:NOPE")
    assert "ValueError" not in err and "simbench:1-LV-semiurb4--2-sw" in err


def _flex(run_main, *args):
    code, out, err = run_main(["flex", *args, "--json"])
    assert code == 0, err
    doc = json.loads(out)
    return doc.pop("time"), doc


@pytest.mark.parametrize(
    "fleet, a, b",
    [
        # SimBench fleet with EVs and PV profiles: 19:00 at UTC+01:00 is 18:00 UTC and 20:00 at UTC+02:00
        pytest.param("simbench:1-LV-rural1--2-sw", "2016-06-15T18:00Z", "2016-06-15 20:00+02:00",
                     marks=pytest.mark.slow),
        ("synthetic:200", "2024-06-15 16:00-04:00", "2024-06-15T20:00Z"),
    ],
)
def test_one_instant_gives_one_answer(run_main, fleet, a, b):
    ta, da = _flex(run_main, "--fleet", fleet, "--time", a)
    tb, db = _flex(run_main, "--fleet", fleet, "--time", b)
    assert ta == tb  # both reported on the fleet's clock
    assert da == db
    p10, p50, p90 = (da["quantiles"][q]["vpp"]["pi"][1] for q in ("P10", "P50", "P90"))
    assert p10 <= p50 <= p90
    if fleet.startswith("simbench"):
        assert any("EV sessions advanced to step 28" in n for n in da["notes"])  # 19:00 local, 7 h after noon


def test_naive_time_is_read_on_the_fleet_clock(run_main):
    t_naive, d_naive = _flex(run_main, "--fleet", "synthetic:200", "--time", "2024-06-15 16:00")
    t_aware, d_aware = _flex(run_main, "--fleet", "synthetic:200", "--time", "2024-06-15 16:00-04:00")
    assert t_naive == t_aware == "2024-06-15T16:00:00-04:00"  # America/Santiago in June is UTC-04:00
    assert d_naive == d_aware


def test_flex_writes_its_figure_by_default(tmp_path, run_main):
    code, out, err = run_main(["flex", "--fleet", "synthetic:200", "--time", "2024-06-15 16:00"])
    assert code == 0, err
    assert (tmp_path / "openvpp-out" / "flex_fleet.png").exists()
    code, out, err = run_main(["flex", "--fleet", "synthetic:200", "--json", "--out", "figs"])
    assert code == 0, err
    json.loads(out)
    assert (tmp_path / "figs" / "flex_fleet.png").exists()


def test_study_flexibility_paper_json_writes_figures_only_with_out(tmp_path, run_main):
    code, out, err = run_main(["study", "flexibility-paper", "--json"])
    assert code == 0, err
    data = json.loads(out)
    assert [p["ok"] for p in data["case2"]["periods"]] == [True, True, True, False]
    assert not data["case1"]["P50"]["ok"]
    assert not (tmp_path / "openvpp-out").exists()
    code, out, err = run_main(["study", "flexibility-paper", "--json", "--out", str(tmp_path / "f")])
    assert code == 0, err
    names = {p.name for p in (tmp_path / "f").iterdir()}
    assert {"flex_case1_verification.png", "flex_case2_volumes.png", "flex_case2_strip.png"} <= names
