"""Sites table: defaults, validation messages naming the field, lookups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openvpp.errors import ValidationError
from openvpp.fleet import Sites


def test_defaults_follow_the_node():
    s = Sites(site_id=["a", "b"], node=["n1", "n2"])
    assert list(s.phase) == ["abc", "abc"]
    assert list(s.constraint_node) == ["n1", "n2"] and list(s.ccp) == ["n1", "n2"]
    assert list(s.customer_type) == ["household"] * 2 and list(s.bus) == [-1, -1]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"phase": ["a", "d"]}, r"sites\.phase is 'd' for site 'b'"),
        ({"node": ["n1", np.nan]}, r"sites\.node is missing .* site 'b'"),
        ({"node": ["n1", None]}, r"sites\.node is missing"),
        ({"ccp": ["", "c"]}, r"sites\.ccp is missing .* site 'a'"),
        ({"site_id": ["a", "a"]}, r"sites\.site_id must be unique"),
        ({"bus": [1, 2.5]}, r"sites\.bus is 2\.5 for site 'b'"),
        ({"bus": [1, -3]}, r"sites\.bus"),
        ({"phase": ["a"]}, r"sites\.phase must have one value per site"),
    ],
)
def test_bad_values_name_the_field(kwargs, match):
    base = {"site_id": ["a", "b"], "node": ["n1", "n2"]}
    base.update(kwargs)
    with pytest.raises(ValidationError, match=match):
        Sites(**base)


def test_records_fill_absent_keys_per_site_and_reject_unknown_columns():
    s = Sites.from_frame([
        {"site_id": "a", "node": "n1", "phase": "B", "constraint_node": "t1"},
        {"site_id": "b", "node": "n2"},
    ])
    assert list(s.phase) == ["b", "abc"]
    assert list(s.constraint_node) == ["t1", "n2"] and list(s.ccp) == ["t1", "n2"]
    with pytest.raises(ValidationError, match="unknown column"):
        Sites.from_frame([{"site_id": "a", "node": "n", "phse": "a"}])
    with pytest.raises(ValidationError, match="'node' is required"):
        Sites.from_frame([{"site_id": "a"}])
    with pytest.raises(ValidationError, match=r"sites\.phase is 'x'"):
        Sites.from_frame(pd.DataFrame({"site_id": ["a"], "node": ["n"], "phase": ["x"]}))


def test_positions_and_take_round_trip():
    s = Sites(site_id=["a", "b", "c"], node=["n1", "n1", "n2"], phase=["a", "b", "c"])
    np.testing.assert_array_equal(s.positions(["c", "a", "c"]), [2, 0, 2])
    with pytest.raises(ValidationError, match="'z' is not a site"):
        s.positions(["a", "z"], "battery.site_id")
    sub = s.take([2, 0])
    assert list(sub.site_id) == ["c", "a"] and list(sub.phase) == ["c", "a"]
    again = Sites.from_frame(s.to_frame().reset_index())
    pd.testing.assert_frame_equal(again.to_frame(), s.to_frame())
