"""The import layers of DESIGN.md, enforced by walking every module's imports with ``ast``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "openvpp"

# rank of each top-level part; a module may import only parts of equal or lower rank
RANK = {
    "errors": 0, "units": 0, "timeseries": 0, "checks": 0, "config": 0, "tables": 0, "data": 0,
    "der": 1,
    "fleet": 2,
    "services": 3, "grid": 3, "flex": 3,
    "envelopes": 4, "schedule": 4, "economics": 4, "settlement": 4,
    "control": 5,
    "sim": 6,
    "studies": 7, "report": 7, "platform": 7,
    "cli": 8,
}
CORE_FORBIDDEN = {"platform", "report", "cli"}


def _part(module_path: Path) -> str:
    rel = module_path.relative_to(PKG)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 0 else ""


def _imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
    return [(m, ln) for m, ln in found if m == "openvpp" or m.startswith("openvpp.")]


MODULES = sorted(p for p in PKG.rglob("*.py"))


def test_every_part_has_a_rank():
    parts = {_part(p) for p in MODULES} - {"__init__", "__main__"}
    assert parts <= set(RANK), f"add these parts to RANK and DESIGN.md: {parts - set(RANK)}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PKG)))
def test_imports_point_down(path: Path):
    part = _part(path)
    if part in ("__init__", "__main__"):
        return
    for module, line in _imports(path):
        pieces = module.split(".")
        if len(pieces) < 2:
            continue
        target = pieces[1]
        assert target in RANK, f"{path.name}:{line} imports unknown part {module}"
        if RANK[part] < RANK["sim"]:
            assert target not in CORE_FORBIDDEN, f"domain core {path}:{line} imports {module}"
        assert RANK[target] <= RANK[part], (
            f"{path.relative_to(PKG)}:{line} imports {module}: {target} (rank {RANK[target]}) sits above "
            f"{part} (rank {RANK[part]}) in DESIGN.md's layers"
        )


def test_the_walker_catches_an_upward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from openvpp.cli import app\nimport openvpp.report.demo\nimport numpy\n")
    assert [m for m, _ in _imports(bad)] == ["openvpp.cli", "openvpp.report.demo"]
