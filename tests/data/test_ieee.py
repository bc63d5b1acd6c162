"""The IEEE European LV test feeder, read through openvpp.data."""

from __future__ import annotations

import pytest

from openvpp.data import load_ieee_european_lv
from openvpp.errors import ValidationError


def test_ieee_european_lv_feeder():
    net = load_ieee_european_lv()
    assert len(net.asymmetric_load) == 55
    assert len(net.bus) > 900
    with pytest.raises(ValidationError, match="scenario"):
        load_ieee_european_lv("noon")
