"""Measured forecast skill on held-out days of SimBench household load and PV profiles.

For every held-out day ``d`` the forecasters see only the ``history_days`` days before ``d`` (a rolling
origin: a day-ahead forecast issued at midnight) and forecast the 96 quarter-hours of ``d``; the errors
against the SimBench profile of that day are pooled per season and over all days, for the forecaster and
for day-ahead :func:`~openvpp.forecast.load.persistence`. The default held-out days are four whole weeks,
one per season of 2016 (the SimBench profile year), so that weekdays and weekends and every sun height are
represented.

Sites: the household loads of the grid (SimBench load profiles ``H0-*``, standard household profiles) and its
PV generators (``sgen`` of type PV, rated power taken as kWp). SimBench does not give coordinates; the PV
clear sky is computed at the centre of Germany (51.0 °N, 10.0 °E, overridable), whose grids SimBench models.
PV is scored on daylight steps only (the modelled sun up or the measured output above zero): at night every
forecast and the actual are zero, which would flatter coverage and shrink the errors of both methods alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from openvpp.data import LV_GRIDS, SIMBENCH_TZ, check_simbench_day, load_simbench_lv, simbench_profiles
from openvpp.errors import ValidationError
from openvpp.forecast.base import Forecast
from openvpp.forecast.load import forecast_load, persistence
from openvpp.forecast.pv import clearsky_pv_per_kwp, forecast_pv
from openvpp.forecast.skill import METRICS, skill, skill_score
from openvpp.units import mw_to_kw

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_GRID",
    "ForecastSkillStudy",
    "backtest_simbench",
    "check_backtest_inputs",
    "parse_days",
]

#: default grid: an urban LV feeder with mostly household loads and a dozen PV systems
DEFAULT_GRID = "1-LV-urban6--2-sw"
#: default held-out days: one whole week (Monday-Sunday) per season of 2016
DEFAULT_DAYS = "2016-02-08..2016-02-14,2016-05-09..2016-05-15,2016-08-08..2016-08-14,2016-11-07..2016-11-13"
#: most held-out days one study accepts [days]
MAX_DAYS = 120
#: assumed location of the SimBench grids (centre of Germany) [deg]
SIMBENCH_LATITUDE, SIMBENCH_LONGITUDE = 51.0, 10.0
_SEASONS = {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring",
            6: "summer", 7: "summer", 8: "summer", 9: "autumn", 10: "autumn", 11: "autumn"}


def parse_days(days: str | Sequence[str], name: str = "--days") -> list[str]:
    """Held-out days from ``"2016-02-08..2016-02-14,2016-06-15"`` (single dates and inclusive ranges).

    Parameters
    ----------
    days : str or sequence of str
        Comma-separated dates ``YYYY-MM-DD`` and ranges ``YYYY-MM-DD..YYYY-MM-DD`` of 2016; a range may end
        in ``/N`` to take every N-th day (``2016-02-01..2016-12-28/4``).
    name : str
        Name of the option in messages.

    Returns
    -------
    list of str
        Sorted unique days ``YYYY-MM-DD``.
    """
    items = [s.strip() for s in (days.split(",") if isinstance(days, str) else days) if s.strip()]
    if not items:
        raise ValidationError(
            f"{name} is empty; give dates such as 2016-06-15 or ranges "
            "2016-06-13..2016-06-19"
        )
    out: set[str] = set()
    for item in items:
        if ".." in item:
            span, _, every = item.partition("/")
            a, b = (check_simbench_day(x.strip(), name) for x in span.split("..", 1))
            if every and (not every.strip().isdigit() or int(every) < 1):
                raise ValidationError(f"{name} range step in {item!r} must be a whole number of days >= 1")
            rng = pd.date_range(a, b, freq=f"{int(every) if every else 1}D")
            if len(rng) == 0:
                raise ValidationError(f"{name} range {item!r} ends before it starts; write start..end")
            if len(rng) > MAX_DAYS:
                raise ValidationError(f"{name} range {item!r} has {len(rng)} days; at most {MAX_DAYS} in all")
            out.update(rng.strftime("%Y-%m-%d"))
        else:
            out.add(check_simbench_day(item, name))
        if len(out) > MAX_DAYS:
            raise ValidationError(f"{name} lists more than {MAX_DAYS} days; evaluate fewer days at a time")
    return sorted(out)


@dataclasses.dataclass(frozen=True)
class ForecastSkillStudy:
    """Result of :func:`backtest_simbench`.

    ``table`` has one row per quantity, season (and ``"all"``) and method with the pooled metrics of
    :func:`~openvpp.forecast.skill.skill` and, for the forecaster rows, skill scores against persistence;
    ``example`` holds, per quantity, the forecast and actual of one site over the first held-out days (for the
    figure).
    """

    grid: str
    days: tuple[str, ...]
    history_days: int
    load_method: str
    n_load_sites: int
    n_pv_sites: int
    table: pd.DataFrame
    example: dict[str, dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready summary (NaN as None)."""
        rows = self.table.reset_index().to_dict(orient="records")
        clean = [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
                 for r in rows]
        return {
            "grid": self.grid, "days": list(self.days), "history_days": self.history_days,
            "load_method": self.load_method, "n_load_sites": self.n_load_sites, "n_pv_sites": self.n_pv_sites,
            "skill": clean,
        }


def check_backtest_inputs(
    grid: str, days: str | Sequence[str], history_days: int, load_method: str, window_days: int
) -> list[str]:
    """Check the inputs of :func:`backtest_simbench` before any data is loaded; return the held-out days.

    Parameters
    ----------
    grid : str
        SimBench LV grid code; must be one of ``openvpp.data.LV_GRIDS``.
    days : str or sequence of str
        Held-out days (:func:`parse_days`).
    history_days : int
        Days of history per forecast (8-180). [days]
    load_method : str
        ``"weekly"`` or ``"seasonal_naive"``.
    window_days : int
        PV clear-sky index window (2-60), at most ``history_days``. [days]

    Returns
    -------
    list of str
        The held-out days, sorted.
    """
    if grid not in LV_GRIDS:
        raise ValidationError(
            f"--grid {grid!r} is not a registered SimBench LV grid; use one of "
            f"{list(LV_GRIDS)}"
        )
    day_list = parse_days(days)
    if isinstance(history_days, bool) or not isinstance(history_days, int) or not 8 <= history_days <= 180:
        raise ValidationError(
            "--history-days must be a whole number of days in 8..180 (got "
            f"{history_days!r})"
        )
    if load_method not in ("weekly", "seasonal_naive"):
        raise ValidationError(f"--method must be 'weekly' or 'seasonal_naive' (got {load_method!r})")
    if (
        isinstance(window_days, bool)
        or not isinstance(window_days, int)
        or not 2 <= window_days <= history_days
    ):
        raise ValidationError(
            f"--window-days must be a whole number of days in 2..--history-days={history_days} (got "
            f"{window_days!r})"
        )
    first_ok = pd.Timestamp("2016-01-01") + pd.Timedelta(days=history_days)
    early = [d for d in day_list if pd.Timestamp(d) < first_ok]
    if early:
        raise ValidationError(
            f"--days {early[0]} has fewer than {history_days} days of 2016 before it; pick days from "
            f"{first_ok:%Y-%m-%d} on or shorten --history-days"
        )
    return day_list


def _simbench_sites(grid: str) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    net = load_simbench_lv(grid)
    prof = simbench_profiles(net, tz=SIMBENCH_TZ)
    loads = net.load
    house = loads.index[loads["profile"].astype(str).str.startswith("H0")]
    if len(house) == 0:
        raise ValidationError(
            f"SimBench grid {grid!r} has no household loads (profiles H0-*); choose "
            "another grid"
        )
    load_kw = prof[("load", "p_mw")][house] * mw_to_kw(1.0)
    sg = net.sgen
    pv = sg.index[sg["type"].astype(str).str.upper().str.startswith("PV")]
    if len(pv) == 0:
        raise ValidationError(f"SimBench grid {grid!r} has no PV generators; choose another grid")
    pv_kw = prof[("sgen", "p_mw")][pv].clip(lower=0.0) * mw_to_kw(1.0)
    kwp = mw_to_kw(sg.loc[pv, "p_mw"].to_numpy())
    load_kw.columns = [f"load_{i}" for i in house]
    pv_kw.columns = [f"pv_{i}" for i in pv]
    return load_kw, pv_kw, kwp


def backtest_simbench(
    grid: str = DEFAULT_GRID,
    days: str | Sequence[str] = DEFAULT_DAYS,
    *,
    history_days: int = 28,
    load_method: str = "weekly",
    window_days: int = 28,
    latitude: float = SIMBENCH_LATITUDE,
    longitude: float = SIMBENCH_LONGITUDE,
    example_days: int = 7,
    progress: Callable[[int, int], None] | None = None,
) -> ForecastSkillStudy:
    """Day-ahead skill of the load and PV forecasters and of persistence on held-out SimBench days.

    Parameters
    ----------
    grid : str
        SimBench LV grid code (``openvpp.data.LV_GRIDS``).
    days : str or sequence of str
        Held-out days (see :func:`parse_days`), each with ``history_days`` earlier days inside 2016.
    history_days : int
        Days of history each forecast sees (8-180). [days]
    load_method : {"weekly", "seasonal_naive"}
        Load forecaster.
    window_days : int
        Window of clear-sky indices of the PV forecaster. [days]
    latitude, longitude : float
        Location assumed for the PV clear sky. [deg]
    example_days : int
        Days kept for the figure, from the first held-out day. [days]
    progress : callable, optional
        ``progress(done, total)`` after each day.

    Returns
    -------
    ForecastSkillStudy
    """
    day_list = check_backtest_inputs(grid, days, history_days, load_method, window_days)
    load_kw, pv_kw, kwp = _simbench_sites(grid)
    index = load_kw.index
    spd = 96
    lv, pvv = load_kw.to_numpy().T, pv_kw.to_numpy().T
    methods: dict[str, dict[str, list[tuple[str, pd.Series]]]] = {"load": {}, "pv": {}}
    example: dict[str, dict[str, Any]] = {}
    for n_done, day in enumerate(day_list, start=1):
        i0 = int(index.get_loc(pd.Timestamp(day, tz=index.tz)))
        hist = slice(i0 - history_days * spd, i0)
        hor = slice(i0, i0 + spd)
        hidx, fidx = index[hist], index[hor]
        season = _SEASONS[pd.Timestamp(day).month]
        runs: dict[str, dict[str, Forecast]] = {
            "load": {
                load_method: forecast_load(lv[:, hist], hidx, fidx, method=load_method,  # type: ignore[arg-type]
                                           site_ids=load_kw.columns),
                "persistence": persistence(lv[:, hist], hidx, fidx, site_ids=load_kw.columns),
            },
            "pv": {
                "clearsky_index": forecast_pv(pvv[:, hist], hidx, fidx, kwp=kwp, latitude=latitude,
                                              longitude=longitude, site_ids=pv_kw.columns,
                                              window_days=window_days),
                "persistence": persistence(pvv[:, hist], hidx, fidx, site_ids=pv_kw.columns, quantity="pv"),
            },
        }
        actual = {"load": lv[:, hor], "pv": pvv[:, hor]}
        # PV is scored in daylight only: the modelled sun up at the assumed location, or output above zero
        daylight = clearsky_pv_per_kwp(fidx, latitude, longitude, location_decimals=2)[0][0] > 0
        masks = {"load": None, "pv": daylight[None, :] | (pvv[:, hor] > 0)}
        for qty, fcs in runs.items():
            for name, fc in fcs.items():
                row = skill(fc, actual[qty], mask=masks[qty]).loc["all"]
                methods[qty].setdefault(name, []).append((season, row))
            if n_done <= example_days:
                ex = example.setdefault(qty, {"site": str(fcs[next(iter(fcs))].site_ids[0]), "parts": []})
                main = next(iter(fcs.values()))
                ex["parts"].append((fidx, main.p10_kw[0], main.p50_kw[0], main.p90_kw[0], actual[qty][0]))
        if progress is not None:
            progress(n_done, len(day_list))
    table = _pool(methods)
    ex_out = {
        qty: {
            "site": ex["site"],
            "index": ex["parts"][0][0].append([p[0] for p in ex["parts"][1:]]),
            "p10_kw": np.concatenate([p[1] for p in ex["parts"]]),
            "p50_kw": np.concatenate([p[2] for p in ex["parts"]]),
            "p90_kw": np.concatenate([p[3] for p in ex["parts"]]),
            "actual_kw": np.concatenate([p[4] for p in ex["parts"]]),
        }
        for qty, ex in example.items()
    }
    return ForecastSkillStudy(grid, tuple(day_list), history_days, load_method, lv.shape[0], pvv.shape[0],
                              table, ex_out)


def _pool(methods: dict[str, dict[str, list[tuple[str, pd.Series]]]]) -> pd.DataFrame:
    """Pool daily metrics per quantity, season and method (equal steps per day: means; RMSE via squares)."""
    rows = []
    for qty, by_method in methods.items():
        for name, entries in by_method.items():
            frame = pd.DataFrame([r for _, r in entries])
            frame["season"] = [s for s, _ in entries]
            for season, part in [*frame.groupby("season", sort=False), ("all", frame)]:
                rows.append({
                    "quantity": qty, "season": season, "method": name, "n_days": len(part),
                    "mae_kw": part["mae_kw"].mean(),
                    "rmse_kw": float(np.sqrt((part["rmse_kw"] ** 2).mean())),
                    "pinball_kw": part["pinball_kw"].mean(),
                    "coverage_p10_p90": part["coverage_p10_p90"].mean(),
                    "mean_actual_kw": part["mean_actual_kw"].mean(),
                })
    table = pd.DataFrame(rows).set_index(["quantity", "season", "method"])
    ref = table.xs("persistence", level="method")
    for m in METRICS[:3]:
        scores = []
        for (qty, season, method), value in table[m].items():
            is_ref = method == "persistence"
            scores.append(np.nan if is_ref else skill_score(value, ref.loc[(qty, season), m]))
        table[f"skill_{m.removesuffix('_kw')}"] = np.asarray(scores, dtype=float)
    return table
