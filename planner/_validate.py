"""Validators: why an incident row is set aside, and checks of frames handed to the stages.

Row checks never drop anything: each gives a row its *first* failing reason in a
:class:`RowReasons`, and ingest moves the flagged rows to the quarantine table with that reason
(``rows_read == rows_accepted + rows_quarantined``). Frame checks (``validate_incidents_gdf``)
collect every problem and raise one :class:`planner.errors.ValidationError`.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.errors import ValidationError

EARLIEST_DATE = pd.Timestamp("1900-01-01")
FAR_FACTOR = (
    5.0  # a point this many times the 95th-percentile distance from the median is a geocoding failure
)
FAR_MIN_M = 20_000.0
STUDY_AREA_SLACK_M = 1000.0


class RowReasons:
    """The quarantine reason of every row; the first reason given to a row is the one kept."""

    def __init__(self, n_rows: int) -> None:
        self._reason = np.full(n_rows, "", dtype=object)

    def flag(self, mask: Any, text: str) -> None:
        """Give ``text`` as the reason to the rows in ``mask`` that have none yet."""
        m = np.asarray(mask, dtype=bool) & (self._reason == "")
        self._reason[m] = text

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of rows with no reason (so far)."""
        return np.asarray(self._reason == "", dtype=bool)

    def reasons(self, mask: np.ndarray) -> np.ndarray:
        """The reasons of the rows in ``mask``."""
        return np.asarray(self._reason[mask], dtype=str)

    def summary(self) -> dict[str, int]:
        """Reason → number of rows, most common first."""
        flagged = pd.Series(self._reason[~self.ok], dtype="string")
        return {str(k): int(v) for k, v in flagged.value_counts().items()}


def flag_coordinates(
    reasons: RowReasons,
    xs: np.ndarray,
    ys: np.ndarray,
    *,
    geographic: bool,
    geom_types: pd.Series | None = None,
) -> None:
    """Non-point geometries, missing, (0, 0) and out-of-range longitude/latitude coordinates."""
    if geom_types is not None:
        gtype = geom_types.astype("string").fillna("missing")
        reasons.flag((gtype != "Point").to_numpy(), "geometry is not a point (incidents must be points)")
    reasons.flag(~(np.isfinite(xs) & np.isfinite(ys)), "missing or unparseable coordinates")
    reasons.flag((xs == 0) & (ys == 0), "coordinates are (0, 0)")
    if geographic:
        reasons.flag((np.abs(xs) > 180) | (np.abs(ys) > 90), "longitude/latitude out of range")


def flag_dates(reasons: RowReasons, occurred_at: pd.Series, *, column: str, now: Any = None) -> None:
    """Unparseable dates, dates in the future (after ``now``, default today + 2 days) and before 1900."""
    reasons.flag(occurred_at.isna().to_numpy(), f"unparseable date in column {column!r}")
    limit = pd.Timestamp(now) if now is not None else pd.Timestamp.now().normalize() + pd.Timedelta(days=2)
    reasons.flag((occurred_at > limit).to_numpy(), "date in the future")
    reasons.flag((occurred_at < EARLIEST_DATE).to_numpy(), "date before 1900")


def flag_ids(reasons: RowReasons, ids: pd.Series, *, column: str) -> np.ndarray:
    """Repeated incident ids among the rows still accepted: the first usable row of each incident
    is kept, the others are further rows of it (several rows per incident). Missing ids are not a
    reason: ingest numbers those rows (police.uk anti-social behaviour records have no crime id).
    Returns the mask of rows flagged here.
    """
    text = ids.astype("string").str.strip()
    present = (text.notna() & (text != "")).to_numpy() & reasons.ok
    repeated = np.zeros(len(text), dtype=bool)
    repeated[present] = text[present].duplicated(keep="first").to_numpy()
    reasons.flag(repeated, f"further row of an incident already counted (same id in column {column!r})")
    return repeated


def flag_locations(
    reasons: RowReasons, gx: np.ndarray, gy: np.ndarray, *, study_area: shapely.Geometry | None
) -> None:
    """Points that could not be transformed, lie outside the study area (by more than 1 km) or,
    without a study area, far outside the bulk of the data. ``gx``/``gy`` are in metres.
    """
    reasons.flag(reasons.ok & ~np.isfinite(gx), "coordinates could not be transformed to the analysis CRS")
    ok = reasons.ok
    if study_area is not None:
        area = study_area.buffer(STUDY_AREA_SLACK_M)
        reasons.flag(ok & ~shapely.contains_xy(area, gx, gy), "outside the study area (by more than 1 km)")
    elif ok.sum() >= 20:
        d = np.hypot(gx - np.median(gx[ok]), gy - np.median(gy[ok]))
        scale = np.percentile(d[ok], 95)
        reasons.flag(
            ok & (d > max(FAR_FACTOR * scale, FAR_MIN_M)),
            "far outside the bulk of the data (> 5 × the 95th-percentile distance)",
        )


def validate_incidents_gdf(incidents: Any, *, what: str = "incidents", projected: bool = True) -> None:
    """Check a frame handed to a stage: a GeoDataFrame of points with a (projected) CRS and the
    canonical columns. Every problem is listed in one :class:`ValidationError`.
    """
    if not isinstance(incidents, gpd.GeoDataFrame):
        raise ValidationError(
            f"{what} must be a GeoDataFrame (got {type(incidents).__name__}); read it with planner.io.read_incidents."
        )
    problems: list[str] = []
    if incidents.crs is None:
        problems.append("it has no CRS; set one with .set_crs(...) or read it with planner.io.read_incidents")
    elif projected and not incidents.crs.is_projected:
        problems.append(
            f"its CRS {incidents.crs.to_string()} is geographic; transform it to a metric CRS first"
        )
    missing = [c for c in ("incident_id", "occurred_at", "category") if c not in incidents.columns]
    if missing:
        problems.append(f"columns {missing} are missing (planner.io.read_incidents adds them)")
    if len(incidents):
        types = set(incidents.geom_type.dropna().unique())
        if types - {"Point"}:
            problems.append(f"geometries must be points (found {sorted(types)})")
    if not incidents.index.is_unique:
        problems.append("its index has repeated labels; call .reset_index(drop=True)")
    if problems:
        raise ValidationError(f"{what} cannot be analysed:", problems=problems)
