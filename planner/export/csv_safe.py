r"""CSV that a spreadsheet shows as data: every CSV the planner writes goes through :func:`write_csv`.

Text from the data (a ward id, an offence name, a source column) can start like a formula:
``=HYPERLINK("http://…")``, ``+1+cmd|' /C calc'!A0``, ``@SUM(A1)``. Excel, LibreOffice and
Google Sheets run such a cell when the CSV is opened. Following OWASP's advice on CSV injection, a
text cell (or column name) that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
and is not a plain number is written with a leading single quote (``'=HYPERLINK(…)``), so it is
shown as text. Numbers, negative ones included (``-2.5``, ``-1e3``), are written unchanged, as are
numeric, boolean and date columns.

A carriage return inside a text cell is written as a line feed: pandas quotes a cell holding the
line terminator (``\n``) but not a bare ``\r``, which many readers take as the end of the row, so
``"a\r=1"`` would otherwise start a new row with a formula.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pandas as pd

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _safe_cell(value: Any) -> Any:
    value = neutralise_cell(value)
    if isinstance(value, str) and "\r" in value:
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def _neutralised_column(values: pd.Series) -> pd.Series | None:
    """The column with formula-like text cells prefixed, or None when none needs it."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    elif not (pd.api.types.is_object_dtype(values.dtype) or pd.api.types.is_string_dtype(values.dtype)):
        return None
    text = values.astype("string")  # vectorised screen; only the candidates are checked one by one
    screen = text.str.slice(0, 1).isin(FORMULA_TRIGGERS) | text.str.contains("\r", regex=False)
    candidates = screen.fillna(False).to_numpy(dtype=bool)
    if not candidates.any():
        return None
    fixed = values[candidates].map(_safe_cell)
    if fixed.equals(values[candidates]):
        return None
    out = values.astype(object).copy()
    out[candidates] = fixed
    return out


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` (or ``frame`` itself when nothing needs it) safe to open in a spreadsheet.

    Text cells and column names that a spreadsheet would run as formulas get a leading ``'``; the
    input is never changed.
    """
    changed: dict[Any, pd.Series] = {}
    for position in range(frame.shape[1]):
        fixed = _neutralised_column(frame.iloc[:, position])
        if fixed is not None:
            changed[position] = fixed
    names = [_safe_cell(c) for c in frame.columns]
    if not changed and names == list(frame.columns):
        return frame
    out = pd.DataFrame(frame).copy()
    for position, values in changed.items():
        out.isetitem(position, values.to_numpy())
    out.columns = pd.Index(names)
    return out


def _table(frame: pd.DataFrame) -> pd.DataFrame:
    geometry = {getattr(frame, "_geometry_column_name", None) or "geometry", "geometry"}
    plain = pd.DataFrame(frame.drop(columns=list(geometry), errors="ignore"))
    return neutralise_formulas(plain)


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` (geometry dropped, formulas neutralised, no index, Unix line ends) to ``path``."""
    path = Path(path)
    _table(frame).to_csv(path, index=False, lineterminator="\n")
    return path


def csv_text(frame: pd.DataFrame) -> str:
    """The CSV :func:`write_csv` would write, as text (for a download button)."""
    buffer = io.StringIO()
    _table(frame).to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()
