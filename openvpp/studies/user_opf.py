"""``openvpp opf``: the OPF of :mod:`openvpp.grid.opf` on a user's own network and profiles.

Inputs are files: a network (pandapower JSON or OpenDSS ``.dss``) and CSV profiles with a time column
first and one column per site (``site_id`` as in the network: pandapower load / asymmetric-load names,
OpenDSS load names). The network is reduced exactly before the OPF (:func:`~openvpp.grid.reduction.
reduce_network`) and the dispatch is validated by the exact power flow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from openvpp.der.battery import BatteryParams
from openvpp.errors import DataError, ValidationError
from openvpp.grid import opf
from openvpp.grid.loaders import SIMBENCH_R0_PER_R1, SIMBENCH_X0_PER_X1, from_opendss, from_pandapower
from openvpp.grid.network import Network
from openvpp.grid.reduction import reduce_network
from openvpp.units import q_from_power_factor


def load_network_file(path: str | Path) -> Network:
    """A :class:`Network` from a pandapower JSON (``.json``) or an OpenDSS circuit (``.dss``).

    pandapower nets without zero-sequence line data get the SimBench ratios of
    :mod:`openvpp.grid.loaders` (``r0 = 3.5 r1``, ``x0 = 1.15 x1``) and a ``Dyn`` transformer.
    """
    p = Path(path)
    if not p.exists():
        raise ValidationError(f"network file {str(p)!r} does not exist")
    if p.suffix.lower() == ".dss":
        return from_opendss(p)
    if p.suffix.lower() == ".json":
        import pandapower as pp

        net = pp.from_json(str(p))
        try:
            return from_pandapower(net, name=p.stem)
        except DataError:
            return from_pandapower(net, name=p.stem, r0_per_r1=SIMBENCH_R0_PER_R1,
                                   x0_per_x1=SIMBENCH_X0_PER_X1, vector_group="Dyn")
    raise ValidationError(f"network file must be a pandapower .json or an OpenDSS .dss (got {p.name!r})")


def _read_profiles(path: str | Path, network: Network, name: str) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, index_col=0, parse_dates=True)
    except Exception as exc:  # pandas raises many types for malformed files
        raise DataError(f"cannot read {name} CSV {str(path)!r}: {exc}") from exc
    ids = network.sites["site_id"].tolist()
    unknown = [c for c in df.columns if str(c) not in ids]
    if unknown:
        raise ValidationError(
            f"{name} CSV has columns that are not sites of the network: {unknown[:3]}; column names must be "
            f"site ids such as {ids[:3]}"
        )
    df.columns = [str(c) for c in df.columns]
    if df.isna().any().any():
        raise ValidationError(f"{name} CSV has missing values; fill them before running the OPF")
    return df.reindex(columns=ids, fill_value=0.0)


def run_opf_files(
    network_path: str | Path,
    load_csv: str | Path,
    *,
    pv_csv: str | Path | None = None,
    battery_sites: list[str] | None = None,
    objective: opf.Objective = "export",
    service_start: str = "20:00",
    service_minutes: float = 30.0,
    grid_constraints: bool = True,
    v_min_pu: float = 0.9,
    v_max_pu: float = 1.1,
    v_source_pu: float | None = None,
    power_factor: float = 0.98,
    soc0: float = 0.2,
) -> tuple[Network, pd.DatetimeIndex, opf.OPFResult]:
    """Run the OPF on file inputs (module docstring).

    Parameters
    ----------
    network_path : path
        pandapower JSON or OpenDSS ``.dss``.
    load_csv : path
        Demand per site, time in the first column, one column per site id. [kW]
    pv_csv : path, optional
        PV output per site (non-negative), same layout. [kW]
    battery_sites : list of str, optional
        Sites with a managed 5 kW / 13.5 kWh battery; default the sites with PV, else every site.
    objective : {"export", "self_consumption"}
        Eq. (24) or (23) of seed 000.
    service_start : str
        Start of the service period, ``HH:MM`` (export objective).
    service_minutes : float
        Length of the service period. [min]
    grid_constraints : bool
        Include eqs (11)-(22).
    v_min_pu, v_max_pu : float
        Voltage limits. [pu]
    v_source_pu : float, optional
        Head voltage behind the transformer (default: the network's). [pu]
    power_factor : float
        Inductive power factor of the demand. [-]
    soc0 : float
        Initial state of charge of the batteries. [-]

    Returns
    -------
    (network, index, result)
        The reduced network solved, the time axis and the :class:`~openvpp.grid.opf.OPFResult`.
    """
    full = load_network_file(network_path)
    if v_source_pu is not None:
        full = full.replace(v_source_pu=v_source_pu)
    net = reduce_network(full).reduced
    load = _read_profiles(load_csv, net, "load")
    pv = _read_profiles(pv_csv, net, "pv") if pv_csv is not None else load * 0.0
    if not load.index.equals(pv.index):
        raise ValidationError("load and pv CSVs must share the same time column")
    if len(load.index) < 2:
        raise ValidationError("profiles need at least two time steps")
    dt_h = float((load.index[1] - load.index[0]) / pd.Timedelta(hours=1))
    ids = net.sites["site_id"].tolist()
    if battery_sites is None:
        battery_sites = [s for s in ids if pv[s].max() > 0] if pv_csv is not None else ids
    unknown = [s for s in battery_sites if s not in ids]
    if unknown:
        raise ValidationError(f"battery sites {unknown[:3]} are not sites of the network")
    bat = BatteryParams(device_id=[f"battery_{s}" for s in battery_sites], site_id=battery_sites, soc0=soc0)
    minutes = load.index.hour * 60 + load.index.minute
    h, m = (int(x) for x in service_start.split(":"))
    service = (minutes >= 60 * h + m) & (minutes < 60 * h + m + service_minutes)
    p = load.to_numpy().T
    res = opf.solve_opf(
        net, p, q_from_power_factor(p, power_factor), pv.to_numpy().T, bat, dt_h, objective=objective,
        service=np.asarray(service) if objective == "export" else None, grid_constraints=grid_constraints,
        v_min_pu=v_min_pu, v_max_pu=v_max_pu,
    )
    return net, pd.DatetimeIndex(load.index), res
