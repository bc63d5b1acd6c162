"""Arbitrage + FCAS study of seed 001 §5.4: the benefit of a higher site export limit, per site and year.

Model (seed 001 §5.4.1), one independent LP per site and case, perfect foresight, the optimiser of
:mod:`openvpp.schedule.site` (one implementation):

* prices: the bundled AEMO SA1 year 2019-20 (energy and the six contingency FCAS markets), half-hourly, AUD;
* site: a SimBench household load (``H0-*`` profiles of ``1-LV-rural1--2-sw``, by day of year and clock time,
  shifted half a year onto the southern seasons, scaled to an annual consumption within +-30 % of
  :data:`~openvpp.schedule.inputs.HOUSEHOLD_KWH_PER_YEAR`, as the seed's sites cluster within +-30 % of the
  mean, §5.4.2), PV from pvlib's clear sky at Adelaide on a 5 kW inverter, a 5 kW / 13.5 kWh battery with
  90 % round trip (Powerwall 2 datasheet), at most 365 cycles a year;
* tariffs: import pays the spot price plus a residential time-of-use network tariff, export earns the spot
  price (zero feed-in tariff); no import limit; export limit 0 / 2 / 5 / 10 kW.

The year is solved as weekly windows with one day of look-ahead (:func:`~openvpp.schedule.horizon.
solve_long_horizon`), on Dask (LocalCluster by default). The benefit of a limit is the site's profit over the
0 kW case; "energy" counts energy arbitrage only (the seed's benefit, §5.4.1: FCAS export limits were not
modelled), "total" adds FCAS. Mean benefits feed :mod:`openvpp.economics.finance` for NPV and BCR (Table 9).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openvpp.errors import ValidationError

__all__ = ["ArbitrageStudy", "run_arbitrage", "site_year"]

#: seed 001 §5.4.4 mean benefit per site [AUD/yr] by export limit [kW]
SEED_BENEFIT = {2.0: 164.0, 5.0: 388.0, 10.0: 423.0}
#: Adelaide (lat, lon) [deg]
ADELAIDE = (-34.93, 138.60)
#: residential ToU network tariff (OpenVPP assumption of the order of SA Power Networks' 2020/21 residential
#: ToU NUoS, seed 001 §5.4.1): peak 06-10 h and 15-01 h, solar sponge 10-15 h, off-peak 01-06 h [AUD/MWh]
TOU_AUD_PER_MWH = {"peak": 150.0, "shoulder": 40.0, "offpeak": 80.0}
#: round-trip efficiency of the battery (Tesla Powerwall 2 datasheet) [-]
ROUND_TRIP = 0.90
#: largest number of sites a run accepts [-]
MAX_SITES = 10_000


@dataclasses.dataclass(frozen=True)
class ArbitrageStudy:
    """Per-site results and the mean benefit per export limit.

    Parameters
    ----------
    sites : pandas.DataFrame
        One row per site and limit: ``site``, ``limit_kw``, ``energy_profit``, ``fcas_revenue``, ``profit``,
        ``cycles``, ``solve_s``. [AUD], [-], [s]
    summary : pandas.DataFrame
        Per limit: ``limit_kw``, ``benefit_energy``, ``benefit_total`` (mean over sites, over 0 kW), ``seed``.
        [AUD/yr]
    finance : list of dict
        NPV / BCR per limit (seed 001 Table 9 inputs, our benefits).
    elapsed_s : float
        Wall time. [s]
    """

    sites: pd.DataFrame
    summary: pd.DataFrame
    finance: list[dict[str, Any]]
    elapsed_s: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "summary": self.summary.to_dict(orient="records"),
            "finance": self.finance,
            "n_sites": int(self.sites["site"].nunique()),
            "elapsed_s": self.elapsed_s,
        }


def tou_tariff(index: pd.DatetimeIndex) -> NDArray[np.float64]:
    """Network tariff per interval (:data:`TOU_AUD_PER_MWH`). [AUD/MWh]

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Axis in market time.

    Returns
    -------
    numpy.ndarray
    """
    h = np.asarray(index.hour)
    return np.where(
        (h >= 1) & (h < 6),
        TOU_AUD_PER_MWH["offpeak"],
        np.where((h >= 10) & (h < 15), TOU_AUD_PER_MWH["shoulder"], TOU_AUD_PER_MWH["peak"]),
    )


def _inputs(n_sites: int, seed: int) -> dict[str, Any]:
    """Prices, PV and household loads of the year (shared by every task)."""
    from openvpp.data import load_simbench_lv
    from openvpp.der.pv import PVParams, pv_ac_power
    from openvpp.schedule.inputs import HOUSEHOLD_KWH_PER_YEAR, resample_year_profile
    from openvpp.schedule.stacking import SOUTHERN_SEASON_SHIFT_DAYS
    from openvpp.services.prices import load_sa1_prices

    prices = load_sa1_prices()
    index = prices.index
    pv_kw_args: dict[str, Any] = {
        "p_dc_kwp": [5.0],
        "p_ac_max_kw": [5.0],
        "latitude_deg": [ADELAIDE[0]],
        "longitude_deg": [ADELAIDE[1]],
        "tilt_deg": [25.0],
        "azimuth_deg": [0.0],
    }
    pv = PVParams(
        device_id=["pv"],
        site_id=["s"],
        **pv_kw_args,
    )
    pv_kw = pv_ac_power(pv, index)[0]
    net = load_simbench_lv("1-LV-rural1--2-sw")
    load = net.profiles["load"]
    cols = [c for c in load.columns if c.startswith("H0") and c.endswith("_pload")]
    rel = load[cols].to_numpy(float).T
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(cols), n_sites)
    annual = HOUSEHOLD_KWH_PER_YEAR * rng.uniform(0.7, 1.3, n_sites)
    year = resample_year_profile(rel[pick], index, SOUTHERN_SEASON_SHIFT_DAYS)
    load_kw = year / (year.sum(axis=1, keepdims=True) * prices.dt_h) * annual[:, None]
    return {"prices": prices, "pv_kw": pv_kw, "load_kw": load_kw}


def site_year(
    load_kw: NDArray[np.float64],
    pv_kw: NDArray[np.float64],
    prices: Any,
    limit_kw: float,
    window_days: int = 7,
) -> dict[str, float]:
    """One site and one export limit over the year (module docstring; seed 001 §5.4.1).

    Parameters
    ----------
    load_kw : numpy.ndarray, shape (n_steps,)
        Household consumption. [kW]
    pv_kw : numpy.ndarray, shape (n_steps,)
        Available PV output. [kW]
    prices : PriceSeries
        Energy and FCAS prices of the year. [AUD/MWh]
    limit_kw : float
        Export limit. [kW]
    window_days : int
        Days kept per window of the chained LP. [d]

    Returns
    -------
    dict
        ``energy_profit``, ``fcas_revenue``, ``profit`` [AUD], ``cycles`` [-], ``solve_s`` [s].
    """
    from openvpp.der.battery import BatteryParams
    from openvpp.schedule.devices import DeviceModels
    from openvpp.schedule.horizon import solve_long_horizon
    from openvpp.schedule.services import fcas_specs
    from openvpp.schedule.site import SiteProblem

    index = prices.index
    n_t = len(index)
    eta: Any = [np.sqrt(ROUND_TRIP)]
    b = BatteryParams(device_id=["b"], site_id=["s"], eta_charge=eta, eta_discharge=eta, soc0=np.array([0.5]))
    nan2 = np.full((1, n_t + 1), np.nan)
    models = DeviceModels(
        index=index,
        device_ids=np.array(["b", "pv"], dtype=object),
        device_class=np.array(["battery", "pv"], dtype=object),
        site_pos=np.zeros(2, np.int64),
        p_fixed_kw=np.vstack([np.zeros(n_t), -pv_kw]),
        pc_max_kw=np.vstack([np.full(n_t, 5.0), pv_kw]),
        pd_max_kw=np.vstack([np.full(n_t, 5.0), np.zeros(n_t)]),
        e0_kwh=np.array([6.75, np.nan]),
        e_lo_kwh=np.vstack([np.zeros((1, n_t + 1)), nan2]),
        e_hi_kwh=np.vstack([np.full((1, n_t + 1), float(b.e_max_kwh[0])), nan2]),
        e_max_kwh=np.array([float(b.e_max_kwh[0]), np.nan]),
        eta_charge=np.array([b.eta_charge[0], 1.0]),
        eta_discharge=np.array([b.eta_discharge[0], 1.0]),
        keep_per_step=np.ones(2),
        cycles_counted=np.array([True, False]),
    )
    energy = prices.price_per_mwh["energy"].to_numpy(float)
    problem = SiteProblem(
        models,
        ["s"],
        load_kw[None, :],
        energy + tou_tariff(index),
        energy,
        np.inf,
        float(limit_kw),
        tuple(fcas_specs(prices)),
        degradation_per_mwh=0.0,
        cycles_per_day=365.0 / 365.0,
    )
    steps_per_day = round(24 / prices.dt_h)
    t0 = time.perf_counter()
    plan, _ = solve_long_horizon(
        problem, window_steps=window_days * steps_per_day, lookahead_steps=steps_per_day
    )
    meta = plan.meta
    fcas = float(sum(meta["reserve_revenue"].values()))
    energy_profit = float(meta["energy_revenue"] - meta["energy_cost"])
    thr = np.maximum(-plan.p_baseline_kw[0], 0.0).sum() * prices.dt_h
    return {
        "energy_profit": energy_profit,
        "fcas_revenue": fcas,
        "profit": energy_profit + fcas,
        "cycles": float(thr / float(b.e_max_kwh[0])),
        "solve_s": time.perf_counter() - t0,
    }


def _task(args: tuple[int, float, NDArray[np.float64], NDArray[np.float64], Any]) -> dict[str, Any]:
    site, limit, load_kw, pv_kw, prices = args
    out = site_year(load_kw, pv_kw, prices, limit)
    out.update(site=site, limit_kw=float(limit))
    return out


def run_arbitrage(
    n_sites: int = 20,
    limits: Sequence[float] = (0.0, 2.0, 5.0, 10.0),
    *,
    workers: int = 2,
    scheduler: str | None = None,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> ArbitrageStudy:
    """Run the study on Dask (module docstring; seed 001 §5.4, Table 9).

    Parameters
    ----------
    n_sites : int
        Sites (seed: twenty participants). [-]
    limits : sequence of float
        Export limits; 0 is added as the reference. [kW]
    workers : int
        LocalCluster workers when no ``scheduler`` is given. [-]
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``).
    seed : int
        Draw of the household profiles. [-]
    progress : callable, optional
        ``progress(done, total)``.

    Returns
    -------
    ArbitrageStudy
    """
    if isinstance(n_sites, bool) or int(n_sites) != n_sites or not 1 <= n_sites <= MAX_SITES:
        raise ValidationError(f"--sites must be a whole number in [1, {MAX_SITES}] (got {n_sites!r})")
    lims = sorted({0.0, *(float(v) for v in limits)})
    if any(not np.isfinite(v) or v < 0 for v in lims):
        raise ValidationError(f"--limits must be export limits >= 0 kW (got {list(limits)})")
    if int(workers) != workers or workers < 1:
        raise ValidationError(f"--workers must be >= 1 (got {workers!r})")
    t0 = time.perf_counter()
    data = _inputs(int(n_sites), seed)
    tasks = [
        (s, lim, data["load_kw"][s], data["pv_kw"], data["prices"])
        for s in range(int(n_sites))
        for lim in lims
    ]
    rows = _run_dask(tasks, int(workers), scheduler, progress)
    sites = pd.DataFrame(rows).sort_values(["limit_kw", "site"]).reset_index(drop=True)
    ref = sites[sites["limit_kw"] == 0.0].set_index("site")
    summary = []
    for lim in lims:
        if lim == 0.0:
            continue
        cur = sites[sites["limit_kw"] == lim].set_index("site")
        summary.append(
            {
                "limit_kw": lim,
                "benefit_energy": float((cur["energy_profit"] - ref["energy_profit"]).mean()),
                "benefit_total": float((cur["profit"] - ref["profit"]).mean()),
                "seed": SEED_BENEFIT.get(lim, float("nan")),
            }
        )
    frame = pd.DataFrame(summary)
    return ArbitrageStudy(sites, frame, _finance(frame), time.perf_counter() - t0)


def _run_dask(
    tasks: list[Any], workers: int, scheduler: str | None, progress: Callable[[int, int], None] | None
) -> list[dict[str, Any]]:
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise ValidationError(f"--scheduler {scheduler!r}: no Dask scheduler answers ({exc})") from exc
    try:
        prices = client.scatter(tasks[0][4], broadcast=True)
        pv = client.scatter(tasks[0][3], broadcast=True)
        futures = [client.submit(_task_remote, t[0], t[1], t[2], pv, prices, pure=False) for t in tasks]
        rows = []
        for k, fut in enumerate(as_completed(futures), start=1):
            rows.append(fut.result())
            if progress is not None:
                progress(k, len(futures))
        return rows
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _task_remote(
    site: int, limit: float, load_kw: NDArray[np.float64], pv_kw: NDArray[np.float64], prices: Any
) -> dict[str, Any]:
    return _task((site, limit, load_kw, pv_kw, prices))


def _finance(summary: pd.DataFrame) -> list[dict[str, Any]]:
    """NPV and BCR per limit with the seed's Table 9 inputs and our mean benefits (total and energy only)."""
    from openvpp.economics.finance import CsiroCase, csiro_table9

    ref = csiro_table9()[0]
    out = []
    for row in summary.itertuples():
        rec: dict[str, Any] = {"limit_kw": float(row.limit_kw)}
        for label, value in (("energy", row.benefit_energy), ("total", row.benefit_total)):
            case = CsiroCase(
                export_limit_kw=float(row.limit_kw),
                benefit_usd_per_site_year=max(float(value), 0.0),
                n_sites=ref.n_sites,
                cost_upfront_usd=ref.cost_upfront_usd,
                discount_rate=ref.discount_rate,
                years=ref.years,
                convention=ref.convention,
            )
            rec[f"npv_{label}"] = case.npv_usd
            rec[f"bcr_{label}"] = case.bcr
        out.append(rec)
    return out
