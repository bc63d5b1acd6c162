"""Columnar parameter tables for device classes (struct of arrays) and their validation.

Every DER class declares its parameters once, as a frozen dataclass whose fields are numpy arrays of shape
``(n_devices,)`` created with :func:`param`. :class:`ParamTable` turns scalars, lists, records or a DataFrame
into validated arrays and raises :class:`~openvpp.errors.ValidationError` naming the table, the field, the
device and the expected range. Nothing is half-built: a table either validates completely or is not created.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
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
        Inclusive / exclusive bounds.
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


@dataclasses.dataclass(frozen=True)
class ParamTable:
    """Base of all DER parameter tables: one array per parameter, one row per device.

    Subclasses add fields with :func:`param` and may override :meth:`_check` for cross-field rules.
    ``device_id`` (str) and ``site_id`` (str) are always present.
    """

    table_name: ClassVar[str] = "der"

    device_id: Any = None
    site_id: Any = None

    # ------------------------------------------------------------------ construction
    def __post_init__(self) -> None:
        ids = self.device_id
        if ids is None:
            raise ValidationError(f"{self.table_name}.device_id is required (one id per device)")
        ids = np.asarray(ids, dtype=object).astype(str)
        if ids.ndim != 1:
            raise ValidationError(f"{self.table_name}.device_id must be 1-D (got shape {ids.shape})")
        n = ids.shape[0]
        if len(np.unique(ids)) != n:
            vals, counts = np.unique(ids, return_counts=True)
            raise ValidationError(
                f"{self.table_name}.device_id must be unique; duplicated: {list(vals[counts > 1][:5])}"
            )
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
    def from_frame(cls, frame: pd.DataFrame | Iterable[Mapping[str, Any]], **defaults: Any) -> Self:
        """Build a validated table from a DataFrame or a list of dicts (one per device).

        Unknown columns raise a ValidationError (a typo must not silently fall back to a default).
        ``defaults`` fill columns that are absent from ``frame``.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs: dict[str, Any] = dict(defaults)
        if isinstance(frame, pd.DataFrame):
            columns = [str(c) for c in frame.columns]
            _reject_unknown(cls.table_name, columns, known)
            for col in frame.columns:
                kwargs[str(col)] = frame[col].to_numpy()
        else:
            records = list(frame)
            for k, rec in enumerate(records):
                if not isinstance(rec, Mapping):
                    raise ValidationError(
                        f"{cls.table_name}: record {k} must be a mapping of column -> value "
                        f"(got {type(rec).__name__})"
                    )
            table = pd.DataFrame.from_records(records) if records else pd.DataFrame()
            table.columns = [str(c) for c in table.columns]
            _reject_unknown(cls.table_name, list(table.columns), known)
            meta: dict[str, Mapping[str, Any]] = {f.name: f.metadata for f in dataclasses.fields(cls)}
            for col in table.columns:
                values = table[col].to_numpy(dtype=object)
                # a gap is either a key the record leaves out (take the default) or an explicit NaN/None
                # (kept, so that validation rejects it); only the gaps need a look at their record
                gaps = np.flatnonzero(pd.isna(values))
                absent = gaps[[col not in records[k] for k in gaps]] if gaps.size else gaps
                if absent.size:
                    default = defaults.get(col, meta.get(col, {}).get("default", _MISSING))
                    if col == "site_id" and "device_id" in table.columns:
                        values[absent] = table["device_id"].to_numpy(dtype=object)[absent]
                    elif default is not _MISSING and col != "device_id":
                        values[absent] = default
                    else:
                        raise ValidationError(
                            f"{cls.table_name}.{col} is missing from record {int(absent[0])} and has no "
                            "default; give it for every device"
                        )
                kwargs[col] = values
        if "device_id" not in kwargs:
            raise ValidationError(f"{cls.table_name}: column 'device_id' is required")
        return cls(**kwargs)

    # ------------------------------------------------------------------ views
    @property
    def n(self) -> int:
        """Number of devices."""
        return int(self.device_id.shape[0])

    def __len__(self) -> int:
        return self.n

    def to_frame(self) -> pd.DataFrame:
        """The table as a DataFrame indexed by ``device_id``."""
        data = {"site_id": self.site_id}
        for f in self.param_fields():
            data[f.name] = getattr(self, f.name)
        return pd.DataFrame(data, index=pd.Index(self.device_id, name="device_id"))

    def take(self, idx: np.ndarray | slice | list[int]) -> Self:
        """A table with the selected rows (positional index or boolean mask)."""
        kwargs = {f.name: getattr(self, f.name)[idx] for f in dataclasses.fields(self)}
        return type(self)(**kwargs)

    def replace(self, **changes: Any) -> Self:
        """A validated copy with some columns replaced."""
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
