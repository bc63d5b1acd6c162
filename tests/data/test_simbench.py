"""SimBench LV grids and their year-long profiles, read through openvpp.data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openvpp.data import (
    LV_GRIDS,
    SIMBENCH_TZ,
    day_slice,
    load_simbench_lv,
    simbench_profiles,
    simbench_relative_profiles,
)
from openvpp.errors import DataError, ValidationError

CODE = "1-LV-rural1--2-sw"


@pytest.fixture(scope="session")
def rural1_net():
    return load_simbench_lv(CODE)


def test_simbench_net_is_a_fresh_copy_each_time(rural1_net):
    rural1_net.load.loc[:, "p_mw"] = -1.0
    again = load_simbench_lv(CODE)
    assert (again.load["p_mw"] > 0).all()
    assert len(again.load) == 28 and len(again.sgen) == 8 and len(again.storage) == 5


def test_registry_codes_are_lv_grids():
    assert CODE in LV_GRIDS
    assert all(code.startswith("1-LV-") and info.description for code, info in LV_GRIDS.items())


def test_unknown_simbench_code_raises_data_error():
    with pytest.raises(DataError, match="could not be loaded"):
        load_simbench_lv("not-a-simbench-code")


def test_profiles_have_a_tz_aware_15_min_axis_and_absolute_values():
    net = load_simbench_lv(CODE)
    prof = simbench_profiles(net)
    p = prof[("load", "p_mw")]
    idx = p.index
    assert isinstance(idx, pd.DatetimeIndex) and str(idx.tz) == SIMBENCH_TZ
    assert len(idx) == 366 * 96
    assert (np.diff(idx.asi8) == 15 * 60 * 10**9).all()
    assert idx[0] == pd.Timestamp("2016-01-01 00:00", tz="UTC+01:00")
    assert list(p.columns) == list(net.load.index)
    # independent check: absolute = rated p_mw x relative profile column "<profile>_pload"
    k = 0
    rel = net.profiles["load"][net.load.at[k, "profile"] + "_pload"].to_numpy()
    np.testing.assert_allclose(p[k].to_numpy(), net.load.at[k, "p_mw"] * rel, rtol=1e-12)
    sg = prof[("sgen", "p_mw")]
    rel_pv = net.profiles["renewables"][net.sgen.at[0, "profile"]].to_numpy()
    np.testing.assert_allclose(sg[0].to_numpy(), net.sgen.at[0, "p_mw"] * rel_pv, rtol=1e-12)


def test_relative_pv_profiles_are_per_unit():
    net = load_simbench_lv(CODE)
    rel = simbench_relative_profiles(net, "renewables")
    assert set(rel.columns) >= set(net.sgen["profile"])
    assert rel.to_numpy().min() >= 0.0 and rel.to_numpy().max() <= 1.0
    with pytest.raises(ValidationError, match="profile table"):
        simbench_relative_profiles(net, "nope")


def test_day_slice_picks_local_days():
    net = load_simbench_lv(CODE)
    idx = simbench_relative_profiles(net).index
    sl = day_slice(idx, "2016-06-15")
    assert sl.stop - sl.start == 96
    assert idx[sl.start] == pd.Timestamp("2016-06-15 00:00", tz=SIMBENCH_TZ)
    assert day_slice(idx, "2016-12-30", n_days=2).stop == len(idx)
    for bad in ("2017-01-03", "2015-12-31", "not-a-date"):
        with pytest.raises(ValidationError):
            day_slice(idx, bad)
