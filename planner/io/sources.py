"""Open a source (file or PostGIS table) as a table, without interpreting its columns — safely.

Supported: CSV/TSV/TXT (optionally gzipped), Excel, GeoJSON, GeoPackage, Shapefile (plain or
zipped), FlatGeobuf, KML, GML, GeoParquet and ``postgresql://`` URLs.

Every file is a sandboxed read (:func:`check_source`): its first bytes must be what its extension
says (a ``.geojson`` must be JSON, a ``.gpkg`` SQLite, a ``.shp`` a shapefile, ...), because GDAL
otherwise opens whatever the content is — an OGR VRT or GDALG file can read any file on the server
or fetch URLs. GDAL virtual file systems (``/vsicurl/``, ``/vsizip/``, ...), URLs and VRT/GDALG
content are refused unless the caller opts in (:func:`allow_virtual_sources`, CLI
``--allow-virtual-sources``); network paths are refused even then, and GDAL itself has no network
(:mod:`planner.io.offline`: a file that asks for a URL, such as a GeoJSON CRS link, is refused).
Every read stays within :class:`~planner.io.limits.SourceLimits` (bytes, ratio, rows, columns,
cells, vertices), checked from metadata before decoding (:mod:`planner.io.limits`). XML
with a DOCTYPE (entity tricks) is refused; Excel is parsed with ``defusedxml`` in place. PostGIS
table names are quoted as identifiers; passwords never appear in names or messages
(:func:`redact_secrets`).
"""

from __future__ import annotations

import contextlib
import io as _io
import re
import zipfile
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import geopandas as gpd
import pandas as pd

from planner.errors import DataLoadError
from planner.io.limits import (
    DEFAULT_LIMITS,
    UPLOAD_LIMITS,
    SourceLimits,
    check_parquet,
    check_shape,
    check_text_header,
    check_xlsx,
    check_zip,
    current_limits,
    read_gzip_capped,
    source_limits,
)
from planner.io.offline import make_gdal_offline, refused_urls

__all__ = [
    "DEFAULT_LIMITS",
    "UPLOAD_LIMITS",
    "SourceLimits",
    "allow_virtual_sources",
    "check_raster_source",
    "check_source",
    "check_zip",
    "read_gzip_capped",
    "read_table",
    "source_limits",
]

VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".fgb", ".kml", ".gml"}
TABLE_SUFFIXES = {".csv", ".tsv", ".txt", ".gz", ".xlsx", ".xls"}
_SNIFF_BYTES = 64 * 1024
_MIB = 1024 * 1024

_ALLOW_VIRTUAL: ContextVar[bool] = ContextVar("planner_allow_virtual", default=False)
make_gdal_offline()  # no URL is ever fetched by GDAL while the planner reads (planner.io.offline)


@contextlib.contextmanager
def allow_virtual_sources(enabled: bool = True) -> Iterator[None]:
    """Let reads inside the block open GDAL virtual file systems, URLs and VRT/GDALG files."""
    token = _ALLOW_VIRTUAL.set(enabled)
    try:
        yield
    finally:
        _ALLOW_VIRTUAL.reset(token)


def virtual_sources_allowed() -> bool:
    """True inside :func:`allow_virtual_sources` (or after the CLI's opt-in)."""
    return _ALLOW_VIRTUAL.get()


def set_allow_virtual_sources(enabled: bool) -> None:
    """Opt in (or out) for the rest of this context: the CLI's ``--allow-virtual-sources``."""
    _ALLOW_VIRTUAL.set(bool(enabled))


# ------------------------------------------------------------------ names without secrets
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]*)@")
_DSN_PASSWORD = re.compile(r"(?i)\b(password|passwd|pwd)\s*=\s*('[^']*'|\"[^\"]*\"|[^\s&;]+)")


def redact_secrets(obj: Any) -> Any:
    """``obj`` (str, or dicts/lists of them) with URL and DSN passwords replaced by ``***``."""
    if isinstance(obj, str):
        text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:***@", obj)
        return _DSN_PASSWORD.sub(lambda m: f"{m.group(1)}=***", text)
    if isinstance(obj, dict):
        return {key: redact_secrets(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(redact_secrets(value) for value in obj)
    return obj


def public_source_name(url: str) -> str:
    """A database URL as a public file may show it: scheme, host, port and database only."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def source_name(source: str | Path) -> str:
    """How a source is named in messages: the path, or a database URL without its password."""
    return str(redact_secrets(str(source)))


# ------------------------------------------------------------------ sniffing
_NETWORK = re.compile(
    r"(?i)(/vsi(curl|s3|gs|az|adls|oss|swift|webhdfs|hdfs)|\b(https?|ftps?|s3|gs|az|abfss?|wasbs?)://)"
)


def _is_network(src: str) -> bool:
    """True for a URL or a GDAL path that reads over the network (``/vsicurl/``, ``/vsis3/``, ...)."""
    return bool(_NETWORK.search(src))


def _refuse_network(src: str) -> None:
    if _is_network(src):
        raise DataLoadError(
            f"{source_name(src)} is read over the network, and the planner has no network access while "
            "reading data (even with --allow-virtual-sources). Download the file and give its local path."
        )


def _is_virtual(src: str) -> bool:
    lowered = src.strip().lower()
    return (
        bool(re.match(r"^[/\\]?vsi[a-z0-9_]*[/\\]", lowered))  # /vsicurl/, /vsizip/, /vsis3/, ...
        or bool(re.match(r"^[a-z][a-z0-9+.\-]*://", lowered))  # http://, s3://, zip://, file://, ...
        or bool(re.match(r"^[a-z][a-z0-9_]+:(?![\\/])", lowered))  # GDAL prefixes: PG:, WFS:, CSV:...
    )


def _xml_root(head: bytes) -> tuple[str | None, bool]:
    """Local name of the root element and whether a DOCTYPE precedes it."""
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff")
    doctype = "<!doctype" in text[:_SNIFF_BYTES].lower()
    text = re.sub(r"<\?.*?\?>", "", text, flags=re.S)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"<!DOCTYPE.*?>", "", text, flags=re.S | re.I)
    match = re.search(r"<\s*([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)", text)
    return (match.group(2) if match else None), doctype


def sniff(path: Path) -> str:
    """What the first bytes of ``path`` are: ``gzip``, ``zip``, ``sqlite``, ``shp``, ``fgb``,
    ``parquet``, ``ole``, ``tiff``, ``json``, ``xml:<root>``, ``vrt`` or ``text``.
    """
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    lowered = stripped[:4096].lower()
    if b"<ogrvrtdatasource" in lowered or b"<vrtdataset" in lowered:
        return "vrt"
    magic = {
        b"\x1f\x8b": "gzip",
        b"PK\x03\x04": "zip",
        b"PK\x05\x06": "zip",
        b"SQLite format 3\x00": "sqlite",
        b"\x00\x00\x27\x0a": "shp",
        b"fgb\x03": "fgb",
        b"PAR1": "parquet",
        b"\xd0\xcf\x11\xe0": "ole",
        b"II*\x00": "tiff",
        b"MM\x00*": "tiff",
        b"II+\x00": "tiff",
    }
    for prefix, kind in magic.items():
        if head.startswith(prefix):
            return kind
    if stripped[:1] in (b"{", b"["):
        return "json"
    if stripped[:1] == b"<":
        root, _ = _xml_root(head)
        return f"xml:{(root or '').lower()}"
    return "text"


_EXPECTED = {
    ".csv": ("text",),
    ".tsv": ("text",),
    ".txt": ("text",),
    ".gz": ("gzip",),
    ".xlsx": ("zip",),
    ".xls": ("ole",),
    ".geojson": ("json",),
    ".json": ("json",),
    ".gpkg": ("sqlite",),
    ".shp": ("shp",),
    ".zip": ("zip",),
    ".fgb": ("fgb",),
    ".kml": ("xml:kml",),
    ".gml": ("xml:featurecollection", "xml:featurecollectiontype"),
    ".parquet": ("parquet",),
    ".tif": ("tiff",),
    ".tiff": ("tiff",),
}
_DRIVERS = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GPKG",
    ".shp": "ESRI Shapefile",
    ".fgb": "FlatGeobuf",
    ".kml": "KML",
    ".gml": "GML",
}
_OPEN_OPTIONS = {"GML": {"DOWNLOAD_SCHEMA": "NO", "WRITE_GFS": "NO"}}
_VIRTUAL_HINT = (
    "It can make the program read other files or fetch URLs, so it is refused. Give the data itself "
    "(CSV, GeoJSON, GeoPackage, ...), or, if you trust it, pass --allow-virtual-sources on the command line."
)


def _gdalg_inside(path: Path) -> bool:
    """True when a JSON file is a GDAL streamed-algorithm (GDALG) description."""
    with path.open("rb") as fh:
        tail = b""
        while chunk := fh.read(1 << 20):
            if b"gdal_streamed_alg" in (tail + chunk):
                return True
            tail = chunk[-32:]
    return False


def check_source(path: Path) -> str:
    """Refuse a file whose content is not what its extension says, or is a VRT/GDALG/DOCTYPE trick.

    Returns the sniffed kind. Raises :class:`DataLoadError` with the fix.
    """
    suffix = path.suffix.lower()
    kind = sniff(path)
    if kind == "vrt":
        raise DataLoadError(f"{path} holds a GDAL virtual dataset (VRT), not data. {_VIRTUAL_HINT}")
    if kind == "json" and _gdalg_inside(path):
        raise DataLoadError(f"{path} is a GDAL algorithm file (GDALG), not data. {_VIRTUAL_HINT}")
    if kind.startswith("xml:"):
        with path.open("rb") as fh:
            _, doctype = _xml_root(fh.read(_SNIFF_BYTES))
        if doctype:
            raise DataLoadError(
                f"{path} declares a DOCTYPE (XML entities can expand to gigabytes or read other files); "
                "it is refused. Export the file again without a DOCTYPE."
            )
    expected = _EXPECTED.get(suffix)
    if expected is not None and kind not in expected:
        raise DataLoadError(
            f"{path} has the extension {suffix} but its content is {_describe(kind)}; a {suffix} file must "
            "start like one. Give the file its right extension, or export it again."
        )
    return kind


def _describe(kind: str) -> str:
    if kind.startswith("xml:"):
        return f"XML with a <{kind[4:] or '?'}> root"
    return {"text": "plain text", "json": "JSON", "ole": "an old Office (OLE) file"}.get(
        kind, f"a {kind} file"
    )


def check_raster_source(path: str | Path) -> str:
    """A raster path that is a real GeoTIFF file (not a VRT, URL or virtual file system), as text.

    With :func:`allow_virtual_sources` in effect any GDAL path is let through unchanged.
    """
    text = str(path)
    make_gdal_offline()  # rasterio brings its own GDAL, loaded by now
    if _ALLOW_VIRTUAL.get():
        _refuse_network(text)
        return text
    if _is_virtual(text):
        raise DataLoadError(f"{text} is a URL or GDAL virtual file system path. {_VIRTUAL_HINT}")
    p = Path(text)
    if not p.is_file():
        raise DataLoadError(f"{p} does not exist or is not a file. Give the path of a GeoTIFF.")
    kind = sniff(p)
    if kind == "vrt":
        raise DataLoadError(f"{p} holds a GDAL virtual dataset (VRT), not a raster. {_VIRTUAL_HINT}")
    if kind != "tiff":
        raise DataLoadError(f"{p} is not a GeoTIFF (its content is {_describe(kind)}). Give a GeoTIFF.")
    return text


# ------------------------------------------------------------------ readers
def _decode(raw: bytes) -> tuple[str, str]:
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1", errors="replace"), "latin-1"


def _read_text_table(path: Path, raw: bytes, limits: SourceLimits) -> pd.DataFrame:
    if not raw.strip():
        raise DataLoadError(f"{path} is empty. Give a file with a header row and at least one incident.")
    text, encoding = _decode(raw)
    first = text.split("\n", 1)[0].rstrip("\r")
    sep = max([",", ";", "\t", "|"], key=first.count)
    del text
    check_text_header(path, raw, sep=sep, encoding=encoding, limits=limits)  # before parsing a byte more
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
    if _headerless(df):
        df = pd.read_csv(_io.BytesIO(raw), header=None, dtype=str, encoding=encoding, sep=sep)
        names = ["x", "y", "date", *[f"col{i}" for i in range(3, df.shape[1])]]
        df = df.set_axis(names[: df.shape[1]], axis=1)
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


def _read_excel(path: Path, limits: SourceLimits) -> pd.DataFrame:
    import defusedxml
    import openpyxl

    if not openpyxl.DEFUSEDXML:
        raise DataLoadError(
            "Excel files are read only with defusedxml active (it is off: OPENPYXL_DEFUSEDXML is not 'True'). "
            "Unset OPENPYXL_DEFUSEDXML, or save the sheet as CSV."
        )
    refusal = DataLoadError(
        f"{path} contains XML entity declarations (a DOCTYPE), which can expand to gigabytes or read other "
        "files; it is refused. Save the workbook again from Excel or LibreOffice, or export the sheet as CSV."
    )
    if path.suffix.lower() == ".xlsx":
        names = check_zip(path, limits)
        with zipfile.ZipFile(path) as zf:
            for name in (n for n in names if n.lower().endswith((".xml", ".rels"))):
                with zf.open(name) as fh:
                    if b"<!doctype" in fh.read(_SNIFF_BYTES).lower():
                        raise refusal
    try:
        if path.suffix.lower() == ".xlsx":
            check_xlsx(path, limits)  # header row and declared size, streamed, before the full read
        return pd.read_excel(path, dtype=str)
    except Exception as exc:
        cause: BaseException | None = exc
        while cause is not None:  # openpyxl wraps defusedxml's refusal in a ValueError
            if isinstance(cause, defusedxml.DefusedXmlException):
                raise refusal from None
            cause = cause.__cause__ or cause.__context__
        raise


def _read_vector(path: Path, *, layer: str | None, limits: SourceLimits) -> gpd.GeoDataFrame:
    import pyogrio

    suffix = path.suffix.lower()
    if suffix == ".zip":
        shp = [n for n in check_zip(path, limits) if n.lower().endswith(".shp")]
        if not shp:
            raise DataLoadError(
                f"{path} holds no .shp file. Zip the .shp with its .shx, .dbf and .prj files."
            )
        with zipfile.ZipFile(path) as zf, zf.open(shp[0]) as member:
            if not member.read(4).startswith(b"\x00\x00\x27\x0a"):
                raise DataLoadError(
                    f"{path}: {shp[0]} is not a shapefile. Zip the real .shp, .shx, .dbf and .prj files."
                )
        target, options = f"/vsizip/{path}/{shp[0]}", {}
    else:
        target, options = str(path), dict(_OPEN_OPTIONS.get(_DRIVERS.get(suffix, ""), {}))
    with refused_urls() as urls:
        info = pyogrio.read_info(target, layer=layer, **options)
        _refuse_fetches(path, urls)
        features = int(info.get("features") or 0)
        check_shape(path, rows=max(features, 0), columns=len(info.get("fields", ())) + 1, limits=limits)
        frame = gpd.read_file(target, layer=layer, engine="pyogrio", **options)
        _refuse_fetches(path, urls)
    return frame


def _refuse_fetches(path: Path, urls: list[str]) -> None:
    """Refuse a file that made GDAL ask for a URL (refused by :mod:`planner.io.offline`)."""
    if urls:
        raise DataLoadError(
            f'{path} refers to {urls[0][:200]} (e.g. a GeoJSON "crs" of type "link", or a remote schema); '
            "the planner never fetches URLs while reading data, and GDAL would otherwise put its own guess "
            "in place of what the link says. Remove the link from the file and give the CRS by name "
            '("crs": {"type": "name", "properties": {"name": "EPSG:32630"}}), or pass --crs.'
        )


def _check_size(path: Path, df: pd.DataFrame, limits: SourceLimits) -> pd.DataFrame:
    """The same limits, checked again on what was decoded (formats without metadata, e.g. Excel)."""
    check_shape(path, rows=len(df), columns=df.shape[1], limits=limits)
    if isinstance(df, gpd.GeoDataFrame) and df.geometry.name in df.columns:
        import shapely

        vertices = int(shapely.get_num_coordinates(df.geometry.to_numpy()).sum())
        if vertices > limits.max_vertices:
            raise DataLoadError(
                f"{path} has {vertices:,} vertices; the limit is {limits.max_vertices:,} per file. Simplify the "
                "geometries (e.g. to 1 m) or split the file."
            )
    return df


def read_table(source: str | Path, *, layer: str | None = None, query: str | None = None) -> pd.DataFrame:
    """Read any supported source into a (Geo)DataFrame without interpreting its columns.

    Files are checked first (:func:`check_source`) and read within the current
    :class:`SourceLimits`; see the module docstring.
    """
    src = str(source)
    if src.startswith(("postgresql://", "postgres://", "postgresql+psycopg2://")):
        return _read_postgis(src, layer=layer, query=query)
    limits = current_limits()
    if _is_virtual(src):
        if not _ALLOW_VIRTUAL.get():
            raise DataLoadError(
                f"{source_name(src)} is a URL or GDAL virtual file system path. {_VIRTUAL_HINT}"
            )
        _refuse_network(src)
        with refused_urls() as urls:
            frame = gpd.read_file(src, layer=layer, engine="pyogrio")
        _refuse_fetches(Path(src), urls)
        return frame
    path = Path(src)
    if not path.exists():
        raise DataLoadError(
            f"{path} does not exist. Check the path (relative paths start from {Path.cwd()})."
        )
    if not path.is_file():
        raise DataLoadError(f"{path} is not a file. Give the path of a data file.")
    suffix = path.suffix.lower()
    if suffix not in _EXPECTED or suffix in {".tif", ".tiff"}:
        raise DataLoadError(
            f"{path} has an unsupported extension {suffix!r}. Use CSV/TSV (optionally .gz), Excel (.xlsx), GeoJSON, "
            "GeoPackage, Shapefile (.shp or zipped), FlatGeobuf, GeoParquet or a postgresql:// URL."
        )
    if not _ALLOW_VIRTUAL.get():
        check_source(path)
    try:
        return _check_size(path, _read_checked(path, suffix, layer=layer, limits=limits), limits)
    except DataLoadError:
        raise
    except Exception as exc:
        raise DataLoadError(
            f"{path} could not be read ({type(exc).__name__}: {str(exc)[:200]}). "
            "Check that the file is complete and in a supported format (CSV, Excel, GeoJSON, GeoPackage, "
            "Shapefile (.shp or .zip), FlatGeobuf, GeoParquet)."
        ) from None


def _read_checked(path: Path, suffix: str, *, layer: str | None, limits: SourceLimits) -> pd.DataFrame:
    """Read a file whose content matched its extension, with the one reader that extension calls for."""
    if suffix in {".csv", ".tsv", ".txt"}:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise DataLoadError(
                f"{path} is {size / _MIB:,.0f} MiB; the limit is {limits.max_bytes / _MIB:,.0f} MiB per file. Split it."
            )
        return _read_text_table(path, path.read_bytes(), limits)
    if suffix == ".gz":
        return _read_text_table(path, read_gzip_capped(path, limits), limits)
    if suffix in {".xlsx", ".xls"}:
        return _read_excel(path, limits)
    if suffix == ".parquet":
        check_parquet(path, limits)  # rows, columns and bytes from the metadata, before decoding
        try:
            return gpd.read_parquet(path)
        except ValueError:
            return pd.read_parquet(path)
    return _read_vector(path, layer=layer, limits=limits)


def engine_url(url: str) -> str:
    """SQLAlchemy URL using the psycopg2 driver the package installs (``postgresql://`` → ``postgresql+psycopg2://``)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def quote_table_name(name: str) -> str:
    """A PostGIS table name (``table`` or ``schema.table``) as quoted SQL identifiers.

    Each part is wrapped in double quotes with embedded quotes doubled, so a name can never end the
    identifier and add SQL of its own. A name with more than one dot, or an empty part, is refused.
    """
    parts = str(name).split(".")
    if len(parts) > 2 or any(not p or "\x00" in p for p in parts):
        raise DataLoadError(
            f"{name!r} is not a table name. Give TABLE or SCHEMA.TABLE (the CLI's --layer, or layer= in Python)."
        )
    return ".".join('"' + p.replace('"', '""') + '"' for p in parts)


def _read_postgis(url: str, *, layer: str | None, query: str | None) -> gpd.GeoDataFrame:
    from sqlalchemy import create_engine, text

    where = public_source_name(url)
    if not (layer or query):
        raise DataLoadError(f"Reading from {where} needs a table (layer=) or an SQL query (query=).")
    sql = query or f"SELECT * FROM {quote_table_name(str(layer))}"
    try:
        engine = create_engine(engine_url(url))
        with engine.connect() as conn:
            cols = conn.execute(text(f"SELECT * FROM ({sql}) AS q LIMIT 0")).keys()
            geom = next((c for c in cols if c in {"geom", "geometry", "the_geom", "wkb_geometry"}), None)
            if geom is None:
                return pd.read_sql(text(sql), conn).astype(str)
            return gpd.read_postgis(text(sql), conn, geom_col=geom)
    except Exception as exc:
        first = str(redact_secrets(str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
        raise DataLoadError(f"Could not read from PostGIS ({where}): {first}") from None
