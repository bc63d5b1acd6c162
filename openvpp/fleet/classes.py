"""Which parameter table holds each DER class of a fleet, imported lazily.

The fleet keeps one :class:`~openvpp.der._params.ParamTable` per class name (``"battery"``, ``"pv"``...).
Device modules are imported only when a class is used, so a fleet of batteries does not need the EV model.
"""

from __future__ import annotations

import importlib

from openvpp.errors import ConfigError, ValidationError
from openvpp.tables import ParamTable

#: class name -> (module, parameter-table class) of every DER class OpenVPP models
DER_CLASSES: dict[str, tuple[str, str]] = {
    "battery": ("openvpp.der.battery", "BatteryParams"),
    "pv": ("openvpp.der.pv", "PVParams"),
    "ev": ("openvpp.der.ev", "EVParams"),
    "heatpump": ("openvpp.der.heatpump", "HeatPumpParams"),
    "waterheater": ("openvpp.der.waterheater", "WaterHeaterParams"),
    "flexload": ("openvpp.der.flexload", "FlexLoadParams"),
    "generator": ("openvpp.der.generator", "DispatchableGeneratorParams"),
    "variable_generator": ("openvpp.der.generator", "VariableGeneratorParams"),
}


def der_class(name: str) -> type[ParamTable]:
    """The parameter-table class of DER class ``name`` (imported on first use).

    Parameters
    ----------
    name : str
        DER class name (a key of :data:`DER_CLASSES`).

    Raises
    ------
    ValidationError
        If ``name`` is not in :data:`DER_CLASSES`.
    ConfigError
        If the device module cannot be imported.
    """
    if name not in DER_CLASSES:
        raise ValidationError(f"unknown DER class {name!r}; known classes are {sorted(DER_CLASSES)}")
    module, cls_name = DER_CLASSES[name]
    try:
        cls = getattr(importlib.import_module(module), cls_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"DER class {name!r} needs {module}.{cls_name}, which cannot be imported: {exc}"
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, ParamTable)):
        raise ConfigError(f"{module}.{cls_name} is not a ParamTable subclass")
    return cls


def available_der_classes() -> list[str]:
    """Names of the DER classes whose device module can be imported now."""
    out = []
    for name in DER_CLASSES:
        try:
            der_class(name)
        except ConfigError:
            continue
        out.append(name)
    return out
