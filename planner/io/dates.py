"""Parse date and time columns: one format per column, chosen on a sample, day-first decided from the data."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

_DATE_FORMATS = [
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
    "%Y-%m",
    "%Y%m%d",
]


def parse_dates(series: pd.Series, *, dayfirst: bool | None = None) -> tuple[pd.Series, str]:
    """Parse a date column with one format for the whole column; returns (datetimes, format used)."""
    s = series.astype("string").str.strip()
    s = s.str.replace(r"(Z|[+-]\d\d:?\d\d)$", "", regex=True)  # wall-clock times, tag dropped
    present = s.notna() & (s != "")
    if not present.any():
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]"), "none"
    sample = s[present]
    # choose the format on a spread-out sample, then parse the whole column once with it
    probe = sample.iloc[np.linspace(0, len(sample) - 1, min(len(sample), 2000)).astype(int)]
    nums = pd.to_numeric(probe, errors="coerce")
    if (
        nums.notna().mean() > 0.95
        and nums.between(10000, 80000).mean() > 0.95
        and not sample.str.len().eq(8).all()
    ):
        out = pd.to_datetime(pd.to_numeric(s, errors="coerce"), unit="D", origin="1899-12-30")
        return out.astype("datetime64[ns]"), "excel serial"
    best, best_fmt, best_ok = None, "", -1.0
    formats = list(_DATE_FORMATS)
    slash = sample.str.contains(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}", regex=True).mean() > 0.5
    if slash:
        first = pd.to_numeric(sample.str.extract(r"^(\d{1,2})")[0], errors="coerce")
        second = pd.to_numeric(sample.str.extract(r"^\d{1,2}[/.-](\d{1,2})")[0], errors="coerce")
        if dayfirst is None:
            dayfirst = bool((first > 12).any()) or not bool((second > 12).any())
        for sep in ("/", "-", "."):
            for tail in (" %H:%M:%S", " %H:%M", " %I:%M:%S %p", " %I:%M %p", ""):
                formats.insert(0, f"%d{sep}%m{sep}%Y{tail}" if dayfirst else f"%m{sep}%d{sep}%Y{tail}")
    for fmt in formats:
        ok = float(pd.to_datetime(probe, format=fmt, errors="coerce").notna().mean())
        if ok > best_ok:
            best_fmt, best_ok = fmt, ok
        if ok == 1.0:
            break
    best = pd.to_datetime(s, format=best_fmt, errors="coerce")
    best_ok = float(best[present].notna().mean())
    if best_ok < 0.5:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(s, errors="coerce", format="mixed", dayfirst=bool(dayfirst))
        if float(parsed[present].notna().mean()) > best_ok:
            best, best_fmt = parsed, "mixed"
    assert best is not None
    return best.astype("datetime64[ns]"), best_fmt


@dataclass(frozen=True)
class Times:
    """When each row happened: ``occurred_at`` plus an optional window, and the format used."""

    occurred_at: pd.Series
    occurred_from: pd.Series | None
    occurred_to: pd.Series | None
    date_format: str

    @property
    def present(self) -> bool:
        """True when the source has a usable date column."""
        return self.date_format != "none"


def _split_columns(df: pd.DataFrame, cols: dict[str, str]) -> pd.Series:
    """Timestamps from separate year/month[/day/hour/minute] columns."""
    parts = {
        k: pd.to_numeric(df[cols[k]], errors="coerce")
        for k in ("year", "month", "day", "hour", "minute")
        if k in cols
    }
    frame = pd.DataFrame(
        {
            k: parts.get(k, pd.Series(1 if k == "day" else 0, index=df.index))
            for k in ("year", "month", "day", "hour", "minute")
        }
    )
    return pd.to_datetime(frame, errors="coerce").astype("datetime64[ns]")


def read_times(df: pd.DataFrame, cols: dict[str, str], *, dayfirst: bool | None = None) -> Times:
    """Parse the date role(s) in ``cols`` (``date``, ``date_from``/``date_to`` or split columns)."""
    if "date" in cols:
        t, fmt = parse_dates(df[cols["date"]], dayfirst=dayfirst)
    elif "date_from" in cols:
        t, fmt = parse_dates(df[cols["date_from"]], dayfirst=dayfirst)
    elif "year" in cols and "month" in cols:
        t, fmt = _split_columns(df, cols), "split columns"
    else:
        t, fmt = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]"), "none"
    t_from = parse_dates(df[cols["date_from"]], dayfirst=dayfirst)[0] if "date_from" in cols else None
    t_to = parse_dates(df[cols["date_to"]], dayfirst=dayfirst)[0] if "date_to" in cols else None
    return Times(t, t_from, t_to, fmt)
