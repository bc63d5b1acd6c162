"""Set-point disaggregation: limits never exceeded, request met when the headroom allows, order-free."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from openvpp.control.disaggregate import disaggregate, soc_power_window
from openvpp.errors import ValidationError

TOL = 1e-7


@st.composite
def fleets(draw):
    n = draw(st.integers(1, 25))
    f = st.floats(0.0, 10.0)
    a = draw(arrays(float, n, elements=f))
    b = draw(arrays(float, n, elements=f))
    lo, hi = -a, b
    ref = lo + draw(arrays(float, n, elements=st.floats(0.0, 1.0))) * (hi - lo)
    soc = draw(arrays(float, n, elements=st.floats(0.0, 1.0)))
    r_up = draw(arrays(float, n, elements=st.floats(0.0, 3.0)))
    r_dn = draw(arrays(float, n, elements=st.floats(0.0, 3.0)))
    n_sites = draw(st.integers(1, max(1, n)))
    site = draw(arrays(np.int64, n, elements=st.integers(0, n_sites - 1)))
    site_ref = np.bincount(site, weights=ref, minlength=n_sites) + draw(
        arrays(float, n_sites, elements=st.floats(-5.0, 5.0))
    )
    # envelopes that the reference respects
    exp_lim = np.maximum(-site_ref, 0.0) + draw(arrays(float, n_sites, elements=st.floats(0.0, 20.0)))
    imp_lim = np.maximum(site_ref, 0.0) + draw(arrays(float, n_sites, elements=st.floats(0.0, 20.0)))
    cost = draw(arrays(float, n, elements=st.sampled_from([1.0, 2.0, 3.0])))
    delta = draw(st.floats(-80.0, 80.0))
    strategy = draw(st.sampled_from(["headroom", "soc", "merit"]))
    return dict(
        delta=delta,
        ref=ref,
        lo=lo,
        hi=hi,
        soc=soc,
        r_up=r_up,
        r_dn=r_dn,
        site=site,
        site_ref=site_ref,
        exp_lim=exp_lim,
        imp_lim=imp_lim,
        cost=cost,
        strategy=strategy,
    )


def _run(c, perm=None):
    idx = np.arange(c["ref"].size) if perm is None else perm
    return disaggregate(
        c["delta"],
        c["ref"][idx],
        c["lo"][idx],
        c["hi"][idx],
        strategy=c["strategy"],
        soc=c["soc"][idx],
        soc_min=0.1,
        soc_max=0.9,
        e_max_kwh=13.5,
        hold_h=0.5,
        reserved_up_kw=c["r_up"][idx],
        reserved_down_kw=c["r_dn"][idx],
        site_of_device=c["site"][idx],
        site_p_kw=c["site_ref"],
        site_export_limit_kw=c["exp_lim"],
        site_import_limit_kw=c["imp_lim"],
        cost_usd_per_kwh=c["cost"][idx],
    )


def _headroom_by_hand(c):
    """Summed headroom in the requested direction from the same windows written out device by device."""
    total = 0.0
    up = c["delta"] > 0
    per_site: dict[int, float] = {}
    for i in range(c["ref"].size):
        s_hi = max(0.9 - c["soc"][i], 0) * 13.5 / 0.5
        s_lo = -max(c["soc"][i] - 0.1, 0) * 13.5 / 0.5
        if up:
            h = min(c["hi"][i] - c["ref"][i], s_hi - c["ref"][i], c["hi"][i] - c["r_dn"][i] - c["ref"][i])
        else:
            h = min(c["ref"][i] - c["lo"][i], c["ref"][i] - s_lo, c["ref"][i] - c["lo"][i] - c["r_up"][i])
        per_site[int(c["site"][i])] = per_site.get(int(c["site"][i]), 0.0) + max(h, 0.0)
    for s, h in per_site.items():
        room = c["imp_lim"][s] - c["site_ref"][s] if up else c["site_ref"][s] + c["exp_lim"][s]
        total += min(h, max(room, 0.0))
    return total


@settings(max_examples=80, deadline=None)
@given(fleets())
def test_limits_hold_and_the_request_is_met_when_headroom_allows(c):
    d = _run(c)
    p = d.p_kw
    move = p - c["ref"]
    assert np.all(p >= c["lo"] - TOL) and np.all(p <= c["hi"] + TOL)
    # reserved capacity for other services is never eaten into
    assert np.all((move >= -TOL) | (p >= c["lo"] + c["r_up"] - TOL))
    assert np.all((move <= TOL) | (p <= c["hi"] - c["r_dn"] + TOL))
    # SoC window for the hold time
    s_lo, s_hi = soc_power_window(c["soc"], 0.1, 0.9, 13.5, 0.5)
    assert np.all((move >= -TOL) | (p >= s_lo - TOL)) and np.all((move <= TOL) | (p <= s_hi + TOL))
    # site envelopes
    site_p = c["site_ref"] + np.bincount(c["site"], weights=move, minlength=c["site_ref"].size)
    assert np.all(site_p <= c["imp_lim"] + 1e-6) and np.all(site_p >= -c["exp_lim"] - 1e-6)
    # the request is met exactly when the summed headroom allows, else the shortfall is the gap
    avail = _headroom_by_hand(c)
    if abs(c["delta"]) <= avail - 1e-6:
        assert d.achieved_kw == pytest.approx(c["ref"].sum() + c["delta"], abs=1e-6)
        assert d.shortfall_kw == 0.0 and d.reason == ""
    else:
        assert abs(d.achieved_kw - c["ref"].sum()) == pytest.approx(min(abs(c["delta"]), avail), abs=1e-6)
        if abs(c["delta"]) > avail + 1e-6:
            assert d.reason in ("device", "soc", "reserved", "envelope")


@settings(max_examples=40, deadline=None)
@given(fleets(), st.randoms(use_true_random=False))
def test_device_order_does_not_matter(c, rnd):
    perm = np.arange(c["ref"].size)
    rnd.shuffle(perm)
    a = _run(c)
    b = _run(c, perm)
    assert np.allclose(a.p_kw[perm], b.p_kw, atol=1e-7)


def test_strategies_by_hand():
    ref = np.zeros(3)
    lo, hi = np.full(3, -4.0), np.array([2.0, 4.0, 6.0])
    # proportional to headroom: 6 kW of 12 kW -> half of each range
    assert np.allclose(disaggregate(6.0, ref, lo, hi).p_kw, [1.0, 2.0, 3.0])
    # merit order: cheapest first, equal costs share pro rata
    d = disaggregate(7.0, ref, lo, hi, strategy="merit", cost_usd_per_kwh=[3.0, 1.0, 1.0])
    assert np.allclose(d.p_kw, [0.0, 2.8, 4.2])
    # SoC balancing when discharging: weights proportional to SoC, water-filled at the 4 kW limit
    d = disaggregate(
        -6.0,
        ref,
        lo,
        hi,
        strategy="soc",
        soc=[0.9, 0.3, 0.0],
        soc_min=0.0,
        soc_max=1.0,
        e_max_kwh=100.0,
        hold_h=1.0,
    )
    assert np.allclose(d.p_kw, [-4.0, -2.0, 0.0], atol=1e-4)
    d = disaggregate(
        -6.0,
        ref,
        lo,
        hi,
        strategy="soc",
        soc=[0.6, 0.3, 0.0],
        soc_min=0.0,
        soc_max=1.0,
        e_max_kwh=100.0,
        hold_h=1.0,
    )
    assert np.allclose(d.p_kw, [-4.0, -2.0, 0.0], atol=1e-4)
    d = disaggregate(
        -3.0,
        ref,
        lo,
        hi,
        strategy="soc",
        soc=[0.6, 0.3, 0.0],
        soc_min=0.0,
        soc_max=1.0,
        e_max_kwh=100.0,
        hold_h=1.0,
    )
    assert np.allclose(d.p_kw, [-2.0, -1.0, 0.0], atol=1e-4)


def test_shortfall_reason_names_the_binding_window():
    ref = np.zeros(2)
    d = disaggregate(-10.0, ref, [-3.0, -3.0], [3.0, 3.0])
    assert d.shortfall_kw == pytest.approx(-4.0) and d.reason == "device"
    d = disaggregate(-5.0, ref, [-3.0, -3.0], [3.0, 3.0], reserved_up_kw=[1.0, 1.0])
    assert d.reason == "reserved" and d.achieved_kw == pytest.approx(-4.0)
    d = disaggregate(
        -5.0,
        ref,
        [-3.0, -3.0],
        [3.0, 3.0],
        site_of_device=[0, 0],
        site_p_kw=[0.0],
        site_export_limit_kw=[2.0],
    )
    assert d.reason == "envelope" and d.achieved_kw == pytest.approx(-2.0)
    d = disaggregate(
        -5.0,
        ref,
        [-3.0, -3.0],
        [3.0, 3.0],
        soc=[0.2, 0.2],
        soc_min=0.1,
        soc_max=1.0,
        e_max_kwh=10.0,
        hold_h=1.0,
    )
    assert d.reason == "soc" and d.achieved_kw == pytest.approx(-2.0)


def test_reactive_split_within_the_pq_circle():
    d = disaggregate(0.0, [3.0, 0.0], [-5.0, -5.0], [5.0, 5.0], q_kvar=6.0, s_max_kva=[5.0, 5.0])
    assert np.allclose(d.q_kvar, [6.0 * 4 / 9, 6.0 * 5 / 9])


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"p_min_kw": [1.0, 1.0], "p_max_kw": [0.0, 0.0]}, "p_min_kw > p_max_kw"),
        ({"strategy": "random"}, "strategy"),
        ({"reserved_up_kw": [-1.0, 0.0]}, "reserved"),
        ({"p_min_kw": [np.nan, 0.0]}, "NaN"),
    ],
)
def test_bad_input(kw, match):
    args = {"p_min_kw": [-1.0, -1.0], "p_max_kw": [1.0, 1.0]} | kw
    with pytest.raises(ValidationError, match=match):
        disaggregate(1.0, [0.0, 0.0], **args)
