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

#: ``-h`` as well as ``--help`` on every command
HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    name="openvpp",
    help="OpenVPP: run a virtual power plant — devices, fleets, networks, flexibility, envelopes, economics.",
    no_args_is_help=True,
    add_completion=False,
    context_settings=HELP_OPTIONS,
)
study_app = typer.Typer(
    help="Reproducible studies from the seed reports.", no_args_is_help=True, context_settings=HELP_OPTIONS
)
app.add_typer(study_app, name="study")

#: width of tables when stdout is not a terminal (pipes, files) and COLUMNS is unset: wide enough that no
#: key value is cut; on a terminal rich uses the terminal's width [characters]
PIPE_WIDTH = 200


def _console(stderr: bool = False) -> Console:
    import os
    import sys

    stream = sys.stderr if stderr else sys.stdout
    piped = not (hasattr(stream, "isatty") and stream.isatty())
    return Console(stderr=stderr, width=PIPE_WIDTH if piped and not os.environ.get("COLUMNS") else None)


console = _console()
err_console = _console(stderr=True)

OUT_DIR_OPTION = typer.Option(Path("openvpp-out"), "--out", help="Folder for figures and reports.")
#: where figures go when ``--out`` is not given (and ``--json`` was not asked for)
DEFAULT_OUT = Path("openvpp-out")
#: the ``--out`` option of commands whose figures are skipped with ``--json`` unless ``--out`` is given
OPTIONAL_OUT_OPTION = typer.Option(
    None, "--out", help="Folder for figures and data (default openvpp-out; with --json only when given)."
)

JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable results.")

envelopes_app = typer.Typer(
    help="Dynamic export limits: constraint engine, capacity metrics, hosting capacity.",
    no_args_is_help=True,
    context_settings=HELP_OPTIONS,
)


def _version_callback(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            text = version("openvpp")
        except PackageNotFoundError:  # running from a source tree without installation
            text = "unknown (not installed)"
        typer.echo(f"openvpp {text}")
        raise typer.Exit()


@app.callback()
def _app_options(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """OpenVPP: run a virtual power plant — devices, fleets, networks, flexibility, envelopes, economics."""
app.add_typer(envelopes_app, name="envelopes")

_T = TypeVar("_T")


def progress_bar(label: str) -> tuple[Progress, Callable[[int, int], None]]:
    """A rich progress bar and the (done, total) callback that advances it."""
    from rich.progress import Progress

    # on a terminal only: a pipe or a log file gets no bar (and no blank line before an error message)
    prog = Progress(console=err_console, transient=True, disable=not err_console.is_terminal)
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


def json_safe(obj: object) -> object:
    """``obj`` with numpy values turned into Python ones and NaN / infinity into None (standard JSON).

    Parameters
    ----------
    obj : object
        Nested dicts, lists, tuples, numpy arrays and scalars; other objects become their text.

    Returns
    -------
    object
        Only dict, list, str, int, float (finite), bool and None.
    """
    import math

    import numpy as np

    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, np.generic):
        return json_safe(obj.item())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if obj is None or isinstance(obj, str | int | bool):
        return obj
    return str(obj)


def print_json(payload: object, indent: int | None = 2) -> None:
    """Print a result as standard JSON on stdout (numpy converted, NaN and infinity as null).

    Parameters
    ----------
    payload : object
        The result (see :func:`json_safe`).
    indent : int, optional
        Indentation; None for one line. [-]
    """
    import json

    typer.echo(json.dumps(json_safe(payload), indent=indent, allow_nan=False))


def check_out_file(path: Path, flag: str, suffixes: tuple[str, ...] = (".json",)) -> Path:
    """Check, before any work, that ``path`` can be written as a file: not a folder, an existing parent
    folder (nothing is created), one of ``suffixes``.

    Parameters
    ----------
    path : pathlib.Path
        File the command will write.
    flag : str
        The option as the user typed it (``--envelopes``), named in the message.
    suffixes : tuple of str
        Accepted file endings.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValidationError
        Naming ``flag``, the path and the fix.
    """
    import os

    from openvpp.errors import ValidationError

    p = Path(path)
    if p.is_dir():
        example = str(p / ("envelopes" + suffixes[0]))
        raise ValidationError(f"{flag} {str(p)!r} is a directory; give a file path such as {example!r}")
    if p.suffix.lower() not in suffixes:
        raise ValidationError(f"{flag} {str(p)!r} must end with one of {list(suffixes)}")
    parent = p.absolute().parent
    if not parent.is_dir():
        raise ValidationError(
            f"{flag} {str(p)!r}: folder {str(parent)!r} does not exist; create it first (nothing is created "
            "for you)"
        )
    if not os.access(parent, os.W_OK):
        raise ValidationError(f"{flag} {str(p)!r}: folder {str(parent)!r} is not writable")
    return p


def out_folder(out: Path | None, as_json: bool) -> Path | None:
    """The checked folder a command writes to: ``--out``, else ``openvpp-out`` without ``--json``, else none.

    Parameters
    ----------
    out : pathlib.Path or None
        The ``--out`` option.
    as_json : bool
        Whether ``--json`` was given.

    Returns
    -------
    pathlib.Path or None
        The folder (writable, created on first write), or None when nothing is to be written.
    """
    from openvpp.report import check_out_dir

    if out is None and as_json:
        return None
    return check_out_dir(DEFAULT_OUT if out is None else out)
