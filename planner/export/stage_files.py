"""Files of the single-stage commands (``planner exposure``, ``planner risk``, ``planner recommend``).

``planner run`` and ``planner hotspots`` write a whole run folder (:mod:`planner.export.plan_files`);
the stage commands that work on a previous run's cells write their own small outputs here, so every
file the CLI writes goes through :mod:`planner.export`.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from planner.export.csv_safe import write_csv
from planner.export.plan_files import write_layer
from planner.surface import Surface


def write_table(table: pd.DataFrame, path: str | Path) -> Path:
    """An attribute table (geometry dropped) as CSV; the folder is created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_csv(table, path)


def _fresh_gpkg(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    return path


def write_exposure_outputs(frames: dict[str, gpd.GeoDataFrame], out_dir: str | Path) -> dict[str, Path]:
    """``exposure.gpkg`` (one layer per frame: ``cells``, ``hotspots``) and ``exposure_cells.csv``."""
    out = Path(out_dir)
    gpkg = _fresh_gpkg(out / "exposure.gpkg")
    for name, frame in frames.items():
        write_layer(frame, gpkg, name)
    return {"geopackage": gpkg, "cells_csv": write_table(frames["cells"], out / "exposure_cells.csv")}


def write_risk_outputs(
    cells: gpd.GeoDataFrame, factors: pd.DataFrame, surface: Surface, out_dir: str | Path
) -> dict[str, Path]:
    """``risk_factors.csv``, ``risk.tif`` (relative-risk surface) and ``risk.gpkg`` (scored cells)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gpkg = _fresh_gpkg(out / "risk.gpkg")
    write_layer(cells, gpkg, "cells")
    return {
        "risk_factors": write_table(factors, out / "risk_factors.csv"),
        "surface": surface.to_geotiff(out / "risk.tif"),
        "cells": gpkg,
    }
