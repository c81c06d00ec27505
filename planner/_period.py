"""The period incidents cover, defined once for every rate per year.

With day (or finer) dates the period runs from the first day to the last, both included:
(last − first) + 1 day, over 365.25 days. With month-resolution dates (police.uk publishes only the
month; every date reads as the 1st) each date stands for its whole month, so the period is the
months covered: January to November is 11/12 of a year, not the 304 days between the first days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DAYS_PER_YEAR = 365.25


def _is_monthly(t: pd.Series, resolution: str | None) -> bool:
    """Month resolution as ingest recorded it; when not recorded, judged from the dates."""
    if resolution is not None:
        return resolution == "month"
    from planner.io.fitness import time_resolution

    return len(t) > 0 and time_resolution(t) == "month"


def months_covered(t: pd.Series) -> int:
    """Calendar months from the first date's month to the last's, both included."""
    first, last = t.min(), t.max()
    return int((last.year - first.year) * 12 + last.month - first.month + 1)


def period_years(occurred_at: pd.Series, resolution: str | None = None) -> float:
    """Length of the period in years (NaN without dates); see the module docstring.

    ``resolution`` is the incidents' ``attrs["time_resolution"]`` (``None``: judged from the dates).
    """
    t = pd.to_datetime(occurred_at).dropna()
    if t.empty:
        return float("nan")
    if _is_monthly(t, resolution):
        return months_covered(t) / 12.0
    days = max((t.max() - t.min()).total_seconds() / 86400.0 + 1.0, 1.0)
    return days / DAYS_PER_YEAR


def year_index(occurred_at: pd.Series, resolution: str | None = None) -> np.ndarray:
    """0 for the first year of the period, 1 for the next, …; -1 where the date is missing.

    Month data count whole months from the first month (months 0–11 are year 0).
    """
    t = pd.to_datetime(occurred_at)
    known = t.dropna()
    if known.empty:
        return np.full(len(t), -1, dtype=int)
    if _is_monthly(known, resolution):
        first = known.min()
        months = (t.dt.year - first.year) * 12 + t.dt.month - first.month
        return np.asarray(np.floor(months / 12).fillna(-1), dtype=int)
    days = (t - known.min()).dt.total_seconds() / 86400.0
    return np.asarray(np.floor(days / DAYS_PER_YEAR).fillna(-1), dtype=int)
