"""Price series: the bundled SA1 year, AEMO and plain CSV loaders, slicing, resampling, alignment, summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvpp.errors import ValidationError
from openvpp.services.prices import (
    NEM_TZ,
    PriceSeries,
    load_sa1_prices,
    price_summary,
    read_price_csv,
)
from openvpp.timeseries import make_index

AEMO_HEADER = "SETTLEMENTDATE,RRP,RAISE6SECRRP,LOWER6SECRRP\n"


@pytest.fixture(scope="module")
def sa1() -> PriceSeries:
    return load_sa1_prices()


def _write(tmp_path, text: str, name: str = "prices.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _series(values, start="2024-01-05 00:00", step_min=60.0, tz="Etc/GMT-10", **markets) -> PriceSeries:
    idx = make_index(start, len(values), step_min, tz=tz)
    cols = {"energy": values, **markets}
    return PriceSeries(idx, pd.DataFrame(cols, index=idx), currency="AUD", source="test")


# ---------------------------------------------------------------------------------------------- bundled
def test_bundled_year_matches_the_raw_file_rows_by_hand(sa1):
    # raw rows (AUD/kWh, interval ending): "1/07/2019 0:30,0.05496,0.00133,...,0.01453" and the next two
    assert sa1.currency == "AUD" and "AEMO" in sa1.source and "SA1" in sa1.source
    assert sa1.n_steps == 17520 and sa1.step_min == 30.0
    assert sa1.index[0] == pd.Timestamp("2019-07-01 00:00", tz="Etc/GMT-10")  # 00:30 ending -> 00:00 start
    assert sa1.index[-1] == pd.Timestamp("2020-06-29 23:30+10:00")
    assert sa1.markets == (
        "energy", "fcas_raise_6s", "fcas_lower_6s", "fcas_raise_60s", "fcas_lower_60s", "fcas_raise_5min",
        "fcas_lower_5min", "fcas_raise_reg", "fcas_lower_reg",
    )
    assert sa1.market("energy")[:3] == pytest.approx([54.96, 40.83, 19.25])
    assert sa1.market("fcas_raise_6s")[:3] == pytest.approx([1.33, 1.45, 1.16])
    assert sa1.market("fcas_lower_6s")[:3] == pytest.approx([0.02, 0.03, 0.04])
    assert sa1.market("fcas_lower_reg")[:3] == pytest.approx([14.53, 23.99, 20.20])
    # README of the data: mean RRP 62 AUD/MWh, range -919.78 to 14,700 (the market price cap)
    energy = sa1.market("energy")
    assert energy.mean() == pytest.approx(62.12, abs=0.01)
    assert energy.min() == pytest.approx(-919.78) and energy.max() == pytest.approx(14700.0)


def test_bundled_year_slices_to_a_day_and_resamples(sa1):
    day = sa1.day("2019-12-20")
    assert day.n_steps == 48 and day.index[0] == pd.Timestamp("2019-12-20 00:00+10:00")
    hourly = day.resample(60)
    assert hourly.n_steps == 24
    assert hourly.market("energy")[0] == pytest.approx(day.market("energy")[:2].mean())
    five = day.resample(5)
    assert five.n_steps == 288 and np.all(five.market("energy")[:6] == day.market("energy")[0])


# ---------------------------------------------------------------------------------------------- AEMO layout
def test_aemo_layout_interval_ending_converted_by_hand(tmp_path):
    path = _write(tmp_path, AEMO_HEADER + "2019/07/01 00:30:00,54.96,1.33,0.02\n"
                  "2019/07/01 01:00:00,-40.5,1.45,0.03\n2019/07/01 01:30:00,19.25,1.16,0.04\n")
    p = read_price_csv(path)  # auto -> AEMO layout, NEM market time
    assert list(p.index) == [pd.Timestamp(f"2019-07-01 {t}", tz=NEM_TZ) for t in ("00:00", "00:30", "01:00")]
    assert p.index[0] == pd.Timestamp("2019-06-30 14:00", tz="UTC")
    assert p.markets == ("energy", "fcas_raise_6s", "fcas_lower_6s")
    assert p.market("energy").tolist() == [54.96, -40.5, 19.25]  # negative energy prices are real
    assert p.market("fcas_lower_6s").tolist() == [0.02, 0.03, 0.04]


def test_aemo_day_first_dates_and_per_kwh_prices(tmp_path):
    path = _write(tmp_path, "SETTLEMENTDATE,RRP,RAISEREGRRP\n1/07/2019 0:05,0.05496,0.02311\n"
                  "1/07/2019 0:10,0.04083,0.02386\n")
    p = read_price_csv(path, layout="aemo", price_unit="kWh")
    assert p.step_min == 5.0 and p.index[0] == pd.Timestamp("2019-07-01 00:00+10:00")
    assert p.market("energy") == pytest.approx([54.96, 40.83])
    assert p.market("fcas_raise_reg") == pytest.approx([23.11, 23.86])


def test_aemo_region_column_is_filtered(tmp_path):
    text = ("REGIONID,SETTLEMENTDATE,RRP\nSA1,2019/07/01 00:30:00,50\nVIC1,2019/07/01 00:30:00,40\n"
            "SA1,2019/07/01 01:00:00,60\nVIC1,2019/07/01 01:00:00,45\n")
    path = _write(tmp_path, text)
    with pytest.raises(ValidationError, match=r"REGIONID.*several regions"):
        read_price_csv(path)
    assert read_price_csv(path, region="VIC1").market("energy").tolist() == [40.0, 45.0]


# ---------------------------------------------------------------------------------------------- plain layout
def test_plain_layout_with_offsets(tmp_path):
    path = _write(tmp_path, "time,price\n2024-01-05T00:00+01:00,80\n2024-01-05T00:30+01:00,-5\n")
    p = read_price_csv(path, currency="EUR")
    assert p.currency == "EUR" and p.markets == ("energy",)
    assert p.index[0] == pd.Timestamp("2024-01-04 23:00", tz="UTC") and p.step_min == 30
    frame = p.to_frame()
    assert list(frame.columns) == ["energy_eur_per_mwh"]
    assert frame.iloc[:, 0].tolist() == [80.0, -5.0]


@pytest.mark.parametrize(
    "text, kwargs, match",
    [
        ("time,price\n2024-01-05 00:00,80\n2024-01-05 00:30,81\n", {}, "column 'time' has no UTC offset"),
        (AEMO_HEADER + "2019/07/01 00:30:00,1,1,1\n2019/07/01 01:30:00,1,1,1\n2019/07/01 02:00:00,1,1,1\n",
         {}, "'SETTLEMENTDATE' has a gap of 1 interval"),
        (AEMO_HEADER + "2019/07/01 00:30:00,1,1,1\n2019/07/01 00:30:00,1,1,1\n", {},
         "'SETTLEMENTDATE' repeats"),
        (AEMO_HEADER + "2019/07/01 01:00:00,1,1,1\n2019/07/01 00:30:00,1,1,1\n", {},
         "'SETTLEMENTDATE' is not in time order"),
        (AEMO_HEADER + "2019/07/01 00:30:00,1,,1\n2019/07/01 01:00:00,1,1,1\n", {},
         "column 'RAISE6SECRRP' is missing or NaN at data row 1"),
        (AEMO_HEADER + "2019/07/01 00:30:00,1,1,1\n2019/07/01 01:00:00,NaN,1,1\n", {},
         "column 'RRP' is missing or NaN at data row 2"),
        (AEMO_HEADER + "2019/07/01 00:30:00,1,1,1\n2019/07/01 01:00:00,abc,1,1\n", {},
         "column 'RRP' has a value that is not a finite number"),
        (AEMO_HEADER + "2019/07/01 00:30:00,1,1,-3\n2019/07/01 01:00:00,1,1,1\n", {},
         "column 'LOWER6SECRRP' is a reserve price and must be >= 0"),
        ("SETTLEMENTDATE,PRICE\n2019/07/01 00:30:00,1\n2019/07/01 01:00:00,1\n", {}, "needs an 'RRP' column"),
        ("date,value\n2019-07-01,1\n2019-07-02,2\n", {}, "neither AEMO's SETTLEMENTDATE nor a 'time'"),
        ("time,energy,fcas_up\n2024-01-05T00:00Z,1,2\n2024-01-05T00:30Z,1,2\n", {}, "fcas_up"),
        ("time,price\nyesterday,1\ntoday,2\n", {}, "column 'time' has times that could not be read"),
        ("time,price\n2024-01-05T00:00Z,1\n", {}, "at least two intervals"),
        ("time,price\n2024-01-05T00:00Z,1\n2024-01-05T00:30Z,2\n2024-01-05T01:00Z,3\n"
         "2024-01-05T01:20Z,3\n", {},
         "column 'time' has no fixed step"),
        (AEMO_HEADER + "2019/07/01 00:30:00,1,1,1\n2019/07/01 01:00:00,1,1,1\n", {"layout": "csv"}, "layout"),
    ],
    ids=["naive", "gap", "duplicate", "unsorted", "blank-fcas", "nan-rrp", "text-rrp", "negative-fcas",
         "no-rrp", "unknown-layout", "unknown-market", "bad-times", "one-row", "irregular", "bad-layout-arg"],
)
def test_bad_csv_is_rejected_naming_the_column(tmp_path, text, kwargs, match):
    with pytest.raises(ValidationError, match=match):
        read_price_csv(_write(tmp_path, text), **kwargs)


def test_plain_layout_gets_tz_when_naive(tmp_path):
    path = _write(tmp_path, "time,price\n2024-01-05 00:00,80\n2024-01-05 00:30,81\n")
    p = read_price_csv(path, tz="Etc/GMT-10")
    assert p.index[0] == pd.Timestamp("2024-01-05 00:00+10:00")


# ---------------------------------------------------------------------------------------------- series
def test_series_validation_names_the_field():
    idx = make_index("2024-01-05", 4, 30, tz="UTC")
    with pytest.raises(ValidationError, match="price column 'energy' is NaN"):
        PriceSeries(idx, pd.DataFrame({"energy": [1.0, np.nan, 2.0, 3.0]}, index=idx))
    with pytest.raises(ValidationError, match="'fcas_raise_6s' is a reserve market"):
        PriceSeries(idx, pd.DataFrame({"energy": [-1.0] * 4, "fcas_raise_6s": [1, 1, -1, 1]}, index=idx))
    with pytest.raises(ValidationError, match="time-zone naive"):
        naive = idx.tz_localize(None)
        PriceSeries(naive, pd.DataFrame({"energy": [1.0] * 4}, index=naive))
    other = make_index("2024-01-06", 4, 30, tz="UTC")
    with pytest.raises(ValidationError, match=r"not on prices\.index"):
        PriceSeries(idx, pd.DataFrame({"energy": [1.0] * 4}, index=other))
    gappy = idx.delete(2)
    with pytest.raises(ValidationError, match="fixed step"):
        PriceSeries(gappy, pd.DataFrame({"energy": [1.0] * 3}, index=gappy))


def test_market_and_between():
    p = _series([10.0, 20.0, 30.0, 40.0], fcas_raise_6s=[1.0, 2.0, 3.0, 4.0])
    assert p.market("fcas_raise_6s").tolist() == [1.0, 2.0, 3.0, 4.0]
    with pytest.raises(ValidationError, match="available markets"):
        p.market("fcas_raise_1s")
    mid = p.between("2024-01-05 01:00", "2024-01-05 03:00")
    assert mid.market("energy").tolist() == [20.0, 30.0]
    with pytest.raises(ValidationError, match="no price interval"):
        p.between("2025-01-01", "2025-01-02")
    with pytest.raises(ValidationError, match="not fully covered"):
        p.day("2024-01-05")


def test_resample_mean_and_hold_by_hand():
    p = _series([10.0, 20.0, 30.0, 50.0])
    two = p.resample(120)
    assert two.market("energy").tolist() == [15.0, 40.0] and two.step_min == 120
    half = p.resample(30)
    assert half.market("energy").tolist() == [10, 10, 20, 20, 30, 30, 50, 50] and half.step_min == 30
    with pytest.raises(ValidationError, match="whole multiple"):
        p.resample(90)
    with pytest.raises(ValidationError, match="multiple of 3 intervals"):
        p.resample(180)
    with pytest.raises(ValidationError, match="does not divide"):
        p.resample(25)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-1000, 15000, allow_nan=False), min_size=1, max_size=24),
       st.sampled_from([2, 3, 6]))
def test_hold_then_mean_is_the_identity(values, k):
    p = _series(values)
    back = p.resample(60 / k).resample(60)
    assert back.market("energy") == pytest.approx(np.asarray(values), rel=1e-12, abs=1e-9)


def test_align_slices_and_reports_differences():
    p = _series([float(v) for v in range(48)])
    target = make_index("2024-01-05 05:00", 3, 60, tz="UTC")  # 15:00 .. 17:00 at UTC+10
    sub = p.align(target)
    assert sub.market("energy").tolist() == [15.0, 16.0, 17.0]
    assert sub.index.equals(target)
    step_msg = r"prices=0 days 01:00:00 vs plan=0 days 00:30:00.*resample\(30\)"
    with pytest.raises(ValidationError, match=step_msg):
        p.align(make_index("2024-01-05", 4, 30, tz="Etc/GMT-10"), name="plan")
    with pytest.raises(ValidationError, match="prices cover"):
        p.align(make_index("2024-01-06 20:00", 10, 60, tz="Etc/GMT-10"))
    with pytest.raises(ValidationError, match="not a price interval start"):
        p.align(make_index("2024-01-05 03:30", 2, 60, tz="Etc/GMT-10"))


# ---------------------------------------------------------------------------------------------- summary
def test_price_summary_by_hand():
    # Friday 2024-01-05 and Saturday 2024-01-06, 6-hour steps starting 00:00, 06:00, 12:00, 18:00 local
    values = [10.0, 20.0, 40.0, 30.0, 5.0, 15.0, 25.0, -5.0]
    p = _series(values, step_min=360.0, fcas_raise_6s=[1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0, 0.0])
    s = price_summary(p, peak_start="06:00", peak_end="18:00")
    e = s.loc["energy"]
    assert e["unit"] == "AUD/MWh" and s.loc["fcas_raise_6s", "unit"] == "AUD/MW/h"
    assert e["mean"] == pytest.approx(sum(values) / 8)
    assert e["workday_mean"] == pytest.approx((10 + 20 + 40 + 30) / 4)
    assert e["non_workday_mean"] == pytest.approx((5 + 15 + 25 - 5) / 4)
    assert e["peak_mean"] == pytest.approx((20 + 40) / 2)  # Friday 06:00 and 12:00 only
    assert e["off_peak_mean"] == pytest.approx((10 + 30 + 5 + 15 + 25 - 5) / 6)
    assert e["peak_off_peak_spread"] == pytest.approx(30 - 80 / 6)
    assert e["min"] == -5 and e["max"] == 40
    assert e["daily_spread_mean"] == pytest.approx(((40 - 10) + (25 + 5)) / 2)
    assert e["daily_spread_median"] == pytest.approx(30.0)
    holiday = price_summary(p, holidays=["2024-01-05"])
    assert np.isnan(holiday.loc["energy", "workday_mean"]) and np.isnan(holiday.loc["energy", "peak_mean"])


def test_price_summary_of_the_bundled_year(sa1):
    s = price_summary(sa1)
    e = s.loc["energy"]
    assert e["n_intervals"] == 17520
    assert e["peak_mean"] > e["off_peak_mean"]  # SA evening peaks
    assert e["min"] < 0 < e["daily_spread_mean"]
    with pytest.raises(ValidationError, match="peak_end"):
        price_summary(sa1, peak_start="22:00", peak_end="07:00")
