"""Read incidents and environmental layers from any common source, never losing a row.

``read_incidents`` returns an :class:`IngestResult`: the accepted incidents (canonical columns of
``docs/CONTRACTS.md`` in the analysis CRS, every source column kept), the quarantined rows (all
source columns plus ``reason`` and ``source_row``) and a report in which
``rows_read == rows_accepted + rows_quarantined`` always holds. Column roles are detected from the
names police and city portals use; ``columns=`` overrides detection.
"""

from __future__ import annotations

import io as _io
import logging
import re
import warnings
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from planner import crs as crs_mod
from planner.errors import CRSError, DataLoadError, DroppedGeometryWarning, ValidationError
from planner.fitness import fitness_report, time_resolution
from planner.surface import Surface, read_surface

logger = logging.getLogger(__name__)

VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".fgb", ".kml", ".gml"}
TABLE_SUFFIXES = {".csv", ".tsv", ".txt", ".gz", ".xlsx", ".xls"}
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


# ---------------------------------------------------------------------------------------------- reading
def _read_text_table(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    if path.suffix.lower() == ".gz":
        import gzip

        try:
            raw = gzip.decompress(raw)
        except OSError as exc:
            raise DataLoadError(
                f"{path} is not a valid gzip file ({exc}). Re-compress it or give the plain CSV."
            ) from None
    if not raw.strip():
        raise DataLoadError(f"{path} is empty. Give a file with a header row and at least one incident.")
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    first = text.split("\n", 1)[0].rstrip("\r")
    sep = max([",", ";", "\t", "|"], key=first.count)
    del text
    try:
        df = pd.read_csv(  # from the bytes: 1.5× faster than re-encoding a str for the C parser
            _io.BytesIO(raw),
            encoding=encoding,
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skipinitialspace=True,
        )
    except pd.errors.ParserError as exc:
        raise DataLoadError(
            f"{path} could not be parsed as a table: {exc}. Check the separator and quoting."
        ) from None
    except pd.errors.EmptyDataError:
        raise DataLoadError(f"{path} has no columns. Give a file with a header row.") from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _headerless(df: pd.DataFrame) -> bool:
    """True when the 'header' is really a data row of numbers (e.g. NRC x,y,date files)."""
    numeric = 0
    for c in df.columns:
        try:
            float(c)
            numeric += 1
        except ValueError:
            pass
    return numeric >= 2


def read_table(source: str | Path, *, layer: str | None = None, query: str | None = None) -> pd.DataFrame:
    """Read any supported source into a (Geo)DataFrame without interpreting its columns."""
    src = str(source)
    if src.startswith(("postgresql://", "postgres://", "postgresql+psycopg2://")):
        return _read_postgis(src, layer=layer, query=query)
    path = Path(src)
    if not path.exists():
        raise DataLoadError(
            f"{path} does not exist. Check the path (relative paths start from {Path.cwd()})."
        )
    suffix = path.suffix.lower()
    try:
        if suffix in {".csv", ".tsv", ".txt", ".gz"}:
            df = _read_text_table(path)
            if _headerless(df):
                text_df = pd.read_csv(path, header=None, dtype=str)
                names = ["x", "y", "date", *[f"col{i}" for i in range(3, text_df.shape[1])]]
                df = text_df.set_axis(names[: text_df.shape[1]], axis=1)
            return df
        if suffix in {".xlsx", ".xls"}:
            return pd.read_excel(path, dtype=str)
        if suffix == ".parquet":
            try:
                return gpd.read_parquet(path)
            except ValueError:
                return pd.read_parquet(path)
        if suffix == ".zip":
            with zipfile.ZipFile(path) as zf:
                shp = [n for n in zf.namelist() if n.lower().endswith(".shp")]
            if not shp:
                raise DataLoadError(
                    f"{path} holds no .shp file. Zip the .shp with its .shx, .dbf and .prj files."
                )
            return gpd.read_file(f"zip://{path}!{shp[0]}", engine="pyogrio")
        if suffix in VECTOR_SUFFIXES:
            return gpd.read_file(path, layer=layer, engine="pyogrio")
    except DataLoadError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, Exception) as exc:
        raise DataLoadError(
            f"{path} could not be read ({type(exc).__name__}: {str(exc)[:200]}). "
            "Check that the file is complete and in a supported format (CSV, Excel, GeoJSON, GeoPackage, "
            "Shapefile (.shp or .zip), FlatGeobuf, GeoParquet)."
        ) from None
    raise DataLoadError(
        f"{path} has an unsupported extension {suffix!r}. Use CSV/TSV (optionally .gz), Excel (.xlsx), GeoJSON, "
        "GeoPackage, Shapefile (.shp or zipped), FlatGeobuf, GeoParquet or a postgresql:// URL."
    )


def engine_url(url: str) -> str:
    """SQLAlchemy URL using the psycopg2 driver the package installs (``postgresql://`` → ``postgresql+psycopg2://``)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def _read_postgis(url: str, *, layer: str | None, query: str | None) -> gpd.GeoDataFrame:
    from sqlalchemy import create_engine, text

    if not (layer or query):
        raise DataLoadError(
            f"Reading from {url.rsplit('@', maxsplit=1)[-1]} needs a table (layer=) or an SQL query (query=)."
        )
    sql = query or f'SELECT * FROM "{layer}"'
    try:
        engine = create_engine(engine_url(url))
        with engine.connect() as conn:
            cols = conn.execute(text(f"SELECT * FROM ({sql}) AS q LIMIT 0")).keys()
            geom = next((c for c in cols if c in {"geom", "geometry", "the_geom", "wkb_geometry"}), None)
            if geom is None:
                return pd.read_sql(text(sql), conn).astype(str)
            return gpd.read_postgis(text(sql), conn, geom_col=geom)
    except Exception as exc:
        raise DataLoadError(
            f"Could not read from PostGIS ({url.rsplit('@', maxsplit=1)[-1]}): {str(exc).splitlines()[0]}"
        ) from None


# ---------------------------------------------------------------------------------------------- detection
def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")


def detect_columns(
    df: pd.DataFrame, overrides: dict[str, str] | None = None, *, source: str = "the data"
) -> dict[str, str]:
    """Role → source column from names (``overrides`` win); geometry frames need no coordinates."""
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
    if "lon" in found and "lat" in found and "x" in found and "y" in found and "x" not in overrides:
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


def _coordinates(df: pd.DataFrame, cols: dict[str, str], source: str) -> tuple[np.ndarray, np.ndarray, str]:
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


def _source_crs(
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


_DATE_FORMATS = [
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
    "%Y-%m",
    "%Y%m%d",
]


def parse_dates(series: pd.Series, *, dayfirst: bool | None = None) -> tuple[pd.Series, str]:
    """Parse a date column with one format for the whole column; returns (datetimes, format used)."""
    s = series.astype("string").str.strip()
    s = s.str.replace(r"(Z|[+-]\d\d:?\d\d)$", "", regex=True)  # wall-clock times, tag dropped
    present = s.notna() & (s != "")
    if not present.any():
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]"), "none"
    sample = s[present]
    # choose the format on a spread-out sample, then parse the whole column once with it
    probe = sample.iloc[np.linspace(0, len(sample) - 1, min(len(sample), 2000)).astype(int)]
    nums = pd.to_numeric(probe, errors="coerce")
    if (
        nums.notna().mean() > 0.95
        and nums.between(10000, 80000).mean() > 0.95
        and not sample.str.len().eq(8).all()
    ):
        out = pd.to_datetime(pd.to_numeric(s, errors="coerce"), unit="D", origin="1899-12-30")
        return out.astype("datetime64[ns]"), "excel serial"
    best, best_fmt, best_ok = None, "", -1.0
    formats = list(_DATE_FORMATS)
    slash = sample.str.contains(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}", regex=True).mean() > 0.5
    if slash:
        first = pd.to_numeric(sample.str.extract(r"^(\d{1,2})")[0], errors="coerce")
        second = pd.to_numeric(sample.str.extract(r"^\d{1,2}[/.-](\d{1,2})")[0], errors="coerce")
        if dayfirst is None:
            dayfirst = bool((first > 12).any()) or not bool((second > 12).any())
        for sep in ("/", "-", "."):
            for tail in (" %H:%M:%S", " %H:%M", " %I:%M:%S %p", " %I:%M %p", ""):
                formats.insert(0, f"%d{sep}%m{sep}%Y{tail}" if dayfirst else f"%m{sep}%d{sep}%Y{tail}")
    for fmt in formats:
        ok = float(pd.to_datetime(probe, format=fmt, errors="coerce").notna().mean())
        if ok > best_ok:
            best_fmt, best_ok = fmt, ok
        if ok == 1.0:
            break
    best = pd.to_datetime(s, format=best_fmt, errors="coerce")
    best_ok = float(best[present].notna().mean())
    if best_ok < 0.5:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(s, errors="coerce", format="mixed", dayfirst=bool(dayfirst))
        if float(parsed[present].notna().mean()) > best_ok:
            best, best_fmt = parsed, "mixed"
    assert best is not None
    return best.astype("datetime64[ns]"), best_fmt


def _times(
    df: pd.DataFrame, cols: dict[str, str], dayfirst: bool | None
) -> tuple[pd.Series, pd.Series | None, pd.Series | None, str]:
    if "date" in cols:
        t, fmt = parse_dates(df[cols["date"]], dayfirst=dayfirst)
    elif "date_from" in cols:
        t, fmt = parse_dates(df[cols["date_from"]], dayfirst=dayfirst)
    elif "year" in cols and "month" in cols:
        parts = {
            k: pd.to_numeric(df[cols[k]], errors="coerce")
            for k in ("year", "month", "day", "hour", "minute")
            if k in cols
        }
        frame = pd.DataFrame(
            {
                k: parts.get(k, pd.Series(1 if k == "day" else 0, index=df.index))
                for k in ("year", "month", "day", "hour", "minute")
            }
        )
        t = pd.to_datetime(frame, errors="coerce").astype("datetime64[ns]")
        fmt = "split columns"
    else:
        t, fmt = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]"), "none"
    t_from = parse_dates(df[cols["date_from"]], dayfirst=dayfirst)[0] if "date_from" in cols else None
    t_to = parse_dates(df[cols["date_to"]], dayfirst=dayfirst)[0] if "date_to" in cols else None
    return t, t_from, t_to, fmt


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


# ---------------------------------------------------------------------------------------------- incidents
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
    dayfirst : bool, optional
        Force dd/mm (True) or mm/dd (False) for ambiguous dates (default: decided from the data).
    drop_duplicates : bool
        Quarantine exact duplicate records (same place, time and category) instead of keeping them.
    study_area : GeoDataFrame, optional
        Points outside it (beyond 1 km) are quarantined.
    default_category : str, optional
        Category of incidents whose category is missing — all of them when the file has no category
        column (a file of burglaries only, say); without it they are ``unknown``.
    """
    name = str(source).split("@")[-1]
    df = read_table(source, layer=layer, query=query)
    if len(df) == 0:
        raise ValidationError(f"{name} has a header but no rows. Give a file with at least one incident.")
    df = df.reset_index(drop=True)
    cols = detect_columns(df, columns, source=name)
    xs, ys, kind = _coordinates(df, cols, name)
    src_crs, swapped = _source_crs(xs, ys, kind, df, crs=crs, source=name)
    warn: list[str] = []
    if swapped:
        xs, ys = ys, xs
        warn.append(f"{name}: longitude and latitude columns appear swapped; they were swapped back.")
    t, t_from, t_to, date_fmt = _times(df, cols, dayfirst)

    reason = pd.Series("", index=df.index, dtype="string")

    def flag(mask: np.ndarray | pd.Series, text: str) -> None:
        m = np.asarray(mask, dtype=bool) & (reason == "").to_numpy()
        reason[m] = text

    if kind == "geometry":
        gtype = df.geometry.geom_type.astype("string").fillna("missing")
        flag((gtype != "Point").to_numpy(), "geometry is not a point (incidents must be points)")
    flag(~(np.isfinite(xs) & np.isfinite(ys)), "missing or unparseable coordinates")
    flag((xs == 0) & (ys == 0), "coordinates are (0, 0)")
    if src_crs.is_geographic:
        flag((np.abs(xs) > 180) | (np.abs(ys) > 90), "longitude/latitude out of range")
    has_time = date_fmt != "none"
    if has_time:
        flag(
            t.isna().to_numpy(),
            f"unparseable date in column {cols.get('date', cols.get('date_from', 'year/month'))!r}",
        )
        limit = (
            pd.Timestamp(now) if now is not None else pd.Timestamp.now().normalize() + pd.Timedelta(days=2)
        )
        flag((t > limit).to_numpy(), "date in the future")
        flag((t < pd.Timestamp("1900-01-01")).to_numpy(), "date before 1900")
    else:
        warn.append(
            f"{name}: no date column found; time analyses are unavailable. Name it with columns={{'date': ...}}."
        )
    if "id" in cols:
        ids = df[cols["id"]].astype("string")
        flag(ids.isna().to_numpy(), f"missing id in column {cols['id']!r}")
        flag(ids.duplicated(keep="first").to_numpy(), f"duplicate id in column {cols['id']!r}")
        incident_id = ids
    else:
        incident_id = pd.Series([f"row{i + 1}" for i in range(len(df))], index=df.index, dtype="string")

    # transform the good points, then drop far outliers from the bulk (geocoding failures)
    ok = (reason == "").to_numpy()
    if not ok.any():
        counts = reason.value_counts()
        raise ValidationError(
            f"{name}: none of its {len(df)} rows is usable. Fix the rows or name the right columns with columns=.",
            problems=[f"{n} row(s): {r}" for r, n in counts.items()],
        )
    target = _analysis_crs(xs[ok], ys[ok], src_crs, analysis_crs, name)
    gx = np.full(len(df), np.nan)
    gy = np.full(len(df), np.nan)
    if ok.any():
        if src_crs.equals(target):
            gx[ok], gy[ok] = xs[ok], ys[ok]
        else:
            from pyproj import Transformer

            tr = Transformer.from_crs(src_crs, target, always_xy=True)
            gx[ok], gy[ok] = tr.transform(xs[ok], ys[ok])
        gx[ok & ~np.isfinite(gx)] = np.nan
        flag(ok & ~np.isfinite(gx), "coordinates could not be transformed to the analysis CRS")
        ok = (reason == "").to_numpy()
        if study_area is not None:
            area = crs_mod.to_analysis_crs(study_area, target).union_all().buffer(1000)
            flag(ok & ~shapely.contains_xy(area, gx, gy), "outside the study area (by more than 1 km)")
        elif ok.sum() >= 20:
            mx, my = np.median(gx[ok]), np.median(gy[ok])
            d = np.hypot(gx - mx, gy - my)
            scale = np.percentile(d[ok], 95)
            flag(
                ok & (d > max(5 * scale, 20_000)),
                "far outside the bulk of the data (> 5 × the 95th-percentile distance)",
            )
    dup_cols = [
        gx,
        gy,
        t.to_numpy(),
        df[cols["category"]].astype("string").to_numpy() if "category" in cols else None,
    ]
    key = pd.DataFrame({i: v for i, v in enumerate(dup_cols) if v is not None})
    exact_dup = key.duplicated(keep="first").to_numpy() & (reason == "").to_numpy()
    if drop_duplicates:
        flag(exact_dup, "exact duplicate of an earlier record")
    elif exact_dup.any():
        warn.append(
            f"{name}: {int(exact_dup.sum())} exact duplicate records (same place, time, category) were kept; "
            "pass drop_duplicates=True to set them aside."
        )

    bad = (reason != "").to_numpy()
    plain = pd.DataFrame(df.drop(columns=[df.geometry.name])) if isinstance(df, gpd.GeoDataFrame) else df
    quarantine = plain.loc[bad].copy()
    quarantine["reason"] = reason[bad].astype(str)
    quarantine["source_row"] = np.flatnonzero(bad) + 1
    good = ~bad
    out = plain.loc[good].copy()
    canonical = {"incident_id": incident_id[good].astype(str)}
    for col in ("incident_id", "occurred_at", "occurred_from", "occurred_to", "category"):
        if (
            col in out.columns
            and cols.get("id") != col
            and cols.get("date") != col
            and cols.get("category") != col
        ):
            out = out.rename(columns={col: f"source_{col}"})
    out = out.drop(columns=[c for c in ("incident_id",) if c in out.columns and cols.get("id") == c])
    if cols.get("date") == "occurred_at":
        out = out.rename(columns={"occurred_at": "source_occurred_at"})
    if cols.get("category") == "category":
        out = out.rename(columns={"category": "source_category"})
    out.insert(0, "incident_id", canonical["incident_id"].to_numpy())
    out.insert(1, "occurred_at", t[good].to_numpy())
    if t_from is not None:
        out["occurred_from"] = t_from[good].to_numpy()
    if t_to is not None:
        out["occurred_to"] = t_to[good].to_numpy()
    cat_source = (
        df[cols["category"]] if "category" in cols else pd.Series(pd.NA, index=df.index, dtype="string")
    )
    if default_category is not None:
        cat_source = cat_source.astype("string").fillna(default_category)
        cat_source = cat_source.mask(cat_source.str.strip() == "", default_category)
    out.insert(2, "category", normalise_category(cat_source[good]).to_numpy())
    incidents = gpd.GeoDataFrame(
        out, geometry=gpd.points_from_xy(gx[good], gy[good]), crs=target
    ).reset_index(drop=True)
    resolution = time_resolution(incidents["occurred_at"]) if has_time else "none"
    incidents.attrs["time_resolution"] = resolution
    incidents.attrs["source"] = name

    xy = np.c_[gx[good], gy[good]]
    dup_share = float(pd.DataFrame(xy).duplicated(keep=False).mean()) if len(xy) else 0.0
    fit = fitness_report(incidents, resolution=resolution, duplicate_location_share=dup_share)
    warn += fit.pop("warnings", [])
    reasons = quarantine["reason"].value_counts().to_dict()
    report = IngestReport(
        source=name,
        rows_read=len(df),
        rows_accepted=len(incidents),
        rows_quarantined=len(quarantine),
        quarantine_reasons={str(k): int(v) for k, v in reasons.items()},
        columns_used={
            **{r: str(c) for r, c in cols.items() if r in ROLE_NAMES},
            **({"date_format": date_fmt} if has_time else {}),
        },
        crs=src_crs.to_string(),
        analysis_crs=target.to_string(),
        time_resolution=resolution,
        date_min=str(incidents["occurred_at"].min()) if has_time and len(incidents) else None,
        date_max=str(incidents["occurred_at"].max()) if has_time and len(incidents) else None,
        duplicate_location_share=round(dup_share, 4),
        exact_duplicates=int(exact_dup.sum()),
        warnings=warn,
        fitness=fit,
    )
    assert report.rows_read == report.rows_accepted + report.rows_quarantined
    for w in warn:
        logger.warning(w)
    return IngestResult(incidents=incidents, quarantine=quarantine.reset_index(drop=True), report=report)


def _analysis_crs(xs: np.ndarray, ys: np.ndarray, src: CRS, analysis_crs: Any, name: str) -> CRS:
    if analysis_crs is not None:
        return crs_mod.choose_analysis_crs(gpd.GeoSeries([], crs=src), crs=analysis_crs)
    if crs_mod.is_metric_projected(src):
        return src
    if len(xs) == 0:
        raise ValidationError(f"{name}: no row has usable coordinates, so no analysis CRS can be chosen.")
    sample = gpd.GeoSeries(
        gpd.points_from_xy(xs[:: max(len(xs) // 1000, 1)], ys[:: max(len(xs) // 1000, 1)]), crs=src
    )
    return crs_mod.choose_analysis_crs(sample)


# ---------------------------------------------------------------------------------------------- layers
def read_layer(
    source: str | Path,
    *,
    kind: str | None = None,
    crs: Any = None,
    analysis_crs: Any = None,
    layer: str | None = None,
    query: str | None = None,
) -> gpd.GeoDataFrame:
    """Read an environmental layer (points, lines or polygons) into the analysis CRS.

    CSV files with x/y or lon/lat columns become points. Invalid polygons are repaired with
    ``make_valid`` (count in ``attrs['repaired']`` and a :class:`DroppedGeometryWarning`); empty
    geometries are set aside (``attrs['dropped']``).
    """
    name = f"{source}" + (f" (layer {layer})" if layer else "")
    what = f"layer {kind!r} from {name}" if kind else name
    df = read_table(source, layer=layer, query=query)
    if len(df) == 0:
        raise ValidationError(f"{what} is empty. Give a file with at least one feature.")
    if not isinstance(df, gpd.GeoDataFrame) or df.geometry.name not in df.columns:
        cols = detect_columns(df, source=what)
        xs, ys, ckind = _coordinates(df, cols, what)
        src = _source_crs(xs, ys, ckind, df, crs=crs, source=what)[0]
        ok = np.isfinite(xs) & np.isfinite(ys)
        gdf = gpd.GeoDataFrame(
            df.loc[ok].reset_index(drop=True), geometry=gpd.points_from_xy(xs[ok], ys[ok]), crs=src
        )
        gdf.attrs["dropped"] = int((~ok).sum())
    else:
        gdf = df
        if gdf.crs is None:
            if crs is None:
                raise CRSError(
                    f"{what} has no CRS. Pass crs= (CLI: --crs) with the CRS its coordinates are in."
                )
            gdf = gdf.set_crs(crs_mod.as_crs(crs))
        empty = gdf.geometry.isna() | gdf.geometry.is_empty
        gdf = gdf.loc[~empty].reset_index(drop=True)
        gdf.attrs["dropped"] = int(empty.sum())
    if len(gdf) == 0:
        raise ValidationError(f"{what} has no usable geometries (all empty or missing).")
    types = set(gdf.geom_type.str.replace("Multi", "", regex=False))
    if len(types) > 1:
        raise ValidationError(
            f"{what} mixes geometry types {sorted(types)}. Split it into one file per type "
            "(points, lines, polygons) and load each as its own layer."
        )
    invalid = ~gdf.is_valid
    if invalid.any():
        gdf = gdf.copy()
        gdf.loc[invalid, gdf.geometry.name] = shapely.make_valid(gdf.geometry[invalid].to_numpy())
        warnings.warn(
            f"{what}: repaired {int(invalid.sum())} invalid geometries with make_valid.",
            DroppedGeometryWarning,
            stacklevel=2,
        )
    target = crs_mod.as_crs(analysis_crs) if analysis_crs is not None else crs_mod.choose_analysis_crs(gdf)
    out = crs_mod.to_analysis_crs(gdf, target)
    out.attrs.update(
        repaired=int(invalid.sum()), dropped=gdf.attrs.get("dropped", 0), kind=kind, source=str(source)
    )
    return out


def read_raster(path: str | Path) -> Surface:
    """Read band 1 of a raster layer (e.g. lux) into a :class:`planner.surface.Surface`."""
    p = Path(path)
    if not p.exists():
        raise DataLoadError(f"{p} does not exist. Give the path of a GeoTIFF.")
    try:
        return read_surface(p)
    except Exception as exc:
        raise DataLoadError(
            f"{p} could not be read as a raster ({str(exc)[:200]}). Give a GeoTIFF."
        ) from None
