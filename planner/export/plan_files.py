"""The working files of ``planner run`` (``plan.gpkg``, surfaces, map, manifest) and reading them back.

:func:`write_run_outputs` writes a plan folder; :func:`read_plan` turns such a folder back into a
:class:`~planner.plan.Plan`, so ``planner export PLAN_DIR`` and the dashboard (which holds a plan in
memory) export the same tables.
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

from planner.errors import ConfigError, DataLoadError
from planner.plan import Plan

logger = logging.getLogger(__name__)

#: Layers and tables of ``plan.gpkg``, in the order they are written.
PLAN_LAYERS = (
    "incidents",
    "study_area",
    "cells",
    "hotspots",
    "risk_factors",
    "recommendations",
    "portfolio",
)


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


def write_plan_data(plan: Plan, out_dir: str | Path, *, privacy: str = "internal") -> dict[str, Path]:
    """Write ``plan.gpkg``, one GeoTIFF per surface and ``manifest.json`` (no map, no CSV).

    This is everything :func:`read_plan` needs to rebuild the plan's tables.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    gpkg = out / "plan.gpkg"
    if gpkg.exists():
        gpkg.unlink()
    params = {"planner_parameters": json.dumps(plan.params, sort_keys=True, default=str)}
    for name, table in plan_tables(plan).items():
        write_layer(table, gpkg, name, metadata=params)
    paths["gpkg"] = gpkg
    for name, surface in plan.surfaces.items():
        paths[name] = surface.to_geotiff(out / f"{name}.tif")
    paths["manifest"] = write_manifest(plan, out / "manifest.json", privacy=privacy)
    return paths


def write_run_outputs(plan: Plan, out_dir: str | Path) -> dict[str, Path]:
    """Write the working outputs of ``planner run`` into ``out_dir``.

    Files: ``plan.gpkg`` (every layer and table), ``density.tif`` (and other surfaces),
    ``map.html`` (self-contained, offline), ``<table>.csv`` for attribute tables, and
    ``manifest.json``. Returns the paths by name. These are internal working files (they hold
    incident points); use ``planner export`` (:func:`planner.export.export_plan`) for publishing.
    """
    from planner.maps import map_to_html, plan_map

    out = Path(out_dir)
    paths = write_plan_data(plan, out)
    for name, table in plan_tables(plan).items():
        if not isinstance(table, gpd.GeoDataFrame) or name in {"recommendations", "portfolio"}:
            csv = out / f"{name}.csv"
            pd.DataFrame(table.drop(columns="geometry", errors="ignore")).to_csv(csv, index=False)
            paths[f"{name}_csv"] = csv
    m = plan_map(plan, show_incidents=True, max_layer_points=5_000)
    paths["map"] = out / "map.html"
    map_to_html(m, paths["map"], self_contained=True)
    manifest = paths.pop("manifest")
    paths["manifest"] = manifest
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


def read_plan(plan_dir: str | Path) -> Plan:
    """Read a folder written by ``planner run --out DIR`` back into a :class:`Plan`.

    Layers come from ``plan.gpkg`` (analysis CRS), surfaces from the ``*.tif`` files, and the run
    configuration, parameters and inputs from ``manifest.json``. Environmental layers are not part
    of a plan folder, so ``plan.layers`` is empty.

    Raises
    ------
    DataLoadError
        When the folder, ``plan.gpkg`` or ``manifest.json`` is missing or unreadable.
    """
    from planner.config import config_from_mapping
    from planner.surface import read_surface

    folder = Path(plan_dir)
    hint = "Give the folder written by 'planner run --out DIR'."
    if not folder.is_dir():
        raise DataLoadError(f"Plan folder {folder} does not exist or is not a folder. {hint}")
    gpkg, manifest_path = folder / "plan.gpkg", folder / "manifest.json"
    for needed in (gpkg, manifest_path):
        if not needed.exists():
            raise DataLoadError(f"{folder} is not a plan folder: {needed.name} is missing. {hint}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataLoadError(f"{manifest_path} is not valid JSON ({exc}). {hint}") from None
    if not isinstance(manifest, dict) or "config" not in manifest:
        raise DataLoadError(f"{manifest_path} has no 'config' block; it is not a planner manifest. {hint}")
    try:
        config = config_from_mapping(manifest["config"], source=str(manifest_path))
    except ConfigError as exc:
        raise DataLoadError(f"{manifest_path}: {exc}") from None
    try:
        names = [str(n) for n in pyogrio.list_layers(gpkg)[:, 0]]
        frames: dict[str, Any] = {
            name: pyogrio.read_dataframe(gpkg, layer=name) for name in PLAN_LAYERS if name in names
        }
    except pyogrio.errors.DataSourceError as exc:
        raise DataLoadError(f"{gpkg} could not be read as a GeoPackage ({exc}). {hint}") from None
    for required in ("study_area", "cells", "hotspots"):
        if required not in frames:
            raise DataLoadError(f"{gpkg} has no '{required}' layer. {hint}")
    crs = frames["cells"].crs
    incidents = frames.get("incidents")
    if incidents is None:
        incidents = gpd.GeoDataFrame({"incident_id": [], "category": []}, geometry=[], crs=crs)
    ingest = dict(manifest.get("ingest") or {})
    incidents.attrs["time_resolution"] = ingest.get("time_resolution")
    surfaces = {
        p.stem: read_surface(p) for p in sorted(folder.glob("*.tif")) if not p.name.endswith(".tmp.tif")
    }
    return Plan(
        config=config,
        crs=crs,
        incidents=incidents,
        quarantine=pd.DataFrame(),
        ingest_report=ingest,
        study_area=frames["study_area"],
        cells=frames["cells"],
        hotspots=frames["hotspots"],
        surfaces=surfaces,
        layers={},
        risk_factors=_attribute_table(frames.get("risk_factors")),
        recommendations=frames.get("recommendations"),
        portfolio=frames.get("portfolio"),
        params=dict(manifest.get("parameters") or {}),
        inputs=list(manifest.get("inputs") or []),
        warnings=list(manifest.get("warnings") or []),
    )


def _attribute_table(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """A non-spatial GeoPackage table as a plain DataFrame (pyogrio may add an empty geometry)."""
    if frame is None:
        return None
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.isna().all():
        return pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return frame
