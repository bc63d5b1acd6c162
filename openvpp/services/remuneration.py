"""Remuneration formulas of grid services: annual revenue per MW from prices, hours and events.

Each function implements one payment rule of the Chile roadmap (seed 000 §6.1.2, Table 3) as plain arithmetic
over its inputs, vectorised with numpy where a quantity is given per hour of a block. They return USD per year
for the capacity given (``p_mw``), so a revenue line per MW is the call with ``p_mw=1``. Money is USD, power
MW, energy MWh; batteries deliver power by the load convention (discharge negative) but remuneration works on
magnitudes, so every power and energy here is a non-negative amount.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from openvpp.errors import ValidationError
from openvpp.services.droop import droop_factor
from openvpp.units import DAYS_PER_YEAR, KW_PER_MW

__all__ = [
    "activation_per_event",
    "availability_days",
    "capacity_event_hours",
    "capacity_hours",
    "direct_cost_per_mw_day",
    "droop_activation_energy",
    "droop_response_factor",
    "energy_not_supplied",
    "per_kw_month",
    "reserved_energy_availability",
]


def _nonneg(name: str, value: ArrayLike) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if np.any(~np.isfinite(arr)):
        raise ValidationError(f"{name} must be finite (got {value!r})")
    if np.any(arr < 0):
        raise ValidationError(f"{name} must be >= 0 (got {value!r}); prices, hours and powers are magnitudes")
    return arr


def direct_cost_per_mw_day(admin_usd_per_battery_year: float, battery_p_kw: float) -> float:
    """Average daily direct cost of 1 MW of batteries, the VPP's CPF- bid (seed 000 §6.1.2).

    ``admin x (1000 / battery_p_kw) / 365``: 5 USD/battery-year and 5 kW batteries give 2.74 USD/MW/day.

    Parameters
    ----------
    admin_usd_per_battery_year : float
        Administration cost per battery and year. [USD]
    battery_p_kw : float
        Active power of one battery. [kW]
    """
    _nonneg("admin_usd_per_battery_year", admin_usd_per_battery_year)
    if battery_p_kw <= 0:
        raise ValidationError(f"battery_p_kw must be > 0 (got {battery_p_kw})")
    return float(admin_usd_per_battery_year * (KW_PER_MW / battery_p_kw) / DAYS_PER_YEAR)


def availability_days(availability_fraction: float, days_per_year: int = 365) -> int:
    """Days a year a reserve is offered: ``round(fraction x 365)`` (0.98 -> 358, seed 000 §6.1.2).

    Parameters
    ----------
    days_per_year : int
        Days in the year. [d]
    availability_fraction : float
        Share of the days the VPP is available. [-]
    """
    if not 0.0 <= availability_fraction <= 1.0:
        raise ValidationError(f"availability_fraction must lie in [0, 1] (got {availability_fraction})")
    return int(np.floor(availability_fraction * days_per_year + 0.5))


def activation_per_event(price_usd_per_mw_event: float, events_per_year: float, p_mw: float = 1.0) -> float:
    """Activation paid per event: ``price x events x p_mw`` (CPF-, seed 000 Table 3). [USD/yr]

    Parameters
    ----------
    price_usd_per_mw_event : float
        Price per MW and event. [USD/MW]
    events_per_year : float
        Events per year. [1/yr]
    p_mw : float
        Power the rule is applied to. [MW]
    """
    _nonneg("price_usd_per_mw_event", price_usd_per_mw_event)
    _nonneg("events_per_year", events_per_year)
    _nonneg("p_mw", p_mw)
    return float(price_usd_per_mw_event * events_per_year * p_mw)


def reserved_energy_availability(
    e_reserved_mwh_per_mw: float,
    price_usd_per_mwh: ArrayLike,
    direct_cost_usd_per_mw_day: float,
    days: float,
    p_mw: float = 1.0,
) -> float:
    """Availability of an energy reserve at the opportunity cost (CPF+ availability, seed 000 §6.1.2).

    ``days x (e_reserved x mean(price) + direct_cost) x p_mw``: the reserved energy is valued at the mean
    marginal cost of the block (the real opportunity cost) plus the direct cost of providing the service.

    Parameters
    ----------
    e_reserved_mwh_per_mw : float
        Energy held in reserve per MW of batteries (50 % of 2.7 MWh = 1.35 MWh). [MWh/MW]
    price_usd_per_mwh : array_like, shape (n_hours_of_block,)
        Mean marginal cost for each hour of the block. [USD/MWh]
    direct_cost_usd_per_mw_day : float
        Direct cost of provision. [USD/MW/day]
    days : float
        Days a year the reserve is offered. [d]
    p_mw : float
        Battery power of the VPP. [MW]
    """
    price = _nonneg("price_usd_per_mwh", price_usd_per_mwh)
    _nonneg("e_reserved_mwh_per_mw", e_reserved_mwh_per_mw)
    _nonneg("direct_cost_usd_per_mw_day", direct_cost_usd_per_mw_day)
    _nonneg("days", days)
    _nonneg("p_mw", p_mw)
    return float(days * (e_reserved_mwh_per_mw * price.mean() + direct_cost_usd_per_mw_day) * p_mw)


def droop_response_factor(
    f_hz: ArrayLike,
    time_share: ArrayLike,
    f_nominal_hz: float,
    deadband_hz: float,
    droop: float,
) -> float:
    """Mean share of full power a droop-controlled battery delivers during under-frequency (seed 000 §6.1.2).

    The response at frequency ``f`` is ``clip((f_nominal - deadband - f) / (droop x f_nominal), 0, 1)``: zero
    inside the normal band, full power once the deviation beyond the band reaches the droop's full-scale
    ``droop x f_nominal`` (0.35 Hz for 0.7 % at 50 Hz). The factor is its time-weighted mean; with
    49.7/49.6/49.5/49.4 Hz for 20/30/30/20 % of the time and a +-0.2 Hz band it is 0.6857.

    Parameters
    ----------
    f_hz : array_like, shape (n_levels,)
        Frequency levels. [Hz]
    time_share : array_like, shape (n_levels,)
        Share of the under-frequency time spent at each level; non-negative, sums to 1. [-]
    f_nominal_hz, deadband_hz : float
        Reference frequency and half-width of the normal band. [Hz]
    droop : float
        Droop as a fraction (0.007). [-]
    """
    f = np.asarray(f_hz, dtype=float)
    w = _nonneg("time_share", time_share)
    if f.shape != w.shape or f.ndim != 1:
        raise ValidationError(
            f"f_hz and time_share must be 1-D of equal length (got {f.shape} and {w.shape})"
        )
    if abs(w.sum() - 1.0) > 1e-9:
        raise ValidationError(f"time_share must sum to 1 (got {w.sum():.6f})")
    if droop <= 0 or f_nominal_hz <= 0 or deadband_hz < 0:
        raise ValidationError(
            "droop and f_nominal_hz must be > 0 and deadband_hz >= 0 "
            f"(got {droop}, {f_nominal_hz}, {deadband_hz})"
        )
    return droop_factor(f, w, f_nominal_hz, deadband_hz, droop, "raise")


def droop_activation_energy(hours_per_year: ArrayLike, factor: float, p_mw: float = 1.0) -> np.ndarray:
    """Energy injected per hour of the block: ``hours x factor x p_mw`` (CPF+ activation). [MWh/yr]

    With 7.7/3.3/10.2/2.9 h and the factor 0.6857 this gives the 5.3/2.3/7.0/2.0 "hours affected by the
    frequency change" of seed 000 Table 3.

    Parameters
    ----------
    hours_per_year : array_like
        Hours per year at each frequency level. [h/yr]
    factor : float
        Droop response factor. [-]
    p_mw : float
        Power the rule is applied to. [MW]
    """
    hours = _nonneg("hours_per_year", hours_per_year)
    if not 0.0 <= factor <= 1.0:
        raise ValidationError(f"factor must lie in [0, 1] (got {factor})")
    _nonneg("p_mw", p_mw)
    return hours * factor * p_mw


def capacity_hours(price_usd_per_mwh: float, hours_per_year: float, p_mw: float = 1.0) -> float:
    """Capacity paid per hour available: ``price x hours x p_mw`` (CI availability, 5.5 x 328). [USD/yr]

    Parameters
    ----------
    price_usd_per_mwh : float
        Availability price. [USD/MWh]
    hours_per_year : float
        Hours of availability per year. [h/yr]
    p_mw : float
        Power the rule is applied to. [MW]
    """
    _nonneg("price_usd_per_mwh", price_usd_per_mwh)
    _nonneg("hours_per_year", hours_per_year)
    _nonneg("p_mw", p_mw)
    return float(price_usd_per_mwh * hours_per_year * p_mw)


def capacity_event_hours(
    price_usd_per_mwh: float, events_per_year: float, event_duration_h: float, p_mw: float = 1.0
) -> float:
    """Energy paid per event: ``price x events x duration x p_mw`` (CI activation, 550 x 15 x 2). [USD/yr]

    Parameters
    ----------
    price_usd_per_mwh : float
        Activation price. [USD/MWh]
    events_per_year : float
        Events per year. [1/yr]
    event_duration_h : float
        Length of an event. [h]
    p_mw : float
        Power the rule is applied to. [MW]
    """
    _nonneg("events_per_year", events_per_year)
    _nonneg("event_duration_h", event_duration_h)
    return capacity_hours(price_usd_per_mwh, events_per_year * event_duration_h, p_mw)


def per_kw_month(price_usd_per_kw_month: float, p_contracted_kw: float, months: float) -> float:
    """Capacity billed monthly: ``price x contracted kW x months`` (peak reduction, Table 3). [USD/yr]

    Parameters
    ----------
    price_usd_per_kw_month : float
        Capacity price. [USD/kW-month]
    p_contracted_kw : float
        Contracted capacity. [kW]
    months : float
        Months paid per year. [month/yr]
    """
    _nonneg("price_usd_per_kw_month", price_usd_per_kw_month)
    _nonneg("p_contracted_kw", p_contracted_kw)
    _nonneg("months", months)
    return float(price_usd_per_kw_month * p_contracted_kw * months)


def energy_not_supplied(price_usd_per_mwh: float, events_per_year: float, e_per_event_mwh: float) -> float:
    """Compensation avoided for energy not supplied: ``price x events x energy`` (resilience). [USD/yr]

    Parameters
    ----------
    price_usd_per_mwh : float
        Compensation price of energy not supplied. [USD/MWh]
    events_per_year : float
        Events per year. [1/yr]
    e_per_event_mwh : float
        Energy supplied by the VPP per event. [MWh]
    """
    _nonneg("price_usd_per_mwh", price_usd_per_mwh)
    _nonneg("events_per_year", events_per_year)
    _nonneg("e_per_event_mwh", e_per_event_mwh)
    return float(price_usd_per_mwh * events_per_year * e_per_event_mwh)
