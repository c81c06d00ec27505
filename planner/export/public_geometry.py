"""Geometry a public export may carry: grid cells on their lattice and the given boundary, nothing else.

A study area drawn around the incidents (convex hull plus a buffer) has vertices computed from
incident locations: the buffer's arcs are centred on the outermost incidents, which three vertices
of an arc give back to the centimetre. Cells clipped to that hull carry the same vertices. So when
the run had no boundary of its own, the public view replaces every cell by its whole grid cell
(square or hexagon on the grid's lattice) and the study area by the union of those cells. With a
given boundary (a council's own polygon) the clipped cells and the boundary are kept: their
vertices are lattice points or boundary vertices, none of them derived from an incident.

Grid corners are never moved: a corner that happens to lie on an incident location is not derived
from it, while moving it (the old "nudge") pointed straight at the incident.
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from planner.errors import DataLoadError

SQRT3 = math.sqrt(3.0)


def boundary_is_given(params: dict[str, Any]) -> bool:
    """True when the run's study area is a polygon the user gave (not drawn around the incidents)."""
    return str(params.get("study_area", "")).strip().lower() == "given"


def _square_cells(cells: gpd.GeoDataFrame, size: float) -> np.ndarray:
    """Whole lattice squares under each (possibly clipped) cell."""
    pts = shapely.get_coordinates(shapely.point_on_surface(cells.geometry.to_numpy()))
    x = np.floor(pts[:, 0] / size) * size
    y = np.floor(pts[:, 1] / size) * size
    return shapely.box(x, y, x + size, y + size)


def _hex_origin(cells: gpd.GeoDataFrame, size: float) -> tuple[float, float]:
    """Origin ``(x0, y0)`` of a pointy-top hexagon grid (multiples of the width and of 1.5 sides),
    estimated from the cells least cut by the study area.
    """
    half_w, half_side = size / 2.0, size / SQRT3 / 2.0
    full = SQRT3 / 2.0 * size * size
    area = cells.geometry.area.to_numpy()
    order = np.argsort(-area)[: max(1, min(len(cells), 50))]
    best = order[area[order] >= 0.999 * full] if (area[order] >= 0.999 * full).any() else order
    centres = shapely.get_coordinates(shapely.centroid(cells.geometry.to_numpy()[best]))
    rows = cells["row"].to_numpy()[best]
    cols = cells["col"].to_numpy()[best]
    x0 = centres[:, 0] - (1 + 2 * cols + rows % 2) * half_w
    y0 = centres[:, 1] - (2 + 3 * rows) * half_side
    dy = 1.5 * size / SQRT3
    xs = np.round(x0 / size) * size
    ys = np.round(y0 / dy) * dy
    values, counts = np.unique(np.stack([xs, ys], axis=1).round(6), axis=0, return_counts=True)
    x, y = values[int(np.argmax(counts))]
    return float(x), float(y)


def lattice_cells(cells: gpd.GeoDataFrame, *, cell_size_m: float, grid_kind: str) -> np.ndarray:
    """The whole grid cell (geometry array) under every cell of ``cells``, same order.

    Squares are anchored on multiples of ``cell_size_m`` (as :func:`planner.grid.grid_from_boundary`
    draws them); hexagons are rebuilt from their ``row``/``col`` and the grid origin.
    """
    from planner.grid import _hexagons

    if not len(cells):
        return cells.geometry.to_numpy()
    if grid_kind == "hex":
        if not {"row", "col"} <= set(cells.columns):
            raise DataLoadError("Hexagonal cells without row/col cannot be put back on their lattice.")
        x0, y0 = _hex_origin(cells, cell_size_m)
        rows = cells["row"].to_numpy().astype("int64")
        cols = cells["col"].to_numpy().astype("int64")
        return np.asarray(_hexagons(rows, cols, x0=x0, y0=y0, width_m=cell_size_m))
    return np.asarray(_square_cells(cells, cell_size_m))


def public_geometry(
    cells: gpd.GeoDataFrame, study_area: gpd.GeoDataFrame, params: dict[str, Any]
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, str]:
    """Cells and study area safe to publish, and a sentence saying where the study area came from.

    Parameters
    ----------
    cells, study_area : GeoDataFrame
        The run's cells and study area (analysis CRS, metres).
    params : dict
        The run's parameters (``study_area``, ``cell_size_m``, ``grid_kind``).
    """
    if boundary_is_given(params):
        return cells, study_area, "the study area is the boundary given for the run"
    size = float(params.get("cell_size_m") or 0.0)
    if size <= 0:
        raise DataLoadError(
            "The plan records no cell size, so its cells cannot be put back on the grid lattice for a "
            "public export. Re-run 'planner run' to write a complete plan folder."
        )
    out = cells.copy()
    geoms = lattice_cells(cells, cell_size_m=size, grid_kind=str(params.get("grid_kind") or "square"))
    out[cells.geometry.name] = gpd.GeoSeries(geoms, index=cells.index, crs=cells.crs)
    if "area_m2" in out.columns:
        out["area_m2"] = shapely.area(geoms)
    union = shapely.union_all(geoms) if len(geoms) else shapely.Polygon()
    area = gpd.GeoDataFrame(geometry=[union], crs=study_area.crs or cells.crs)
    return out, area, "the study area is the union of the grid cells (no boundary was given)"
