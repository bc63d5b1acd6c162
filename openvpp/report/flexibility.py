"""Figures and tables of operational flexibility: volumes, planes, P-Q regions and time strips (seed 003).

* :func:`plot_volume` - the (pi, rho, eps) flexibility volume, available against needed (seed 003 Figs 3, 9,
  10 (a-b), 14);
* :func:`plot_plane` - the (phi, psi) flexibility plane of a CCP, available against needed (Figs 9-10 (c-d));
* :func:`plot_pq_region` - the P-Q capability region of a CCP with its inner and outer polygons;
* :func:`plot_time_strip` - available against needed of one metric over a sequence of periods (a day).

``render_*`` functions write PNGs (matplotlib, Agg backend) and print rich tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from mpl_toolkits.mplot3d.art3d import Poly3DCollection
from rich.console import Console
from rich.table import Table

from openvpp.flex.aggregate import AggregateFlexibility
from openvpp.flex.metrics import METRICS
from openvpp.flex.request import FlexRequest, Verification
from openvpp.report import keep_whole, save_figure

AVAILABLE_COLOR = "tab:blue"
NEEDED_COLOR = "tab:red"

# faces of a box given by its 8 corners (bit order pi, rho, eps)
_FACES = [(0, 1, 3, 2), (4, 5, 7, 6), (0, 1, 5, 4), (2, 3, 7, 6), (0, 2, 6, 4), (1, 3, 7, 5)]


def _corners(lo: Sequence[float], hi: Sequence[float]) -> np.ndarray:
    bits = (np.arange(8)[:, None] >> np.arange(3)[None, :]) & 1
    return np.where(bits.astype(bool), np.asarray(hi, float), np.asarray(lo, float))


def _box3d(ax: Any, lo: Sequence[float], hi: Sequence[float], color: str, alpha: float, label: str) -> None:
    c = _corners(lo, hi)
    faces = [[c[i] for i in f] for f in _FACES]
    ax.add_collection3d(
        Poly3DCollection(faces, facecolor=color, edgecolor=color, alpha=alpha, linewidths=0.8)
    )
    ax.plot([], [], color=color, lw=6, alpha=0.6, label=label)


def _needed_box(
    need: dict[str, tuple[float, float]], metrics: Sequence[str]
) -> tuple[list[float], list[float]]:
    """The needed box drawn from the origin to the needed levels (a missing metric is drawn flat at 0)."""
    lo, hi = [], []
    for m in metrics:
        a, b = need.get(m, (0.0, 0.0))
        lo.append(min(a, 0.0))
        hi.append(max(b, 0.0))
    return lo, hi


def needs_at(request: FlexRequest | None, ccp: int | None) -> dict[str, tuple[float, float]]:
    """The needed intervals of ``request`` at one scope, by metric.

    Parameters
    ----------
    request : FlexRequest | None
        Needed flexibility (request).
    ccp : int | None
        Common connection point (index or None for the VPP). [-]
    """
    if request is None:
        return {}
    return {n.metric: (n.lo, n.hi) for n in request.needs if n.ccp == ccp}


def plot_volume(
    ax: Any,
    available: AggregateFlexibility,
    ccp: int | None = None,
    request: FlexRequest | None = None,
    title: str = "",
) -> None:
    """Draw the (pi, rho, eps) box of one scope and the needed box of a request (seed 003 Figs 3, 10, 14).

    Parameters
    ----------
    ax : Any
        Matplotlib axes to draw on.
    available : AggregateFlexibility
        Available flexibility (aggregate).
    ccp : int | None
        Common connection point (index or None for the VPP). [-]
    request : FlexRequest | None
        Needed flexibility (request).
    title : str
        Figure or table title.
    """
    lo = [available.interval(m, ccp)[0] for m in ("pi", "rho", "eps")]
    hi = [available.interval(m, ccp)[1] for m in ("pi", "rho", "eps")]
    _box3d(ax, lo, hi, AVAILABLE_COLOR, 0.18, "available")
    pts = [lo, hi]
    if request is not None:
        nlo, nhi = _needed_box(needs_at(request, ccp), ("pi", "rho", "eps"))
        _box3d(ax, nlo, nhi, NEEDED_COLOR, 0.30, f"needed ({request.name})")
        pts += [nlo, nhi]
    arr = np.array(pts)
    pad = 0.08 * np.maximum(np.ptp(arr, axis=0), 1e-3)
    ax.set_xlim(arr[:, 0].min() - pad[0], arr[:, 0].max() + pad[0])
    ax.set_ylim(arr[:, 1].min() - pad[1], arr[:, 1].max() + pad[1])
    ax.set_zlim(arr[:, 2].min() - pad[2], arr[:, 2].max() + pad[2])
    ax.set_xlabel("π [MW]")
    ax.set_ylabel("ρ [MW/min]")
    ax.set_zlabel("ε [MWh]")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="upper left", fontsize=7)


def plot_plane(
    ax: Any, available: AggregateFlexibility, ccp: int, request: FlexRequest | None = None, title: str = ""
) -> None:
    """Draw the (phi, psi) rectangle of one CCP, and the needed rectangle (seed 003 Figs 9-10 (c-d)).

    Parameters
    ----------
    ax : Any
        Matplotlib axes to draw on.
    available : AggregateFlexibility
        Available flexibility (aggregate).
    ccp : int
        Common connection point (index or None for the VPP). [-]
    request : FlexRequest | None
        Needed flexibility (request).
    title : str
        Figure or table title.
    """
    (p_lo, p_hi), (s_lo, s_hi) = available.interval("phi", ccp), available.interval("psi", ccp)
    ax.add_patch(
        plt.Rectangle(
            (p_lo, s_lo), p_hi - p_lo, s_hi - s_lo, color=AVAILABLE_COLOR, alpha=0.25, label="available"
        )
    )
    xs, ys = [p_lo, p_hi], [s_lo, s_hi]
    need = needs_at(request, ccp)
    if request is not None and need:
        (a, b), (c, d) = need.get("phi", (0.0, 0.0)), need.get("psi", (0.0, 0.0))
        a, b, c, d = min(a, 0.0), max(b, 0.0), min(c, 0.0), max(d, 0.0)
        ax.add_patch(
            plt.Rectangle(
                (a, c),
                b - a,
                d - c,
                fill=False,
                edgecolor=NEEDED_COLOR,
                lw=2,
                hatch="//",
                label=f"needed ({request.name})",
            )
        )
        xs += [a, b]
        ys += [c, d]
    span_x, span_y = max(np.ptp(xs), 1e-3), max(np.ptp(ys), 1e-3)
    ax.set_xlim(min(xs) - 0.1 * span_x, max(xs) + 0.1 * span_x)
    ax.set_ylim(min(ys) - 0.1 * span_y, max(ys) + 0.1 * span_y)
    ax.axhline(0, color="0.6", lw=0.6)
    ax.axvline(0, color="0.6", lw=0.6)
    ax.set_xlabel("φ [Mvar]")
    ax.set_ylabel("ψ [Mvar/min]")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="upper left", fontsize=7)


def plot_pq_region(ax: Any, available: AggregateFlexibility, ccp: int, title: str = "") -> None:
    """Draw the P-Q capability region of a CCP: outer and inner polygons from support functions.

    Parameters
    ----------
    ax : Any
        Matplotlib axes to draw on.
    available : AggregateFlexibility
        Available flexibility (aggregate).
    ccp : int
        Common connection point (index or None for the VPP). [-]
    title : str
        Figure or table title.
    """
    if available.pq is None:
        raise ValueError("the aggregate has no P-Q regions; call aggregate(..., pq_directions=K)")
    i = available.row(ccp)
    outer, inner = available.pq.outer[i], available.pq.inner[i]
    ax.fill(
        outer[:, 0], outer[:, 1], color=AVAILABLE_COLOR, alpha=0.15, label=f"outer ({len(outer)} directions)"
    )
    ax.plot(*np.vstack((inner, inner[:1])).T, color=AVAILABLE_COLOR, lw=1.2, label="inner (support points)")
    ax.set_xlabel("π [MW]")
    ax.set_ylabel("φ [Mvar]")
    ax.set_title(f"{title}\ngap {available.pq.gap[i]:.2g} MW", fontsize=9)
    ax.axhline(0, color="0.6", lw=0.6)
    ax.axvline(0, color="0.6", lw=0.6)
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(loc="upper left", fontsize=7)


def plot_time_strip(
    ax: Any,
    labels: Sequence[Any],
    available_lo: Sequence[float],
    available_hi: Sequence[float],
    needed_lo: Sequence[float] | None = None,
    needed_hi: Sequence[float] | None = None,
    metric: str = "pi",
    title: str = "",
) -> None:
    """Available band of one metric per period with the needed interval on top (red where not met).

    Parameters
    ----------
    ax : Any
        Matplotlib axes to draw on.
    labels : Sequence[Any]
        Labels of the time steps.
    available_lo : Sequence[float]
        Lower available value per step. [metric unit]
    available_hi : Sequence[float]
        Upper available value per step. [metric unit]
    needed_lo : Sequence[float] | None
        Lower needed value per step. [metric unit]
    needed_hi : Sequence[float] | None
        Upper needed value per step. [metric unit]
    metric : str
        Metric name (``pi``, ``rho``, ``epsilon``, ``phi``, ``psi``).
    title : str
        Figure or table title.
    """
    x = np.arange(len(labels))
    lo, hi = np.asarray(available_lo, float), np.asarray(available_hi, float)
    ax.fill_between(x, lo, hi, step="mid", color=AVAILABLE_COLOR, alpha=0.25, label="available")
    if needed_lo is not None and needed_hi is not None:
        nlo, nhi = np.asarray(needed_lo, float), np.asarray(needed_hi, float)
        ok = (nhi <= hi + 1e-9) & (nlo >= lo - 1e-9)
        for k in range(len(x)):
            color = "k" if ok[k] else NEEDED_COLOR
            ax.plot([x[k] - 0.35, x[k] + 0.35], [nhi[k], nhi[k]], color=color, lw=2)
            if nlo[k] != nhi[k]:
                ax.plot([x[k] - 0.35, x[k] + 0.35], [nlo[k], nlo[k]], color=color, lw=2)
        ax.plot([], [], color="k", lw=2, label="needed (met)")
        if not np.all(ok):
            ax.plot([], [], color=NEEDED_COLOR, lw=2, label="needed (not met)")
    step = max(1, len(labels) // 12)
    ax.set_xticks(x[::step])
    ax.set_xticklabels([str(v) for v in labels][::step], rotation=0, fontsize=7)
    spec = METRICS[metric]
    ax.set_ylabel(f"{spec.symbol} [{spec.aggregate_unit}]")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="best", fontsize=7)


# ---------------------------------------------------------------------------------------------- renderers
def _save(fig: Any, out_dir: Path, name: str) -> Path:
    return save_figure(fig, out_dir / name)


def _fmt(iv: tuple[float, float]) -> str:
    return f"[{iv[0]:.3g}, {iv[1]:.3g}]"


def verification_table(ver: Verification, title: str | None = None) -> Table:
    """A rich table of one verification: each need, available interval, margin and verdict.

    Parameters
    ----------
    ver : Verification
        Verification result.
    title : str | None
        Figure or table title.
    """
    t = Table(title=title or f"{ver.request} ({ver.label})")
    for col in ("metric", "scope", "eq.", "needed", "available", "deficit", "met"):
        t.add_column(col)
    for i, m in enumerate(ver.metric):
        unit = METRICS[m].aggregate_unit
        t.add_row(
            m,
            ver.scope[i],
            f"({ver.equation[i]})",
            f"{_fmt((ver.needed_lo[i], ver.needed_hi[i]))} {unit}",
            f"{_fmt((ver.available_lo[i], ver.available_hi[i]))} {unit}",
            f"{ver.deficit[i]:.3g}",
            "[green]yes[/]" if ver.met[i] else "[red]NO[/]",
        )
    return t


def render_flexibility_paper(result: Any, out_dir: Path, console: Console | None = None) -> list[Path]:
    """Write the figures of both cases of seed 003 §4 and print their tables.

    Parameters
    ----------
    result : openvpp.studies.flexibility_paper.FlexibilityPaperResult
    out_dir : pathlib.Path
        Folder for the PNG files.
    console : rich.console.Console, optional

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    out_dir = Path(out_dir)
    c1, c2 = result.case1, result.case2
    names = dict(zip(c1.aggregates["P50"].ccp_codes.tolist(), c1.aggregates["P50"].ccp_names, strict=True))
    paths = []
    # case 1, Fig. 9: volumes and planes per grid at P50
    agg = c1.aggregates["P50"]
    fig = plt.figure(figsize=(10, 8))
    for k, code in enumerate(agg.ccp_codes):
        ax = fig.add_subplot(2, 2, k + 1, projection="3d")
        plot_volume(ax, agg, int(code), title=f"case 1 - volume, {names[int(code)]} (P50)")
        ax2 = fig.add_subplot(2, 2, k + 3)
        plot_plane(ax2, agg, int(code), title=f"case 1 - plane, {names[int(code)]} (P50)")
    paths.append(_save(fig, out_dir, "flex_case1_aggregate.png"))
    # case 1, Fig. 10: verification at VPP and per grid
    fig = plt.figure(figsize=(14, 4.5))
    ax = fig.add_subplot(1, 3, 1, projection="3d")
    plot_volume(ax, agg, None, c1.request, title="case 1 - VPP volume vs needed (P50)")
    for k, code in enumerate(agg.ccp_codes):
        ax2 = fig.add_subplot(1, 3, k + 2)
        plot_plane(ax2, agg, int(code), c1.request, title=f"case 1 - {names[int(code)]}: φ, ψ vs needed")
    paths.append(_save(fig, out_dir, "flex_case1_verification.png"))
    # case 1: P-Q regions per grid at P10 / P50 / P90
    if agg.pq is not None:
        fig, axes = plt.subplots(1, len(agg.ccp_codes), figsize=(10, 4.5))
        for ax, code in zip(np.atleast_1d(axes), agg.ccp_codes, strict=True):
            for q, a in c1.aggregates.items():
                i = a.row(int(code))
                o = a.pq.outer[i]
                ax.plot(*np.vstack((o, o[:1])).T, lw=1.2, label=q)
            ax.set_xlabel("π [MW]")
            ax.set_ylabel("φ [Mvar]")
            ax.set_title(f"case 1 - P-Q region, {names[int(code)]}", fontsize=9)
            ax.set_aspect("equal", adjustable="datalim")
            ax.legend(fontsize=7)
        paths.append(_save(fig, out_dir, "flex_case1_pq.png"))
    # case 2, Fig. 14: t1-t3 and t4
    fig = plt.figure(figsize=(10, 4.5))
    for k, idx in enumerate((0, len(c2.requests) - 1)):
        ax = fig.add_subplot(1, 2, k + 1, projection="3d")
        req = c2.requests[idx]
        label = "t1-t3" if idx == 0 else req.name
        plot_volume(ax, c2.aggregate, None, req, title=f"case 2 - H1 + PV1 vs needed, {label}")
    paths.append(_save(fig, out_dir, "flex_case2_volumes.png"))
    # case 2: time strip of pi and eps over the four periods
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    labels = [r.name for r in c2.requests]
    for ax, m in zip(axes, ("pi", "rho", "eps"), strict=True):
        lo = [c2.aggregate.vpp_lo[m]] * len(labels)
        hi = [c2.aggregate.vpp_hi[m]] * len(labels)
        nlo = [next(n.lo for n in r.needs if n.metric == m) for r in c2.requests]
        nhi = [next(n.hi for n in r.needs if n.metric == m) for r in c2.requests]
        plot_time_strip(ax, labels, lo, hi, nlo, nhi, metric=m, title=f"case 2 - {METRICS[m].meaning}")
    paths.append(_save(fig, out_dir, "flex_case2_strip.png"))
    if console is not None:
        t = Table(title="Case 1 (seed 003 §4.1): available flexibility by probability of occurrence")
        for col in (
            "P",
            "scope",
            "π [MW]",
            "ρ [MW/min]",
            "ε [MWh]",
            "φ [Mvar]",
            "ψ [Mvar/min]",
            "request met",
        ):
            t.add_column(col)
        for row in c1.quantile_table():
            t.add_row(
                row["quantile"],
                row["scope"],
                _fmt(row["pi"]),
                _fmt(row["rho"]),
                _fmt(row["eps"]) if "eps" in row else "-",
                _fmt(row["phi"]) if "phi" in row else "-",
                _fmt(row["psi"]) if "psi" in row else "-",
                "[green]yes[/]" if row["met"] else "[red]NO[/]",
            )
        console.print(keep_whole(t, 0))
        console.print(verification_table(c1.verification["P50"], "Case 1, t1 request at P50"))
        for line in c1.verification["P50"].violations():
            console.print(f"  [red]{line}[/]")
        a2 = c2.aggregate
        console.print(
            f"Case 2 (seed 003 §4.2): H1 + PV1 aggregate π {_fmt(a2.interval('pi'))} MW, "
            f"ρ {_fmt(a2.interval('rho'))} MW/min, ε {_fmt(a2.interval('eps'))} MWh"
        )
        for ver in c2.verification:
            console.print(verification_table(ver, f"Case 2, period {ver.request}"))
            for line in ver.violations():
                console.print(f"  [red]{line}[/]")
        for p in paths:
            console.print(f"wrote {p}")
    return paths


def render_fleet_flexibility(
    result: Any, out_dir: Path | None = None, console: Console | None = None, max_rows: int = 20
) -> list[Path]:
    """Print per-CCP flexibility of a fleet with its P10 / P50 / P90 table, and write a figure.

    Parameters
    ----------
    result : openvpp.flex.fleet.FleetFlexibility
    out_dir : pathlib.Path, optional
        Folder for ``flex_fleet.png`` (the VPP volume and the time strip of pi); None: no figure.
    console : rich.console.Console, optional
    max_rows : int
        CCP rows printed per quantile. [-]
    """
    paths: list[Path] = []
    if console is not None:
        t = Table(
            title=f"Flexibility of fleet '{result.fleet_name}' at {result.time} (horizon "
            f"{result.horizon_h:g} h, injection +)"
        )
        for col in ("P", "scope", "devices", "π [MW]", "ρ [MW/min]", "ε [MWh]", "φ [Mvar]", "ψ [Mvar/min]"):
            t.add_column(col)
        for q, agg in result.aggregates.items():
            limit = max_rows
            for i, name in enumerate(agg.ccp_names[:limit]):
                t.add_row(
                    q,
                    name,
                    str(int(agg.n_devices[i])),
                    *(_fmt((agg.ccp_lo[m][i], agg.ccp_hi[m][i])) for m in METRICS),
                )
            if len(agg.ccp_names) > limit:
                t.add_row(q, f"... {len(agg.ccp_names) - limit} more CCPs", "", "", "", "", "", "")
            t.add_row(
                f"[bold]{q}[/]",
                "[bold]VPP[/]",
                str(int(agg.n_devices.sum())),
                *(_fmt(agg.interval(m)) for m in ("pi", "rho", "eps")),
                "-",
                "-",
            )
        console.print(keep_whole(t, 0))
        console.print("by class: " + ", ".join(f"{k} {v}" for k, v in result.device_counts.items()))
        for note in result.notes:
            console.print(f"[dim]{note}[/]")
    if out_dir is not None:
        panels = 1 if result.strip is None else 2
        fig = plt.figure(figsize=(6 * panels, 4.5))
        ax = fig.add_subplot(1, panels, 1, projection="3d")
        plot_volume(ax, result.aggregates["P50"], None, title=f"VPP volume at {result.time} (P50)")
        if result.strip is not None:
            ax2 = fig.add_subplot(1, 2, 2)
            lbl, lo, hi = result.strip
            plot_time_strip(ax2, lbl, lo, hi, metric="pi", title="VPP π over the day (P50)")
        paths.append(_save(fig, Path(out_dir), "flex_fleet.png"))
        if console is not None:
            console.print(f"wrote {paths[-1]}")
    return paths
