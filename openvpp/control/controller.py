"""The real-time :class:`Controller`: plan + measurements + signals -> device set-points, one tick at a time.

DESIGN.md "The operating loop": the controller is the same object in the co-simulation (:mod:`openvpp.sim`)
and in the running service; only the transport and the clock differ. Each :meth:`Controller.step`

1. reads the plan's interval at ``now`` (baseline, device range, reserves, SoC band, site envelope);
2. takes in new signals: operator instructions (validated: known devices, no overlap the plan cannot serve),
   envelope updates (live or fallback, seed 001 §2.1) and the latest frequency;
3. marks devices that did not respond (offline, or not following their set-point after ``grace_s``);
4. frequency response (seed 000 §6.1 CPF+/CPF-, AEMO-style contingency services): in ``central`` mode the
   controller computes each device's droop share of its committed reserve from the measured frequency and
   sends it; in ``local`` mode the inverters apply the same droop (:func:`~openvpp.control.droop.
   droop_response`) from settings pushed with the plan, and the controller only accounts for it;
5. events: each active instruction's request is disaggregated (:func:`~openvpp.control.disaggregate.
   disaggregate`) across its responsive target devices, keeping the capacity reserved for other services;
6. re-dispatches the frequency response that unresponsive devices are not delivering to the responsive ones;
7. gives back the energy moved away from the plan by a planned rebound after each event
   (:mod:`openvpp.control.events`) so every device ends exactly on its plan.

Sign convention: load convention (+ = import / consumption / charging) for every power.
"""

from __future__ import annotations

import dataclasses
import time as _time
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openvpp.control.disaggregate import disaggregate
from openvpp.control.droop import FrequencyService, contingency_services, cpf_services
from openvpp.control.events import SERVICE_OF_KIND, EventRecord, Rebound, check_overlaps, targets_of
from openvpp.control.signals import EnvelopeUpdate, Instruction, Measurements, Setpoints, Signals, as_time
from openvpp.errors import ValidationError
from openvpp.units import S_PER_H

if TYPE_CHECKING:
    from openvpp.schedule.plan import Plan

__all__ = ["ENERGY_CLASSES", "Controller", "ControllerSettings"]

#: classes whose moved energy is given back after an event (storage, deferrable consumption)
ENERGY_CLASSES = ("battery", "ev", "heatpump", "waterheater")


@dataclasses.dataclass(frozen=True)
class ControllerSettings:
    """Settings of a :class:`Controller`.

    Parameters
    ----------
    mode : {"central", "local"}
        Frequency response computed by the controller (central) or by the inverters (local).
    strategy : {"headroom", "soc", "merit"}
        Disaggregation strategy for events and re-dispatch.
    f_nominal_hz : float, optional
        Nominal frequency; default the bundled catalogue's. [Hz]
    setpoint_validity_s : float
        How long a set-point stays valid at the device. [s]
    rebound_h : float
        Length of the rebound window after an event. [h]
    grace_s : float
        Time a device is given to follow a new set-point before it counts as not responding. [s]
    tol_kw : float
        Tracking tolerance per device (plus 10 % of its set-point change). [kW]
    hold_h : float
        How long an event's set-point must be sustainable within the SoC band. [h]
    """

    mode: Literal["central", "local"] = "central"
    strategy: Literal["headroom", "soc", "merit"] = "headroom"
    f_nominal_hz: float | None = None
    setpoint_validity_s: float = 900.0
    rebound_h: float = 1.0
    grace_s: float = 15.0
    tol_kw: float = 0.2
    hold_h: float = 0.25

    def __post_init__(self) -> None:
        if self.mode not in ("central", "local"):
            raise ValidationError(f"mode must be 'central' or 'local' (got {self.mode!r})")
        for name in ("setpoint_validity_s", "rebound_h", "grace_s", "tol_kw", "hold_h"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise ValidationError(f"controller setting {name} must be > 0 (got {v})")


def _ids_tuple(plan: Plan) -> tuple[str, ...]:
    from openvpp.control.signals import Setpoints

    t = plan.index[0]
    return Setpoints(t, tuple(plan.device_ids.tolist()), np.zeros(plan.n_devices), None, t).device_ids


def default_frequency_services(f_nominal_hz: float | None = None) -> dict[str, FrequencyService]:
    """CPF+/CPF- and the six contingency services by key (see :mod:`openvpp.control.droop`).

    Parameters
    ----------
    f_nominal_hz : float, optional
        Nominal frequency; default the bundled catalogue's. [Hz]
    """
    cpf = cpf_services(f_nominal_hz)
    return {s.key: s for s in (*cpf, *contingency_services(cpf[0].f_nominal_hz))}


class Controller:
    """Real-time controller of a VPP following a :class:`~openvpp.schedule.plan.Plan` (module docstring).

    Parameters
    ----------
    plan : Plan
        The day's plan (baseline, device range, reserves per service, SoC band, envelopes).
    settings : ControllerSettings, optional
        Mode, strategy, tolerances.
    frequency_services : mapping of str to FrequencyService, optional
        Droop settings per frequency service key; default :func:`default_frequency_services`. Plan services
        with these keys respond to frequency.
    ccp_of_device : array_like of str, shape (n_devices,), optional
        CCP of each device (for instructions that name a CCP).
    cost_usd_per_kwh : array_like, shape (n_devices,), optional
        Cost of moving each device (``merit`` strategy). [USD/kWh]
    """

    def __init__(
        self,
        plan: Plan,
        settings: ControllerSettings | None = None,
        frequency_services: dict[str, FrequencyService] | None = None,
        ccp_of_device: Any = None,
        cost_usd_per_kwh: Any = None,
    ) -> None:
        self.plan = plan
        self.settings = settings or ControllerSettings()
        fs = frequency_services or default_frequency_services(self.settings.f_nominal_hz)
        self.freq = [(plan.services.index(k), s) for k, s in fs.items() if k in plan.services]
        n = plan.n_devices
        self.n = n
        self.device_ids = _ids_tuple(plan)
        self.ccp = None if ccp_of_device is None else np.asarray(ccp_of_device, dtype=object).astype(str)
        self.cost = None if cost_usd_per_kwh is None else np.asarray(cost_usd_per_kwh, dtype=float)
        self.energy_class = np.isin(plan.device_class, ENERGY_CLASSES)
        self.events: dict[str, EventRecord] = {}
        self._masks: dict[str, NDArray[np.bool_]] = {}
        self.rebounds: list[Rebound] = []
        self.rebound_log: list[Rebound] = []
        self.e_dev_kwh = np.zeros(n)
        self.responsive = np.ones(n, dtype=bool)
        self.f_hz: float | None = None
        self._last: pd.Timestamp | None = None
        self._dev_prev = np.zeros(n)
        self._cmd = plan.p_baseline_kw[:, 0].copy()
        self._expected = self._cmd.copy()
        self._expected_prev = self._cmd.copy()
        self._cmd_changed = np.full(n, -np.inf)
        self._exp_lim: NDArray[np.float64] | None = None
        self._imp_lim: NDArray[np.float64] | None = None
        self._env_until: pd.Timestamp | None = None
        self._freq_active_s = -np.inf
        self.log: dict[str, list[float]] = {
            k: []
            for k in (
                "t_s",
                "f_hz",
                "plan_kw",
                "request_kw",
                "freq_expected_kw",
                "setpoint_kw",
                "expected_kw",
                "n_unresponsive",
                "shortfall_kw",
                "rebound_kw",
                "compute_s",
            )
        }
        self._t0 = plan.index[0]

    # ------------------------------------------------------------------ signals
    def add_instruction(self, ins: Instruction) -> None:
        """Accept an operator instruction after checking its targets and its overlap with known ones.

        Parameters
        ----------
        ins : Instruction
            The event.
        """
        if ins.id in self.events:
            if self.events[ins.id].instruction != ins:
                raise ValidationError(f"instruction id {ins.id!r} is already used by another instruction")
            return
        p = self.plan
        if ins.start < p.index[0] or ins.release_end > p.index[-1] + (p.index[1] - p.index[0]):
            raise ValidationError(
                f"instruction {ins.id!r} runs {ins.start} - {ins.release_end}, outside the plan "
                f"({p.index[0]} - {p.index[-1]})"
            )
        mask = targets_of(ins, p.device_ids, p.device_class, p.site_ids, p.site_of_device, self.ccp)
        k = self._step(ins.start)
        cap = self._capacity(mask, k, ins.delta_kw < 0)
        known = [r.instruction for r in self.events.values()]
        masks = [self._masks[i.id] for i in known]
        caps = [
            self._capacity(m, self._step(i.start), i.delta_kw < 0) for i, m in zip(known, masks, strict=True)
        ]
        check_overlaps([*known, ins], [*masks, mask], [*caps, cap])
        self.events[ins.id] = EventRecord(ins, int(mask.sum()))
        self._masks[ins.id] = mask

    def _capacity(self, mask: NDArray[np.bool_], k: int, down: bool) -> float:
        p = self.plan
        base = p.p_baseline_kw[mask, k]
        return float(
            np.sum(base - np.asarray(p.p_min_kw)[mask, k])
            if down
            else np.sum(np.asarray(p.p_max_kw)[mask, k] - base)
        )

    def _envelope(self, env: EnvelopeUpdate) -> None:
        pos = pd.Index(self.plan.site_ids).get_indexer(list(env.site_ids))
        if np.any(pos < 0):
            bad = [s for s, q in zip(env.site_ids, pos, strict=True) if q < 0][:5]
            raise ValidationError(f"envelope.site_ids names sites not in the plan: {bad}")
        if self._exp_lim is None or self._imp_lim is None:
            self._exp_lim = np.full(self.plan.n_sites, np.nan)
            self._imp_lim = np.full(self.plan.n_sites, np.nan)
        if env.status == "fallback":
            self._exp_lim[pos] = np.nan  # NaN = the plan's static limits
            self._imp_lim[pos] = np.nan
        else:
            self._exp_lim[pos] = env.export_limit_kw
            self._imp_lim[pos] = env.import_limit_kw
        self._env_until = env.valid_until

    def _step(self, now: pd.Timestamp) -> int:
        idx = self.plan.index
        dt = idx[1] - idx[0] if len(idx) > 1 else pd.Timedelta(hours=self.plan.dt_h)
        k = int((now - idx[0]) // dt)
        if k < 0 or k >= len(idx):
            raise ValidationError(f"time {now} lies outside the plan ({idx[0]} - {idx[-1] + dt})")
        return k

    # ------------------------------------------------------------------ the tick
    def step(
        self, now: pd.Timestamp, measurements: Measurements, signals: Signals | None = None
    ) -> Setpoints:
        """Compute the set-points for ``now`` (module docstring).

        Parameters
        ----------
        now : pandas.Timestamp
            The controller's clock (tz-aware, not earlier than the previous tick).
        measurements : Measurements
            Latest telemetry of the plan's devices, in plan order.
        signals : Signals, optional
            New instructions, envelopes, frequency, outages.

        Returns
        -------
        Setpoints
            One active-power set-point per plan device, load convention. [kW]
        """
        tick0 = _time.perf_counter()
        now = as_time(now, "now")
        p = self.plan
        if measurements.device_ids is not self.device_ids and measurements.device_ids != self.device_ids:
            raise ValidationError(
                f"measurements.device_ids must list the plan's {p.n_devices} devices in plan order"
            )
        if self._last is not None and now < self._last:
            raise ValidationError(f"now ({now}) is before the previous tick ({self._last})")
        k = self._step(now)
        dt_h = 0.0 if self._last is None else (now - self._last).total_seconds() / S_PER_H
        t_s = (now - self._t0).total_seconds()
        signals = signals or Signals()
        for ins in signals.instructions:
            self.add_instruction(ins)
        for env in signals.envelopes:
            self._envelope(env)
        if signals.frequency is not None:
            self.f_hz = signals.frequency.f_hz
        elif measurements.f_hz is not None:
            self.f_hz = measurements.f_hz
        # energy moved away from the plan since the previous tick (rebound given back analytically)
        self.e_dev_kwh += np.where(self.energy_class, self._dev_prev * dt_h, 0.0)
        if self._last is not None:
            for rb in self.rebounds:
                lo_t, hi_t = max(rb.start, self._last), min(rb.end, now)
                if hi_t > lo_t:
                    self.e_dev_kwh += rb.p_kw * (hi_t - lo_t).total_seconds() / S_PER_H
        self.rebounds = [rb for rb in self.rebounds if rb.end > now]
        base = p.p_baseline_kw[:, k]
        lo, hi = np.asarray(p.p_min_kw)[:, k], np.asarray(p.p_max_kw)[:, k]
        if self._last is None:  # first tick: the devices are expected on their plan
            self._cmd = base.copy()
            self._expected = base.copy()
            self._expected_prev = base.copy()
        reb = np.zeros(self.n)
        for rb in self.rebounds:
            if rb.start <= now:
                reb += rb.p_kw
        self._update_responsive(now, measurements)
        resp = self.responsive
        soc = np.where(np.isnan(measurements.soc), p.soc_baseline[:, k], measurements.soc)
        p_ref = base + reb
        # frequency response
        freq_dev = np.zeros(self.n)
        if self.f_hz is not None:
            for s_idx, svc in self.freq:
                share = float(svc.share(self.f_hz))
                if share > 0:
                    res = (
                        p.reserve_up_kw[s_idx, :, k]
                        if svc.direction == "raise"
                        else -p.reserve_down_kw[s_idx, :, k]
                    )
                    freq_dev -= share * res
            if np.any(freq_dev != 0):
                self._freq_active_s = t_s
        central = self.settings.mode == "central"
        cur = p_ref + (freq_dev if central else 0.0)
        # events
        request = 0.0
        shortfall = 0.0
        site_env = self._site_limits(k, now)
        active_ids = []
        for rec in self.events.values():
            ins = rec.instruction
            if not (ins.start <= now < ins.release_end):
                continue
            active_ids.append(ins.id)
            r = ins.request_kw(now)
            request += r
            mask = self._masks[ins.id] & resp
            if not mask.any():
                shortfall += r
                continue
            service = SERVICE_OF_KIND[ins.kind]
            others = [i for i, s in enumerate(p.services) if s != service]
            r_up = p.reserve_up_kw[others][:, mask, k].sum(axis=0) if others else None
            r_dn = p.reserve_down_kw[others][:, mask, k].sum(axis=0) if others else None
            site_p = p.site_p_kw[:, k] + np.bincount(p.site_of_device, cur - base, minlength=p.n_sites)
            d = disaggregate(
                r,
                cur[mask],
                lo[mask],
                hi[mask],
                strategy=self.settings.strategy,
                soc=soc[mask],
                soc_min=p.soc_min[mask, k],
                soc_max=p.soc_max[mask, k],
                e_max_kwh=np.nan_to_num(p.e_max_kwh[mask], nan=1.0),
                hold_h=self.settings.hold_h,
                reserved_up_kw=r_up,
                reserved_down_kw=r_dn,
                site_of_device=p.site_of_device[mask],
                site_p_kw=site_p,
                site_export_limit_kw=site_env[0],
                site_import_limit_kw=site_env[1],
                cost_usd_per_kwh=None if self.cost is None else self.cost[mask],
            )
            cur[mask] = d.p_kw
            shortfall += d.shortfall_kw
            if abs(d.shortfall_kw) > abs(rec.shortfall_kw):
                rec.shortfall_kw, rec.reason = d.shortfall_kw, d.reason
        # re-dispatch what unresponsive devices do not deliver of the frequency response
        # to the responsive devices that carry frequency reserve themselves
        lost = float(freq_dev[~resp].sum())
        carriers = resp & self._freq_carrier(k)
        if abs(lost) > self.settings.tol_kw and carriers.any():
            c = carriers
            base_r = cur[c] + (0.0 if central else freq_dev[c])
            d = disaggregate(
                lost,
                base_r,
                lo[c],
                hi[c],
                soc=soc[c],
                soc_min=p.soc_min[c, k],
                soc_max=p.soc_max[c, k],
                e_max_kwh=np.nan_to_num(p.e_max_kwh[c], nan=1.0),
                hold_h=self.settings.hold_h,
            )
            cur[c] = d.p_kw - (0.0 if central else freq_dev[c])
        # rebounds after events released (and after frequency response has settled for a minute): storage
        # devices give back their measured SoC error, the others the energy integrated from their set-points
        frac = ((now - p.index[k]) / (p.index[1] - p.index[0])) if p.n_steps > 1 else 0.0
        soc_plan = p.soc_baseline[:, k] + frac * (p.soc_baseline[:, k + 1] - p.soc_baseline[:, k])
        measured = np.isfinite(measurements.soc) & np.isfinite(p.e_max_kwh) & measurements.online
        e_dev = np.where(measured, (measurements.soc - soc_plan) * np.nan_to_num(p.e_max_kwh), self.e_dev_kwh)
        self._plan_rebounds(now, t_s, active_ids, lo - base, hi - base, e_dev)
        changed = np.abs(cur - self._cmd) > self.settings.tol_kw
        self._cmd_changed = np.where(changed, t_s, self._cmd_changed)
        self._cmd = cur
        self._expected_prev = self._expected
        self._expected = cur + (0.0 if central else freq_dev)
        self._dev_prev = self._expected - base - reb  # rebound integrated analytically
        self._last = now
        out = Setpoints(
            time=now,
            device_ids=self.device_ids,
            p_kw=cur,
            q_kvar=None,
            valid_until=now + pd.Timedelta(seconds=self.settings.setpoint_validity_s),
        )
        lg = self.log
        lg["t_s"].append(t_s)
        lg["f_hz"].append(np.nan if self.f_hz is None else self.f_hz)
        lg["plan_kw"].append(float(base.sum()))
        lg["request_kw"].append(request)
        lg["freq_expected_kw"].append(float(freq_dev.sum()))
        lg["setpoint_kw"].append(float(cur.sum()))
        lg["expected_kw"].append(float(self._expected.sum()))
        lg["n_unresponsive"].append(float((~resp).sum()))
        lg["shortfall_kw"].append(shortfall)
        lg["rebound_kw"].append(float(reb.sum()))
        lg["compute_s"].append(_time.perf_counter() - tick0)
        return out

    def _freq_carrier(self, k: int) -> NDArray[np.bool_]:
        p = self.plan
        idx = [i for i, _ in self.freq]
        if not idx:
            return np.zeros(self.n, dtype=bool)
        return np.asarray(
            (p.reserve_up_kw[idx, :, k].sum(axis=0) + p.reserve_down_kw[idx, :, k].sum(axis=0)) > 0
        )

    def _site_limits(self, k: int, now: pd.Timestamp) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        p = self.plan
        exp_lim, imp_lim = p.site_export_limit_kw[:, k], p.site_import_limit_kw[:, k]
        if (
            self._exp_lim is not None
            and self._imp_lim is not None
            and (self._env_until is None or now <= self._env_until)
        ):
            exp_lim = np.where(np.isnan(self._exp_lim), exp_lim, self._exp_lim)
            imp_lim = np.where(np.isnan(self._imp_lim), imp_lim, self._imp_lim)
        return exp_lim, imp_lim

    def _update_responsive(self, now: pd.Timestamp, m: Measurements) -> None:
        """Online, and the reading lies between the powers expected at the last two ticks (a reading is
        taken before the device sees the newest set-point) once ``grace_s`` has passed since a change."""
        t_s = (now - self._t0).total_seconds()
        settled = (t_s - self._cmd_changed) > self.settings.grace_s
        lo = np.minimum(self._expected, self._expected_prev)
        hi = np.maximum(self._expected, self._expected_prev)
        tol = self.settings.tol_kw + 0.1 * np.abs(hi - lo)
        off_track = settled & np.isfinite(m.p_kw) & ((m.p_kw < lo - tol) | (m.p_kw > hi + tol))
        self.responsive = m.online & ~off_track

    def _plan_rebounds(
        self,
        now: pd.Timestamp,
        t_s: float,
        active: list[str],
        room_lo: NDArray[np.float64],
        room_hi: NDArray[np.float64],
        e_dev: NDArray[np.float64],
    ) -> None:
        busy = np.zeros(self.n, dtype=bool)
        for i in active:
            busy |= self._masks[i]
        for rb in self.rebounds:
            busy |= rb.p_kw != 0
        for rec in self.events.values():
            ins = rec.instruction
            if rec.rebound is None and now >= ins.release_end:
                mask = self._masks[ins.id] & self.energy_class & ~busy
                rec.rebound = self._rebound(ins.id, now, mask, room_lo, room_hi, e_dev)
                busy |= rec.rebound.p_kw != 0
        freq_quiet = t_s - self._freq_active_s > 60.0
        if freq_quiet and np.isfinite(self._freq_active_s):
            mask = self.energy_class & ~busy & (np.abs(e_dev) > 1e-9)
            if mask.any():
                self._rebound("frequency", now, mask, room_lo, room_hi, e_dev)
            self._freq_active_s = -np.inf

    def _rebound(
        self,
        event_id: str,
        now: pd.Timestamp,
        mask: NDArray[np.bool_],
        room_lo: NDArray[np.float64],
        room_hi: NDArray[np.float64],
        e_dev: NDArray[np.float64],
    ) -> Rebound:
        """Plan the rebound: constant power per device over a window long enough for every device's range
        (at least ``rebound_h``, at most 12 h, ending on a plan interval boundary)."""
        need = np.where(mask, -e_dev, 0.0)
        room = np.where(need > 0, room_hi, -room_lo)
        with np.errstate(divide="ignore", invalid="ignore"):
            h_need = np.where(np.abs(need) > 0, np.abs(need) / np.where(room > 0, room, np.nan), 0.0)
        h_need = np.nan_to_num(h_need, nan=0.0)
        h = min(max(self.settings.rebound_h, float(h_need.max(initial=0.0))), 12.0)
        # end on a plan interval boundary (every clock ticks there), the power spread over the window
        idx = self.plan.index
        step = idx[1] - idx[0] if len(idx) > 1 else pd.Timedelta(hours=self.plan.dt_h)
        end = idx[0] + step * int(np.ceil((now + pd.Timedelta(hours=h) - idx[0]) / step))
        h = (end - now).total_seconds() / S_PER_H
        p_kw = np.clip(need / h, np.minimum(room_lo, 0.0), np.maximum(room_hi, 0.0))
        rb = Rebound(event_id, now, end, p_kw, float(p_kw.sum() * h))
        self.rebounds.append(rb)
        self.rebound_log.append(rb)
        return rb

    def log_frame(self) -> pd.DataFrame:
        """The per-tick log (time in s from the plan start, aggregates in kW, compute time in s)."""
        return pd.DataFrame(self.log)
