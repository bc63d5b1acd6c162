"""``tests/`` mirrors ``openvpp/`` one to one: ``openvpp/a/b.py`` is tested in ``tests/a/test_b.py``.

Tests that are about the whole package rather than one module (layering, docstrings, docs, this layout) sit
at the top of ``tests/`` and are listed in :data:`PACKAGE_WIDE`.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "openvpp"
TESTS = ROOT / "tests"
PACKAGE_WIDE = {"test_layering.py", "test_docstrings.py", "test_docs.py", "test_layout.py"}


def _expected_test(module: Path) -> Path:
    rel = module.relative_to(PKG)
    return TESTS.joinpath(*rel.parts[:-1], f"test_{rel.stem.lstrip('_')}.py")


def _modules() -> list[Path]:
    return sorted(
        p for p in PKG.rglob("*.py")
        if not p.name.startswith("__") and "migrations" not in p.parts
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
        if not m.name.startswith("_") and not _expected_test(m).exists()
    )
    assert not missing, f"modules without their test file: {missing}"
