"""Scenario library: bundled files load, resolve against a plan, and bad files get clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openvpp.data.scenarios import list_scenarios, read_scenario
from openvpp.errors import ValidationError
from openvpp.sim.scenarios import Scenario, load_scenario


def test_bundled_library_has_the_pilot_events(make_plan):
    small_plan = make_plan
    assert {"underfrequency", "chile_dip", "ci", "peak", "outage"} <= set(list_scenarios())
    plan = small_plan()
    day = plan.index[0]
    uf = load_scenario("underfrequency").resolve(plan, day, 50.0)
    f = uf.trace.at_seconds(np.arange(0, 900))
    below = f < 49.85
    assert 9 * 60 <= below.sum() <= 11 * 60  # about 10 minutes below the 49.85 Hz band edge
    dip = load_scenario("chile_dip").resolve(plan, day, 50.0)
    assert dip.trace.f_hz.min() == pytest.approx(49.4)
    assert load_scenario("chile_dip").resolve(plan, day, 60.0).trace.f_hz.min() == pytest.approx(59.4)
    ci = load_scenario("ci").resolve(plan, day, 50.0).instructions[0]
    assert ci.ramp_s == 1800 and (ci.end - ci.start) == pd.Timedelta(hours=2.5)
    # delta_share 1.0 of the plan's CI reserve when the ramp ends: 4 EVs x 7 kW at 19:30
    assert ci.delta_kw == pytest.approx(-28.0)
    pk = load_scenario("peak").resolve(plan, day, 50.0).instructions[0]
    assert pk.start.hour == 20 and pk.delta_kw == pytest.approx(-6.0)
    out = load_scenario("outage").resolve(plan, day, 50.0).outages[0]
    assert out.duration_h == 4.0


def test_user_file(tmp_path, make_plan):
    small_plan = make_plan
    path = tmp_path / "mine.toml"
    path.write_text(
        'name = "mine"\n[[instructions]]\nid = "t1"\nkind = "track"\nstart = "10:00"\nhold_s = 600\n'
        "curve_t_s = [0, 600]\ncurve_kw = [0, -3]\n"
    )
    sc = load_scenario(str(path))
    ins = sc.resolve(small_plan(), small_plan().index[0], 50.0).instructions[0]
    assert ins.kind == "track"
    assert ins.request_kw(ins.start + pd.Timedelta(seconds=300)) == pytest.approx(-1.5)


@pytest.mark.parametrize(
    "text, match",
    [
        ('name = "x"\n', "no \\[frequency\\]"),
        ('name = "x"\nfoo = 1\n[frequency]\nstart="10:00"\nt_s=[0]\ndf_hz=[0]\n', "unknown top-level"),
        ('[[instructions]]\nid="a"\nkind="zap"\nstart="10:00"\n', "kind"),
        ('[[instructions]]\nid="a"\nkind="ci"\nstart="25:00"\n', "within the day"),
        ('[[instructions]]\nid="a"\nkind="ci"\nstart="10:00"\ndelta_kw=1\ndelta_share=0.5\n', "not both"),
        ('[[outages]]\nid="o"\nstart="10:00"\nduration_h=0\n', "duration_h"),
        (
            '[[instructions]]\nid="a"\nkind="ci"\nstart="10:00"\n[[outages]]\nid="a"\nstart="10:00"\nduration_h=1\n',
            "unique",
        ),
    ],
)
def test_bad_scenarios(tmp_path, text, match, make_plan):
    small_plan = make_plan
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValidationError, match=match):
        load_scenario(str(path)).resolve(small_plan(), small_plan().index[0], 50.0)


def test_unknown_name_or_file(make_plan):
    small_plan = make_plan
    with pytest.raises(ValidationError, match="--scenario"):
        read_scenario("no-such-scenario")
    with pytest.raises(ValidationError, match="unknown keys"):
        raw = {"name": "x", "outages": [{"id": "o", "start": "10:00", "duration_h": 1, "x": 1}]}
        Scenario.from_dict(raw).resolve(small_plan(), small_plan().index[0], 50.0)
