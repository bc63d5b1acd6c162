"""Market price series: energy and reserve prices on one validated time axis, and their loaders.

A :class:`PriceSeries` holds one column per market on a tz-aware, fixed-step axis whose stamps label the
**start** of each interval. Market keys follow ``openvpp/data/bundled/services_aemo.toml`` (seed 001 §5.4.1,
Table 7): ``energy`` (the regional reference price, currency per MWh) and the FCAS markets
``fcas_raise_6s``, ``fcas_lower_6s``, ``fcas_raise_60s``, ``fcas_lower_60s``, ``fcas_raise_5min``,
``fcas_lower_5min`` plus the regulation markets ``fcas_raise_reg``, ``fcas_lower_reg`` (availability prices,
currency per MW per hour: numerically per MWh of enabled capacity-time). Energy prices may be negative (they
are in the NEM); reserve prices may not.

Loaders
-------
* :func:`load_sa1_prices` - the bundled NEM SA1 year 2019-20 (AEMO, NEM trading prices, SA1, 2019-20), the
  market the arbitrage + FCAS model of seed 001 §5.4.1 used, half-hourly, AUD/MWh;
* :func:`read_price_csv` - a CSV in AEMO's layout (``SETTLEMENTDATE`` = interval **end** in market time,
  ``RRP`` and the FCAS ``...RRP`` columns) or OpenVPP's plain layout (``time`` = interval start with its UTC
  offset, then ``price`` or one column per market key).

:func:`price_summary` gives the day-type (workday / non-workday) and peak / off-peak means, the extremes and
the spreads that decide what arbitrage can earn.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from openvpp.data.prices import MAX_PRICE_FILE_BYTES, bundled_price_table, read_price_table
from openvpp.errors import ValidationError
from openvpp.timeseries import check_aligned, check_index, describe_difference
from openvpp.units import MIN_PER_H, per_kwh_to_per_mwh

__all__ = [
    "AEMO_COLUMNS",
    "ENERGY_MARKET",
    "MARKETS",
    "NEM_TZ",
    "PriceSeries",
    "load_sa1_prices",
    "price_summary",
    "read_price_csv",
]

#: the energy market key; every other market is a reserve (availability) market
ENERGY_MARKET = "energy"
#: market keys OpenVPP knows (services_aemo.toml plus regulation and the 1-second FCAS markets)
MARKETS = (
    "energy",
    "fcas_raise_6s", "fcas_lower_6s", "fcas_raise_60s", "fcas_lower_60s",
    "fcas_raise_5min", "fcas_lower_5min",
    "fcas_raise_reg", "fcas_lower_reg", "fcas_raise_1s", "fcas_lower_1s",
)
#: AEMO price columns (DISPATCHPRICE / TRADINGPRICE tables) -> market keys
AEMO_COLUMNS = {
    "RRP": "energy",
    "RAISE6SECRRP": "fcas_raise_6s", "LOWER6SECRRP": "fcas_lower_6s",
    "RAISE60SECRRP": "fcas_raise_60s", "LOWER60SECRRP": "fcas_lower_60s",
    "RAISE5MINRRP": "fcas_raise_5min", "LOWER5MINRRP": "fcas_lower_5min",
    "RAISEREGRRP": "fcas_raise_reg", "LOWERREGRRP": "fcas_lower_reg",
    "RAISE1SECRRP": "fcas_raise_1s", "LOWER1SECRRP": "fcas_lower_1s",
}
#: NEM market time: AEST all year (UTC+10:00, no daylight saving); IANA writes it Etc/GMT-10
NEM_TZ = "Etc/GMT-10"
#: date formats of AEMO's SETTLEMENTDATE (MMS data model; spreadsheet exports as in the bundled source)
_AEMO_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "ISO8601")
#: the NEM's standard peak: 07:00-22:00 market time on workdays (ASX energy futures' peak period)
PEAK_START, PEAK_END = "07:00", "22:00"


@dataclasses.dataclass(frozen=True)
class PriceSeries:
    """Prices of one or more markets on one tz-aware, fixed-step axis of interval starts.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Start of each interval, tz-aware, fixed step, strictly increasing, shape (n_steps,).
    price_per_mwh : pandas.DataFrame
        One column per market (keys of :data:`MARKETS` where they apply), indexed by ``index``: energy in
        currency per MWh, reserve availability in currency per MW per hour. [currency/MWh]
    currency : str
        ISO code of the currency, e.g. ``"AUD"``.
    source : str
        Where the prices come from (a citation or a file name).

    Raises
    ------
    ValidationError
        On a naive, irregular, duplicated or unsorted axis, a frame on another axis, an empty or non-numeric
        column, NaN or infinite prices, or negative reserve prices; the message names the column and the fix.
    """

    index: pd.DatetimeIndex
    price_per_mwh: pd.DataFrame
    currency: str = "AUD"
    source: str = ""

    def __post_init__(self) -> None:
        index = check_index(self.index, "prices.index")
        if len(index) == 0:
            raise ValidationError("prices.index is empty; a price series needs at least one interval")
        if len(index) == 1 and index.freq is None:
            raise ValidationError(
                "prices.index has one interval and no freq, so its step is unknown; build it with "
                "openvpp.timeseries.make_index"
            )
        frame = self.price_per_mwh
        if not isinstance(frame, pd.DataFrame):
            raise ValidationError(
                f"prices.price_per_mwh must be a pandas.DataFrame with one column per market "
                f"(got {type(frame).__name__})"
            )
        if frame.shape[1] == 0:
            raise ValidationError(f"prices.price_per_mwh has no market column; name columns from {MARKETS}")
        if not isinstance(frame.index, pd.DatetimeIndex) or not frame.index.equals(index):
            got = frame.index if isinstance(frame.index, pd.DatetimeIndex) else pd.DatetimeIndex([])
            raise ValidationError(
                "prices.price_per_mwh is not on prices.index ("
                f"{describe_difference(index, got, ('index', 'price_per_mwh')) or 'different index type'}); "
                "build the frame with index=index"
            )
        cols = [str(c) for c in frame.columns]
        if len(set(cols)) != len(cols):
            raise ValidationError(f"prices.price_per_mwh has duplicated market columns {cols}; keep one each")
        if not isinstance(self.currency, str) or not self.currency.strip():
            raise ValidationError(
                "prices.currency must be a currency code such as 'AUD' (got "
                f"{self.currency!r})"
            )
        try:
            values = frame.to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"prices.price_per_mwh must be numeric in every column ({exc})") from exc
        bad = ~np.isfinite(values)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise ValidationError(
                f"price column {cols[c]!r} is NaN or infinite at {index[r]} ({int(bad[:, c].sum())} such "
                "intervals); fill or drop them before building the series"
            )
        for c, name in enumerate(cols):
            if name != ENERGY_MARKET and (values[:, c] < 0).any():
                r = int(np.argmax(values[:, c] < 0))
                raise ValidationError(
                    f"price column {name!r} is a reserve market and must be >= 0 per MW per hour "
                    f"(got {values[r, c]} at {index[r]}); only energy prices may be negative"
                )
        clean = pd.DataFrame(values, index=index, columns=cols)
        clean.index.name = "interval_start"
        values.flags.writeable = False
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "price_per_mwh", clean)
        object.__setattr__(self, "currency", self.currency.strip().upper())

    # ------------------------------------------------------------------ properties
    @property
    def markets(self) -> tuple[str, ...]:
        """Market keys present, in column order."""
        return tuple(str(c) for c in self.price_per_mwh.columns)

    @property
    def n_steps(self) -> int:
        """Number of intervals. [-]"""
        return len(self.index)

    @property
    def step_min(self) -> float:
        """Interval length. [min]"""
        if len(self.index) >= 2:
            return (self.index[1] - self.index[0]).total_seconds() / 60.0
        return pd.Timedelta(self.index.freq).total_seconds() / 60.0

    @property
    def dt_h(self) -> float:
        """Interval length. [h]"""
        return self.step_min / MIN_PER_H

    @property
    def end(self) -> pd.Timestamp:
        """End of the last interval."""
        return self.index[-1] + pd.Timedelta(minutes=self.step_min)

    # ------------------------------------------------------------------ access
    def market(self, name: str) -> np.ndarray:
        """Prices of one market as a float array, shape (n_steps,).

        Parameters
        ----------
        name : str
            Market key, e.g. ``"energy"`` or ``"fcas_raise_6s"``.

        Returns
        -------
        numpy.ndarray
            Energy in currency per MWh, reserves in currency per MW per hour. [currency/MWh]
        """
        if name not in self.markets:
            raise ValidationError(
                f"market {name!r} is not in these prices; available markets: "
                f"{list(self.markets)}"
            )
        return self.price_per_mwh[name].to_numpy(dtype=float, copy=True)

    def _replace_rows(self, frame: pd.DataFrame, index: pd.DatetimeIndex) -> PriceSeries:
        return PriceSeries(index=index, price_per_mwh=frame.set_axis(index), currency=self.currency,
                           source=self.source)

    def _stamp(self, value: str | pd.Timestamp, name: str) -> pd.Timestamp:
        try:
            ts = pd.Timestamp(value)
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                f"{name} must be a time such as '2019-07-01 00:00' (got {value!r})"
            ) from exc
        if ts is pd.NaT:
            raise ValidationError(f"{name} must be a time such as '2019-07-01 00:00' (got {value!r})")
        return ts.tz_localize(self.index.tz) if ts.tzinfo is None else ts.tz_convert(self.index.tz)

    def between(self, start: str | pd.Timestamp, end: str | pd.Timestamp) -> PriceSeries:
        """The intervals that start in ``[start, end)``; naive times are read in the series' time zone.

        Parameters
        ----------
        start, end : str or pandas.Timestamp
            First included and first excluded interval start.

        Returns
        -------
        PriceSeries
        """
        a, b = self._stamp(start, "start"), self._stamp(end, "end")
        if b <= a:
            raise ValidationError(f"end ({b}) must be after start ({a})")
        i0, i1 = int(self.index.searchsorted(a)), int(self.index.searchsorted(b))
        if i1 <= i0:
            raise ValidationError(
                f"no price interval starts between {a} and {b}; the prices cover {self.index[0]} .. "
                f"{self.end}"
            )
        idx = self.index[i0:i1]
        if len(idx) == 1:
            idx = pd.DatetimeIndex(idx, freq=pd.Timedelta(minutes=self.step_min))
        return self._replace_rows(self.price_per_mwh.iloc[i0:i1], idx)

    def day(self, day: str | pd.Timestamp) -> PriceSeries:
        """The whole local day ``day`` (in the series' time zone); it must be fully covered.

        Parameters
        ----------
        day : str or pandas.Timestamp
            Date, e.g. ``"2019-12-20"``.

        Returns
        -------
        PriceSeries
        """
        d = self._stamp(day, "day").normalize()
        out = self.between(d, d + pd.Timedelta(days=1))
        if out.index[0] != d or out.end != d + pd.Timedelta(days=1):
            raise ValidationError(
                f"day {str(day)!r} is not fully covered by the prices ({self.index[0]} .. {self.end}); "
                "pick a day inside that range"
            )
        return out

    def resample(self, step_min: float) -> PriceSeries:
        """The same prices on another step: mean over whole intervals when coarser, held when finer.

        Parameters
        ----------
        step_min : float
            New interval length; a whole multiple or divisor of the current one. [min]

        Returns
        -------
        PriceSeries
        """
        try:
            new = float(step_min)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"step_min must be a number of minutes (got {step_min!r})") from exc
        old = self.step_min
        if not np.isfinite(new) or new <= 0:
            raise ValidationError(f"step_min must be a positive number of minutes (got {step_min!r})")
        if new == old:
            return self
        values = self.price_per_mwh.to_numpy()
        freq = pd.Timedelta(minutes=new)
        if new > old:
            k = new / old
            if abs(k - round(k)) > 1e-9:
                raise ValidationError(
                    f"step_min={new:g} is not a whole multiple of the price step {old:g} min; choose e.g. "
                    f"{2 * old:g}"
                )
            k = round(k)
            if self.n_steps % k:
                raise ValidationError(
                    f"{self.n_steps} intervals of {old:g} min do not fill whole {new:g}-min steps; slice the "
                    f"prices to a multiple of {k} intervals first (e.g. whole days with .day())"
                )
            values = values.reshape(self.n_steps // k, k, -1).mean(axis=1)
            idx = pd.date_range(self.index[0], periods=values.shape[0], freq=freq)
        else:
            k = old / new
            if abs(k - round(k)) > 1e-9:
                raise ValidationError(
                    f"step_min={new:g} does not divide the price step {old:g} min; choose e.g. {old / 2:g}"
                )
            k = round(k)
            values = np.repeat(values, k, axis=0)
            idx = pd.date_range(self.index[0], periods=values.shape[0], freq=freq)
        return PriceSeries(idx, pd.DataFrame(values, index=idx, columns=list(self.markets)),
                           currency=self.currency, source=self.source)

    def align(self, index: pd.DatetimeIndex, name: str = "index") -> PriceSeries:
        """The prices on exactly ``index`` (sliced from a longer series), or a ValidationError saying how the
        axes differ.

        ``index`` must have the price step and lie on the price grid inside the covered period; the result is
        labelled in ``index``'s time zone. Resample first with :meth:`resample` when the steps differ.

        Parameters
        ----------
        index : pandas.DatetimeIndex
            Target axis (interval starts), tz-aware, fixed step.
        name : str
            Name of the target axis in messages (e.g. the CLI flag).

        Returns
        -------
        PriceSeries
        """
        check_index(index, name)
        if len(index) == 0:
            raise ValidationError(f"{name} is empty")
        target_step = (index[1] - index[0]) if len(index) >= 2 else (
            pd.Timedelta(index.freq) if index.freq is not None else pd.Timedelta(minutes=self.step_min)
        )
        own_step = pd.Timedelta(minutes=self.step_min)
        if target_step != own_step:
            raise ValidationError(
                f"time axes prices and {name} are not aligned (step prices={own_step} vs "
                f"{name}={target_step}); "
                f"call prices.resample({target_step.total_seconds() / 60:g}) first"
            )
        pos = self.index.get_indexer(index.tz_convert(self.index.tz))
        if (pos < 0).any() or np.any(np.diff(pos) != 1):
            first_bad = index[int(np.argmax(pos < 0))] if (pos < 0).any() else index[0]
            raise ValidationError(
                f"time axes prices and {name} are not aligned: {name} runs {index[0]} .. {index[-1]} but the "
                f"prices cover {self.index[0]} .. {self.end} on a {own_step} grid ({first_bad} is not a "
                "price "
                "interval start); load prices that cover the period or shift the axis onto the price grid"
            )
        frame = self.price_per_mwh.iloc[pos[0] : pos[-1] + 1]
        idx = pd.DatetimeIndex(index, freq=target_step)
        out = self._replace_rows(frame, idx)
        check_aligned(idx, out.index, (name, "prices"))
        return out

    def to_frame(self) -> pd.DataFrame:
        """The prices as a frame with units in the column names (``energy_aud_per_mwh``, ...).

        Returns
        -------
        pandas.DataFrame
            Indexed by interval start. [currency/MWh]
        """
        suffix = f"_{self.currency.lower()}_per_mwh"
        out = self.price_per_mwh.copy()
        out.columns = [f"{m}{suffix}" for m in self.markets]
        return out


# ---------------------------------------------------------------------------------------------- loaders
def load_sa1_prices() -> PriceSeries:
    """The bundled NEM SA1 prices of the financial year 2019-20: energy and eight FCAS markets, half-hourly.

    17,520 intervals from 2019-07-01 00:00 to 2020-06-30 23:30 market time (AEST, UTC+10), labelled by
    interval start; energy (RRP) in AUD/MWh, FCAS availability in AUD per MW per hour. The market, region
    and year the arbitrage + FCAS model of seed 001 §5.4.1 used. Source: AEMO, NEM trading prices, SA1,
    2019-20 (see ``openvpp/data/bundled/nem_sa1_2019-20_prices.toml``).

    Returns
    -------
    PriceSeries
        Currency ``"AUD"``. [AUD/MWh]
    """
    frame, meta = bundled_price_table()
    return _from_plain(frame, where="bundled SA1 prices", tz=str(meta.get("tz", NEM_TZ)),
                       currency=str(meta.get("currency", "AUD")), price_scale=1.0,
                       source=str(meta["source"]))


def read_price_csv(
    path: str | Path,
    layout: Literal["auto", "aemo", "plain"] = "auto",
    tz: str | None = None,
    currency: str = "AUD",
    *,
    price_unit: Literal["MWh", "kWh"] = "MWh",
    region: str | None = None,
    source: str | None = None,
    max_bytes: int = MAX_PRICE_FILE_BYTES,
) -> PriceSeries:
    """Read prices from a CSV in AEMO's layout or OpenVPP's plain ``time,price`` layout.

    *AEMO layout* (``SETTLEMENTDATE`` column): each row is the interval that **ends** at SETTLEMENTDATE, in
    market time (``tz`` default :data:`NEM_TZ`); ``RRP`` and any FCAS ``...RRP`` columns of
    :data:`AEMO_COLUMNS` become markets; a ``REGIONID``/``REGION`` column is filtered by ``region``. The
    interval start is SETTLEMENTDATE minus the step (e.g. ``1/07/2019 0:30`` -> 00:00). *Plain layout*
    (``time`` column): ``time`` is the interval **start** and must carry its UTC offset unless ``tz`` is
    given; the other columns are ``price`` (read as ``energy``) or market keys of :data:`MARKETS`.

    Parameters
    ----------
    path : str or pathlib.Path
        The CSV file (``.gz`` read as gzip).
    layout : {"auto", "aemo", "plain"}
        ``"auto"`` picks AEMO when a SETTLEMENTDATE column exists, plain when a ``time`` column does.
    tz : str, optional
        Time zone of naive stamps (IANA name). Default: NEM market time for AEMO files; plain files must then
        carry offsets.
    currency : str
        Currency of the prices, e.g. ``"AUD"``.
    price_unit : {"MWh", "kWh"}
        Unit the file's prices are per (AEMO publishes per MWh); per-kWh prices are converted to per MWh.
    region : str, optional
        AEMO region to keep (e.g. ``"SA1"``) when the file holds several.
    source : str, optional
        Citation stored with the series (default: the file name).
    max_bytes : int
        Largest file accepted. [bytes]

    Returns
    -------
    PriceSeries
        Energy in currency per MWh, reserves in currency per MW per hour. [currency/MWh]

    Raises
    ------
    ValidationError
        Naming the column (as written in the file) and the fix: unknown layout, unparsable or naive times,
        gaps, duplicated or unsorted intervals, non-numeric or missing prices, negative reserve prices.
    """
    if layout not in ("auto", "aemo", "plain"):
        raise ValidationError(f"layout must be 'auto', 'aemo' or 'plain' (got {layout!r})")
    if price_unit not in ("MWh", "kWh"):
        raise ValidationError(f"price_unit must be 'MWh' or 'kWh' (got {price_unit!r})")
    frame = read_price_table(path, max_bytes=max_bytes)
    where = f"price file {Path(path).name!r}"
    cols = set(frame.columns)
    if layout == "auto":
        if "SETTLEMENTDATE" in cols:
            layout = "aemo"
        elif "time" in cols:
            layout = "plain"
        else:
            raise ValidationError(
                f"{where} has columns {list(frame.columns)[:12]}: neither AEMO's SETTLEMENTDATE nor a 'time' "
                "column; use AEMO's layout (SETTLEMENTDATE,RRP,...) or the plain layout (time,price)"
            )
    scale = float(per_kwh_to_per_mwh(1.0)) if price_unit == "kWh" else 1.0
    src = source if source is not None else Path(path).name
    if layout == "aemo":
        return _from_aemo(frame, where=where, tz=tz or NEM_TZ, currency=currency, price_scale=scale,
                          region=region, source=src)
    return _from_plain(frame, where=where, tz=tz, currency=currency, price_scale=scale, source=src)


def _parse_times(raw: pd.Series, column: str, where: str, formats: Sequence[str]) -> pd.DatetimeIndex:
    text = raw.astype(str).str.strip()
    if (text == "").any():
        row = int(np.argmax((text == "").to_numpy()))
        raise ValidationError(
            f"{where}: column {column!r} is blank at data row {row + 1}; every row needs "
            "a time"
        )
    for fmt in formats:
        try:
            if fmt == "ISO8601":
                parsed = pd.to_datetime(text, format="ISO8601")
            else:
                parsed = pd.to_datetime(text, format=fmt)
        except (ValueError, TypeError):
            continue
        return pd.DatetimeIndex(parsed)
    raise ValidationError(
        f"{where}: column {column!r} has times that could not be read (first value {text.iloc[0]!r}); "
        "write them as '2019-07-01 00:30' or, for AEMO files, '2019/07/01 00:30:00' or '1/07/2019 0:30'"
    )


def _check_axis(times: pd.DatetimeIndex, column: str, where: str) -> pd.Timedelta:
    """Duplicates, order, gaps and step of parsed stamps, with messages naming the column."""
    if len(times) < 2:
        raise ValidationError(f"{where} has {len(times)} data row(s); at least two intervals are needed")
    ns = times.asi8
    d = np.diff(ns)
    if (d == 0).any():
        r = int(np.argmax(d == 0))
        raise ValidationError(
            f"{where}: column {column!r} repeats {times[r]} (data rows {r + 1} and {r + 2}); remove the "
            "duplicate"
        )
    if (d < 0).any():
        r = int(np.argmax(d < 0))
        raise ValidationError(
            f"{where}: column {column!r} is not in time order ({times[r]} at data row {r + 1} is followed by "
            f"{times[r + 1]}); sort the file by {column}"
        )
    vals, counts = np.unique(d, return_counts=True)
    step = int(vals[np.argmax(counts)])  # the most common step
    if (d != step).any():
        r = int(np.argmax(d != step))
        if d[r] > step and d[r] % step == 0:
            missing = int(d[r] // step) - 1
            raise ValidationError(
                f"{where}: column {column!r} has a gap of {missing} interval(s) of {pd.Timedelta(step)} "
                "between "
                f"{times[r]} and {times[r + 1]} (data rows {r + 1}-{r + 2}); fill the missing intervals"
            )
        raise ValidationError(
            f"{where}: column {column!r} has no fixed step ({pd.Timedelta(step)} and "
            f"{pd.Timedelta(int(d[r]))} "
            f"at {times[r]}); resample it to one step"
        )
    return pd.Timedelta(step)


def _localise(times: pd.DatetimeIndex, tz: str | None, column: str, where: str) -> pd.DatetimeIndex:
    if times.tz is None:
        if tz is None:
            raise ValidationError(
                f"{where}: column {column!r} has no UTC offset (e.g. {times[0]}); write stamps like "
                "'2019-07-01T00:00+10:00' or pass tz (e.g. tz='Etc/GMT-10' for NEM market time)"
            )
        try:
            return times.tz_localize(tz, ambiguous="raise", nonexistent="raise")
        except Exception as exc:  # unknown zone, or a stamp that falls in a DST gap/overlap
            raise ValidationError(
                f"{where}: column {column!r} cannot be read in time zone {tz!r} ({exc}); pass a fixed-offset "
                "zone such as 'Etc/GMT-10'"
            ) from exc
    return times.tz_convert(tz) if tz is not None else times


def _numeric(frame: pd.DataFrame, columns: Sequence[str], where: str) -> np.ndarray:
    out = np.empty((len(frame), len(columns)))
    for j, col in enumerate(columns):  # one pass per market column (a handful), never per row
        text = frame[col].astype(str).str.strip()
        blank = (text == "") | text.str.lower().isin(("nan", "na", "null", "none"))
        if blank.any():
            r = int(np.argmax(blank.to_numpy()))
            raise ValidationError(
                f"{where}: column {col!r} is missing or NaN at data row {r + 1} ({int(blank.sum())} row(s)); "
                "fill the missing prices"
            )
        vals = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(vals)
        if bad.any():
            r = int(np.argmax(bad))
            raise ValidationError(
                f"{where}: column {col!r} has a value that is not a finite number at data row {r + 1} "
                f"({text.iloc[r]!r}); prices must be plain numbers"
            )
        out[:, j] = vals
    return out


def _build(
    starts: pd.DatetimeIndex, step: pd.Timedelta, values: np.ndarray, markets: Sequence[str], where: str,
    columns: Sequence[str], currency: str, source: str,
) -> PriceSeries:
    for j, (m, col) in enumerate(zip(markets, columns, strict=True)):
        if m != ENERGY_MARKET and (values[:, j] < 0).any():
            r = int(np.argmax(values[:, j] < 0))
            raise ValidationError(
                f"{where}: column {col!r} is a reserve price and must be >= 0 (got {values[r, j]} at data "
                "row "
                f"{r + 1}); only energy prices may be negative"
            )
    idx = pd.DatetimeIndex(starts, freq=step)
    return PriceSeries(idx, pd.DataFrame(values, index=idx, columns=list(markets)), currency=currency,
                       source=source)


def _from_aemo(
    frame: pd.DataFrame, *, where: str, tz: str, currency: str, price_scale: float, region: str | None,
    source: str,
) -> PriceSeries:
    region_col = next((c for c in ("REGIONID", "REGION") if c in frame.columns), None)
    if region_col is not None:
        regions = sorted(frame[region_col].astype(str).str.strip().unique())
        if region is not None:
            if region not in regions:
                raise ValidationError(
                    f"{where}: region {region!r} not in column {region_col!r}; found "
                    f"{regions}"
                )
            frame = frame[frame[region_col].astype(str).str.strip() == region]
        elif len(regions) > 1:
            raise ValidationError(
                f"{where}: column {region_col!r} holds several regions {regions}; pass region (e.g. 'SA1')"
            )
    price_cols = [c for c in frame.columns if c in AEMO_COLUMNS]
    if "RRP" not in price_cols:
        raise ValidationError(
            f"{where}: AEMO layout needs an 'RRP' column (energy price) beside SETTLEMENTDATE; found "
            f"{list(frame.columns)[:12]}"
        )
    ends = _parse_times(frame["SETTLEMENTDATE"], "SETTLEMENTDATE", where, _AEMO_FORMATS)
    step = _check_axis(ends, "SETTLEMENTDATE", where)
    ends = _localise(ends, tz, "SETTLEMENTDATE", where)
    values = _numeric(frame, price_cols, where) * price_scale
    return _build(ends - step, step, values, [AEMO_COLUMNS[c] for c in price_cols], where, price_cols,
                  currency, source)


def _from_plain(
    frame: pd.DataFrame, *, where: str, tz: str | None, currency: str, price_scale: float, source: str,
) -> PriceSeries:
    if "time" not in frame.columns:
        raise ValidationError(
            f"{where}: plain layout needs a 'time' column (interval start); found "
            f"{list(frame.columns)[:12]}"
        )
    others = [c for c in frame.columns if c != "time"]
    unknown = [c for c in others if c != "price" and c not in MARKETS]
    if unknown or not others:
        raise ValidationError(
            f"{where}: plain layout columns must be 'time' and 'price' or market keys {list(MARKETS)}; "
            f"found {unknown or 'no price column'}"
        )
    if "price" in others and "energy" in others:
        raise ValidationError(f"{where}: columns 'price' and 'energy' both give the energy price; keep one")
    times = _parse_times(frame["time"], "time", where, ("ISO8601",))
    step = _check_axis(times, "time", where)
    starts = _localise(times, tz, "time", where)
    values = _numeric(frame, others, where) * price_scale
    markets = ["energy" if c == "price" else c for c in others]
    return _build(starts, step, values, markets, where, others, currency, source)


# ---------------------------------------------------------------------------------------------- summary
def _hhmm_minutes(value: str, name: str) -> int:
    try:
        h, m = (int(x) for x in str(value).split(":"))
    except ValueError as exc:
        raise ValidationError(f"{name} must be a time of day 'HH:MM' (got {value!r})") from exc
    if not (0 <= h <= 24 and 0 <= m < 60) or h * 60 + m > 24 * 60:
        raise ValidationError(f"{name} must be a time of day between 00:00 and 24:00 (got {value!r})")
    return h * 60 + m


def price_summary(
    prices: PriceSeries,
    *,
    peak_start: str = PEAK_START,
    peak_end: str = PEAK_END,
    holidays: Sequence[str | pd.Timestamp] = (),
) -> pd.DataFrame:
    """Day-type and peak / off-peak summary of every market of a price series.

    Workdays are Monday-Friday except ``holidays``; the peak is the intervals that start in
    ``[peak_start, peak_end)`` local time on workdays (default 07:00-22:00, the NEM's standard peak as in
    ASX energy futures); everything else is off-peak. Means are time-weighted (every interval has the same
    length). ``daily_spread_mean`` (and ``_median``) is the mean (median) over whole days of (daily max -
    daily min), the gross margin per MWh one full arbitrage cycle a day could catch at most (seed 001 §5.4).

    Parameters
    ----------
    prices : PriceSeries
        The prices. [currency/MWh]
    peak_start, peak_end : str
        Peak window, ``"HH:MM"`` local time of the series.
    holidays : sequence of str or pandas.Timestamp
        Dates counted as non-workdays.

    Returns
    -------
    pandas.DataFrame
        One row per market; columns ``unit``, ``mean``, ``workday_mean``, ``non_workday_mean``,
        ``peak_mean``, ``off_peak_mean``, ``peak_off_peak_spread``, ``min``, ``max``, ``daily_spread_mean``,
        ``daily_spread_median``, ``n_intervals``; a mean over an empty set is NaN. [currency/MWh]
    """
    if not isinstance(prices, PriceSeries):
        raise ValidationError(f"prices must be a PriceSeries (got {type(prices).__name__})")
    a, b = _hhmm_minutes(peak_start, "peak_start"), _hhmm_minutes(peak_end, "peak_end")
    if b <= a:
        raise ValidationError(f"peak_end ({peak_end}) must be after peak_start ({peak_start})")
    idx = prices.index
    local_day = idx.normalize().tz_localize(None)
    try:
        hol = pd.DatetimeIndex([pd.Timestamp(h) for h in holidays]).normalize()
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"holidays must be dates such as '2019-12-25' ({exc})") from exc
    hol = hol.tz_localize(None) if hol.tz is not None else hol
    workday = (idx.dayofweek < 5) & ~local_day.isin(hol)
    minute = idx.hour * 60 + idx.minute
    peak = workday & (minute >= a) & (minute < b)
    values = prices.price_per_mwh.to_numpy()

    def mean(mask: np.ndarray) -> np.ndarray:
        return values[mask].mean(axis=0) if mask.any() else np.full(values.shape[1], np.nan)

    per_day = round(pd.Timedelta(days=1) / pd.Timedelta(minutes=prices.step_min))
    days = pd.DataFrame(values, index=local_day, columns=list(prices.markets))
    counts = days.groupby(level=0).size()
    full = counts.index[counts.to_numpy() == per_day]
    grouped = days.loc[days.index.isin(full)].groupby(level=0)
    nan_row = np.full(values.shape[1], np.nan)
    daily = grouped.max() - grouped.min()
    spread = daily.mean().to_numpy() if len(full) else nan_row
    spread_median = daily.median().to_numpy() if len(full) else nan_row
    cur = prices.currency
    out = pd.DataFrame(
        {
            "unit": [f"{cur}/MWh" if m == ENERGY_MARKET else f"{cur}/MW/h" for m in prices.markets],
            "mean": values.mean(axis=0),
            "workday_mean": mean(workday),
            "non_workday_mean": mean(~workday),
            "peak_mean": mean(peak),
            "off_peak_mean": mean(~peak),
            "min": values.min(axis=0),
            "max": values.max(axis=0),
            "daily_spread_mean": spread,
            "daily_spread_median": spread_median,
            "n_intervals": np.full(values.shape[1], len(idx)),
        },
        index=pd.Index(list(prices.markets), name="market"),
    )
    out.insert(6, "peak_off_peak_spread", out["peak_mean"] - out["off_peak_mean"])
    return out
