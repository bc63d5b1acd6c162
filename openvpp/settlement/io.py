"""The documented settlement tables, validated and turned into columnar arrays (no file I/O here).

Telemetry (long format, one row per site and interval, as the co-simulation and the service produce it):

====================  =========================================================================
column                meaning
====================  =========================================================================
``site_id``           participant / site name (text)
``time``              interval start with its UTC offset (ISO 8601, e.g. ``2026-06-01T20:00:00-04:00``)
``p_kw``              mean site power over the interval, load convention (+ = import) [kW]
``device_class``      optional: the class settled at the site (``battery``, ``ev``, ``heatpump`` ...,
                      ``control`` for matched non-participants); ``battery`` when absent
====================  =========================================================================

Every site must be metered on one common fixed step (5 min from the service, 1 s or 4 s from fast meters).
Events: ``event_id, service, start, end, committed_kw, site_ids`` (``site_ids`` separated by ``;`` or spaces;
``committed_kw`` is the aggregate commitment of the event, shared equally by its sites), optional
``price_usd_per_mwh`` (the market price of the event's activation).

Duplicated intervals, stamps off the common step, unknown sites, naive times and events that do not line up
with the telemetry raise :class:`~openvpp.errors.ValidationError` naming the column. Missing intervals become
NaN and are listed in :attr:`Telemetry.gaps`: they are reported and never filled.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from openvpp.errors import ValidationError

__all__ = [
    "EVENT_COLUMNS",
    "MAX_CELLS",
    "TELEMETRY_COLUMNS",
    "Telemetry",
    "events_from_frame",
    "telemetry_from_long",
]

TELEMETRY_COLUMNS = ("site_id", "time", "p_kw")
EVENT_COLUMNS = ("event_id", "service", "start", "end", "committed_kw", "site_ids")
#: largest telemetry matrix accepted (sites x intervals): 200 million cells, 0.8 GB as float32
MAX_CELLS = 200_000_000


@dataclasses.dataclass(frozen=True)
class Telemetry:
    """Columnar telemetry: one row per site on a common fixed-step axis.

    Attributes
    ----------
    site_ids : numpy.ndarray of str, shape (n_sites,)
    device_class : numpy.ndarray of str, shape (n_sites,)
    index : pandas.DatetimeIndex
        Interval starts, whole days from a midnight in the settlement time zone.
    p_kw : numpy.ndarray, shape (n_sites, n_steps)
        Site power, load convention; NaN where no reading was given. [kW]
    gaps : pandas.DataFrame
        Missing readings: site_id, start, end, n_intervals.
    """

    site_ids: np.ndarray
    device_class: np.ndarray
    index: pd.DatetimeIndex
    p_kw: np.ndarray
    gaps: pd.DataFrame

    @property
    def n_sites(self) -> int:
        """Number of sites. [-]"""
        return int(self.p_kw.shape[0])


def _require(frame: pd.DataFrame, columns: tuple[str, ...], table: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"{table} is missing column(s) {missing}; it needs {list(columns)} (got {list(frame.columns)})"
        )


def _times(values: Any, column: str, table: str, tz: str) -> pd.DatetimeIndex:
    try:
        t = pd.DatetimeIndex(pd.to_datetime(values, format="ISO8601"))
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"{table} column {column!r} has a value that is not a time: {exc}") from None
    if t.tz is None:
        raise ValidationError(
            f"{table} column {column!r} has times without a UTC offset (e.g. {t[0]}); write them as "
            "2026-06-01T20:00:00-04:00 or with a Z"
        )
    return t.tz_convert(tz)


def _gap_table(p: np.ndarray, site_ids: np.ndarray, index: pd.DatetimeIndex) -> pd.DataFrame:
    miss = np.isnan(p)
    if not miss.any():
        return pd.DataFrame({"site_id": [], "start": [], "end": [], "n_intervals": []})
    pad = np.zeros((p.shape[0], 1), bool)
    edges = np.diff(np.concatenate([pad, miss, pad], axis=1).astype(np.int8), axis=1)
    rs, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)
    step = index[1] - index[0] if len(index) > 1 else pd.Timedelta(0)
    return pd.DataFrame(
        {
            "site_id": site_ids[rs],
            "start": index[starts],
            "end": index[ends - 1] + step,
            "n_intervals": ends - starts,
        }
    )


def telemetry_from_long(frame: pd.DataFrame, tz: str = "UTC", dtype: Any = np.float64) -> Telemetry:
    """Validate long telemetry and pivot it to ``(n_sites, n_steps)`` without a loop over sites.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``site_id, time, p_kw`` and optionally ``device_class`` (see the module docstring). [kW]
    tz : str
        Settlement time zone; days start at its midnights.
    dtype : numpy dtype
        float64 (default) or float32 for large fleets.

    Returns
    -------
    Telemetry

    Raises
    ------
    ValidationError
        Missing column, non-numeric or non-finite ``p_kw``, naive or malformed ``time``, stamps off the common
        step, duplicated ``site_id, time`` rows, a ``device_class`` that changes within a site, or more than
        :data:`MAX_CELLS` cells.
    """
    _require(frame, TELEMETRY_COLUMNS, "telemetry")
    if len(frame) == 0:
        raise ValidationError("telemetry has no rows")
    p = pd.to_numeric(frame["p_kw"], errors="coerce").to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(p)):
        bad = int(np.argmax(~np.isfinite(p)))
        raise ValidationError(
            f"telemetry column 'p_kw' must be a finite number in kW (row {bad}: "
            f"{frame['p_kw'].iloc[bad]!r}); "
            "leave a missing interval out instead of writing NaN"
        )
    t = _times(frame["time"], "time", "telemetry", tz)
    sites = frame["site_id"].astype(str).to_numpy()
    codes, uniq = pd.factorize(sites, sort=True)
    ns = t.asi8
    uns = np.unique(ns)
    if len(uns) < 2:
        raise ValidationError(
            "telemetry column 'time' needs at least two distinct intervals to know the step"
        )
    step_ns = int(np.diff(uns).min())
    t0 = int(ns.min())
    if np.any((ns - t0) % step_ns):
        bad = int(np.argmax((ns - t0) % step_ns != 0))
        raise ValidationError(
            f"telemetry column 'time' is misaligned: {t[bad]} (site {sites[bad]!r}) is not on the common "
            f"{pd.Timedelta(step_ns)} step starting {t.min()}; resample every site onto one grid"
        )
    first = pd.Timestamp(t.min()).normalize()
    last = pd.Timestamp(t.max()).normalize() + pd.Timedelta(days=1)
    index = pd.date_range(first, last, freq=pd.Timedelta(step_ns), inclusive="left")
    n_sites, n_steps = len(uniq), len(index)
    if n_sites * n_steps > MAX_CELLS:
        raise ValidationError(
            f"telemetry covers {n_sites} sites x {n_steps} intervals = {n_sites * n_steps:,} "
            f"cells, above the "
            f"bound of {MAX_CELLS:,}; settle fewer sites or a shorter period per call"
        )
    pos = (ns - index[0].value) // step_ns
    flat = codes.astype(np.int64) * n_steps + pos
    dup = pd.Index(flat).duplicated()
    if dup.any():
        bad = int(np.argmax(dup))
        raise ValidationError(
            f"telemetry has duplicate intervals: site_id {sites[bad]!r}, time {t[bad]} appears "
            f"more than once; "
            "keep one reading per site and interval"
        )
    mat = np.full(n_sites * n_steps, np.nan, dtype=dtype)
    mat[flat] = p
    mat = mat.reshape(n_sites, n_steps)
    if "device_class" in frame.columns:
        dc = frame["device_class"].astype(str).to_numpy()
        per_site = pd.DataFrame({"c": codes, "d": dc}).drop_duplicates()
        if len(per_site) != n_sites:
            bad = per_site[per_site["c"].duplicated()]["c"].iloc[0]
            raise ValidationError(
                f"telemetry column 'device_class' changes within site_id {uniq[bad]!r}; give one "
                f"class per site"
            )
        classes = per_site.sort_values("c")["d"].to_numpy()
    else:
        classes = np.full(n_sites, "battery", dtype=object)
    site_arr = np.asarray(uniq, dtype=object)
    return Telemetry(
        site_ids=site_arr,
        device_class=np.asarray(classes, dtype=object),
        index=index,
        p_kw=mat,
        gaps=_gap_table(mat, site_arr, index),
    )


def _split_sites(value: Any) -> list[str]:
    if isinstance(value, list | tuple | np.ndarray):
        return [str(v) for v in value]
    return [s for s in str(value).replace(";", " ").replace(",", " ").split() if s]


def events_from_frame(frame: pd.DataFrame, tz: str = "UTC") -> pd.DataFrame:
    """Validate an events table; return it with parsed times and ``site_ids`` as lists.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``event_id, service, start, end, committed_kw [kW], site_ids`` and optionally
        ``price_usd_per_mwh``. [kW], [USD/MWh]
    tz : str
        Settlement time zone.

    Raises
    ------
    ValidationError
        Missing column, duplicate ``event_id``, naive or malformed ``start``/``end``, ``end <= start``,
        negative or non-finite ``committed_kw``, empty ``site_ids``, non-numeric ``price_usd_per_mwh``.
    """
    _require(frame, EVENT_COLUMNS, "events")
    if len(frame) == 0:
        raise ValidationError("events has no rows; give at least one event to settle")
    ev = frame.copy()
    ev["event_id"] = ev["event_id"].astype(str)
    dup = ev["event_id"].duplicated()
    if dup.any():
        raise ValidationError(f"events column 'event_id' has a duplicate: {ev['event_id'][dup].iloc[0]!r}")
    ev["service"] = ev["service"].astype(str)
    ev["start"] = _times(ev["start"], "start", "events", tz)
    ev["end"] = _times(ev["end"], "end", "events", tz)
    bad = ev["end"] <= ev["start"]
    if bad.any():
        row = ev[bad].iloc[0]
        raise ValidationError(
            f"events column 'end' must be after 'start' (event_id {row['event_id']!r}: "
            f"{row['start']} -> {row['end']})"
        )
    kw = pd.to_numeric(ev["committed_kw"], errors="coerce")
    badkw = ~np.isfinite(kw.to_numpy(dtype=float)) | (kw.to_numpy(dtype=float) < 0)
    if badkw.any():
        i = int(np.argmax(badkw))
        raise ValidationError(
            f"events column 'committed_kw' must be a number >= 0 kW (event_id {ev['event_id'].iloc[i]!r}: "
            f"{frame['committed_kw'].iloc[i]!r})"
        )
    ev["committed_kw"] = kw.astype(float)
    ev["site_ids"] = [_split_sites(v) for v in ev["site_ids"]]
    empty = [len(s) == 0 for s in ev["site_ids"]]
    if any(empty):
        raise ValidationError(
            f"events column 'site_ids' is empty for event_id {ev['event_id'][empty].iloc[0]!r}; "
            f"list its sites"
        )
    if "price_usd_per_mwh" in ev.columns:
        pr = pd.to_numeric(ev["price_usd_per_mwh"], errors="coerce")
        badp = (
            pr.isna()
            & ev["price_usd_per_mwh"].notna()
            & (ev["price_usd_per_mwh"].astype(str).str.strip() != "")
        )
        if badp.any():
            raise ValidationError(
                f"events column 'price_usd_per_mwh' must be a number in USD/MWh (event_id "
                f"{ev['event_id'][badp].iloc[0]!r})"
            )
        ev["price_usd_per_mwh"] = pr.astype(float)
    return ev.reset_index(drop=True)
