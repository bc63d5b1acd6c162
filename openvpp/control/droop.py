"""Frequency response: the one droop function, frequency-service settings, and the response-share arithmetic.

:func:`droop_response` is the single implementation of a droop characteristic with a dead band and saturation;
it lives in :mod:`openvpp.services.droop` (the business model values CPF+ activation with it too) and is
re-exported here. :func:`droop_factor` is its time-weighted mean over frequency levels, the CPF+ activation
factor of seed 000 Table 3 (0.6857 at 49.7/49.6/49.5/49.4 Hz present 20/30/30/20 % of the time).

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

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openvpp.errors import ValidationError
from openvpp.services.droop import Direction, check_droop_settings, droop_factor, droop_response

__all__ = [
    "FrequencyService",
    "contingency_services",
    "cpf_services",
    "droop_factor",
    "droop_response",
    "lag_share",
]

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
        check_droop_settings(self.f_nominal_hz, self.deadband_hz, self.droop, 1.0)
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
