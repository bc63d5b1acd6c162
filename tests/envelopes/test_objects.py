"""CSIP-AUS envelope objects: Int16 ActivePower encoding, mRIDs, status, serialisation, the static default."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvpp.envelopes.daily import site_envelopes
from openvpp.envelopes.objects import (
    INT16_MAX,
    MULTIPLIER_MIN,
    EnvelopeSet,
    active_power_from_dict,
    active_power_to_dict,
    decode_active_power,
    encode_active_power,
    envelopes_from_limits,
    make_mrid,
)
from openvpp.errors import ValidationError


def _index():
    return pd.date_range("2021-01-15 10:00", periods=3, freq="5min", tz="Australia/Adelaide")


def test_json_round_trip_and_csip_fields():
    env = envelopes_from_limits(["a", "b"], _index(), [[5.0, 7.5, 10.0], [6.0, 6.0, 6.0]], import_kw=2.0)
    doc = json.loads(env.to_json())
    first = doc["DERControl"][0]
    assert first["interval"] == {"start": int(_index()[0].timestamp()), "duration": 300}
    assert first["DERControlBase"]["opModExpLimW"] == {"value": 5000, "multiplier": 0}
    assert first["DERControlBase"]["opModImpLimW"] == {"value": 2000, "multiplier": 0}
    assert isinstance(first["DERControlBase"]["opModExpLimW"]["value"], int)
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


@pytest.mark.parametrize(
    ("p_w", "value", "multiplier"),
    [
        (7234.5, 7235, 0),  # -1 would need 72345 > 32767: nearest W, half away from zero
        (5000.0, 5000, 0),
        (1.5, 15, -1),
        (0.25, 25, -2),
        (40000.0, 4000, 1),  # over 32,767 W: tens of W
        (32767.4, 32767, 0),
        (32767.6, 3277, 1),  # rounding at 0 would overflow Int16
        (75_530_000.0, 7553, 4),
        (0.0, 0, 0),
        (-7234.5, -7235, 0),
    ],
)
def test_active_power_is_int16_with_the_smallest_multiplier(p_w, value, multiplier):
    v, m = encode_active_power(p_w)
    assert (int(v), int(m)) == (value, multiplier)
    assert active_power_to_dict(p_w) == {"value": value, "multiplier": multiplier}
    assert active_power_from_dict({"value": value, "multiplier": multiplier}) == value * 10.0**multiplier


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-3.2e13, max_value=3.2e13, allow_nan=False))
def test_active_power_round_trip(p_w):
    v, m = encode_active_power(p_w)
    v, m = int(v), int(m)
    assert -32768 <= v <= INT16_MAX
    back = float(decode_active_power(v, m))
    # nearest representable value at that multiplier
    assert abs(back - p_w) <= 0.5 * 10.0**m * (1 + 1e-9) + 1e-9 * abs(p_w)
    # precision of the smallest multiplier that fits, found here by a plain loop with decimal rounding
    from decimal import ROUND_HALF_UP, Decimal

    ref = None
    for mm in range(MULTIPLIER_MIN, 10):
        q = (Decimal(abs(p_w)) / Decimal(10) ** mm).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        if q <= INT16_MAX:
            ref = float(q * Decimal(10) ** mm) * (1 if p_w >= 0 else -1)
            break
    assert back == pytest.approx(ref, rel=1e-12, abs=1e-9)
    # encoding the decoded value is a fixed point
    v2, m2 = encode_active_power(back)
    assert float(decode_active_power(v2, m2)) == pytest.approx(back, rel=1e-12, abs=1e-12)


def test_active_power_rejects_what_int16_cannot_hold():
    with pytest.raises(ValidationError, match="too large"):
        encode_active_power(4e13)
    with pytest.raises(ValidationError, match="finite"):
        encode_active_power(float("nan"))
    with pytest.raises(ValidationError, match="Int16"):
        decode_active_power(40000, 0)
    with pytest.raises(ValidationError, match="multiplier"):
        active_power_from_dict({"value": 5, "multiplier": 12}, "opModExpLimW")


def test_limits_over_32767_w_survive_the_document():
    idx = _index()
    env = envelopes_from_limits(["node"], idx, [[7.2345, 40.0, 1234.567]], kind="node")
    back = EnvelopeSet.from_json(env.to_json())
    # 7,234.5 W to the nearest W; 1,234,567 W to the nearest 100 W (12346 x 10^2 fits Int16, 123457 x 10 not)
    np.testing.assert_array_equal(back.limits_w[0, 0], [7235.0, 40000.0, 1234600.0])
    base = json.loads(env.to_json())["DERControl"][2]["DERControlBase"]["opModExpLimW"]
    assert base == {"value": 12346, "multiplier": 2}


def test_mrids_are_128_bit_hex_and_deterministic():
    idx = _index()
    a = envelopes_from_limits(["a", "b"], idx, [[5.0, 7.5, 10.0], [6.0, 6.0, 6.0]]).to_dict()
    b = envelopes_from_limits(["a", "b"], idx, [[5.0, 7.5, 10.0], [6.0, 6.0, 6.0]]).to_dict()
    c = envelopes_from_limits(["a", "b"], idx, [[5.0, 7.5, 9.0], [6.0, 6.0, 6.0]]).to_dict()
    ids = [x["mRID"] for x in a["DERControl"]]
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert len(set(ids)) == len(ids)
    assert ids == [x["mRID"] for x in b["DERControl"]]
    changed = [x["mRID"] for x in c["DERControl"]]
    assert changed[2] != ids[2] and changed[:2] == ids[:2]
    assert make_mrid("x", 1) == make_mrid("x", 1) != make_mrid("x", 2)
    assert len(a["DefaultDERControl"]["mRID"]) == 32


def test_creation_time_and_event_status():
    idx = _index()
    created = idx[1] + pd.Timedelta(seconds=10)
    doc = envelopes_from_limits(["a"], idx, [[5.0, 6.0, 7.0]], created=created).to_dict()
    assert doc["creationTime"] == int(created.timestamp())
    status = [c["EventStatus"]["currentStatus"] for c in doc["DERControl"]]
    assert status == [1, 1, 0]  # two started by the creation time (Active), one Scheduled
    assert all(c["creationTime"] == doc["creationTime"] for c in doc["DERControl"])
    back = EnvelopeSet.from_dict(doc)
    assert back.created == created.floor("s")
    with pytest.raises(ValidationError, match="mRID"):
        bad = json.loads(json.dumps(doc))
        bad["DERControl"][0]["mRID"] = "a:123"
        EnvelopeSet.from_dict(bad)


def test_to_frame_lists_every_subject_and_interval():
    env = envelopes_from_limits(["a", "b"], _index(), [[5.0, 7.5, 10.0], [6.0, 6.0, 6.0]], import_kw=2.0)
    frame = env.to_frame()
    assert len(frame) == 6 and list(frame["subject"]) == ["a"] * 3 + ["b"] * 3
    assert frame["start"].iloc[1] == _index()[1]
    assert frame["opModExpLimW"].tolist() == [5000.0, 7500.0, 10000.0, 6000.0, 6000.0, 6000.0]
    assert frame["opModGenLimW"].isna().all()
