"""The droop characteristic: one implementation for the market economics and for real-time control.

:func:`droop_response` gives the share of a reserve a droop-controlled device delivers at a frequency: zero
inside the normal band around the nominal frequency, linear beyond it, reaching full power once the
deviation beyond the band equals ``droop x f_nominal_hz`` (seed 000 §6.1.2: battery droop 0.7 %, normal band
+-0.2 Hz around 50 Hz, so full response 0.35 Hz beyond the band, at 49.45 Hz). :func:`droop_factor` is its
time-weighted mean over frequency levels: the CPF+ activation factor of seed 000 Table 3 (0.6857 at
49.7/49.6/49.5/49.4 Hz present 20/30/30/20 % of the under-frequency time).

It lives with the services because both layers above use it: :mod:`openvpp.services.remuneration` (and so
the business model) values CPF+ activation with it, and :mod:`openvpp.control.droop` drives devices with it.

Sign convention: a *raise* response decreases the device's power (load convention: less consumption or more
export), a *lower* response increases it.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openvpp.errors import ValidationError

__all__ = ["Direction", "check_droop_settings", "droop_factor", "droop_response"]

Direction = Literal["raise", "lower"]


def check_droop_settings(f_nominal_hz: float, deadband_hz: float, droop: float, saturation: float) -> None:
    """Raise a ValidationError naming the first droop setting out of range.

    Parameters
    ----------
    f_nominal_hz : float
        Nominal frequency, > 0. [Hz]
    deadband_hz : float
        Half-width of the normal band, in [0, f_nominal_hz). [Hz]
    droop : float
        Droop as a fraction, in (0, 1). [-]
    saturation : float
        Largest share delivered, in (0, 1]. [-]
    """
    if not (math.isfinite(f_nominal_hz) and f_nominal_hz > 0):
        raise ValidationError(f"f_nominal_hz must be a positive frequency in Hz (got {f_nominal_hz})")
    if not (math.isfinite(deadband_hz) and 0 <= deadband_hz < f_nominal_hz):
        raise ValidationError(f"deadband_hz must be >= 0 and below f_nominal_hz (got {deadband_hz})")
    if not (math.isfinite(droop) and 0 < droop < 1):
        raise ValidationError(f"droop must be a fraction in (0, 1), e.g. 0.007 for 0.7 % (got {droop})")
    if not (math.isfinite(saturation) and 0 < saturation <= 1):
        raise ValidationError(f"saturation must lie in (0, 1] (got {saturation})")


def droop_response(
    f_hz: ArrayLike,
    f_nominal_hz: float,
    deadband_hz: float,
    droop: float,
    direction: Direction = "raise",
    saturation: float = 1.0,
) -> NDArray[np.float64]:
    """Share of a reserve a droop-controlled device delivers at frequency ``f_hz`` (seed 000 §6.1.2).

    ``raise``: ``clip((f_nominal - deadband - f) / (droop x f_nominal), 0, saturation)`` (under-frequency);
    ``lower``: ``clip((f - f_nominal - deadband) / (droop x f_nominal), 0, saturation)`` (over-frequency).

    Parameters
    ----------
    f_hz : array_like
        Measured frequency, any shape. [Hz]
    f_nominal_hz : float
        Nominal frequency (50 in Chile and Australia). [Hz]
    deadband_hz : float
        Half-width of the normal band (no response inside). [Hz]
    droop : float
        Droop as a fraction of nominal frequency for full power (0.007). [-]
    direction : {"raise", "lower"}
        Under-frequency (raise) or over-frequency (lower) response.
    saturation : float
        Largest share delivered, in (0, 1]. [-]

    Returns
    -------
    numpy.ndarray
        Share of the reserve delivered, in [0, saturation], shape of ``f_hz``. [-]
    """
    check_droop_settings(f_nominal_hz, deadband_hz, droop, saturation)
    f = np.asarray(f_hz, dtype=float)
    if np.any(~np.isfinite(f)):
        raise ValidationError("f_hz must be finite frequencies in Hz (got NaN or infinity)")
    if direction == "raise":
        dev = f_nominal_hz - deadband_hz - f
    elif direction == "lower":
        dev = f - f_nominal_hz - deadband_hz
    else:
        raise ValidationError(f"direction must be 'raise' or 'lower' (got {direction!r})")
    return np.clip(dev / (droop * f_nominal_hz), 0.0, saturation)


def droop_factor(
    f_hz: ArrayLike,
    time_share: ArrayLike,
    f_nominal_hz: float,
    deadband_hz: float,
    droop: float,
    direction: Direction = "raise",
) -> float:
    """Time-weighted mean of :func:`droop_response`: the CPF+ activation factor of seed 000 Table 3.

    Parameters
    ----------
    f_hz : array_like, shape (n_levels,)
        Frequency levels. [Hz]
    time_share : array_like, shape (n_levels,)
        Share of the time at each level, >= 0, summing to 1. [-]
    f_nominal_hz : float
        Nominal frequency. [Hz]
    deadband_hz : float
        Half-width of the normal band. [Hz]
    droop : float
        Droop as a fraction. [-]
    direction : {"raise", "lower"}
        Which side of the band responds.

    Returns
    -------
    float
        Mean share of full power delivered, in [0, 1]. [-]
    """
    f = np.asarray(f_hz, dtype=float)
    w = np.asarray(time_share, dtype=float)
    if f.ndim != 1 or f.shape != w.shape:
        raise ValidationError(
            f"f_hz and time_share must be 1-D of equal length (got {f.shape} and {w.shape})"
        )
    if np.any(~np.isfinite(w)) or np.any(w < 0) or abs(w.sum() - 1.0) > 1e-9:
        raise ValidationError(f"time_share must be >= 0 and sum to 1 (got {w.tolist()})")
    return float(np.sum(w * droop_response(f, f_nominal_hz, deadband_hz, droop, direction)))
