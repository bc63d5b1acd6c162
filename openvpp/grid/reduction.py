"""Exact reduction of a radial three-phase network: prune dead ends and merge series segments.

Two transformations leave the voltages at the kept buses and the currents in every remaining line
unchanged, for any loading (no approximation):

1. **Dead ends without injections** — a subtree that holds no site (and no bus the caller wants to keep)
   carries no current, so every bus in it has the voltage of the bus it hangs from. It is removed.
2. **Series segments** — a bus with no site and exactly two lines (one towards the source, one away from
   it) passes the same current through both, so the two lines are replaced by one with the summed 3x3
   impedance matrix. Because the current is the same in every merged segment, the merged line's rating is
   the *tightest* (smallest) rating of its segments.

Line shunt admittances would break exactness; the reduction refuses networks that carry them.

:class:`Reduction` keeps the maps needed to expand a solution on the reduced network back to every bus and
line of the full one (:meth:`Reduction.expand_voltages`, :meth:`Reduction.expand_currents`). Written here
because no library reduces three-phase radial feeders while keeping these maps.
"""

from __future__ import annotations

import dataclasses
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from openvpp.errors import ValidationError
from openvpp.grid.network import Network


@dataclasses.dataclass(frozen=True, eq=False)
class Reduction:
    """A reduced network and the maps back to the full one.

    Attributes
    ----------
    full, reduced : Network
        The original network and its exact reduction.
    kept_bus : numpy.ndarray of int, shape (reduced.n_bus,)
        Full-network index of every reduced bus.
    bus_line : numpy.ndarray of int, shape (full.n_bus,)
        For every full bus: the reduced line whose chain holds it (``-1`` for kept buses and dead ends).
    bus_anchor : numpy.ndarray of int, shape (full.n_bus,)
        For every full bus: the reduced bus whose voltage it starts from (itself for kept buses, the
        reduced line's source end for chain buses, the attachment bus for dead ends).
    bus_z_ohm : numpy.ndarray of complex, shape (full.n_bus, 3, 3)
        Impedance from the anchor to the bus along the chain (zero for kept buses and dead ends). [ohm]
    line_map : numpy.ndarray of int, shape (full.n_line,)
        Reduced line carrying each full line's current (``-1`` for lines in pruned dead ends: no current).
    """

    full: Network
    reduced: Network
    kept_bus: NDArray[np.int64]
    bus_line: NDArray[np.int64]
    bus_anchor: NDArray[np.int64]
    bus_z_ohm: NDArray[np.complex128]
    line_map: NDArray[np.int64]

    @cached_property
    def _chain(self) -> NDArray[np.int64]:
        return np.flatnonzero(self.bus_line >= 0)

    def expand_voltages(self, v_reduced: ArrayLike, i_reduced: ArrayLike) -> NDArray[np.complex128]:
        """Voltages at every full bus from the reduced solution.

        Parameters
        ----------
        v_reduced : array_like of complex, shape (reduced.n_bus, 3, T)
            Phase-to-neutral voltages at the reduced buses (or pu: the unit carries over). [V]
        i_reduced : array_like of complex, shape (reduced.n_line, 3, T)
            Currents of the reduced lines, from ``line_from`` to ``line_to`` (pu with pu voltages and
            ohm impedances scaled accordingly). [A]

        Returns
        -------
        numpy.ndarray of complex, shape (full.n_bus, 3, T)
        """
        v = np.asarray(v_reduced)
        i = np.asarray(i_reduced)
        out = np.take(v, self.bus_anchor, axis=0)
        chain = self._chain
        if chain.size:
            zc = self.bus_z_ohm[chain]
            ic = np.take(i, self.bus_line[chain], axis=0)
            for r in range(3):
                acc = zc[:, r, 0, None] * ic[:, 0]
                acc += zc[:, r, 1, None] * ic[:, 1]
                acc += zc[:, r, 2, None] * ic[:, 2]
                out[chain, r] -= acc
        return out

    def expansion_matrix(self, scale: float = 1.0) -> sp.csr_matrix:
        """Sparse map from the stacked reduced solution to every full bus-phase voltage.

        ``(G @ np.vstack([v_red.reshape(3 * n_red_bus, T), i_red.reshape(3 * n_red_line, T)]))`` gives the
        full voltages, shape (3 * full.n_bus, T), times ``scale`` — the same as :meth:`expand_voltages`
        in one sparse product (no per-chain gathers).

        Parameters
        ----------
        scale : float
            Factor applied to the voltages (e.g. ``1 / v_base_v`` for pu). [-]

        Returns
        -------
        scipy.sparse.csr_matrix of complex
        """
        nb_full = self.full.n_bus
        nb_red, nl_red = self.reduced.n_bus, self.reduced.n_line
        r3 = np.arange(3)
        rows = [(3 * np.arange(nb_full)[:, None] + r3).ravel()]
        cols = [(3 * self.bus_anchor[:, None] + r3).ravel()]
        vals = [np.full(3 * nb_full, scale, dtype=complex)]
        chain = self._chain
        if chain.size:
            ii, kk = np.meshgrid(r3, r3, indexing="ij")
            rows.append((3 * chain[:, None, None] + ii[None]).ravel())
            cols.append((3 * nb_red + 3 * self.bus_line[chain][:, None, None] + kk[None]).ravel())
            vals.append((-scale * self.bus_z_ohm[chain]).ravel())
        return sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(3 * nb_full, 3 * (nb_red + nl_red)),
        )

    def expand_currents(self, i_reduced: ArrayLike) -> NDArray[np.complex128]:
        """Currents of every full line (zero in pruned dead ends), shape (full.n_line, 3, T).

        Parameters
        ----------
        i_reduced : array_like of complex, shape (reduced.n_line, 3, T)
            Currents of the reduced lines. [A]

        Returns
        -------
        numpy.ndarray of complex, shape (full.n_line, 3, T)
            Currents of the full lines. [A]
        """
        i = np.asarray(i_reduced)
        live = self.line_map >= 0
        if live.all():
            return np.take(i, self.line_map, axis=0)
        out = np.zeros((self.full.n_line, *i.shape[1:]), dtype=i.dtype)
        out[live] = i[self.line_map[live]]
        return out


def reduce_network(network: Network, keep_buses: ArrayLike | None = None) -> Reduction:
    """Exact reduction: prune dead ends without sites, merge series segments (module docstring).

    Parameters
    ----------
    network : Network
        The full network (lines oriented from the source, as every loader builds them).
    keep_buses : array_like of int, optional
        Extra full-network bus indices that must survive (e.g. monitored buses). The source bus and every
        bus with a site always survive. [-]

    Returns
    -------
    Reduction
    """
    net = network
    if net.y_shunt_s is not None and np.any(net.y_shunt_s != 0):
        raise ValidationError(
            f"network {net.name!r} has line shunt admittances; the series-segment reduction is exact only "
            "without them (set y_shunt_s=None to neglect LV cable capacitance)"
        )
    if not net.line_is_oriented.all():
        raise ValidationError(f"network {net.name!r}: every line must run from the source side (line_from)")
    line_names = net.line_names
    if line_names is None:  # always set by Network.__post_init__
        raise ValidationError(f"network {net.name!r} has no line_names; build it with Network(...)")
    nb = net.n_bus
    parent, pline, order = net.parent, net.parent_line, net.order
    must = np.zeros(nb, dtype=bool)
    must[net.source_bus] = True
    must[net.sites["bus"].to_numpy()] = True
    if keep_buses is not None:
        kb = np.asarray(keep_buses, dtype=np.int64).ravel()
        if kb.size and (kb.min() < 0 or kb.max() >= nb):
            raise ValidationError(f"keep_buses must be bus indices in [0, {nb})")
        must[kb] = True
    # 1) live buses: those with a must-keep bus in their subtree (reverse BFS order accumulates)
    live = must.copy()
    for b in order[::-1]:
        if live[b] and parent[b] >= 0:
            live[parent[b]] = True
    n_child_live = np.bincount(parent[live & (parent >= 0)], minlength=nb)
    # 2) kept buses: must-keep, or live with a number of live children != 1 (junctions, live leaves)
    kept = live & (must | (n_child_live != 1))
    kept_idx = np.flatnonzero(kept)
    # keep the BFS order of the full network (source first)
    kept_idx = order[np.isin(order, kept_idx)]
    new_of = np.full(nb, -1, dtype=np.int64)
    new_of[kept_idx] = np.arange(kept_idx.size)
    # walk: for every live bus, anchor (nearest kept ancestor-or-self) and impedance from it
    bus_anchor_full = np.full(nb, -1, dtype=np.int64)
    bus_z = np.zeros((nb, 3, 3), dtype=complex)
    bus_line = np.full(nb, -1, dtype=np.int64)
    line_map = np.full(net.n_line, -1, dtype=np.int64)
    # reduced lines: one per kept bus other than the source, from its nearest kept ancestor
    red_line_of_kept = np.full(nb, -1, dtype=np.int64)
    red_line_of_kept[kept_idx[1:]] = np.arange(kept_idx.size - 1)
    # chain membership: for a live non-kept bus, the kept bus at the far end of its chain is found by
    # walking down (unique live child); do it by walking up from each kept bus instead
    z_acc = np.zeros((nb, 3, 3), dtype=complex)  # impedance from the anchor to the bus
    live_ref = np.arange(nb)  # nearest live ancestor-or-self (dead ends take its voltage)
    for b in order:
        p = parent[b]
        if p < 0:
            bus_anchor_full[b] = b
            continue
        if not live[b]:
            live_ref[b] = live_ref[p]
            continue
        bus_anchor_full[b] = p if kept[p] else bus_anchor_full[p]
        z_acc[b] = net.z_ohm[pline[b]] + (0 if kept[p] else z_acc[p])
    # far-end kept bus of every chain bus: walk up from each kept bus through non-kept parents
    red_from = np.empty(kept_idx.size - 1, dtype=np.int64)
    red_to = np.empty(kept_idx.size - 1, dtype=np.int64)
    red_z = np.empty((kept_idx.size - 1, 3, 3), dtype=complex)
    red_imax = np.empty(kept_idx.size - 1)
    red_len = np.zeros(kept_idx.size - 1)
    red_names = np.empty(kept_idx.size - 1, dtype=object)
    lengths = net.line_length_km
    for k in kept_idx[1:]:
        r = red_line_of_kept[k]
        anchor = bus_anchor_full[k]
        red_from[r] = new_of[anchor]
        red_to[r] = new_of[k]
        red_z[r] = z_acc[k]
        segs = []
        b = k
        while b != anchor:
            segs.append(pline[b])
            if b != k:
                bus_line[b] = r
            b = parent[b]
        segs_a = np.asarray(segs[::-1])
        line_map[segs_a] = r
        red_imax[r] = net.i_max_a[segs_a].min()
        if lengths is not None:
            red_len[r] = lengths[segs_a].sum()
        first = str(line_names[segs_a[0]])
        red_names[r] = first if segs_a.size == 1 else f"{first}+{segs_a.size - 1}"
    # every bus takes the anchor, chain line and impedance of its nearest live ancestor-or-self
    bus_line = bus_line[live_ref]
    chain = bus_line >= 0
    bus_z[chain] = z_acc[live_ref[chain]]
    ref = live_ref
    bus_anchor_red = new_of[np.where(kept[ref], ref, bus_anchor_full[ref])]
    if np.any(bus_anchor_red < 0):  # pragma: no cover - guarded by construction
        raise ValidationError("reduction failed to anchor every bus (network not radial?)")
    sites = net.sites.assign(bus=new_of[net.sites["bus"].to_numpy()])
    reduced = Network(
        name=f"{net.name} (reduced)",
        bus_names=net.bus_names[kept_idx],
        v_base_v=net.v_base_v,
        source_bus=0,
        line_from=red_from,
        line_to=red_to,
        z_ohm=red_z,
        i_max_a=red_imax,
        trafo_sn_kva=net.trafo_sn_kva,
        trafo_z_pu=net.trafo_z_pu,
        trafo_vector_group=net.trafo_vector_group,
        v_source_pu=net.v_source_pu,
        sites=sites,
        line_names=red_names.astype(str),
        trafo_z0_pu=net.trafo_z0_pu,
        line_length_km=red_len if lengths is not None else None,
    )
    return Reduction(
        full=net,
        reduced=reduced,
        kept_bus=kept_idx,
        bus_line=bus_line,
        bus_anchor=bus_anchor_red,
        bus_z_ohm=bus_z,
        line_map=line_map,
    )
