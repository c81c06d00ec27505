"""Candidate risk factors: every risk-candidate layer operationalised at several distances.

Operationalisations (RTMDx, ``PEERS.md`` §1.6):

* ``proximity`` — the place is within ``d`` metres of a feature (1/0);
* ``density`` — the number of features within ``d`` metres;
* ``area_share`` — the place is inside a polygon of the layer (a car park, a vacant lot);
* ``coverage`` — a camera sees the place (``cameras``); for whole cells measured at their centre,
  the share of the cell's street length lit by working lamps (``street_lights``);
* ``unlit_street`` — the place is on a street with no working lamp within ``d``;
* ``zonal`` — raster value (``lighting``: per 10 lux).

Places are points. :func:`point_features` measures them at given points (the design of the
point-intensity model, :mod:`planner.risk.intensity`); :func:`risk_features` measures cells as the
mean over a ``samples`` × ``samples`` lattice of points in each cell (the share of the cell within
``d``, inside, in view, on an unlit street). With ``samples = 1`` a cell is its centre and the
measures are the classic 1/0 flags, the exact area share of polygons, the lit share of street
length and the zonal mean of rasters. Density is always counted from the cell centre.

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


@dataclass(frozen=True)
class Lattice:
    """Sample points standing for places: ``xy`` (m, 2), the site (cell) each belongs to
    (``owner``), the number of sites and the spacing of the points in metres.

    Built by :func:`cell_lattice` (points inside cells) or :func:`point_lattice` (each point a
    site of its own).
    """

    xy: np.ndarray
    owner: np.ndarray
    n_cells: int
    spacing_m: float
    cache: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def as_points(self) -> Lattice:
        """The same points, each a site of its own (sharing the measurement cache)."""
        return Lattice(self.xy, np.arange(len(self.xy)), len(self.xy), self.spacing_m, self.cache)

    def shapely_points(self) -> np.ndarray:
        """The points as shapely geometries (made once)."""
        if "points" not in self.cache:
            self.cache["points"] = shapely.points(self.xy)
        return self.cache["points"]

    def memo(self, key: Any, compute: Any) -> Any:
        """``compute()`` once per ``key`` for these points."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]

    @property
    def single(self) -> bool:
        """True when every site is one point (values are 1/0 flags, not shares)."""
        return len(self.xy) == self.n_cells

    def share(self, flags: np.ndarray) -> np.ndarray:
        """Per site, the mean of ``flags`` over its points (the share where a flag is true)."""
        values = np.asarray(flags, dtype=float)
        if self.single and np.array_equal(self.owner, np.arange(self.n_cells)):
            return values
        total = np.bincount(self.owner, minlength=self.n_cells)
        hits = np.bincount(self.owner, weights=values, minlength=self.n_cells)
        return np.divide(hits, total, out=np.zeros(self.n_cells), where=total > 0)


def cell_lattice(cells: gpd.GeoDataFrame, samples: int) -> Lattice:
    """A ``samples`` × ``samples`` lattice over each cell's bounding box, points outside the
    (clipped) cell dropped; a cell the lattice misses keeps its centroid. ``samples = 1``: the
    centroids.
    """
    geoms = np.asarray(cells.geometry.values)
    centres = cell_centroids(cells)
    n = len(geoms)
    side = float(np.sqrt(np.median(shapely.area(geoms)))) if n else 0.0
    if samples <= 1 or n == 0:
        return Lattice(centres, np.arange(n), n, side)
    bounds = shapely.bounds(geoms)
    frac = (np.arange(samples) + 0.5) / samples
    gx, gy = np.meshgrid(frac, frac)
    fx, fy = gx.ravel(), gy.ravel()
    lx = (bounds[:, 0:1] + fx[None, :] * (bounds[:, 2:3] - bounds[:, 0:1])).ravel()
    ly = (bounds[:, 1:2] + fy[None, :] * (bounds[:, 3:4] - bounds[:, 1:2])).ravel()
    owner = np.repeat(np.arange(n), len(fx))
    inside = shapely.contains_xy(geoms[owner], lx, ly)
    missed = np.setdiff1d(np.arange(n), owner[inside])
    xy = np.vstack([np.column_stack([lx[inside], ly[inside]]), centres[missed]])
    return Lattice(xy, np.concatenate([owner[inside], missed]), n, side / samples)


def point_lattice(xy: np.ndarray, spacing_m: float) -> Lattice:
    """Each point a site of its own (``spacing_m``: the distance between neighbouring points)."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    return Lattice(xy, np.arange(len(xy)), len(xy), float(spacing_m))


def candidate_key(factor: str, op: str, distance_m: float) -> str:
    """Column name of a candidate: ``<factor>|<operationalisation>|<d>``."""
    return f"{factor}|{op}|{float(distance_m):g}"


@dataclass
class _Candidates:
    """Collects candidate columns and their metadata (one row per column).

    ``cells`` holds the polygons when whole cells are measured (None for points); ``wanted``
    limits the work to those candidate keys (None = all); density is not counted within less than
    ``min_density_m`` (it would count the features proximity already flags).
    """

    lattice: Lattice
    centres: np.ndarray
    cells: gpd.GeoDataFrame | None
    distances_m: tuple[float, ...]
    operationalisations: tuple[str, ...]
    wanted: frozenset[str] | None = None
    min_density_m: float = 0.0
    cols: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def classic(self) -> bool:
        """Whole cells measured at their centres (the 1/0 flags and exact cell measures)."""
        return self.cells is not None and self.lattice.single

    def wants(self, name: str, op: str | None = None) -> bool:
        """Whether any candidate of ``name`` (and operationalisation ``op``) is to be measured."""
        if self.wanted is None:
            return True
        prefix = f"{name}|{op}|" if op else f"{name}|"
        return any(k.startswith(prefix) for k in self.wanted)

    def add(
        self, name: str, op: str, d: float, values: Any, *, unit: str, spec: LayerSpec, deficit: bool
    ) -> None:
        key = candidate_key(name, op, d)
        if self.wanted is not None and key not in self.wanted:
            return
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

    def within_unit(self, d: float) -> str:
        if self.lattice.single:
            return f"within {d:g} m (1/0)"
        return f"share of the cell within {d:g} m"

    def points(self, name: str, xy: np.ndarray, spec: LayerSpec, *, deficit: bool) -> None:
        """Proximity (within ``d`` of a feature) and density (features within ``d`` of the centre)
        at every distance.
        """
        if len(xy) == 0 or not self.wants(name):
            return
        tree = cKDTree(xy)
        nearest = None
        if "proximity" in self.operationalisations and self.wants(name, "proximity"):
            nearest = self.lattice.memo(
                ("nearest", name, len(xy), float(xy.sum())), lambda: tree.query(self.lattice.xy, k=1)[0]
            )
        for d in self.distances_m:
            if nearest is not None:
                share = self.lattice.share(nearest <= d)
                self.add(name, "proximity", d, share, unit=self.within_unit(d), spec=spec, deficit=deficit)
            if "density" in self.operationalisations and self.wants(name, "density"):
                if self.wanted is not None and candidate_key(name, "density", d) not in self.wanted:
                    continue
                if d < self.min_density_m:
                    continue
                n = tree.query_ball_point(self.centres, r=d, return_length=True)
                unit = f"per feature within {d:g} m"
                self.add(name, "density", d, n, unit=unit, spec=spec, deficit=deficit)

    def frames(self, index: pd.Index) -> tuple[pd.DataFrame, pd.DataFrame]:
        meta = pd.DataFrame.from_dict(self.meta, orient="index")
        if meta.empty:
            meta = pd.DataFrame(
                columns=[
                    "factor",
                    "operationalisation",
                    "distance_m",
                    "unit",
                    "role",
                    "deficit",
                    "addressed_by",
                ]
            )
        return pd.DataFrame(self.cols, index=index), meta


def _in_view(cameras: gpd.GeoDataFrame, spec: LayerSpec, *, buildings: Any, lattice: Lattice) -> np.ndarray:
    """Share of each site's points seen by a camera (sector cut by buildings when given)."""
    from planner.exposure import camera_parameters

    xy, direction, fov, rng = camera_parameters(cameras, spec)
    obstacles = np.asarray(buildings.geometry.values) if buildings is not None and len(buildings) else None
    if obstacles is not None and len(xy):
        on_it = shapely.STRtree(obstacles).query(shapely.points(xy), predicate="dwithin", distance=0.5)[1]
        obstacles = np.delete(obstacles, np.unique(on_it))

    def seen() -> np.ndarray:
        pi, _ = _geom.visible_pairs(lattice.xy, xy, direction, fov, rng, buildings=obstacles)
        flags = np.zeros(len(lattice.xy), dtype=bool)
        flags[pi] = True
        return flags

    return lattice.share(lattice.memo(("view", id(cameras), obstacles is not None), seen))


def _polygon_candidates(acc: _Candidates, name: str, layer: gpd.GeoDataFrame, spec: LayerSpec) -> None:
    """Inside the layer (the exact area share for whole cells), and proximity to it."""
    feats = np.asarray(layer.geometry.values)
    if len(feats) == 0 or not acc.wants(name):
        return
    tree = shapely.STRtree(feats)
    if acc.classic and acc.cells is not None:
        cell_geoms = np.asarray(acc.cells.geometry.values)
        ci, fi = tree.query(cell_geoms, predicate="intersects")
        share = np.zeros(len(cell_geoms))
        if len(ci):
            parts = shapely.area(shapely.intersection(cell_geoms[ci], feats[fi]))
            summed = np.bincount(ci, weights=parts, minlength=len(cell_geoms)).astype(float)
            share = np.clip(summed / np.maximum(shapely.area(cell_geoms), 1e-9), 0.0, 1.0)
        unit = "share of the cell inside"
    else:
        share = acc.lattice.share(_near_polygon(acc.lattice, name, tree, 0.0))
        unit = "inside (1/0)" if acc.lattice.single else "share of the cell inside"
    acc.add(name, "area_share", 0.0, share, unit=unit, spec=spec, deficit=spec.deficit)
    if not acc.wants(name, "proximity") or not acc.distances_m:
        return
    reach = max(acc.distances_m)
    dist = acc.lattice.memo(
        ("polygon-distance", name, len(feats), reach), lambda: _polygon_distance(acc.lattice, tree, reach)
    )
    for d in acc.distances_m:
        if acc.wanted is not None and candidate_key(name, "proximity", d) not in acc.wanted:
            continue
        share = acc.lattice.share(dist <= d)
        acc.add(name, "proximity", d, share, unit=acc.within_unit(d), spec=spec, deficit=spec.deficit)


def _polygon_distance(lattice: Lattice, tree: shapely.STRtree, reach_m: float) -> np.ndarray:
    """Distance (m) from each lattice point to the nearest polygon (0 inside), ∞ beyond ``reach_m``."""
    (pi, _), dist = tree.query_nearest(
        lattice.shapely_points(), max_distance=reach_m, return_distance=True, all_matches=False
    )
    out = np.full(len(lattice.xy), np.inf)
    out[pi] = dist
    return out


def _near_polygon(lattice: Lattice, name: str, tree: shapely.STRtree, d: float) -> np.ndarray:
    """Flags: the lattice point is inside a polygon (``d = 0``)."""

    def flags() -> np.ndarray:
        pi, _ = tree.query(lattice.shapely_points(), predicate="within")
        out = np.zeros(len(lattice.xy), dtype=bool)
        out[pi] = True
        return out

    return lattice.memo(("polygon", name, len(tree.geometries), float(d)), flags)


def _on_street(lattice: Lattice, streets: Any) -> np.ndarray | None:
    """Flags: the lattice point is on a street — within 25 m of a street line, or half the
    diagonal between neighbouring points when that is larger (None without streets).
    """
    if not isinstance(streets, gpd.GeoDataFrame) or not len(streets):
        return None
    near_m = max(ON_STREET_MIN_M, lattice.spacing_m / np.sqrt(2.0))

    def flags() -> np.ndarray:
        tree = shapely.STRtree(np.asarray(streets.geometry.values))
        pi, _ = tree.query(lattice.shapely_points(), predicate="dwithin", distance=near_m)
        out = np.zeros(len(lattice.xy), dtype=bool)
        out[pi] = True
        return out

    return lattice.memo(("streets", id(streets), near_m), flags)


@dataclass(frozen=True)
class _LampContext:
    """What lamp candidates need besides the lamps: cell lit shares and which points are on a
    street.
    """

    lit_share: np.ndarray | None
    on_street: np.ndarray | None


def _lamp_candidates(
    acc: _Candidates, name: str, layer: gpd.GeoDataFrame, spec: LayerSpec, ctx: _LampContext
) -> None:
    """Lit street share (whole cells), broken lamps as a deficit, and unlit streets (no working
    lamp within d).
    """
    from planner.exposure import lamp_status

    xy = _geom.point_coords(np.asarray(layer.geometry.values))
    working = lamp_status(layer, spec)
    if ctx.lit_share is not None:
        unit = "share of street length lit"
        acc.add(name, "coverage", spec.radius_m, ctx.lit_share, unit=unit, spec=spec, deficit=False)
    acc.points(f"{name}_broken", xy[~working], spec, deficit=True)
    if ctx.on_street is None or not acc.wants(name, "unlit_street"):
        return
    points = acc.lattice.xy
    lamp_d = acc.lattice.memo(
        ("lamps", name, int(working.sum()), float(xy[working].sum())),
        lambda: cKDTree(xy[working]).query(points, k=1)[0] if working.any() else np.full(len(points), np.inf),
    )
    on_street = ctx.on_street
    for d in acc.distances_m:
        dark = acc.lattice.share(on_street & (lamp_d > d))
        unit = (
            f"street with no working lamp within {d:g} m (1/0)"
            if acc.lattice.single
            else f"share of the cell on a street with no working lamp within {d:g} m"
        )
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


def _lit_shares(
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


def _raster_values(acc: _Candidates, surface: Surface) -> np.ndarray:
    """Mean raster value per site: the zonal mean for whole cells, else the mean of the values
    under the lattice points (NaN where the raster has none).
    """
    from rasterio.transform import rowcol

    if acc.classic and acc.cells is not None:
        from planner import exposure

        mean, _ = exposure.zonal_stats(surface, np.asarray(acc.cells.geometry.values))
        return mean
    arr = np.asarray(surface.array, dtype=float)
    rows, cols = rowcol(surface.transform, acc.lattice.xy[:, 0], acc.lattice.xy[:, 1])
    rows, cols = np.asarray(rows), np.asarray(cols)
    inside = (rows >= 0) & (rows < arr.shape[0]) & (cols >= 0) & (cols < arr.shape[1])
    values = np.full(len(rows), np.nan)
    values[inside] = arr[rows[inside], cols[inside]]
    ok = np.isfinite(values)
    total = np.bincount(acc.lattice.owner, weights=ok, minlength=acc.lattice.n_cells)
    summed = np.bincount(acc.lattice.owner, weights=np.where(ok, values, 0.0), minlength=acc.lattice.n_cells)
    return np.divide(summed, total, out=np.full(acc.lattice.n_cells, np.nan), where=total > 0)


@dataclass(frozen=True)
class _Options:
    registry: Mapping[str, LayerSpec]
    buildings: gpd.GeoDataFrame | None
    lit: gpd.GeoDataFrame | None


def _measure(acc: _Candidates, layers: Mapping[str, Any], opts: _Options) -> None:
    """Every candidate of every risk-candidate layer into ``acc``."""
    for name, layer in layers.items():
        spec = opts.registry.get(name)
        if spec is None or not spec.risk_candidate:
            continue
        if isinstance(layer, Surface):
            if acc.wants(name, "zonal"):
                unit = f"per {LUX_STEP:g} {spec.units}" if spec.units else "per unit"
                scale = LUX_STEP if spec.units == "lux" else 1.0
                values = _raster_values(acc, layer) / scale
                acc.add(name, "zonal", 0.0, values, unit=unit, spec=spec, deficit=spec.deficit)
        elif spec.geometry_type == "polygon":
            _polygon_candidates(acc, name, layer, spec)
        elif spec.geometry_type != "point":
            continue
        elif spec.acts_as == "coverage" and spec.fields.status:
            col = f"{name}__lit_share"
            lit = opts.lit[col].to_numpy(float) if opts.lit is not None and col in opts.lit else None
            on_street = (
                _on_street(acc.lattice, layers.get("streets")) if acc.wants(name, "unlit_street") else None
            )
            _lamp_candidates(acc, name, layer, spec, _LampContext(lit, on_street))
        elif spec.acts_as == "viewshed":
            if acc.wants(name, "coverage"):
                share = _in_view(layer, spec, buildings=opts.buildings, lattice=acc.lattice)
                unit = "in view (1/0)" if acc.lattice.single else "share of the cell in view"
                acc.add(name, "coverage", 0.0, share, unit=unit, spec=spec, deficit=False)
        else:
            acc.points(
                name, _geom.point_coords(np.asarray(layer.geometry.values)), spec, deficit=spec.deficit
            )
            _kind_candidates(acc, name, layer, spec)


def _buildings(layers: Mapping[str, Any], occlusion: bool) -> gpd.GeoDataFrame | None:
    found = layers.get("buildings") if occlusion else None
    return found if isinstance(found, gpd.GeoDataFrame) else None


def risk_features(
    cells: gpd.GeoDataFrame,
    layers: Mapping[str, gpd.GeoDataFrame | Surface],
    *,
    distances_m: Sequence[float] = (100, 200, 400),
    operationalisations: Sequence[str] = OPERATIONALISATIONS,
    registry: Mapping[str, LayerSpec] | None = None,
    occlusion: bool = True,
    view_samples: int = 3,
    samples: int | Lattice = 1,
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
        Distances (metres) for proximity, density and unlit streets.
    operationalisations : sequence of {"proximity", "density"}
    registry : mapping, optional
        Layer specs (default :func:`planner.exposure.layers.load_registry`).
    occlusion : bool
        Cut camera views by the ``buildings`` layer (when given).
    view_samples : int
        With ``samples = 1``, camera coverage is the share of a ``view_samples`` ×
        ``view_samples`` lattice of points in each cell that a camera sees.
    samples : int or Lattice
        Measure each cell on a ``samples`` × ``samples`` lattice of points and report the share of
        the cell meeting each candidate (within ``d``, inside, in view, on an unlit street; camera
        coverage uses the same lattice). 1 = at the cell centre (1/0 flags). With a lattice,
        density is counted only at distances of at least the cell side. A :class:`Lattice` of
        these cells (:func:`cell_lattice`) is used as it is, and its measurement cache is then
        shared with :func:`point_features` on the same lattice.

    Returns
    -------
    X : DataFrame
        Indexed like ``cells``; one column per candidate, named ``<factor>|<operationalisation>|<d>``.
    meta : DataFrame
        One row per column of ``X``: ``factor``, ``operationalisation``, ``distance_m``, ``unit``,
        ``role``, ``deficit``, ``addressed_by``.
    """
    registry = registry if registry is not None else load_registry()
    require_projected(cells, what="cells passed to risk terrain")
    lattice = samples if isinstance(samples, Lattice) else cell_lattice(cells, int(samples))
    acc = _Candidates(
        lattice,
        cell_centroids(cells),
        cells,
        tuple(float(d) for d in distances_m),
        tuple(operationalisations),
        min_density_m=0.0 if lattice.single else float(np.sqrt(np.median(cells.geometry.area))),
    )
    lit = _lit_shares(cells, layers, registry) if lattice.single else None
    buildings = _buildings(layers, occlusion)
    if lattice.single and "cameras" in layers:
        # cameras on their own lattice (a centre alone rarely falls in a narrow view)
        view = _Candidates(cell_lattice(cells, int(view_samples)), acc.centres, cells, (), ())
        _measure(view, {"cameras": layers["cameras"]}, _Options(registry, buildings, None))
        acc.cols.update(view.cols)
        acc.meta.update(view.meta)
        layers = {k: v for k, v in layers.items() if k != "cameras"}
    _measure(acc, layers, _Options(registry, buildings, lit))
    return acc.frames(cells.index)


def point_features(
    xy: np.ndarray | Lattice,
    layers: Mapping[str, gpd.GeoDataFrame | Surface],
    keys: Sequence[str],
    *,
    spacing_m: float | None = None,
    registry: Mapping[str, LayerSpec] | None = None,
    occlusion: bool = True,
) -> pd.DataFrame:
    """The candidates named in ``keys`` measured at points (1/0 flags, counts, raster values).

    Parameters
    ----------
    xy : ndarray (m, 2) or Lattice
        Point coordinates in the layers' projected CRS (metres), or a :class:`Lattice` whose
        points are measured (reusing what measuring its cells already computed).
    layers : mapping
        As for :func:`risk_features`.
    keys : sequence of str
        Candidate names ``<factor>|<operationalisation>|<d>`` (columns of :func:`risk_features`).
    spacing_m : float, optional
        Distance between neighbouring points (sets how near counts as "on a street"); required
        with coordinates, taken from a lattice.
    registry, occlusion
        As for :func:`risk_features`.

    Returns
    -------
    DataFrame
        One row per point, one column per key (in the order of ``keys``). A key whose layer is
        absent raises ``KeyError``.
    """
    registry = registry if registry is not None else load_registry()
    wanted = frozenset(str(k) for k in keys)
    distances = sorted({float(str(k).rsplit("|", 1)[1]) for k in wanted})
    if isinstance(xy, Lattice):
        lattice = xy.as_points()
    elif spacing_m is None:
        raise ValueError("point_features needs spacing_m= with coordinates (or pass a Lattice).")
    else:
        lattice = point_lattice(xy, spacing_m)
    acc = _Candidates(
        lattice, lattice.xy, None, tuple(d for d in distances if d > 0), ("proximity", "density"), wanted
    )
    _measure(acc, layers, _Options(registry, _buildings(layers, occlusion), None))
    missing = [k for k in keys if k not in acc.cols]
    if missing:
        raise KeyError(f"candidates {missing} could not be measured from the layers {sorted(layers)}")
    return pd.DataFrame({k: acc.cols[k] for k in keys})


def zone_field(layer: gpd.GeoDataFrame) -> str | None:
    """The column of a polygon layer that names zones (land use, zoning): the first text column
    with 2–20 distinct values, preferring names with zone, use, class or type; None if none.
    """
    text = [
        c
        for c in layer.columns
        if c != layer.geometry.name and (layer[c].dtype == object or pd.api.types.is_string_dtype(layer[c]))
    ]
    ok = [c for c in text if 2 <= layer[c].nunique(dropna=True) <= 20]
    preferred = [c for c in ok if any(w in str(c).lower() for w in ("zone", "use", "class", "type"))]
    return (preferred or ok or [None])[0]


def zone_shares(lattice: Lattice, layer: gpd.GeoDataFrame, field_name: str) -> pd.DataFrame:
    """Share of each site's points in each zone of ``field_name``, the commonest zone left out
    (it is the baseline); columns named ``zone[<value>]``.
    """
    zones = layer[field_name].astype("string")
    pi, zi = shapely.STRtree(np.asarray(layer.geometry.values)).query(
        shapely.points(lattice.xy), predicate="within"
    )
    label = np.full(len(lattice.xy), "", dtype=object)
    label[pi] = zones.to_numpy(dtype=object)[zi]
    present = pd.Series(label[label != ""]).value_counts()
    cols = {}
    for value in present.index[1:]:
        cols[f"zone[{value}]"] = lattice.share(label == value)
    return pd.DataFrame(cols)
