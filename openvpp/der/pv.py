"""Photovoltaic systems, vectorised over many devices with pvlib.

The chain is the standard pvlib one: sun position (NREL SPA) -> clear-sky (Ineichen with the Linke
turbidity climatology bundled with pvlib) or supplied GHI/DNI/DHI -> plane-of-array irradiance
(:func:`pvlib.irradiance.get_total_irradiance`) -> cell temperature (:func:`pvlib.temperature.sapm_cell`)
-> DC power (:func:`pvlib.pvsystem.pvwatts_dc`) -> AC power with inverter efficiency and clipping at the
AC rating (:func:`pvlib.inverter.pvwatts`). Curtailment caps the AC output; the inverter's apparent-power
rating gives the reactive capability at the operating point (P-Q circle).

Scale: pvlib is called once per *group*, never per device. Devices that share a location (rounded to
``location_decimals``) share one sun-position and clear-sky computation, done in a single flattened SPA
call over all locations; devices that also share orientation, albedo, thermal and loss parameters and the
DC/AC ratio share one normalised AC profile, scaled by each device's inverter rating. Many distinct
systems are therefore as cheap as a few, and fully distinct systems are processed in chunks of rows.

Sign convention: the generation functions return the non-negative AC output ``p_ac_kw``; the stateful
:class:`PV` reports the realised power in the LOAD convention as well, ``p_kw = -p_ac_kw <= 0`` (generation
is an export, DESIGN.md). Reactive power ``q_kvar`` is positive when absorbing.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pvlib
from numpy.typing import ArrayLike, NDArray

from openvpp.checks import check_dt as _check_dt
from openvpp.data import bundled_value
from openvpp.der._common import pq_capability_kvar, pq_range_kvar, ramp_window_kw
from openvpp.errors import ValidationError
from openvpp.tables import ParamTable, param
from openvpp.timeseries import as_2d, check_aligned, check_index
from openvpp.units import MIN_PER_H

#: SAPM thermal parameters of a close-mounted (rooftop) glass/glass module, pvlib TEMPERATURE_MODEL_PARAMETERS
_SAPM_ROOFTOP = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["close_mount_glass_glass"]

#: default ambient temperature and wind speed when no weather is given (pvlib ModelChain defaults)
TEMP_AIR_DEFAULT_C = 20.0
WIND_SPEED_DEFAULT_M_S = 0.0

_TRANSPOSITIONS = ("isotropic", "haydavies", "perez")
_CLEARSKY_MODELS = ("ineichen", "simplified_solis")
_GROUP_CHUNK = 4096


@dataclasses.dataclass(frozen=True)
class PVParams(ParamTable):
    """Parameters of a set of PV systems, one row per device.

    Defaults: 2.5 kWp per prosumer (seed 000 §7.2); temperature coefficient -0.37 %/°C (PVWatts v8 standard
    module); 14 % system losses (PVWatts default); nominal inverter efficiency 0.96 and albedo 0.25 (pvlib
    defaults); SAPM thermal model of a close-mounted glass/glass module (pvlib's table). Azimuth NaN means
    equator-facing (180° north of the equator, 0° south of it); pvlib's convention is degrees east of north.
    """

    table_name = "pv"

    p_dc_kwp: NDArray = param(
        "kWp", "DC array rating at standard test conditions",
        default=bundled_value("household_der_assumptions", "pv_p_kwp"), gt=0.0,
    )
    p_ac_max_kw: NDArray = param(
        "kW", "inverter AC output rating (NaN: equal to p_dc_kwp)", default=np.nan, gt=0.0, allow_nan=True
    )
    s_max_kva: NDArray = param(
        "kVA", "inverter apparent-power rating (NaN: equal to the AC rating)", default=np.nan, gt=0.0,
        allow_nan=True,
    )
    latitude_deg: NDArray = param("deg", "site latitude, north positive", ge=-90.0, le=90.0)
    longitude_deg: NDArray = param("deg", "site longitude, east positive", ge=-180.0, le=180.0)
    altitude_m: NDArray = param("m", "site altitude above sea level", default=0.0, ge=-500.0, le=9000.0)
    tilt_deg: NDArray = param("deg", "surface tilt from horizontal", default=20.0, ge=0.0, le=90.0)
    azimuth_deg: NDArray = param(
        "deg", "surface azimuth, east of north (NaN: equator-facing)", default=np.nan, ge=0.0, lt=360.0,
        allow_nan=True,
    )
    gamma_pdc_per_c: NDArray = param(
        "1/°C", "temperature coefficient of DC power", default=-0.0037, ge=-0.02, le=0.0
    )
    loss_fraction: NDArray = param(
        "-", "DC system losses (soiling, wiring, mismatch, shading...)", default=0.14, ge=0.0, lt=1.0
    )
    eta_inv_nom: NDArray = param("-", "nominal inverter efficiency (PVWatts)", default=0.96, gt=0.0, le=1.0)
    albedo: NDArray = param("-", "ground reflectance", default=0.25, ge=0.0, le=1.0)
    temp_a: NDArray = param("-", "SAPM thermal parameter a", default=_SAPM_ROOFTOP["a"], le=0.0)
    temp_b: NDArray = param("s/m", "SAPM thermal parameter b", default=_SAPM_ROOFTOP["b"], le=0.0)
    temp_delta_c: NDArray = param(
        "°C", "SAPM module-to-cell temperature difference at 1000 W/m2", default=_SAPM_ROOFTOP["deltaT"],
        ge=0.0,
    )
    ramp_kw_per_min: NDArray = param(
        "kW/min", "largest change of AC output per minute (inf: unlimited)", default=np.inf, gt=0.0,
        allow_inf=True,
    )

    def _check(self) -> None:
        self._fail_where(
            self.s_kva < self.p_ac_kw - 1e-12,
            "s_max_kva must be >= p_ac_max_kw (the apparent-power rating bounds the active output)",
        )

    @property
    def p_ac_kw(self) -> NDArray[np.float64]:
        """Inverter AC rating with the NaN default resolved. [kW]"""
        return np.where(np.isnan(self.p_ac_max_kw), self.p_dc_kwp, self.p_ac_max_kw)

    @property
    def s_kva(self) -> NDArray[np.float64]:
        """Inverter apparent-power rating with the NaN default resolved. [kVA]"""
        return np.where(np.isnan(self.s_max_kva), self.p_ac_kw, self.s_max_kva)

    @property
    def azimuth(self) -> NDArray[np.float64]:
        """Surface azimuth with the equator-facing default resolved. [deg east of north]"""
        eq = np.where(self.latitude_deg >= 0.0, 180.0, 0.0)
        return np.where(np.isnan(self.azimuth_deg), eq, self.azimuth_deg)


# ---------------------------------------------------------------------------------------------- sun, sky
def solar_position(
    index: pd.DatetimeIndex, latitude_deg: ArrayLike, longitude_deg: ArrayLike, altitude_m: ArrayLike = 0.0
) -> dict[str, NDArray[np.float64]]:
    """Sun position for several locations in one vectorised NREL SPA call (pvlib ``spa_python``).

    Pressure follows the altitude (:func:`pvlib.atmosphere.alt2pres`) and the air temperature is 12 °C, as in
    :meth:`pvlib.location.Location.get_solarposition`, so each row equals that method's result.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Tz-aware time axis, shape (n_steps,).
    latitude_deg, longitude_deg, altitude_m : array_like, shape (n_locations,)
        Locations. [deg, deg, m]

    Returns
    -------
    dict of numpy.ndarray, shape (n_locations, n_steps)
        ``apparent_zenith``, ``zenith``, ``azimuth`` [deg].
    """
    check_index(index, "index")
    lat = np.atleast_1d(np.asarray(latitude_deg, dtype=float))
    lon = np.broadcast_to(np.asarray(longitude_deg, dtype=float), lat.shape)
    alt = np.broadcast_to(np.asarray(altitude_m, dtype=float), lat.shape)
    n_loc, n_steps = lat.shape[0], len(index)
    times = index[np.tile(np.arange(n_steps), n_loc)]
    rep = np.repeat
    sp = pvlib.solarposition.spa_python(
        times, rep(lat, n_steps), rep(lon, n_steps), altitude=rep(alt, n_steps),
        pressure=rep(pvlib.atmosphere.alt2pres(alt), n_steps), temperature=12,
    )
    shape = (n_loc, n_steps)
    return {k: sp[k].to_numpy().reshape(shape) for k in ("apparent_zenith", "zenith", "azimuth")}


def clearsky_irradiance(
    index: pd.DatetimeIndex,
    latitude_deg: ArrayLike,
    longitude_deg: ArrayLike,
    altitude_m: ArrayLike = 0.0,
    model: str = "ineichen",
    solpos: dict[str, NDArray[np.float64]] | None = None,
) -> dict[str, NDArray[np.float64]]:
    """Clear-sky GHI, DNI and DHI for several locations, as :meth:`pvlib.location.Location.get_clearsky`.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Tz-aware time axis, shape (n_steps,).
    latitude_deg, longitude_deg, altitude_m : array_like, shape (n_locations,)
        Locations. [deg, deg, m]
    model : {"ineichen", "simplified_solis"}
        pvlib clear-sky model; Ineichen uses the Linke turbidity climatology shipped with pvlib.
    solpos : dict, optional
        Result of :func:`solar_position` for the same locations, to avoid recomputing it.

    Returns
    -------
    dict of numpy.ndarray, shape (n_locations, n_steps)
        ``ghi``, ``dni``, ``dhi``. [W/m2]
    """
    if model not in _CLEARSKY_MODELS:
        raise ValidationError(f"clear-sky model must be one of {_CLEARSKY_MODELS} (got {model!r})")
    lat = np.atleast_1d(np.asarray(latitude_deg, dtype=float))
    lon = np.broadcast_to(np.asarray(longitude_deg, dtype=float), lat.shape)
    alt = np.broadcast_to(np.asarray(altitude_m, dtype=float), lat.shape)
    if solpos is None:
        solpos = solar_position(index, lat, lon, alt)
    zen = solpos["apparent_zenith"]
    dni_extra = np.asarray(pvlib.irradiance.get_extra_radiation(index), dtype=float)[None, :]
    pressure = pvlib.atmosphere.alt2pres(alt)[:, None]
    if model == "ineichen":
        am_rel = pvlib.atmosphere.get_relative_airmass(zen, "kastenyoung1989")
        am_abs = pvlib.atmosphere.get_absolute_airmass(am_rel, pressure)
        # the climatology is a lookup per location (a 5' grid); one call per distinct location
        tl = np.vstack([
            pvlib.clearsky.lookup_linke_turbidity(index, la, lo).to_numpy()
            for la, lo in zip(lat, lon, strict=True)
        ])
        with np.errstate(divide="ignore", invalid="ignore"):  # night: airmass is NaN, pvlib zeroes it
            cs = pvlib.clearsky.ineichen(zen, am_abs, tl, altitude=alt[:, None], dni_extra=dni_extra)
    else:
        cs = pvlib.clearsky.simplified_solis(90.0 - zen, pressure=pressure, dni_extra=dni_extra)
    return {k: np.nan_to_num(np.asarray(cs[k], dtype=float)) for k in ("ghi", "dni", "dhi")}


# ---------------------------------------------------------------------------------------------- power
def pv_dc_ac_kw(
    poa_global_w_m2: ArrayLike,
    temp_air_c: ArrayLike,
    wind_speed_m_s: ArrayLike,
    p_dc_kwp: ArrayLike,
    p_ac_max_kw: ArrayLike,
    gamma_pdc_per_c: ArrayLike = -0.0037,
    loss_fraction: ArrayLike = 0.14,
    eta_inv_nom: ArrayLike = 0.96,
    temp_a: ArrayLike = _SAPM_ROOFTOP["a"],
    temp_b: ArrayLike = _SAPM_ROOFTOP["b"],
    temp_delta_c: ArrayLike = _SAPM_ROOFTOP["deltaT"],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """DC and AC power from plane-of-array irradiance (PVWatts: SAPM cell temperature, DC, inverter).

    ``p_dc = p_dc_kwp * (1 - loss) * poa / 1000 * (1 + gamma (T_cell - 25))``
    (:func:`pvlib.pvsystem.pvwatts_dc`);
    AC by :func:`pvlib.inverter.pvwatts` with the DC input limit ``p_ac_max_kw / eta_inv_nom``, so the AC
    output is clipped at ``p_ac_max_kw``.

    Parameters
    ----------
    poa_global_w_m2 : array_like, shape (n, n_steps)
        Plane-of-array irradiance. [W/m2]
    temp_air_c, wind_speed_m_s : array_like, broadcastable to (n, n_steps)
        Ambient temperature [°C] and wind speed [m/s].
    p_dc_kwp, p_ac_max_kw : array_like, shape (n, 1) or broadcastable
        DC rating [kWp] and inverter AC rating [kW].
    gamma_pdc_per_c, loss_fraction, eta_inv_nom, temp_a, temp_b, temp_delta_c : array_like
        As in :class:`PVParams`. [-] [-] [-] [s/m] [degC]

    Returns
    -------
    (p_dc_kw, p_ac_kw) : tuple of numpy.ndarray, shape (n, n_steps)
        Non-negative DC and AC output (generation, not the load convention). [kW]
    """
    poa = np.asarray(poa_global_w_m2, dtype=float)
    t_cell = pvlib.temperature.sapm_cell(poa, temp_air_c, wind_speed_m_s, temp_a, temp_b, temp_delta_c)
    pdc0 = np.asarray(p_dc_kwp, dtype=float) * (1.0 - np.asarray(loss_fraction, dtype=float))
    p_dc = np.maximum(pvlib.pvsystem.pvwatts_dc(poa, t_cell, pdc0, gamma_pdc_per_c), 0.0)
    eta = np.asarray(eta_inv_nom, dtype=float)
    p_ac = pvlib.inverter.pvwatts(p_dc, np.asarray(p_ac_max_kw, dtype=float) / eta, eta_inv_nom=eta)
    return p_dc, np.asarray(p_ac, dtype=float)


def pv_ac_power(
    params: PVParams,
    index: pd.DatetimeIndex,
    weather: pd.DataFrame | None = None,
    *,
    poa_global_w_m2: ArrayLike | None = None,
    temp_air_c: float | ArrayLike | None = None,
    wind_speed_m_s: float | ArrayLike | None = None,
    transposition: str = "haydavies",
    clearsky_model: str = "ineichen",
    location_decimals: int | None = 1,
) -> NDArray[np.float64]:
    """Available AC output of every PV system over ``index`` (before curtailment).

    Irradiance comes from, in order of precedence: ``poa_global_w_m2`` (plane of array, per device or shared),
    ``weather`` (columns ``ghi``, ``dni``, ``dhi`` in W/m2 and optionally ``temp_air`` in °C and
    ``wind_speed`` in m/s, on the same axis as ``index``, shared by all systems), or the clear sky at each
    system's location. Transposition by :func:`pvlib.irradiance.get_total_irradiance`.

    Parameters
    ----------
    params : PVParams
        One row per device.
    index : pandas.DatetimeIndex
        Tz-aware, fixed-step axis (interval start stamps), shape (n_steps,).
    weather : pandas.DataFrame, optional
        Measured or forecast irradiance and temperature, indexed like ``index``.
    poa_global_w_m2 : array_like, shape (n_devices, n_steps) or (n_steps,), optional
        Plane-of-array irradiance given directly. [W/m2]
    temp_air_c, wind_speed_m_s : float or array_like (n_steps,), optional
        Ambient temperature [°C] and wind speed [m/s]; default the weather columns, else 20 °C and 0 m/s
        (pvlib ModelChain defaults).
    transposition : {"haydavies", "isotropic", "perez"}
        Sky-diffuse model.
    clearsky_model : {"ineichen", "simplified_solis"}
        Used when neither ``weather`` nor ``poa_global_w_m2`` is given.
    location_decimals : int or None
        Locations are rounded to this many decimals of a degree to share one sun-position computation
        (1 decimal ≈ 11 km: the sun moves by at most 0.05° across such a cell, far below the accuracy of
        any irradiance input); None uses the exact coordinates. [-]

    Returns
    -------
    numpy.ndarray, shape (n_devices, n_steps)
        Available AC output, non-negative (generation; the load-convention power is its negative). [kW]
    """
    check_index(index, "index")
    if transposition not in _TRANSPOSITIONS:
        raise ValidationError(f"transposition must be one of {_TRANSPOSITIONS} (got {transposition!r})")
    n, n_steps = params.n, len(index)
    temp_air = _weather_column("temp_air_c", temp_air_c, weather, "temp_air", TEMP_AIR_DEFAULT_C, n_steps)
    wind = _weather_column(
        "wind_speed_m_s", wind_speed_m_s, weather, "wind_speed", WIND_SPEED_DEFAULT_M_S, n_steps
    )
    if np.any(wind < 0):
        raise ValidationError("wind_speed_m_s must be >= 0 m/s")

    # device keys of the DC/AC step: thermal, loss and inverter parameters and the DC/AC ratio
    p_ac_max = params.p_ac_kw
    dev_cols = [
        params.p_dc_kwp / p_ac_max, params.gamma_pdc_per_c, params.loss_fraction, params.eta_inv_nom,
        params.temp_a, params.temp_b, params.temp_delta_c,
    ]
    if poa_global_w_m2 is not None:
        poa_in = np.asarray(poa_global_w_m2, dtype=float)
        if poa_in.ndim == 1:
            poa_in = poa_in[None, :]
        poa_in = as_2d("poa_global_w_m2", poa_in, None, n_steps)
        if poa_in.shape[0] not in (1, n):
            raise ValidationError(
                f"poa_global_w_m2 must have 1 or n_devices={n} rows (got {poa_in.shape[0]})"
            )
        if np.any(poa_in < 0):
            raise ValidationError("poa_global_w_m2 must be >= 0 W/m2")
        orient_of_dev = np.zeros(n, dtype=np.int64) if poa_in.shape[0] == 1 else np.arange(n)
        poa_orient = poa_in
    else:
        poa_orient, orient_of_dev = _poa_by_orientation(
            params, index, weather, transposition, clearsky_model, location_decimals
        )
    first, group_of_dev = _group_rows(orient_of_dev, *dev_cols)
    uniq = np.column_stack([orient_of_dev[first].astype(float), *(c[first] for c in dev_cols)])
    out = np.empty((n, n_steps))
    ta = temp_air[None, :]
    ws = wind[None, :]
    for a in range(0, uniq.shape[0], _GROUP_CHUNK):
        g = uniq[a : a + _GROUP_CHUNK]
        poa = poa_orient[g[:, 0].astype(np.int64)]
        col = [c[:, None] for c in g.T[1:]]
        ratio, gamma, loss, eta, ta_, tb_, td_ = col
        # normalised system: 1 kW inverter with a DC array of `ratio` kWp
        _, ac = pv_dc_ac_kw(poa, ta, ws, ratio, 1.0, gamma, loss, eta, ta_, tb_, td_)
        sel = (group_of_dev >= a) & (group_of_dev < a + g.shape[0])
        out[sel] = ac[group_of_dev[sel] - a]
    out *= p_ac_max[:, None]
    return out


def _group_rows(*cols: NDArray) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Group devices whose values agree in every column (hash-based, O(n)).

    Returns the position of the first device of each group and the group number of every device.
    """
    n = len(cols[0])
    key = np.zeros(n, dtype=np.int64)
    for c in cols:
        codes, uniq = pd.factorize(np.asarray(c))
        key = key * len(uniq) + codes
        key, _ = pd.factorize(key)  # keep the combined key small (no overflow)
        key = key.astype(np.int64)
    group, _ = pd.factorize(key)
    _, first = np.unique(group, return_index=True)
    return first.astype(np.int64), group.astype(np.int64)


def _weather_column(
    name: str, value: object, weather: pd.DataFrame | None, column: str, default: float, n_steps: int
) -> NDArray[np.float64]:
    if value is None and weather is not None and column in weather:
        value = weather[column].to_numpy()
    if value is None:
        value = default
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(n_steps, float(arr))
    if arr.shape != (n_steps,):
        raise ValidationError(
            f"{name} must be a scalar or have one value per step ({n_steps}), got {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValidationError(f"{name} contains NaN or inf; fill the gaps first")
    return arr


def _poa_by_orientation(
    params: PVParams,
    index: pd.DatetimeIndex,
    weather: pd.DataFrame | None,
    transposition: str,
    clearsky_model: str,
    location_decimals: int | None,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """POA irradiance per distinct (location, tilt, azimuth, albedo); returns it and each device's row."""
    lat, lon, alt = params.latitude_deg, params.longitude_deg, params.altitude_m
    if location_decimals is not None:
        lat, lon = np.round(lat, location_decimals), np.round(lon, location_decimals)
    first, loc_of_dev = _group_rows(lat, lon, alt)
    locs = np.column_stack([lat[first], lon[first], alt[first]])
    solpos = solar_position(index, locs[:, 0], locs[:, 1], locs[:, 2])
    if weather is not None:
        check_aligned(index, weather.index, ("index", "weather.index"))
        missing = [c for c in ("ghi", "dni", "dhi") if c not in weather]
        if missing:
            raise ValidationError(f"weather lacks column(s) {missing}; give ghi, dni, dhi in W/m2")
        irr = {c: np.asarray(weather[c], dtype=float)[None, :] for c in ("ghi", "dni", "dhi")}
        for c, v in irr.items():
            if not np.all(np.isfinite(v)) or np.any(v < 0):
                raise ValidationError(f"weather.{c} must be finite and >= 0 W/m2")
    else:
        irr = clearsky_irradiance(index, locs[:, 0], locs[:, 1], locs[:, 2], clearsky_model, solpos)
    azimuth = params.azimuth
    first, orient_of_dev = _group_rows(loc_of_dev, params.tilt_deg, azimuth, params.albedo)
    orients = np.column_stack(
        [loc_of_dev[first].astype(float), params.tilt_deg[first], azimuth[first], params.albedo[first]]
    )
    li = orients[:, 0].astype(np.int64)

    def per_orient(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return x[li] if x.shape[0] > 1 else np.broadcast_to(x, (len(li), x.shape[1]))

    zen = solpos["apparent_zenith"][li]
    dni_extra = np.asarray(pvlib.irradiance.get_extra_radiation(index), dtype=float)[None, :]
    airmass = None
    if transposition == "perez":
        airmass = pvlib.atmosphere.get_relative_airmass(zen, "kastenyoung1989")
    with np.errstate(divide="ignore", invalid="ignore"):
        tot = pvlib.irradiance.get_total_irradiance(
            orients[:, 1:2], orients[:, 2:3], zen, solpos["azimuth"][li],
            per_orient(irr["dni"]), per_orient(irr["ghi"]), per_orient(irr["dhi"]),
            dni_extra=dni_extra, airmass=airmass, albedo=orients[:, 3:4], model=transposition,
        )
    poa = np.nan_to_num(np.asarray(tot["poa_global"], dtype=float))
    return np.maximum(poa, 0.0), orient_of_dev


def curtail(p_ac_kw: ArrayLike, cap_kw: ArrayLike) -> NDArray[np.float64]:
    """Generation after a curtailment cap: ``min(available, cap)`` (NaN cap = no cap).

    Parameters
    ----------
    p_ac_kw : array_like, shape (n_devices, n_steps)
        Available AC output, non-negative (generation). [kW]
    cap_kw : array_like, broadcastable
        Largest allowed AC output, >= 0 (NaN: uncapped). [kW]

    Returns
    -------
    numpy.ndarray
        Curtailed AC output, non-negative (the load-convention power is its negative). [kW]
    """
    p = np.asarray(p_ac_kw, dtype=float)
    cap = np.asarray(cap_kw, dtype=float)
    if np.any(cap < 0):
        raise ValidationError(
            "cap_kw must be >= 0: it limits the non-negative AC output "
            "(for a load-convention p_kw pass -p_kw)"
        )
    return np.fmin(p, cap)


def export_limited_generation(
    p_ac_kw: ArrayLike, p_load_kw: ArrayLike, export_limit_kw: ArrayLike
) -> NDArray[np.float64]:
    """Generation that keeps a site's export within a limit: ``min(available, max(load + limit, 0))``.

    Parameters
    ----------
    p_ac_kw : array_like
        Available AC output, non-negative (generation). [kW]
    p_load_kw : array_like
        Other site consumption, load convention (+ = drawn from the grid). [kW]
    export_limit_kw : array_like
        Largest allowed export at the meter, >= 0 (e.g. the 5 kW static limit of seed 001). [kW]

    Returns
    -------
    numpy.ndarray
        Allowed AC output, non-negative. The site power in the load convention is ``p_load_kw - result``
        and is never below ``-export_limit_kw`` unless the load alone exports. [kW]
    """
    lim = np.asarray(export_limit_kw, dtype=float)
    if np.any(lim < 0) or np.any(np.isnan(lim)):
        raise ValidationError("export_limit_kw must be >= 0 kW (a magnitude of export)")
    return np.minimum(np.asarray(p_ac_kw, dtype=float), np.maximum(np.asarray(p_load_kw, float) + lim, 0.0))


def q_capability_kvar(p_ac_kw: ArrayLike, s_max_kva: ArrayLike) -> NDArray[np.float64]:
    """Largest ``|Q|`` at AC output ``p_ac_kw`` from the apparent-power rating (P-Q circle). [kvar]

    Parameters
    ----------
    p_ac_kw : array_like, shape (n_devices,)
        AC output. [kW]
    s_max_kva : array_like, shape (n_devices,)
        Inverter apparent-power rating. [kVA]
    """
    return pq_capability_kvar(p_ac_kw, s_max_kva)


# ---------------------------------------------------------------------------------------------- state
@dataclasses.dataclass
class PVResult:
    """Outcome of :meth:`PV.simulate`.

    Attributes
    ----------
    p_kw : numpy.ndarray, shape (n_devices, n_steps)
        Realised power in the load convention, ``<= 0`` (generation is an export). [kW]
    p_ac_kw : numpy.ndarray, shape (n_devices, n_steps)
        Realised AC output, ``>= 0`` (``p_kw == -p_ac_kw``). [kW]
    p_available_kw : numpy.ndarray, shape (n_devices, n_steps)
        AC output before curtailment, ``>= 0``. [kW]
    q_kvar : numpy.ndarray, shape (n_devices, n_steps)
        Realised reactive power, + = absorbing. [kvar]
    """

    p_kw: NDArray[np.float64]
    p_ac_kw: NDArray[np.float64]
    p_available_kw: NDArray[np.float64]
    q_kvar: NDArray[np.float64]

    @property
    def curtailed_kw(self) -> NDArray[np.float64]:
        """Available minus realised output, >= 0. [kW]"""
        return self.p_available_kw - self.p_ac_kw


class PV:
    """A set of PV systems with state (time cursor into the available output, last output).

    Parameters
    ----------
    params : PVParams
        One row per device.
    p_available_kw : array_like, shape (n_devices, n_steps_total)
        Available AC output over the horizon that :meth:`simulate` will walk through, non-negative
        (generation), e.g. from :func:`pv_ac_power`. [kW]

    Notes
    -----
    The set-point of :meth:`simulate` is a curtailment cap on the AC output (kW >= 0, NaN = no cap); the
    realised output is ``min(available, cap)``, moved towards it by at most ``ramp_kw_per_min`` per minute
    when a ramp is set (a fall of the available power is always followed). Powers reported in the load
    convention are ``p_kw = -p_ac_kw <= 0``.
    """

    def __init__(self, params: PVParams, p_available_kw: ArrayLike) -> None:
        avail = as_2d("p_available_kw", p_available_kw, params.n, None)
        if np.any(avail < 0):
            raise ValidationError("p_available_kw must be >= 0 kW (non-negative AC output)")
        self.params = params
        self.p_available_kw = avail
        self.t = 0
        self.p_ac_kw = np.zeros(params.n)

    @classmethod
    def from_weather(cls, params: PVParams, index: pd.DatetimeIndex, weather: pd.DataFrame | None = None,
                     **kwargs: object) -> PV:
        """Build from :func:`pv_ac_power` over ``index`` (clear sky when ``weather`` is None).

        Parameters
        ----------
        params : PVParams
            Validated parameters, one row per system.
        index : pandas.DatetimeIndex
            Time axis (tz-aware, fixed step).
        weather : pandas.DataFrame, optional
            Weather on ``index`` (pvlib names: ghi, dni, dhi, temp_air, wind_speed); None: clear sky.
        **kwargs
            Passed to :func:`pv_ac_power`.
        """
        return cls(params, pv_ac_power(params, index, weather, **kwargs))  # type: ignore[arg-type]

    @property
    def n(self) -> int:
        """Number of PV systems."""
        return self.params.n

    @property
    def steps_left(self) -> int:
        """Steps of available output not yet simulated."""
        return self.p_available_kw.shape[1] - self.t

    def _next_available(self) -> NDArray[np.float64]:
        if self.steps_left < 1:
            raise ValidationError("the PV horizon is exhausted; build PV with a longer p_available_kw")
        return self.p_available_kw[:, self.t]

    def power_range(self, dt_h: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Feasible power of the next step, in the load convention.

        Parameters
        ----------
        dt_h : float
            Step length. [h]

        Returns
        -------
        (p_min_kw, p_max_kw) : tuple of numpy.ndarray, shape (n_devices,)
            ``p_min_kw <= p_max_kw <= 0``: ``-p_min_kw`` is the largest output (available, ramp-limited from
            the last output), ``-p_max_kw`` the smallest (0 unless a ramp holds the output up). [kW]
        """
        _check_dt(dt_h)
        avail = self._next_available()
        r = self.params.ramp_kw_per_min * dt_h * MIN_PER_H
        gen_hi = np.minimum(avail, self.p_ac_kw + r)
        gen_lo = np.minimum(np.maximum(self.p_ac_kw - r, 0.0), avail)
        return -gen_hi, -gen_lo

    def ramp_range(self, dt_h: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Largest decrease and increase of the (load-convention) power over the next step. [kW]

        Parameters
        ----------
        dt_h : float
            Step length. [h]
        """
        return ramp_window_kw(self.params.ramp_kw_per_min, dt_h)

    def q_range(self, p_kw: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Reactive range at active power ``p_kw`` (either sign) from the P-Q circle. [kvar]

        Parameters
        ----------
        p_kw : array_like, shape (n_devices,)
            Active power (load convention: <= 0 for generation). [kW]
        """
        return pq_range_kvar(p_kw, self.params.s_kva)

    def simulate(
        self, setpoints_kw: ArrayLike, dt_h: float, q_setpoints_kvar: ArrayLike | None = None
    ) -> PVResult:
        """Apply curtailment caps step by step and advance the time cursor.

        Parameters
        ----------
        setpoints_kw : array_like, shape (n_devices, n_steps)
            Cap on the AC output, >= 0 (NaN or inf: no cap). Not in the load convention: a cap of 3 kW
            allows ``p_kw >= -3``. [kW]
        dt_h : float
            Step length. [h]
        q_setpoints_kvar : array_like, shape (n_devices, n_steps), optional
            Requested reactive power, clipped to the P-Q circle at the realised output. [kvar]

        Returns
        -------
        PVResult
        """
        _check_dt(dt_h)
        cap = as_2d("setpoints_kw", setpoints_kw, self.n, None, allow_nan=True)
        n_steps = cap.shape[1]
        if np.any(cap < 0) or np.any(np.isneginf(cap)):
            raise ValidationError(
                "setpoints_kw are caps on the non-negative AC output and must be >= 0 (NaN: no cap); "
                "for load-convention powers pass -p_kw"
            )
        if n_steps > self.steps_left:
            raise ValidationError(
                f"setpoints_kw has {n_steps} steps but only {self.steps_left} steps of available output "
                "remain"
            )
        qsp = (
            None if q_setpoints_kvar is None
            else as_2d("q_setpoints_kvar", q_setpoints_kvar, self.n, n_steps)
        )
        avail = self.p_available_kw[:, self.t : self.t + n_steps]
        target = np.fmin(avail, cap)
        r = self.params.ramp_kw_per_min * dt_h * MIN_PER_H
        if np.any(np.isfinite(r)) and n_steps:
            out = np.empty_like(target)
            prev = self.p_ac_kw
            for t in range(n_steps):  # time loop, vectorised over devices
                p = np.clip(target[:, t], prev - r, prev + r)
                out[:, t] = np.clip(p, 0.0, avail[:, t])
                prev = out[:, t]
        else:
            out = target
        s = self.params.s_kva[:, None]
        out = np.minimum(out, s)
        if qsp is None:
            q = np.zeros_like(out)
        else:
            qmax = pq_capability_kvar(out, s)
            q = np.clip(qsp, -qmax, qmax)
        self.t += n_steps
        if n_steps:
            self.p_ac_kw = out[:, -1].copy()
        return PVResult(p_kw=-out, p_ac_kw=out, p_available_kw=avail.copy(), q_kvar=q)
