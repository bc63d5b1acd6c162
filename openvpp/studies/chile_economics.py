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


def run_economics(
    site: str = "lampa", mw: Sequence[float] = (1.0, 3.0, 5.0), tornado_mw: float = 1.0, delta: float = 0.2
) -> EconomicsStudy:
    """Table 3 lines, Table 4/5 cases for each battery size, profitability threshold and tornado.

    Parameters
    ----------
    site : str
        ``"lampa"`` or ``"osorno"``.
    mw : sequence of float
        Battery sizes to evaluate. [MW]
    tornado_mw : float
        Size at which the one-at-a-time sensitivity is computed. [MW]
    delta : float
        Relative parameter change of the tornado. [-]
    """
    if not mw:
        raise ValidationError("mw must list at least one battery size in MW, e.g. --mw 1 3 5")
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
        return {
            "params": self.params.model_dump(),
            "summary": self.summary().to_dict(orient="records"),
            "scenarios": {k: v.to_dict() for k, v in self.scenarios.items()},
            "reference_case": self.reference_case.to_dict(),
        }


def run_dynamics_study(params: dynamics.DynamicsParams | None = None) -> DynamicsStudy:
    """Run the ten-year model for both scenarios (seed 000 §6.2, Figs 11-12)."""
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
        return {**self.result.to_dict(), "sensitivity": self.sensitivity.to_dict(orient="records")}


def run_potential_study(hosting_share: dict[str, float] | None = None) -> PotentialStudy:
    """GW per resource with optional hosting-share overrides (``{"medium": 0.21, "low": 0.25}``)."""
    return PotentialStudy(
        result=potential.national_potential(hosting_share=hosting_share),
        sensitivity=potential.hosting_share_sensitivity(),
    )
