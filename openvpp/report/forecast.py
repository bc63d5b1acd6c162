"""Rendering of forecast skill: the rich skill table and the P10 / P50 / P90 against actual figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from rich.console import Console
from rich.table import Table

from openvpp.forecast.backtest import ForecastSkillStudy
from openvpp.report import keep_whole, save_figure

__all__ = ["plot_forecast_example", "render_forecast_skill", "skill_table"]

_TITLES = {"load": "Household load", "pv": "PV generation"}


def skill_table(result: ForecastSkillStudy) -> Table:
    """The skill table of a study as a rich table (metrics in kW, coverage and skill scores as fractions).

    Parameters
    ----------
    result : ForecastSkillStudy
        Result of :func:`openvpp.forecast.backtest.backtest_simbench`.

    Returns
    -------
    rich.table.Table
    """
    table = Table(
        title=f"Day-ahead forecast skill on {len(result.days)} held-out SimBench days ({result.grid}; "
        f"{result.n_load_sites} households, {result.n_pv_sites} PV)"
    )
    for col in ("quantity", "season", "method", "MAE kW", "RMSE kW", "pinball kW", "P10-P90 cover",
                "skill MAE", "skill RMSE", "skill pinball"):
        table.add_column(col, justify="left" if col in ("quantity", "season", "method") else "right")

    def fmt(v: float, digits: int = 3) -> str:
        return "-" if not np.isfinite(v) else f"{v:.{digits}f}"

    for (qty, season, method), row in result.table.iterrows():  # type: ignore[misc]
        table.add_row(
            str(qty), str(season), str(method),
            fmt(row["mae_kw"]), fmt(row["rmse_kw"]), fmt(row["pinball_kw"]),
            fmt(row["coverage_p10_p90"], 2), fmt(row["skill_mae"], 2), fmt(row["skill_rmse"], 2),
            fmt(row["skill_pinball"], 2),
        )
    return keep_whole(table, 0, 1, 2)


def plot_forecast_example(result: ForecastSkillStudy, path: str | Path) -> Path:
    """P10-P90 band, P50 and actual of one household and one PV system over the first held-out days.

    Parameters
    ----------
    result : ForecastSkillStudy
        Result of :func:`openvpp.forecast.backtest.backtest_simbench`.
    path : str or pathlib.Path
        PNG file to write.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    fig, axes = plt.subplots(len(result.example), 1, figsize=(11, 3.2 * len(result.example)), squeeze=False)
    for ax, (qty, ex) in zip(axes[:, 0], result.example.items(), strict=True):
        t = ex["index"].tz_localize(None)
        ax.fill_between(t, ex["p10_kw"], ex["p90_kw"], step="post", color="tab:blue", alpha=0.25,
                        label="P10-P90")
        ax.step(t, ex["p50_kw"], where="post", color="tab:blue", lw=1.2, label="P50 forecast")
        ax.step(t, ex["actual_kw"], where="post", color="black", lw=0.8, label="actual")
        ax.set_title(
            f"{_TITLES.get(qty, qty)}, site {ex['site']}: day-ahead forecast against SimBench "
            "profile"
        )
        ax.set_ylabel("power [kW]")
        ax.set_xlabel(f"local time ({ex['index'].tz})")
        ax.legend(loc="upper right", ncol=3, fontsize=8)
        ax.grid(alpha=0.3)
    return save_figure(fig, path)


def render_forecast_skill(
    result: ForecastSkillStudy, out_dir: str | Path | None, console: Console | None
) -> Path | None:
    """Print the skill table and write ``forecast_skill.png`` into ``out_dir`` (no figure when None).

    Parameters
    ----------
    result : ForecastSkillStudy
        Result of :func:`openvpp.forecast.backtest.backtest_simbench`.
    out_dir : str or pathlib.Path, optional
        Folder of the figure.
    console : rich.console.Console, optional
        Where to print the table (nothing printed when None).

    Returns
    -------
    pathlib.Path or None
        The figure written.
    """
    if console is not None:
        console.print(skill_table(result))
    if out_dir is None:
        return None
    fig_path = plot_forecast_example(result, Path(out_dir) / "forecast_skill.png")
    if console is not None:
        console.print(f"figure: {fig_path}")
    return fig_path
