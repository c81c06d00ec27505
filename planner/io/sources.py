"""Open a source (file or PostGIS table) as a table, without interpreting its columns.

Supported: CSV/TSV/TXT (optionally gzipped), Excel, GeoJSON, GeoPackage, Shapefile (plain or
zipped), FlatGeobuf, KML, GML, GeoParquet and ``postgresql://`` URLs.
"""

from __future__ import annotations

import io as _io
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd

from planner.errors import DataLoadError

VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".fgb", ".kml", ".gml"}
TABLE_SUFFIXES = {".csv", ".tsv", ".txt", ".gz", ".xlsx", ".xls"}


def source_name(source: str | Path) -> str:
    """How a source is named in messages: the path, or a database URL without its credentials."""
    return str(source).rsplit("@", maxsplit=1)[-1]


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
