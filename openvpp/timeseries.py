"""Fixed-step, time-zone-aware time axes and the checks that keep series aligned.

Every time series in OpenVPP is indexed by a tz-aware :class:`pandas.DatetimeIndex` with a constant step;
arrays are shaped ``(n_devices, n_steps)``. Functions that combine two series call :func:`check_aligned`,
whose message says exactly how the axes differ (time zone, step, start, length) and how to fix it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from openvpp.errors import ValidationError
from openvpp.units import MIN_PER_H, S_PER_MIN


def make_index(
    start: str | pd.Timestamp, n_steps: int, step_min: float, tz: str = "UTC"
) -> pd.DatetimeIndex:
    """Build a fixed-step, tz-aware time axis.

    Parameters
    ----------
    start : str or pandas.Timestamp
        First time stamp (interval start). A naive value is localised to ``tz``.
    n_steps : int
        Number of steps (> 0). [-]
    step_min : float
        Step length. [min]
    tz : str
        IANA time zone name, e.g. ``"America/Santiago"``.

    Returns
    -------
    pandas.DatetimeIndex
    """
    if int(n_steps) != n_steps or n_steps <= 0:
        raise ValidationError(f"n_steps must be a positive integer (got {n_steps!r})")
    if not np.isfinite(step_min) or step_min <= 0:
        raise ValidationError(f"step_min must be a positive number of minutes (got {step_min!r})")
    ts = pd.Timestamp(start)
    try:
        ts = ts.tz_localize(tz) if ts.tzinfo is None else ts.tz_convert(tz)
    except Exception as exc:  # pytz / zoneinfo raise several types
        raise ValidationError(f"tz {tz!r} is not a known time zone; use an IANA name such as 'UTC'") from exc
    return pd.date_range(ts, periods=int(n_steps), freq=pd.Timedelta(minutes=float(step_min)))


def check_index(index: pd.Index, name: str = "index") -> pd.DatetimeIndex:
    """Check that ``index`` is a tz-aware DatetimeIndex with a constant step and return it.

    Parameters
    ----------
    index : pandas.Index
        The axis to check.
    name : str
        The axis as the user knows it, for messages.

    Raises
    ------
    ValidationError
        Naming ``name`` and what is wrong (not datetimes, naive, irregular, duplicated, unsorted).
    """
    if not isinstance(index, pd.DatetimeIndex):
        raise ValidationError(
            f"{name} must be a pandas.DatetimeIndex (got {type(index).__name__}); "
            "build one with openvpp.timeseries.make_index"
        )
    if index.tz is None:
        raise ValidationError(f"{name} is time-zone naive; localise it, e.g. index.tz_localize('UTC')")
    if len(index) >= 2:
        diffs = np.diff(index.asi8)
        if np.any(diffs <= 0):
            bad = int(np.argmax(diffs <= 0))
            raise ValidationError(
                f"{name} must be strictly increasing; {index[bad]} is followed by {index[bad + 1]}"
            )
        if np.any(diffs != diffs[0]):
            bad = int(np.argmax(diffs != diffs[0]))
            raise ValidationError(
                f"{name} must have a fixed step: step {pd.Timedelta(int(diffs[0]))} at the start but "
                f"{pd.Timedelta(int(diffs[bad]))} between {index[bad]} and {index[bad + 1]}; resample it"
            )
    return index


def step_minutes(index: pd.DatetimeIndex) -> float:
    """Step of a checked fixed-step axis. [min]

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Time axis (tz-aware, fixed step).
    """
    check_index(index)
    if len(index) < 2:
        if index.freq is None:
            raise ValidationError("a one-step index needs a freq to know its step; use make_index")
        return pd.Timedelta(index.freq).total_seconds() / S_PER_MIN
    return (index[1] - index[0]).total_seconds() / S_PER_MIN


def step_hours(index: pd.DatetimeIndex) -> float:
    """Step of a checked fixed-step axis. [h]

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Time axis (tz-aware, fixed step).
    """
    return step_minutes(index) / MIN_PER_H


def describe_difference(a: pd.DatetimeIndex, b: pd.DatetimeIndex, names: tuple[str, str] = ("a", "b")) -> str:
    """Human-readable list of how two time axes differ ('' when they are identical).

    Parameters
    ----------
    a, b : pandas.DatetimeIndex
        The two axes.
    names : tuple of str
        Their names in the text.
    """
    na, nb = names
    diffs: list[str] = []
    if str(a.tz) != str(b.tz):
        diffs.append(f"time zone {na}={a.tz} vs {nb}={b.tz}")
    if len(a) >= 2 and len(b) >= 2 and (a[1] - a[0]) != (b[1] - b[0]):
        diffs.append(f"step {na}={a[1] - a[0]} vs {nb}={b[1] - b[0]}")
    if len(a) and len(b) and a[0] != b[0]:
        diffs.append(f"start {na}={a[0]} vs {nb}={b[0]}")
    if len(a) != len(b):
        diffs.append(f"length {na}={len(a)} vs {nb}={len(b)}")
    if not diffs and not a.equals(b):
        pos = int(np.argmax(a.asi8 != b.asi8))
        diffs.append(f"first differing stamp at position {pos}: {a[pos]} vs {b[pos]}")
    return "; ".join(diffs)


def check_aligned(
    a: pd.DatetimeIndex, b: pd.DatetimeIndex, names: tuple[str, str] = ("a", "b")
) -> None:
    """Raise a :class:`ValidationError` saying how two time axes differ, if they do.

    The fix is named in the message: reindex/resample one series onto the other's axis.

    Parameters
    ----------
    a, b : pandas.DatetimeIndex
        The two axes; ``b`` is the one to move onto ``a``.
    names : tuple of str
        Their names as the user knows them (column, flag or field).
    """
    check_index(a, names[0])
    check_index(b, names[1])
    diff = describe_difference(a, b, names)
    if diff:
        raise ValidationError(
            f"time axes {names[0]} and {names[1]} are not aligned ({diff}); "
            f"resample or reindex {names[1]} onto {names[0]}"
        )


def as_2d(
    name: str,
    values: object,
    n_devices: int | None = None,
    n_steps: int | None = None,
    allow_nan: bool = False,
) -> np.ndarray:
    """Coerce ``values`` to a float array shaped ``(n_devices, n_steps)`` and check it.

    A 1-D array of length ``n_steps`` is broadcast to every device when ``n_devices`` is given; a scalar is
    broadcast to the full shape.

    Parameters
    ----------
    name : str
        The field as the user knows it, for messages.
    values : array_like
        Scalar, (n_steps,) or (n_devices, n_steps) values. [unit of the field]
    n_devices : int, optional
        Expected rows (None: any). [-]
    n_steps : int, optional
        Expected columns (None: any). [-]
    allow_nan : bool
        Whether NaN and inf are accepted.

    Raises
    ------
    ValidationError
        Wrong shape, non-numeric values, or NaN/inf (unless ``allow_nan``), naming ``name``.
    """
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name} must be numeric (could not convert to float: {exc})") from exc
    if arr.ndim == 0 and n_devices is not None and n_steps is not None:
        arr = np.full((n_devices, n_steps), float(arr))
    elif arr.ndim == 1 and n_devices is not None and n_steps is not None and arr.shape[0] == n_steps:
        arr = np.broadcast_to(arr, (n_devices, n_steps)).copy()
    if arr.ndim != 2:
        raise ValidationError(
            f"{name} must be 2-D shaped (n_devices, n_steps) (got shape {arr.shape})"
        )
    exp: Sequence[int | None] = (n_devices, n_steps)
    for axis, (got, want) in enumerate(zip(arr.shape, exp, strict=True)):
        if want is not None and got != want:
            label = "n_devices" if axis == 0 else "n_steps"
            raise ValidationError(
                f"{name} has shape {arr.shape} but {label} must be {want}; arrays are (n_devices, n_steps)"
            )
    if not allow_nan and not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValidationError(
            f"{name} contains NaN or inf at device {int(bad[0])}, step {int(bad[1])}; fill or drop it first"
        )
    return arr
