"""Arbitrage + FCAS study (seed 001 §5.4): tariff, monotone benefit, inputs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from openvpp.errors import ValidationError
from openvpp.services.prices import load_sa1_prices
from openvpp.studies.arbitrage import TOU_AUD_PER_MWH, run_arbitrage, site_year, tou_tariff


def test_tou_tariff_periods():
    idx = load_sa1_prices().index[:48]
    t = tou_tariff(idx)
    hours = np.asarray(idx.hour)
    assert np.all(t[(hours >= 1) & (hours < 6)] == TOU_AUD_PER_MWH["offpeak"])
    assert np.all(t[(hours >= 10) & (hours < 15)] == TOU_AUD_PER_MWH["shoulder"])
    assert t[list(hours).index(18)] == TOU_AUD_PER_MWH["peak"]


def test_profit_never_falls_as_the_export_limit_rises():
    prices = load_sa1_prices().between("2019-12-01", "2019-12-04")
    n_t = len(prices.index)
    h = np.asarray(prices.index.hour + prices.index.minute / 60.0)
    pv = np.clip(np.sin((h - 6) / 12 * np.pi), 0, None) * 4.5
    load = 0.5 + 1.5 * np.exp(-(((h - 19) / 2) ** 2))
    out = [site_year(load, pv, prices, lim, window_days=7) for lim in (0.0, 2.0, 5.0, 10.0)]
    profit = [o["profit"] for o in out]
    assert all(b >= a - 1e-6 for a, b in itertools.pairwise(profit))
    assert n_t == 144
    # with 4.5 kW of PV and a 5 kW battery nothing above ~9.5 kW can be exported: 10 kW adds little over 5
    assert profit[3] - profit[2] <= profit[2] - profit[1] + 1e-6


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"n_sites": 0}, "--sites"), ({"limits": [-1.0]}, "--limits"), ({"workers": 0}, "--workers")],
)
def test_bad_arguments(kwargs, field):
    with pytest.raises(ValidationError, match=field):
        run_arbitrage(**kwargs)
