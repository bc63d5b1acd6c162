"""The variable-resolution clock."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openvpp.errors import ValidationError
from openvpp.sim.clock import make_clock

T = pd.Timestamp("2024-07-01", tz="UTC")


def test_coarse_grid_plus_fine_windows():
    window = (T + pd.Timedelta(minutes=10), T + pd.Timedelta(minutes=12))
    ticks = make_clock(T, T + pd.Timedelta(hours=1), [window])
    secs = (ticks - T).total_seconds().to_numpy()
    assert secs[0] == 0 and np.all(np.diff(secs) > 0)
    assert set(np.arange(0, 3600, 300)) <= set(secs)
    assert set(np.arange(600, 720)) <= set(secs)
    assert len(secs) == 12 + 120 - 1  # the 600-s tick is in both grids


def test_bounds():
    with pytest.raises(ValidationError, match="after start"):
        make_clock(T, T)
    with pytest.raises(ValidationError, match="at most"):
        make_clock(T, T + pd.Timedelta(days=3), [(T, T + pd.Timedelta(days=3))])
