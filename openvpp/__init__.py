"""OpenVPP: an open-source platform for virtual power plants.

Sign convention (used everywhere): power at a site meter, a device or an aggregate is positive when it is
drawn from the grid (load convention): imports, battery charging and consumption are positive; exports,
battery discharging and generation are negative. See :mod:`openvpp.units`.
"""

from openvpp.errors import ConfigError, DataError, InfeasibleError, OpenVPPError, ValidationError

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DataError",
    "InfeasibleError",
    "OpenVPPError",
    "ValidationError",
    "__version__",
]
