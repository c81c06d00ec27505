"""Exposure: the environment of every cell and hotspot, measured from the environmental layers.

For each polygon (grid cell or hotspot) and each layer with a spec in ``layers/`` this computes
``<layer>__<metric>`` columns:

* every point layer: ``count`` (inside the polygon), ``per_km2``, ``nearest_m`` (distance from the
  polygon, 0 when a feature lies inside) and ``n_within_radius`` (within the spec's radius of it);
* ``street_lights``: ``lit_share`` (share of street length within a *working* lamp's radius),
  ``lit_length_m``, ``unlit_length_m``, ``n_working``, ``n_broken``;
* rasters (``lighting``): ``mean_<units>`` and ``min_<units>`` (``lighting__mean_lux``);
* ``cameras`` (viewshed): ``covered_share`` and ``covered_length_m`` of street length seen by a
  camera (sector by direction, field of view and range, sight lines cut by buildings when a
  buildings layer is given; a plain disc of the range when the direction is unknown — counted in
  ``n_direction_unknown`` and logged);
* ``access_points``: also ``per_km_street`` (permeability: ways in per km of street);
* polygon layers: ``count`` (intersecting), ``area_share``, ``nearest_m``;
* ``streets``: ``length_m`` and ``junctions_per_km2`` (permeability of the street network);
* ``generators__count`` / ``generators__per_km2``: all generator-role point layers together.

Everything is vectorised (STRtree pair queries, cKDTree, numpy bincounts, rasterio rasterize).
All inputs must share one projected CRS in metres.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner import _geom
from planner.crs import require_projected
from planner.errors import CRSError, ValidationError
from planner.exposure.layers import LayerSpec, load_registry
from planner.surface import Surface

logger = logging.getLogger(__name__)

Layer: TypeAlias = gpd.GeoDataFrame | Surface
CAMERA_STEP_M = 2.0


def _geoms(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    return np.asarray(gdf.geometry.values if isinstance(gdf, gpd.GeoDataFrame) else gdf.values)


def _check_crs(polygons: gpd.GeoDataFrame, layers: Mapping[str, Any], where: str) -> None:
    crs = require_projected(polygons, what=f"polygons passed to {where}")
    problems = []
    for name, layer in layers.items():
        if layer is None:
            continue
        other = layer.crs
        if other is None or not crs.equals(other):
            problems.append(f"layer {name!r} is in {other}, the polygons in {crs.to_string()}")
    if problems:
        raise CRSError(
            f"All layers given to {where} must share the polygons' CRS. Transform them with "
            "planner.crs.to_analysis_crs first:",
            problems=problems,
        )


def lamp_status(lamps: gpd.GeoDataFrame, spec: LayerSpec) -> np.ndarray:
    """Boolean array: True for a working lamp (unknown or missing status counts as working)."""
    col = spec.fields.status
    if not col or col not in lamps.columns:
        return np.ones(len(lamps), dtype=bool)
    status = lamps[col].astype("string").str.strip().str.lower()
    broken = status.isin([v.lower() for v in spec.fields.broken_values]).to_numpy(dtype=bool)
    return ~broken


def camera_parameters(
    cameras: gpd.GeoDataFrame, spec: LayerSpec
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Positions (k, 2), direction (compass °, NaN = unknown), field of view (°) and range (m).

    Missing columns fall back to the spec: ``default_fov_deg`` and ``default_range_m`` (else the
    spec radius). A camera without a direction sees all round (a disc of its range).
    """
    f = spec.fields
    n = len(cameras)

    def column(name: str | None, default: float) -> np.ndarray:
        if name and name in cameras.columns:
            values = pd.to_numeric(cameras[name], errors="coerce").to_numpy(dtype=float)
            return np.where(np.isnan(values), default, values)
        return np.full(n, default)

    xy = _geom.point_coords(_geoms(cameras))
    direction = (
        pd.to_numeric(cameras[f.direction], errors="coerce").to_numpy(dtype=float)
        if f.direction and f.direction in cameras.columns
        else np.full(n, np.nan)
    )
    fov = column(f.fov, f.default_fov_deg)
    rng = column(f.range, f.default_range_m or spec.radius_m)
    return xy, direction, fov, rng


def camera_viewsheds(
    cameras: gpd.GeoDataFrame,
    *,
    buildings: gpd.GeoDataFrame | None = None,
    spec: LayerSpec | None = None,
) -> gpd.GeoDataFrame:
    """What each camera can see, as polygons (sector cut by building shadows).

    Parameters
    ----------
    cameras : GeoDataFrame of points (projected CRS, metres)
        Columns named by the ``cameras`` spec (``direction_deg``, ``fov_deg``, ``range_m``).
    buildings : GeoDataFrame of polygons, optional
        Obstacles; each casts a shadow away from the camera.
    spec : LayerSpec, optional
        Default: the registry's ``cameras`` spec.

    Returns
    -------
    GeoDataFrame
        Indexed like ``cameras``: ``geometry`` (visible area), ``method`` (``"sector"``, or
        ``"buffer"`` when the direction is unknown), ``occluded`` (whether buildings cut it).
    """
    require_projected(cameras, what="cameras layer")
    spec = spec or load_registry()["cameras"]
    xy, direction, fov, rng = camera_parameters(cameras, spec)
    sectors = _geom.sector_polygons(xy, direction, fov, rng)
    method = np.where(np.isnan(direction) | (fov >= 360), "buffer", "sector")
    visible = sectors
    occluded = np.zeros(len(cameras), dtype=bool)
    if buildings is not None and len(buildings) and len(cameras):
        bgeoms = _geoms(buildings)
        ci, bi = shapely.STRtree(bgeoms).query(sectors, predicate="intersects")
        # A building the camera stands on or touches does not hide the view in front of it.
        on_it = shapely.dwithin(bgeoms[bi], shapely.points(xy[ci]), 0.5)
        ci, bi = ci[~on_it], bi[~on_it]
        if len(ci):
            shadows = _geom.shadow_polygons(xy[ci], bgeoms[bi], reach_m=float(rng.max()) * 10)
            grouped = (
                gpd.GeoDataFrame({"camera": ci}, geometry=shadows, crs=cameras.crs)
                .dissolve(by="camera")
                .geometry
            )
            idx = grouped.index.to_numpy()
            visible = visible.copy()
            visible[idx] = shapely.difference(sectors[idx], _geoms(grouped))
            occluded[idx] = True
    return gpd.GeoDataFrame(
        {"method": method, "occluded": occluded}, geometry=visible, crs=cameras.crs, index=cameras.index
    )


def _weighted_sum(owner: np.ndarray, *, weights: np.ndarray, minlength: int) -> np.ndarray:
    """``np.bincount`` with weights, always float64 (NumPy gives int64 when ``owner`` is empty), so
    the exposure columns' dtypes do not depend on the data (partitioned runs concatenate exactly).
    """
    return np.bincount(owner, weights=weights, minlength=minlength).astype(np.float64, copy=False)


def _point_metrics(
    name: str, pts: np.ndarray, geoms: np.ndarray, area_km2: np.ndarray, radius_m: float
) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    n = len(geoms)
    count = _geom.point_in_polygon_counts(pts, geoms)
    out[f"{name}__count"] = count
    out[f"{name}__per_km2"] = np.divide(count, area_km2, out=np.zeros(n), where=area_km2 > 0)
    if len(pts):
        tree = shapely.STRtree(pts)
        (poly_idx, _), dist = tree.query_nearest(geoms, return_distance=True, all_matches=False)
        nearest = np.full(n, np.nan)
        nearest[poly_idx] = dist
        out[f"{name}__nearest_m"] = nearest
        if radius_m > 0:
            pi, _ = tree.query(geoms, predicate="dwithin", distance=radius_m)
            out[f"{name}__n_within_radius"] = np.bincount(pi, minlength=n)
    else:
        out[f"{name}__nearest_m"] = np.full(n, np.nan)
        if radius_m > 0:
            out[f"{name}__n_within_radius"] = np.zeros(n, dtype=np.int64)
    return out


def _polygon_metrics(
    name: str, feats: np.ndarray, geoms: np.ndarray, area_m2: np.ndarray
) -> dict[str, np.ndarray]:
    n = len(geoms)
    count: np.ndarray = np.zeros(n, dtype=np.int64)
    inside: np.ndarray = np.zeros(n)
    nearest = np.full(n, np.nan)
    if len(feats):
        feats = shapely.make_valid(feats)
        tree = shapely.STRtree(feats)
        pi, fi = tree.query(geoms, predicate="intersects")
        count = np.bincount(pi, minlength=n)
        # Overlapping features would be counted twice by summing areas; overlaps within one layer
        # are rare (car parks, vegetation) and the share is capped at 1.
        inside = _weighted_sum(
            pi, weights=shapely.area(shapely.intersection(geoms[pi], feats[fi])), minlength=n
        )
        (qi, _), dist = tree.query_nearest(geoms, return_distance=True, all_matches=False)
        nearest[qi] = dist
    share = np.clip(np.divide(inside, area_m2, out=np.zeros(n), where=area_m2 > 0), 0, 1)
    return {f"{name}__count": count, f"{name}__area_share": share, f"{name}__nearest_m": nearest}


def zonal_stats(surface: Surface, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and minimum raster value per polygon (pixel centres inside; NaN pixels ignored).

    A polygon too small to contain a pixel centre takes the value of the pixel under its
    representative point. Overlapping polygons: each pixel goes to the last one drawn.
    """
    from rasterio import features
    from rasterio.transform import rowcol

    n = len(geoms)
    arr = np.asarray(surface.array, dtype=float)
    ids = features.rasterize(
        zip(geoms, np.arange(1, n + 1), strict=True),
        out_shape=arr.shape,
        transform=surface.transform,
        fill=0,
        dtype="int32",
    ).ravel()
    vals = arr.ravel()
    ok = (ids > 0) & np.isfinite(vals)
    owner = ids[ok] - 1
    counts = np.bincount(owner, minlength=n)
    mean = np.divide(
        _weighted_sum(owner, weights=vals[ok], minlength=n), counts, out=np.full(n, np.nan), where=counts > 0
    )
    minimum = np.full(n, np.inf)
    np.minimum.at(minimum, owner, vals[ok])
    minimum[counts == 0] = np.nan
    empty = np.flatnonzero(counts == 0)
    if len(empty):
        rp = shapely.point_on_surface(geoms[empty])
        rows, cols = rowcol(surface.transform, shapely.get_x(rp), shapely.get_y(rp))
        rows, cols = np.asarray(rows), np.asarray(cols)
        inside = (rows >= 0) & (rows < arr.shape[0]) & (cols >= 0) & (cols < arr.shape[1])
        sample = np.full(len(empty), np.nan)
        sample[inside] = arr[rows[inside], cols[inside]]
        mean[empty] = sample
        minimum[empty] = sample
    return mean, minimum


def _junction_points(streets: np.ndarray) -> np.ndarray:
    """Street-network junctions: line ends shared by three or more street ends (0.1 m snap)."""
    parts = shapely.get_parts(streets)
    parts = parts[np.isin(shapely.get_type_id(parts), _geom.LINE_TYPES)]
    if len(parts) == 0:
        return np.array([], dtype=object)
    ends = np.concatenate(
        [_geom.point_coords(shapely.get_point(parts, 0)), _geom.point_coords(shapely.get_point(parts, -1))]
    )
    keys, counts = np.unique(np.round(ends, 1), axis=0, return_counts=True)
    return shapely.points(keys[counts >= 3])


def exposure_for_polygons(
    polygons: gpd.GeoDataFrame,
    layers: Mapping[str, Layer],
    *,
    registry: Mapping[str, LayerSpec] | None = None,
    streets: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    camera_step_m: float = CAMERA_STEP_M,
) -> pd.DataFrame:
    """Exposure metrics of every polygon to every layer with a spec.

    Parameters
    ----------
    polygons : GeoDataFrame of polygons
        Cells or hotspots, in a projected CRS in metres.
    layers : mapping of str to GeoDataFrame or Surface
        Layer kind → data, in the polygons' CRS. Kinds without a spec (``wards``) are skipped.
    registry : mapping, optional
        Layer specs (default :func:`planner.exposure.layers.load_registry`).
    streets, buildings : GeoDataFrame, optional
        Street lines and building footprints; default ``layers["streets"]`` / ``layers["buildings"]``.
        Without streets the lighting and camera street-length metrics are not computed.
    camera_step_m : float
        Sampling step in metres along streets for camera sight lines.

    Returns
    -------
    DataFrame
        Indexed like ``polygons``; ``<layer>__<metric>`` columns (see the module docstring).
        ``attrs["notes"]`` lists caveats (cameras without a direction, skipped layers).
    """
    where = "exposure.exposure_for_polygons"
    registry = registry if registry is not None else load_registry()
    streets = streets if streets is not None else layers.get("streets")
    buildings = buildings if buildings is not None else layers.get("buildings")
    if streets is not None and not isinstance(streets, gpd.GeoDataFrame):
        raise ValidationError(f"'streets' given to {where} must be a GeoDataFrame of lines.")
    _check_crs(polygons, {**layers, "streets": streets, "buildings": buildings}, where)
    if not polygons.index.is_unique:
        raise ValidationError(f"The polygons given to {where} have a duplicate index; reset it first.")
    ctx = _context(_geoms(polygons), streets, buildings, camera_step_m)
    cols = _street_metrics(ctx, streets)
    notes: list[str] = []
    generator_count = np.zeros(ctx.n)
    for name, layer in layers.items():
        spec = registry.get(name)
        if spec is None:
            logger.debug(
                "no layer spec for %r; skipped (map it with planner.exposure.layers.map_layer)", name
            )
            continue
        if name == "streets":
            continue
        cols.update(_layer_metrics(ctx, name, layer, spec, notes))
        if spec.role == "generator" and spec.geometry_type == "point" and not isinstance(layer, Surface):
            generator_count += cols[f"{name}__count"]
    if any(s.role == "generator" and k in layers for k, s in registry.items()):
        cols["generators__count"] = generator_count
        cols["generators__per_km2"] = np.divide(
            generator_count, ctx.area_km2, out=np.zeros(ctx.n), where=ctx.area_km2 > 0
        )
    out = pd.DataFrame(cols, index=polygons.index)
    out.attrs["notes"] = notes
    logger.info("exposure: %d polygons × %d columns", ctx.n, out.shape[1])
    return out


@dataclass(frozen=True)
class _Context:
    """The polygons being measured and what every layer's metrics share (metres, m², km²)."""

    geoms: np.ndarray
    area_m2: np.ndarray
    seg: _geom.Segments | None
    street_len: np.ndarray
    buildings: gpd.GeoDataFrame | None
    camera_step_m: float

    @property
    def n(self) -> int:
        return len(self.geoms)

    @property
    def area_km2(self) -> np.ndarray:
        return self.area_m2 / 1e6

    def share_of_street(self, length: np.ndarray) -> np.ndarray:
        """``length`` over each polygon's street length (NaN without streets)."""
        return np.divide(length, self.street_len, out=np.full(self.n, np.nan), where=self.street_len > 0)


def _context(geoms: np.ndarray, streets: Any, buildings: Any, camera_step_m: float) -> _Context:
    n = len(geoms)
    seg = _geom.segments_in_polygons(geoms, _geoms(streets)) if streets is not None else None
    street_len = _weighted_sum(seg.owner, weights=seg.length, minlength=n) if seg is not None else np.zeros(n)
    return _Context(geoms, shapely.area(geoms), seg, street_len, buildings, camera_step_m)


def _street_metrics(ctx: _Context, streets: Any) -> dict[str, np.ndarray]:
    """Street length and junction density (permeability) per polygon."""
    if streets is None:
        return {}
    junctions = _junction_points(_geoms(streets))
    per_km2 = np.divide(
        _geom.point_in_polygon_counts(junctions, ctx.geoms),
        ctx.area_km2,
        out=np.zeros(ctx.n),
        where=ctx.area_km2 > 0,
    )
    return {"streets__length_m": ctx.street_len, "streets__junctions_per_km2": per_km2}


def _layer_metrics(
    ctx: _Context, name: str, layer: Layer, spec: LayerSpec, notes: list[str]
) -> dict[str, np.ndarray]:
    """Every metric of one layer per polygon, by its geometry type and how it acts."""
    if isinstance(layer, Surface):
        mean, minimum = zonal_stats(layer, ctx.geoms)
        unit = spec.units or "value"
        return {f"{name}__mean_{unit}": mean, f"{name}__min_{unit}": minimum}
    feats = _geoms(layer)
    if spec.geometry_type == "polygon":
        return _polygon_metrics(name, feats, ctx.geoms, ctx.area_m2)
    if spec.geometry_type == "line":
        lsegs = _geom.segments_in_polygons(ctx.geoms, feats)
        return {f"{name}__length_m": _weighted_sum(lsegs.owner, weights=lsegs.length, minlength=ctx.n)}
    cols = _point_metrics(name, feats, ctx.geoms, ctx.area_km2, spec.radius_m)
    if spec.acts_as == "coverage":
        cols.update(_lamp_metrics(ctx, name, layer, spec))
    elif spec.acts_as == "viewshed":
        cols.update(_camera_metrics(ctx, name, layer, spec, notes))
    elif spec.role == "access" and ctx.seg is not None:
        cols[f"{name}__per_km_street"] = np.divide(
            cols[f"{name}__count"], ctx.street_len / 1000.0, out=np.zeros(ctx.n), where=ctx.street_len > 0
        )
    return cols


def _lamp_metrics(
    ctx: _Context, name: str, layer: gpd.GeoDataFrame, spec: LayerSpec
) -> dict[str, np.ndarray]:
    """Working and broken lamps, and the street length within a working lamp's radius."""
    feats = _geoms(layer)
    working = lamp_status(layer, spec)
    cols = {
        f"{name}__n_working": _geom.point_in_polygon_counts(feats[working], ctx.geoms),
        f"{name}__n_broken": _geom.point_in_polygon_counts(feats[~working], ctx.geoms),
    }
    if ctx.seg is not None:
        xy = _geom.point_coords(feats)
        lit = _geom.disc_covered_length(ctx.seg, xy[working], np.full(int(working.sum()), spec.radius_m))
        lit_len = _weighted_sum(ctx.seg.owner, weights=lit, minlength=ctx.n)
        cols[f"{name}__lit_length_m"] = lit_len
        cols[f"{name}__unlit_length_m"] = np.clip(ctx.street_len - lit_len, 0, None)
        cols[f"{name}__lit_share"] = ctx.share_of_street(lit_len)
    return cols


def _camera_metrics(
    ctx: _Context, name: str, layer: gpd.GeoDataFrame, spec: LayerSpec, notes: list[str]
) -> dict[str, np.ndarray]:
    """Cameras without a direction near each polygon, and the street length in view (cut by buildings)."""
    xy, direction, fov, rng = camera_parameters(layer, spec)
    unknown = np.isnan(direction)
    cols: dict[str, np.ndarray] = {}
    if unknown.any():
        msg = (
            f"{int(unknown.sum())} of {len(layer)} {name} have no direction; their coverage "
            "is a plain disc of their range, which overstates what they see"
        )
        logger.warning(msg)
        notes.append(msg)
    if len(xy):
        near_unknown = np.zeros(0, dtype=np.int64)
        if unknown.any():
            near_unknown = shapely.STRtree(shapely.points(xy[unknown])).query(
                ctx.geoms, predicate="dwithin", distance=float(rng.max())
            )[0]
        cols[f"{name}__n_direction_unknown"] = np.bincount(near_unknown, minlength=ctx.n)
    if ctx.seg is None:
        return cols
    pts, weights, seg_of = _geom.sample_segments(ctx.seg, step_m=ctx.camera_step_m)
    bgeoms = _geoms(ctx.buildings) if ctx.buildings is not None else None
    if bgeoms is not None and len(xy):
        # Ignore a building the camera is mounted on (within 0.5 m of the camera).
        on_building = shapely.STRtree(bgeoms).query(shapely.points(xy), predicate="dwithin", distance=0.5)[1]
        bgeoms = np.delete(bgeoms, np.unique(on_building))
    pi, _ = _geom.visible_pairs(pts, xy, direction, fov, rng, buildings=bgeoms)
    seen = np.zeros(len(pts), dtype=bool)
    seen[pi] = True
    covered = _weighted_sum(ctx.seg.owner[seg_of], weights=weights * seen, minlength=ctx.n)
    cols[f"{name}__covered_length_m"] = covered
    cols[f"{name}__covered_share"] = ctx.share_of_street(covered)
    return cols


def _join(target: gpd.GeoDataFrame, exposure: pd.DataFrame) -> gpd.GeoDataFrame:
    kept = target.drop(columns=[c for c in exposure.columns if c in target.columns])
    out = kept.join(exposure)
    out.attrs = {**target.attrs, "exposure_notes": exposure.attrs.get("notes", [])}
    return out


def exposure_for_cells(
    cells: gpd.GeoDataFrame, layers: Mapping[str, Layer], **kwargs: Any
) -> gpd.GeoDataFrame:
    """``cells`` (a new frame) with the exposure columns of :func:`exposure_for_polygons` joined.

    Keyword arguments are passed on to :func:`exposure_for_polygons`. Existing exposure columns of
    the same name are replaced.
    """
    return _join(cells, exposure_for_polygons(cells, layers, **kwargs))


def exposure_for_hotspots(
    hotspots: gpd.GeoDataFrame, layers: Mapping[str, Layer], **kwargs: Any
) -> gpd.GeoDataFrame:
    """``hotspots`` (a new frame) with the exposure columns of :func:`exposure_for_polygons` joined."""
    return _join(hotspots, exposure_for_polygons(hotspots, layers, **kwargs))


def exposure_for_polygons_dask(
    polygons: gpd.GeoDataFrame,
    layers: Mapping[str, Layer],
    *,
    npartitions: int = 4,
    scheduler: str = "threads",
    **kwargs: Any,
) -> pd.DataFrame:
    """:func:`exposure_for_polygons` on Dask (dask-geopandas), partitioned by polygon.

    Each polygon's exposure depends only on the layers, so the partitioned result equals the
    single-machine one exactly. Layers are shared with every partition (they are usually far smaller
    than a city-wide grid). ``scheduler`` is passed to ``compute`` (``"threads"``: shapely releases
    the GIL; ``"processes"`` or a ``distributed`` client for more).
    """
    import dask_geopandas

    registry = kwargs.pop("registry", None)
    registry = registry if registry is not None else load_registry()
    meta = exposure_for_polygons(polygons.iloc[:1], layers, registry=registry, **kwargs).iloc[:0]

    def part(chunk: gpd.GeoDataFrame) -> pd.DataFrame:
        out = exposure_for_polygons(chunk, layers, registry=registry, **kwargs)
        return out.astype(meta.dtypes.to_dict())

    ddf = dask_geopandas.from_geopandas(polygons, npartitions=npartitions)
    result = ddf.map_partitions(part, meta=meta).compute(scheduler=scheduler)
    result.attrs["notes"] = meta.attrs.get("notes", [])
    return result


def exposure_profile(
    place: gpd.GeoDataFrame | pd.Series, *, registry: Mapping[str, LayerSpec] | None = None
) -> pd.DataFrame:
    """A readable exposure profile of one hotspot or cell (for the dashboard).

    Parameters
    ----------
    place : Series or one-row GeoDataFrame
        A row with ``<layer>__<metric>`` columns.

    Returns
    -------
    DataFrame
        Columns ``layer``, ``title``, ``role``, ``metric``, ``value``, one row per exposure column.
    """
    registry = registry if registry is not None else load_registry()
    row = place.iloc[0] if isinstance(place, pd.DataFrame) else place
    records = []
    for col, value in row.items():
        if not isinstance(col, str) or "__" not in col:
            continue
        layer, metric = col.split("__", 1)
        spec = registry.get(layer)
        records.append(
            {
                "layer": layer,
                "title": spec.title if spec else layer.replace("_", " ").capitalize(),
                "role": spec.role if spec else "summary",
                "metric": metric,
                "value": value,
            }
        )
    return pd.DataFrame(records, columns=["layer", "title", "role", "metric", "value"])


__all__ = [
    "camera_parameters",
    "camera_viewsheds",
    "exposure_for_cells",
    "exposure_for_hotspots",
    "exposure_for_polygons",
    "exposure_for_polygons_dask",
    "exposure_profile",
    "lamp_status",
    "zonal_stats",
]
