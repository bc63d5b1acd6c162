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
#: modules tested so far only through the tests of the modules that use them (named in each comment). The
#: list may only shrink: a module that gets its own test file must leave it (a test below checks that).
TESTED_THROUGH_USERS = {
    "control/events.py",  # tests/control/test_controller.py (events executed, rebound, return to plan)
    "data/scenarios.py",  # tests/sim/test_scenarios.py (bundled scenarios read and validated)
    "platform/api/common.py",  # tests/platform/api/*
    "platform/api/deps.py",  # tests/platform/api/*
    "platform/api/ders.py",  # tests/platform/api/test_auth.py, test_app.py (registration, isolation)
    "platform/api/errors.py",  # tests/platform/api/test_app.py (field-naming 4xx bodies)
    "platform/api/schemas.py",  # tests/platform/api/* and the schemathesis run in test_app.py
    "platform/api/v1.py",  # tests/platform/api/*
    "platform/store/base.py",  # tests/platform/store/test_db.py (migrations match the models)
    "platform/store/models.py",  # tests/platform/store/*
    "report/control.py",  # tests/studies/test_pilot.py, tests/cli/test_control.py (figures written)
    "report/schedule.py",  # tests/cli/test_schedule.py (figure written)
    "schedule/devices.py",  # tests/schedule/test_site.py (device blocks of the per-site LP)
    "schedule/horizon.py",  # tests/schedule/test_site.py, tests/studies/test_arbitrage.py
    "schedule/inputs.py",  # tests/schedule/test_stacking.py, tests/cli/test_schedule.py
    "schedule/services.py",  # tests/schedule/test_site.py (reserves and their prices)
    "sim/devices.py",  # tests/sim/test_cosim.py (simulated devices follow set-points)
    "studies/demo_kpis.py",  # tests/studies/test_demo.py, test_pilot_day.py (the KPI table)
}


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
        path for path in (
            str(_expected_test(m).relative_to(ROOT)) for m in _modules()
            if (not m.name.startswith("_") or m.name == "__init__.py") and not _expected_test(m).exists()
            and str(m.relative_to(PKG)) not in TESTED_THROUGH_USERS
        )
    )
    assert not missing, f"modules without their test file: {missing}"


def test_the_list_of_modules_tested_through_users_only_shrinks():
    modules = {str(m.relative_to(PKG)): m for m in _modules()}
    stale = sorted(k for k in TESTED_THROUGH_USERS if k not in modules or _expected_test(modules[k]).exists())
    assert not stale, f"remove from TESTED_THROUGH_USERS (gone, or now tested on their own): {stale}"

