"""Rendering of a settlement: rich tables, statement files (JSON, CSV) and a small PNG per participant.

Files written into the output folder:

* ``settlement_statements.csv`` — every participant and month, one row each;
* ``settlement_events.csv`` — every (event, site) measurement;
* ``settlement_aggregator.csv`` — revenue by service line, participant payments and margin per month;
* ``statements/<site_id>_<YYYY-MM>.json`` and ``.png`` — one statement per participant and month with its
  events (baseline against metered power over each event), for at most :data:`MAX_FIGURES` statements.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
from rich.console import Console
from rich.table import Table

from openvpp.report import save_figure
from openvpp.settlement.io import Telemetry
from openvpp.settlement.statements import Settlement

__all__ = ["MAX_FIGURES", "plot_participant_events", "render_settlement", "write_statements"]

#: statements drawn as PNG per run (JSON and CSV are written for every participant)
MAX_FIGURES = 200


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def plot_participant_events(result: Settlement, tel: Telemetry, site_id: str, month: str, path: Path) -> Path:
    """Metered power and baseline over each of a participant's events in a month (small PNG).

    Parameters
    ----------
    result : Settlement
        Settlement run.
    tel : Telemetry
        Telemetry the run used.
    site_id, month : str
        Participant and month (``YYYY-MM``).
    path : pathlib.Path
        PNG file to write.
    """
    perf = result.performance
    rows = perf.sites[(perf.sites["site_id"] == site_id) & (perf.sites["month"] == month)]
    ev = perf.events.set_index("event_id")
    k = int(np.flatnonzero(tel.site_ids == site_id)[0])
    n = max(len(rows), 1)
    fig, axes = plt.subplots(1, n, figsize=(min(2.6 * n, 10.4) + 0.6, 2.4), squeeze=False, sharey=True)
    if rows.empty:
        axes[0, 0].text(0.5, 0.5, "no events this month", ha="center", va="center")
        axes[0, 0].set_axis_off()
    for ax, r in zip(axes[0], rows.itertuples(index=False), strict=False):
        e = ev.loc[r.event_id]
        pad = 4
        i0 = int(tel.index.searchsorted(e["start"]))
        i1 = int(tel.index.searchsorted(e["end"]))
        lo, hi = max(i0 - pad, 0), min(i1 + pad, len(tel.index))
        t = tel.index[lo:hi]
        ax.step(t, tel.p_kw[k, lo:hi], where="post", color="tab:blue", label="metered")
        base_kw = r.baseline_kwh / ((i1 - i0) * perf.dt_h)
        ax.hlines(
            base_kw, tel.index[i0], e["end"], colors="tab:orange", linestyles="--", label="baseline (mean)"
        )
        ax.axvspan(tel.index[i0], e["end"], color="0.9")
        ax.set_title(
            f"{r.event_id} ({r.service})\n{r.delivered_kwh:.2f} kWh, perf {r.performance:.0%}", fontsize=7
        )
        ax.tick_params(labelsize=6)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=tel.index.tz))
    axes[0, 0].set_ylabel("site power [kW] (+ import)", fontsize=7)
    if axes[0, 0].get_legend_handles_labels()[0]:  # a participant without events has nothing to label
        axes[0, 0].legend(fontsize=6, loc="best")
    st = result.statements
    total = st[(st["site_id"] == site_id) & (st["month"] == month)]["total_usd"].iloc[0]
    fig.suptitle(f"{site_id} - {month}: {total:,.2f} USD", fontsize=8)
    return save_figure(fig, path, dpi=90)


def write_statements(result: Settlement, tel: Telemetry, out_dir: Path, figures: bool = True) -> list[Path]:
    """Write the statement files (JSON per participant and month, CSV tables, PNGs up to MAX_FIGURES).

    Parameters
    ----------
    result : Settlement
        Settlement run.
    tel : Telemetry
        Telemetry the run used.
    out_dir : pathlib.Path
        Output folder.
    figures : bool
        Whether to draw the participant PNGs.
    """
    out = Path(out_dir)
    folder = out / "statements"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in (
        ("settlement_statements.csv", result.statements),
        ("settlement_events.csv", result.performance.sites.drop(columns=["site_pos", "event_pos"])),
        ("settlement_aggregator.csv", result.aggregator),
    ):
        frame.to_csv(out / name, index=False)
        written.append(out / name)
    for n, (site, month) in enumerate(
        zip(result.statements["site_id"], result.statements["month"], strict=True)
    ):
        stem = folder / f"{_safe(str(site))}_{month}"
        stem.with_suffix(".json").write_text(json.dumps(result.statement(site, month), indent=2, default=str))
        written.append(stem.with_suffix(".json"))
        if figures and n < MAX_FIGURES:
            written.append(plot_participant_events(result, tel, site, month, stem.with_suffix(".png")))
    return written


def render_settlement(result: Settlement, tel: Telemetry, out_dir: Path, console: Console) -> None:
    """Print the event table, the eligibility summary and the month's totals; write the statements.

    Parameters
    ----------
    result : Settlement
        Settlement run.
    tel : Telemetry
        Telemetry the run used.
    out_dir : pathlib.Path
        Output folder.
    console : rich.console.Console
        Where to print.
    """
    t = Table(title="Events (measured against the baseline)")
    for c in (
        "event",
        "service",
        "start",
        "sites",
        "committed kW",
        "delivered kWh",
        "mean kW",
        "performance",
    ):
        t.add_column(c, justify="right" if c not in ("event", "service", "start") else "left")
    for r in result.performance.events.itertuples(index=False):
        t.add_row(
            str(r.event_id),
            r.service,
            r.start.strftime("%Y-%m-%d %H:%M"),
            str(r.n_sites),
            f"{r.committed_kw:,.1f}",
            f"{r.delivered_kwh:,.1f}",
            f"{r.delivered_avg_kw:,.1f}",
            "-" if np.isnan(r.performance) else f"{r.performance:.0%}",
        )
    console.print(t)
    el = result.eligibility
    if el is not None:
        p = el.portfolio
        rr = "-" if not np.isfinite(p["rrmse"]) else f"{p['rrmse']:.1%}"
        console.print(
            f"Baseline eligibility (RRMSE <= {el.max_rrmse:.0%}, |bias| <= {el.max_abs_bias:.0%}): "
            f"{el.n_eligible} of {len(el.sites)} sites eligible; portfolio RRMSE {rr} "
            f"-> {'eligible' if p['eligible'] else 'not eligible'}"
        )
        bad = el.sites[~el.sites["eligible"]].head(10)
        for r in bad.itertuples(index=False):
            console.print(f"  {r.site_id}: {r.reason}")
    if len(result.gaps):
        console.print(
            f"Telemetry gaps (not filled): {len(result.gaps)} spans, "
            f"{int(result.gaps['n_intervals'].sum())} intervals"
        )
    m = Table(title="Monthly totals (USD)")
    for c in ("month", "revenue", "participant payments", "margin"):
        m.add_column(c, justify="right")
    for r in result.aggregator.itertuples(index=False):
        m.add_row(
            r.month, f"{r.revenue_usd:,.2f}", f"{r.participant_payments_usd:,.2f}", f"{r.margin_usd:,.2f}"
        )
    console.print(m)
    written = write_statements(result, tel, out_dir)
    console.print(
        f"{len(result.statements)} statements written to {out_dir}/statements ({len(written)} files)"
    )
