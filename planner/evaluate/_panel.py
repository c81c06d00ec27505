"""The unit × outcome × time-bin panel a micro-synthetic control is fitted on.

Units are small places: square grid cells over the study area (default) or given polygons (blocks,
street-segment buffers) or lines (street segments; an incident goes to the nearest segment within
``snap_m``). Each unit is cut by the design's areas into pieces: its part inside the treatment
area, inside the buffer, and outside both (a *donor* piece). An incident belongs to the piece of
its unit in the area :func:`planner.evaluate.design.assign_areas` gives it, so the treated pieces
together count exactly the crimes inside the treatment polygon. Counts stay integer counts.
Geometries are in the design's projected CRS (metres).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from planner.crs import require_projected
from planner.errors import ConfigError, InsufficientDataError, ValidationError
from planner.evaluate.design import EvaluationDesign, assign_areas, select_incidents

logger = logging.getLogger(__name__)

ROLES = ("treatment", "buffer", "donor")
ALL = "all"


@dataclass(frozen=True)
class Panel:
    """Counts per unit piece, outcome and time bin, with each piece's role and size."""

    role: np.ndarray  # (U,) "treatment" | "buffer" | "donor"
    unit_id: np.ndarray  # (U,) id of the unit the piece was cut from
    size: np.ndarray  # (U,) area in m² (polygons) or length in m (lines)
    size_name: str  # "area_m2" or "length_m"
    counts: np.ndarray  # (U, O, B) int64
    outcomes: tuple[str, ...]
    bin_start: pd.DatetimeIndex  # (B,) half-open bins [start, end); a gap between the
    bin_end: pd.DatetimeIndex  # (B,) before and after periods has no bin
    n_pre: int  # bins [0, n_pre) are before, the rest after
    covariates: dict[str, np.ndarray]
    geometry: np.ndarray  # (U,) shapely pieces
    crs: Any
    cell_size_m: float | None

    def neighbours(self, radius_m: float | None = None) -> Any:
        """Sparse 0/1 matrix (pieces × pieces, self included) of pieces whose representative points
        lie within ``radius_m`` (default 1.5 cell sides, or 1.5 × the median nearest-piece spacing).
        """
        import scipy.sparse as sp
        from scipy.spatial import cKDTree

        pts = shapely.get_coordinates(shapely.point_on_surface(self.geometry))
        tree = cKDTree(pts)
        if radius_m is None:
            if self.cell_size_m is not None:
                radius_m = 1.5 * self.cell_size_m
            else:
                d, _ = tree.query(pts, k=2)
                radius_m = 1.5 * float(np.median(d[:, 1]))
        pairs = tree.query_pairs(radius_m, output_type="ndarray")
        n = len(pts)
        rows = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(n)])
        cols = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(n)])
        return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))

    @property
    def post(self) -> np.ndarray:
        """Counts summed over the after bins, shape (U, O)."""
        return self.counts[:, :, self.n_pre :].sum(axis=2)

    def bin_labels(self) -> list[str]:
        """``YYYY-MM-DD..YYYY-MM-DD`` (half-open) for every bin."""
        pairs = zip(self.bin_start, self.bin_end, strict=True)
        return [f"{a:%Y-%m-%d}..{b:%Y-%m-%d}" for a, b in pairs]


def time_edges(design: EvaluationDesign, n_pre: int | None) -> tuple[pd.DatetimeIndex, int]:
    """Equal bins over the before period (default: about quarterly, 2–12 of them) and bins of the
    same length over the after period; returns all edges and the number of before bins.
    """
    if n_pre is None:
        n_pre = int(min(12, max(2, round(design.before_days / 91.3))))
    if n_pre < 1:
        raise ConfigError(f"n_pre_bins must be ≥ 1, got {n_pre}.")
    b0, b1 = pd.Timestamp(design.before[0]), pd.Timestamp(design.before[1])
    a0, a1 = pd.Timestamp(design.after[0]), pd.Timestamp(design.after[1])
    step = (b1 - b0) / n_pre
    n_post = max(1, round((a1 - a0) / step))
    pre = [b0 + i * step for i in range(n_pre + 1)]
    post_step = (a1 - a0) / n_post
    post = [a0 + i * post_step for i in range(n_post + 1)]
    edges = pd.DatetimeIndex([*pre, *post[1:]] if a0 == b1 else [*pre, *post])
    return edges.round("s"), n_pre


def _bin_of(times: pd.Series, edges: pd.DatetimeIndex, n_pre: int, gap: bool) -> np.ndarray:
    """Bin index of each time (−1 outside every bin or inside the gap between the periods)."""
    t = pd.to_datetime(times).to_numpy()
    e = edges.to_numpy()
    idx = np.searchsorted(e, t, side="right") - 1
    ok = (idx >= 0) & (idx < len(e) - 1)
    if gap:  # edges hold [pre..., b1, a0, post...]: the interval [b1, a0) is not a bin
        idx = np.where(idx > n_pre, idx - 1, idx)
        ok &= ~((t >= e[n_pre]) & (t < e[n_pre + 1]))
        ok &= idx < len(e) - 2
    return np.where(ok, idx, -1)


def default_cell_size_m(design: EvaluationDesign) -> float:
    """About 100 cells in the treatment area, between 100 m and 400 m, rounded to a tidy length."""
    from planner.grid import tidy_length

    side = math.sqrt(design.area_m2("treatment") / 100.0)
    return tidy_length(min(400.0, max(100.0, side)))


def _outcome_names(sel: gpd.GeoDataFrame, design: EvaluationDesign, outcomes: Any) -> tuple[str, ...]:
    cats = sorted(set(sel["category"].astype(str))) if "category" in sel.columns else []
    if outcomes is not None:
        wanted = tuple(str(o) for o in outcomes)
        unknown = [o for o in wanted if o != ALL and o not in cats]
        if unknown:
            raise ConfigError(
                f"outcomes {unknown} are not crime categories of the selected incidents ({cats}); "
                "pass outcomes= with categories that occur, or 'all'."
            )
        return wanted
    chosen = list(design.categories) if design.categories else cats
    if len(chosen) > 6:  # keep the busiest few; the rest still count in 'all'
        counts = sel["category"].astype(str).value_counts()
        chosen = [c for c in counts.index if c in chosen][:6]
    return (*chosen, ALL) if len(chosen) != 1 else (ALL,)


def _units(
    sel: gpd.GeoDataFrame,
    design: EvaluationDesign,
    *,
    units: gpd.GeoDataFrame | None,
    study_area: gpd.GeoDataFrame | None,
    cell_size_m: float | None,
) -> tuple[np.ndarray, np.ndarray, float | None]:
    """Unit geometries and, per incident, the index of its unit (−1: none)."""
    from planner import grid

    crs = CRS.from_user_input(design.crs)
    if units is None:
        area = study_area if study_area is not None else grid.study_area_from_incidents(sel)
        require_projected(area, what="study area")
        area = area.to_crs(crs)
        size = cell_size_m or default_cell_size_m(design)
        cells = grid.grid_from_boundary(area, cell_size_m=size)
        return cells.geometry.to_numpy(), grid.cell_index_of_points(cells, sel), size
    require_projected(units, what="units")
    units = units.to_crs(crs)
    geoms = units.geometry.to_numpy()
    kinds = set(shapely.get_type_id(geoms[~shapely.is_empty(geoms)]).tolist())
    if kinds <= {1, 5}:  # lines: nearest segment within 50 m
        joined = gpd.sjoin_nearest(
            sel[["geometry"]].reset_index(drop=True),
            gpd.GeoDataFrame(geometry=geoms, crs=crs),
            max_distance=50.0,
            how="left",
        )
        joined = joined[~joined.index.duplicated(keep="first")]
        idx = joined["index_right"].fillna(-1).to_numpy(dtype="int64")
        return geoms, idx, None
    if not kinds <= {3, 6}:
        raise ValidationError("units must be all polygons (cells, blocks) or all lines (street segments).")
    tmp = gpd.GeoDataFrame({"cell_id": np.arange(len(geoms))}, geometry=geoms, crs=crs)
    return geoms, grid.cell_index_of_points(tmp, sel), None


def build_panel(
    incidents: gpd.GeoDataFrame,
    design: EvaluationDesign,
    *,
    units: gpd.GeoDataFrame | None = None,
    study_area: gpd.GeoDataFrame | None = None,
    cell_size_m: float | None = None,
    n_pre_bins: int | None = None,
    outcomes: Any = None,
    covariates: tuple[str, ...] = (),
) -> Panel:
    """Cut the units by the design's areas and count each piece's crimes per outcome and bin.

    Parameters
    ----------
    incidents : GeoDataFrame
        Incident points (projected CRS; moved to the design's CRS).
    design : EvaluationDesign
        Treatment and buffer polygons, periods and crime filters.
    units : GeoDataFrame, optional
        Polygons or lines to use as units; default a square grid of ``cell_size_m``.
    study_area : GeoDataFrame, optional
        Area the default grid covers (default: buffered hull of the incidents).
    cell_size_m : float, optional
        Grid cell side in metres (default :func:`default_cell_size_m`).
    n_pre_bins : int, optional
        Number of equal before-period bins (default about quarterly).
    outcomes : sequence of str, optional
        Crime categories to evaluate (plus ``"all"``); default the design's categories and all.
    covariates : tuple of str
        Numeric columns of ``units`` summed into each piece in proportion to its size.

    Returns
    -------
    Panel
    """
    sel = select_incidents(incidents, design)
    if len(sel) == 0:
        raise InsufficientDataError(f"No incidents match design {design.name!r}; nothing to evaluate.")
    names = _outcome_names(sel, design, outcomes)
    edges, n_pre = time_edges(design, n_pre_bins)
    gap = pd.Timestamp(design.after[0]) > pd.Timestamp(design.before[1])
    geoms, unit_idx, size_m = _units(sel, design, units=units, study_area=study_area, cell_size_m=cell_size_m)
    lines = set(shapely.get_type_id(geoms).tolist()) <= {1, 5}
    measure = shapely.length if lines else shapely.area
    treat, buff = design.geometry("treatment"), design.geometry("buffer")
    pieces = np.concatenate(
        [
            shapely.intersection(geoms, treat),
            shapely.intersection(geoms, buff),
            shapely.difference(geoms, shapely.union(treat, buff)),
        ]
    )
    counts = _piece_counts(sel, design, unit_idx, n_units=len(geoms), names=names, timing=(edges, n_pre, gap))
    size = measure(pieces)
    keep = (size > 1e-6) | (counts.sum(axis=(1, 2)) > 0)
    # a kept piece with no extent (crimes snapped to a segment from just across an area's edge)
    # is placed at a point of its unit, so every piece has a location
    empty = shapely.is_empty(pieces)
    pieces[empty] = shapely.point_on_surface(np.tile(geoms, 3)[empty])
    share = size / np.tile(np.maximum(measure(geoms), 1e-12), 3)
    cov = {k: v[keep] for k, v in _covariates(units, covariates, share).items()}
    starts = edges[:-1].delete(n_pre) if gap else edges[:-1]
    ends = edges[1:].delete(n_pre) if gap else edges[1:]
    return Panel(
        role=np.repeat(np.array(ROLES, dtype=object), len(geoms))[keep],
        unit_id=np.tile(np.arange(len(geoms)), 3)[keep],
        size=size[keep],
        size_name="length_m" if lines else "area_m2",
        counts=counts[keep],
        outcomes=names,
        bin_start=starts,
        bin_end=ends,
        n_pre=n_pre,
        covariates=cov,
        geometry=pieces[keep],
        crs=CRS.from_user_input(design.crs),
        cell_size_m=size_m,
    )


def _piece_counts(
    sel: gpd.GeoDataFrame,
    design: EvaluationDesign,
    unit_idx: np.ndarray,
    *,
    n_units: int,
    names: tuple[str, ...],
    timing: tuple[pd.DatetimeIndex, int, bool],
) -> np.ndarray:
    """Counts (pieces × outcomes × bins): pieces are [treatment | buffer | donor] × unit."""
    edges, n_pre, gap = timing
    area = assign_areas(sel, design)
    role_code = np.select([area == "treatment", area == "buffer"], [0, 1], default=2)
    piece = np.where(unit_idx >= 0, role_code * n_units + unit_idx, -1)
    bins = _bin_of(sel["occurred_at"], edges, n_pre, gap)
    cats = sel["category"].astype(str).to_numpy() if "category" in sel.columns else np.full(len(sel), "")
    counts = np.zeros((3 * n_units, len(names), len(edges) - (2 if gap else 1)), dtype="int64")
    ok = (piece >= 0) & (bins >= 0)
    for o, name in enumerate(names):
        hit = ok & ((cats == name) | (name == ALL))
        np.add.at(counts[:, o, :], (piece[hit], bins[hit]), 1)
    lost = int((~ok & (area != "")).sum())
    if lost:
        logger.info("%d incidents in the design's areas fall outside every unit or bin", lost)
    return counts


def _covariates(
    units: gpd.GeoDataFrame | None, covariates: tuple[str, ...], share: np.ndarray
) -> dict[str, np.ndarray]:
    """Each covariate of ``units`` per piece, in proportion to the piece's share of its unit."""
    if not covariates:
        return {}
    if units is None:
        raise ConfigError("covariates= needs units= (a GeoDataFrame with those columns).")
    missing = [c for c in covariates if c not in units.columns]
    if missing:
        raise ConfigError(
            f"covariates {missing} are not columns of units; choose from {list(units.columns)}."
        )
    out = {}
    for c in covariates:
        values = pd.to_numeric(units[c], errors="coerce").fillna(0).to_numpy(dtype=float)
        out[c] = np.tile(values, 3) * share
    return out


def panel_from_arrays(
    counts: np.ndarray,
    role: np.ndarray,
    *,
    outcomes: tuple[str, ...],
    n_pre: int,
    size: np.ndarray | None = None,
    covariates: dict[str, np.ndarray] | None = None,
    bins: tuple[pd.DatetimeIndex, pd.DatetimeIndex] | None = None,
    geometry: gpd.GeoSeries | None = None,
) -> Panel:
    """A panel from plain arrays: block-level data prepared elsewhere (as R ``microsynth`` takes).

    Parameters
    ----------
    counts : ndarray, shape (units, outcomes, bins)
        Non-negative integer counts; bins ``[0, n_pre)`` are before the start, the rest after.
    role : ndarray of str, shape (units,)
        ``"treatment"``, ``"buffer"`` or ``"donor"`` per unit.
    outcomes : tuple of str
        Names of the outcomes (second axis).
    n_pre : int
        Number of before-period bins.
    size : ndarray, optional
        Unit size matched as a total (default 1 per unit: the number of units, microsynth's intercept).
    covariates : dict, optional
        Name → values per unit, matched as totals.
    bins : (DatetimeIndex, DatetimeIndex), optional
        Start and end of every bin, for labels (default: bin numbers as days from 2000-01-01).
    geometry : GeoSeries, optional
        Unit shapes in a projected CRS (needed for contiguous placebo areas); default none.

    Returns
    -------
    Panel
    """
    counts = np.asarray(counts)
    if counts.ndim != 3 or counts.shape[1] != len(outcomes):
        raise ValidationError(
            f"counts must have shape (units, {len(outcomes)} outcomes, bins); got {counts.shape}."
        )
    if (counts < 0).any() or not np.all(np.equal(np.mod(counts, 1), 0)):
        raise ValidationError("counts must be non-negative whole numbers (counts stay counts).")
    role = np.asarray(role, dtype=object)
    bad = sorted(set(role.tolist()) - set(ROLES))
    if bad or len(role) != counts.shape[0]:
        raise ValidationError(f"role must give one of {ROLES} per unit; got {bad or 'a wrong length'}.")
    n_bins = counts.shape[2]
    if not 1 <= n_pre < n_bins:
        raise ValidationError(
            f"n_pre must leave at least one before and one after bin; got {n_pre} of {n_bins}."
        )
    if bins is None:
        start = pd.Timestamp("2000-01-01") + pd.to_timedelta(np.arange(n_bins), unit="D")
        bins = (pd.DatetimeIndex(start), pd.DatetimeIndex(start + pd.Timedelta(days=1)))
    return Panel(
        role=role,
        unit_id=np.arange(len(role)),
        size=np.ones(len(role)) if size is None else np.asarray(size, dtype=float),
        size_name="units" if size is None else "size",
        counts=counts.astype("int64"),
        outcomes=tuple(outcomes),
        bin_start=pd.DatetimeIndex(bins[0]),
        bin_end=pd.DatetimeIndex(bins[1]),
        n_pre=int(n_pre),
        covariates={k: np.asarray(v, dtype=float) for k, v in (covariates or {}).items()},
        geometry=np.full(len(role), None, dtype=object) if geometry is None else geometry.to_numpy(),
        crs=None if geometry is None else geometry.crs,
        cell_size_m=None,
    )
