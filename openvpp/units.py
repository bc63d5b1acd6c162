"""Unit helpers and the one sign convention of OpenVPP.

Sign convention
---------------
OpenVPP uses the **load convention** everywhere (DESIGN.md; eqs (4)-(6) of the Chile roadmap, seed 000
§7.1.1): a power is positive when it is drawn from the grid. At a site meter, imports are positive and
exports negative; a battery's power is positive when charging and negative when discharging; a PV system,
a generator or any injection has negative ``p_kw``. Aggregates (per constraint node, CCP or VPP) are sums of
site powers and follow the same rule. Functions that speak of *generation* (e.g. PV AC output) use explicit
names such as ``p_ac_kw`` for the non-negative output and say so in their docstring; use
:func:`generation_to_load` and :func:`load_to_generation` to cross the boundary.

Internal units: kW / kWh / kvar for devices and sites, MW / MWh for markets and aggregates, per unit for
voltages, hours for step lengths in energy sums.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

KW_PER_MW = 1000.0
W_PER_KW = 1000.0
MIN_PER_H = 60.0
S_PER_H = 3600.0
#: volts per kV and amperes per kA (network data such as pandapower's ``vn_kv``, ``max_i_ka``) [V/kV], [A/kA]
V_PER_KV = 1000.0
A_PER_KA = 1000.0


def kw_to_mw(p_kw: ArrayLike) -> NDArray[np.float64]:
    """Convert kW (or kWh, kvar) to MW (MWh, Mvar).

    Parameters
    ----------
    p_kw : array_like
        Power (or energy, reactive power). [kW]
    """
    return np.asarray(p_kw, dtype=float) / KW_PER_MW


def mw_to_kw(p_mw: ArrayLike) -> NDArray[np.float64]:
    """Convert MW (or MWh, Mvar) to kW (kWh, kvar).

    Parameters
    ----------
    p_mw : array_like
        Power (or energy, reactive power). [MW]
    """
    return np.asarray(p_mw, dtype=float) * KW_PER_MW


def w_to_kw(p_w: ArrayLike) -> NDArray[np.float64]:
    """Convert W to kW.

    Parameters
    ----------
    p_w : array_like
        Power. [W]
    """
    return np.asarray(p_w, dtype=float) / W_PER_KW


def kw_to_w(p_kw: ArrayLike) -> NDArray[np.float64]:
    """Convert kW to W.

    Parameters
    ----------
    p_kw : array_like
        Power. [kW]

    Returns
    -------
    numpy.ndarray
        Power. [W]
    """
    return np.asarray(p_kw, dtype=float) * W_PER_KW


#: units per thousand and per million, for amounts shown in k or M (kUSD, MUSD) [-]
PER_THOUSAND = 1e3
PER_MILLION = 1e6
#: hours per day and seconds per minute [h/d], [s/min]
H_PER_DAY = 24.0
S_PER_MIN = 60.0
#: days in a (non-leap) year, megawatts per gigawatt [d/yr], [MW/GW]
DAYS_PER_YEAR = 365.0
MW_PER_GW = 1000.0
#: irradiance at standard test conditions: PV output per kWp = irradiance / this [W/m2]
STC_IRRADIANCE_W_PER_M2 = 1000.0


def in_thousands(x: ArrayLike) -> NDArray[np.float64]:
    """An amount in thousands (USD -> kUSD, kWh -> MWh).

    Parameters
    ----------
    x : array_like
        Amount in base units. [-]

    Returns
    -------
    numpy.ndarray
        Amount in thousands. [-]
    """
    return np.asarray(x, dtype=float) / PER_THOUSAND


def in_millions(x: ArrayLike) -> NDArray[np.float64]:
    """An amount in millions (USD -> MUSD).

    Parameters
    ----------
    x : array_like
        Amount in base units. [-]

    Returns
    -------
    numpy.ndarray
        Amount in millions. [-]
    """
    return np.asarray(x, dtype=float) / PER_MILLION


def per_kwh_to_per_mwh(price_per_kwh: ArrayLike) -> NDArray[np.float64]:
    """Convert a price per kWh to a price per MWh (0.05496 AUD/kWh -> 54.96 AUD/MWh).

    Parameters
    ----------
    price_per_kwh : array_like
        Price per kWh (or per kW per hour). [currency/kWh]

    Returns
    -------
    numpy.ndarray
        Price per MWh (or per MW per hour). [currency/MWh]
    """
    return np.asarray(price_per_kwh, dtype=float) * KW_PER_MW


def per_mwh_to_per_kwh(price_per_mwh: ArrayLike) -> NDArray[np.float64]:
    """Convert a price per MWh to a price per kWh (54.96 AUD/MWh -> 0.05496 AUD/kWh).

    Parameters
    ----------
    price_per_mwh : array_like
        Price per MWh (or per MW per hour). [currency/MWh]

    Returns
    -------
    numpy.ndarray
        Price per kWh (or per kW per hour). [currency/kWh]
    """
    return np.asarray(price_per_mwh, dtype=float) / KW_PER_MW


def minutes_to_hours(step_min: ArrayLike) -> NDArray[np.float64]:
    """Convert a duration in minutes to hours.

    Parameters
    ----------
    step_min : array_like
        Duration. [min]
    """
    return np.asarray(step_min, dtype=float) / MIN_PER_H


def energy_kwh(p_kw: ArrayLike, dt_h: float) -> NDArray[np.float64]:
    """Energy of each step of a constant-power profile. [kWh] = [kW] x [h].

    Parameters
    ----------
    p_kw : array_like
        Mean power over each step. [kW]
    dt_h : float
        Step length. [h]
    """
    return np.asarray(p_kw, dtype=float) * float(dt_h)


def generation_to_load(p_gen_kw: ArrayLike) -> NDArray[np.float64]:
    """Turn a generator-convention power (output positive) into the load convention (output negative).

    Parameters
    ----------
    p_gen_kw : array_like
        Non-negative generation (generator convention). [kW]
    """
    return -np.asarray(p_gen_kw, dtype=float)


def load_to_generation(p_kw: ArrayLike) -> NDArray[np.float64]:
    """Turn a load-convention power (import positive) into the generator convention (export positive).

    Parameters
    ----------
    p_kw : array_like
        Power in the load convention (+ = import). [kW]
    """
    return -np.asarray(p_kw, dtype=float)


def split_import_export(p_kw: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Split a site power into non-negative import and export parts (eq. (5) of the Chile roadmap).

    Parameters
    ----------
    p_kw : array_like
        Site power in the load convention (+ = import). [kW]

    Returns
    -------
    (p_import_kw, p_export_kw) : tuple of numpy.ndarray
        Both non-negative, with ``p_kw == p_import_kw - p_export_kw``. [kW]
    """
    p = np.asarray(p_kw, dtype=float)
    return np.maximum(p, 0.0), np.maximum(-p, 0.0)


def q_from_power_factor(p_kw: ArrayLike, power_factor: float, inductive: bool = True) -> NDArray[np.float64]:
    """Reactive power of a load with a fixed power factor.

    Parameters
    ----------
    p_kw : array_like
        Active power, load convention. [kW]
    power_factor : float
        Power factor in (0, 1]. [-]
    inductive : bool
        True for a lagging (inductive) load, which absorbs reactive power (positive ``q_kvar``).

    Returns
    -------
    numpy.ndarray
        Reactive power. [kvar]
    """
    from openvpp.errors import ValidationError

    if not (0.0 < power_factor <= 1.0):
        raise ValidationError(f"power_factor must be in (0, 1] (got {power_factor!r})")
    tan_phi = np.sqrt(1.0 - power_factor**2) / power_factor
    q = np.asarray(p_kw, dtype=float) * tan_phi
    return q if inductive else -q
