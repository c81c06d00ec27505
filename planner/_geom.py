"""Vectorised geometry kernels for exposure: street segments, lamp coverage, camera sight lines.

All coordinates are in one projected CRS in metres. Compass bearings are in degrees, 0 = north,
clockwise. No function loops in Python over features: pairs come from STRtree / cKDTree queries and
the arithmetic is done on numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

LINE_TYPES = (1, 2)  # shapely type ids of LineString and LinearRing


@dataclass(frozen=True)
class Segments:
    """Straight street segments, each owned by one polygon (the part of a street inside it).

    ``x0, y0, x1, y1`` are end points in metres; ``owner`` is the positional index of the polygon.
    """

    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    owner: np.ndarray

    @property
    def length(self) -> np.ndarray:
        """Length of each segment in metres."""
        return np.hypot(self.x1 - self.x0, self.y1 - self.y0)

    def __len__(self) -> int:
        return len(self.x0)

    def as_lines(self) -> np.ndarray:
        """The segments as shapely LineStrings."""
        coords = np.stack([np.column_stack([self.x0, self.y0]), np.column_stack([self.x1, self.y1])], axis=1)
        return shapely.linestrings(coords)


def _empty_segments() -> Segments:
    z = np.zeros(0)
    return Segments(z, z, z, z, np.zeros(0, dtype=np.int64))


def point_coords(geoms: np.ndarray) -> np.ndarray:
    """(n, 2) coordinates of point geometries (multi-points contribute their first point)."""
    if len(geoms) == 0:
        return np.zeros((0, 2))
    first = shapely.get_point(geoms, 0)
    single = shapely.get_type_id(geoms) == 0
    pts = np.where(single, geoms, first)
    return np.column_stack([shapely.get_x(pts), shapely.get_y(pts)])


def segments_in_polygons(polygons: np.ndarray, lines: np.ndarray) -> Segments:
    """Cut ``lines`` by ``polygons`` and split every piece into straight 2-point segments.

    Parameters
    ----------
    polygons, lines : ndarray of shapely geometries (same projected CRS, metres)

    Returns
    -------
    Segments
        One row per straight segment of a line inside a polygon, ``owner`` = polygon position.
        Overlapping polygons each get their own copy of the shared street.
    """
    if len(polygons) == 0 or len(lines) == 0:
        return _empty_segments()
    tree = shapely.STRtree(lines)
    poly_idx, line_idx = tree.query(polygons, predicate="intersects")
    if len(poly_idx) == 0:
        return _empty_segments()
    pieces = shapely.intersection(lines[line_idx], polygons[poly_idx])
    parts, part_of = shapely.get_parts(pieces, return_index=True)
    keep = np.isin(shapely.get_type_id(parts), LINE_TYPES)
    parts, owner_of_part = parts[keep], poly_idx[part_of[keep]]
    coords, coord_of = shapely.get_coordinates(parts, return_index=True)
    if len(coords) < 2:
        return _empty_segments()
    same = coord_of[1:] == coord_of[:-1]
    start, end = coords[:-1][same], coords[1:][same]
    owner = owner_of_part[coord_of[:-1][same]]
    nonzero = np.hypot(*(end - start).T) > 0
    return Segments(start[nonzero, 0], start[nonzero, 1], end[nonzero, 0], end[nonzero, 1], owner[nonzero])


def disc_covered_length(seg: Segments, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Length of each segment lying within at least one disc (exact, overlaps counted once).

    Parameters
    ----------
    seg : Segments
    centres : ndarray, shape (k, 2)
        Disc centres in metres (e.g. working lamps).
    radii : ndarray, shape (k,)
        Disc radii in metres.

    Returns
    -------
    ndarray, shape (len(seg),)
        Covered length in metres. Each disc cuts a segment in one interval of its parameter
        t ∈ [0, 1]; the intervals of one segment are merged by a sort and a running maximum.
    """
    out = np.zeros(len(seg))
    if len(seg) == 0 or len(centres) == 0:
        return out
    tree = shapely.STRtree(shapely.points(centres))
    max_r = float(np.max(radii))
    si, ci = tree.query(seg.as_lines(), predicate="dwithin", distance=max_r)
    if len(si) == 0:
        return out
    dx, dy = (seg.x1 - seg.x0)[si], (seg.y1 - seg.y0)[si]
    fx, fy = seg.x0[si] - centres[ci, 0], seg.y0[si] - centres[ci, 1]
    a = dx * dx + dy * dy
    b = 2 * (fx * dx + fy * dy)
    c = fx * fx + fy * fy - radii[ci] ** 2
    disc = b * b - 4 * a * c
    hit = disc > 0
    root = np.sqrt(np.where(hit, disc, 0.0))
    t0 = np.clip((-b - root) / (2 * a), 0.0, 1.0)
    t1 = np.clip((-b + root) / (2 * a), 0.0, 1.0)
    hit &= t1 > t0
    si, t0, t1 = si[hit], t0[hit], t1[hit]
    order = np.lexsort((t0, si))
    si, t0, t1 = si[order], t0[order], t1[order]
    # Running maximum of interval ends within each segment (exact, so a segment's result does not
    # depend on its position in the array: partitioned runs give identical lengths).
    running = pd.Series(t1).groupby(si, sort=False).cummax().to_numpy()
    prev_end = np.full_like(t1, -1.0)
    same = si[1:] == si[:-1]
    prev_end[1:][same] = running[:-1][same]
    gain = np.clip(t1 - np.maximum(t0, prev_end), 0.0, None)
    covered_t = np.bincount(si, weights=gain, minlength=len(seg))
    return covered_t * seg.length


def sample_segments(seg: Segments, *, step_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Midpoints of equal pieces (at most ``step_m`` long) of every segment.

    Returns
    -------
    points : ndarray, shape (m, 2)
    weights : ndarray, shape (m,)
        Length in metres each sample stands for (they sum to the segment lengths).
    segment : ndarray, shape (m,)
        Index of the segment each sample lies on.
    """
    if len(seg) == 0:
        return np.zeros((0, 2)), np.zeros(0), np.zeros(0, dtype=np.int64)
    length = seg.length
    n = np.maximum(np.ceil(length / step_m).astype(np.int64), 1)
    segment = np.repeat(np.arange(len(seg)), n)
    first = np.repeat(np.cumsum(n) - n, n)
    j = np.arange(len(segment)) - first
    t = (j + 0.5) / n[segment]
    x = seg.x0[segment] + t * (seg.x1 - seg.x0)[segment]
    y = seg.y0[segment] + t * (seg.y1 - seg.y0)[segment]
    return np.column_stack([x, y]), (length / n)[segment], segment


def bearing_deg(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Compass bearing in degrees (0 = north, clockwise) of the vector (dx, dy)."""
    return np.degrees(np.arctan2(dx, dy)) % 360.0


def sector_polygons(
    xy: np.ndarray,
    direction_deg: np.ndarray,
    fov_deg: np.ndarray,
    range_m: np.ndarray,
    *,
    n_arc: int = 48,
) -> np.ndarray:
    """Camera sectors as polygons; NaN direction or ``fov ≥ 360`` gives a full disc.

    Parameters
    ----------
    xy : ndarray, shape (k, 2)
        Camera positions (metres).
    direction_deg, fov_deg, range_m : ndarray, shape (k,)
        Compass direction of the optical axis (0 = north, clockwise), field of view in degrees, and
        range in metres.
    n_arc : int
        Number of straight pieces approximating the arc.
    """
    k = len(xy)
    if k == 0:
        return np.array([], dtype=object)
    full = np.isnan(direction_deg) | (fov_deg >= 360.0)
    direction = np.where(full, 0.0, direction_deg)
    fov = np.where(full, 360.0, fov_deg)
    frac = np.linspace(-0.5, 0.5, n_arc + 1)
    angles = np.radians(direction[:, None] + frac[None, :] * fov[:, None])
    ax = xy[:, 0:1] + range_m[:, None] * np.sin(angles)
    ay = xy[:, 1:2] + range_m[:, None] * np.cos(angles)
    ring = np.stack([ax, ay], axis=-1)  # (k, n_arc + 1, 2)
    apex = xy[:, None, :]
    sector = np.concatenate([apex, ring, apex], axis=1)
    circle = np.concatenate([ring[:, :-1], ring[:, :1]], axis=1)
    # Both arrays need the same shape for np.where: pad the circle by repeating its closing point.
    circle = np.concatenate([circle, circle[:, -1:], circle[:, -1:]], axis=1)
    coords = np.where(full[:, None, None], circle, sector)
    return shapely.polygons(coords)


def visible_pairs(
    points: np.ndarray,
    cam_xy: np.ndarray,
    direction_deg: np.ndarray,
    fov_deg: np.ndarray,
    range_m: np.ndarray,
    *,
    buildings: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """All (point, camera) pairs where the camera sees the point.

    A camera sees a point when it lies within ``range_m``, within ``fov_deg / 2`` of the camera's
    direction (NaN direction: any bearing) and the straight sight line does not cross a building
    (a line that only touches a wall, e.g. from a camera mounted on it, is not blocked).

    Returns
    -------
    point_index, camera_index : ndarray of int
    """
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    if len(points) == 0 or len(cam_xy) == 0:
        return empty
    pairs = cKDTree(points).sparse_distance_matrix(
        cKDTree(cam_xy), float(np.max(range_m)), output_type="ndarray"
    )
    pi = pairs["i"].astype(np.int64)
    ci = pairs["j"].astype(np.int64)
    # sparse_distance_matrix omits exact zero distances; a point on the camera is always seen.
    dx = points[pi, 0] - cam_xy[ci, 0]
    dy = points[pi, 1] - cam_xy[ci, 1]
    dist = np.hypot(dx, dy)
    off_axis = np.abs((bearing_deg(dx, dy) - direction_deg[ci] + 180.0) % 360.0 - 180.0)
    in_view = (dist <= range_m[ci]) & (
        np.isnan(direction_deg[ci]) | (fov_deg[ci] >= 360.0) | (off_axis <= fov_deg[ci] / 2.0)
    )
    pi, ci = pi[in_view], ci[in_view]
    if buildings is not None and len(buildings) and len(pi):
        lines = shapely.linestrings(np.stack([cam_xy[ci], points[pi]], axis=1))
        tree = shapely.STRtree(buildings)
        li, _ = tree.query(lines, predicate="crosses")
        blocked = np.zeros(len(pi), dtype=bool)
        blocked[li] = True
        # A sight line wholly inside a building is not "crossing" it but is still blocked.
        wi, _ = tree.query(lines, predicate="within")
        blocked[wi] = True
        pi, ci = pi[~blocked], ci[~blocked]
    return pi, ci


def shadow_polygons(cam_xy: np.ndarray, obstacles: np.ndarray, *, reach_m: float) -> np.ndarray:
    """The region hidden behind each obstacle as seen from its camera (one row per pair).

    ``cam_xy[i]`` looks at ``obstacles[i]``. The shadow is the convex hull of the obstacle's convex
    hull and its vertices pushed out along the sight rays to ``reach_m`` from the camera; for a
    convex obstacle this is exactly the obstacle plus everything behind it (out to ``reach_m``).
    ``reach_m`` should be several times the camera range so the far edge lies beyond it.
    """
    if len(obstacles) == 0:
        return np.array([], dtype=object)
    hulls = shapely.convex_hull(obstacles)
    coords, owner = shapely.get_coordinates(hulls, return_index=True)
    vx = coords[:, 0] - cam_xy[owner, 0]
    vy = coords[:, 1] - cam_xy[owner, 1]
    norm = np.maximum(np.hypot(vx, vy), 1e-9)
    far = np.column_stack([cam_xy[owner, 0] + vx / norm * reach_m, cam_xy[owner, 1] + vy / norm * reach_m])
    all_coords = np.concatenate([coords, far])
    all_owner = np.concatenate([owner, owner])
    multipoints = shapely.multipoints(all_coords, indices=all_owner)
    return shapely.convex_hull(multipoints)


def point_in_polygon_counts(points: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    """Number of ``points`` (shapely points) inside (or on the edge of) each polygon."""
    if len(points) == 0 or len(polygons) == 0:
        return np.zeros(len(polygons), dtype=np.int64)
    poly_idx, _ = shapely.STRtree(points).query(polygons, predicate="intersects")
    return np.bincount(poly_idx, minlength=len(polygons))
