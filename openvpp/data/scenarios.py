"""Co-simulation scenarios as TOML: the bundled library and user files (``openvpp/data/bundled/scenarios``).

A scenario names system events for :mod:`openvpp.sim`: a frequency trace (deviation from the nominal
frequency, so the same file serves 50 and 60 Hz systems), operator instructions and outages. This module only
reads files; :mod:`openvpp.sim.scenarios` validates and resolves them against a plan.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from openvpp.errors import DataError, ValidationError

__all__ = ["MAX_SCENARIO_BYTES", "list_scenarios", "read_scenario"]

#: the largest scenario file accepted
MAX_SCENARIO_BYTES = 1_000_000


def _folder() -> Any:
    return resources.files("openvpp.data").joinpath("bundled").joinpath("scenarios")


def list_scenarios() -> list[str]:
    """Names of the bundled scenarios (file names without ``.toml``)."""
    return sorted(p.name.removesuffix(".toml") for p in _folder().iterdir() if p.name.endswith(".toml"))


def read_scenario(name_or_path: str | Path, field: str = "--scenario") -> dict[str, Any]:
    """The raw table of a bundled scenario (by name) or of a TOML file (by path).

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        A name of :func:`list_scenarios` or the path of a ``.toml`` file.
    field : str
        How the caller calls this argument (used in error messages).

    Returns
    -------
    dict
        The parsed TOML.
    """
    text = str(name_or_path)
    if text in list_scenarios():
        res = _folder().joinpath(text + ".toml")
        with res.open("rb") as fh:
            return tomllib.load(fh)
    path = Path(text)
    if not path.suffix == ".toml" or not path.is_file():
        raise ValidationError(
            f"{field} {text!r} is neither a bundled scenario ({', '.join(list_scenarios())}) nor a .toml file"
        )
    size = path.stat().st_size
    if size > MAX_SCENARIO_BYTES:
        raise ValidationError(
            f"{field} file {text!r} has {size} bytes; at most {MAX_SCENARIO_BYTES} are accepted"
        )
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{field} file {text!r} is not valid TOML: {exc}") from exc
