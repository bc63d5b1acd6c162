"""The stages of ``openvpp demo`` (one pilot day, seed 000 §9) as plain functions over the library's objects.

:func:`openvpp.studies.demo.run_demo` calls them in order; each one composes the library (envelopes, forecast,
plan, OpenADR signals, telemetry, settlement, economics) and re-implements none of it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openvpp.data import day_slice
from openvpp.errors import OpenVPPError

__all__ = [
    "HISTORY_DAYS",
    "aggregator_instructions",
    "business_case",
    "day_forecast",
    "der_frame",
    "dso_envelopes",
    "envelope_feed",
    "feeder_location",
    "history",
    "honour_envelopes",
    "plan_with_realised_soc",
    "post_telemetry",
    "settle_day",
    "stacked_plan",
]

#: days of metered history before the demo day (baselines: 10-of-10 business days, forecasts: 4 weeks)
HISTORY_DAYS = 35
#: ramp of the peak-reduction instruction read from the OpenADR event (bundled peak scenario) [s]
PEAK_RAMP_S = 60.0
_EPS = 1e-6


def stacked_plan(fleet: Any, day: str, cpf_plus_hours: tuple[float, float]) -> Any:
    """The day's plan: the capacity allocation of seed 000 §6.1.2 with CPF+ held only in its Table 1 block.

    :func:`openvpp.studies.pilot.pilot_plan` holds 50 % of each battery's power for CPF+ / CPF- all day, 30 %
    for peak reduction 20:00-22:00 (the remaining 20 % is the resilience reserve of the island); here CPF+ is
    committed only within ``cpf_plus_hours`` (seed 000 Table 1: 17:01-21:00).

    Parameters
    ----------
    fleet : openvpp.fleet.Fleet
        Fleet with SimBench profiles.
    day : str
        ``YYYY-MM-DD``.
    cpf_plus_hours : tuple of float
        Start and end hour of the CPF+ block. [h]

    Returns
    -------
    openvpp.schedule.Plan
    """
    from openvpp.studies.pilot import pilot_plan

    plan = pilot_plan(fleet, day)
    h = np.asarray(plan.index.hour + plan.index.minute / 60.0, dtype=float)
    block = (h >= cpf_plus_hours[0]) & (h < cpf_plus_hours[1])
    up = plan.reserve_up_kw.copy()
    up[plan.services.index("cpf_plus")] *= block[None, :]
    meta = {**plan.meta, "method": "seed 000 §6.1.2 capacity allocation, CPF+ in its Table 1 block"}
    return dataclasses.replace(plan, reserve_up_kw=up, meta=meta)


def _site_pv_kw(fleet: Any, sl: slice) -> NDArray[np.float64]:
    """PV generation per site as the pilot plan models it (profile x kWp, clipped to the inverter). [kW]"""
    out = np.zeros((fleet.n_sites, sl.stop - sl.start))
    if not fleet.has("pv"):
        return out
    pv = fleet.der("pv")
    avail = np.minimum(
        np.maximum(fleet.profiles["pv_pu"][:, sl], 0.0) * np.asarray(pv.p_dc_kwp)[:, None],
        np.asarray(pv.p_ac_kw)[:, None],
    )
    np.add.at(out, fleet.site_positions("pv"), avail)
    return out


def history(fleet: Any, day: str, n_days: int) -> dict[str, Any]:
    """Metered history of the ``n_days`` before ``day``: site consumption, PV and net load.

    Parameters
    ----------
    fleet : openvpp.fleet.Fleet
        Fleet with SimBench profiles.
    day : str
        The demo day.
    n_days : int
        Days of history. [d]

    Returns
    -------
    dict
        ``index``, ``load_kw``, ``pv_kw``, ``net_kw`` (n_sites, n_steps). [kW]
    """
    idx = fleet.profiles.index
    d = day_slice(idx, day)
    per_day = d.stop - d.start
    sl = slice(d.start - n_days * per_day, d.stop)
    if sl.start < 0:
        raise OpenVPPError(f"--day {day} has fewer than {n_days} days of history in the profile year")
    load = np.maximum(fleet.site_profile("base_load_kw", 0.0)[:, sl], 0.0)
    for name in ("heatpump_kw", "ev_kw"):
        if name in fleet.profiles:
            load = load + np.maximum(fleet.site_profile(name, 0.0)[:, sl], 0.0)
    pv = _site_pv_kw(fleet, sl)
    return {"index": idx[sl], "load_kw": load, "pv_kw": pv, "net_kw": load - pv, "n_hist": n_days * per_day}


def dso_envelopes(fleet: Any, plan: Any, trafo_kw: float) -> Any:
    """The DSO's export envelopes of the day (seed 001 §2.2; the transformer rating as the node limit).

    Parameters
    ----------
    fleet : openvpp.fleet.Fleet
        The fleet.
    plan : openvpp.schedule.Plan
        The plan before envelopes (its site power is the modelled net demand).
    trafo_kw : float
        Reverse-flow limit of the constraint node. [kW]
    """
    from openvpp.envelopes import fleet_day_envelopes

    return fleet_day_envelopes(fleet, plan.site_p_kw, plan.index, trafo_kw)


def der_frame(fleet: Any) -> pd.DataFrame:
    """One row per device for the service's registry: device_id, site_id, der_class, p_max_kw, e_max_kwh.

    Parameters
    ----------
    fleet : openvpp.fleet.Fleet
        The fleet.
    """
    rows = []
    site_ids = np.asarray(fleet.sites.site_id).astype(str)
    for cls in fleet.count():
        t = fleet.der(cls)
        pos = fleet.site_positions(cls)
        if cls == "battery":
            p = np.asarray(t.p_discharge_max_kw, float)
        elif cls == "pv":
            p = np.asarray(t.p_ac_kw, float)
        else:
            p = np.asarray(t.p_max_kw, float)
        e = np.asarray(t.e_max_kwh, float) if cls in ("battery", "ev") else np.full(t.n, np.nan)
        rows.append(
            pd.DataFrame(
                {
                    "device_id": np.asarray(t.device_id).astype(str),
                    "site_id": site_ids[pos],
                    "der_class": cls,
                    "p_max_kw": p,
                    "e_max_kwh": e,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def feeder_location(fleet: Any) -> tuple[float, float]:
    """Latitude and longitude of the feeder: mean of its PV systems. [deg]

    Parameters
    ----------
    fleet : openvpp.fleet.Fleet
        The fleet.
    """
    if fleet.has("pv"):
        pv = fleet.der("pv")
        return float(np.mean(pv.latitude_deg)), float(np.mean(pv.longitude_deg))
    return 51.0, 10.0


def envelope_feed(
    svc: Any,
    api_sites: Sequence[str],
    plan_index: pd.DatetimeIndex,
    start: pd.Timestamp,
    end: pd.Timestamp,
    lost: tuple[pd.Timestamp, pd.Timestamp],
    step_min: float,
) -> tuple[pd.DataFrame, NDArray[np.float64]]:
    """The aggregator reads its envelopes every ``step_min``; while the feed is lost it uses the static limit.

    Seed 001 §2.1: the aggregator reverts to the static default export limit when the DSO's API cannot be
    reached, and returns to the dynamic envelope when it can. The read in ``lost`` fails (the link is down);
    the first read after it recovers.

    Parameters
    ----------
    svc : openvpp.studies.demo_service.DemoService
        The running service.
    api_sites : sequence of str
        Service site ids in fleet order.
    plan_index : pandas.DatetimeIndex
        Plan steps.
    start, end : pandas.Timestamp
        Horizon.
    lost : tuple of pandas.Timestamp
        Interval in which the feed cannot be reached.
    step_min : float
        Read interval. [min]

    Returns
    -------
    feed : pandas.DataFrame
        Per read: ``status`` (live / fallback), ``mean_limit_kw``, ``min_limit_kw``. [kW]
    applied : numpy.ndarray, shape (n_sites, n_plan_steps)
        Tightest limit read in each plan step (inf outside the horizon). [kW]
    """
    static_kw = svc.static_export_limit_kw()
    times = pd.date_range(start, end, freq=pd.Timedelta(minutes=step_min), inclusive="left")
    limits = np.empty((len(api_sites), len(times)))
    status = []
    for j, t in enumerate(times):
        if lost[0] <= t < lost[1]:
            limits[:, j] = static_kw  # the request cannot reach the service: DefaultDERControl applies
            status.append("fallback")
            continue
        got = svc.read_envelopes(api_sites, t)
        limits[:, j] = np.where(np.isnan(got), static_kw, got)
        status.append("live" if np.all(np.isfinite(got)) else "fallback")
    feed = pd.DataFrame(
        {"status": status, "mean_limit_kw": limits.mean(axis=0), "min_limit_kw": limits.min(axis=0)},
        index=times,
    )
    step = plan_index[1] - plan_index[0]
    k = ((times - plan_index[0]) // step).to_numpy().astype(np.int64)
    applied = np.full((len(api_sites), len(plan_index)), np.inf)
    for j in range(len(times)):  # one read per 5 min: at most 288 columns
        applied[:, k[j]] = np.minimum(applied[:, k[j]], limits[:, j])
    return feed, applied


def honour_envelopes(plan: Any, export_limit_kw: NDArray[np.float64]) -> Any:
    """Curtail PV in the plan where a site would export above its envelope (seed 001 §2.2, §2.1).

    Parameters
    ----------
    plan : openvpp.schedule.Plan
        The plan.
    export_limit_kw : numpy.ndarray, shape (n_sites, n_steps)
        Export limit per site and step (inf: none). [kW]

    Returns
    -------
    openvpp.schedule.Plan
        With PV baselines and their lower bounds raised by the curtailment, site power and export limits.
    """
    excess = np.maximum(-plan.site_p_kw - export_limit_kw, 0.0)
    pv = plan.device_class == "pv"
    site = plan.site_of_device
    gen = np.where(pv[:, None], -plan.p_baseline_kw, 0.0)
    site_gen = np.zeros_like(plan.site_p_kw)
    np.add.at(site_gen, site, gen)
    share = np.divide(gen, site_gen[site], out=np.zeros_like(gen), where=site_gen[site] > _EPS)
    cut = np.minimum(share * excess[site], gen)
    base = plan.p_baseline_kw + cut
    p_min = np.where(pv[:, None], np.maximum(plan.p_min_kw, base), plan.p_min_kw)
    site_cut = np.zeros_like(plan.site_p_kw)
    np.add.at(site_cut, site, cut)
    meta = {**plan.meta, "pv_curtailed_kwh": float(cut.sum() * plan.dt_h)}
    return dataclasses.replace(
        plan,
        p_baseline_kw=base,
        p_min_kw=p_min,
        site_p_kw=plan.site_p_kw + site_cut,
        site_export_limit_kw=np.asarray(export_limit_kw, float),
        meta=meta,
    )


def day_forecast(fleet: Any, hist: dict[str, Any], index: pd.DatetimeIndex) -> dict[str, Any]:
    """Day-ahead P10/P50/P90 of the aggregate net load from the history, and its skill on the day.

    Load: weekly profile of the last 4 weeks; PV: clear sky x clear-sky index of the last 28 days
    (:mod:`openvpp.forecast`). The skill compares the P50 with the day's modelled net load.

    Parameters
    ----------
    fleet : openvpp.fleet.Fleet
        The fleet.
    hist : dict
        Output of :func:`history` (the last day of it is the demo day). [kW]
    index : pandas.DatetimeIndex
        The day's steps.

    Returns
    -------
    dict
        ``p10_kw``, ``p50_kw``, ``p90_kw``, ``actual_kw`` (aggregate, shape (n_steps,)), ``skill``. [kW]
    """
    from openvpp.forecast import forecast_load, forecast_pv

    n = hist["n_hist"]
    h_idx = hist["index"][:n]
    load = forecast_load(hist["load_kw"][:, :n], h_idx, index, n_weeks=4)
    lat, lon = feeder_location(fleet)
    kwp = np.zeros(fleet.n_sites)
    if fleet.has("pv"):
        np.add.at(kwp, fleet.site_positions("pv"), np.asarray(fleet.der("pv").p_dc_kwp, float))
    has = kwp > 0
    pv_q = {q: np.zeros((fleet.n_sites, len(index))) for q in ("p10_kw", "p50_kw", "p90_kw")}
    if has.any():
        f = forecast_pv(hist["pv_kw"][has, :n], h_idx, index, kwp=kwp[has], latitude=lat, longitude=lon)
        for q in pv_q:
            pv_q[q][has] = getattr(f, q)
    # net = load - pv: low net with low load and high PV
    p10 = load.p10_kw.sum(axis=0) - pv_q["p90_kw"].sum(axis=0)
    p50 = load.p50_kw.sum(axis=0) - pv_q["p50_kw"].sum(axis=0)
    p90 = load.p90_kw.sum(axis=0) - pv_q["p10_kw"].sum(axis=0)
    actual = hist["net_kw"][:, n:].sum(axis=0)
    err = p50 - actual
    scale = float(np.mean(np.abs(actual))) or 1.0
    skill = {
        "mae_kw": float(np.mean(np.abs(err))),
        "rmse_kw": float(np.sqrt(np.mean(err**2))),
        "nmae": float(np.mean(np.abs(err)) / scale),
        "p10_p90_coverage": float(np.mean((actual >= p10 - _EPS) & (actual <= p90 + _EPS))),
    }
    return {"index": index, "p10_kw": p10, "p50_kw": p50, "p90_kw": p90, "actual_kw": actual, "skill": skill}


def aggregator_instructions(events: Sequence[dict[str, Any]], site_ids: Sequence[str]) -> list[Any]:
    """The OpenADR 3.1 events the aggregator read, as controller instructions (``event_signals``).

    Parameters
    ----------
    events : sequence of dict
        Events as the VTN returned them.
    site_ids : sequence of str
        The fleet's sites.
    """
    from openvpp.platform.gateway.openadr_signals import event_signals

    out: list[Any] = []
    for e in events:
        out.extend(event_signals(e, site_ids, ramp_s=PEAK_RAMP_S).signals().instructions)
    return out


def post_telemetry(
    svc: Any, cosim: Any, plan: Any, ders_api: dict[str, str], feed: pd.DataFrame, broker_url: str | None
) -> dict[str, Any]:
    """Post the co-simulation's 5-min telemetry (seed 001 §2.1) to the store through ``/v1/telemetry``.

    One reading per DER and interval: its site's average / minimum / maximum power, its own power, its SoC
    (storage), and whether the envelope client was on the static fallback limit.

    Parameters
    ----------
    svc : openvpp.studies.demo_service.DemoService
        The running service.
    cosim : openvpp.sim.cosim.CosimResult
        The co-simulation.
    plan : openvpp.schedule.Plan
        The plan (device order).
    ders_api : dict
        Fleet device id -> service DER id.
    feed : pandas.DataFrame
        Envelope reads (:func:`envelope_feed`).
    broker_url : str, optional
        ``mqtt://host:port``: the readings travel over MQTT through the gateway's bridge instead of HTTP.

    Returns
    -------
    dict
        posted, accepted, duplicates, rejected, flagged, stored (read back for one DER). [-]
    """
    times = cosim.telemetry_index
    fb = feed["status"].reindex(times, method="ffill").fillna("live").to_numpy() == "fallback"
    stamps = [t.tz_convert("UTC").isoformat() for t in times]
    readings = []
    site = plan.site_of_device
    for d, dev in enumerate(plan.device_ids):
        api = ders_api.get(str(dev))
        if api is None:
            continue
        s = site[d]
        for j, t in enumerate(stamps):
            r: dict[str, Any] = {
                "der_id": api,
                "start": t,
                "interval_s": 300,
                "p_site_avg_kw": round(float(cosim.site_p_avg_kw[s, j]), 4),
                "p_site_min_kw": round(float(cosim.site_p_min_kw[s, j]), 4),
                "p_site_max_kw": round(float(cosim.site_p_max_kw[s, j]), 4),
                "p_der_kw": round(float(cosim.p_device_kw[d, j]), 4),
                "envelope_fallback": bool(fb[j]),
            }
            soc = cosim.soc[d, j]
            if math.isfinite(soc):
                r["soc"] = round(float(np.clip(soc, 0.0, 1.0)), 6)
            readings.append(r)
    # order-preserving min / max: a 5-min min can exceed the average only through rounding
    for r in readings:
        r["p_site_min_kw"] = min(r["p_site_min_kw"], r["p_site_avg_kw"])
        r["p_site_max_kw"] = max(r["p_site_max_kw"], r["p_site_avg_kw"])
    first = next(iter(ders_api.values()))
    if broker_url is None:
        tot = svc.post_telemetry(readings)
        path = "http /v1/telemetry"
    else:
        rows = [d for d, dev in enumerate(plan.device_ids) if str(dev) in ders_api]
        der_ids = [ders_api[str(plan.device_ids[d])] for d in rows]
        sites = [svc.site_ids[str(plan.site_ids[site[d]])] for d in rows]
        m = svc.post_telemetry_mqtt(
            broker_url, times, der_ids, sites, cosim.p_device_kw[rows], np.clip(cosim.soc[rows], 0.0, 1.0), fb
        )
        tot = {
            "accepted": m["accepted"],
            "duplicates": m["received"] - m["accepted"],
            "rejected": 0,
            "flagged": 0,
        }
        path = "mqtt gateway -> bridge -> store"
        readings = readings[: m["published"]]
    return {
        "posted": len(readings),
        **tot,
        "stored_first_der": svc.stored_readings(first),
        "intervals": len(stamps),
        "path": path,
    }


def settle_day(
    fleet: Any,
    plan: Any,
    cosim: Any,
    hist: dict[str, Any],
    instructions: Sequence[Any],
    trace: Any,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> Any:
    """Settle the day's events from metered data (seed 000 §4, §6.1 Table 2; :func:`~settle`).

    Meter data: the history, and on the demo day the co-simulation's 5-min site power averaged to the
    15-min settlement step inside the horizon (the plan's site power outside it, where nothing happens).

    Parameters
    ----------
    fleet : openvpp.fleet.Fleet
        The fleet.
    plan : openvpp.schedule.Plan
        The plan.
    cosim : openvpp.sim.cosim.CosimResult
        The co-simulation.
    hist : dict
        :func:`history`. [kW]
    instructions : sequence of Instruction
        The peak-reduction instruction(s).
    trace : FrequencyTrace or None
        The frequency event (settled as CPF+).
    start, end : pandas.Timestamp
        Horizon.

    Returns
    -------
    openvpp.settlement.Settlement or None
        None when no event falls in the horizon.
    """
    from openvpp.settlement import events_from_frame, load_program, settle, telemetry_from_long

    n = hist["n_hist"]
    day_p = plan.site_p_kw.copy()
    step = plan.index[1] - plan.index[0]
    per = int(step / pd.Timedelta(seconds=300))
    k0 = int((cosim.telemetry_index[0] - plan.index[0]) / step)
    n_full = len(cosim.telemetry_index) // per
    if n_full:
        avg = cosim.site_p_avg_kw[:, : n_full * per].reshape(plan.n_sites, n_full, per).mean(axis=2)
        day_p[:, k0 : k0 + n_full] = avg
    p = np.concatenate([hist["net_kw"][:, :n], day_p], axis=1)
    idx = hist["index"]
    site_ids = np.asarray(fleet.sites.site_id).astype(str)
    cls = np.full(fleet.n_sites, "control", dtype=object)
    for c in ("heatpump", "ev", "battery"):  # the class settled at a site: battery first
        if fleet.has(c):
            cls[fleet.site_positions(c)] = c
    frame = pd.DataFrame(
        {
            "site_id": np.repeat(site_ids, len(idx)),
            "time": np.tile(idx, len(site_ids)),
            "p_kw": p.ravel(),
            "device_class": np.repeat(cls, len(idx)),
        }
    )
    tz = str(idx.tz)
    program = load_program("chile")
    program = program.model_copy(update={"timezone": tz})
    tel = telemetry_from_long(frame, tz=tz)
    bat_sites = list(site_ids[cls == "battery"])
    rows = []
    for ins in instructions:
        if start <= ins.start < end:
            rows.append(
                {
                    "event_id": f"peak-reduction-{ins.start.tz_convert(tz):%H%M}",
                    "service": "peak_reduction",
                    "start": ins.start,
                    "end": min(ins.end, end),
                    "committed_kw": abs(float(ins.delta_kw)),
                    "site_ids": list(bat_sites),
                }
            )
    if trace is not None:
        t0 = trace.start.floor(step) + step * 2  # the dip starts 1 min into the trace: the 18:30 interval
        committed = float(plan.reserve_up_kw[plan.services.index("cpf_plus")].max(axis=1).sum())
        resp = -cosim.series["freq_request_kw"]
        share = float(resp.max() / committed) if committed > 0 else 0.0
        rows.append(
            {
                "event_id": "cpf-plus-1830",
                "service": "cpf_plus",
                "start": t0 - step,
                "end": t0,
                "committed_kw": committed * share,
                "site_ids": list(bat_sites),
            }
        )
    if not rows or not bat_sites:
        return None
    for r in rows:  # one zone for every stamp (the VTN answers in UTC, the trace is local)
        r["start"] = pd.Timestamp(r["start"]).tz_convert(tz).isoformat()
        r["end"] = pd.Timestamp(r["end"]).tz_convert(tz).isoformat()
    events = events_from_frame(pd.DataFrame(rows), tz=tz)
    return settle(tel, events, program)


def business_case(fleet: Any, settlement: Any) -> dict[str, Any]:
    """The fleet's annual business case in the layout of seed 000 Table 4 and the day's settled money.

    Parameters
    ----------
    fleet : openvpp.fleet.Fleet
        The fleet.
    settlement : openvpp.settlement.Settlement or None
        The day's settlement.

    Returns
    -------
    dict
        ``table4`` rows (p_mw, revenue, cost, profit per year) and ``day`` (participant payments, market
        revenue, margin of the day and x 365). [MW], [USD], [USD/yr]
    """
    from openvpp.economics.business import summary_for_fleet

    c = fleet.count()
    case = summary_for_fleet(
        n_batteries=c.get("battery", 0), n_ev=c.get("ev", 0), n_hp=c.get("heatpump", 0), site="lampa"
    )
    table = case.table()
    out: dict[str, Any] = {
        "source": "seed 000 §6.1.2 Table 4 (Lampa prices), openvpp.economics.business",
        "table4": {
            str(i): {k: float(v) for k, v in row.items() if isinstance(v, int | float | np.number)}
            for i, row in table.iterrows()
        },
    }
    if settlement is not None:
        agg = settlement.aggregator
        num = agg.select_dtypes("number").sum()
        out["day"] = {k: float(v) for k, v in num.items()}
    return out


def plan_with_realised_soc(plan: Any, cosim: Any, at: pd.Timestamp) -> tuple[Any, float]:
    """The plan with its SoC at ``at`` replaced by the co-simulation's (the island starts from what is left).

    Parameters
    ----------
    plan : openvpp.schedule.Plan
        The plan.
    cosim : openvpp.sim.cosim.CosimResult
        The co-simulation covering ``at``.
    at : pandas.Timestamp
        Instant (the outage's start).

    Returns
    -------
    plan : openvpp.schedule.Plan
        The plan with the realised SoC in the step of ``at``.
    soc_mean : float
        Mean realised SoC of the batteries at ``at``. [-]
    """
    j = int(cosim.telemetry_index.searchsorted(at, side="right")) - 1
    k = int(plan.index.searchsorted(at, side="right")) - 1
    soc = plan.soc_baseline.copy()
    real = cosim.soc[:, max(j, 0)]
    bat = np.isfinite(real) & np.isfinite(plan.e_max_kwh)
    soc[bat, k] = real[bat]
    mean = float(real[bat].mean()) if bat.any() else float("nan")
    return dataclasses.replace(plan, soc_baseline=soc), mean
