"""CSIP-AUS envelope objects: serialisation and the static default."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from openvpp.envelopes.daily import site_envelopes
from openvpp.envelopes.objects import EnvelopeSet, envelopes_from_limits
from openvpp.errors import ValidationError


def _index():
    return pd.date_range("2021-01-15 10:00", periods=3, freq="5min", tz="Australia/Adelaide")


def test_json_round_trip_and_csip_fields():
    env = envelopes_from_limits(["a", "b"], _index(), [[5.0, 7.5, 10.0], [6.0, 6.0, 6.0]], import_kw=2.0)
    doc = json.loads(env.to_json())
    first = doc["DERControl"][0]
    assert first["interval"] == {"start": int(_index()[0].timestamp()), "duration": 300}
    assert first["DERControlBase"]["opModExpLimW"] == {"value": 5000.0, "multiplier": 0}
    assert first["DERControlBase"]["opModImpLimW"] == {"value": 2000.0, "multiplier": 0}
    assert "opModGenLimW" not in first["DERControlBase"]
    assert doc["DefaultDERControl"]["DERControlBase"]["opModExpLimW"]["value"] == 5000.0
    back = EnvelopeSet.from_json(env.to_json())
    np.testing.assert_array_equal(back.limits_w, env.limits_w)
    assert back.start.equals(env.start) and back.subjects == env.subjects


def test_default_applies_outside_every_interval():
    env = envelopes_from_limits(["a"], _index(), [[8.0, 9.0, 10.0]], default_export_kw=1.5)
    inside = env.active_limits_w(_index()[1] + pd.Timedelta(minutes=2))
    assert inside["opModExpLimW"][0] == 9000.0
    assert np.isnan(inside["opModLoadLimW"][0])
    after = env.active_limits_w(_index()[-1] + pd.Timedelta(minutes=5))
    before = env.active_limits_w(_index()[0] - pd.Timedelta(seconds=1))
    assert after["opModExpLimW"][0] == 1500.0 and before["opModExpLimW"][0] == 1500.0
    with pytest.raises(ValidationError, match="tz-aware"):
        env.active_limits_w("2021-01-15 10:00")


def test_site_envelopes_share_the_node_limit():
    idx = _index()
    # node 0: headroom 0.8 x 20 = 16 kW; net demand -2, 0, 14 -> raw 14, 16, 30 shared by 2 sites
    day = site_envelopes(
        ["s1", "s2", "s3"], [0, 0, 1], idx, [[-2.0, 0.0, 14.0], [0.0, 0.0, 0.0]], [20.0, 100.0], [50.0, 100.0]
    )
    np.testing.assert_allclose(day.site_raw_kw[0], [7.0, 8.0, 15.0])
    np.testing.assert_allclose(day.site_export_kw[0], [7.0, 8.0, 10.0])
    np.testing.assert_allclose(day.site_export_kw[2], [10.0, 10.0, 10.0])
    assert day.envelopes.limits_w[0, 1, 2] == 10000.0


def test_overlapping_intervals_are_rejected():
    idx = _index()
    with pytest.raises(ValidationError, match="overlap"):
        EnvelopeSet(("a",), "site", idx, np.array([600, 300, 300]), np.full((4, 1, 3), np.nan))
