"""Site envelopes of one day (envelopes/daily.py): the engine on a real feeder, CSIP-AUS output."""

from __future__ import annotations

import json

import numpy as np
import pytest

from openvpp.envelopes.daily import simbench_day_envelopes
from openvpp.envelopes.objects import EnvelopeSet


def test_demo_grid_envelopes():
    day = simbench_day_envelopes("1-LV-rural1--2-sw", "2016-06-15", step_min=15)
    env = day.envelopes
    assert env.n_intervals == 96 and env.kind == "site"
    assert np.all((day.site_export_kw >= 5.0) & (day.site_export_kw <= 10.0))
    # the engine equation, checked independently on the node
    np.testing.assert_allclose(day.raw_kw[0], 0.8 * 160.0 + day.p_net_kw[0])
    midday = day.index.hour == 13
    assert day.raw_kw[0][midday].mean() < day.raw_kw[0][~midday].mean()
    # DayEnvelopes.to_json as documented: the CSIP-AUS document of its envelopes
    doc = json.loads(day.to_json())
    assert doc == day.to_dict() and len(doc["DERControl"]) == env.n_subjects * 96
    back = EnvelopeSet.from_json(day.to_json())
    np.testing.assert_allclose(back.limits_w[0], env.limits_w[0], atol=0.5)
    with pytest.raises(Exception, match="2016"):
        simbench_day_envelopes(day="2019-01-01")
