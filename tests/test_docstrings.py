"""Every public function, method and class of OpenVPP has a numpy-style docstring with units.

The rule (STYLE.md, "A physics function"): a public callable that takes parameters documents each of them in a
``Parameters`` section, and every numeric parameter (int, float, arrays, numeric series) states its unit in
square brackets (``[kW]``, ``[h]``, ``[-]`` for dimensionless). Read with ``ast``: nothing is imported.

Not checked: the CLI (its documentation is each option's ``help`` text, shown by ``--help``), HTTP route
handlers (documented by the OpenAPI schema), pydantic models (their fields carry ``Field`` descriptions) and
overload stubs.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "openvpp"
SKIP_PARTS = ("cli",)
ROUTE_DECORATORS = {"get", "post", "put", "patch", "delete", "api_route", "websocket", "head", "options"}
MODEL_BASES = {"BaseModel", "StrictModel", "BaseSettings", "DeclarativeBase", "Base", "Protocol", "Enum",
               "IntEnum", "StrEnum", "NamedTuple", "TypedDict", "Exception"}
NUMERIC = re.compile(r"^(float|int|ArrayLike|NDArray|np\.ndarray|numpy\.ndarray|ndarray|npt\.\w+|"
                     r"pd\.Series|Series|np\.floating|Sequence\[float\]|list\[float\]|tuple\[float)")


def _is_numeric(annotation: str) -> bool:
    """Whether an annotation is a number or an array of numbers (``X | None`` counts as ``X``)."""
    parts = [p.strip() for p in annotation.replace("Optional[", "").split("|")]
    parts = [p for p in parts if p not in ("None", "")]
    return bool(parts) and all(NUMERIC.match(p) for p in parts) and annotation.strip() != "bool"
UNIT = re.compile(r"\[[^\]\n]+\]")


def _modules() -> list[Path]:
    found = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG)
        if rel.parts[0].removesuffix(".py") in SKIP_PARTS or "migrations" in rel.parts:
            continue
        if any(p.startswith("_") and p != "__init__.py" for p in rel.parts):
            continue
        found.append(path)
    return found


def _section(doc: str, names: tuple[str, ...]) -> dict[str, str]:
    """Entries of the numpy-style sections ``names``: parameter name -> its header line and description."""
    lines = doc.expandtabs().splitlines()
    out: dict[str, str] = {}
    i = 0
    while i < len(lines):
        if lines[i].strip() in names and i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}:
            indent = len(lines[i]) - len(lines[i].lstrip())
            i += 2
            current: list[str] | None = None
            while i < len(lines):
                line = lines[i]
                stripped = line.strip()
                if stripped and i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"} and (
                    len(line) - len(line.lstrip()) <= indent
                ):
                    break
                if stripped and len(line) - len(line.lstrip()) <= indent:
                    header = stripped.split(" : ")[0]
                    current = [stripped]
                    for name in header.split(","):
                        out[name.strip().lstrip("*")] = ""
                    keys = [n.strip().lstrip("*") for n in header.split(",")]
                    for k in keys:
                        out[k] = stripped
                    last_keys = keys
                elif current is not None and stripped:
                    for k in last_keys:
                        out[k] += " " + stripped
                i += 1
            continue
        i += 1
    return out


def _params(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[tuple[str, str]]:
    a = fn.args
    items = [*a.posonlyargs, *a.args, *a.kwonlyargs]
    out = [(x.arg, ast.unparse(x.annotation) if x.annotation else "") for x in items]
    if a.vararg:
        out.append((a.vararg.arg, ast.unparse(a.vararg.annotation) if a.vararg.annotation else ""))
    if a.kwarg:
        out.append((a.kwarg.arg, ast.unparse(a.kwarg.annotation) if a.kwarg.annotation else ""))
    return [(n, t) for n, t in out if n not in ("self", "cls")]


def _decorators(node: ast.AST) -> set[str]:
    names = set()
    for d in getattr(node, "decorator_list", []):
        target = d.func if isinstance(d, ast.Call) else d
        if isinstance(target, ast.Attribute):
            names.add(target.attr)
        elif isinstance(target, ast.Name):
            names.add(target.id)
    return names


def _check_callable(fn: ast.FunctionDef | ast.AsyncFunctionDef, where: str, doc: str | None) -> list[str]:
    decos = _decorators(fn)
    if decos & ROUTE_DECORATORS or "overload" in decos:
        return []
    params = _params(fn)
    if "property" in decos or fn.name.startswith("__"):
        params = []
    if doc is None:
        return [f"{where}: no docstring"]
    if not params:
        return []
    documented = _section(doc, ("Parameters", "Other Parameters"))
    problems = []
    for name, annotation in params:
        if name not in documented:
            problems.append(f"{where}: parameter {name!r} not in a Parameters section")
        elif _is_numeric(annotation) and not UNIT.search(documented[name]):
            problems.append(f"{where}: numeric parameter {name!r} has no [unit]")
    return problems


def _check_module(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    rel = path.relative_to(PKG.parent)
    problems: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_"):
            problems += _check_callable(node, f"{rel}:{node.lineno} {node.name}", ast.get_docstring(node))
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            cdoc = ast.get_docstring(node)
            where = f"{rel}:{node.lineno} {node.name}"
            if cdoc is None:
                problems.append(f"{where}: no docstring")
                continue
            bases = {ast.unparse(b).split(".")[-1] for b in node.bases}
            if bases & MODEL_BASES or any(b.endswith(("Error", "Exception")) for b in bases):
                continue
            for item in node.body:
                if not isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                if item.name == "__init__":
                    doc = ast.get_docstring(item) or cdoc
                    problems += _check_callable(
                        ast.FunctionDef(**{**item.__dict__, "name": "init"}), f"{where}.__init__", doc
                    )
                elif not item.name.startswith("_"):
                    problems += _check_callable(item, f"{where}.{item.name}", ast.get_docstring(item))
    return problems


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PKG)))
def test_public_callables_document_parameters_with_units(path: Path):
    problems = _check_module(path)
    assert not problems, "\n".join(problems)


def test_the_checker_finds_a_missing_unit_and_a_missing_parameter(tmp_path):
    bad = PKG / "_docstring_probe_never_written.py"
    src = '''
def good(p_kw: float, name: str) -> float:
    """Good.

    Parameters
    ----------
    p_kw : float
        Power. [kW]
    name : str
        A label.
    """

def no_unit(p_kw: float) -> float:
    """No unit.

    Parameters
    ----------
    p_kw : float
        Power.
    """

def missing(p_kw: float, dt_h: float) -> float:
    """Missing one.

    Parameters
    ----------
    p_kw : float
        Power. [kW]
    """
'''
    tree = ast.parse(src)
    problems = []
    for node in tree.body:
        assert isinstance(node, ast.FunctionDef)
        problems += _check_callable(node, node.name, ast.get_docstring(node))
    assert problems == [
        "no_unit: numeric parameter 'p_kw' has no [unit]",
        "missing: parameter 'dt_h' not in a Parameters section",
    ]
    assert not bad.exists()
