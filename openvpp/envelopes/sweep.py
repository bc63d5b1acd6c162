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
    mediated_kw,
    raw_limit_kw,
    raw_per_site_kw,
)
from openvpp.envelopes.metrics import (
    UNCONSTRAINED_PCT,
    available_energy_kwh,
    capacity_metrics,
    hosting_capacity_kw,
    hosting_table,
)
from openvpp.envelopes.scenarios import TABLE2_COUNTS, TABLE2_SITES, ScenarioSet
from openvpp.envelopes.solar import solar_shape
from openvpp.errors import ConfigError, ValidationError
from openvpp.units import H_PER_DAY, kw_to_mw


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
        """N transformers."""
        return int(np.asarray(self.p_net_kw).shape[0])

    @property
    def shape(self) -> tuple[int, int, int]:
        """Shape."""
        return tuple(np.asarray(self.p_net_kw).shape)  # type: ignore[return-value]

    def chunk(self, start: int, stop: int) -> tuple[NDArray, NDArray, NDArray, NDArray]:
        """Chunk.

        Parameters
        ----------
        start : int
            The start. [-]
        stop : int
            The stop. [-]
        """
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


#: bundled table with the seed's hosting targets and the calibrated synthetic population
CALIBRATION_TABLE = "sapn_hosting_calibration"


@dataclasses.dataclass(frozen=True)
class PopulationParams:
    """Distributions of the synthetic transformer population of :class:`SyntheticSource`.

    Per transformer ``i`` (``z_k`` standard normal scores from a counter-based hash of ``i``):
    peak demand ``a_i = a_median_kw exp(a_log_sd z_0)``; PV export at the solar peak ``b_i = a_i
    pv_ratio_median exp(pv_ratio_log_sd z_1)``; noise scale ``c_i = noise_ratio a_i``; the largest modelled
    reverse flow ``F_i = max(-min_t p_net_i(t), 0)``; voltage limit ``P_volt_i = F_i headroom_median
    exp(headroom_log_sd z_3)``; thermal limit ``P_therm_i = 1.5 max_t |p_net_i(t)|``.

    Parameters
    ----------
    a_median_kw : float
        Median peak demand of a transformer. [kW]
    a_log_sd : float
        Log-standard deviation of the peak demand. [-]
    pv_ratio_median, pv_ratio_log_sd : float
        Median and log-sd of PV export at the solar peak over peak demand. [-]
    headroom_median, headroom_log_sd : float
        Median and log-sd of ``P_volt`` over the largest modelled reverse flow. [-]
    noise_ratio : float
        Standard deviation scale of the per-step noise relative to peak demand (x 0.08). [-]
    source : str
        Where the values come from.
    """

    a_median_kw: float
    a_log_sd: float
    pv_ratio_median: float
    pv_ratio_log_sd: float
    headroom_median: float
    headroom_log_sd: float
    noise_ratio: float
    source: str = ""

    @classmethod
    def calibrated(cls) -> PopulationParams:
        """The population calibrated to seed 001 Table 6 and Figure 21 (bundled ``sapn_hosting_calibration``).

        Returns
        -------
        PopulationParams
        """
        from openvpp.data import bundled_table

        tab = bundled_table(CALIBRATION_TABLE)
        pop = dict(tab["population"])  # type: ignore[index]
        return cls(**{f.name: pop[f.name] for f in dataclasses.fields(cls) if f.name in pop})

    def as_vector(self) -> NDArray[np.float64]:
        """The seven numbers in field order (calibration vector).

        Returns
        -------
        numpy.ndarray, shape (7,)
            [kW, -, -, -, -, -, -]
        """
        return np.array([self.a_median_kw, self.a_log_sd, self.pv_ratio_median, self.pv_ratio_log_sd,
                         self.headroom_median, self.headroom_log_sd, self.noise_ratio])


def population_inputs(
    index: NDArray,
    load_shape: NDArray,
    pv_shape: NDArray,
    noise_bank: NDArray,
    params: PopulationParams,
    seed: int = 0,
) -> tuple[NDArray, NDArray, NDArray]:
    """Constraint-engine inputs of transformers ``index`` of the synthetic population (see
    :class:`PopulationParams`); deterministic per transformer whatever the chunking.

    Parameters
    ----------
    index : numpy.ndarray of int, shape (R,)
        Transformer numbers. [-]
    load_shape, pv_shape : numpy.ndarray, shape (S, K)
        Demand shape (1 at the yearly peak) and solar shape in [0, 1]. [-]
    noise_bank : numpy.ndarray, shape (64, S, K)
        Noise profiles. [-]
    params : PopulationParams
        Population distributions.
    seed : int
        Seed of the hash. [-]

    Returns
    -------
    (p_net_kw, p_volt_kw, p_therm_kw) : tuple of numpy.ndarray
        Shapes (R, S, K), (R,), (R,). [kW]
    """
    from scipy.special import ndtri

    def z(j: int) -> NDArray[np.float64]:
        return ndtri(np.clip(_hash_uniform(index, j, seed), 1e-12, 1.0 - 1e-12))

    a = params.a_median_kw * np.exp(params.a_log_sd * z(0))
    b = a * params.pv_ratio_median * np.exp(params.pv_ratio_log_sd * z(1))
    c = params.noise_ratio * a
    dt = load_shape.dtype
    p = a.astype(dt)[:, None, None] * load_shape[None]
    p -= b.astype(dt)[:, None, None] * pv_shape[None]
    p += c.astype(dt)[:, None, None] * noise_bank[index % noise_bank.shape[0]]
    backfeed = np.maximum(-p.min(axis=(1, 2)).astype(float), 0.0)
    p_volt = backfeed * params.headroom_median * np.exp(params.headroom_log_sd * z(3))
    p_therm = 1.5 * np.abs(p).max(axis=(1, 2)).astype(float)
    return p, p_volt, p_therm


@dataclasses.dataclass(frozen=True)
class SyntheticSource:
    """Synthetic constraint-engine inputs of any shape, deterministic per transformer.

    ``p_net_i(s, t) = a_i L(s, t) - b_i P(s, t) + c_i E_{i mod 64}(s, t)``: a double-peaked residential
    demand shape ``L`` scaled by season, the approximate solar shape ``P`` of the scenario set, and one of 64
    seeded noise profiles ``E``; per-transformer scalars follow :class:`PopulationParams` (by default the
    population calibrated to seed 001 Table 6 and Figure 21, see docs/envelopes.md) and the VPP sites
    seed 001 Table 2. They come from a counter-based hash of the transformer index, so any chunk of
    transformers is generated identically wherever it runs.

    Parameters
    ----------
    n_transformers : int
        Population size. [-]
    scenarios : ScenarioSet
        Day-type scenarios.
    seed : int
        Seed. [-]
    dtype : str
        Float type of the inputs.
    params : PopulationParams, optional
        Population distributions (default :meth:`PopulationParams.calibrated`).
    """

    n_transformers: int
    scenarios: ScenarioSet
    seed: int = 0
    dtype: str = "float32"
    params: PopulationParams | None = None

    def __post_init__(self) -> None:
        if int(self.n_transformers) != self.n_transformers or self.n_transformers < 1:
            raise ValidationError(f"n_transformers must be a positive integer (got {self.n_transformers!r})")
        if self.params is None:
            object.__setattr__(self, "params", PopulationParams.calibrated())
        sc = self.scenarios
        k = sc.n_steps
        t = (np.arange(k) + 0.5) * H_PER_DAY / k
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
        """(n_transformers, n_scenarios, n_steps). [-]"""
        return (int(self.n_transformers), self.scenarios.n_scenarios, self.scenarios.n_steps)

    def shapes(self) -> tuple[NDArray, NDArray, NDArray]:
        """The demand shape L (S, K), solar shape P (S, K) and noise bank E (64, S, K) of the population.

        Returns
        -------
        (load_shape, pv_shape, noise_bank) : tuple of numpy.ndarray
            [-]
        """
        return self._load, self._pv, self._bank  # type: ignore[attr-defined]

    def chunk(self, start: int, stop: int) -> tuple[NDArray, NDArray, NDArray, NDArray]:
        """Inputs of transformers ``start`` .. ``stop - 1``.

        Parameters
        ----------
        start, stop : int
            Transformer range. [-]

        Returns
        -------
        (p_net_kw, p_volt_kw, p_therm_kw, n_sites) : tuple of numpy.ndarray
            [kW], [kW], [kW], [-]
        """
        i = np.arange(start, min(stop, self.n_transformers))
        assert self.params is not None  # set in __post_init__
        p, p_volt, p_therm = population_inputs(
            i, self._load, self._pv, self._bank, self.params, self.seed  # type: ignore[attr-defined]
        )
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
        """Average over every VPP site of a (n_transformers, n_scenarios) per-site metric.

        Parameters
        ----------
        per_site : NDArray
            Per-site metric per transformer. [-]
        """
        return np.tensordot(self.n_sites.astype(float), per_site, axes=(0, 0)) / self.n_sites.sum()

    def hosting_curve_mw(self) -> NDArray:
        """Hosting capacity summed over transformers at each unconstrained level (seed 001 Figure 21). [MW]"""
        return kw_to_mw(self.hosting_kw.sum(axis=0))

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

    Calls the same functions a single-transformer user calls -- :func:`~openvpp.envelopes.engine
    .raw_limit_kw` (eq. 1), :func:`~openvpp.envelopes.engine.raw_per_site_kw` (eq. 2),
    :func:`~openvpp.envelopes.engine.mediated_kw` (eqs 4-6), :func:`~openvpp.envelopes.metrics
    .hosting_capacity_kw` (§4.2) and :func:`~openvpp.envelopes.metrics.capacity_metrics` (§2.4) -- reusing
    one chunk-sized buffer for the raw, per-site and mediated limits.

    Parameters
    ----------
    p_net_kw : numpy.ndarray, shape (R, S, K)
        Modelled net demand of each transformer (load convention). [kW]
    p_volt_kw, p_therm_kw : numpy.ndarray, shape (R,)
        Reverse-flow limits. [kW]
    n_sites : numpy.ndarray, shape (R,)
        VPP sites per transformer. [-]
    solar_kw : numpy.ndarray, shape (S, K)
        Export capability curve. [kW]
    daylight : numpy.ndarray of bool, shape (S, K)
        Daylight steps. [-]
    day_weights : numpy.ndarray, shape (S,)
        Days each scenario stands for. [d]
    m : float
        Confidence margin. [-]
    floor_kw, cap_kw : float
        Mediated band. [kW]
    unconstrained_pct : tuple of float
        Hosting levels. [%]

    Returns
    -------
    dict of numpy.ndarray
        Per transformer ``ac_day_kw``, ``ac_dl_kw`` [kW], ``re_kwh`` [kWh] (R, S), ``hosting_kw`` (R, L) [kW],
        ``n_sites`` (R,) [-]; chunk sums ``sum_raw_kw`` and ``sum_mediated_kw`` (S, K) of ``C_i`` and
        ``N_i M_i`` [kW].
    """
    p = np.asarray(p_net_kw)
    if p.dtype.kind != "f":
        p = p.astype(float)
    # one code path with the array functions of engine.py and metrics.py (seed 001 §2.2, §2.4, §4)
    raw = raw_limit_kw(p, p_volt_kw, p_therm_kw, m)
    n = check_n_sites(n_sites, raw.shape[0])
    hosting = hosting_capacity_kw(raw, day_weights, unconstrained_pct)
    sum_raw = raw.sum(axis=0, dtype=float)
    med = raw_per_site_kw(raw, n, out=raw)  # reuse the buffer: raw is no longer needed
    mediated_kw(med, floor_kw, cap_kw, out=med)
    sum_med = np.einsum("r,rsk->sk", n, med, dtype=np.float64, casting="safe")
    ac_day, ac_dl, re = capacity_metrics(med, solar_kw, daylight, floor_kw, overwrite=True)
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
        Transformers per chunk (memory ~ 3 x chunk x scenarios x steps x 8 bytes). [-]
    workers : int, optional
        Run on a dask.distributed LocalCluster with this many workers. [-]
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


#: seconds to wait for a Dask scheduler before giving up [s]
SCHEDULER_TIMEOUT_S = 5.0


def check_sweep_options(
    chunk_transformers: int = 32,
    workers: int | None = None,
    scheduler: str | None = None,
    names: Callable[[str], str] | None = None,
) -> None:
    """Validate the execution options of :func:`run_sweep` (cheap: call it before building inputs).

    Parameters
    ----------
    chunk_transformers : int
        Transformers per chunk (>= 1). [-]
    workers : int, optional
        LocalCluster workers (>= 1); not together with ``scheduler``. [-]
    scheduler : str, optional
        Address of a running Dask scheduler, ``tcp://host:port``.
    names : callable, optional
        Maps a parameter name to the name used in messages (e.g. ``"workers"`` -> ``"--workers"``).

    Raises
    ------
    ValidationError
        Naming the option.
    """
    name = names or (lambda k: k)
    for key, v in (("chunk_transformers", chunk_transformers), ("workers", workers)):
        if v is None and key == "workers":
            continue
        if isinstance(v, bool) or not isinstance(v, int | np.integer | float) or not np.isfinite(v) \
                or int(v) != v or v < 1:
            raise ValidationError(f"{name(key)} must be a positive integer (got {v!r}); e.g. 2")
    if workers is not None and scheduler is not None:
        raise ValidationError(
            f"{name('workers')} and {name('scheduler')} exclude each other: {name('workers')} starts a local "
            f"cluster, {name('scheduler')} uses a running one (got both); pass one of them"
        )
    if scheduler is not None:
        text = scheduler.strip() if isinstance(scheduler, str) else ""
        host, _, port = text.rpartition("://")[2].rpartition(":")
        if not text or not host or not port.isdigit():
            raise ValidationError(
                f"{name('scheduler')} must be the address of a running Dask scheduler such as "
                f"'tcp://host:8786' (got {scheduler!r})"
            )


def _run_distributed(source, bounds, args, workers, scheduler, processes, progress) -> list[dict]:
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
        except Exception as exc:  # dask raises OSError, TimeoutError, even MemoryError on a bad address
            raise ConfigError(
                f"Dask scheduler {scheduler!r} cannot be reached within {SCHEDULER_TIMEOUT_S:g} s "
                f"({type(exc).__name__}: {exc}); start one with `dask scheduler` and pass its address "
                "(tcp://host:8786), or use --workers N for a local cluster"
            ) from None
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
