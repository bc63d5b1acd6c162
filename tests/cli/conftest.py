"""Fixtures of the command-line tests: run the ``openvpp`` entry point, refuse SimBench loads, bad folders."""

from __future__ import annotations

import sys

import pytest

import openvpp.data.simbench as simbench_data
from openvpp.cli import main


@pytest.fixture
def run_main(monkeypatch, capsys):
    """Run the ``openvpp`` entry point with a list of arguments; return (exit code, stdout, stderr)."""

    def run(args: list[str]) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["openvpp", *args])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = int(exc.code or 0)
        cap = capsys.readouterr()
        return code, cap.out, cap.err

    return run


@pytest.fixture(autouse=True)
def _in_tmp_dir(tmp_path, monkeypatch):
    """Run each command in a fresh folder so that no default ``openvpp-out`` lands in the repository."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def no_simbench(monkeypatch):
    """Make any SimBench load fail loudly (the inputs must be checked first)."""

    def refuse(code):
        raise AssertionError(f"SimBench grid {code!r} was loaded before the inputs were checked")

    monkeypatch.setattr(simbench_data, "_read_simbench_net", refuse)


@pytest.fixture
def unwritable(tmp_path):
    """A folder that cannot be created: its parent is a file."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    return str(blocker / "out")


def assert_one_line_error(code: int, err: str, field: str) -> None:
    """Exit code 2, one ``error:`` line naming ``field``, no traceback."""
    assert code == 2, err
    assert err.startswith("error:"), err
    assert err.strip().count("\n") == 0, f"message must be one line: {err!r}"
    assert field in err, err
    assert "Traceback" not in err


@pytest.fixture
def rejected(run_main):
    """Run ``args`` and check the one-line rejection naming ``field``; return stderr."""

    def check(args: list[str], field: str) -> str:
        code, _, err = run_main(args)
        assert_one_line_error(code, err, field)
        return err

    return check
