"""NPV study of the CSIRO/SAPN export-limit trial (openvpp.studies.csiro_finance, seed 001 §5.5, Table 9)."""

from __future__ import annotations

import json

import pytest

from openvpp.studies.csiro_finance import run_finance_study


def _npv_by_hand(benefit_usd: float, capex_usd: float, rate: float, years: int, first_year: int) -> float:
    """Benefit paid ``years`` times, the first discounted by ``first_year`` years, less the upfront cost."""
    return sum(benefit_usd / (1 + rate) ** t for t in range(first_year, first_year + years)) - capex_usd


def test_table9_npv_as_the_seed_reports():
    # seed 001 Table 9: 0.77 / 2.46 / 2.72 M for the 2 / 5 / 10 kW export limits (annuity due)
    study = run_finance_study()
    assert [c.export_limit_kw for c in study.cases] == [2.0, 5.0, 10.0]
    assert [round(c.npv_usd / 1e6, 2) for c in study.cases] == [0.77, 2.46, 2.72]


@pytest.mark.parametrize(("convention", "first_year"), [("annuity_due", 0), ("end_of_year", 1)])
def test_both_conventions_match_a_hand_discounting(convention, first_year):
    study = run_finance_study(convention)
    other = "end_of_year" if convention == "annuity_due" else "annuity_due"
    assert study.convention == convention and study.other_convention == other
    for c in study.cases:
        flow = c.n_sites * c.benefit_usd_per_site_year
        assert c.npv_usd == pytest.approx(_npv_by_hand(flow, c.cost_upfront_usd, c.discount_rate, c.years,
                                                      first_year), rel=1e-12)
        assert c.bcr == pytest.approx((c.npv_usd + c.cost_upfront_usd) / c.cost_upfront_usd, rel=1e-12)
        assert c.payback_years == pytest.approx(c.cost_upfront_usd / flow)  # constant benefit: capex / flow
    # the other convention shifts every benefit by one year: NPV + capex differs by the factor (1 + r)
    for c, o in zip(study.cases, study.other_cases, strict=True):
        ratio = (c.npv_usd + c.cost_upfront_usd) / (o.npv_usd + o.cost_upfront_usd)
        assert ratio == pytest.approx((1 + c.discount_rate) ** (1 if convention == "annuity_due" else -1))


def test_to_dict_is_json_with_both_conventions():
    doc = json.loads(json.dumps(run_finance_study().to_dict()))
    assert doc["convention"] == "annuity_due" and doc["other_convention"] == "end_of_year"
    assert [round(c["npv_usd"] / 1e6, 2) for c in doc["cases"]] == [0.77, 2.46, 2.72]
    assert len(doc["other_cases"]) == 3
