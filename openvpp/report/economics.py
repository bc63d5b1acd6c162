"""Rendering of the economics studies: rich tables and PNG figures (matplotlib, Agg backend).

Figures: revenue stack by service (Tables 3-5), tornado sensitivity, cost / revenue / margin curves of the
system-dynamics model (like Figs 11-12 of seed 000), stocks trajectories, potential bars (like Fig. 22) and
the hosting-share sensitivity, CSIRO NPV bars (seed 001 Table 9).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from rich.console import Console
from rich.table import Table

from openvpp.report import keep_whole, save_figure
from openvpp.units import PER_MILLION as MUSD
from openvpp.units import PER_THOUSAND as KUSD

if TYPE_CHECKING:
    from openvpp.studies.chile_economics import DynamicsStudy, EconomicsStudy, PotentialStudy
    from openvpp.studies.csiro_finance import FinanceStudy

__all__ = [
    "plot_dynamics",
    "plot_npv",
    "plot_potential",
    "plot_revenue_stack",
    "plot_tornado",
    "render_dynamics",
    "render_economics",
    "render_finance",
    "render_potential",
]

LINE_LABELS = {
    "cpf_minus_activation": "CPF- activation",
    "cpf_plus_availability": "CPF+ availability",
    "cpf_plus_activation": "CPF+ activation",
    "peak_reduction": "Peak reduction",
    "resilience": "Grid resilience",
    "ci_availability": "CI availability",
    "ci_activation": "CI activation",
}


def _save(fig: plt.Figure, out_dir: Path, name: str) -> Path:
    return save_figure(fig, out_dir / name)


def plot_revenue_stack(study: EconomicsStudy, out_dir: Path) -> Path:
    """Stacked annual revenue by service for each VPP size, with cost and profit markers.

    Parameters
    ----------
    study : EconomicsStudy
        The study result to render.
    out_dir : Path
        Folder for the figures.
    """
    sizes = sorted(study.cases)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    x = np.arange(len(sizes))
    bottom = np.zeros(len(sizes))
    cmap = plt.get_cmap("tab10")
    for i, (key, label) in enumerate(LINE_LABELS.items()):
        vals = np.array([study.cases[s].revenue_usd[key] for s in sizes]) / KUSD
        if np.all(vals == 0):
            continue
        ax.bar(x, vals, bottom=bottom, label=label, color=cmap(i), width=0.6)
        bottom += vals
    cost = np.array([study.cases[s].cost_total_usd for s in sizes]) / KUSD
    profit = np.array([study.cases[s].profit_usd for s in sizes]) / KUSD
    ax.hlines(cost, x - 0.3, x + 0.3, colors="k", linewidths=2, label="annual cost")
    ax.plot(x, profit, "D", color="darkgreen", label="annual profit")
    ax.set_xticks(x, [f"{s:g} MW" for s in sizes])
    ax.set_ylabel("thousand USD per year")
    ax.set_title(f"VPP revenue stack by service - {study.site.title()}")
    ax.legend(fontsize=8, loc="upper left")
    return _save(fig, out_dir, f"economics_revenue_stack_{study.site}.png")


def plot_tornado(study: EconomicsStudy, out_dir: Path) -> Path:
    """Tornado: annual profit with each parameter at -delta / +delta.

    Parameters
    ----------
    study : EconomicsStudy
        The study result to render.
    out_dir : Path
        Folder for the figures.
    """
    t = study.tornado.iloc[::-1]
    base = float(t["base_profit_usd"].iloc[0]) / KUSD
    fig, ax = plt.subplots(figsize=(7, 4.5))
    y = np.arange(len(t))
    lo, hi = t["profit_low_usd"].to_numpy() / KUSD, t["profit_high_usd"].to_numpy() / KUSD
    ax.barh(y, lo - base, left=base, color="tab:red", label="parameter -20 %")
    ax.barh(y, hi - base, left=base, color="tab:blue", label="parameter +20 %")
    ax.axvline(base, color="k", lw=1)
    ax.set_yticks(y, t["parameter"])
    ax.set_xlabel("annual profit, thousand USD")
    ax.set_title(f"Profit sensitivity - {study.site.title()}, {study.tornado_mw:g} MW batteries")
    ax.legend(fontsize=8)
    return _save(fig, out_dir, f"economics_tornado_{study.site}.png")


def render_economics(study: EconomicsStudy, out_dir: Path, console: Console | None = None) -> list[Path]:
    """Print Table 3 and Table 4/5 layouts; write the revenue-stack and tornado PNGs.

    Parameters
    ----------
    study : EconomicsStudy
        The study result to render.
    out_dir : Path
        Folder for the figures.
    console : Console | None
        Console the tables are printed on (None: nothing printed).
    """
    console = console or Console()
    t3 = Table(title=f"Revenue per MW and year - {study.site.title()} (seed 000 Table 3 layout)")
    t3.add_column("service line")
    t3.add_column("USD/MW/yr", justify="right")
    for key, label in LINE_LABELS.items():
        t3.add_row(label, f"{study.revenue_per_mw[key]:,.1f}")
    console.print(keep_whole(t3, 0))
    d = study.details
    console.print(
        f"direct cost {d['direct_cost_usd_per_mw_day']:.4f} USD/MW/day, {d['availability_days']} days, "
        f"droop factor {d['droop_factor']:.4f}, "
        f"affected hours {np.round(d['affected_hours'], 2).tolist()}, peak contract "
        f"{d['peak_contracted_kw_per_mw']:.0f} kW/MW x {d['peak_months']} months, credited energy "
        f"{d['credited_energy_kwh_per_mw']:,.0f} kWh/MW"
    )
    t4 = Table(title=f"Annual revenue, cost and profit - {study.site.title()} (seed 000 Table 4/5 layout)")
    for col in ("row", "MW", "revenue USD", "cost USD", "profit USD"):
        t4.add_column(col, justify="right" if col != "row" else "left")
    for size in sorted(study.cases):
        for row, r in study.cases[size].table().iterrows():
            t4.add_row(
                str(row), f"{r.p_mw:.3f}", f"{r.revenue_usd:,.1f}",
                f"{r.cost_usd:,.1f}", f"{r.profit_usd:,.1f}",
            )
    console.print(keep_whole(t4, 0))
    th = study.threshold
    console.print(
        f"profitability threshold: {th.n_batteries} batteries = {th.p_batteries_mw:.3f} MW "
        f"(profit {th.profit_usd:,.0f} USD/yr)"
    )
    paths = [plot_revenue_stack(study, out_dir), plot_tornado(study, out_dir)]
    for p in paths:
        console.print(f"wrote {p}")
    return paths


def plot_dynamics(study: DynamicsStudy, out_dir: Path) -> list[Path]:
    """Revenue and cost (Fig. 11), margin and cumulative margin (Fig. 12), stocks, revenue by service.

    Parameters
    ----------
    study : DynamicsStudy
        The study result to render.
    out_dir : Path
        Folder for the figures.
    """
    paths = []
    styles = {"conservative": "tab:orange", "accelerated": "tab:blue"}
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for name, r in study.scenarios.items():
        f = r.frame.iloc[1:]
        c = styles.get(name)
        axes[0].plot(f.index, f["revenue_usd"] / KUSD, "-o", color=c, label=f"{name} ({r.initial_clients:g})")
        axes[1].plot(f.index, f["cost_usd"] / KUSD, "-o", color=c, label=name)
    axes[0].set_title("Revenue")
    axes[1].set_title("Cost")
    for ax in axes:
        ax.set_xlabel("year")
        ax.set_ylabel("thousand USD per year")
        ax.legend(fontsize=8)
    paths.append(_save(fig, out_dir, "dynamics_revenue_cost.png"))

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, r in study.scenarios.items():
        f = r.frame
        c = styles.get(name)
        ax.plot(f.index, f["cumulative_margin_usd"] / KUSD, "-o", color=c, label=f"{name}: cumulative margin")
        ax.plot(f.index[1:], f["margin_usd"].iloc[1:] / KUSD, "--", color=c, label=f"{name}: annual margin")
        pb = r.payback_years
        if np.isfinite(pb):
            ax.axvline(pb, color=c, lw=0.8, ls=":")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("year")
    ax.set_ylabel("thousand USD")
    ax.set_title("Margin VPP")
    ax.legend(fontsize=8)
    paths.append(_save(fig, out_dir, "dynamics_margin.png"))

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    any_r = next(iter(study.scenarios.values())).frame
    axes[0].plot(any_r.index, any_r["population"], "-o")
    axes[0].set_title("Population")
    axes[1].plot(any_r.index, any_r["housing"], "-o")
    axes[1].set_title("Housing structures")
    for name, r in study.scenarios.items():
        axes[2].plot(r.frame.index, r.frame["clients"], "-o", color=styles.get(name), label=name)
    axes[2].set_title("VPP clients")
    axes[2].legend(fontsize=8)
    for ax in axes:
        ax.set_xlabel("year")
    paths.append(_save(fig, out_dir, "dynamics_stocks.png"))

    r = study.scenarios.get("accelerated") or next(iter(study.scenarios.values()))
    f = r.frame.iloc[1:]
    fig, ax = plt.subplots(figsize=(7, 4))
    groups = [c for c in f.columns if c.startswith("revenue_") and c != "revenue_usd"]
    ax.stackplot(f.index, *[f[g] / KUSD for g in groups], labels=[g.removeprefix("revenue_") for g in groups])
    ax.set_xlabel("year")
    ax.set_ylabel("thousand USD per year")
    ax.set_title(f"Revenue by service - {r.scenario}")
    ax.legend(fontsize=8, loc="upper left")
    paths.append(_save(fig, out_dir, "dynamics_revenue_by_service.png"))
    return paths


def render_dynamics(study: DynamicsStudy, out_dir: Path, console: Console | None = None) -> list[Path]:
    """Print the yearly trajectories and the summary; write the Figs 11-12 style PNGs.

    Parameters
    ----------
    study : DynamicsStudy
        The study result to render.
    out_dir : Path
        Folder for the figures.
    console : Console | None
        Console the tables are printed on (None: nothing printed).
    """
    console = console or Console()
    for name, r in study.scenarios.items():
        t = Table(title=f"System dynamics - {name} ({r.initial_clients:g} initial clients)")
        for col in ("year", "population", "houses", "clients", "revenue", "cost", "margin", "cum. margin"):
            t.add_column(col, justify="right")
        for year, row in r.frame.iterrows():
            t.add_row(
                str(year), f"{row.population:,.0f}", f"{row.housing:,.0f}", f"{row.clients:,.0f}",
                f"{row.revenue_usd:,.0f}", f"{row.cost_usd:,.0f}", f"{row.margin_usd:,.0f}",
                f"{row.cumulative_margin_usd:,.0f}",
            )
        console.print(keep_whole(t, 0))
        console.print(f"payback {r.payback_years:.2f} years")
    ref = study.reference_case
    console.print(f"reference case (static model): {ref.summary_text()}")
    paths = plot_dynamics(study, out_dir)
    for p in paths:
        console.print(f"wrote {p}")
    return paths


POTENTIAL_LABELS = {
    "battery_medium": "BTM batteries\n(medium density)",
    "battery_low": "BTM batteries\n(low density)",
    "ev": "EVs",
    "climatisation": "Electric\nclimatisation",
}


def plot_potential(study: PotentialStudy, out_dir: Path) -> list[Path]:
    """Bars of GW per resource (like Fig. 22) and the hosting-share sensitivity.

    Parameters
    ----------
    study : PotentialStudy
        The study result to render.
    out_dir : Path
        Folder for the figures.
    """
    gw = study.result.gw
    fig, ax = plt.subplots(figsize=(7, 4))
    keys = list(gw)
    bars = ax.bar([POTENTIAL_LABELS.get(k, k) for k in keys], [gw[k] for k in keys], color="tab:green")
    ax.bar_label(bars, fmt="%.2f")
    ax.set_ylabel("GW")
    ax.set_title(f"National VPP potential: {study.result.total_gw:.2f} GW")
    paths = [_save(fig, out_dir, "potential_bars.png")]

    s = study.sensitivity
    fig, ax = plt.subplots(figsize=(7, 4))
    for col in [c for c in s.columns if c.startswith("battery_")]:
        ax.step(s["hosting_share"] * 100, s[col], where="post", label=col.replace("_", " "))
    ax.plot(s["hosting_share"] * 100, s["total_gw"], "k-", label="total (with EVs and climatisation)")
    for k, share in study.result.hosting_share.items():
        ax.axvline(share * 100, ls=":", color="grey")
        ax.text(share * 100, ax.get_ylim()[1] * 0.95, f" {k}", fontsize=8)
    ax.set_xlabel("hosting share of customers with a VPP battery (%)")
    ax.set_ylabel("GW")
    ax.set_title("Potential vs hosting share")
    ax.legend(fontsize=8)
    paths.append(_save(fig, out_dir, "potential_hosting_sensitivity.png"))
    return paths


def render_potential(study: PotentialStudy, out_dir: Path, console: Console | None = None) -> list[Path]:
    """Render potential.

    Parameters
    ----------
    study : PotentialStudy
        The study result to render.
    out_dir : Path
        Folder for the figures.
    console : Console | None
        Console the tables are printed on (None: nothing printed).
    """
    console = console or Console()
    t = Table(title="National VPP potential (seed 000 §8 layout)")
    t.add_column("resource")
    t.add_column("GW", justify="right")
    for k, v in study.result.gw.items():
        t.add_row(k, f"{v:.3f}")
    t.add_row("total", f"{study.result.total_gw:.3f}")
    console.print(keep_whole(t, 0))
    console.print(f"batteries per LV network: {study.result.batteries_per_network}")
    paths = plot_potential(study, out_dir)
    for p in paths:
        console.print(f"wrote {p}")
    return paths


def plot_npv(study: FinanceStudy, out_dir: Path) -> Path:
    """Plot npv.

    Parameters
    ----------
    study : FinanceStudy
        The study result to render.
    out_dir : Path
        Folder for the figures.
    """
    fig, ax = plt.subplots(figsize=(6, 4))
    x = np.arange(len(study.cases))
    ax.bar(x - 0.2, [c.benefits_pv_usd / MUSD for c in study.cases], 0.4, label="benefits (PV)")
    ax.bar(x + 0.2, [c.npv_usd / MUSD for c in study.cases], 0.4, label="NPV")
    ax.axhline(study.cases[0].cost_upfront_usd / MUSD, color="k", ls="--", lw=1, label="upfront cost")
    ax.set_xticks(x, [f"{c.export_limit_kw:g} kW" for c in study.cases])
    ax.set_ylabel("million")
    ax.set_title(f"NPV by export limit ({study.convention.replace('_', ' ')})")
    ax.legend(fontsize=8)
    return _save(fig, out_dir, "finance_npv.png")


def render_finance(study: FinanceStudy, out_dir: Path, console: Console | None = None) -> list[Path]:
    """Render finance.

    Parameters
    ----------
    study : FinanceStudy
        The study result to render.
    out_dir : Path
        Folder for the figures.
    console : Console | None
        Console the tables are printed on (None: nothing printed).
    """
    console = console or Console()
    for conv, cases in ((study.convention, study.cases), (study.other_convention, study.other_cases)):
        t = Table(title=f"NPV summary, {conv.replace('_', ' ')} (seed 001 Table 9 layout), million")
        for col in ("export limit", "costs", "benefits", "NPV", "BCR", "payback yr"):
            t.add_column(col, justify="right")
        for c in cases:
            t.add_row(
                f"{c.export_limit_kw:g} kW", f"{c.cost_upfront_usd / MUSD:.2f}",
                f"{c.benefits_pv_usd / MUSD:.2f}",
                f"{c.npv_usd / MUSD:.2f}", f"{c.bcr:.2f}", f"{c.payback_years:.2f}",
            )
        console.print(keep_whole(t, 0))
    path = plot_npv(study, out_dir)
    console.print(f"wrote {path}")
    return [path]
