"""The columnar parameter tables: coercion, defaults and validation messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openvpp.der.battery import BatteryParams
from openvpp.errors import ValidationError


def test_defaults_broadcast_and_describe():
    t = BatteryParams(device_id=["a", "b", "c"])
    assert t.n == 3 and np.all(t.e_max_kwh == 13.5) and np.all(t.p_charge_max_kw == 5.0)
    assert list(t.site_id) == ["a", "b", "c"]
    doc = BatteryParams.describe()
    assert {"column", "unit", "default", "meaning"} <= set(doc.columns)
    assert "e_max_kwh" in set(doc["column"])


@pytest.mark.parametrize(
    ("column", "value", "match"),
    [
        ("e_max_kwh", -13.5, r"battery\.e_max_kwh must be > 0"),
        ("soc0", 1.5, r"battery\.soc0 must be <= 1"),
        ("soc_min", -0.1, r"battery\.soc_min must be >= 0"),
        ("p_charge_max_kw", np.nan, r"battery\.p_charge_max_kw is nan"),
        ("eta_charge", "high", r"battery\.eta_charge must be numeric"),
    ],
)
def test_bad_record_names_the_field_and_device(column, value, match):
    records = [{"device_id": "b1"}, {"device_id": "b2", column: value}]
    with pytest.raises(ValidationError, match=match) as err:
        BatteryParams.from_frame(records)
    if column != "eta_charge":
        assert "'b2'" in str(err.value)


def test_unknown_column_and_duplicate_ids_are_rejected():
    with pytest.raises(ValidationError, match="unknown column"):
        BatteryParams.from_frame([{"device_id": "b1", "e_max_kwhh": 10}])
    with pytest.raises(ValidationError, match="unique"):
        BatteryParams(device_id=["x", "x"])


def test_take_and_frame_round_trip():
    t = BatteryParams(device_id=["a", "b", "c"], e_max_kwh=[1.0, 2.0, 3.0])
    sub = t.take(np.array([True, False, True]))
    assert list(sub.device_id) == ["a", "c"] and list(sub.e_max_kwh) == [1.0, 3.0]
    frame = t.to_frame().reset_index()
    again = BatteryParams.from_frame(frame)
    pd.testing.assert_frame_equal(again.to_frame(), t.to_frame())


def test_absent_key_takes_the_default_but_a_required_column_must_be_given():
    import dataclasses

    from openvpp.tables import ParamTable, param

    @dataclasses.dataclass(frozen=True)
    class Toy(ParamTable):
        table_name = "toy"
        p_kw: np.ndarray = param("kW", "rating")
        e_kwh: np.ndarray = param("kWh", "capacity", default=2.0)

    t = Toy.from_frame([{"device_id": "a", "p_kw": 1.0, "e_kwh": 3.0}, {"device_id": "b", "p_kw": 4.0}])
    assert list(t.e_kwh) == [3.0, 2.0] and list(t.site_id) == ["a", "b"]
    with pytest.raises(ValidationError, match=r"toy\.p_kw is missing from record 1"):
        Toy.from_frame([{"device_id": "a", "p_kw": 1.0}, {"device_id": "b"}])
    with pytest.raises(ValidationError, match=r"toy\.e_kwh is nan for device 'b'"):
        Toy.from_frame([{"device_id": "a", "p_kw": 1.0}, {"device_id": "b", "p_kw": 1.0, "e_kwh": None}])
