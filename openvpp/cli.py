"""The ``openvpp`` command line (typer + rich).

Thin by design: each command parses its options, calls one library function and renders the result
(rich table, PNG via :mod:`openvpp.report`, or JSON with ``--json``). Every :class:`~openvpp.errors.OpenVPPError`
becomes a one-line message on stderr and exit code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

from openvpp.errors import OpenVPPError

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


@app.command()
def demo(
    grid: str = typer.Option("1-LV-rural1--2-sw", help="SimBench LV grid code to load as the demo fleet."),
    day: str = typer.Option("2016-06-15", help="Day to simulate (SimBench profile year 2016)."),
    out: Path = OUT_DIR_OPTION,
    seed: int = typer.Option(0, help="Seed for the documented random assignment of devices."),
) -> None:
    """Load a real LV grid as a fleet and simulate one day of today's practice (self-consumption)."""
    from openvpp.studies.demo import run_demo
    from openvpp.report.demo import render_demo

    result = run_demo(grid_code=grid, day=day, seed=seed, progress=True)
    render_demo(result, out_dir=out, console=console)


# --- commands of other capabilities are registered below this line ---


def main() -> None:
    """Entry point of the ``openvpp`` script: run the app, map OpenVPPError to exit code 2."""
    try:
        app(standalone_mode=False)
    except OpenVPPError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
