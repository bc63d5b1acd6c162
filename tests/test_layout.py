"""``tests/`` mirrors ``openvpp/`` one to one: ``openvpp/a/b.py`` is tested in ``tests/a/test_b.py``, and the
code of a package's ``__init__.py`` (``openvpp/cli/__init__.py``) in ``tests/cli/test_cli.py``.

Tests that are about the whole package rather than one module (layering, docstrings, docs, this layout) sit
at the top of ``tests/`` and are listed in :data:`PACKAGE_WIDE`.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "openvpp"
TESTS = ROOT / "tests"
PACKAGE_WIDE = {"test_layering.py", "test_docstrings.py", "test_docs.py", "test_layout.py"}


def _expected_test(module: Path) -> Path:
    """``openvpp/a/b.py`` -> ``tests/a/test_b.py``; ``openvpp/a/__init__.py`` -> ``tests/a/test_a.py``."""
    rel = module.relative_to(PKG)
    stem = rel.parts[-2] if rel.name == "__init__.py" and len(rel.parts) > 1 else rel.stem.lstrip("_")
    return TESTS.joinpath(*rel.parts[:-1], f"test_{stem}.py")


def _holds_code(init: Path) -> bool:
    """True if an ``__init__.py`` defines a function or class (one that only re-exports is exempt)."""
    tree = ast.parse(init.read_text(encoding="utf-8"))
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for n in tree.body)


def _modules() -> list[Path]:
    return sorted(
        p for p in PKG.rglob("*.py")
        if "migrations" not in p.parts
        and (not p.name.startswith("__") or (p.name == "__init__.py" and p.parent != PKG and _holds_code(p)))
    )


def test_every_test_file_mirrors_a_module():
    expected = {_expected_test(m) for m in _modules()}
    strays = sorted(
        str(t.relative_to(ROOT)) for t in TESTS.rglob("test_*.py")
        if t not in expected and not (t.parent == TESTS and t.name in PACKAGE_WIDE)
    )
    assert not strays, f"test files that mirror no module of openvpp/ (rename or merge them): {strays}"


def test_every_public_module_has_its_test_file():
    missing = sorted(
        str(_expected_test(m).relative_to(ROOT)) for m in _modules()
        if (not m.name.startswith("_") or m.name == "__init__.py") and not _expected_test(m).exists()
    )
    assert not missing, f"modules without their test file: {missing}"
