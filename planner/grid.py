"""Grids of square or hexagonal cells clipped to the study area, and incident counts per cell.

All coordinates are in the projected analysis CRS (metres); a geographic CRS raises
:class:`planner.errors.CRSError`. Square grids are anchored on multiples of the cell size, so the
same study area and cell size always give the same grid (and the KDE surface of
:mod:`planner.hotspots.kde` lines up with it). Cell intervals are half-open: a point on the line
between two cells belongs to the cell to its east / north.

Cells follow the contract in ``docs/CONTRACTS.md``: ``cell_id`` (0..n-1), ``row``, ``col`` (row 0 =
southernmost), ``geometry`` (clipped), ``area_m2``, and ``attrs["params"]`` with the cell size, kind,
origin, ``n_rows``, ``n_cols`` and how the cell size was chosen.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner._params import check_choice, check_positive
from planner.crs import check_same_crs, require_projected
from planner.errors import PlannerWarning, ValidationError

logger = logging.getLogger(__name__)

MANY_CELLS = 100_000
_TIDY_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)
SQRT3 = math.sqrt(3.0)


def _area_geometry(study_area: Any, *, what: str = "study area") -> tuple[shapely.Geometry, Any]:
    """Union of the study-area polygons and its CRS; raises for empty or non-polygonal input."""
    if not isinstance(study_area, gpd.GeoDataFrame | gpd.GeoSeries):
        raise ValidationError(
            f"The {what} must be a GeoDataFrame or GeoSeries of polygons in a projected CRS; "
            f"got {type(study_area).__name__}."
        )
    crs = require_projected(study_area, what=what)
    geoms = study_area.geometry
    problems = []
    if len(geoms) == 0:
        problems.append("it has no rows")
    elif geoms.isna().any() or geoms.is_empty.any():
        problems.append("it has empty or missing geometries")
    elif not geoms.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        kinds = sorted(set(geoms.geom_type))
        problems.append(f"it must contain polygons, found {kinds}")
    if problems:
        raise ValidationError(f"The {what} cannot be used as a grid boundary:", problems=problems)
    area = shapely.make_valid(shapely.union_all(geoms.to_numpy()))
    return area, crs


def tidy_length(value_m: float) -> float:
    """Round a length to the nearest tidy number of metres (1, 2, 2.5, 5 × 10^k, in log scale).

    >>> tidy_length(160.0), tidy_length(537.0), tidy_length(33.0)
    (200.0, 500.0, 25.0)
    """
    value_m = check_positive(value_m, name="value_m", where="grid.tidy_length")
    exp = math.floor(math.log10(value_m))
    base = 10.0**exp
    candidates = np.array([s * base for s in _TIDY_STEPS])
    best = candidates[np.argmin(np.abs(np.log(candidates / value_m)))]
    return float(best)


CITY_CELL_M = (100.0, 300.0)
INCIDENTS_PER_CELL = 5.0
CELL_STEP_M = 25.0


def _bounded_cell(raw_m: float, lo_m: float, hi_m: float, region_m: float) -> tuple[float, float, float]:
    """``raw_m`` rounded to 25 m within [lo, hi] (rounded inwards), at least ``region_m`` (rounded up);
    returns (size, lower bound, upper bound). Areas too small for 25 m steps get a tidy length.
    """
    step = CELL_STEP_M
    if hi_m < 2 * step:
        size = tidy_length(min(max(raw_m, lo_m), hi_m))
        return size, lo_m, hi_m
    lo = max(math.ceil(lo_m / step) * step, math.ceil(region_m / step) * step)
    hi = max(lo, math.floor(hi_m / step) * step)
    return float(min(max(round(raw_m / step) * step, lo), hi)), float(lo), float(hi)


def choose_cell_size(
    study_area: gpd.GeoDataFrame | gpd.GeoSeries, *, n_incidents: int | None = None
) -> tuple[float, str]:
    """An automatic cell size and the rule that chose it, in words (recorded as ``cell_size_rule``).

    With ``n_incidents`` the size gives about :data:`INCIDENTS_PER_CELL` incidents per cell on
    average, ``√(5 × study area / n)``, so denser data get finer cells; without it, the shorter side
    of the study area's bounding box / 50. Either is kept within 100–300 m, the scale of the street
    blocks a measure is placed in (a study area under 1 km across gets down to a tenth of its shorter
    side, at most a fifth of it; one so large that 300 m cells would pass 100,000 grid cells gets
    larger cells), and rounded to 25 m.

    Parameters
    ----------
    study_area : GeoDataFrame or GeoSeries
        Study-area polygon(s) in a projected CRS (metres).
    n_incidents : int, optional
        Number of incidents the grid will count.

    Returns
    -------
    (float, str)
        Cell size in metres and the rule with its numbers.
    """
    area, _ = _area_geometry(study_area)
    minx, miny, maxx, maxy = area.bounds
    short = min(maxx - minx, maxy - miny)
    if n_incidents:
        raw = math.sqrt(INCIDENTS_PER_CELL * area.area / n_incidents)
        basis = (
            f"√({INCIDENTS_PER_CELL:g} incidents per cell × study area {area.area / 1e6:.1f} km² / "
            f"{n_incidents} incidents) = {raw:.0f} m"
        )
    else:
        raw = short / 50.0
        basis = f"shorter side of the study area {short:.0f} m / 50 = {raw:.0f} m"
    lo = min(CITY_CELL_M[0], max(short / 10.0, 1.0))
    hi = max(lo, min(CITY_CELL_M[1], short / 5.0))
    region = math.sqrt((maxx - minx) * (maxy - miny) / MANY_CELLS)
    size, lo, hi = _bounded_cell(raw, lo, hi, region)
    rule = f"automatic: {basis}, rounded to 25 m within [{lo:g}, {hi:g}] m: {size:g} m"
    logger.info("cell size chosen automatically: %s", rule)
    return size, rule


def auto_cell_size(study_area: gpd.GeoDataFrame | gpd.GeoSeries, *, n_incidents: int | None = None) -> float:
    """The automatic cell size in metres (see :func:`choose_cell_size`, which also gives the rule)."""
    return choose_cell_size(study_area, n_incidents=n_incidents)[0]


def study_area_from_incidents(incidents: gpd.GeoDataFrame, *, buffer_m: float = 250.0) -> gpd.GeoDataFrame:
    """Study area when no boundary is given: the convex hull of the incidents buffered by ``buffer_m``.

    Parameters
    ----------
    incidents : GeoDataFrame
        Incident points in a projected CRS (metres).
    buffer_m : float
        Buffer distance in metres, in the CRS of ``incidents``.

    Returns
    -------
    GeoDataFrame
        One polygon, same CRS, with ``attrs["params"]`` recording the rule.
    """
    crs = require_projected(incidents, what="incidents")
    buffer_m = check_positive(buffer_m, name="buffer_m", where="grid.study_area_from_incidents")
    pts = incidents.geometry.dropna()
    pts = pts[~pts.is_empty]
    if len(pts) == 0:
        raise ValidationError("The incidents have no geometries, so no study area can be drawn around them.")
    hull = shapely.convex_hull(shapely.union_all(pts.to_numpy()))
    out = gpd.GeoDataFrame({"name": ["study area"]}, geometry=[hull.buffer(buffer_m)], crs=crs)
    out.attrs["params"] = {"study_area_rule": "convex hull of incidents buffered", "buffer_m": buffer_m}
    return out


def _frame(bounds: tuple[float, float, float, float], cell_size_m: float) -> tuple[float, float, int, int]:
    """Origin (snapped to multiples of the cell size) and shape covering ``bounds``."""
    minx, miny, maxx, maxy = bounds
    # The tolerance keeps an origin that is already a multiple of the cell size where it is.
    x0 = math.floor(minx / cell_size_m + 1e-9) * cell_size_m
    y0 = math.floor(miny / cell_size_m + 1e-9) * cell_size_m
    n_cols = max(1, math.ceil((maxx - x0) / cell_size_m - 1e-9))
    n_rows = max(1, math.ceil((maxy - y0) / cell_size_m - 1e-9))
    return x0, y0, n_rows, n_cols


def grid_frame(bounds: tuple[float, float, float, float], cell_size_m: float) -> dict[str, Any]:
    """The square-grid frame covering ``bounds`` (metres): ``x0, y0, n_rows, n_cols, cell_size_m``.

    Shared by :func:`grid_from_boundary` and the KDE so their cells coincide.
    """
    x0, y0, n_rows, n_cols = _frame(bounds, cell_size_m)
    return {"x0": x0, "y0": y0, "n_rows": n_rows, "n_cols": n_cols, "cell_size_m": cell_size_m}


def _hexagons(rows: np.ndarray, cols: np.ndarray, *, x0: float, y0: float, width_m: float) -> np.ndarray:
    """Pointy-top hexagons of flat-to-flat width ``width_m`` in offset layout (odd rows shifted east).

    Vertices are built on an integer lattice (half-widths × half-sides) so neighbours share exactly
    the same vertex coordinates and their common edges match bit for bit.
    """
    half_w = width_m / 2.0
    half_side = width_m / SQRT3 / 2.0
    ix = 1 + 2 * cols + (rows % 2)
    iy = 2 + 3 * rows
    dx = np.array([1, 0, -1, -1, 0, 1, 1])
    dy = np.array([1, 2, 1, -1, -2, -1, 1])
    vx = x0 + (ix[:, None] + dx[None, :]) * half_w
    vy = y0 + (iy[:, None] + dy[None, :]) * half_side
    return shapely.polygons(np.stack([vx, vy], axis=-1))


@dataclass(frozen=True)
class _Frame:
    """Candidate cells of a frame covering the study area, before clipping."""

    boxes: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    x0: float
    y0: float
    n_rows: int
    n_cols: int
    full_area: float


def _square_frame(bounds: tuple[float, float, float, float], cs: float) -> _Frame:
    x0, y0, n_rows, n_cols = _frame(bounds, cs)
    rows, cols = np.divmod(np.arange(n_rows * n_cols), n_cols)
    boxes = shapely.box(x0 + cols * cs, y0 + rows * cs, x0 + (cols + 1) * cs, y0 + (rows + 1) * cs)
    return _Frame(boxes, rows, cols, x0, y0, n_rows, n_cols, cs * cs)


def _hex_frame(bounds: tuple[float, float, float, float], cs: float) -> _Frame:
    """Frame origin = south-west corner of the bounding box of hexagon (0, 0): its centre is at
    (x0 + cs/2, y0 + side). Rows are 1.5 sides apart; odd rows are shifted east by cs/2.
    """
    minx, miny, maxx, maxy = bounds
    side = cs / SQRT3
    dy = 1.5 * side
    x0 = math.floor((minx - cs / 2.0) / cs) * cs
    y0 = math.floor((miny - 2.0 * side) / dy) * dy
    n_cols = max(1, math.ceil((maxx - x0) / cs) + 1)
    n_rows = max(1, math.ceil((maxy - y0) / dy) + 1)
    rows, cols = np.divmod(np.arange(n_rows * n_cols), n_cols)
    boxes = _hexagons(rows, cols, x0=x0, y0=y0, width_m=cs)
    return _Frame(boxes, rows, cols, x0, y0, n_rows, n_cols, SQRT3 / 2.0 * cs * cs)


def _clipped(area: shapely.Geometry, frame: _Frame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells of ``frame`` that overlap ``area``, clipped to it (polygonal parts only), with row/col."""
    shapely.prepare(area)
    boxes = frame.boxes
    hit = shapely.intersects(area, boxes)
    inside = shapely.contains_properly(area, boxes) if hit.any() else hit
    geoms = boxes.copy()
    edge = hit & ~inside
    if edge.any():
        geoms[edge] = shapely.intersection(boxes[edge], area)
    keep = hit.copy()
    keep[edge] = shapely.area(geoms[edge]) > frame.full_area * 1e-9
    geoms, rows, cols = geoms[keep], frame.rows[keep], frame.cols[keep]
    types = shapely.get_type_id(geoms)
    odd = (types != 3) & (types != 6)  # clipping can return collections
    if odd.any():
        geoms[odd] = [
            shapely.union_all([p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")])
            for g in geoms[odd]
        ]
    return geoms, rows, cols


def grid_from_boundary(
    study_area: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    cell_size_m: float | None = None,
    kind: str = "square",
) -> gpd.GeoDataFrame:
    """Cells covering the study area, clipped to it.

    Parameters
    ----------
    study_area : GeoDataFrame or GeoSeries
        Study-area polygon(s) (council boundary, or :func:`study_area_from_incidents`), projected CRS.
    cell_size_m : float, optional
        Square side, or for hexagons the flat-to-flat width (= distance between neighbouring
        centres), in metres. Default :func:`choose_cell_size` (without incident counts).
    kind : {"square", "hex"}
        Cell shape. Hexagons are pointy-top; ``row``/``col`` are then offset coordinates (odd rows
        shifted east by half a cell).

    Returns
    -------
    GeoDataFrame
        ``cell_id``, ``row``, ``col``, ``geometry``, ``area_m2`` in the CRS of ``study_area``;
        ``attrs["params"]`` holds ``cell_size_m``, ``cell_size_rule``, ``grid_kind``, ``x0``, ``y0``,
        ``n_rows``, ``n_cols``. More than 100,000 cells gives a :class:`PlannerWarning`.
    """
    where = "grid.grid_from_boundary"
    kind = check_choice(kind, {"square", "hex"}, name="kind", where=where)
    area, crs = _area_geometry(study_area)
    if cell_size_m is None:
        cell_size_m, rule = choose_cell_size(study_area)
    else:
        rule = "given"
    cs = check_positive(cell_size_m, name="cell_size_m", where=where)
    frame = _square_frame(area.bounds, cs) if kind == "square" else _hex_frame(area.bounds, cs)
    n_frame = frame.n_rows * frame.n_cols
    if n_frame > MANY_CELLS:
        warnings.warn(
            f"The grid frame has {n_frame:,} cells (cell_size_m={cs:g}); analyses will be slow and "
            "counts sparse. Pass a larger cell_size_m to grid_from_boundary if this was not intended.",
            PlannerWarning,
            stacklevel=2,
        )
    geoms, rows, cols = _clipped(area, frame)
    cells = gpd.GeoDataFrame(
        {
            "cell_id": np.arange(len(geoms), dtype="int64"),
            "row": rows.astype("int64"),
            "col": cols.astype("int64"),
        },
        geometry=geoms,
        crs=crs,
    )
    cells["area_m2"] = shapely.area(geoms)
    cells.attrs["params"] = {
        "cell_size_m": cs,
        "cell_size_rule": rule,
        "grid_kind": kind,
        "x0": float(frame.x0),
        "y0": float(frame.y0),
        "n_rows": int(frame.n_rows),
        "n_cols": int(frame.n_cols),
        "n_cells": len(cells),
    }
    logger.info("%s grid: %d cells of %g m (%d × %d frame)", kind, len(cells), cs, frame.n_rows, frame.n_cols)
    return cells


def _points_xy(incidents: gpd.GeoDataFrame) -> np.ndarray:
    geoms = incidents.geometry.to_numpy()
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    xy = np.full((len(geoms), 2), np.nan)
    if (~bad).any():
        types = shapely.get_type_id(geoms[~bad])
        if (types != 0).any():
            raise ValidationError("The incidents must be points; found other geometry types.")
        xy[~bad] = shapely.get_coordinates(geoms[~bad])
    return xy


def cell_index_of_points(cells: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame) -> np.ndarray:
    """Position (0..n-1, in ``cells`` row order) of the cell holding each incident, or -1.

    Square grids made by :func:`grid_from_boundary` use index arithmetic (half-open cells; boundary
    cells are checked against their clipped geometry); other cells use a spatial join, and a point
    on a shared edge goes to the first matching cell.

    Parameters
    ----------
    cells : GeoDataFrame
        Cells (projected CRS).
    incidents : GeoDataFrame
        Points in the same CRS.

    Returns
    -------
    ndarray of int64
        One entry per incident.
    """
    require_projected(cells, what="cells")
    require_projected(incidents, what="incidents")
    check_same_crs(cells, incidents, names=["cells", "incidents"])
    xy = _points_xy(incidents)
    out = np.full(len(xy), -1, dtype="int64")
    params = cells.attrs.get("params", {})
    square = params.get("grid_kind") == "square" and {"row", "col"} <= set(cells.columns)
    if square:
        cs, x0, y0 = params["cell_size_m"], params["x0"], params["y0"]
        n_rows, n_cols = params["n_rows"], params["n_cols"]
        lookup = np.full(n_rows * n_cols, -1, dtype="int64")
        lookup[cells["row"].to_numpy() * n_cols + cells["col"].to_numpy()] = np.arange(len(cells))
        ok = np.isfinite(xy).all(axis=1)
        c = np.floor((xy[:, 0] - x0) / cs)
        r = np.floor((xy[:, 1] - y0) / cs)
        ok &= (c >= 0) & (c < n_cols) & (r >= 0) & (r < n_rows)
        idx = np.flatnonzero(ok)
        pos = lookup[r[idx].astype("int64") * n_cols + c[idx].astype("int64")]
        out[idx] = pos
        # Clipped boundary cells: the square contains the point but the clipped cell may not.
        areas = cells["area_m2"].to_numpy()
        has = pos >= 0
        clipped = np.zeros(len(pos), dtype=bool)
        clipped[has] = areas[pos[has]] < cs * cs * (1 - 1e-9)
        if clipped.any():
            geoms = cells.geometry.to_numpy()[pos[clipped]]
            pts = xy[idx[clipped]]
            inside = shapely.contains_xy(geoms, pts[:, 0], pts[:, 1]) | shapely.intersects_xy(
                geoms, pts[:, 0], pts[:, 1]
            )
            sel = idx[clipped]
            out[sel] = np.where(inside, out[sel], -1)
        return out
    tree = shapely.STRtree(cells.geometry.to_numpy())
    pts = shapely.points(xy)
    valid = np.isfinite(xy).all(axis=1)
    pt_idx, cell_idx = tree.query(pts[valid], predicate="intersects")
    if len(pt_idx):
        order = np.lexsort((cell_idx, pt_idx))
        pt_idx, cell_idx = pt_idx[order], cell_idx[order]
        first = np.r_[True, pt_idx[1:] != pt_idx[:-1]]
        out[np.flatnonzero(valid)[pt_idx[first]]] = cell_idx[first]
    return out


def count_incidents(
    cells: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    *,
    weights: str | np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """Return a copy of ``cells`` with ``n_incidents`` (and ``weighted_incidents`` when weighted).

    Parameters
    ----------
    cells : GeoDataFrame
        Cells from :func:`grid_from_boundary` (or any polygons), projected CRS.
    incidents : GeoDataFrame
        Incident points in the same CRS.
    weights : str or array, optional
        Column of ``incidents`` or an array of per-incident weights; their per-cell sum goes into
        ``weighted_incidents``.

    Returns
    -------
    GeoDataFrame
        Copy of ``cells``; incidents outside every cell are not counted (the number is logged and
        stored in ``attrs["params"]["n_incidents_outside"]``).
    """
    pos = cell_index_of_points(cells, incidents)
    inside = pos >= 0
    out = cells.copy()
    out["n_incidents"] = np.bincount(pos[inside], minlength=len(cells)).astype("int64")
    if weights is not None:
        if isinstance(weights, str):
            if weights not in incidents.columns:
                raise ValidationError(
                    f"The weights column {weights!r} is not in the incidents; available: "
                    f"{', '.join(map(str, incidents.columns))}."
                )
            w = pd.to_numeric(incidents[weights], errors="coerce").to_numpy(dtype="float64")
        else:
            w = np.asarray(weights, dtype="float64")
        if w.shape != (len(incidents),) or not np.isfinite(w).all():
            raise ValidationError(
                "The incident weights must be one finite number per incident "
                f"(got shape {w.shape}); fill or drop missing weights first."
            )
        out["weighted_incidents"] = np.bincount(pos[inside], weights=w[inside], minlength=len(cells))
    n_out = int((~inside).sum())
    if n_out:
        logger.info("%d of %d incidents fall outside the grid and are not counted", n_out, len(pos))
    out.attrs["params"] = {**cells.attrs.get("params", {}), "n_incidents_outside": n_out}
    return out


__all__ = [
    "auto_cell_size",
    "cell_index_of_points",
    "choose_cell_size",
    "count_incidents",
    "grid_frame",
    "grid_from_boundary",
    "study_area_from_incidents",
    "tidy_length",
]
