"""Reading settlement tables and programs from user files (openvpp.data.settlement_io): CSV, Parquet, TOML."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import openvpp.data.settlement_io as settlement_io
from openvpp.data.settlement_io import read_program_text, read_table
from openvpp.errors import ValidationError
from openvpp.settlement.io import telemetry_from_long


def frame() -> pd.DataFrame:
    times = pd.date_range("2026-06-01", periods=4, freq="5min", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    return pd.DataFrame({"site_id": ["a"] * 4 + ["b"] * 4, "time": list(times) * 2, "p_kw": np.arange(8.0)})


@pytest.mark.parametrize("name", ["t.csv", "t.csv.gz", "t.parquet", "t.pq"])
def test_every_suffix_reads_back_the_written_table(tmp_path, name):
    f = frame()
    path = tmp_path / name
    if ".csv" in name:
        f.to_csv(path, index=False)
    else:
        f.to_parquet(path)
    got = read_table(path)
    pd.testing.assert_frame_equal(got, f)


def test_read_table_csv_parquet_and_bad_paths(tmp_path):
    f = frame()
    f.to_csv(tmp_path / "t.csv", index=False)
    f.to_parquet(tmp_path / "t.parquet")
    a = telemetry_from_long(read_table(tmp_path / "t.csv"), "UTC")
    b = telemetry_from_long(read_table(tmp_path / "t.parquet"), "UTC")
    assert np.array_equal(a.p_kw, b.p_kw, equal_nan=True)
    with pytest.raises(ValidationError, match=r"--telemetry .* is not a file"):
        read_table(tmp_path / "none.csv")
    (tmp_path / "t.xlsx").write_text("x")
    with pytest.raises(ValidationError, match=r"--events .* must be a \.csv"):
        read_table(tmp_path / "t.xlsx", "--events")
    with pytest.raises(ValidationError, match="--program"):
        read_program_text(tmp_path / "none.toml")


def test_comments_and_spaces_in_csv_are_skipped(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("# exported by a meter system\nsite_id, time, p_kw\na, 2026-06-01T00:00:00Z, 1.5\n")
    got = read_table(path)
    assert got.columns.tolist() == ["site_id", "time", "p_kw"] and got["p_kw"].tolist() == [1.5]


def test_bad_files_are_named_with_the_flag(tmp_path):
    (tmp_path / "folder").mkdir()
    with pytest.raises(ValidationError, match=r"^--events .*folder' is not a file"):
        read_table(tmp_path / "folder", "--events")
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(ValidationError, match=r"^--telemetry .*broken\.parquet' could not be read"):
        read_table(tmp_path / "broken.parquet")
    (tmp_path / "latin1.toml").write_bytes("name = 'caf\xe9'".encode("latin-1"))
    with pytest.raises(ValidationError, match=r"^--program .*latin1\.toml' could not be read"):
        read_program_text(tmp_path / "latin1.toml")


def test_size_bound_is_checked_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "t.csv"
    frame().to_csv(path, index=False)
    monkeypatch.setattr(settlement_io, "MAX_FILE_BYTES", path.stat().st_size - 1)
    with pytest.raises(ValidationError, match=r"is \d[\d,]* bytes, above the bound of .*split it by month"):
        read_table(path)


def test_program_text_is_returned_whole(tmp_path):
    text = 'name = "peak"\nservice = "ci"\n'
    (tmp_path / "p.toml").write_text(text, encoding="utf-8")
    assert read_program_text(tmp_path / "p.toml") == text
