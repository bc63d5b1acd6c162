"""``openvpp demo``: one day of the Chile pilot (seed 000 §9) on a SimBench LV feeder, the whole system.

The stages (each a call into the library; rendering lives in :mod:`openvpp.report.demo`):

1. **DSO** - the day's export envelope of every site from the constraint engine (seed 001 §2.2, the
   transformer rating as the node's reverse-flow limit), published through the in-process service
   (:mod:`openvpp.studies.demo_service`; SQLite in a temporary folder, or PostgreSQL with ``--db``).
2. **Aggregator** - registers its sites and DERs through ``/v1``, forecasts the day (P10/P50/P90 load and PV,
   :mod:`openvpp.forecast`), assesses its flexibility per CCP at the evening peak (seed 003 §3,
   :func:`openvpp.flex.fleet_flexibility`) and plans stacked services with the capacity allocation of seed 000
   §6.1.2 (:func:`openvpp.studies.pilot.pilot_plan`): CPF+ in 17:00-21:00 (Table 1), CPF- all day, peak
   reduction 20:00-22:00 with 30 % of battery power, the remaining 20 % as resilience reserve for the island.
   The plan honours the envelopes the aggregator reads every 5 min (PV curtailed where a site would export
   above its limit).
3. **Co-simulation** (:func:`openvpp.sim.cosim.run_cosim`, 1-s ticks around events): an under-frequency event
   at 18:30 (CPF+ droop, seed 000 §6.1), the peak-reduction instruction at 20:00 published by the DSO as an
   OpenADR 3.1 event and read back by the aggregator as a controller instruction, the envelope feed lost for
   15 min at 17:30 (static default limit, then recovery; seed 001 §2.1), 5-min telemetry posted to the
   store; a 2-hour outage of one feeder section at 22:00 with island operation
   (:func:`openvpp.control.island.run_island_scenario`).
4. **Network** - the exact unbalanced power flow of the realised day (:func:`openvpp.grid.check.check_day`).
5. **Settlement and business case** - baselines, delivered services and participant payments
   (:func:`openvpp.settlement.settle`, program of seed 000 §6.1 Table 2) and the annual business case of the
   fleet in the layout of seed 000 Table 4 (:func:`openvpp.economics.business.summary_for_fleet`).

``hours`` shortens the run to that many hours from 17:00 (the event window), for tests.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openvpp.checks import check_seed
from openvpp.data import LV_GRIDS, day_slice, load_simbench_lv
from openvpp.data.simbench import check_simbench_day
from openvpp.errors import ValidationError
from openvpp.units import mw_to_kw

__all__ = ["DEFAULT_DAY", "DEFAULT_GRID", "EVENTS", "STAGES", "DemoResult", "run_demo"]

DEFAULT_GRID = "1-LV-rural1--2-sw"
DEFAULT_DAY = "2016-06-15"
#: the day's events as local times (seed 000 §6.1 Table 1 and §9; seed 001 §2.1)
EVENTS = {
    "envelope_feed_lost": ("17:30", 15.0),  # start, minutes
    "under_frequency": ("18:30", 11.0),
    "peak_reduction": ("20:00", 120.0),
    "outage": ("22:00", 120.0),
}
#: start of a shortened run (``hours`` < 24): the event window
SHORT_START = "17:00"
#: CPF+ block of seed 000 Table 1 (17:01-21:00; whole plan steps 17:00-21:00)
CPF_PLUS_HOURS = (17.0, 21.0)
#: envelope read interval of the aggregator (seed 001 §2.1 telemetry/forecast interval) [min]
FEED_STEP_MIN = 5.0
#: the stages, in order, for progress displays
STAGES = (
    "load SimBench grid and fleet",
    "DSO: envelopes published through the service",
    "aggregator: register, forecast, flexibility, plan",
    "co-simulation: frequency event, OpenADR peak event, envelope drop-out",
    "telemetry into the store",
    "island operation of the outage",
    "exact power flow of the realised day",
    "settlement and business case",
)


@dataclasses.dataclass
class DemoResult:
    """Everything :func:`run_demo` computed (load convention: + = import).

    Attributes
    ----------
    grid_code, day : str
        SimBench grid and simulated day.
    start, end : pandas.Timestamp
        Simulated horizon.
    fleet : openvpp.fleet.Fleet
        The demo fleet.
    plan : openvpp.schedule.Plan
        The day's plan (after the envelopes).
    envelopes : openvpp.envelopes.DayEnvelopes
        The DSO's export envelopes.
    feed : pandas.DataFrame
        The aggregator's envelope reads: per 5 min ``status`` (live / fallback), ``mean_limit_kw``. [kW]
    applied_export_kw : numpy.ndarray, shape (n_sites, n_plan_steps)
        Export limit the plan honours (live envelope or static fallback). [kW]
    forecast : dict
        Day-ahead forecast of the aggregate net load and its skill. [kW]
    flexibility : openvpp.flex.fleet.FleetFlexibility
        Flexibility per CCP at 20:00.
    cosim : openvpp.sim.cosim.CosimResult
        The co-simulation.
    island : object or None
        The island run of the outage (None when the outage is outside the horizon).
    kpis : pandas.DataFrame
        One row per event and KPI: value, bound, within, source, note.
    network_check : openvpp.grid.check.NetworkCheck
        Exact power flow of the realised day.
    soc : dict
        SoC window check (min, max, window, within).
    telemetry : dict
        Readings posted / accepted / stored.
    settlement : openvpp.settlement.Settlement or None
        Baselines, performance, statements, aggregator view.
    economics : dict
        Business case of the fleet (seed 000 Table 4 layout) and the annualised day.
    service : dict
        Store engine, requests, envelopes published, OpenADR event.
    elapsed_s : dict
        Wall time of each stage. [s]
    """

    grid_code: str
    day: str
    start: pd.Timestamp
    end: pd.Timestamp
    fleet: Any
    plan: Any
    envelopes: Any
    feed: pd.DataFrame
    applied_export_kw: NDArray[np.float64]
    forecast: dict[str, Any]
    flexibility: Any
    cosim: Any
    island: Any
    kpis: pd.DataFrame
    network_check: Any
    soc: dict[str, Any]
    telemetry: dict[str, Any]
    settlement: Any
    economics: dict[str, Any]
    service: dict[str, Any]
    elapsed_s: dict[str, float]

    @property
    def counts(self) -> dict[str, int]:
        """Sites and devices per class. [-]"""
        return {"sites": int(self.fleet.n_sites), **{k: int(v) for k, v in self.fleet.count().items()}}

    def summary(self) -> dict[str, Any]:
        """The one-screen summary (standard JSON: NaN and infinities as null)."""
        k = self.kpis
        nc = self.network_check
        st = self.settlement
        out: dict[str, Any] = {
            "grid_code": self.grid_code,
            "day": self.day,
            "horizon": [self.start.isoformat(), self.end.isoformat()],
            "counts": self.counts,
            "service": self.service,
            "kpis": k.to_dict("records"),
            "kpis_within_bounds": bool(k["within"].all()),
            "network": None if nc is None else nc.to_dict(),
            "soc": self.soc,
            "telemetry": self.telemetry,
            "envelope_feed": {
                "fallback_minutes": float((self.feed["status"] == "fallback").sum() * FEED_STEP_MIN),
                "reads": len(self.feed),
            },
            "forecast": self.forecast.get("skill", {}),
            "settlement": None if st is None else _settlement_summary(st),
            "economics": self.economics,
            "elapsed_s": self.elapsed_s,
        }
        return _clean(out)


def _clean(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return float(v) if math.isfinite(float(v)) else None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def _settlement_summary(st: Any) -> dict[str, Any]:
    ev = st.performance.events
    cols = [
        c
        for c in ("event_id", "service", "committed_kw", "delivered_kw", "delivered_kwh", "performance")
        if c in ev.columns
    ]
    pay = st.statements
    total = float(pay["total_usd"].sum()) if "total_usd" in getattr(pay, "columns", ()) else None
    return {
        "events": ev[cols].to_dict("records"),
        "participant_payments_usd": total,
        "participants": len(pay) if hasattr(pay, "__len__") else None,
    }


def _hours(index: pd.DatetimeIndex) -> NDArray[np.float64]:
    return np.asarray(index.hour + index.minute / 60.0, dtype=float)


def _at(day0: pd.Timestamp, hhmm: str) -> pd.Timestamp:
    h, m = (int(x) for x in hhmm.split(":"))
    return day0 + pd.Timedelta(hours=h, minutes=m)


def check_demo_inputs(grid_code: str, day: str, hours: float, seed: int) -> str:
    """Validate the demo's inputs; return the day. Names the CLI flags in every message.

    Parameters
    ----------
    grid_code : str
        SimBench LV grid code (``--grid``).
    day : str
        ``YYYY-MM-DD`` in 2016 (``--day``).
    hours : float
        Simulated hours (``--hours``), in (0, 24]. [h]
    seed : int
        Seed (``--seed``). [-]
    """
    if not isinstance(grid_code, str) or grid_code not in LV_GRIDS:
        raise ValidationError(
            f"--grid must be a SimBench LV grid code (got {grid_code!r}); one of {list(LV_GRIDS)}"
        )
    day = check_simbench_day(day, "--day")
    if not (isinstance(hours, int | float) and math.isfinite(hours) and 0 < hours <= 24):
        raise ValidationError(f"--hours must be in (0, 24] (got {hours!r}); e.g. 4 for a shortened run")
    check_seed(seed)
    d = pd.Timestamp(day)
    if d.dayofyear <= 36:
        raise ValidationError(
            f"--day {day} leaves less than 35 days of history in 2016; pick a day after 2016-02-05"
        )
    return day


def run_demo(
    grid_code: str = DEFAULT_GRID,
    day: str = DEFAULT_DAY,
    *,
    hours: float = 24.0,
    seed: int = 0,
    db_url: str | None = None,
    broker_url: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Run one pilot day of the VPP end to end (module docstring).

    Parameters
    ----------
    grid_code : str
        SimBench LV grid (:data:`openvpp.data.LV_GRIDS`).
    day : str
        Day of the SimBench profile year 2016, ``YYYY-MM-DD``.
    hours : float
        Simulated hours: 24 for the whole day, fewer for a shortened run from 17:00. [h]
    seed : int
        Seed of the fleet top-up and of the communication delays. [-]
    db_url : str, optional
        Store URL (default SQLite in a temporary folder).
    broker_url : str, optional
        ``mqtt://host:port``: telemetry also travels over MQTT through the gateway's bridge.
    progress : callable, optional
        ``progress(stage)`` called as each stage of :data:`STAGES` starts.

    Returns
    -------
    DemoResult
    """
    from openvpp.control.island import run_island_scenario
    from openvpp.fleet import from_simbench
    from openvpp.grid.check import check_day, network_for_sites
    from openvpp.grid.loaders import simbench_lv
    from openvpp.sim.cosim import run_cosim
    from openvpp.sim.scenarios import ResolvedScenario, Scenario
    from openvpp.sim.transport import LinkModel
    from openvpp.studies import pilot_day as pd_
    from openvpp.studies.demo_kpis import event_kpis, soc_check
    from openvpp.studies.demo_service import demo_service
    from openvpp.studies.pilot import cpf_nominal

    day = check_demo_inputs(grid_code, day, hours, seed)
    if db_url is not None:
        from openvpp.studies.demo_service import check_db_url

        check_db_url(db_url)
    if broker_url is not None:
        from openvpp.platform.gateway.topics import parse_broker_url

        parse_broker_url(broker_url)
    elapsed: dict[str, float] = {}
    stage_iter = iter(STAGES)
    t_stage: dict[str, Any] = {"t": time.perf_counter(), "name": ""}

    def stage() -> None:
        now = time.perf_counter()
        if t_stage["name"]:
            elapsed[t_stage["name"]] = now - t_stage["t"]
        name = next(stage_iter)
        t_stage.update(t=now, name=name)
        if progress is not None:
            progress(name)

    stage()
    fleet = from_simbench(grid_code, seed=seed)
    network = network_for_sites(simbench_lv(grid_code), fleet.sites.site_id)
    trafo_kw = float(mw_to_kw(load_simbench_lv(grid_code).trafo["sn_mva"].sum()))
    assert fleet.profiles is not None  # from_simbench always attaches the year's profiles
    index = fleet.profiles.index[day_slice(fleet.profiles.index, day)]
    day0 = index[0]
    if hours >= 24:
        start, end = day0, day0 + pd.Timedelta(days=1)
    else:
        start = _at(day0, SHORT_START)
        end = min(start + pd.Timedelta(hours=float(hours)), day0 + pd.Timedelta(days=1))
    plan0 = pd_.stacked_plan(fleet, day, CPF_PLUS_HOURS)
    history = pd_.history(fleet, day, pd_.HISTORY_DAYS)
    with demo_service(db_url) as svc:
        stage()
        envelopes = pd_.dso_envelopes(fleet, plan0, trafo_kw)
        site_ids = [str(s) for s in fleet.sites.site_id]
        sites_api, ders_api = svc.register_fleet(site_ids, pd_.der_frame(fleet), *pd_.feeder_location(fleet))
        api_site_list = [sites_api[s] for s in site_ids]
        n_env = svc.publish_envelopes(api_site_list, envelopes.index, np.asarray(envelopes.site_export_kw))
        stage()
        lost = (
            _at(day0, EVENTS["envelope_feed_lost"][0]),
            _at(day0, EVENTS["envelope_feed_lost"][0])
            + pd.Timedelta(minutes=EVENTS["envelope_feed_lost"][1]),
        )
        feed, applied = pd_.envelope_feed(svc, api_site_list, plan0.index, start, end, lost, FEED_STEP_MIN)
        plan = pd_.honour_envelopes(plan0, applied)
        forecast = pd_.day_forecast(fleet, history, index)
        from openvpp.flex import fleet_flexibility

        flexibility = fleet_flexibility(fleet, f"{day} {EVENTS['peak_reduction'][0]}", strip=False)
        stage()
        f0 = float(cpf_nominal())
        peak_start = _at(day0, EVENTS["peak_reduction"][0])
        peak_kw = float(
            plan.reserve_up_kw[plan.services.index("peak"), :, plan.index.get_indexer([peak_start])[0]].sum()
        )
        vtn_event = svc.publish_peak_event(peak_start, EVENTS["peak_reduction"][1] / 60.0, -peak_kw)
        instructions = pd_.aggregator_instructions(svc.read_events(), site_ids)
        uf_start = _at(day0, EVENTS["under_frequency"][0]) - pd.Timedelta(minutes=1)
        sc = Scenario.from_dict(
            {
                "name": "pilot-day",
                "frequency": {
                    "start": uf_start.strftime("%H:%M:%S"),
                    "t_s": [0, 60, 64, 660, 720, 900],
                    "df_hz": [0.0, 0.0, -0.3, -0.3, 0.0, 0.0],
                },
                "outages": [
                    {
                        "id": "outage-1",
                        "section": "auto",
                        "start": EVENTS["outage"][0] + ":00",
                        "duration_h": EVENTS["outage"][1] / 60.0,
                    }
                ],
            }
        ).resolve(plan, day0, f0)
        in_h = [i for i in instructions if start <= i.start < end]
        trace = sc.trace if sc.trace is not None and start <= sc.trace.start < end else None
        scenario = ResolvedScenario("pilot-day", trace, tuple(in_h), sc.outages)
        cosim = run_cosim(plan, scenario, link=LinkModel(), seed=seed, start=start, end=end)
        stage()
        telemetry = pd_.post_telemetry(svc, cosim, plan, ders_api, feed, broker_url)
        svc_info = {
            "store": "postgresql" if svc.db_url.startswith("postgresql") else "sqlite",
            "broker": broker_url,
            "requests": svc.requests,
            "envelopes_published": n_env,
            "openadr_event": vtn_event.get("id"),
            "openadr_event_name": vtn_event.get("eventName"),
        }
    stage()
    outage = sc.outages[0]
    island = None
    if start <= outage.start < end:
        # the island starts from the batteries' realised state of charge, not the plan's
        island_plan, island_soc0 = pd_.plan_with_realised_soc(plan, cosim, outage.start)
        island = run_island_scenario(fleet, island_plan, sc.outages, grid=grid_code, network=network)
    stage()
    realised = cosim.site_p_avg_kw
    network_check = check_day(network, realised)
    stage()
    settlement = pd_.settle_day(fleet, plan, cosim, history, instructions, trace, start, end)
    economics = pd_.business_case(fleet, settlement)
    peak_end = instructions[0].end if instructions else None
    kpis = event_kpis(
        cosim,
        island,
        feed,
        lost,
        network_check,
        applied,
        plan.index,
        peak_end,
        island_soc0 if island is not None else None,
    )
    soc = soc_check(cosim, plan)
    elapsed[t_stage["name"]] = time.perf_counter() - t_stage["t"]
    return DemoResult(
        grid_code=grid_code,
        day=day,
        start=start,
        end=end,
        fleet=fleet,
        plan=plan,
        envelopes=envelopes,
        feed=feed,
        applied_export_kw=applied,
        forecast=forecast,
        flexibility=flexibility,
        cosim=cosim,
        island=island,
        kpis=kpis,
        network_check=network_check,
        soc=soc,
        telemetry=telemetry,
        settlement=settlement,
        economics=economics,
        service=svc_info,
        elapsed_s=elapsed,
    )
