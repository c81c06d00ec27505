"""Parse date and time columns: one format per column, chosen on a sample, day-first decided from the data.

Sources write when an incident happened in many ways: one date-time column (``'2024-01-05 13:45'``,
``'01/05/2024 01:45:00 PM'``, ``'2021/01/01 05:00:00+00'``), a date column plus a time column
(NYPD ``OCCUR_DATE`` + ``OCCUR_TIME``; LAPD ``DATE OCC`` + ``TIME OCC`` as HHMM numbers), a date plus an
hour (Toronto ``OCC_DATE`` + ``OCC_HOUR``), or separate ``YEAR, MONTH, DAY, HOUR, MINUTE`` columns
(Vancouver; months may be names). :func:`read_times` combines whichever the detected roles name.
Times are local wall-clock times: a UTC tag (``Z``, ``+00``) is dropped, never converted.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner.io.profile import MONTH_NAMES, strip_accents

# Header words that make a column of plain numbers a date (yyyymmdd or an Excel serial day).
DATE_TOKENS = frozenset({"date", "dt", "datetime", "timestamp", "fecha"})

_DATE_FORMATS = [
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %I:%M:%S %p",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y-%m",
    "%Y%m%d",
]
_TIME_TAILS = (" %H:%M:%S", " %H:%M", " %I:%M:%S %p", " %I:%M %p", "")
_TZ_TAG = r"(\d:\d\d(?::\d\d(?:\.\d+)?)?)\s*(?:Z|UTC|[+-]\d\d(?::?\d\d)?)$"
_HAS_TZ_TAG = r"\d:\d\d(?::\d\d(?:\.\d+)?)?\s*(?:Z|UTC|[+-]\d\d(?::?\d\d)?)$"


def _nat(index: pd.Index) -> pd.Series:
    return pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")


def _probe(sample: pd.Series) -> pd.Series:
    """At most 2000 values spread through ``sample``, to choose the format on."""
    return sample.iloc[np.linspace(0, len(sample) - 1, min(len(sample), 2000)).astype(int)]


def _excel_serial(probe: pd.Series, sample: pd.Series) -> bool:
    nums = pd.to_numeric(probe, errors="coerce")
    return bool(
        nums.notna().mean() > 0.95
        and nums.between(10000, 80000).mean() > 0.95
        and not sample.str.len().eq(8).all()
    )


def _numeric_formats(sample: pd.Series, dayfirst: bool | None) -> list[str]:
    """``d/m/Y`` or ``m/d/Y`` formats (with each time tail) when the values are written that way."""
    if sample.str.contains(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}", regex=True).mean() <= 0.5:
        return []
    if dayfirst is None:
        first = pd.to_numeric(sample.str.extract(r"^(\d{1,2})")[0], errors="coerce")
        second = pd.to_numeric(sample.str.extract(r"^\d{1,2}[/.-](\d{1,2})")[0], errors="coerce")
        dayfirst = bool((first > 12).any()) or not bool((second > 12).any())
    order = "%d{s}%m{s}%Y" if dayfirst else "%m{s}%d{s}%Y"
    return [order.format(s=sep) + tail for sep in ("/", "-", ".") for tail in _TIME_TAILS]


def _best_format(probe: pd.Series, formats: list[str]) -> str:
    best_fmt, best_ok = formats[0], -1.0
    for fmt in formats:
        ok = float(pd.to_datetime(probe, format=fmt, errors="coerce").notna().mean())
        if ok > best_ok:
            best_fmt, best_ok = fmt, ok
        if ok == 1.0:
            break
    return best_fmt


def parse_dates(series: pd.Series, *, dayfirst: bool | None = None) -> tuple[pd.Series, str]:
    """Parse a date column with one format for the whole column; returns (datetimes, format used).

    The format is chosen on a spread-out sample; ``dayfirst`` (``None``: decided from the values,
    e.g. a first number over 12) settles ``03/02/2024``. Values the format cannot read are NaT;
    when it reads fewer than half, pandas' mixed-format parser is tried as well.
    """
    s = series.astype("string").str.strip()
    present = s.notna() & (s != "")
    if not present.any():
        return _nat(series.index), "none"
    if (
        _probe(s[present]).str.contains(_HAS_TZ_TAG, regex=True).any()
    ):  # a regex over every row only if needed
        s = s.str.replace(_TZ_TAG, r"\1", regex=True)  # wall-clock times, tag dropped
    sample = s[present]
    probe = _probe(sample)
    if _excel_serial(probe, sample):
        out = pd.to_datetime(pd.to_numeric(s, errors="coerce"), unit="D", origin="1899-12-30")
        return out.astype("datetime64[ns]"), "excel serial"
    numeric = _numeric_formats(sample, dayfirst)
    fmt = _best_format(probe, [*numeric, *_DATE_FORMATS])
    best = pd.to_datetime(s, format=fmt, errors="coerce")
    missed = present & best.isna()
    if missed.any():  # other formats in the same column (a date-only value among date-times)
        first_day = dayfirst if dayfirst is not None else bool(numeric) and numeric[0].startswith("%d")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mixed = pd.to_datetime(s[missed], errors="coerce", format="mixed", dayfirst=first_day)
        best = best.astype("datetime64[ns]")
        best[missed] = mixed.astype("datetime64[ns]")
        if float(missed.mean()) > 0.5:
            fmt = "mixed"
    return best.astype("datetime64[ns]"), fmt


def parse_clock(series: pd.Series) -> pd.Series:
    """Time of day as a timedelta: ``'13:45'``, ``'13:45:10'``, ``'1:45 PM'`` or HHMM numbers
    (``2230``, ``'0845'``, ``30`` = 00:30, as LAPD writes them); NaT where unreadable.
    """
    s = series.astype("string").str.strip().str.upper()
    parts = s.str.extract(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*([AP])?\.?M?\.?$")
    hh = pd.to_numeric(parts[0], errors="coerce")
    mm = pd.to_numeric(parts[1], errors="coerce")
    ss = pd.to_numeric(parts[2], errors="coerce").fillna(0)
    pm, am = parts[3] == "P", parts[3] == "A"
    hh = hh.where(~(pm.fillna(False) & (hh < 12)), hh + 12).where(~(am.fillna(False) & (hh == 12)), 0)
    number = pd.to_numeric(s.where(parts[0].isna()), errors="coerce")
    whole = number.notna() & (number == number.round()) & (number >= 0)
    hh = hh.fillna((number // 100).where(whole))
    mm = mm.fillna((number % 100).where(whole))
    ok = hh.between(0, 23) & mm.between(0, 59) & ss.between(0, 59)
    seconds = (hh * 3600 + mm * 60 + ss).where(ok)
    return pd.to_timedelta(seconds, unit="s")


def parse_hours(series: pd.Series) -> pd.Series:
    """Hour of day (0–23) as a timedelta; NaT where not an hour."""
    h = pd.to_numeric(series.astype("string").str.strip(), errors="coerce")
    return pd.to_timedelta(h.where(h.between(0, 23) & (h == h.round())), unit="h")


def month_numbers(series: pd.Series) -> pd.Series:
    """Month numbers from numbers (``3``) or names (``'March'``, ``'Mar'``, ``'mars'``)."""
    text = series.astype("string").str.strip().str.lower().map(strip_accents, na_action="ignore")
    named = text.str.rstrip(".").map(MONTH_NAMES)
    return pd.to_numeric(text, errors="coerce").fillna(named)


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
    """Timestamps from separate year/month[/day/hour/minute] columns (months may be names)."""
    frame = pd.DataFrame(
        {
            "year": pd.to_numeric(df[cols["year"]], errors="coerce"),
            "month": month_numbers(df[cols["month"]]),
            **{
                k: pd.to_numeric(df[cols[k]], errors="coerce") if k in cols else pd.Series(d, index=df.index)
                for k, d in (("day", 1), ("hour", 0), ("minute", 0))
            },
        }
    )
    return pd.to_datetime(frame, errors="coerce").astype("datetime64[ns]")


def _with_time_of_day(
    t: pd.Series, df: pd.DataFrame, *, time_col: str | None, hour_col: str | None
) -> pd.Series:
    """``t``'s dates with the time of day from a clock column (or an hour column) where it is known."""
    if time_col is not None:
        clock = parse_clock(df[time_col])
    elif hour_col is not None:
        clock = parse_hours(df[hour_col])
    else:
        return t
    combined = t.dt.normalize() + clock
    return combined.where(clock.notna(), t).astype("datetime64[ns]")


def read_times(df: pd.DataFrame, cols: dict[str, str], *, dayfirst: bool | None = None) -> Times:
    """Parse the date role(s) in ``cols``: ``date`` (+ ``time`` or ``hour``), ``date_from``/``date_to``
    (+ ``time_to``), or split ``year``/``month``[/``day``/``hour``/``minute``] columns.
    """
    start = cols.get("date", cols.get("date_from"))
    if start is not None:
        t, fmt = parse_dates(df[start], dayfirst=dayfirst)
        t = _with_time_of_day(t, df, time_col=cols.get("time"), hour_col=cols.get("hour"))
    elif "year" in cols and "month" in cols:
        t, fmt = _split_columns(df, cols), "split columns"
    else:
        t, fmt = _nat(df.index), "none"
    if "time" in cols or ("hour" in cols and start is not None):
        fmt += f" + time of day from {cols.get('time', cols.get('hour'))!r}"
    t_to = None
    if "date_to" in cols:
        t_to = _with_time_of_day(
            parse_dates(df[cols["date_to"]], dayfirst=dayfirst)[0],
            df,
            time_col=cols.get("time_to"),
            hour_col=None,
        )
    t_from = t if ("date_from" in cols or t_to is not None) and fmt != "none" else None
    return Times(t, t_from, t_to, fmt)
