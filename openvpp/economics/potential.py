"""National VPP potential in GW per resource (seed 000 §8, Tables 6-7, Fig. 22).

Batteries: per LV network, ``round(dwellings per network x hosting share)`` prosumers with a 5 kW battery,
times the number of networks. The hosting share is an input (the roadmap's §7 OPF gives 21 % for medium
density (Osorno) and 25 % for low density (Lampa); an OPF study can pass its own). EVs and climatisation:
``2035 peak demand x sector share x resource penetration``.

Reproduction (seed 000 §8.3): round(118 x 0.21) = 25 and round(37 x 0.25) = 9 batteries per network give
34,851 x 25 x 5 kW = 4.356 GW and 32,618 x 9 x 5 kW = 1.468 GW; 16.8 x 0.348 x 0.232 = 1.356 GW and
16.8 x 0.348 x 0.145 = 0.848 GW; total 8.03 GW ("8 GW").

Where the seed's arithmetic does not close: Table 6 prints 118 dwellings per medium-density network, while
3,893,059 / 34,851 = 111.7 (the low-density ratio, 37.2, agrees). The roadmap describes 118 as a national
average of customers per LV grid, not the ratio of the table's totals, so the Table 6 column is bundled as the
input; using the ratio instead gives round(111.7 x 0.21) = 23 per network and 4.01 GW (-0.35 GW).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from pydantic import Field

from openvpp.config import StrictModel
from openvpp.errors import DataError, ValidationError
from openvpp.units import KW_PER_MW, MW_PER_GW

__all__ = [
    "DensityClass",
    "PotentialInputs",
    "PotentialResult",
    "batteries_per_network",
    "battery_potential_gw",
    "demand_resource_gw",
    "hosting_share_sensitivity",
    "load_potential_inputs",
    "national_potential",
]


class DensityClass(StrictModel):
    """One customer-density class of seed 000 Table 6."""

    dwellings: int = Field(ge=0)
    lv_networks: int = Field(gt=0)
    dwellings_per_network: float = Field(gt=0.0)
    hosting_share: float = Field(ge=0.0, le=1.0)
    source: str = ""


class DemandResource(StrictModel):
    """A demand-side resource of the national potential (seed 000 §8, Table 7): its peak demand and shares."""
    penetration: float = Field(ge=0.0, le=1.0)
    source: str = ""


class PotentialInputs(StrictModel):
    """Inputs of seed 000 Tables 6-7."""

    battery_p_kw: float = Field(gt=0.0)
    density: dict[str, DensityClass]
    peak_demand_2035_gw: float = Field(ge=0.0)
    sector_share: float = Field(ge=0.0, le=1.0)
    resources: dict[str, DemandResource]


def load_potential_inputs() -> PotentialInputs:
    """Bundled Tables 6-7 (``economics_potential.toml``)."""
    from openvpp.data.bundled import bundled_table

    d = bundled_table("economics_potential")
    if not isinstance(d, dict):  # pragma: no cover
        raise DataError("economics_potential is not a TOML table")
    dem = d["demand"]
    return PotentialInputs.build(
        battery_p_kw=d["battery_p_kw"],
        density={k: DensityClass.build(**v) for k, v in d["density"].items()},
        peak_demand_2035_gw=dem["peak_demand_2035_gw"], sector_share=dem["sector_share"],
        resources={k: DemandResource.build(**v) for k, v in dem["resources"].items()},
    )


def batteries_per_network(dwellings_per_network: ArrayLike, hosting_share: ArrayLike) -> np.ndarray:
    """Whole prosumers with a battery per LV network: ``round_half_up(dwellings x share)``. [-]

    Parameters
    ----------
    dwellings_per_network : array_like
        Dwellings on an LV network. [-]
    hosting_share : array_like
        Share of customers the network hosts as VPP batteries. [-]
    """
    d = np.asarray(dwellings_per_network, dtype=float)
    s = np.asarray(hosting_share, dtype=float)
    if np.any(d < 0) or np.any(~np.isfinite(d)):
        raise ValidationError(
            f"dwellings_per_network must be finite and >= 0 (got {dwellings_per_network!r})"
        )
    if np.any((s < 0) | (s > 1)) or np.any(~np.isfinite(s)):
        raise ValidationError(f"hosting_share must lie in [0, 1] (got {hosting_share!r})")
    return np.floor(d * s + 0.5)


def battery_potential_gw(
    lv_networks: ArrayLike,
    dwellings_per_network: ArrayLike,
    hosting_share: ArrayLike,
    battery_p_kw: float = 5.0,
) -> np.ndarray:
    """Battery potential: networks x batteries per network x battery power (seed 000 §8.3). [GW]

    Parameters
    ----------
    lv_networks : array_like
        Number of LV networks. [-]
    dwellings_per_network : array_like
        Dwellings per network. [-]
    hosting_share : array_like
        Hosting share. [-]
    battery_p_kw : float
        Power of one battery. [kW]
    """
    n = np.asarray(lv_networks, dtype=float)
    if np.any(n < 0):
        raise ValidationError(f"lv_networks must be >= 0 (got {lv_networks!r})")
    if battery_p_kw <= 0:
        raise ValidationError(f"battery_p_kw must be > 0 (got {battery_p_kw})")
    p_mw = n * batteries_per_network(dwellings_per_network, hosting_share) * battery_p_kw / KW_PER_MW
    return p_mw / MW_PER_GW


def demand_resource_gw(peak_demand_gw: float, sector_share: float, penetration: ArrayLike) -> np.ndarray:
    """Interruptible-load potential: peak demand x sector share x penetration (seed 000 Table 7). [GW]

    Parameters
    ----------
    peak_demand_gw : float
        Peak demand of the sectors. [GW]
    sector_share : float
        Share of the resource in that demand. [-]
    penetration : array_like
        Share of it that joins a VPP. [-]
    """
    p = np.asarray(penetration, dtype=float)
    if peak_demand_gw < 0 or not 0 <= sector_share <= 1 or np.any((p < 0) | (p > 1)):
        raise ValidationError(
            f"peak_demand_gw must be >= 0 and sector_share, penetration in [0, 1] "
            f"(got {peak_demand_gw}, {sector_share}, {penetration!r})"
        )
    return peak_demand_gw * sector_share * p


@dataclasses.dataclass(frozen=True)
class PotentialResult:
    """GW per resource (``battery_medium``, ``battery_low``, ``ev``, ``climatisation``) and their total."""

    gw: dict[str, float]
    batteries_per_network: dict[str, int]
    hosting_share: dict[str, float]

    @property
    def total_gw(self) -> float:
        """Sum over resources. [GW]"""
        return float(sum(self.gw.values()))

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-ready values."""
        return {**dataclasses.asdict(self), "total_gw": self.total_gw}


def national_potential(
    inputs: PotentialInputs | None = None, hosting_share: dict[str, float] | None = None
) -> PotentialResult:
    """National VPP potential per resource (seed 000 §8.3, Fig. 22).

    Parameters
    ----------
    inputs : PotentialInputs, optional
        Default: the bundled Tables 6-7.
    hosting_share : dict, optional
        Override the share of customers that can host a VPP battery per density class, e.g.
        ``{"medium": 0.21, "low": 0.25}`` (an OPF hosting study's output). [-]
    """
    inp = inputs or load_potential_inputs()
    shares = {k: v.hosting_share for k, v in inp.density.items()}
    for k, v in (hosting_share or {}).items():
        if k not in inp.density:
            raise ValidationError(f"hosting_share key must be one of {sorted(inp.density)} (got {k!r})")
        if not (np.isfinite(v) and 0.0 <= v <= 1.0):
            raise ValidationError(
                f"hosting_share[{k!r}] (--{k}-share) must lie in [0, 1] (got {v!r}); "
                f"e.g. {inp.density[k].hosting_share}"
            )
        shares[k] = float(v)
    gw: dict[str, float] = {}
    per_net: dict[str, int] = {}
    for k, dc in inp.density.items():
        per_net[k] = int(batteries_per_network(dc.dwellings_per_network, shares[k]))
        gw[f"battery_{k}"] = float(
            battery_potential_gw(dc.lv_networks, dc.dwellings_per_network, shares[k], inp.battery_p_kw)
        )
    for k, r in inp.resources.items():
        gw[k] = float(demand_resource_gw(inp.peak_demand_2035_gw, inp.sector_share, r.penetration))
    return PotentialResult(gw=gw, batteries_per_network=per_net, hosting_share=shares)


def hosting_share_sensitivity(
    shares: ArrayLike = np.linspace(0.05, 0.5, 46), inputs: PotentialInputs | None = None
) -> pd.DataFrame:
    """Battery potential per density class and total potential as the hosting share varies.

    The same share is applied to every density class. Returns columns hosting_share, battery_<class> (GW)
    and total_gw (batteries plus the demand-side resources).

    Parameters
    ----------
    shares : array_like
        Hosting shares to evaluate. [-]
    inputs : PotentialInputs, optional
        Inputs (None: the bundled Tables 6-7).
    """
    inp = inputs or load_potential_inputs()
    s = np.asarray(shares, dtype=float)
    frame = pd.DataFrame({"hosting_share": s})
    for k, dc in inp.density.items():
        frame[f"battery_{k}"] = battery_potential_gw(
            dc.lv_networks, dc.dwellings_per_network, s, inp.battery_p_kw
        )
    demand = sum(
        float(demand_resource_gw(inp.peak_demand_2035_gw, inp.sector_share, r.penetration))
        for r in inp.resources.values()
    )
    frame["total_gw"] = frame[[f"battery_{k}" for k in inp.density]].sum(axis=1) + demand
    return frame
