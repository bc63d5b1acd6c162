"""Network check of a day of site powers: exact unbalanced power flow against voltage and thermal limits.

Used by ``openvpp demo`` (and usable on any schedule): the sites' net powers for every step go through the
batched exact power flow of :mod:`openvpp.grid.powerflow`, and the result is summarised against the voltage
band of seed 000 §7.2 (0.9-1.1 pu) and the line and transformer ratings.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from openvpp.errors import ValidationError
from openvpp.grid.network import Network
from openvpp.grid.powerflow import BatchPowerFlow, PowerFlowResult
from openvpp.timeseries import as_2d
from openvpp.units import q_from_power_factor


@dataclasses.dataclass
class NetworkCheck:
    """Summary of an exact power flow over a day (load convention: + = import).

    Attributes
    ----------
    v_min_pu, v_max_pu : float
        Lowest and highest phase-to-neutral voltage over all buses, phases and steps. [pu]
    line_utilisation_max : float
        Highest line current over its rating. [-]
    trafo_loading_max : float
        Highest transformer loading over its rating. [-]
    violations : dict
        Worst excursion beyond each limit (0 where respected). [pu, -]
    steps_violating : int
        Steps with any limit exceeded.
    result : PowerFlowResult
        The full power-flow result.
    """

    v_min_pu: float
    v_max_pu: float
    line_utilisation_max: float
    trafo_loading_max: float
    violations: dict[str, float]
    steps_violating: int
    result: PowerFlowResult

    @property
    def ok(self) -> bool:
        """True when no limit is exceeded in any step."""
        return self.steps_violating == 0

    def to_dict(self) -> dict[str, float | int | bool | dict[str, float]]:
        """The scalars as a plain dict (voltages [pu], utilisation [-], counts [-]) for reports and JSON."""
        return {
            "v_min_pu": self.v_min_pu,
            "v_max_pu": self.v_max_pu,
            "line_utilisation_max": self.line_utilisation_max,
            "trafo_loading_max": self.trafo_loading_max,
            "violations": self.violations,
            "steps_violating": self.steps_violating,
            "ok": self.ok,
        }


def network_for_sites(network: Network, site_ids: ArrayLike) -> Network:
    """The network with its site table restricted to (and ordered as) ``site_ids``.

    Parameters
    ----------
    network : Network
        The network.
    site_ids : sequence of str
        Sites to keep, in the order wanted (identifiers). [-]

    Returns
    -------
    Network

    Raises
    ------
    ValidationError
        If a site is not connected to the network, naming it.
    """
    ids = np.asarray(site_ids).astype(str)
    table = network.sites.set_index(network.sites["site_id"].astype(str))
    missing = [s for s in ids if s not in table.index]
    if missing:
        raise ValidationError(
            f"site_ids {missing[:5]} are not connected to network {network.name!r}; "
            "map every site to a bus and phase first"
        )
    sites = table.loc[ids].reset_index(drop=True)
    sites["site_id"] = ids
    return network.replace(sites=pd.DataFrame(sites))


def check_day(
    network: Network,
    p_kw: ArrayLike,
    q_kvar: ArrayLike | None = None,
    v_min_pu: float = 0.9,
    v_max_pu: float = 1.1,
    loading_max: float = 1.0,
    power_factor: float = 0.98,
) -> NetworkCheck:
    """Run the exact unbalanced power flow for every step and summarise it against the limits.

    Parameters
    ----------
    network : Network
        The LV network; ``network.sites`` gives the order of the rows of ``p_kw``.
    p_kw : array_like, shape (n_site, n_steps)
        Net power of each site, + = import. [kW]
    q_kvar : array_like, shape (n_site, n_steps), optional
        Reactive power; default: consumption at ``power_factor`` inductive (seed 000 §7.2: 0.98) and
        exports at unity power factor. [kvar]
    v_min_pu, v_max_pu : float
        Voltage band (seed 000 §7.2: 0.9-1.1 pu). [pu]
    loading_max : float
        Allowed utilisation of lines and transformer. [-]
    power_factor : float
        Power factor of consumption when ``q_kvar`` is omitted. [-]

    Returns
    -------
    NetworkCheck
    """
    p = as_2d("p_kw", p_kw, network.n_site, None)
    if q_kvar is None:
        q = q_from_power_factor(np.maximum(p, 0.0), power_factor)
    else:
        q = as_2d("q_kvar", q_kvar, network.n_site, p.shape[1])
    if not (0.0 < v_min_pu < v_max_pu):
        raise ValidationError(f"need 0 < v_min_pu < v_max_pu (got {v_min_pu}, {v_max_pu})")
    if not loading_max > 0:
        raise ValidationError(f"loading_max must be > 0 (got {loading_max})")
    res = BatchPowerFlow(network).run(p, q)
    v = res.v_pu
    bad_step = (
        (v.min(axis=(0, 1)) < v_min_pu)
        | (v.max(axis=(0, 1)) > v_max_pu)
        | (res.line_utilisation.max(axis=0) > loading_max)
        | (res.trafo_loading > loading_max)
    )
    return NetworkCheck(
        v_min_pu=float(v.min()),
        v_max_pu=float(v.max()),
        line_utilisation_max=float(res.line_utilisation.max()),
        trafo_loading_max=float(res.trafo_loading.max()),
        violations=res.violations(v_min_pu, v_max_pu, loading_max),
        steps_violating=int(np.count_nonzero(bad_step)),
        result=res,
    )
