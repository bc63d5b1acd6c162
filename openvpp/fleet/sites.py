"""The sites of a fleet: one row per customer connection (meter), stored as columns.

A site is where a customer's devices meet the grid: its network node (bus), the phase(s) it is connected
to, the constraint node whose limits apply to it (seed 001 §2.1: a DER maps to one or more constraint
nodes, e.g. its distribution transformer) and the common connection point (CCP) at which flexibility is
aggregated (seed 003 §3, Minkowski sums per CCP). Devices refer to sites by ``site_id``.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from openvpp.errors import ValidationError
from openvpp.tables import ABSENT, ColumnTable, as_str, unique_ids

#: allowed values of ``Sites.phase``: one phase of a three-phase LV system or all three
PHASES = ("a", "b", "c", "abc")

_STR_COLUMNS = ("node", "constraint_node", "ccp", "customer_type")


def _is_missing(arr: np.ndarray) -> np.ndarray:
    """True where an object array holds None, NaN or an empty string."""
    return pd.isna(arr) | (arr == "")




@dataclasses.dataclass(frozen=True)
class Sites(ColumnTable):
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
    id_field: ClassVar[str] = "site_id"

    site_id: Any
    node: Any = None
    phase: Any = None
    constraint_node: Any = None
    ccp: Any = None
    customer_type: Any = None
    bus: Any = None

    def __post_init__(self) -> None:
        ids = unique_ids(self.site_id, "sites.site_id")
        object.__setattr__(self, "site_id", ids)
        if self.node is None and ids.shape[0]:
            raise ValidationError("sites: column 'node' is required (the network node of each site)")
        node = self._strings("node", np.empty(0, dtype=object) if self.node is None else self.node, ids)
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
        return as_str(arr)

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
    def column_default(cls, column: str, columns: dict[str, np.ndarray]) -> Any:
        """Default of ``column`` for site records that leave it out.

        ``phase="abc"``, ``customer_type="household"``, ``bus=-1``, ``constraint_node`` = the node, ``ccp`` =
        the constraint node; ``site_id`` and ``node`` have none.

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
        if column in _ROW_DEFAULTS:
            return _ROW_DEFAULTS[column]
        if column == "constraint_node":
            return columns.get("node", ABSENT)
        if column == "ccp":
            node = columns.get("node", ABSENT)
            cn = columns.get("constraint_node")
            if cn is None:
                return node
            if node is ABSENT:
                return cn
            return np.where(np.fromiter((v is ABSENT for v in cn), bool, cn.shape[0]), node, cn)
        return ABSENT

    # ------------------------------------------------------------------ views

    def to_frame(self) -> pd.DataFrame:
        """The sites as a DataFrame indexed by ``site_id``."""
        cols = ("node", "bus", "phase", "constraint_node", "ccp", "customer_type")
        return pd.DataFrame({c: getattr(self, c) for c in cols}, index=pd.Index(self.site_id, name="site_id"))

    def positions(self, site_ids: Any, field: str = "site_id") -> np.ndarray:
        """Row positions of ``site_ids`` in this table.

        Parameters
        ----------
        site_ids : array_like of str
            Ids to look up.
        field : str
            The field as the user wrote it, for the message.

        Raises
        ------
        ValidationError
            Naming ``field`` and the first id that is not a site.
        """
        ids = as_str(np.asarray(site_ids, dtype=object).ravel())
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
