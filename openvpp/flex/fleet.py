"""Flexibility of a whole :class:`~openvpp.fleet.Fleet` at one time, per CCP, with P10 / P50 / P90 sets.

:func:`fleet_flexibility` builds each device class of the fleet into its device model at the fleet's initial
state, turns it into metrics with the adapters of :mod:`openvpp.flex.adapters`, and aggregates per common
connection point (the sites' ``ccp`` column) and for the VPP (seed 003 §3.2 steps one and two).

Probabilistic sets (seed 003 §3.2: "volumes with a probability of occurrence"). PV is the only variable
resource of a household fleet. Its P50 is the available output at the chosen time: the fleet's ``pv_pu``
profile times the rating when the fleet carries profiles (SimBench), otherwise the clear-sky output of
:func:`openvpp.der.pv.pv_ac_power`. P10 and P90 follow from a normal forecast error with standard deviation
``pv_error_sd`` times P50 (default 0.15, a typical hour-ahead normalised error; an assumption, stated in
docs/flexibility.md), capped at the rating and floored at zero. Names follow the statistical convention of
:mod:`openvpp.der.generator` (P10 is the 10 % quantile, so P10 <= P50 <= P90) - the reverse of seed 003
Table 1's naming, which counts probability of exceedance.

Classes without a state source are skipped and listed in ``notes`` (e.g. flexible loads without a baseline
profile, variable generators without a forecast).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openvpp.errors import ValidationError
from openvpp.flex import adapters
from openvpp.flex.aggregate import AggregateFlexibility, aggregate
from openvpp.flex.metrics import FlexMetrics, concat_metrics

#: z-score of the 90 % quantile of a standard normal distribution
Z90 = 1.2815515655446004
QUANTILE_Z = {"P10": -Z90, "P50": 0.0, "P90": Z90}


@dataclasses.dataclass(frozen=True)
class FleetFlexibility:
    """Result of :func:`fleet_flexibility`.

    Attributes
    ----------
    fleet_name : str
    time : pandas.Timestamp
        Start of the period assessed.
    horizon_h, dt_h : float
        Energy horizon and step of the power range. [h]
    aggregates : dict of str -> AggregateFlexibility
        Per quantile ("P10", "P50", "P90").
    metrics : dict of str -> FlexMetrics
        Device metrics per quantile.
    device_counts : dict of str -> int
        Devices assessed per class.
    notes : list of str
        Classes skipped and assumptions used.
    strip : (labels, lo, hi) or None
        P50 VPP pi range at each hour of the day of ``time``. [MW]
    """

    fleet_name: str
    time: pd.Timestamp
    horizon_h: float
    dt_h: float
    aggregates: dict[str, AggregateFlexibility]
    metrics: dict[str, FlexMetrics]
    device_counts: dict[str, int]
    notes: list[str]
    strip: tuple[list[str], NDArray[np.float64], NDArray[np.float64]] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "fleet": self.fleet_name,
            "time": self.time.isoformat(),
            "horizon_h": self.horizon_h,
            "dt_h": self.dt_h,
            "device_counts": self.device_counts,
            "notes": self.notes,
            "quantiles": {q: a.to_dict() for q, a in self.aggregates.items()},
        }


#: longest horizon of the energy metric, one leap year [h]
MAX_HORIZON_H = 8784.0


#: clock of a fleet without profiles (naive times and EV session hours): the zone of the synthetic
#: builder's default location (central Chile, openvpp.fleet.synthetic)
SYNTHETIC_CLOCK_TZ = "America/Santiago"


def _parse_time(time: Any, name: str = "time") -> pd.Timestamp:
    try:
        ts = pd.Timestamp(time)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name} {time!r} is not a date-time; use e.g. '2016-06-15 19:00'") from exc
    if ts is pd.NaT:
        raise ValidationError(f"{name} {time!r} is not a date-time; use e.g. '2016-06-15 19:00'")
    return ts


def check_horizon(horizon_h: float, dt_h: float = 0.25, name: str = "horizon_h") -> int:
    """Validate the energy-metric horizon and the step; return the horizon in steps.

    Parameters
    ----------
    horizon_h : float
        Horizon of the energy metric. [h]
    dt_h : float
        Step. [h]
    name : str
        Name of the horizon in messages (``"--horizon-h"`` on the command line).

    Returns
    -------
    int
        Horizon in steps. [-]

    Raises
    ------
    ValidationError
        If either is not a finite positive number of hours, the horizon is not a whole number of steps or
        is longer than :data:`MAX_HORIZON_H`.
    """
    n_h = adapters._check(dt_h, horizon_h, ("dt_h", name))
    if horizon_h > MAX_HORIZON_H:
        raise ValidationError(
            f"{name} must be at most {MAX_HORIZON_H:g} h, one year (got {horizon_h!r}); e.g. 1 or 4"
        )
    return n_h


def fleet_clock_tz(fleet: Any) -> Any:
    """The zone of a fleet's clock: its profiles' zone, else :data:`SYNTHETIC_CLOCK_TZ`.

    Naive times are read in it and EV sessions (written on a local noon-to-noon day) follow it.

    Parameters
    ----------
    fleet : openvpp.fleet.Fleet
        The fleet.

    Returns
    -------
    tzinfo or str
    """
    if fleet.profiles is not None and fleet.profiles.index.tz is not None:
        return fleet.profiles.index.tz
    return SYNTHETIC_CLOCK_TZ


def _time(fleet: Any, time: Any, name: str = "time") -> pd.Timestamp:
    """``time`` as an instant on the fleet's clock: naive values are read in :func:`fleet_clock_tz`, aware
    ones converted to it (the same instant written with any offset gives the same stamp)."""
    ts = _parse_time(time, name)
    tz = fleet_clock_tz(fleet)
    return ts.tz_localize(tz) if ts.tzinfo is None else ts.tz_convert(tz)


def _device_ccp(fleet: Any, cls_name: str) -> NDArray[np.int64]:
    codes, _ = fleet.codes("ccp")
    return codes[fleet.site_positions(cls_name)]


def _pv_available(
    fleet: Any, start: pd.Timestamp, n_steps: int, dt_h: float, name: str = "time"
) -> tuple[NDArray[np.float64], str]:
    """Available PV output (n_pv, n_steps) from the fleet's profiles, or clear sky. [kW]"""
    params = fleet.der("pv")
    prof = fleet.profiles
    if prof is not None and "pv_pu" in prof:
        idx = prof.index
        pos = idx.get_indexer([start])[0]
        if pos < 0:
            raise ValidationError(
                f"{name} {start} is not on the fleet's profile axis ({idx[0]} .. {idx[-1]}, "
                f"step {idx.freq}); pick a stamp of that axis"
            )
        step_h = prof.dt_h
        k = max(1, round(dt_h / step_h))
        need = n_steps * k
        if pos + need > len(idx):
            raise ValidationError(
                f"the horizon from {name} {start} runs past the end of the fleet's profiles ({idx[-1]})"
            )
        pu = prof["pv_pu"][:, pos : pos + need].reshape(params.n, n_steps, k).mean(axis=2)
        rating = getattr(params, "p_ac_kw", params.p_dc_kwp)
        return np.maximum(pu, 0.0) * np.asarray(rating)[:, None], "PV P50 from the fleet's pv_pu profile"
    from openvpp.der.pv import pv_ac_power

    index = pd.date_range(start, periods=n_steps, freq=pd.Timedelta(hours=dt_h))
    return pv_ac_power(params, index), "PV P50 = clear-sky output (pvlib), the fleet has no PV profile"


def fleet_flexibility(
    fleet: Any,
    time: Any,
    *,
    horizon_h: float = 1.0,
    dt_h: float = 0.25,
    quantiles: tuple[str, ...] = ("P10", "P50", "P90"),
    pv_error_sd: float = 0.15,
    t_out_c: float = 10.0,
    pq_directions: int = 0,
    strip: bool = False,
    time_name: str = "time",
) -> FleetFlexibility:
    """Aggregate flexibility of a fleet per CCP and for the VPP at ``time`` (seed 003 §3.2 steps 1-2).

    Parameters
    ----------
    fleet : openvpp.fleet.Fleet
        Columnar fleet (e.g. :func:`openvpp.fleet.from_simbench` or :func:`openvpp.fleet.synthetic`).
    time : str or pandas.Timestamp
        Start of the assessed period. An aware value is the instant it names, whatever its offset; a naive
        value is read on the fleet's clock (:func:`fleet_clock_tz`: the profiles' zone, UTC+01:00 for
        SimBench; :data:`SYNTHETIC_CLOCK_TZ` without profiles).
    horizon_h : float
        Horizon of the energy metric, a whole number of steps. [h]
    dt_h : float
        Step over which the power range pi is reachable. [h]
    quantiles : tuple of str
        Among "P10", "P50", "P90".
    pv_error_sd : float
        Standard deviation of the PV forecast error as a fraction of P50 (>= 0). [-]
    t_out_c : float
        Outdoor temperature for heat pumps. [degC]
    pq_directions : int
        Directions of the per-CCP P-Q regions (0: none). [-]
    strip : bool
        Also compute the P50 VPP pi range at each hour of the day (for the time-strip figure).
    time_name : str
        Name of ``time`` in messages (``"--time"`` on the command line).

    Returns
    -------
    FleetFlexibility
    """
    bad = [q for q in quantiles if q not in QUANTILE_Z]
    if bad or not quantiles:
        raise ValidationError(f"quantiles must be among {list(QUANTILE_Z)} (got {list(quantiles)})")
    if not np.isfinite(pv_error_sd) or pv_error_sd < 0:
        raise ValidationError(f"pv_error_sd must be >= 0 (got {pv_error_sd!r})")
    check_horizon(horizon_h, dt_h)
    if not np.isfinite(t_out_c):
        raise ValidationError(f"t_out_c must be a finite outdoor temperature in degC (got {t_out_c!r})")
    start = _time(fleet, time, time_name)
    _, labels = fleet.codes("ccp")
    names = {i: str(v) for i, v in enumerate(labels)}
    fixed, counts, notes, pv_avail = _fixed_metrics(fleet, start, horizon_h, dt_h, t_out_c, time_name)
    metrics: dict[str, FlexMetrics] = {}
    aggs: dict[str, AggregateFlexibility] = {}
    for q in quantiles:
        parts = list(fixed)
        if pv_avail is not None:
            parts.append(_pv_metrics(fleet, pv_avail, q, pv_error_sd, dt_h, horizon_h))
        if not parts:
            raise ValidationError(f"fleet '{fleet.name}' has no device whose flexibility can be assessed")
        m = concat_metrics(parts)
        metrics[q] = m
        aggs[q] = aggregate(m, ccp_names=names, label=q, pq_directions=pq_directions)
    if pv_avail is not None:
        counts["pv"] = fleet.der("pv").n
    strip_data = _strip(fleet, start, horizon_h, dt_h, t_out_c, pv_error_sd) if strip else None
    return FleetFlexibility(
        fleet_name=fleet.name,
        time=start,
        horizon_h=horizon_h,
        dt_h=dt_h,
        aggregates=aggs,
        metrics=metrics,
        device_counts=counts,
        notes=notes,
        strip=strip_data,
    )


def _fixed_metrics(
    fleet: Any, start: pd.Timestamp, horizon_h: float, dt_h: float, t_out_c: float, time_name: str = "time"
) -> tuple[list[FlexMetrics], dict[str, int], list[str], NDArray[np.float64] | None]:
    """Metrics of the classes that do not depend on the forecast quantile, and the PV availability."""
    parts: list[FlexMetrics] = []
    counts: dict[str, int] = {}
    notes: list[str] = []
    pv_avail = None
    n_h = round(horizon_h / dt_h)
    for cls_name in fleet.classes:
        table = fleet.der(cls_name)
        if table.n == 0:
            continue
        ccp = _device_ccp(fleet, cls_name)
        if cls_name == "battery":
            from openvpp.der.battery import Battery

            parts.append(adapters.metrics_from_battery(Battery(table), dt_h, horizon_h, ccp=ccp))
        elif cls_name == "pv":
            pv_avail, note = _pv_available(fleet, start, n_h, dt_h, time_name)
            notes.append(note)
            continue
        elif cls_name == "heatpump":
            from openvpp.der.heatpump import HeatPump

            parts.append(adapters.metrics_from_heatpump(HeatPump(table), dt_h, horizon_h, t_out_c, ccp=ccp))
            notes.append(f"heat pumps at their initial indoor temperature, outdoor {t_out_c:g} °C")
        elif cls_name == "waterheater":
            from openvpp.der.waterheater import WaterHeater

            parts.append(adapters.metrics_from_waterheater(WaterHeater(table), dt_h, horizon_h, ccp=ccp))
        elif cls_name == "ev":
            ev, note = _ev_at(table, start, dt_h)
            notes.append(note)
            if ev is None:
                continue
            parts.append(adapters.metrics_from_ev(ev, dt_h, horizon_h, ccp=ccp))
        elif cls_name == "generator":
            from openvpp.der.generator import DispatchableGenerator

            parts.append(
                adapters.metrics_from_dispatchable_generator(
                    DispatchableGenerator(table), dt_h, horizon_h, ccp=ccp
                )
            )
        else:
            notes.append(f"{table.n} {cls_name} device(s) skipped: no flexibility adapter or state source")
            continue
        counts[cls_name] = table.n
    return parts, counts, notes, pv_avail


#: fleet EV sessions are written on a noon-to-noon day of 15-min steps (openvpp.fleet.builders)
_EV_SESSION_START_H = 12.0
_EV_SESSION_STEP_H = 0.25


def _ev_at(table: Any, start: pd.Timestamp, dt_h: float) -> tuple[Any, str]:
    """EV sessions advanced to ``start`` on their noon-to-noon, 15-min session day.

    ``start`` is on the fleet's clock (:func:`_time`), so the session step is that of the true instant.

    Until ``start`` each car follows its deferred (latest-start) profile, i.e. zero set-points clipped by the
    must-charge rule, so its stored energy at ``start`` is the least it can have while still meeting its
    departure target.
    """
    from openvpp.der.ev import EV

    if not np.isclose(dt_h, _EV_SESSION_STEP_H):
        return None, (f"{table.n} ev session(s) skipped: sessions are defined on 15-min steps, "
                      f"the assessment uses dt_h={dt_h:g} h")
    hours = (start.hour + start.minute / 60.0 - _EV_SESSION_START_H) % 24.0
    t0 = round(hours / _EV_SESSION_STEP_H)
    ev = EV(table, _EV_SESSION_STEP_H)
    if t0 > 0:
        ev.simulate(np.zeros((table.n, t0)))
    return ev, (f"EV sessions advanced to step {t0} of their noon-to-noon day on the deferred (latest-start) "
                "profile; {n} connected".format(n=int(ev.connected.sum())))


def _pv_metrics(
    fleet: Any, avail_p50: NDArray[np.float64], quantile: str, sd: float, dt_h: float, horizon_h: float
) -> FlexMetrics:
    from openvpp.der.pv import PV

    params = fleet.der("pv")
    rating = np.asarray(params.p_ac_kw)[:, None]
    avail = np.clip(avail_p50 * (1.0 + QUANTILE_Z[quantile] * sd), 0.0, rating)
    return adapters.metrics_from_pv(PV(params, avail), dt_h, horizon_h, ccp=_device_ccp(fleet, "pv"))


def _strip(
    fleet: Any, start: pd.Timestamp, horizon_h: float, dt_h: float, t_out_c: float, sd: float
) -> tuple[list[str], NDArray[np.float64], NDArray[np.float64]]:
    day = start.normalize()
    labels, lo, hi = [], [], []
    for h in range(24):
        t = day + pd.Timedelta(hours=h)
        try:
            res = fleet_flexibility(
                fleet, t, horizon_h=horizon_h, dt_h=dt_h, quantiles=("P50",), pv_error_sd=sd, t_out_c=t_out_c
            )
        except ValidationError:
            continue  # off the profile axis
        a = res.aggregates["P50"]
        labels.append(f"{h:02d}")
        lo.append(a.vpp_lo["pi"])
        hi.append(a.vpp_hi["pi"])
    return labels, np.array(lo), np.array(hi)


#: most sites of ``--fleet synthetic:N`` [-]
MAX_SYNTHETIC_SITES = 1_000_000


def _check_synthetic_size(arg: str) -> int:
    try:
        n = int(arg or 1000)
    except ValueError:
        raise ValidationError(
            f"--fleet synthetic:N needs a whole number of sites (got {arg!r}); e.g. --fleet synthetic:500"
        ) from None
    if not 1 <= n <= MAX_SYNTHETIC_SITES:
        raise ValidationError(
            f"--fleet synthetic:N must have 1 to {MAX_SYNTHETIC_SITES:,} sites (got {n:,})"
        )
    return n


def build_fleet(spec: str, seed: int = 0) -> Any:
    """A fleet from a short spec: ``"simbench:<grid code>"`` or ``"synthetic:<n sites>"``.

    The synthetic mix is :data:`openvpp.fleet.DEFAULT_MIX` restricted to PV, batteries and heat pumps (EV
    sessions are defined on a time axis that a synthetic fleet without profiles does not have).

    Parameters
    ----------
    spec : str
        ``simbench:<grid code>`` or ``synthetic:<n sites>``.
    seed : int
        Random seed. [-]
    """
    from openvpp import fleet as fl
    from openvpp.checks import check_seed

    kind, _, arg = str(spec).partition(":")
    check_seed(seed)
    if kind == "simbench":
        return fl.from_simbench(arg or "1-LV-rural1--2-sw", seed=seed)
    if kind == "synthetic":
        n = _check_synthetic_size(arg)
        # classes whose state fleet_flexibility can set up without profiles
        usable = set(fl.available_der_classes()) & {"pv", "battery", "heatpump", "waterheater", "ev"}
        mix = {k: v for k, v in fl.DEFAULT_MIX.items() if k in usable}
        return fl.synthetic(n, mix=mix, seed=seed)
    raise ValidationError(f"--fleet must be 'simbench:<grid code>' or 'synthetic:<n sites>' (got {spec!r})")


def flexibility_of_spec(
    spec: str, time: Any, *, horizon_h: float = 1.0, seed: int = 0, strip: bool = False, **kwargs: Any
) -> FleetFlexibility:
    """:func:`build_fleet` then :func:`fleet_flexibility`, with the cheap inputs checked before any loading.

    This is the library side of ``openvpp flex``: messages name the command's options (``--fleet``,
    ``--time``, ``--horizon-h``, ``--seed``).

    Parameters
    ----------
    spec : str
        ``"simbench:<grid code>"`` or ``"synthetic:<n sites>"`` (:func:`build_fleet`).
    time : str or pandas.Timestamp
        Start of the assessed period; for a SimBench fleet a 15-min stamp of the profile year 2016. An
        aware value is its instant whatever the offset; a naive one is read on the fleet's clock
        (UTC+01:00 for SimBench, :data:`SYNTHETIC_CLOCK_TZ` for synthetic fleets).
    horizon_h : float
        Horizon of the energy metric. [h]
    seed : int
        Seed of the fleet builder. [-]
    strip : bool
        Also compute the day's time strip.
    **kwargs
        Further arguments of :func:`fleet_flexibility` (``dt_h``, ``quantiles``, ...).

    Returns
    -------
    FleetFlexibility
    """
    from openvpp.checks import check_seed
    from openvpp.data.simbench import SIMBENCH_TZ, SIMBENCH_YEAR

    kind, _, arg = str(spec).partition(":")
    if kind not in ("simbench", "synthetic"):
        raise ValidationError(
            f"--fleet must be 'simbench:<grid code>' or 'synthetic:<n sites>' (got {spec!r})"
        )
    if kind == "simbench" and arg:
        from openvpp.data import lv_grid_codes

        if arg not in lv_grid_codes():
            raise ValidationError(
                f"--fleet simbench:{arg}: unknown SimBench LV grid code; use one of "
                + ", ".join(f"simbench:{c}" for c in lv_grid_codes())
            )
    if kind == "synthetic":
        _check_synthetic_size(arg)
    ts = _parse_time(time, "--time")
    check_horizon(horizon_h, kwargs.get("dt_h", 0.25), "--horizon-h")
    check_seed(seed, "--seed")
    if kind == "simbench":
        local = ts.tz_convert(SIMBENCH_TZ) if ts.tzinfo is not None else ts
        if local.year != SIMBENCH_YEAR or local != local.floor("15min"):
            raise ValidationError(
                f"--time must be a 15-min stamp of the SimBench profile year {SIMBENCH_YEAR} for a simbench "
                f"fleet (got {time!r}); e.g. '{SIMBENCH_YEAR}-06-15 19:00' (read at UTC+01:00) or "
                f"'{SIMBENCH_YEAR}-06-15T18:00Z'"
            )
    return fleet_flexibility(build_fleet(spec, seed=seed), time, horizon_h=horizon_h, strip=strip,
                             time_name="--time", **kwargs)
