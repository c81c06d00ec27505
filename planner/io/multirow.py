"""Several rows per incident: one row per offence, victim or vehicle, sharing an incident number.

Some publishers write an incident once per offence or per victim: the rows share the incident
number and the date, and their coordinates sit a few tens of metres apart (each geocoded on its
own). Counted as rows, such an incident weighs several times, and near-repeat (Knox) statistics
see pairs "at the same place on the same day" that are one event. :func:`several_rows_per_incident`
recognises the pattern in an id-like column that repeats; ingest then says which column to name as
the id. Once it is named, the first usable row of each incident is kept and the others are set
aside (:func:`planner._validate.flag_ids`), so incidents are counted once and every row is still reported
(``rows_read == rows_accepted + rows_quarantined``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner import _hints

# rows of one incident lie this close together (metres, the farthest pair of a group)
MAX_SPREAD_M = 250.0
# share of repeated values whose rows must share the date and place for the pattern to hold
MIN_SHARE = 0.8


@dataclass(frozen=True)
class SeveralRows:
    """An id column whose repeated values are one incident each: how many, and how far apart."""

    column: str
    incidents: int  # values that repeat
    extra_rows: int  # rows beyond the first of each
    spread_m: float  # 90th percentile of the farthest pair within a group, metres


def several_rows_per_incident(
    values: pd.Series, days: pd.Series | None, xy: np.ndarray, ok: np.ndarray, *, column: str
) -> SeveralRows | None:
    """The pattern in one column, or None: among the accepted rows (``ok``), at least
    :data:`MIN_SHARE` of the repeated values have all their rows on one calendar day (when there
    are dates) and within :data:`MAX_SPREAD_M` metres of each other (``xy`` in metres).
    """
    text = values.astype("string").str.strip()
    use = np.asarray(ok, dtype=bool) & text.notna().to_numpy() & (text != "").fillna(False).to_numpy()
    frame = pd.DataFrame({"id": text[use].to_numpy(), "x": xy[use, 0], "y": xy[use, 1]})
    frame["day"] = pd.to_datetime(days[use]).dt.normalize().to_numpy() if days is not None else pd.NaT
    sizes = frame.groupby("id").size()
    repeated = sizes[sizes > 1]
    if repeated.empty:
        return None
    groups = frame[frame["id"].isin(repeated.index)].groupby("id")
    span = groups.agg(
        xmin=("x", "min"), xmax=("x", "max"), ymin=("y", "min"), ymax=("y", "max"), n_days=("day", "nunique")
    )
    spread = np.hypot(span["xmax"] - span["xmin"], span["ymax"] - span["ymin"])
    same = (spread <= MAX_SPREAD_M) & (span["n_days"] <= 1)
    if float(same.mean()) < MIN_SHARE:
        return None
    return SeveralRows(
        column=column,
        incidents=len(repeated),
        extra_rows=int(repeated.sum() - len(repeated)),
        spread_m=float(np.percentile(spread[same], 90)),
    )


def several_rows_warning(source: str, found: SeveralRows, *, dated: bool) -> str:
    """The console/report warning: what was seen and the column to name as the id."""
    same = "have the same date and " if dated else ""
    return (
        f"{source}: column {found.column!r} repeats {found.incidents} value(s) over {found.extra_rows} "
        f"extra row(s), and rows sharing a value {same}lie within {found.spread_m:.0f} m of each other: "
        "the file has several rows per incident (one per offence or victim, say). Each row is counted "
        "as an incident now, which inflates counts and near-repeat statistics; pass "
        f"{_hints.column_hint('id', found.column)} to count incidents (the extra rows are then set "
        "aside and reported)."
    )


def further_rows_note(source: str, n_rows: int, column: str) -> str:
    """The report line once an id column is given and some incidents have several rows."""
    return (
        f"{source}: {n_rows} row(s) are further rows of incidents already counted (same id in column "
        f"{column!r}); each incident is counted once and those rows are in the quarantine table."
    )
