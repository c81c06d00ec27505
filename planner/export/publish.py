"""``export_plan``: a plan folder or an in-memory plan → publishable files at a privacy level.

The CLI (``planner export``) and the dashboard's Export tab both call :func:`export_plan`; an
in-memory plan is first passed through the same on-disk form ``planner run`` writes
(:func:`~planner.export.plan_files.write_plan_data` then :func:`~planner.export.plan_files.read_plan`),
so both routes export identical tables and files.

Reproducibility: file contents never depend on the clock. Dates inside files (GeoPackage
``last_change``, ``layer_styles.update_time``, the dBase header, zip entries) are set to
``SOURCE_DATE_EPOCH`` when that environment variable is set, else 1980-01-01; the only wall-clock
time is ``created_at`` in ``manifest.json``.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from planner.errors import ConfigError
from planner.export import formats as fmt
from planner.export.output_dir import atomic_output_dir, check_output_dir
from planner.export.plan_files import plan_tables, read_plan, write_plan_data
from planner.export.privacy import PrivacyReport, apply_privacy, check_privacy
from planner.io.sources import redact_secrets
from planner.plan import Plan

logger = logging.getLogger(__name__)

#: Every export format, in the order they are written.
FORMATS = ("gpkg", "geojson", "shp", "kml", "fgb", "parquet", "cog", "csv", "html", "brief")
_DESCRIPTIONS = {
    "gpkg": "plan.gpkg: every layer and table, QGIS styles in layer_styles",
    "geojson": "geojson/<layer>.geojson (EPSG:4326)",
    "shp": "shapefile/<layer>.shp.zip and field_names.csv/.json (long → 10-character names)",
    "kml": "kml/<layer>.kml (EPSG:4326)",
    "fgb": "flatgeobuf/<layer>.fgb",
    "parquet": "geoparquet/<table>.parquet",
    "cog": "rasters/<surface>.tif (Cloud-Optimised GeoTIFF)",
    "csv": "csv/<table>.csv",
    "html": "map.html (self-contained, offline)",
    "brief": "brief.html and brief.pdf (printable brief)",
}


def parse_formats(formats: str | Iterable[str] | None) -> list[str]:
    """Formats from ``"gpkg,csv"``, a list, ``"all"`` or None (all); unknown names raise ConfigError."""
    if formats is None:
        return list(FORMATS)
    items = [formats] if isinstance(formats, str) else list(formats)
    names = [n.strip().lower() for item in items for n in str(item).split(",") if n.strip()]
    if not names or "all" in names:
        return list(FORMATS)
    unknown = [n for n in names if n not in FORMATS]
    if unknown:
        raise ConfigError(
            f"Unknown export format(s): {', '.join(unknown)}. Choose from {', '.join(FORMATS)} "
            "(comma-separated), or 'all'."
        )
    return [f for f in FORMATS if f in names]


def source_date() -> datetime:
    """The timestamp written inside files: ``SOURCE_DATE_EPOCH`` if set, else 1980-01-01 UTC."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), tz=UTC)
        except ValueError:
            raise ConfigError(
                f"SOURCE_DATE_EPOCH must be whole seconds since 1970 (got {epoch!r})."
            ) from None
    return datetime(1980, 1, 1, tzinfo=UTC)


@contextmanager
def _gdal_date(stamp: datetime) -> Iterator[None]:
    """Make GDAL write ``stamp`` instead of the current time (GeoPackage ``last_change``).

    ``OGR_CURRENT_DATE`` is a process-wide GDAL option: a GeoPackage written by another thread while
    an export runs also gets ``stamp`` as its ``last_change`` (harmless, but worth knowing).
    """
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z")})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def normalised_plan(plan: Plan) -> Plan:
    """``plan`` as :func:`read_plan` would return it from a ``planner run`` folder."""
    with tempfile.TemporaryDirectory(prefix="planner-plan-") as tmp:
        write_plan_data(plan, tmp)
        return read_plan(tmp)


def export_tables(plan: Plan, report: PrivacyReport) -> dict[str, pd.DataFrame]:
    """The tables to export (after privacy), each with a ``privacy`` column.

    ``exposure`` is the hotspots' environment measures as an attribute table.
    """
    internal = report.level == "internal"
    tables = plan_tables(plan, include_incidents=internal)
    if len(plan.hotspots):
        exposure_cols = [c for c in plan.hotspots.columns if "__" in c]
        if exposure_cols:
            exposure = pd.DataFrame(plan.hotspots[["hotspot_id", *exposure_cols]])
            ordered = {}
            for name, table in tables.items():
                ordered[name] = table
                if name == "hotspots":
                    ordered["exposure"] = exposure
            tables = ordered
    label = "internal - not for publication" if internal else "public"
    out: dict[str, pd.DataFrame] = {}
    for name, table in tables.items():
        frame = table.copy()
        frame["privacy"] = label
        if isinstance(table, gpd.GeoDataFrame):
            geom = table.geometry.name
            frame = frame[[c for c in frame.columns if c != geom] + [geom]]
        out[name] = frame
    return out


def _checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export_plan(
    plan_or_dir: Plan | str | Path,
    out_dir: str | Path,
    *,
    formats: str | Iterable[str] | None = None,
    privacy: str = "public",
    k: int | None = None,
    round_to: int = 1,
    top_hotspots: int = 5,
    overwrite: bool = False,
) -> dict[str, list[Path]]:
    """Export a plan in ``formats`` at the ``privacy`` level into ``out_dir``, all or nothing.

    Parameters
    ----------
    plan_or_dir : Plan or path
        An in-memory plan (the dashboard's) or a folder written by ``planner run --out``.
    out_dir : path
        Folder for the files (created). A ``manifest.json`` is always written, last. The files are
        written into a temporary folder beside it that takes its name when every file is written.
    formats : str or list of str, optional
        Any of :data:`FORMATS` (default: all).
    privacy : {"public", "internal"}
        ``public`` (default) is safe to publish (see :mod:`planner.export.disclosure`); ``internal``
        includes incident points and says so in every file.
    k : int, optional
        Minimum incidents for a published count or area; default the run's ``k_min`` (5).
    round_to : int
        Round published counts to multiples of this (1 = no rounding); public only.
    top_hotspots : int
        Hotspots with a page of their own in the brief.
    overwrite : bool
        Allow a non-empty ``out_dir``; the files an earlier export or run wrote there are replaced.

    Returns
    -------
    dict
        Written paths by format (plus ``"manifest"``).
    """
    chosen = parse_formats(formats)
    k_value = int(k) if k is not None else None
    check_privacy(privacy, k_value or 1, round_to)
    if top_hotspots < 0:
        raise ConfigError(f"top_hotspots must be 0 or more (got {top_hotspots}).")
    check_output_dir(out_dir, overwrite=overwrite)
    if isinstance(plan_or_dir, Plan):
        source = "in-memory plan (dashboard)"
        plan = normalised_plan(plan_or_dir)
    else:
        source = str(plan_or_dir)
        plan = read_plan(plan_or_dir)
    k_value = k_value if k_value is not None else int(plan.config.k_min)
    published, report = apply_privacy(plan, privacy=privacy, k=k_value, round_to=round_to)
    if report.level == "public" and not isinstance(plan_or_dir, Plan):
        source = Path(source).name
    out = Path(out_dir)
    stamp = source_date()
    with atomic_output_dir(out, overwrite=overwrite) as tmp:
        written = write_formats(published, tmp, chosen, report=report, top_hotspots=top_hotspots, stamp=stamp)
        written["manifest"] = [
            write_export_manifest(
                published, tmp, written, report=report, source=source, formats=chosen, stamp=stamp
            )
        ]
    return {name: [out / p.relative_to(tmp) for p in paths] for name, paths in written.items()}


def write_formats(
    published: Plan,
    out: Path,
    chosen: list[str],
    *,
    report: PrivacyReport,
    top_hotspots: int,
    stamp: datetime,
) -> dict[str, list[Path]]:
    """Write ``published`` (already at its privacy level) in each of ``chosen`` formats into ``out``."""
    tables = export_tables(published, report)
    internal = report.level == "internal"
    written: dict[str, list[Path]] = {}
    writers = {
        "gpkg": lambda: [
            fmt.write_gpkg(
                tables, out / "plan.gpkg", note=report.note, params=published.parameters, stamp=stamp
            )
        ],
        "geojson": lambda: fmt.write_geojson(tables, out / "geojson", note=report.note),
        "shp": lambda: fmt.write_shapefiles(tables, out / "shapefile", stamp=stamp),
        "kml": lambda: fmt.write_kml(tables, out / "kml"),
        "fgb": lambda: fmt.write_flatgeobuf(tables, out / "flatgeobuf", note=report.note),
        "parquet": lambda: fmt.write_parquet(tables, out / "geoparquet", note=report.note),
        "cog": lambda: fmt.write_cogs(published.surfaces, out / "rasters", note=report.note),
        "csv": lambda: fmt.write_csvs(tables, out / "csv"),
        "html": lambda: [
            fmt.write_html_map(published, out / "map.html", note=report.note, internal=internal)
        ],
    }
    with _gdal_date(stamp):
        for name in chosen:
            logger.info("writing %s", name)
            if name == "brief":
                from planner.export.brief import write_brief

                written[name] = write_brief(
                    published, out, report=report, top_hotspots=top_hotspots, stamp=stamp
                )
            else:
                written[name] = writers[name]()
    return written


def write_export_manifest(
    plan: Plan,
    out: Path,
    written: dict[str, list[Path]],
    *,
    report: PrivacyReport,
    source: str,
    formats: list[str],
    stamp: datetime,
) -> Path:
    """``manifest.json``: the run manifest (config, parameters, inputs, versions) plus the export.

    ``plan`` is already at its privacy level (public: dates to the month, counts protected, names
    without folders); passwords are redacted at every level.
    """
    manifest: dict[str, Any] = plan.manifest(privacy=report.level)
    manifest["k_min"] = report.k
    manifest["config"] = {**manifest["config"], "privacy": report.level, "k_min": report.k}
    files = sorted({p for paths in written.values() for p in paths})
    manifest["export"] = {
        "source": source,
        "formats": {f: _DESCRIPTIONS[f] for f in formats},
        "privacy": report.to_dict(),
        "file_timestamp": stamp.isoformat(),
        "files": [
            {"path": p.relative_to(out).as_posix(), "sha256": _checksum(p), "bytes": p.stat().st_size}
            for p in files
        ],
    }
    path = out / "manifest.json"
    path.write_text(json.dumps(redact_secrets(manifest), indent=2, default=str), encoding="utf-8")
    return path


def export_zip(
    plan: Plan,
    *,
    formats: str | Iterable[str] | None = None,
    privacy: str = "public",
    k: int | None = None,
    round_to: int = 1,
    top_hotspots: int = 5,
) -> bytes:
    """:func:`export_plan` into a temporary folder, zipped (sorted, fixed dates) → bytes."""
    with tempfile.TemporaryDirectory(prefix="planner-export-") as tmp:
        root = Path(tmp)
        out = root / "export"
        export_plan(
            plan, out, formats=formats, privacy=privacy, k=k, round_to=round_to, top_hotspots=top_hotspots
        )
        entries = [(p.relative_to(out).as_posix(), p) for p in out.rglob("*") if p.is_file()]
        buf = io.BytesIO()
        fmt.deterministic_zip(entries, buf)
    return buf.getvalue()


__all__ = ["FORMATS", "export_plan", "export_tables", "export_zip", "normalised_plan", "parse_formats"]
