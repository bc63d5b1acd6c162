"""Fixed-step tz-aware axes and alignment messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openvpp.errors import ValidationError
from openvpp.timeseries import as_2d, check_aligned, check_index, make_index, step_hours, step_minutes


def test_make_index_is_fixed_step_and_tz_aware():
    idx = make_index("2026-01-01", 96, 15, tz="America/Santiago")
    assert len(idx) == 96 and str(idx.tz) == "America/Santiago"
    assert step_minutes(idx) == 15 and step_hours(idx) == 0.25
    check_index(idx)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n_steps": 0}, "n_steps"), ({"step_min": -5}, "step_min"), ({"tz": "Mars/Olympus"}, "tz")],
)
def test_make_index_rejects_bad_input(kwargs, match):
    args = {"start": "2026-01-01", "n_steps": 4, "step_min": 15, "tz": "UTC"} | kwargs
    with pytest.raises(ValidationError, match=match):
        make_index(**args)


def test_check_index_names_the_problem():
    with pytest.raises(ValidationError, match="naive"):
        check_index(pd.date_range("2026-01-01", periods=3, freq="15min"))
    irregular = pd.DatetimeIndex(["2026-01-01 00:00", "2026-01-01 00:15", "2026-01-01 00:45"], tz="UTC")
    with pytest.raises(ValidationError, match="fixed step"):
        check_index(irregular)
    with pytest.raises(ValidationError, match="DatetimeIndex"):
        check_index(pd.RangeIndex(3))


def test_check_aligned_says_how_axes_differ():
    a = make_index("2026-01-01", 96, 15)
    check_aligned(a, a.copy())
    with pytest.raises(ValidationError) as err:
        check_aligned(a, make_index("2026-01-01 03:00", 48, 30, tz="Europe/Berlin"), names=("load", "pv"))
    msg = str(err.value)
    for word in ("time zone", "step", "start", "length", "load", "pv"):
        assert word in msg


def test_as_2d_shapes_and_nans():
    assert as_2d("x", 1.0, 2, 3).shape == (2, 3)
    assert as_2d("x", np.arange(3), 2, 3).shape == (2, 3)
    with pytest.raises(ValidationError, match="n_steps must be 4"):
        as_2d("x", np.zeros((2, 3)), 2, 4)
    with pytest.raises(ValidationError, match="NaN"):
        as_2d("x", np.array([[1.0, np.nan]]))
