"""Price files: size-bounded CSV reading, gzip round trip, the bundled SA1 file and its provenance."""

from __future__ import annotations

import gzip
from importlib import resources

import pandas as pd
import pytest

from openvpp.data.prices import SA1_PRICES, bundled_price_table, read_price_table, write_price_table
from openvpp.errors import ValidationError


def test_bundled_file_is_small_and_has_provenance():
    frame, meta = bundled_price_table()
    data = resources.files("openvpp.data").joinpath("bundled", f"{SA1_PRICES}.csv.gz")
    assert len(data.read_bytes()) < 2 * 1024 * 1024
    assert meta["source"] == "AEMO, NEM trading prices, SA1, 2019-20"
    assert meta["currency"] == "AUD" and meta["intervals"] == len(frame) == 17520
    assert list(frame.columns)[:2] == ["time", "energy"]
    assert frame.iloc[0]["time"] == "2019-07-01T00:00+10:00" and frame.iloc[0]["energy"] == "54.96"
    assert set(meta["units"]) == set(frame.columns) - {"time"}


def test_read_price_table_keeps_text_and_bounds_size(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("time, price\n2024-01-05T00:00Z,  080.50\n2024-01-05T00:30Z,\n")
    frame = read_price_table(path)
    assert list(frame.columns) == ["time", "price"]
    assert frame["price"].tolist() == ["080.50", ""]  # nothing coerced: blanks stay visible to the parser
    with pytest.raises(ValidationError, match="above the limit of 10 bytes"):
        read_price_table(path, max_bytes=10)
    with pytest.raises(ValidationError, match="does not exist"):
        read_price_table(tmp_path / "missing.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValidationError, match="is empty"):
        read_price_table(empty)


def test_gzip_round_trip_is_deterministic(tmp_path):
    frame = pd.DataFrame({"energy": [54.96, -1.5]}, index=pd.Index(["2024-01-05T00:00Z", "2024-01-05T00:30Z"],
                                                                    name="time"))
    a = write_price_table(frame, tmp_path / "a.csv.gz")
    b = write_price_table(frame, tmp_path / "b.csv.gz")
    assert a.read_bytes() == b.read_bytes()
    assert gzip.decompress(a.read_bytes()).decode().splitlines() == [
        "time,energy", "2024-01-05T00:00Z,54.96", "2024-01-05T00:30Z,-1.50",
    ]
    back = read_price_table(a)
    assert back["energy"].tolist() == ["54.96", "-1.50"]
