"""Statements and the aggregator's view: hand checks, invariants, and agreement with the business model."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvpp.economics import business
from openvpp.settlement.io import Telemetry, events_from_frame, telemetry_from_long
from openvpp.settlement.program import load_program, program_from_business
from openvpp.settlement.statements import settle


def small_case(seed: int = 0, n_sites: int = 4):
    """Four weeks of hourly load for ``n_sites`` sites; two peak events for the first half of them."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2026-05-04", periods=28 * 24, freq="h", tz="UTC")
    p = 1.0 + 0.3 * rng.random((n_sites, len(index)))
    names = [f"site{k:02d}" for k in range(n_sites)]
    events = pd.DataFrame(
        {
            "event_id": ["e1", "e2"],
            "service": ["peak_reduction", "peak_reduction"],
            "start": ["2026-05-25T20:00Z", "2026-05-27T20:00Z"],
            "end": ["2026-05-25T22:00Z", "2026-05-27T22:00Z"],
            "committed_kw": [2.0 * (n_sites // 2)] * 2,
            "site_ids": [" ".join(names[: n_sites // 2])] * 2,
        }
    )
    for day in (21, 23):
        p[: n_sites // 2, day * 24 + 20 : day * 24 + 22] -= 2.0
    frame = pd.DataFrame(
        {
            "site_id": np.repeat(names, len(index)),
            "time": np.tile(index.strftime("%Y-%m-%dT%H:%M:%SZ"), n_sites),
            "p_kw": p.ravel(),
        }
    )
    return frame, events


@pytest.fixture(scope="module")
def program():
    return load_program().model_copy(update={"timezone": "UTC"})


def run(frame, events, program):
    return settle(telemetry_from_long(frame, "UTC"), events_from_frame(events, "UTC"), program)


def test_statements_sum_to_the_aggregators_participant_cost(program):
    res = run(*small_case(), program)
    paid = res.statements.groupby("month")["total_usd"].sum()
    agg = res.aggregator.set_index("month")["participant_payments_usd"]
    assert np.allclose(paid.reindex(agg.index), agg)
    assert np.allclose(res.aggregator["revenue_usd"] - agg.to_numpy(), res.aggregator["margin_usd"])
    # capacity credit by hand: 5 kW x 2.33242 USD/kW-month x performance factor
    st_ = res.statements.set_index("site_id")
    assert st_.loc["site03", "capacity_credit_usd"] == pytest.approx(5 * 2.33242)
    pf = st_.loc["site00", "performance_factor"]
    assert st_.loc["site00", "capacity_credit_usd"] == pytest.approx(5 * 2.33242 * pf)
    assert st_.loc["site00", "energy_credit_usd"] == pytest.approx(0.9 * st_.loc["site00", "delivered_kwh"])
    statement = res.statement("site00", "2026-05")
    assert [e["event_id"] for e in statement["events"]] == ["e1", "e2"]


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_a_site_without_events_is_paid_only_its_capacity_credit(seed):
    prog = load_program().model_copy(update={"timezone": "UTC"})
    res = run(*small_case(seed), prog)
    quiet = res.statements[res.statements["n_events"] == 0]
    assert len(quiet) == 2
    assert np.allclose(quiet["total_usd"], 5 * 2.33242)
    assert (quiet["energy_credit_usd"] == 0).all() and (quiet["performance_factor"] == 1).all()


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_reordering_sites_changes_nothing(seed):
    prog = load_program().model_copy(update={"timezone": "UTC"})
    frame, events = small_case(seed)
    perm = np.random.default_rng(seed).permutation(len(frame))
    a = run(frame, events, prog).statements.sort_values("site_id", ignore_index=True)
    b = run(frame.iloc[perm], events, prog).statements.sort_values("site_id", ignore_index=True)
    pd.testing.assert_frame_equal(a, b)


def _year_of_table4_events():
    """A year of hourly telemetry and events for 1 MW of batteries at Lampa as Table 4 assumes it.

    200 batteries (5 kW / 13.5 kWh) and 46 heat pumps + 71 EVs (704 kW), flat 1 kW household load, so every
    baseline is exact and the measured delivery equals the dispatch:

    - CPF-: 427 one-hour events at 06:00 / 08:00 (batteries absorb 2 kW each), meter-before baseline;
    - CPF+: for each hour of the 17-21 block, ceil(h_k) one-hour events delivering factor x h_k MWh in all
      (h = 7.7 / 3.3 / 10.2 / 2.9 h, droop factor 0.6857), meter-before baseline;
    - peak reduction: 15 events 20:00-22:00 April-September, 30 % of 13.5 kWh per battery (2.025 kW for 2 h);
    - resilience: 3 events of 4 h, 80 % of 13.5 kWh per battery (2.7 kW);
    - CI: 15 events 18:00-20:00 on working days May-August, the EVs and HPs (charging 18-20 h every day)
      interrupted.
    """
    inp = business.load_inputs("lampa")
    d = business.table3_details(inp)
    index = pd.date_range("2025-01-01", "2026-01-01", freq="h", tz="UTC", inclusive="left")
    days = pd.date_range("2025-01-01", periods=365, freq="D", tz="UTC")
    n_b, n_hp, n_ev = 200, 46, 71
    ids = (
        [f"b{k:03d}" for k in range(n_b)]
        + [f"h{k:02d}" for k in range(n_hp)]
        + [f"v{k:02d}" for k in range(n_ev)]
    )
    classes = np.array(["battery"] * n_b + ["heatpump"] * n_hp + ["ev"] * n_ev, dtype=object)
    p = np.ones((len(ids), len(index)))
    ci_kw = np.r_[np.zeros(n_b), np.full(n_hp, 4.5), np.full(n_ev, 7.0)]
    hours = np.asarray(index.hour)
    p[:, (hours == 18) | (hours == 19)] += ci_kw[:, None]
    bat = " ".join(ids[:n_b])
    rows = []

    def add(service, day, h0, dur_h, kw_each, committed_kw, sites=bat, rows_slice=slice(0, n_b)):
        i0 = day * 24 + h0
        p[rows_slice, i0 : i0 + dur_h] -= np.reshape(kw_each, (-1, 1))
        t0 = days[day] + pd.Timedelta(hours=h0)
        rows.append(
            {
                "event_id": f"{service}-{len(rows)}",
                "service": service,
                "start": t0.isoformat(),
                "end": (t0 + pd.Timedelta(hours=dur_h)).isoformat(),
                "committed_kw": committed_kw,
                "site_ids": sites,
            }
        )

    slots = [(day, h) for day in range(214) for h in (6, 8)][:427]
    for day, h in slots:
        add("cpf_minus", day, h, 1, -2.0, 1000.0)
    act = inp.catalogue["cpf_plus"].rule("activation")
    day = 280
    for k, h_k in enumerate(act.hours_per_year):
        n_k = math.ceil(h_k)
        mw = d["droop_factor"] * h_k / n_k
        for _ in range(n_k):
            add("cpf_plus", day, 17 + k, 1, mw * 1000.0 / n_b, mw * 1000.0)
            day += 1
    business_day = np.asarray(days.dayofweek) < 5
    peak_days = [x for x in range(92, 270) if business_day[x]][::8][:15]
    for x in peak_days:
        add("peak_reduction", x, 20, 2, 2.025, 405.0)
    for x in (21, 45, 70):
        add("resilience", x if business_day[x] else x + 2, 14, 4, 2.7, 540.0)
    ci_days = [x for x in range(121, 243) if business_day[x]][::5][:15]
    ci_sites = " ".join(ids[n_b:])
    for x in ci_days:
        add("ci", x, 18, 2, ci_kw[n_b:], 704.0, ci_sites, slice(n_b, None))
    assert len(peak_days) == 15 and len(ci_days) == 15
    tel = Telemetry(
        site_ids=np.array(ids, dtype=object),
        device_class=classes,
        index=index,
        p_kw=p,
        gaps=pd.DataFrame({"site_id": [], "start": [], "end": [], "n_intervals": []}),
    )
    return inp, tel, pd.DataFrame(rows)


def test_a_year_of_table4_events_agrees_with_the_business_model():
    inp, tel, events = _year_of_table4_events()
    prog = program_from_business(inp).model_copy(update={"timezone": "UTC"})
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    res = settle(tel, events_from_frame(events, "UTC"), prog, months=months, inputs=inp, eligibility=False)
    case = business.business_case(inp, 200)
    assert (case.n_ev, case.n_hp) == (71, 46)
    year = res.aggregator.drop(columns="month").sum()
    names = {"peak_reduction": "peak_reduction_usd", "resilience": "resilience_usd"}
    for line, expected in case.revenue_usd.items():
        got = year[names.get(line, f"{line}_usd")]
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-6), line
    credits = case.cost_usd["energy_credit"] + case.cost_usd["ci_credit"]
    # tolerance 1e-9: the two computations differ only by floating-point summation order
    assert year["participant_payments_usd"] == pytest.approx(credits, rel=1e-9)
    fixed = case.cost_usd["implementation"] + case.cost_usd["administration"] + case.cost_usd["marketing"]
    assert year["margin_usd"] - fixed == pytest.approx(case.profit_usd, rel=1e-9)
