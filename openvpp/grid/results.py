"""Result type and inputs shared by every unbalanced power-flow engine of :mod:`openvpp.grid`.

:class:`PowerFlowResult` is what the fast path (:mod:`openvpp.grid.powerflow`) and the independent engines
(:mod:`openvpp.grid.engines`) return; :func:`bus_phase_power_va` turns per-site powers (load convention,
+ = import) into bus-phase injections for all of them; :func:`check_bus_steps` is the size guard every
entry point applies before it allocates its (buses x steps) arrays. Kept in its own module so that the
engines and the fast path import it without importing each other.
"""

from __future__ import annotations

import dataclasses
from functools import cached_property

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from openvpp.errors import ValidationError
from openvpp.grid.network import Network
from openvpp.units import W_PER_KW

#: largest ``n_bus x n_steps`` one power flow accepts (the result holds complex voltages and currents of
#: that size: about 1.2 GB at the bound); split longer horizons into chunks or use ``full=False``
MAX_BUS_STEPS = 5_000_000


def check_bus_steps(n_bus: int, n_steps: int, what: str = "power flow", limit: int = MAX_BUS_STEPS) -> None:
    """Refuse a problem of more than ``limit`` bus-steps before anything of that size is allocated.

    Parameters
    ----------
    n_bus : int
        Buses of the network solved. [-]
    n_steps : int
        Time steps. [-]
    what : str
        What is being sized, for the message.
    limit : int
        Largest ``n_bus * n_steps`` accepted. [-]

    Raises
    ------
    ValidationError
        Stating the size, the bound and the fix.
    """
    size = int(n_bus) * int(n_steps)
    if size > limit:
        raise ValidationError(
            f"{what}: {int(n_steps):,} time steps x {int(n_bus):,} buses = {size:,} bus-steps exceeds the "
            f"bound of {limit:,}; split the horizon into chunks of at most "
            f"{max(limit // max(int(n_bus), 1), 1):,} "
            "steps (or reduce the network first)"
        )


@dataclasses.dataclass(frozen=True, eq=False)
class PowerFlowResult:
    """Outcome of an unbalanced power flow over T time steps.

    Attributes
    ----------
    network : Network
        The network solved (full network: every bus and line).
    v_complex_pu : numpy.ndarray of complex, shape (n_bus, 3, T)
        Phase-to-neutral voltage phasors (angle referred to the no-load phase-a voltage). [pu]
    i_line_complex_a : numpy.ndarray of complex, shape (n_line, 3, T)
        Line current phasors from ``line_from`` to ``line_to``. [A]
    trafo_i_complex_a : numpy.ndarray of complex, shape (3, T)
        Transformer LV current phasors towards the feeder. [A]
    trafo_s_kva : numpy.ndarray of complex, shape (3, T)
        Complex power per phase delivered by the transformer into the LV busbar (+ = towards the
        feeder). [kVA]
    iterations : int
        Fixed-point iterations used (engine-specific; 0 where not reported).
    max_change_pu : float
        Largest voltage change of the last iteration. [pu]
    engine : str
        Which engine produced the result.
    """

    network: Network
    v_complex_pu: NDArray[np.complex128]
    i_line_complex_a: NDArray[np.complex128]
    trafo_i_complex_a: NDArray[np.complex128]
    trafo_s_kva: NDArray[np.complex128]
    iterations: int = 0
    max_change_pu: float = 0.0
    engine: str = "fast"

    @property
    def n_steps(self) -> int:
        """Number of time steps T."""
        return int(self.v_complex_pu.shape[2])

    @cached_property
    def v_pu(self) -> NDArray[np.float64]:
        """Voltage magnitudes, shape (n_bus, 3, T). [pu]"""
        return np.abs(self.v_complex_pu)

    @cached_property
    def i_line_a(self) -> NDArray[np.float64]:
        """Line current magnitudes, shape (n_line, 3, T). [A]"""
        return np.abs(self.i_line_complex_a)

    @property
    def line_utilisation(self) -> NDArray[np.float64]:
        """Largest phase current over the rating, shape (n_line, T). [-] (1.0 = at the rating)"""
        return self.i_line_a.max(axis=1) / self.network.i_max_a[:, None]

    @property
    def trafo_i_a(self) -> NDArray[np.float64]:
        """Transformer LV current magnitudes, shape (3, T). [A]"""
        return np.abs(self.trafo_i_complex_a)

    @property
    def trafo_loading(self) -> NDArray[np.float64]:
        """Largest phase current over the rated LV current, shape (T,). [-]"""
        return self.trafo_i_a.max(axis=0) / self.network.trafo_i_rated_a

    @property
    def trafo_p_kw(self) -> NDArray[np.float64]:
        """Active power through the transformer into the feeder, shape (T,). [kW] (+ = import)"""
        return self.trafo_s_kva.real.sum(axis=0)

    @property
    def trafo_q_kvar(self) -> NDArray[np.float64]:
        """Reactive power through the transformer into the feeder, shape (T,). [kvar]"""
        return self.trafo_s_kva.imag.sum(axis=0)

    def v_min_pu(self) -> NDArray[np.float64]:
        """Lowest phase voltage in the network at each step, shape (T,). [pu]"""
        return self.v_pu.min(axis=(0, 1))

    def v_max_pu(self) -> NDArray[np.float64]:
        """Highest phase voltage in the network at each step, shape (T,). [pu]"""
        return self.v_pu.max(axis=(0, 1))

    def violations(self, v_min_pu: float = 0.9, v_max_pu: float = 1.1, loading_max: float = 1.0) -> dict:
        """Worst excursion of each limit over all steps (0 where respected).

        Parameters
        ----------
        v_min_pu, v_max_pu : float
            Voltage limits. [pu]
        loading_max : float
            Allowed line and transformer utilisation. [-]

        Returns
        -------
        dict
            ``v_under_pu``, ``v_over_pu`` [pu], ``line_overload``, ``trafo_overload`` [-].
        """
        v = self.v_pu
        return {
            "v_under_pu": float(max(v_min_pu - v.min(), 0.0)),
            "v_over_pu": float(max(v.max() - v_max_pu, 0.0)),
            "line_overload": float(max(self.line_utilisation.max() - loading_max, 0.0)),
            "trafo_overload": float(max(self.trafo_loading.max() - loading_max, 0.0)),
        }

    def bus_voltages_frame(self, step: int = 0) -> pd.DataFrame:
        """Voltage magnitudes of one step as a table (index bus name, columns a, b, c).

        Parameters
        ----------
        step : int
            Time step. [-]

        Returns
        -------
        pandas.DataFrame
            Voltage magnitudes. [pu]
        """
        return pd.DataFrame(self.v_pu[:, :, step], index=self.network.bus_names, columns=["a", "b", "c"])




def bus_phase_power_va(
    network: Network, p_kw: ArrayLike, q_kvar: ArrayLike | None = None
) -> NDArray[np.complex128]:
    """Complex power drawn at every bus-phase from per-site powers (load convention).

    Parameters
    ----------
    network : Network
    p_kw : array_like, shape (n_site,), (n_site, T) or (n_site, 3, T)
        Active power drawn by each site (+ = import). With shape (n_site, T) a single-phase site draws it
        on its phase and a three-phase site a third on each phase; with (n_site, 3, T) the per-phase
        powers are given (a single-phase site may only use its own phase). [kW]
    q_kvar : array_like, same shape as ``p_kw``, optional
        Reactive power drawn (+ = inductive / absorbing). Zero if omitted. [kvar]

    Returns
    -------
    numpy.ndarray of complex, shape (3 * n_bus, T)
        Power drawn per bus-phase, row ``3 * bus + phase``. [VA]
    """
    p = np.asarray(p_kw, dtype=float)
    q = np.zeros_like(p) if q_kvar is None else np.asarray(q_kvar, dtype=float)
    ns = network.n_site
    if p.ndim == 1:
        p, q = p[:, None], (q[:, None] if q.ndim == 1 else q)
    if q.shape != p.shape:
        raise ValidationError(f"q_kvar must have the shape of p_kw {p.shape} (got {q.shape})")
    if p.shape[0] != ns or p.ndim not in (2, 3) or (p.ndim == 3 and p.shape[1] != 3):
        raise ValidationError(
            f"p_kw must have shape (n_site,), (n_site, T) or (n_site, 3, T) with n_site = {ns} in the order "
            f"of network.sites (got {p.shape})"
        )
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(q))):
        raise ValidationError(
            "p_kw and q_kvar must be finite (NaN or inf found); fill gaps before the power flow"
        )
    s = (p + 1j * q) * W_PER_KW
    if p.ndim == 2:
        return network.site_phase_matrix() @ s
    off = (np.abs(s) > 0).any(axis=2) & (network.site_phase_weights() == 0)
    if off.any():
        bad = network.sites["site_id"].iloc[int(np.flatnonzero(off.any(axis=1))[0])]
        raise ValidationError(
            f"single-phase site {bad!r} draws power on a phase it is not connected to; give its power on "
            "its own phase only"
        )
    bus = network.sites["bus"].to_numpy()
    rows = (3 * bus[:, None] + np.arange(3)[None, :]).ravel()
    out = np.zeros((3 * network.n_bus, s.shape[2]), dtype=complex)
    np.add.at(out, rows, s.reshape(ns * 3, -1))
    return out


def matvec3(m: NDArray[np.complex128], x: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """Batched 3x3 products ``out[k, :, t] = m[k] @ x[k, :, t]``.

    Parameters
    ----------
    m : numpy.ndarray of complex, shape (n, 3, 3)
        Matrices (e.g. line admittances). [S]
    x : numpy.ndarray of complex, shape (n, 3, T)
        Vectors (e.g. voltage drops). [V]

    Returns
    -------
    numpy.ndarray of complex, shape (n, 3, T)
        Products (e.g. currents). [A]
    """
    out = m[:, :, 0, None] * x[:, 0, None, :]
    out += m[:, :, 1, None] * x[:, 1, None, :]
    out += m[:, :, 2, None] * x[:, 2, None, :]
    return out
