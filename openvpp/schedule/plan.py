"""The day-ahead :class:`Plan`: baseline power, reserves per service, SoC band and site limits, columnar.

DESIGN.md "The operating loop": a plan is what the scheduler hands to the real-time controller. Every array is
columnar, ``(n_devices, n_steps)`` or ``(n_services, n_devices, n_steps)``, on one tz-aware fixed-step axis of
interval starts. Sign convention (load convention, DESIGN.md): device and site power are positive when drawn
from the grid (import, consumption, charging).

Reserves
--------
``reserve_up_kw[s, d, t]`` is the *decrease* of device ``d``'s power that service ``s`` may call during
interval ``t`` (raise / under-frequency / peak reduction / interruptible load); ``reserve_down_kw`` the
*increase* (lower / over-frequency). Activation model checked by :meth:`Plan.check` and honoured by the
optimisers of :mod:`openvpp.schedule.site` (seed 001 §5.4; seed 000 §6.1 Table 1 for the durations):

* an activation may start at any instant of the interval and lasts ``service_duration_h[s]``; every service
  committed in one direction may be called at once (the joint worst case);
* during an activation the device holds the baseline power minus (up) or plus (down) the reserves still
  running: the interval's baseline for an activation from its start, the next interval's from its end;
* the SoC starts from the **lowest** (up) or **highest** (down) value the interval can reach, i.e. the worse
  of the interval's start and end SoC, not the end-of-interval SoC alone;
* the device must stay within its power range and its energy band for the full duration, and the site within
  its import / export envelope in the direction the activation moves it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openvpp.errors import DataError, ValidationError
from openvpp.timeseries import check_index, step_hours
from openvpp.units import kw_to_mw

if TYPE_CHECKING:
    from openvpp.fleet import Fleet

__all__ = ["DEVICE_CLASSES", "Breach", "Plan", "PlanCheck"]

#: device classes a plan may hold
DEVICE_CLASSES = ("battery", "pv", "ev", "heatpump", "waterheater", "flexload", "generator")

#: tolerance of the deliverability check (solver feasibility is 1e-7 relative) [kW] / [kWh]
CHECK_TOL = 1e-5


@dataclasses.dataclass(frozen=True)
class Breach:
    """One broken promise found by :meth:`Plan.check`.

    Parameters
    ----------
    kind : str
        ``"energy_low"``, ``"energy_high"``, ``"power_low"``, ``"power_high"``, ``"import"`` or ``"export"``.
    device_id : str
        Device (or site id for the site envelope kinds).
    service : str
        Service whose activation breaks it (``"baseline"`` when the plan itself does).
    step : int
        Interval position. [-]
    time : pandas.Timestamp
        Interval start.
    amount : float
        How far the limit is exceeded. [kW] or [kWh]
    """

    kind: str
    device_id: str
    service: str
    step: int
    time: pd.Timestamp
    amount: float


@dataclasses.dataclass(frozen=True)
class PlanCheck:
    """Result of :meth:`Plan.check`: the breaches found (empty when the plan is deliverable).

    Parameters
    ----------
    breaches : tuple of Breach
        Every breach, worst first.
    n_checked : int
        Number of (service direction, device, interval) activations simulated. [-]
    """

    breaches: tuple[Breach, ...]
    n_checked: int

    @property
    def ok(self) -> bool:
        """True when no activation breaks a limit."""
        return not self.breaches

    def to_frame(self) -> pd.DataFrame:
        """The breaches as a table (one row each)."""
        cols = ["kind", "device_id", "service", "step", "time", "amount"]
        return pd.DataFrame([dataclasses.astuple(b) for b in self.breaches], columns=cols)

    def summary(self) -> str:
        """One line: ``deliverable`` or the count and the worst breach."""
        if self.ok:
            return f"deliverable: {self.n_checked} worst-case activations checked, no breach"
        b = self.breaches[0]
        return (
            f"{len(self.breaches)} breach(es); worst: {b.kind} of {b.amount:.4g} at device {b.device_id} "
            f"for {b.service} in interval {b.step} ({b.time})"
        )


def _arr(name: str, value: Any, shape: tuple[int, ...], dtype: Any = float, nan_ok: bool = False) -> NDArray:
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"Plan.{name} must be numeric with shape {shape} ({exc})") from exc
    if arr.shape != shape:
        raise ValidationError(f"Plan.{name} must have shape {shape} (got {arr.shape})")
    if dtype is float:
        bad = ~np.isfinite(arr) if not nan_ok else np.isinf(arr)
        if np.any(bad):
            raise ValidationError(
                f"Plan.{name} contains {'inf' if nan_ok else 'NaN or inf'} at position "
                f"{tuple(int(i) for i in np.argwhere(bad)[0])}; every value must be finite"
            )
    arr = arr.copy()
    arr.setflags(write=False)
    return arr


@dataclasses.dataclass(frozen=True, eq=False)
class Plan:
    """A day-ahead plan per device and interval (DESIGN.md "The operating loop").

    Load convention throughout: + = import / consumption / charging.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Interval starts, tz-aware, fixed step, shape (n_steps,).
    device_ids : array_like of str, shape (n_devices,)
        Unique device ids.
    device_class : array_like of str, shape (n_devices,)
        DER class of each device (one of :data:`DEVICE_CLASSES`).
    site_of_device : array_like of int, shape (n_devices,)
        Row in ``site_ids`` of each device. [-]
    site_ids : array_like of str, shape (n_sites,)
        Site ids.
    services : tuple of str
        Service keys (catalogue keys such as ``cpf_plus``, ``fcas_raise_6s``).
    p_baseline_kw : array_like, shape (n_devices, n_steps)
        Planned device power. [kW]
    reserve_up_kw, reserve_down_kw : array_like, shape (n_services, n_devices, n_steps)
        Committed decrease (up) / increase (down) of device power, >= 0. [kW]
    service_duration_h : array_like, shape (n_services,)
        Full-duration activation each reserve must sustain, > 0. [h]
    soc_baseline : array_like, shape (n_devices, n_steps + 1)
        Planned state of charge at each interval boundary, NaN for devices without storage. [-]
    soc_min, soc_max : array_like, shape (n_devices, n_steps)
        Band the SoC may move in during each interval while honouring every reserve, NaN without storage. [-]
    e_max_kwh : array_like, shape (n_devices,)
        Usable capacity (the SoC's reference), NaN without storage. [kWh]
    site_p_kw : array_like, shape (n_sites, n_steps)
        Planned net site power including inflexible load and PV. [kW]
    site_export_limit_kw, site_import_limit_kw : array_like, shape (n_sites, n_steps)
        Envelopes honoured, >= 0 (``inf`` where unlimited). [kW]
    p_min_kw, p_max_kw : array_like, shape (n_devices, n_steps), optional
        Device power range the plan assumed (default: the baseline itself). [kW]
    meta : mapping
        Method, objective, revenue per service, solve time...
    """

    index: pd.DatetimeIndex
    device_ids: NDArray[Any]
    device_class: NDArray[Any]
    site_of_device: NDArray[np.int64]
    site_ids: NDArray[Any]
    services: tuple[str, ...]
    p_baseline_kw: NDArray[np.float64]
    reserve_up_kw: NDArray[np.float64]
    reserve_down_kw: NDArray[np.float64]
    service_duration_h: NDArray[np.float64]
    soc_baseline: NDArray[np.float64]
    soc_min: NDArray[np.float64]
    soc_max: NDArray[np.float64]
    e_max_kwh: NDArray[np.float64]
    site_p_kw: NDArray[np.float64]
    site_export_limit_kw: NDArray[np.float64]
    site_import_limit_kw: NDArray[np.float64]
    p_min_kw: Any = None
    p_max_kw: Any = None
    meta: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        index = check_index(self.index, "Plan.index")
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        set_("index", index)
        n_t = len(index)
        ids = np.asarray(self.device_ids, dtype=object).astype(str)
        if ids.ndim != 1:
            raise ValidationError(f"Plan.device_ids must be 1-D (got shape {ids.shape})")
        n_d = ids.shape[0]
        if len(set(ids.tolist())) != n_d:
            dup = pd.Index(ids)[pd.Index(ids).duplicated()][0]
            raise ValidationError(f"Plan.device_ids must be unique (got {dup!r} twice)")
        set_("device_ids", _ro(ids.astype(object)))
        cls = np.asarray(self.device_class, dtype=object).astype(str)
        if cls.shape != (n_d,):
            raise ValidationError(f"Plan.device_class must have shape ({n_d},) (got {cls.shape})")
        unknown = sorted(set(cls.tolist()) - set(DEVICE_CLASSES))
        if unknown:
            raise ValidationError(
                f"Plan.device_class has unknown classes {unknown}; use {list(DEVICE_CLASSES)}"
            )
        set_("device_class", _ro(cls.astype(object)))
        sites = np.asarray(self.site_ids, dtype=object).astype(str)
        if sites.ndim != 1:
            raise ValidationError(f"Plan.site_ids must be 1-D (got shape {sites.shape})")
        n_s = sites.shape[0]
        set_("site_ids", _ro(sites.astype(object)))
        sod = np.asarray(self.site_of_device)
        if sod.shape != (n_d,) or (
            n_d and (not np.issubdtype(sod.dtype, np.integer) or sod.min() < 0 or sod.max() >= n_s)
        ):
            raise ValidationError(
                f"Plan.site_of_device must be integers in [0, {n_s}) with shape ({n_d},) (got {sod!r:.80})"
            )
        set_("site_of_device", _ro(sod.astype(np.int64)))
        services = tuple(str(s) for s in self.services)
        if len(set(services)) != len(services):
            raise ValidationError(f"Plan.services must be unique (got {services})")
        set_("services", services)
        n_k = len(services)
        set_("p_baseline_kw", _arr("p_baseline_kw", self.p_baseline_kw, (n_d, n_t)))
        for name in ("reserve_up_kw", "reserve_down_kw"):
            arr = _arr(name, getattr(self, name), (n_k, n_d, n_t))
            if np.any(arr < -CHECK_TOL):
                pos = tuple(int(i) for i in np.argwhere(arr < -CHECK_TOL)[0])
                raise ValidationError(
                    f"Plan.{name} must be >= 0 (got {arr[pos]:.4g} at (service, device, step) {pos}); "
                    "reserves are magnitudes, the field is the direction (up = decrease of power)"
                )
            set_(name, _ro(np.maximum(arr, 0.0)))
        dur = _arr("service_duration_h", self.service_duration_h, (n_k,))
        if np.any(dur <= 0):
            raise ValidationError(f"Plan.service_duration_h must be > 0 h (got {dur.tolist()})")
        set_("service_duration_h", dur)
        emax = _arr("e_max_kwh", self.e_max_kwh, (n_d,), nan_ok=True)
        if np.any(emax <= 0):
            raise ValidationError("Plan.e_max_kwh must be > 0 kWh or NaN for devices without storage")
        set_("e_max_kwh", emax)
        storage = ~np.isnan(emax)
        for name, shape in (
            ("soc_baseline", (n_d, n_t + 1)),
            ("soc_min", (n_d, n_t)),
            ("soc_max", (n_d, n_t)),
        ):
            arr = _arr(name, getattr(self, name), shape, nan_ok=True)
            nan = np.isnan(arr)
            if np.any(nan[storage]) or np.any(~nan[~storage]):
                raise ValidationError(
                    f"Plan.{name} must be NaN exactly for the devices without storage (e_max_kwh NaN) "
                    "and finite for the others"
                )
            set_(name, arr)
        if np.any(self.soc_min[storage] > self.soc_max[storage] + CHECK_TOL):
            raise ValidationError("Plan.soc_min must not exceed Plan.soc_max")
        set_("site_p_kw", _arr("site_p_kw", self.site_p_kw, (n_s, n_t)))
        for name in ("site_export_limit_kw", "site_import_limit_kw"):
            arr = np.asarray(getattr(self, name), dtype=float)
            if arr.shape != (n_s, n_t) or np.any(np.isnan(arr)) or np.any(arr < 0):
                raise ValidationError(
                    f"Plan.{name} must be >= 0 kW (inf where unlimited), no NaN, shape ({n_s}, {n_t}) "
                    f"(got shape {arr.shape})"
                )
            set_(name, _ro(arr.copy()))
        for name in ("p_min_kw", "p_max_kw"):
            value = getattr(self, name)
            set_(name, _arr(name, self.p_baseline_kw if value is None else value, (n_d, n_t)))
        if np.any(self.p_min_kw > self.p_max_kw + CHECK_TOL):
            raise ValidationError("Plan.p_min_kw must not exceed Plan.p_max_kw")
        set_("meta", MappingProxyType(dict(self.meta)))

    # ------------------------------------------------------------------ sizes
    @property
    def n_devices(self) -> int:
        """Number of devices. [-]"""
        return int(self.device_ids.shape[0])

    @property
    def n_sites(self) -> int:
        """Number of sites. [-]"""
        return int(self.site_ids.shape[0])

    @property
    def n_steps(self) -> int:
        """Number of intervals. [-]"""
        return len(self.index)

    @property
    def dt_h(self) -> float:
        """Interval length. [h]"""
        return step_hours(self.index)

    @property
    def has_storage(self) -> NDArray[np.bool_]:
        """True for devices with an energy state (battery, EV, thermal store), shape (n_devices,)."""
        return np.asarray(~np.isnan(self.e_max_kwh))

    # ------------------------------------------------------------------ aggregates
    def _commitment(self, reserve: NDArray[np.float64]) -> pd.DataFrame:
        total = reserve.sum(axis=1).T if self.n_devices else np.zeros((self.n_steps, len(self.services)))
        return pd.DataFrame(kw_to_mw(total), index=self.index, columns=list(self.services))

    @property
    def commitment_up_mw(self) -> pd.DataFrame:
        """Fleet total of ``reserve_up_kw`` per interval (rows) and service (columns). [MW]"""
        return self._commitment(self.reserve_up_kw)

    @property
    def commitment_down_mw(self) -> pd.DataFrame:
        """Fleet total of ``reserve_down_kw`` per interval (rows) and service (columns). [MW]"""
        return self._commitment(self.reserve_down_kw)

    def site_reserve_kw(self, direction: str = "up") -> NDArray[np.float64]:
        """Sum over services and devices of each site's reserve in one direction, shape (n_sites, n_steps).

        Parameters
        ----------
        direction : {"up", "down"}
            Which reserve.

        Returns
        -------
        numpy.ndarray
            Reserve per site. [kW]
        """
        if direction not in ("up", "down"):
            raise ValidationError(f"direction must be 'up' or 'down' (got {direction!r})")
        r = (self.reserve_up_kw if direction == "up" else self.reserve_down_kw).sum(axis=0)
        out = np.zeros((self.n_sites, self.n_steps))
        np.add.at(out, self.site_of_device, r)
        return out

    # ------------------------------------------------------------------ deliverability
    def check(self, fleet: Fleet) -> PlanCheck:
        """Simulate the worst-case activation of every committed reserve for its full duration, from every
        interval, with the device models, and list every breach (module docstring; seed 001 §5.4).

        Parameters
        ----------
        fleet : Fleet
            The fleet the plan was made for. Its device models (ratings, efficiencies, energy bands, EV
            windows and targets, PV availability) are rebuilt independently of the optimiser by
            :func:`openvpp.schedule.devices.device_models` and simulated exactly (piecewise-constant power,
            efficiency by direction, self-discharge).

        Returns
        -------
        PlanCheck
        """
        from openvpp.schedule.devices import check_plan

        return check_plan(self, fleet)

    # ------------------------------------------------------------------ export
    def to_frames(self) -> dict[str, pd.DataFrame]:
        """The plan as long tables: ``devices``, ``device_steps``, ``reserves``, ``sites``, ``services``."""
        n_d, n_t = self.n_devices, self.n_steps
        devices = pd.DataFrame(
            {
                "device_id": self.device_ids.astype(str),
                "device_class": self.device_class.astype(str),
                "site_id": self.site_ids[self.site_of_device].astype(str) if n_d else np.array([], dtype=str),
                "e_max_kwh": self.e_max_kwh,
            }
        )
        t = np.tile(np.arange(n_t), n_d)
        d = np.repeat(np.arange(n_d), n_t)
        device_steps = pd.DataFrame(
            {
                "device_id": self.device_ids.astype(str)[d] if n_d else np.array([], dtype=str),
                "step": t,
                "p_baseline_kw": self.p_baseline_kw.ravel(),
                "p_min_kw": self.p_min_kw.ravel(),
                "p_max_kw": self.p_max_kw.ravel(),
                "soc_start": self.soc_baseline[:, :-1].ravel(),
                "soc_end": self.soc_baseline[:, 1:].ravel(),
                "soc_min": self.soc_min.ravel(),
                "soc_max": self.soc_max.ravel(),
            }
        )
        n_k = len(self.services)
        k = np.repeat(np.arange(n_k), n_d * n_t)
        reserves = pd.DataFrame(
            {
                "service": np.asarray(self.services, dtype=str)[k] if n_k else np.array([], dtype=str),
                "device_id": np.tile(self.device_ids.astype(str)[d], n_k) if n_d else np.array([], dtype=str),
                "step": np.tile(t, n_k),
                "reserve_up_kw": self.reserve_up_kw.ravel(),
                "reserve_down_kw": self.reserve_down_kw.ravel(),
            }
        )
        ts = np.tile(np.arange(n_t), self.n_sites)
        s = np.repeat(np.arange(self.n_sites), n_t)
        sites = pd.DataFrame(
            {
                "site_id": self.site_ids.astype(str)[s],
                "step": ts,
                "site_p_kw": self.site_p_kw.ravel(),
                "site_import_limit_kw": self.site_import_limit_kw.ravel(),
                "site_export_limit_kw": self.site_export_limit_kw.ravel(),
            }
        )
        services = pd.DataFrame({"service": list(self.services), "duration_h": self.service_duration_h})
        steps = pd.DataFrame({"step": np.arange(n_t), "time": self.index})
        return {
            "devices": devices,
            "device_steps": device_steps,
            "reserves": reserves,
            "sites": sites,
            "services": services,
            "steps": steps,
        }

    def _write(self, folder: str | Path, fmt: str) -> Path:
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        frames = self.to_frames()
        for name, frame in frames.items():
            if fmt == "parquet":
                frame.to_parquet(out / f"{name}.parquet", index=False)
            else:
                frame.to_csv(out / f"{name}.csv", index=False)
        meta = {
            "n_steps": self.n_steps,
            "tz": str(self.index.tz),
            "services": list(self.services),
            "meta": _jsonable(dict(self.meta)),
        }
        (out / "plan.json").write_text(json.dumps(meta, indent=2, allow_nan=False))
        return out

    def to_parquet(self, folder: str | Path) -> Path:
        """Write the plan's tables (:meth:`to_frames`) as Parquet files plus ``plan.json`` into ``folder``.

        Parameters
        ----------
        folder : str or pathlib.Path
            Output folder (created).

        Returns
        -------
        pathlib.Path
        """
        return self._write(folder, "parquet")

    def to_csv(self, folder: str | Path) -> Path:
        """Write the plan's tables as CSV files plus ``plan.json`` into ``folder``.

        Parameters
        ----------
        folder : str or pathlib.Path
            Output folder (created).

        Returns
        -------
        pathlib.Path
        """
        return self._write(folder, "csv")

    @classmethod
    def from_parquet(cls, folder: str | Path) -> Plan:
        """Read a plan written by :meth:`to_parquet`.

        Parameters
        ----------
        folder : str or pathlib.Path
            Folder holding the Parquet files and ``plan.json``.

        Returns
        -------
        Plan

        Raises
        ------
        DataError
            If a file is missing or malformed.
        """
        src = Path(folder)
        try:
            info = json.loads((src / "plan.json").read_text())
            fr = {
                n: pd.read_parquet(src / f"{n}.parquet")
                for n in ("devices", "device_steps", "reserves", "sites", "services", "steps")
            }
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read a plan from {src}: {exc}; write it with Plan.to_parquet") from exc
        index = pd.DatetimeIndex(fr["steps"]["time"]).tz_convert(info["tz"])
        n_t = len(index)
        dev = fr["devices"]
        n_d = len(dev)
        site_ids = pd.unique(fr["sites"]["site_id"].astype(str))
        pos = pd.Index(site_ids).get_indexer(dev["site_id"].astype(str))
        ds = fr["device_steps"]

        def grid(col: str) -> NDArray[np.float64]:
            return ds[col].to_numpy(float).reshape(n_d, n_t)

        soc = (
            np.concatenate([grid("soc_start"), grid("soc_end")[:, -1:]], axis=1)
            if n_t
            else np.zeros((n_d, 1))
        )
        services = tuple(fr["services"]["service"].astype(str))
        n_k = len(services)
        rs = fr["reserves"]
        st = fr["sites"]
        n_s = len(site_ids)
        meta = dict(info.get("meta", {}))
        return cls(
            index=index,
            device_ids=dev["device_id"].to_numpy(),
            device_class=dev["device_class"].to_numpy(),
            site_of_device=pos,
            site_ids=site_ids,
            services=services,
            p_baseline_kw=grid("p_baseline_kw"),
            reserve_up_kw=rs["reserve_up_kw"].to_numpy(float).reshape(n_k, n_d, n_t),
            reserve_down_kw=rs["reserve_down_kw"].to_numpy(float).reshape(n_k, n_d, n_t),
            service_duration_h=fr["services"]["duration_h"].to_numpy(float),
            soc_baseline=soc,
            soc_min=grid("soc_min"),
            soc_max=grid("soc_max"),
            e_max_kwh=dev["e_max_kwh"].to_numpy(float),
            site_p_kw=st["site_p_kw"].to_numpy(float).reshape(n_s, n_t),
            site_export_limit_kw=st["site_export_limit_kw"].to_numpy(float).reshape(n_s, n_t),
            site_import_limit_kw=st["site_import_limit_kw"].to_numpy(float).reshape(n_s, n_t),
            p_min_kw=grid("p_min_kw"),
            p_max_kw=grid("p_max_kw"),
            meta=meta,
        )


def _ro(arr: NDArray[Any]) -> NDArray[Any]:
    arr.setflags(write=False)
    return arr


def _jsonable(value: Any) -> Any:
    """Meta values as standard JSON (NaN / inf -> null, numpy scalars -> Python)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return str(value)
