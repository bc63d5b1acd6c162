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
from openvpp.grid.loaders import from_opendss, from_pandapower
from openvpp.grid.network import Network, check_voltage_limits
from openvpp.grid.reduction import reduce_network
from openvpp.grid.results import check_bus_steps
from openvpp.timeseries import describe_difference
from openvpp.units import MIN_PER_H, q_from_power_factor

#: largest network or profile file ``openvpp opf`` reads [bytes]
MAX_FILE_BYTES = 50_000_000


def _check_file(path: str | Path, what: str) -> Path:
    """A file of at most :data:`MAX_FILE_BYTES`, else a ValidationError naming ``what`` and the path."""
    p = Path(path)
    if p.is_dir():
        raise ValidationError(f"{what} {str(p)!r} is a directory; pass the path of a file")
    if not p.is_file():
        raise ValidationError(f"{what} {str(p)!r} does not exist; pass the path of a file")
    size = p.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValidationError(
            f"{what} {str(p)!r} has {size:,} bytes, over the bound of {MAX_FILE_BYTES:,} bytes"
        )
    return p


def load_network_file(
    path: str | Path,
    *,
    r0_per_r1: float | None = None,
    x0_per_x1: float | None = None,
    vector_group: str | None = None,
) -> Network:
    """A :class:`Network` from a pandapower JSON (``.json``) or an OpenDSS circuit (``.dss``).

    The file's own data are used: zero-sequence line data and the transformer's vector group; the
    ratios and the vector group given here only fill what the file lacks (an error names what is
    missing and the flag that supplies it), never silently.

    Parameters
    ----------
    path : str or Path
        The network file (``--network``).
    r0_per_r1, x0_per_x1 : float, optional
        Zero- to positive-sequence ratios for lines without zero-sequence data (``--r0-per-r1``,
        ``--x0-per-x1``). [-]
    vector_group : str, optional
        Transformer vector group where the file has none (``--vector-group``).

    Returns
    -------
    Network
    """
    p = _check_file(path, "network file")
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
        return from_pandapower(net, name=p.stem, r0_per_r1=r0_per_r1, x0_per_x1=x0_per_x1,
                               vector_group=vector_group)
    raise ValidationError(f"network file must be a pandapower .json or an OpenDSS .dss (got {p.name!r})")


def _count_rows(path: Path) -> int:
    """Data rows of a CSV (lines after the header), counted without parsing. [-]"""
    with open(path, "rb") as fh:
        n = sum(1 for line in fh if line.strip())
    return max(n - 1, 0)


def _read_profiles(path: str | Path, network: Network, flag: str, every_site: bool) -> pd.DataFrame:
    """Read a profile CSV: a fixed-step time column first, then one numeric, finite column per site.

    ``every_site``: every site of the network must have a column (demand); otherwise missing sites are 0
    (PV: only the sites that have it). Messages name the CSV by its flag (``--load``, ``--pv``).
    """
    from openvpp.timeseries import check_index

    what = f"{flag} CSV"
    p = _check_file(path, what)
    n_rows = _count_rows(p)
    if n_rows == 0:
        raise ValidationError(f"{what} {str(p)!r} is empty (a header and no rows); add one row per time step")
    check_bus_steps(network.n_bus, n_rows, f"openvpp opf ({what} {str(p)!r}, reduced network)",
                    limit=opf.MAX_OPF_BUS_STEPS)
    try:
        df = pd.read_csv(p, index_col=0)
    except Exception as exc:  # pandas raises many types for malformed files
        raise DataError(f"cannot read {what} {str(p)!r}: {exc}") from exc
    if len(df) == 0 or len(df.columns) == 0:
        raise ValidationError(
            f"{what} {str(p)!r} is empty (no rows or no site columns); give a time column and one "
            "column per site"
        )
    try:
        df.index = pd.DatetimeIndex(pd.to_datetime(df.index, format="ISO8601"))
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"the first column of the {what} must hold ISO date-times such as '2024-01-15 18:00' "
            f"({str(exc).split('. ')[0]})"
        ) from exc
    idx = df.index
    check_index(idx if idx.tz is not None else idx.tz_localize("UTC"), f"the time column of the {what}")
    ids = network.sites["site_id"].tolist()
    df.columns = [str(c) for c in df.columns]
    unknown = [c for c in df.columns if c not in ids]
    if unknown:
        raise ValidationError(
            f"{what} has columns that are not sites of the network: {unknown[:3]}; column names must be "
            f"site ids such as {ids[:3]}"
        )
    missing = [s for s in ids if s not in df.columns]
    if every_site and missing:
        raise ValidationError(
            f"{what} has no column for sites {missing[:3]} ({len(missing)} of {len(ids)}); add one "
            "column per site of the network (0 where a site draws nothing)"
        )
    non_numeric = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    if non_numeric:
        raise ValidationError(
            f"{what} column {non_numeric[0]!r} is not numeric; give values in kW as plain numbers"
        )
    bad = ~np.isfinite(df.to_numpy(dtype=float))
    if bad.any():
        r, c = (int(v) for v in np.argwhere(bad)[0])
        raise ValidationError(
            f"{what} has a missing or infinite value at {df.index[r]}, site {df.columns[c]!r}; fill it "
            "before running the OPF"
        )
    return df.reindex(columns=ids, fill_value=0.0)


def _service_minutes_of_day(service_start: str) -> int:
    """``HH:MM`` -> minutes after midnight."""
    h, sep, m = str(service_start).strip().partition(":")
    if sep and h.isdigit() and m.isdigit() and 0 <= int(h) < 24 and 0 <= int(m) < 60 and len(m) == 2:
        return int(int(h) * MIN_PER_H) + int(m)
    raise ValidationError(f"--service must be a time of day HH:MM such as '20:00' (got {service_start!r})")


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
    r0_per_r1: float | None = None,
    x0_per_x1: float | None = None,
    vector_group: str | None = None,
    solver: opf.SolverSettings | None = None,
) -> tuple[Network, pd.DatetimeIndex, opf.OPFResult]:
    """Run the OPF of seed 000 §7.1 on file inputs (module docstring); messages name the CLI flags.

    Parameters
    ----------
    network_path : path
        pandapower JSON or OpenDSS ``.dss`` (``NETWORK`` argument).
    load_csv : path
        Demand per site, time in the first column, one column per site id (``--load``). [kW]
    pv_csv : path, optional
        PV output per site (non-negative), same layout (``--pv``). [kW]
    battery_sites : list of str, optional
        Sites with a managed 5 kW / 13.5 kWh battery (``--batteries``); default the sites with PV (an
        error when no site has PV).
    objective : {"export", "self_consumption"}
        Eq. (24) or (23) of seed 000 (``--objective``).
    service_start : str
        Start of the service period, ``HH:MM`` (``--service``, export objective).
    service_minutes : float
        Length of the service period (``--service-minutes``). [min]
    grid_constraints : bool
        Include eqs (11)-(22) (``--grid/--no-grid``).
    v_min_pu, v_max_pu : float
        Voltage limits (``--v-min``, ``--v-max``). [pu]
    v_source_pu : float, optional
        Head voltage behind the transformer (``--v-source``; default: the network's). [pu]
    power_factor : float
        Inductive power factor of the demand. [-]
    soc0 : float
        Initial state of charge of the batteries. [-]
    r0_per_r1, x0_per_x1 : float, optional
        Zero-sequence ratios for lines the file gives without them (:func:`load_network_file`). [-]
    vector_group : str, optional
        Transformer vector group where the file has none.
    solver : SolverSettings, optional
        Solver settings (``--max-iter``, ``--time-limit``, ``--solver-tol``).

    Returns
    -------
    (network, index, result)
        The reduced network solved, the time axis and the :class:`~openvpp.grid.opf.OPFResult`.
    """
    # cheap checks first, before the network is read and reduced
    if objective not in ("export", "self_consumption"):
        raise ValidationError(f"--objective must be 'export' or 'self_consumption' (got {objective!r})")
    start_min = _service_minutes_of_day(service_start)
    if not (np.isfinite(service_minutes) and 0.0 < service_minutes <= 1440.0):
        raise ValidationError(
            f"--service-minutes must be in (0, 1440] min (got {service_minutes!r}); e.g. 30"
        )
    try:
        check_voltage_limits(v_min_pu, v_max_pu)
    except ValidationError as exc:
        raise ValidationError(f"--v-min {v_min_pu!r} / --v-max {v_max_pu!r}: {exc}") from None
    if v_source_pu is not None and not (np.isfinite(v_source_pu) and 0.5 < v_source_pu < 1.5):
        raise ValidationError(
            f"--v-source (v_source_pu) must lie in (0.5, 1.5) pu (got {v_source_pu!r}); e.g. 1.0"
        )
    if not (np.isfinite(power_factor) and 0.0 < power_factor <= 1.0):
        raise ValidationError(f"power_factor must lie in (0, 1] (got {power_factor!r}); e.g. 0.98")
    if not (np.isfinite(soc0) and 0.0 <= soc0 <= 1.0):
        raise ValidationError(f"soc0 must be a state of charge in [0, 1] (got {soc0!r}); e.g. 0.2")
    if battery_sites is not None and len(battery_sites) == 0:
        raise ValidationError("--batteries is empty; name at least one site, e.g. 'house1'")
    _check_file(network_path, "network file")
    _check_file(load_csv, "--load CSV")
    if pv_csv is not None:
        _check_file(pv_csv, "--pv CSV")
    full = load_network_file(
        network_path, r0_per_r1=r0_per_r1, x0_per_x1=x0_per_x1, vector_group=vector_group
    )
    if v_source_pu is not None:
        full = full.replace(v_source_pu=v_source_pu)
    net = reduce_network(full).reduced
    load = _read_profiles(load_csv, net, "--load", every_site=True)
    pv = _read_profiles(pv_csv, net, "--pv", every_site=False) if pv_csv is not None else load * 0.0
    if not load.index.equals(pv.index):
        diff = describe_difference(pd.DatetimeIndex(load.index), pd.DatetimeIndex(pv.index), ("load", "pv"))
        raise ValidationError(
            f"the time columns of the --load and --pv CSVs differ ({diff}); give both CSVs the same "
            "time column"
        )
    if len(load.index) < 2:
        raise ValidationError("profiles need at least two time steps; add rows to the --load CSV")
    if np.any(pv.to_numpy() < 0):
        raise ValidationError("--pv CSV holds negative values; give PV output in kW as non-negative numbers")
    dt_h = float((load.index[1] - load.index[0]) / pd.Timedelta(hours=1))
    minutes = load.index.hour * MIN_PER_H + load.index.minute
    service = (minutes >= start_min) & (minutes < start_min + service_minutes)
    if objective == "export" and not np.any(service):
        raise ValidationError(
            f"the service period {service_start} + {service_minutes:g} min covers no time step of the "
            f"profiles (steps of {dt_h * MIN_PER_H:g} min from {load.index[0]}); choose --service / "
            "--service-minutes so that it contains at least one step"
        )
    ids = net.sites["site_id"].tolist()
    if battery_sites is None:
        battery_sites = [s for s in ids if pv[s].max() > 0]
        if not battery_sites:
            why = "no --pv CSV was given" if pv_csv is None else "the --pv CSV is zero everywhere"
            raise ValidationError(
                f"no site has PV ({why}), and batteries go to the sites with PV by default; pass --pv with "
                "the PV output or name the battery sites with --batteries"
            )
    unknown = [s for s in battery_sites if s not in ids]
    if unknown:
        raise ValidationError(f"--batteries names sites {unknown[:3]} that are not sites of the network")
    bat = BatteryParams(device_id=[f"battery_{s}" for s in battery_sites], site_id=battery_sites,
                        soc0=np.full(len(battery_sites), soc0))
    p = load.to_numpy().T
    res = opf.solve_opf(
        net, p, q_from_power_factor(p, power_factor), pv.to_numpy().T, bat, dt_h, objective=objective,
        service=np.asarray(service) if objective == "export" else None, grid_constraints=grid_constraints,
        v_min_pu=v_min_pu, v_max_pu=v_max_pu, solver=solver,
    )
    return net, pd.DatetimeIndex(load.index), res


def dispatch_frame(index: pd.DatetimeIndex, result: opf.OPFResult) -> pd.DataFrame:
    """The OPF's dispatch per site and step as a long table (what ``openvpp opf --out`` writes).

    Parameters
    ----------
    index : pandas.DatetimeIndex, shape (n_steps,)
        Time of each step.
    result : OPFResult
        The OPF result.

    Returns
    -------
    pandas.DataFrame
        Columns ``time``, ``site_id``, ``managed``, ``p_site_kw`` (net power at the meter, + = import),
        ``q_site_kvar``, ``p_battery_kw`` (+ = charging; NaN for sites without a managed battery) and
        ``e_battery_kwh`` (stored energy at the end of the step; NaN likewise). [kW], [kvar], [kWh]
    """
    ns, t = result.p_site_kw.shape
    p_bat = np.full((ns, t), np.nan)
    e_bat = np.full((ns, t), np.nan)
    p_bat[result.battery_site_index] = result.p_battery_kw
    e_bat[result.battery_site_index] = result.e_battery_kwh
    return pd.DataFrame({
        "time": np.tile(np.asarray(index), ns),
        "site_id": np.repeat(result.site_ids.astype(str), t),
        "managed": np.repeat(result.managed, t),
        "p_site_kw": result.p_site_kw.ravel(),
        "q_site_kvar": result.q_site_kvar.ravel(),
        "p_battery_kw": p_bat.ravel(),
        "e_battery_kwh": e_bat.ravel(),
    })
