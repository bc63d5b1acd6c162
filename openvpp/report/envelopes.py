"""Figures and tables of the envelope studies (seed 001 Figures 7-21 and Table 6): PNG via matplotlib (Agg).

* ``envelopes_profile_<scenario>.png`` -- VPP-average raw and mediated limit per site with the solar curve
  and the 5 / 10 kW lines, the daylight minimum of mediated limit and solar curve shaded (Figures 4, 6-9);
* ``envelopes_ac_year.png`` -- VPP average available capacity, whole day and daylight, by month for workdays,
  non-workdays and the heatwave (Figure 10);
* ``envelopes_ac_boxplots.png`` -- distribution over sites of both averages by month (Figures 11-12);
* ``envelopes_ac_density.png`` -- densities of both averages by season (Figures 14-15);
* ``envelopes_released_energy.png`` -- aggregate released energy per day and its per-site distribution
  (Figures 18-19);
* ``envelopes_hosting.png`` -- hosting capacity vs % of the year unconstrained (Figure 21).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from rich.console import Console
from rich.table import Table

from openvpp.envelopes.scenarios import MONTH_NAMES
from openvpp.envelopes.sweep import SweepResult
from openvpp.report import keep_whole, save_figure
from openvpp.units import KW_PER_MW


def _hours(n: int) -> np.ndarray:
    return np.arange(n) * 24.0 / n


def plot_profile(
    sweep: SweepResult, sc, scenario: str, path: Path, floor_kw: float = 5.0, cap_kw: float = 10.0
) -> Path:
    """Figure 7/9 analogue for one scenario.

    Parameters
    ----------
    sweep : SweepResult
        Result of :func:`~openvpp.envelopes.sweep.run_sweep`.
    sc : object
        Day-type scenario set.
    scenario : str
        Scenario name, e.g. ``"Jan-non-workday"``.
    path : Path
        Target PNG file.
    floor_kw : float
        Static floor of the mediated limit. [kW]
    cap_kw : float
        Largest limit per site (dynamic cap). [kW]
    """
    k = list(sc.names).index(scenario)
    t = _hours(sc.n_steps)
    med = sweep.mediated_per_site_kw[k]
    raw = sweep.raw_per_site_kw[k]
    sol = sc.solar_kw[k]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.plot(
        t,
        np.clip(raw, floor_kw - 5, cap_kw + 5),
        color="0.6",
        lw=1,
        label="raw limit per site (clipped view)",
    )
    ax.plot(t, med, color="C3", lw=2, label="mediated limit per site (VPP average)")
    ax.plot(t, sol, color="C0", lw=2, label="solar curve (battery + PV)")
    dl = sc.daylight[k]
    ax.fill_between(
        t,
        floor_kw,
        np.minimum(med, sol),
        where=dl,
        color="C1",
        alpha=0.4,
        label="released energy: min(mediated, solar) above 5 kW",
    )
    ax.axhline(floor_kw, color="k", ls="--", lw=1)
    ax.axhline(cap_kw, color="k", ls=":", lw=1)
    ax.axvline(sc.sunrise_h[k], color="C9", ls="--", lw=0.8)
    ax.axvline(sc.sunset_h[k], color="C1", ls="--", lw=0.8)
    ax.set_xlim(0, 24)
    ax.set_ylim(0, cap_kw + 5)
    ax.set_xlabel("hour of day (local)")
    ax.set_ylabel("kW per VPP site")
    ax.set_title(f"{sc.location}, {scenario}, m = {sweep.m:g}")
    ax.legend(loc="lower left", fontsize=8)
    return save_figure(fig, path, dpi=110)


def plot_ac_year(sweep: SweepResult, sc, path: Path) -> Path:
    """Figure 10 analogue: VPP average available capacity by month.

    Parameters
    ----------
    sweep : SweepResult
        Result of :func:`~openvpp.envelopes.sweep.run_sweep`.
    sc : object
        Day-type scenario set.
    path : Path
        Target PNG file.
    """
    ac_day = sweep.vpp_mean(sweep.ac_day_kw)
    ac_dl = sweep.vpp_mean(sweep.ac_dl_kw)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, wd, title in ((axes[0], True, "workdays"), (axes[1], False, "non-workdays (+ heatwave)")):
        sel = (sc.workday == wd) & ~sc.heatwave
        mo = sc.month[sel]
        ax.plot(mo, ac_day[sel], "o-", label="whole day AC_day")
        ax.plot(mo, ac_dl[sel], "s-", label="daylight AC_dl")
        if not wd and sc.heatwave.any():
            h = np.flatnonzero(sc.heatwave)[0]
            ax.plot([sc.month[h]], [ac_day[h]], "r^", label="heatwave AC_day")
            ax.plot([sc.month[h]], [ac_dl[h]], "rv", label="heatwave AC_dl")
        ax.set_xticks(range(1, 13), MONTH_NAMES, rotation=45)
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("kW per VPP site")
    axes[1].legend(fontsize=8)
    fig.suptitle(f"Average available capacity, {sc.location}, m = {sweep.m:g}")
    return save_figure(fig, path, dpi=110)


def _per_site(values: np.ndarray, n_sites: np.ndarray) -> np.ndarray:
    return np.repeat(values, n_sites.astype(int), axis=0)


def plot_ac_boxplots(sweep: SweepResult, sc, path: Path) -> Path:
    """Figures 11-12 analogue: per-site distributions by month (workdays and non-workdays).

    Parameters
    ----------
    sweep : SweepResult
        Result of :func:`~openvpp.envelopes.sweep.run_sweep`.
    sc : object
        Day-type scenario set.
    path : Path
        Target PNG file.
    """
    fig, axes = plt.subplots(2, 2, figsize=(12, 7), sharey=True)
    for row, (vals, name) in enumerate(
        ((sweep.ac_day_kw, "whole day AC_day"), (sweep.ac_dl_kw, "daylight AC_dl"))
    ):
        site = _per_site(vals, sweep.n_sites)
        for col, wd in enumerate((True, False)):
            ax = axes[row, col]
            idx = [
                int(np.flatnonzero((sc.month == mo) & (sc.workday == wd) & ~sc.heatwave)[0])
                for mo in range(1, 13)
            ]
            ax.boxplot([site[:, j] for j in idx], showfliers=True, flierprops={"markersize": 2})
            ax.set_xticks(range(1, 13), MONTH_NAMES, rotation=45)
            ax.set_title(f"{name}, {'workdays' if wd else 'non-workdays'}")
            ax.grid(alpha=0.3)
        axes[row, 0].set_ylabel("kW per VPP site")
    return save_figure(fig, path, dpi=110)


def plot_ac_density(sweep: SweepResult, sc, path: Path) -> Path:
    """Figures 14-15 analogue: histograms (densities) of per-site averages by season.

    Parameters
    ----------
    sweep : SweepResult
        Result of :func:`~openvpp.envelopes.sweep.run_sweep`.
    sc : object
        Day-type scenario set.
    path : Path
        Target PNG file.
    """
    seasons = sc.seasons
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    bins = np.linspace(4.9, 10.1, 27)
    for ax, (vals, name) in zip(
        axes, ((sweep.ac_day_kw, "whole day AC_day"), (sweep.ac_dl_kw, "daylight AC_dl")), strict=True
    ):
        site = _per_site(vals, sweep.n_sites)
        for season in dict.fromkeys(seasons):
            cols = [j for j, s in enumerate(seasons) if s == season]
            ax.hist(site[:, cols].ravel(), bins=bins, density=True, histtype="step", lw=1.5, label=season)
        ax.set_xlabel("kW per VPP site")
        ax.set_title(name)
    axes[0].set_ylabel("density")
    axes[1].legend(fontsize=8)
    return save_figure(fig, path, dpi=110)


def plot_released_energy(sweep: SweepResult, sc, path: Path) -> Path:
    """Figures 18-19 analogue: aggregate RE per day and per-site distribution by scenario.

    Parameters
    ----------
    sweep : SweepResult
        Result of :func:`~openvpp.envelopes.sweep.run_sweep`.
    sc : object
        Day-type scenario set.
    path : Path
        Target PNG file.
    """
    total = np.tensordot(sweep.n_sites.astype(float), sweep.re_kwh, axes=(0, 0)) / KW_PER_MW
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    x = np.arange(len(sc.names))
    axes[0].bar(
        x,
        total,
        color=["C0" if w else ("C3" if h else "C1") for w, h in zip(sc.workday, sc.heatwave, strict=True)],
    )
    axes[0].set_xticks(x, sc.names, rotation=90, fontsize=7)
    axes[0].set_ylabel("aggregate released energy (MWh/day)")
    site = _per_site(sweep.re_kwh, sweep.n_sites)
    axes[1].boxplot([site[:, j] for j in x], showfliers=False)
    axes[1].set_xticks(x + 1, sc.names, rotation=90, fontsize=7)
    axes[1].set_ylabel("released energy per site (kWh/day)")
    return save_figure(fig, path, dpi=110)


def plot_hosting(sweep: SweepResult, path: Path) -> Path:
    """Figure 21 analogue: summed hosting capacity vs % of the year unconstrained.

    Parameters
    ----------
    sweep : SweepResult
        Result of :func:`~openvpp.envelopes.sweep.run_sweep`.
    path : Path
        Target PNG file.
    """
    pct = sweep.unconstrained_pct
    h = sweep.hosting_curve_mw()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.bar([f"{p:g} %" for p in pct], h, color="C2")
    for i, v in enumerate(h):
        ax.text(i, v, f"{v:,.1f}", ha="center", va="bottom", fontsize=8)
    ax.set_xlabel("share of the year unconstrained")
    ax.set_ylabel("hosting capacity summed over transformers (MW)")
    ax.set_title(f"{sweep.hosting_kw.shape[0]:,} transformers, m = {sweep.m:g}")
    return save_figure(fig, path, dpi=110)


def metrics_table(sweep: SweepResult, sc) -> Table:
    """VPP averages per scenario: AE, RE, AC_day, AC_dl.

    Parameters
    ----------
    sweep : SweepResult
        Result of :func:`~openvpp.envelopes.sweep.run_sweep`.
    sc : object
        Day-type scenario set.
    """
    t = Table(
        title=f"Capacity metrics per VPP site, {sc.location}, m = {sweep.m:g} "
        f"({int(sweep.n_sites.sum())} sites on {sweep.hosting_kw.shape[0]} transformers)"
    )
    for c in ("scenario", "days", "AE kWh", "RE kWh", "AC_day kW", "AC_dl kW"):
        t.add_column(c, justify="right" if c != "scenario" else "left")
    re = sweep.vpp_mean(sweep.re_kwh)
    acd = sweep.vpp_mean(sweep.ac_day_kw)
    acl = sweep.vpp_mean(sweep.ac_dl_kw)
    for j, name in enumerate(sc.names):
        t.add_row(
            name,
            f"{sc.day_weights[j]:g}",
            f"{sweep.ae_kwh[j]:.1f}",
            f"{re[j]:.1f}",
            f"{acd[j]:.2f}",
            f"{acl[j]:.2f}",
        )
    return keep_whole(t, 0)


def hosting_tables(sweep: SweepResult) -> tuple[Table, Table]:
    """Figure 21 values and Table 6 as rich tables.

    Parameters
    ----------
    sweep : SweepResult
        Result of :func:`~openvpp.envelopes.sweep.run_sweep`.
    """
    a = Table(title="Hosting capacity vs share of the year unconstrained")
    a.add_column("unconstrained")
    a.add_column("MW", justify="right")
    a.add_column("x of 100 %", justify="right")
    h = sweep.hosting_curve_mw()
    base = h[sweep.unconstrained_pct == 100.0][0] if np.any(sweep.unconstrained_pct == 100.0) else np.nan
    for p, v in zip(sweep.unconstrained_pct, h, strict=True):
        a.add_row(f"{p:g} %", f"{v:,.2f}", f"{v / base:.2f}" if base > 0 else "-")
    b = Table(title="Transformers by capacity unconstrained 100 % of the time (Table 6)")
    labels = ("0 kW", "<= 1 kW", "<= 2 kW", "<= 3 kW", "<= 10 kW", "<= 20 kW", "<= 30 kW")
    for lab in labels:
        b.add_column(lab, justify="right")
    b.add_row(*[f"{v:.1f} %" for v in sweep.table6()])
    return keep_whole(a, 0, 1), keep_whole(b, *range(len(labels)))


def render_findings(findings, console: Console) -> None:
    """Print the checked findings.

    Parameters
    ----------
    findings : object
        Checked findings of the seed.
    console : Console
        Console the tables are printed on (None: nothing printed).
    """
    for f in findings:
        mark = "[green]holds[/]" if f.holds else "[red]does not hold[/]"
        console.print(f"- {f.statement}: {mark}\n  {f.detail}")


def render_metrics(result, out_dir: Path, console: Console) -> list[Path]:
    """Tables, findings and Figures 7-20 analogues of an envelope study.

    Parameters
    ----------
    result : object
        The study result to render.
    out_dir : Path
        Folder for the figures.
    console : Console
        Console the tables are printed on (None: nothing printed).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    sweep, sc = result.sweep, result.scenarios
    console.print(metrics_table(sweep, sc))
    render_findings(result.findings, console)
    paths = [
        plot_profile(sweep, sc, sc.names[1], out_dir / f"envelopes_profile_{sc.names[1]}.png"),
        plot_ac_year(sweep, sc, out_dir / "envelopes_ac_year.png"),
        plot_ac_boxplots(sweep, sc, out_dir / "envelopes_ac_boxplots.png"),
        plot_ac_density(sweep, sc, out_dir / "envelopes_ac_density.png"),
        plot_released_energy(sweep, sc, out_dir / "envelopes_released_energy.png"),
    ]
    for p in paths:
        console.print(f"wrote {p}")
    return paths


def render_hosting(result, out_dir: Path, console: Console) -> list[Path]:
    """Figure 21 and Table 6 of a hosting study, with the findings.

    Parameters
    ----------
    result : object
        The study result to render.
    out_dir : Path
        Folder for the figures.
    console : Console
        Console the tables are printed on (None: nothing printed).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for t in hosting_tables(result.sweep):
        console.print(t)
    render_findings([f for f in result.findings if "hosting" in f.statement], console)
    p = plot_hosting(result.sweep, out_dir / "envelopes_hosting.png")
    console.print(f"wrote {p}")
    return [p]


def render_compute(result, scenario: str, out_dir: Path, console: Console) -> list[Path]:
    """Per-scenario summary of the VPP-average raw and mediated limits and the profile figure.

    Parameters
    ----------
    result : object
        The study result to render.
    scenario : str
        Scenario name, e.g. ``"Jan-non-workday"``.
    out_dir : Path
        Folder for the figures.
    console : Console
        Console the tables are printed on (None: nothing printed).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    sweep, sc = result.sweep, result.scenarios
    t = Table(title=f"VPP-average limits per site, {sc.location}, m = {sweep.m:g}")
    for c in (
        "scenario",
        "raw min kW",
        "raw mean kW",
        "mediated min kW",
        "mediated mean kW",
        "steps at 5 kW",
    ):
        t.add_column(c, justify="right" if c != "scenario" else "left")
    for j, name in enumerate(sc.names):
        med = sweep.mediated_per_site_kw[j]
        raw = sweep.raw_per_site_kw[j]
        t.add_row(
            name,
            f"{raw.min():.1f}",
            f"{raw.mean():.1f}",
            f"{med.min():.2f}",
            f"{med.mean():.2f}",
            f"{int(np.sum(med <= 5.0 + 1e-9))}",
        )
    console.print(keep_whole(t, 0))
    p = plot_profile(sweep, sc, scenario, out_dir / f"envelopes_profile_{scenario}.png")
    console.print(f"wrote {p}")
    return [p]


# ------------------------------------------------------------------------------ network envelopes
def plot_network_envelopes(comparison, path: Path) -> Path:
    """Per-site export envelopes over the day from the network's power flow and from the SAPN heuristic.

    Top: export envelope of every site (thin lines) and the site average (thick), both methods; middle: the
    network import envelopes; bottom: transformer loading and highest voltage from the exact power flow with
    every site exporting at each method's limits.

    Parameters
    ----------
    comparison : object
        Result of :func:`~openvpp.envelopes.network_envelopes.compare_with_heuristic`.
    path : Path
        Target PNG file.
    """
    from openvpp.envelopes.network_envelopes import check_envelopes

    fd, net = comparison.feeder, comparison.network
    n_t = len(fd.index)
    t = _hours(n_t)
    fig, axes = plt.subplots(3, 1, figsize=(9, 9), sharex=True)
    ax = axes[0]
    if net.export_kw is not None:
        ax.plot(t, net.export_kw.T, color="C0", lw=0.6, alpha=0.35)
        ax.plot(t, net.export_kw.mean(0), color="C0", lw=2.2, label=f"network ({net.fairness}), site mean")
    ax.plot(t, comparison.heuristic_export_kw.T, color="C3", lw=0.6, alpha=0.35, ls="--")
    ax.plot(t, comparison.heuristic_export_kw.mean(0), color="C3", lw=2.2, ls="--",
            label="SAPN heuristic (mediated), site mean")
    ax.set_ylabel("export envelope, kW per site")
    ax.set_title(f"{fd.grid_code}, {fd.day}: export envelopes per site (thin) and site mean (thick)")
    ax.legend(loc="upper right", fontsize=8)
    ax = axes[1]
    if net.import_kw is not None:
        ax.plot(t, net.import_kw.T, color="C2", lw=0.6, alpha=0.35)
        ax.plot(t, net.import_kw.mean(0), color="C2", lw=2.2, label=f"network ({net.fairness}), site mean")
        ax.legend(loc="upper right", fontsize=8)
    ax.set_ylabel("import envelope, kW per site")
    ax = axes[2]
    hc = comparison.heuristic_check
    lim = net.params
    if net.export_check is not None:
        ax.plot(t, net.export_check.trafo_loading, color="C0", lw=1.8, label="transformer loading, network")
    ax.plot(t, hc.trafo_loading, color="C3", lw=1.8, ls="--", label="transformer loading, heuristic")
    base = check_envelopes(fd.network, fd.p_base_kw, fd.q_base_kvar, [0], np.zeros((1, n_t)), "export",
                           lim["v_min_pu"], lim["v_max_pu"], lim["loading_max"])
    ax.plot(t, base.trafo_loading, color="0.5", lw=1, label="transformer loading, no envelope used")
    ax.axhline(lim["loading_max"], color="k", ls=":", lw=1)
    ax2 = ax.twinx()
    if net.export_check is not None:
        ax2.plot(t, net.export_check.v_max_pu, color="C0", lw=0.8, ls="-.")
    ax2.plot(t, hc.v_max_pu, color="C3", lw=0.8, ls="-.", label="highest voltage (dash-dot), pu")
    ax2.set_ylabel("highest voltage, pu")
    ax2.legend(loc="lower right", fontsize=8)
    ax.set_ylabel("loading (exact PF), -")
    ax.set_xlabel("hour of day (local)")
    ax.set_xlim(0, 24)
    ax.legend(loc="upper left", fontsize=8)
    return save_figure(fig, path, dpi=110)


def network_envelopes_table(comparison) -> Table:
    """Rich table: capacity released and exact power-flow check of both methods.

    Parameters
    ----------
    comparison : object
        Result of :func:`~openvpp.envelopes.network_envelopes.compare_with_heuristic`.
    """
    s = comparison.summary()
    net = comparison.network
    t = Table(title=f"{s['grid']}, {s['day']}: network envelopes ({s['fairness']}) vs SAPN heuristic, "
                    f"{s['n_sites']} sites")
    # violating = intervals with a limit exceeded by > 0.5 % (exact PF, all sites at their limits); added =
    # of those, where the limits make it worse than the uncontrolled state; uncontr. = already without them
    for c in ("method", "export kWh", "import kWh", "V max pu", "trafo max", "line max", "violating",
              "added", "uncontr."):
        t.add_column(c, justify="left" if c == "method" else "right")

    def row(name: str, kwh: float, imp: str, c: dict) -> None:
        t.add_row(name, f"{kwh:.1f}", imp, f"{c['v_max_pu']:.4f}", f"{c['trafo_loading_max']:.3f}",
                  f"{c['line_loading_max']:.3f}", str(c["intervals_violating"]),
                  str(c["intervals_violating_added"]), str(c["intervals_base_violating"]))

    if net.export_check is not None:
        row("network", s["network_export_kwh"], f"{s['network_import_kwh']:.1f}",
            s["network_export_check"])
    row("SAPN", s["heuristic_export_kwh"], "-", s["heuristic_check"])
    return keep_whole(t, 0, 1, 2)


def render_network(comparison, out_dir: Path, console: Console) -> list[Path]:
    """Table and figure of :func:`openvpp.envelopes.network_envelopes.compare_with_heuristic`.

    Parameters
    ----------
    comparison : object
        Result of :func:`~openvpp.envelopes.network_envelopes.compare_with_heuristic`.
    out_dir : Path
        Folder for the figures.
    console : Console
        Console the tables are printed on (None: nothing printed).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    console.print(network_envelopes_table(comparison))
    net = comparison.network
    hp = comparison.heuristic_params
    console.print(f"network: {net.method}; limits {net.params['v_min_pu']}-{net.params['v_max_pu']} pu, "
                  f"loading <= {net.params['loading_max']}. SAPN: constraint engine, m = {hp['m']}, "
                  f"mediated to [{hp['floor_kw']}, {hp['cap_kw']}] kW. violating: intervals with a limit "
                  "exceeded by > 0.5 % in the exact PF with every site at its limit; added: made worse "
                  "than without the limits; uncontr.: already violated without them.")
    fd = comparison.feeder
    p = plot_network_envelopes(comparison, out_dir / f"envelopes_network_{fd.grid_code}_{fd.day}.png")
    console.print(f"wrote {p}")
    return [p]


def write_site_envelopes(comparison, path: Path) -> Path:
    """Write the per-site network envelopes of a comparison: ``.csv`` or ``.parquet`` (one row per site and
    interval, :meth:`~openvpp.envelopes.network_envelopes.NetworkEnvelopes.to_frame`) or ``.json`` (the
    CSIP-AUS document of :meth:`~openvpp.envelopes.objects.EnvelopeSet.to_json`).

    Parameters
    ----------
    comparison : EnvelopeComparison
        Result of :func:`~openvpp.envelopes.network_envelopes.compare_with_heuristic`.
    path : pathlib.Path
        Target file; its suffix picks the format.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    net = comparison.network
    suffix = path.suffix.lower()
    if suffix == ".json":
        path.write_text(net.envelopes().to_json())
    elif suffix == ".parquet":
        net.to_frame().to_parquet(path, index=False)
    else:
        net.to_frame().to_csv(path, index=False)
    return path
