"""One self-contained HTML report: KPI cards, a KPI table, sections with tables and figures (base64 PNG).

Every number is shown with the seed section it comes from (a ``source`` per KPI row, section and table). The
page needs nothing but itself: no script, no external style sheet, no network (the Jinja2 template lives in
``openvpp/report/templates/report.html.j2``).
"""

from __future__ import annotations

import base64
import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from openvpp.errors import ValidationError

__all__ = ["Card", "Figure", "Section", "TableBlock", "fmt_number", "render_html"]

TEMPLATES = Path(__file__).with_name("templates")
#: largest PNG embedded in a report [bytes]
MAX_FIGURE_BYTES = 5_000_000


@dataclasses.dataclass(frozen=True)
class Card:
    """One headline number.

    Parameters
    ----------
    label : str
        What it is, with its unit.
    value : str
        The formatted value.
    source : str
        Seed section it comes from.
    """

    label: str
    value: str
    source: str = ""


@dataclasses.dataclass(frozen=True)
class Figure:
    """A PNG file to embed.

    Parameters
    ----------
    path : pathlib.Path
        The PNG.
    caption : str
        Caption (with its source).
    """

    path: Path
    caption: str


@dataclasses.dataclass(frozen=True)
class TableBlock:
    """A table: a DataFrame and a caption naming its source.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table (index dropped; put it in a column first if it matters).
    caption : str
        Caption with the source.
    """

    frame: pd.DataFrame
    caption: str = ""


@dataclasses.dataclass(frozen=True)
class Section:
    """A report section.

    Parameters
    ----------
    id : str
        HTML id.
    title : str
        Heading.
    source : str
        Seed sections the section implements.
    text : str
        One paragraph.
    tables : sequence of TableBlock
        Tables.
    figures : sequence of Figure
        Figures.
    """

    id: str
    title: str
    source: str = ""
    text: str = ""
    tables: Sequence[TableBlock] = ()
    figures: Sequence[Figure] = ()


def fmt_number(v: Any) -> str:
    """A number for a report cell: thousands separators, 3-4 significant digits, blank for NaN.

    Parameters
    ----------
    v : float or int
        The value. [-]
    """
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,d}"
    x = float(v)
    if not math.isfinite(x):
        return ""
    if x == 0:
        return "0"
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:,.1f}"
    if a >= 0.01:
        return f"{x:.3f}"
    return f"{x:.2e}"


def _embed(fig: Figure) -> dict[str, str]:
    path = Path(fig.path)
    if not path.is_file() or path.suffix.lower() != ".png":
        raise ValidationError(f"figure {str(path)!r} must be an existing PNG file")
    data = path.read_bytes()
    if len(data) > MAX_FIGURE_BYTES or data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValidationError(f"figure {str(path)!r} is not a PNG of at most {MAX_FIGURE_BYTES} bytes")
    return {"data": base64.b64encode(data).decode("ascii"), "caption": fig.caption}


def _table(t: TableBlock) -> dict[str, Any]:
    f = t.frame
    rows = [
        [(None if isinstance(v, float) and not math.isfinite(v) else v) for v in r]
        for r in f.astype(object).itertuples(index=False, name=None)
    ]
    rows = [
        ["" if v is None else (float(v) if hasattr(v, "dtype") and not isinstance(v, str) else v) for v in r]
        for r in rows
    ]
    return {"columns": [str(c) for c in f.columns], "rows": rows, "caption": t.caption}


def render_html(
    path: str | Path,
    title: str,
    *,
    subtitle: str = "",
    cards: Sequence[Card] = (),
    kpis: pd.DataFrame | None = None,
    kpi_note: str = "",
    sections: Sequence[Section] = (),
    footer: str = "",
) -> Path:
    """Write one self-contained HTML report (figures as base64 PNG, the KPI table with id ``kpi-table``).

    Parameters
    ----------
    path : str or pathlib.Path
        HTML file to write (its folder must exist).
    title, subtitle : str
        Header.
    cards : sequence of Card
        Headline numbers.
    kpis : pandas.DataFrame, optional
        KPI rows; a boolean ``within`` column marks rows outside their bound. [-]
    kpi_note : str
        One line above the KPI table.
    sections : sequence of Section
        Sections in order.
    footer : str
        Footer line.

    Returns
    -------
    pathlib.Path
    """
    import jinja2

    path = Path(path)
    if path.suffix.lower() != ".html":
        raise ValidationError(f"the report must be an .html file (got {str(path)!r})")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    env.tests["number"] = lambda v: isinstance(v, int | float) and not isinstance(v, bool)
    kpi_rows: list[dict[str, Any]] = []
    kpi_columns: list[str] = []
    if kpis is not None and len(kpis):
        kpi_columns = [str(c) for c in kpis.columns]
        for r in kpis.to_dict("records"):
            r.setdefault("within", True)
            kpi_rows.append({k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()})
    html = env.get_template("report.html.j2").render(
        title=title,
        subtitle=subtitle,
        cards=list(cards),
        kpis=kpi_rows,
        kpi_columns=kpi_columns,
        kpi_note=kpi_note,
        footer=footer,
        fmt=fmt_number,
        sections=[
            {
                "id": s.id,
                "title": s.title,
                "source": s.source,
                "text": s.text,
                "tables": [_table(t) for t in s.tables],
                "figures": [_embed(f) for f in s.figures],
            }
            for s in sections
        ],
    )
    path.write_text(html, encoding="utf-8")
    return path
