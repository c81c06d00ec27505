"""Read incident points, validate them, and quarantine (never drop) the rows that fail.

``read_incidents`` returns an :class:`IngestResult`: the accepted incidents (canonical columns of
``docs/CONTRACTS.md`` in the analysis CRS, every source column kept), the quarantined rows (all
source columns plus ``reason`` and ``source_row``) and a report in which
``rows_read == rows_accepted + rows_quarantined`` always holds.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS, Transformer

from planner import _hints, _validate
from planner import crs as crs_mod
from planner._hours import TIME_UNKNOWN
from planner.errors import ValidationError
from planner.io import multirow
from planner.io.categories import CategoryMap, load_category_map
from planner.io.coords import (
    OtherPair,
    coordinates_of,
    fill_from_other_pair,
    is_projected_crs,
    source_crs_of,
)
from planner.io.dates import Times, read_times
from planner.io.detect import ROLES, Detection, detect_roles
from planner.io.fitness import fitness_report, midnight_placeholder, time_resolution
from planner.io.groups import group_columns
from planner.io.locations import place_vocabulary
from planner.io.sources import read_table, source_name

logger = logging.getLogger(__name__)

CANONICAL = (
    "incident_id",
    "occurred_at",
    "occurred_from",
    "occurred_to",
    "category",
    "source_category",
    "location_type",
    "source_location_type",
    "victim_sex",
    "victim_age_band",
)


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
    notes: list[str] = field(default_factory=list)
    # place types: source column, accepted rows per key, source values mapped to no place type
    location_types: dict[str, Any] = field(default_factory=dict)

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
    note: str | None = None
    other: OtherPair | None = None  # rows completed from (or needing) the file's other pair


def as_category_map(category_map: Any) -> CategoryMap:
    """A :class:`CategoryMap` from a map, a path or list of paths of user files (tried first), or None."""
    if isinstance(category_map, CategoryMap):
        return category_map
    if category_map is None:
        return load_category_map()
    paths = [category_map] if isinstance(category_map, str | Path) else list(category_map)
    return load_category_map(paths)


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
    category_map: Any = None,
) -> IngestResult:
    """Read incident points, validate them, and quarantine (never drop) the rows that fail.

    Parameters
    ----------
    source : path or URL
        CSV/TSV (optionally gzipped), Excel, GeoJSON, GeoPackage (``layer=``), Shapefile (plain or
        zipped), FlatGeobuf, GeoParquet, or a ``postgresql://`` URL with ``layer=`` (table) or ``query=``.
    crs : optional
        CRS of bare projected coordinates (x/y columns). Longitude/latitude degrees are always read
        as EPSG:4326, even when a projected ``crs`` is given (the report notes it).
    analysis_crs : optional
        Projected metric CRS to transform into (default: the source CRS if projected in metres, else
        the UTM zone of the data, logged).
    columns : dict, optional
        Role → column overrides; the roles are :data:`planner.io.detect.ROLES` (x, y, lon, lat, wkt,
        latlon, date, time, hour, date_from, date_to, time_to, year, month, day, minute, category,
        id, location_type, victim_sex, victim_age). Roles not given are detected from the values
        (names break ties).
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
    category_map : CategoryMap, path or list of paths, optional
        User category-map TOML file(s) tried before the shipped map (:mod:`planner.io.categories`).

    Returns
    -------
    IngestResult
        Incidents in the analysis CRS (metres) with ``category`` (mapped) and ``source_category``
        (the publisher's name), and with a place-type column ``location_type`` (the place type of
        :mod:`planner.io.locations`: ``dwelling``, ``car_park`` ...; ``other`` when the vocabulary
        does not know the value) and ``source_location_type`` (the publisher's value); the
        quarantine table and the report.
    """
    name = source_name(source)
    df = read_table(source, layer=layer, query=query)
    if len(df) == 0:
        raise ValidationError(f"{name} has a header but no rows. Give a file with at least one incident.")
    df = df.reset_index(drop=True)
    cmap = as_category_map(category_map)
    found = detect_roles(df, columns, source=name, prefer_xy=is_projected_crs(crs), category_map=cmap)
    cols = found.roles
    points = _source_points(df, cols, name, crs=crs, other_pair=found.other_pair)
    times = read_times(df, cols, dayfirst=dayfirst)
    warn = _source_warnings(name, points, times)
    reasons = _validate.RowReasons(len(df))
    _flag_source_rows(reasons, df, cols, points, times, now=now)
    if not reasons.ok.any():
        raise ValidationError(
            f"{name}: none of its {len(df)} rows is usable. Fix the rows or name the right columns "
            f"with {_hints.hint('columns=', '--column')}.",
            problems=[f"{n} row(s): {r}" for r, n in reasons.summary().items()],
        )
    target = _analysis_crs(points.xs[reasons.ok], points.ys[reasons.ok], points.crs, analysis_crs, name)
    gx, gy = _project(points, reasons.ok, target)
    area = crs_mod.to_analysis_crs(study_area, target).union_all() if study_area is not None else None
    _validate.flag_locations(reasons, gx, gy, study_area=area)
    _incident_rows(reasons, df, found, np.c_[gx, gy], times, warn=warn, name=name)
    exact_dup = _duplicates(
        reasons, df, cols, np.c_[gx, gy], times, drop=drop_duplicates, warn=warn, name=name
    )
    quarantine = _quarantine_table(df, reasons)
    incidents = _incident_frame(
        df,
        _Accepted(cols, reasons.ok, times, np.c_[gx, gy], target, cmap, name),
        default_category=default_category,
        warn=warn,
    )
    report = _report(
        name,
        df,
        incidents,
        quarantine,
        cols=cols,
        times=times,
        src_crs=points.crs,
        source_xy=np.c_[points.xs[reasons.ok], points.ys[reasons.ok]],
        exact_dup=exact_dup,
        warn=warn,
    )
    places = _place_type_report(incidents, cols)
    notes = [*found.notes, *([places.pop("note")] if places else [])]
    report = dataclasses.replace(report, notes=notes, location_types=places)
    for w in report.warnings:
        logger.info(w)  # the report carries them (and the run's warnings); logged for --verbose
    return IngestResult(incidents=incidents, quarantine=quarantine, report=report)


def _source_warnings(name: str, points: _SourcePoints, times: Times) -> list[str]:
    warn: list[str] = []
    if points.swapped:
        warn.append(f"{name}: longitude and latitude columns appear swapped; they were swapped back.")
    if points.note:
        warn.append(points.note)
    if points.other is not None and points.other.note:
        warn.append(points.other.note)
    if not times.present:
        warn.append(
            f"{name}: no usable date column, so the analyses that need dates (rates per year, space-time "
            f"patterns, near repeats, time of day) are unavailable. If a column holds the dates, name it with "
            f"{_hints.column_hint('date', 'COLUMN')}."
        )
    return warn


def _source_points(
    df: pd.DataFrame, cols: dict[str, str], name: str, *, crs: Any, other_pair: dict[str, str]
) -> _SourcePoints:
    xs, ys, kind = coordinates_of(df, cols, name)
    found = source_crs_of(xs, ys, kind, df, crs=crs, source=name)
    if found.swapped:
        xs, ys = ys, xs
    other = fill_from_other_pair(xs, ys, df, other_pair, target=found.crs, crs=crs, source=name)
    return _SourcePoints(other.xs, other.ys, found.crs, kind, found.swapped, found.note, other)


def _flag_source_rows(
    reasons: _validate.RowReasons,
    df: pd.DataFrame,
    cols: dict[str, str],
    points: _SourcePoints,
    times: Times,
    *,
    now: Any,
) -> None:
    """Row checks on the values as read: geometry, coordinates, dates."""
    geom_types = df.geometry.geom_type if points.kind == "geometry" else None
    if points.other is not None:
        reasons.flag(points.other.unrecovered, points.other.reason)
    _validate.flag_coordinates(
        reasons, points.xs, points.ys, geographic=points.crs.is_geographic, geom_types=geom_types
    )
    if times.present:
        column = cols.get("date", cols.get("date_from", "year/month"))
        _validate.flag_dates(reasons, times.occurred_at, column=column, now=now)


def _incident_rows(
    reasons: _validate.RowReasons,
    df: pd.DataFrame,
    found: Detection,
    xy: np.ndarray,
    times: Times,
    *,
    warn: list[str],
    name: str,
) -> None:
    """One row per incident: with an id column, further rows of an incident are set aside (and
    said so); without one, an id-like column that repeats with the several-rows pattern is named.
    """
    cols = found.roles
    if "id" in cols:
        further = _validate.flag_ids(reasons, df[cols["id"]], column=cols["id"])
        if further.any():
            warn.append(multirow.further_rows_note(name, int(further.sum()), cols["id"]))
        return
    days = times.occurred_at if times.present else None
    for column in found.repeating_ids:
        seen = multirow.several_rows_per_incident(df[column], days, xy, reasons.ok, column=column)
        if seen is not None:
            warn.append(multirow.several_rows_warning(name, seen, dated=days is not None))
            return


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


def _duplicates(
    reasons: _validate.RowReasons,
    df: pd.DataFrame,
    cols: dict[str, str],
    xy: np.ndarray,
    times: Times,
    *,
    drop: bool,
    warn: list[str],
    name: str,
) -> np.ndarray:
    """Rows repeating an earlier row's place, time and category: quarantined with ``drop``, else counted."""
    key = {"x": xy[:, 0], "y": xy[:, 1], "t": times.occurred_at.to_numpy()}
    if "category" in cols:
        key["category"] = df[cols["category"]].astype("string").to_numpy()
    exact = np.asarray(pd.DataFrame(key).duplicated(keep="first").to_numpy(), dtype=bool) & reasons.ok
    if drop:
        reasons.flag(exact, "exact duplicate of an earlier record")
    elif exact.any():
        option = _hints.hint("drop_duplicates=True", "--drop-duplicates")
        warn.append(
            f"{name}: {int(exact.sum())} exact duplicate records (same place, time, category) were kept; "
            f"pass {option} to set them aside."
        )
    return exact


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


@dataclass(frozen=True)
class _Accepted:
    """What the accepted rows become: roles, mask, times, coordinates, CRS and category map."""

    cols: dict[str, str]
    good: np.ndarray
    times: Times
    xy: np.ndarray
    target: CRS
    category_map: CategoryMap
    name: str


def _incident_ids(df: pd.DataFrame, cols: dict[str, str], warn: list[str], name: str) -> pd.Series:
    """Ids from the id column; rows without one (police.uk anti-social behaviour) get ``row<N>``."""
    rows = pd.Series([f"row{i + 1}" for i in range(len(df))], index=df.index, dtype="string")
    if "id" not in cols:
        return rows
    ids = df[cols["id"]].astype("string").str.strip()
    missing = ids.isna() | (ids == "")
    if missing.any():
        warn.append(
            f"{name}: {int(missing.sum())} row(s) have no id in column {cols['id']!r}; they were given "
            "row-number ids (row<N>) and kept."
        )
    return ids.mask(missing, rows)


def _incident_frame(
    df: pd.DataFrame, acc: _Accepted, *, default_category: str | None, warn: list[str]
) -> gpd.GeoDataFrame:
    """Accepted rows with the canonical columns first; source columns that clash (in any case) are
    renamed ``source_<name>``, except the id and category columns a role was read from (their values are
    in ``incident_id`` and ``source_category``).
    """
    cols, good = acc.cols, acc.good
    out = _plain(df).loc[good].copy()
    role_of = {"incident_id": "id", "category": "category", "location_type": "location_type"}
    own = [cols[r] for c, r in role_of.items() if r in cols and str(cols[r]).lower() == c]
    out = out.drop(columns=own)
    # a clash in any case (Toronto's LOCATION_TYPE): GeoPackage field names ignore case
    out = out.rename(columns={c: f"source_{c}" for c in out.columns if str(c).lower() in CANONICAL})
    if "location_type" in cols:  # the place-type role's source column is written below
        taken = [c for c in out.columns if str(c).lower() == "source_location_type"]
        out = out.rename(columns={c: f"{c}_column" for c in taken})
    ids = _incident_ids(df, cols, warn, acc.name)
    raw = _categories(df, cols, default_category)
    mapped, _ = acc.category_map.map_values(raw)
    out.insert(0, "incident_id", ids[good].astype(str).to_numpy())
    out.insert(1, "occurred_at", acc.times.occurred_at[good].to_numpy())
    if acc.times.occurred_from is not None:
        out["occurred_from"] = acc.times.occurred_from[good].to_numpy()
    if acc.times.occurred_to is not None:
        out["occurred_to"] = acc.times.occurred_to[good].to_numpy()
    out.insert(2, "category", mapped[good].to_numpy())
    out.insert(3, "source_category", raw[good].astype("object").to_numpy())
    if "location_type" in cols:
        source = df[cols["location_type"]].astype("string").str.strip()
        out["location_type"] = place_vocabulary().map_values(source)[0][good].astype("object").to_numpy()
        out["source_location_type"] = source[good].astype("object").to_numpy()
    for column, values in group_columns(df, cols).items():
        out[column] = values[good].to_numpy()
    incidents = gpd.GeoDataFrame(
        out, geometry=gpd.points_from_xy(acc.xy[good, 0], acc.xy[good, 1]), crs=acc.target
    ).reset_index(drop=True)
    incidents.attrs["time_resolution"] = (
        time_resolution(incidents["occurred_at"]) if acc.times.present else "none"
    )
    _mark_unknown_times(incidents, warn, acc.name)
    return incidents


def _place_type_report(incidents: gpd.GeoDataFrame, cols: dict[str, str]) -> dict[str, Any]:
    """The place-type column, accepted rows per place type and the values mapped to none (with a
    ``note`` for the report's notes); empty without a place-type column.
    """
    if "location_type" not in cols:
        return {}
    keys = incidents["location_type"].astype("string")
    _, unmapped = place_vocabulary().map_values(incidents["source_location_type"])
    counts = {str(k): int(n) for k, n in keys.value_counts().items()}
    n_unmapped = sum(unmapped.values())
    note = (
        f"place types from column {cols['location_type']!r}: "
        + ", ".join(f"{k} {n}" for k, n in counts.items())
        + (f"; {int(keys.isna().sum())} row(s) without one" if keys.isna().any() else "")
    )
    if unmapped:
        shown = ", ".join(f"{v!r} ({n})" for v, n in list(unmapped.items())[:10])
        more = f" and {len(unmapped) - 10} more" if len(unmapped) > 10 else ""
        note += (
            f". {n_unmapped} row(s) carry a value the place-type vocabulary does not know, counted as "
            f"'other': {shown}{more}"
        )
    return {"column": cols["location_type"], "counts": counts, "unmapped": unmapped, "note": note}


def _mark_unknown_times(incidents: gpd.GeoDataFrame, warn: list[str], name: str) -> None:
    """A spike of records at exactly 00:00 is "time unknown": those rows get ``time_unknown`` and
    are left out of day/night and hour-of-day analyses (:func:`planner._hours.hour_known`).
    """
    unknown = midnight_placeholder(incidents["occurred_at"], incidents.attrs["time_resolution"])
    if unknown is None:
        return
    incidents[TIME_UNKNOWN] = unknown
    n = int(unknown.sum())
    warn.append(
        f"{name}: {n} record(s) ({n / len(incidents):.0%}) are at exactly 00:00, far more than at the "
        "other whole hours: 00:00 stands for 'time unknown' here, so those records have no time of "
        "day. They are left out of day/night and hour-of-day analyses (column time_unknown) and "
        "count everywhere else."
    )


def _categories(df: pd.DataFrame, cols: dict[str, str], default_category: str | None) -> pd.Series:
    """The category column as text, missing values filled with ``default_category`` when given."""
    if "category" in cols:
        cat = df[cols["category"]].astype("string").str.strip()
    else:
        cat = pd.Series(pd.NA, index=df.index, dtype="string")
    if default_category is not None:
        cat = cat.fillna(default_category)
        cat = cat.mask(cat == "", default_category)
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
    source_xy: np.ndarray,
    exact_dup: np.ndarray,
    warn: list[str],
) -> IngestReport:
    incidents.attrs["source"] = name
    resolution = incidents.attrs["time_resolution"]
    xy = np.c_[incidents.geometry.x.to_numpy(), incidents.geometry.y.to_numpy()]
    dup_share = float(pd.DataFrame(xy).duplicated(keep=False).mean()) if len(xy) else 0.0
    fit = fitness_report(
        incidents, resolution=resolution, duplicate_location_share=dup_share, source_xy=source_xy
    )
    dated = times.present and len(incidents) > 0
    report = IngestReport(
        source=name,
        rows_read=len(df),
        rows_accepted=len(incidents),
        rows_quarantined=len(quarantine),
        quarantine_reasons={str(k): int(v) for k, v in quarantine["reason"].value_counts().items()},
        columns_used={
            **{r: str(c) for r, c in cols.items() if r in ROLES},
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
    # The UTM zone of the median point: placeholders far away (Boston's -1, -1; a stray geocode)
    # are set aside only later, and must not pull the zone.
    middle = gpd.GeoSeries(gpd.points_from_xy([np.median(xs)], [np.median(ys)]), crs=src)
    return crs_mod.choose_analysis_crs(middle)
