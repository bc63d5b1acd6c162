"""The sites of a fleet: one row per customer connection (meter), stored as columns.

A site is where a customer's devices meet the grid: its network node (bus), the phase(s) it is connected
to, the constraint node whose limits apply to it (seed 001 §2.1: a DER maps to one or more constraint
nodes, e.g. its distribution transformer) and the common connection point (CCP) at which flexibility is
aggregated (seed 003 §3, Minkowski sums per CCP). Devices refer to sites by ``site_id``.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from openvpp.errors import ValidationError

#: allowed values of ``Sites.phase``: one phase of a three-phase LV system or all three
PHASES = ("a", "b", "c", "abc")

_STR_COLUMNS = ("node", "constraint_node", "ccp", "customer_type")


def _is_missing(arr: np.ndarray) -> np.ndarray:
    """True where an object array holds None, NaN or an empty string."""
    return pd.isna(arr) | (arr == "")


def _as_str(arr: np.ndarray) -> np.ndarray:
    """Object array of Python str (no copy of the strings when they are str already)."""
    if pd.api.types.infer_dtype(arr, skipna=False) == "string":
        return arr
    return np.array([str(v) for v in arr], dtype=object)


_NOT_GIVEN = object()


@dataclasses.dataclass(frozen=True)
class Sites:
    """Columnar table of sites (struct of arrays), validated on construction.

    Parameters
    ----------
    site_id : array_like of str, shape (n_sites,)
        Unique site identifiers.
    node : array_like of str, shape (n_sites,)
        Network node (bus name) the site connects to.
    phase : array_like of str, shape (n_sites,)
        ``"a"``, ``"b"``, ``"c"`` (single-phase) or ``"abc"`` (three-phase). Default ``"abc"``.
    constraint_node : array_like of str, shape (n_sites,), optional
        Constraint node whose limits apply (seed 001 §2.1), e.g. the distribution transformer. Default: the
        node itself.
    ccp : array_like of str, shape (n_sites,), optional
        Common connection point for aggregation (seed 003 §3). Default: the constraint node.
    customer_type : array_like of str, shape (n_sites,), optional
        ``"household"``, ``"commercial"``, ``"agricultural"``... Default ``"household"``.
    bus : array_like of int, shape (n_sites,), optional
        Index of the node in a network model (e.g. the pandapower bus index); -1 when unknown.

    Raises
    ------
    ValidationError
        Naming the field (``sites.<column>``), the site and the fix, for duplicated ids, missing values
        (None/NaN/empty) or an unknown phase.
    """

    table_name: ClassVar[str] = "sites"

    site_id: Any
    node: Any
    phase: Any = None
    constraint_node: Any = None
    ccp: Any = None
    customer_type: Any = None
    bus: Any = None

    def __post_init__(self) -> None:
        ids = self._strings("site_id", self.site_id, None)
        index = pd.Index(ids)
        if not index.is_unique:
            dup = list(pd.unique(ids[index.duplicated()])[:5])
            raise ValidationError(f"sites.site_id must be unique; duplicated: {dup}")
        object.__setattr__(self, "site_id", ids)
        self.__dict__["_index"] = index  # cached lookup table for positions()
        node = self._strings("node", self.node, ids)
        object.__setattr__(self, "node", node)
        phase = self._strings("phase", "abc" if self.phase is None else self.phase, ids)
        bad = ~np.isin(phase, PHASES)
        if np.any(bad):  # accept upper case ("ABC"), reject the rest below
            phase = np.array([v.lower() for v in phase], dtype=object)
            bad = ~np.isin(phase, PHASES)
        if np.any(bad):
            i = int(np.argmax(bad))
            raise ValidationError(
                f"sites.phase is {phase[i]!r} for site {ids[i]!r}; use one of {list(PHASES)} "
                "(a single phase, or 'abc' for a three-phase connection)"
            )
        object.__setattr__(self, "phase", phase)
        cn = (node if self.constraint_node is None
              else self._strings("constraint_node", self.constraint_node, ids))
        object.__setattr__(self, "constraint_node", cn)
        ccp = cn if self.ccp is None else self._strings("ccp", self.ccp, ids)
        object.__setattr__(self, "ccp", ccp)
        ct = self._strings("customer_type", "household" if self.customer_type is None else self.customer_type,
                           ids)
        object.__setattr__(self, "customer_type", ct)
        object.__setattr__(self, "bus", self._bus(ids))

    # ------------------------------------------------------------------ validation helpers
    def _strings(self, field: str, value: Any, ids: np.ndarray | None) -> np.ndarray:
        arr = np.asarray(value, dtype=object)
        if ids is not None and arr.ndim == 0:
            arr = np.full(ids.shape[0], arr.item(), dtype=object)
        if arr.ndim != 1:
            raise ValidationError(f"sites.{field} must be 1-D, one value per site (got shape {arr.shape})")
        if ids is not None and arr.shape[0] != ids.shape[0]:
            raise ValidationError(
                f"sites.{field} must have one value per site ({ids.shape[0]}), got {arr.shape[0]}"
            )
        missing = _is_missing(arr)
        if np.any(missing):
            i = int(np.argmax(missing))
            who = f"site {ids[i]!r}" if ids is not None else f"row {i}"
            raise ValidationError(
                f"sites.{field} is missing (got {arr[i]!r}) for {who}; give a non-empty value"
            )
        return _as_str(arr)

    def _bus(self, ids: np.ndarray) -> np.ndarray:
        n = ids.shape[0]
        if self.bus is None:
            return np.full(n, -1, dtype=np.int64)
        try:
            arr = np.asarray(self.bus, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"sites.bus must be integer bus indices (-1 if unknown): {exc}") from exc
        if arr.ndim == 0:
            arr = np.full(n, float(arr))
        if arr.shape != (n,):
            raise ValidationError(f"sites.bus must have one value per site ({n}), got shape {arr.shape}")
        bad = ~np.isfinite(arr) | (arr != np.round(arr)) | (arr < -1)
        if np.any(bad):
            i = int(np.argmax(bad))
            raise ValidationError(
                f"sites.bus is {float(arr[i]):g} for site {ids[i]!r}; "
                "give a whole bus index >= 0 (or -1 if unknown)"
            )
        return arr.astype(np.int64)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_frame(cls, frame: pd.DataFrame | Iterable[Mapping[str, Any]]) -> Self:
        """Build validated sites from a DataFrame or a list of dicts (one per site).

        Unknown columns raise a ValidationError listing the known ones. In a list of dicts, a key absent
        from a record takes the column's default for that site (``phase="abc"``, ``constraint_node`` = the
        node, ``ccp`` = the constraint node, ``customer_type="household"``, ``bus=-1``); an explicit
        None/NaN is an error.
        """
        known = [f.name for f in dataclasses.fields(cls)]
        if isinstance(frame, pd.DataFrame):
            columns = {str(c): frame[c].to_numpy(dtype=object) for c in frame.columns}
        else:
            columns = _columns_from_records(frame)
        unknown = sorted(set(columns) - set(known))
        if unknown:
            raise ValidationError(f"sites: unknown column(s) {unknown}; known columns are {known}")
        for required in ("site_id", "node"):
            if required not in columns:
                raise ValidationError(f"sites: column {required!r} is required")
        return cls(**columns)

    # ------------------------------------------------------------------ views
    @property
    def n(self) -> int:
        """Number of sites."""
        return int(self.site_id.shape[0])

    def __len__(self) -> int:
        return self.n

    def to_frame(self) -> pd.DataFrame:
        """The sites as a DataFrame indexed by ``site_id``."""
        cols = ("node", "bus", "phase", "constraint_node", "ccp", "customer_type")
        return pd.DataFrame({c: getattr(self, c) for c in cols}, index=pd.Index(self.site_id, name="site_id"))

    def take(self, idx: np.ndarray | slice | list[int]) -> Self:
        """Sites at the given positions (or boolean mask)."""
        return type(self)(**{f.name: getattr(self, f.name)[idx] for f in dataclasses.fields(self)})

    def positions(self, site_ids: Any, field: str = "site_id") -> np.ndarray:
        """Row positions of ``site_ids`` in this table.

        Raises
        ------
        ValidationError
            Naming ``field`` and the first id that is not a site.
        """
        ids = _as_str(np.asarray(site_ids, dtype=object).ravel())
        pos = self._index.get_indexer(ids)
        bad = pos < 0
        if np.any(bad):
            i = int(np.argmax(bad))
            raise ValidationError(
                f"{field} {ids[i]!r} is not a site of this fleet; add the site or fix the id"
            )
        return pos.astype(np.int64)

    @functools.cached_property
    def _index(self) -> pd.Index:
        return pd.Index(self.site_id)


_ROW_DEFAULTS: dict[str, Any] = {"phase": "abc", "customer_type": "household", "bus": -1}


def _columns_from_records(records: Iterable[Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """Column arrays from a list of dicts; absent keys take the per-site defaults of :class:`Sites`."""
    recs = list(records)
    if not all(type(rec) is dict for rec in recs) and not all(isinstance(rec, Mapping) for rec in recs):
        k = next(i for i, rec in enumerate(recs) if not isinstance(rec, Mapping))
        raise ValidationError(
            f"sites: record {k} must be a mapping of column -> value (got {type(recs[k]).__name__})"
        )
    if not recs:
        return {"site_id": np.empty(0, dtype=object), "node": np.empty(0, dtype=object)}
    seen: set[str] = set()
    for rec in recs:
        seen.update(rec)
    keys = [k for k in recs[0] if k in seen] + sorted(seen - set(recs[0]))
    cols: dict[str, np.ndarray] = {}
    if min(map(len, recs)) == len(keys):  # every record has every key: one C-level pass
        table = np.empty((len(recs), len(keys)), dtype=object)
        table[:] = list(map(operator.itemgetter(*keys), recs)) if len(keys) > 1 else [
            (rec[keys[0]],) for rec in recs]
        return {str(k): table[:, j] for j, k in enumerate(keys)}
    for key in keys:
        arr = np.empty(len(recs), dtype=object)
        arr[:] = [rec.get(key, _NOT_GIVEN) for rec in recs]
        cols[str(key)] = arr
    for key in ("phase", "customer_type", "bus", "constraint_node", "ccp"):
        if key not in cols:
            continue
        arr = cols[key]
        absent = np.fromiter((v is _NOT_GIVEN for v in arr), bool, arr.shape[0])
        if not absent.any():
            continue
        if key == "constraint_node":
            fill = cols.get("node")
        elif key == "ccp":
            fill = cols.get("constraint_node", cols.get("node"))
        else:
            fill = np.full(arr.shape[0], _ROW_DEFAULTS[key], dtype=object)
        if fill is None:
            continue
        arr = arr.copy()
        arr[absent] = fill[absent]
        cols[key] = arr
    for key, arr in cols.items():
        absent = np.fromiter((v is _NOT_GIVEN for v in arr), bool, arr.shape[0])
        if absent.any():
            i = int(np.argmax(absent))
            raise ValidationError(f"sites.{key} is missing in record {i}; give a value for every site")
    return cols
