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
from openvpp.grid.network import Network, check_voltage_limits
from openvpp.grid.reduction import reduce_network
from openvpp.timeseries import describe_difference
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

        try:
            net = pp.from_json(str(p))
        except Exception as exc:  # pandapower raises UserWarning and others for malformed files
            raise DataError(
                f"network file {str(p)!r} is not a readable pandapower JSON ({type(exc).__name__}: {exc}); "
                "write it with pandapower.to_json"
            ) from exc
        try:
            return from_pandapower(net, name=p.stem)
        except DataError:
            return from_pandapower(net, name=p.stem, r0_per_r1=SIMBENCH_R0_PER_R1,
                                   x0_per_x1=SIMBENCH_X0_PER_X1, vector_group="Dyn")
    raise ValidationError(f"network file must be a pandapower .json or an OpenDSS .dss (got {p.name!r})")


def _read_profiles(path: str | Path, network: Network, name: str, every_site: bool) -> pd.DataFrame:
    """Read a profile CSV: a fixed-step time column first, then one numeric, finite column per site.

    ``every_site``: every site of the network must have a column (demand); otherwise missing sites are 0
    (PV: only the sites that have it).
    """
    from openvpp.timeseries import check_index

    if not Path(path).is_file():
        raise ValidationError(f"{name} CSV {str(path)!r} does not exist; pass the path of a CSV file")
    try:
        df = pd.read_csv(path, index_col=0)
    except Exception as exc:  # pandas raises many types for malformed files
        raise DataError(f"cannot read {name} CSV {str(path)!r}: {exc}") from exc
    try:
        df.index = pd.DatetimeIndex(pd.to_datetime(df.index, format="ISO8601"))
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"the first column of the {name} CSV must hold ISO date-times such as '2024-01-15 18:00' "
            f"({str(exc).split('. ')[0]})"
        ) from exc
    idx = df.index
    check_index(idx if idx.tz is not None else idx.tz_localize("UTC"), f"the time column of the {name} CSV")
    ids = network.sites["site_id"].tolist()
    df.columns = [str(c) for c in df.columns]
    unknown = [c for c in df.columns if c not in ids]
    if unknown:
        raise ValidationError(
            f"{name} CSV has columns that are not sites of the network: {unknown[:3]}; column names must be "
            f"site ids such as {ids[:3]}"
        )
    missing = [s for s in ids if s not in df.columns]
    if every_site and missing:
        raise ValidationError(
            f"{name} CSV has no column for sites {missing[:3]} ({len(missing)} of {len(ids)}); add one "
            "column per site of the network (0 where a site draws nothing)"
        )
    non_numeric = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    if non_numeric:
        raise ValidationError(
            f"{name} CSV column {non_numeric[0]!r} is not numeric; give values in kW as plain numbers"
        )
    bad = ~np.isfinite(df.to_numpy(dtype=float))
    if bad.any():
        r, c = (int(v) for v in np.argwhere(bad)[0])
        raise ValidationError(
            f"{name} CSV has a missing or infinite value at {df.index[r]}, site {df.columns[c]!r}; fill it "
            "before running the OPF"
        )
    return df.reindex(columns=ids, fill_value=0.0)


def _service_minutes_of_day(service_start: str) -> int:
    """``HH:MM`` -> minutes after midnight."""
    h, sep, m = str(service_start).strip().partition(":")
    if sep and h.isdigit() and m.isdigit() and 0 <= int(h) < 24 and 0 <= int(m) < 60 and len(m) == 2:
        return 60 * int(h) + int(m)
    raise ValidationError(f"service_start (--service) must be a time of day HH:MM such as '20:00' "
                          f"(got {service_start!r})")


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
    # cheap checks first, before the network is read and reduced
    if objective not in ("export", "self_consumption"):
        raise ValidationError(f"objective must be 'export' or 'self_consumption' (got {objective!r})")
    start_min = _service_minutes_of_day(service_start)
    if not (np.isfinite(service_minutes) and 0.0 < service_minutes <= 1440.0):
        raise ValidationError(
            f"service_minutes (--service-minutes) must be in (0, 1440] min (got {service_minutes!r}); e.g. 30"
        )
    check_voltage_limits(v_min_pu, v_max_pu)
    if v_source_pu is not None and not (np.isfinite(v_source_pu) and 0.5 < v_source_pu < 1.5):
        raise ValidationError(f"v_source_pu must lie in (0.5, 1.5) pu (got {v_source_pu!r}); e.g. 1.0")
    if not (np.isfinite(power_factor) and 0.0 < power_factor <= 1.0):
        raise ValidationError(f"power_factor must lie in (0, 1] (got {power_factor!r}); e.g. 0.98")
    if not (np.isfinite(soc0) and 0.0 <= soc0 <= 1.0):
        raise ValidationError(f"soc0 must be a state of charge in [0, 1] (got {soc0!r}); e.g. 0.2")
    if battery_sites is not None and len(battery_sites) == 0:
        raise ValidationError("battery_sites (--batteries) is empty; name at least one site, e.g. 'house1'")
    for name, path in (("load", load_csv), ("pv", pv_csv)):
        if path is not None and not Path(path).is_file():
            raise ValidationError(f"{name} CSV {str(path)!r} does not exist; pass the path of a CSV file")
    full = load_network_file(network_path)
    if v_source_pu is not None:
        full = full.replace(v_source_pu=v_source_pu)
    net = reduce_network(full).reduced
    load = _read_profiles(load_csv, net, "load", every_site=True)
    pv = _read_profiles(pv_csv, net, "pv", every_site=False) if pv_csv is not None else load * 0.0
    if not load.index.equals(pv.index):
        diff = describe_difference(pd.DatetimeIndex(load.index), pd.DatetimeIndex(pv.index), ("load", "pv"))
        raise ValidationError(
            f"the time columns of the load and pv CSVs differ ({diff}); give both CSVs the same time column"
        )
    if len(load.index) < 2:
        raise ValidationError("profiles need at least two time steps; add rows to the load CSV")
    dt_h = float((load.index[1] - load.index[0]) / pd.Timedelta(hours=1))
    ids = net.sites["site_id"].tolist()
    if battery_sites is None:
        battery_sites = [s for s in ids if pv[s].max() > 0] if pv_csv is not None else ids
    unknown = [s for s in battery_sites if s not in ids]
    if unknown:
        raise ValidationError(f"battery sites {unknown[:3]} are not sites of the network")
    bat = BatteryParams(device_id=[f"battery_{s}" for s in battery_sites], site_id=battery_sites,
                        soc0=np.full(len(battery_sites), soc0))
    minutes = load.index.hour * 60 + load.index.minute
    service = (minutes >= start_min) & (minutes < start_min + service_minutes)
    if objective == "export" and not np.any(service):
        raise ValidationError(
            f"the service period {service_start} + {service_minutes:g} min covers no time step of the "
            f"profiles (steps of {dt_h * 60:g} min from {load.index[0]}); choose --service / "
            "--service-minutes so that it contains at least one step"
        )
    p = load.to_numpy().T
    res = opf.solve_opf(
        net, p, q_from_power_factor(p, power_factor), pv.to_numpy().T, bat, dt_h, objective=objective,
        service=np.asarray(service) if objective == "export" else None, grid_constraints=grid_constraints,
        v_min_pu=v_min_pu, v_max_pu=v_max_pu,
    )
    return net, pd.DatetimeIndex(load.index), res
