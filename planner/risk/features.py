"""Candidate risk factors per cell: every risk-candidate layer operationalised at several distances.

Operationalisations (RTMDx, ``PEERS.md`` §1.6), measured from each cell's centroid:

* ``proximity`` — 1 when the nearest feature is within ``d`` metres, else 0;
* ``density`` — the number of features within ``d`` metres;
* ``area_share`` — share of the cell inside a polygon layer (a car park, a vacant lot);
* ``coverage`` — share of the cell's street length lit by working lamps (``street_lights``) or of the
  cell seen by a camera (``cameras``);
* ``unlit_street`` — the centre is on a street with no working lamp within ``d``;
* ``zonal`` — mean raster value (``lighting``: per 10 lux).

Deficit features count as risk factors in their own right: broken lamps (``street_lights_broken``)
and outage reports (``street_light_outages``, a lack of lighting). Point layers with a ``kind``
field (access points) are also tested kind by kind (``access_points[alley_entrance]``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from planner import _geom
from planner.crs import require_projected
from planner.exposure.layers import LayerSpec, load_registry
from planner.surface import Surface

OPERATIONALISATIONS = ("proximity", "density")
LUX_STEP = 10.0
ON_STREET_MIN_M = 25.0


def cell_centroids(cells: gpd.GeoDataFrame) -> np.ndarray:
    """(n, 2) centroid coordinates of the cells, in their CRS."""
    return _geom.point_coords(shapely.centroid(np.asarray(cells.geometry.values)))


@dataclass
class _Candidates:
    """Collects candidate columns and their metadata (one row per column)."""

    centres: np.ndarray
    distances_m: tuple[float, ...]
    operationalisations: tuple[str, ...]
    cols: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(
        self, name: str, op: str, d: float, values: Any, *, unit: str, spec: LayerSpec, deficit: bool
    ) -> None:
        key = f"{name}|{op}|{d:g}"
        self.cols[key] = np.asarray(values, dtype=float)
        self.meta[key] = {
            "factor": name,
            "operationalisation": op,
            "distance_m": float(d),
            "unit": unit,
            "role": spec.role,
            "deficit": deficit,
            "addressed_by": ",".join(spec.addressed_by),
        }

    def points(self, name: str, xy: np.ndarray, spec: LayerSpec, *, deficit: bool) -> None:
        """Proximity and density of point features at every distance."""
        if len(xy) == 0:
            return
        tree = cKDTree(xy)
        for d in self.distances_m:
            if "proximity" in self.operationalisations:
                dist, _ = tree.query(self.centres, k=1, distance_upper_bound=d)
                unit = f"within {d:g} m (1/0)"
                self.add(name, "proximity", d, np.isfinite(dist), unit=unit, spec=spec, deficit=deficit)
            if "density" in self.operationalisations:
                n = tree.query_ball_point(self.centres, r=d, return_length=True)
                unit = f"per feature within {d:g} m"
                self.add(name, "density", d, n, unit=unit, spec=spec, deficit=deficit)

    def frames(self, index: pd.Index) -> tuple[pd.DataFrame, pd.DataFrame]:
        return pd.DataFrame(self.cols, index=index), pd.DataFrame.from_dict(self.meta, orient="index")


def _cells_in_view(
    cells: gpd.GeoDataFrame, cameras: gpd.GeoDataFrame, spec: LayerSpec, *, buildings: Any, samples: int
) -> np.ndarray:
    """Share of a regular lattice of points in each cell's bounding box (inside the cell) seen by a
    camera; cells whose lattice misses them fall back to the centroid.
    """
    from planner.exposure import camera_parameters

    geoms = np.asarray(cells.geometry.values)
    bounds = shapely.bounds(geoms)
    frac = (np.arange(samples) + 0.5) / samples
    gx, gy = np.meshgrid(frac, frac)
    fx, fy = gx.ravel(), gy.ravel()
    lx = (bounds[:, 0:1] + fx[None, :] * (bounds[:, 2:3] - bounds[:, 0:1])).ravel()
    ly = (bounds[:, 1:2] + fy[None, :] * (bounds[:, 3:4] - bounds[:, 1:2])).ravel()
    owner = np.repeat(np.arange(len(geoms)), len(fx))
    inside = shapely.contains_xy(geoms[owner], lx, ly) if samples > 1 else np.zeros(len(lx), dtype=bool)
    missed = np.setdiff1d(np.arange(len(geoms)), owner[inside])
    points = np.vstack([np.column_stack([lx[inside], ly[inside]]), cell_centroids(cells)[missed]])
    owner = np.concatenate([owner[inside], missed])
    xy, direction, fov, rng = camera_parameters(cameras, spec)
    obstacles = np.asarray(buildings.geometry.values) if buildings is not None and len(buildings) else None
    if obstacles is not None and len(xy):
        on_it = shapely.STRtree(obstacles).query(shapely.points(xy), predicate="dwithin", distance=0.5)[1]
        obstacles = np.delete(obstacles, np.unique(on_it))
    pi, _ = _geom.visible_pairs(points, xy, direction, fov, rng, buildings=obstacles)
    seen = np.zeros(len(points), dtype=bool)
    seen[pi] = True
    n = len(geoms)
    total = np.bincount(owner, minlength=n)
    hits = np.bincount(owner, weights=seen, minlength=n)
    return np.divide(hits, total, out=np.zeros(n), where=total > 0)


def _polygon_candidates(
    acc: _Candidates, name: str, layer: gpd.GeoDataFrame, cells: Any, spec: LayerSpec
) -> None:
    """Area share of each cell inside the layer, and proximity of the centre to it."""
    feats = np.asarray(layer.geometry.values)
    if len(feats) == 0:
        return
    tree = shapely.STRtree(feats)
    cell_geoms = np.asarray(cells.geometry.values)
    ci, fi = tree.query(cell_geoms, predicate="intersects")
    share = np.zeros(len(cells))
    if len(ci):
        parts = shapely.area(shapely.intersection(cell_geoms[ci], feats[fi]))
        summed = np.bincount(ci, weights=parts, minlength=len(cells)).astype(float)
        share = np.clip(summed / np.maximum(shapely.area(cell_geoms), 1e-9), 0.0, 1.0)
    acc.add(name, "area_share", 0.0, share, unit="share of the cell inside", spec=spec, deficit=spec.deficit)
    pts = shapely.points(acc.centres)
    for d in acc.distances_m:
        ci, _ = tree.query(pts, predicate="dwithin", distance=d)
        near = np.zeros(len(cells))
        near[ci] = 1.0
        acc.add(name, "proximity", d, near, unit=f"within {d:g} m (1/0)", spec=spec, deficit=spec.deficit)


def _street_distance(
    cells: gpd.GeoDataFrame, centres: np.ndarray, streets: Any
) -> tuple[np.ndarray | None, float]:
    """Distance from each centre to the nearest street, and how near counts as "on a street"."""
    if not isinstance(streets, gpd.GeoDataFrame) or not len(streets):
        return None, ON_STREET_MIN_M
    (_, _), dist = shapely.STRtree(np.asarray(streets.geometry.values)).query_nearest(
        shapely.points(centres), return_distance=True, all_matches=False
    )
    half_diag = np.sqrt(float(np.median(cells.geometry.area))) / np.sqrt(2.0)
    return dist, max(ON_STREET_MIN_M, half_diag)


def _lamp_candidates(
    acc: _Candidates,
    name: str,
    layer: gpd.GeoDataFrame,
    spec: LayerSpec,
    *,
    lit_share: Any,
    streets: tuple[Any, float],
) -> None:
    """Lit street share, broken lamps as a deficit, and dark streets (no working lamp within d)."""
    from planner.exposure import lamp_status

    xy = _geom.point_coords(np.asarray(layer.geometry.values))
    working = lamp_status(layer, spec)
    if lit_share is not None:
        unit = "share of street length lit"
        acc.add(name, "coverage", spec.radius_m, lit_share, unit=unit, spec=spec, deficit=False)
    acc.points(f"{name}_broken", xy[~working], spec, deficit=True)
    street_dist, on_street_m = streets
    if street_dist is None:
        return
    if working.any():
        lamp_d = cKDTree(xy[working]).query(acc.centres, k=1)[0]
    else:
        lamp_d = np.full(len(acc.centres), np.inf)
    for d in acc.distances_m:
        dark = (street_dist <= on_street_m) & (lamp_d > d)
        unit = f"street with no working lamp within {d:g} m (1/0)"
        acc.add(name, "unlit_street", d, dark, unit=unit, spec=spec, deficit=True)


def _kind_candidates(acc: _Candidates, name: str, layer: gpd.GeoDataFrame, spec: LayerSpec) -> None:
    """Each kind of a point layer (alley entrance, gate, ...) as a candidate of its own."""
    kind_col = spec.fields.kind
    if not kind_col or kind_col not in layer.columns:
        return
    xy = _geom.point_coords(np.asarray(layer.geometry.values))
    kinds = layer[kind_col].astype("string").str.strip().str.lower()
    for kind in sorted(k for k in kinds.dropna().unique() if k):
        mask = (kinds == kind).fillna(False).to_numpy(bool)
        if 0 < mask.sum() < len(mask):
            acc.points(f"{name}[{kind}]", xy[mask], spec, deficit=spec.deficit)


def _coverage_columns(
    cells: gpd.GeoDataFrame, layers: Mapping[str, Any], registry: Mapping[str, LayerSpec]
) -> gpd.GeoDataFrame:
    """The cells with lit-share columns for coverage point layers (reused when already measured)."""
    from planner import exposure

    needed = [
        k
        for k, v in layers.items()
        if k in registry and registry[k].acts_as == "coverage" and registry[k].geometry_type == "point"
    ]
    missing = [k for k in needed if f"{k}__lit_share" not in cells]
    if not missing or "streets" not in layers:
        return cells
    exp_cols = exposure.exposure_for_polygons(
        cells, {k: layers[k] for k in [*missing, "streets"]}, registry=registry
    )
    return cells.drop(columns=[c for c in exp_cols.columns if c in cells.columns]).join(exp_cols)


def risk_features(
    cells: gpd.GeoDataFrame,
    layers: Mapping[str, gpd.GeoDataFrame | Surface],
    *,
    distances_m: Sequence[float] = (100, 200, 400),
    operationalisations: Sequence[str] = OPERATIONALISATIONS,
    registry: Mapping[str, LayerSpec] | None = None,
    occlusion: bool = True,
    view_samples: int = 3,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Candidate risk factors for every cell.

    Parameters
    ----------
    cells : GeoDataFrame of polygons (projected CRS, metres)
        Grid cells. Existing ``street_lights__lit_share`` columns are reused; otherwise they are
        computed with :mod:`planner.exposure`.
    layers : mapping of str to GeoDataFrame or Surface
        Layer kind → data in the cells' CRS; only kinds whose spec has ``risk_candidate`` are used.
    distances_m : sequence of float
        Distances (metres) for proximity and density.
    operationalisations : sequence of {"proximity", "density"}
    registry : mapping, optional
        Layer specs (default :func:`planner.exposure.layers.load_registry`).
    occlusion : bool
        Cut camera views by the ``buildings`` layer (when given).
    view_samples : int
        Camera coverage is the share of a ``view_samples`` × ``view_samples`` lattice of points in
        each cell that a camera sees (1 = the cell centre only).

    Returns
    -------
    X : DataFrame
        Indexed like ``cells``; one column per candidate, named ``<factor>|<operationalisation>|<d>``.
    meta : DataFrame
        One row per column of ``X``: ``factor``, ``operationalisation``, ``distance_m``, ``unit``,
        ``role``, ``deficit``, ``addressed_by``.
    """
    from planner import exposure

    registry = registry if registry is not None else load_registry()
    require_projected(cells, what="cells passed to risk terrain")
    acc = _Candidates(cell_centroids(cells), tuple(float(d) for d in distances_m), tuple(operationalisations))
    measured = _coverage_columns(cells, layers, registry)
    found = layers.get("buildings") if occlusion else None
    buildings = found if isinstance(found, gpd.GeoDataFrame) else None
    streets = _street_distance(cells, acc.centres, layers.get("streets"))
    for name, layer in layers.items():
        spec = registry.get(name)
        if spec is None or not spec.risk_candidate:
            continue
        if isinstance(layer, Surface):
            mean, _ = exposure.zonal_stats(layer, np.asarray(cells.geometry.values))
            unit = f"per {LUX_STEP:g} {spec.units}" if spec.units else "per unit"
            scale = LUX_STEP if spec.units == "lux" else 1.0
            acc.add(name, "zonal", 0.0, mean / scale, unit=unit, spec=spec, deficit=spec.deficit)
        elif spec.geometry_type == "polygon":
            _polygon_candidates(acc, name, layer, cells, spec)
        elif spec.geometry_type != "point":
            continue
        elif spec.acts_as == "coverage" and spec.fields.status:
            col = f"{name}__lit_share"
            lit = measured[col].to_numpy(float) if col in measured else None
            _lamp_candidates(acc, name, layer, spec, lit_share=lit, streets=streets)
        elif spec.acts_as == "viewshed":
            share = _cells_in_view(cells, layer, spec, buildings=buildings, samples=view_samples)
            acc.add(name, "coverage", 0.0, share, unit="share of cell area in view", spec=spec, deficit=False)
        else:
            acc.points(
                name, _geom.point_coords(np.asarray(layer.geometry.values)), spec, deficit=spec.deficit
            )
            _kind_candidates(acc, name, layer, spec)
    return acc.frames(cells.index)
