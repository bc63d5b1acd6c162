"""Envelopes for the sites of a fleet over one day: the constraint engine applied to a real feeder.

:func:`site_envelopes` is the array-level entry point: constraint nodes (transformers) with their modelled
net demand over the day, the node of each site, and the allocation rule give one export envelope per site
and step (mediated limit of seed 001 §2.2, published as CSIP-AUS ``opModExpLimW``).

:func:`simbench_day_envelopes` does the same for a SimBench LV grid and a day of its 2016 profiles (the grid
and day of ``openvpp demo``): every load is a site behind the grid's MV/LV transformer, the node's net demand
is the sum of load minus PV of that day, ``P_therm`` is the transformer rating and ``P_volt`` defaults to it
(pass an estimate from a power-flow study to tighten it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from openvpp.data import load_simbench_lv
from openvpp.data.simbench import SIMBENCH_TZ
from openvpp.envelopes.engine import (
    DEFAULT_MARGIN,
    DYNAMIC_CAP_KW,
    STATIC_FLOOR_KW,
    allocate_sites_kw,
    mediated_kw,
    raw_limit_kw,
)
from openvpp.envelopes.objects import EnvelopeSet, envelopes_from_limits
from openvpp.errors import ValidationError
from openvpp.fleet import Fleet
from openvpp.timeseries import as_2d, check_index
from openvpp.units import KW_PER_MW, mw_to_kw

#: battery size added to each site's PV rating for the DER size of the SimBench sites (the seed's 5 kW
#: battery, seed 001 §2.4) [kW]
SITE_BATTERY_KW = 5.0


@dataclasses.dataclass(frozen=True)
class DayEnvelopes:
    """Site envelopes of one day with the node-level quantities behind them.

    Attributes
    ----------
    envelopes : EnvelopeSet
        One export envelope per site and step (kind ``"site"``).
    index : pandas.DatetimeIndex
        Interval starts.
    raw_kw : numpy.ndarray, shape (n_nodes, n_steps)
        Raw node limit C_i(t). [kW]
    site_raw_kw, site_export_kw : numpy.ndarray, shape (n_sites, n_steps)
        Raw share and mediated export limit of each site. [kW]
    p_net_kw : numpy.ndarray, shape (n_nodes, n_steps)
        Modelled net demand of each node (load convention). [kW]
    """

    envelopes: EnvelopeSet
    index: pd.DatetimeIndex
    raw_kw: NDArray[np.float64]
    site_raw_kw: NDArray[np.float64]
    site_export_kw: NDArray[np.float64]
    p_net_kw: NDArray[np.float64]

    def to_dict(self) -> dict:
        """The site envelopes as a CSIP-AUS document (:meth:`EnvelopeSet.to_dict`).

        Returns
        -------
        dict
        """
        return self.envelopes.to_dict()

    def to_json(self, **kwargs: Any) -> str:
        """The site envelopes as CSIP-AUS JSON text (:meth:`EnvelopeSet.to_json`).

        Parameters
        ----------
        **kwargs
            Passed to :func:`json.dumps`.

        Returns
        -------
        str
        """
        return self.envelopes.to_json(**kwargs)


def site_envelopes(
    site_ids: ArrayLike,
    site_node: ArrayLike,
    index: pd.DatetimeIndex,
    p_net_kw: ArrayLike,
    p_volt_kw: ArrayLike,
    p_therm_kw: ArrayLike,
    m: float = DEFAULT_MARGIN,
    floor_kw: float = STATIC_FLOOR_KW,
    cap_kw: float = DYNAMIC_CAP_KW,
    strategy: str = "equal",
    der_kw: ArrayLike | None = None,
) -> DayEnvelopes:
    """Export envelopes of each site from its constraint node's modelled net demand (seed 001 §2.2).

    Parameters
    ----------
    site_ids : array_like of str, shape (n_sites,)
        Site identifiers. [-]
    site_node : array_like of int, shape (n_sites,)
        Index of each site's constraint node in ``0 .. n_nodes - 1``. [-]
    index : pandas.DatetimeIndex, shape (n_steps,)
        Fixed-step, tz-aware interval starts.
    p_net_kw : array_like, shape (n_nodes, n_steps)
        Modelled net demand of each node, load convention (+ = import). [kW]
    p_volt_kw, p_therm_kw : array_like, shape (n_nodes,)
        Reverse-flow limits of each node. [kW]
    m : float
        Confidence margin. [-]
    floor_kw, cap_kw : float
        Static floor and dynamic cap of the mediated limit. [kW]
    strategy : {"equal", "proportional", "maxmin"}
        Allocation of the node limit among its sites (:func:`~openvpp.envelopes.engine.allocate_sites_kw`).
    der_kw : array_like, shape (n_sites,), optional
        Export capability per site, for ``proportional`` and ``maxmin``. [kW]

    Returns
    -------
    DayEnvelopes
    """
    check_index(index, "index")
    ids = np.atleast_1d(np.asarray(site_ids)).astype(str)
    node = np.atleast_1d(np.asarray(site_node))
    if node.shape != ids.shape:
        raise ValidationError(f"site_node must have one node per site ({ids.size}); got shape {node.shape}")
    pv = np.atleast_1d(np.asarray(p_volt_kw, dtype=float))
    p_net = as_2d("p_net_kw", p_net_kw, pv.size, len(index))
    raw = raw_limit_kw(p_net, pv, p_therm_kw, m)
    site_raw = allocate_sites_kw(raw, node.astype(np.int64), strategy, der_kw)
    site_exp = mediated_kw(site_raw, floor_kw, cap_kw)
    env = envelopes_from_limits(ids, index, site_exp, kind="site", default_export_kw=floor_kw)
    return DayEnvelopes(env, index, raw, site_raw, site_exp, p_net)


def simbench_day_envelopes(
    grid_code: str = "1-LV-rural1--2-sw",
    day: str = "2016-06-15",
    net: Any | None = None,
    m: float = DEFAULT_MARGIN,
    floor_kw: float = STATIC_FLOOR_KW,
    cap_kw: float = DYNAMIC_CAP_KW,
    p_volt_kw: float | None = None,
    step_min: int = 15,
    tz: str = SIMBENCH_TZ,
    strategy: str = "equal",
) -> DayEnvelopes:
    """Site envelopes for every load of a SimBench LV grid over one day of its 2016 profiles.

    Parameters
    ----------
    grid_code : str
        SimBench code (ignored when ``net`` is given).
    day : str
        Day of the SimBench profile year 2016, ``YYYY-MM-DD``.
    net : pandapowerNet, optional
        An already loaded SimBench net (with its ``profiles``), to avoid loading it again.
    m, floor_kw, cap_kw, strategy
        As in :func:`site_envelopes`; ``proportional``/``maxmin`` use each load's PV rating +
        :data:`SITE_BATTERY_KW` as its export capability. [-]
    p_volt_kw : float, optional
        Voltage reverse-flow limit of the transformer; default: its rating. [kW]
    step_min : int
        Step of the envelopes: 15 (SimBench's own) or a divisor of 15 (linear interpolation). [min]
    tz : str
        Time zone of the profile clock.

    Returns
    -------
    DayEnvelopes
        Site identifiers are the load names (``load_<index>`` when a load has no name).
    """
    from openvpp.data import simbench_profiles

    if net is None:
        net = load_simbench_lv(grid_code)
    if step_min <= 0 or 15 % step_min != 0:
        raise ValidationError(f"step_min must divide 15 (got {step_min!r}); SimBench profiles are 15-min")
    d = pd.Timestamp(day)
    if d.year != 2016:
        raise ValidationError(f"day must lie in the SimBench profile year 2016 (got {day!r})")
    prof = simbench_profiles(net)
    first = (d.dayofyear - 1) * 96
    rows = slice(first, first + 97)
    load = mw_to_kw(prof[("load", "p_mw")].to_numpy(dtype=float)[rows].sum(axis=1))
    sgen = mw_to_kw(prof[("sgen", "p_mw")].to_numpy(dtype=float)[rows].sum(axis=1))
    p_net15 = load - sgen
    if p_net15.size < 97:  # last day of the year: repeat the last value
        p_net15 = np.r_[p_net15, np.full(97 - p_net15.size, p_net15[-1])]
    n_steps = 96 * 15 // step_min
    x15 = np.arange(97) * 15.0
    p_net = np.interp(np.arange(n_steps) * float(step_min), x15, p_net15)[None, :]
    index = pd.date_range(d.tz_localize(tz), periods=n_steps, freq=pd.Timedelta(minutes=step_min))
    trafo_kw = float(mw_to_kw(net.trafo["sn_mva"].sum()))
    loads = net.load
    ids = [
        str(n) if isinstance(n, str) and n else f"load_{i}"
        for i, n in zip(loads.index, loads["name"], strict=True)
    ]
    der = None
    if strategy != "equal":
        sg = net.sgen
        pv_at_bus = sg.groupby("bus")["p_mw"].sum() * KW_PER_MW
        der = loads["bus"].map(pv_at_bus).fillna(0.0).to_numpy() + SITE_BATTERY_KW
    return site_envelopes(
        ids,
        np.zeros(len(ids), dtype=np.int64),
        index,
        p_net,
        [trafo_kw if p_volt_kw is None else float(p_volt_kw)],
        [trafo_kw],
        m,
        floor_kw,
        cap_kw,
        strategy,
        der,
    )


def fleet_day_envelopes(
    fleet: Fleet,
    site_p_kw: ArrayLike,
    index: pd.DatetimeIndex,
    node_limit_kw: Mapping[str, float] | float,
    m: float = DEFAULT_MARGIN,
    floor_kw: float = STATIC_FLOOR_KW,
    cap_kw: float = DYNAMIC_CAP_KW,
    strategy: str = "equal",
) -> DayEnvelopes:
    """Export envelopes of a fleet's sites, one constraint node (transformer) at a time (seed 001 §2.2).

    The modelled net demand of each constraint node is the sum of its sites' uncontrolled net load
    (``site_p_kw``), and the node's reverse-flow limits are ``node_limit_kw`` (the transformer rating when no
    voltage study is available: both the voltage and the thermal limit take that value).

    Parameters
    ----------
    fleet : openvpp.fleet.Fleet
        The fleet; its ``constraint_node`` column groups sites.
    site_p_kw : array_like, shape (n_sites, n_steps)
        Net load of each site without VPP control, load convention (+ = import). [kW]
    index : pandas.DatetimeIndex, shape (n_steps,)
        Interval starts.
    node_limit_kw : float or mapping of constraint-node name -> float
        Reverse-flow limit of each constraint node; a float applies to all. [kW]
    m, floor_kw, cap_kw, strategy
        As in :func:`site_envelopes`. [-]

    Returns
    -------
    DayEnvelopes
        One envelope per fleet site, in the fleet's site order.
    """
    p = as_2d("site_p_kw", site_p_kw, fleet.n_sites, len(index))
    codes, labels = fleet.codes("constraint_node")
    p_node = np.zeros((len(labels), p.shape[1]))
    np.add.at(p_node, codes, p)
    if isinstance(node_limit_kw, Mapping):
        missing = [str(lab) for lab in labels if str(lab) not in node_limit_kw]
        if missing:
            raise ValidationError(
                f"node_limit_kw has no limit for constraint node(s) {missing[:5]}; give one per node"
            )
        limits = np.array([float(node_limit_kw[str(lab)]) for lab in labels])
    else:
        limits = np.full(len(labels), float(node_limit_kw))
    if not np.all(np.isfinite(limits)) or np.any(limits < 0):
        raise ValidationError(f"node_limit_kw must be finite and >= 0 kW (got {limits.tolist()[:5]})")
    return site_envelopes(fleet.sites.site_id, codes, index, p_node, limits, limits, m, floor_kw, cap_kw,
                          strategy)
