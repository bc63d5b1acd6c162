"""The ``openvpp`` command line (typer + rich).

Thin by design: each command parses its options, calls one library function and renders the result
(rich table, PNG via :mod:`openvpp.report`, or JSON with ``--json``). Every
:class:`~openvpp.errors.OpenVPPError` becomes a one-line message on stderr and exit code 2.

Commands live one module per capability in this package; importing the package registers them all.
"""

from __future__ import annotations

import sys

import typer

from openvpp.cli import control, demo, economics, envelopes, flex, forecast, grid, schedule, serve, settle  # noqa: F401  (register the commands)
from openvpp.cli.common import app, err_console
from openvpp.errors import OpenVPPError

__all__ = ["app", "main", "print_error"]


def _usage_error_types() -> tuple[type[Exception], ...]:
    """Click's usage-error base class(es): recent typer releases vendor click as ``typer._click``."""
    import importlib

    found: list[type[Exception]] = []
    for module in ("click.exceptions", "typer._click.exceptions"):
        try:
            found.append(importlib.import_module(module).ClickException)
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def print_error(exc: BaseException) -> None:
    """The one-line ``error: ...`` message of an :class:`OpenVPPError` on stderr (no wrapping, no markup)."""
    from rich.markup import escape

    err_console.print(f"[bold red]error:[/] {escape(' '.join(str(exc).split()))}", soft_wrap=True)


def main() -> None:
    """Entry point of the ``openvpp`` script: run the app, map OpenVPPError to exit code 2."""
    try:
        app(standalone_mode=False)
    except OpenVPPError as exc:
        print_error(exc)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except _usage_error_types() as exc:  # unknown option, value of the wrong type, missing argument
        exc.show()  # type: ignore[attr-defined]
        sys.exit(exc.exit_code)  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
