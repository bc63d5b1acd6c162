"""Small checks and ranges shared by the device classes of :mod:`openvpp.der`.

The step-length check, the symmetric ramp window and the inverter P-Q circle are the same for every device
that has them; they live here once so that each device module states only its own physics.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openvpp.checks import check_dt
from openvpp.units import MIN_PER_H


def ramp_window_kw(
    ramp_kw_per_min: ArrayLike, dt_h: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Largest decrease and increase of power over a step of ``dt_h`` at a symmetric ramp rate.

    Parameters
    ----------
    ramp_kw_per_min : array_like, shape (n_devices,)
        Largest change of power per minute (inf: unlimited). [kW/min]
    dt_h : float
        Step length. [h]

    Returns
    -------
    (down_kw, up_kw) : tuple of numpy.ndarray, shape (n_devices,)
        ``down_kw = -up_kw <= 0``. [kW]
    """
    r = np.asarray(ramp_kw_per_min, dtype=float) * check_dt(dt_h) * MIN_PER_H
    return -r, r


def pq_capability_kvar(p_kw: ArrayLike, s_max_kva: ArrayLike) -> NDArray[np.float64]:
    """Largest |Q| an inverter can give at active power ``p_kw`` (the P-Q circle). [kvar]"""
    p = np.asarray(p_kw, dtype=float)
    s = np.asarray(s_max_kva, dtype=float)
    return np.sqrt(np.maximum(s**2 - p**2, 0.0))


def pq_range_kvar(p_kw: ArrayLike, s_max_kva: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Reactive range ``(-q, q)`` at active power ``p_kw`` (either sign) from the P-Q circle.

    Parameters
    ----------
    p_kw : array_like
        Active power. [kW]
    s_max_kva : array_like
        Inverter apparent-power rating. [kVA]

    Returns
    -------
    (q_min_kvar, q_max_kvar) : tuple of numpy.ndarray
        Symmetric limits, ``q_min_kvar = -q_max_kvar <= 0``. [kvar]
    """
    q = pq_capability_kvar(p_kw, s_max_kva)
    return -q, q
