"""The command line: help, and errors mapped to exit code 2."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from openvpp.cli import app


def test_help_lists_the_commands():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "demo" in result.output and "study" in result.output


def test_openvpp_error_becomes_exit_code_2():
    proc = subprocess.run(
        [sys.executable, "-m", "openvpp.cli", "demo", "--day", "not-a-date"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    assert "error" in proc.stderr.lower()
