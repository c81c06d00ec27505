"""Read incident points, validate them, and quarantine (never drop) the rows that fail.

``read_incidents`` returns an :class:`IngestResult`: the accepted incidents (canonical columns of
``docs/CONTRACTS.md`` in the analysis CRS, every source column kept), the quarantined rows (all
source columns plus ``reason`` and ``source_row``) and a report in which
``rows_read == rows_accepted + rows_quarantined`` always holds.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS, Transformer

from planner import _validate
from planner import crs as crs_mod
from planner.errors import ValidationError
from planner.io.categories import normalise_category
from planner.io.dates import Times, read_times
from planner.io.detect import ROLE_NAMES, coordinates_of, detect_columns, is_projected_crs, source_crs_of
from planner.io.fitness import fitness_report, time_resolution
from planner.io.sources import read_table, source_name

logger = logging.getLogger(__name__)

CANONICAL = ("incident_id", "occurred_at", "occurred_from", "occurred_to", "category")


@dataclass(frozen=True)
class IngestReport:
    """What ingest read, accepted, set aside and decided."""

    source: str
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    quarantine_reasons: dict[str, int]
    columns_used: dict[str, str]
    crs: str
    analysis_crs: str
    time_resolution: str
    date_min: str | None
    date_max: str | None
    duplicate_location_share: float
    exact_duplicates: int
    warnings: list[str] = field(default_factory=list)
    fitness: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class IngestResult:
    """Accepted incidents, quarantined rows and the report."""

    incidents: gpd.GeoDataFrame
    quarantine: pd.DataFrame
    report: IngestReport


@dataclass(frozen=True)
class _SourcePoints:
    """Coordinates as written in the source, the CRS they are in and how they were found."""

    xs: np.ndarray
    ys: np.ndarray
    crs: CRS
    kind: str  # 'xy', 'lonlat' or 'geometry'
    swapped: bool


def read_incidents(
    source: str | Path,
    *,
    crs: Any = None,
    analysis_crs: Any = None,
    columns: dict[str, str] | None = None,
    layer: str | None = None,
    query: str | None = None,
    dayfirst: bool | None = None,
    drop_duplicates: bool = False,
    study_area: gpd.GeoDataFrame | None = None,
    now: Any = None,
    default_category: str | None = None,
) -> IngestResult:
    """Read incident points, validate them, and quarantine (never drop) the rows that fail.

    Parameters
    ----------
    source : path or URL
        CSV/TSV (optionally gzipped), Excel, GeoJSON, GeoPackage (``layer=``), Shapefile (plain or
        zipped), FlatGeobuf, GeoParquet, or a ``postgresql://`` URL with ``layer=`` (table) or ``query=``.
    crs : optional
        CRS the coordinates are written in (needed for bare projected numbers).
    analysis_crs : optional
        Projected metric CRS to transform into (default: the source CRS if projected in metres, else
        the UTM zone of the data, logged).
    columns : dict, optional
        Role → column overrides (roles: x, y, lon, lat, wkt, latlon, date, date_from, date_to, year,
        month, day, hour, minute, category, id).
    layer, query : str, optional
        GeoPackage layer or PostGIS table; or an SQL query for PostGIS.
    dayfirst : bool, optional
        Force dd/mm (True) or mm/dd (False) for ambiguous dates (default: decided from the data).
    drop_duplicates : bool
        Quarantine exact duplicate records (same place, time and category) instead of keeping them.
    study_area : GeoDataFrame, optional
        Points outside it (beyond 1 km) are quarantined.
    now : optional
        Dates after this are "in the future" (default: today + 2 days).
    default_category : str, optional
        Category of incidents whose category is missing — all of them when the file has no category
        column (a file of burglaries only, say); without it they are ``unknown``.

    Returns
    -------
    IngestResult
        Incidents in the analysis CRS (metres), the quarantine table and the report.
    """
    name = source_name(source)
    df = read_table(source, layer=layer, query=query)
    if len(df) == 0:
        raise ValidationError(f"{name} has a header but no rows. Give a file with at least one incident.")
    df = df.reset_index(drop=True)
    cols = detect_columns(df, columns, source=name, prefer_xy=is_projected_crs(crs))
    points = _source_points(df, cols, name, crs=crs)
    times = read_times(df, cols, dayfirst=dayfirst)
    warn: list[str] = []
    if points.swapped:
        warn.append(f"{name}: longitude and latitude columns appear swapped; they were swapped back.")
    reasons = _validate.RowReasons(len(df))
    _flag_source_rows(reasons, df, cols, points, times, now=now)
    if not times.present:
        warn.append(
            f"{name}: no date column found; time analyses are unavailable. Name it with columns={{'date': ...}}."
        )
    if not reasons.ok.any():
        raise ValidationError(
            f"{name}: none of its {len(df)} rows is usable. Fix the rows or name the right columns with columns=.",
            problems=[f"{n} row(s): {r}" for r, n in reasons.summary().items()],
        )
    target = _analysis_crs(points.xs[reasons.ok], points.ys[reasons.ok], points.crs, analysis_crs, name)
    gx, gy = _project(points, reasons.ok, target)
    area = crs_mod.to_analysis_crs(study_area, target).union_all() if study_area is not None else None
    _validate.flag_locations(reasons, gx, gy, study_area=area)
    exact_dup = _exact_duplicates(df, cols, gx, gy, times.occurred_at) & reasons.ok
    if drop_duplicates:
        reasons.flag(exact_dup, "exact duplicate of an earlier record")
    elif exact_dup.any():
        warn.append(
            f"{name}: {int(exact_dup.sum())} exact duplicate records (same place, time, category) were kept; "
            "pass drop_duplicates=True to set them aside."
        )
    good = reasons.ok
    quarantine = _quarantine_table(df, reasons)
    incidents = _incident_frame(
        df, cols, good, times=times, xy=np.c_[gx, gy], target=target, default_category=default_category
    )
    report = _report(
        name,
        df,
        incidents,
        quarantine,
        cols=cols,
        times=times,
        src_crs=points.crs,
        exact_dup=exact_dup,
        warn=warn,
    )
    for w in report.warnings:
        logger.warning(w)
    return IngestResult(incidents=incidents, quarantine=quarantine, report=report)


def _source_points(df: pd.DataFrame, cols: dict[str, str], name: str, *, crs: Any) -> _SourcePoints:
    xs, ys, kind = coordinates_of(df, cols, name)
    src_crs, swapped = source_crs_of(xs, ys, kind, df, crs=crs, source=name)
    if swapped:
        xs, ys = ys, xs
    return _SourcePoints(xs, ys, src_crs, kind, swapped)


def _flag_source_rows(
    reasons: _validate.RowReasons,
    df: pd.DataFrame,
    cols: dict[str, str],
    points: _SourcePoints,
    times: Times,
    *,
    now: Any,
) -> None:
    """Row checks on the values as read: geometry, coordinates, dates, ids."""
    geom_types = df.geometry.geom_type if points.kind == "geometry" else None
    _validate.flag_coordinates(
        reasons, points.xs, points.ys, geographic=points.crs.is_geographic, geom_types=geom_types
    )
    if times.present:
        column = cols.get("date", cols.get("date_from", "year/month"))
        _validate.flag_dates(reasons, times.occurred_at, column=column, now=now)
    if "id" in cols:
        _validate.flag_ids(reasons, df[cols["id"]].astype("string"), column=cols["id"])


def _project(points: _SourcePoints, ok: np.ndarray, target: CRS) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of the rows in ``ok`` in ``target`` (NaN elsewhere and where transforming fails)."""
    gx = np.full(len(points.xs), np.nan)
    gy = np.full(len(points.xs), np.nan)
    if points.crs.equals(target):
        gx[ok], gy[ok] = points.xs[ok], points.ys[ok]
    else:
        tr = Transformer.from_crs(points.crs, target, always_xy=True)
        gx[ok], gy[ok] = tr.transform(points.xs[ok], points.ys[ok])
    bad = ~(np.isfinite(gx) & np.isfinite(gy))
    gx[bad], gy[bad] = np.nan, np.nan
    return gx, gy


def _exact_duplicates(
    df: pd.DataFrame, cols: dict[str, str], gx: np.ndarray, gy: np.ndarray, t: pd.Series
) -> np.ndarray:
    """Rows repeating an earlier row's place, time and category."""
    key = {"x": gx, "y": gy, "t": t.to_numpy()}
    if "category" in cols:
        key["category"] = df[cols["category"]].astype("string").to_numpy()
    return np.asarray(pd.DataFrame(key).duplicated(keep="first").to_numpy(), dtype=bool)


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """The source table without its geometry column."""
    if isinstance(df, gpd.GeoDataFrame):
        return pd.DataFrame(df.drop(columns=[df.geometry.name]))
    return df


def _quarantine_table(df: pd.DataFrame, reasons: _validate.RowReasons) -> pd.DataFrame:
    bad = ~reasons.ok
    quarantine = _plain(df).loc[bad].copy()
    quarantine["reason"] = reasons.reasons(bad)
    quarantine["source_row"] = np.flatnonzero(bad) + 1
    return quarantine.reset_index(drop=True)


def _incident_frame(
    df: pd.DataFrame,
    cols: dict[str, str],
    good: np.ndarray,
    *,
    times: Times,
    xy: np.ndarray,
    target: CRS,
    default_category: str | None,
) -> gpd.GeoDataFrame:
    """Accepted rows with the canonical columns first; source columns that clash are renamed
    ``source_<name>``, except the one a role was read from (that one is replaced)."""
    out = _plain(df).loc[good].copy()
    if cols.get("id") == "incident_id":
        out = out.drop(columns="incident_id")  # replaced by the canonical column of the same name
    out = out.rename(columns={c: f"source_{c}" for c in CANONICAL if c in out.columns})
    if "id" in cols:
        ids = df[cols["id"]].astype("string")
    else:
        ids = pd.Series([f"row{i + 1}" for i in range(len(df))], index=df.index, dtype="string")
    out.insert(0, "incident_id", ids[good].astype(str).to_numpy())
    out.insert(1, "occurred_at", times.occurred_at[good].to_numpy())
    if times.occurred_from is not None:
        out["occurred_from"] = times.occurred_from[good].to_numpy()
    if times.occurred_to is not None:
        out["occurred_to"] = times.occurred_to[good].to_numpy()
    out.insert(2, "category", normalise_category(_categories(df, cols, default_category)[good]).to_numpy())
    incidents = gpd.GeoDataFrame(
        out, geometry=gpd.points_from_xy(xy[good, 0], xy[good, 1]), crs=target
    ).reset_index(drop=True)
    incidents.attrs["time_resolution"] = (
        time_resolution(incidents["occurred_at"]) if times.present else "none"
    )
    return incidents


def _categories(df: pd.DataFrame, cols: dict[str, str], default_category: str | None) -> pd.Series:
    """The category column as text, missing values filled with ``default_category`` when given."""
    if "category" in cols:
        cat = df[cols["category"]].astype("string")
    else:
        cat = pd.Series(pd.NA, index=df.index, dtype="string")
    if default_category is not None:
        cat = cat.fillna(default_category)
        cat = cat.mask(cat.str.strip() == "", default_category)
    return cat


def _report(
    name: str,
    df: pd.DataFrame,
    incidents: gpd.GeoDataFrame,
    quarantine: pd.DataFrame,
    *,
    cols: dict[str, str],
    times: Times,
    src_crs: CRS,
    exact_dup: np.ndarray,
    warn: list[str],
) -> IngestReport:
    incidents.attrs["source"] = name
    resolution = incidents.attrs["time_resolution"]
    xy = np.c_[incidents.geometry.x.to_numpy(), incidents.geometry.y.to_numpy()]
    dup_share = float(pd.DataFrame(xy).duplicated(keep=False).mean()) if len(xy) else 0.0
    fit = fitness_report(incidents, resolution=resolution, duplicate_location_share=dup_share)
    dated = times.present and len(incidents) > 0
    report = IngestReport(
        source=name,
        rows_read=len(df),
        rows_accepted=len(incidents),
        rows_quarantined=len(quarantine),
        quarantine_reasons={str(k): int(v) for k, v in quarantine["reason"].value_counts().items()},
        columns_used={
            **{r: str(c) for r, c in cols.items() if r in ROLE_NAMES},
            **({"date_format": times.date_format} if times.present else {}),
        },
        crs=src_crs.to_string(),
        analysis_crs=incidents.crs.to_string(),
        time_resolution=resolution,
        date_min=str(incidents["occurred_at"].min()) if dated else None,
        date_max=str(incidents["occurred_at"].max()) if dated else None,
        duplicate_location_share=round(dup_share, 4),
        exact_duplicates=int(exact_dup.sum()),
        warnings=[*warn, *fit.pop("warnings", [])],
        fitness=fit,
    )
    if report.rows_read != report.rows_accepted + report.rows_quarantined:
        raise AssertionError(f"{name}: ingest lost rows ({report.rows_read} read, {report.to_dict()})")
    return report


def _analysis_crs(xs: np.ndarray, ys: np.ndarray, src: CRS, analysis_crs: Any, name: str) -> CRS:
    if analysis_crs is not None:
        return crs_mod.choose_analysis_crs(gpd.GeoSeries([], crs=src), crs=analysis_crs)
    if crs_mod.is_metric_projected(src):
        return src
    if len(xs) == 0:
        raise ValidationError(f"{name}: no row has usable coordinates, so no analysis CRS can be chosen.")
    step = max(len(xs) // 1000, 1)
    sample = gpd.GeoSeries(gpd.points_from_xy(xs[::step], ys[::step]), crs=src)
    return crs_mod.choose_analysis_crs(sample)
