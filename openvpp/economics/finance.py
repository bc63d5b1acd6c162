"""Discounted cash flow: NPV, benefit-cost ratio, payback and IRR, and the CSIRO Table 9 case.

Conventions are explicit. ``"end_of_year"`` discounts the cash flow of year k (k = 1..n) by ``(1 + r)^k``;
``"annuity_due"`` discounts year k by ``(1 + r)^(k-1)`` (the first year undiscounted). The CSIRO/SAPN report
(seed 001 §5.5, Table 9) discounts its benefits as an annuity due: 1,000 sites x 164/388/423 USD x 7.5152 =
1.23/2.92/3.18 M, minus 0.46 M upfront = NPV 0.77/2.46/2.72 M; the end-of-year convention would give
0.69/2.27/2.51 M. Upfront costs (year 0) are never discounted.

IRR is the root of NPV(rate) = 0 by Brent's method (scipy) on a bracket where NPV changes sign.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from openvpp.errors import DataError, InfeasibleError, ValidationError

__all__ = [
    "Convention",
    "CsiroCase",
    "annuity_factor",
    "bcr",
    "csiro_table9",
    "discount_factors",
    "irr",
    "npv",
    "payback_years",
]

Convention = Literal["end_of_year", "annuity_due"]


def _rate(rate: float) -> float:
    if not np.isfinite(rate) or rate <= -1:
        raise ValidationError(f"discount rate must be a finite fraction > -1, e.g. 0.07 for 7 % (got {rate})")
    return float(rate)


def discount_factors(rate: float, n_years: int, convention: Convention = "end_of_year") -> np.ndarray:
    """Discount factor of years 1..n_years under a convention (see module docstring). [-]

    Parameters
    ----------
    n_years : int
        Number of years. [-]
    convention : {"annuity_due", "end_of_year"}
        When a year's cash flow is discounted: at its start (first year undiscounted) or at its end.
    rate : float
        Real discount rate per year. [1/yr]
    """
    r = _rate(rate)
    if int(n_years) != n_years or n_years < 0:
        raise ValidationError(f"n_years must be a non-negative integer (got {n_years})")
    if convention not in ("end_of_year", "annuity_due"):
        raise ValidationError(f"convention must be 'end_of_year' or 'annuity_due' (got {convention!r})")
    k = np.arange(1, int(n_years) + 1, dtype=float)
    if convention == "annuity_due":
        k -= 1.0
    return (1.0 + r) ** -k


def annuity_factor(rate: float, n_years: int, convention: Convention = "end_of_year") -> float:
    """Present value of 1 per year for n_years (7 %, 10 yr: 7.0236 end of year, 7.5152 annuity due). [-]

    Parameters
    ----------
    rate : float
        Real discount rate per year. [1/yr]
    n_years : int
        Number of years. [-]
    convention : {"annuity_due", "end_of_year"}
        When a year's cash flow is discounted: at its start (first year undiscounted) or at its end.
    """
    return float(discount_factors(rate, n_years, convention).sum())


def npv(
    cash_flows: ArrayLike, rate: float, upfront: float = 0.0, convention: Convention = "end_of_year"
) -> float:
    """Net present value of yearly cash flows (seed 001 §5.5).

    Parameters
    ----------
    cash_flows : array_like, shape (n_years,)
        Net cash flow of years 1..n (benefit - cost). [USD]
    rate : float
        Real discount rate as a fraction. [-]
    upfront : float
        Cash flow at time 0, undiscounted (an investment is negative). [USD]
    convention : {"end_of_year", "annuity_due"}

    Returns
    -------
    float
        ``upfront + sum(cash_flows x discount_factors)``. [USD]
    """
    cf = np.asarray(cash_flows, dtype=float)
    if cf.ndim != 1 or np.any(~np.isfinite(cf)):
        raise ValidationError(f"cash_flows must be a finite 1-D array (got shape {cf.shape})")
    return float(upfront + np.sum(cf * discount_factors(rate, cf.size, convention)))


def bcr(
    benefits: ArrayLike, costs: ArrayLike, rate: float, upfront_cost: float = 0.0,
    convention: Convention = "end_of_year",
) -> float:
    """Benefit-cost ratio: PV(benefits) / (upfront_cost + PV(costs)). [-]

    Parameters
    ----------
    benefits : array_like, shape (n_years,)
        Benefits per year. [USD]
    costs : array_like, shape (n_years,)
        Running costs per year. [USD]
    rate : float
        Real discount rate per year. [1/yr]
    upfront_cost : float
        Cost at time zero. [USD]
    convention : {"annuity_due", "end_of_year"}
        When a year's cash flow is discounted: at its start (first year undiscounted) or at its end.
    """
    b = np.asarray(benefits, dtype=float)
    c = np.broadcast_to(np.asarray(costs, dtype=float), b.shape)
    if upfront_cost < 0 or np.any(c < 0) or np.any(b < 0):
        raise ValidationError("benefits, costs and upfront_cost are magnitudes and must be >= 0")
    pv_c = upfront_cost + npv(c, rate, 0.0, convention)
    if pv_c <= 0:
        raise ValidationError("the present value of costs is 0; the benefit-cost ratio is undefined")
    return npv(b, rate, 0.0, convention) / pv_c


def payback_years(cash_flows: ArrayLike, upfront: float = 0.0) -> float:
    """Simple payback: time at which the cumulative cash flow first reaches 0 and stays >= 0 after.

    Cash flows are yearly (year k spans (k-1, k]) and accumulate linearly within a year. Returns ``nan`` if
    the cumulative flow is negative at the end. [yr]

    Parameters
    ----------
    cash_flows : array_like, shape (n_years,)
        Net cash flow per year. [USD]
    upfront : float
        Cost at time zero. [USD]
    """
    cf = np.asarray(cash_flows, dtype=float)
    if cf.ndim != 1 or np.any(~np.isfinite(cf)):
        raise ValidationError("cash_flows must be a finite 1-D array")
    cum = np.concatenate([[upfront], upfront + np.cumsum(cf)])
    if cum[-1] < 0:
        return float("nan")
    if np.all(cum >= 0):
        return 0.0
    last_neg = int(np.flatnonzero(cum < 0)[-1])
    return float(last_neg + (-cum[last_neg]) / (cum[last_neg + 1] - cum[last_neg]))


def irr(cash_flows: ArrayLike, upfront: float, convention: Convention = "end_of_year") -> float:
    """Internal rate of return: the rate where :func:`npv` is 0 (Brent's method on (-0.99, 10)). [-]

    Parameters
    ----------
    cash_flows : array_like, shape (n_years,)
        Net cash flow per year. [USD]
    upfront : float
        Cost at time zero. [USD]
    convention : {"annuity_due", "end_of_year"}
        When a year's cash flow is discounted: at its start (first year undiscounted) or at its end.

    Raises
    ------
    InfeasibleError
        NPV has the same sign at both ends of the bracket (no IRR, or several).
    """
    from scipy.optimize import brentq

    lo, hi = -0.99, 10.0
    f_lo, f_hi = npv(cash_flows, lo, upfront, convention), npv(cash_flows, hi, upfront, convention)
    if np.sign(f_lo) == np.sign(f_hi):
        raise InfeasibleError("NPV does not change sign between -99 % and 1000 %: the IRR is undefined")
    return float(brentq(lambda r: npv(cash_flows, r, upfront, convention), lo, hi, xtol=1e-12))


@dataclasses.dataclass(frozen=True)
class CsiroCase:
    """One export-limit case of seed 001 Table 9. Money in USD (the report's AUD figures, as printed)."""

    export_limit_kw: float
    benefit_usd_per_site_year: float
    n_sites: int
    cost_upfront_usd: float
    discount_rate: float
    years: int
    convention: Convention

    @property
    def benefits_pv_usd(self) -> float:
        """Present value of the benefits. [USD]"""
        return self.n_sites * self.benefit_usd_per_site_year * annuity_factor(
            self.discount_rate, self.years, self.convention
        )

    @property
    def npv_usd(self) -> float:
        """Net present value. [USD]"""
        flows = np.full(self.years, self.n_sites * self.benefit_usd_per_site_year)
        return npv(flows, self.discount_rate, -self.cost_upfront_usd, self.convention)

    @property
    def bcr(self) -> float:
        """Benefit-cost ratio. [-]"""
        return self.benefits_pv_usd / self.cost_upfront_usd

    @property
    def payback_years(self) -> float:
        """Simple payback. [yr]"""
        return payback_years(np.full(self.years, self.n_sites * self.benefit_usd_per_site_year),
                             -self.cost_upfront_usd)

    def to_dict(self) -> dict[str, Any]:
        """The case as plain JSON-ready values."""
        out = dataclasses.asdict(self)
        out.update(benefits_pv_usd=self.benefits_pv_usd, npv_usd=self.npv_usd, bcr=self.bcr,
                   payback_years=self.payback_years)
        return out


def csiro_table9(convention: Convention | None = None) -> list[CsiroCase]:
    """The three cases of seed 001 Table 9 from the bundled inputs (``economics_csiro_npv.toml``).

    Parameters
    ----------
    convention : {"end_of_year", "annuity_due"}, optional
        Override the bundled convention (annuity due, which reproduces the report).
    """
    from openvpp.data.bundled import bundled_table

    data = bundled_table("economics_csiro_npv")
    if not isinstance(data, dict):  # pragma: no cover
        raise DataError("economics_csiro_npv is not a TOML table")
    conv = convention or data["convention"]
    discount_factors(data["discount_rate"], data["years"], conv)  # validates
    return [
        CsiroCase(
            export_limit_kw=float(c["export_limit_kw"]),
            benefit_usd_per_site_year=float(c["benefit_usd_per_site_year"]),
            n_sites=int(data["n_sites"]), cost_upfront_usd=float(data["cost_upfront_usd"]),
            discount_rate=float(data["discount_rate"]), years=int(data["years"]), convention=conv,
        )
        for c in data["case"]
    ]
