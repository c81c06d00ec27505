"""One writer per export format. Each takes the (already privacy-filtered) tables and writes files.

Vector layers keep the analysis CRS except GeoJSON and KML, which are EPSG:4326 as their
specifications require. Every layer carries a ``privacy`` column and, where the format has room for
it, the privacy statement as file metadata. Writers are deterministic: the same tables give the same
bytes (GeoPackage and dBase dates come from ``stamp``, zip entries carry a fixed date).
"""

from __future__ import annotations

import json
import re
import tempfile
import zipfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import geopandas as gpd
import pandas as pd
import pyogrio

from planner.export.csv_safe import write_csv
from planner.export.plan_files import _gpkg_safe
from planner.surface import Surface

#: Fixed timestamp of zip entries (the earliest a zip can hold), for byte-identical archives.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_EXTERNAL_ASSET = re.compile(r"<(?:script|link)[^>]+(?:src|href)=[\"']https?://", re.I)


def spatial(tables: dict[str, pd.DataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """The tables that have geometries."""
    return {n: t for n, t in tables.items() if isinstance(t, gpd.GeoDataFrame)}


def deterministic_zip(entries: Iterable[tuple[str, Path]], dest: Path | BinaryIO) -> Path | BinaryIO:
    """Zip ``(name, path)`` entries into ``dest`` (a path or a binary file object) with fixed dates
    and permissions, sorted by name.
    """
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, path in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, Path(path).read_bytes())
    return dest


def write_gpkg(
    tables: dict[str, pd.DataFrame],
    path: Path,
    *,
    note: str,
    params: dict[str, object],
    stamp: datetime,
) -> Path:
    """Every table as a layer of one GeoPackage, with QGIS styles in ``layer_styles``.

    The privacy statement is dataset metadata and layer metadata (``planner_privacy``).
    """
    from planner.export.styles import layer_styles_table

    if path.exists():
        path.unlink()
    meta = {"planner_privacy": note, "planner_parameters": json.dumps(params, sort_keys=True, default=str)}
    geometry_columns: dict[str, str | None] = {}
    for i, (name, table) in enumerate(tables.items()):
        safe = _gpkg_safe(table)
        pyogrio.write_dataframe(
            safe,
            path,
            layer=name,
            driver="GPKG",
            layer_metadata=meta,
            dataset_metadata={"planner_privacy": note} if i == 0 else None,
        )
        geometry_columns[name] = "geom" if isinstance(table, gpd.GeoDataFrame) else None
    styles = layer_styles_table(geometry_columns, update_time=stamp)
    if len(styles):
        pyogrio.write_dataframe(
            styles, path, layer="layer_styles", driver="GPKG", layer_options={"FID": "id"}
        )
    return path


def write_geojson(tables: dict[str, pd.DataFrame], folder: Path, *, note: str) -> list[Path]:
    """One RFC 7946 GeoJSON (EPSG:4326) per spatial layer; the note is the collection's description."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, gdf in spatial(tables).items():
        path = folder / f"{name}.geojson"
        pyogrio.write_dataframe(
            _gpkg_safe(gdf.to_crs("EPSG:4326")),
            path,
            driver="GeoJSON",
            layer_options={"RFC7946": "YES", "DESCRIPTION": note, "WRITE_NAME": "YES"},
        )
        paths.append(path)
    return paths


def shapefile_field_names(columns: Iterable[str]) -> dict[str, str]:
    """Map column names to unique dBase names of at most 10 characters (short names unchanged)."""
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for col in columns:
        if len(col) <= 10 and col.lower() not in used:
            short = col
        else:
            tokens = [t for t in re.split(r"_+", col) if t] or [col]
            lengths = [len(t) for t in tokens]
            # shorten the longest word (the last of equals) until the words and separators fit
            while sum(lengths) + len(tokens) - 1 > 10 and max(lengths) > 1:
                longest = max(lengths)
                i = len(lengths) - 1 - lengths[::-1].index(longest)
                lengths[i] -= 1
            short = "_".join(t[:n] for t, n in zip(tokens, lengths, strict=True))[:10]
            base, n = short, 1
            while short.lower() in used:
                suffix = str(n)
                short = base[: 10 - len(suffix)] + suffix
                n += 1
        mapping[col] = short
        used.add(short.lower())
    return mapping


def _dbf_text(value: str) -> str:
    """``value`` cut to dBase's 254 bytes of UTF-8 (whole characters only)."""
    return value.encode("utf-8")[:254].decode("utf-8", errors="ignore")


def write_shapefiles(tables: dict[str, pd.DataFrame], folder: Path, *, stamp: datetime) -> list[Path]:
    """One zipped Shapefile per spatial layer plus ``field_names.csv``/``.json`` (long → short names).

    dBase text is limited to 254 characters; longer values are cut and the mapping says so.
    Datetimes are written as ISO text.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    paths = []
    for name, gdf in spatial(tables).items():
        data = _gpkg_safe(gdf)
        mapping = shapefile_field_names([c for c in data.columns if c != data.geometry.name])
        for col, short in mapping.items():
            series = data[col]
            truncated = False
            if pd.api.types.is_datetime64_any_dtype(series):
                data[col] = series.dt.strftime("%Y-%m-%dT%H:%M:%S").astype("string")
            elif pd.api.types.is_string_dtype(series) or series.dtype == object:
                text = series.astype("string")
                truncated = bool((text.str.encode("utf-8").str.len() > 254).any())
                data[col] = text.map(_dbf_text, na_action="ignore").astype("string")
            rows.append({"layer": name, "column": col, "shapefile_field": short, "truncated_254": truncated})
        data = data.rename(columns=mapping)
        with tempfile.TemporaryDirectory() as tmp:
            shp = Path(tmp) / f"{name}.shp"
            pyogrio.write_dataframe(
                data,
                shp,
                driver="ESRI Shapefile",
                encoding="UTF-8",
                layer_options={"DBF_DATE_LAST_UPDATE": stamp.strftime("%Y-%m-%d")},
            )
            entries = [(p.name, p) for p in Path(tmp).iterdir()]
            dest = folder / f"{name}.shp.zip"
            deterministic_zip(entries, dest)
            paths.append(dest)
    mapping_frame = pd.DataFrame(rows, columns=["layer", "column", "shapefile_field", "truncated_254"])
    write_csv(mapping_frame, folder / "field_names.csv")
    (folder / "field_names.json").write_text(
        json.dumps(mapping_frame.to_dict(orient="records"), indent=2), encoding="utf-8"
    )
    return [*paths, folder / "field_names.csv", folder / "field_names.json"]


def write_kml(tables: dict[str, pd.DataFrame], folder: Path) -> list[Path]:
    """One KML (EPSG:4326) per spatial layer; every placemark carries the ``privacy`` field."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, gdf in spatial(tables).items():
        path = folder / f"{name}.kml"
        data = _gpkg_safe(gdf.to_crs("EPSG:4326"))
        name_field = "hotspot_id" if "hotspot_id" in data.columns else None
        options = {"NameField": name_field} if name_field else {}
        pyogrio.write_dataframe(data, path, driver="KML", dataset_options=options)
        paths.append(path)
    return paths


def write_flatgeobuf(tables: dict[str, pd.DataFrame], folder: Path, *, note: str) -> list[Path]:
    """One FlatGeobuf (analysis CRS, spatial index) per spatial layer; the note is its description.

    With the spatial index, features are stored in Hilbert-curve order, not the table's order.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, gdf in spatial(tables).items():
        path = folder / f"{name}.fgb"
        pyogrio.write_dataframe(
            _gpkg_safe(gdf), path, driver="FlatGeobuf", layer_options={"TITLE": name, "DESCRIPTION": note}
        )
        paths.append(path)
    return paths


def write_parquet(tables: dict[str, pd.DataFrame], folder: Path, *, note: str) -> list[Path]:
    """GeoParquet for spatial layers (WKB, analysis CRS), Parquet for tables; note in schema metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, table in tables.items():
        path = folder / f"{name}.parquet"
        safe = _gpkg_safe(table)
        if isinstance(safe, gpd.GeoDataFrame):
            safe.to_parquet(path, index=False)
            arrow = pq.read_table(path)
        else:
            arrow = pa.Table.from_pandas(pd.DataFrame(safe), preserve_index=False)
        metadata = {**(arrow.schema.metadata or {}), b"planner_privacy": note.encode("utf-8")}
        pq.write_table(arrow.replace_schema_metadata(metadata), path)
        paths.append(path)
    return paths


def write_csvs(tables: dict[str, pd.DataFrame], folder: Path) -> list[Path]:
    """Every table as CSV without geometry (each row carries ``privacy``)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, table in tables.items():
        paths.append(write_csv(table, folder / f"{name}.csv"))  # formulas neutralised
    return paths


def write_cogs(surfaces: dict[str, Surface], folder: Path, *, note: str) -> list[Path]:
    """Each surface as a Cloud-Optimised GeoTIFF with the privacy note as a tag."""
    import dataclasses

    folder.mkdir(parents=True, exist_ok=True)
    return [
        dataclasses.replace(s, params={**s.params, "planner_privacy": note}).to_geotiff(
            folder / f"{name}.tif", cog=True
        )
        for name, s in surfaces.items()
    ]


def banner_html(note: str, *, internal: bool) -> str:
    """A fixed banner with the privacy statement (red for internal, grey for public)."""
    from html import escape

    colour = "#b2182b" if internal else "#444444"
    return (
        f'<div class="planner-privacy" style="position:fixed;top:0;left:50%;transform:translateX(-50%);'
        f"z-index:10000;background:{colour};color:#fff;padding:4px 10px;font:bold 12px sans-serif;"
        f'border-radius:0 0 4px 4px;max-width:80%">{escape(note)}</div>'
    )


def write_html_map(plan: object, path: Path, *, note: str, internal: bool) -> Path:
    """The plan's web map as one self-contained HTML file (no external scripts or styles, no tiles)."""
    from planner.errors import DataLoadError
    from planner.maps import map_to_html, plan_map

    m = plan_map(plan, show_incidents=internal, layers=[], tiles=None)
    html = map_to_html(m, None, self_contained=True)
    if _EXTERNAL_ASSET.search(html):
        raise DataLoadError(
            "The offline map assets (Leaflet) are missing, so map.html would load scripts from the "
            "internet. Run 'make' (scripts/vendor_assets.sh) to vendor them, or export without 'html'."
        )
    html = html.replace("<body>", "<body>" + banner_html(note, internal=internal), 1)
    path.write_text(html, encoding="utf-8")
    return path
