"""Argument checks shared by every layer: step lengths, random seeds.

Each check returns the cleaned value or raises :class:`~openvpp.errors.ValidationError` naming the argument as
the caller knows it (pass ``name`` as the CLI flag or JSON field when checking user input).
"""

from __future__ import annotations

import numpy as np

from openvpp.errors import ValidationError

__all__ = ["check_dt", "check_seed"]

def check_dt(dt_h: float) -> float:
    """Return ``dt_h`` as float after checking it is a positive finite number of hours.

    Parameters
    ----------
    dt_h : float
        Step length. [h]

    Returns
    -------
    float
        ``dt_h``. [h]

    Raises
    ------
    ValidationError
        When ``dt_h`` is not a number, not finite or not positive.
    """
    try:
        dt = float(dt_h)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"dt_h must be a positive number of hours (got {dt_h!r})") from exc
    if not np.isfinite(dt) or dt <= 0:
        raise ValidationError(f"dt_h must be a positive number of hours (got {dt_h!r})")
    return dt

def check_seed(seed: int | np.random.Generator, name: str = "seed") -> int | np.random.Generator:
    """Validate a random seed: a whole number >= 0 or a :class:`numpy.random.Generator` (returned as is).

    Parameters
    ----------
    seed : int or numpy.random.Generator
        A whole number >= 0 or a generator (returned as is). [-]
    name : str
        The argument as the user wrote it (e.g. ``--seed``), for the message.

    Raises
    ------
    ValidationError
        Naming ``name``: numpy rejects negative, fractional and non-numeric seeds with messages that do not.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValidationError(
            f"{name} must be a whole number >= 0 or a numpy Generator (got {seed!r}); e.g. 0"
        )
    return int(seed)
