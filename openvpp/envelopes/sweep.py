"""Network-wide sweep: constraint engine, capacity metrics and hosting capacity, chunked and distributable.

:func:`run_sweep` walks the transformers in chunks of ``chunk_transformers`` so memory stays bounded by a few
chunk-sized arrays whatever the network size (75,530 transformers x 25 scenarios x 288 steps is 544 million
values). Each chunk is reduced at once to per-transformer metrics (average available capacity over the day and
over daylight, released energy, hosting capacity at each unconstrained level) and to VPP-wide per-site
profiles
(eqs 3 and 7 of seed 001 §2.2). With ``workers`` or ``scheduler`` the chunks run as tasks on
``dask.distributed`` (a LocalCluster by default, or the scheduler at an address); every transformer is
computed by the same numpy code whatever the chunking, so the distributed result equals the single-process
one (the VPP profile sums are added in chunk order in both paths).

Inputs come from a *source* with ``n_transformers`` and ``chunk(start, stop)`` returning
``(p_net_kw, p_volt_kw, p_therm_kw, n_sites)`` for that slice: :class:`ArraySource` wraps arrays in memory,
:class:`SyntheticSource` makes synthetic inputs of any shape deterministically per transformer (used by the
benchmark).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from openvpp.envelopes.engine import (
    DEFAULT_MARGIN,
    DYNAMIC_CAP_KW,
    STATIC_FLOOR_KW,
    check_band,
    check_margin,
    check_n_sites,
    limit_headroom_kw,
)
from openvpp.envelopes.metrics import (
    UNCONSTRAINED_PCT,
    _lower_quantiles,
    available_energy_kwh,
    check_day_weights,
    hosting_quantile_levels,
    hosting_table,
)
from openvpp.envelopes.scenarios import TABLE2_COUNTS, TABLE2_SITES, ScenarioSet
from openvpp.envelopes.solar import solar_shape
from openvpp.errors import ConfigError, ValidationError


@dataclasses.dataclass(frozen=True)
class ArraySource:
    """Constraint-engine inputs held in memory (see :func:`openvpp.envelopes.engine.raw_limit_kw`)."""

    p_net_kw: NDArray
    p_volt_kw: NDArray
    p_therm_kw: NDArray
    n_sites: NDArray

    def __post_init__(self) -> None:
        p = np.asarray(self.p_net_kw)
        if p.ndim != 3:
            raise ValidationError(f"p_net_kw must be (n_transformers, n_scenarios, n_steps) (got {p.shape})")
        n = p.shape[0]
        limit_headroom_kw(self.p_volt_kw, self.p_therm_kw, 0.0)
        if np.asarray(self.p_volt_kw).shape != (n,):
            raise ValidationError(f"p_volt_kw and p_therm_kw need one value per transformer ({n})")
        check_n_sites(self.n_sites, n)

    @property
    def n_transformers(self) -> int:
        return int(np.asarray(self.p_net_kw).shape[0])

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(np.asarray(self.p_net_kw).shape)  # type: ignore[return-value]

    def chunk(self, start: int, stop: int) -> tuple[NDArray, NDArray, NDArray, NDArray]:
        return (
            np.asarray(self.p_net_kw)[start:stop],
            np.asarray(self.p_volt_kw, dtype=float)[start:stop],
            np.asarray(self.p_therm_kw, dtype=float)[start:stop],
            np.asarray(self.n_sites)[start:stop],
        )


def _hash_uniform(i: NDArray, j: int, seed: int) -> NDArray[np.float64]:
    """Deterministic uniform [0, 1) numbers per transformer index (counter-based, chunk-independent)."""
    offset = (0x9E3779B97F4A7C15 * (j + 1) + 0xBF58476D1CE4E5B9 * int(seed)) % 2**64
    x = i.astype(np.uint64) + np.uint64(offset)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(2**53)


@dataclasses.dataclass(frozen=True)
class SyntheticSource:
    """Synthetic constraint-engine inputs of any shape, deterministic per transformer.

    ``p_net_i(s, t) = a_i L(s, t) - b_i P(s, t) + c_i E_{i mod 64}(s, t)``: a double-peaked residential
    demand shape ``L`` scaled by season, the approximate solar shape ``P`` of the scenario set, and one of 64
    seeded noise profiles ``E``. Per-transformer scalars (peak demand 20-300 kW, PV 0.5-2 x peak, headroom,
    VPP sites from seed 001 Table 2) come from a counter-based hash of the transformer index, so any chunk
    of transformers is generated identically wherever it runs.
    """

    n_transformers: int
    scenarios: ScenarioSet
    seed: int = 0
    dtype: str = "float32"

    def __post_init__(self) -> None:
        if int(self.n_transformers) != self.n_transformers or self.n_transformers < 1:
            raise ValidationError(f"n_transformers must be a positive integer (got {self.n_transformers!r})")
        sc = self.scenarios
        k = sc.n_steps
        t = (np.arange(k) + 0.5) * 24.0 / k
        day = (
            0.35 + 0.5 * np.exp(-0.5 * ((t - 8.0) / 1.5) ** 2) + 0.9 * np.exp(-0.5 * ((t - 19.0) / 2.0) ** 2)
        )
        winter = np.array([1.0 if m in ((6, 7, 8) if sc.southern else (12, 1, 2)) else 0.0 for m in sc.month])
        season = 0.85 + 0.3 * winter + 0.1 * sc.heatwave
        load = (season[:, None] * day[None, :]) / day.max()
        pv = (
            solar_shape(sc.sunrise_h, sc.sunset_h, k)
            * (0.8 + 0.2 * np.cos((sc.month - (1 if sc.southern else 7)) * np.pi / 6))[:, None]
        )
        rng = np.random.default_rng(self.seed)
        bank = rng.normal(0.0, 0.08, size=(64, sc.n_scenarios, k))
        object.__setattr__(self, "_load", load.astype(self.dtype))
        object.__setattr__(self, "_pv", pv.astype(self.dtype))
        object.__setattr__(self, "_bank", bank.astype(self.dtype))

    @property
    def shape(self) -> tuple[int, int, int]:
        return (int(self.n_transformers), self.scenarios.n_scenarios, self.scenarios.n_steps)

    def chunk(self, start: int, stop: int) -> tuple[NDArray, NDArray, NDArray, NDArray]:
        i = np.arange(start, min(stop, self.n_transformers))
        a = 20.0 + 280.0 * _hash_uniform(i, 0, self.seed)
        b = a * (0.5 + 1.5 * _hash_uniform(i, 1, self.seed))
        c = a * _hash_uniform(i, 2, self.seed)
        dt = np.dtype(self.dtype)
        p = a.astype(dt)[:, None, None] * self._load[None]  # type: ignore[attr-defined]
        p -= b.astype(dt)[:, None, None] * self._pv[None]  # type: ignore[attr-defined]
        p += c.astype(dt)[:, None, None] * self._bank[i % 64]  # type: ignore[attr-defined]
        p_volt = (b - 0.3 * a) * np.exp(0.45 * (2.0 * _hash_uniform(i, 3, self.seed) - 1.0)) * 1.2
        p_volt = np.maximum(p_volt, 1.0)
        p_therm = 1.2 * a + 50.0 * _hash_uniform(i, 4, self.seed)
        cdf = np.cumsum(TABLE2_COUNTS) / TABLE2_COUNTS.sum()
        n_sites = TABLE2_SITES[np.searchsorted(cdf, _hash_uniform(i, 5, self.seed), side="right")]
        return p, p_volt, p_therm, n_sites


@dataclasses.dataclass
class SweepResult:
    """Per-transformer metrics of a sweep and the VPP-wide per-site profiles.

    Attributes
    ----------
    ac_day_kw, ac_dl_kw : numpy.ndarray, shape (n_transformers, n_scenarios)
        Whole-day and daylight average available capacity per site. [kW]
    re_kwh : numpy.ndarray, shape (n_transformers, n_scenarios)
        Released energy per site. [kWh]
    ae_kwh : numpy.ndarray, shape (n_scenarios,)
        Available energy per site. [kWh]
    hosting_kw : numpy.ndarray, shape (n_transformers, n_levels)
        Hosting capacity of each transformer at each level of ``unconstrained_pct``. [kW]
    unconstrained_pct : numpy.ndarray, shape (n_levels,)
        [%]
    n_sites : numpy.ndarray, shape (n_transformers,)
    raw_per_site_kw, mediated_per_site_kw : numpy.ndarray, shape (n_scenarios, n_steps)
        VPP-wide average raw and mediated limit per site (eqs 3 and 7 of seed 001 §2.2). [kW]
    scenario_names : tuple of str
    day_weights : numpy.ndarray, shape (n_scenarios,)
    m : float
    """

    ac_day_kw: NDArray
    ac_dl_kw: NDArray
    re_kwh: NDArray
    ae_kwh: NDArray
    hosting_kw: NDArray
    unconstrained_pct: NDArray
    n_sites: NDArray
    raw_per_site_kw: NDArray
    mediated_per_site_kw: NDArray
    scenario_names: tuple[str, ...]
    day_weights: NDArray
    m: float

    def vpp_mean(self, per_site: NDArray) -> NDArray:
        """Average over every VPP site of a (n_transformers, n_scenarios) per-site metric."""
        return np.tensordot(self.n_sites.astype(float), per_site, axes=(0, 0)) / self.n_sites.sum()

    def hosting_curve_mw(self) -> NDArray:
        """Hosting capacity summed over transformers at each unconstrained level (seed 001 Figure 21). [MW]"""
        return self.hosting_kw.sum(axis=0) / 1000.0

    def table6(self) -> NDArray:
        """Share of transformers by 100 %-unconstrained capacity class (seed 001 Table 6). [%]"""
        i = (
            int(np.flatnonzero(self.unconstrained_pct == 100.0)[0])
            if np.any(self.unconstrained_pct == 100)
            else 0
        )
        return hosting_table(self.hosting_kw[:, i])

    def to_dict(self) -> dict:
        """Summary as plain JSON-ready values (VPP means per scenario and the hosting curve)."""
        return {
            "scenarios": list(self.scenario_names),
            "day_weights": self.day_weights.tolist(),
            "m": self.m,
            "n_transformers": int(self.hosting_kw.shape[0]),
            "n_sites": int(self.n_sites.sum()),
            "ae_kwh_per_site": self.ae_kwh.round(4).tolist(),
            "re_kwh_per_site": self.vpp_mean(self.re_kwh).round(4).tolist(),
            "ac_day_kw": self.vpp_mean(self.ac_day_kw).round(4).tolist(),
            "ac_dl_kw": self.vpp_mean(self.ac_dl_kw).round(4).tolist(),
            "unconstrained_pct": self.unconstrained_pct.tolist(),
            "hosting_mw": self.hosting_curve_mw().round(6).tolist(),
            "table6_pct": self.table6().round(3).tolist(),
        }


def _daylight_ranges(daylight: NDArray[np.bool_]) -> list[tuple[int, int]] | None:
    """(first, stop) of each scenario's daylight steps when they are contiguous, else None."""
    out = []
    for row in daylight:
        idx = np.flatnonzero(row)
        if idx.size == 0 or idx[-1] - idx[0] + 1 != idx.size:
            return None
        out.append((int(idx[0]), int(idx[-1]) + 1))
    return out


def process_chunk(
    p_net_kw: NDArray,
    p_volt_kw: NDArray,
    p_therm_kw: NDArray,
    n_sites: NDArray,
    solar_kw: NDArray,
    daylight: NDArray,
    day_weights: NDArray,
    m: float = DEFAULT_MARGIN,
    floor_kw: float = STATIC_FLOOR_KW,
    cap_kw: float = DYNAMIC_CAP_KW,
    unconstrained_pct: tuple[float, ...] = UNCONSTRAINED_PCT,
) -> dict[str, NDArray]:
    """Constraint engine and every metric for one chunk of transformers (the kernel of :func:`run_sweep`).

    Shapes: ``p_net_kw`` (R, S, K); ``p_volt_kw``, ``p_therm_kw``, ``n_sites`` (R,); ``solar_kw``,
    ``daylight`` (S, K); ``day_weights`` (S,). Returns per-transformer ``ac_day_kw``, ``ac_dl_kw``,
    ``re_kwh`` (R, S), ``hosting_kw`` (R, L), and the chunk sums ``sum_raw_kw`` and ``sum_mediated_kw``
    (S, K) over transformers of ``C_i`` and ``N_i M_i``.
    """
    p = np.asarray(p_net_kw)
    if p.dtype.kind != "f":
        p = p.astype(float)
    if not np.all(np.isfinite(p)):
        bad = np.argwhere(~np.isfinite(p))[0]
        raise ValidationError(f"p_net_kw contains NaN or inf at {tuple(int(b) for b in bad)}; fill it first")
    r, s, k = p.shape
    head = limit_headroom_kw(p_volt_kw, p_therm_kw, m).astype(p.dtype)
    n = check_n_sites(n_sites, r)
    raw = p + head[:, None, None]
    w = check_day_weights(day_weights, s)
    pos = w > 0
    qs = hosting_quantile_levels(unconstrained_pct)
    x = raw if np.all(pos) else raw[:, pos, :]
    hosting = np.maximum(_lower_quantiles(x, w[pos], qs), 0.0)
    sum_raw = raw.sum(axis=0, dtype=float)
    med = raw  # reuse the buffer: raw is no longer needed
    med *= (1.0 / n).astype(p.dtype)[:, None, None]
    np.clip(med, floor_kw, cap_kw, out=med)
    ac_day = med.mean(axis=-1, dtype=float)
    sum_med = np.einsum("r,rsk->sk", n, med, dtype=np.float64, casting="safe")
    solar = np.asarray(solar_kw, dtype=p.dtype)
    np.minimum(med, solar[None], out=med)
    dl = np.asarray(daylight, dtype=bool)
    n_dl = dl.sum(axis=1)
    ranges = _daylight_ranges(dl)
    dt_h = 24.0 / k
    if ranges is not None:
        sdl = np.empty((r, s))
        for j, (a, b) in enumerate(ranges):
            sdl[:, j] = med[:, j, a:b].sum(axis=-1, dtype=float)
    else:
        sdl = np.where(dl[None], med, 0.0).sum(axis=-1, dtype=float)
    ac_dl = sdl / n_dl
    if float(solar.min()) >= floor_kw:
        re = (sdl - floor_kw * n_dl) * dt_h  # min(M, S) >= floor everywhere
    else:
        re = np.where(dl[None], np.maximum(med - floor_kw, 0.0), 0.0).sum(axis=-1, dtype=float) * dt_h
    return {
        "ac_day_kw": ac_day,
        "ac_dl_kw": ac_dl,
        "re_kwh": re,
        "hosting_kw": hosting,
        "sum_raw_kw": sum_raw,
        "sum_mediated_kw": sum_med,
        "n_sites": n,
    }


def _run_chunk(source, start: int, stop: int, args: dict) -> dict[str, NDArray]:
    p, pv, pt, ns = source.chunk(start, stop)
    return process_chunk(p, pv, pt, ns, **args)


def run_sweep(
    source: ArraySource | SyntheticSource,
    scenarios: ScenarioSet,
    m: float = DEFAULT_MARGIN,
    floor_kw: float = STATIC_FLOOR_KW,
    cap_kw: float = DYNAMIC_CAP_KW,
    unconstrained_pct: tuple[float, ...] = UNCONSTRAINED_PCT,
    chunk_transformers: int = 64,
    workers: int | None = None,
    scheduler: str | None = None,
    processes: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Constraint engine + capacity metrics + hosting capacity over every transformer of ``source``.

    Parameters
    ----------
    source : ArraySource or SyntheticSource
        Inputs, read chunk by chunk.
    scenarios : ScenarioSet
        Day-type scenarios (solar curve, daylight, day weights); their count and steps must match the source.
    m : float
        Confidence margin. [-]
    floor_kw, cap_kw : float
        Mediated band (static floor, dynamic cap). [kW]
    unconstrained_pct : tuple of float
        Hosting-capacity levels. [%]
    chunk_transformers : int
        Transformers per chunk (memory ~ 3 x chunk x scenarios x steps x 8 bytes).
    workers : int, optional
        Run on a dask.distributed LocalCluster with this many workers.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); overrides ``workers``.
    processes : bool
        LocalCluster workers as processes (True) or threads in this process (False).
    progress : callable(done, total), optional
        Called after each chunk.

    Returns
    -------
    SweepResult
    """
    m = check_margin(m)
    floor_kw, cap_kw = check_band(floor_kw, cap_kw)
    n_t, n_s, n_k = source.shape
    if (n_s, n_k) != scenarios.solar_kw.shape:
        raise ValidationError(
            f"source has {n_s} scenarios x {n_k} steps but the scenario set has {scenarios.solar_kw.shape}"
        )
    check_sweep_options(chunk_transformers, workers, scheduler)
    args = {
        "solar_kw": scenarios.solar_kw,
        "daylight": scenarios.daylight,
        "day_weights": scenarios.day_weights,
        "m": m,
        "floor_kw": floor_kw,
        "cap_kw": cap_kw,
        "unconstrained_pct": tuple(unconstrained_pct),
    }
    bounds = [(a, min(a + int(chunk_transformers), n_t)) for a in range(0, n_t, int(chunk_transformers))]
    if workers is None and scheduler is None:
        parts = []
        for j, (a, b) in enumerate(bounds):
            parts.append(_run_chunk(source, a, b, args))
            if progress is not None:
                progress(j + 1, len(bounds))
    else:
        parts = _run_distributed(source, bounds, args, workers, scheduler, processes, progress)
    return _assemble(parts, scenarios, m, unconstrained_pct)


def check_sweep_options(
    chunk_transformers: int = 32, workers: int | None = None, scheduler: str | None = None
) -> None:
    """Validate the execution options of :func:`run_sweep` (cheap: call it before building inputs).

    Raises
    ------
    ValidationError
        Naming the option: ``chunk_transformers`` and ``workers`` must be positive whole numbers,
        ``scheduler`` a non-empty address such as ``tcp://host:8786``.
    """
    for name, v in (("chunk_transformers", chunk_transformers), ("workers", workers)):
        if v is None and name == "workers":
            continue
        if isinstance(v, bool) or not isinstance(v, int | np.integer | float) or not np.isfinite(v) \
                or int(v) != v or v < 1:
            raise ValidationError(f"{name} must be a positive integer (got {v!r}); e.g. 2")
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise ValidationError(
            f"scheduler must be the address of a running Dask scheduler such as 'tcp://host:8786' "
            f"(got {scheduler!r})"
        )


def _run_distributed(source, bounds, args, workers, scheduler, processes, progress) -> list[dict]:
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is not None:
        try:
            client = Client(scheduler)
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"scheduler {scheduler!r} cannot be reached ({exc}); start one with `dask scheduler` and "
                "pass its address (tcp://host:8786), or use --workers N for a local cluster"
            ) from exc
    else:
        cluster = LocalCluster(
            n_workers=int(workers), threads_per_worker=1, processes=processes, dashboard_address=None
        )
        client = Client(cluster)
    try:
        src = client.scatter(source, broadcast=True)
        futures = [client.submit(_run_chunk, src, a, b, args, pure=False) for a, b in bounds]
        index = {f.key: j for j, f in enumerate(futures)}
        parts: list[dict | None] = [None] * len(futures)
        for done, fut in enumerate(as_completed(futures), start=1):
            parts[index[fut.key]] = fut.result()
            if progress is not None:
                progress(done, len(futures))
        return parts  # type: ignore[return-value]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _assemble(parts: list[dict], scenarios: ScenarioSet, m: float, unconstrained_pct) -> SweepResult:
    n = np.concatenate([q["n_sites"] for q in parts])
    sum_raw = np.zeros_like(parts[0]["sum_raw_kw"])
    sum_med = np.zeros_like(parts[0]["sum_mediated_kw"])
    for q in parts:  # chunk order in every path: identical float sums
        sum_raw += q["sum_raw_kw"]
        sum_med += q["sum_mediated_kw"]
    return SweepResult(
        ac_day_kw=np.concatenate([q["ac_day_kw"] for q in parts]),
        ac_dl_kw=np.concatenate([q["ac_dl_kw"] for q in parts]),
        re_kwh=np.concatenate([q["re_kwh"] for q in parts]),
        ae_kwh=available_energy_kwh(scenarios.solar_kw, scenarios.daylight),
        hosting_kw=np.concatenate([q["hosting_kw"] for q in parts]),
        unconstrained_pct=np.asarray(unconstrained_pct, dtype=float),
        n_sites=n,
        raw_per_site_kw=sum_raw / n.sum(),
        mediated_per_site_kw=sum_med / n.sum(),
        scenario_names=scenarios.names,
        day_weights=scenarios.day_weights,
        m=m,
    )
