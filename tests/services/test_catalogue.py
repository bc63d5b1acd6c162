"""The service catalogue against seed 000 Table 1 and the bundled AEMO markets."""

from __future__ import annotations

import pytest

from openvpp.errors import ValidationError
from openvpp.services.catalogue import catalogue_from_dict, load_catalogue


@pytest.fixture(scope="module")
def chile():
    return load_catalogue("chile")


def test_table1_time_blocks_and_shares(chile):
    # seed 000 Table 1: blocks, DERs and capacity shares
    assert chile["cpf_minus"].block_hours == 4.0
    assert chile["cpf_plus"].block_hours == 4.0 and chile["cpf_plus"].capacity_share == 0.5
    assert chile["ci"].der_classes == ("ev", "heatpump") and chile["ci"].months == (5, 6, 7, 8)
    assert chile["ci"].days == "working" and chile["ci"].max_events_per_year == 15
    assert chile["peak_reduction"].capacity_share == 0.3 and chile["peak_reduction"].n_months == 6
    assert chile["resilience"].capacity_share == 0.8 and chile["resilience"].max_events_per_year == 3
    assert chile["cpf_plus"].activation_time_s == 10 and chile["ci"].activation_time_s == 1800
    assert sum(chile.allocation.values()) == pytest.approx(1.0)
    assert {s.key for s in chile.for_der("ev")} == {"ci"}
    assert len(chile.to_frame()) == 5


def _raw():
    import tomllib
    from importlib import resources

    with resources.files("openvpp.data").joinpath("bundled/services_chile.toml").open("rb") as fh:
        return tomllib.load(fh)


def test_allocation_above_one_rejected():
    raw = _raw()
    raw["allocation"]["backup"] = 0.5
    with pytest.raises(ValidationError, match="allocation"):
        catalogue_from_dict(raw)


def test_negative_price_in_catalogue_rejected():
    raw = _raw()
    raw["service"][2]["remuneration"][0]["price_usd_per_mwh"] = -5.5
    with pytest.raises(ValidationError, match="price_usd_per_mwh"):
        catalogue_from_dict(raw)


def test_bad_block_and_unknown_market_and_service(chile):
    raw = _raw()
    raw["service"][0]["block_start"] = "25:00"
    with pytest.raises(ValidationError, match="block_start"):
        catalogue_from_dict(raw)
    with pytest.raises(ValidationError, match="market"):
        load_catalogue("mars")
    with pytest.raises(ValidationError, match="not in the"):
        chile["fcas_raise_6s"]


def test_a_second_market_is_data_only():
    """The NEM catalogue of seed 001 (Table 7) loads through the same model, with no code of its own."""
    from openvpp.services.catalogue import load_catalogue

    nem = load_catalogue("aemo")
    fcas = [s for s in nem.services.values() if s.key.startswith("fcas_")]
    assert len(fcas) == 6  # 6 s, 60 s and 5 min, raise and lower
    assert sorted({s.activation_time_s for s in fcas}) == [6.0, 60.0, 300.0]
    assert all(s.block_hours == 24.0 for s in nem.services.values())
    assert len(nem.for_der("battery")) == 7 and "energy" in nem
    assert all(s.source for s in nem.services.values())
