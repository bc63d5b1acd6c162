"""Figures of the pilot study (seed 000 §9): response vs request, SoC band, island balance."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from openvpp.report import save_figure

if TYPE_CHECKING:
    from openvpp.control.island import IslandResult
    from openvpp.sim.cosim import CosimResult
    from openvpp.studies.pilot import PilotResult

__all__ = ["island_figure", "pilot_figures", "response_figure", "soc_band_figure"]


def response_figure(res: CosimResult, path: Path) -> Path:
    """Aggregate change delivered against the change requested (frequency response and instructions).

    Parameters
    ----------
    res : CosimResult
        One co-simulation run.
    path : pathlib.Path
        PNG file to write.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = res.series
    t_min = (s.index - s.index[0]).total_seconds() / 60.0
    req = s.freq_request_kw + s.event_request_kw
    fig, ax = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    ax[0].plot(t_min, s.p_kw - s.plan_kw, label="delivered (aggregate - plan)", lw=1.2)
    ax[0].plot(t_min, req, "--", label="requested", lw=1.2)
    ax[0].set_ylabel("change of aggregate power [kW]\n(load convention)")
    ax[0].legend(loc="best")
    ax[0].set_title(f"{res.scenario.name}: aggregate response against request")
    ax[1].plot(t_min, s.f_hz, color="tab:red", lw=1.0)
    ax[1].set_ylabel("frequency [Hz]")
    ax[1].set_xlabel(f"minutes from {s.index[0]:%Y-%m-%d %H:%M %Z}")
    return save_figure(fig, path)


def soc_band_figure(res: CosimResult, path: Path) -> Path:
    """SoC of a sample of batteries at every tick, with the plan's SoC band.

    Parameters
    ----------
    res : CosimResult
        One co-simulation run.
    path : pathlib.Path
        PNG file to write.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plan = res.controller.plan
    soc = res.soc_sample
    fig, ax = plt.subplots(figsize=(9, 4))
    t_h = (soc.index - soc.index[0]).total_seconds() / 3600.0
    for col in soc.columns:
        ax.plot(t_h, soc[col], lw=0.9, label=col)
    bat = plan.device_class == "battery"
    if bat.any():
        ax.axhline(float(np.nanmin(plan.soc_min[bat])), color="k", ls=":", label="plan SoC band")
        ax.axhline(float(np.nanmax(plan.soc_max[bat])), color="k", ls=":")
    ax.set_ylim(0, 1)
    ax.set_ylabel("state of charge [-]")
    ax.set_xlabel(f"hours from {soc.index[0]:%Y-%m-%d %H:%M %Z}")
    ax.set_title(f"{res.scenario.name}: per-device SoC")
    ax.legend(loc="best", fontsize=7, ncol=2)
    return save_figure(fig, path)


def island_figure(isl: IslandResult, path: Path) -> Path:
    """Island power balance with frequency and the voltage range.

    Parameters
    ----------
    isl : IslandResult
        The island run.
    path : pathlib.Path
        PNG file to write.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t_h = (isl.index - isl.index[0]).total_seconds() / 3600.0
    fig, ax = plt.subplots(3, 1, figsize=(9, 7.5), sharex=True, gridspec_kw={"height_ratios": [2, 1, 1]})
    ax[0].plot(t_h, isl.served_kw, label="load served")
    ax[0].plot(t_h, isl.pv_used_kw, label="PV used")
    ax[0].plot(t_h, -isl.p_batteries_kw, label="batteries (discharge +)")
    ax[0].plot(t_h, isl.shed_kw, label="load shed")
    ax[0].plot(t_h, isl.pv_curtailed_kw, label="PV curtailed")
    ax[0].plot(t_h, isl.losses_kw, label="line losses")
    ax[0].set_ylabel("power [kW]")
    ax[0].legend(loc="best", fontsize=8, ncol=2)
    ax[0].set_title(f"island downstream of {isl.section}")
    ax[1].plot(t_h, isl.f_hz, color="tab:red")
    ax[1].set_ylabel("frequency [Hz]")
    ax[2].fill_between(t_h, isl.v_min_pu, isl.v_max_pu, alpha=0.4, label="range of phase voltages")
    ax[2].axhline(0.9, color="k", ls=":")
    ax[2].axhline(1.1, color="k", ls=":")
    ax[2].set_ylabel("voltage [pu]")
    ax[2].set_xlabel(f"hours from {isl.index[0]:%Y-%m-%d %H:%M %Z}")
    ax[2].legend(loc="best", fontsize=8)
    return save_figure(fig, path)


def pilot_figures(result: PilotResult, out_dir: Path) -> list[Path]:
    """Every figure of the pilot study into ``out_dir``.

    Parameters
    ----------
    result : PilotResult
        The study result.
    out_dir : pathlib.Path
        Folder to write into.
    """
    out = Path(out_dir)
    paths = []
    for name, res in result.runs.items():
        paths.append(response_figure(res, out / f"pilot_response_{name}.png"))
    soc_run = result.runs.get("peak") or next(iter(result.runs.values()), None)
    if soc_run is not None:
        paths.append(soc_band_figure(soc_run, out / "pilot_soc_band.png"))
    if result.island is not None:
        paths.append(island_figure(result.island, out / "pilot_island.png"))
    return paths
