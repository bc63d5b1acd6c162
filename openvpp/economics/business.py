"""Stacked-service business model of a VPP: annual revenue per service, costs and profit (seed 000 §6.1).

Revenue lines are computed from their inputs with the remuneration rules of :mod:`openvpp.services`:
prices, hours, events, droop and dead band, battery size and the capacity share of each service, as in Table 3
of the Chile roadmap. Costs follow Table 2: implementation (a one-time payment annualised over five years),
administration per battery, marketing per participant, energy credits to participants for the battery energy
dispatched, and credits for interruptible loads. Lampa and Osorno parameter sets are bundled with their
sources (``openvpp/data/bundled/economics_chile.toml``, ``services_chile.toml``).

How the seed's arithmetic closes (per MW of batteries, Lampa; full table in docs/economics.md):

- CPF- activation: the bid is the average daily direct cost, 5 USD/battery-yr x 200 batteries / 365 =
  2.7397 USD/MW/day, x 427 events = 1,169.9 (exact).
- CPF+ availability: 358 days x (1.35 MWh x 95.575 USD/MWh + 2.7397) = 47,172.2 against 47,179.2 printed,
  -6.9 USD (-0.015 %). No reading of the stated inputs gives the printed value exactly; the printed marginal
  costs are rounded to 0.1 USD/MWh and a mean 0.005 USD/MWh higher closes it.
- CPF+ activation: droop factor 0.6857 x sum(hours x price) = 1,576.8 against 1,576.5 (+0.02 %); the seed
  rounds the affected hours to 5.3/2.3/7.0/2.0 for display but not in its sum.
- Peak reduction: the 30 % reserve of 2.7 MWh (0.81 MWh) is read as 810 kW contracted for the six months
  April-September: 8.46 x 810 x 6 = 41,115.6 against 41,099.3 (+0.04 %; a price of 8.4566 closes it).
- Resilience: 934.4 USD/MWh x 3 events x 80 % x 2.7 MWh = 6,054.9 against 6,054.8.
- EVs & HPs: customers = batteries / 0.5; HPs = round(11.5 %), EVs = round(17.8 %) of customers at 4.5 and
  7.0 kW: 400 customers give 46 HPs and 71 EVs = 704 kW (the "0.7 MW" of Table 4); 704 kW x 18,304 USD/MW
  = 12,886 and 704 kW x 15 USD/kW = 10,560, both exact.
- Participant energy credit: Table 4's costs are linear at 30,989 USD/MW above the 50,000 fixed, i.e.
  3,000 (5 admin + 10 marketing per battery) + 27,989 of credits at 0.90 USD/kWh = 31,099 kWh/MW. The seed
  does not itemise it. The reading adopted credits the CPF+ droop energy (16,526 kWh) plus the 30 %
  local-service reserve (810 kWh) in each of the 15 peak and 3 resilience events (14,580 kWh) = 31,106 kWh,
  i.e. 27,995 USD (+0.02 %); the energy used in a resilience event beyond that reserve supplies the
  participant's own home during the outage and is not credited (``resilience_credited_share = 0.3``).
  Crediting the full 80 % (6,480 kWh) would give 31,640 USD/MW (+13 %).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from openvpp.config import StrictModel
from openvpp.errors import DataError, InfeasibleError, ValidationError
from openvpp.services import remuneration as rem
from openvpp.services.catalogue import ServiceCatalogue, load_catalogue
from openvpp.units import KW_PER_MW

__all__ = [
    "SERVICE_LINES",
    "BusinessCase",
    "BusinessInputs",
    "CostParams",
    "FleetAssumptions",
    "SiteParams",
    "business_case",
    "business_case_mw",
    "credited_energy_kwh_per_mw",
    "ev_hp_counts",
    "list_sites",
    "load_inputs",
    "profitability_threshold",
    "revenue_lines_per_mw",
    "summary_for_fleet",
    "table3_details",
    "tornado",
]

#: revenue lines of seed 000 Table 3, in table order; the first five are earned by batteries
SERVICE_LINES = (
    "cpf_minus_activation",
    "cpf_plus_availability",
    "cpf_plus_activation",
    "peak_reduction",
    "resilience",
    "ci_availability",
    "ci_activation",
)
BATTERY_LINES = SERVICE_LINES[:5]
EV_HP_LINES = SERVICE_LINES[5:]


class FleetAssumptions(StrictModel):
    """Household DER assumptions (seed 000 §6.1.2 assumptions 1-2)."""

    battery_p_kw: float = Field(gt=0.0, description="battery active power [kW]")
    battery_e_kwh: float = Field(gt=0.0, description="battery energy capacity [kWh]")
    battery_customer_share: float = Field(gt=0.0, le=1.0, description="customers with PV + battery [-]")
    heatpump_customer_share: float = Field(ge=0.0, le=1.0, description="customers with a heat pump [-]")
    heatpump_p_kw: float = Field(ge=0.0, description="heat-pump power [kW]")
    ev_customer_share: float = Field(ge=0.0, le=1.0, description="customers with an EV [-]")
    ev_p_kw: float = Field(ge=0.0, description="EV charger power [kW]")
    source: str = ""

    @property
    def e_mwh_per_mw(self) -> float:
        """Battery energy per MW of battery power (2.7 MWh/MW for 5 kW / 13.5 kWh). [h]"""
        return self.battery_e_kwh / self.battery_p_kw

    @property
    def batteries_per_mw(self) -> float:
        """Number of batteries in 1 MW (200 for 5 kW). [-]"""
        return KW_PER_MW / self.battery_p_kw


class CostParams(StrictModel):
    """VPP costs of seed 000 Table 2."""

    implementation_usd_per_year: float = Field(ge=0.0, description="fixed, paid over 5 yr [USD/yr]")
    admin_usd_per_battery_year: float = Field(ge=0.0, description="administration per battery [USD/yr]")
    marketing_usd_per_participant_year: float = Field(ge=0.0, description="per participant [USD/yr]")
    energy_credit_usd_per_kwh: float = Field(ge=0.0, description="battery energy credit [USD/kWh]")
    ci_credit_usd_per_kwh: float = Field(ge=0.0, description="credit for interrupted EV/HP load [USD/kWh]")
    ci_credit_hours_per_year: float = Field(ge=0.0, le=8784.0, description="credited CI hours [h/yr]")
    resilience_credited_share: float = Field(
        ge=0.0, le=1.0, description="share of battery energy credited per resilience event [-]"
    )
    source: str = ""


class SiteParams(StrictModel):
    """Site-specific prices (seed 000 Table 3 for Lampa, §6.1.2 text for Osorno)."""

    key: str
    name: str
    density: str
    cpf_plus_price_usd_per_mwh: tuple[float, ...] = Field(min_length=1)
    peak_price_usd_per_kw_month: float = Field(ge=0.0)
    ci_enabled: bool = True
    source: str = ""

    @field_validator("cpf_plus_price_usd_per_mwh")
    @classmethod
    def _prices(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if any((not math.isfinite(p)) or p < 0 for p in v):
            raise ValueError("every marginal cost must be a finite number >= 0 USD/MWh")
        return v


class BusinessInputs(StrictModel):
    """Everything the business model needs for one site: site prices, fleet, costs, service catalogue."""

    site: SiteParams
    fleet: FleetAssumptions
    costs: CostParams
    catalogue: ServiceCatalogue


def _economics_table() -> dict[str, Any]:
    from openvpp.data.bundled import bundled_table

    data = bundled_table("economics_chile")
    if not isinstance(data, dict):  # pragma: no cover
        raise DataError("economics_chile is not a TOML table")
    return data


def list_sites() -> list[str]:
    """Keys of the bundled sites (``lampa``, ``osorno``)."""
    return sorted(_economics_table()["sites"])


def load_inputs(site: str = "lampa", market: str = "chile") -> BusinessInputs:
    """Bundled inputs of a site.

    Parameters
    ----------
    site : str
        ``"lampa"`` (seed 000 Tables 3-4) or ``"osorno"`` (Table 5).
    market : str
        Service catalogue to use.

    Raises
    ------
    ValidationError
        Unknown site (the message names ``site`` and lists the known ones).
    """
    data = _economics_table()
    sites = data["sites"]
    key = str(site).lower()
    if key not in sites:
        raise ValidationError(f"site must be one of {sorted(sites)} (got {site!r})")
    return BusinessInputs.build(
        site=SiteParams.build(key=key, **sites[key]),
        fleet=FleetAssumptions.build(**data["fleet"]),
        costs=CostParams.build(**data["costs"]),
        catalogue=load_catalogue(market),
    )


def _inputs(inputs: BusinessInputs | str) -> BusinessInputs:
    return load_inputs(inputs) if isinstance(inputs, str) else inputs


def _required(values: tuple[float, ...] | None, field: str) -> tuple[float, ...]:
    """A CPF+ activation-rule column that the droop formulas need (``None`` in the catalogue is an error)."""
    if values is None:
        raise ValidationError(
            f"catalogue cpf_plus activation rule needs {field} (got None); give it in the service catalogue"
        )
    return values


def table3_details(inputs: BusinessInputs | str) -> dict[str, Any]:
    """Intermediate quantities behind seed 000 Table 3 (per MW of batteries / EVs & HPs).

    Returns a dict with the direct cost (USD/MW/day), availability days, reserved energy (MWh/MW), droop
    factor, droop-affected hours per block hour, contracted peak kW per MW, CI availability hours and the
    credited battery energy (kWh/MW).

    Parameters
    ----------
    inputs : BusinessInputs or str
        Inputs of the business model, or a bundled site name (``"lampa"``, ``"osorno"``).
    """
    inp = _inputs(inputs)
    cat, fleet = inp.catalogue, inp.fleet
    if cat.frequency is None:
        raise ValidationError("catalogue.frequency is required for the CPF+ droop factor")
    cpf_plus = cat["cpf_plus"]
    act = cpf_plus.rule("activation")
    factor = rem.droop_response_factor(
        _required(act.f_hz, "f_hz"), _required(act.time_share, "time_share"),
        cat.frequency.f_nominal_hz, cat.frequency.deadband_hz, cat.frequency.droop,
    )
    hours = np.asarray(_required(act.hours_per_year, "hours_per_year"), dtype=float)
    if len(hours) != len(inp.site.cpf_plus_price_usd_per_mwh):
        raise ValidationError(
            f"site.cpf_plus_price_usd_per_mwh has {len(inp.site.cpf_plus_price_usd_per_mwh)} prices but "
            f"the CPF+ block has {len(hours)} hours_per_year entries; give one price per block hour"
        )
    ci = cat["ci"]
    return {
        "direct_cost_usd_per_mw_day": rem.direct_cost_per_mw_day(
            inp.costs.admin_usd_per_battery_year, fleet.battery_p_kw
        ),
        "availability_days": rem.availability_days(
            cpf_plus.rule("availability").availability_fraction or 0.0
        ),
        "e_reserved_mwh_per_mw": cpf_plus.capacity_share * fleet.e_mwh_per_mw,
        "droop_factor": factor,
        "affected_hours": rem.droop_activation_energy(hours, factor),
        "peak_contracted_kw_per_mw": cat["peak_reduction"].capacity_share * fleet.e_mwh_per_mw * KW_PER_MW,
        "peak_months": cat["peak_reduction"].n_months,
        "ci_availability_hours": (ci.rule("availability").working_days or 0) * ci.block_hours,
        "ci_activation_hours": (ci.max_events_per_year or 0) * (ci.event_duration_h or 0.0),
        "credited_energy_kwh_per_mw": credited_energy_kwh_per_mw(inp, factor=factor),
    }


def credited_energy_kwh_per_mw(inputs: BusinessInputs | str, factor: float | None = None) -> float:
    """Battery energy per MW and year credited to participants at the energy-credit price (Table 2).

    CPF+ droop energy (sum of the affected hours x 1 MW) plus, in each peak-reduction and resilience event,
    the local-service reserve (``peak share x 2.7 MWh``, resp. ``resilience_credited_share x 2.7 MWh``).
    See the module docstring for why this reading is adopted and how far it is from the seed. [kWh/MW]

    Parameters
    ----------
    inputs : BusinessInputs or str
        Inputs of the business model, or a bundled site name (``"lampa"``, ``"osorno"``).
    factor : float, optional
        CPF+ droop response factor (None: from the catalogue). [-]
    """
    inp = _inputs(inputs)
    cat, fleet = inp.catalogue, inp.fleet
    act = cat["cpf_plus"].rule("activation")
    if factor is None:
        factor = table3_details(inp)["droop_factor"]
    hours = _required(act.hours_per_year, "hours_per_year")
    cpf_mwh = float(np.sum(rem.droop_activation_energy(hours, factor)))
    peak = cat["peak_reduction"]
    res = cat["resilience"]
    peak_mwh = (peak.max_events_per_year or 0) * peak.capacity_share * fleet.e_mwh_per_mw
    res_mwh = (res.max_events_per_year or 0) * inp.costs.resilience_credited_share * fleet.e_mwh_per_mw
    return KW_PER_MW * (cpf_mwh + peak_mwh + res_mwh)


def revenue_lines_per_mw(inputs: BusinessInputs | str) -> dict[str, float]:
    """Annual revenue of each Table 3 line per MW (seed 000 Table 3), computed from its inputs. [USD/MW/yr]

    Battery lines are per MW of batteries, CI lines per MW of EVs & HPs; CI lines are 0 where the site has no
    CI (Osorno).

    Parameters
    ----------
    inputs : BusinessInputs or str
        Inputs of the business model, or a bundled site name (``"lampa"``, ``"osorno"``).
    """
    inp = _inputs(inputs)
    d = table3_details(inp)
    cat, site = inp.catalogue, inp.site
    prices = np.asarray(site.cpf_plus_price_usd_per_mwh, dtype=float)
    ci, res = cat["ci"], cat["resilience"]
    lines = {
        "cpf_minus_activation": rem.activation_per_event(
            d["direct_cost_usd_per_mw_day"], cat["cpf_minus"].rule("activation").events_per_year or 0.0
        ),
        "cpf_plus_availability": rem.reserved_energy_availability(
            d["e_reserved_mwh_per_mw"], prices, d["direct_cost_usd_per_mw_day"], d["availability_days"]
        ),
        "cpf_plus_activation": float(np.sum(d["affected_hours"] * prices)),
        "peak_reduction": rem.per_kw_month(
            site.peak_price_usd_per_kw_month, d["peak_contracted_kw_per_mw"], d["peak_months"]
        ),
        "resilience": rem.energy_not_supplied(
            res.rule("availability").price_usd_per_mwh or 0.0,
            res.max_events_per_year or 0,
            res.capacity_share * inp.fleet.e_mwh_per_mw,
        ),
        "ci_availability": rem.capacity_hours(
            ci.rule("availability").price_usd_per_mwh or 0.0, d["ci_availability_hours"]
        ),
        "ci_activation": rem.capacity_event_hours(
            ci.rule("activation").price_usd_per_mwh or 0.0,
            ci.max_events_per_year or 0,
            ci.event_duration_h or 0.0,
        ),
    }
    if not site.ci_enabled:
        lines["ci_availability"] = lines["ci_activation"] = 0.0
    return lines


def _round_half_up(x: np.ndarray | float) -> np.ndarray:
    return np.floor(np.asarray(x, dtype=float) + 0.5)


def ev_hp_counts(n_batteries: int | np.ndarray, fleet: FleetAssumptions) -> dict[str, np.ndarray]:
    """Customers, heat pumps, EVs and their power for a VPP of ``n_batteries`` (seed 000 §6.1.2).

    Customers = batteries / battery_customer_share; HPs and EVs are the customer shares rounded half up to
    whole devices (200 batteries -> 400 customers -> 46 HPs + 71 EVs = 704 kW).

    Parameters
    ----------
    n_batteries : int or numpy.ndarray
        Batteries in the fleet. [-]
    fleet : FleetAssumptions
        Device ratings and customer shares.
    """
    n = np.asarray(n_batteries, dtype=float)
    if np.any(n < 0) or np.any(n != np.floor(n)):
        raise ValidationError(f"n_batteries must be a non-negative integer (got {n_batteries!r})")
    customers = n / fleet.battery_customer_share
    n_hp = _round_half_up(customers * fleet.heatpump_customer_share)
    n_ev = _round_half_up(customers * fleet.ev_customer_share)
    return {
        "customers": customers, "n_hp": n_hp, "n_ev": n_ev,
        "p_kw": n_hp * fleet.heatpump_p_kw + n_ev * fleet.ev_p_kw,
    }


@dataclasses.dataclass(frozen=True)
class BusinessCase:
    """Annual revenue, cost and profit of a VPP at one site (seed 000 Tables 4-5).

    Attributes
    ----------
    site : str
    n_batteries, n_ev, n_hp : int
    p_batteries_mw, p_ev_hp_mw : float
        Battery power and interruptible EV & HP power. [MW]
    revenue_usd : dict
        Annual revenue by service line (SERVICE_LINES). [USD/yr]
    cost_usd : dict
        Annual cost by item: implementation, administration, marketing, energy_credit, ci_credit. [USD/yr]
    """

    site: str
    n_batteries: int
    n_ev: int
    n_hp: int
    p_batteries_mw: float
    p_ev_hp_mw: float
    revenue_usd: dict[str, float]
    cost_usd: dict[str, float]

    @property
    def revenue_total_usd(self) -> float:
        """Sum of the revenue lines. [USD/yr]"""
        return float(sum(self.revenue_usd.values()))

    @property
    def cost_total_usd(self) -> float:
        """Sum of the cost lines. [USD/yr]"""
        return float(sum(self.cost_usd.values()))

    @property
    def profit_usd(self) -> float:
        """Revenue minus cost. [USD/yr]"""
        return self.revenue_total_usd - self.cost_total_usd

    def table(self) -> pd.DataFrame:
        """Rows ``batteries``, ``ev_hp`` (if any), ``total``: p_mw, revenue, cost, profit (Table 4 layout)."""
        b_rev = sum(self.revenue_usd[k] for k in BATTERY_LINES)
        e_rev = sum(self.revenue_usd[k] for k in EV_HP_LINES)
        e_cost = self.cost_usd["ci_credit"]
        b_cost = self.cost_total_usd - e_cost
        rows: dict[str, tuple[float, float, float]] = {"batteries": (self.p_batteries_mw, b_rev, b_cost)}
        if self.p_ev_hp_mw > 0 and (e_rev > 0 or e_cost > 0):
            rows["ev_hp"] = (self.p_ev_hp_mw, e_rev, e_cost)
        p_mw, rev, cost = (sum(r[i] for r in rows.values()) for i in range(3))
        rows["total"] = (p_mw, rev, cost)
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=["p_mw", "revenue_usd", "cost_usd"])
        frame["profit_usd"] = frame["revenue_usd"] - frame["cost_usd"]
        return frame

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        out = dataclasses.asdict(self)
        out.update(
            revenue_total_usd=self.revenue_total_usd, cost_total_usd=self.cost_total_usd,
            profit_usd=self.profit_usd, table=self.table().reset_index(names="row").to_dict(orient="records"),
        )
        return out

    def summary_text(self) -> str:
        """One line for a console summary."""
        return (
            f"{self.site}: {self.n_batteries} batteries ({self.p_batteries_mw:.2f} MW) + "
            f"{self.p_ev_hp_mw:.2f} MW EVs & HPs -> revenue {self.revenue_total_usd:,.0f} USD/yr, "
            f"cost {self.cost_total_usd:,.0f} USD/yr, profit {self.profit_usd:,.0f} USD/yr"
        )


def _annual_costs(
    inp: BusinessInputs, n_batteries: int | np.ndarray, p_ev_hp_kw: float | np.ndarray
) -> dict[str, Any]:
    """Annual cost items of seed 000 Table 2 for ``n_batteries`` batteries and ``p_ev_hp_kw`` of CI load.

    Vectorised over sizes (arrays of equal shape) so that :func:`business_case` and the scan of
    :func:`profitability_threshold` share one formula. [USD/yr]
    """
    costs = inp.costs
    n = np.asarray(n_batteries, dtype=float)
    p_b = n * inp.fleet.battery_p_kw / KW_PER_MW
    return {
        "implementation": np.where(n > 0, costs.implementation_usd_per_year, 0.0),
        "administration": costs.admin_usd_per_battery_year * n,
        "marketing": costs.marketing_usd_per_participant_year * n,
        "energy_credit": costs.energy_credit_usd_per_kwh * credited_energy_kwh_per_mw(inp) * p_b,
        "ci_credit": costs.ci_credit_usd_per_kwh * costs.ci_credit_hours_per_year * np.asarray(p_ev_hp_kw),
    }


def business_case(
    inputs: BusinessInputs | str,
    n_batteries: int,
    *,
    p_ev_hp_kw: float | None = None,
    n_ev: int | None = None,
    n_hp: int | None = None,
) -> BusinessCase:
    """Annual revenue, cost and profit of a VPP with ``n_batteries`` batteries (seed 000 Tables 2-5).

    Parameters
    ----------
    inputs : BusinessInputs or str
        Inputs or a bundled site name.
    n_batteries : int
        Batteries enrolled (each ``fleet.battery_p_kw``). [-]
    p_ev_hp_kw : float, optional
        Interruptible EV & HP power; default from the customer shares (:func:`ev_hp_counts`). [kW]
    n_ev, n_hp : int, optional
        Device counts, reported only (``p_ev_hp_kw`` sets the money). [-]
    """
    inp = _inputs(inputs)
    if int(n_batteries) != n_batteries or n_batteries < 0:
        raise ValidationError(f"n_batteries must be a non-negative integer (got {n_batteries!r})")
    n_batteries = int(n_batteries)
    fleet = inp.fleet
    if p_ev_hp_kw is None:
        c = ev_hp_counts(n_batteries, fleet)
        p_ev_hp_kw, n_ev, n_hp = float(c["p_kw"]), int(c["n_ev"]), int(c["n_hp"])
    elif p_ev_hp_kw < 0 or not math.isfinite(p_ev_hp_kw):
        raise ValidationError(f"p_ev_hp_kw must be a finite number >= 0 kW (got {p_ev_hp_kw})")
    if not inp.site.ci_enabled:
        p_ev_hp_kw = 0.0
    p_b = n_batteries * fleet.battery_p_kw / KW_PER_MW
    p_e = p_ev_hp_kw / KW_PER_MW
    per_mw = revenue_lines_per_mw(inp)
    revenue = {k: per_mw[k] * (p_b if k in BATTERY_LINES else p_e) for k in SERVICE_LINES}
    cost = {k: float(v) for k, v in _annual_costs(inp, n_batteries, p_ev_hp_kw).items()}
    return BusinessCase(
        site=inp.site.key, n_batteries=n_batteries, n_ev=int(n_ev or 0), n_hp=int(n_hp or 0),
        p_batteries_mw=p_b, p_ev_hp_mw=p_e, revenue_usd=revenue, cost_usd=cost,
    )


def business_case_mw(inputs: BusinessInputs | str, p_mw: float) -> BusinessCase:
    """:func:`business_case` for ``p_mw`` MW of batteries (rounded to whole batteries).

    Parameters
    ----------
    inputs : BusinessInputs or str
        Inputs of the business model, or a bundled site name (``"lampa"``, ``"osorno"``).
    p_mw : float
        Battery power of the VPP. [MW]
    """
    inp = _inputs(inputs)
    if not (math.isfinite(p_mw) and p_mw >= 0):
        raise ValidationError(f"p_mw must be a finite number >= 0 MW (got {p_mw})")
    return business_case(inp, round(p_mw * inp.fleet.batteries_per_mw))


def profitability_threshold(inputs: BusinessInputs | str, max_batteries: int = 100_000) -> BusinessCase:
    """Smallest VPP (whole batteries) whose annual profit is >= 0 (seed 000 §6.1.2: "viable from 1 MW").

    Profit grows with every battery once the fixed implementation cost is covered, so the first
    non-negative point of a scan over 1..max_batteries is the threshold.

    Parameters
    ----------
    inputs : BusinessInputs or str
        Inputs of the business model, or a bundled site name (``"lampa"``, ``"osorno"``).
    max_batteries : int
        Largest fleet searched. [-]

    Raises
    ------
    InfeasibleError
        No size up to ``max_batteries`` is profitable.
    """
    inp = _inputs(inputs)
    n = np.arange(1, max_batteries + 1)
    per_mw = revenue_lines_per_mw(inp)
    fleet = inp.fleet
    p_b = n * fleet.battery_p_kw / KW_PER_MW
    p_e_kw = ev_hp_counts(n, fleet)["p_kw"] if inp.site.ci_enabled else np.zeros_like(p_b)
    rev = (p_b * sum(per_mw[k] for k in BATTERY_LINES)
           + p_e_kw / KW_PER_MW * sum(per_mw[k] for k in EV_HP_LINES))
    cost = sum(_annual_costs(inp, n, p_e_kw).values())
    ok = np.flatnonzero(rev - cost >= 0)
    if ok.size == 0:
        raise InfeasibleError(
            f"no VPP of up to {max_batteries} batteries is profitable at site {inp.site.key!r}"
        )
    return business_case(inp, int(n[ok[0]]))


#: one-at-a-time sensitivity parameters: label -> (section, field or (service, component), kind)
TORNADO_PARAMETERS: dict[str, tuple[str, str]] = {
    "CPF+ marginal cost": ("site", "cpf_plus_price_usd_per_mwh"),
    "peak power price": ("site", "peak_price_usd_per_kw_month"),
    "rationing-cost compensation": ("service", "resilience.availability.price_usd_per_mwh"),
    "CI activation price": ("service", "ci.activation.price_usd_per_mwh"),
    "CPF- events": ("service", "cpf_minus.activation.events_per_year"),
    "energy credit": ("costs", "energy_credit_usd_per_kwh"),
    "implementation cost": ("costs", "implementation_usd_per_year"),
    "administration cost": ("costs", "admin_usd_per_battery_year"),
    "marketing cost": ("costs", "marketing_usd_per_participant_year"),
    "battery energy": ("fleet", "battery_e_kwh"),
}


def _scaled(inp: BusinessInputs, section: str, path: str, factor: float) -> BusinessInputs:
    if section in ("site", "costs", "fleet"):
        obj = getattr(inp, section)
        val = getattr(obj, path)
        new = tuple(v * factor for v in val) if isinstance(val, tuple) else val * factor
        return inp.model_copy(update={section: obj.model_copy(update={path: new})})
    key, component, field = path.split(".")
    svc = inp.catalogue[key]
    rules = tuple(
        r.model_copy(update={field: getattr(r, field) * factor}) if r.component == component else r
        for r in svc.remuneration
    )
    services = dict(inp.catalogue.services)
    services[key] = svc.model_copy(update={"remuneration": rules})
    return inp.model_copy(update={"catalogue": inp.catalogue.model_copy(update={"services": services})})


def tornado(
    inputs: BusinessInputs | str,
    p_mw: float = 1.0,
    delta: float = 0.2,
    parameters: dict[str, tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """One-at-a-time sensitivity of annual profit to +-``delta`` on each parameter (tornado data).

    Parameters
    ----------
    inputs : BusinessInputs or str
    p_mw : float
        Battery size of the VPP. [MW]
    delta : float
        Relative change applied low (1 - delta) and high (1 + delta), in (0, 1). [-]
    parameters : dict, optional
        Label -> (section, field); default :data:`TORNADO_PARAMETERS`.

    Returns
    -------
    pandas.DataFrame
        Columns parameter, profit_low_usd, profit_high_usd, base_profit_usd, swing_usd; sorted by swing.
    """
    if not 0 < delta < 1:
        raise ValidationError(f"delta must lie in (0, 1) (got {delta})")
    inp = _inputs(inputs)
    params = TORNADO_PARAMETERS if parameters is None else parameters
    base = business_case_mw(inp, p_mw).profit_usd
    rows = []
    for label, (section, path) in params.items():
        lo = business_case_mw(_scaled(inp, section, path, 1 - delta), p_mw).profit_usd
        hi = business_case_mw(_scaled(inp, section, path, 1 + delta), p_mw).profit_usd
        rows.append({"parameter": label, "profit_low_usd": lo, "profit_high_usd": hi, "base_profit_usd": base,
                     "swing_usd": abs(hi - lo)})
    return pd.DataFrame(rows).sort_values("swing_usd", ascending=False, ignore_index=True)


def summary_for_fleet(
    n_batteries: int,
    n_ev: int | None = None,
    n_hp: int | None = None,
    site: str = "lampa",
) -> BusinessCase:
    """Annual economics of a concrete fleet under a bundled site's prices (for ``openvpp demo``).

    Parameters
    ----------
    n_batteries : int
        Batteries in the fleet (valued as ``fleet.battery_p_kw`` each, 5 kW). [-]
    n_ev, n_hp : int, optional
        EVs and heat pumps in the fleet, valued at the bundled 7.0 / 4.5 kW as interruptible load. If both are
        None the counts follow the roadmap's customer shares. [-]
    site : str
        ``"lampa"`` or ``"osorno"``.

    Returns
    -------
    BusinessCase
        Use ``.summary_text()`` for one console line or ``.table()`` for the Table 4 layout.
    """
    inp = load_inputs(site)
    if n_ev is None and n_hp is None:
        return business_case(inp, n_batteries)
    n_ev, n_hp = int(n_ev or 0), int(n_hp or 0)
    if n_ev < 0 or n_hp < 0:
        raise ValidationError(f"n_ev and n_hp must be >= 0 (got {n_ev}, {n_hp})")
    p_kw = n_ev * inp.fleet.ev_p_kw + n_hp * inp.fleet.heatpump_p_kw
    return business_case(inp, n_batteries, p_ev_hp_kw=p_kw, n_ev=n_ev, n_hp=n_hp)
