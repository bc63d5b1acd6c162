"""Plausibility checks on telemetry: hand-worked cases and a loop reference for the vectorised grouping."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from openvpp.platform.trust import TrustLimits, check_readings, previous_reading

NOW = 1_800_000_000


def _loop_previous(der, start, last):
    """Reference: walk the batch in arrival order keeping, per DER, the last index and the max start seen."""
    prev, ooo = [], []
    last_idx: dict[int, int] = {}
    seen_max: dict[int, int] = {}
    for i, (d, t) in enumerate(zip(der, start, strict=True)):
        m = seen_max.get(d, last[i])
        prev.append(last_idx.get(d, -1))
        ooo.append(t < m)
        last_idx[d] = i
        seen_max[d] = max(m, t)
    return np.array(prev), np.array(ooo)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 20)), min_size=0, max_size=40), st.data())
def test_previous_reading_matches_a_loop(items, data):
    der = np.array([d for d, _ in items], dtype=np.int64)
    start = np.array([t * 300 for _, t in items], dtype=np.int64)
    stored = {d: data.draw(st.sampled_from([-1, 0, 3000, 6000])) for d in range(5)}
    last = np.array([stored[d] for d in der], dtype=np.int64)
    prev, ooo = previous_reading(der, start, last)
    ref_prev, ref_ooo = _loop_previous(der.tolist(), start.tolist(), last.tolist())
    assert prev.tolist() == ref_prev.tolist()
    assert ooo.tolist() == ref_ooo.tolist()


def _run(
    start,
    p_der=None,
    soc=None,
    vals=None,
    pmax=5.0,
    emax=10.0,
    stored_start=-1,
    stored_soc=np.nan,
    stored_vals=None,
    der=None,
):
    n = len(start)
    start = np.asarray(start, dtype=np.int64)
    der = np.zeros(n, dtype=np.int64) if der is None else np.asarray(der)
    last = np.full(n, stored_start, dtype=np.int64)
    prev, ooo = previous_reading(der, start, last)
    p = np.full(n, np.nan) if p_der is None else np.asarray(p_der, dtype=float)
    s = np.full(n, np.nan) if soc is None else np.asarray(soc, dtype=float)
    v = (
        np.column_stack([np.arange(n, dtype=float), np.arange(n) - 0.5, np.arange(n) + 0.5])
        if vals is None
        else np.asarray(vals, dtype=float)
    )
    sv = np.full_like(v, np.nan) if stored_vals is None else np.broadcast_to(stored_vals, v.shape)
    return check_readings(
        start,
        np.full(n, 300),
        p,
        s,
        v,
        np.full(n, pmax),
        np.full(n, emax),
        prev,
        ooo,
        last,
        np.full(n, stored_soc),
        sv,
        NOW,
        TrustLimits(),
    )


def test_future_reading_is_rejected_within_tolerance_it_is_not():
    f = _run([NOW + 301, NOW + 299])
    assert f.reject.tolist() == [True, False]
    assert f.reject_field[0] == "start"


def test_power_beyond_rating_flags_then_rejects():
    # 5 kW DER: 5.4 kW ok (< 1.1 x 5 = 5.5), 6 kW flagged, 16 kW (> 3 x 5 = 15) rejected
    f = _run([0, 300, 600], p_der=[5.4, -6.0, 16.0])
    assert f.reject.tolist() == [False, False, True]
    assert f.reject_field[2] == "p_der_kw"
    assert [(i, c) for i, c, _ in f.flags] == [(1, "power_rating")]


def test_soc_jump_uses_energy_and_power():
    # 5 kW, 10 kWh: in 5 min at most 5 * (5/60) / 10 = 0.0417 of SoC, + 0.02 tolerance = 0.0617
    f = _run([0, 300, 600], soc=[0.50, 0.56, 0.70])
    assert [(i, c) for i, c, _ in f.flags] == [(2, "soc_jump")]
    # against the stored reading 10 min before: 0.0833 + 0.02 = 0.1033 allowed
    f = _run([600], soc=[0.60], stored_start=0, stored_soc=0.50)
    assert f.flags == []
    f = _run([600], soc=[0.61], stored_start=0, stored_soc=0.50)
    assert [c for _, c, _ in f.flags] == ["soc_jump"]


def test_out_of_order_and_frozen():
    f = _run([600, 300], vals=[[1, 0, 2], [1, 0, 2]])
    assert [(i, c) for i, c, _ in f.flags] == [(1, "out_of_order")]
    # identical values with no spread inside the interval twice in a row: frozen
    f = _run([0, 300], vals=[[1.5, 1.5, 1.5], [1.5, 1.5, 1.5]])
    assert [(i, c) for i, c, _ in f.flags] == [(1, "frozen")]
    # the same average with a spread is a steady load, not a frozen meter
    f = _run([0, 300], vals=[[1.5, 1.0, 2.0], [1.5, 1.0, 2.0]])
    assert f.flags == []
    # frozen against the stored reading
    f = _run([300], vals=[[2.0, 2.0, 2.0]], stored_start=0, stored_vals=np.array([2.0, 2.0, 2.0]))
    assert [c for _, c, _ in f.flags] == ["frozen"]


def test_checks_are_per_der():
    # the second DER's first reading is compared with nothing, not with the first DER's
    f = _run([0, 0], soc=[0.1, 0.9], der=[1, 2])
    assert f.flags == []
