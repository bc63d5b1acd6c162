"""The program definition: bundled default with sources, validation naming the field."""

from __future__ import annotations

import pytest

from openvpp.data.bundled import bundled_table
from openvpp.errors import ValidationError
from openvpp.settlement.program import load_program, program_from_toml

GOOD = """
name = "test"
[device_classes.battery]
enrolled_kw = 5.0
capacity_credit_usd_per_kw_month = 1.0
energy_credit_usd_per_kwh = 0.9
[services.ci]
direction = "up"
baseline = "x_of_y"
credited_share = 1.0
"""


def test_bundled_default_carries_the_seed_values_and_sources():
    prog = load_program()
    assert prog.terms("battery").energy_credit_usd_per_kwh == 0.90
    assert prog.terms("ev").energy_credit_usd_per_kwh == 0.50
    # 27,989 USD/MW-yr as a monthly capacity credit
    assert prog.terms("battery").capacity_credit_usd_per_kw_month * 12 * 1000 == pytest.approx(27_989, abs=1)
    raw = bundled_table("settlement_program_chile")
    assert all(t["source"] for t in raw["device_classes"].values())
    assert all(t["source"] for t in raw["services"].values())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace("0.9", "-0.9"), "energy_credit_usd_per_kwh"),
        (GOOD.replace('"up"', '"sideways"'), "direction"),
        ("export_rate_usd_per_kwh = -0.1\n" + GOOD, "allow_negative_prices"),
        ("name = 'x'\nfoo = 1\n" + GOOD.replace('name = "test"', ""), "foo"),
        ("not toml [", "not valid TOML"),
        (GOOD + "[baseline]\nholidays = ['2026-13-01']\n", "holidays"),
        (GOOD + "[baseline]\nx = 12\n", "x must be <= y"),
    ],
)
def test_bad_programs_name_the_field(text, message):
    with pytest.raises(ValidationError, match=message):
        program_from_toml(text)


def test_negative_export_rate_allowed_when_the_program_says_so():
    prog = program_from_toml("allow_negative_prices = true\nexport_rate_usd_per_kwh = -0.1\n" + GOOD)
    assert prog.export_rate_usd_per_kwh == -0.1
