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


def kw_to_mw(p_kw: ArrayLike) -> NDArray[np.float64]:
    """Convert kW (or kWh, kvar) to MW (MWh, Mvar)."""
    return np.asarray(p_kw, dtype=float) / KW_PER_MW


def mw_to_kw(p_mw: ArrayLike) -> NDArray[np.float64]:
    """Convert MW (or MWh, Mvar) to kW (kWh, kvar)."""
    return np.asarray(p_mw, dtype=float) * KW_PER_MW


def w_to_kw(p_w: ArrayLike) -> NDArray[np.float64]:
    """Convert W to kW."""
    return np.asarray(p_w, dtype=float) / W_PER_KW


def minutes_to_hours(step_min: ArrayLike) -> NDArray[np.float64]:
    """Convert a duration in minutes to hours."""
    return np.asarray(step_min, dtype=float) / MIN_PER_H


def energy_kwh(p_kw: ArrayLike, dt_h: float) -> NDArray[np.float64]:
    """Energy of each step of a constant-power profile. [kWh] = [kW] x [h]."""
    return np.asarray(p_kw, dtype=float) * float(dt_h)


def generation_to_load(p_gen_kw: ArrayLike) -> NDArray[np.float64]:
    """Turn a generator-convention power (output positive) into the load convention (output negative)."""
    return -np.asarray(p_gen_kw, dtype=float)


def load_to_generation(p_kw: ArrayLike) -> NDArray[np.float64]:
    """Turn a load-convention power (import positive) into the generator convention (export positive)."""
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
