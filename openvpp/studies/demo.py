"""The ``openvpp demo`` study: a real SimBench LV grid as a fleet, one day of self-consumption practice.

A thin composition of library calls: :func:`openvpp.fleet.from_simbench` (grid, profiles, ~50 % prosumers
with 2.5 kWp PV and 5 kW / 13.5 kWh batteries as in seed 000 §7.2), then
:func:`openvpp.fleet.operation.simulate_self_consumption` (each battery maximises its site's
self-consumption, intent of eq. (23)) on the chosen day after a one-day warm-up, then the summary of
:func:`openvpp.fleet.operation.self_consumption_summary`. Rendering lives in :mod:`openvpp.report.demo`.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
import pandas as pd

from openvpp.checks import check_seed
from openvpp.data import LV_GRIDS, day_slice, load_simbench_lv
from openvpp.data.simbench import SIMBENCH_TZ, check_simbench_day, simbench_index
from openvpp.economics.business import summary_for_fleet
from openvpp.envelopes import fleet_day_envelopes
from openvpp.errors import ValidationError
from openvpp.fleet import Fleet, from_simbench
from openvpp.fleet.operation import SelfConsumptionResult, self_consumption_summary, simulate_self_consumption
from openvpp.flex import fleet_flexibility
from openvpp.grid.check import check_day, network_for_sites
from openvpp.grid.loaders import simbench_lv
from openvpp.units import mw_to_kw

#: start of the evening-peak period at which the demo reports flexibility (CPF+ block of seed 000 Table 1)
EVENING_PEAK = "19:00"


@dataclasses.dataclass
class DemoResult:
    """What :func:`run_demo` computed (load convention: + = import).

    Attributes
    ----------
    grid_code, day : str
        The SimBench grid and the simulated day.
    fleet : Fleet
        The fleet built from the grid (profiles over the whole year).
    operation : SelfConsumptionResult
        Site powers without/with batteries and the battery trajectories on the day.
    summary : pandas.DataFrame
        Metrics (rows) without and with batteries (columns); see
        :func:`openvpp.fleet.operation.self_consumption_summary`.
    elapsed_s : dict
        Wall time of each stage. [s]
    economics : openvpp.economics.business.BusinessCase or None
        Annual stacked-service economics of the demo fleet's batteries, EVs and heat pumps under the Lampa
        parameter set (seed 000 §6.1).
    flexibility : openvpp.flex.fleet.FleetFlexibility or None
        Aggregate flexibility per CCP and for the VPP at the evening peak (seed 003 §3).
    envelopes : openvpp.envelopes.DayEnvelopes or None
        Export envelope of every site over the day from the constraint engine (seed 001 §2.2), with the
        transformer rating as the node's reverse-flow limit.
    network_check : dict of str -> openvpp.grid.check.NetworkCheck
        Exact unbalanced power flow of the day on the grid, ``"without_battery"`` and ``"with_battery"``.
    """

    grid_code: str
    day: str
    fleet: Fleet
    operation: SelfConsumptionResult
    summary: pd.DataFrame
    elapsed_s: dict[str, float]
    economics: Any = None
    flexibility: Any = None
    envelopes: Any = None
    network_check: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        """Sites, devices per class and prosumers (sites with a battery, and PV where the fleet has PV)."""
        fleet = self.fleet
        counts = {"sites": fleet.n_sites, **fleet.count()}
        prosumer = fleet.site_mask("battery")
        if fleet.has("pv"):
            prosumer = prosumer & fleet.site_mask("pv")
        counts["prosumers"] = int(np.sum(prosumer))
        return counts

    @property
    def envelope_check(self) -> dict[str, float]:
        """How the self-consumption day compares with the envelopes (:func:`envelope_compliance`)."""
        if self.envelopes is None:
            return {}
        op = self.operation
        return envelope_compliance(op.site_p_with_kw, self.envelopes.site_export_kw, op.dt_h)

    @property
    def index(self) -> pd.DatetimeIndex:
        """Time axis of the simulated day."""
        return self.operation.index

    @property
    def aggregate_without_kw(self) -> np.ndarray:
        """Aggregate net load of all sites without batteries. [kW]"""
        return self.operation.aggregate_without_kw

    @property
    def aggregate_with_kw(self) -> np.ndarray:
        """Aggregate net load of all sites with batteries in self-consumption mode. [kW]"""
        return self.operation.aggregate_with_kw

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary."""
        return {
            "grid_code": self.grid_code,
            "day": self.day,
            "counts": self.counts,
            "summary": {c: {k: float(v) for k, v in self.summary[c].items()} for c in self.summary.columns},
            "elapsed_s": self.elapsed_s,
            "economics": None if self.economics is None else self.economics.to_dict(),
            "flexibility": None if self.flexibility is None else self.flexibility.to_dict(),
            "envelope_check": self.envelope_check,
            "network_check": {k: v.to_dict() for k, v in self.network_check.items()},
        }


def _check_day(day: str) -> str:
    return check_simbench_day(day, "day")


def run_demo(grid_code: str = "1-LV-semiurb4--2-sw", day: str = "2016-06-15", seed: int = 0,
             progress: bool = False, prosumer_share: float = 0.5, warmup_days: int = 1) -> DemoResult:
    """Load a SimBench LV grid as a fleet and simulate one day of self-consumption operation.

    Parameters
    ----------
    grid_code : str
        SimBench LV grid (see :data:`openvpp.data.LV_GRIDS`).
    day : str
        Date in 2016 (the SimBench profile year), e.g. ``"2016-06-15"``.
    seed : int
        Seed of the documented random choice of added prosumers. [-]
    progress : bool
        Show a rich progress bar while loading and simulating.
    prosumer_share : float
        Target share of sites with PV and a battery (seed 000 §7.2: ~0.5). [-]
    warmup_days : int
        Days simulated before ``day`` so that batteries start with a realistic state of charge. [d]

    Returns
    -------
    DemoResult
    """
    day = _check_day(day)
    if not isinstance(grid_code, str) or not grid_code.startswith("1-LV-"):
        raise ValidationError(
            f"grid must be a SimBench LV grid code such as '1-LV-rural1--2-sw' (got {grid_code!r}); "
            f"registered: {list(LV_GRIDS)}"
        )
    check_seed(seed)
    if not (np.isfinite(prosumer_share) and 0.0 <= prosumer_share <= 1.0):
        raise ValidationError(f"prosumer_share must be in [0, 1] (got {prosumer_share!r}); e.g. 0.5")
    if int(warmup_days) != warmup_days or warmup_days < 0:
        raise ValidationError(f"warmup_days must be a whole number >= 0 (got {warmup_days!r}); e.g. 1")
    steps = day_slice(simbench_index(SIMBENCH_TZ), day)
    elapsed: dict[str, float] = {}

    def stages(bar: Any, task: Any) -> tuple[Fleet, SelfConsumptionResult]:
        t0 = time.perf_counter()
        fleet = from_simbench(grid_code, prosumer_share=prosumer_share, seed=seed)
        elapsed["load_fleet"] = time.perf_counter() - t0
        if bar is not None:
            bar.update(task, advance=1, description="simulating one day of self-consumption")
        t0 = time.perf_counter()
        op = simulate_self_consumption(fleet, steps, warmup_steps=96 * int(warmup_days))
        elapsed["simulate"] = time.perf_counter() - t0
        if bar is not None:
            bar.update(task, advance=1, description="done")
        return fleet, op

    if progress:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                      transient=True) as bar:
            task = bar.add_task(f"loading SimBench grid {grid_code} and its profiles", total=2)
            fleet, op = stages(bar, task)
    else:
        fleet, op = stages(None, None)
    counts = fleet.count()
    t0 = time.perf_counter()
    economics = summary_for_fleet(
        n_batteries=counts.get("battery", 0), n_ev=counts.get("ev", 0), n_hp=counts.get("heatpump", 0),
        site="lampa",
    )
    flexibility = fleet_flexibility(fleet, f"{day} {EVENING_PEAK}", strip=True)
    trafo_kw = float(mw_to_kw(load_simbench_lv(grid_code).trafo["sn_mva"].sum()))
    envelopes = fleet_day_envelopes(fleet, op.site_p_without_kw, op.index, trafo_kw)
    elapsed["economics_flexibility_envelopes"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    network = network_for_sites(simbench_lv(grid_code), fleet.sites.site_id)
    network_check = {
        "without_battery": check_day(network, op.site_p_without_kw),
        "with_battery": check_day(network, op.site_p_with_kw),
    }
    elapsed["network_check"] = time.perf_counter() - t0
    return DemoResult(grid_code=grid_code, day=day, fleet=fleet, operation=op,
                      summary=self_consumption_summary(op), elapsed_s=elapsed,
                      economics=economics, flexibility=flexibility, envelopes=envelopes,
                      network_check=network_check)


def envelope_compliance(site_p_kw: np.ndarray, export_limit_kw: np.ndarray, dt_h: float) -> dict[str, float]:
    """Compare site powers with export envelopes (load convention: export is ``-site_p_kw``).

    Parameters
    ----------
    site_p_kw : numpy.ndarray, shape (n_sites, n_steps)
        Site power, + = import. [kW]
    export_limit_kw : numpy.ndarray, shape (n_sites, n_steps)
        Export envelope (non-negative). [kW]
    dt_h : float
        Step length. [h]

    Returns
    -------
    dict
        ``site_steps_above`` (count), ``sites_above`` (count), ``energy_above_kwh``, ``export_kwh`` and
        ``mean_export_limit_kw``.
    """
    over = np.maximum(-np.asarray(site_p_kw) - np.asarray(export_limit_kw), 0.0)
    return {
        "site_steps_above": int(np.count_nonzero(over > 1e-9)),
        "sites_above": int(np.count_nonzero(np.any(over > 1e-9, axis=1))),
        "energy_above_kwh": float(over.sum() * dt_h),
        "export_kwh": float(np.maximum(-np.asarray(site_p_kw), 0.0).sum() * dt_h),
        "mean_export_limit_kw": float(np.mean(export_limit_kw)),
    }
