"""Crime categories: publishers' offence names normalised to the planner's canonical names."""

from __future__ import annotations

import pandas as pd


def normalise_category(series: pd.Series) -> pd.Series:
    """Lower snake case (``'THEFT FROM VEHICLE'`` → ``'theft_from_vehicle'``); missing → ``'unknown'``."""
    s = (
        series.astype("string")
        .str.strip()
        .str.lower()
        .str.replace(r"[^a-z0-9]+", "_", regex=True)
        .str.strip("_")
    )
    return s.fillna("unknown").replace("", "unknown")
