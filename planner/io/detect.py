"""Column roles (coordinates, date, category, id) and the CRS the coordinates are written in."""

from __future__ import annotations

import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from planner import crs as crs_mod
from planner.errors import CRSError, ValidationError

ROLE_NAMES: dict[str, list[str]] = {
    "x": ["x", "x_coord_cd", "x_coordinate", "point_x", "easting", "xcoord", "x_coord"],
    "y": ["y", "y_coord_cd", "y_coordinate", "point_y", "northing", "ycoord", "y_coord"],
    "lon": ["lon", "longitude", "lng", "long", "x_lon"],
    "lat": ["lat", "latitude", "y_lat"],
    "wkt": ["wkt", "geometry_wkt", "the_geom", "geom"],
    "latlon": ["location", "lat_lon", "latlon", "coordinates", "point"],
    "date": [
        "occurred_at",
        "date",
        "datetime",
        "date_time",
        "date_utc",
        "date_single",
        "occurred",
        "offence_date",
        "incident_date",
        "reported_date",
        "month",
        "timestamp",
    ],
    "date_from": ["date_from", "occurred_from", "from_date", "start_date", "first_occurrence_date"],
    "date_to": ["date_to", "occurred_to", "to_date", "end_date", "last_occurrence_date"],
    "year": ["year"],
    "month": ["month"],
    "day": ["day"],
    "hour": ["hour"],
    "minute": ["minute"],
    "category": [
        "category",
        "offense_type",
        "offence_type",
        "crime_type",
        "primary_type",
        "type",
        "offense",
        "offence",
        "offense_category",
        "crime_category",
    ],
    "id": ["incident_id", "uid", "id", "case_number", "crime_id", "incident_number", "objectid", "event_id"],
}
_LATLON_RE = re.compile(r"^\s*\(?\s*(-?\d+(?:\.\d+)?)\s*[,; ]\s*(-?\d+(?:\.\d+)?)\s*\)?\s*$")


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")


def detect_columns(
    df: pd.DataFrame,
    overrides: dict[str, str] | None = None,
    *,
    source: str = "the data",
    prefer_xy: bool = False,
) -> dict[str, str]:
    """Role → source column from names (``overrides`` win); geometry frames need no coordinates.

    With both x/y and lon/lat columns, lon/lat is used unless ``prefer_xy`` (set when the user
    names a projected CRS for the bare coordinates).
    """
    overrides = dict(overrides or {})
    missing = [c for c in overrides.values() if c not in df.columns]
    if missing:
        raise ValidationError(
            f"{source}: columns= names columns that are not in the file: {missing}. Available: {list(map(str, df.columns))}."
        )
    by_norm = {_norm(c): c for c in df.columns if c != "geometry"}
    found: dict[str, str] = {}
    ambiguous: list[str] = []
    for role, names in ROLE_NAMES.items():
        if role in overrides:
            continue
        matches = [by_norm[n] for n in names if n in by_norm and by_norm[n] not in found.values()]
        if matches:
            found[role] = matches[0]
        # two columns that could each be the date, the category or the id: the user must choose
        if role in {"date", "category", "id"} and len(matches) > 1 and role not in overrides:
            ambiguous.append(
                f"{role}: candidates {matches}; settle it with columns={{'{role}': '{matches[0]}'}} (CLI --column {role}={matches[0]})"
            )
    if ambiguous:
        raise ValidationError(f"{source}: more than one column could play the same role.", problems=ambiguous)
    found.update(overrides)
    has_xy = ("x" in found and "y" in found) or ("lon" in found and "lat" in found)
    for role in ("wkt", "latlon"):
        if has_xy and role in found and role not in overrides:
            found.pop(role)
    if "lon" in found and "lat" in found and "x" in found and "y" in found:
        if prefer_xy and "lon" not in overrides:
            found.pop("lon"), found.pop("lat")
        elif "x" not in overrides:
            found.pop("x"), found.pop("y")  # prefer the explicit lon/lat pair
    # with a year column, a "month" column is a month number, not a date
    if "year" in found and "date" in found and _norm(found["date"]) == "month" and "date" not in overrides:
        found["month"] = found.pop("date")
    # a "month" column holding full dates is the date column (police.uk style "2022-01")
    if "date" not in found and "month" in found and "year" not in found:
        found["date"] = found.pop("month")
    if "date" in found and found.get("month") == found["date"]:
        found.pop("month")
    return found


def _numeric(series: pd.Series) -> pd.Series:
    return pd.to_numeric(
        series.astype("string").str.strip().str.replace(",", ".", regex=False), errors="coerce"
    )


def coordinates_of(df: pd.DataFrame, cols: dict[str, str], source: str) -> tuple[np.ndarray, np.ndarray, str]:
    """x, y arrays and the kind ('xy', 'lonlat', 'geometry') of the coordinates."""
    if isinstance(df, gpd.GeoDataFrame) and df.geometry.name in df.columns:
        g = df.geometry
        pts = g.where(g.geom_type == "Point")
        xs = np.where(pts.notna() & ~pts.is_empty, pts.x, np.nan) if len(g) else np.array([])
        ys = np.where(pts.notna() & ~pts.is_empty, pts.y, np.nan) if len(g) else np.array([])
        return np.asarray(xs, float), np.asarray(ys, float), "geometry"
    if "lon" in cols and "lat" in cols:
        return _numeric(df[cols["lon"]]).to_numpy(float), _numeric(df[cols["lat"]]).to_numpy(float), "lonlat"
    if "x" in cols and "y" in cols:
        return _numeric(df[cols["x"]]).to_numpy(float), _numeric(df[cols["y"]]).to_numpy(float), "xy"
    if "wkt" in cols:
        geoms = shapely.from_wkt(
            df[cols["wkt"]].astype("string").fillna("").to_numpy(dtype=object), on_invalid="ignore"
        )
        ok = shapely.get_type_id(geoms) == 0
        xs = np.where(ok, shapely.get_x(np.where(ok, geoms, None)), np.nan)
        ys = np.where(ok, shapely.get_y(np.where(ok, geoms, None)), np.nan)
        return xs.astype(float), ys.astype(float), "xy"
    if "latlon" in cols:
        parts = df[cols["latlon"]].astype("string").str.extract(_LATLON_RE)
        return _numeric(parts[1]).to_numpy(float), _numeric(parts[0]).to_numpy(float), "lonlat"
    raise ValidationError(
        f"{source}: no coordinate columns found. Columns present: {list(map(str, df.columns))}. "
        "Name them (e.g. columns={'x': 'EASTING', 'y': 'NORTHING'} or {'lon': ..., 'lat': ...}) "
        "or use --columns on the CLI."
    )


def source_crs_of(
    xs: np.ndarray, ys: np.ndarray, kind: str, df: pd.DataFrame, *, crs: Any, source: str
) -> tuple[CRS, bool]:
    """The CRS the coordinates are written in; also whether x/y were swapped lat/lon."""
    if crs is not None:
        return crs_mod.as_crs(crs, what="crs"), False
    if kind == "geometry" and getattr(df, "crs", None) is not None:
        return CRS.from_user_input(df.crs), False
    fin = np.isfinite(xs) & np.isfinite(ys) & ~((xs == 0) & (ys == 0))
    if not fin.any():
        raise ValidationError(
            f"{source}: no row has usable coordinates; every coordinate is missing or zero."
        )
    qx = np.nanpercentile(xs[fin], [1, 99])
    qy = np.nanpercentile(ys[fin], [1, 99])
    fits_lonlat = (qx[0] >= -180 and qx[1] <= 180) and (qy[0] >= -90 and qy[1] <= 90)
    swapped = (
        (qx[0] >= -90 and qx[1] <= 90)
        and (qy[0] >= -180 and qy[1] <= 180)
        and not (qy[0] >= -90 and qy[1] <= 90)
    )
    if fits_lonlat:
        return CRS.from_epsg(4326), False
    if swapped:
        return CRS.from_epsg(4326), True
    raise CRSError(
        f"{source}: the coordinates are bare numbers that are not longitude/latitude "
        f"(x from {qx[0]:.1f} to {qx[1]:.1f}, y from {qy[0]:.1f} to {qy[1]:.1f}), so the CRS they are written in "
        "cannot be guessed. Pass crs= (CLI: --crs), e.g. --crs EPSG:26971 for Illinois East or EPSG:27700 for "
        "British National Grid."
    )


def is_projected_crs(crs: Any) -> bool:
    """True when ``crs`` (any pyproj input, or None) names a projected CRS."""
    return crs is not None and crs_mod.as_crs(crs).is_projected
