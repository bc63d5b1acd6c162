"""Reading and writing market price files: the bundled NEM SA1 year and price CSVs supplied by the user.

This module only moves text between files and :class:`pandas.DataFrame` objects (every cell kept as a string,
so that nothing is silently coerced); :mod:`openvpp.services.prices` parses the time stamps and prices,
checks them and builds a :class:`~openvpp.services.prices.PriceSeries`.

Bundled year
------------
``bundled/nem_sa1_2019-20_prices.csv.gz`` holds the half-hourly energy (RRP) and FCAS prices of the NEM
region SA1 for the financial year 2019-20, converted to AUD/MWh (AUD per MW per hour for FCAS availability)
and written in OpenVPP's plain layout (``time`` = interval start with its UTC offset, one column per market).
Its provenance, units and conversion are in the sidecar ``bundled/nem_sa1_2019-20_prices.toml``. Source:
AEMO, NEM trading prices, SA1, 2019-20.
"""

from __future__ import annotations

import gzip
import io
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from openvpp.errors import DataError, ValidationError

__all__ = [
    "MAX_PRICE_FILE_BYTES",
    "SA1_PRICES",
    "bundled_price_table",
    "read_price_table",
    "write_price_table",
]

#: largest price CSV accepted (a year of 5-min prices for every market is ~12 MB) [bytes]
MAX_PRICE_FILE_BYTES = 64 * 1024 * 1024
#: stem of the bundled NEM SA1 2019-20 price file (``.csv.gz`` data, ``.toml`` provenance)
SA1_PRICES = "nem_sa1_2019-20_prices"


def _bundled(name: str) -> Any:
    return resources.files("openvpp.data").joinpath("bundled").joinpath(name)


def _read_text_csv(handle: Any, where: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(
            handle, dtype=str, keep_default_na=False, comment="#", skipinitialspace=True
        )
    except pd.errors.EmptyDataError as exc:
        raise ValidationError(f"price file {where} is empty; it needs a header row and data rows") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValidationError(
            f"price file {where} is not a readable CSV ({exc}); save it as UTF-8 CSV"
        ) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def read_price_table(path: str | Path, max_bytes: int = MAX_PRICE_FILE_BYTES) -> pd.DataFrame:
    """Read a price CSV (plain or gzip-compressed) into a frame of strings, bounded in size.

    Parameters
    ----------
    path : str or pathlib.Path
        CSV file; a ``.gz`` suffix is read as gzip.
    max_bytes : int
        Largest file accepted, checked before reading. [bytes]

    Returns
    -------
    pandas.DataFrame
        Every cell as a string (blank cells as ``""``), column names stripped of spaces.

    Raises
    ------
    ValidationError
        If the file does not exist, is larger than ``max_bytes`` or is not a CSV.
    """
    p = Path(path)
    if not p.is_file():
        raise ValidationError(
            f"price file {str(p)!r} does not exist or is not a file; pass the path of a "
            "CSV"
        )
    size = p.stat().st_size
    if size > max_bytes:
        raise ValidationError(
            f"price file {str(p)!r} is {size} bytes, above the limit of {max_bytes} bytes; split it by year"
        )
    if p.suffix == ".gz":
        with gzip.open(p, "rt", encoding="utf-8") as fh:
            return _read_text_csv(fh, repr(str(p)))
    with p.open("r", encoding="utf-8", errors="strict") as fh:
        return _read_text_csv(fh, repr(str(p)))


def bundled_price_table(name: str = SA1_PRICES) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The bundled price file ``name`` (plain layout, strings) and its provenance table.

    Parameters
    ----------
    name : str
        Stem of the bundled file, default :data:`SA1_PRICES`.

    Returns
    -------
    (frame, meta) : tuple
        ``frame``: one row per interval, ``time`` and one column per market, as strings; ``meta``: the
        sidecar TOML (``source``, ``units``, ``currency``, ``conversion``, ...).

    Raises
    ------
    DataError
        If the file or its provenance is missing or unreadable.
    """
    data, side = _bundled(f"{name}.csv.gz"), _bundled(f"{name}.toml")
    if not data.is_file() or not side.is_file():
        raise DataError(
            f"bundled price file {name!r} (.csv.gz and .toml) is missing from "
            "openvpp/data/bundled"
        )
    try:
        with side.open("rb") as fh:
            meta = tomllib.load(fh)
        with data.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as fh:
            frame = _read_text_csv(fh, repr(name))
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise DataError(f"bundled price file {name!r} could not be read: {exc}") from exc
    if "source" not in meta:
        raise DataError(f"bundled price file {name!r} has no 'source' in its provenance table")
    return frame, meta


def write_price_table(frame: pd.DataFrame, path: str | Path, float_format: str = "%.2f") -> Path:
    """Write a price frame as CSV (gzip-compressed when ``path`` ends in ``.gz``), index as the first column.

    Parameters
    ----------
    frame : pandas.DataFrame
        Prices, indexed by time.
    path : str or pathlib.Path
        File to write; its folder is created.
    float_format : str
        printf format of the prices (``"%.2f"`` keeps cents).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    frame.to_csv(buf, float_format=float_format, lineterminator="\n")
    text = buf.getvalue().encode("utf-8")
    if p.suffix == ".gz":
        # mtime=0: the same prices always give the same bytes
        p.write_bytes(gzip.compress(text, compresslevel=9, mtime=0))
    else:
        p.write_bytes(text)
    return p
