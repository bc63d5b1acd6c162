"""What the dashboard shows, read from the store with the API's tenant filter, aggregated in SQL.

Every function takes the caller's :class:`~openvpp.platform.api.auth.Principal` and filters through
:func:`~openvpp.platform.api.auth.tenant_scoped` / :func:`~openvpp.platform.api.auth.visible_envelopes` (the
one tenant rule of the service): an aggregator sees its own fleet and the envelopes of its own sites and
nodes; the DSO sees every registration and what it published. Series are aggregated in the database (one
row per interval) and downsampled on the server (:func:`downsample`) so that a page stays small whatever
the fleet size and period.

Sign convention: site and fleet powers are in the load convention (+ = import from the grid); an export
limit is a non-negative number of kW that the export (``-p``) must not exceed.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from openvpp.envelopes.objects import decode_active_power
from openvpp.platform.api.auth import Principal, tenant_scoped, visible_envelopes
from openvpp.platform.api.openadr.common import Client, granted_targets, visible_targets
from openvpp.platform.store.models import (
    Der,
    DispatchInstruction,
    Envelope,
    NodeMapping,
    Plan,
    Site,
    Telemetry,
    TelemetryFlag,
)
from openvpp.platform.store.openadr import OadrEvent, OadrProgram, OadrReport
from openvpp.units import MIN_PER_H, S_PER_H, W_PER_KW

__all__ = [
    "MAX_POINTS",
    "ONLINE_WINDOW_S",
    "PER_PAGE",
    "Series",
    "downsample",
    "events_view",
    "fleet_power_recent",
    "network_view",
    "overview",
    "site_detail",
    "site_page",
]

#: a DER is online when its last telemetry interval started at most this long ago [s]
ONLINE_WINDOW_S = 15 * 60
#: largest number of points a chart receives [-]
MAX_POINTS = 600
#: rows per page of the site list [-]
PER_PAGE = 50
#: a limit binds when the flow reaches this share of it [-]
BINDING_SHARE = 0.98
DAY_S = 86_400


@dataclass
class Series:
    """A time series for a chart, already downsampled: bucket start, mean, min and max.

    Parameters
    ----------
    t_s : list of int
        Start of each bucket, Unix time. [s]
    mean, low, high : list of float or None
        Mean, minimum and maximum of the values in each bucket (None where none). [unit of the series]
    unit : str
        Unit of the values.
    """

    t_s: list[int] = field(default_factory=list)
    mean: list[float | None] = field(default_factory=list)
    low: list[float | None] = field(default_factory=list)
    high: list[float | None] = field(default_factory=list)
    unit: str = "kW"

    def to_dict(self) -> dict[str, Any]:
        """The series as JSON-ready lists."""
        return {"t_s": self.t_s, "mean": self.mean, "low": self.low, "high": self.high, "unit": self.unit}


def downsample(t_s: ArrayLike, y: ArrayLike, max_points: int = MAX_POINTS, unit: str = "kW") -> Series:
    """Bucket a series into at most ``max_points`` equal-count buckets, keeping mean, min and max of each.

    Min and max keep the peaks a plain mean would hide (a 1-min export spike in a month of data still shows).

    Parameters
    ----------
    t_s : array_like of int, shape (n,)
        Sorted Unix times. [s]
    y : array_like of float, shape (n,)
        Values; NaN is a missing value. [unit]
    max_points : int
        Largest number of buckets. [-]
    unit : str
        Unit of ``y``, carried to the chart.

    Returns
    -------
    Series
    """
    t = np.asarray(t_s, dtype=np.int64)
    v = np.asarray(y, dtype=float)
    if t.size == 0:
        return Series(unit=unit)
    k = max(1, math.ceil(t.size / max(1, int(max_points))))
    starts = np.arange(0, t.size, k)
    finite = np.isfinite(v)
    filled = np.where(finite, v, 0.0)
    counts = np.add.reduceat(finite.astype(np.int64), starts)
    sums = np.add.reduceat(filled, starts)
    lows = np.minimum.reduceat(np.where(finite, v, np.inf), starts)
    highs = np.maximum.reduceat(np.where(finite, v, -np.inf), starts)

    def clean(a: NDArray[np.float64]) -> list[float | None]:
        return [
            None if (c == 0 or not np.isfinite(x)) else round(float(x), 4)
            for x, c in zip(a, counts, strict=True)
        ]

    mean = np.divide(sums, counts, out=np.full(sums.shape, np.nan), where=counts > 0)
    return Series(t.tolist()[::k], clean(mean), clean(lows), clean(highs), unit)


def _day_start(now_s: int) -> int:
    return now_s - now_s % DAY_S


def _site_power_by_interval(
    session: Session, principal: Principal, start_s: int, end_s: int, site_ids: Any = None
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Sum over sites of the site meter power per interval (one reading per site and interval). [kW]"""
    per_site = (
        select(
            Der.site_id.label("site"),
            Telemetry.start_s.label("t"),
            func.avg(Telemetry.p_site_avg_kw).label("p"),
        )
        .join(Der, Der.pk == Telemetry.der_pk)
        .where(Telemetry.start_s >= start_s, Telemetry.start_s < end_s, Telemetry.p_site_avg_kw.is_not(None))
        .group_by(Der.site_id, Telemetry.start_s)
    )
    per_site = tenant_scoped(per_site, principal, Der)
    if site_ids is not None:
        per_site = per_site.where(Der.site_id.in_(site_ids))
    sub = per_site.subquery()
    rows = session.execute(select(sub.c.t, func.sum(sub.c.p)).group_by(sub.c.t).order_by(sub.c.t)).all()
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    arr = np.asarray(rows, dtype=float)
    return arr[:, 0].astype(np.int64), arr[:, 1]


_CACHE: dict[tuple[Any, ...], tuple[float, NDArray[np.int64], NDArray[np.float64]]] = {}
_CACHE_LOCK = threading.Lock()
#: the day's fleet power is recomputed in full at most this often; newer intervals at every call [s]
FULL_REFRESH_S = 60.0
#: intervals recomputed at every call (late readings of the last minutes are taken in) [-]
FRESH_INTERVALS = 3
#: monitoring interval the fresh window is counted in (seed 001 §2.1: 5 min) [s]
STEP_GUESS_S = 300


def fleet_power_recent(
    session: Session, principal: Principal, now_s: int | None = None
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The caller's fleet power per interval over the last 24 hours, each site counted once. [kW]

    The whole window is read at most every :data:`FULL_REFRESH_S` seconds per store and tenant; in between,
    only the last :data:`FRESH_INTERVALS` intervals are read again and merged (and intervals older than 24 h
    dropped), so a page polled every few seconds costs a small indexed read. The cache lives in the process
    (each API worker has its own).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Open store session.
    principal : Principal
        The caller.
    now_s : int, optional
        Unix time (default now). [s]

    Returns
    -------
    (t_s, p_kw) : tuple of numpy.ndarray
        Interval starts [s] and fleet power (load convention) [kW].
    """
    now = int(time.time()) if now_s is None else int(now_s)
    start = now - DAY_S
    bind: Any = session.get_bind()
    key = (str(getattr(bind, "engine", bind).url), principal.tenant_id, principal.is_dso)
    wall = time.monotonic()
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
    if hit is None or wall - hit[0] > FULL_REFRESH_S:
        t, p = _site_power_by_interval(session, principal, start, now + DAY_S)
        with _CACHE_LOCK:
            _CACHE[key] = (wall, t, p)
        return t, p
    _, t_old, p_old = hit
    since = now - now % STEP_GUESS_S - STEP_GUESS_S * (FRESH_INTERVALS - 1)
    if t_old.size:
        since = min(since, int(t_old[-1]))
    t_new, p_new = _site_power_by_interval(session, principal, since, now + DAY_S)
    keep = (t_old < since) & (t_old >= start)
    return np.concatenate([t_old[keep], t_new]), np.concatenate([p_old[keep], p_new])


def _event_start(body: dict[str, Any]) -> dt.datetime | None:
    period = (body or {}).get("intervalPeriod") or {}
    start = period.get("start")
    if start is None:
        for interval in (body or {}).get("intervals") or []:
            start = (interval.get("intervalPeriod") or {}).get("start")
            if start is not None:
                break
    if start is None:
        return None
    try:
        t = dt.datetime.fromisoformat(str(start).replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _visible_events(session: Session, principal: Principal) -> list[tuple[OadrEvent, OadrProgram]]:
    rows = session.execute(
        select(OadrEvent, OadrProgram)
        .join(OadrProgram, OadrProgram.id == OadrEvent.program_id)
        .order_by(OadrEvent.created.desc())
        .limit(500)
    ).all()
    if principal.is_dso:
        return [(e, p) for e, p in rows if e.tenant_id == principal.tenant_id]
    granted = (
        granted_targets(session, Client(principal).client_id) if "openadr:ven" in principal.scopes else set()
    )
    return [(e, p) for e, p in rows if visible_targets(e.targets, sorted(granted), granted) is not None]


def _event_status(start: dt.datetime | None, ends: dt.datetime | None, now: dt.datetime) -> str:
    if ends is not None and (ends if ends.tzinfo else ends.replace(tzinfo=dt.UTC)) <= now:
        return "completed"
    if start is not None and start > now:
        return "upcoming"
    return "active"


def overview(
    session: Session, principal: Principal, now_s: int | None = None, with_series: bool = True
) -> dict[str, Any]:
    """The overview page: fleet by DER class and online state, power over 24 h against the plan, reserves,
    envelope feed status, active and upcoming events, the day's figures.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Open store session.
    principal : Principal
        The caller.
    now_s : int, optional
        Unix time (default now). [s]
    with_series : bool
        Whether to compute the day's power series and energy figures (the page shell skips them and loads
        them from the data URL, so that it renders at once).

    Returns
    -------
    dict
        JSON-ready values; powers in kW (load convention), energies in kWh.
    """
    now = int(time.time()) if now_s is None else int(now_s)
    recent = (
        select(Telemetry.der_pk)
        .where(Telemetry.der_pk == Der.pk, Telemetry.start_s >= now - ONLINE_WINDOW_S)
        .exists()
    )
    q = (
        select(Der.der_class, func.count(Der.pk), func.count(Der.pk).filter(recent))
        .where(Der.active.is_(True))
        .group_by(Der.der_class)
    )
    rows = session.execute(tenant_scoped(q, principal, Der))
    by_class = {c: {"total": int(n), "online": int(k)} for c, n, k in rows}
    n_sites = session.execute(tenant_scoped(select(func.count(Site.id)), principal, Site)).scalar_one()

    if with_series:
        t, p = fleet_power_recent(session, principal, now)
    else:
        t, p = np.zeros(0, dtype=np.int64), np.zeros(0)
    dt_h = float(np.median(np.diff(t))) / S_PER_H if t.size > 1 else 5 / MIN_PER_H
    energy_import = float(np.sum(np.clip(p, 0, None)) * dt_h)
    energy_export = float(np.sum(np.clip(-p, 0, None)) * dt_h)

    fb = (
        select(func.count(), func.count().filter(Telemetry.envelope_fallback.is_(True)))
        .select_from(Telemetry)
        .join(Der, Der.pk == Telemetry.der_pk)
        .where(Telemetry.start_s >= now - ONLINE_WINDOW_S, Telemetry.envelope_fallback.is_not(None))
    )
    n_fb_known, n_fallback = session.execute(tenant_scoped(fb, principal, Der)).one()
    feed = "no data" if not n_fb_known else ("fallback to static limits" if n_fallback else "live")

    flags = select(func.count(TelemetryFlag.id)).where(TelemetryFlag.start_s >= now - DAY_S)
    n_flags = session.execute(tenant_scoped(flags, principal, TelemetryFlag)).scalar_one()

    plan_q = tenant_scoped(select(Plan), principal, Plan).where(Plan.start_s <= now, Plan.end_s > now)
    plan = session.execute(plan_q.order_by(Plan.created_s.desc()).limit(1)).scalar_one_or_none()
    summary = dict(plan.summary or {}) if plan is not None else {}
    reserves = summary.get("commitment_mw") or summary.get("reserves_mw") or {}
    plan_series = summary.get("p_kw") if isinstance(summary.get("p_kw"), list) else None

    now_dt = dt.datetime.fromtimestamp(now, dt.UTC)
    events = []
    for ev, prog in _visible_events(session, principal):
        start = _event_start(ev.body)
        status = _event_status(start, ev.ends, now_dt)
        if status != "completed":
            events.append(
                {
                    "id": ev.id,
                    "program": prog.program_name,
                    "name": (ev.body or {}).get("eventName"),
                    "status": status,
                    "start": start.isoformat() if start else None,
                    "end": ev.ends.isoformat() if ev.ends else None,
                }
            )

    return {
        "now_s": now,
        "tenant": principal.tenant_name,
        "role": principal.role,
        "sites": int(n_sites),
        "ders": by_class,
        "ders_total": sum(v["total"] for v in by_class.values()),
        "ders_online": sum(v["online"] for v in by_class.values()),
        "with_series": with_series,
        "power_now_kw": round(float(p[-1]), 3) if p.size else None,
        "power_now_at_s": int(t[-1]) if t.size else None,
        "power_recent": downsample(t, p).to_dict(),
        "plan": {"id": plan.id, "status": plan.status, "p_kw": plan_series, "start_s": plan.start_s}
        if plan is not None
        else None,
        "reserves_mw": {str(k): float(v) for k, v in dict(reserves).items() if _is_number(v)},
        "envelope_feed": feed,
        "envelope_fallback_ders": int(n_fallback or 0),
        "events": events[:50],
        "kpis": {
            "energy_import_kwh": round(energy_import, 3),
            "energy_export_kwh": round(energy_export, 3),
            "peak_import_kw": round(float(p.max()), 3) if p.size else None,
            "intervals_24h": int(t.size),
            "flagged_readings_24h": int(n_flags),
        },
    }


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(float(v))


def site_page(
    session: Session,
    principal: Principal,
    page: int = 1,
    per_page: int = PER_PAGE,
    query: str | None = None,
    now_s: int | None = None,
) -> dict[str, Any]:
    """One page of the site list with each site's DER count and last telemetry.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Open store session.
    principal : Principal
        The caller.
    page : int
        Page number, from 1. [-]
    per_page : int
        Rows per page. [-]
    query : str, optional
        Case-insensitive filter on the site's external id or name.
    now_s : int, optional
        Unix time (default now). [s]

    Returns
    -------
    dict
        ``rows``, ``page``, ``pages``, ``total``.
    """
    now = int(time.time()) if now_s is None else int(now_s)
    base = tenant_scoped(select(Site), principal, Site)
    if query:
        like = f"%{query.strip().lower()}%"
        base = base.where(
            func.lower(Site.external_id).like(like) | func.lower(func.coalesce(Site.name, "")).like(like)
        )
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    sites = (
        session.execute(base.order_by(Site.external_id).offset((page - 1) * per_page).limit(per_page))
        .scalars()
        .all()
    )
    ids = [s.id for s in sites]
    stats = {}
    if ids:
        rows = session.execute(
            select(Der.site_id, func.count(func.distinct(Der.pk)), func.max(Telemetry.start_s))
            .outerjoin(Telemetry, and_(Telemetry.der_pk == Der.pk, Telemetry.start_s >= now - 7 * DAY_S))
            .where(Der.site_id.in_(ids))
            .group_by(Der.site_id)
        ).all()
        stats = {sid: (int(n), last) for sid, n, last in rows}
    out = []
    for s in sites:
        n, last = stats.get(s.id, (0, None))
        out.append(
            {
                "id": s.id,
                "external_id": s.external_id,
                "name": s.name,
                "ders": n,
                "last_s": last,
                "online": last is not None and last >= now - ONLINE_WINDOW_S,
            }
        )
    return {"rows": out, "page": page, "pages": pages, "total": int(total), "query": query or ""}


def site_detail(
    session: Session,
    principal: Principal,
    site_id: str,
    start_s: int,
    end_s: int,
    max_points: int = MAX_POINTS,
) -> dict[str, Any] | None:
    """One site over ``[start_s, end_s)``: telemetry (site power mean/min/max), SoC, envelope, set-points.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Open store session.
    principal : Principal
        The caller.
    site_id : str
        Site id (as stored).
    start_s, end_s : int
        Period, Unix time. [s]
    max_points : int
        Largest number of points per series. [-]

    Returns
    -------
    dict or None
        None when the site does not exist **for this caller** (another tenant's site is "not found").
    """
    site = session.execute(
        tenant_scoped(select(Site), principal, Site).where(Site.id == site_id)
    ).scalar_one_or_none()
    if site is None:
        return None
    ders = (
        session.execute(select(Der).where(Der.site_id == site.id).order_by(Der.external_id)).scalars().all()
    )
    pks = [d.pk for d in ders]
    tel = (
        session.execute(
            select(
                Telemetry.start_s,
                func.avg(Telemetry.p_site_avg_kw),
                func.min(Telemetry.p_site_min_kw),
                func.max(Telemetry.p_site_max_kw),
                func.avg(Telemetry.soc),
            )
            .where(Telemetry.der_pk.in_(pks), Telemetry.start_s >= start_s, Telemetry.start_s < end_s)
            .group_by(Telemetry.start_s)
            .order_by(Telemetry.start_s)
        ).all()
        if pks
        else []
    )
    arr = np.asarray([[np.nan if v is None else float(v) for v in row] for row in tel]).reshape(-1, 5)
    t = arr[:, 0].astype(np.int64)
    power = downsample(t, arr[:, 1], max_points)
    low = downsample(t, np.where(np.isnan(arr[:, 2]), arr[:, 1], arr[:, 2]), max_points)
    high = downsample(t, np.where(np.isnan(arr[:, 3]), arr[:, 1], arr[:, 3]), max_points)
    power.low, power.high = low.low, high.high
    soc = downsample(t, arr[:, 4], max_points, unit="-")

    env_rows = (
        session.execute(
            visible_envelopes(select(Envelope), principal)
            .where(
                Envelope.subject_kind == "site",
                Envelope.subject_id == site.id,
                Envelope.status == "active",
                Envelope.start_s < end_s,
                Envelope.start_s + Envelope.duration_s > start_s,
            )
            .order_by(Envelope.start_s)
        )
        .scalars()
        .all()
    )
    env_t = [e.start_s for e in env_rows]
    env_exp = [_limit_kw(e.exp_lim_value, e.exp_lim_mult) for e in env_rows]
    env_imp = [_limit_kw(e.imp_lim_value, e.imp_lim_mult) for e in env_rows]

    sp = (
        session.execute(
            select(DispatchInstruction.start_s, func.sum(DispatchInstruction.p_kw))
            .where(
                DispatchInstruction.der_pk.in_(pks),
                DispatchInstruction.start_s >= start_s,
                DispatchInstruction.start_s < end_s,
                DispatchInstruction.status != "cancelled",
            )
            .group_by(DispatchInstruction.start_s)
            .order_by(DispatchInstruction.start_s)
        ).all()
        if pks
        else []
    )
    sp_arr = np.asarray(sp, dtype=float).reshape(-1, 2)
    setpoints = downsample(sp_arr[:, 0].astype(np.int64), sp_arr[:, 1], max_points)
    return {
        "site": {
            "id": site.id,
            "external_id": site.external_id,
            "name": site.name,
            "phases": site.phases,
            "lat_deg": site.lat_deg,
            "lon_deg": site.lon_deg,
        },
        "ders": [
            {
                "id": d.id,
                "external_id": d.external_id,
                "der_class": d.der_class,
                "p_max_kw": d.p_max_kw,
                "e_max_kwh": d.e_max_kwh,
                "active": d.active,
            }
            for d in ders
        ],
        "start_s": int(start_s),
        "end_s": int(end_s),
        "power": power.to_dict(),
        "soc": soc.to_dict(),
        "setpoints": setpoints.to_dict(),
        "envelope": {"t_s": env_t, "export_kw": env_exp, "import_kw": env_imp},
    }


def _limit_kw(value: int | None, multiplier: int | None) -> float | None:
    if value is None:
        return None
    return round(float(decode_active_power(value, multiplier or 0)) / W_PER_KW, 4)


def network_view(
    session: Session, principal: Principal, day_s: int | None = None, now_s: int | None = None
) -> dict[str, Any]:
    """Node envelopes of a day with their current value, and whether the nodes' flow reaches them.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Open store session.
    principal : Principal
        The caller (the DSO sees every node it published, an aggregator its own nodes).
    day_s : int, optional
        Start of the day, Unix time (default: today, UTC). [s]
    now_s : int, optional
        Unix time (default now). [s]

    Returns
    -------
    dict
        ``nodes``: per node the export/import limit series, the current limits, the current export of the
        sites mapped to it and whether it binds.
    """
    now = int(time.time()) if now_s is None else int(now_s)
    day0 = _day_start(now) if day_s is None else int(day_s)
    rows = (
        session.execute(
            visible_envelopes(select(Envelope), principal)
            .where(
                Envelope.subject_kind == "node",
                Envelope.status == "active",
                Envelope.start_s < day0 + DAY_S,
                Envelope.start_s + Envelope.duration_s > day0,
            )
            .order_by(Envelope.subject_id, Envelope.start_s)
            .limit(20_000)
        )
        .scalars()
        .all()
    )
    nodes: dict[str, dict[str, Any]] = {}
    for e in rows:
        node = nodes.setdefault(
            e.subject_id,
            {
                "id": e.subject_id,
                "t_s": [],
                "export_kw": [],
                "import_kw": [],
                "export_now_kw": None,
                "import_now_kw": None,
            },
        )
        exp, imp = _limit_kw(e.exp_lim_value, e.exp_lim_mult), _limit_kw(e.imp_lim_value, e.imp_lim_mult)
        node["t_s"].append(e.start_s)
        node["export_kw"].append(exp)
        node["import_kw"].append(imp)
        if e.start_s <= now < e.start_s + e.duration_s:
            node["export_now_kw"], node["import_now_kw"] = exp, imp
    for node in nodes.values():
        mapped = (
            select(Der.site_id)
            .join(NodeMapping, NodeMapping.der_pk == Der.pk)
            .where(
                NodeMapping.node_id == node["id"],
                NodeMapping.valid_from_s <= now,
                (NodeMapping.valid_to_s.is_(None)) | (NodeMapping.valid_to_s > now),
            )
        )
        window = (now - ONLINE_WINDOW_S, now + DAY_S)
        _, p = _site_power_by_interval(session, principal, *window, site_ids=mapped)
        flow = float(p[-1]) if p.size else None
        node["flow_now_kw"] = None if flow is None else round(flow, 3)
        lim = node["export_now_kw"]
        node["binds"] = bool(flow is not None and lim is not None and -flow >= BINDING_SHARE * lim)
    return {"day_s": day0, "now_s": now, "nodes": list(nodes.values())}


def events_view(session: Session, principal: Principal, now_s: int | None = None) -> dict[str, Any]:
    """OpenADR programs and the events the caller may see, with status and the VENs' reports.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Open store session.
    principal : Principal
        The caller.
    now_s : int, optional
        Unix time (default now). [s]

    Returns
    -------
    dict
        ``events``: program, name, status (active, upcoming, completed), period, payload types and the
        number of reports with the latest reported values.
    """
    now = dt.datetime.fromtimestamp(int(time.time()) if now_s is None else int(now_s), dt.UTC)
    visible = _visible_events(session, principal)
    ids = [e.id for e, _ in visible]
    reports: dict[str, list[OadrReport]] = {}
    if ids:
        for rep in session.execute(
            select(OadrReport).where(OadrReport.event_id.in_(ids)).order_by(OadrReport.created)
        ).scalars():
            if principal.is_dso or rep.tenant_id == principal.tenant_id:
                reports.setdefault(rep.event_id, []).append(rep)
    out = []
    for ev, prog in visible:
        body = ev.body or {}
        start = _event_start(body)
        types = sorted(
            {str(p.get("type")) for i in body.get("intervals") or [] for p in i.get("payloads") or []}
        )
        reps = reports.get(ev.id, [])
        latest = reps[-1].body if reps else None
        out.append(
            {
                "id": ev.id,
                "program": prog.program_name,
                "name": body.get("eventName"),
                "status": _event_status(start, ev.ends, now),
                "start": start.isoformat() if start else None,
                "end": ev.ends.isoformat() if ev.ends else None,
                "payload_types": types,
                "reports": len(reps),
                "latest_report": _report_values(latest),
            }
        )
    programs = sorted({p.program_name for _, p in visible})
    return {"programs": programs, "events": out}


def _report_values(body: dict[str, Any] | None) -> str | None:
    if not body:
        return None
    values = []
    for resource in body.get("resources") or []:
        for interval in resource.get("intervals") or []:
            for payload in interval.get("payloads") or []:
                values.append(f"{payload.get('type')}={payload.get('values')}")
    return "; ".join(values[:4]) or None
