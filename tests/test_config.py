"""The strict configuration base: unknown keys and bad values become one ValidationError naming each field."""

from __future__ import annotations

import pytest

from openvpp.config import StrictModel
from openvpp.errors import ValidationError


class _Limits(StrictModel):
    p_max_kw: float
    steps: int = 96


def test_build_validates_and_freezes():
    limits = _Limits.build(p_max_kw=5.0)
    assert (limits.p_max_kw, limits.steps) == (5.0, 96)
    with pytest.raises(Exception, match="frozen"):
        limits.p_max_kw = 1.0  # type: ignore[misc]


def test_every_bad_field_is_named_with_its_value():
    with pytest.raises(ValidationError) as err:
        _Limits.build(p_max_kw="five", steps=2.5, colour="red")
    text = str(err.value)
    assert "_Limits.p_max_kw" in text and "'five'" in text
    assert "_Limits.steps" in text and "2.5" in text
    assert "_Limits.colour" in text  # unknown keys are rejected, not ignored
