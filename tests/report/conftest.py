"""Fixtures of the report tests: keep every figure a renderer writes, to read its data back."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from rich.console import Console


@pytest.fixture
def drawn(monkeypatch):
    """Dict filled with ``{file name: matplotlib Figure}`` for every figure saved during the test.

    The figures are still written (the real ``savefig`` runs); closing a figure leaves its artists readable.
    """
    figures: dict[str, Figure] = {}
    original = Figure.savefig

    def record(self, fname, *args, **kwargs):
        figures[Path(fname).name] = self
        return original(self, fname, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", record)
    return figures


@pytest.fixture
def console():
    """A wide rich console printing into a buffer (``console.file.getvalue()`` is what the user sees)."""
    return Console(file=io.StringIO(), width=200, color_system=None)


def _table_rows(text: str, first_cell: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("│┃").split("│")]
        if len(cells) > 1 and cells[0] == first_cell:
            rows.append(cells)
    return rows


@pytest.fixture
def table_rows():
    """``table_rows(text, first_cell)``: cells of the printed table rows that start with ``first_cell``."""
    return _table_rows
