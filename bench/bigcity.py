"""A large version of the sample city for scale benchmarks (not shipped data; written to a temp dir).

``make_big_city(out, n_incidents, n_lamps)`` writes

- ``incidents.csv``: ``n_incidents`` rows resampled from ``sample_data/incidents.csv`` with 15 m of
  Gaussian jitter on the coordinates and fresh ids (so the spatial and temporal structure of the
  sample city is kept: its hotspots, categories, dates and near repeats);
- ``city.gpkg``: the sample city's layers, with ``street_lights`` replaced by ``n_lamps`` lamps
  spaced evenly along its streets (15 % broken, seeded).

The sample city must exist (``make sample``).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
CRS = "EPSG:32630"


def big_incidents(n: int, *, seed: int = 0) -> pd.DataFrame:
    """``n`` incidents resampled from the sample city with 15 m jitter and fresh ids."""
    rng = np.random.default_rng(seed)
    base = pd.read_csv(SAMPLE / "incidents.csv")
    pick = rng.integers(0, len(base), n)
    out = base.iloc[pick].reset_index(drop=True)
    out["incident_id"] = np.char.add("B", np.arange(n).astype(str))
    out["x"] = (out["x"].to_numpy() + rng.normal(0, 15.0, n)).round(2)
    out["y"] = (out["y"].to_numpy() + rng.normal(0, 15.0, n)).round(2)
    return out


def lamps_along_streets(streets: gpd.GeoDataFrame, n: int, *, seed: int = 0) -> gpd.GeoDataFrame:
    """About ``n`` lamps spaced evenly along ``streets`` (15 % broken)."""
    rng = np.random.default_rng(seed)
    geoms = streets.geometry.to_numpy()
    lengths = shapely.length(geoms)
    spacing = float(lengths.sum()) / n
    per_line = np.maximum(np.floor(lengths / spacing).astype(int), 1)
    owner = np.repeat(np.arange(len(geoms)), per_line)
    step = np.arange(len(owner)) - np.repeat(np.cumsum(per_line) - per_line, per_line)
    pts = shapely.line_interpolate_point(geoms[owner], (step + 0.5) * spacing)
    k = len(pts)
    return gpd.GeoDataFrame(
        {
            "lamp_id": np.char.add("L", np.arange(k).astype(str)),
            "status": np.where(rng.random(k) < 0.15, "broken", "working"),
            "lumens": 3000.0,
            "height_m": 6.0,
        },
        geometry=pts,
        crs=CRS,
    )


def make_big_city(out: Path, n_incidents: int, n_lamps: int = 100_000, *, seed: int = 0) -> dict[str, Path]:
    """Write the big city to ``out``; returns the paths of ``incidents`` and ``gpkg``."""
    out.mkdir(parents=True, exist_ok=True)
    csv = out / "incidents.csv"
    big_incidents(n_incidents, seed=seed).to_csv(csv, index=False)
    gpkg = out / "city.gpkg"
    if gpkg.exists():
        gpkg.unlink()
    src = SAMPLE / "city.gpkg"
    for name in [str(n) for n in pyogrio.list_layers(src)[:, 0]]:
        layer = gpd.read_file(src, layer=name)
        if name == "street_lights":
            streets = gpd.read_file(src, layer="streets")
            layer = lamps_along_streets(streets, n_lamps, seed=seed)
        pyogrio.write_dataframe(layer, gpkg, layer=name, driver="GPKG")
    return {"incidents": csv, "gpkg": gpkg}


def run_args(paths: dict[str, Path]) -> list[str]:
    """``planner run`` options for the big city (every layer of its GeoPackage)."""
    gpkg = paths["gpkg"]
    args = ["--incidents", str(paths["incidents"]), "--crs", CRS, "--boundary", f"{gpkg}::boundary"]
    for name in [str(n) for n in pyogrio.list_layers(gpkg)[:, 0]]:
        if name != "boundary":
            args += ["--layer", f"{name}={gpkg}::{name}"]
    if (SAMPLE / "lux.tif").exists():
        args += ["--layer", f"lighting={SAMPLE / 'lux.tif'}"]
    return args
