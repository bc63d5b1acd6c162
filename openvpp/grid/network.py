"""Three-phase low-voltage network model: buses, lines, the MV/LV transformer and the sites on phases.

A :class:`Network` is an immutable, columnar description of a radial LV feeder:

* buses, indexed ``0 .. n_bus - 1``; ``source_bus`` is the LV busbar fed by the MV/LV transformer;
* lines (cables and overhead segments) from ``line_from`` (the end towards the source) to ``line_to``, each
  with its full 3x3 phase impedance matrix ``z_ohm`` (neutral and earth already Kron-reduced, i.e. an
  effectively grounded neutral, as in eqs (11)-(12) of the Chile roadmap, seed 000 §7.1.2) and a current
  rating ``i_max_a``;
* the MV/LV transformer: rating, short-circuit impedance on its own base, vector group, and the no-load
  LV voltage ``v_source_pu`` (the head voltage of seed 000 §7.2);
* sites (customers, one row each) connected to one phase (``'a'``, ``'b'``, ``'c'``) or to all three
  (``'abc'``, balanced three-phase connection).

Voltages are phase-to-neutral; ``v_base_v`` is the phase-to-neutral base (230 V for the IEEE European LV
feeder and SimBench, 220 V in seed 000 §7.2). Powers follow the load convention of :mod:`openvpp.units`.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from openvpp.errors import ValidationError
from openvpp.units import W_PER_KW

#: phase letters and their column index in every (..., 3) array
PHASES: tuple[str, str, str] = ("a", "b", "c")
PHASE_INDEX: dict[str, int] = {"a": 0, "b": 1, "c": 2}
#: allowed values of ``Network.sites['phase']``
SITE_PHASES: tuple[str, ...] = ("a", "b", "c", "abc")



def check_voltage_limits(v_min_pu: float, v_max_pu: float) -> tuple[float, float]:
    """Validate a phase-voltage band ``0 < v_min_pu < 1 < v_max_pu < 2`` and return it as floats.

    Parameters
    ----------
    v_min_pu, v_max_pu : float
        Lower and upper voltage limits (seed 000 §7.2: 0.9 and 1.1). [pu]

    Returns
    -------
    (v_min_pu, v_max_pu) : tuple of float
        The limits. [pu]
    """
    if not (np.isfinite(v_min_pu) and np.isfinite(v_max_pu) and 0.0 < v_min_pu < 1.0 < v_max_pu < 2.0):
        raise ValidationError(
            f"voltage limits must satisfy 0 < v_min_pu < 1 < v_max_pu < 2 (got v_min_pu={v_min_pu!r}, "
            f"v_max_pu={v_max_pu!r}); e.g. 0.9 and 1.1 pu"
        )
    return float(v_min_pu), float(v_max_pu)


@dataclasses.dataclass(frozen=True, eq=False)
class Network:
    """A radial three-phase LV network (see the module docstring for conventions).

    Attributes
    ----------
    name : str
        Name of the feeder.
    bus_names : numpy.ndarray of str, shape (n_bus,)
        Bus names (unique).
    v_base_v : float
        Phase-to-neutral base voltage. [V]
    source_bus : int
        Index of the LV busbar fed by the transformer (bus 0 in every loader).
    line_from, line_to : numpy.ndarray of int, shape (n_line,)
        Bus indices at the source end and at the far end of each line.
    z_ohm : numpy.ndarray of complex, shape (n_line, 3, 3)
        Series phase impedance matrix of each line (whole length, neutral Kron-reduced). [ohm]
    i_max_a : numpy.ndarray, shape (n_line,)
        Current rating of each line. [A]
    trafo_sn_kva : float
        Transformer rating. [kVA]
    trafo_z_pu : complex
        Transformer short-circuit impedance on its own base (``trafo_sn_kva``, LV voltage). [pu]
    trafo_vector_group : str
        Vector group, e.g. ``'Dyn'`` (the LV star point is grounded, so the zero-sequence impedance seen
        from the LV side equals the short-circuit impedance).
    v_source_pu : float
        No-load LV voltage behind the transformer impedance. [pu]
    sites : pandas.DataFrame
        One row per site: ``site_id`` (str), ``bus`` (int), ``phase`` (``'a'|'b'|'c'|'abc'``).
    line_names : numpy.ndarray of str, shape (n_line,), optional
        Line names; defaults to ``"line_<k>"``.
    y_shunt_s : numpy.ndarray of complex, shape (n_line, 3, 3), optional
        Total shunt admittance of each line (split half/half between its ends by the power flow). [S]
        ``None`` (the default, and what every loader gives for LV cables) means no shunt.
    trafo_z0_pu : complex, optional
        Zero-sequence impedance seen from the LV side, own base; ``None`` means equal to ``trafo_z_pu``
        (Dyn transformer with grounded LV neutral). [pu]
    line_length_km : numpy.ndarray, shape (n_line,), optional
        Line lengths (informative; impedances are already whole-length). [km]
    """

    name: str
    bus_names: NDArray
    v_base_v: float
    source_bus: int
    line_from: NDArray
    line_to: NDArray
    z_ohm: NDArray
    i_max_a: NDArray
    trafo_sn_kva: float
    trafo_z_pu: complex
    trafo_vector_group: str
    v_source_pu: float
    sites: pd.DataFrame
    line_names: NDArray | None = None
    y_shunt_s: NDArray | None = None
    trafo_z0_pu: complex | None = None
    line_length_km: NDArray | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "bus_names", np.asarray(self.bus_names).astype(str))
        set_(self, "line_from", np.asarray(self.line_from, dtype=np.int64))
        set_(self, "line_to", np.asarray(self.line_to, dtype=np.int64))
        set_(self, "z_ohm", np.asarray(self.z_ohm, dtype=complex))
        set_(self, "i_max_a", np.asarray(self.i_max_a, dtype=float))
        if self.line_names is None:
            set_(self, "line_names", np.array([f"line_{k}" for k in range(len(self.line_from))]))
        else:
            set_(self, "line_names", np.asarray(self.line_names).astype(str))
        if self.line_length_km is not None:
            set_(self, "line_length_km", np.asarray(self.line_length_km, dtype=float))
        if self.y_shunt_s is not None:
            set_(self, "y_shunt_s", np.asarray(self.y_shunt_s, dtype=complex))
        sites = pd.DataFrame(self.sites).reset_index(drop=True).copy()
        for col in ("site_id", "bus", "phase"):
            if col not in sites.columns:
                raise ValidationError(
                    f"network.sites needs a column {col!r} (got columns {list(sites.columns)}); "
                    "give one row per site with site_id, bus (int index) and phase ('a'|'b'|'c'|'abc')"
                )
        sites["site_id"] = sites["site_id"].astype(str)
        sites["bus"] = sites["bus"].astype(np.int64)
        sites["phase"] = sites["phase"].astype(str)
        set_(self, "sites", sites)
        self._validate()

    # ------------------------------------------------------------------------------------------ checks
    def _validate(self) -> None:
        nb, nl = self.n_bus, self.n_line
        if nb < 1:
            raise ValidationError(f"network {self.name!r} has no buses")
        if len(set(self.bus_names)) != nb:
            raise ValidationError(f"network.bus_names must be unique (network {self.name!r})")
        if not (np.isfinite(self.v_base_v) and self.v_base_v > 0):
            raise ValidationError(f"network.v_base_v must be a positive voltage in V (got {self.v_base_v!r})")
        if not 0 <= int(self.source_bus) < nb:
            raise ValidationError(
                f"network.source_bus must be a bus index in [0, {nb}) (got {self.source_bus})"
            )
        line_names = self.line_names
        if line_names is None:  # filled in by __post_init__
            raise ValidationError(f"network {self.name!r} has no line_names; build it with Network(...)")
        per_line = (("line_to", self.line_to), ("i_max_a", self.i_max_a), ("line_names", line_names))
        for nm, arr in per_line:
            if arr.shape != (nl,):
                raise ValidationError(
                    f"network.{nm} must have shape ({nl},) like line_from (got {arr.shape})"
                )
        if self.z_ohm.shape != (nl, 3, 3):
            raise ValidationError(f"network.z_ohm must have shape ({nl}, 3, 3) (got {self.z_ohm.shape})")
        if self.y_shunt_s is not None and self.y_shunt_s.shape != (nl, 3, 3):
            raise ValidationError(
                f"network.y_shunt_s must have shape ({nl}, 3, 3) (got {self.y_shunt_s.shape})"
            )
        for nm, arr in (("line_from", self.line_from), ("line_to", self.line_to)):
            bad = np.flatnonzero((arr < 0) | (arr >= nb))
            if bad.size:
                raise ValidationError(
                    f"network.{nm} must hold bus indices in [0, {nb}) (got {arr[bad[0]]} for line "
                    f"{line_names[bad[0]]!r})"
                )
        if not np.all(np.isfinite(self.z_ohm)):
            raise ValidationError("network.z_ohm must be finite (NaN or inf found)")
        bad = np.flatnonzero(~(self.i_max_a > 0))
        if bad.size:
            raise ValidationError(
                f"network.i_max_a must be > 0 A (got {self.i_max_a[bad[0]]} for line "
                f"{line_names[bad[0]]!r})"
            )
        if not (np.isfinite(self.trafo_sn_kva) and self.trafo_sn_kva > 0):
            raise ValidationError(f"network.trafo_sn_kva must be > 0 kVA (got {self.trafo_sn_kva!r})")
        if not (np.isfinite(self.v_source_pu) and 0.5 < self.v_source_pu < 1.5):
            raise ValidationError(f"network.v_source_pu must lie in (0.5, 1.5) pu (got {self.v_source_pu!r})")
        if nl != nb - 1:
            raise ValidationError(
                f"network {self.name!r} must be radial and connected: n_line = n_bus - 1 expected "
                f"(got {nl} lines for {nb} buses); open switches / remove meshes before building it"
            )
        s = self.sites
        bad = np.flatnonzero(~s["phase"].isin(SITE_PHASES).to_numpy())
        if bad.size:
            raise ValidationError(
                f"network.sites.phase must be one of {SITE_PHASES} (got {s['phase'].iloc[bad[0]]!r} for site "
                f"{s['site_id'].iloc[bad[0]]!r})"
            )
        bad = np.flatnonzero(((s["bus"] < 0) | (s["bus"] >= nb)).to_numpy())
        if bad.size:
            raise ValidationError(
                f"network.sites.bus must be a bus index in [0, {nb}) (got {s['bus'].iloc[bad[0]]} for site "
                f"{s['site_id'].iloc[bad[0]]!r})"
            )
        if s["site_id"].duplicated().any():
            raise ValidationError(f"network.sites.site_id must be unique (network {self.name!r})")
        _ = self.parent  # raises when not connected

    # ------------------------------------------------------------------------------------------ sizes
    @property
    def n_bus(self) -> int:
        """Number of buses."""
        return len(self.bus_names)

    @property
    def n_line(self) -> int:
        """Number of lines."""
        return len(self.line_from)

    @property
    def n_site(self) -> int:
        """Number of sites."""
        return len(self.sites)

    @property
    def z_base_ohm(self) -> float:
        """Impedance base of the LV side, ``v_base_v**2 / (S / 3)``, ``S`` = ``trafo_sn_kva`` in VA. [ohm]"""
        return self.v_base_v**2 / (self.trafo_sn_kva * W_PER_KW / 3.0)

    @property
    def trafo_z_ohm(self) -> complex:
        """Transformer short-circuit impedance referred to the LV side (positive sequence). [ohm]"""
        return complex(self.trafo_z_pu) * self.z_base_ohm

    @property
    def trafo_i_rated_a(self) -> float:
        """Rated LV current of the transformer per phase. [A]"""
        return self.trafo_sn_kva * W_PER_KW / (3.0 * self.v_base_v)

    # ------------------------------------------------------------------------------------------ topology
    def incidence(self) -> sp.csr_matrix:
        """Branch-bus incidence matrix, shape (n_line, n_bus): +1 at ``line_from``, -1 at ``line_to``."""
        nl = self.n_line
        rows = np.r_[np.arange(nl), np.arange(nl)]
        cols = np.r_[self.line_from, self.line_to]
        vals = np.r_[np.ones(nl), -np.ones(nl)]
        return sp.csr_matrix((vals, (rows, cols)), shape=(nl, self.n_bus))

    @cached_property
    def _tree(self) -> tuple[NDArray, NDArray, NDArray]:
        nb = self.n_bus
        adj: list[list[tuple[int, int]]] = [[] for _ in range(nb)]
        for k, (f, t) in enumerate(zip(self.line_from.tolist(), self.line_to.tolist(), strict=True)):
            adj[f].append((t, k))
            adj[t].append((f, k))
        parent = np.full(nb, -1, dtype=np.int64)
        parent_line = np.full(nb, -1, dtype=np.int64)
        seen = np.zeros(nb, dtype=bool)
        order = []
        root = int(self.source_bus)
        seen[root] = True
        queue = deque([root])
        while queue:
            u = queue.popleft()
            order.append(u)
            for v, k in adj[u]:
                if not seen[v]:
                    seen[v] = True
                    parent[v] = u
                    parent_line[v] = k
                    queue.append(v)
        if not seen.all():
            missing = self.bus_names[~seen][:3].tolist()
            raise ValidationError(
                f"network {self.name!r} is not connected: {int((~seen).sum())} buses cannot be reached from "
                f"the source bus (e.g. {missing}); remove them or close the switch that feeds them"
            )
        return np.asarray(order, dtype=np.int64), parent, parent_line

    @property
    def order(self) -> NDArray[np.int64]:
        """Buses in breadth-first order from the source bus (every bus after its parent)."""
        return self._tree[0]

    @property
    def parent(self) -> NDArray[np.int64]:
        """Parent bus of every bus towards the source (``-1`` for the source bus)."""
        return self._tree[1]

    @property
    def parent_line(self) -> NDArray[np.int64]:
        """Index of the line joining each bus to its parent (``-1`` for the source bus)."""
        return self._tree[2]

    @property
    def line_is_oriented(self) -> NDArray[np.bool_]:
        """True where ``line_from`` is the end towards the source (every loader orients lines so)."""
        return self.parent[self.line_to] == self.line_from

    # ------------------------------------------------------------------------------------------ sites
    def site_phase_weights(self) -> NDArray[np.float64]:
        """Share of each site's power on each phase, shape (n_site, 3), rows summing to 1.

        A single-phase site puts its whole power on its phase, a three-phase (``'abc'``) site a third on
        each phase; zero marks a phase the site is not connected to.
        """
        ph = self.sites["phase"].to_numpy()
        w = (ph[:, None] == np.asarray(PHASES)[None, :]).astype(float)
        w[ph == "abc"] = 1.0 / 3.0
        return w

    def site_phase_matrix(self) -> sp.csr_matrix:
        """Map site powers to bus-phase injections, shape (3 * n_bus, n_site).

        Row ``3 * bus + phase``, values from :meth:`site_phase_weights` (only the connected phases are
        stored). Multiply by a (n_site, T) power array to get per-bus-phase powers.
        """
        w = self.site_phase_weights()
        site, k = np.nonzero(w)
        rows = 3 * self.sites["bus"].to_numpy()[site] + k
        return sp.csr_matrix((w[site, k], (rows, site)), shape=(3 * self.n_bus, self.n_site))

    def bus_index(self, names: list[str] | NDArray) -> NDArray[np.int64]:
        """Indices of buses by name (raises ValidationError naming the first unknown one).

        Parameters
        ----------
        names : sequence of str
            Bus names.

        Returns
        -------
        numpy.ndarray of int
        """
        lookup = {n: i for i, n in enumerate(self.bus_names.tolist())}
        out = []
        for n in np.asarray(names).astype(str).tolist():
            if n not in lookup:
                raise ValidationError(f"bus {n!r} is not in network {self.name!r}")
            out.append(lookup[n])
        return np.asarray(out, dtype=np.int64)

    def replace(self, **changes: Any) -> Network:
        """A copy with some fields replaced (``dataclasses.replace``), validated again.

        Parameters
        ----------
        **changes
            Fields and their new values (units as in the class docstring).

        Returns
        -------
        Network
        """
        return dataclasses.replace(self, **changes)

    def summary(self) -> dict[str, object]:
        """Sizes and ratings as a plain dict (for reports and ``--json``)."""
        per_phase = self.sites["phase"].value_counts().to_dict()
        return {
            "name": self.name,
            "n_bus": self.n_bus,
            "n_line": self.n_line,
            "n_site": self.n_site,
            "sites_per_phase": {k: int(per_phase.get(k, 0)) for k in SITE_PHASES},
            "v_base_v": float(self.v_base_v),
            "trafo_sn_kva": float(self.trafo_sn_kva),
            "trafo_vector_group": self.trafo_vector_group,
        }
