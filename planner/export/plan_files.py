"""The working files of ``planner run`` (``plan.gpkg``, surfaces, map, manifest) and reading them back.

:func:`write_run_outputs` writes a plan folder; :func:`read_plan` turns such a folder back into a
:class:`~planner.plan.Plan`, so ``planner export PLAN_DIR`` and the dashboard (which holds a plan in
memory) export the same tables.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from planner.errors import ConfigError, DataLoadError
from planner.export.csv_safe import write_csv
from planner.export.output_dir import MANIFEST, atomic_output_dir, is_temporary
from planner.io.sources import redact_secrets
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


EVALUATION = "evaluation.json"


def _write_data_files(plan: Plan, out: Path) -> dict[str, Path]:
    """``plan.gpkg`` (every layer and table) and one GeoTIFF per surface, into ``out``."""
    paths: dict[str, Path] = {}
    gpkg = out / "plan.gpkg"
    if gpkg.exists():
        gpkg.unlink()
    params = {"planner_parameters": json.dumps(plan.parameters, sort_keys=True, default=str)}
    tables = plan_tables(plan)
    # the layers read_plan needs are written even when empty (a plan with no hotspots is a plan)
    required = {name: getattr(plan, name) for name in ("study_area", "cells", "hotspots")}
    tables = {**{n: t for n, t in required.items() if n not in tables and t is not None}, **tables}
    for name in PLAN_LAYERS:
        if name in tables:
            write_layer(tables[name], gpkg, name, metadata=params)
    paths["gpkg"] = gpkg
    for name, surface in plan.surfaces.items():
        paths[name] = surface.to_geotiff(out / f"{name}.tif")
    if plan.evaluation:  # near-repeat table, evaluations: internal, read back by read_plan
        paths["evaluation"] = out / EVALUATION
        paths["evaluation"].write_text(json.dumps(plan.evaluation, indent=1, default=str), encoding="utf-8")
    return paths


def write_plan_data(plan: Plan, out_dir: str | Path, *, privacy: str = "internal") -> dict[str, Path]:
    """Write ``plan.gpkg``, one GeoTIFF per surface and ``manifest.json`` (no map, no CSV) into a
    folder that exists or is created (not atomic: for temporary folders; use :func:`write_run_outputs`
    for a run folder).

    This is everything :func:`read_plan` needs to rebuild the plan's tables.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = _write_data_files(plan, out)
    paths["manifest"] = write_manifest(plan, out / MANIFEST, privacy=privacy, files=list(paths.values()))
    return paths


def write_quarantine(quarantine: pd.DataFrame | None, path: Path) -> Path:
    """``quarantine.csv``: the rows set aside at ingest with their ``reason`` (a header alone if none)."""
    frame = (
        quarantine if quarantine is not None and len(quarantine.columns) else pd.DataFrame(columns=["reason"])
    )
    return write_csv(frame, path)


def write_run_outputs(plan: Plan, out_dir: str | Path, *, overwrite: bool = False) -> dict[str, Path]:
    """Write the working outputs of ``planner run`` into ``out_dir``, all or nothing.

    Files: ``plan.gpkg`` (every layer and table), ``density.tif`` (and other surfaces),
    ``map.html`` (self-contained, offline), ``<table>.csv`` for attribute tables,
    ``quarantine.csv`` (rows set aside at ingest, always written) and ``manifest.json`` (written
    last, listing every file with its checksum). Everything is written into a temporary folder
    beside ``out_dir`` that takes its name on success (:func:`~planner.export.output_dir.atomic_output_dir`);
    a non-empty ``out_dir`` needs ``overwrite=True``. Returns the final paths by name. These are
    internal working files (they hold incident points); use ``planner export``
    (:func:`planner.export.export_plan`) for publishing.
    """
    from planner.maps import map_to_html, plan_map

    out = Path(out_dir)
    with atomic_output_dir(out, overwrite=overwrite) as tmp:
        paths = _write_data_files(plan, tmp)
        for name, table in plan_tables(plan).items():
            if not isinstance(table, gpd.GeoDataFrame) or name in {"recommendations", "portfolio"}:
                csv = tmp / f"{name}.csv"
                write_csv(table, csv)
                paths[f"{name}_csv"] = csv
        paths["quarantine"] = write_quarantine(plan.quarantine, tmp / "quarantine.csv")
        m = plan_map(plan, show_incidents=True, max_layer_points=5_000)
        paths["map"] = tmp / "map.html"
        map_to_html(m, paths["map"], self_contained=True)
        paths["manifest"] = write_manifest(
            plan, tmp / MANIFEST, privacy="internal", files=[p for k, p in paths.items() if k != "manifest"]
        )
    final = {name: out / path.relative_to(tmp) for name, path in paths.items()}
    logger.info("wrote %d outputs to %s", len(final), out)
    return final


def file_entries(folder: Path, files: list[Path]) -> list[dict[str, Any]]:
    """``{"path", "sha256", "bytes"}`` of each file, path relative to ``folder``."""
    entries = []
    for path in sorted(set(files)):
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        entries.append(
            {
                "path": path.relative_to(folder).as_posix(),
                "sha256": digest.hexdigest(),
                "bytes": path.stat().st_size,
            }
        )
    return entries


def write_manifest(
    plan: Plan,
    path: str | Path,
    *,
    privacy: str,
    extra: dict[str, Any] | None = None,
    files: list[Path] | None = None,
) -> Path:
    """Write the manifest (inputs with checksums, every parameter, versions, privacy, time, and the
    folder's other files); database passwords are redacted.
    """
    manifest = plan.manifest(privacy=privacy)
    if extra:
        manifest.update(extra)
    path = Path(path)
    if files is not None:
        manifest["files"] = file_entries(path.parent, files)
    path.write_text(json.dumps(redact_secrets(manifest), indent=2, default=str), encoding="utf-8")
    return path


def run_outputs_zip(plan: Plan) -> bytes:
    """The files of :func:`write_run_outputs` as one zip archive (for the dashboard's download)."""
    import io
    import tempfile
    import zipfile

    with tempfile.TemporaryDirectory() as tmp:
        paths = write_run_outputs(plan, Path(tmp) / "run")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(set(paths.values())):
                zf.write(path, Path(path).name)
        return buf.getvalue()


def _plan_manifest(folder: Path, hint: str) -> dict[str, Any]:
    """The manifest of a complete plan folder (every file it lists present, same size)."""
    if not folder.is_dir():
        raise DataLoadError(f"Plan folder {folder} does not exist or is not a folder. {hint}")
    if is_temporary(folder):
        raise DataLoadError(
            f"{folder} is the temporary folder of an unfinished or interrupted run, not a plan. "
            "Run 'planner run' again; its output appears only when the run has finished."
        )
    manifest_path = folder / MANIFEST
    for needed in (folder / "plan.gpkg", manifest_path):
        if not needed.exists():
            raise DataLoadError(f"{folder} is not a plan folder: {needed.name} is missing. {hint}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataLoadError(f"{manifest_path} is not valid JSON ({exc}). {hint}") from None
    if not isinstance(manifest, dict) or "config" not in manifest:
        raise DataLoadError(f"{manifest_path} has no 'config' block; it is not a planner manifest. {hint}")
    if "export" in manifest:
        raise DataLoadError(
            f"{folder} is an export (it was written by 'planner export'), not a run folder. {hint}"
        )
    listed = manifest.get("files")
    if not isinstance(listed, list) or not any(
        f.get("path") == "plan.gpkg" for f in listed if isinstance(f, dict)
    ):
        raise DataLoadError(
            f"{folder} is incomplete: its manifest lists no finished files (the run was interrupted, or "
            "written by an older planner). Run 'planner run' again."
        )
    for item in listed:
        path = folder / str(item.get("path"))
        if not path.is_file() or (item.get("bytes") is not None and path.stat().st_size != item["bytes"]):
            raise DataLoadError(
                f"{folder} is incomplete: {item.get('path')} is missing or has changed since the run. "
                "Run 'planner run' again."
            )
    return manifest


def _plan_layers(gpkg: Path, hint: str) -> dict[str, Any]:
    from planner.io.sources import sniff

    if sniff(gpkg) != "sqlite":
        raise DataLoadError(f"{gpkg} is not a GeoPackage. {hint}")
    try:
        names = [str(n) for n in pyogrio.list_layers(gpkg)[:, 0]]
        frames = {name: pyogrio.read_dataframe(gpkg, layer=name) for name in PLAN_LAYERS if name in names}
    except pyogrio.errors.DataSourceError as exc:
        raise DataLoadError(f"{gpkg} could not be read as a GeoPackage ({exc}). {hint}") from None
    for required in ("study_area", "cells", "hotspots"):
        if required not in frames:
            raise DataLoadError(f"{gpkg} has no '{required}' layer. {hint}")
    return frames


def read_plan(plan_dir: str | Path) -> Plan:
    """Read a folder written by ``planner run --out DIR`` back into a :class:`Plan`.

    Layers come from ``plan.gpkg`` (analysis CRS), surfaces from the ``*.tif`` files, quarantined
    rows from ``quarantine.csv``, and the run configuration, parameters and inputs from
    ``manifest.json``. Environmental layers are not part of a plan folder, so ``plan.layers`` is
    empty. Only a finished folder is read: its manifest (written last) must list every file.

    Raises
    ------
    DataLoadError
        When the folder is missing, unfinished (an interrupted run) or unreadable.
    """
    from planner.config import config_from_mapping
    from planner.surface import read_surface

    folder = Path(plan_dir)
    hint = "Give the folder written by 'planner run --out DIR'."
    manifest = _plan_manifest(folder, hint)
    try:
        config = config_from_mapping(manifest["config"], source=str(folder / MANIFEST))
    except ConfigError as exc:
        raise DataLoadError(f"{folder / MANIFEST}: {exc}") from None
    frames = _plan_layers(folder / "plan.gpkg", hint)
    crs = frames["cells"].crs
    incidents = frames.get("incidents")
    if incidents is None:
        incidents = gpd.GeoDataFrame({"incident_id": [], "category": []}, geometry=[], crs=crs)
    ingest = dict(manifest.get("ingest") or {})
    incidents.attrs["time_resolution"] = ingest.get("time_resolution")
    listed = {str(f.get("path")) for f in manifest["files"] if isinstance(f, dict)}
    surfaces = {p.stem: read_surface(p) for p in sorted(folder.glob("*.tif")) if p.name in listed}
    quarantine_csv = folder / "quarantine.csv"
    quarantine = pd.read_csv(quarantine_csv, dtype=str) if quarantine_csv.name in listed else pd.DataFrame()
    evaluation = json.loads((folder / EVALUATION).read_text(encoding="utf-8")) if EVALUATION in listed else {}
    return Plan(
        config=config,
        crs=crs,
        incidents=incidents,
        quarantine=quarantine,
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
        evaluation=evaluation,
    )


def _attribute_table(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """A non-spatial GeoPackage table as a plain DataFrame (pyogrio may add an empty geometry)."""
    if frame is None:
        return None
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.isna().all():
        return pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return frame
