"""Participant payments, monthly statements and the aggregator's margin (explainer 002; seed 000 §6.1).

For each participant and month (explainer 002's granular model, seed 000 Table 2 values):

- capacity credit = enrolled kW x ``capacity_credit_usd_per_kw_month`` x monthly performance factor;
- energy credit = sum over events of ``max(delivered_kwh, 0) x credited_share(service)`` x
  ``energy_credit_usd_per_kwh`` of the participant's device class;
- export credit = kWh exported during events x ``export_rate_usd_per_kwh`` (0 unless the program sets one).

The aggregator's view per month: revenue by service line from the market with the remuneration rules of
:mod:`openvpp.services.remuneration` as the business model applies them (:mod:`openvpp.economics.business`):
capacity-type lines (CPF+ availability, CI availability, peak reduction) are the annual line for the enrolled
capacity shared over the year by the days the service runs in each month (working days where the service runs
on working days only); event-type lines are paid on the **measured** events: CPF- per event and MW committed,
CPF+ activation, CI activation and resilience on the measured energy delivered at the rule's price (or the
event's ``price_usd_per_mwh`` where given). Margin = revenue - participant payments.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from openvpp.errors import ValidationError
from openvpp.settlement.eligibility import EligibilityReport, baseline_eligibility
from openvpp.settlement.io import Telemetry
from openvpp.settlement.performance import (
    CONTROL_CLASS,
    EventPerformance,
    measure_events,
    monthly_performance_factor,
)
from openvpp.settlement.program import Program
from openvpp.units import KW_PER_MW

__all__ = ["Settlement", "aggregator_view", "participant_statements", "settle"]

#: remuneration rules paid on measured event energy, per event and MW, or as capacity over the year
ENERGY_RULES = ("droop_energy_at_marginal_cost", "capacity_event_hours", "energy_not_supplied")
EVENT_RULES = ("per_event",)
CAPACITY_RULES = ("reserved_energy_at_marginal_cost", "capacity_hours", "per_kw_month")


def participant_statements(
    perf: EventPerformance,
    site_ids: np.ndarray,
    device_class: np.ndarray,
    program: Program,
    months: Sequence[str],
) -> pd.DataFrame:
    """One statement row per participant and month: credits and total (explainer 002; seed 000 Table 2).

    Parameters
    ----------
    perf : EventPerformance
        Measured events (:func:`~openvpp.settlement.performance.measure_events`).
    site_ids, device_class : numpy.ndarray of str, shape (n_sites,)
        Participants and their device classes. [-] [-]
    program : Program
        Rates.
    months : sequence of str
        Months settled, ``YYYY-MM``.

    Returns
    -------
    pandas.DataFrame
        Columns site_id, month, device_class, enrolled_kw [kW], n_events, delivered_kwh [kWh], credited_kwh
        [kWh], export_kwh [kWh], performance_factor [-], capacity_credit_usd, energy_credit_usd,
        export_credit_usd, total_usd. [USD]
    """
    months = list(months)
    n_sites, n_months = len(site_ids), len(months)
    classes, cls_pos = np.unique(np.asarray(device_class, dtype=str), return_inverse=True)
    terms = [program.terms(c) for c in classes]
    enrolled = np.array([t.enrolled_kw for t in terms])[cls_pos]
    cap_rate = np.array([t.capacity_credit_usd_per_kw_month for t in terms])[cls_pos]
    e_rate = np.array([t.energy_credit_usd_per_kwh for t in terms])[cls_pos]
    rows = perf.sites
    m_pos = pd.Index(months).get_indexer(rows["month"])
    all_pos = pd.Index(site_ids).get_indexer(rows["site_id"])
    keep = (m_pos >= 0) & (all_pos >= 0)
    s_pos = all_pos[keep]
    m_pos = m_pos[keep]
    delivered = rows["delivered_kwh"].to_numpy()[keep]
    committed = rows["committed_kwh"].to_numpy()[keep]
    share = rows["service"].map({k: v.credited_share for k, v in program.services.items()}).to_numpy()[keep]
    credited = np.maximum(delivered, 0.0) * share
    key = s_pos * n_months + m_pos
    size = n_sites * n_months

    def per(weights: np.ndarray) -> np.ndarray:
        return np.bincount(key, weights=weights, minlength=size)

    pf = monthly_performance_factor(s_pos, m_pos, delivered, committed, n_sites, n_months).ravel()
    cap = np.repeat(enrolled * cap_rate, n_months) * pf
    energy = per(credited) * np.repeat(e_rate, n_months)
    export_kwh = per(rows["export_kwh"].to_numpy()[keep])
    export = export_kwh * program.export_rate_usd_per_kwh
    return pd.DataFrame(
        {
            "site_id": np.repeat(site_ids, n_months),
            "month": np.tile(np.asarray(months, dtype=object), n_sites),
            "device_class": np.repeat(np.asarray(device_class), n_months),
            "enrolled_kw": np.repeat(enrolled, n_months),
            "n_events": per(np.ones(len(key))).astype(np.int64),
            "delivered_kwh": per(delivered),
            "credited_kwh": per(credited),
            "export_kwh": export_kwh,
            "performance_factor": pf,
            "capacity_credit_usd": cap,
            "energy_credit_usd": energy,
            "export_credit_usd": export,
            "total_usd": cap + energy + export,
        }
    )


def _line_name(service: str, component: str) -> str:
    from openvpp.economics.business import SERVICE_LINES

    name = f"{service}_{component}"
    return service if name not in SERVICE_LINES and service in SERVICE_LINES else name


def _service_days(service: Any, month: str, holidays: Sequence[str]) -> tuple[int, int]:
    """Days the service runs in ``month`` and in that month's year (working days where it says so). [d]"""
    from openvpp.settlement.baselines import business_days

    year = int(month[:4])
    days = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
    run = np.isin(days.month, service.months)
    if service.days == "working":
        run &= business_days(days, holidays)
    in_month = run & (days.strftime("%Y-%m") == month)
    return int(in_month.sum()), int(run.sum())


def aggregator_view(
    perf: EventPerformance,
    statements: pd.DataFrame,
    program: Program,
    inputs: Any | None = None,
) -> pd.DataFrame:
    """Revenue by service line, participant payments and margin per month (seed 000 §6.1, Table 3 rules).

    Parameters
    ----------
    perf : EventPerformance
        Measured events.
    statements : pandas.DataFrame
        Output of :func:`participant_statements` (enrolled kW by class, payments).
    program : Program
        Program (its ``site`` and ``market`` select the business inputs when ``inputs`` is None).
    inputs : openvpp.economics.business.BusinessInputs, optional
        Site prices, costs and catalogue.

    Returns
    -------
    pandas.DataFrame
        One row per month: a ``<line>_usd`` column per revenue line, revenue_usd, participant_payments_usd,
        margin_usd. [USD]
    """
    from openvpp.economics import business

    inp = inputs if inputs is not None else business.load_inputs(program.site, program.market)
    cat = inp.catalogue
    per_mw = business.revenue_lines_per_mw(inp)
    details = business.table3_details(inp)
    months = sorted(statements["month"].unique())
    first = statements.drop_duplicates("site_id")
    kw_by_class = first.groupby("device_class")["enrolled_kw"].sum()
    lines: dict[str, dict[str, float]] = {m: {} for m in months}
    ev = perf.events
    for svc in cat.services.values():
        mw = float(kw_by_class.reindex(list(svc.der_classes)).fillna(0.0).sum()) / KW_PER_MW
        svc_ev = ev[ev["service"] == svc.key]
        for r in svc.remuneration:
            line = _line_name(svc.key, r.component)
            for m in months:
                if r.rule in CAPACITY_RULES:
                    n_m, n_y = _service_days(svc, m, program.baseline.holidays)
                    val = per_mw.get(line, 0.0) * mw * (n_m / n_y if n_y else 0.0)
                else:
                    e_m = svc_ev[svc_ev["month"] == m]
                    if r.rule in EVENT_RULES:
                        price = (
                            details["direct_cost_usd_per_mw_day"] if r.price_from else r.price_usd_per_mwh
                        ) or 0.0
                        val = float(price * (e_m["committed_kw"] / KW_PER_MW).sum())
                    else:
                        mwh = np.maximum(e_m["delivered_kwh"].to_numpy(), 0.0) / KW_PER_MW
                        val = float(np.sum(mwh * _event_prices(e_m, svc, r, inp)))
                lines[m][line] = lines[m].get(line, 0.0) + val
    pay = statements.groupby("month")["total_usd"].sum()
    frame = pd.DataFrame.from_dict(lines, orient="index").fillna(0.0)
    frame.columns = [f"{c}_usd" for c in frame.columns]
    frame["revenue_usd"] = frame.sum(axis=1)
    frame["participant_payments_usd"] = pay.reindex(frame.index).fillna(0.0)
    frame["margin_usd"] = frame["revenue_usd"] - frame["participant_payments_usd"]
    return frame.reset_index(names="month")


def _event_prices(e_m: pd.DataFrame, svc: Any, rule: Any, inp: Any) -> np.ndarray:
    """Price of each event's activation energy: the event's own price, else the rule's. [USD/MWh]"""
    if rule.rule == "droop_energy_at_marginal_cost":
        prices = np.asarray(inp.site.cpf_plus_price_usd_per_mwh, dtype=float)
        h0 = int(svc.block_start.split(":")[0])
        k = np.clip(np.array([t.hour for t in e_m["start"]], dtype=int) - h0, 0, len(prices) - 1)
        default = prices[k] if len(e_m) else np.zeros(0)
    else:
        default = np.full(len(e_m), rule.price_usd_per_mwh or 0.0)
    if "price_usd_per_mwh" in e_m.columns:
        own = e_m["price_usd_per_mwh"].to_numpy(dtype=float)
        return np.where(np.isnan(own), default, own)
    return default


@dataclasses.dataclass(frozen=True)
class Settlement:
    """Everything one settlement run produces.

    Attributes
    ----------
    performance : EventPerformance
    eligibility : EligibilityReport or None
        None when no event uses a day-matching baseline.
    statements : pandas.DataFrame
        One row per participant and month (:func:`participant_statements`).
    aggregator : pandas.DataFrame
        One row per month (:func:`aggregator_view`).
    gaps : pandas.DataFrame
        Missing telemetry intervals (reported, never filled).
    program : Program
    """

    performance: EventPerformance
    eligibility: EligibilityReport | None
    statements: pd.DataFrame
    aggregator: pd.DataFrame
    gaps: pd.DataFrame
    program: Program

    def statement(self, site_id: str, month: str) -> dict[str, Any]:
        """One participant's statement for a month, with its event lines, as plain JSON.

        Parameters
        ----------
        site_id : str
            Participant.
        month : str
            Month, ``YYYY-MM``.
        """
        st = self.statements
        row = st[(st["site_id"] == site_id) & (st["month"] == month)]
        if row.empty:
            raise ValidationError(f"no statement for site_id {site_id!r} in month {month!r}")
        ev = self.performance.sites
        lines = ev[(ev["site_id"] == site_id) & (ev["month"] == month)]
        cols = [
            "event_id",
            "service",
            "committed_kwh",
            "baseline_kwh",
            "actual_kwh",
            "delivered_kwh",
            "delivered_avg_kw",
            "performance",
        ]
        return {"program": self.program.name, **_records(row)[0], "events": _records(lines[cols])}

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON summary: events, eligibility, monthly totals, gaps (statements are written as files)."""
        return {
            "program": self.program.name,
            "events": _records(self.performance.events),
            "eligibility": None if self.eligibility is None else self.eligibility.to_dict(),
            "months": _records(self.aggregator),
            "n_statements": len(self.statements),
            "gaps": _records(self.gaps),
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = frame.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].map(lambda t: t.isoformat())
    return [
        {
            k: (
                None
                if isinstance(v, float) and not np.isfinite(v)
                else (v.item() if isinstance(v, np.generic) else v)
            )
            for k, v in r.items()
        }
        for r in out.astype(object).to_dict(orient="records")
    ]


def _eligibility(tel: Telemetry, perf: EventPerformance, program: Program) -> EligibilityReport | None:
    from openvpp.settlement.baselines import business_days, day_matrix

    ev = perf.events
    x_keys = [k for k, v in program.services.items() if v.baseline == "x_of_y"]
    day_ev = ev[ev["service"].isin(x_keys)]
    if day_ev.empty:
        return None
    days_kw, dates = day_matrix(tel.p_kw, tel.index)
    spd = days_kw.shape[2]
    dt_h = perf.dt_h
    first = day_ev.iloc[0]
    day0 = first["start"].normalize()
    s0 = int((first["start"] - day0) / pd.Timedelta(hours=dt_h))
    s1 = int((first["end"] - day0) / pd.Timedelta(hours=dt_h))
    if s1 > spd:
        return None
    bs = program.baseline
    a1 = s0 - round(bs.adjustment_gap_h / dt_h)
    a0 = max(a1 - round(bs.adjustment_window_h / dt_h), 0)
    adj = bs.adjustment if a1 > 0 else "none"
    excluded = perf.excluded_days
    return baseline_eligibility(
        days_kw,
        business_days(dates, bs.holidays),
        excluded,
        range(days_kw.shape[1]),
        slice(s0, s1),
        list(tel.site_ids),
        x=bs.x,
        y=bs.y,
        x_nonbusiness=bs.x_nonbusiness,
        y_nonbusiness=bs.y_nonbusiness,
        lookback_days=bs.lookback_days,
        adjustment=adj,
        adjustment_window=slice(a0, a1) if a1 > 0 else None,
        cap=(bs.cap_low, bs.cap_high),
        max_rrmse=program.eligibility.max_rrmse,
        max_abs_bias=program.eligibility.max_abs_bias,
    )


def settle(
    tel: Telemetry,
    events: pd.DataFrame,
    program: Program,
    months: Sequence[str] | None = None,
    inputs: Any | None = None,
    eligibility: bool = True,
) -> Settlement:
    """Settle events from metered telemetry: performance, eligibility, statements, aggregator margin.

    Parameters
    ----------
    tel : Telemetry
        Columnar telemetry (:func:`openvpp.settlement.io.telemetry_from_long`), load convention. [kW]
    events : pandas.DataFrame
        Validated events (:func:`openvpp.settlement.io.events_from_frame`).
    program : Program
        Compensation program.
    months : sequence of str, optional
        Months to settle (``YYYY-MM``); default the months of the events.
    inputs : openvpp.economics.business.BusinessInputs, optional
        Market inputs for the aggregator view (default from the program's ``site``).
    eligibility : bool
        Whether to compute the baseline eligibility report.

    Returns
    -------
    Settlement
    """
    perf = measure_events(tel, events, program)
    ms = sorted(set(perf.events["month"])) if months is None else list(months)
    paid = tel.device_class != CONTROL_CLASS
    st = participant_statements(perf, tel.site_ids[paid], tel.device_class[paid], program, ms)
    agg = aggregator_view(perf, st, program, inputs)
    elig = _eligibility(tel, perf, program) if eligibility else None
    return Settlement(
        performance=perf, eligibility=elig, statements=st, aggregator=agg, gaps=tel.gaps, program=program
    )
