"""Timing helpers shared by the benchmark scripts (wall time with time.perf_counter)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def repeat_times(fn: Callable[[], object], repeats: int) -> list[float]:
    """Wall time of each of ``repeats`` calls of ``fn``. [s]"""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def median_s(fn: Callable[[], object], repeats: int = 5) -> float:
    """Median wall time of ``repeats`` calls of ``fn``. [s]"""
    return statistics.median(repeat_times(fn, repeats))
