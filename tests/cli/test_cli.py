"""The ``openvpp`` entry point (openvpp/cli/__init__.py, ``main``): --version, -h, usage errors, exit code."""

from __future__ import annotations

import subprocess
import sys

import pytest

from openvpp import __version__


def test_help_lists_the_commands(run_main):
    code, out, _ = run_main(["--help"])
    assert code == 0 and "demo" in out and "study" in out and "envelopes" in out


def test_version(run_main):
    code, out, _ = run_main(["--version"])
    assert code == 0 and out.strip() == f"openvpp {__version__}"


@pytest.mark.parametrize("args", [["-h"], ["envelopes", "-h"], ["envelopes", "network", "-h"], ["flex", "-h"],
                                  ["study", "-h"], ["demo", "-h"]])
def test_short_help(run_main, args):
    code, out, _ = run_main(args)
    assert code == 0 and "Usage" in out


@pytest.mark.parametrize(
    "args, field",
    [
        (["demo", "--nope"], "--nope"),
        (["flex", "--horizon-h", "abc"], "--horizon-h"),
        (["envelopes", "compute", "--transformers", "1.5"], "--transformers"),
        (["nocommand"], "nocommand"),
    ],
)
def test_usage_errors_exit_2_without_traceback(args, field, run_main):
    code, _, err = run_main(args)
    assert code == 2, err
    assert field in err and "Traceback" not in err


def test_the_installed_entry_point_prints_one_line():
    """The real process: exit code 2, one ``error:`` line on stderr, no traceback."""
    proc = subprocess.run(
        [sys.executable, "-m", "openvpp.cli", "flex", "--horizon-h", "nan"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --horizon-h"), proc.stderr
    usage = subprocess.run(
        [sys.executable, "-m", "openvpp.cli", "demo", "--no-such-option"],
        capture_output=True, text=True, timeout=120,
    )
    assert usage.returncode == 2 and "Traceback" not in usage.stderr and "--no-such-option" in usage.stderr
    version = subprocess.run(
        [sys.executable, "-m", "openvpp.cli", "--version"], capture_output=True, text=True, timeout=120
    )
    assert version.returncode == 0 and version.stdout.strip() == f"openvpp {__version__}"
