"""Control areas for an evaluation design: proposed from grid cells, clear of the buffer.

A good control area (Guerette 2009, POP Tool Guide 10) shares the treatment area's level and trend
of crime before the measure, is not contaminated by it (it does not touch the treatment or its
buffer), and is otherwise comparable. :func:`propose_control` picks grid cells greedily so that
their summed neighbourhood-smoothed counts follow the target's counts across slices of the before
period (smoothing keeps cells that were high by chance from being picked);
:func:`auto_buffer_width_m` gives the default width of the buffer ring. Geometries are shapely
objects in the projected analysis CRS (metres).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner._params import check_positive
from planner.crs import require_projected
from planner.errors import ConfigError, InsufficientDataError

logger = logging.getLogger(__name__)

__all__ = ["ControlProposal", "auto_buffer_width_m", "proposal_summary", "propose_control"]


@dataclass(frozen=True)
class ControlProposal:
    """A control area proposed from grid cells, with how well it matches its target."""

    geometry: shapely.Geometry
    cell_ids: tuple[int, ...]
    target_counts: tuple[int, ...]
    control_counts: tuple[int, ...]
    level_ratio: float
    target_trend: float
    control_trend: float
    cell_size_m: float
    fit: dict[str, Any] = field(default_factory=dict)


def _rel_trend(counts: np.ndarray) -> float:
    """Least-squares slope of counts over bins, per bin, relative to their mean."""
    x = np.arange(len(counts), dtype=float)
    mean = counts.mean()
    if mean == 0 or len(counts) < 2:
        return 0.0
    slope = np.polyfit(x, counts.astype(float), 1)[0]
    return float(slope / mean)


def _smoothed(series: np.ndarray, cells: gpd.GeoDataFrame) -> np.ndarray:
    """Mean of each cell's series over its 3 × 3 neighbourhood of grid cells (by ``row``/``col``);
    the series unchanged when the cells carry no grid indices.
    """
    if not {"row", "col"} <= set(cells.columns) or len(cells) == 0:
        return series.astype(float)
    r = cells["row"].to_numpy(dtype=np.int64)
    c = cells["col"].to_numpy(dtype=np.int64)
    r, c = r - r.min(), c - c.min()
    n_r, n_c = int(r.max()) + 1, int(c.max()) + 1
    cube = np.zeros((n_r + 2, n_c + 2, series.shape[1]))
    present = np.zeros((n_r + 2, n_c + 2))
    np.add.at(cube, (r + 1, c + 1), series)
    np.add.at(present, (r + 1, c + 1), 1.0)
    acc = np.zeros_like(cube[1:-1, 1:-1])
    cnt = np.zeros_like(present[1:-1, 1:-1])
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            acc += cube[1 + dr : n_r + 1 + dr, 1 + dc : n_c + 1 + dc]
            cnt += present[1 + dr : n_r + 1 + dr, 1 + dc : n_c + 1 + dc]
    return acc[r, c] / np.maximum(cnt[r, c], 1.0)[:, None]


def propose_control(
    incidents: gpd.GeoDataFrame,
    target: shapely.Geometry,
    avoid: shapely.Geometry,
    *,
    before: tuple[dt.date, dt.date],
    cells: gpd.GeoDataFrame | None = None,
    study_area: gpd.GeoDataFrame | None = None,
    cell_size_m: float | None = None,
    n_bins: int = 4,
    gap_m: float = 0.0,
    exclude: shapely.Geometry | None = None,
) -> ControlProposal:
    """Propose a control area whose before-period level and trend match ``target``'s.

    The before period is split into ``n_bins`` equal half-open time slices. Candidate cells are
    those farther than ``gap_m`` from ``avoid`` (the treatment and its buffer: they never touch
    it) and not overlapping ``exclude``. Cells are added greedily, each time the one that most
    reduces ``Σ (S_b − T_b)² / max(T_b, 1)`` between the summed slice counts of the chosen cells
    ``S`` and the target's ``T``, until no cell improves the match. The result matches the
    target's level (total count) and its trend across the slices.

    Parameters
    ----------
    incidents : GeoDataFrame
        The crimes the design counts (already filtered), projected CRS.
    target : shapely geometry
        The area to match (the treatment; or the buffer for a displacement control), same CRS.
    avoid : shapely geometry
        Area the control must not touch (treatment ∪ buffer).
    before : (date, date)
        Half-open before period.
    cells : GeoDataFrame, optional
        Grid cells (``cell_id``, ``geometry``); default a square grid over ``study_area`` (or the
        incidents' buffered hull) with cells a quarter of the target's equivalent width, tidy.
    study_area : GeoDataFrame, optional
        Study-area polygon(s), same CRS.
    cell_size_m : float, optional
        Cell side in metres for the default grid.
    n_bins : int
        Number of time slices matched (≥ 2).
    gap_m : float
        Minimum distance in metres between the control and ``avoid``.
    exclude : shapely geometry, optional
        Area the control must not overlap (e.g. the main control, when proposing a displacement
        control).

    Returns
    -------
    ControlProposal
    """
    where = "evaluate.propose_control"
    require_projected(incidents, what="incidents")
    if not isinstance(n_bins, int) or n_bins < 2:
        raise ConfigError(f"The 'n_bins' parameter of {where} must be an integer ≥ 2. Got {n_bins!r}.")
    gap_m = check_positive(gap_m, name="gap_m", where=where, allow_zero=True)
    if cells is None:
        cells = _proposal_grid(incidents, target, study_area, cell_size_m)
    size = float(cells.attrs.get("params", {}).get("cell_size_m", cell_size_m or math.nan))
    ok = _clear_cells(cells.geometry.to_numpy(), avoid, exclude, gap_m)
    target_counts, series = _before_series(incidents, cells, target, before, n_bins)
    if target_counts.sum() == 0:
        raise InsufficientDataError(
            f"{where}: the target area has no counted crimes in the before period "
            f"[{before[0]}, {before[1]}), so there is nothing to match; widen the crime types or "
            "give a control area yourself."
        )
    cand = np.flatnonzero(ok & (series.sum(axis=1) > 0))
    if len(cand) == 0:
        raise InsufficientDataError(
            f"{where}: no grid cell with crimes lies clear of the treatment and buffer; give a "
            "control area yourself or use a narrower buffer."
        )
    # Match on each cell's neighbourhood-smoothed series (3 × 3 mean), not its own counts: picking
    # cells whose before counts happen to be high would make the control fall afterwards by
    # regression to the mean and flatter the measure.
    chosen, loss = _greedy_match(_smoothed(series, cells)[cand], target_counts.astype(float))
    chosen = sorted(int(cand[i]) for i in chosen)
    control_counts = series[chosen].sum(axis=0)
    proposal = ControlProposal(
        geometry=shapely.union_all(cells.geometry.to_numpy()[chosen]),
        cell_ids=tuple(int(i) for i in cells["cell_id"].to_numpy()[chosen]),
        target_counts=tuple(int(v) for v in target_counts),
        control_counts=tuple(int(v) for v in control_counts),
        level_ratio=float(control_counts.sum() / target_counts.sum()),
        target_trend=_rel_trend(target_counts),
        control_trend=_rel_trend(control_counts),
        cell_size_m=size,
        fit={"loss": loss, "n_candidates": len(cand), "n_bins": n_bins, "gap_m": gap_m},
    )
    logger.info(
        "control proposed: %d cells, level ratio %.2f, trend %.3f vs %.3f per slice",
        len(chosen),
        proposal.level_ratio,
        proposal.control_trend,
        proposal.target_trend,
    )
    return proposal


def _proposal_grid(
    incidents: gpd.GeoDataFrame, target: shapely.Geometry, study_area: Any, cell_size_m: float | None
) -> gpd.GeoDataFrame:
    """Square cells a quarter of the target's side (at least 50 m) over the study area."""
    from planner.grid import grid_from_boundary, study_area_from_incidents, tidy_length

    if cell_size_m is None:
        cell_size_m = tidy_length(max(math.sqrt(target.area) / 4, 50.0))
    cell_size_m = check_positive(cell_size_m, name="cell_size_m", where="evaluate.propose_control")
    area = study_area if study_area is not None else study_area_from_incidents(incidents)
    return grid_from_boundary(area, cell_size_m=cell_size_m)


def _clear_cells(geoms: np.ndarray, avoid: shapely.Geometry, exclude: Any, gap_m: float) -> np.ndarray:
    """Cells farther than ``gap_m`` from ``avoid`` and not overlapping ``exclude``."""
    ok = shapely.distance(avoid, geoms) > gap_m
    if exclude is not None:
        inter = np.zeros(len(geoms))
        hit = shapely.intersects(exclude, geoms)
        inter[hit] = shapely.area(shapely.intersection(geoms[hit], exclude))
        ok &= inter <= 1e-6 * shapely.area(geoms)
    return np.asarray(ok, dtype=bool)


def _before_series(
    incidents: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    target: shapely.Geometry,
    before: tuple[Any, Any],
    n_bins: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Before-period counts of the target per time slice, and of every cell per slice."""
    from planner.grid import cell_index_of_points

    b0, b1 = (np.datetime64(x, "s") for x in before)
    t = pd.to_datetime(incidents["occurred_at"]).to_numpy()
    in_before = (t >= b0) & (t < b1)
    pts = incidents.loc[in_before]
    frac = (t[in_before] - b0) / (b1 - b0)
    bins = np.minimum((frac * n_bins).astype("int64"), n_bins - 1)
    xy = shapely.get_coordinates(pts.geometry.to_numpy())
    shapely.prepare(target)
    in_target = shapely.intersects_xy(target, xy[:, 0], xy[:, 1])
    target_counts = np.bincount(bins[in_target], minlength=n_bins)
    cell_of = cell_index_of_points(cells, pts)
    valid = cell_of >= 0
    series = np.zeros((len(cells), n_bins), dtype=np.int64)
    np.add.at(series, (cell_of[valid], bins[valid]), 1)
    return target_counts, series


def _greedy_match(x: np.ndarray, target: np.ndarray) -> tuple[list[int], float]:
    """Rows of ``x`` added one at a time while the scaled squared gap to ``target`` shrinks."""
    scale = np.maximum(target, 1.0)
    chosen: list[int] = []
    total = np.zeros(len(target))
    loss = float(np.sum((total - target) ** 2 / scale))
    avail = np.ones(len(x), dtype=bool)
    while avail.any():
        trial = np.sum((total[None, :] + x - target[None, :]) ** 2 / scale, axis=1)
        trial[~avail] = np.inf
        best = int(np.argmin(trial))  # ties: the lowest candidate
        if trial[best] >= loss - 1e-12:
            break
        loss = float(trial[best])
        total += x[best]
        avail[best] = False
        chosen.append(best)
    return chosen, loss


def auto_buffer_width_m(treatment: shapely.Geometry) -> float:
    """Automatic buffer width in metres: ``r_eq·(√2 − 1)``, ``r_eq = √(area/π)``, rounded to 10 m.

    For a disc this makes the ring's area equal to the treatment's (proportionality, Tool Guide 10).

    >>> auto_buffer_width_m(shapely.box(0, 0, 1000, 1000))
    230.0
    """
    r_eq = math.sqrt(treatment.area / math.pi)
    return float(max(10.0, round(r_eq * (math.sqrt(2) - 1) / 10) * 10))


def proposal_summary(p: ControlProposal) -> dict[str, Any]:
    """JSON-ready summary of a proposal (kept in the design file's ``control_fit``)."""
    return {
        "cell_ids": list(p.cell_ids),
        "cell_size_m": p.cell_size_m,
        "target_counts_by_slice": list(p.target_counts),
        "control_counts_by_slice": list(p.control_counts),
        "level_ratio": round(p.level_ratio, 6),
        "target_trend_per_slice": round(p.target_trend, 6),
        "control_trend_per_slice": round(p.control_trend, 6),
    }
