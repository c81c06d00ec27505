"""The :class:`Plan`: everything one run produced, plus the manifest that reproduces it."""

from __future__ import annotations

import hashlib
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from planner.config import RunConfig
from planner.surface import Surface

_LIBRARIES = (
    "numpy",
    "pandas",
    "scipy",
    "geopandas",
    "shapely",
    "pyogrio",
    "pyproj",
    "rasterio",
    "scikit-learn",
    "statsmodels",
    "folium",
    "streamlit",
)


@dataclass(frozen=True)
class Plan:
    """All results of a run. Frames are in the analysis CRS (``crs``).

    Frozen: each pipeline stage returns a new plan (``dataclasses.replace``) with new frames; the
    frames and dicts inside are never modified in place once a stage has returned.
    """

    config: RunConfig
    crs: Any
    incidents: gpd.GeoDataFrame
    quarantine: pd.DataFrame
    ingest_report: dict[str, Any]
    study_area: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame
    hotspots: gpd.GeoDataFrame
    surfaces: dict[str, Surface] = field(default_factory=dict)
    layers: dict[str, Any] = field(default_factory=dict)
    risk_factors: pd.DataFrame | None = None
    recommendations: pd.DataFrame | None = None
    portfolio: pd.DataFrame | None = None
    evaluation: dict[str, Any] = field(default_factory=dict)
    perception: Any = None  # planner.perception.PerceptionResult when audits were given
    params: dict[str, Any] = field(default_factory=dict)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def parameters(self) -> dict[str, Any]:
        """The recorded parameters, without the pipeline's internal bookkeeping (keys starting "_")."""
        return {k: v for k, v in self.params.items() if not k.startswith("_")}

    def manifest(self, *, privacy: str | None = None) -> dict[str, Any]:
        """The parameter manifest written next to every export."""
        resolved = self.config.model_dump()
        for key in ("cell_size_m", "bandwidth_m", "analysis_crs"):
            if resolved.get(key) is None and key in self.params:
                resolved[key] = self.params[key]
        return {
            "planner_version": _version("scp-planner"),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "privacy": privacy or self.config.privacy,
            "k_min": self.config.k_min,
            "config": resolved,
            "parameters": self.parameters,
            "inputs": self.inputs,
            "ingest": {k: v for k, v in self.ingest_report.items() if k != "quarantine"},
            "warnings": self.warnings,
            "libraries": {name: _version(name) for name in _LIBRARIES},
            "python": platform.python_version(),
        }


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def file_checksum(path: str | Path) -> dict[str, Any]:
    """``{"path", "sha256", "bytes"}`` for an input file (or a URL, unhashed)."""
    p = Path(path)
    if not p.exists():
        return {"path": str(path), "sha256": None, "bytes": None}
    h = hashlib.sha256()
    with p.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return {"path": str(p), "sha256": h.hexdigest(), "bytes": p.stat().st_size}
