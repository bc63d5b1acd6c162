"""Participant compensation program: how a VPP pays its participants, as a validated TOML definition.

Explainer 002 describes the granular model: a **monthly capacity credit adjusted by how reliably the system
performs** plus an **energy credit for each kWh actually dispatched**, and optionally time-based **export
rates**. Seed 000 §6.1 (Table 2) gives the Chile values: 0.90 USD/kWh for battery energy dispatched, 0.50
USD/kWh for interrupted EV / heat-pump load, and an incentive cost of about 27,989 USD per MW a year. The
bundled default (``openvpp/data/bundled/settlement_program_chile.toml``) carries each value with its source.

A program is a :class:`Program` (pydantic, strict: unknown keys and bad values raise
:class:`~openvpp.errors.ValidationError` naming the field). :func:`program_from_business` builds the program
the annual business model of :mod:`openvpp.economics.business` implies (energy credits only), which is how the
settlement is shown to agree with that model.
"""

from __future__ import annotations

import math
import tomllib
from typing import Any, Literal

from pydantic import Field, model_validator

from openvpp.config import StrictModel
from openvpp.errors import DataError, ValidationError

__all__ = [
    "BaselineSettings",
    "DeviceClassTerms",
    "EligibilitySettings",
    "Program",
    "ServiceTerms",
    "load_program",
    "program_from_business",
    "program_from_toml",
]


class DeviceClassTerms(StrictModel):
    """What a participant of one device class is enrolled with and paid (explainer 002; seed 000 Table 2).

    Attributes
    ----------
    enrolled_kw : float
        Capacity enrolled per participant. [kW]
    capacity_credit_usd_per_kw_month : float
        Monthly capacity credit at a performance factor of 1. [USD/kW-month]
    energy_credit_usd_per_kwh : float
        Credit per kWh delivered. [USD/kWh]
    source : str
    """

    enrolled_kw: float = Field(gt=0.0, description="capacity enrolled per participant [kW]")
    capacity_credit_usd_per_kw_month: float = Field(
        ge=0.0, description="monthly capacity credit [USD/kW-month]"
    )
    energy_credit_usd_per_kwh: float = Field(ge=0.0, description="credit per kWh delivered [USD/kWh]")
    source: str = ""


class ServiceTerms(StrictModel):
    """How events of one service are measured and credited (seed 000 §4).

    Attributes
    ----------
    direction : {"up", "down"}
        ``up``: less import / more export is delivery; ``down``: more import is (CPF-, absorbing).
    baseline : {"x_of_y", "meter_before", "control_group"}
        Baseline family; ``control_group`` uses the telemetry sites of device class ``control``.
    credited_share : float
        Share of the delivered energy that earns the energy credit. [-]
    source : str
    """

    direction: Literal["up", "down"] = Field(
        description="up: less import / more export is delivery; down: more import (e.g. CPF-, absorbing)"
    )
    baseline: Literal["x_of_y", "meter_before", "control_group"]
    credited_share: float = Field(ge=0.0, le=1.0, description="share of delivered energy credited [-]")
    source: str = ""


class BaselineSettings(StrictModel):
    """Baseline parameters (CAISO 10-of-10 / AEMO WDRM by default; seed 000 §4).

    Attributes
    ----------
    x, y, x_nonbusiness, y_nonbusiness : int
        X-of-Y on business and non-business days. [-]
    lookback_days : int
        Window of candidate days. [d]
    adjustment : {"ratio", "additive", "none"}
        Day-of adjustment.
    adjustment_window_h, adjustment_gap_h : float
        Length of the adjustment window and its gap before the event. [h]
    cap_low, cap_high : float
        Bounds of the adjustment ratio. [-]
    meter_before_samples : int
        Readings averaged before a trigger. [-]
    control_pre_window_h : float
        Pre-event window of the control-group baseline. [h]
    holidays : tuple of str
        Non-business dates (``YYYY-MM-DD``).
    source : str
    """

    x: int = Field(default=10, ge=1, le=60)
    y: int = Field(default=10, ge=1, le=60)
    x_nonbusiness: int = Field(default=4, ge=1, le=60)
    y_nonbusiness: int = Field(default=4, ge=1, le=60)
    lookback_days: int = Field(default=45, ge=1, le=366)
    adjustment: Literal["ratio", "additive", "none"] = "ratio"
    adjustment_window_h: float = Field(default=3.0, gt=0.0, le=12.0)
    adjustment_gap_h: float = Field(default=1.0, ge=0.0, le=12.0)
    cap_low: float = Field(default=0.8, gt=0.0, le=1.0)
    cap_high: float = Field(default=1.2, ge=1.0)
    meter_before_samples: int = Field(default=1, ge=1, le=3600)
    control_pre_window_h: float = Field(default=1.0, gt=0.0, le=24.0)
    holidays: tuple[str, ...] = ()
    source: str = ""

    @model_validator(mode="after")
    def _x_le_y(self) -> BaselineSettings:
        import datetime

        for h in self.holidays:
            try:
                datetime.date.fromisoformat(h)
            except ValueError:
                raise ValueError(f"holidays must be dates written YYYY-MM-DD (got {h!r})") from None
        if self.x > self.y or self.x_nonbusiness > self.y_nonbusiness:
            raise ValueError("x must be <= y (and x_nonbusiness <= y_nonbusiness)")
        if self.lookback_days < max(self.y, self.y_nonbusiness):
            raise ValueError("lookback_days must be >= y and y_nonbusiness")
        return self


class EligibilitySettings(StrictModel):
    """Eligibility thresholds (AEMO WDRM: 20 % accuracy; the bias threshold is a parameter).

    Attributes
    ----------
    max_rrmse, max_abs_bias : float
        Largest relative RMSE and absolute relative bias accepted. [-]
    source : str
    """

    max_rrmse: float = Field(default=0.2, gt=0.0)
    max_abs_bias: float = Field(default=0.05, gt=0.0)
    source: str = ""


class Program(StrictModel):
    """A participant compensation program (explainer 002; values from seed 000 §6.1).

    Attributes
    ----------
    name : str
    timezone : str
        Settlement time zone (fixed offset, e.g. ``Etc/GMT+4`` for Chile standard time); days and months are
        counted in it.
    market, site : str
        Service catalogue and site prices of :mod:`openvpp.economics.business` used for the aggregator's
        market revenue.
    allow_negative_prices : bool
        Whether an export rate or an event price may be negative.
    export_rate_usd_per_kwh : float
        Paid per kWh exported during events (explainer 002's time-based export rate); 0 = none. [USD/kWh]
    device_classes, services : dict
        Terms per device class and per service.
    """

    name: str
    timezone: str = "UTC"
    market: str = "chile"
    site: str = "lampa"
    allow_negative_prices: bool = False
    export_rate_usd_per_kwh: float = 0.0
    device_classes: dict[str, DeviceClassTerms]
    services: dict[str, ServiceTerms]
    baseline: BaselineSettings = BaselineSettings()
    eligibility: EligibilitySettings = EligibilitySettings()
    source: str = ""

    @model_validator(mode="after")
    def _prices(self) -> Program:
        if not math.isfinite(self.export_rate_usd_per_kwh):
            raise ValueError("export_rate_usd_per_kwh must be finite")
        if self.export_rate_usd_per_kwh < 0 and not self.allow_negative_prices:
            raise ValueError(
                "export_rate_usd_per_kwh is negative but allow_negative_prices is false; set "
                "allow_negative_prices = true or give a rate >= 0"
            )
        if not self.device_classes or not self.services:
            raise ValueError("a program needs at least one device class and one service")
        return self

    def terms(self, device_class: str) -> DeviceClassTerms:
        """Terms of a device class; ValidationError naming ``device_class`` if the program has none.

        Parameters
        ----------
        device_class : str
            Class name (``battery``, ``ev``, ``heatpump`` ...).
        """
        try:
            return self.device_classes[device_class]
        except KeyError:
            raise ValidationError(
                f"device_class {device_class!r} is not in program {self.name!r}; known: "
                f"{sorted(self.device_classes)}"
            ) from None

    def service(self, key: str) -> ServiceTerms:
        """Terms of a service; ValidationError naming ``service`` if the program has none.

        Parameters
        ----------
        key : str
            Service key (``peak_reduction``, ``ci`` ...).
        """
        try:
            return self.services[key]
        except KeyError:
            raise ValidationError(
                f"service {key!r} is not in program {self.name!r}; known: {sorted(self.services)}"
            ) from None


def _build(data: dict[str, Any], where: str) -> Program:
    raw = dict(data)
    try:
        dcs = {k: DeviceClassTerms.build(**v) for k, v in dict(raw.pop("device_classes", {})).items()}
        svcs = {k: ServiceTerms.build(**v) for k, v in dict(raw.pop("services", {})).items()}
        base = BaselineSettings.build(**raw.pop("baseline", {}))
        elig = EligibilitySettings.build(**raw.pop("eligibility", {}))
    except TypeError as exc:
        raise ValidationError(f"{where}: a table is malformed ({exc})") from None
    prog: Program = Program.build(device_classes=dcs, services=svcs, baseline=base, eligibility=elig, **raw)
    return prog


def program_from_toml(text: str, where: str = "program") -> Program:
    """Parse and validate a program from TOML text.

    Parameters
    ----------
    text : str
        TOML document shaped like the bundled ``settlement_program_chile.toml``.
    where : str
        Name of the source for messages (e.g. the ``--program`` path).

    Raises
    ------
    ValidationError
        Invalid TOML or an invalid field (named).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"{where} is not valid TOML: {exc}") from None
    return _build(data, where)


def load_program(name: str = "chile") -> Program:
    """The bundled default program (``settlement_program_chile.toml``; seed 000 §6.1, explainer 002).

    Parameters
    ----------
    name : str
        Bundled program name (``"chile"``).
    """
    from openvpp.data.bundled import bundled_table

    if name != "chile":
        raise ValidationError(f"program must be 'chile' or a TOML file (got {name!r})")
    data = bundled_table("settlement_program_chile")
    if not isinstance(data, dict):  # pragma: no cover - bundled file is TOML
        raise DataError("settlement_program_chile is not a TOML table")
    return _build(data, "settlement_program_chile.toml")


def program_from_business(inputs: Any, base: Program | None = None) -> Program:
    """The program the annual business model implies: Table 2 energy credits, no capacity credit.

    Seed 000 Table 4 budgets the participant incentive as energy credits only (0.90 USD/kWh of battery energy
    dispatched, 0.50 USD/kWh of interrupted EV / HP load) and credits, in a resilience event, only the 30 %
    local-service reserve out of the 80 % of capacity used (``costs.resilience_credited_share`` / resilience
    ``capacity_share``). Settling a year of events with this program reproduces the model's participant cost.

    Parameters
    ----------
    inputs : openvpp.economics.business.BusinessInputs
        Site, fleet, costs and catalogue.
    base : Program, optional
        Program whose other settings (baselines, services) are kept (default: the bundled one).
    """
    prog = base or load_program()
    costs, fleet, cat = inputs.costs, inputs.fleet, inputs.catalogue
    dcs = {
        "battery": DeviceClassTerms.build(
            enrolled_kw=fleet.battery_p_kw,
            capacity_credit_usd_per_kw_month=0.0,
            energy_credit_usd_per_kwh=costs.energy_credit_usd_per_kwh,
        ),
        "ev": DeviceClassTerms.build(
            enrolled_kw=fleet.ev_p_kw,
            capacity_credit_usd_per_kw_month=0.0,
            energy_credit_usd_per_kwh=costs.ci_credit_usd_per_kwh,
        ),
        "heatpump": DeviceClassTerms.build(
            enrolled_kw=fleet.heatpump_p_kw,
            capacity_credit_usd_per_kw_month=0.0,
            energy_credit_usd_per_kwh=costs.ci_credit_usd_per_kwh,
        ),
    }
    services = dict(prog.services)
    if "resilience" in services:
        share = costs.resilience_credited_share / cat["resilience"].capacity_share
        services["resilience"] = services["resilience"].model_copy(update={"credited_share": share})
    return prog.model_copy(
        update={
            "device_classes": dcs,
            "services": services,
            "export_rate_usd_per_kwh": 0.0,
            "site": inputs.site.key,
            "name": f"business model ({inputs.site.key})",
        }
    )
