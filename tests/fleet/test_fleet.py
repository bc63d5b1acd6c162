"""Fleets from records: validation before anything is built, mappings and aggregation."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvpp.der.battery import BatteryParams
from openvpp.errors import ValidationError
from openvpp.fleet import Fleet, Profiles, Sites, from_records
from openvpp.timeseries import make_index

SITES = [
    {"site_id": "s1", "node": "n1", "phase": "a", "constraint_node": "t1", "ccp": "c1"},
    {"site_id": "s2", "node": "n1", "phase": "b", "constraint_node": "t1", "ccp": "c1"},
    {"site_id": "s3", "node": "n2", "phase": "abc", "constraint_node": "t2", "ccp": "c1"},
]
BATTERIES = [
    {"device_id": "b1", "site_id": "s1", "e_max_kwh": 13.5, "soc0": 0.5},
    {"device_id": "b3", "site_id": "s3", "e_max_kwh": 10.0},
]


def test_good_records_build_a_fleet():
    fleet = from_records(SITES, {"battery": BATTERIES})
    assert fleet.n_sites == 3 and fleet.count() == {"battery": 2} and fleet.count("pv") == 0
    np.testing.assert_array_equal(fleet.site_positions("battery"), [0, 2])
    assert list(fleet.site_mask("battery")) == [True, False, True]
    assert isinstance(fleet.der("battery"), BatteryParams)
    with pytest.raises(ValidationError, match="no 'ev' devices"):
        fleet.der("ev")


@pytest.mark.parametrize(
    ("table", "row", "column", "value", "match"),
    [
        ("battery", 1, "e_max_kwh", -13.5, r"battery\.e_max_kwh must be > 0.*'b3'"),
        ("battery", 0, "soc0", 1.2, r"battery\.soc0 must be <= 1.*'b1'"),
        ("battery", 0, "soc_min", -0.1, r"battery\.soc_min must be >= 0"),
        ("battery", 1, "p_charge_max_kw", float("nan"), r"battery\.p_charge_max_kw is nan .*'b3'"),
        ("battery", 1, "site_id", "s9", r"battery\.site_id 's9' is not a site"),
        ("sites", 2, "phase", "d", r"sites\.phase is 'd' for site 's3'"),
        ("sites", 1, "node", float("nan"), r"sites\.node is missing .*'s2'"),
        ("sites", 2, "site_id", "s1", r"sites\.site_id must be unique"),
    ],
)
def test_malformed_record_names_the_field_and_builds_nothing(table, row, column, value, match):
    sites, bats = copy.deepcopy(SITES), copy.deepcopy(BATTERIES)
    (sites if table == "sites" else bats)[row][column] = value
    before = copy.deepcopy((sites, bats))
    fleet = None
    with pytest.raises(ValidationError, match=match):
        fleet = from_records(sites, {"battery": bats})
    assert fleet is None
    assert repr((sites, bats)) == repr(before)  # the inputs are left untouched


def test_unknown_der_class_and_bad_profiles_are_rejected():
    with pytest.raises(ValidationError, match="unknown DER class"):
        from_records(SITES, {"fusion_reactor": [{"device_id": "x", "site_id": "s1"}]})
    idx = make_index("2016-06-15", 4, 15, tz="UTC")
    with pytest.raises(ValidationError, match="has 2 rows but its owner 'site' has 3"):
        from_records(SITES, profiles=Profiles(idx, {"base_load_kw": np.ones((2, 4))}))
    with pytest.raises(ValidationError, match=r"n_steps must be 4"):
        Profiles(idx, {"base_load_kw": np.ones((3, 5))})
    with pytest.raises(ValidationError, match="naive"):
        Profiles(pd.date_range("2016-01-01", periods=4, freq="15min"), {"base_load_kw": np.ones((3, 4))})


def _random_fleet(rng, n_sites=200):
    nodes = rng.integers(0, 17, n_sites)
    sites = Sites(
        site_id=[f"s{i}" for i in range(n_sites)],
        node=[f"n{k:02d}" for k in nodes],
        constraint_node=[f"t{k // 5}" for k in nodes],
        ccp=[f"c{k // 10}" for k in nodes],
        phase=rng.choice(["a", "b", "c", "abc"], n_sites),
    )
    owners = rng.integers(0, n_sites, 300)
    bats = BatteryParams(device_id=[f"b{i}" for i in range(300)], site_id=[f"s{k}" for k in owners])
    return Fleet(sites, {"battery": bats}), owners


@pytest.mark.parametrize("by", ["node", "constraint_node", "ccp", "phase", "vpp", "site"])
def test_aggregation_matches_pandas_groupby(rng, by):
    fleet, _ = _random_fleet(rng)
    p = rng.normal(0.0, 3.0, (fleet.n_sites, 24))
    frame = fleet.sites.to_frame().reset_index()
    key = "site_id" if by == "site" else by
    if by == "vpp":
        expected = p.sum(axis=0)[None, :]
    elif by == "site":  # identity, in site order
        expected = p
    else:
        expected = pd.DataFrame(p).groupby(frame[key].to_numpy()).sum().sort_index().to_numpy()
    np.testing.assert_allclose(fleet.aggregate(p, by), expected, atol=1e-9)
    np.testing.assert_allclose(fleet.aggregate(p[:, 3], by), expected[:, 3], atol=1e-9)
    labels = fleet.labels(by)
    if by not in ("vpp", "site"):
        assert list(labels) == sorted(frame[key].unique())
    agg = fleet.aggregate_frame(p[:, 0], by)
    assert list(agg.index) == list(labels)


def test_devices_to_sites_matches_groupby(rng):
    fleet, owners = _random_fleet(rng)
    p = rng.normal(0.0, 2.0, (300, 8))
    expected = np.zeros((fleet.n_sites, 8))
    for k, o in enumerate(owners):  # independent: a plain loop
        expected[o] += p[k]
    np.testing.assert_allclose(fleet.devices_to_sites("battery", p), expected, atol=1e-12)
    with pytest.raises(ValidationError, match="must have shape"):
        fleet.devices_to_sites("battery", p[:10])
    with pytest.raises(ValidationError, match="by must be one of"):
        fleet.aggregate(np.zeros(fleet.n_sites), "street")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.floats(-50, 50)), min_size=1, max_size=60))
def test_aggregation_conserves_the_total(pairs):
    nodes = [f"n{k}" for k, _ in pairs]
    p = np.array([v for _, v in pairs])
    fleet = Fleet(Sites(site_id=[f"s{i}" for i in range(len(pairs))], node=nodes))
    agg = fleet.aggregate(p, "node")
    assert agg.shape == (len(set(nodes)),)
    assert agg.sum() == pytest.approx(p.sum(), abs=1e-9)
    assert fleet.aggregate(p, "vpp")[0] == pytest.approx(p.sum(), abs=1e-9)
