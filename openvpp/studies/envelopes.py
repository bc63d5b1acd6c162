"""Seed 001 (CSIRO/SAPN) §2-§4 as runnable studies: constraint engine, capacity metrics, hosting capacity.

* :func:`run_envelope_study` -- SimBench-derived transformer population for a location, the 25 day-type
  scenarios, the sweep (single process or Dask) and the seed's qualitative findings checked and stated;
* :func:`run_hosting_study` -- hosting capacity vs % of the year unconstrained, on SimBench-derived inputs or
  on synthetic inputs of any size (e.g. the 75,530 transformers of the seed);
* :func:`scenario_envelopes` -- publishable node envelopes (CSIP-AUS) of one scenario.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from openvpp.checks import check_seed
from openvpp.envelopes.engine import DEFAULT_MARGIN, check_margin, mediated_limit_kw
from openvpp.envelopes.metrics import hosting_capacity_kw, hosting_table
from openvpp.envelopes.objects import EnvelopeSet, envelopes_from_limits
from openvpp.envelopes.scenarios import (
    ScenarioInputs,
    ScenarioSet,
    make_scenario_set,
    simbench_scenario_inputs,
    winter_months,
)
from openvpp.envelopes.solar import LOCATIONS
from openvpp.envelopes.sweep import (
    CALIBRATION_TABLE,
    ArraySource,
    PopulationParams,
    SweepResult,
    SyntheticSource,
    check_sweep_options,
    population_inputs,
    run_sweep,
)
from openvpp.errors import ValidationError
from openvpp.units import kw_to_mw


@dataclasses.dataclass(frozen=True)
class Finding:
    """One qualitative finding of the seed, checked on a result."""

    statement: str
    holds: bool
    detail: str


@dataclasses.dataclass
class EnvelopeStudyResult:
    """Inputs, sweep result and checked findings of :func:`run_envelope_study`."""

    inputs: ScenarioInputs | None
    sweep: SweepResult
    scenarios: ScenarioSet
    findings: list[Finding]

    @property
    def location(self) -> str:
        """Location of the scenarios (sun times, solar curve, seasons)."""
        return self.scenarios.location

    def to_dict(self) -> dict:
        """To dict."""
        d = self.sweep.to_dict()
        d["location"] = self.location
        d["findings"] = [dataclasses.asdict(f) for f in self.findings]
        return d


def _season_means(sweep: SweepResult, sc, per_site: np.ndarray) -> dict[str, float]:
    vpp = sweep.vpp_mean(per_site)
    out: dict[str, float] = {}
    for season in dict.fromkeys(sc.seasons):
        sel = np.array([s == season for s in sc.seasons]) & (sc.day_weights > 0)
        if sel.any():
            out[season] = float(np.average(vpp[sel], weights=sc.day_weights[sel]))
    return out


def check_findings(sweep: SweepResult, sc) -> list[Finding]:
    """The seed's qualitative findings (seed 001 §3.2, §3.5, §4.2) checked on a sweep result.

    1. Average available capacity over daylight is below the whole-day average (every scenario, VPP mean).
    2. Capacity is highest in winter (June-August south of the equator, December-February north of it): the
       month with the highest daylight AC is a winter month and winter has the highest seasonal mean.
    3. Hosting capacity grows non-linearly as the unconstrained share falls from 100 % to 50 %: it rises
       monotonically and departs from the straight line between its 100 % and 50 % values.

    Parameters
    ----------
    sweep : SweepResult
        Result of :func:`~openvpp.envelopes.sweep.run_sweep`.
    sc : object
        Day-type scenario set.
    """
    ac_day = sweep.vpp_mean(sweep.ac_day_kw)
    ac_dl = sweep.vpp_mean(sweep.ac_dl_kw)
    f1 = bool(np.all(ac_dl < ac_day))
    w_day = float(np.average(ac_day, weights=sc.day_weights))
    w_dl = float(np.average(ac_dl, weights=sc.day_weights))
    out = [
        Finding(
            "daylight average available capacity is below the whole-day average",
            f1,
            f"year (day-weighted) AC_day {w_day:.2f} kW vs AC_dl {w_dl:.2f} kW per site; "
            f"AC_dl < AC_day in {int(np.sum(ac_dl < ac_day))}/{ac_day.size} scenarios",
        )
    ]
    winter = winter_months(sc.southern)
    months = np.arange(1, 13)
    parts, ok = [], True
    for name, per_site in (("AC_day", sweep.ac_day_kw), ("AC_dl", sweep.ac_dl_kw)):
        vpp = sweep.vpp_mean(per_site)
        by_month = np.array(
            [
                np.average(
                    vpp[(sc.month == mo) & ~sc.heatwave],
                    weights=np.maximum(sc.day_weights[(sc.month == mo) & ~sc.heatwave], 1e-9),
                )
                for mo in months
            ]
        )
        win = by_month[np.isin(months, winter)]
        rest = by_month[~np.isin(months, winter)]
        # at the 10 kW cap (AC_day) or under the solar curve (AC_dl) months tie: allow 0.05 kW
        ok &= bool(
            win.mean() > rest.mean() and win.max() >= by_month.max() - 0.05 and win.min() >= rest.max() - 0.05
        )
        parts.append(
            f"{name}: winter months {win.mean():.2f} kW (min {win.min():.2f}) vs other months "
            f"{rest.mean():.2f} kW (max {rest.max():.2f}), top month {int(months[np.argmax(by_month)])}"
        )
    seas = _season_means(sweep, sc, sweep.ac_dl_kw)
    seas.pop("Heatwave", None)
    out.append(
        Finding(
            f"capacity is highest in winter (months {winter} at {sc.location})",
            bool(ok),
            "; ".join(parts)
            + "; daylight AC by season "
            + ", ".join(f"{k} {v:.2f}" for k, v in seas.items()),
        )
    )
    h = sweep.hosting_curve_mw()
    pct = sweep.unconstrained_pct
    mono = bool(np.all(np.diff(h[np.argsort(-pct)]) >= -1e-9))
    if np.any(pct == 100.0) and np.any(pct == 50.0):
        h100, h50 = float(h[pct == 100.0][0]), float(h[pct == 50.0][0])
        line = h100 + (h50 - h100) * (100.0 - pct) / 50.0
        mid = (pct < 100.0) & (pct > 50.0)
        dev = float(np.max(np.abs(h[mid] - line[mid])) / max(h50 - h100, 1e-9)) if mid.any() else 0.0
        slopes = np.diff(h[np.argsort(-pct)]) / -np.diff(np.sort(pct)[::-1])
        f3 = mono and h50 > h100 and dev > 0.05
        detail = (
            ", ".join(f"{p:g} %: {v:.2f} MW" for p, v in zip(pct, h, strict=True))
            + f"; x{h50 / max(h100, 1e-9):.1f} "
            f"from 100 % to 50 %; growth per percentage point "
            + ", ".join(f"{s:.3f}" for s in slopes)
            + f" MW; largest departure from the straight line {100 * dev:.0f} % of the rise"
        )
    else:
        f3, detail = False, "needs the 100 % and 50 % levels"
    out.append(
        Finding(
            "hosting capacity grows non-linearly as the unconstrained share falls from 100 % to 50 %",
            bool(f3),
            detail,
        )
    )
    return out


#: most transformers of a SimBench-derived population (held in memory: ~0.2 MB each) [-]
MAX_SIMBENCH_TRANSFORMERS = 10_000
#: most transformers of a synthetic population (streamed chunk by chunk; results ~1 kB each) [-]
MAX_SYNTHETIC_TRANSFORMERS = 1_000_000
#: names of the inputs of :func:`check_study_inputs` as the ``openvpp envelopes`` options spell them
CLI_FLAGS = {
    "location": "--location", "n_transformers": "--transformers", "m": "--margin", "seed": "--seed",
    "workers": "--workers", "scheduler": "--scheduler", "chunk_transformers": "chunk_transformers",
    "scenario": "--scenario",
}


def check_study_inputs(
    location: str = "adelaide",
    n_transformers: int = 300,
    m: float = DEFAULT_MARGIN,
    seed: int = 0,
    workers: int | None = None,
    scheduler: str | None = None,
    chunk_transformers: int = 32,
    scenario: str | None = None,
    synthetic: bool = False,
    flags: bool = False,
) -> None:
    """Validate the inputs of :func:`run_envelope_study` / :func:`run_hosting_study` before any loading.

    Sizes are bounded before anything is allocated: at most :data:`MAX_SIMBENCH_TRANSFORMERS` for the
    in-memory SimBench-derived population, :data:`MAX_SYNTHETIC_TRANSFORMERS` for the streamed synthetic one.

    Parameters
    ----------
    location : str
        ``"adelaide"`` or ``"santiago"``.
    n_transformers : int
        Transformers in the population. [-]
    m : float
        Confidence margin in [0, 1]. [-]
    seed : int
        Seed of the population. [-]
    workers : int, optional
        LocalCluster workers (not together with ``scheduler``). [-]
    scheduler : str, optional
        Address of a running Dask scheduler.
    chunk_transformers : int
        Transformers per chunk. [-]
    scenario : str, optional
        A day-type scenario of ``location`` (e.g. ``"Jan-non-workday"``).
    synthetic : bool
        Whether the synthetic (streamed) population is used (sets the size bound).
    flags : bool
        Name inputs in messages as the ``openvpp envelopes`` options (``--transformers``) rather than as
        the Python parameters (``n_transformers``).

    Raises
    ------
    ValidationError
        Naming the input and the fix.
    """
    name = (lambda k: CLI_FLAGS[k]) if flags else (lambda k: k)
    if not isinstance(location, str) or location.strip().lower() not in LOCATIONS:
        raise ValidationError(
            f"{name('location')} {location!r} is not built in; use one of {sorted(LOCATIONS)}"
        )
    check_margin(m, name("m"))
    n = n_transformers
    bound = MAX_SYNTHETIC_TRANSFORMERS if synthetic else MAX_SIMBENCH_TRANSFORMERS
    if isinstance(n, bool) or not isinstance(n, int | np.integer | float) or not np.isfinite(n) \
            or int(n) != n or n < 1:
        raise ValidationError(
            f"{name('n_transformers')} must be a positive integer (got {n_transformers!r}); e.g. 300"
        )
    if n > bound:
        what = "a synthetic (streamed)" if synthetic else "a SimBench-derived (in-memory)"
        hint = "" if synthetic else "; use --synthetic for larger populations" if flags else \
            "; use synthetic=True for larger populations"
        raise ValidationError(
            f"{name('n_transformers')} must be at most {bound:,} for {what} population (got {n:,}){hint}"
        )
    check_seed(seed, name("seed"))
    check_sweep_options(chunk_transformers, workers, scheduler, names=name)
    sc = make_scenario_set(location)
    if scenario is not None and scenario not in sc.names:
        raise ValidationError(
            f"{name('scenario')} {scenario!r} is not a day-type scenario; use one of {list(sc.names)}"
        )


def run_envelope_study(
    location: str = "adelaide",
    n_transformers: int = 300,
    m: float = DEFAULT_MARGIN,
    grid_code: str = "1-LV-rural1--2-sw",
    seed: int = 0,
    workers: int | None = None,
    scheduler: str | None = None,
    chunk_transformers: int = 32,
    progress: Callable[[int, int], None] | None = None,
) -> EnvelopeStudyResult:
    """Constraint engine, capacity metrics, hosting capacity on SimBench-derived scenarios (seed 001 §2-§4).

    Parameters
    ----------
    location : {"adelaide", "santiago"}
        Location of the sun times, solar curve and PV (hemisphere sets the seasons).
    n_transformers : int
        Transformers in the generated population. [-]
    m : float
        Confidence margin (the seed's figures use 0.8). [-]
    grid_code : str
        SimBench LV grid whose profiles are used.
    seed : int
        Seed of the population draw. [-]
    workers, scheduler, chunk_transformers, progress
        As in :func:`openvpp.envelopes.sweep.run_sweep`. [-]

    Returns
    -------
    EnvelopeStudyResult
    """
    check_study_inputs(location, n_transformers, m, seed, workers, scheduler, chunk_transformers)
    inputs = simbench_scenario_inputs(n_transformers, location, grid_code, seed=seed)
    src = ArraySource(inputs.p_net_kw, inputs.p_volt_kw, inputs.p_therm_kw, inputs.n_sites)
    sweep = run_sweep(
        src,
        inputs.scenarios,
        m=m,
        chunk_transformers=chunk_transformers,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
    )
    return EnvelopeStudyResult(inputs, sweep, inputs.scenarios, check_findings(sweep, inputs.scenarios))


def run_hosting_study(
    n_transformers: int = 2000,
    synthetic: bool = False,
    location: str = "adelaide",
    m: float = DEFAULT_MARGIN,
    seed: int = 0,
    workers: int | None = None,
    scheduler: str | None = None,
    chunk_transformers: int = 32,
    progress: Callable[[int, int], None] | None = None,
) -> EnvelopeStudyResult:
    """Hosting capacity vs % of the year unconstrained (seed 001 §4, Figure 21, Table 6).

    ``synthetic=True`` uses :class:`~openvpp.envelopes.sweep.SyntheticSource` (any size, generated chunk by
    chunk, e.g. 75,530 transformers); otherwise the SimBench-derived population of :func:`run_envelope_study`.

    Parameters
    ----------
    n_transformers : int
        Transformers in the population. [-]
    synthetic : bool
        Use the synthetic (streamed) population.
    location : str
        Built-in location name or a pvlib Location.
    m : float
        Confidence margin in [0, 1]. [-]
    seed : int
        Random seed. [-]
    workers : int | None
        Dask LocalCluster workers. [-]
    scheduler : str | None
        Address of a running Dask scheduler.
    chunk_transformers : int
        Transformers per chunk. [-]
    progress : Callable[[int, int], None] | None
        Called as ``progress(done, total)`` after each chunk.
    """
    check_study_inputs(location, n_transformers, m, seed, workers, scheduler, chunk_transformers,
                       synthetic=synthetic)
    if synthetic:
        sc = make_scenario_set(location)
        src = SyntheticSource(n_transformers, sc, seed=seed)
        sweep = run_sweep(
            src,
            sc,
            m=m,
            chunk_transformers=chunk_transformers,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
        )
        return EnvelopeStudyResult(None, sweep, sc, check_findings(sweep, sc))
    return run_envelope_study(
        location,
        n_transformers,
        m,
        seed=seed,
        workers=workers,
        scheduler=scheduler,
        chunk_transformers=chunk_transformers,
        progress=progress,
    )


def scenario_envelopes(inputs: ScenarioInputs, scenario: str, m: float = DEFAULT_MARGIN) -> EnvelopeSet:
    """Per-site export envelopes of every transformer (constraint node) for one day-type scenario.

    Parameters
    ----------
    inputs : ScenarioInputs
        Engine inputs, e.g. from :func:`~openvpp.envelopes.scenarios.simbench_scenario_inputs`.
    scenario : str
        Scenario name, e.g. ``"Jan-non-workday"``.
    m : float
        Confidence margin. [-]

    Returns
    -------
    EnvelopeSet
        Kind ``"node"``: ``opModExpLimW`` is the mediated limit that applies to each site of the node.
    """
    sc = inputs.scenarios
    if scenario not in sc.names:
        raise ValidationError(f"scenario {scenario!r} is not one of {list(sc.names)}")
    k = sc.names.index(scenario)
    med = mediated_limit_kw(inputs.p_net_kw[:, k, :], inputs.p_volt_kw, inputs.p_therm_kw, inputs.n_sites, m)
    ids = [f"tf{i:05d}" for i in range(inputs.n_transformers)]
    return envelopes_from_limits(ids, sc.index(k), med, kind="node")


# ------------------------------------------------------------------------------ calibration (seed 001 §4.2)
@dataclasses.dataclass(frozen=True)
class HostingFit:
    """Table 6 and the hosting curve of a synthetic population next to the seed's, with residuals.

    Parameters
    ----------
    params : PopulationParams
        The population.
    table6_pct, target_table6_pct : numpy.ndarray, shape (7,)
        Cumulative share of transformers per Table 6 class, model and seed. [%]
    hosting_mw, target_hosting_mw : numpy.ndarray, shape (5,)
        Hosting capacity at 100/99/90/80/50 % unconstrained, model (scaled to the seed's 75,530
        transformers) and seed. [MW]
    n_transformers : int
        Transformers evaluated. [-]
    """

    params: PopulationParams
    table6_pct: np.ndarray
    target_table6_pct: np.ndarray
    hosting_mw: np.ndarray
    target_hosting_mw: np.ndarray
    n_transformers: int

    @property
    def table6_residual_pp(self) -> np.ndarray:
        """Model minus seed, Table 6. [percentage points]"""
        return self.table6_pct - self.target_table6_pct

    @property
    def hosting_residual_pct(self) -> np.ndarray:
        """Model over seed minus one, hosting curve. [%]"""
        return 100.0 * (self.hosting_mw / self.target_hosting_mw - 1.0)

    def to_dict(self) -> dict:
        """Plain numbers (for ``--json`` and docs).

        Returns
        -------
        dict
        """
        return {
            "params": dataclasses.asdict(self.params), "n_transformers": self.n_transformers,
            "table6_pct": self.table6_pct.round(2).tolist(),
            "target_table6_pct": self.target_table6_pct.tolist(),
            "table6_residual_pp": self.table6_residual_pp.round(2).tolist(),
            "hosting_mw": self.hosting_mw.round(1).tolist(),
            "target_hosting_mw": self.target_hosting_mw.tolist(),
            "hosting_residual_pct": self.hosting_residual_pct.round(1).tolist(),
        }


def hosting_targets() -> dict:
    """The seed's network-wide hosting results the synthetic population is calibrated to (bundled).

    Returns
    -------
    dict
        ``n_transformers`` [-], ``margin`` [-], ``table6_pct`` [%], ``unconstrained_pct`` [%], ``hosting_mw``
        [MW] (seed 001 Table 6, Figure 21).
    """
    from openvpp.data import bundled_table

    return dict(bundled_table(CALIBRATION_TABLE)["targets"])  # type: ignore[index]


def hosting_fit(
    params: PopulationParams | None = None,
    n_transformers: int = 1000,
    step_stride: int = 1,
    location: str = "adelaide",
    seed: int = 0,
) -> HostingFit:
    """Table 6 and the hosting curve of the synthetic population against the seed's (seed 001 §4.2).

    Uses the same population generator (:func:`~openvpp.envelopes.sweep.population_inputs`) and hosting
    quantiles (:func:`~openvpp.envelopes.metrics.hosting_capacity_kw`) as the sweep; MW are scaled from
    ``n_transformers`` to the seed's 75,530.

    Parameters
    ----------
    params : PopulationParams, optional
        Population (default: the calibrated one).
    n_transformers : int
        Transformers evaluated (1 .. 100,000). [-]
    step_stride : int
        Keep every ``step_stride``-th 5-min step (12 = hourly; calibration speed only). [-]
    location : str
        Scenario location.
    seed : int
        Seed of the population hash. [-]

    Returns
    -------
    HostingFit
    """
    if not 1 <= int(n_transformers) <= 100_000 or not 1 <= int(step_stride) <= 288:
        raise ValidationError(
            f"n_transformers must lie in 1..100,000 and step_stride in 1..288 (got {n_transformers}, "
            f"{step_stride})"
        )
    tg = hosting_targets()
    pp = params if params is not None else PopulationParams.calibrated()
    sc = make_scenario_set(location)
    load, pv, bank = SyntheticSource(1, sc, seed=seed, dtype="float64", params=pp).shapes()
    sl = slice(None, None, int(step_stride))
    p, p_volt, p_therm = population_inputs(
        np.arange(int(n_transformers)), load[:, sl], pv[:, sl], bank[..., sl], pp, seed
    )
    raw = p + float(tg["margin"]) * np.minimum(p_volt, p_therm)[:, None, None]
    h = hosting_capacity_kw(raw, sc.day_weights, tg["unconstrained_pct"])
    scale = float(tg["n_transformers"]) / int(n_transformers)
    return HostingFit(
        params=pp,
        table6_pct=hosting_table(h[:, 0], tg["table6_thresholds_kw"]),
        target_table6_pct=np.asarray(tg["table6_pct"], dtype=float),
        hosting_mw=kw_to_mw(h.sum(axis=0)) * scale,
        target_hosting_mw=np.asarray(tg["hosting_mw"], dtype=float),
        n_transformers=int(n_transformers),
    )


def calibrate_synthetic_population(
    n_transformers: int = 1000, step_stride: int = 12, max_evaluations: int = 500,
    start: PopulationParams | None = None,
) -> HostingFit:
    """Fit the seven :class:`PopulationParams` to seed 001 Table 6 and the Figure 21 curve together.

    Nelder-Mead (scipy) within plausible bounds minimises ``sum((table6 - target) / 2 pp)^2 + sum(ln(H /
    H_target) / 0.05)^2``: a 2-percentage-point miss of a Table 6 class weighs as a 5 % miss of a hosting
    level. The result is written by hand into the bundled ``sapn_hosting_calibration`` table.

    Parameters
    ----------
    n_transformers : int
        Transformers per evaluation. [-]
    step_stride : int
        Step subsampling per evaluation (12 = hourly). [-]
    max_evaluations : int
        Budget of objective evaluations. [-]
    start : PopulationParams, optional
        Starting point (default: the bundled calibration).

    Returns
    -------
    HostingFit
        The fit at the optimum (on the evaluation grid).
    """
    from scipy.optimize import minimize

    x0 = (start or PopulationParams.calibrated()).as_vector()
    bounds = [(0.1, 100.0), (0.1, 3.0), (0.1, 3.0), (0.05, 1.5), (0.1, 3.0), (0.1, 8.0), (0.0, 1.0)]

    def fit(x: np.ndarray) -> HostingFit:
        keys = [f.name for f in dataclasses.fields(PopulationParams)][:7]
        return hosting_fit(PopulationParams(**dict(zip(keys, map(float, x), strict=True)),
                                            source="calibration"), n_transformers, step_stride)

    def objective(x: np.ndarray) -> float:
        f = fit(x)
        miss = np.log(np.maximum(f.hosting_mw, 1e-3) / f.target_hosting_mw)
        r = np.r_[f.table6_residual_pp / 2.0, miss / 0.05]
        return float(r @ r)

    res = minimize(objective, x0, method="Nelder-Mead", bounds=bounds,
                   options={"maxfev": int(max_evaluations), "xatol": 1e-3, "fatol": 1e-3})
    return fit(res.x)
