"""Typed real-time signals exchanged by the :class:`~openvpp.control.controller.Controller` and a transport.

The operating loop of DESIGN.md ("The operating loop") passes these frozen dataclasses between the controller
and the devices, whatever carries them (the in-process transport of :mod:`openvpp.sim.transport` or MQTT in
:mod:`openvpp.platform.gateway`). Every class has ``to_dict()`` / ``from_dict()`` producing plain JSON-safe
values: times as ISO 8601 strings with their offset, arrays as lists, NaN as ``None``.

- :class:`Setpoints` controller -> devices: active (and optionally reactive) power per device.
- :class:`Measurements` devices -> controller: power, state of charge, online flag, optional frequency
  (the 5-min monitoring fields of seed 001 §2.1 at the tick's resolution).
- :class:`FrequencySample` / :class:`FrequencyTrace`: system frequency (seed 000 §6.1 CPF, §9 system events).
- :class:`Instruction`: an operator event (CI curtailment, peak reduction, tracking of a curve; seed 000
  §6.1 and §9, explainer 002) with start, ramp, hold and release.
- :class:`EnvelopeUpdate`: site export/import limits (CSIP-AUS DERControl fields; seed 001 §2.1), live or the
  static fallback.
- :class:`Outage`: an outage of a feeder section (seed 000 §9 island mode).
- :class:`Signals`: what the controller receives besides measurements in one tick.

Sign convention: load convention everywhere (+ = import / consumption / charging at a device or site).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from openvpp.errors import ValidationError
from openvpp.units import S_PER_H

__all__ = [
    "INSTRUCTION_KINDS",
    "EnvelopeUpdate",
    "FrequencySample",
    "FrequencyTrace",
    "Instruction",
    "Measurements",
    "Outage",
    "Setpoints",
    "Signals",
    "as_time",
]

#: operator instruction kinds: interruptible-load curtailment, peak reduction, tracking of a requested curve
INSTRUCTION_KINDS = ("ci", "peak", "track")
#: largest number of devices one signal may carry (bounded before any array is built)
MAX_DEVICES = 2_000_000


def as_time(value: Any, name: str) -> pd.Timestamp:
    """A tz-aware :class:`pandas.Timestamp` from a Timestamp, datetime or ISO 8601 string.

    Parameters
    ----------
    value : pandas.Timestamp, datetime or str
        The instant; it must carry a time zone or offset.
    name : str
        The field name used in the error message.

    Returns
    -------
    pandas.Timestamp
        The instant, tz-aware.
    """
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name} must be an ISO 8601 time with an offset (got {value!r})") from exc
    if ts is pd.NaT or pd.isna(ts):
        raise ValidationError(f"{name} must be a time, not {value!r}")
    if ts.tzinfo is None:
        raise ValidationError(
            f"{name} has no time zone (got {value!r}); write the offset, e.g. '2024-07-01T20:00:00+00:00'"
        )
    return ts


#: tuples of ids already checked (a controller sends the same tuple every tick): id -> tuple
_CHECKED_IDS: dict[int, tuple[str, ...]] = {}


def _ids(name: str, ids: Sequence[str]) -> tuple[str, ...]:
    if isinstance(ids, tuple) and _CHECKED_IDS.get(id(ids)) is ids:
        return ids
    if isinstance(ids, str):
        raise ValidationError(f"{name} must be a list of ids, not the single string {ids!r}")
    if len(ids) > MAX_DEVICES:
        raise ValidationError(f"{name} has {len(ids)} entries; at most {MAX_DEVICES} are accepted")
    out = tuple(str(i) for i in ids)
    if len(out) >= 64:  # worth remembering
        if len(_CHECKED_IDS) > 16:
            _CHECKED_IDS.clear()
        _CHECKED_IDS[id(out)] = out
    return out


def _vector(name: str, values: ArrayLike, n: int, *, finite: bool = True) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValidationError(f"{name} must have one value per device ({n}); got shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        bad = int(np.argmax(~np.isfinite(arr)))
        raise ValidationError(f"{name} must be finite; entry {bad} is {arr[bad]}")
    arr.setflags(write=False)
    return arr


def _list(arr: NDArray[Any] | None) -> list[Any] | None:
    """JSON-safe list: NaN and infinities become ``None``."""
    if arr is None:
        return None
    if arr.dtype == bool:
        return [bool(x) for x in arr]
    return [None if not math.isfinite(x) else float(x) for x in arr.tolist()]


def _floats(values: Any) -> NDArray[np.float64]:
    return np.asarray([np.nan if v is None else v for v in values], dtype=float)


def _field(d: Mapping[str, Any], key: str, cls: str) -> Any:
    if key not in d:
        raise ValidationError(f"{cls} JSON is missing the field {key!r}")
    return d[key]


@dataclasses.dataclass(frozen=True)
class Setpoints:
    """Active (and optional reactive) power set-points for a list of devices, controller -> devices.

    Parameters
    ----------
    time : pandas.Timestamp
        When the controller issued them (tz-aware).
    device_ids : sequence of str
        The devices addressed, in the order of ``p_kw``.
    p_kw : array_like, shape (n_devices,)
        Active power set-point, load convention (+ = import / charging). [kW]
    q_kvar : array_like, shape (n_devices,), optional
        Reactive power set-point, + = absorbed (load convention). [kvar]
    valid_until : pandas.Timestamp
        After this instant a device falls back to its local settings (its plan value or droop only).
    """

    time: pd.Timestamp
    device_ids: tuple[str, ...]
    p_kw: NDArray[np.float64]
    q_kvar: NDArray[np.float64] | None
    valid_until: pd.Timestamp

    def __post_init__(self) -> None:
        object.__setattr__(self, "time", as_time(self.time, "setpoints.time"))
        object.__setattr__(self, "valid_until", as_time(self.valid_until, "setpoints.valid_until"))
        if self.valid_until < self.time:
            raise ValidationError(
                f"setpoints.valid_until ({self.valid_until}) is before setpoints.time ({self.time})"
            )
        ids = _ids("setpoints.device_ids", self.device_ids)
        object.__setattr__(self, "device_ids", ids)
        object.__setattr__(self, "p_kw", _vector("setpoints.p_kw", self.p_kw, len(ids)))
        if self.q_kvar is not None:
            object.__setattr__(self, "q_kvar", _vector("setpoints.q_kvar", self.q_kvar, len(ids)))

    def to_dict(self) -> dict[str, Any]:
        """The set-points as JSON-safe values."""
        return {
            "time": self.time.isoformat(),
            "device_ids": list(self.device_ids),
            "p_kw": _list(self.p_kw),
            "q_kvar": _list(self.q_kvar),
            "valid_until": self.valid_until.isoformat(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Setpoints:
        """Set-points from :meth:`to_dict` output (raises ValidationError naming a missing field).

        Parameters
        ----------
        d : mapping
            The JSON object.
        """
        q = d.get("q_kvar")
        return cls(
            time=_field(d, "time", "Setpoints"),
            device_ids=_field(d, "device_ids", "Setpoints"),
            p_kw=_floats(_field(d, "p_kw", "Setpoints")),
            q_kvar=None if q is None else _floats(q),
            valid_until=_field(d, "valid_until", "Setpoints"),
        )


@dataclasses.dataclass(frozen=True)
class Measurements:
    """Telemetry of a list of devices at one instant, devices -> controller (seed 001 §2.1 monitoring fields).

    Parameters
    ----------
    time : pandas.Timestamp
        Instant of the readings (tz-aware).
    device_ids : sequence of str
        The devices, in the order of the arrays.
    p_kw : array_like, shape (n_devices,)
        Measured active power, load convention; NaN where no reading arrived. [kW]
    soc : array_like, shape (n_devices,)
        State of charge in [0, 1]; NaN for devices without storage or without a reading. [-]
    online : array_like of bool, shape (n_devices,)
        Whether the device answered (a reading arrived in time).
    f_hz : float, optional
        Frequency measured at the point of connection, if the gateway reports it. [Hz]
    """

    time: pd.Timestamp
    device_ids: tuple[str, ...]
    p_kw: NDArray[np.float64]
    soc: NDArray[np.float64]
    online: NDArray[np.bool_]
    f_hz: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "time", as_time(self.time, "measurements.time"))
        ids = _ids("measurements.device_ids", self.device_ids)
        n = len(ids)
        object.__setattr__(self, "device_ids", ids)
        object.__setattr__(self, "p_kw", _vector("measurements.p_kw", self.p_kw, n, finite=False))
        soc = _vector("measurements.soc", self.soc, n, finite=False)
        if np.any((soc < 0) | (soc > 1)):
            bad = int(np.argmax((soc < 0) | (soc > 1)))
            raise ValidationError(
                f"measurements.soc must lie in [0, 1] (a fraction, not percent); device {ids[bad]!r} has "
                f"{soc[bad]}"
            )
        object.__setattr__(self, "soc", soc)
        online = np.asarray(self.online, dtype=bool)
        if online.shape != (n,):
            raise ValidationError(
                f"measurements.online must have one flag per device ({n}); got {online.shape}"
            )
        online.setflags(write=False)
        object.__setattr__(self, "online", online)
        if self.f_hz is not None:
            f = float(self.f_hz)
            if not math.isfinite(f) or f <= 0:
                raise ValidationError(
                    f"measurements.f_hz must be a positive frequency in Hz (got {self.f_hz})"
                )
            object.__setattr__(self, "f_hz", f)

    def to_dict(self) -> dict[str, Any]:
        """The readings as JSON-safe values."""
        return {
            "time": self.time.isoformat(),
            "device_ids": list(self.device_ids),
            "p_kw": _list(self.p_kw),
            "soc": _list(self.soc),
            "online": _list(self.online),
            "f_hz": self.f_hz,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Measurements:
        """Readings from :meth:`to_dict` output.

        Parameters
        ----------
        d : mapping
            The JSON object.
        """
        return cls(
            time=_field(d, "time", "Measurements"),
            device_ids=_field(d, "device_ids", "Measurements"),
            p_kw=_floats(_field(d, "p_kw", "Measurements")),
            soc=_floats(_field(d, "soc", "Measurements")),
            online=np.asarray(_field(d, "online", "Measurements"), dtype=bool),
            f_hz=d.get("f_hz"),
        )


@dataclasses.dataclass(frozen=True)
class FrequencySample:
    """One reading of the system frequency.

    Parameters
    ----------
    time : pandas.Timestamp
        Instant of the reading (tz-aware).
    f_hz : float
        Frequency. [Hz]
    """

    time: pd.Timestamp
    f_hz: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "time", as_time(self.time, "frequency.time"))
        f = float(self.f_hz)
        if not math.isfinite(f) or f <= 0:
            raise ValidationError(f"frequency.f_hz must be a positive frequency in Hz (got {self.f_hz})")
        object.__setattr__(self, "f_hz", f)

    def to_dict(self) -> dict[str, Any]:
        """The sample as JSON-safe values."""
        return {"time": self.time.isoformat(), "f_hz": self.f_hz}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FrequencySample:
        """A sample from :meth:`to_dict` output.

        Parameters
        ----------
        d : mapping
            The JSON object.
        """
        return cls(time=_field(d, "time", "FrequencySample"), f_hz=_field(d, "f_hz", "FrequencySample"))


@dataclasses.dataclass(frozen=True)
class FrequencyTrace:
    """A frequency recording: breakpoints in seconds from ``start``, linearly interpolated, held at the ends.

    Parameters
    ----------
    start : pandas.Timestamp
        Instant of ``t_s = 0`` (tz-aware).
    t_s : array_like, shape (n_points,)
        Breakpoint times, strictly increasing, >= 0. [s]
    f_hz : array_like, shape (n_points,)
        Frequency at each breakpoint. [Hz]
    """

    start: pd.Timestamp
    t_s: NDArray[np.float64]
    f_hz: NDArray[np.float64]

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", as_time(self.start, "frequency_trace.start"))
        t = np.asarray(self.t_s, dtype=float)
        if t.ndim != 1 or t.size == 0 or t.size > 10_000_000:
            raise ValidationError(
                f"frequency_trace.t_s must be a 1-D list of 1 to 10,000,000 times in s (got shape {t.shape})"
            )
        f = _vector("frequency_trace.f_hz", self.f_hz, t.size)
        if not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(np.diff(t) <= 0):
            raise ValidationError("frequency_trace.t_s must be finite, >= 0 and strictly increasing [s]")
        if np.any(f <= 0):
            raise ValidationError("frequency_trace.f_hz must be positive frequencies in Hz")
        t.setflags(write=False)
        object.__setattr__(self, "t_s", t)
        object.__setattr__(self, "f_hz", f)

    @property
    def end(self) -> pd.Timestamp:
        """Instant of the last breakpoint."""
        return self.start + pd.Timedelta(seconds=float(self.t_s[-1]))

    def at_seconds(self, t_s: ArrayLike) -> NDArray[np.float64]:
        """Frequency at times given in seconds from :attr:`start`.

        Parameters
        ----------
        t_s : array_like
            Times. [s]

        Returns
        -------
        numpy.ndarray
            Frequency, held at the first/last breakpoint outside the trace. [Hz]
        """
        return np.interp(np.asarray(t_s, dtype=float), self.t_s, self.f_hz)

    def at(self, time: pd.Timestamp) -> float:
        """Frequency at one instant (see :meth:`at_seconds`). [Hz]

        Parameters
        ----------
        time : pandas.Timestamp
            The instant (tz-aware).
        """
        dt_s = (as_time(time, "time") - self.start).total_seconds()
        return float(self.at_seconds(dt_s))

    def to_dict(self) -> dict[str, Any]:
        """The trace as JSON-safe values."""
        return {"start": self.start.isoformat(), "t_s": _list(self.t_s), "f_hz": _list(self.f_hz)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FrequencyTrace:
        """A trace from :meth:`to_dict` output.

        Parameters
        ----------
        d : mapping
            The JSON object.
        """
        return cls(
            start=_field(d, "start", "FrequencyTrace"),
            t_s=_floats(_field(d, "t_s", "FrequencyTrace")),
            f_hz=_floats(_field(d, "f_hz", "FrequencyTrace")),
        )


@dataclasses.dataclass(frozen=True)
class Instruction:
    """An operator event: start, linear ramp to the requested change, hold, linear release back to plan.

    The requested change is of the aggregate power of the targeted devices against their plan, load
    convention: a CI curtailment or a peak reduction is negative (less consumption / more export). ``track``
    instructions give a curve of changes instead (breakpoints in seconds from ``start``, linearly
    interpolated). Seed 000 §6.1: CI within 30 min for 2 h; peak reduction 20:00-22:00.

    Parameters
    ----------
    id : str
        Unique event id (as the operator wrote it).
    kind : {"ci", "peak", "track"}
        Interruptible-load curtailment, peak reduction, or tracking of a curve.
    start : pandas.Timestamp
        When the ramp starts (tz-aware).
    end : pandas.Timestamp
        When the release starts; the change is held from ``start + ramp`` to ``end``.
    ramp_s : float
        Duration of the ramp from plan to the full change (and of the release back). [s]
    delta_kw : float
        Requested change of the targets' aggregate power, load convention (ignored for ``track``). [kW]
    curve_t_s, curve_kw : sequence of float, optional
        For ``track``: breakpoints [s] from ``start`` and requested change at each [kW].
    device_ids : sequence of str, optional
        Devices asked to take part (all devices eligible for the kind when empty).
    site_ids : sequence of str, optional
        Sites whose devices take part.
    ccp : str, optional
        Common connection point whose devices take part.
    """

    id: str
    kind: Literal["ci", "peak", "track"]
    start: pd.Timestamp
    end: pd.Timestamp
    ramp_s: float = 0.0
    delta_kw: float = 0.0
    curve_t_s: tuple[float, ...] = ()
    curve_kw: tuple[float, ...] = ()
    device_ids: tuple[str, ...] = ()
    site_ids: tuple[str, ...] = ()
    ccp: str | None = None

    def __post_init__(self) -> None:
        if not str(self.id):
            raise ValidationError("instruction.id must be a non-empty string")
        if self.kind not in INSTRUCTION_KINDS:
            raise ValidationError(
                f"instruction {self.id!r}: kind must be one of {INSTRUCTION_KINDS} (got {self.kind!r})"
            )
        object.__setattr__(self, "start", as_time(self.start, f"instruction {self.id!r} start"))
        object.__setattr__(self, "end", as_time(self.end, f"instruction {self.id!r} end"))
        ramp = float(self.ramp_s)
        if not math.isfinite(ramp) or ramp < 0:
            raise ValidationError(f"instruction {self.id!r}: ramp_s must be >= 0 seconds (got {self.ramp_s})")
        object.__setattr__(self, "ramp_s", ramp)
        if self.end < self.start + pd.Timedelta(seconds=ramp):
            raise ValidationError(
                f"instruction {self.id!r}: end ({self.end}) is before start + ramp "
                f"({self.start + pd.Timedelta(seconds=ramp)}); hold must be >= 0"
            )
        delta = float(self.delta_kw)
        if not math.isfinite(delta):
            raise ValidationError(f"instruction {self.id!r}: delta_kw must be finite (got {self.delta_kw})")
        object.__setattr__(self, "delta_kw", delta)
        ct = tuple(float(x) for x in self.curve_t_s)
        ck = tuple(float(x) for x in self.curve_kw)
        if len(ct) != len(ck):
            raise ValidationError(
                f"instruction {self.id!r}: curve_t_s and curve_kw need the same length "
                f"({len(ct)} vs {len(ck)})"
            )
        if self.kind == "track":
            if not ct:
                raise ValidationError(
                    f"instruction {self.id!r}: a 'track' instruction needs curve_t_s and curve_kw"
                )
            if np.any(np.diff(ct) <= 0) or ct[0] < 0 or not np.all(np.isfinite(ct + ck)):
                raise ValidationError(
                    f"instruction {self.id!r}: curve_t_s must be finite, >= 0 and strictly increasing [s]"
                )
        object.__setattr__(self, "curve_t_s", ct)
        object.__setattr__(self, "curve_kw", ck)
        object.__setattr__(self, "device_ids", _ids(f"instruction {self.id!r} device_ids", self.device_ids))
        object.__setattr__(self, "site_ids", _ids(f"instruction {self.id!r} site_ids", self.site_ids))

    @functools.cached_property
    def release_end(self) -> pd.Timestamp:
        """Instant the release ramp ends and the targets are back on their plan."""
        return self.end + pd.Timedelta(seconds=self.ramp_s)

    def request_kw(self, time: pd.Timestamp) -> float:
        """Requested change of the targets' aggregate power at ``time`` (0 outside the event). [kW]

        Parameters
        ----------
        time : pandas.Timestamp
            The instant (tz-aware).
        """
        s = (time - self.start).total_seconds()
        if s < 0 or time >= self.release_end:
            return 0.0
        if self.kind == "track":
            level = float(np.interp(s, self.curve_t_s, self.curve_kw))
            return level if time < self.end else 0.0
        hold_s = (self.end - self.start).total_seconds()
        if self.ramp_s == 0:
            share = 1.0 if s < hold_s else 0.0
        else:
            share = min(s / self.ramp_s, 1.0, max(0.0, (hold_s + self.ramp_s - s) / self.ramp_s))
        return share * self.delta_kw

    def to_dict(self) -> dict[str, Any]:
        """The instruction as JSON-safe values."""
        return {
            "id": self.id,
            "kind": self.kind,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "ramp_s": self.ramp_s,
            "delta_kw": self.delta_kw,
            "curve_t_s": list(self.curve_t_s),
            "curve_kw": list(self.curve_kw),
            "device_ids": list(self.device_ids),
            "site_ids": list(self.site_ids),
            "ccp": self.ccp,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Instruction:
        """An instruction from :meth:`to_dict` output (or a scenario file's ``[[instructions]]`` table).

        Parameters
        ----------
        d : mapping
            The JSON object.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValidationError(
                f"instruction has unknown fields {unknown}; known fields are {sorted(known)}"
            )
        for key in ("id", "kind", "start", "end"):
            _field(d, key, "Instruction")
        kw = dict(d)
        for key in ("curve_t_s", "curve_kw", "device_ids", "site_ids"):
            if key in kw:
                kw[key] = tuple(kw[key])
        return cls(**kw)


@dataclasses.dataclass(frozen=True)
class EnvelopeUpdate:
    """Site export / import limits from the network operator (seed 001 §2.1; CSIP-AUS opModExpLimW/ImpLimW).

    Limits are magnitudes: a site's power must stay within ``[-export_limit_kw, import_limit_kw]``.

    Parameters
    ----------
    time : pandas.Timestamp
        Instant the limits take effect (tz-aware).
    site_ids : sequence of str
        Sites the limits apply to.
    export_limit_kw : array_like, shape (n_sites,)
        Largest export, >= 0. [kW]
    import_limit_kw : array_like, shape (n_sites,)
        Largest import, >= 0 (``inf`` = no limit). [kW]
    valid_until : pandas.Timestamp
        After this instant the controller reverts to the plan's (static) limits.
    status : {"live", "fallback"}
        ``fallback`` when the operator's API is unreachable and the static default applies.
    """

    time: pd.Timestamp
    site_ids: tuple[str, ...]
    export_limit_kw: NDArray[np.float64]
    import_limit_kw: NDArray[np.float64]
    valid_until: pd.Timestamp
    status: Literal["live", "fallback"] = "live"

    def __post_init__(self) -> None:
        object.__setattr__(self, "time", as_time(self.time, "envelope.time"))
        object.__setattr__(self, "valid_until", as_time(self.valid_until, "envelope.valid_until"))
        ids = _ids("envelope.site_ids", self.site_ids)
        object.__setattr__(self, "site_ids", ids)
        for name in ("export_limit_kw", "import_limit_kw"):
            arr = _vector(f"envelope.{name}", getattr(self, name), len(ids), finite=False)
            if np.any(np.isnan(arr)) or np.any(arr < 0):
                raise ValidationError(f"envelope.{name} must be >= 0 kW (magnitudes), no NaN")
            object.__setattr__(self, name, arr)
        if self.status not in ("live", "fallback"):
            raise ValidationError(f"envelope.status must be 'live' or 'fallback' (got {self.status!r})")

    def to_dict(self) -> dict[str, Any]:
        """The envelope as JSON-safe values (``None`` = no limit)."""
        return {
            "time": self.time.isoformat(),
            "site_ids": list(self.site_ids),
            "export_limit_kw": _list(self.export_limit_kw),
            "import_limit_kw": _list(self.import_limit_kw),
            "valid_until": self.valid_until.isoformat(),
            "status": self.status,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> EnvelopeUpdate:
        """An envelope from :meth:`to_dict` output (``None`` limits read as no limit).

        Parameters
        ----------
        d : mapping
            The JSON object.
        """

        def lim(key: str) -> NDArray[np.float64]:
            return np.asarray(
                [np.inf if v is None else v for v in _field(d, key, "EnvelopeUpdate")], dtype=float
            )

        return cls(
            time=_field(d, "time", "EnvelopeUpdate"),
            site_ids=_field(d, "site_ids", "EnvelopeUpdate"),
            export_limit_kw=lim("export_limit_kw"),
            import_limit_kw=lim("import_limit_kw"),
            valid_until=_field(d, "valid_until", "EnvelopeUpdate"),
            status=d.get("status", "live"),
        )


@dataclasses.dataclass(frozen=True)
class Outage:
    """An outage of the feeder section downstream of a line or switch (seed 000 §9 island mode).

    Parameters
    ----------
    id : str
        Outage id.
    section : str
        Name of the line or switch that opens; everything downstream of it forms the island.
    start, end : pandas.Timestamp
        When the upstream supply is lost and restored (tz-aware, ``end > start``).
    """

    id: str
    section: str
    start: pd.Timestamp
    end: pd.Timestamp

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", as_time(self.start, f"outage {self.id!r} start"))
        object.__setattr__(self, "end", as_time(self.end, f"outage {self.id!r} end"))
        if self.end <= self.start:
            raise ValidationError(f"outage {self.id!r}: end ({self.end}) must be after start ({self.start})")
        if not str(self.section):
            raise ValidationError(f"outage {self.id!r}: section must name a line or switch")

    @property
    def duration_h(self) -> float:
        """Length of the outage. [h]"""
        return (self.end - self.start).total_seconds() / S_PER_H

    def to_dict(self) -> dict[str, Any]:
        """The outage as JSON-safe values."""
        return {
            "id": self.id,
            "section": self.section,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Outage:
        """An outage from :meth:`to_dict` output.

        Parameters
        ----------
        d : mapping
            The JSON object.
        """
        return cls(
            id=str(_field(d, "id", "Outage")),
            section=str(_field(d, "section", "Outage")),
            start=_field(d, "start", "Outage"),
            end=_field(d, "end", "Outage"),
        )


@dataclasses.dataclass(frozen=True)
class Signals:
    """Everything besides device measurements that reaches the controller in one tick.

    Parameters
    ----------
    frequency : FrequencySample, optional
        The latest system-frequency reading (central frequency response uses it).
    instructions : sequence of Instruction
        Operator events announced so far (the controller keeps the ones it has seen).
    envelopes : sequence of EnvelopeUpdate
        New site limits.
    outages : sequence of Outage
        Outages announced or in progress.
    """

    frequency: FrequencySample | None = None
    instructions: tuple[Instruction, ...] = ()
    envelopes: tuple[EnvelopeUpdate, ...] = ()
    outages: tuple[Outage, ...] = ()

    def __post_init__(self) -> None:
        for name, cls in (("instructions", Instruction), ("envelopes", EnvelopeUpdate), ("outages", Outage)):
            items = tuple(getattr(self, name))
            for item in items:
                if not isinstance(item, cls):
                    raise ValidationError(
                        f"signals.{name} must hold {cls.__name__} objects (got {type(item).__name__})"
                    )
            object.__setattr__(self, name, items)

    def to_dict(self) -> dict[str, Any]:
        """The signals as JSON-safe values."""
        return {
            "frequency": None if self.frequency is None else self.frequency.to_dict(),
            "instructions": [i.to_dict() for i in self.instructions],
            "envelopes": [e.to_dict() for e in self.envelopes],
            "outages": [o.to_dict() for o in self.outages],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Signals:
        """Signals from :meth:`to_dict` output.

        Parameters
        ----------
        d : mapping
            The JSON object.
        """
        f = d.get("frequency")
        return cls(
            frequency=None if f is None else FrequencySample.from_dict(f),
            instructions=tuple(Instruction.from_dict(i) for i in d.get("instructions", ())),
            envelopes=tuple(EnvelopeUpdate.from_dict(e) for e in d.get("envelopes", ())),
            outages=tuple(Outage.from_dict(o) for o in d.get("outages", ())),
        )
