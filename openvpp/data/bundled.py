"""Small input tables bundled with OpenVPP (``openvpp/data/bundled/*.csv|*.toml``).

Every table records where each number comes from: CSV files have a ``source`` column, TOML files a
``source`` field per entry (or at top level). Tables are read with :mod:`importlib.resources`, so they work
from an installed wheel too. A new table is added by dropping a file there; :func:`bundled_table` reads any
of them by name.
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from typing import Any

import pandas as pd

from openvpp.errors import DataError

_PACKAGE = "openvpp.data"
_FOLDER = "bundled"
_SUFFIXES = (".csv", ".toml")


def _folder() -> Any:
    return resources.files(_PACKAGE).joinpath(_FOLDER)


def list_bundled() -> list[str]:
    """Names (file names with suffix) of every bundled table."""
    return sorted(p.name for p in _folder().iterdir() if p.name.endswith(_SUFFIXES))


def _resolve(name: str) -> Any:
    folder = _folder()
    candidates = [name] if name.endswith(_SUFFIXES) else [name + s for s in _SUFFIXES]
    for cand in candidates:
        res = folder.joinpath(cand)
        if res.is_file():
            return res
    raise DataError(f"no bundled table named {name!r}; available: {list_bundled()}")


def bundled_table(name: str) -> pd.DataFrame | dict[str, Any]:
    """Read a bundled table by name.

    Parameters
    ----------
    name : str
        File name with or without suffix, e.g. ``"household_der_assumptions"``.

    Returns
    -------
    pandas.DataFrame or dict
        A DataFrame for CSV files (which must have a ``source`` column), a dict for TOML files.

    Raises
    ------
    DataError
        Unknown name, unreadable file, or a CSV without a ``source`` column.
    """
    res = _resolve(name)
    try:
        if res.name.endswith(".csv"):
            with res.open("r", encoding="utf-8") as fh:
                frame = pd.read_csv(fh, comment="#", skipinitialspace=True)
            if "source" not in frame.columns:
                raise DataError(f"bundled table {res.name} has no 'source' column")
            return frame
        with res.open("rb") as fh:
            return tomllib.load(fh)
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"bundled table {res.name} could not be read: {exc}") from exc


@functools.lru_cache(maxsize=256)
def bundled_value(name: str, parameter: str, *, key: str = "parameter", value: str = "value") -> float:
    """One number of a bundled ``parameter, value, unit, source`` CSV table (read once, then cached).

    Parameters
    ----------
    name : str
        Table name, e.g. ``"household_der_assumptions"``.
    parameter : str
        Value of the ``key`` column that selects the row.
    key, value : str
        Names of the key and value columns.

    Returns
    -------
    float
        The value, in the unit the table's ``unit`` column gives. [table unit]

    Raises
    ------
    DataError
        If the table is not a CSV or the parameter is absent or not unique.
    """
    frame = bundled_table(name)
    if not isinstance(frame, pd.DataFrame) or key not in frame or value not in frame:
        raise DataError(f"bundled table {name!r} is not a '{key}, {value}, ..., source' CSV")
    rows = frame.loc[frame[key] == parameter, value]
    if len(rows) != 1:
        raise DataError(
            f"parameter {parameter!r} found {len(rows)} times in bundled table {name!r}; "
            f"known parameters: {sorted(frame[key].astype(str))}"
        )
    return float(rows.iloc[0])
