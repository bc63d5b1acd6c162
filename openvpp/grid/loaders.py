"""Loaders that build a :class:`~openvpp.grid.network.Network` from public LV feeders.

* :func:`ieee_european_lv` — the IEEE European LV test feeder as shipped by pandapower
  (``pandapower.networks.ieee_european_lv_asymmetric``): 906 LV buses, 905 lines, 55 single-phase
  customers, 0.8 MVA Dyn transformer, 416 V line-to-line (240.2 V phase-to-neutral base).
* :func:`simbench_lv` — SimBench LV grids (``simbench.get_simbench_net``), which are balanced and carry
  neither zero-sequence data nor a transformer vector group; the missing data are filled in by the
  documented assumptions below.
* :func:`from_pandapower` — the general converter both use (any radial pandapower LV net with one
  transformer and one external grid).
* :func:`from_opendss` — an OpenDSS ``.dss`` circuit (read through ``opendssdirect``).

Sequence to phase frame
-----------------------
Cable data come as positive- and zero-sequence impedances ``z1``, ``z0`` (ohm/km). For a transposed (or
symmetric) line the phase frame impedance matrix is ``Zabc = A diag(z0, z1, z2) A^-1`` with the Fortescue
matrix ``A = [[1, 1, 1], [1, a^2, a], [1, a, a^2]]``, ``a = exp(j 2 pi / 3)`` and ``z2 = z1``, i.e. self
impedance ``(z0 + 2 z1) / 3`` and mutual impedance ``(z0 - z1) / 3`` (:func:`sequence_to_phase`).

Assumptions (documented in docs/grid.md)
----------------------------------------
* Line ratings of the IEEE feeder: pandapower gives every line the placeholder ``max_i_ka = 0.421``; the
  rating is derived from the cable type instead (:data:`IEEE_EU_LV_CABLE_RATINGS_A`): conductor material and
  cross-section read from the line code and checked against the resistance, rounded *down* to the next
  standard section, and the buried-cable rating of the German standard VDE 0276-603 for 4-core PVC cables
  (NYY copper / NAYY aluminium; the NAYY values are the ones pandapower's own standard types use).
* SimBench zero sequence: ``r0 = 3.5 r1`` and ``x0 = 1.15 x1`` for every cable (the ratios of the IEEE
  feeder's four-core 185 mm² cable ``4c_185``, the only public LV four-core cable zero-sequence data at hand).
* SimBench transformer: vector group ``Dyn`` (the SimBench types are Dyn5, shift 150°), zero-sequence
  short-circuit impedance equal to the positive-sequence one, magnetising branch and iron losses neglected.
* SimBench customers are single-phase: :func:`assign_phases` gives them phases a, b, c in turn in the order
  of their electrical distance from the transformer (ties broken by site id), so each phase gets every
  third customer along the feeder.
* Line shunt capacitance (< 1 µF/km in LV cables) and the MV network's short-circuit impedance are
  neglected; the MV side is an ideal source at the external grid's voltage set-point.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from openvpp.data import load_ieee_european_lv, load_simbench_lv, lv_grid_codes, simbench_profiles
from openvpp.errors import DataError, ValidationError
from openvpp.grid.network import PHASES, SITE_PHASES, Network
from openvpp.units import A_PER_KA, KW_PER_MW, V_PER_KV, mw_to_kw

#: Fortescue operator a = exp(j 2 pi / 3)
A_OP: complex = complex(np.exp(2j * np.pi / 3))
#: Fortescue matrix: phase quantities = A @ (zero, positive, negative) sequence quantities
A_MAT: NDArray[np.complex128] = np.array([[1, 1, 1], [1, A_OP**2, A_OP], [1, A_OP, A_OP**2]], dtype=complex)
A_INV: NDArray[np.complexfloating] = np.linalg.inv(A_MAT)

#: Ratings of the IEEE European LV feeder's cable types (see module docstring): line code ->
#: (material, cross-section read from the code in mm², standard section used, rating in A).
IEEE_EU_LV_CABLE_RATINGS_A: dict[str, tuple[str, float, float, float]] = {
    "2c_007": ("Cu", 4.5, 4.0, 47.0),  # 0.007 in²
    "2c_0225": ("Cu", 14.5, 10.0, 79.0),  # 0.0225 in²
    "2c_16": ("Cu", 16.0, 16.0, 102.0),
    "35_SAC_XSC": ("Al", 35.0, 35.0, 123.0),
    "4c_06": ("Cu", 38.7, 35.0, 159.0),  # 0.06 in²
    "4c_1": ("Cu", 64.5, 50.0, 188.0),  # 0.1 in²
    "4c_35": ("Cu", 225.8, 185.0, 406.0),  # 0.35 in²
    "4c_70": ("Al", 70.0, 70.0, 179.0),
    "4c_95_SAC_XC": ("Al", 95.0, 95.0, 215.0),
    "4c_185": ("Al", 185.0, 185.0, 313.0),
}

#: zero- to positive-sequence ratios assumed for SimBench cables (IEEE feeder cable 4c_185)
SIMBENCH_R0_PER_R1 = 3.5
SIMBENCH_X0_PER_X1 = 1.15


# ---------------------------------------------------------------------------------------------- frames
def sequence_to_phase(z0: ArrayLike, z1: ArrayLike, z2: ArrayLike | None = None) -> NDArray[np.complex128]:
    """Phase-frame impedance matrices from sequence impedances, ``Zabc = A diag(z0, z1, z2) A^-1``.

    Parameters
    ----------
    z0, z1 : array_like of complex, shape (n,) or scalar
        Zero- and positive-sequence impedances (ohm/km or pu carry over likewise). [ohm]
    z2 : array_like of complex, optional
        Negative-sequence impedance; defaults to ``z1`` (static equipment such as lines). [ohm]

    Returns
    -------
    numpy.ndarray of complex, shape (n, 3, 3)
        Phase impedance matrices; for ``z2 = z1`` self ``(z0 + 2 z1) / 3`` and mutual ``(z0 - z1) / 3``.
    """
    z0a = np.atleast_1d(np.asarray(z0, dtype=complex))
    z1a = np.atleast_1d(np.asarray(z1, dtype=complex))
    z2a = z1a if z2 is None else np.atleast_1d(np.asarray(z2, dtype=complex))
    z0a, z1a, z2a = np.broadcast_arrays(z0a, z1a, z2a)
    d = np.zeros((*z0a.shape, 3, 3), dtype=complex)
    d[..., 0, 0], d[..., 1, 1], d[..., 2, 2] = z0a, z1a, z2a
    return A_MAT @ d @ A_INV


def phase_to_sequence(z_abc: ArrayLike) -> NDArray[np.complex128]:
    """Sequence-frame matrices ``Z012 = A^-1 Zabc A`` (diagonal for symmetric lines), shape (..., 3, 3).

    Parameters
    ----------
    z_abc : array_like of complex, shape (..., 3, 3)
        Phase-frame impedance matrices (any impedance unit carries over). [ohm]

    Returns
    -------
    numpy.ndarray of complex, shape (..., 3, 3)
        Zero, positive, negative sequence order. [ohm]
    """
    z = np.asarray(z_abc, dtype=complex)
    if z.shape[-2:] != (3, 3):
        raise ValidationError(f"z_abc must have shape (..., 3, 3) (got {z.shape})")
    return A_INV @ z @ A_MAT


# ---------------------------------------------------------------------------------------------- phases
def assign_phases(distance: ArrayLike, site_ids: ArrayLike, start: int = 0) -> NDArray[np.str_]:
    """Assign single-phase sites to phases a, b, c in turn by electrical distance from the transformer.

    Parameters
    ----------
    distance : array_like, shape (n_site,)
        Electrical distance of each site's bus from the source bus (e.g. summed line resistance). [ohm]
    site_ids : sequence of str, shape (n_site,)
        Site identifiers (break ties so that the rule is deterministic). [-]
    start : int
        Phase of the nearest site (0 = a). [-]

    Returns
    -------
    numpy.ndarray of str, shape (n_site,)
        ``'a'``, ``'b'`` or ``'c'`` per site, in the input order.
    """
    d = np.asarray(distance, dtype=float)
    ids = np.asarray(site_ids).astype(str)
    if d.shape != ids.shape:
        raise ValidationError(f"distance and site_ids must have the same shape (got {d.shape}, {ids.shape})")
    order = np.lexsort((ids, d))
    out = np.empty(d.shape, dtype="<U1")
    out[order] = np.array(PHASES)[(np.arange(d.size) + start) % 3]
    return out


# ---------------------------------------------------------------------------------------------- pandapower
#: transformer vector groups the network model represents (clock number ignored): the LV star point is
#: grounded and zero-sequence current flows through the transformer's own zero-sequence impedance, closed
#: by the HV delta (Dyn) or by the grounded HV star and the ideal MV source (YNyn)
SUPPORTED_VECTOR_GROUPS: tuple[str, ...] = ("Dyn", "YNyn")
#: largest network the loaders accept [buses]
MAX_NETWORK_BUSES = 100_000


def check_vector_group(vector_group: object, element: str) -> str:
    """Validate a transformer vector group against what the network model represents.

    Parameters
    ----------
    vector_group : str
        The group as written in the file, e.g. ``'Dyn5'``, ``'YNyn0'`` (clock number ignored).
    element : str
        The transformer, named in the error message.

    Returns
    -------
    str
        The group without its clock number (one of :data:`SUPPORTED_VECTOR_GROUPS`).

    Raises
    ------
    ValidationError
        For every other group, naming the transformer and the group. Ungrounded LV windings (``Yy``,
        ``Dy``, ``Dd``, ``Yd`` ...) give a three-wire LV network without a neutral return, a grounded HV star
        with a floating LV star (``YNy``) or a zigzag winding (``Yzn``, ``Dzn``) need zero-sequence data the
        model does not carry; none is approximated by ``Dyn``.
    """
    vg = str(vector_group).strip() if isinstance(vector_group, str) else ""
    base = re.sub(r"\d+$", "", vg)
    if base not in SUPPORTED_VECTOR_GROUPS:
        raise ValidationError(
            f"transformer {element} has vector group {vector_group!r}, which the network model "
            "cannot represent; "
            f"supported: {', '.join(SUPPORTED_VECTOR_GROUPS)} (grounded LV star); convert the transformer or "
            "model the network with another tool"
        )
    return base


def _trafo_z0_pu_pandapower(trafo: pd.Series, z_pu: complex) -> complex:
    """Zero-sequence impedance seen from the LV side of a Dyn / YNyn transformer (pandapower's T model).

    The HV delta (Dyn) or the grounded HV star on an ideal MV source (YNyn) shorts the HV zero-sequence leg,
    so ``z0 = z_lv + (z_hv || z_mag0)``. Without ``vk0_percent`` in the file ``z0 = z1`` (documented
    assumption, docs/grid.md).
    """
    vk0 = float(trafo.get("vk0_percent", np.nan))
    vkr0 = float(trafo.get("vkr0_percent", np.nan))
    if not np.isfinite(vk0) or vk0 <= 0:
        return z_pu
    if not np.isfinite(vkr0):
        vkr0 = 0.0
    z0k = complex(vkr0 / 100.0, np.sqrt(max(vk0**2 - vkr0**2, 0.0)) / 100.0)
    mag0 = float(trafo.get("mag0_percent", np.nan))
    si0 = float(trafo.get("si0_hv_partial", np.nan))
    if not (np.isfinite(mag0) and np.isfinite(si0)):
        return z0k
    mag0_rx = float(trafo.get("mag0_rx", 0.0) or 0.0)
    zm_abs = abs(z0k) * mag0 / 100.0
    xm = zm_abs / np.sqrt(mag0_rx**2 + 1.0)
    zm = complex(xm * mag0_rx, xm)
    z_hv, z_lv = si0 * z0k, (1.0 - si0) * z0k
    return z_lv + z_hv * zm / (z_hv + zm)


def _reachable(start: int, fb: NDArray, tb: NDArray) -> list[int]:
    """Buses reached from ``start`` through the branches ``fb[k] - tb[k]``, in breadth-first order."""
    adj: dict[int, list[int]] = {}
    for f, t in zip(fb.tolist(), tb.tolist(), strict=True):
        adj.setdefault(f, []).append(t)
        adj.setdefault(t, []).append(f)
    buses = [start]
    seen = {start}
    i = 0
    while i < len(buses):
        for v in adj.get(buses[i], []):
            if v not in seen:
                seen.add(v)
                buses.append(v)
        i += 1
    return buses


def _bus_label(net: Any, bus: int) -> str:
    name = net.bus.at[bus, "name"] if bus in net.bus.index and "name" in net.bus else None
    return f"{bus} ({name!r})" if isinstance(name, str) and name else str(bus)


def _site_rows(
    net: Any, pos: dict[int, int], site_phase: ArrayLike | dict[str, str] | None
) -> list[dict[str, object]]:
    """One row per in-service load and asymmetric load (see :func:`from_pandapower`)."""
    by_name = dict(site_phase) if isinstance(site_phase, dict) else {}
    rows: list[dict[str, object]] = []

    def _where(kind: str, idx: int, r: pd.Series) -> tuple[str, int]:
        sid = str(r["name"]) if isinstance(r["name"], str) and r["name"] else f"{kind}_{idx}"
        bus = int(r["bus"])
        if bus not in pos:
            raise ValidationError(
                f"{kind} {sid!r} is connected to bus {_bus_label(net, bus)}, which is not reached from the "
                f"transformer's LV busbar {_bus_label(net, int(net.trafo.iloc[0]['lv_bus']))} "
                "through in-service "
                "lines and closed switches; connect the bus or set the load out of service"
            )
        return sid, pos[bus]

    if len(net.asymmetric_load):
        al = net.asymmetric_load[net.asymmetric_load["in_service"].astype(bool)]
        pq = np.abs(al[["p_a_mw", "p_b_mw", "p_c_mw"]].to_numpy(float)) + np.abs(
            al[["q_a_mvar", "q_b_mvar", "q_c_mvar"]].to_numpy(float)
        )
        for k, (idx, r) in enumerate(al.iterrows()):
            sid, b = _where("asymmetric load", int(idx), r)
            nz = np.flatnonzero(pq[k] > 0)
            if sid in by_name:
                ph = by_name[sid]
            elif nz.size:
                ph = PHASES[nz[0]] if nz.size == 1 else "abc"
            else:
                raise ValidationError(
                    f"asymmetric load {sid!r} at bus {_bus_label(net, int(r['bus']))} draws no "
                    "power on any phase, "
                    f"so its phase cannot be read from the file; give it in site_phase={{{sid!r}: 'a'}}"
                )
            rows.append({"site_id": sid, "bus": b, "phase": ph, "profile": ""})
    if len(net.load):
        ld = net.load[net.load["in_service"].astype(bool)]
        if site_phase is None or isinstance(site_phase, dict):
            phs = np.array([by_name.get(str(n), "abc") for n in ld["name"]], dtype=object)
        else:
            phs = np.asarray(site_phase, dtype=object)
            if phs.shape != (len(ld),):
                raise ValidationError(
                    f"site_phase must have one entry per in-service load ({len(ld)}), got shape {phs.shape}"
                )
        prof = ld["profile"].astype(str).to_numpy() if "profile" in ld else np.full(len(ld), "")
        for k, (idx, r) in enumerate(ld.iterrows()):
            sid, b = _where("load", int(idx), r)
            rows.append({"site_id": sid, "bus": b, "phase": phs[k], "profile": prof[k]})
    bad = [r for r in rows if r["phase"] not in SITE_PHASES]
    if bad:
        raise ValidationError(
            f"site_phase of load {bad[0]['site_id']!r} must be one of {SITE_PHASES} (got {bad[0]['phase']!r})"
        )
    return rows


def from_pandapower(
    net: Any,
    *,
    name: str | None = None,
    line_ratings_a: ArrayLike | None = None,
    site_phase: ArrayLike | dict[str, str] | None = None,
    r0_per_r1: float | None = None,
    x0_per_x1: float | None = None,
    vector_group: str | None = None,
) -> Network:
    """Build a :class:`Network` from a radial pandapower LV net with one transformer and one external grid.

    What the file says is used: the lines' own zero-sequence data (``r0_ohm_per_km``, ``x0_ohm_per_km``)
    wherever present, the transformer's vector group (only the groups of :data:`SUPPORTED_VECTOR_GROUPS`;
    every other group is refused, :func:`check_vector_group`) and its zero-sequence data (``vk0_percent``,
    T model of pandapower). Sites are the rows of ``net.asymmetric_load`` (phase = the single phase that
    carries power, or ``'abc'``) followed by the rows of ``net.load`` (phase from ``site_phase``, else
    ``'abc'``). Every error names the element (line, transformer, load) and its bus.

    Parameters
    ----------
    net : pandapowerNet
        The network (not modified).
    name : str, optional
        Network name (defaults to ``net.name``).
    line_ratings_a : array_like, shape (n_line_in_service,), optional
        Line ratings replacing ``max_i_ka``. [A]
    site_phase : dict or sequence of str, optional
        Phase (``'a'|'b'|'c'|'abc'``) by load name (a dict; needed for an asymmetric load that draws no
        power in the file), or one entry per in-service ``net.load`` row.
    r0_per_r1, x0_per_x1 : float, optional
        Zero- to positive-sequence ratios, used **only** for lines without ``r0_ohm_per_km`` /
        ``x0_ohm_per_km`` (an error names those lines when the ratios are not given). [-]
    vector_group : str, optional
        Transformer vector group where ``net.trafo.vector_group`` is missing (e.g. SimBench's ``'Dyn'``).

    Returns
    -------
    Network

    Raises
    ------
    DataError
        Not one transformer and one external grid, closed bus-bus switches.
    ValidationError
        Missing zero-sequence data, an unsupported vector group, a load on a bus not reached from the LV
        busbar, a load whose phase cannot be read, or a network over :data:`MAX_NETWORK_BUSES` buses.
    """
    if len(net.bus) > MAX_NETWORK_BUSES:
        raise ValidationError(
            f"the network has {len(net.bus):,} buses, over the bound of {MAX_NETWORK_BUSES:,} for "
            "one LV network"
        )
    if len(net.trafo) != 1 or len(net.ext_grid) != 1:
        raise DataError(
            f"from_pandapower needs exactly one transformer and one external grid (got {len(net.trafo)} "
            f"and {len(net.ext_grid)}); split the net into one network per MV/LV transformer"
        )
    tr = net.trafo.iloc[0]
    has_name = isinstance(tr.get("name"), str) and bool(tr["name"])
    tr_name = repr(str(tr["name"])) if has_name else f"{net.trafo.index[0]}"
    eg = net.ext_grid.iloc[0]
    if int(eg["bus"]) != int(tr["hv_bus"]):
        raise DataError(
            f"from_pandapower: the external grid must sit on the HV bus of transformer {tr_name} "
            f"(bus {_bus_label(net, int(tr['hv_bus']))}, got bus {_bus_label(net, int(eg['bus']))})"
        )
    vg = tr.get("vector_group")
    if not isinstance(vg, str) or not vg:
        if vector_group is None:
            raise ValidationError(
                f"transformer {tr_name} has no vector_group in the file; pass vector_group (e.g. 'Dyn', "
                "openvpp opf: --vector-group Dyn) if that is what it is"
            )
        vg = vector_group
    vg = check_vector_group(vg, tr_name)
    line = net.line[net.line["in_service"].astype(bool)].copy()
    if len(net.switch):
        sw = net.switch
        open_lines = sw[(sw["et"] == "l") & (~sw["closed"].astype(bool))]["element"].to_numpy()
        line = line[~line.index.isin(open_lines)]
        bb = sw[(sw["et"] == "b") & sw["closed"].astype(bool)]
        if len(bb):
            raise DataError(
                f"from_pandapower: closed bus-bus switch {bb.index[0]} (bus "
                f"{_bus_label(net, int(bb['bus'].iloc[0]))}) "
                "is not supported; fuse the buses first"
            )
    lv_bus = int(tr["lv_bus"])
    fb = line["from_bus"].to_numpy(int)
    tb = line["to_bus"].to_numpy(int)
    buses = _reachable(lv_bus, fb, tb)
    pos = {b: k for k, b in enumerate(buses)}
    keep = np.array([f in pos and t in pos for f, t in zip(fb, tb, strict=True)], dtype=bool)
    line = line[keep]
    vn_lv_bus = float(net.bus.at[lv_bus, "vn_kv"])
    v_base_v = vn_lv_bus * V_PER_KV / np.sqrt(3.0)
    # lines: orient from the source by BFS order
    f_idx = np.array([pos[b] for b in line["from_bus"].to_numpy(int)], dtype=np.int64)
    t_idx = np.array([pos[b] for b in line["to_bus"].to_numpy(int)], dtype=np.int64)
    flip = f_idx > t_idx  # BFS position: the parent always comes first
    f_idx, t_idx = np.where(flip, t_idx, f_idx), np.where(flip, f_idx, t_idx)
    length = line["length_km"].to_numpy(float)
    par = line["parallel"].to_numpy(float) if "parallel" in line else np.ones(len(line))
    r1 = line["r_ohm_per_km"].to_numpy(float)
    x1 = line["x_ohm_per_km"].to_numpy(float)
    z1 = (r1 + 1j * x1) * length / par
    r0 = line["r0_ohm_per_km"].to_numpy(float) if "r0_ohm_per_km" in line else np.full(len(line), np.nan)
    x0 = line["x0_ohm_per_km"].to_numpy(float) if "x0_ohm_per_km" in line else np.full(len(line), np.nan)
    lacking = ~(np.isfinite(r0) & np.isfinite(x0))
    if lacking.any():
        if r0_per_r1 is None or x0_per_x1 is None:
            names = line["name"].astype(str).to_numpy()[lacking][:3].tolist()
            raise ValidationError(
                f"{int(lacking.sum())} of {len(line)} lines carry no zero-sequence data (r0_ohm_per_km, "
                f"x0_ohm_per_km), e.g. lines {names}; add them to the file or pass r0_per_r1 and x0_per_x1 "
                "(openvpp opf: --r0-per-r1 and --x0-per-x1; 3.5 and 1.15 are the ratios of a four-core "
                "185 mm2 Al cable)"
            )
        for nm, v in (("r0_per_r1", r0_per_r1), ("x0_per_x1", x0_per_x1)):
            if not (np.isfinite(v) and 0.0 < v < 100.0):
                raise ValidationError(f"{nm} must be a ratio in (0, 100) (got {v!r}); e.g. 3.5 and 1.15")
        r0 = np.where(lacking, r1 * float(r0_per_r1), r0)
        x0 = np.where(lacking, x1 * float(x0_per_x1), x0)
    z0 = (r0 + 1j * x0) * length / par
    z_abc = sequence_to_phase(z0, z1)
    if line_ratings_a is None:
        i_max = line["max_i_ka"].to_numpy(float) * A_PER_KA * par
    else:
        i_max = np.asarray(line_ratings_a, dtype=float)
        if i_max.shape != (len(line),):
            raise ValidationError(
                f"line_ratings_a must have shape ({len(line)},), one rating per in-service line "
                f"(got {i_max.shape})"
            )
    # transformer: impedance on its own base, no-load LV voltage
    vk, vkr = float(tr["vk_percent"]), float(tr["vkr_percent"])
    n_par = float(tr.get("parallel", 1) or 1)
    z_pu = complex(vkr / 100.0, np.sqrt(max(vk**2 - vkr**2, 0.0)) / 100.0) / n_par
    z0_pu = _trafo_z0_pu_pandapower(tr, z_pu * n_par) / n_par
    hv_bus = int(tr["hv_bus"])
    tap = 1.0
    tap_pos, tap_neutral = tr.get("tap_pos"), tr.get("tap_neutral")
    if pd.notna(tap_pos) and pd.notna(tap_neutral) and pd.notna(tr.get("tap_step_percent")):
        step = (float(tap_pos) - float(tap_neutral)) * float(tr["tap_step_percent"]) / 100.0
        tap = 1.0 + step if str(tr.get("tap_side", "hv")) == "hv" else 1.0 / (1.0 + step)
    ratio_hv = float(tr["vn_hv_kv"]) / float(net.bus.at[hv_bus, "vn_kv"])
    ratio_lv = float(tr["vn_lv_kv"]) / vn_lv_bus
    v_source_pu = float(eg["vm_pu"]) * ratio_lv / (ratio_hv * tap)
    rows = _site_rows(net, pos, site_phase)
    sites = pd.DataFrame(rows, columns=["site_id", "bus", "phase", "profile"]).fillna({"profile": ""})
    return Network(
        name=name or str(net.name or "pandapower"),
        bus_names=net.bus.loc[buses, "name"].astype(str).to_numpy() if net.bus["name"].is_unique
        else np.array([str(b) for b in buses]),
        v_base_v=v_base_v,
        source_bus=0,
        line_from=f_idx,
        line_to=t_idx,
        z_ohm=z_abc,
        i_max_a=i_max,
        trafo_sn_kva=float(tr["sn_mva"]) * KW_PER_MW * n_par,
        trafo_z_pu=z_pu,
        trafo_vector_group=vg,
        v_source_pu=v_source_pu,
        sites=sites,
        line_names=line["name"].astype(str).to_numpy(),
        trafo_z0_pu=z0_pu,
        line_length_km=length,
    )


def ieee_european_lv(scenario: str = "on_peak_566") -> Network:
    """The IEEE European LV test feeder (pandapower copy) with line ratings from the cable types.

    Parameters
    ----------
    scenario : {'on_peak_566', 'off_peak_1', 'off_peak_1440'}
        Snapshot shipped by pandapower; only the loads differ (see :func:`ieee_european_lv_snapshot`).

    Returns
    -------
    Network
        906 LV buses, 905 lines, 55 single-phase sites (21 / 19 / 15 on phases a / b / c), 0.8 MVA Dyn
        transformer, ``v_base_v = 416 / sqrt(3)``, ``v_source_pu = 1.05`` (pandapower's set-point).
    """
    net = _ieee_pp(scenario)
    std = net.line.loc[net.line["in_service"].astype(bool), "std_type"].astype(str)
    missing = sorted(set(std) - set(IEEE_EU_LV_CABLE_RATINGS_A))
    if missing:
        raise DataError(
            f"no rating for IEEE European LV cable types {missing}; extend IEEE_EU_LV_CABLE_RATINGS_A"
        )
    ratings = np.array([IEEE_EU_LV_CABLE_RATINGS_A[s][3] for s in std])
    return from_pandapower(net, name="ieee_european_lv", line_ratings_a=ratings)


def _ieee_pp(scenario: str) -> Any:
    allowed = ("on_peak_566", "off_peak_1", "off_peak_1440")
    if scenario not in allowed:
        raise ValidationError(f"scenario must be one of {allowed} (got {scenario!r})")
    return load_ieee_european_lv(scenario)


def ieee_european_lv_snapshot(scenario: str = "on_peak_566") -> tuple[NDArray, NDArray]:
    """Per-site loads of one of the three snapshots pandapower ships with the IEEE European LV feeder.

    Parameters
    ----------
    scenario : {'on_peak_566', 'off_peak_1', 'off_peak_1440'}
        Snapshot shipped by pandapower.

    Returns
    -------
    (p_kw, q_kvar) : tuple of numpy.ndarray, shape (55,)
        Power drawn by each site on its phase, in the site order of :func:`ieee_european_lv`
        (load convention). [kW, kvar]
    """
    net = _ieee_pp(scenario)
    al = net.asymmetric_load[net.asymmetric_load["in_service"].astype(bool)]
    p = mw_to_kw(al[["p_a_mw", "p_b_mw", "p_c_mw"]].to_numpy(float).sum(axis=1))
    q = mw_to_kw(al[["q_a_mvar", "q_b_mvar", "q_c_mvar"]].to_numpy(float).sum(axis=1))
    return p, q


# ---------------------------------------------------------------------------------------------- simbench
def _simbench_pp(code: str) -> Any:
    if not isinstance(code, str) or not re.fullmatch(r"1-LV-[a-z]+\d--[012]-(sw|no_sw)", code):
        raise ValidationError(
            f"grid code must be a SimBench LV code such as '1-LV-rural1--2-sw' (got {code!r}); "
            f"registered: {lv_grid_codes()}"
        )
    return load_simbench_lv(code)


def simbench_lv(
    code: str = "1-LV-rural1--2-sw",
    *,
    r0_per_r1: float = SIMBENCH_R0_PER_R1,
    x0_per_x1: float = SIMBENCH_X0_PER_X1,
    phase_start: int = 0,
) -> Network:
    """A SimBench LV grid with single-phase customers and the documented zero-sequence assumptions.

    Parameters
    ----------
    code : str
        SimBench code, e.g. ``'1-LV-rural1--2-sw'`` or ``'1-LV-semiurb4--2-sw'``.
    r0_per_r1, x0_per_x1 : float
        Zero- to positive-sequence resistance and reactance ratios of the cables (module docstring). [-]
    phase_start : int
        Phase (0 = a) of the customer nearest to the transformer in :func:`assign_phases`. [-]

    Returns
    -------
    Network
        One site per SimBench load (households, heat pumps, EV chargers; the ``profile`` column holds the
        SimBench profile name), ``site_id`` = the load's name, sites on phases by
        :func:`assign_phases`; transformer ``'Dyn'`` with ``z0 = z1``.
    """
    net = _simbench_pp(code)
    base = from_pandapower(net, name=code, r0_per_r1=r0_per_r1, x0_per_x1=x0_per_x1, vector_group="Dyn")
    dist = electrical_distance_ohm(base)[base.sites["bus"].to_numpy()]
    phases = assign_phases(dist, base.sites["site_id"].to_numpy(), start=phase_start)
    sites = base.sites.assign(phase=phases)
    return base.replace(sites=sites)


def simbench_site_profiles(code: str, network: Network | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Year-long 15-min load profiles of a SimBench LV grid's loads, one column per site.

    Parameters
    ----------
    code : str
        SimBench code (as in :func:`simbench_lv`).
    network : Network, optional
        The network built by :func:`simbench_lv` (columns follow its site order); built if not given.

    Returns
    -------
    (p_kw, q_kvar) : tuple of pandas.DataFrame, shape (n_steps, n_site)
        Power drawn by each load (load convention), on :func:`openvpp.data.simbench_index`.
        [kW, kvar]
    """
    net = _simbench_pp(code)
    nw = network if network is not None else simbench_lv(code)
    prof = simbench_profiles(net)
    ld = net.load[net.load["in_service"].astype(bool)]
    p_df = prof[("load", "p_mw")][ld.index] * KW_PER_MW
    q_df = prof[("load", "q_mvar")][ld.index] * KW_PER_MW
    cols = ld["name"].astype(str).to_numpy()
    p_df.columns, q_df.columns = cols, cols
    order = nw.sites["site_id"].to_numpy()
    return p_df[order], q_df[order]


def electrical_distance_ohm(network: Network) -> NDArray[np.float64]:
    """Positive-sequence resistance of the path from the source bus to every bus.

    Parameters
    ----------
    network : Network
        The network.

    Returns
    -------
    numpy.ndarray, shape (n_bus,)
        Summed positive-sequence line resistance. [ohm]
    """
    r1 = phase_to_sequence(network.z_ohm)[:, 1, 1].real
    dist = np.zeros(network.n_bus)
    for b in network.order[1:]:
        dist[b] = dist[network.parent[b]] + r1[network.parent_line[b]]
    return dist


# ---------------------------------------------------------------------------------------------- opendss
@contextlib.contextmanager
def keep_working_directory() -> Iterator[None]:
    """Restore the process's working directory after OpenDSS calls.

    OpenDSS changes the working directory of the whole process: ``compile`` moves it to the file's folder
    and a new engine context moves it to the folder OpenDSS started in. Every OpenDSS call of OpenVPP runs
    inside this context manager, so reading a ``.dss`` file or building an engine leaves relative paths
    of the caller unchanged.
    """
    cwd = os.getcwd()
    try:
        yield
    finally:
        os.chdir(cwd)


#: largest ``.dss`` file :func:`from_opendss` reads [bytes]
MAX_DSS_BYTES = 50_000_000


def from_opendss(path: str | Path, *, name: str | None = None, default_i_max_a: float = 1000.0) -> Network:
    """Read a radial LV circuit from an OpenDSS ``.dss`` file (through ``opendssdirect``).

    The circuit must hold one Vsource feeding one two-winding transformer whose secondary is the LV
    busbar; lines become 3x3 phase impedance matrices (Kron-reduced to phases 1-3 when given with a
    neutral), loads become sites (one node -> single-phase, three nodes -> ``'abc'``). Line ratings are
    the lines' ``normamps`` (``default_i_max_a`` where it is not set). The file is compiled in a fresh
    OpenDSS engine context, so reading it changes no other OpenDSS model of the process
    (:class:`openvpp.grid.engines.OpenDSSEngine`).

    Parameters
    ----------
    path : str or Path
        The master ``.dss`` file.
    name : str, optional
        Network name (defaults to the circuit name).
    default_i_max_a : float
        Rating for lines without ``normamps``. [A]

    Returns
    -------
    Network

    Raises
    ------
    ValidationError
        The file is missing, a directory, too large, not an OpenDSS circuit, or describes something the
        model does not represent (naming the file and the element).
    """
    import opendssdirect

    p = Path(path)
    if p.is_dir():
        raise ValidationError(f"OpenDSS file {str(p)!r} is a directory; pass the master .dss file")
    if not p.is_file():
        raise ValidationError(f"OpenDSS file {str(p)!r} does not exist")
    if p.stat().st_size > MAX_DSS_BYTES:
        raise ValidationError(
            f"OpenDSS file {str(p)!r} has {p.stat().st_size:,} bytes, over the bound of {MAX_DSS_BYTES:,}"
        )
    master = p.resolve()
    with keep_working_directory():
        return _compile_dss(opendssdirect.NewContext(), master, p, name, default_i_max_a)


def _compile_dss(dss: Any, master: Path, p: Path, name: str | None, default_i_max_a: float) -> Network:
    """Compile ``master`` in the fresh context ``dss`` and read its network (errors name ``p``)."""
    from dss import DSSException

    try:
        dss.Text.Command("clear")
        dss.Text.Command(f'compile "{master}"')
        n_bus = dss.Circuit.NumBuses()
    except DSSException as exc:
        raise ValidationError(
            f"OpenDSS file {str(p)!r} does not define a circuit OpenDSS can compile ({exc}); give a master "
            "file that starts with 'New Circuit...'"
        ) from exc
    if n_bus == 0:
        raise ValidationError(f"OpenDSS file {str(p)!r} defines no circuit (no buses)")
    try:
        return _network_from_dss(dss, p, name, default_i_max_a)
    except DSSException as exc:
        raise ValidationError(f"OpenDSS file {str(p)!r} could not be read ({exc})") from exc


def _network_from_dss(dss: Any, p: Path, name: str | None, default_i_max_a: float) -> Network:
    """The :class:`Network` of the circuit compiled in the OpenDSS context ``dss``."""
    trafos = dss.Transformers.AllNames()
    if len(trafos) != 1:
        raise ValidationError(
            f"OpenDSS file {str(p)!r}: the network model needs exactly one transformer (got {len(trafos)})"
        )
    dss.Transformers.Name(trafos[0])
    kva = dss.Transformers.kVA()
    conns = []
    buses_t = dss.CktElement.BusNames()
    for w in (1, 2):
        dss.Transformers.Wdg(w)
        conns.append("D" if dss.Transformers.IsDelta() else "Y")
    vg = {("D", "Y"): "Dyn", ("Y", "Y"): "YNyn"}.get((conns[0], conns[1]), f"{conns[0]}{conns[1].lower()}")
    vg = check_vector_group(vg, f"{trafos[0]!r} of {str(p)!r} (conns {conns})")
    dss.Transformers.Wdg(2)
    kv_lv = dss.Transformers.kV()
    r_pct = dss.Transformers.R() * 2  # %R per winding -> total
    x_pct = dss.Transformers.Xhl()
    lv_bus_name = buses_t[1].split(".")[0].lower()
    vsrc_pu = float(dss.Vsources.PU()) if dss.Vsources.Count() else 1.0
    # lines
    names, f_b, t_b, z_list, imax = [], [], [], [], []
    for ln in dss.Lines.AllNames():
        dss.Lines.Name(ln)
        if not dss.CktElement.Enabled():
            continue
        b1, b2 = dss.Lines.Bus1().split(".")[0].lower(), dss.Lines.Bus2().split(".")[0].lower()
        nph = dss.Lines.Phases()
        if nph != 3:
            raise ValidationError(
                f"OpenDSS file {str(p)!r}: line {ln!r} has {nph} phases; only three-phase lines are supported"
            )
        y = np.asarray(dss.CktElement.YPrim(), dtype=float)  # primitive admittance, robust to units
        y = (y[0::2] + 1j * y[1::2]).reshape(2 * nph, 2 * nph)
        z_list.append(np.linalg.inv(y[:nph, :nph]))
        names.append(ln)
        f_b.append(b1)
        t_b.append(b2)
        na = dss.Lines.NormAmps()
        imax.append(na if na and na > 0 else default_i_max_a)
    if len(names) + 1 > MAX_NETWORK_BUSES:
        raise ValidationError(
            f"OpenDSS file {str(p)!r} has {len(names):,} lines, over the bound of {MAX_NETWORK_BUSES:,} buses"
        )
    bus_ids = {b: k for k, b in enumerate(dict.fromkeys([lv_bus_name, *f_b, *t_b]))}
    order = _reachable(0, np.array([bus_ids[b] for b in f_b], dtype=np.int64),
                       np.array([bus_ids[b] for b in t_b], dtype=np.int64))
    by_id = list(bus_ids)
    bus_names = [by_id[k] for k in order]
    pos = {b: k for k, b in enumerate(bus_names)}
    unreached = [ln for ln, a in zip(names, f_b, strict=True) if a not in pos]
    if unreached:
        raise ValidationError(
            f"OpenDSS file {str(p)!r}: line {unreached[0]!r} is not reached from the transformer's LV bus "
            f"{lv_bus_name!r}; connect it or disable it"
        )
    fi = np.array([pos[b] for b in f_b], dtype=np.int64)
    ti = np.array([pos[b] for b in t_b], dtype=np.int64)
    flip = fi > ti
    fi, ti = np.where(flip, ti, fi), np.where(flip, fi, ti)
    rows = []
    for ld in dss.Loads.AllNames():
        dss.Loads.Name(ld)
        bus = dss.CktElement.BusNames()[0]
        parts = bus.split(".")
        if parts[0].lower() not in pos:
            raise ValidationError(
                f"OpenDSS file {str(p)!r}: load {ld!r} is connected to bus {parts[0]!r}, which is "
                "not reached "
                f"from the transformer's LV bus {lv_bus_name!r}"
            )
        nodes = [int(x) for x in parts[1:] if int(x) > 0] or [1, 2, 3]
        ph = PHASES[nodes[0] - 1] if len(nodes) == 1 else "abc"
        rows.append({"site_id": ld, "bus": pos[parts[0].lower()], "phase": ph})
    v_base_v = kv_lv * V_PER_KV / np.sqrt(3.0)
    return Network(
        name=name or dss.Circuit.Name(),
        bus_names=np.array(bus_names),
        v_base_v=v_base_v,
        source_bus=0,
        line_from=fi,
        line_to=ti,
        z_ohm=np.array(z_list).reshape(-1, 3, 3),
        i_max_a=np.array(imax, dtype=float),
        trafo_sn_kva=float(kva),
        trafo_z_pu=complex(r_pct / 100.0, x_pct / 100.0),
        trafo_vector_group=vg,
        v_source_pu=vsrc_pu,
        sites=pd.DataFrame(rows, columns=["site_id", "bus", "phase"]),
        line_names=np.array(names),
    )
