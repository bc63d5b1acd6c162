"""Dispatchable generators (with an optional energy reservoir) and variable generators, vectorised.

Sign convention (DESIGN.md, load convention): generation is **negative** ``p_kw``; results also carry the
non-negative output ``p_gen_kw = -p_kw``. Set-points are given in load convention too (``-4000`` asks for
4 MW of output). Ramp ranges are changes of ``p_kw``: an output increase is a *negative* change.

Dispatchable generator. Output in ``[p_min_kw, p_max_kw]`` while synchronised; it changes by at most
``ramp_up_kw_per_min`` / ``ramp_down_kw_per_min`` per minute. A unit at standstill needs auxiliaries and valve
opening before it synchronises, so a start from standstill follows the slower ``ramp_startup_kw_per_min``
until the output first reaches its start target (the requested output); from then on the synchronised ramps
apply. Shutting down follows the down ramp to zero. This is the hydro unit H1 of the field test in seed 003
§4.2: 4 MW, 0.5 MW minimum synchronous power, rated power reached from minimum in 25 s and stop in 17 s
(8.4 MW/min up, 14.4 MW/min down), and 180 s from standstill to rated (1.3 MW/min average) — the start-up
ramp is held for the whole start sequence so that standstill-to-rated takes those 180 s (see
:data:`HYDRO_H1_SEED003`). A unit with a reservoir holds ``e_kwh`` of stored energy (electric equivalent:
head and turbine efficiency folded in), fed by ``inflow_kw``; output within a step is limited by the stored
energy plus the step's inflow (when that is below ``p_min_kw`` the unit stops, ignoring its down ramp:
physics first), and inflow that does not fit is spilled:

    e[k+1] = min(e[k] + (inflow[k] - p_gen[k]) dt, e_max),   spill = the excess.

Variable generator (wind, PV). The available power is a forecast quantile (P10 / P50 / P90, seed 003 §3 and
Table 1), capped at the rating; a curtailable unit may produce less (down to zero) and its controlled
changes obey ramp limits, but a fall of the resource is followed at once (output can never exceed what is
available). Quantile naming follows the statistical convention by default (P10 is the 10 % quantile, so
P10 <= P50 <= P90); seed 003 Table 1 names them by probability of exceedance (P90 is the level reached with
90 % certainty, so P10 >= P50 >= P90): pass ``convention="exceedance"`` for such data.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openvpp.checks import check_dt
from openvpp.der._firstorder import as_step_input
from openvpp.errors import ValidationError
from openvpp.tables import ParamTable, param
from openvpp.timeseries import as_2d
from openvpp.units import MIN_PER_H

_TOL = 1e-9

#: hydro unit H1 of the seed 003 field test (§4.2, Fig. 12a): rating, minimum synchronous power and ramps
HYDRO_H1_SEED003: dict[str, float] = {
    "p_max_kw": 4000.0,
    "p_min_kw": 500.0,
    "ramp_up_kw_per_min": 8400.0,
    "ramp_down_kw_per_min": 14400.0,
    "ramp_startup_kw_per_min": 1300.0,
}


@dataclasses.dataclass(frozen=True)
class DispatchableGeneratorParams(ParamTable):
    """Parameters of a set of dispatchable generators, one row per device.

    ``p_max_kw`` has no default. Without a reservoir (``e_max_kwh = inf``) the unit is not energy-limited.
    """

    table_name = "generator"

    p_max_kw: NDArray = param("kW", "rated output", gt=0.0)
    p_min_kw: NDArray = param("kW", "minimum output while synchronised", default=0.0, ge=0.0)
    ramp_up_kw_per_min: NDArray = param(
        "kW/min", "output increase per minute when synchronised", default=np.inf, gt=0.0, allow_inf=True
    )
    ramp_down_kw_per_min: NDArray = param(
        "kW/min", "output decrease per minute", default=np.inf, gt=0.0, allow_inf=True
    )
    ramp_startup_kw_per_min: NDArray = param(
        "kW/min", "output increase per minute during a start from standstill", default=np.inf, gt=0.0,
        allow_inf=True,
    )
    on0: NDArray = param("-", "synchronised at the start", default=False, dtype="bool")
    p0_kw: NDArray = param("kW", "output at the start (>= 0)", default=0.0, ge=0.0)
    e_max_kwh: NDArray = param(
        "kWh", "reservoir capacity, electric equivalent (inf: no reservoir limit)", default=np.inf, ge=0.0,
        allow_inf=True,
    )
    e_min_kwh: NDArray = param("kWh", "lowest usable reservoir level", default=0.0, ge=0.0)
    e0_kwh: NDArray = param(
        "kWh", "reservoir level at the start (NaN: full)", default=np.nan, ge=0.0, allow_nan=True,
        allow_inf=True,
    )
    inflow_kw: NDArray = param("kW", "reservoir inflow when no series is given", default=0.0, ge=0.0)

    def _check(self) -> None:
        self._fail_where(self.p_min_kw > self.p_max_kw, "p_min_kw must not exceed p_max_kw")
        self._fail_where(self.p0_kw > self.p_max_kw, "p0_kw must not exceed p_max_kw")
        self._fail_where(
            ~self.on0 & (self.p0_kw > 0), "p0_kw must be 0 when on0 is false (unit at standstill)"
        )
        self._fail_where(
            self.on0 & (self.p0_kw < self.p_min_kw), "p0_kw must be >= p_min_kw when on0 is true"
        )
        self._fail_where(self.e_min_kwh > self.e_max_kwh, "e_min_kwh must not exceed e_max_kwh")
        e0 = self.e0_kwh
        given = ~np.isnan(e0)
        self._fail_where(
            given & ((e0 < self.e_min_kwh) | (e0 > self.e_max_kwh)),
            "e0_kwh must lie within [e_min_kwh, e_max_kwh]",
        )

    @property
    def e_start_kwh(self) -> NDArray[np.float64]:
        """Initial reservoir level with the NaN default resolved to a full reservoir. [kWh]"""
        return np.where(np.isnan(self.e0_kwh), self.e_max_kwh, self.e0_kwh)


# ---------------------------------------------------------------------------------------------- functions
def reservoir_balance(
    e0_kwh: ArrayLike, inflow_kw: ArrayLike, p_gen_kw: ArrayLike, e_max_kwh: ArrayLike, dt_h: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Reservoir level and spill after each step, ``e[k+1] = min(e[k] + (inflow - p_gen) dt, e_max)``.

    Parameters
    ----------
    e0_kwh : array_like, shape (n_devices,)
        Level at the start. [kWh]
    inflow_kw, p_gen_kw : array_like, shape (n_devices, n_steps)
        Inflow (electric equivalent) and generator output (>= 0). [kW]
    e_max_kwh : array_like, shape (n_devices,)
        Capacity. [kWh]
    dt_h : float
        Step length. [h]

    Returns
    -------
    e_kwh, spill_kwh : numpy.ndarray, shape (n_devices, n_steps)
        Level at the end of each step and energy spilled during it. [kWh]
    """
    dt = check_dt(dt_h)
    g = as_2d("p_gen_kw", p_gen_kw)
    n, n_steps = g.shape
    q = as_step_input("inflow_kw", inflow_kw, n, n_steps)
    e = np.broadcast_to(np.asarray(e0_kwh, dtype=float), (n,)).copy()
    cap = np.broadcast_to(np.asarray(e_max_kwh, dtype=float), (n,))
    e_out = np.empty((n, n_steps))
    spill = np.empty((n, n_steps))
    finite = np.isfinite(e)
    for s in range(n_steps):
        raw = np.where(finite, e + (q[:, s] - g[:, s]) * dt, 0.0)
        spill[:, s] = np.where(finite, np.maximum(raw - cap, 0.0), 0.0)
        e = np.where(finite, np.minimum(raw, cap), e)
        e_out[:, s] = e
    return e_out, spill


def startup_time_min(p_target_kw: ArrayLike, ramp_startup_kw_per_min: ArrayLike) -> NDArray[np.float64]:
    """Minutes from standstill to ``p_target_kw`` at the start-up ramp. [min]

    Seed 003 §4.2: the 4 MW hydro unit H1 reaches rated power in about 3 min (180 s) from standstill.

    Parameters
    ----------
    ramp_startup_kw_per_min : array_like, shape (n_devices,)
        Ramp rate from standstill. [kW/min]
    p_target_kw : array_like, shape (n_devices,)
        Output to reach. [kW]
    """
    return np.asarray(p_target_kw, dtype=float) / np.asarray(ramp_startup_kw_per_min, dtype=float)


# ---------------------------------------------------------------------------------------------- shared
class _OutputResult:
    """Accessor shared by the generator results, which store ``p_kw`` in load convention."""

    p_kw: NDArray[np.float64]

    @property
    def p_gen_kw(self) -> NDArray[np.float64]:
        """Non-negative output, ``-p_kw``. [kW]"""
        return -self.p_kw


class _OutputState:
    """Accessors shared by the generator classes, which store their non-negative output ``p_gen_kw``."""

    params: ParamTable
    p_gen_kw: NDArray[np.float64]

    @property
    def n(self) -> int:
        return self.params.n

    @property
    def p_kw(self) -> NDArray[np.float64]:
        """Present power in load convention (generation negative). [kW]"""
        return -self.p_gen_kw


# ---------------------------------------------------------------------------------------------- dispatchable
@dataclasses.dataclass
class DispatchableGeneratorResult(_OutputResult):
    """Outcome of :meth:`DispatchableGenerator.simulate`; arrays shaped (n_devices, n_steps).

    Attributes
    ----------
    p_kw : numpy.ndarray
        Realised power in load convention (generation negative). [kW]
    on : numpy.ndarray of bool
        Unit running (starting or synchronised) at the end of each step.
    e_kwh : numpy.ndarray
        Reservoir level at the end of each step (inf without reservoir). [kWh]
    spill_kwh : numpy.ndarray
        Inflow spilled because the reservoir was full. [kWh]
    inflow_kw : numpy.ndarray
        Inflow used. [kW]
    """

    p_kw: NDArray[np.float64]
    on: NDArray[np.bool_]
    e_kwh: NDArray[np.float64]
    spill_kwh: NDArray[np.float64]
    inflow_kw: NDArray[np.float64]


class DispatchableGenerator(_OutputState):
    """A set of dispatchable generators with state (output, commitment, start-up, reservoir level).

    Parameters
    ----------
    params : DispatchableGeneratorParams
        Validated parameters, one row per unit.

    Examples
    --------
    >>> h1 = DispatchableGenerator(DispatchableGeneratorParams(device_id=["H1"], **HYDRO_H1_SEED003))
    >>> h1.power_range(1 / 60)          # from standstill: at most 1.3 MW in the first minute
    (array([-1300.]), array([0.]))
    """

    params: DispatchableGeneratorParams

    def __init__(self, params: DispatchableGeneratorParams) -> None:
        self.params = params
        self.p_gen_kw = params.p0_kw.copy()
        self.on = params.on0.copy()
        self.starting = np.zeros(params.n, dtype=bool)
        self.e_kwh = params.e_start_kwh.copy()

    @property
    def synchronised(self) -> NDArray[np.bool_]:
        """Running and past the start-up sequence (synchronised ramps apply)."""
        return self.on & ~self.starting

    def _rates(self) -> tuple[NDArray, NDArray]:
        """Up and down output ramp rates in the present state. [kW/min]"""
        pr = self.params
        up = np.where(self.synchronised, pr.ramp_up_kw_per_min, pr.ramp_startup_kw_per_min)
        down = np.where(self.on, pr.ramp_down_kw_per_min, 0.0)
        return up, down

    def _energy_cap(self, dt: float, inflow: NDArray) -> NDArray:
        return np.maximum(self.e_kwh - self.params.e_min_kwh, 0.0) / dt + inflow

    def power_range(
        self, dt_h: float, inflow_kw: ArrayLike | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Feasible power for the next step (load convention: ``p_min_kw`` = most generation).

        The range is the hull of reachable outputs: ratings, the ramp in the present state (start-up ramp
        from standstill), the shutdown path to zero, and the stored energy plus the step's inflow.

        Parameters
        ----------
        dt_h : float
            Step length. [h]
        inflow_kw : array_like, scalar or (n_devices,), optional
            Inflow during the next step (default: the parameter ``inflow_kw``). [kW]

        Returns
        -------
        (p_min_kw, p_max_kw) : tuple of numpy.ndarray, shape (n_devices,)
            Both <= 0. [kW]
        """
        dt = check_dt(dt_h)
        q = as_step_input("inflow_kw", inflow_kw, self.n, 1, default=self.params.inflow_kw)[:, 0]
        up, down = self._rates()
        dtm = dt * MIN_PER_H
        g = self.p_gen_kw
        cap = self._energy_cap(dt, q)
        hi = np.minimum(np.minimum(self.params.p_max_kw, g + up * dtm), cap)
        lo = np.minimum(np.maximum(g - down * dtm, 0.0), cap)
        stop = cap < self.params.p_min_kw  # not enough energy to run at minimum output
        hi = np.where(stop, 0.0, hi)
        lo = np.where(stop, 0.0, lo)
        return 0.0 - hi, 0.0 - lo

    def ramp_range(self, dt_h: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Largest change of ``p_kw`` over the next step from the ramp rates in the present state. [kW]

        Returns ``(down, up)`` of ``p_kw`` in load convention: ``down <= 0`` is the largest *output increase*
        (start-up ramp from standstill, synchronised up-ramp otherwise), ``up >= 0`` the largest output
        decrease (zero at standstill). Ratings are not applied here; :meth:`power_range` applies them.

        Parameters
        ----------
        dt_h : float
            Step length. [h]
        """
        dtm = check_dt(dt_h) * MIN_PER_H
        up, down = self._rates()
        return -up * dtm, down * dtm

    def simulate(
        self, setpoints_kw: ArrayLike, dt_h: float, inflow_kw: ArrayLike | None = None
    ) -> DispatchableGeneratorResult:
        """Apply set-points step by step, clipping to ratings, ramps, start-up and stored energy.

        A set-point of zero (or positive) stops the unit along its down ramp; a request for output between
        zero and ``p_min_kw`` is raised to ``p_min_kw``. Output is limited by the stored energy plus the
        step's inflow; when that cannot sustain ``p_min_kw`` the unit stops at once.

        Parameters
        ----------
        setpoints_kw : array_like, shape (n_devices, n_steps)
            Requested power in load convention (``-4000`` = 4 MW of output). [kW]
        dt_h : float
            Step length. [h]
        inflow_kw : array_like, scalar, (n_steps,), (n_devices,) or (n_devices, n_steps), optional
            Reservoir inflow, electric equivalent (default: the parameter ``inflow_kw``). [kW]

        Returns
        -------
        DispatchableGeneratorResult
            The object's state advances to the end of the horizon.
        """
        dt = check_dt(dt_h)
        sp = as_2d("setpoints_kw", setpoints_kw, self.n, None)
        n, n_steps = sp.shape
        pr = self.params
        q = as_step_input("inflow_kw", inflow_kw, n, n_steps, default=pr.inflow_kw)
        if np.any(q < 0):
            raise ValidationError("inflow_kw must be >= 0 (water flowing into the reservoir)")
        dtm = dt * MIN_PER_H
        has_res = np.isfinite(self.e_kwh)
        # time-major buffers: each step reads and writes contiguous memory
        sp_t, q_t = np.ascontiguousarray(sp.T), np.ascontiguousarray(q.T)
        p_out = np.empty((n_steps, n))
        on_out = np.empty((n_steps, n), dtype=bool)
        e_out = np.empty((n_steps, n))
        spill = np.zeros((n_steps, n))
        for s in range(n_steps):
            want = -sp_t[s]
            target = np.where(want > _TOL, np.clip(want, pr.p_min_kw, pr.p_max_kw), 0.0)
            start = ~self.on & (target > 0)
            starting = self.starting | start
            up = np.where(starting, pr.ramp_startup_kw_per_min, pr.ramp_up_kw_per_min) * dtm
            down = np.where(self.on, pr.ramp_down_kw_per_min, 0.0) * dtm
            g = self.p_gen_kw
            out = np.maximum(np.clip(target, g - down, g + up), 0.0)
            cap = self._energy_cap(dt, q_t[s])
            # physics first: too little energy to run at minimum output stops (or keeps at rest) the unit
            out = np.where(cap < pr.p_min_kw, 0.0, np.minimum(out, cap))
            # reservoir
            raw = np.where(has_res, self.e_kwh + (q_t[s] - out) * dt, 0.0)
            spill[s] = np.where(has_res, np.maximum(raw - pr.e_max_kwh, 0.0), 0.0)
            self.e_kwh = np.where(has_res, np.minimum(raw, pr.e_max_kwh), self.e_kwh)
            # state
            self.on = out > 0.0
            self.starting = self.on & starting & (out < target - _TOL)
            self.p_gen_kw = out
            p_out[s] = 0.0 - out
            on_out[s] = self.on
            e_out[s] = self.e_kwh
        return DispatchableGeneratorResult(p_kw=p_out.T, on=on_out.T, e_kwh=e_out.T, spill_kwh=spill.T,
                                           inflow_kw=q)


# ---------------------------------------------------------------------------------------------- variable
QuantileName = Literal["p10", "p50", "p90"]
_QUANTILES = ("p10", "p50", "p90")


@dataclasses.dataclass(frozen=True)
class QuantileForecast:
    """Probabilistic forecast of available power, one row per device (seed 003 §3, Table 1).

    Parameters
    ----------
    p10_kw, p50_kw, p90_kw : array_like, shape (n_devices, n_steps) or (n_devices,)
        Available output (>= 0) at each quantile; a 1-D input is one step. [kW]
    device_id : array_like of str, optional
        Device names for error messages (default ``"0", "1", ...``).
    convention : {"quantile", "exceedance"}
        ``"quantile"``: P10 <= P50 <= P90 (Px is the x % quantile). ``"exceedance"``: P10 >= P50 >= P90
        (Px is exceeded with x % probability, as in seed 003 Table 1).
    """

    p10_kw: NDArray[np.float64]
    p50_kw: NDArray[np.float64]
    p90_kw: NDArray[np.float64]
    device_id: NDArray | None = None
    convention: str = "quantile"

    def __post_init__(self) -> None:
        if self.convention not in ("quantile", "exceedance"):
            raise ValidationError(
                f"forecast.convention must be 'quantile' or 'exceedance' (got {self.convention!r})"
            )
        arrs = {}
        for name in ("p10_kw", "p50_kw", "p90_kw"):
            a = np.asarray(getattr(self, name), dtype=float)
            if a.ndim == 1:
                a = a[:, None]
            arrs[name] = as_2d(f"forecast.{name}", a)
        shape = arrs["p50_kw"].shape
        for name, a in arrs.items():
            if a.shape != shape:
                raise ValidationError(f"forecast.{name} has shape {a.shape} but forecast.p50_kw has {shape}")
        ids = (
            np.arange(shape[0]).astype(str) if self.device_id is None
            else np.asarray(self.device_id, dtype=object).astype(str)
        )
        if ids.shape != (shape[0],):
            raise ValidationError(f"forecast.device_id must have {shape[0]} entries (got shape {ids.shape})")
        for name, a in arrs.items():
            if np.any(a < 0):
                i, s = np.argwhere(a < 0)[0]
                raise ValidationError(
                    f"forecast.{name} must be >= 0 (got {a[i, s]:g} for device {str(ids[i])!r} at step {s}); "
                    "give available output, not load-convention power"
                )
        pairs = (("p50_kw", "p10_kw"), ("p90_kw", "p50_kw"))
        for hi_name, lo_name in pairs:
            hi, lo = arrs[hi_name], arrs[lo_name]
            bad = hi < lo - _TOL if self.convention == "quantile" else hi > lo + _TOL
            if np.any(bad):
                i, s = np.argwhere(bad)[0]
                rel = ">=" if self.convention == "quantile" else "<="
                hint = (
                    "; if P-values are probabilities of exceedance (seed 003 Table 1), pass "
                    "convention='exceedance'" if self.convention == "quantile" else ""
                )
                raise ValidationError(
                    f"forecast.{hi_name} must be {rel} forecast.{lo_name} under the {self.convention!r} "
                    f"convention (got {hi[i, s]:g} vs {lo[i, s]:g} for device {str(ids[i])!r} "
                    f"at step {s}){hint}"
                )
        for name, a in arrs.items():
            object.__setattr__(self, name, a)
        object.__setattr__(self, "device_id", ids)

    @property
    def n_steps(self) -> int:
        """Number of time steps of the forecast."""
        return int(self.p50_kw.shape[1])

    def get(self, quantile: QuantileName) -> NDArray[np.float64]:
        """The forecast at ``quantile`` ("p10", "p50" or "p90"), shape (n_devices, n_steps). [kW]

        Parameters
        ----------
        quantile : {"p10", "p50", "p90"}
            Which quantile.
        """
        if quantile not in _QUANTILES:
            raise ValidationError(f"quantile must be one of {_QUANTILES} (got {quantile!r})")
        return getattr(self, f"{quantile}_kw")


@dataclasses.dataclass(frozen=True)
class VariableGeneratorParams(ParamTable):
    """Parameters of a set of variable generators (wind, PV), one row per device. ``p_max_kw`` is required."""

    table_name = "vargen"

    p_max_kw: NDArray = param("kW", "rated output (caps the forecast)", gt=0.0)
    ramp_up_kw_per_min: NDArray = param(
        "kW/min", "controlled output increase per minute", default=np.inf, gt=0.0, allow_inf=True
    )
    ramp_down_kw_per_min: NDArray = param(
        "kW/min", "controlled output decrease per minute (curtailment)", default=np.inf, gt=0.0,
        allow_inf=True,
    )
    curtailable: NDArray = param("-", "output can be reduced below the available power", default=True,
                                 dtype="bool")
    p0_kw: NDArray = param("kW", "output at the start (>= 0)", default=0.0, ge=0.0)


@dataclasses.dataclass
class VariableGeneratorResult(_OutputResult):
    """Outcome of :meth:`VariableGenerator.simulate`; arrays shaped (n_devices, n_steps).

    Attributes
    ----------
    p_kw : numpy.ndarray
        Realised power in load convention (generation negative). [kW]
    p_avail_kw : numpy.ndarray
        Available output at the chosen quantile, capped at the rating. [kW]
    """

    p_kw: NDArray[np.float64]
    p_avail_kw: NDArray[np.float64]

    @property
    def curtailed_kw(self) -> NDArray[np.float64]:
        """Available output not produced. [kW]"""
        return self.p_avail_kw + self.p_kw


class VariableGenerator(_OutputState):
    """A set of wind / PV generators following a quantile forecast, stepped in time.

    Parameters
    ----------
    params : VariableGeneratorParams
        One row per device.
    forecast : QuantileForecast
        Available output over the horizon, same devices in the same order.
    quantile : {"p10", "p50", "p90"}
        Quantile used as available power unless a call overrides it.
    """

    params: VariableGeneratorParams

    def __init__(
        self, params: VariableGeneratorParams, forecast: QuantileForecast, quantile: QuantileName = "p50"
    ) -> None:
        if forecast.p50_kw.shape[0] != params.n:
            raise ValidationError(
                f"vargen: the forecast has {forecast.p50_kw.shape[0]} devices but the table has {params.n}"
            )
        forecast.get(quantile)
        self.params = params
        self.forecast = forecast
        self.quantile: QuantileName = quantile
        self.step = 0
        self.p_gen_kw = params.p0_kw.copy()

    def available_kw(self, n_steps: int = 1, quantile: QuantileName | None = None) -> NDArray[np.float64]:
        """Available output for the next ``n_steps`` at ``quantile``, capped at the rating. [kW]

        Parameters
        ----------
        n_steps : int
            Number of steps to return. [-]
        quantile : {"p10", "p50", "p90"}, optional
            Forecast quantile of the available power (None: P50).
        """
        if self.step + n_steps > self.forecast.n_steps:
            raise ValidationError(
                f"vargen: {n_steps} steps from step {self.step} exceed the forecast length "
                f"{self.forecast.n_steps}; give a longer forecast"
            )
        f = self.forecast.get(quantile or self.quantile)[:, self.step : self.step + n_steps]
        return np.minimum(f, self.params.p_max_kw[:, None])

    def power_range(
        self, dt_h: float, quantile: QuantileName | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Feasible power for the next step (load convention, both <= 0): from the largest output the
        forecast and the up-ramp allow to the lowest the down-ramp allows (the available power if not
        curtailable). [kW]


        Parameters
        ----------
        dt_h : float
            Step length. [h]
        quantile : {"p10", "p50", "p90"}, optional
            Forecast quantile of the available power (None: P50).
        """
        dtm = check_dt(dt_h) * MIN_PER_H
        avail = self.available_kw(1, quantile)[:, 0]
        pr = self.params
        g = self.p_gen_kw
        hi = np.minimum(avail, g + pr.ramp_up_kw_per_min * dtm)
        lo = np.minimum(np.maximum(g - pr.ramp_down_kw_per_min * dtm, 0.0), avail)
        hi = np.where(pr.curtailable, hi, avail)
        lo = np.where(pr.curtailable, lo, avail)
        return 0.0 - hi, 0.0 - lo

    def ramp_range(self, dt_h: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Largest change of ``p_kw`` over the next step from the controlled ramp rates: ``down <= 0`` is
        the largest output increase, ``up >= 0`` the largest decrease; zero for units that cannot be
        curtailed (their output follows the resource). [kW]


        Parameters
        ----------
        dt_h : float
            Step length. [h]
        """
        dtm = check_dt(dt_h) * MIN_PER_H
        pr = self.params
        return (np.where(pr.curtailable, -pr.ramp_up_kw_per_min * dtm, 0.0),
                np.where(pr.curtailable, pr.ramp_down_kw_per_min * dtm, 0.0))

    def simulate(
        self, setpoints_kw: ArrayLike | None, dt_h: float, quantile: QuantileName | None = None
    ) -> VariableGeneratorResult:
        """Produce the available power, curtailed to the set-points where allowed.

        Parameters
        ----------
        setpoints_kw : array_like, shape (n_devices, n_steps), or None
            Requested power in load convention (``-800`` = 800 kW of output); None = all available. Where a
            set-point is ``-inf`` the unit also produces all it can. [kW]
        dt_h : float
            Step length of the forecast. [h]
        quantile : {"p10", "p50", "p90"}, optional
            Overrides the object's quantile.

        Returns
        -------
        VariableGeneratorResult
            The object's state (step, output) advances to the end of the horizon.
        """
        dt = check_dt(dt_h)
        pr = self.params
        if setpoints_kw is None:
            n_steps = self.forecast.n_steps - self.step
            want = np.full((self.n, n_steps), np.inf)
        else:
            sp = np.asarray(setpoints_kw, dtype=float)
            if np.any(np.isnan(sp)) or np.any(np.isposinf(sp)):
                raise ValidationError(
                    "setpoints_kw contains NaN or +inf; use -inf (or None) for 'all available'"
                )
            want = -as_2d("setpoints_kw", np.where(np.isneginf(sp), -1e300, sp), self.n, None)
            n_steps = want.shape[1]
        avail = self.available_kw(n_steps, quantile)
        dtm = dt * MIN_PER_H
        up = pr.ramp_up_kw_per_min * dtm
        down = pr.ramp_down_kw_per_min * dtm
        out = np.empty((n_steps, self.n))
        want_t, avail_t = np.ascontiguousarray(want.T), np.ascontiguousarray(avail.T)
        g = self.p_gen_kw
        for s in range(n_steps):
            target = np.maximum(want_t[s], 0.0)
            ctrl = np.minimum(np.maximum(np.clip(target, g - down, g + up), 0.0), avail_t[s])
            g = np.where(pr.curtailable, ctrl, avail_t[s])
            out[s] = g
        self.p_gen_kw = g.copy()
        self.step += n_steps
        return VariableGeneratorResult(p_kw=0.0 - out.T, p_avail_kw=avail)
