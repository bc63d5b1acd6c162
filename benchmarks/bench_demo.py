"""Benchmark of ``openvpp demo`` (issue 14): the whole pilot day, wall and CPU time per stage.

Goal: the demo itself (the full day, in-process service on SQLite) in under 60 s on this machine. One run
(the demo is deterministic; it is too long to repeat for a median); wall time (time.perf_counter) per stage
and the process CPU time of the whole run (time.process_time), so that a loaded machine shows as a gap
between the two.

Run as ``python benchmarks/bench_demo.py [hours]`` (default 24).
"""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.table import Table

from openvpp.studies.demo import run_demo


def main(hours: float = 24.0) -> None:
    """Run the demo once and print the stage table."""
    t0, c0 = time.perf_counter(), time.process_time()
    result = run_demo(hours=hours)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    table = Table(title=f"openvpp demo, {result.grid_code} on {result.day}, {hours:g} h (one run)")
    table.add_column("stage")
    table.add_column("wall \\[s]", justify="right")
    for stage, s in result.elapsed_s.items():
        table.add_row(stage, f"{s:.2f}")
    table.add_row("[b]total (goal < 60 s)[/b]", f"[b]{wall:.1f}[/b]")
    table.add_row("process CPU time", f"{cpu:.1f}")
    Console().print(table)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 24.0)
