"""Columnar tables (struct of arrays) and their validation: the one implementation for devices and sites.

:class:`ColumnTable` holds what every columnar table shares: unique string ids, building from a DataFrame or
from records (one dict per row, absent keys taking a column's default), row selection and the row count.
:class:`ParamTable` (DER parameters) and :class:`openvpp.fleet.Sites` derive from it.

Every DER class declares its parameters once, as a frozen dataclass whose fields are numpy arrays of shape
``(n_devices,)`` created with :func:`param`. :class:`ParamTable` turns scalars, lists, records or a DataFrame
into validated arrays and raises :class:`~openvpp.errors.ValidationError` naming the table, the field, the
device and the expected range. Nothing is half-built: a table either validates completely or is not created.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from openvpp.errors import ValidationError

_MISSING = object()


def param(
    unit: str,
    doc: str,
    *,
    default: Any = _MISSING,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    dtype: str = "float",
    allow_nan: bool = False,
    allow_inf: bool = False,
) -> Any:
    """Declare one column of a parameter table.

    Parameters
    ----------
    unit : str
        Unit written in docs and messages (``"kW"``, ``"-"``...).
    doc : str
        One-line meaning, shown in error messages.
    default : scalar, optional
        Value broadcast to every device when the column is not given.
    ge, gt, le, lt : float, optional
        Inclusive / exclusive bounds. [unit of the column]
    dtype : {"float", "bool", "int"}
        Column type.
    allow_nan : bool
        Whether NaN means "not applicable" for this column.
    allow_inf : bool
        Whether +inf means "unlimited" for this column (e.g. a ramp rate).
    """
    meta = {
        "unit": unit,
        "doc": doc,
        "default": default,
        "ge": ge,
        "gt": gt,
        "le": le,
        "lt": lt,
        "dtype": dtype,
        "allow_nan": allow_nan,
        "allow_inf": allow_inf,
    }
    return dataclasses.field(default=None, metadata=meta)


def _reject_unknown(table: str, columns: list[str], known: set[str]) -> None:
    unknown = sorted(set(columns) - known)
    if unknown:
        raise ValidationError(f"{table}: unknown column(s) {unknown}; known columns are {sorted(known)}")


#: marks a key that a record leaves out (as opposed to an explicit None/NaN, which validation rejects)
ABSENT: Any = object()


def unique_ids(values: Any, name: str) -> np.ndarray:
    """Validated 1-D array of unique, non-empty string ids.

    Parameters
    ----------
    values : array_like of str, shape (n_rows,)
        The ids.
    name : str
        The field as the user knows it (``"sites.site_id"``), for messages.

    Returns
    -------
    numpy.ndarray of object, shape (n_rows,)
        The ids as Python strings.

    Raises
    ------
    ValidationError
        For a missing, non-1-D, empty or duplicated id, naming ``name``.
    """
    if values is None:
        raise ValidationError(f"{name} is required (one id per row)")
    arr = np.asarray(values, dtype=object)
    if arr.ndim != 1:
        raise ValidationError(f"{name} must be 1-D, one id per row (got shape {arr.shape})")
    missing = pd.isna(arr) | (arr == "")
    if np.any(missing):
        i = int(np.argmax(missing))
        raise ValidationError(f"{name} is missing (got {arr[i]!r}) in row {i}; give every row an id")
    ids = as_str(arr)
    index = pd.Index(ids)
    if not index.is_unique:
        duplicated = list(pd.unique(ids[index.duplicated()])[:5])
        raise ValidationError(f"{name} must be unique; duplicated: {duplicated}")
    return ids


def as_str(arr: np.ndarray) -> np.ndarray:
    """Object array of Python ``str`` (the strings are not copied when they are ``str`` already).

    Parameters
    ----------
    arr : numpy.ndarray, shape (n_rows,)
        Values to convert. [-]

    Returns
    -------
    numpy.ndarray of object, shape (n_rows,)
    """
    if pd.api.types.infer_dtype(arr, skipna=False) == "string":
        return arr
    return np.array([str(v) for v in arr], dtype=object)


def columns_from_records(
    table: str,
    records: Iterable[Mapping[str, Any]],
    known: Iterable[str],
    fill: Callable[[str, dict[str, np.ndarray]], Any] | None = None,
) -> dict[str, np.ndarray]:
    """Column arrays from records (one mapping per row), without a Python loop per row and column.

    A key that a record leaves out takes ``fill(column, columns)`` for that row (a scalar or one value per
    row; :data:`ABSENT` when the column has no default, which is an error); an explicit None/NaN is kept, so
    that validation rejects it.

    Parameters
    ----------
    table : str
        Table name for messages (``"sites"``, ``"battery"``).
    records : iterable of mapping
        The rows.
    known : iterable of str
        The table's columns; any other key is rejected.
    fill : callable, optional
        Default of a column for the rows that leave it out, given the columns parsed so far.

    Returns
    -------
    dict of str to numpy.ndarray of object, each shape (n_rows,)

    Raises
    ------
    ValidationError
        For a record that is not a mapping, an unknown key or a missing value without a default.
    """
    recs = list(records)
    bad = None
    if not all(type(rec) is dict for rec in recs):  # the common case without an ABC check per record
        bad = next((k for k, rec in enumerate(recs) if not isinstance(rec, Mapping)), None)
    if bad is not None:
        raise ValidationError(
            f"{table}: record {bad} must be a mapping of column -> value (got {type(recs[bad]).__name__})"
        )
    if not recs:
        return {}
    seen: set[str] = set()
    for rec in recs:
        seen.update(rec)
    _reject_unknown(table, [str(k) for k in seen], set(known))
    keys = [k for k in recs[0] if k in seen] + sorted(seen - set(recs[0]))
    if min(map(len, recs)) == len(keys):  # every record has every key: one C-level pass
        grid = np.empty((len(recs), len(keys)), dtype=object)
        grid[:] = (list(map(operator.itemgetter(*keys), recs)) if len(keys) > 1
                   else [(r[keys[0]],) for r in recs])
        return {str(k): grid[:, j] for j, k in enumerate(keys)}
    cols: dict[str, np.ndarray] = {}
    for key in keys:
        arr = np.empty(len(recs), dtype=object)
        arr[:] = [rec.get(key, ABSENT) for rec in recs]
        cols[str(key)] = arr
    for key in list(cols):
        arr = cols[key]
        absent = np.fromiter((v is ABSENT for v in arr), bool, arr.shape[0])
        if not absent.any():
            continue
        default = ABSENT if fill is None else fill(key, cols)
        if default is ABSENT:
            raise ValidationError(
                f"{table}.{key} is missing from record {int(np.argmax(absent))} and has no default; "
                "give it for every row"
            )
        values = np.broadcast_to(np.asarray(default, dtype=object), arr.shape)
        arr = arr.copy()
        arr[absent] = values[absent]
        cols[key] = arr
    return cols


@dataclasses.dataclass(frozen=True)
class ColumnTable:
    """Base of the columnar tables: one array per column, one row per device or site.

    Subclasses are frozen dataclasses whose fields are the columns; ``id_field`` names the unique id
    column. Construction validates every column (``__post_init__``), so a table is either complete or not
    created.
    """

    table_name: ClassVar[str] = "table"
    id_field: ClassVar[str] = "id"

    @classmethod
    def column_default(cls, column: str, columns: dict[str, np.ndarray]) -> Any:
        """Default of ``column`` for the records that leave it out (:data:`ABSENT`: none).

        Parameters
        ----------
        column : str
            Column name.
        columns : dict of str to numpy.ndarray
            The columns parsed so far (a default may follow another column, e.g. a site's node).

        Returns
        -------
        scalar, numpy.ndarray or ABSENT
        """
        return ABSENT

    @classmethod
    def columns(cls) -> list[str]:
        """Names of the table's columns."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_frame(cls, frame: pd.DataFrame | Iterable[Mapping[str, Any]], **defaults: Any) -> Self:
        """Build a validated table from a DataFrame or a list of dicts (one per row).

        Unknown columns raise a ValidationError (a typo must not silently fall back to a default).

        Parameters
        ----------
        frame : pandas.DataFrame or iterable of mapping
            The rows.
        **defaults
            Values for columns that are absent from ``frame`` (scalar or one per row).

        Returns
        -------
        ColumnTable
            The validated table.
        """
        known = cls.columns()
        if isinstance(frame, pd.DataFrame):
            _reject_unknown(cls.table_name, [str(c) for c in frame.columns], set(known))
            columns = {str(c): frame[c].to_numpy() for c in frame.columns}
        else:
            def fill(column: str, cols: dict[str, np.ndarray]) -> Any:
                return defaults[column] if column in defaults else cls.column_default(column, cols)

            columns = columns_from_records(cls.table_name, frame, known, fill) or {
                cls.id_field: np.empty(0, dtype=object)
            }
        if cls.id_field not in columns:
            raise ValidationError(f"{cls.table_name}: column {cls.id_field!r} is required")
        return cls(**{**defaults, **columns})

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(getattr(self, self.id_field).shape[0])

    def __len__(self) -> int:
        return self.n

    def take(self, idx: np.ndarray | slice | list[int]) -> Self:
        """A table with the selected rows.

        Parameters
        ----------
        idx : array_like of int or bool, or slice
            Row positions or a boolean mask. [-]

        Returns
        -------
        ColumnTable
        """
        return type(self)(**{f.name: getattr(self, f.name)[idx] for f in dataclasses.fields(self)})


@dataclasses.dataclass(frozen=True)
class ParamTable(ColumnTable):
    """Base of all DER parameter tables: one array per parameter, one row per device.

    Subclasses add fields with :func:`param` and may override :meth:`_check` for cross-field rules.
    ``device_id`` (str) and ``site_id`` (str) are always present.
    """

    table_name: ClassVar[str] = "der"
    id_field: ClassVar[str] = "device_id"

    device_id: Any = None
    site_id: Any = None

    # ------------------------------------------------------------------ construction
    def __post_init__(self) -> None:
        ids = unique_ids(self.device_id, f"{self.table_name}.device_id")
        n = ids.shape[0]
        object.__setattr__(self, "device_id", ids)
        site = self.site_id
        site = ids.copy() if site is None else np.asarray(site, dtype=object)
        if site.ndim == 0:
            site = np.full(n, site, dtype=object)
        if site.shape != (n,):
            raise ValidationError(
                f"{self.table_name}.site_id must have one entry per device ({n}), got shape {site.shape}"
            )
        object.__setattr__(self, "site_id", site.astype(str))
        for f in self.param_fields():
            object.__setattr__(self, f.name, self._coerce(f, getattr(self, f.name), ids))
        self._check()

    @classmethod
    def param_fields(cls) -> list[dataclasses.Field]:
        """The declared parameter columns (excluding ``device_id`` and ``site_id``)."""
        return [f for f in dataclasses.fields(cls) if "unit" in f.metadata]

    def _coerce(self, f: dataclasses.Field, value: Any, ids: np.ndarray) -> np.ndarray:
        meta = f.metadata
        n = ids.shape[0]
        name = f"{self.table_name}.{f.name}"
        if value is None:
            if meta["default"] is _MISSING:
                raise ValidationError(f"{name} is required ({meta['doc']}, in {meta['unit']})")
            value = meta["default"]
        if meta["dtype"] == "bool":
            arr = np.asarray(value)
            if arr.ndim == 0:
                arr = np.full(n, bool(arr))
            if arr.shape != (n,):
                raise ValidationError(f"{name} must have one value per device ({n}), got shape {arr.shape}")
            if arr.dtype != bool:
                try:
                    fl = arr.astype(float)
                except (TypeError, ValueError) as exc:
                    raise ValidationError(f"{name} must be true/false (got {arr[:3]!r})") from exc
                if np.any((fl != 0) & (fl != 1)):
                    raise ValidationError(f"{name} must be true/false or 0/1")
                arr = fl.astype(bool)
            return arr
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                f"{name} must be numeric in {meta['unit']} ({meta['doc']}); could not convert: {exc}"
            ) from exc
        if arr.ndim == 0:
            arr = np.full(n, float(arr))
        if arr.shape != (n,):
            raise ValidationError(f"{name} must have one value per device ({n}), got shape {arr.shape}")
        arr = arr.copy()
        bad_nan = np.isnan(arr) if not meta["allow_nan"] else np.zeros(n, dtype=bool)
        bad_inf = np.isneginf(arr) | (np.isposinf(arr) if not meta["allow_inf"] else False)
        nan = bad_nan | bad_inf
        if np.any(nan):
            i = int(np.argmax(nan))
            raise ValidationError(
                f"{name} is {arr[i]} for device '{ids[i]}'; give a finite value in {meta['unit']} "
                f"({meta['doc']})"
            )
        finite = np.isfinite(arr)
        for key, bad_fn, word in (
            ("ge", lambda a, b: a < b, ">="),
            ("gt", lambda a, b: a <= b, ">"),
            ("le", lambda a, b: a > b, "<="),
            ("lt", lambda a, b: a >= b, "<"),
        ):
            bound = meta[key]
            if bound is None:
                continue
            bad = finite & bad_fn(arr, bound)
            if np.any(bad):
                i = int(np.argmax(bad))
                raise ValidationError(
                    f"{name} must be {word} {bound} {meta['unit']} (got {arr[i]:g} for device '{ids[i]}'); "
                    f"{meta['doc']}"
                )
        if meta["dtype"] == "int":
            if np.any(finite & (arr != np.round(arr))):
                raise ValidationError(f"{name} must hold whole numbers")
        return arr

    def _check(self) -> None:
        """Cross-field checks; subclasses override and raise ValidationError."""

    def _fail_where(self, bad: np.ndarray, message: str) -> None:
        """Raise ``message`` (formatted with ``device``) for the first device where ``bad`` is true."""
        if np.any(bad):
            i = int(np.argmax(bad))
            raise ValidationError(f"{self.table_name}: {message} (device '{self.device_id[i]}')")

    @classmethod
    def column_default(cls, column: str, columns: dict[str, np.ndarray]) -> Any:
        """Default of ``column`` for records that leave it out: the declared one; ``site_id``: the device.

        Parameters
        ----------
        column : str
            Column name.
        columns : dict of str to numpy.ndarray
            The columns parsed so far.

        Returns
        -------
        scalar, numpy.ndarray or ABSENT
        """
        if column == "site_id" and "device_id" in columns:
            return columns["device_id"]
        meta: Mapping[str, Any] = {f.name: f.metadata for f in dataclasses.fields(cls)}.get(column, {})
        default = meta.get("default", _MISSING)
        return ABSENT if default is _MISSING else default

    # ------------------------------------------------------------------ views

    def to_frame(self) -> pd.DataFrame:
        """The table as a DataFrame indexed by ``device_id``."""
        data = {"site_id": self.site_id}
        for f in self.param_fields():
            data[f.name] = getattr(self, f.name)
        return pd.DataFrame(data, index=pd.Index(self.device_id, name="device_id"))

    def replace(self, **changes: Any) -> Self:
        """A validated copy with some columns replaced.

        Parameters
        ----------
        **changes : array_like
            New values of some columns, one per device. [units of the columns]
        """
        return dataclasses.replace(self, **changes)

    @classmethod
    def describe(cls) -> pd.DataFrame:
        """Parameter documentation: unit, default, bounds and meaning of each column."""
        rows = []
        for f in cls.param_fields():
            m = f.metadata
            rows.append(
                {
                    "column": f.name,
                    "unit": m["unit"],
                    "default": None if m["default"] is _MISSING else m["default"],
                    "bounds": " ".join(
                        f"{k}{m[k]}" for k in ("ge", "gt", "le", "lt") if m[k] is not None
                    ),
                    "meaning": m["doc"],
                }
            )
        return pd.DataFrame(rows)
