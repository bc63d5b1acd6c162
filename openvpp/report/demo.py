"""Rendering of the ``openvpp demo`` result: a rich summary table and a PNG of the aggregate net load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from rich.console import Console
from rich.table import Table

from openvpp.errors import ValidationError
from openvpp.report import save_figure

#: file name of the figure written by :func:`render_demo`
DEMO_FIGURE = "demo_net_load.png"

_ROWS = (
    ("import_kwh", "energy imported", "kWh", "{:,.1f}"),
    ("export_kwh", "energy exported", "kWh", "{:,.1f}"),
    ("peak_import_kw", "peak import (aggregate)", "kW", "{:,.1f}"),
    ("peak_export_kw", "peak export (aggregate)", "kW", "{:,.1f}"),
    ("pv_kwh", "PV energy", "kWh", "{:,.1f}"),
    ("self_consumption_ratio", "self-consumption ratio", "-", "{:.1%}"),
    ("self_sufficiency", "self-sufficiency", "-", "{:.1%}"),
    ("battery_cycles", "battery equivalent full cycles (mean)", "-", "{:.2f}"),
)


def summary_table(result: Any) -> Table:
    """The demo's metrics as a rich table (without / with batteries).

    Parameters
    ----------
    result : DemoResult
        The demo's result.
    """
    c = result.counts
    title = (f"SimBench {result.grid_code} on {result.day}: {c.get('sites', 0)} sites, "
             f"{c.get('prosumers', 0)} prosumers, {c.get('battery', 0)} batteries, {c.get('pv', 0)} PV")
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("unit")
    table.add_column("without batteries", justify="right")
    table.add_column("with batteries (self-consumption)", justify="right")
    for key, label, unit, fmt in _ROWS:
        a, b = result.summary.at[key, "without_battery"], result.summary.at[key, "with_battery"]
        table.add_row(label, unit, fmt.format(a), fmt.format(b))
    return table


def network_table(result: Any) -> Table:
    """Exact unbalanced power flow of the demo day, without and with batteries.

    Parameters
    ----------
    result : DemoResult
        The demo's result.
    """
    table = Table(title=f"Network check of the day (exact unbalanced power flow, {result.grid_code})")
    table.add_column("quantity")
    table.add_column("limit")
    table.add_column("without batteries", justify="right")
    table.add_column("with batteries", justify="right")
    a, b = result.network_check["without_battery"], result.network_check["with_battery"]
    for label, limit, key, fmt in (
        ("lowest voltage [pu]", ">= 0.90", "v_min_pu", "{:.4f}"),
        ("highest voltage [pu]", "<= 1.10", "v_max_pu", "{:.4f}"),
        ("highest line utilisation", "<= 100 %", "line_utilisation_max", "{:.1%}"),
        ("highest transformer loading", "<= 100 %", "trafo_loading_max", "{:.1%}"),
        ("steps with a violation", "0", "steps_violating", "{:d}"),
    ):
        table.add_row(label, limit, fmt.format(getattr(a, key)), fmt.format(getattr(b, key)))
    return table


def plot_net_load(result: Any, path: Path) -> Path:
    """Write the aggregate net load with and without batteries (+ = import) as a PNG.

    Parameters
    ----------
    result : DemoResult
        The demo's result.
    path : pathlib.Path
        PNG file to write.
    """
    idx = result.index
    fig, ax = plt.subplots(figsize=(9, 4.2), dpi=110)
    ax.step(idx, result.aggregate_without_kw, where="post", label="without batteries", color="0.45")
    ax.step(idx, result.aggregate_with_kw, where="post", label="batteries in self-consumption", color="C0")
    ax.axhline(0.0, color="k", lw=0.6)
    ax.set_ylabel("aggregate net load [kW] (+ import, - export)")
    ax.set_xlabel(f"time ({idx.tz})")
    ax.set_title(f"SimBench {result.grid_code}, {result.day}")
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    import matplotlib.dates as mdates

    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=idx.tz))
    return save_figure(fig, path, dpi=110)


def render_demo(result: Any, out_dir: Path | str = "openvpp-out", console: Console | None = None) -> Path:
    """Print the summary table and write :data:`DEMO_FIGURE` into ``out_dir``.

    Parameters
    ----------
    result : DemoResult
        The demo's result.
    out_dir : pathlib.Path or str
        Folder for the figures.
    console : rich.console.Console, optional
        Where to print the tables (None: print nothing).

    Returns
    -------
    pathlib.Path
        The PNG written.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValidationError(f"--out folder {str(out)!r} cannot be created: {exc}") from exc
    console = console or Console()
    console.print(summary_table(result))
    path = plot_net_load(result, out / DEMO_FIGURE)
    console.print(f"figure: {path}")
    if getattr(result, "economics", None) is not None:
        console.print(f"[bold]economics[/] (Lampa prices, seed 000 §6.1): {result.economics.summary_text()}")
    if getattr(result, "network_check", None):
        console.print(network_table(result))
    chk = getattr(result, "envelope_check", None)
    if chk:
        console.print(
            f"[bold]envelopes[/] (constraint engine, seed 001 §2.2): mean export limit "
            f"{chk['mean_export_limit_kw']:.1f} kW per site; with self-consumption batteries "
            f"{chk['sites_above']} site(s) exceed their envelope in {chk['site_steps_above']} site-steps, "
            f"{chk['energy_above_kwh']:.1f} of {chk['export_kwh']:.1f} kWh exported lie above it"
        )
    if getattr(result, "flexibility", None) is not None:
        from openvpp.report.flexibility import render_fleet_flexibility

        for extra in render_fleet_flexibility(result.flexibility, out_dir=out, console=console):
            console.print(f"figure: {extra}")
    return path
