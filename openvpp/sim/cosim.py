"""The deterministic co-simulation: plan + scenario -> controller <-> transport <-> simulated devices.

One run (seed 000 §9 pilot, DESIGN.md "The operating loop"):

* the clock (:func:`~openvpp.sim.clock.make_clock`) ticks every 5 min and every second around events;
* at each tick the devices (:class:`~openvpp.sim.devices.SimulatedFleet`) move toward the set-point that has
  reached them and report their power and SoC through the transport (:class:`~openvpp.sim.transport.
  InProcessTransport`: per-device delay, drop-outs); the frequency-trace player posts the frequency
  measured at
  the VPP's meter (``f_meas_delay_s`` late) and the scenario's instructions at their start; the
  :class:`~openvpp.control.controller.Controller` computes set-points which the transport carries back;
* telemetry is kept as seed 001 §2.1 describes it (per site and 5-min interval: average, minimum and maximum
  power; SoC per device at each 5-min boundary) plus the aggregate at every tick (1 s around events).

The same seed gives the same result, bit for bit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openvpp.control.controller import Controller, ControllerSettings
from openvpp.control.signals import FrequencySample, Measurements, Signals
from openvpp.errors import ValidationError
from openvpp.sim.clock import make_clock
from openvpp.sim.devices import SimulatedFleet
from openvpp.sim.scenarios import ResolvedScenario
from openvpp.sim.transport import InProcessTransport, LinkModel

if TYPE_CHECKING:
    from openvpp.der.battery import BatteryParams
    from openvpp.schedule.plan import Plan

__all__ = ["CosimResult", "run_cosim"]

#: telemetry interval of seed 001 §2.1 [s]
TELEMETRY_S = 300.0


@dataclasses.dataclass(frozen=True)
class CosimResult:
    """Everything one co-simulation recorded.

    Attributes
    ----------
    ticks : pandas.DatetimeIndex
        Tick times.
    series : pandas.DataFrame
        Per tick (index ``ticks``): ``f_hz`` (true), ``p_kw`` (aggregate of the devices), ``plan_kw``,
        ``freq_request_kw`` (committed reserve x droop share at the true frequency, load convention),
        ``event_request_kw`` (instructions), ``setpoint_kw``, ``n_online``. [Hz], [kW], [-]
    telemetry_index : pandas.DatetimeIndex
        Starts of the 5-min telemetry intervals.
    site_p_avg_kw, site_p_min_kw, site_p_max_kw : numpy.ndarray, shape (n_sites, n_intervals)
        Site power per interval (seed 001 §2.1), load convention. [kW]
    soc : numpy.ndarray, shape (n_devices, n_intervals)
        SoC at the start of each interval (NaN without storage). [-]
    p_device_kw : numpy.ndarray, shape (n_devices, n_intervals)
        Device power at the start of each interval. [kW]
    plan_device_kw : numpy.ndarray, shape (n_devices, n_intervals)
        Plan baseline at the start of each interval. [kW]
    soc_sample : pandas.DataFrame
        SoC of a sample of batteries at every tick (columns = device ids). [-]
    delay_s : numpy.ndarray, shape (n_devices,)
        Communication delay of each device. [s]
    controller : Controller
        The controller after the run (events, rebounds, log).
    scenario : ResolvedScenario
        The scenario run.
    """

    ticks: pd.DatetimeIndex
    series: pd.DataFrame
    telemetry_index: pd.DatetimeIndex
    site_p_avg_kw: NDArray[np.float64]
    site_p_min_kw: NDArray[np.float64]
    site_p_max_kw: NDArray[np.float64]
    soc: NDArray[np.float64]
    p_device_kw: NDArray[np.float64]
    plan_device_kw: NDArray[np.float64]
    soc_sample: pd.DataFrame
    delay_s: NDArray[np.float64]
    controller: Controller
    scenario: ResolvedScenario


def run_cosim(
    plan: Plan,
    scenario: ResolvedScenario,
    *,
    settings: ControllerSettings | None = None,
    link: LinkModel | None = None,
    seed: int = 0,
    battery_params: BatteryParams | None = None,
    response_s: Any = None,
    f_nominal_hz: float | None = None,
    f_meas_delay_s: float = 0.5,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    coarse_s: float = 300.0,
    fine_s: float = 1.0,
    n_soc_sample: int = 20,
    progress: Callable[[int, int], None] | None = None,
) -> CosimResult:
    """Run the co-simulation of ``plan`` under ``scenario`` (module docstring).

    Parameters
    ----------
    plan : Plan
        The day's plan.
    scenario : ResolvedScenario
        Frequency trace, instructions, outages (outages are run by :mod:`openvpp.control.island`).
    settings : ControllerSettings, optional
        Controller settings (mode, strategy...).
    link : LinkModel, optional
        Delay and drop-out distribution.
    seed : int
        Seed of the transport's randomness. [-]
    battery_params : BatteryParams, optional
        The plan's batteries in plan order.
    response_s : array_like, optional
        Open-loop response time per device. [s]
    f_nominal_hz : float, optional
        Nominal frequency (default the controller's). [Hz]
    f_meas_delay_s : float
        Delay of the frequency the controller measures (central mode). [s]
    start, end : pandas.Timestamp, optional
        Simulated horizon (default the whole plan).
    coarse_s, fine_s : float
        Clock steps away from and around events. [s]
    n_soc_sample : int
        Batteries whose SoC is kept at every tick. [-]
    progress : callable, optional
        ``progress(done, total)`` called every 500 ticks.

    Returns
    -------
    CosimResult
    """
    settings = settings or ControllerSettings()
    dt_plan = plan.index[1] - plan.index[0] if plan.n_steps > 1 else pd.Timedelta(hours=plan.dt_h)
    start = plan.index[0] if start is None else start
    end = plan.index[-1] + dt_plan if end is None else end
    if start < plan.index[0] or end > plan.index[-1] + dt_plan:
        raise ValidationError(
            f"the horizon {start} - {end} must lie within the plan {plan.index[0]} - "
            f"{plan.index[-1] + dt_plan}"
        )
    if f_meas_delay_s < 0:
        raise ValidationError(f"f_meas_delay_s must be >= 0 s (got {f_meas_delay_s})")
    # fine ticks right after every plan boundary: new set-points reach the devices within the link's delay
    link = link or LinkModel()
    settle = pd.Timedelta(seconds=link.max_s + 2.0 * fine_s)
    bounds = [(b, b + settle) for b in plan.index if start <= b < end]
    ticks = make_clock(start, end, [*scenario.windows(), *bounds], coarse_s, fine_s)
    ctrl = Controller(plan, settings)
    ids = ctrl.device_ids
    f0 = ctrl.freq[0][1].f_nominal_hz if ctrl.freq else (f_nominal_hz or 50.0)
    f_nom = f_nominal_hz or f0
    if scenario.trace is not None and f_nominal_hz is not None and abs(f_nom - f0) > 1e-9:
        raise ValidationError(
            "f_nominal_hz differs from the controller's; set ControllerSettings.f_nominal_hz"
        )
    k0 = int(np.clip((start - plan.index[0]) // dt_plan, 0, plan.n_steps - 1))
    fleet = SimulatedFleet(plan, battery_params, response_s, k0)
    tr = InProcessTransport(ids, link, seed)
    n_t = len(ticks)
    t_sec = (ticks - start).total_seconds().to_numpy()
    k_of = np.clip(((ticks - plan.index[0]) // dt_plan).to_numpy().astype(np.int64), 0, plan.n_steps - 1)
    # telemetry grid
    tel_index = pd.date_range(start, end, freq=pd.Timedelta(seconds=TELEMETRY_S), inclusive="left")
    n_bins = len(tel_index)
    bin_of = np.minimum((t_sec // TELEMETRY_S).astype(np.int64), n_bins - 1)
    ns = plan.n_sites
    s_sum = np.zeros((ns, n_bins))
    s_min = np.full((ns, n_bins), np.inf)
    s_max = np.full((ns, n_bins), -np.inf)
    soc_bins = np.full((plan.n_devices, n_bins), np.nan)
    p_bins = np.full((plan.n_devices, n_bins), np.nan)
    plan_bins = np.full((plan.n_devices, n_bins), np.nan)
    bat = np.flatnonzero(fleet.is_bat)[:n_soc_sample]
    soc_sample = np.full((n_t, bat.size), np.nan)
    cols = {
        k: np.zeros(n_t)
        for k in ("f_hz", "p_kw", "plan_kw", "freq_request_kw", "event_request_kw", "setpoint_kw", "n_online")
    }
    pending = sorted(scenario.instructions, key=lambda i: i.start)
    posted = 0
    target = plan.p_baseline_kw[:, k_of[0]].copy()
    trace = scenario.trace
    freq_svcs = ctrl.freq
    for i in range(n_t):
        now = ticks[i]
        k = int(k_of[i])
        dt_prev = 0.0 if i == 0 else t_sec[i] - t_sec[i - 1]
        dt_next = (t_sec[i + 1] - t_sec[i]) if i + 1 < n_t else (end - now).total_seconds()
        soc_now = np.where(fleet.is_bat, fleet.soc, plan.soc_baseline[:, k])
        p_now = fleet.advance(target, k, dt_prev, dt_next)
        f_true = f_nom if trace is None else trace.at(now)
        tr.report(
            Measurements(
                now,
                ids,
                p_now,
                np.clip(np.nan_to_num(soc_now, nan=np.nan), 0, 1),
                np.ones(plan.n_devices, dtype=bool),
            )
        )
        new = []
        while posted < len(pending) and pending[posted].start <= now:
            new.append(pending[posted])
            posted += 1
        f_meas = f_nom if trace is None else trace.at(now - pd.Timedelta(seconds=f_meas_delay_s))
        tr.post_signals(Signals(frequency=FrequencySample(now, f_meas), instructions=tuple(new)))
        sp = ctrl.step(now, tr.receive(now), tr.poll_signals(now))
        tr.send(sp)
        applied = tr.deliver(now)
        base = plan.p_baseline_kw[:, k]
        target = np.where(np.isnan(applied), base, applied)
        freq_req = np.zeros(plan.n_devices)
        for s_idx, svc in freq_svcs:
            share = float(svc.share(f_true))
            if share > 0:
                res = (
                    plan.reserve_up_kw[s_idx, :, k]
                    if svc.direction == "raise"
                    else -plan.reserve_down_kw[s_idx, :, k]
                )
                freq_req -= share * res
        if settings.mode == "local":
            target = target + np.where(tr.offline, 0.0, freq_req)
        # records
        site_p = plan.site_p_kw[:, k] + np.bincount(plan.site_of_device, p_now - base, minlength=ns)
        b = bin_of[i]
        s_sum[:, b] += site_p * dt_next
        np.minimum(s_min[:, b], site_p, out=s_min[:, b])
        np.maximum(s_max[:, b], site_p, out=s_max[:, b])
        if np.isnan(p_bins[0, b]) if plan.n_devices else False:
            soc_bins[:, b] = soc_now
            p_bins[:, b] = p_now
            plan_bins[:, b] = base
        soc_sample[i] = fleet.soc[bat]
        cols["f_hz"][i] = f_true
        cols["p_kw"][i] = p_now.sum()
        cols["plan_kw"][i] = base.sum()
        cols["freq_request_kw"][i] = freq_req.sum()
        cols["event_request_kw"][i] = ctrl.log["request_kw"][-1]
        cols["setpoint_kw"][i] = sp.p_kw.sum()
        cols["n_online"][i] = float(np.sum(~tr.offline))
        if progress is not None and (i % 500 == 0 or i == n_t - 1):
            progress(i + 1, n_t)
    bin_len = np.full(n_bins, TELEMETRY_S)
    bin_len[-1] = (end - tel_index[-1]).total_seconds()
    return CosimResult(
        ticks=ticks,
        series=pd.DataFrame(cols, index=ticks),
        telemetry_index=tel_index,
        site_p_avg_kw=s_sum / bin_len,
        site_p_min_kw=s_min,
        site_p_max_kw=s_max,
        soc=soc_bins,
        p_device_kw=p_bins,
        plan_device_kw=plan_bins,
        soc_sample=pd.DataFrame(soc_sample, index=ticks, columns=[ids[j] for j in bat]),
        delay_s=tr.delay_s.copy(),
        controller=ctrl,
        scenario=scenario,
    )
