"""Figures and tables of the scheduler: committed capacity per service with the SoC band, study charts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from openvpp.report import save_figure

__all__ = ["plot_arbitrage", "plot_commitment", "render_schedule"]


def plot_commitment(plan: Any, path: str | Path, title: str = "") -> Path:
    """Stacked committed capacity per service (up above zero, down below) and the fleet's SoC band.

    Parameters
    ----------
    plan : Plan
        The plan.
    path : str or pathlib.Path
        PNG file.
    title : str
        Figure title.

    Returns
    -------
    pathlib.Path
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    up = plan.commitment_up_mw * 1000.0
    dn = plan.commitment_down_mw * 1000.0
    x = plan.index.tz_localize(None)
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(10, 7), sharex=True, height_ratios=[3, 2])
    colors = plt.get_cmap("tab10")
    pos = np.zeros(len(x))
    neg = np.zeros(len(x))
    for k, key in enumerate(plan.services):
        u, d = up[key].to_numpy(), dn[key].to_numpy()
        if np.any(u > 1e-9):
            ax.fill_between(
                x, pos, pos + u, step="post", color=colors(k % 10), alpha=0.8, label=f"{key} (up)"
            )
            pos = pos + u
        if np.any(d > 1e-9):
            ax.fill_between(
                x,
                neg,
                neg - d,
                step="post",
                color=colors(k % 10),
                alpha=0.45,
                hatch="//",
                label=f"{key} (down)",
            )
            neg = neg - d
    ax.axhline(0.0, color="k", lw=0.6)
    ax.set_ylabel("committed reserve [kW]\n(+ raise / up, - lower / down)")
    ax.legend(loc="upper left", fontsize=7, ncol=3)
    ax.set_title(title or f"committed capacity per service ({plan.meta.get('method', '')})")
    st = plan.has_storage
    if np.any(st):
        emax = plan.e_max_kwh[st][:, None]
        e = (plan.soc_baseline[st] * emax).sum(axis=0)
        lo = (plan.soc_min[st] * emax).sum(axis=0)
        hi = (plan.soc_max[st] * emax).sum(axis=0)
        cap = float(emax.sum())
        ax2.fill_between(
            x,
            lo / cap,
            hi / cap,
            step="post",
            color="tab:green",
            alpha=0.3,
            label="SoC band honouring every reserve",
        )
        ax2.plot(
            plan.index.tz_localize(None).append(plan.index[-1:].tz_localize(None) + (x[1] - x[0])),
            e / cap,
            color="tab:green",
            lw=1.5,
            label="planned SoC (fleet storage)",
        )
        ax2.set_ylim(0, 1)
    ax2.set_ylabel("state of charge [-]")
    ax2.set_xlabel(f"time ({plan.index.tz})")
    ax2.legend(loc="upper left", fontsize=8)
    return save_figure(fig, path)


def render_schedule(result: Any, out_dir: str | Path | None, console: Any) -> list[Path]:
    """Write the plan (Parquet + CSV) and its figure into ``out_dir`` and print the summary tables.

    Parameters
    ----------
    result : FleetPlanResult
        From :func:`openvpp.schedule.stacking.plan_fleet`.
    out_dir : str or pathlib.Path or None
        Folder (None: print only).
    console : rich.console.Console or None
        Where to print.

    Returns
    -------
    list of pathlib.Path
    """
    from rich.table import Table

    written: list[Path] = []
    if out_dir is not None:
        folder = Path(out_dir)
        written.append(result.plan.to_parquet(folder / "plan"))
        written.append(result.plan.to_csv(folder / "plan_csv"))
        written.append(plot_commitment(result.plan, folder / f"schedule_{result.method}.png"))
    if console is not None:
        table = Table(
            title=f"day-ahead plan ({result.method}): {result.plan.n_devices} devices, "
            f"{result.plan.n_sites} sites, {result.plan.n_steps} steps"
        )
        table.add_column("item")
        table.add_column(f"value [{result.currency}]", justify="right")
        for row in result.revenue.itertuples():
            table.add_row(str(row.item), f"{row.value:,.2f}")
        console.print(table)
        console.print(f"deliverability: {result.check.summary()}")
        console.print(f"solve time: {result.solve_s:.2f} s")
        for p in written:
            console.print(f"wrote {p}")
    return written


def plot_arbitrage(frame: Any, path: str | Path, currency: str = "AUD") -> Path:
    """Mean annual benefit per site against the export limit, energy only and with FCAS, seed 001 Fig. 26.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows per export limit with ``limit_kw``, ``benefit_energy`` and ``benefit_total``. [kW], [currency]
    path : str or pathlib.Path
        PNG file.
    currency : str
        Currency label.

    Returns
    -------
    pathlib.Path
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    x = np.arange(len(frame))
    ax.bar(x - 0.2, frame["benefit_energy"], 0.4, label="energy arbitrage (as the seed counts it)")
    ax.bar(x + 0.2, frame["benefit_total"], 0.4, label="energy + contingency FCAS")
    seed = {2.0: 164.0, 5.0: 388.0, 10.0: 423.0}
    ref = [seed.get(float(v), np.nan) for v in frame["limit_kw"]]
    ax.plot(x, ref, "k_", ms=30, mew=2, label="seed 001 §5.4.4 (164 / 388 / 423)")
    ax.set_xticks(x, [f"{v:g} kW" for v in frame["limit_kw"]])
    ax.set_xlabel("site export limit")
    ax.set_ylabel(f"mean benefit per site and year over 0 kW [{currency}]")
    ax.legend(fontsize=8)
    ax.set_title("Arbitrage + FCAS benefit of raising the export limit (SA1 2019-20)")
    return save_figure(fig, path)
