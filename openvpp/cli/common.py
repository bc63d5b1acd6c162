"""What every ``openvpp`` command shares: the typer apps, consoles, common options and result printers.

Commands live one module per capability beside this one (``demo``, ``envelopes``, ``grid``, ``flex``,
``economics`` ...) and register themselves on :data:`app` (or a sub-app) when :mod:`openvpp.cli` imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console

if TYPE_CHECKING:
    from rich.progress import Progress

app = typer.Typer(
    name="openvpp",
    help="OpenVPP: run a virtual power plant — devices, fleets, networks, flexibility, envelopes, economics.",
    no_args_is_help=True,
    add_completion=False,
)
study_app = typer.Typer(help="Reproducible studies from the seed reports.", no_args_is_help=True)
app.add_typer(study_app, name="study")

console = Console()
err_console = Console(stderr=True)

OUT_DIR_OPTION = typer.Option(Path("openvpp-out"), "--out", help="Folder for figures and reports.")

JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable results.")

envelopes_app = typer.Typer(
    help="Dynamic export limits: constraint engine, capacity metrics, hosting capacity.", no_args_is_help=True
)
app.add_typer(envelopes_app, name="envelopes")

_T = TypeVar("_T")


def progress_bar(label: str) -> tuple[Progress, Callable[[int, int], None]]:
    """A rich progress bar and the (done, total) callback that advances it."""
    from rich.progress import Progress

    prog = Progress(console=err_console, transient=True)
    task = prog.add_task(label, total=None)

    def cb(done: int, total: int) -> None:
        prog.update(task, completed=done, total=total)

    return prog, cb


def run_with_progress(
    label: str, out: Path, as_json: bool, run: Callable[..., _T], *args: Any, **kwargs: Any
) -> _T:
    """Check the figure folder ``out`` (unless ``--json``), then ``run(*args, progress=..., **kwargs)`` under
    a progress bar labelled ``label`` and return its result."""
    from openvpp.report import check_out_dir

    if not as_json:
        check_out_dir(out)
    prog, cb = progress_bar(label)
    with prog:
        return run(*args, progress=cb, **kwargs)


def emit(as_json: bool, payload: Callable[[], object], render: Callable[[], object]) -> None:
    """Finish a command: print ``payload()`` as JSON with ``--json``, else ``render()`` tables and figures."""
    if as_json:
        print_json(payload())
    else:
        render()


def print_json(payload: object, indent: int | None = 2) -> None:
    """Print a result as plain JSON on stdout (numpy arrays and scalars converted, other objects as text)."""
    import json

    import numpy as np

    def default(o: object) -> object:
        if isinstance(o, np.ndarray):
            return o.tolist()
        if isinstance(o, np.generic):
            return o.item()
        return str(o)

    typer.echo(json.dumps(payload, default=default, indent=indent))
