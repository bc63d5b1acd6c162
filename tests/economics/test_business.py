"""Business model against seed 000 Tables 3, 4 and 5 (reference values typed here, from the seed)."""

from __future__ import annotations

import pytest

from openvpp.economics import business
from openvpp.errors import ValidationError

# seed 000 Table 3 (Lampa, USD/MW/yr)
TABLE3_LAMPA = {
    "cpf_minus_activation": 1169.9,
    "cpf_plus_availability": 47179.2,
    "cpf_plus_activation": 1576.5,
    "ci_availability": 1804.0,
    "ci_activation": 16500.0,
    "peak_reduction": 41099.3,
    "resilience": 6054.8,
}
# seed 000 Table 4 (Lampa): MW -> row -> (revenue, cost, profit)
TABLE4_LAMPA = {
    1: {"batteries": (97079.6, 80989.0, 16090.6), "ev_hp": (12886.0, 10560.0, 2326.0)},
    3: {"batteries": (291238.9, 142966.9, 148271.9), "ev_hp": (38786.2, 31785.0, 7001.2)},
    5: {"batteries": (485398.1, 204944.9, 280453.2), "ev_hp": (64558.2, 52905.0, 11653.2)},
}
# seed 000 Table 5 (Osorno, batteries only)
TABLE5_OSORNO = {
    1: (93158.6, 80989.0, 12169.6),
    3: (279475.7, 142966.9, 136508.8),
    5: (465792.9, 204944.9, 260848.0),
}


@pytest.fixture(scope="module")
def lampa():
    return business.load_inputs("lampa")


@pytest.mark.parametrize("line", sorted(TABLE3_LAMPA))
def test_table3_line_within_half_percent(lampa, line):
    got = business.revenue_lines_per_mw(lampa)[line]
    assert got == pytest.approx(TABLE3_LAMPA[line], rel=0.005)


def test_table3_intermediate_quantities(lampa):
    d = business.table3_details(lampa)
    assert d["direct_cost_usd_per_mw_day"] == pytest.approx(2.74, abs=0.005)
    assert d["availability_days"] == 358
    assert d["peak_contracted_kw_per_mw"] == pytest.approx(810.0)
    assert d["ci_availability_hours"] == pytest.approx(328.0)
    assert d["ci_activation_hours"] == pytest.approx(30.0)


def test_cpf_plus_availability_residual_is_the_documented_one(lampa):
    # hand check (SEEDS.md): (1.35 x mean(92.4, 98.1, 97.0, 94.8) + 2.74) x 358 = 47,172
    by_hand = (1.35 * (92.4 + 98.1 + 97.0 + 94.8) / 4 + 1000 / 365) * 358
    got = business.revenue_lines_per_mw(lampa)["cpf_plus_availability"]
    assert got == pytest.approx(by_hand, rel=1e-12)
    assert got - 47179.2 == pytest.approx(-6.98, abs=0.05)


@pytest.mark.parametrize("mw", [1, 3, 5])
@pytest.mark.parametrize("row", ["batteries", "ev_hp"])
def test_table4_lampa_within_one_percent(lampa, mw, row):
    t = business.business_case_mw(lampa, mw).table()
    rev, cost, profit = TABLE4_LAMPA[mw][row]
    assert t.loc[row, "revenue_usd"] == pytest.approx(rev, rel=0.01)
    assert t.loc[row, "cost_usd"] == pytest.approx(cost, rel=0.01)
    assert t.loc[row, "profit_usd"] == pytest.approx(profit, rel=0.01)


@pytest.mark.parametrize("mw", [1, 3, 5])
def test_table5_osorno_within_one_percent(mw):
    t = business.business_case_mw("osorno", mw).table()
    rev, cost, profit = TABLE5_OSORNO[mw]
    assert "ev_hp" not in t.index
    assert t.loc["batteries", "revenue_usd"] == pytest.approx(rev, rel=0.01)
    assert t.loc["batteries", "cost_usd"] == pytest.approx(cost, rel=0.01)
    assert t.loc["batteries", "profit_usd"] == pytest.approx(profit, rel=0.01)


def test_ev_hp_power_from_whole_devices(lampa):
    # Table 4 "0.7 MW" is 46 HPs x 4.5 kW + 71 EVs x 7 kW = 704 kW for 400 customers
    c = business.ev_hp_counts(200, lampa.fleet)
    assert (int(c["n_hp"]), int(c["n_ev"]), float(c["p_kw"])) == (46, 71, 704.0)


def test_incentive_cost_is_linear_near_27989_per_mw(lampa):
    c1, c3 = business.business_case_mw(lampa, 1), business.business_case_mw(lampa, 3)
    slope = (c3.cost_usd["energy_credit"] - c1.cost_usd["energy_credit"]) / 2
    assert slope == pytest.approx(27989, rel=0.005)


def test_profitability_threshold_at_or_below_one_mw(lampa):
    th = business.profitability_threshold(lampa)
    assert th.profit_usd >= 0
    smaller = business.business_case(lampa, th.n_batteries - 1)
    assert smaller.profit_usd < 0
    assert th.p_batteries_mw <= 1.0  # the roadmap finds 1 MW viable


def test_profit_rises_with_size(lampa):
    profits = [business.business_case_mw(lampa, m).profit_usd for m in (0.5, 1, 2, 4)]
    assert profits == sorted(profits)


def test_tornado_swings_and_directions(lampa):
    t = business.tornado(lampa, 1.0, 0.2)
    row = t.set_index("parameter")
    assert row.loc["peak power price", "profit_high_usd"] > row.loc["peak power price", "profit_low_usd"]
    impl = row.loc["implementation cost"]
    assert impl["profit_high_usd"] < impl["profit_low_usd"]
    # implementation cost enters profit one-for-one: +-20 % of 50,000
    assert row.loc["implementation cost", "swing_usd"] == pytest.approx(20000.0)
    assert (t["swing_usd"].diff().dropna() <= 0).all()


def test_summary_for_fleet_uses_given_devices():
    s = business.summary_for_fleet(20, n_ev=3, n_hp=2)
    assert s.p_batteries_mw == pytest.approx(0.1)
    assert s.p_ev_hp_mw == pytest.approx((3 * 7.0 + 2 * 4.5) / 1000)
    assert "lampa" in s.summary_text()


def test_unknown_site_and_bad_inputs():
    with pytest.raises(ValidationError, match="site"):
        business.load_inputs("valparaiso")
    with pytest.raises(ValidationError, match="n_batteries"):
        business.business_case("lampa", -3)
    with pytest.raises(ValidationError, match="peak_price_usd_per_kw_month"):
        business.SiteParams.build(key="x", name="x", density="low", cpf_plus_price_usd_per_mwh=(90.0,),
                                  peak_price_usd_per_kw_month=-8.46)
    with pytest.raises(ValidationError, match="cpf_plus_price_usd_per_mwh"):
        business.SiteParams.build(key="x", name="x", density="low", cpf_plus_price_usd_per_mwh=(-90.0,),
                                  peak_price_usd_per_kw_month=8.46)
