"""report: rendering of results (rich tables, PNG figures with matplotlib's Agg backend)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from openvpp.errors import ValidationError


def save_figure(fig: Any, path: str | Path, dpi: int = 120) -> Path:
    """Lay out, write and close a matplotlib figure; the parent folder is created if needed.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or pathlib.Path
        File to write (the suffix selects the format, PNG throughout OpenVPP).
    dpi : int
        Resolution. [dots per inch]

    Returns
    -------
    pathlib.Path
        The file written.
    """
    import matplotlib.pyplot as plt

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return out


def check_out_dir(out_dir: str | Path, name: str = "--out") -> Path:
    """Check, before a study runs, that the output folder ``out_dir`` can be created and written to.

    Nothing is left behind: the nearest existing folder on the path gets a temporary file that is deleted
    at once, and ``out_dir`` itself is created later by the renderer. An unwritable folder thus fails fast
    instead of after the computation.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Folder for figures and reports.
    name : str
        Name of the option or field, used in the error message.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValidationError
        If a file stands on the path or the folder cannot be written to, naming ``name`` and the fix.
    """
    out = Path(out_dir)
    probe = out.absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    problem = None if probe.is_dir() else f"{str(probe)!r} is a file, not a folder"
    if problem is None:
        try:
            with tempfile.TemporaryFile(dir=probe):
                pass
        except OSError as exc:
            problem = f"{str(probe)!r} is not writable ({exc.strerror or exc})"
    if problem is not None:
        raise ValidationError(
            f"{name} folder {str(out)!r} cannot be created or written to: {problem}; pass a writable "
            f"folder, e.g. {name} openvpp-out"
        )
    return out


def keep_whole(table: Any, *key_columns: int) -> Any:
    """Make a rich table never cut a value with an ellipsis: every column folds onto a new line when narrow,
    and the ``key_columns`` (positions: names the user types back, such as ``--scenario`` values) never wrap
    and keep the width of their longest cell.

    Parameters
    ----------
    table : rich.table.Table
        A filled table.
    *key_columns : int
        Positions of the columns that must stay on one line. [-]

    Returns
    -------
    rich.table.Table
        The same table.
    """
    for k, col in enumerate(table.columns):
        col.overflow = "fold"
        cells = [str(c) for c in col.cells]
        longest = max([len(str(col.header)), *map(len, cells)])
        if k in key_columns:
            col.no_wrap = True
            col.min_width = longest
        else:  # folded, but never squeezed below a number's width
            col.min_width = min(longest, 8)
    return table
