"""In-process transport: per-device delays, drop-outs, offline devices, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openvpp.control.signals import Measurements, Setpoints
from openvpp.errors import ValidationError
from openvpp.sim.transport import InProcessTransport, LinkModel, Transport

T = pd.Timestamp("2024-07-01T20:00:00+00:00")
S = pd.Timedelta(seconds=1)


def test_set_points_arrive_after_each_devices_delay():
    tr = InProcessTransport(
        ["a", "b", "c"], LinkModel(median_s=1.0, sigma=0.8, max_s=4.0, drop_prob=0.0), seed=3
    )
    assert isinstance(tr, Transport)
    tr.send(Setpoints(T, ["a", "b", "c"], [1.0, 2.0, 3.0], None, T + 60 * S))
    for dt in (0.0, 0.5, 1.0, 2.0, 4.0):
        got = tr.deliver(T + dt * S)
        arrived = tr.delay_s <= dt
        assert np.array_equal(np.isnan(got), ~arrived)
    assert np.allclose(tr.deliver(T + 5 * S), [1.0, 2.0, 3.0])
    # expired set-points are no longer applied
    assert np.all(np.isnan(tr.deliver(T + 61 * S)))


def test_readings_arrive_late_and_offline_devices_never():
    link = LinkModel(median_s=2.0, sigma=0.0, max_s=2.0, drop_prob=0.0, offline_share=0.5)
    tr = InProcessTransport([f"d{i}" for i in range(40)], link, seed=1)
    ids = tr.device_ids
    tr.report(Measurements(T, ids, np.arange(40.0), np.full(40, 0.5), np.ones(40, bool)))
    assert not tr.receive(T + 1 * S).online.any()
    m = tr.receive(T + 2 * S)
    assert np.array_equal(m.online, ~tr.offline)
    assert np.array_equal(m.p_kw[m.online], np.arange(40.0)[m.online])
    assert 5 < tr.offline.sum() < 35


def test_drop_rate_and_determinism():
    link = LinkModel(drop_prob=0.2)
    a = InProcessTransport([f"d{i}" for i in range(2000)], link, seed=7)
    b = InProcessTransport([f"d{i}" for i in range(2000)], link, seed=7)
    sp = Setpoints(T, a.device_ids, np.ones(2000), None, T + 60 * S)
    a.send(sp)
    b.send(sp)
    assert np.array_equal(a.delay_s, b.delay_s)
    got = a.deliver(T + 10 * S)
    assert np.array_equal(np.isnan(got), np.isnan(b.deliver(T + 10 * S)))
    assert np.isnan(got).mean() == pytest.approx(0.2, abs=0.03)
    assert a.lost == int(np.isnan(got).sum())


def test_bad_link_and_mismatched_devices():
    with pytest.raises(ValidationError, match="drop_prob"):
        LinkModel(drop_prob=1.5)
    with pytest.raises(ValidationError, match="max_s"):
        LinkModel(median_s=3.0, max_s=1.0)
    tr = InProcessTransport(["a"], seed=0)
    with pytest.raises(ValidationError, match="device_ids"):
        tr.send(Setpoints(T, ["b"], [1.0], None, T))
