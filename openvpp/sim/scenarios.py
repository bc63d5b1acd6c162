"""Scenarios: validated event descriptions, and their resolution against a plan's day.

A scenario (TOML, read by :func:`openvpp.data.scenarios.read_scenario`) has

* ``[frequency]``: ``start`` (time of day ``HH:MM[:SS]``), ``t_s`` breakpoints [s] and ``df_hz`` deviations
  from the nominal frequency [Hz] (linear between breakpoints) — the frequency-trace player;
* ``[[instructions]]``: ``id``, ``kind`` (``ci`` / ``peak`` / ``track``), ``start`` (time of day), ``ramp_s``,
  ``hold_s`` and either ``delta_kw`` (load convention) or ``delta_share`` (share, as a reduction, of the
  plan's reserve for the kind's service when the ramp ends; of all the targets can give if the plan has no
  such service), optional ``device_ids`` / ``site_ids`` / ``ccp``, and for ``track``
  ``curve_t_s`` / ``curve_kw``;
* ``[[outages]]``: ``id``, ``section`` (a line name or ``"auto"``), ``start`` (time of day), ``duration_h``.

The bundled library holds the events of seed 000 §9's pilot: an under-frequency event below 49.85 Hz for about
10 minutes, a Chilean contingency dip to 49.4 Hz, a CI instruction, a peak-reduction event at 20:00 and a
4-hour outage with island operation.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from openvpp.control.events import ELIGIBLE_CLASSES, SERVICE_OF_KIND
from openvpp.control.signals import FrequencyTrace, Instruction, Outage
from openvpp.data.scenarios import list_scenarios, read_scenario
from openvpp.errors import ValidationError

if TYPE_CHECKING:
    from openvpp.schedule.plan import Plan

__all__ = ["ResolvedScenario", "Scenario", "load_scenario"]

_TOP = {"name", "description", "source", "frequency", "instructions", "outages"}


def _time_of_day(day: pd.Timestamp, text: Any, field: str) -> pd.Timestamp:
    try:
        delta = pd.Timedelta(str(text) if str(text).count(":") == 2 else f"{text}:00")
    except ValueError as exc:
        raise ValidationError(f"{field} must be a time of day HH:MM[:SS] (got {text!r})") from exc
    if not pd.Timedelta(0) <= delta < pd.Timedelta(days=1):
        raise ValidationError(f"{field} must lie within the day, 00:00-24:00 (got {text!r})")
    return day + delta


@dataclasses.dataclass(frozen=True)
class ResolvedScenario:
    """A scenario placed on a day and sized against a plan.

    Attributes
    ----------
    name : str
        Scenario name.
    trace : FrequencyTrace or None
        Absolute frequency [Hz].
    instructions : tuple of Instruction
        Operator events with their change in kW.
    outages : tuple of Outage
        Outages (``section`` may still be ``"auto"``).
    """

    name: str
    trace: FrequencyTrace | None
    instructions: tuple[Instruction, ...]
    outages: tuple[Outage, ...]

    def windows(self, margin_s: float = 120.0) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
        """Time windows that need 1-s resolution: the trace and each instruction's ramps, with a margin.

        Parameters
        ----------
        margin_s : float
            Margin before and after each window. [s]
        """
        m = pd.Timedelta(seconds=margin_s)
        out = []
        if self.trace is not None:
            out.append((self.trace.start - m, self.trace.end + m))
        for ins in self.instructions:
            ramp = pd.Timedelta(seconds=max(ins.ramp_s, 1.0))
            out.append((ins.start - m, ins.start + ramp + m))
            out.append((ins.end - m, ins.release_end + m))
        return out


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A scenario as written (module docstring); :meth:`resolve` places it on a plan's day.

    Parameters
    ----------
    name : str
        Scenario name.
    description : str
        One line.
    frequency : dict or None
        The ``[frequency]`` table.
    instructions : tuple of dict
        The ``[[instructions]]`` tables.
    outages : tuple of dict
        The ``[[outages]]`` tables.
    """

    name: str
    description: str = ""
    frequency: dict[str, Any] | None = None
    instructions: tuple[dict[str, Any], ...] = ()
    outages: tuple[dict[str, Any], ...] = ()

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scenario:
        """Validate the shape of a parsed scenario file.

        Parameters
        ----------
        d : dict
            Parsed TOML.
        """
        unknown = sorted(set(d) - _TOP)
        if unknown:
            raise ValidationError(f"scenario has unknown top-level keys {unknown}; allowed: {sorted(_TOP)}")
        name = str(d.get("name", "scenario"))
        freq = d.get("frequency")
        if freq is not None:
            for key in ("start", "t_s", "df_hz"):
                if key not in freq:
                    raise ValidationError(f"scenario {name!r}: [frequency] needs {key!r}")
            extra = sorted(set(freq) - {"start", "t_s", "df_hz"})
            if extra:
                raise ValidationError(f"scenario {name!r}: [frequency] has unknown keys {extra}")
        ins = tuple(dict(i) for i in d.get("instructions", ()))
        out = tuple(dict(o) for o in d.get("outages", ()))
        if freq is None and not ins and not out:
            raise ValidationError(f"scenario {name!r} has no [frequency], [[instructions]] or [[outages]]")
        day = pd.Timestamp("2000-01-01", tz="UTC")
        for raw in ins:  # checked now, before any plan or grid is built
            iid = str(raw.get("id", ""))
            if not iid:
                raise ValidationError(f"scenario {name!r}: every instruction needs an id")
            if str(raw.get("kind", "")) not in ELIGIBLE_CLASSES:
                raise ValidationError(
                    f"instruction {iid!r}: kind must be one of {sorted(ELIGIBLE_CLASSES)} "
                    f"(got {raw.get('kind')!r})"
                )
            _time_of_day(day, raw.get("start"), f"instruction {iid!r} start")
            for key in ("ramp_s", "hold_s"):
                v = float(raw.get(key, 0.0))
                if not np.isfinite(v) or v < 0:
                    raise ValidationError(
                        f"instruction {iid!r}: {key} must be >= 0 seconds (got {raw.get(key)!r})"
                    )
        for raw in out:
            _time_of_day(day, raw.get("start"), f"outage {raw.get('id', '')!r} start")
        ids = [str(i.get("id", "")) for i in ins] + [str(o.get("id", "")) for o in out]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValidationError(f"scenario {name!r}: event ids must be unique (repeated: {dup})")
        return cls(
            name=name,
            description=str(d.get("description", "")),
            frequency=freq,
            instructions=ins,
            outages=out,
        )

    def resolve(self, plan: Plan, day: pd.Timestamp, f_nominal_hz: float) -> ResolvedScenario:
        """Place the events on ``day`` and size ``delta_share`` instructions against ``plan``.

        Parameters
        ----------
        plan : Plan
            The plan the events run against.
        day : pandas.Timestamp
            Midnight of the simulated day (tz-aware).
        f_nominal_hz : float
            Nominal frequency the deviations refer to. [Hz]
        """
        trace = None
        if self.frequency is not None:
            fr = self.frequency
            start = _time_of_day(day, fr["start"], f"scenario {self.name!r} frequency.start")
            df = np.asarray(fr["df_hz"], dtype=float)
            trace = FrequencyTrace(
                start=start, t_s=np.asarray(fr["t_s"], dtype=float), f_hz=f_nominal_hz + df
            )
        instructions = []
        for raw in self.instructions:
            instructions.append(self._instruction(raw, plan, day))
        outages = []
        for raw in self.outages:
            oid = str(raw.get("id", ""))
            extra = sorted(set(raw) - {"id", "section", "start", "duration_h"})
            if extra:
                raise ValidationError(f"scenario {self.name!r}: outage {oid!r} has unknown keys {extra}")
            start = _time_of_day(day, raw.get("start"), f"outage {oid!r} start")
            dur = float(raw.get("duration_h", 0.0))
            if not (0 < dur <= 72):
                raise ValidationError(f"outage {oid!r} duration_h must lie in (0, 72] h (got {dur})")
            outages.append(
                Outage(oid, str(raw.get("section", "auto")), start, start + pd.Timedelta(hours=dur))
            )
        return ResolvedScenario(self.name, trace, tuple(instructions), tuple(outages))

    def _instruction(self, raw: dict[str, Any], plan: Plan, day: pd.Timestamp) -> Instruction:
        iid = str(raw.get("id", ""))
        allowed = {
            "id",
            "kind",
            "start",
            "ramp_s",
            "hold_s",
            "delta_kw",
            "delta_share",
            "device_ids",
            "site_ids",
            "ccp",
            "curve_t_s",
            "curve_kw",
        }
        extra = sorted(set(raw) - allowed)
        if extra:
            raise ValidationError(f"scenario {self.name!r}: instruction {iid!r} has unknown keys {extra}")
        kind = str(raw.get("kind", ""))
        if kind not in ELIGIBLE_CLASSES:
            raise ValidationError(
                f"instruction {iid!r}: kind must be one of {sorted(ELIGIBLE_CLASSES)} (got {kind!r})"
            )
        start = _time_of_day(day, raw.get("start"), f"instruction {iid!r} start")
        ramp = float(raw.get("ramp_s", 0.0))
        hold = float(raw.get("hold_s", 0.0))
        if "delta_kw" in raw and "delta_share" in raw:
            raise ValidationError(f"instruction {iid!r}: give delta_kw or delta_share, not both")
        if "delta_share" in raw:
            share = float(raw["delta_share"])
            if not 0 <= share <= 1:
                raise ValidationError(f"instruction {iid!r}: delta_share must lie in [0, 1] (got {share})")
            # sized at the instant the full change is due (end of the ramp)
            k = int(np.searchsorted(plan.index, start + pd.Timedelta(seconds=ramp), side="right") - 1)
            if k < 0:
                raise ValidationError(f"instruction {iid!r} starts before the plan ({plan.index[0]})")
            mask = np.isin(plan.device_class, ELIGIBLE_CLASSES[kind])
            if raw.get("device_ids"):
                mask &= np.isin(plan.device_ids, list(raw["device_ids"]))
            service = SERVICE_OF_KIND[kind]
            if service in plan.services:  # the plan's commitment for the service
                cap = float(np.sum(plan.reserve_up_kw[plan.services.index(service), mask, k]))
            else:  # all the targets can give
                cap = float(np.sum(plan.p_baseline_kw[mask, k] - np.asarray(plan.p_min_kw)[mask, k]))
            delta = -share * cap
        else:
            delta = float(raw.get("delta_kw", 0.0))
        return Instruction(
            id=iid,
            kind=kind,  # type: ignore[arg-type]
            start=start,
            end=start + pd.Timedelta(seconds=ramp + hold),
            ramp_s=ramp,
            delta_kw=delta,
            curve_t_s=tuple(raw.get("curve_t_s", ())),
            curve_kw=tuple(raw.get("curve_kw", ())),
            device_ids=tuple(raw.get("device_ids", ())),
            site_ids=tuple(raw.get("site_ids", ())),
            ccp=raw.get("ccp"),
        )


def load_scenario(name_or_path: str | Path, field: str = "--scenario") -> Scenario:
    """A bundled scenario by name or a user TOML file by path, validated.

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        Name (see :func:`openvpp.data.scenarios.list_scenarios`) or file path.
    field : str
        How the caller calls this argument (used in error messages).
    """
    return Scenario.from_dict(read_scenario(name_or_path, field))


def bundled_scenarios() -> list[str]:
    """Names of the bundled scenarios."""
    return list_scenarios()
