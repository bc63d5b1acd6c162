"""Validated configuration models: the strict pydantic base every settings table of OpenVPP derives from.

A :class:`StrictModel` rejects unknown keys, is immutable, and reports a bad value as an OpenVPP
:class:`~openvpp.errors.ValidationError` naming every offending field (not pydantic's own error type).
"""

from __future__ import annotations

from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict

from openvpp.errors import ValidationError

__all__ = ["StrictModel", "pydantic_to_validation_error"]

def pydantic_to_validation_error(exc: pydantic.ValidationError, model: str) -> ValidationError:
    """Turn a pydantic error into an OpenVPP :class:`ValidationError` naming every offending field.

    Parameters
    ----------
    exc : pydantic.ValidationError
        The error pydantic raised.
    model : str
        Name of the model, prefixed to each field in the message.
    """
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(model)"
        parts.append(f"{model}.{loc}: {err['msg']} (got {err.get('input')!r})")
    return ValidationError("; ".join(parts))

class StrictModel(BaseModel):
    """Frozen pydantic model that forbids unknown fields; :meth:`build` raises OpenVPP's ValidationError."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def build(cls, **data: Any) -> Any:
        """Construct and validate; raise :class:`ValidationError` (not pydantic's) naming the field."""
        try:
            return cls(**data)
        except pydantic.ValidationError as exc:
            raise pydantic_to_validation_error(exc, cls.__name__) from None
