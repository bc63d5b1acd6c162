"""Grid-service catalogue: what a VPP can sell, when, with which DERs, and how it is paid.

The Chile services of the roadmap (seed 000 §6.1, Table 1) are data in
``openvpp/data/bundled/services_chile.toml``: time block, eligible DER classes, capacity share, activation and
delivery times, event limits and a list of remuneration rules. A rule names a ``component`` (availability,
activation) and a ``rule`` understood by :mod:`openvpp.services.remuneration`; its parameters travel with it.
Another market (e.g. AEMO contingency FCAS or an energy market) is another TOML file with the same shape:
nothing in the model is Chile-specific.

The models are pydantic and validated on construction: a negative price, a share outside [0, 1], a capacity
allocation that sums above 1, a malformed time block or an unknown market raise
:class:`~openvpp.errors.ValidationError` naming the field.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from openvpp.config import StrictModel
from openvpp.errors import DataError, ValidationError
from openvpp.fleet.classes import DER_CLASSES
from openvpp.units import MIN_PER_H

__all__ = [
    "DER_CLASSES",
    "FrequencySettings",
    "RemunerationRule",
    "Service",
    "ServiceCatalogue",
    "load_catalogue",
]


_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")






class RemunerationRule(StrictModel):
    """One paid component of a service (seed 000 §6.1.2).

    ``rule`` selects the formula in :mod:`openvpp.services.remuneration`:

    - ``per_event``: price per MW and event x events (CPF- activation)
    - ``reserved_energy_at_marginal_cost``: reserved energy x mean marginal cost + direct cost, per day
      available (CPF+ availability)
    - ``droop_energy_at_marginal_cost``: droop-scaled under-frequency hours x hourly marginal cost (CPF+
      activation)
    - ``capacity_hours``: USD/MWh x MW x hours (CI availability)
    - ``capacity_event_hours``: USD/MWh x MW x events x hours per event (CI activation)
    - ``per_kw_month``: USD/kW-month x contracted kW x months (peak reduction)
    - ``energy_not_supplied``: USD/MWh x events x energy per event (resilience)
    """

    component: Literal["availability", "activation", "energy"]
    rule: Literal[
        "per_event",
        "reserved_energy_at_marginal_cost",
        "droop_energy_at_marginal_cost",
        "capacity_hours",
        "capacity_event_hours",
        "per_kw_month",
        "energy_not_supplied",
    ]
    price_usd_per_mwh: float | None = Field(default=None, ge=0.0)
    price_from: str | None = None
    events_per_year: float | None = Field(default=None, ge=0.0)
    availability_fraction: float | None = Field(default=None, ge=0.0, le=1.0)
    hours_per_year: tuple[float, ...] | None = None
    f_hz: tuple[float, ...] | None = None
    time_share: tuple[float, ...] | None = None
    working_days: int | None = Field(default=None, ge=0, le=366)
    source: str = ""

    @field_validator("hours_per_year")
    @classmethod
    def _non_negative_hours(cls, v: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if v is not None and any(h < 0 or h > 8784 for h in v):
            raise ValueError("every annual hour count must lie in [0, 8784]")
        return v

    @model_validator(mode="after")
    def _shares(self) -> RemunerationRule:
        if self.time_share is not None:
            if any(s < 0 for s in self.time_share) or abs(sum(self.time_share) - 1.0) > 1e-9:
                raise ValueError("time_share must be non-negative and sum to 1")
            if self.f_hz is None or len(self.f_hz) != len(self.time_share):
                raise ValueError("f_hz and time_share must have the same length")
        return self


class Service(StrictModel):
    """A grid service: time block, eligible DERs, capacity share, event limits, remuneration (Table 1)."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    level: Literal["bulk", "distribution", "market"]
    der_classes: tuple[str, ...]
    capacity_share: float = Field(ge=0.0, le=1.0, description="share of the eligible DER capacity used [-]")
    block_start: str
    block_end: str
    months: tuple[int, ...] = tuple(range(1, 13))
    days: Literal["all", "working"] = "all"
    activation_time_s: float | None = Field(default=None, gt=0.0)
    min_delivery_min: float | None = Field(default=None, gt=0.0)
    max_events_per_year: int | None = Field(default=None, ge=0)
    event_duration_h: float | None = Field(default=None, gt=0.0)
    remuneration: tuple[RemunerationRule, ...] = ()
    source: str = ""

    @field_validator("der_classes")
    @classmethod
    def _known_classes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [c for c in v if c not in DER_CLASSES]
        if bad or not v:
            raise ValueError(f"unknown or missing DER classes {bad}; known: {list(DER_CLASSES)}")
        return v

    @field_validator("block_start", "block_end")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not _HHMM.match(v) or (v.startswith("24") and v != "24:00"):
            raise ValueError("time of day must be 'HH:MM' between 00:00 and 24:00")
        return v

    @field_validator("months")
    @classmethod
    def _months(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if not v or any(m < 1 or m > 12 for m in v) or len(set(v)) != len(v):
            raise ValueError("months must be distinct integers in 1..12")
        return v

    @property
    def block_hours(self) -> float:
        """Length of the daily block in hours (a block ending at 10:00 and starting 06:01 counts 4 h)."""
        h0, m0 = (int(x) for x in self.block_start.split(":"))
        h1, m1 = (int(x) for x in self.block_end.split(":"))
        start = h0 * 60 + m0 - (1 if m0 == 1 else 0)  # auction blocks start at hh:01
        minutes = (h1 * 60 + m1 - start) % (24 * 60) or 24 * 60
        return minutes / MIN_PER_H

    @property
    def n_months(self) -> int:
        """Number of calendar months in which the service is procured."""
        return len(self.months)

    def rule(self, component: str) -> RemunerationRule:
        """The remuneration rule of a component; ValidationError if the service does not pay it."""
        for r in self.remuneration:
            if r.component == component:
                return r
        raise ValidationError(
            f"service {self.key!r} has no remuneration component {component!r}; "
            f"it pays {[r.component for r in self.remuneration]}"
        )


class FrequencySettings(StrictModel):
    """Reference frequency, normal band (dead band) and battery droop (seed 000 §6.1.2)."""

    f_nominal_hz: float = Field(gt=0.0)
    deadband_hz: float = Field(ge=0.0)
    droop: float = Field(gt=0.0, lt=1.0)
    source: str = ""


class ServiceCatalogue(StrictModel):
    """The services of one market plus the battery capacity allocation between purposes."""

    market: str
    services: dict[str, Service]
    allocation: dict[str, float]
    frequency: FrequencySettings | None = None
    source: str = ""

    @field_validator("allocation")
    @classmethod
    def _allocation(cls, v: dict[str, float]) -> dict[str, float]:
        if any(s < 0 or s > 1 for s in v.values()):
            raise ValueError(f"every capacity allocation share must lie in [0, 1] (got {v})")
        if sum(v.values()) > 1.0 + 1e-9:
            raise ValueError(
                f"capacity allocation shares sum to {sum(v.values()):.3f} > 1 (got {v}); "
                "reduce a share so the battery capacity is not allocated twice"
            )
        return v

    def __getitem__(self, key: str) -> Service:
        try:
            return self.services[key]
        except KeyError:
            raise ValidationError(
                f"service {key!r} is not in the {self.market!r} catalogue; known: {sorted(self.services)}"
            ) from None

    def __contains__(self, key: object) -> bool:
        return key in self.services

    def for_der(self, der_class: str) -> list[Service]:
        """Services a DER class may provide."""
        return [s for s in self.services.values() if der_class in s.der_classes]

    def to_frame(self) -> Any:
        """One row per service: key, name, level, DERs, share, block, months, events (a pandas DataFrame)."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "key": s.key, "name": s.name, "level": s.level, "der_classes": ",".join(s.der_classes),
                    "capacity_share": s.capacity_share, "block": f"{s.block_start}-{s.block_end}",
                    "block_hours": s.block_hours, "months": s.n_months, "days": s.days,
                    "max_events_per_year": s.max_events_per_year,
                    "components": ",".join(r.component for r in s.remuneration),
                }
                for s in self.services.values()
            ]
        )


_MARKETS = {"chile": "services_chile", "aemo": "services_aemo"}


def catalogue_from_dict(data: dict[str, Any]) -> ServiceCatalogue:
    """Build a validated catalogue from a dict shaped like the bundled TOML files.

    Parameters
    ----------
    data : dict
        The parsed TOML document.
    """
    try:
        raw = dict(data)
        services = {}
        for s in raw.pop("service", []):
            s = dict(s)
            s["remuneration"] = tuple(RemunerationRule.build(**r) for r in s.get("remuneration", []))
            svc = Service.build(**s)
            services[svc.key] = svc
        alloc = {k: v for k, v in raw.pop("allocation", {}).items() if k != "source"}
        freq = raw.pop("frequency", None)
        return ServiceCatalogue.build(
            market=raw.pop("market"), services=services, allocation=alloc,
            frequency=FrequencySettings.build(**freq) if freq else None, source=raw.pop("source", ""),
        )
    except KeyError as exc:
        raise ValidationError(f"service catalogue is missing the field {exc}") from None


def load_catalogue(market: str = "chile") -> ServiceCatalogue:
    """Load a bundled service catalogue.

    Parameters
    ----------
    market : str
        Catalogue name: ``"chile"`` is the roadmap's catalogue (seed 000 Table 1); ``"aemo"`` the NEM
        energy and contingency FCAS markets of the South Australian VPP (seed 001 §5.4.1, Table 7), whose
        prices the user supplies.

    Raises
    ------
    ValidationError
        Unknown market.
    """
    if market not in _MARKETS:
        raise ValidationError(f"market must be one of {sorted(_MARKETS)} (got {market!r})")
    from openvpp.data.bundled import bundled_table

    data = bundled_table(_MARKETS[market])
    if not isinstance(data, dict):  # pragma: no cover - bundled file is TOML
        raise DataError(f"{_MARKETS[market]} is not a TOML table")
    return catalogue_from_dict(data)
