"""Write a plan's results: GeoPackage layers, GeoTIFF surfaces, CSV tables, an offline HTML map
and the manifest. The dashboard's export tab and the CLI call the same functions.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from planner.plan import Plan

logger = logging.getLogger(__name__)


def _gpkg_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy with columns GeoPackage can store: lists/dicts as JSON text, no object mixtures."""
    out = frame.copy()
    for col in out.columns:
        if col == getattr(out, "_geometry_column_name", None):
            continue
        series = out[col]
        if series.dtype == object:
            sample = series.dropna()
            if len(sample) and isinstance(sample.iloc[0], list | dict | tuple | np.ndarray):
                out[col] = series.map(
                    lambda v: (
                        json.dumps(v.tolist() if isinstance(v, np.ndarray) else v) if v is not None else None
                    )
                )
            else:
                out[col] = series.astype("string")
    return out


def write_layer(
    frame: pd.DataFrame, path: str | Path, layer: str, *, metadata: dict[str, str] | None = None
) -> None:
    """Write ``frame`` (GeoDataFrame or attribute table) as ``layer`` of the GeoPackage ``path``.

    ``metadata`` is stored as GDAL layer metadata (read back with ``pyogrio.read_info``).
    """
    safe = _gpkg_safe(frame)
    if isinstance(safe, gpd.GeoDataFrame):
        safe.to_file(path, layer=layer, driver="GPKG", engine="pyogrio", metadata=metadata)
    else:
        pyogrio.write_dataframe(safe, path, layer=layer, driver="GPKG", metadata=metadata)


def plan_tables(plan: Plan, *, include_incidents: bool = True) -> dict[str, pd.DataFrame]:
    """The plan's layers and tables by export name (only the non-empty ones)."""
    tables: dict[str, pd.DataFrame | None] = {
        "incidents": plan.incidents if include_incidents else None,
        "study_area": plan.study_area,
        "cells": plan.cells,
        "hotspots": plan.hotspots,
        "risk_factors": plan.risk_factors,
        "recommendations": plan.recommendations,
        "portfolio": plan.portfolio,
    }
    return {name: t for name, t in tables.items() if t is not None and len(t)}


def write_run_outputs(plan: Plan, out_dir: str | Path) -> dict[str, Path]:
    """Write the working outputs of ``planner run`` into ``out_dir``.

    Files: ``plan.gpkg`` (every layer and table), ``density.tif`` (and other surfaces),
    ``map.html`` (self-contained, offline), ``<table>.csv`` for attribute tables, and
    ``manifest.json``. Returns the paths by name. These are internal working files (they hold
    incident points); use :mod:`planner.export` privacy levels for publishing.
    """
    from planner.maps import map_to_html, plan_map

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    gpkg = out / "plan.gpkg"
    if gpkg.exists():
        gpkg.unlink()
    params = {"planner_parameters": json.dumps(plan.params, sort_keys=True, default=str)}
    for name, table in plan_tables(plan).items():
        write_layer(table, gpkg, name, metadata=params)
        if not isinstance(table, gpd.GeoDataFrame) or name in {"recommendations", "portfolio"}:
            csv = out / f"{name}.csv"
            pd.DataFrame(table.drop(columns="geometry", errors="ignore")).to_csv(csv, index=False)
            paths[f"{name}_csv"] = csv
    paths["gpkg"] = gpkg
    for name, surface in plan.surfaces.items():
        paths[name] = surface.to_geotiff(out / f"{name}.tif")
    m = plan_map(plan, show_incidents=True)
    paths["map"] = out / "map.html"
    map_to_html(m, paths["map"], self_contained=True)
    paths["manifest"] = write_manifest(plan, out / "manifest.json", privacy="internal")
    logger.info("wrote %d outputs to %s", len(paths), out)
    return paths


def write_manifest(
    plan: Plan, path: str | Path, *, privacy: str, extra: dict[str, Any] | None = None
) -> Path:
    """Write the manifest (inputs with checksums, every parameter, versions, privacy, time)."""
    manifest = plan.manifest(privacy=privacy)
    if extra:
        manifest.update(extra)
    path = Path(path)
    path.write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    return path


def run_outputs_zip(plan: Plan) -> bytes:
    """The files of :func:`write_run_outputs` as one zip archive (for the dashboard's download)."""
    import io
    import tempfile
    import zipfile

    with tempfile.TemporaryDirectory() as tmp:
        paths = write_run_outputs(plan, tmp)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(set(paths.values())):
                zf.write(path, Path(path).name)
        return buf.getvalue()
