"""OpenADR 3.1 events as the controller's typed signals: envelopes, instructions and prices.

One function, :func:`event_signals`, reads an event as the VTN returns it (camelCase JSON of the OpenADR
3.1.1 ``event`` object) and gives what :class:`~openvpp.control.signals.Signals` carries:

- ``EXPORT_CAPACITY_LIMIT`` -> :class:`~openvpp.control.signals.EnvelopeUpdate` export limit per interval
  (CSIP-AUS ``opModExpLimW``; the forecast export limits of seed 001 §2.1);
- ``IMPORT_CAPACITY_LIMIT`` -> the same envelope's import limit (``opModImpLimW``);
- ``DISPATCH_SETPOINT`` -> :class:`~openvpp.control.signals.Instruction`: the targets' absolute consumption,
  turned into a change against ``baseline_kw``;
- ``DISPATCH_SETPOINT_RELATIVE`` -> :class:`~openvpp.control.signals.Instruction`: change of consumption;
- ``PRICE``, ``EXPORT_PRICE`` -> :class:`PriceUpdate` per interval (per MWh whatever the descriptor's per-kWh
  or per-MWh units);
- anything else (``SIMPLE``, ``GHG``, ``CURVE``, ``ALERT_*`` ...) is kept as data in
  :attr:`EventSignals.other`.

Interval timing follows the OpenADR 3.1 User Guide: ``event.intervalPeriod`` gives the default start and
duration, an interval's own ``intervalPeriod`` overrides them, intervals without a start follow one another; a
start in year 1 (``0001-01-01``) means "now" and a duration of ``P9999Y`` means "until further notice".

Power units come from the event's ``payloadDescriptors`` (``KW`` default, ``W``, ``MW``); load convention
throughout: a dispatch change < 0 asks for less consumption (more export). A ``DISPATCH_INSTRUCTION``
payload of
``ci``, ``peak`` or ``track`` picks the instruction kind (default ``peak`` for one interval, ``track`` for
several).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from openvpp.control.signals import INSTRUCTION_KINDS, EnvelopeUpdate, Instruction, Signals, as_time
from openvpp.errors import ValidationError
from openvpp.units import H_PER_DAY, S_PER_H, S_PER_MIN, mw_to_kw, per_kwh_to_per_mwh, w_to_kw

_Kind = Literal["ci", "peak", "track"]

__all__ = ["EventSignals", "PriceUpdate", "event_signals", "interval_windows", "parse_duration"]

_DUR = re.compile(
    r"^(-?)P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)([DW]))?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)
#: a duration of this many years or more means "open-ended" (the User Guide's ``P9999Y``) [a]
OPEN_ENDED_YEARS = 9999
_DAYS_PER_WEEK = 7


def parse_duration(text: str | None) -> pd.Timedelta | None:
    """An ISO 8601 duration of OpenADR 3 (``PT15M``, ``P1D``, ``P9999Y``) as a Timedelta; None = open-ended.

    Years and months other than the open-ended ``P9999Y`` are not fixed lengths and are rejected.

    Parameters
    ----------
    text : str or None
        The duration (None or empty: open-ended).

    Returns
    -------
    pandas.Timedelta or None
        The duration, or None when open-ended.
    """
    if not text:
        return None
    m = _DUR.match(text)
    if m is None:
        raise ValidationError(f"duration {text!r} is not an ISO 8601 duration such as 'PT15M' or 'P1D'")
    sign, years, months, days, unit, hours, minutes, seconds = m.groups()
    if years and int(years) >= OPEN_ENDED_YEARS:
        return None
    if years or months:
        raise ValidationError(f"duration {text!r}: years and months have no fixed length; write days (P30D)")
    n_days = int(days or 0) * (_DAYS_PER_WEEK if unit == "W" else 1)
    total_s = (
        n_days * H_PER_DAY * S_PER_H
        + int(hours or 0) * S_PER_H
        + int(minutes or 0) * S_PER_MIN
        + float(seconds or 0)
    )
    try:
        return pd.Timedelta(seconds=-total_s if sign else total_s)
    except (ValueError, OverflowError):
        raise ValidationError(f"duration {text!r} is longer than this service can represent") from None


def _start(text: Any, now: pd.Timestamp, field: str) -> pd.Timestamp | None:
    if text is None:
        return None
    try:
        ts = pd.Timestamp(text)
    except (ValueError, OverflowError) as exc:
        raise ValidationError(f"{field} {text!r} is not a time this service can represent ({exc})") from None
    if ts.year == 1:  # "0001-01-01" = now (User Guide)
        return now
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return as_time(ts, field)


def interval_windows(
    event: Mapping[str, Any], now: pd.Timestamp | None = None
) -> list[tuple[pd.Timestamp | None, pd.Timestamp | None]]:
    """Start and end of each interval of an event (None where undetermined or open-ended).

    Parameters
    ----------
    event : mapping
        The event (camelCase JSON).
    now : pandas.Timestamp, optional
        The instant a start of ``0001-01-01`` stands for (default: the current time, UTC).

    Returns
    -------
    list of (pandas.Timestamp or None, pandas.Timestamp or None)
        One window per interval, in the event's order.
    """
    now = pd.Timestamp.now(tz="UTC") if now is None else as_time(now, "now")
    period = event.get("intervalPeriod") or {}
    ev_start = _start(period.get("start"), now, "event.intervalPeriod.start")
    ev_dur = parse_duration(period.get("duration"))
    out: list[tuple[pd.Timestamp | None, pd.Timestamp | None]] = []
    cursor = ev_start
    for k, interval in enumerate(event.get("intervals") or ()):
        own = interval.get("intervalPeriod") or {}
        start = _start(own.get("start"), now, f"intervals[{k}].intervalPeriod.start") or cursor
        dur = parse_duration(own["duration"]) if own.get("duration") else ev_dur
        try:
            end = None if start is None or dur is None else start + dur
        except (ValueError, OverflowError):
            raise ValidationError(f"intervals[{k}] ends beyond the representable time range") from None
        out.append((start, end))
        cursor = end
    return out


@dataclasses.dataclass(frozen=True)
class PriceUpdate:
    """An energy price for one interval, from a ``PRICE`` or ``EXPORT_PRICE`` payload.

    Parameters
    ----------
    start, end : pandas.Timestamp
        The interval (``end`` None = until further notice).
    price_usd_per_mwh : float
        Price per MWh in the descriptor's currency (USD unless it says otherwise). [USD/MWh]
    currency : str
        Currency of the descriptor (default ``USD``).
    export : bool
        True for an ``EXPORT_PRICE`` (paid for energy exported).
    """

    start: pd.Timestamp
    end: pd.Timestamp | None
    price_usd_per_mwh: float
    currency: str = "USD"
    export: bool = False


@dataclasses.dataclass(frozen=True)
class EventSignals:
    """What one OpenADR event means to the controller.

    Parameters
    ----------
    envelopes : tuple of EnvelopeUpdate
        Site limits, one per interval carrying a capacity limit.
    instructions : tuple of Instruction
        At most one dispatch instruction.
    prices : tuple of PriceUpdate
        Prices per interval.
    other : tuple of (str, tuple)
        Payloads of other types, as data: ``(payloadType, values)`` per interval.
    """

    envelopes: tuple[EnvelopeUpdate, ...] = ()
    instructions: tuple[Instruction, ...] = ()
    prices: tuple[PriceUpdate, ...] = ()
    other: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    def signals(self) -> Signals:
        """The envelopes and instructions as one :class:`~openvpp.control.signals.Signals`."""
        return Signals(instructions=self.instructions, envelopes=self.envelopes)


def _kw_factor(units: str | None, payload_type: str) -> float:
    u = (units or "KW").upper()
    factors = {"KW": 1.0, "W": float(w_to_kw(1.0)), "MW": float(mw_to_kw(1.0))}
    if u not in factors:
        raise ValidationError(
            f"payloadDescriptors: units {units!r} of {payload_type} is not a power unit; use KW, W or MW"
        )
    return factors[u]


def _price_factor(units: str | None) -> float:
    u = (units or "KWH").upper()
    if u in ("KWH", "PER_KWH"):
        return float(per_kwh_to_per_mwh(1.0))
    if u in ("MWH", "PER_MWH"):
        return 1.0
    raise ValidationError(f"payloadDescriptors: PRICE units {units!r} must be KWH or MWH")


def _number(values: Sequence[Any], where: str) -> float:
    if len(values) != 1 or isinstance(values[0], bool) or not isinstance(values[0], int | float):
        raise ValidationError(f"{where} must hold one number (got {list(values)!r})")
    v = float(values[0])
    if not math.isfinite(v):
        raise ValidationError(f"{where} must be finite (got {v})")
    return v


def _sites(targets: Sequence[str], site_ids: Sequence[str]) -> tuple[str, ...]:
    named = tuple(t.removeprefix("site:") for t in targets if t.startswith("site:"))
    return named or tuple(site_ids)


def event_signals(
    event: Mapping[str, Any],
    site_ids: Sequence[str] = (),
    baseline_kw: float = 0.0,
    ramp_s: float = 0.0,
    now: pd.Timestamp | None = None,
) -> EventSignals:
    """Map one OpenADR 3.1 event to the controller's signals (see the module table).

    Parameters
    ----------
    event : mapping
        The event as the VTN returns it (camelCase JSON).
    site_ids : sequence of str
        Sites an envelope applies to when the event's targets name none (targets ``site:<id>`` name sites).
    baseline_kw : float
        Planned aggregate consumption of the targets, load convention; a ``DISPATCH_SETPOINT`` (absolute) is
        turned into the change ``setpoint - baseline_kw``. [kW]
    ramp_s : float
        Ramp of the resulting instruction from plan to the requested change and back. [s]
    now : pandas.Timestamp, optional
        The instant a start of ``0001-01-01`` stands for (default: now).

    Returns
    -------
    EventSignals
        Envelopes, at most one instruction, prices, and other payloads as data.
    """
    event_id = str(event.get("id") or event.get("eventName") or "event")
    descriptors = {d.get("payloadType"): d for d in event.get("payloadDescriptors") or ()}
    windows = interval_windows(event, now)
    targets = [str(t) for t in event.get("targets") or ()]
    sites = _sites(targets, site_ids)
    envelopes: list[EnvelopeUpdate] = []
    prices: list[PriceUpdate] = []
    other: list[tuple[str, tuple[Any, ...]]] = []
    dispatch: list[tuple[pd.Timestamp, pd.Timestamp, float]] = []
    kind: str | None = None
    for k, (interval, (start, end)) in enumerate(zip(event.get("intervals") or (), windows, strict=True)):
        limits: dict[str, float] = {}
        for p, payload in enumerate(interval.get("payloads") or ()):
            ptype, values = str(payload.get("type")), list(payload.get("values") or ())
            where = f"event {event_id!r} intervals[{k}].payloads[{p}] ({ptype})"
            desc = descriptors.get(ptype) or {}
            if ptype in ("EXPORT_CAPACITY_LIMIT", "IMPORT_CAPACITY_LIMIT"):
                v = _number(values, where) * _kw_factor(desc.get("units"), ptype)
                if v < 0:
                    raise ValidationError(f"{where} must be >= 0 (a limit is a magnitude; got {v} kW)")
                limits[ptype] = v
            elif ptype in ("DISPATCH_SETPOINT", "DISPATCH_SETPOINT_RELATIVE"):
                v = _number(values, where) * _kw_factor(desc.get("units"), ptype)
                if start is None or end is None:
                    raise ValidationError(f"{where} needs an interval with a start and a finite duration")
                dispatch.append((start, end, v - baseline_kw if ptype == "DISPATCH_SETPOINT" else v))
            elif ptype in ("PRICE", "EXPORT_PRICE"):
                if start is None:
                    raise ValidationError(f"{where} needs an interval with a start")
                price = _number(values, where) * _price_factor(desc.get("units"))
                prices.append(
                    PriceUpdate(
                        start, end, price, str(desc.get("currency") or "USD"), export=ptype == "EXPORT_PRICE"
                    )
                )
            elif ptype == "DISPATCH_INSTRUCTION" and values and str(values[0]).lower() in INSTRUCTION_KINDS:
                kind = str(values[0]).lower()
            else:
                other.append((ptype, tuple(values)))
        if limits:
            if start is None:
                raise ValidationError(f"event {event_id!r} intervals[{k}] has a capacity limit but no start")
            if not sites:
                raise ValidationError(
                    f"event {event_id!r}: a capacity limit needs sites; give targets 'site:<id>' or site_ids"
                )
            n = len(sites)
            until = end if end is not None else pd.Timestamp.max.tz_localize("UTC")
            envelopes.append(
                EnvelopeUpdate(
                    time=start,
                    site_ids=sites,
                    export_limit_kw=np.full(n, limits.get("EXPORT_CAPACITY_LIMIT", np.inf)),
                    import_limit_kw=np.full(n, limits.get("IMPORT_CAPACITY_LIMIT", np.inf)),
                    valid_until=until,
                    status="live",
                )
            )
    return EventSignals(
        tuple(envelopes), _instruction(event_id, dispatch, kind, ramp_s), tuple(prices), tuple(other)
    )


def _instruction(
    event_id: str, dispatch: list[tuple[pd.Timestamp, pd.Timestamp, float]], kind: str | None, ramp_s: float
) -> tuple[Instruction, ...]:
    if not dispatch:
        return ()
    dispatch.sort(key=lambda d: d[0])
    start, end = dispatch[0][0], max(d[1] for d in dispatch)
    if len(dispatch) == 1 and kind != "track":
        return (
            Instruction(
                id=event_id,
                kind=cast(_Kind, kind or "peak"),
                start=start,
                end=end,
                ramp_s=ramp_s,
                delta_kw=dispatch[0][2],
            ),
        )
    # several intervals: a step curve (each value held over its interval; 1 ms edges)
    edge_s = 1e-3
    t_s: list[float] = []
    kw: list[float] = []
    for s, e, v in dispatch:
        t_s += [(s - start).total_seconds(), (e - start).total_seconds() - edge_s]
        kw += [v, v]
    return (
        Instruction(
            id=event_id, kind="track", start=start, end=end, curve_t_s=tuple(t_s), curve_kw=tuple(kw)
        ),
    )
