"""Frequency response: the one droop function, frequency-service settings, and the response-share arithmetic.

:func:`droop_response` is the single implementation of a droop characteristic with a dead band and
saturation: zero inside the normal band around the nominal frequency, a linear share of full power beyond
it reaching 1 once the deviation beyond the band equals ``droop x f_nominal_hz`` (seed 000 §6.1.2: battery
droop 0.7 %, normal band +-0.2 Hz around 50 Hz -> full response 0.35 Hz beyond the band, at 49.45 Hz).
:func:`droop_factor` is its time-weighted mean over frequency levels, the CPF+ activation factor of seed 000
Table 3 (0.6857 at 49.7/49.6/49.5/49.4 Hz present 20/30/30/20 % of the under-frequency time).

:class:`FrequencyService` holds one service's settings: CPF+ / CPF- of the Chilean market (seed 000 §6.1: 10 s
activation, at least 5 min delivery, +-0.2 Hz band) and the AEMO-style contingency raise / lower services
(6 s / 60 s / 5 min, normal operating band 49.85-50.15 Hz, 0.7 % droop: seed 001 §5.4.1 and Table 7). The
nominal frequency is a parameter everywhere; the defaults are read from the bundled service catalogues.

Sign convention: a *raise* response decreases the device's power (load convention: less consumption or
more export), a *lower* response increases it.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openvpp.errors import ValidationError

__all__ = [
    "FrequencyService",
    "contingency_services",
    "cpf_services",
    "droop_factor",
    "droop_response",
    "lag_share",
]

Direction = Literal["raise", "lower"]


def _check_droop_args(f_nominal_hz: float, deadband_hz: float, droop: float, saturation: float) -> None:
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
    _check_droop_args(f_nominal_hz, deadband_hz, droop, saturation)
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


def lag_share(
    share_prev: ArrayLike, share_target: ArrayLike, dt_s: float, response_s: ArrayLike
) -> NDArray[np.float64]:
    """First-order approach of a response to its target, reaching 90 % of a step in ``response_s``.

    The IEEE 1547.1 open-loop response time is the time to 90 % of a step change; a first-order lag with
    time constant ``response_s / ln 10`` has exactly that property.

    Parameters
    ----------
    share_prev : array_like
        Response at the previous instant (any unit, e.g. kW or a share). [-]
    share_target : array_like
        Response the device settles to. [-]
    dt_s : float
        Time since the previous instant. [s]
    response_s : array_like
        Open-loop response time (90 %); 0 = immediate. [s]

    Returns
    -------
    numpy.ndarray
        Response now. [-]
    """
    r = np.asarray(response_s, dtype=float)
    prev = np.asarray(share_prev, dtype=float)
    target = np.asarray(share_target, dtype=float)
    with np.errstate(divide="ignore"):
        alpha = np.where(r > 0, 1.0 - np.exp(-dt_s * math.log(10.0) / np.where(r > 0, r, 1.0)), 1.0)
    return prev + alpha * (target - prev)


@dataclasses.dataclass(frozen=True)
class FrequencyService:
    """Settings of one frequency-response service.

    Parameters
    ----------
    key : str
        Service key as in the plan (``cpf_plus``, ``cpf_minus``, ``fcas_raise_6s`` ...).
    direction : {"raise", "lower"}
        Under- or over-frequency response.
    f_nominal_hz : float
        Nominal frequency. [Hz]
    deadband_hz : float
        Half-width of the normal band. [Hz]
    droop : float
        Droop as a fraction. [-]
    activation_s : float
        Time allowed to reach the full response (10 s CPF; 6 / 60 / 300 s contingency). [s]
    delivery_s : float
        Time the response must be sustained (5 min CPF). [s]
    """

    key: str
    direction: Direction
    f_nominal_hz: float
    deadband_hz: float
    droop: float
    activation_s: float
    delivery_s: float

    def __post_init__(self) -> None:
        _check_droop_args(self.f_nominal_hz, self.deadband_hz, self.droop, 1.0)
        if self.direction not in ("raise", "lower"):
            raise ValidationError(f"service {self.key!r}: direction must be 'raise' or 'lower'")
        if not (self.activation_s > 0 and self.delivery_s > 0):
            raise ValidationError(f"service {self.key!r}: activation_s and delivery_s must be > 0 seconds")

    def share(self, f_hz: ArrayLike) -> NDArray[np.float64]:
        """Share of the service's reserve called at frequency ``f_hz`` (:func:`droop_response`). [-]

        Parameters
        ----------
        f_hz : array_like
            Frequency. [Hz]
        """
        return droop_response(f_hz, self.f_nominal_hz, self.deadband_hz, self.droop, self.direction)

    def with_nominal(self, f_nominal_hz: float) -> FrequencyService:
        """The same service on another nominal frequency (band and droop unchanged).

        Parameters
        ----------
        f_nominal_hz : float
            Nominal frequency. [Hz]
        """
        return dataclasses.replace(self, f_nominal_hz=float(f_nominal_hz))


def cpf_services(f_nominal_hz: float | None = None) -> tuple[FrequencyService, FrequencyService]:
    """CPF+ (raise) and CPF- (lower) with the seed's settings from the bundled Chilean catalogue.

    Seed 000 §6.1.2: +-0.2 Hz normal band, 0.7 % battery droop, activation 10 s, delivery at least 5 min.

    Parameters
    ----------
    f_nominal_hz : float, optional
        Nominal frequency; default the catalogue's. [Hz]
    """
    from openvpp.data import bundled_table

    freq = dict(bundled_table("services_chile.toml"))["frequency"]  # type: ignore[index]
    f0 = float(freq["f_nominal_hz"]) if f_nominal_hz is None else float(f_nominal_hz)
    common = {"f_nominal_hz": f0, "deadband_hz": float(freq["deadband_hz"]), "droop": float(freq["droop"])}
    return (
        FrequencyService("cpf_plus", "raise", activation_s=10.0, delivery_s=300.0, **common),
        FrequencyService("cpf_minus", "lower", activation_s=10.0, delivery_s=300.0, **common),
    )


#: AEMO normal operating frequency band half-width: 49.85-50.15 Hz
AEMO_NORMAL_BAND_HZ = 0.15


def contingency_services(f_nominal_hz: float = 50.0, droop: float = 0.007) -> tuple[FrequencyService, ...]:
    """AEMO-style contingency raise / lower services: 6 s, 60 s and 5 min (seed 001 §5.4.1, Table 7).

    The response is proportional beyond the normal operating band (49.85-50.15 Hz at 50 Hz) with the
    0.7 % droop the seed's registered capacities assume; each service must be reached within its
    activation time and sustained until the next one takes over (6 s -> 60 s, 60 s -> 5 min, 5 min -> 10 min).

    Parameters
    ----------
    f_nominal_hz : float
        Nominal frequency. [Hz]
    droop : float
        Droop as a fraction. [-]
    """
    out = []
    for label, act, hold in (("6s", 6.0, 60.0), ("60s", 60.0, 300.0), ("5min", 300.0, 600.0)):
        for direction in ("raise", "lower"):
            out.append(
                FrequencyService(
                    f"fcas_{direction}_{label}",
                    direction,
                    f_nominal_hz,
                    AEMO_NORMAL_BAND_HZ,
                    droop,
                    act,
                    hold,  # type: ignore[arg-type]
                )
            )
    return tuple(out)
