"""The columnar fleet: sites, one parameter table per DER class, optional profiles, and aggregation.

A :class:`Fleet` holds no Python object per device: sites are a :class:`~openvpp.fleet.sites.Sites` table,
devices of each class a :class:`~openvpp.der._params.ParamTable` (struct of arrays), and every mapping
(device -> site, site -> node / constraint node / CCP / VPP) is an integer code array, so that aggregation is
one ``numpy.bincount`` (1-D) or one sparse matrix product (2-D) whatever the fleet size.

Sign convention: every power handled here follows the load convention (+ = drawn from the grid, import,
charging, consumption); aggregates are plain sums and follow the same rule.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, overload

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from openvpp.errors import ValidationError
from openvpp.fleet.sites import Sites
from openvpp.tables import ParamTable
from openvpp.timeseries import as_2d, check_index, step_hours

#: groupings understood by :meth:`Fleet.codes` and :meth:`Fleet.aggregate`
GROUPINGS = ("site", "node", "constraint_node", "ccp", "phase", "customer_type", "vpp")

#: conventional profile names (owner "site" unless stated); all [kW] unless the name says otherwise
PROFILE_NAMES: dict[str, str] = {
    "base_load_kw": "site consumption without the modelled DER (>= 0, load convention)",
    "heatpump_kw": "as-is consumption of the site's heat pumps (>= 0), e.g. SimBench 'Soil_*'/'Air_*' loads",
    "ev_kw": "as-is consumption of the site's EV chargers (>= 0), e.g. SimBench 'HLS_*'/'APLS_*' loads",
    "pv_ac_kw": "AC output of the site's PV systems (>= 0, generator sign: subtract it from the load)",
    "pv_pu": "owner 'pv': AC output per kWp of each PV system [kW/kWp]",
}


def _owners(profiles: Profiles) -> Mapping[str, str]:
    """``profiles.owner``, which :class:`Profiles` always fills in (one owner per series)."""
    if profiles.owner is None:
        raise ValidationError("profiles.owner is missing; build profiles with Profiles(index, data, owner)")
    return profiles.owner


@dataclasses.dataclass(frozen=True)
class Profiles:
    """Time series attached to a fleet, on one tz-aware fixed-step axis.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        The common time axis (tz-aware, fixed step).
    data : mapping of str to array_like, each shape (n_rows, n_steps)
        The series; see :data:`PROFILE_NAMES` for the conventional names.
    owner : mapping of str to str, optional
        For each series, ``"site"`` (rows follow the fleet's sites) or a DER class name (rows follow that
        class's parameter table). Default ``"site"`` for every series except ``"pv_pu"`` (owner ``"pv"``).
    """

    index: pd.DatetimeIndex
    data: Mapping[str, Any]
    owner: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        index = check_index(self.index, "profiles.index")
        n_steps = len(index)
        data = {}
        for name, values in dict(self.data).items():
            data[str(name)] = as_2d(f"profiles[{name!r}]", values, None, n_steps)
        owner = dict(self.owner or {})
        unknown = sorted(set(owner) - set(data))
        if unknown:
            raise ValidationError(f"profiles.owner names series that are not in profiles.data: {unknown}")
        for name in data:
            owner.setdefault(name, "pv" if name == "pv_pu" else "site")
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "data", MappingProxyType(data))
        object.__setattr__(self, "owner", MappingProxyType(owner))

    @property
    def n_steps(self) -> int:
        """Number of time steps."""
        return len(self.index)

    @property
    def dt_h(self) -> float:
        """Step length. [h]"""
        return step_hours(self.index)

    def names(self) -> list[str]:
        """Names of the series."""
        return list(self.data)

    def __contains__(self, name: object) -> bool:
        return name in self.data

    def __getitem__(self, name: str) -> NDArray[np.float64]:
        if name not in self.data:
            raise ValidationError(f"no profile named {name!r}; the fleet has {self.names()}")
        return self.data[name]

    def isel(self, steps: slice) -> Profiles:
        """The same series restricted to a slice of time steps.

        Parameters
        ----------
        steps : slice
            Steps to keep.
        """
        if not isinstance(steps, slice):
            raise ValidationError("steps must be a slice of time positions")
        data = {k: v[:, steps] for k, v in self.data.items()}
        return Profiles(self.index[steps], data, dict(_owners(self)))


@dataclasses.dataclass(frozen=True)
class Fleet:
    """Sites, one DER parameter table per class, and optional profiles — all columnar.

    Parameters
    ----------
    sites : Sites
        One row per site.
    ders : mapping of str to ParamTable
        Parameter table per DER class name (``"battery"``, ``"pv"``...; see
        :data:`openvpp.fleet.classes.DER_CLASSES`). Each table's ``site_id`` must name sites of ``sites``.
    profiles : Profiles, optional
        Time series of the sites / devices (e.g. base load and PV output).
    name : str
        Label of the fleet (the VPP), used as the single group of ``by="vpp"``.
    meta : mapping, optional
        Provenance (source grid code, builder rule, seed...), carried along unchanged.

    Raises
    ------
    ValidationError
        If a device points to an unknown site or a profile has the wrong number of rows.
    """

    sites: Sites
    ders: Mapping[str, ParamTable] = dataclasses.field(default_factory=dict)
    profiles: Profiles | None = None
    name: str = "vpp"
    meta: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    #: row position in ``sites`` of every device, per DER class (derived in ``__post_init__``)
    _site_pos: dict[str, NDArray[np.int64]] = dataclasses.field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))
        if not isinstance(self.sites, Sites):
            raise ValidationError(f"sites must be a Sites table (got {type(self.sites).__name__})")
        ders: dict[str, ParamTable] = {}
        for cls_name, table in dict(self.ders).items():
            if not isinstance(table, ParamTable):
                raise ValidationError(
                    f"ders[{cls_name!r}] must be a ParamTable (got {type(table).__name__}); build it with "
                    "the class's from_frame"
                )
            ders[str(cls_name)] = table
        object.__setattr__(self, "ders", MappingProxyType(ders))
        pos = {name: self.sites.positions(t.site_id, f"{t.table_name}.site_id") for name, t in ders.items()}
        object.__setattr__(self, "_site_pos", pos)
        if self.profiles is not None:
            if not isinstance(self.profiles, Profiles):
                raise ValidationError("profiles must be an openvpp.fleet.Profiles instance")
            for pname, arr in self.profiles.data.items():
                owner = _owners(self.profiles)[pname]
                if owner == "site":
                    want = self.sites.n
                elif owner in ders:
                    want = ders[owner].n
                else:
                    raise ValidationError(
                        f"profile {pname!r} belongs to {owner!r}, which is neither 'site' nor a DER class of "
                        f"this fleet ({sorted(ders)})"
                    )
                if arr.shape[0] != want:
                    raise ValidationError(
                        f"profile {pname!r} has {arr.shape[0]} rows but its owner {owner!r} has {want}; "
                        "one row per site / device, in table order"
                    )

    # ------------------------------------------------------------------ sizes and tables
    @property
    def n_sites(self) -> int:
        """Number of sites."""
        return self.sites.n

    @property
    def classes(self) -> list[str]:
        """Names of the DER classes present."""
        return list(self.ders)

    def has(self, name: str) -> bool:
        """Whether the fleet holds a table for DER class ``name`` (possibly empty).

        Parameters
        ----------
        name : str
            DER class name (``"battery"``, ``"pv"`` ...; see :data:`openvpp.fleet.DER_CLASSES`).
        """
        return name in self.ders

    def der(self, name: str) -> ParamTable:
        """Parameter table of DER class ``name``.

        Parameters
        ----------
        name : str
            DER class name (``"battery"``, ``"pv"`` ...; see :data:`openvpp.fleet.DER_CLASSES`).

        Raises
        ------
        ValidationError
            Listing the classes the fleet holds.
        """
        if name not in self.ders:
            raise ValidationError(f"the fleet has no {name!r} devices; it holds {self.classes}")
        return self.ders[name]

    @overload
    def count(self, name: None = None) -> dict[str, int]: ...
    @overload
    def count(self, name: str) -> int: ...
    def count(self, name: str | None = None) -> int | dict[str, int]:
        """Number of devices of class ``name``, or a dict of counts per class when ``name`` is None.

        Parameters
        ----------
        name : str, optional
            DER class name; None: every class.
        """
        if name is None:
            return {k: v.n for k, v in self.ders.items()}
        return self.der(name).n if name in self.ders else 0

    def summary(self) -> pd.DataFrame:
        """Devices per class and the number of sites holding at least one of them."""
        rows = [{"class": "site", "devices": self.n_sites, "sites_with": self.n_sites}]
        for name, table in self.ders.items():
            rows.append({"class": name, "devices": table.n,
                         "sites_with": int(np.unique(self.site_positions(name)).size)})
        return pd.DataFrame(rows).set_index("class")

    # ------------------------------------------------------------------ mappings
    def site_positions(self, name: str) -> NDArray[np.int64]:
        """Row position in :attr:`sites` of each device of class ``name``, shape (n_devices,).

        Parameters
        ----------
        name : str
            DER class name (``"battery"``, ``"pv"`` ...; see :data:`openvpp.fleet.DER_CLASSES`).
        """
        self.der(name)
        return self._site_pos[name]

    def site_mask(self, name: str) -> NDArray[np.bool_]:
        """True for the sites holding at least one device of class ``name``, shape (n_sites,).

        Parameters
        ----------
        name : str
            DER class name (``"battery"``, ``"pv"`` ...; see :data:`openvpp.fleet.DER_CLASSES`).
        """
        mask = np.zeros(self.n_sites, dtype=bool)
        if name in self.ders:
            mask[self.site_positions(name)] = True
        return mask

    @functools.cached_property
    def _codes(self) -> dict[str, tuple[NDArray[np.int64], NDArray[Any]]]:
        return {}

    def codes(self, by: str = "node") -> tuple[NDArray[np.int64], NDArray[Any]]:
        """Integer group code of every site and the group labels.

        Parameters
        ----------
        by : {"site", "node", "constraint_node", "ccp", "phase", "customer_type", "vpp"}
            Grouping. Labels are sorted, except for ``"site"`` (site order, codes = positions);
            ``"vpp"`` is one group named :attr:`name`.

        Returns
        -------
        (codes, labels) : tuple of numpy.ndarray
            ``codes`` shape (n_sites,) with values in ``range(len(labels))``.
        """
        if by not in GROUPINGS:
            raise ValidationError(f"by must be one of {list(GROUPINGS)} (got {by!r})")
        cache = self._codes
        if by not in cache:
            if by == "vpp":
                cache[by] = (np.zeros(self.n_sites, dtype=np.int64), np.array([self.name], dtype=object))
            elif by == "site":
                cache[by] = (np.arange(self.n_sites, dtype=np.int64), self.sites.site_id)
            else:
                codes, labels = pd.factorize(getattr(self.sites, by), sort=True)
                cache[by] = (codes.astype(np.int64), np.asarray(labels, dtype=object))
        return cache[by]

    def labels(self, by: str = "node") -> NDArray[Any]:
        """Sorted group labels of a grouping (see :meth:`codes`).

        Parameters
        ----------
        by : str
            Grouping: one of :data:`openvpp.fleet.GROUPINGS` (``"node"``, ``"ccp"`` ...).
        """
        return self.codes(by)[1]

    # ------------------------------------------------------------------ aggregation
    def aggregate(self, p_kw: ArrayLike, by: str = "node") -> NDArray[np.float64]:
        """Sum site values per group (node, constraint node, CCP, VPP...).

        Parameters
        ----------
        p_kw : array_like, shape (n_sites,) or (n_sites, n_steps)
            Value per site (power in the load convention, + = import). [kW]
        by : str
            Grouping, see :meth:`codes`.

        Returns
        -------
        numpy.ndarray, shape (n_groups,) or (n_groups, n_steps)
            Rows in the order of :meth:`labels`. [kW]
        """
        codes, labels = self.codes(by)
        return _group_sum(p_kw, codes, len(labels), self.n_sites, "p_kw (one row per site)")

    def aggregate_frame(self, p_kw: ArrayLike, by: str = "node", index: pd.DatetimeIndex | None = None
                        ) -> pd.DataFrame | pd.Series:
        """:meth:`aggregate` as a labelled Series (1-D input) or DataFrame (groups x time).

        Parameters
        ----------
        p_kw : array_like, shape (n_sites,) or (n_sites, n_steps)
            Site values (load convention for powers). [kW]
        by : str
            Grouping: one of :data:`openvpp.fleet.GROUPINGS` (``"node"``, ``"ccp"`` ...).
        index : pandas.DatetimeIndex, optional
            Time axis of the columns (default: the profiles' axis).
        """
        out = self.aggregate(p_kw, by)
        labels = pd.Index(self.labels(by), name=by)
        if out.ndim == 1:
            return pd.Series(out, index=labels, name="p_kw")
        if index is None and self.profiles is not None and self.profiles.n_steps == out.shape[1]:
            index = self.profiles.index
        return pd.DataFrame(out, index=labels, columns=index)

    def devices_to_sites(self, name: str, p_kw: ArrayLike) -> NDArray[np.float64]:
        """Sum device values of class ``name`` per site.

        Parameters
        ----------
        name : str
            DER class.
        p_kw : array_like, shape (n_devices,) or (n_devices, n_steps)
            Value per device in table order (power in the load convention). [kW]

        Returns
        -------
        numpy.ndarray, shape (n_sites,) or (n_sites, n_steps)
            Zero for sites without such a device. [kW]
        """
        pos = self.site_positions(name)
        return _group_sum(p_kw, pos, self.n_sites, pos.shape[0], f"{name} values (one row per device)")

    # ------------------------------------------------------------------ derived fleets
    def with_der(self, name: str, table: ParamTable) -> Fleet:
        """A validated copy with the table of class ``name`` added or replaced.

        Parameters
        ----------
        name : str
            DER class name (``"battery"``, ``"pv"`` ...; see :data:`openvpp.fleet.DER_CLASSES`).
        table : ParamTable
            The class's validated parameter table.
        """
        ders = dict(self.ders)
        ders[name] = table
        return Fleet(self.sites, ders, self.profiles, self.name, dict(self.meta))

    def with_profiles(self, profiles: Profiles | None) -> Fleet:
        """A validated copy with other profiles (or none).

        Parameters
        ----------
        profiles : Profiles or None
            The new profiles (None: drop them).
        """
        return Fleet(self.sites, dict(self.ders), profiles, self.name, dict(self.meta))

    def profile(self, name: str) -> NDArray[np.float64]:
        """One profile array, shape (n_rows, n_steps).

        Parameters
        ----------
        name : str
            Profile name (see :data:`PROFILE_NAMES`).
        """
        if self.profiles is None:
            raise ValidationError(
                f"the fleet has no profiles (asked for {name!r}); attach them with "
                "fleet.with_profiles(Profiles(index, {...})) or build the fleet with from_simbench"
            )
        return self.profiles[name]

    def site_profile(self, name: str, default: float | None = None) -> NDArray[np.float64]:
        """A site-owned profile, or a constant ``default`` array when absent (if ``default`` is given).

        Parameters
        ----------
        name : str
            Profile name with owner ``"site"``.
        default : float, optional
            Value for every site and step when the fleet has no such profile (None: error). [unit of the
            profile]
        """
        if self.profiles is not None and name in self.profiles:
            owner = _owners(self.profiles)[name]
            if owner != "site":
                raise ValidationError(
                    f"profile {name!r} belongs to {owner!r}, not to sites"
                )
            return self.profiles[name]
        if default is None or self.profiles is None:
            return self.profile(name)
        return np.full((self.n_sites, self.profiles.n_steps), float(default))


def _group_sum(values: ArrayLike, codes: NDArray[np.int64], n_groups: int, n_rows: int, what: str
               ) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 0 or arr.shape[0] != n_rows or arr.ndim > 2:
        raise ValidationError(f"{what} must have shape ({n_rows},) or ({n_rows}, n_steps) (got {arr.shape})")
    if not np.all(np.isfinite(arr)):
        raise ValidationError(f"{what} contains NaN or inf; fill or drop it first")
    if arr.ndim == 1:
        return np.bincount(codes, weights=arr, minlength=n_groups).astype(np.float64, copy=False)
    mat = sp.csr_matrix((np.ones(n_rows), (codes, np.arange(n_rows))), shape=(n_groups, n_rows))
    return np.asarray(mat @ arr)
