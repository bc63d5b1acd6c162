"""The import layers of DESIGN.md, enforced by walking every module's imports with ``ast``.

Rules checked on every module of the package:

- imports point down the layers (absolute, ``from openvpp import X``, and relative imports alike);
- the domain core (everything left of ``sim``) never imports ``platform``, ``report`` or ``cli``;
- no module imports another package's private (``_name``) module;
- public LV data packages (SimBench, pandapower's network library) are read only in :mod:`openvpp.data`.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "openvpp"

# rank of each top-level part; a module may import only parts of equal or lower rank
RANK = {
    "errors": 0, "units": 0, "timeseries": 0, "checks": 0, "config": 0, "tables": 0, "data": 0,
    "der": 1,
    "fleet": 2,
    "services": 3, "grid": 3, "flex": 3, "forecast": 3,
    "envelopes": 4, "schedule": 4, "economics": 4, "settlement": 4,
    "control": 5,
    "sim": 6,
    "studies": 7, "report": 7, "platform": 7,
    "cli": 8,
}
CORE_FORBIDDEN = {"platform", "report", "cli"}
#: third-party modules that load public data sets: only openvpp.data may import them
DATA_ONLY = ("simbench", "pandapower.networks")


def _module_name(path: Path) -> list[str]:
    """Dotted name of the module at ``path`` as a list (``openvpp/der/pv.py`` -> openvpp, der, pv)."""
    if not path.is_relative_to(PKG.parent):
        return [path.stem]
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return parts


def _part(module_path: Path) -> str:
    rel = module_path.relative_to(PKG)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 0 else ""


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every OpenVPP module ``path`` imports, as absolute dotted names with line numbers.

    ``from openvpp import der`` yields ``openvpp.der``; relative imports are resolved against ``path``.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here[:-1]
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if module == "openvpp" or (node.level and not node.module):
                found += [(f"{module}.{a.name}", node.lineno) for a in node.names]
            else:
                found.append((module, node.lineno))
    return [(m, ln) for m, ln in found if m == "openvpp" or m.startswith("openvpp.")]


def _third_party_imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
            found += [(f"{node.module}.{a.name}", node.lineno) for a in node.names]
    return found


MODULES = sorted(p for p in PKG.rglob("*.py"))


def test_every_part_has_a_rank():
    parts = {_part(p) for p in MODULES} - {"__init__", "__main__"}
    assert parts <= set(RANK), f"add these parts to RANK and DESIGN.md: {parts - set(RANK)}"


def _violations(path: Path) -> list[str]:
    part = _part(path)
    if part in ("__init__", "__main__"):
        return []
    own_package = _module_name(path)[:2]
    problems = []
    for module, line in _imports(path):
        pieces = module.split(".")
        if len(pieces) < 2:
            continue
        target = pieces[1]
        if target == "__version__":  # package metadata, not a layer
            continue
        where = f"{path.relative_to(PKG)}:{line} imports {module}"
        if target not in RANK:
            problems.append(f"{where}: unknown part {target}")
            continue
        if RANK[part] < RANK["sim"] and target in CORE_FORBIDDEN:
            problems.append(f"{where}: the domain core must not import {target}")
        if RANK[target] > RANK[part]:
            problems.append(
                f"{where}: {target} (rank {RANK[target]}) sits above {part} (rank {RANK[part]}) "
                "in DESIGN.md's layers"
            )
        private = [p for p in pieces[2:] if p.startswith("_") and not p.startswith("__")]
        if private and pieces[:2] != own_package:
            problems.append(f"{where}: a private module of another package")
    if part != "data":
        for module, line in _third_party_imports(path):
            if any(module == d or module.startswith(d + ".") for d in DATA_ONLY):
                problems.append(
                    f"{path.relative_to(PKG)}:{line} imports {module}: read public data via openvpp.data"
                )
    return problems


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PKG)))
def test_imports_point_down(path: Path):
    assert not _violations(path), "\n".join(_violations(path))



def test_the_walker_catches_an_upward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from openvpp.cli import app\nimport openvpp.report.demo\nimport numpy\n")
    assert [m for m, _ in _imports(bad)] == ["openvpp.cli", "openvpp.report.demo"]


def test_the_walker_sees_from_openvpp_import_and_relative_imports(monkeypatch, tmp_path):
    monkeypatch.setattr(sys.modules[__name__], "PKG", tmp_path / "openvpp")
    path = tmp_path / "openvpp" / "der" / "battery.py"
    path.parent.mkdir(parents=True)
    path.write_text(
        "from openvpp import cli\nfrom ..report import demo\nfrom . import pv\nfrom .._x import y\n"
    )
    assert [m for m, _ in _imports(path)] == [
        "openvpp.cli", "openvpp.report", "openvpp.der.pv", "openvpp._x"
    ]
    problems = "\n".join(_violations(path))
    assert "openvpp.cli" in problems and "openvpp.report" in problems
    assert "openvpp.der.pv" not in problems


def test_private_modules_of_another_package_are_rejected(monkeypatch, tmp_path):
    monkeypatch.setattr(sys.modules[__name__], "PKG", tmp_path / "openvpp")
    path = tmp_path / "openvpp" / "flex" / "adapters.py"
    path.parent.mkdir(parents=True)
    path.write_text("from openvpp.der._common import ramp_window_kw\nfrom openvpp.flex._own import x\n")
    problems = _violations(path)
    assert len(problems) == 1 and "openvpp.der._common" in problems[0]


def test_data_packages_are_read_only_in_openvpp_data(monkeypatch, tmp_path):
    monkeypatch.setattr(sys.modules[__name__], "PKG", tmp_path / "openvpp")
    path = tmp_path / "openvpp" / "envelopes" / "daily.py"
    path.parent.mkdir(parents=True)
    path.write_text("def f():\n    import simbench as sb\n    from pandapower import networks\n")
    problems = _violations(path)
    assert len(problems) == 2 and all("openvpp.data" in p for p in problems)
