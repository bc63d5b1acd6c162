"""Rendering of ``openvpp demo``: figures (PNG), ``report.html``, results (Parquet, JSON), one-screen summary.

:func:`write_demo` writes every file; :func:`summary_panel` is the rich one-screen summary.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from rich.console import Group
from rich.markup import escape
from rich.table import Table

from openvpp.report import save_figure
from openvpp.report.html import Card, Figure, Section, TableBlock, fmt_number, render_html

__all__ = ["FIGURES", "summary_panel", "write_demo", "write_figures"]

#: figure files and captions (with their sources)
FIGURES = {
    "response": (
        "demo_response.png",
        "Aggregate response against the request: CPF+ droop at 18:30 and the OpenADR "
        "peak-reduction event at 20:00 (seed 000 §6.1 Table 1, §9 STO1/STO2); frequency below.",
    ),
    "envelopes": (
        "demo_envelopes.png",
        "Export envelopes read by the aggregator every 5 min; shaded: feed lost, "
        "static default limit applied (seed 001 §2.1, §2.2).",
    ),
    "soc": ("demo_soc.png", "State of charge of the batteries (1-s around events) within their window."),
    "island": (
        "demo_island.png",
        "Island operation of the outage: power balance, frequency and voltages (seed 000 §9 STO3).",
    ),
    "network": (
        "demo_network.png",
        "Exact unbalanced power flow of the realised day: voltage band and loading (seed 000 §7.2 limits).",
    ),
    "forecast": (
        "demo_forecast.png",
        "Day-ahead forecast of the aggregate net load (P10-P90, P50) against the day (openvpp.forecast).",
    ),
    "settlement": (
        "demo_settlement.png",
        "Settlement: committed against delivered per event and participant "
        "payments (seed 000 §4, §6.1 Table 2).",
    ),
}


def _fig(nrows: int = 1, height: float = 3.2) -> tuple[Any, Any]:
    fig, ax = plt.subplots(nrows, 1, figsize=(10, height * nrows), sharex=True, squeeze=False)
    for a in ax[:, 0]:
        a.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
        a.grid(True, alpha=0.3)
    return fig, ax


def _plot_response(r: Any, path: Path) -> Path:
    s = r.cosim.series
    fig, ax = _fig(2)
    a, b = ax[0, 0], ax[1, 0]
    t = s.index.tz_localize(None)
    a.plot(t, s["plan_kw"], color="0.5", lw=1, label="plan")
    a.plot(
        t,
        s["plan_kw"] + s["freq_request_kw"] + s["event_request_kw"],
        color="tab:orange",
        lw=1.2,
        ls="--",
        label="plan + request",
    )
    a.plot(t, s["p_kw"], color="tab:blue", lw=1, label="devices (realised)")
    a.set_ylabel("aggregate power [kW]\n(+ = consumption)")
    a.legend(loc="best", fontsize=8)
    a.set_title(f"{r.grid_code} on {r.day}: aggregate response of the VPP")
    b.plot(t, s["f_hz"], color="tab:red", lw=1)
    b.set_ylabel("frequency [Hz]")
    b.set_xlabel("local time")
    return save_figure(fig, path)


def _plot_envelopes(r: Any, path: Path) -> Path:
    feed = r.feed
    fig, ax = _fig(1, 3.6)
    a = ax[0, 0]
    t = feed.index.tz_localize(None)
    a.step(t, feed["mean_limit_kw"], where="post", color="tab:green", label="mean site export limit")
    a.step(t, feed["min_limit_kw"], where="post", color="tab:olive", ls=":", label="lowest site export limit")
    tel = r.cosim.telemetry_index.tz_localize(None)
    exp = np.maximum(-r.cosim.site_p_avg_kw, 0.0)
    a.plot(tel, exp.max(axis=0), color="tab:blue", lw=1, label="largest site export (realised)")
    fb = (feed["status"] == "fallback").to_numpy()
    if fb.any():
        step = t[1] - t[0] if len(t) > 1 else pd.Timedelta(minutes=5)
        for j in np.flatnonzero(fb):
            a.axvspan(t[j], t[j] + step, color="tab:red", alpha=0.15, lw=0)
    a.set_ylabel("power [kW]")
    a.set_xlabel("local time")
    a.legend(loc="best", fontsize=8)
    a.set_title("Envelope feed (live / static fallback) and realised exports")
    return save_figure(fig, path)


def _plot_soc(r: Any, path: Path) -> Path:
    s = r.cosim.soc_sample
    fig, ax = _fig(1, 3.4)
    a = ax[0, 0]
    if s.shape[1]:
        t = s.index.tz_localize(None)
        a.fill_between(
            t, s.min(axis=1), s.max(axis=1), color="tab:blue", alpha=0.3, label="range of batteries"
        )
        a.plot(t, s.mean(axis=1), color="tab:blue", lw=1, label="mean")
    a.axhline(r.soc.get("window_min") or 0.0, color="k", ls=":", lw=1, label="SoC window")
    a.axhline(r.soc.get("window_max") or 1.0, color="k", ls=":", lw=1)
    a.set_ylim(-0.02, 1.02)
    a.set_ylabel("state of charge [-]")
    a.set_xlabel("local time")
    a.legend(loc="best", fontsize=8)
    return save_figure(fig, path)


def _per_step(values: Any, n: int) -> np.ndarray | None:
    """A series of length ``n`` from an array with one axis of length ``n`` (summed over the rest)."""
    a = np.asarray(values, dtype=float)
    if a.ndim == 1:
        return a if a.size == n else None
    for ax_ in range(a.ndim):
        if a.shape[ax_] == n:
            return np.moveaxis(a, ax_, 0).reshape(n, -1).sum(axis=1)
    return None


def _plot_island(r: Any, path: Path) -> Path:
    isl = r.island
    fig, ax = _fig(3, 2.6)
    t = isl.index.tz_localize(None)
    n = len(t)
    a = ax[0, 0]
    for label, values in (
        ("load served", isl.served_kw),
        ("PV used", isl.pv_used_kw),
        ("batteries (+ = charging)", isl.p_batteries_kw),
        ("shed", isl.shed_kw),
    ):
        y = _per_step(values, n)
        if y is not None:
            a.plot(t, y, label=label)
    a.set_ylabel("power [kW]")
    a.legend(fontsize=8, loc="best")
    a.set_title(f"Island of section {isl.section}")
    for axis, values, label in ((ax[1, 0], isl.f_hz, "frequency [Hz]"),):
        y = _per_step(values, n)
        if y is not None:
            axis.plot(t, y, color="tab:red")
        axis.set_ylabel(label)
    for values, label in ((isl.v_min_pu, "lowest"), (isl.v_max_pu, "highest")):
        y = _per_step(values, n)
        if y is not None:
            ax[2, 0].plot(t, y, label=label)
    ax[2, 0].axhline(0.9, color="k", ls=":", lw=1)
    ax[2, 0].axhline(1.1, color="k", ls=":", lw=1)
    ax[2, 0].set_ylabel("voltage [pu]")
    ax[2, 0].legend(fontsize=8)
    ax[2, 0].set_xlabel("local time")
    return save_figure(fig, path)


def _plot_network(r: Any, path: Path) -> Path:
    res = r.network_check.result
    v = np.asarray(res.v_pu)
    n_t = res.n_steps
    v2 = v.reshape(-1, n_t)
    fig, ax = _fig(2, 2.8)
    t = r.cosim.telemetry_index.tz_localize(None)[:n_t]
    ax[0, 0].plot(t, np.nanmin(v2, axis=0), label="lowest phase voltage")
    ax[0, 0].plot(t, np.nanmax(v2, axis=0), label="highest phase voltage")
    ax[0, 0].axhline(0.9, color="k", ls=":", lw=1)
    ax[0, 0].axhline(1.1, color="k", ls=":", lw=1)
    ax[0, 0].set_ylabel("voltage [pu]")
    ax[0, 0].legend(fontsize=8)
    ax[0, 0].set_title("Exact unbalanced power flow of the realised day")
    lu = np.asarray(res.line_utilisation).reshape(-1, n_t)
    ax[1, 0].plot(t, np.nanmax(lu, axis=0), label="highest line utilisation")
    ax[1, 0].plot(t, np.asarray(res.trafo_loading)[:n_t], label="transformer loading")
    ax[1, 0].axhline(1.0, color="k", ls=":", lw=1)
    ax[1, 0].set_ylabel("utilisation [-]")
    ax[1, 0].legend(fontsize=8)
    ax[1, 0].set_xlabel("local time")
    return save_figure(fig, path)


def _plot_forecast(r: Any, path: Path) -> Path:
    f = r.forecast
    fig, ax = _fig(1, 3.4)
    a = ax[0, 0]
    t = f["index"].tz_localize(None)
    a.fill_between(t, f["p10_kw"], f["p90_kw"], color="tab:blue", alpha=0.25, label="P10-P90")
    a.plot(t, f["p50_kw"], color="tab:blue", label="P50")
    a.plot(t, f["actual_kw"], color="k", lw=1, label="day")
    a.set_ylabel("aggregate net load [kW]")
    a.set_xlabel("local time")
    a.legend(fontsize=8)
    return save_figure(fig, path)


def _plot_settlement(r: Any, path: Path) -> Path:
    st = r.settlement
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.4))
    ev = st.performance.events
    x = np.arange(len(ev))
    committed = ev["committed_kw"].to_numpy(float)
    perf = ev["performance"].to_numpy(float) if "performance" in ev else np.full(len(ev), np.nan)
    ax[0].bar(x - 0.2, committed, 0.4, label="committed")
    ax[0].bar(x + 0.2, committed * perf, 0.4, label="delivered (vs baseline)")
    ax[0].set_xticks(x, [str(s) for s in ev["service"]])
    ax[0].set_ylabel("power [kW]")
    ax[0].legend(fontsize=8)
    pay = st.statements
    col = "total_usd" if "total_usd" in pay.columns else pay.select_dtypes("number").columns[-1]
    ax[1].bar(np.arange(len(pay)), pay[col].to_numpy(float), color="tab:green")
    ax[1].set_xlabel("participant")
    ax[1].set_ylabel("payment of the month [USD]")
    return save_figure(fig, path)


def write_figures(result: Any, out_dir: Path) -> dict[str, Path]:
    """Write the demo's figures as PNG; return name -> path (figures without data are skipped).

    Parameters
    ----------
    result : openvpp.studies.demo.DemoResult
        The demo's result.
    out_dir : pathlib.Path
        Folder.
    """
    out_dir = Path(out_dir)
    made: dict[str, Path] = {}
    plots = {
        "response": _plot_response,
        "envelopes": _plot_envelopes,
        "soc": _plot_soc,
        "network": _plot_network,
        "forecast": _plot_forecast,
    }
    if result.island is not None:
        plots["island"] = _plot_island
    if result.settlement is not None:
        plots["settlement"] = _plot_settlement
    for name in FIGURES:
        if name in plots:
            made[name] = plots[name](result, out_dir / FIGURES[name][0])
    return made


def _frame(records: Any) -> pd.DataFrame:
    return pd.DataFrame(records)


def _sections(result: Any, figs: dict[str, Path], summary: dict[str, Any]) -> list[Section]:
    def f(name: str) -> list[Figure]:
        return [Figure(figs[name], FIGURES[name][1])] if name in figs else []

    c = result.counts
    sections = [
        Section(
            "fleet",
            "1. The feeder and the fleet (DSO and aggregator through the service)",
            "seed 000 §9 (pilot), seed 001 §2.1 (registration, envelopes, monitoring)",
            f"SimBench {result.grid_code}: {c.get('sites', 0)} sites, "
            + ", ".join(f"{v} {k}" for k, v in c.items() if k != "sites")
            + f". Store: {summary['service']['store']}; {summary['service']['requests']} requests; "
            f"{summary['service']['envelopes_published']} envelopes published; OpenADR event "
            f"{summary['service']['openadr_event_name']!s}.",
            tables=[TableBlock(_frame([summary["telemetry"]]), "Telemetry into the store (seed 001 §2.1)")],
            figures=f("envelopes"),
        ),
        Section(
            "plan",
            "2. Forecast and stacked plan",
            "seed 000 §6.1.2 (capacity allocation), Table 1 blocks",
            f"Plan: {result.plan.meta.get('method', '')}. PV curtailed to honour envelopes: "
            f"{fmt_number(result.plan.meta.get('pv_curtailed_kwh', 0.0))} kWh.",
            tables=[
                TableBlock(_frame([summary["forecast"]]), "Forecast skill of the aggregate P50 on the day")
            ],
            figures=f("forecast"),
        ),
        Section(
            "events",
            "3. Co-simulation: frequency event, OpenADR peak event, envelope drop-out",
            "seed 000 §6.1 (CPF), §9 STO1-STO2; seed 001 §2.1",
            "",
            tables=[
                TableBlock(_frame([summary["soc"]]), "SoC window (seed 000 §6.1: resilience up to 80 %)")
            ],
            figures=f("response") + f("soc"),
        ),
    ]
    if result.island is not None:
        isl = result.island.summary()
        isl.pop("violations", None)
        sections.append(
            Section(
                "island",
                "4. Outage and island operation",
                "seed 000 §9 STO3",
                tables=[TableBlock(_frame([isl]), "Island KPIs")],
                figures=f("island"),
            )
        )
    nc = summary.get("network") or {}
    nc_flat = {k: v for k, v in nc.items() if not isinstance(v, dict)}
    sections.append(
        Section(
            "network",
            "5. Network check of the realised day",
            "seed 000 §7.2",
            tables=[TableBlock(_frame([nc_flat]), "Exact unbalanced power flow")],
            figures=f("network"),
        )
    )
    st = summary.get("settlement")
    tables = []
    if st is not None:
        tables.append(TableBlock(_frame(st["events"]), "Events settled against baselines (seed 000 §4)"))
    eco = summary["economics"]
    t4 = pd.DataFrame(eco["table4"]).T.reset_index(names="line")
    tables.append(
        TableBlock(t4, "Annual business case of this fleet, layout of seed 000 Table 4 (Lampa) [MW, USD/yr]")
    )
    if "day" in eco:
        day = pd.DataFrame([eco["day"]])
        tables.append(TableBlock(day, "The day's market revenue, participant payments and margin [USD]"))
        ann = {
            "margin_day_x365_usd": eco["day"].get("margin_usd", 0.0) * 365.0,
            "table4_profit_usd": eco["table4"].get("total", {}).get("profit_usd"),
        }
        tables.append(
            TableBlock(
                pd.DataFrame([ann]),
                "Day annualised (x 365, every day an event day: an upper bound) against the Table 4 case",
            )
        )
    sections.append(
        Section(
            "settlement",
            "6. Settlement and business case",
            "seed 000 §4, §6.1 Tables 2 and 4",
            tables=tables,
            figures=f("settlement"),
        )
    )
    return sections


def write_demo(result: Any, out_dir: str | Path) -> dict[str, Path]:
    """Write ``report.html``, the figures (PNG), ``summary.json`` and the results as Parquet.

    Parameters
    ----------
    result : openvpp.studies.demo.DemoResult
        The demo's result.
    out_dir : str or pathlib.Path
        Folder (created).

    Returns
    -------
    dict
        Name -> path of everything written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = result.summary()
    figs = write_figures(result, out)
    files: dict[str, Path] = {f"figure_{k}": v for k, v in figs.items()}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False), encoding="utf-8")
    files["summary"] = out / "summary.json"
    s = result.cosim.series.copy()
    s.index = s.index.tz_convert("UTC")
    s.reset_index(names="time").to_parquet(out / "series.parquet", index=False)
    files["series"] = out / "series.parquet"
    tel = pd.DataFrame(
        {
            "site_id": np.repeat(
                np.asarray(result.plan.site_ids).astype(str), len(result.cosim.telemetry_index)
            ),
            "time": np.tile(result.cosim.telemetry_index.tz_convert("UTC"), result.plan.n_sites),
            "p_avg_kw": result.cosim.site_p_avg_kw.ravel(),
            "p_min_kw": result.cosim.site_p_min_kw.ravel(),
            "p_max_kw": result.cosim.site_p_max_kw.ravel(),
        }
    )
    tel.to_parquet(out / "telemetry.parquet", index=False)
    files["telemetry"] = out / "telemetry.parquet"
    result.kpis.to_parquet(out / "kpis.parquet", index=False)
    files["kpis"] = out / "kpis.parquet"
    feed = result.feed.copy()
    feed.index = feed.index.tz_convert("UTC")
    feed.reset_index(names="time").to_parquet(out / "envelope_feed.parquet", index=False)
    files["envelope_feed"] = out / "envelope_feed.parquet"
    if result.settlement is not None:
        result.settlement.statements.to_parquet(out / "statements.parquet", index=False)
        files["statements"] = out / "statements.parquet"
    ok = bool(result.kpis["within"].all())
    cards = [
        Card(
            "sites / batteries",
            f"{result.counts.get('sites', 0)} / {result.counts.get('battery', 0)}",
            "SimBench " + result.grid_code,
        ),
        Card(
            "KPIs outside their bound" if not ok else "event KPIs within bounds",
            "all" if ok else f"{int((~result.kpis['within']).sum())} of {len(result.kpis)}",
            "seed 000 §9",
        ),
        Card("network violations", str(result.network_check.steps_violating), "seed 000 §7.2"),
        Card("SoC in window", "yes" if result.soc.get("within") else "no", "seed 000 §6.1"),
    ]
    if summary.get("settlement"):
        cards.append(
            Card(
                "participant payments [USD]",
                fmt_number(summary["settlement"]["participant_payments_usd"] or 0.0),
                "seed 000 Table 2",
            )
        )
    cards.append(Card("demo run time [s]", fmt_number(sum(result.elapsed_s.values())), "this machine"))
    render_html(
        out / "report.html",
        f"OpenVPP pilot day: {result.grid_code}, {result.day}",
        subtitle=f"Simulated {result.start:%Y-%m-%d %H:%M} to {result.end:%Y-%m-%d %H:%M} "
        f"({result.start.tzinfo}); one VPP, one DSO, one in-process OpenVPP service",
        cards=cards,
        kpis=result.kpis,
        kpi_note="Each KPI with its bound and the seed section it comes from; rows outside their "
        "bound are marked, with the reason in the note.",
        sections=_sections(result, figs, summary),
        footer="Generated by openvpp demo. Seeds: 000 (VPP roadmap for Chile), 001 (envelopes, "
        "arbitrage + FCAS), 003 (flexibility).",
    )
    files["report"] = out / "report.html"
    return files


def summary_panel(result: Any) -> Group:
    """The one-screen rich summary: KPI table and the day's headline numbers.

    Parameters
    ----------
    result : openvpp.studies.demo.DemoResult
        The demo's result.
    """
    s = result.summary()
    c = result.counts
    head = Table(
        title=f"openvpp demo: {result.grid_code} on {result.day} "
        f"{c.get('sites', 0)} sites, "
        f"{c.get('battery', 0)} batteries",
        show_header=False,
    )
    head.add_column("what")
    head.add_column("value", justify="right")
    sv = s["service"]
    head.add_row("horizon", f"{result.start:%Y-%m-%d %H:%M} to {result.end:%Y-%m-%d %H:%M}")
    head.add_row(
        "service", f"{sv['store']}, {sv['requests']} requests, {sv['envelopes_published']} envelopes"
    )
    tel = s["telemetry"]
    flags = ", ".join(f"{k.removeprefix('flag_')} {v}" for k, v in tel.items() if k.startswith("flag_"))
    head.add_row(
        "telemetry stored",
        f"{tel['accepted']} of {tel['posted']} readings via {tel['path']}"
        + (f" (flagged: {flags})" if flags else ""),
    )
    head.add_row("envelope fallback", f"{s['envelope_feed']['fallback_minutes']:g} min")
    head.add_row(
        "SoC range / window",
        f"{s['soc'].get('soc_min') or 0:.3f}-{s['soc'].get('soc_max') or 0:.3f} in "
        f"{s['soc'].get('window_min') or 0:.2f}-{s['soc'].get('window_max') or 1:.2f}",
    )
    nc = s.get("network") or {}
    head.add_row(
        "network (exact PF)",
        f"V {fmt_number(nc.get('v_min_pu') or 0)}-{fmt_number(nc.get('v_max_pu') or 0)}"
        f" pu, {nc.get('steps_violating')} steps violating",
    )
    if s.get("settlement"):
        head.add_row(
            "participant payments", f"{fmt_number(s['settlement']['participant_payments_usd'] or 0)} USD"
        )
    day = s["economics"].get("day")
    if day:
        head.add_row("day margin (aggregator)", f"{fmt_number(day.get('margin_usd', 0.0))} USD")
    head.add_row("run time", f"{fmt_number(sum(result.elapsed_s.values()))} s")
    kt = Table(title="event KPIs (pilot bounds)")
    for col in ("event", "kpi", "value", "bound", "within"):
        kt.add_column(col, justify="right" if col == "value" else "left")
    for r in result.kpis.to_dict("records"):
        kt.add_row(
            escape(r["event"]),
            escape(r["kpi"]),
            fmt_number(r["value"]),
            escape(str(r["bound"])),
            "[green]yes[/]" if r["within"] else "[red]no[/]",
        )
    return Group(head, kt)
