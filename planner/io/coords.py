"""Coordinates of each row and the CRS they are written in.

:func:`coordinates_of` reads the detected coordinate columns (x/y, lon/lat, WKT or ``(lat, lon)``
text, or a geometry column); :func:`source_crs_of` decides their CRS: the file's own CRS, the one the
user gave for bare projected numbers, or EPSG:4326 when the values are longitude/latitude degrees.
Degrees stay degrees even when the user names a projected CRS (that CRS is for x/y columns), so a
file with only lon/lat columns read with ``--crs EPSG:2263`` still lands in the right place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from planner import _hints
from planner import crs as crs_mod
from planner.errors import CRSError, ValidationError
from planner.io.profile import as_numbers

_LATLON_RE = re.compile(r"^\s*\(?\s*(-?\d+(?:\.\d+)?)\s*[,; ]\s*(-?\d+(?:\.\d+)?)\s*\)?\s*$")


@dataclass(frozen=True)
class SourceCRS:
    """The CRS the coordinates are written in; whether lon/lat were swapped back; a note on why."""

    crs: CRS
    swapped: bool = False
    note: str | None = None


def _wkt_points(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    geoms = shapely.from_wkt(text.astype("string").fillna("").to_numpy(dtype=object), on_invalid="ignore")
    ok = shapely.get_type_id(geoms) == 0
    xs = np.where(ok, shapely.get_x(np.where(ok, geoms, None)), np.nan)
    ys = np.where(ok, shapely.get_y(np.where(ok, geoms, None)), np.nan)
    return xs.astype(float), ys.astype(float)


def _geometry_points(df: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    g = df.geometry
    if not len(g):
        return np.array([]), np.array([])
    pts = g.where(g.geom_type == "Point")
    usable = pts.notna() & ~pts.is_empty
    return np.asarray(np.where(usable, pts.x, np.nan), float), np.asarray(
        np.where(usable, pts.y, np.nan), float
    )


def coordinates_of(df: pd.DataFrame, cols: dict[str, str], source: str) -> tuple[np.ndarray, np.ndarray, str]:
    """x, y arrays and the kind (``'xy'``, ``'lonlat'``, ``'geometry'``) of the coordinates."""
    if isinstance(df, gpd.GeoDataFrame) and df.geometry.name in df.columns:
        xs, ys = _geometry_points(df)
        return xs, ys, "geometry"
    if "lon" in cols and "lat" in cols:
        return (
            as_numbers(df[cols["lon"]]).to_numpy(float),
            as_numbers(df[cols["lat"]]).to_numpy(float),
            "lonlat",
        )
    if "x" in cols and "y" in cols:
        return as_numbers(df[cols["x"]]).to_numpy(float), as_numbers(df[cols["y"]]).to_numpy(float), "xy"
    if "wkt" in cols:
        xs, ys = _wkt_points(df[cols["wkt"]])
        return xs, ys, "xy"
    if "latlon" in cols:
        parts = df[cols["latlon"]].astype("string").str.extract(_LATLON_RE)
        return as_numbers(parts[1]).to_numpy(float), as_numbers(parts[0]).to_numpy(float), "lonlat"
    example = _hints.hint(
        "columns={'x': 'EASTING', 'y': 'NORTHING'} or columns={'lon': ..., 'lat': ...}",
        "--column x=EASTING --column y=NORTHING (or --column lon=... --column lat=...)",
    )
    raise ValidationError(
        f"{source}: no coordinate columns found. Columns present: {list(map(str, df.columns))}. "
        f"Name them, e.g. {example}."
    )


def _inside_area_of_use(crs: CRS, lon: float, lat: float) -> bool:
    area = crs.area_of_use
    if area is None:
        return False
    return bool(area.west - 1 <= lon <= area.east + 1 and area.south - 1 <= lat <= area.north + 1)


def _crs_hint() -> str:
    option = _hints.hint("crs=", "--crs ")
    quote = "'" if option.endswith("=") else ""
    examples = ", ".join(
        f"{option}{quote}{code}{quote} ({what})"
        for code, what in (
            ("EPSG:26971", "Illinois East, metres"),
            ("EPSG:2263", "New York Long Island, US feet"),
            ("EPSG:27700", "British National Grid"),
            ("EPSG:26910", "UTM zone 10N, NAD83"),
        )
    )
    return f"Give the CRS the publisher names (often in the data dictionary), e.g. {examples}."


def _given_crs(
    given: CRS, qx: np.ndarray, qy: np.ndarray, *, degrees: bool, kind: str, source: str
) -> SourceCRS:
    """The CRS of the coordinates when the user named one: degrees stay EPSG:4326."""
    if given.is_geographic or not degrees:
        return SourceCRS(given)
    middle_lon, middle_lat = float(np.mean(qx)), float(np.mean(qy))
    if kind == "lonlat" or _inside_area_of_use(given, middle_lon, middle_lat):
        option = _hints.hint("crs=", "--crs")
        note = (
            f"{source}: the coordinates are longitude/latitude degrees, so they were read as EPSG:4326; "
            f"{option} {given.to_string()} applies to projected x/y coordinates only."
        )
        return SourceCRS(CRS.from_epsg(4326), False, note)
    return SourceCRS(given)


def source_crs_of(
    xs: np.ndarray, ys: np.ndarray, kind: str, df: pd.DataFrame, *, crs: Any, source: str
) -> SourceCRS:
    """The CRS the coordinates are written in (see the module docstring)."""
    given = crs_mod.as_crs(crs, what="crs") if crs is not None else None
    if kind == "geometry" and getattr(df, "crs", None) is not None:
        return SourceCRS(CRS.from_user_input(df.crs))
    fin = np.isfinite(xs) & np.isfinite(ys) & ~((xs == 0) & (ys == 0))
    if not fin.any():
        if given is not None:
            return SourceCRS(given)
        raise ValidationError(
            f"{source}: no row has usable coordinates; every coordinate is missing or zero."
        )
    qx = np.nanpercentile(xs[fin], [1, 99])
    qy = np.nanpercentile(ys[fin], [1, 99])
    degrees = bool(qx[0] >= -180 and qx[1] <= 180 and qy[0] >= -90 and qy[1] <= 90)
    if given is not None:
        return _given_crs(given, qx, qy, degrees=degrees, kind=kind, source=source)
    if degrees:
        return SourceCRS(CRS.from_epsg(4326))
    if qx[0] >= -90 and qx[1] <= 90 and qy[0] >= -180 and qy[1] <= 180:
        return SourceCRS(CRS.from_epsg(4326), swapped=True)
    # the 1st-99th percentiles decide (a stray value must not), but the message states the file's
    # true minimum and maximum, which is what a user checks against the CRS's extent
    raise CRSError(
        f"{source}: the coordinates are bare numbers that are not longitude/latitude "
        f"(x from {np.min(xs[fin]):.1f} to {np.max(xs[fin]):.1f}, y from {np.min(ys[fin]):.1f} to "
        f"{np.max(ys[fin]):.1f}), so the CRS they are written in cannot be guessed. {_crs_hint()}"
    )


def is_projected_crs(crs: Any) -> bool:
    """True when ``crs`` (any pyproj input, or None) names a projected CRS."""
    return crs is not None and crs_mod.as_crs(crs).is_projected


@dataclass(frozen=True)
class OtherPair:
    """Coordinates completed from the file's other coordinate pair.

    ``xs``/``ys`` are the coordinates with the rows that lacked them filled in where the other
    pair's CRS is known; ``unrecovered`` marks rows that lack them, have the other pair, but cannot
    use it (its CRS is unknown); ``reason`` is those rows' quarantine reason; ``note`` says what
    was done (None when nothing was).
    """

    xs: np.ndarray
    ys: np.ndarray
    unrecovered: np.ndarray
    reason: str = ""
    note: str | None = None


def _usable(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    return np.asarray(np.isfinite(xs) & np.isfinite(ys) & ~((xs == 0) & (ys == 0)), dtype=bool)


def fill_from_other_pair(
    xs: np.ndarray,
    ys: np.ndarray,
    df: pd.DataFrame,
    other: dict[str, str],
    *,
    target: CRS,
    crs: Any,
    source: str,
) -> OtherPair:
    """Rows without coordinates in the chosen pair take them from the other pair (``other``: the
    ``x``/``y`` or ``lon``/``lat`` columns) when its CRS is known: lon/lat are EPSG:4326; bare x/y
    are in ``crs`` (the user's, when projected). Without it, those rows are not "missing
    coordinates": their reason and the note say that ``--crs`` recovers them.

    ``target`` is the CRS of ``xs``/``ys``; the result is in it.
    """
    none = np.zeros(len(xs), dtype=bool)
    if not other:
        return OtherPair(xs, ys, none)
    is_lonlat = "lon" in other
    a, b = (other["lon"], other["lat"]) if is_lonlat else (other["x"], other["y"])
    ox, oy = as_numbers(df[a]).to_numpy(float), as_numbers(df[b]).to_numpy(float)
    rows = ~_usable(xs, ys) & _usable(ox, oy)
    if not rows.any():
        return OtherPair(xs, ys, none)
    given = crs_mod.as_crs(crs, what="crs") if crs is not None else None
    other_crs = (
        CRS.from_epsg(4326) if is_lonlat else given if given is not None and given.is_projected else None
    )
    n, pair = int(rows.sum()), f"{a!r}/{b!r}"
    lacking = "x/y" if is_lonlat else "longitude/latitude"
    if other_crs is None:
        option = _hints.hint("crs='EPSG:…'", "--crs EPSG:…")
        return OtherPair(
            xs,
            ys,
            rows,
            reason=f"no {lacking}; x/y in {pair} present but their CRS is unknown (pass {option})",
            note=(
                f"{source}: {n} row(s) have no {lacking} but do have x/y in columns {pair}; they were "
                f"set aside because the CRS of {pair} is not known. Pass {option} (the CRS of {pair}) "
                "to recover them."
            ),
        )
    filled_x, filled_y = xs.copy(), ys.copy()
    if other_crs.equals(target):
        filled_x[rows], filled_y[rows] = ox[rows], oy[rows]
    else:
        tr = Transformer.from_crs(other_crs, target, always_xy=True)
        filled_x[rows], filled_y[rows] = tr.transform(ox[rows], oy[rows])
    note = (
        f"{source}: {n} row(s) have no {lacking}; their location was taken from columns {pair} "
        f"({other_crs.to_string()})."
    )
    return OtherPair(filled_x, filled_y, none, note=note)
