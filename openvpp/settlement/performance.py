"""Measured performance of every event: energy and mean power delivered per site and in aggregate.

Delivery is measured against the baseline (seed 000 §4): for a service that asks for less import or more
export (``direction = "up"``) the delivered power is ``baseline - actual``; for one that asks for more import
(``"down"``, e.g. CPF- with batteries absorbing) it is ``actual - baseline`` (load convention, + = import).
The event's ``committed_kw`` is the aggregate commitment, shared equally by its sites (an assumption: the
events table carries no per-site commitment). A site's performance in an event is
``clip(delivered_kwh / committed_kwh, 0, 1)``; its **monthly performance factor** (explainer 002: the capacity
credit is "adjusted by how reliably the system performs") is
``sum_e min(max(delivered_kwh_e, 0), committed_kwh_e) / sum_e committed_kwh_e`` over the month's events, and 1
in a month without events.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from openvpp.errors import ValidationError
from openvpp.settlement.baselines import (
    business_days,
    control_group_baseline,
    day_matrix,
    day_of_adjustment,
    meter_before_baseline,
    x_of_y_baseline,
)
from openvpp.settlement.io import Telemetry
from openvpp.settlement.program import Program
from openvpp.units import S_PER_H

#: device class of the matched non-participants that a control-group baseline reads (never paid)
CONTROL_CLASS = "control"

__all__ = [
    "CONTROL_CLASS",
    "EventPerformance",
    "event_windows",
    "measure_events",
    "monthly_performance_factor",
]


@dataclasses.dataclass(frozen=True)
class EventPerformance:
    """Per-event and per-site measured delivery.

    Attributes
    ----------
    sites : pandas.DataFrame
        One row per (event, site): event_id, service, month, site_id, site_pos, committed_kw, committed_kwh,
        baseline_kwh, actual_kwh, delivered_kwh, delivered_avg_kw, export_kwh, performance, factor, capped.
    events : pandas.DataFrame
        One row per event: event_id, service, month, start, end, n_sites, committed_kw, delivered_kwh,
        delivered_avg_kw, performance, price_usd_per_mwh.
    excluded_days : numpy.ndarray of bool, shape (n_sites, n_days)
        Days never used as baseline days: days with a day-matched event of the site, days with a gap.
    dt_h : float
        Telemetry step. [h]
    """

    sites: pd.DataFrame
    events: pd.DataFrame
    excluded_days: np.ndarray
    dt_h: float


def event_windows(tel: Telemetry, events: pd.DataFrame, program: Program) -> pd.DataFrame:
    """Check events against the telemetry and the program; return their step positions.

    Parameters
    ----------
    tel : Telemetry
        Columnar telemetry.
    events : pandas.DataFrame
        Validated events (:func:`openvpp.settlement.io.events_from_frame`).
    program : Program
        Compensation program (services known, negative prices allowed or not).

    Returns
    -------
    pandas.DataFrame
        ``events`` with integer columns ``i0, i1`` (first and one-past-last step) and ``rows`` (site
        positions).

    Raises
    ------
    ValidationError
        Unknown ``service`` or site in ``site_ids``, ``start``/``end`` off the telemetry step or outside it, a
        negative ``price_usd_per_mwh`` the program forbids.
    """
    idx = tel.index
    step = idx[1] - idx[0]
    t0, t_end = idx[0], idx[-1] + step
    pos = pd.Index(tel.site_ids)
    out = events.copy()
    i0s, i1s, rows = [], [], []
    for ev in events.itertuples(index=False):
        program.service(ev.service)
        for col, t in (("start", ev.start), ("end", ev.end)):
            if t < t0 or t > t_end:
                raise ValidationError(
                    f"events column {col!r} of event_id {ev.event_id!r} ({t}) lies outside the telemetry "
                    f"({t0} to {t_end}); telemetry and events are misaligned"
                )
            if (t - t0) % step:
                raise ValidationError(
                    f"events column {col!r} of event_id {ev.event_id!r} ({t}) is not on the telemetry's "
                    f"{step} step; telemetry and events are misaligned"
                )
        r = pos.get_indexer(ev.site_ids)
        if np.any(r < 0):
            unknown = [s for s, k in zip(ev.site_ids, r, strict=True) if k < 0][:5]
            raise ValidationError(
                f"events column 'site_ids' of event_id {ev.event_id!r} names unknown site(s) "
                f"{unknown}; every "
                "site must have telemetry"
            )
        if np.any(tel.device_class[r] == CONTROL_CLASS):
            raise ValidationError(
                f"events column 'site_ids' of event_id {ev.event_id!r} names a site of device_class "
                f"{CONTROL_CLASS!r}; control sites are never dispatched"
            )
        if len(np.unique(r)) != len(r):
            raise ValidationError(f"events column 'site_ids' of event_id {ev.event_id!r} repeats a site")
        i0s.append((ev.start - t0) // step)
        i1s.append((ev.end - t0) // step)
        rows.append(r)
    out["i0"], out["i1"], out["rows"] = i0s, i1s, rows
    if "price_usd_per_mwh" in out.columns and not program.allow_negative_prices:
        neg = out["price_usd_per_mwh"] < 0
        if neg.any():
            raise ValidationError(
                f"events column 'price_usd_per_mwh' is negative for event_id "
                f"{out['event_id'][neg].iloc[0]!r} "
                f"({out['price_usd_per_mwh'][neg].iloc[0]}) but program {program.name!r} does "
                f"not allow negative "
                "prices (allow_negative_prices = false)"
            )
    return out


def _gap_error(ev: object, site: str, what: str) -> ValidationError:
    return ValidationError(
        f"telemetry column 'p_kw' has a gap for site_id {site!r} {what} of event_id {ev.event_id!r} "  # type: ignore[attr-defined]
        f"({ev.start} to {ev.end}); gaps are not filled: provide the readings or remove the site from the "  # type: ignore[attr-defined]
        "event's site_ids"
    )


def _control_group(tel: Telemetry, e: Any, rows: np.ndarray, pre_h: float, dt_h: float) -> np.ndarray:
    """Control-group baseline of one event from the telemetry sites of device class ``control``."""
    ctrl = np.flatnonzero(tel.device_class == CONTROL_CLASS)
    if ctrl.size == 0:
        raise ValidationError(
            f"service {e.service!r} of event_id {e.event_id!r} uses a control-group baseline but no "
            f"telemetry site has device_class {CONTROL_CLASS!r}; add matched non-participants with that class"
        )
    k0 = e.i0 - round(pre_h / dt_h)
    if k0 < 0:
        raise ValidationError(
            f"control-group baseline of event_id {e.event_id!r} needs {pre_h} h of telemetry before {e.start}"
        )
    block = tel.p_kw[:, k0 : e.i1]
    for idx in (rows, ctrl):
        miss = np.isnan(block[idx]).any(axis=1)
        if miss.any():
            raise _gap_error(e, f"{tel.site_ids[idx[int(np.argmax(miss))]]}", "before or during")
    return control_group_baseline(
        block[rows], block[ctrl], slice(0, e.i0 - k0), slice(e.i0 - k0, e.i1 - k0)
    ).astype(np.float64)


def measure_events(tel: Telemetry, events: pd.DataFrame, program: Program) -> EventPerformance:
    """Baseline and measured delivery of every event, per site and in aggregate (seed 000 §4).

    Events of a service with ``baseline = "x_of_y"`` use the X-of-Y day-matching baseline with the day-of
    adjustment (a site's days with such an event are excluded from its history; the few minutes of a fast
    service do not disqualify a day); ``"meter_before"`` events hold the last readings before the trigger.

    Parameters
    ----------
    tel : Telemetry
        Columnar telemetry, load convention. [kW]
    events : pandas.DataFrame
        Validated events.
    program : Program
        Baseline settings and service terms.

    Returns
    -------
    EventPerformance

    Raises
    ------
    ValidationError
        Misaligned events, unknown sites, a gap inside an event or its baseline window, too little history for
        the X-of-Y baseline (named site and event).
    """
    ev = event_windows(tel, events, program)
    days_kw, dates = day_matrix(tel.p_kw, tel.index)
    n_sites, _, spd = days_kw.shape
    dt_h = (tel.index[1] - tel.index[0]).total_seconds() / S_PER_H
    bs = program.baseline
    business = business_days(dates, bs.holidays)
    # days with a gap anywhere are not baseline days (the gaps are reported in tel.gaps, never filled)
    excluded = np.isnan(days_kw).any(axis=2)
    day_matched = [k for k, v in program.services.items() if v.baseline == "x_of_y"]
    for e in ev[ev["service"].isin(day_matched)].itertuples(index=False):
        excluded[np.ix_(e.rows, np.arange(e.i0 // spd, (e.i1 - 1) // spd + 1))] = True
    parts: list[dict[str, np.ndarray]] = []
    agg: list[dict[str, object]] = []
    for e in ev.itertuples(index=False):
        terms = program.service(e.service)
        rows = np.asarray(e.rows)
        n = len(rows)
        dur_h = (e.i1 - e.i0) * dt_h
        actual = np.asarray(tel.p_kw[rows, e.i0 : e.i1], dtype=np.float64)
        if np.isnan(actual).any():
            raise _gap_error(e, str(tel.site_ids[rows[np.isnan(actual).any(axis=1)][0]]), "during")
        factor = np.ones(n)
        capped = np.zeros(n, bool)
        if terms.baseline == "control_group":
            base = _control_group(tel, e, rows, bs.control_pre_window_h, dt_h)
        elif terms.baseline == "meter_before":
            # only the readings before the trigger are needed: slice the columns before picking the rows
            k0 = max(e.i0 - bs.meter_before_samples, 0)
            held = meter_before_baseline(
                tel.p_kw[:, k0 : e.i0][rows], tel.index[k0:], e.start, bs.meter_before_samples
            )
            base = np.broadcast_to(held[:, None], (n, e.i1 - e.i0))
        else:
            d = e.i0 // spd
            if (e.i1 - 1) // spd != d:
                raise ValidationError(
                    f"event_id {e.event_id!r} ({e.start} to {e.end}) crosses midnight; a "
                    f"day-matching baseline "
                    "needs an event within one day: split it in two events"
                )
            s0, s1 = e.i0 - d * spd, e.i1 - d * spd
            a1 = s0 - round(bs.adjustment_gap_h / dt_h)
            a0 = max(a1 - round(bs.adjustment_window_h / dt_h), 0)
            adjust = bs.adjustment != "none" and a1 > 0
            lo = min(a0, s0) if adjust else s0
            xx, yy = (bs.x, bs.y) if business[d] else (bs.x_nonbusiness, bs.y_nonbusiness)
            sub = days_kw if n == n_sites and np.array_equal(rows, np.arange(n_sites)) else days_kw[rows]
            dayb = x_of_y_baseline(
                sub,
                d,
                business,
                excluded[rows],
                x=xx,
                y=yy,
                lookback_days=bs.lookback_days,
                rank_steps=slice(s0, s1),
                steps=slice(lo, s1),
            )
            short = ~np.isfinite(dayb.p_kw).all(axis=1)
            if short.any():
                k = int(np.argmax(short))
                raise ValidationError(
                    f"site_id {tel.site_ids[rows[k]]!r} has {int(dayb.n_days_used[k])} usable "
                    f"{'business' if business[d] else 'non-business'} days before event_id {e.event_id!r} "
                    f"(needs {xx} of the last {yy} within {bs.lookback_days} days, without events or gaps); "
                    "give a longer telemetry history or lower baseline.x"
                )
            span_actual = np.asarray(days_kw[rows, d, lo:s1], dtype=np.float64)
            b = dayb.p_kw.astype(np.float64)
            if adjust:
                if np.isnan(span_actual[:, a0 - lo : a1 - lo]).any():
                    bad = np.isnan(span_actual[:, a0 - lo : a1 - lo]).any(axis=1)
                    raise _gap_error(
                        e, str(tel.site_ids[rows[int(np.argmax(bad))]]), "in the adjustment window"
                    )
                adj = day_of_adjustment(
                    b, span_actual, slice(a0 - lo, a1 - lo), bs.adjustment, (bs.cap_low, bs.cap_high)
                )
                b, factor, capped = adj.p_kw, adj.factor, adj.capped
            base = b[:, s0 - lo :]
        sign = 1.0 if terms.direction == "up" else -1.0
        delivered_kwh = sign * (base - actual).sum(axis=1) * dt_h
        committed_kw = np.full(n, e.committed_kw / n)
        committed_kwh = committed_kw * dur_h
        with np.errstate(invalid="ignore", divide="ignore"):
            perf = np.where(committed_kwh > 0, np.clip(delivered_kwh / committed_kwh, 0.0, 1.0), np.nan)
        parts.append(
            {
                "event_pos": np.full(n, len(agg)),
                "site_pos": rows,
                "committed_kw": committed_kw,
                "committed_kwh": committed_kwh,
                "baseline_kwh": base.sum(axis=1) * dt_h,
                "actual_kwh": actual.sum(axis=1) * dt_h,
                "delivered_kwh": delivered_kwh,
                "delivered_avg_kw": delivered_kwh / dur_h,
                "export_kwh": np.maximum(-actual, 0.0).sum(axis=1) * dt_h,
                "performance": perf,
                "factor": factor,
                "capped": capped,
            }
        )
        tot = float(delivered_kwh.sum())
        agg.append(
            {
                "event_id": e.event_id,
                "service": e.service,
                "month": e.start.strftime("%Y-%m"),
                "start": e.start,
                "end": e.end,
                "n_sites": n,
                "committed_kw": float(e.committed_kw),
                "delivered_kwh": tot,
                "delivered_avg_kw": tot / dur_h,
                "performance": (
                    min(max(tot / (e.committed_kw * dur_h), 0.0), 1.0) if e.committed_kw > 0 else np.nan
                ),
                "price_usd_per_mwh": float(getattr(e, "price_usd_per_mwh", np.nan)),
            }
        )
    events_out = pd.DataFrame(agg)
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    sites = pd.DataFrame(cols)
    sites.insert(0, "event_id", events_out["event_id"].to_numpy()[cols["event_pos"]])
    sites.insert(1, "service", events_out["service"].to_numpy()[cols["event_pos"]])
    sites.insert(2, "month", events_out["month"].to_numpy()[cols["event_pos"]])
    sites.insert(3, "site_id", tel.site_ids[cols["site_pos"]])
    return EventPerformance(sites=sites, events=events_out, excluded_days=excluded, dt_h=dt_h)


def monthly_performance_factor(
    site_pos: np.ndarray,
    month_pos: np.ndarray,
    delivered_kwh: np.ndarray,
    committed_kwh: np.ndarray,
    n_sites: int,
    n_months: int,
) -> np.ndarray:
    """Performance factor per participant and month (explainer 002's reliability adjustment).

    ``PF = sum_e min(max(delivered_e, 0), committed_e) / sum_e committed_e`` over the month's events of the
    site; 1 where the site had no event with a commitment that month.

    Parameters
    ----------
    site_pos, month_pos : numpy.ndarray of int, shape (n_rows,)
        Site and month of each (event, site) row. [-]
    delivered_kwh, committed_kwh : numpy.ndarray, shape (n_rows,)
        Measured and committed energy of each row. [kWh]
    n_sites, n_months : int
        Table size. [-]

    Returns
    -------
    numpy.ndarray, shape (n_sites, n_months)
        Performance factor in [0, 1]. [-]
    """
    key = np.asarray(site_pos, np.int64) * n_months + np.asarray(month_pos, np.int64)
    com = np.asarray(committed_kwh, float)
    got = np.minimum(np.maximum(np.asarray(delivered_kwh, float), 0.0), com)
    num = np.bincount(key, weights=got, minlength=n_sites * n_months)
    den = np.bincount(key, weights=com, minlength=n_sites * n_months)
    with np.errstate(invalid="ignore", divide="ignore"):
        pf = np.where(den > 0, num / np.where(den > 0, den, 1.0), 1.0)
    return pf.reshape(n_sites, n_months)
