"""The pilot of seed 000 §9 (objectives STO1-STO3) on a SimBench fleet, in co-simulation.

* **STO1** monitoring and coordinated control: the peak-reduction dispatch at 20:00 (tracking error of the
  aggregate against the request, rebound), with 5-min telemetry as seed 001 §2.1;
* **STO2** ancillary services: the under-frequency event and the Chilean contingency dip (CPF+ activation time
  against the 10 s requirement, reserve delivered vs committed, delivery duration) and the CI instruction
  (EV and heat-pump curtailment within 30 min for 2 h);
* **STO3** island mode: the 4-hour outage of a feeder section (:mod:`openvpp.control.island`), hours
  sustained, energy not supplied, SAIDI / SAIFI with and without the VPP;
* a sweep of how the STO2 KPIs degrade as the communication delay and the drop-out grow.

The day's plan is built here by the capacity allocation of seed 000 §6.1.2 (a rule, not an optimisation):
batteries idle at half charge and hold 50 % of their power for CPF+ and CPF- all day and 30 % for peak
reduction 20:00-22:00; EV chargers and heat pumps follow their SimBench profiles and offer that consumption
to CI 18:00-22:00; PV follows its SimBench profile and may be curtailed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openvpp.control import kpi
from openvpp.control.controller import ControllerSettings
from openvpp.data import check_simbench_day, day_slice
from openvpp.errors import ValidationError
from openvpp.schedule.plan import Plan
from openvpp.sim.cosim import CosimResult, run_cosim
from openvpp.sim.scenarios import ResolvedScenario, load_scenario
from openvpp.sim.transport import LinkModel

__all__ = [
    "DEFAULT_DAY",
    "DEFAULT_GRID",
    "PILOT_SCENARIOS",
    "PilotResult",
    "pilot_plan",
    "run_pilot",
    "sweep",
]

DEFAULT_GRID = "1-LV-rural1--2-sw"
#: a spring weekday of the SimBench profile year: PV at midday, heat pumps and EVs in the evening
DEFAULT_DAY = "2016-03-16"
#: the scenarios of the pilot and their objective
PILOT_SCENARIOS = {
    "peak": "STO1",
    "underfrequency": "STO2",
    "chile_dip": "STO2",
    "ci": "STO2",
    "outage": "STO3",
}
#: SoC the plan holds the batteries at, so that raise and lower reserves are both deliverable
PILOT_SOC0 = 0.5
#: capacity shares of seed 000 §6.1.2 (CPF / peak reduction); the 20 % backup is the island reserve
CPF_SHARE, PEAK_SHARE = 0.5, 0.3
#: sweep axes: median one-way delay [s] and message drop-out probability [-]
SWEEP_DELAYS_S = (0.5, 1.0, 2.0, 4.0, 8.0)
SWEEP_DROPS = (0.0, 0.1, 0.3, 0.5)


def _hours_mask(index: pd.DatetimeIndex, start_h: float, end_h: float) -> NDArray[np.bool_]:
    h = index.hour + index.minute / 60.0
    return np.asarray((h >= start_h) & (h < end_h))


def pilot_plan(fleet: Any, day: str) -> Plan:
    """The rule-based plan of the pilot day (module docstring), load convention.

    Parameters
    ----------
    fleet : openvpp.fleet.Fleet
        A fleet with SimBench profiles (:func:`openvpp.fleet.from_simbench`).
    day : str
        Local date ``YYYY-MM-DD`` of the profile year.

    Returns
    -------
    Plan
    """
    prof = fleet.profiles
    sl = day_slice(prof.index, day)
    index = prof.index[sl]
    n_t = len(index)
    site_ids = np.asarray(fleet.sites.site_id, dtype=object).astype(str)
    rows: dict[str, list[Any]] = {
        k: []
        for k in (
            "id",
            "cls",
            "site",
            "base",
            "lo",
            "hi",
            "emax",
            "soc0",
            "smin",
            "smax",
            "cpf",
            "peak",
            "ci",
        )
    }
    peak_h = _hours_mask(index, 20.0, 22.0)
    ci_h = _hours_mask(index, 18.0, 22.0)
    if fleet.has("battery"):
        b = fleet.der("battery")
        for i in range(b.n):
            rows["id"].append(str(b.device_id[i]))
            rows["cls"].append("battery")
            rows["site"].append(int(fleet.site_positions("battery")[i]))
            rows["base"].append(np.zeros(n_t))
            rows["lo"].append(np.full(n_t, -float(b.p_discharge_max_kw[i])))
            rows["hi"].append(np.full(n_t, float(b.p_charge_max_kw[i])))
            rows["emax"].append(float(b.e_max_kwh[i]))
            rows["soc0"].append(float(np.clip(PILOT_SOC0, b.soc_min[i], b.soc_max[i])))
            rows["smin"].append(float(b.soc_min[i]))
            rows["smax"].append(float(b.soc_max[i]))
            rows["cpf"].append(CPF_SHARE * min(float(b.p_discharge_max_kw[i]), float(b.p_charge_max_kw[i])))
            rows["peak"].append(np.where(peak_h, PEAK_SHARE * float(b.p_discharge_max_kw[i]), 0.0))
            rows["ci"].append(np.zeros(n_t))
    if fleet.has("pv"):
        pv = fleet.der("pv")
        pu = prof["pv_pu"][:, sl]
        avail = np.minimum(
            np.maximum(pu, 0.0) * np.asarray(pv.p_dc_kwp)[:, None], np.asarray(pv.p_ac_kw)[:, None]
        )
        for i in range(pv.n):
            rows["id"].append(str(pv.device_id[i]))
            rows["cls"].append("pv")
            rows["site"].append(int(fleet.site_positions("pv")[i]))
            rows["base"].append(-avail[i])
            rows["lo"].append(-avail[i])
            rows["hi"].append(np.zeros(n_t))
            for k in ("emax", "soc0", "smin", "smax"):
                rows[k].append(math.nan)
            rows["cpf"].append(0.0)
            rows["peak"].append(np.zeros(n_t))
            rows["ci"].append(np.zeros(n_t))
    for cls, profile, rating in (("ev", "ev_kw", "p_max_kw"), ("heatpump", "heatpump_kw", "p_max_kw")):
        if not fleet.has(cls) or profile not in prof:
            continue
        t = fleet.der(cls)
        pos = fleet.site_positions(cls)
        site_load = np.maximum(prof[profile][:, sl], 0.0)
        count = np.bincount(pos, minlength=fleet.n_sites)
        rate = np.asarray(getattr(t, rating, np.full(t.n, np.inf)), dtype=float)
        for i in range(t.n):
            base = site_load[pos[i]] / count[pos[i]]
            rows["id"].append(str(t.device_id[i]))
            rows["cls"].append(cls)
            rows["site"].append(int(pos[i]))
            rows["base"].append(base)
            rows["lo"].append(np.zeros(n_t))
            rows["hi"].append(np.maximum(base, rate[i] if np.isfinite(rate[i]) else base.max()))
            for k in ("emax", "soc0", "smin", "smax"):
                rows[k].append(math.nan)
            rows["cpf"].append(0.0)
            rows["peak"].append(np.zeros(n_t))
            rows["ci"].append(np.where(ci_h, base, 0.0))
    n = len(rows["id"])
    if n == 0:
        raise ValidationError("the fleet has no battery, PV, EV or heat pump to run the pilot with")
    base = np.vstack(rows["base"])
    site = np.asarray(rows["site"], dtype=np.int64)
    emax = np.asarray(rows["emax"], dtype=float)
    storage = np.isfinite(emax)
    soc0 = np.asarray(rows["soc0"], dtype=float)
    cpf = np.asarray(rows["cpf"], dtype=float)
    up = np.zeros((4, n, n_t))
    dn = np.zeros((4, n, n_t))
    up[0] = cpf[:, None]
    dn[1] = cpf[:, None]
    up[2] = np.vstack(rows["peak"])
    up[3] = np.vstack(rows["ci"])
    inflexible = np.maximum(fleet.site_profile("base_load_kw", 0.0)[:, sl], 0.0)
    site_p = (
        inflexible + np.vstack([np.bincount(site, base[:, j], minlength=fleet.n_sites) for j in range(n_t)]).T
    )
    return Plan(
        index=index,
        device_ids=np.asarray(rows["id"], dtype=object),
        device_class=np.asarray(rows["cls"], dtype=object),
        site_of_device=site,
        site_ids=site_ids,
        services=("cpf_plus", "cpf_minus", "peak", "ci"),
        p_baseline_kw=base,
        reserve_up_kw=up,
        reserve_down_kw=dn,
        service_duration_h=np.array([0.25, 0.25, 2.0, 2.0]),
        soc_baseline=np.where(storage[:, None], soc0[:, None], np.nan) * np.ones((1, n_t + 1)),
        soc_min=np.where(storage, rows["smin"], np.nan)[:, None] * np.ones((1, n_t)),
        soc_max=np.where(storage, rows["smax"], np.nan)[:, None] * np.ones((1, n_t)),
        e_max_kwh=emax,
        site_p_kw=site_p,
        site_export_limit_kw=np.full((fleet.n_sites, n_t), np.inf),
        site_import_limit_kw=np.full((fleet.n_sites, n_t), np.inf),
        p_min_kw=np.vstack(rows["lo"]),
        p_max_kw=np.vstack(rows["hi"]),
        meta={"method": "pilot capacity allocation (seed 000 §6.1.2)", "day": day},
    )


def frequency_kpis(res: CosimResult) -> dict[str, float]:
    """STO2 KPIs of a frequency event: activation time, reserve delivered, delivery duration, tracking.

    Parameters
    ----------
    res : CosimResult
        A run with a frequency trace.

    Returns
    -------
    dict
        ``activation_s`` [s], ``delivered_share`` [-], ``delivery_s`` [s], ``mae_norm`` / ``max_norm`` [-].
    """
    s = res.series
    t = (s.index - s.index[0]).total_seconds().to_numpy()
    req = -s.freq_request_kw.to_numpy()  # raise positive
    resp = -(s.p_kw - s.plan_kw).to_numpy()
    active = np.abs(req) > 1e-9
    if not active.any():
        return {
            "activation_s": math.nan,
            "delivered_share": math.nan,
            "delivery_s": 0.0,
            "mae_norm": math.nan,
            "max_norm": math.nan,
        }
    t_cmd = float(t[np.argmax(active)])
    win = active
    err = kpi.tracking_error(t[win], resp[win], req[win])
    return {
        "activation_s": kpi.activation_time_s(t, resp, req, t_cmd),
        "delivered_share": float(
            np.sum(resp[win] * np.gradient(t)[win]) / np.sum(req[win] * np.gradient(t)[win])
        ),
        "delivery_s": kpi.delivery_duration_s(t, resp, req),
        "mae_norm": err["mae_norm"],
        "max_norm": err["max_norm"],
    }


def event_kpis(res: CosimResult) -> dict[str, float]:
    """STO1 / CI KPIs of an instruction: activation time, tracking error, delivered share, rebound.

    Parameters
    ----------
    res : CosimResult
        A run with instructions.

    Returns
    -------
    dict
        ``activation_s`` [s], ``mae_norm`` / ``max_norm`` [-], ``delivered_share`` [-], ``rebound_kwh`` [kWh].
    """
    s = res.series
    t = (s.index - s.index[0]).total_seconds().to_numpy()
    req = s.event_request_kw.to_numpy()
    resp = (s.p_kw - s.plan_kw).to_numpy()
    active = np.abs(req) > 1e-9
    if not active.any():
        return {
            "activation_s": math.nan,
            "mae_norm": math.nan,
            "max_norm": math.nan,
            "delivered_share": math.nan,
            "rebound_kwh": 0.0,
        }
    recs = list(res.controller.events.values())
    t_cmd = float((recs[0].instruction.start - s.index[0]).total_seconds())
    full = np.abs(req) >= np.abs(req).max() * (1 - 1e-9)
    t_full = float(t[np.argmax(full)])
    err = kpi.tracking_error(t[active], resp[active], req[active])
    hold = full
    w = np.gradient(t)
    return {
        "activation_s": kpi.activation_time_s(t, resp, np.where(t >= t_full, req, 0.0), t_cmd),
        "mae_norm": err["mae_norm"],
        "max_norm": err["max_norm"],
        "delivered_share": float(np.sum(resp[hold] * w[hold]) / np.sum(req[hold] * w[hold])),
        "rebound_kwh": float(sum(r.rebound.energy_kwh for r in recs if r.rebound is not None)),
    }


@dataclasses.dataclass(frozen=True)
class PilotResult:
    """Results of :func:`run_pilot`.

    Attributes
    ----------
    grid, day : str
        SimBench grid and day.
    kpis : pandas.DataFrame
        One row per scenario (objective, activation_s, delivered_share, delivery_s, mae_norm, max_norm,
        rebound_kwh, ens_kwh, hours_sustained, compute_median_ms, cpf_10s_met).
    delays : dict
        Per-DER communication delay distribution (:func:`openvpp.control.kpi.delay_stats`). [s]
    sweep : pandas.DataFrame
        KPIs against median delay and drop-out.
    runs : dict
        Scenario name -> CosimResult (figures).
    island : object or None
        The island run of the outage scenario.
    """

    grid: str
    day: str
    kpis: pd.DataFrame
    delays: dict[str, float]
    sweep: pd.DataFrame
    runs: dict[str, CosimResult]
    island: Any = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (NaN as ``None``)."""

        def clean(v: Any) -> Any:
            if isinstance(v, float | np.floating):
                return None if not math.isfinite(float(v)) else float(v)
            if isinstance(v, np.bool_ | bool):
                return bool(v)
            if isinstance(v, np.integer):
                return int(v)
            return v

        def frame(df: pd.DataFrame) -> list[dict[str, Any]]:
            return [{k: clean(v) for k, v in row.items()} for row in df.reset_index().to_dict("records")]

        out: dict[str, Any] = {
            "grid": self.grid,
            "day": self.day,
            "kpis": frame(self.kpis),
            "delays": {k: clean(v) for k, v in self.delays.items()},
            "sweep": frame(self.sweep),
        }
        if self.island is not None:
            out["island"] = {k: clean(v) for k, v in self.island.summary().items()}
        return out


def _window(sc: ResolvedScenario, plan: Plan) -> tuple[pd.Timestamp, pd.Timestamp]:
    """A horizon around a frequency event: from 10 min before to 1 h 15 min after, on plan boundaries."""
    assert sc.trace is not None
    step = plan.index[1] - plan.index[0]
    a = (sc.trace.start - pd.Timedelta(minutes=10)).floor(step)
    b = (sc.trace.end + pd.Timedelta(minutes=75)).ceil(step)
    return max(a, plan.index[0]), min(b, plan.index[-1] + step)


def sweep(
    plan: Plan,
    scenario: ResolvedScenario,
    *,
    delays_s: tuple[float, ...] = SWEEP_DELAYS_S,
    drops: tuple[float, ...] = SWEEP_DROPS,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """KPIs of a frequency scenario (central mode) against the median delay and the drop-out probability.

    The same seed is used for every point, so a larger delay scales every device's delay and a larger drop
    probability loses a superset of the messages: the sweep isolates the effect of the link.

    Parameters
    ----------
    plan : Plan
        The plan.
    scenario : ResolvedScenario
        A scenario with a frequency trace.
    delays_s : tuple of float
        Median one-way delays. [s]
    drops : tuple of float
        Message drop probabilities. [-]
    seed : int
        Transport seed. [-]
    progress : callable, optional
        ``progress(done, total)``.

    Returns
    -------
    pandas.DataFrame
        One row per (delay, drop): activation_s, delivered_share, mae_norm.
    """
    if scenario.trace is None:
        raise ValidationError(
            f"the sweep needs a scenario with a frequency trace ({scenario.name!r} has none)"
        )
    start, end = _window(scenario, plan)
    rows = []
    total = len(delays_s) * len(drops)
    for d in delays_s:
        for q in drops:
            link = LinkModel(median_s=d, sigma=0.5, max_s=max(5.0, 4 * d), drop_prob=q)
            res = run_cosim(plan, scenario, link=link, seed=seed, start=start, end=end)
            k = frequency_kpis(res)
            rows.append(
                {
                    "median_delay_s": d,
                    "drop_prob": q,
                    "activation_s": k["activation_s"],
                    "delivered_share": k["delivered_share"],
                    "mae_norm": k["mae_norm"],
                }
            )
            if progress is not None:
                progress(len(rows), total)
    return pd.DataFrame(rows)


def run_pilot(
    grid: str = DEFAULT_GRID,
    day: str = DEFAULT_DAY,
    scenarios: tuple[str, ...] | None = None,
    *,
    seed: int = 0,
    link: LinkModel | None = None,
    mode: str = "central",
    with_sweep: bool = True,
    fleet: Any = None,
    network: Any = None,
    progress: Callable[[int, int], None] | None = None,
) -> PilotResult:
    """Run STO1-STO3 of seed 000 §9 on a SimBench fleet (module docstring).

    Parameters
    ----------
    grid : str
        SimBench LV grid code.
    day : str
        Local date ``YYYY-MM-DD`` of the profile year 2016.
    scenarios : tuple of str, optional
        Bundled scenario names or TOML paths; default every pilot scenario.
    seed : int
        Seed of the fleet top-up and of the transport. [-]
    link : LinkModel, optional
        Delay and drop-out distribution (default :class:`LinkModel`).
    mode : {"central", "local"}
        Frequency-response mode.
    with_sweep : bool
        Run the delay / drop-out sweep.
    fleet : openvpp.fleet.Fleet, optional
        An already built fleet of ``grid``.
    network : openvpp.grid.network.Network, optional
        The grid's network for the island (default loaded from ``grid``).
    progress : callable, optional
        ``progress(done, total)``.

    Returns
    -------
    PilotResult
    """
    day = check_simbench_day(day, "--day")
    names = tuple(PILOT_SCENARIOS) if scenarios is None else tuple(scenarios)
    if not names:
        raise ValidationError("--scenario: give at least one scenario")
    loaded = [load_scenario(n) for n in names]  # validate every file before any work
    if fleet is None:
        from openvpp.fleet import from_simbench

        fleet = from_simbench(grid, seed=seed)
    plan = pilot_plan(fleet, day)
    settings = ControllerSettings(mode=mode)  # type: ignore[arg-type]
    f0 = float(cpf_nominal())
    midnight = plan.index[0].normalize()
    rows = []
    runs: dict[str, CosimResult] = {}
    island = None
    done = 0
    total = len(loaded) + (len(SWEEP_DELAYS_S) * len(SWEEP_DROPS) if with_sweep else 0)
    freq_sc = None
    for sc in loaded:
        rs = sc.resolve(plan, midnight, f0)
        row: dict[str, Any] = {"scenario": sc.name, "objective": PILOT_SCENARIOS.get(sc.name, "user")}
        if rs.outages:
            from openvpp.control.island import run_island_scenario

            island = run_island_scenario(fleet, plan, rs.outages, grid=grid, network=network)
            row.update(island.kpis())
        if rs.trace is not None or rs.instructions:
            if rs.trace is not None:
                start, end = _window(rs, plan)
            else:
                start, end = plan.index[0], plan.index[-1] + (plan.index[1] - plan.index[0])
            res = run_cosim(plan, rs, settings=settings, link=link, seed=seed, start=start, end=end)
            runs[sc.name] = res
            k = frequency_kpis(res) if rs.trace is not None else event_kpis(res)
            row.update(k)
            row["compute_median_ms"] = kpi.compute_time_stats(res.controller.log["compute_s"])["median_ms"]
            if rs.trace is not None:
                row["cpf_10s_met"] = bool(k["activation_s"] <= 10.0)
                freq_sc = freq_sc or rs
        rows.append(row)
        done += 1
        if progress is not None:
            progress(done, total)
    delays = kpi.delay_stats(next(iter(runs.values())).delay_s) if runs else {}
    sw = pd.DataFrame()
    if with_sweep and freq_sc is not None:

        def inner(i: int, _n: int) -> None:
            if progress is not None:
                progress(done + i, total)

        sw = sweep(plan, freq_sc, seed=seed, progress=inner)
    kpis = pd.DataFrame(rows).set_index("scenario")
    return PilotResult(grid=grid, day=day, kpis=kpis, delays=delays, sweep=sw, runs=runs, island=island)


def cpf_nominal() -> float:
    """Nominal frequency of the bundled CPF settings. [Hz]"""
    from openvpp.control.droop import cpf_services

    return cpf_services()[0].f_nominal_hz
