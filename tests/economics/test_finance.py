"""Finance against seed 001 Table 9 (values typed here) and hand calculations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from openvpp.economics import finance
from openvpp.errors import ValidationError

# seed 001 Table 9, million: export limit -> (benefits, NPV)
TABLE9 = {2.0: (1.23, 0.77), 5.0: (2.92, 2.46), 10.0: (3.18, 2.72)}


@pytest.mark.parametrize("case", finance.csiro_table9(), ids=lambda c: f"{c.export_limit_kw:g}kW")
def test_csiro_table9_npv_within_0_01_million(case):
    benefits, npv = TABLE9[case.export_limit_kw]
    assert case.npv_usd / 1e6 == pytest.approx(npv, abs=0.01)
    assert case.benefits_pv_usd / 1e6 == pytest.approx(benefits, abs=0.01)


def test_end_of_year_convention_does_not_reproduce_table9():
    npvs = [c.npv_usd / 1e6 for c in finance.csiro_table9("end_of_year")]
    assert all(abs(a - b[1]) > 0.05 for a, b in zip(npvs, TABLE9.values(), strict=True))


def test_annuity_factors_by_hand():
    r = 0.07
    assert finance.annuity_factor(r, 10, "end_of_year") == pytest.approx((1 - 1.07**-10) / r)
    assert finance.annuity_factor(r, 10, "annuity_due") == pytest.approx((1 - 1.07**-10) / r * 1.07)
    assert finance.annuity_factor(r, 10, "annuity_due") == pytest.approx(7.5152, abs=1e-4)


def test_irr_payback_bcr_by_hand():
    flows = np.full(5, 300.0)
    r = finance.irr(flows, -1000.0)
    assert finance.npv(flows, r, -1000.0) == pytest.approx(0.0, abs=1e-6)
    assert finance.payback_years(flows, -1000.0) == pytest.approx(1000 / 300)
    assert finance.bcr(flows, np.zeros(5), 0.0, upfront_cost=1000.0) == pytest.approx(1.5)
    assert np.isnan(finance.payback_years(np.full(3, 100.0), -1000.0))


@given(rate=st.floats(0.0, 0.3), n=st.integers(1, 30))
def test_annuity_due_is_end_of_year_times_one_plus_r(rate, n):
    a = finance.annuity_factor(rate, n, "annuity_due")
    b = finance.annuity_factor(rate, n, "end_of_year")
    assert a == pytest.approx(b * (1 + rate), rel=1e-12)


def test_bad_inputs():
    with pytest.raises(ValidationError, match="discount rate"):
        finance.npv([1.0], -2.0)
    with pytest.raises(ValidationError, match="convention"):
        finance.discount_factors(0.07, 10, "middle")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="cash_flows"):
        finance.npv([np.nan], 0.07)
