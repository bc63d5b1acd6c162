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
from openvpp.envelopes.objects import EnvelopeSet, envelopes_from_limits
from openvpp.envelopes.scenarios import (
    ScenarioInputs,
    ScenarioSet,
    make_scenario_set,
    simbench_scenario_inputs,
    winter_months,
)
from openvpp.envelopes.sweep import (
    ArraySource,
    SweepResult,
    SyntheticSource,
    check_sweep_options,
    run_sweep,
)
from openvpp.errors import ValidationError


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


def check_study_inputs(
    location: str = "adelaide",
    n_transformers: int = 300,
    m: float = DEFAULT_MARGIN,
    seed: int = 0,
    workers: int | None = None,
    scheduler: str | None = None,
    chunk_transformers: int = 32,
    scenario: str | None = None,
) -> None:
    """Validate the inputs of :func:`run_envelope_study` / :func:`run_hosting_study` before any loading.

    ``scenario``, if given, must be a day-type scenario of ``location`` (e.g. ``"Jan-non-workday"``).

    Raises
    ------
    ValidationError
        Naming the input and the fix.
    """
    check_margin(m)
    n = n_transformers
    if isinstance(n, bool) or not isinstance(n, int | np.integer | float) or not np.isfinite(n) \
            or int(n) != n or n < 1:
        raise ValidationError(f"n_transformers must be a positive integer (got {n_transformers!r}); e.g. 300")
    check_seed(seed)
    check_sweep_options(chunk_transformers, workers, scheduler)
    sc = make_scenario_set(location)
    if scenario is not None and scenario not in sc.names:
        raise ValidationError(
            f"scenario {scenario!r} is not a day-type scenario; use one of {list(sc.names)}"
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
        Transformers in the generated population.
    m : float
        Confidence margin (the seed's figures use 0.8). [-]
    grid_code : str
        SimBench LV grid whose profiles are used.
    seed : int
        Seed of the population draw.
    workers, scheduler, chunk_transformers, progress
        As in :func:`openvpp.envelopes.sweep.run_sweep`.

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
    """
    check_study_inputs(location, n_transformers, m, seed, workers, scheduler, chunk_transformers)
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
