"""Reading the settlement tables (telemetry, events) and programs from user files: CSV or Parquet, TOML.

The domain core (:mod:`openvpp.settlement`) works on DataFrames; this is the one place that opens the files.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from openvpp.errors import ValidationError

__all__ = ["MAX_FILE_BYTES", "read_program_text", "read_table"]

#: largest input file accepted (2 GB)
MAX_FILE_BYTES = 2_000_000_000


def _check(path: str | Path, flag: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise ValidationError(f"{flag} {str(p)!r} is not a file; give the path of an existing file")
    size = p.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValidationError(
            f"{flag} {str(p)!r} is {size:,} bytes, above the bound of {MAX_FILE_BYTES:,}; split it by month"
        )
    return p


def read_table(path: str | Path, flag: str = "--telemetry") -> pd.DataFrame:
    """Read a CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``, ``.pq``) table.

    Parameters
    ----------
    path : str or pathlib.Path
        File to read.
    flag : str
        Option or field that named the file, for messages.

    Raises
    ------
    ValidationError
        Missing file, unknown suffix, oversized or unreadable file (naming ``flag``).
    """
    p = _check(path, flag)
    name = p.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            return pd.read_parquet(p)
        if name.endswith((".csv", ".csv.gz")):
            return pd.read_csv(p, comment="#", skipinitialspace=True)
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{flag} {str(p)!r} could not be read: {exc}") from None
    raise ValidationError(f"{flag} {str(p)!r} must be a .csv, .csv.gz, .parquet or .pq file")


def read_program_text(path: str | Path, flag: str = "--program") -> str:
    """Text of a program TOML file.

    Parameters
    ----------
    path : str or pathlib.Path
        TOML file.
    flag : str
        Option that named the file, for messages.
    """
    p = _check(path, flag)
    try:
        return p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{flag} {str(p)!r} could not be read: {exc}") from None
