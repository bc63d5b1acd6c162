"""Service settings: defaults with their source, environment, TOML, errors naming the field."""

from __future__ import annotations

import pytest

from openvpp.errors import ValidationError
from openvpp.platform.settings import ServiceSettings


def test_defaults_env_and_toml(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENVPP_DB_URL", raising=False)
    s = ServiceSettings.build()
    assert s.db_url == "sqlite:///openvpp-data/openvpp.db" and s.broker_url is None
    assert s.static_export_limit_kw == 5.0  # SAPN's static export limit (seed 001 §2.1)
    monkeypatch.setenv("OPENVPP_PORT", "9001")
    assert ServiceSettings.build().port == 9001
    f = tmp_path / "service.toml"
    f.write_text('[service]\nbroker_url = "mqtt://127.0.0.1:1883"\nstatic_export_limit_kw = 1.5\n')
    s = ServiceSettings.from_toml(f, port=None)
    assert (s.broker_url, s.static_export_limit_kw, s.port) == ("mqtt://127.0.0.1:1883", 1.5, 9001)


def test_bad_values_name_the_field(tmp_path):
    with pytest.raises(ValidationError, match="--broker"):
        ServiceSettings.build(broker_url="amqp://x")
    with pytest.raises(ValidationError, match="port"):
        ServiceSettings.build(port=0)
    with pytest.raises(ValidationError, match="does not exist"):
        ServiceSettings.from_toml(tmp_path / "missing.toml")
