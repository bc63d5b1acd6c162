"""Sun times for a location (pvlib) and the approximate solar curve of seed 001 (Appendix A.1, §2.4).

The seed approximates the export capability of a VPP site during the day by a sinh-arcsinh shaped curve
between
sunrise and sunset: the density of the SHASHo distribution (Jones & Pewsey; ``dSHASHo`` of R's gamlss.dist)
evaluated on the daylight times with ``mu`` their mean and ``sigma`` their standard deviation, rescaled to
[0, p_pv_kw], multiplied by a stretch factor ``k`` and capped at ``p_pv_kw`` so that the middle of the day is
flat. The report's values of the tail parameter and of ``k`` are lost in the public copy; OpenVPP uses
``nu = 0`` (symmetric), ``tau = 1.2`` and ``k = 1.2``, calibrated so that the available energy of a 5 kW PV
site on the 15th of January in Adelaide (14.2 h of daylight) is about 43 kWh, the per-site value of Table 4.

The curve is added to the battery inverter's export capability (5 kW in the seed), so the site can export
``p_batt_kw + p_pv_kw * shape(t)``: 5 kW at night, up to 10 kW at midday.

Locations are :class:`pvlib.location.Location` objects; Adelaide (the seed's site) and Santiago de Chile (the
Chile roadmap, seed 000) are built in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pvlib
from numpy.typing import ArrayLike, NDArray

from openvpp.errors import ValidationError
from openvpp.units import H_PER_DAY, S_PER_H

#: built-in locations: latitude, longitude [deg], IANA time zone, altitude [m]
LOCATIONS: dict[str, dict] = {
    "adelaide": {
        "latitude": -34.9285,
        "longitude": 138.6007,
        "tz": "Australia/Adelaide",
        "altitude": 50.0,
        "name": "Adelaide",
    },
    "santiago": {
        "latitude": -33.4489,
        "longitude": -70.6693,
        "tz": "America/Santiago",
        "altitude": 570.0,
        "name": "Santiago",
    },
}

#: documented shape parameters of the approximate solar curve (see the module docstring)
SHASH_NU = 0.0
SHASH_TAU = 1.2
SOLAR_STRETCH = 1.2


def get_location(location: str | pvlib.location.Location) -> pvlib.location.Location:
    """A pvlib Location from a built-in name (``"adelaide"``, ``"santiago"``) or a Location itself.

    Parameters
    ----------
    location : str | pvlib.location.Location
        Built-in location name or a pvlib Location.
    """
    if isinstance(location, pvlib.location.Location):
        return location
    key = str(location).strip().lower()
    if key not in LOCATIONS:
        raise ValidationError(
            f"location {location!r} is not built in; use one of {sorted(LOCATIONS)} or pass a "
            "pvlib.location.Location(latitude, longitude, tz=...)"
        )
    return pvlib.location.Location(**LOCATIONS[key])


def is_southern(location: str | pvlib.location.Location) -> bool:
    """True for a location south of the equator (seasons shifted by six months).

    Parameters
    ----------
    location : str | pvlib.location.Location
        Built-in location name or a pvlib Location.
    """
    return get_location(location).latitude < 0


def sun_times_h(
    dates: ArrayLike, location: str | pvlib.location.Location = "adelaide"
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Sunrise and sunset of each date as hours after local midnight (pvlib SPA).

    Parameters
    ----------
    dates : array_like of date-like, shape (n_days,)
        Local calendar dates. [-]
    location : str or pvlib.location.Location
        Built-in name or a Location with its time zone.

    Returns
    -------
    (sunrise_h, sunset_h) : tuple of numpy.ndarray, shape (n_days,)
        Local clock time of sunrise and sunset. [h]
    """
    loc = get_location(location)
    days = pd.DatetimeIndex(pd.to_datetime(np.atleast_1d(dates))).normalize()
    if days.tz is None:
        days = days.tz_localize(loc.tz)
    else:
        days = days.tz_convert(loc.tz).normalize()
    srt = loc.get_sun_rise_set_transit(days, method="spa")
    if srt["sunrise"].isna().any() or srt["sunset"].isna().any():
        raise ValidationError(
            f"the sun does not rise or set at {loc.name} on some of these dates (polar day/night)"
        )
    rise = (srt["sunrise"] - days).dt.total_seconds().to_numpy() / S_PER_H
    sset = (srt["sunset"] - days).dt.total_seconds().to_numpy() / S_PER_H
    return rise, sset


def shash_pdf(
    x: ArrayLike, mu: float = 0.0, sigma: float = 1.0, nu: float = 0.0, tau: float = 1.0
) -> NDArray:
    """Density of the sinh-arcsinh (SHASHo) distribution, as R's ``gamlss.dist::dSHASHo``.

    ``z = (x - mu) / sigma``, ``r = sinh(tau asinh(z) - nu)``,
    ``f = tau cosh(tau asinh(z) - nu) exp(-r^2 / 2) / (sigma sqrt(2 pi) sqrt(1 + z^2))``. ``nu`` sets the
    skewness, ``tau`` the tail weight (``nu = 0, tau = 1`` is the normal density).

    Parameters
    ----------
    x : ArrayLike
        Values. [-]
    mu : float
        Location. [-]
    sigma : float
        Scale (> 0). [-]
    nu : float
        Skewness. [-]
    tau : float
        Tail weight (> 0). [-]
    """
    if not sigma > 0 or not tau > 0:
        raise ValidationError(f"shash_pdf needs sigma > 0 and tau > 0 (got sigma={sigma!r}, tau={tau!r})")
    z = (np.asarray(x, dtype=float) - mu) / sigma
    a = tau * np.arcsinh(z) - nu
    return (
        tau * np.cosh(a) * np.exp(-0.5 * np.sinh(a) ** 2) / (sigma * np.sqrt(2 * np.pi) * np.sqrt(1 + z * z))
    )


def step_midpoints_h(n_steps: int) -> NDArray[np.float64]:
    """Midpoint of each of ``n_steps`` equal steps of a 24-h day, in hours after midnight.

    Parameters
    ----------
    n_steps : int
        Steps per day. [-]
    """
    if int(n_steps) != n_steps or n_steps <= 0:
        raise ValidationError(f"n_steps must be a positive integer (got {n_steps!r})")
    dt_h = H_PER_DAY / n_steps
    return (np.arange(n_steps, dtype=np.float64) + 0.5) * dt_h


def _sun_times(sunrise_h: ArrayLike, sunset_h: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Sunrise and sunset as 1-D float arrays, checked: same shapes, sunset later than sunrise. [h]"""
    rise = np.atleast_1d(np.asarray(sunrise_h, dtype=float))
    sset = np.atleast_1d(np.asarray(sunset_h, dtype=float))
    if rise.shape != sset.shape or np.any(sset <= rise):
        raise ValidationError("sunset_h must be later than sunrise_h for every day (same shapes)")
    return rise, sset


def daylight_mask(sunrise_h: ArrayLike, sunset_h: ArrayLike, n_steps: int = 288) -> NDArray[np.bool_]:
    """Steps whose midpoint lies between sunrise and sunset (the daylight steps of seed 001 §2.4).

    Parameters
    ----------
    sunrise_h, sunset_h : array_like, shape (n_days,)
        Local sunrise and sunset. [h]
    n_steps : int
        Steps per day (288 for 5-min steps). [-]

    Returns
    -------
    numpy.ndarray of bool, shape (n_days, n_steps)
    """
    rise, sset = _sun_times(sunrise_h, sunset_h)
    t = step_midpoints_h(n_steps)
    return (t >= rise[:, None]) & (t <= sset[:, None])


def solar_shape(
    sunrise_h: ArrayLike,
    sunset_h: ArrayLike,
    n_steps: int = 288,
    nu: float = SHASH_NU,
    tau: float = SHASH_TAU,
    stretch: float = SOLAR_STRETCH,
) -> NDArray[np.float64]:
    """Normalised approximate solar curve in [0, 1] per step (seed 001 Appendix A.1).

    The SHASHo density over the daylight window (``mu`` = mid-day, ``sigma`` = standard deviation of the
    daylight times = day length / sqrt(12)) is rescaled so that it is 0 at sunrise and sunset and 1 at its
    peak, multiplied by ``stretch`` and capped at 1. Zero outside daylight.

    Parameters
    ----------
    sunrise_h, sunset_h : array_like, shape (n_days,)
        Local sunrise and sunset. [h]
    n_steps : int
        Steps per day. [-]
    nu, tau : float
        Skewness and tail-weight parameters of the SHASHo density. [-]
    stretch : float
        Multiplier applied before capping at 1 (>= 1 flattens the midday). [-]

    Returns
    -------
    numpy.ndarray, shape (n_days, n_steps)
        [-]
    """
    if not stretch > 0:
        raise ValidationError(f"stretch must be > 0 (got {stretch!r})")
    rise, sset = _sun_times(sunrise_h, sunset_h)
    mask = daylight_mask(rise, sset, n_steps)
    mu = 0.5 * (rise + sset)
    sigma = (sset - rise) / np.sqrt(12.0)
    t = step_midpoints_h(n_steps)
    z = (t[None, :] - mu[:, None]) / sigma[:, None]
    f = shash_pdf(z, 0.0, 1.0, nu, tau)
    zs = np.linspace(-np.sqrt(3.0), np.sqrt(3.0), 2001)
    fz = shash_pdf(zs, 0.0, 1.0, nu, tau)
    f_lo, f_hi = min(fz[0], fz[-1]), fz.max()
    shape = np.clip((f - f_lo) / (f_hi - f_lo), 0.0, 1.0)
    return np.where(mask, np.minimum(stretch * shape, 1.0), 0.0)


def solar_curve_kw(
    sunrise_h: ArrayLike,
    sunset_h: ArrayLike,
    n_steps: int = 288,
    p_pv_kw: float = 5.0,
    p_batt_kw: float = 5.0,
    **shape_kwargs: float,
) -> NDArray[np.float64]:
    """Export capability of a PV + battery site over the day: ``p_batt_kw + p_pv_kw * solar_shape``.

    The seed's curve S(t) (seed 001 §2.4, Figure 7): 5 kW battery plus up to 5 kW PV following the
    approximate solar curve, 5 kW outside daylight.

    Parameters
    ----------
    sunrise_h, sunset_h : array_like, shape (n_days,)
        Local sunrise and sunset. [h]
    n_steps : int
        Steps per day. [-]
    p_pv_kw, p_batt_kw : float
        PV inverter and battery inverter export ratings (>= 0). [kW]
    **shape_kwargs
        ``nu``, ``tau``, ``stretch`` of :func:`solar_shape`. [-]

    Returns
    -------
    numpy.ndarray, shape (n_days, n_steps)
        [kW]
    """
    if not (np.isfinite(p_pv_kw) and np.isfinite(p_batt_kw)) or p_pv_kw < 0 or p_batt_kw < 0:
        raise ValidationError(
            f"p_pv_kw and p_batt_kw must be finite and >= 0 (got {p_pv_kw!r}, {p_batt_kw!r}); "
            "inverter ratings in kW"
        )
    return p_batt_kw + p_pv_kw * solar_shape(sunrise_h, sunset_h, n_steps, **shape_kwargs)
