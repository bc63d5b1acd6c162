"""Every snippet in the documentation runs as written, and every command it shows exists.

- ``python`` code blocks of each page in ``docs/`` and of ``README.md`` run in order, in one namespace per
  page, in a temporary working folder (so a page's snippets may build on each other, as a reader would).
- ``bash``/``sh``/``console`` blocks: every ``openvpp ...`` line is parsed by the real command-line parser
  (no command runs): the command, its subcommands and options must exist and the values must parse.
- The README's command table: every command path and every ``--option`` it names exists.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([*ROOT.joinpath("docs").glob("*.md"), ROOT / "README.md"])
FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", re.S | re.M)
SHELL = {"bash", "sh", "shell", "console"}


def _blocks(page: Path, languages: set[str]) -> list[str]:
    return [m.group(2) for m in FENCE.finditer(page.read_text()) if m.group(1).lower() in languages]


def _openvpp_lines(block: str) -> list[list[str]]:
    """The ``openvpp`` command lines of a shell block, continuations joined, comments dropped."""
    text = block.replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        line = line.strip().removeprefix("$ ")
        if not line.startswith("openvpp ") and line != "openvpp":
            continue
        words = shlex.split(line, comments=True)
        cut = next((i for i, w in enumerate(words) if w in ("|", ">", ">>", "&&", ";", "&")), len(words))
        found.append(words[1:cut])
    return found


def _command():
    import typer.main

    from openvpp.cli import app

    return typer.main.get_command(app)


def _parse(args: list[str]) -> None:
    """Parse ``openvpp args`` with the real parser, descending into subcommands; raise on any error."""
    cmd = _command()
    name = "openvpp"
    while True:
        ctx = cmd.make_context(name, list(args), resilient_parsing=False)
        if not hasattr(cmd, "resolve_command"):
            return
        rest = [*getattr(ctx, "_protected_args", []), *getattr(ctx, "protected_args", []), *ctx.args]
        if not rest:
            return
        name, cmd, args = cmd.resolve_command(ctx, rest)
        assert cmd is not None, f"unknown command {rest[0]!r}"


PYTHON_PAGES = [p for p in PAGES if _blocks(p, {"python", "py"})]
SHELL_CASES = [
    (page, words) for page in PAGES for block in _blocks(page, SHELL) for words in _openvpp_lines(block)
]


@pytest.mark.parametrize("page", PYTHON_PAGES, ids=lambda p: p.name)
def test_python_snippets_run(page: Path, tmp_path, monkeypatch):
    # a reader runs the snippets from the repository root; the example files they read come along
    shutil.copytree(ROOT / "docs" / "examples", tmp_path / "docs" / "examples")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for k, block in enumerate(_blocks(page, {"python", "py"})):
        code = compile(block, f"{page.name} [python block {k + 1}]", "exec")
        exec(code, namespace)  # the documentation snippets are the code under test


@pytest.mark.parametrize(
    "page,words", SHELL_CASES, ids=[f"{p.name}:{' '.join(w)[:60]}" for p, w in SHELL_CASES]
)
def test_shell_commands_parse(page: Path, words: list[str]):
    if "--help" in words or "-h" in words or "--version" in words:
        words = [w for w in words if w not in ("--help", "-h", "--version")]
    _parse(words)


def _table_commands() -> list[tuple[list[str], list[str]]]:
    """(command path, options) for every row of the README's command table."""
    rows = []
    for line in (ROOT / "README.md").read_text().splitlines():
        m = re.match(r"^\|\s*`openvpp ([^`]*)`", line)
        if not m:
            continue
        words = m.group(1).replace("\\|", "|").split()
        path = []
        for w in words:
            if w.startswith(("-", "[", "<")) or not re.fullmatch(r"[a-z][a-z-]*", w):
                break
            path.append(w)
        options = re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", m.group(1))
        rows.append((path, options))
    return rows


@pytest.mark.parametrize("path,options", _table_commands(), ids=lambda v: " ".join(v) if v else "-")
def test_readme_command_table_matches_the_commands(path: list[str], options: list[str]):
    cmd = _command()
    ctx = cmd.make_context("openvpp", [], resilient_parsing=True)
    for word in path:
        sub = cmd.get_command(ctx, word) if hasattr(cmd, "get_command") else None
        if sub is None:
            break  # a positional argument of the command reached so far
        cmd = sub
        ctx = cmd.make_context(word, [], resilient_parsing=True)
    known = {opt for p in cmd.params for opt in [*p.opts, *p.secondary_opts]}
    missing = [o for o in options if o not in known]
    assert not missing, f"`openvpp {' '.join(path)}` has no option {missing} (README command table)"


def test_the_table_reader_sees_the_rows():
    rows = _table_commands()
    assert rows and all(path for path, _ in rows)
