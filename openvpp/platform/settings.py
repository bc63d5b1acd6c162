"""Settings of the running service (``openvpp serve``): pydantic-settings, environment prefix ``OPENVPP_``.

Every field can be set three ways, later ones winning: its default here, a TOML file
(:meth:`ServiceSettings.from_toml`, top-level keys or a ``[service]`` table) and an environment variable
``OPENVPP_<FIELD>`` (``OPENVPP_DB_URL``, ``OPENVPP_BROKER_URL`` ...). A bad value raises OpenVPP's
:class:`~openvpp.errors.ValidationError` naming the field.

The static default export limit is the one a VPP reverts to when it cannot reach the network API
(seed 001 §2.1); its default, 5 kW per site, is SA Power Networks' standard static export limit quoted by the
seed (§2 and §5: "the current static export limit of 5 kW in SAPN network"), the same value as the floor of
the mediated limit in :data:`openvpp.envelopes.engine.STATIC_FLOOR_KW`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pydantic
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from openvpp.config import pydantic_to_validation_error
from openvpp.envelopes.engine import STATIC_FLOOR_KW
from openvpp.errors import ValidationError

__all__ = ["DEFAULT_DATA_DIR", "ServiceSettings", "default_db_url"]

#: folder of the embedded SQLite store when no ``db_url`` is given (relative to the working directory)
DEFAULT_DATA_DIR = Path("openvpp-data")


def default_db_url(data_dir: Path | str = DEFAULT_DATA_DIR) -> str:
    """SQLite URL of the embedded store in ``data_dir`` (``sqlite:///openvpp-data/openvpp.db``).

    Parameters
    ----------
    data_dir : path-like
        Folder that holds ``openvpp.db``; created by :func:`openvpp.platform.store.db.make_engine`.

    Returns
    -------
    str
        SQLAlchemy URL.
    """
    return f"sqlite:///{Path(data_dir) / 'openvpp.db'}"


class ServiceSettings(BaseSettings):
    """Configuration of the service: store, broker, HTTP server, request limits, fallback limit, Dask.

    Parameters
    ----------
    db_url : str
        SQLAlchemy URL of the store: ``sqlite:///path.db`` (embedded default, in ``./openvpp-data``) or
        ``postgresql://user@host:5432/db`` (production; mapped to the psycopg 3 driver).
    db_schema : str or None
        PostgreSQL schema to use (None = the connection's default ``search_path``).
    broker_url : str or None
        MQTT broker, ``mqtt://127.0.0.1:1883``; None = the in-process transport.
    host : str
        Interface the HTTP server binds to.
    port : int
        TCP port of the HTTP server. [-]
    max_request_bytes : int
        Largest accepted request body; larger ones get 413. [B]
    max_batch_items : int
        Largest number of readings (or envelopes) in one request; more get 422. [-]
    rate_per_key_per_s : float
        Sustained request rate allowed per API key (token bucket); more get 429 with ``Retry-After``. [1/s]
    rate_burst : int
        Token-bucket depth: requests a key may send at once before the sustained rate applies. [-]
    static_export_limit_kw : float
        Static default export limit per site the VPP reverts to without the API (seed 001 §2.1, SAPN's
        standard 5 kW). [kW]
    telemetry_future_tolerance_s : float
        How far past the server clock a reading's interval may start before it is rejected as "in the future"
        (clock skew allowance). [s]
    dask_address : str or None
        Address of a Dask scheduler for heavy jobs (``tcp://host:8786``); None = in-process.
    """

    model_config = SettingsConfigDict(env_prefix="OPENVPP_", extra="forbid", frozen=True)

    db_url: str = Field(default_factory=default_db_url)
    db_schema: str | None = None
    broker_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_request_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    max_batch_items: int = Field(default=5000, ge=1, le=100_000)
    rate_per_key_per_s: float = Field(default=200.0, gt=0)
    rate_burst: int = Field(default=400, ge=1)
    static_export_limit_kw: float = Field(default=STATIC_FLOOR_KW, ge=0)
    telemetry_future_tolerance_s: float = Field(default=300.0, ge=0)
    dask_address: str | None = None

    @field_validator("db_url")
    @classmethod
    def _check_db_url(cls, v: str) -> str:
        if not (v.startswith("sqlite") or v.startswith("postgresql")):
            raise ValueError("the database URL (--db, OPENVPP_DB_URL) must start with 'sqlite:///' or 'postgresql://'")
        return v

    @field_validator("broker_url")
    @classmethod
    def _check_broker_url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("mqtt://", "mqtts://")):
            raise ValueError("the broker URL (--broker, OPENVPP_BROKER_URL) must look like 'mqtt://127.0.0.1:1883'")
        return v

    @classmethod
    def build(cls, **values: Any) -> ServiceSettings:
        """Settings from keyword values (and the environment); OpenVPP's ValidationError on a bad value.

        Parameters
        ----------
        **values
            Field values (see the class parameters); None values are ignored so CLI options can pass through.

        Returns
        -------
        ServiceSettings
        """
        given = {k: v for k, v in values.items() if v is not None}
        try:
            return cls(**given)
        except pydantic.ValidationError as exc:
            raise pydantic_to_validation_error(exc, "settings") from None

    @classmethod
    def from_toml(cls, path: Path | str, **overrides: Any) -> ServiceSettings:
        """Settings from a TOML file (top-level keys or a ``[service]`` table), then ``overrides``.

        Parameters
        ----------
        path : path-like
            TOML file.
        **overrides
            Field values that win over the file (None values are ignored).

        Returns
        -------
        ServiceSettings
        """
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text())
        except FileNotFoundError:
            raise ValidationError(f"settings file {str(p)!r} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ValidationError(f"settings file {str(p)!r} is not valid TOML: {exc}") from None
        table = data.get("service", data)
        return cls.build(**{**table, **{k: v for k, v in overrides.items() if v is not None}})
