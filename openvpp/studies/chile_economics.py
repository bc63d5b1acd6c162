"""Studies of the Chile roadmap's economics (seed 000 §6 and §8): static business model, system dynamics and
national potential, as parameterised functions returning result objects (rendered by
:mod:`openvpp.report.economics`, printed by ``openvpp study economics|dynamics|potential``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pandas as pd

from openvpp.economics import business, dynamics, potential
from openvpp.errors import ValidationError

__all__ = [
    "DynamicsStudy",
    "EconomicsStudy",
    "PotentialStudy",
    "run_dynamics_study",
    "run_economics",
    "run_potential_study",
]


@dataclasses.dataclass(frozen=True)
class EconomicsStudy:
    """Static business model at one site (seed 000 Tables 3-5)."""

    site: str
    revenue_per_mw: dict[str, float]
    details: dict[str, Any]
    cases: dict[float, business.BusinessCase]
    threshold: business.BusinessCase
    tornado: pd.DataFrame
    tornado_mw: float

    def to_dict(self) -> dict[str, Any]:
        """To dict."""
        d = dict(self.details)
        d["affected_hours"] = [float(x) for x in d["affected_hours"]]
        return {
            "site": self.site, "revenue_per_mw_usd": self.revenue_per_mw, "details": d,
            "cases": {str(k): v.to_dict() for k, v in self.cases.items()},
            "profitability_threshold": {
                "n_batteries": self.threshold.n_batteries, "p_batteries_mw": self.threshold.p_batteries_mw,
                "profit_usd": self.threshold.profit_usd,
            },
            "tornado_mw": self.tornado_mw, "tornado": self.tornado.to_dict(orient="records"),
        }


#: largest battery size of a business case: above Chile's whole national VPP potential (~8 GW, seed 000
#: §8), so a larger value is a typo [MW]
MAX_STUDY_MW = 10_000.0
#: most battery sizes in one study [-]
MAX_STUDY_SIZES = 100


def check_sizes_mw(mw: Sequence[float], name: str = "mw") -> list[float]:
    """Validate the battery sizes of :func:`run_economics` before anything is computed.

    Parameters
    ----------
    mw : sequence of float
        Battery sizes, each in ``[0, MAX_STUDY_MW]``, at most ``MAX_STUDY_SIZES`` of them. [MW]
    name : str
        Name in messages (``"--mw"`` on the command line).

    Returns
    -------
    list of float
        The sizes. [MW]
    """
    import math

    sizes = list(mw or [])
    if not sizes:
        raise ValidationError(f"{name} must list at least one battery size in MW, e.g. --mw 1 3 5")
    if len(sizes) > MAX_STUDY_SIZES:
        raise ValidationError(f"{name} takes at most {MAX_STUDY_SIZES} sizes (got {len(sizes)})")
    for v in sizes:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) \
                or not 0 <= v <= MAX_STUDY_MW:
            raise ValidationError(
                f"{name} sizes must be finite numbers in [0, {MAX_STUDY_MW:,.0f}] MW (got {v!r}); "
                "the whole national potential of Chile is ~8 GW (seed 000 §8)"
            )
    return [float(v) for v in sizes]


def run_economics(
    site: str = "lampa",
    mw: Sequence[float] = (1.0, 3.0, 5.0),
    tornado_mw: float = 1.0,
    delta: float = 0.2,
    mw_name: str = "mw",
) -> EconomicsStudy:
    """Table 3 lines, Table 4/5 cases for each battery size, profitability threshold and tornado (seed 000
    §6.1).

    Parameters
    ----------
    site : str
        ``"lampa"`` or ``"osorno"``.
    mw : sequence of float
        Battery sizes to evaluate (bounded by :func:`check_sizes_mw`). [MW]
    tornado_mw : float
        Size at which the one-at-a-time sensitivity is computed. [MW]
    delta : float
        Relative parameter change of the tornado. [-]
    mw_name : str
        Name of ``mw`` in messages (``"--mw"`` on the command line).

    Returns
    -------
    EconomicsStudy
    """
    mw = check_sizes_mw(mw, mw_name)
    inp = business.load_inputs(site)
    return EconomicsStudy(
        site=inp.site.key,
        revenue_per_mw=business.revenue_lines_per_mw(inp),
        details=business.table3_details(inp),
        cases={float(m): business.business_case_mw(inp, float(m)) for m in mw},
        threshold=business.profitability_threshold(inp),
        tornado=business.tornado(inp, tornado_mw, delta),
        tornado_mw=tornado_mw,
    )


@dataclasses.dataclass(frozen=True)
class DynamicsStudy:
    """Both adoption scenarios of seed 000 §6.2 plus the 210-prosumer static reference case."""

    scenarios: dict[str, dynamics.DynamicsResult]
    params: dynamics.DynamicsParams
    reference_case: business.BusinessCase

    def summary(self) -> pd.DataFrame:
        """Summary."""
        rows = []
        for name, r in self.scenarios.items():
            f = r.frame
            rows.append({
                "scenario": name, "initial_clients": r.initial_clients, "clients_end": f["clients"].iloc[-1],
                "population_end": f["population"].iloc[-1], "housing_end": f["housing"].iloc[-1],
                "payback_years": r.payback_years, "cumulative_margin_6_5_usd": r.cumulative_margin_at(6.5),
                "cumulative_margin_end_usd": f["cumulative_margin_usd"].iloc[-1],
            })
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """To dict."""
        return {
            "params": self.params.model_dump(),
            "summary": self.summary().to_dict(orient="records"),
            "scenarios": {k: v.to_dict() for k, v in self.scenarios.items()},
            "reference_case": self.reference_case.to_dict(),
        }


def run_dynamics_study(params: dynamics.DynamicsParams | None = None) -> DynamicsStudy:
    """Run the ten-year model for both scenarios (seed 000 §6.2, Figs 11-12).

    Parameters
    ----------
    params : dynamics.DynamicsParams | None
        Model parameters (default: bundled).
    """
    p = params or dynamics.load_dynamics_params()
    return DynamicsStudy(
        scenarios=dynamics.run_scenarios(p), params=p,
        reference_case=business.business_case(p.site, int(p.scenarios.get("accelerated", 210))),
    )


@dataclasses.dataclass(frozen=True)
class PotentialStudy:
    """National potential (seed 000 §8, Fig. 22) and its sensitivity to the hosting share."""

    result: potential.PotentialResult
    sensitivity: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        """To dict."""
        return {**self.result.to_dict(), "sensitivity": self.sensitivity.to_dict(orient="records")}


def run_potential_study(hosting_share: dict[str, float] | None = None) -> PotentialStudy:
    """GW per resource with optional hosting-share overrides (``{"medium": 0.21, "low": 0.25}``).

    Parameters
    ----------
    hosting_share : dict[str, float] | None
        Hosting share per density class (default: bundled).
    """
    return PotentialStudy(
        result=potential.national_potential(hosting_share=hosting_share),
        sensitivity=potential.hosting_share_sensitivity(),
    )
