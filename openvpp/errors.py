"""Error types shared by every layer of OpenVPP.

Messages name the field, the offending value (and device where there is one) and what is expected, e.g.
``battery.e_max_kwh must be > 0 (got -13.5 for device 'b17')``. The CLI maps every :class:`OpenVPPError`
to a one-line message and exit code 2; the HTTP API maps them to 4xx responses.
"""

from __future__ import annotations


class OpenVPPError(Exception):
    """Base class of every error raised on purpose by OpenVPP."""


class ValidationError(OpenVPPError, ValueError):
    """An input has the wrong unit, shape, range, a NaN, or a misaligned time axis."""


class InfeasibleError(OpenVPPError):
    """An optimisation or a request cannot be met with the resources and limits given."""


class DataError(OpenVPPError):
    """Bundled or user data is missing, malformed or inconsistent."""


class ConfigError(OpenVPPError):
    """A configuration value is missing or contradicts another one."""
