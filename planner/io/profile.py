"""What each column of a source holds, judged from its values: the evidence column detection uses.

:func:`profile_columns` reads a spread-out sample of rows (at most :data:`SAMPLE_ROWS`) and records,
per column, how many values are present, numeric, integers, dates (with or without a time of day),
clock times, month names or point text, the numeric range and the number of distinct values.
:func:`name_tokens` splits a header into lower-case words (``'OpenDataLat'`` → ``('open', 'data',
'lat')``, ``'DATE OCC'`` → ``('date', 'occ')``) for the name rules that break ties.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

SAMPLE_ROWS = 1000
EARLIEST_YEAR = 1900

_CLOCK = re.compile(r"^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*([AaPp]\.?[Mm]\.?)?$")
_DATE_LIKE = re.compile(
    r"\d{4}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|[A-Za-z]{3,9}\.?\s+\d{1,2},?\s+\d{4}"
    r"|\d{1,2}\s+[A-Za-z]{3,9}\.?\s+\d{4}|\d{4}\s+[A-Za-z]{3}\s+\d{1,2}"
)
_POINT_TEXT = re.compile(
    r"^\s*(POINT\s*Z?\s*\(\s*-?\d+(\.\d+)?\s+-?\d+(\.\d+)?.*\)|\(?\s*-?\d+\.\d+\s*[,; ]\s*-?\d+\.\d+\s*\)?)\s*$",
    re.I,
)
_MONTHS = (
    "january february march april may june july august september october november december",
    "jan feb mar apr may jun jul aug sep oct nov dec",
    "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre",
)
MONTH_NAMES: dict[str, int] = {
    name: number for names in _MONTHS for number, name in enumerate(names.split(), start=1)
} | {"sept": 9}


def strip_accents(text: str) -> str:
    """``'Méfait'`` → ``'Mefait'``."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def name_tokens(name: object) -> tuple[str, ...]:
    """Lower-case words of a header: camelCase, spaces, dashes and underscores all split words."""
    text = strip_accents(str(name))
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    return tuple(t for t in re.split(r"[^a-z0-9]+", text.lower()) if t)


@dataclass(frozen=True)
class ColumnProfile:
    """Evidence about one column, from a sample of its values (shares are of the present values)."""

    name: str
    position: int
    tokens: tuple[str, ...]
    present: float
    numeric: float
    integer: float
    lo: float
    hi: float
    n_distinct: int
    date: float
    date_has_time: bool
    clock: float
    month_name: float
    point_text: float
    wkt: float

    def within(self, lo: float, hi: float) -> bool:
        """True when the 1st–99th percentile of the numeric values lies in [lo, hi]."""
        return bool(np.isfinite(self.lo) and self.lo >= lo and self.hi <= hi)

    @property
    def is_text(self) -> bool:
        """Mostly non-numeric values that are neither dates, clock times nor point text."""
        return self.numeric < 0.5 and self.date < 0.5 and self.clock < 0.5 and self.point_text < 0.5


def sample_rows(df: pd.DataFrame, n: int = SAMPLE_ROWS) -> pd.DataFrame:
    """At most ``n`` rows spread evenly through ``df`` (all rows of a small frame)."""
    if len(df) <= n:
        return df
    return df.iloc[np.linspace(0, len(df) - 1, n).astype(int)]


def as_numbers(values: pd.Series) -> pd.Series:
    """Numbers from text, accepting a decimal comma (``'52,95'``); NaN where not a number."""
    text = values.astype("string").str.strip().str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce")


def _numeric_facts(text: pd.Series) -> tuple[float, float, float, float]:
    nums = as_numbers(text)
    ok = nums.notna() & np.isfinite(nums.astype("float64"))
    if not ok.any():
        return 0.0, 0.0, float("nan"), float("nan")
    values = nums[ok].astype("float64").to_numpy()
    lo, hi = np.percentile(values, [1, 99])
    integer = float(np.mean(values == np.round(values)))
    return float(ok.mean()), integer, float(lo), float(hi)


def _date_facts(text: pd.Series, tokens: tuple[str, ...], numeric: float) -> tuple[float, bool]:
    """Share of values that parse as plausible dates, and whether they carry a time of day."""
    from planner.io.dates import DATE_TOKENS, parse_dates
    from planner.io.fitness import time_resolution

    datey = bool(set(tokens) & DATE_TOKENS)
    if numeric > 0.95 and not datey:
        return 0.0, False  # plain numbers are dates only under a date-like name (yyyymmdd, Excel)
    if numeric <= 0.95 and text.str.contains(_DATE_LIKE, regex=True).mean() < 0.5:
        return 0.0, False
    parsed, _ = parse_dates(text)
    years = parsed.dt.year
    now = pd.Timestamp.now()
    ok = parsed.notna() & (years >= EARLIEST_YEAR) & (parsed <= now + pd.Timedelta(days=366))
    share = float(ok.mean())
    return share, share > 0 and time_resolution(parsed[ok]) in {"minute", "hour"}


def profile_column(values: pd.Series, *, name: str, position: int) -> ColumnProfile:
    """The :class:`ColumnProfile` of one (sampled) column."""
    # Python-backed strings: on a sample of at most SAMPLE_ROWS values, pandas' per-call regex
    # analysis for Arrow strings costs more than matching, which made profiling ~17 ms per column.
    text = values.astype("string[python]").str.strip()
    text = text[text.notna() & (text != "")]
    tokens = name_tokens(name)
    if text.empty:
        nan = float("nan")
        return ColumnProfile(
            name, position, tokens, 0.0, 0.0, 0.0, nan, nan, 0, 0.0, False, 0.0, 0.0, 0.0, 0.0
        )
    numeric, integer, lo, hi = _numeric_facts(text)
    date, has_time = _date_facts(text, tokens, numeric)
    lowered = text.str.lower().map(strip_accents).str.rstrip(".")
    return ColumnProfile(
        name=name,
        position=position,
        tokens=tokens,
        present=float(len(text) / max(len(values), 1)),
        numeric=numeric,
        integer=integer,
        lo=lo,
        hi=hi,
        n_distinct=int(text.nunique()),
        date=date,
        date_has_time=has_time,
        clock=float(text.str.match(_CLOCK).mean()),
        month_name=float(lowered.isin(MONTH_NAMES).mean()),
        point_text=float(text.str.match(_POINT_TEXT).mean()),
        wkt=float(text.str.match(r"^\s*POINT", case=False).mean()),
    )


def profile_columns(df: pd.DataFrame) -> dict[str, ColumnProfile]:
    """Column name → :class:`ColumnProfile`, from :func:`sample_rows` of ``df`` (geometry skipped).

    Linear in the number of columns (a few milliseconds each) and refused above the column limit
    of :func:`planner.io.limits.current_limits`, so a frame of thousands of columns fails at once.
    """
    from planner.io.limits import check_shape, current_limits

    check_shape("The table", rows=None, columns=df.shape[1], limits=current_limits())
    sample = sample_rows(df)
    geometry = getattr(df, "_geometry_column_name", None)
    return {
        str(c): profile_column(sample[c], name=str(c), position=i)
        for i, c in enumerate(df.columns)
        if c != geometry
    }
