"""Night hours and time-of-day facts, defined once for every stage.

Night is the hours [19, 24) ∪ [0, 7) of local wall-clock time (the definition used by the hotspot
``night_share``, the lighting evidence and the evaluation's ``--night-only``). Whether incidents
carry a time of day at all is decided by ingest (``attrs["time_resolution"]``): with day or month
resolution every timestamp reads 00:00, which is *unknown*, not night. Some publishers write 00:00
for "time unknown" in otherwise timed data; ingest then marks those rows in the boolean column
:data:`TIME_UNKNOWN` (present only when it found such a spike), and they too have no hour of day.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

NIGHT_HOURS: tuple[int, ...] = (*range(19, 24), *range(7))
NIGHT_LABEL = "19:00–07:00"
_TIME_OF_DAY_RESOLUTIONS = frozenset({"minute", "hour"})
TIME_UNKNOWN = "time_unknown"


def has_time_of_day(resolution: str | None) -> bool:
    """True when timestamps of this resolution (``minute``, ``hour``, ...) carry an hour of day.

    ``None`` (resolution not recorded, e.g. a hand-built frame) counts as carrying one.
    """
    return resolution is None or resolution in _TIME_OF_DAY_RESOLUTIONS


def hour_known(incidents: pd.DataFrame) -> np.ndarray:
    """Boolean mask: the row's timestamp carries a real hour of day (the resolution has one, the
    date is present and ingest did not mark the time as an unknown-time placeholder).
    """
    if not has_time_of_day(incidents.attrs.get("time_resolution")) or "occurred_at" not in incidents:
        return np.zeros(len(incidents), dtype=bool)
    known = np.array(pd.to_datetime(incidents["occurred_at"]).notna(), dtype=bool)
    if TIME_UNKNOWN in incidents.columns:
        known &= ~np.asarray(incidents[TIME_UNKNOWN].fillna(False), dtype=bool)
    return known


def night_flags(occurred_at: pd.Series, resolution: str | None, unknown: Any = None) -> pd.Series:
    """Boolean series (nullable): night or not; ``<NA>`` where the hour of day is unknown (also
    where the optional boolean ``unknown`` mask, e.g. the :data:`TIME_UNKNOWN` column, is true).
    """
    t = pd.to_datetime(occurred_at)
    if not has_time_of_day(resolution):
        return pd.Series(pd.NA, index=t.index, dtype="boolean")
    flags = t.dt.hour.isin(NIGHT_HOURS).astype("boolean")
    missing = np.array(t.isna(), dtype=bool)
    if unknown is not None:
        missing |= np.asarray(pd.Series(unknown).fillna(False), dtype=bool)
    return flags.mask(missing)


def unknown_time_of(incidents: pd.DataFrame) -> np.ndarray | None:
    """The :data:`TIME_UNKNOWN` mask of ``incidents`` (None when ingest set none)."""
    if TIME_UNKNOWN not in incidents.columns:
        return None
    return np.asarray(incidents[TIME_UNKNOWN].fillna(False), dtype=bool)
