"""NPV study of the CSIRO/SAPN dynamic-export-limit trial (seed 001 §5.5, Table 9)."""

from __future__ import annotations

import dataclasses
from typing import Any

from openvpp.economics.finance import Convention, CsiroCase, csiro_table9

__all__ = ["FinanceStudy", "run_finance_study"]


@dataclasses.dataclass(frozen=True)
class FinanceStudy:
    """Table 9 under the chosen convention, plus the other convention for comparison."""

    convention: Convention
    cases: list[CsiroCase]
    other_convention: Convention
    other_cases: list[CsiroCase]

    def to_dict(self) -> dict[str, Any]:
        """To dict."""
        return {
            "convention": self.convention, "cases": [c.to_dict() for c in self.cases],
            "other_convention": self.other_convention, "other_cases": [c.to_dict() for c in self.other_cases],
        }


def run_finance_study(convention: Convention = "annuity_due") -> FinanceStudy:
    """NPV, BCR and payback of the 2/5/10 kW export-limit cases (seed 001 Table 9).

    Parameters
    ----------
    convention : Convention
        ``annuity_due`` or ``end_of_year``.
    """
    other: Convention = "end_of_year" if convention == "annuity_due" else "annuity_due"
    return FinanceStudy(
        convention=convention, cases=csiro_table9(convention),
        other_convention=other, other_cases=csiro_table9(other),
    )
