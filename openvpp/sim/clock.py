"""The co-simulation clock: 1-s ticks around events, coarse ticks (5 min) otherwise.

The tick times are the union of a coarse grid over the horizon (which includes every plan interval boundary,
so device set-points never straddle a change of plan) and a fine grid over each event window. Seed 001 §2.1
monitors at 5 min; the pilot KPIs of seed 000 §9 (activation in 10 s) need 1-s resolution around events.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openvpp.control.signals import as_time
from openvpp.errors import ValidationError

__all__ = ["MAX_TICKS", "make_clock"]

#: the largest number of ticks one run accepts (a day at 1 s is 86,400)
MAX_TICKS = 200_000


def make_clock(
    start: pd.Timestamp,
    end: pd.Timestamp,
    windows: list[tuple[pd.Timestamp, pd.Timestamp]] = (),  # type: ignore[assignment]
    coarse_s: float = 300.0,
    fine_s: float = 1.0,
) -> pd.DatetimeIndex:
    """Tick times from ``start`` to ``end`` (exclusive): every ``coarse_s`` plus every ``fine_s`` inside
    each window.

    Parameters
    ----------
    start, end : pandas.Timestamp
        Horizon (tz-aware, ``end > start``).
    windows : list of (pandas.Timestamp, pandas.Timestamp)
        Event windows that need the fine resolution (clipped to the horizon).
    coarse_s : float
        Coarse step (5 min). [s]
    fine_s : float
        Fine step (1 s). [s]

    Returns
    -------
    pandas.DatetimeIndex
        Sorted unique tick times.
    """
    start = as_time(start, "start")
    end = as_time(end, "end")
    if end <= start:
        raise ValidationError(f"end ({end}) must be after start ({start})")
    if not (coarse_s > 0 and fine_s > 0 and fine_s <= coarse_s):
        raise ValidationError(f"need 0 < fine_s <= coarse_s (got {fine_s}, {coarse_s}) [s]")
    span = (end - start).total_seconds()
    n_coarse = int(np.ceil(span / coarse_s))
    fine_total = sum(max(0.0, (min(b, end) - max(a, start)).total_seconds()) for a, b in windows) / fine_s
    if n_coarse + fine_total > MAX_TICKS:
        raise ValidationError(
            f"the clock would have about {int(n_coarse + fine_total)} ticks; at most {MAX_TICKS} are "
            "accepted "
            "(shorten the event windows or coarsen fine_s)"
        )
    parts: list[NDArray[np.float64]] = [np.arange(n_coarse, dtype=np.float64) * float(coarse_s)]
    for a, b in windows:
        a, b = as_time(a, "window start"), as_time(b, "window end")
        lo = max((a - start).total_seconds(), 0.0)
        hi = min((b - start).total_seconds(), span)
        if hi > lo:
            lo = np.floor(lo / fine_s) * fine_s
            parts.append(np.arange(lo, hi, fine_s))
    secs = np.unique(np.round(np.concatenate(parts), 6))
    secs = secs[secs < span]
    return start + pd.to_timedelta(secs, unit="s")
