"""Figures and tables of the LV-network OPF study (seed 000 §7.3-7.4) and of ``openvpp opf``.

Figures (PNG, matplotlib Agg), one set per network:

* ``chile_net_power_<net>.png`` — aggregated net power of the VPP households over the day for SC, no GC
  and GC, service period at 20:00 shaded (Figs 13-16 of the report);
* ``chile_midday_<net>.png`` — the same with the service period at 12:30, no GC vs GC (Fig 19);
* ``chile_boxplots_<net>.png`` — voltage magnitudes and line / transformer utilisation at the service step
  from the exact power flow, SC vs no GC vs GC (Figs 17-18);
* ``chile_hosting.png`` — VPP hosting share per network (two voltage limits, spread over random join
  orders, the report's own measure) against the report's 21-25 % (§7.4).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from openvpp.grid.opf import OPFResult
from openvpp.report import save_figure
from openvpp.studies.chile_technical import STEP_MIN, ChileTechnicalResult, NetworkStudy, json_safe
from openvpp.studies.user_opf import dispatch_frame
from openvpp.units import MIN_PER_H

LABELS = {"sc": "SC", "no_gc": "VPP no GC", "gc": "VPP GC", "no_gc_1230": "VPP no GC", "gc_1230": "VPP GC"}
COLOURS = {"sc": "tab:gray", "no_gc": "tab:orange", "gc": "tab:blue", "no_gc_1230": "tab:orange",
           "gc_1230": "tab:blue"}


def _hours(n: int) -> np.ndarray:
    return np.arange(n) * STEP_MIN / MIN_PER_H


def _net_power(ax, study: NetworkStudy, names: tuple[str, ...], step: int) -> None:
    for name in names:
        r = study.results[name]
        ax.step(_hours(r.p_vpp_kw.size), r.p_vpp_kw, where="post", label=LABELS[name], color=COLOURS[name],
                ls="--" if name.startswith("no_gc") else "-")
    h = step * STEP_MIN / MIN_PER_H
    ax.axvspan(h, h + STEP_MIN / MIN_PER_H, color="gold", alpha=0.3, label="service")
    ax.axhline(0.0, color="k", lw=0.5)
    ax.set_xlabel("hour of day")
    ax.set_ylabel("aggregated net power of VPP households [kW]\n(+ import, - export)")
    ax.set_title(study.case.label)
    ax.legend(loc="best", fontsize=8)


def plot_net_power(study: NetworkStudy, path: Path) -> Path:
    """SC / no GC / GC aggregated net power over the day (Figs 13-16 of seed 000).

    Parameters
    ----------
    study : NetworkStudy
        One network's results.
    path : Path
        PNG file to write.

    Returns
    -------
    Path
    """
    fig, ax = plt.subplots(figsize=(8, 4))
    _net_power(ax, study, ("sc", "no_gc", "gc"), study.service_step)
    return save_figure(fig, path, dpi=120)


def plot_midday(study: NetworkStudy, path: Path) -> Path:
    """No GC vs GC with the service period at 12:30 (Fig 19 of seed 000).

    Parameters
    ----------
    study : NetworkStudy
        One network's results.
    path : Path
        PNG file to write.

    Returns
    -------
    Path
    """
    fig, ax = plt.subplots(figsize=(8, 4))
    _net_power(ax, study, ("no_gc_1230", "gc_1230"), study.midday_step)
    return save_figure(fig, path, dpi=120)


def plot_boxplots(study: NetworkStudy, path: Path) -> Path:
    """Voltage and line / transformer utilisation at the service step (Figs 17-18 of seed 000).

    Parameters
    ----------
    study : NetworkStudy
        One network's results.
    path : Path
        PNG file to write.

    Returns
    -------
    Path
    """
    names = ("sc", "no_gc", "gc")
    s = study.service_step
    fig, axes = plt.subplots(1, 3, figsize=(11, 4))
    data = [
        ([study.results[n].v_exact_pu[:, :, s].ravel() for n in names], "voltage [pu]"),
        ([100 * study.results[n].line_utilisation[:, :, s].ravel() for n in names], "line utilisation [%]"),
        ([100 * study.results[n].trafo_utilisation[:, s] for n in names], "transformer utilisation [%]"),
    ]
    for ax, (vals, label) in zip(axes, data, strict=True):
        ax.boxplot(vals)
        ax.set_xticks(range(1, len(names) + 1), [LABELS[n] for n in names])
        ax.set_ylabel(label)
    hh, mm = divmod(s * STEP_MIN, int(MIN_PER_H))
    fig.suptitle(f"{study.case.label} at {hh:02d}:{mm:02d} (exact power flow)")
    return save_figure(fig, path, dpi=120)


def plot_hosting(result: ChileTechnicalResult, path: Path) -> Path:
    """VPP hosting share per network (§7.4 of seed 000): scans, join-order spread, the report's measure.

    Parameters
    ----------
    result : ChileTechnicalResult
        The study.
    path : Path
        PNG file to write.

    Returns
    -------
    Path
    """
    fig, ax = plt.subplots(figsize=(8, 4.5))
    labels, scan, tight, rep, med, lo, hi = [], [], [], [], [], [], []
    for st in result.studies:
        d = st.to_dict()["hosting"]
        labels.append(st.case.key)
        jo = d.get("join_orders", {"median": np.nan, "min": np.nan, "max": np.nan})
        med.append(100 * jo["median"])
        lo.append(100 * (jo["median"] - jo["min"]))
        hi.append(100 * (jo["max"] - jo["median"]))
        scan.append(100 * d["scan"]["share"] if "scan" in d else np.nan)
        tight.append(100 * d["scan_tight_vmax"]["share"] if "scan_tight_vmax" in d else np.nan)
        rep.append(100 * d["report_method_share"])
    x = np.arange(len(labels))
    v_max = result.params.get("v_max_pu")
    v_tight = result.params.get("tight_v_max_pu")
    ax.bar(x - 0.27, scan, 0.27, label=f"all members export 5 kW, exact PF (v_max {v_max} pu)")
    if not np.all(np.isnan(med)):
        ax.errorbar(x - 0.27, med, yerr=[lo, hi], fmt="o", color="k", capsize=3,
                    label="median and range over other random join orders")
    ax.bar(x, tight, 0.27, label=f"same, v_max {v_tight} pu")
    ax.bar(x + 0.27, rep, 0.27, label="GC export at 20:00 / 5 kW (report's measure)")
    ax.set_xticks(x, labels)
    ax.set_ylim(0, 135)
    ax.set_ylabel("VPP hosting share [% of customers]")
    ax.legend(fontsize=8, loc="upper center", ncol=1)
    return save_figure(fig, path, dpi=120)


def render_chile_technical(
    result: ChileTechnicalResult, out_dir: Path, console: Console | None = None
) -> list[Path]:
    """Write every figure of the study and print a summary table.

    Parameters
    ----------
    result : ChileTechnicalResult
        The study.
    out_dir : Path
        Folder for the PNGs (created if needed).
    console : rich.console.Console, optional
        Where to print the table and the file names (nothing printed when None).

    Returns
    -------
    list of Path
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for st in result.studies:
        paths.append(plot_net_power(st, out_dir / f"chile_net_power_{st.case.key}.png"))
        paths.append(plot_midday(st, out_dir / f"chile_midday_{st.case.key}.png"))
        paths.append(plot_boxplots(st, out_dir / f"chile_boxplots_{st.case.key}.png"))
    if any(st.hosting is not None for st in result.studies):
        paths.append(plot_hosting(result, out_dir / "chile_hosting.png"))
    if console is not None:
        console.print(chile_table(result))
        for p in paths:
            console.print(f"wrote {p}")
    return paths


def chile_table(result: ChileTechnicalResult) -> Table:
    """One row per network and case: service power, OPF-vs-exact error, worst violation, iterations.

    Parameters
    ----------
    result : ChileTechnicalResult
        The study.

    Returns
    -------
    rich.table.Table
    """
    tab = Table(title="Chile roadmap §7 on public LV networks (exact power flow validation)")
    for col in ("network", "case", "service P_vpp [kW]", "iterations", "|V_opf - V_exact| [pu]",
                "V range [pu]", "max line / trafo util", "worst violation [%]", "hosting share"):
        tab.add_column(col)
    for st in result.studies:
        d = st.to_dict()
        host = d["hosting"].get("scan")
        for name, c in d["cases"].items():
            err = c["v_error_pu"]
            tab.add_row(
                st.case.key, LABELS[name] + (" 12:30" if name.endswith("1230") else ""),
                f"{c['service_p_vpp_kw']:.1f}", str(c["iterations"]),
                "-" if err is None else f"{err:.1e}",
                f"{c['v_exact_min_pu']:.3f}-{c['v_exact_max_pu']:.3f}",
                f"{c['line_utilisation_max']:.2f} / {c['trafo_utilisation_max']:.2f}",
                f"{c['max_violation_pct']:.2f}",
                f"{100 * host['share']:.0f} %" if (host and name == "gc") else "",
            )
    return tab


def opf_table(result: OPFResult) -> Table:
    """Summary of one ``openvpp opf`` run.

    Parameters
    ----------
    result : OPFResult
        The OPF result.

    Returns
    -------
    rich.table.Table
    """
    gc = "on" if result.grid_constraints else "off"
    tab = Table(title=f"OPF ({result.objective}, grid constraints {gc})")
    tab.add_column("quantity")
    tab.add_column("value")
    for k, v in result.summary().items():
        tab.add_row(k, f"{v:.4g}" if isinstance(v, float) else str(v))
    return tab


# ---------------------------------------------------------------------------------------------- openvpp opf
def opf_payload(
    index: pd.DatetimeIndex, result: OPFResult, paths: list[Path] | None = None
) -> dict[str, object]:
    """The ``openvpp opf --json`` document: summary, per-site set-points per step, violations, files.

    Parameters
    ----------
    index : pandas.DatetimeIndex, shape (n_steps,)
        Time of each step.
    result : OPFResult
        The OPF result.
    paths : list of Path, optional
        Files written (``--out``).

    Returns
    -------
    dict
        Standard JSON values only (``None`` where undefined). Powers in kW (+ = import / charging),
        energies in kWh.
    """
    bat_ids = result.site_ids.astype(str)[result.battery_site_index].tolist()
    payload = {
        **result.summary(),
        "time": [t.isoformat() for t in index],
        "p_vpp_kw": result.p_vpp_kw.tolist(),
        "sites": {
            "site_id": result.site_ids.astype(str).tolist(),
            "managed": result.managed.tolist(),
            "p_site_kw": result.p_site_kw.tolist(),
            "q_site_kvar": result.q_site_kvar.tolist(),
        },
        "batteries": {
            "site_id": bat_ids,
            "p_battery_kw": result.p_battery_kw.tolist(),
            "e_battery_kwh": result.e_battery_kwh.tolist(),
        },
        "violations": result.violations.head(20).to_dict(orient="records"),
        "files": [str(p) for p in (paths or [])],
    }
    return json_safe(payload)


def write_opf_outputs(index: pd.DatetimeIndex, result: OPFResult, out_dir: Path) -> list[Path]:
    """Write the dispatch (per site, per step) as CSV and Parquet, and the figures of one ``openvpp opf`` run.

    Files: ``opf_dispatch.csv`` and ``opf_dispatch.parquet`` (:func:`openvpp.studies.user_opf.
    dispatch_frame`), ``opf_net_power.png`` (aggregated net power of the VPP households and of every site
    over time) and ``opf_voltage.png`` (lowest and highest phase voltage per step from the exact power flow).

    Parameters
    ----------
    index : pandas.DatetimeIndex, shape (n_steps,)
        Time of each step.
    result : OPFResult
        The OPF result.
    out_dir : Path
        Folder (created if needed).

    Returns
    -------
    list of Path
        The files written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frame = dispatch_frame(index, result)
    csv, parquet = out / "opf_dispatch.csv", out / "opf_dispatch.parquet"
    frame.to_csv(csv, index=False)
    frame.to_parquet(parquet, index=False)
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.step(index, result.p_vpp_kw, where="post", label="VPP households (managed)")
    ax.step(index, result.p_total_kw, where="post", label="all sites", ls="--")
    ax.axhline(0.0, color="k", lw=0.5)
    ax.set_ylabel("aggregated net power [kW]\n(+ import, - export)")
    gc = "on" if result.grid_constraints else "off"
    ax.set_title(f"OPF dispatch ({result.objective}, grid constraints {gc})")
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    p1 = save_figure(fig, out / "opf_net_power.png", dpi=120)
    v = result.v_exact_pu
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.step(index, v.min(axis=(0, 1)), where="post", label="lowest phase voltage")
    ax.step(index, v.max(axis=(0, 1)), where="post", label="highest phase voltage")
    ax.set_ylabel("voltage, exact power flow [pu]")
    ax.set_title("Voltage range of the dispatch")
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    p2 = save_figure(fig, out / "opf_voltage.png", dpi=120)
    return [csv, parquet, p1, p2]
