"""Night hours and time-of-day facts, defined once for every stage.

Night is the hours [19, 24) ∪ [0, 7) of local wall-clock time (the definition used by the hotspot
``night_share``, the lighting evidence and the evaluation's ``--night-only``). Whether incidents
carry a time of day at all is decided by ingest (``attrs["time_resolution"]``): with day or month
resolution every timestamp reads 00:00, which is *unknown*, not night.
"""

from __future__ import annotations

import pandas as pd

NIGHT_HOURS: tuple[int, ...] = (*range(19, 24), *range(7))
NIGHT_LABEL = "19:00–07:00"
_TIME_OF_DAY_RESOLUTIONS = frozenset({"minute", "hour"})


def has_time_of_day(resolution: str | None) -> bool:
    """True when timestamps of this resolution (``minute``, ``hour``, ...) carry an hour of day.

    ``None`` (resolution not recorded, e.g. a hand-built frame) counts as carrying one.
    """
    return resolution is None or resolution in _TIME_OF_DAY_RESOLUTIONS


def night_flags(occurred_at: pd.Series, resolution: str | None) -> pd.Series:
    """Boolean series (nullable): night or not; ``<NA>`` where the hour of day is unknown."""
    t = pd.to_datetime(occurred_at)
    if not has_time_of_day(resolution):
        return pd.Series(pd.NA, index=t.index, dtype="boolean")
    flags = t.dt.hour.isin(NIGHT_HOURS).astype("boolean")
    return flags.mask(t.isna())
