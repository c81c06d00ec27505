"""Risk terrain on its own fine grid, one model per crime type, projected onto any other cells.

The hotspot grid (160–200 m cells on a city) is far too coarse for environmental factors that act
within tens of metres (a lamp's pool of light, a car park, a bar's door), and a factor's RRV then
moves with the cell size. So the risk terrain builds its own square grid of 50–100 m cells
(:func:`fine_cell_size`), measures factors on a lattice of ``SAMPLES`` × ``SAMPLES`` points per
cell, fits the point-intensity model (:class:`planner.risk.RiskTerrain`) per crime type and checks
every factor again on cells twice as large. Spatial-influence distances are multiples of the fine
cell (:func:`auto_distances`) chosen by spatially blocked cross-validation. When incidents carry a
time of day, night and day counts are fitted together so lighting is judged by night against the
same places by day. The resulting surface is projected onto the hotspot cells by averaging the
lattice points inside each (:meth:`FineTerrain.project`).

All coordinates are in the run's projected CRS (metres).
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from planner._hours import has_time_of_day, night_flags, unknown_time_of
from planner._period import period_years
from planner.errors import InsufficientDataError, PlannerWarning
from planner.risk.terrain import RiskFeatures, RiskTerrain, lighting_layers
from planner.surface import Surface

logger = logging.getLogger(__name__)

FINE_SIZES_M = (50.0, 75.0, 100.0)
MAX_FINE_CELLS = 40_000
LARGE_SIZES_M = (150.0, 200.0, 250.0, 500.0)
MAX_LARGE_CELLS = 150_000
DISTANCE_MULTIPLES = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
SAMPLES = 2
MIN_GROUP_INCIDENTS = 100
MAX_GROUPS = 8
ALL = "all incidents"


def fine_cell_size(study_area: gpd.GeoDataFrame) -> tuple[float, str]:
    """The smallest of 50, 75 or 100 m giving at most 40,000 cells over the study area; 100 m up
    to 150,000 cells; beyond that (a region, not a city) the smallest of 150, 200, 250 or 500 m
    within 150,000 cells. Returns the size and the rule in words.
    """
    area = float(study_area.geometry.area.sum())
    for size in FINE_SIZES_M:
        if area / size**2 <= MAX_FINE_CELLS:
            return size, f"automatic: smallest of 50/75/100 m with at most {MAX_FINE_CELLS:,} cells"
    if area / FINE_SIZES_M[-1] ** 2 <= MAX_LARGE_CELLS:
        return FINE_SIZES_M[
            -1
        ], f"automatic: 100 m (the area needs more than {MAX_FINE_CELLS:,} cells at 75 m)"
    for size in LARGE_SIZES_M:
        if area / size**2 <= MAX_LARGE_CELLS or size == LARGE_SIZES_M[-1]:
            break
    logger.warning("risk terrain: a study area of %.0f km² is modelled on %g m cells", area / 1e6, size)
    return size, f"automatic: {size:g} m (the area needs more than {MAX_LARGE_CELLS:,} cells at 100 m)"


def auto_distances(cell_size_m: float) -> tuple[float, ...]:
    """Spatial-influence distances to test: ½, 1, 1½, 2, 3, 4, 6 and 8 fine cells (metres)."""
    return tuple(float(m * cell_size_m) for m in DISTANCE_MULTIPLES)


def crime_groups(
    incidents: gpd.GeoDataFrame, *, min_incidents: int = MIN_GROUP_INCIDENTS, max_groups: int = MAX_GROUPS
) -> dict[str, np.ndarray]:
    """Boolean masks of the incidents of each crime type with at least ``min_incidents``
    (the ``max_groups`` largest); when none has enough, all incidents as one group.
    """
    if "category" in incidents.columns:
        sizes = incidents["category"].astype("string").value_counts()
        big = [str(c) for c, n in sizes.items() if n >= min_incidents][:max_groups]
        if big:
            cats = incidents["category"].astype("string")
            return {c: cats.eq(c).fillna(False).to_numpy(bool) for c in sorted(big)}
    if len(incidents) >= min_incidents:
        return {ALL: np.ones(len(incidents), dtype=bool)}
    raise InsufficientDataError(
        f"Only {len(incidents)} incidents: the risk terrain needs at least {min_incidents} of a crime type."
    )


@dataclass(frozen=True)
class FineOptions:
    """Settings of :func:`fit_fine_terrain` (``None`` = automatic, recorded in ``params``)."""

    cell_size_m: float | None = None
    distances_m: tuple[float, ...] | None = None
    family: str = "auto"
    zones: str | None = "land_use"
    min_incidents: int = MIN_GROUP_INCIDENTS
    seed: int = 0


@dataclass
class FineTerrain:
    """Fitted fine-grid risk terrain: the fine cells, their measured candidates, one model per
    crime type, the combined factor table and the parameters used.
    """

    cells: gpd.GeoDataFrame
    features: RiskFeatures
    models: dict[str, RiskTerrain]
    factors: pd.DataFrame
    params: dict[str, Any]
    _point_risk: np.ndarray | None = field(default=None, repr=False)

    def point_risk(self, layers: Mapping[str, Any]) -> np.ndarray:
        """Expected incidents per m² per year at each lattice point from the environmental
        factors alone (each crime type's baseline rate times its relative risk, summed).
        """
        if self._point_risk is None:
            years = float(self.params.get("period_years") or 1.0)
            total = np.zeros(len(self.features.lattice.xy))
            for model in self.models.values():
                rel = model.relative_risk_at_points(self.features, layers)
                night = model.covariate_coefs_.get("night", None) if model.stacked_ else None
                base = math.exp(model.intercept_) * (1 + math.exp(float(night)) if night is not None else 1.0)
                total += base * rel / years
            self._point_risk = total
        return self._point_risk

    def cell_scores(self, layers: Mapping[str, Any]) -> np.ndarray:
        """Relative risk score per fine cell (the lowest cell = 1)."""
        lat = self.features.lattice
        risk = self.point_risk(layers)
        n = np.bincount(lat.owner, minlength=lat.n_cells)
        mean = np.bincount(lat.owner, weights=risk, minlength=lat.n_cells) / np.maximum(n, 1)
        return _relative(mean, n > 0)

    def surface(self, layers: Mapping[str, Any]) -> Surface:
        """The relative risk score of the fine cells as a north-up raster (one pixel per cell)."""
        from affine import Affine
        from pyproj import CRS

        p = self.cells.attrs["params"]
        size, rows_n, cols_n = float(p["cell_size_m"]), int(p["n_rows"]), int(p["n_cols"])
        arr = np.full((rows_n, cols_n), np.nan)
        rows = rows_n - 1 - self.cells["row"].to_numpy()
        arr[rows, self.cells["col"].to_numpy()] = self.cell_scores(layers)
        return Surface(
            array=arr,
            transform=Affine(size, 0, float(p["x0"]), 0, -size, float(p["y0"]) + rows_n * size),
            crs=CRS.from_user_input(self.cells.crs),
            name="risk_rrs",
            units="relative risk score (lowest cell = 1)",
            params={
                "cell_size_m": size,
                "crimes": ";".join(self.models),
                "factors": ";".join(
                    f"{c}:{f}"
                    for c, f in zip(
                        self.factors.get("crime", []), self.factors.get("factor", []), strict=True
                    )
                ),
            },
        )

    def project(self, target: gpd.GeoDataFrame, layers: Mapping[str, Any]) -> np.ndarray:
        """Relative risk score per ``target`` cell: the mean over the lattice points inside it
        (the nearest point for a cell too small to hold one), the lowest cell = 1.
        """
        from planner.grid import cell_index_of_points

        xy = self.features.lattice.xy
        points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=self.cells.crs)
        pos = cell_index_of_points(target, points)
        risk = self.point_risk(layers)
        inside = pos >= 0
        n = np.bincount(pos[inside], minlength=len(target))
        mean = np.bincount(pos[inside], weights=risk[inside], minlength=len(target)) / np.maximum(n, 1)
        empty = np.flatnonzero(n == 0)
        if len(empty):
            centres = np.column_stack([target.geometry.centroid.x, target.geometry.centroid.y])[empty]
            mean[empty] = risk[cKDTree(xy).query(centres, k=1)[1]]
        return _relative(mean, np.ones(len(target), dtype=bool))


def _relative(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``values`` divided by their smallest positive valid value (1 when there is none)."""
    ok = valid & (values > 0)
    lowest = float(values[ok].min()) if ok.any() else 1.0
    return np.where(valid, values / lowest, np.nan)


def _count_columns(
    cells: gpd.GeoDataFrame, pos: np.ndarray, mask: np.ndarray, night: np.ndarray | None
) -> pd.DataFrame:
    """Counts per fine cell of the masked incidents (``pos``: the fine cell of each incident, -1
    outside): ``n`` or ``n_night`` and ``n_day``.
    """
    take = mask & (pos >= 0)
    if night is None:
        return pd.DataFrame({"n": np.bincount(pos[take], minlength=len(cells))}, index=cells.index)
    return pd.DataFrame(
        {
            "n_night": np.bincount(pos[take & night], minlength=len(cells)),
            "n_day": np.bincount(pos[take & ~night], minlength=len(cells)),
        },
        index=cells.index,
    )


def _night_of(incidents: gpd.GeoDataFrame, layers: Mapping[str, Any]) -> np.ndarray | None:
    """Night flags when incidents carry a time of day and a lighting layer is loaded."""
    resolution = incidents.attrs.get("time_resolution")
    if not lighting_layers(layers) or not has_time_of_day(resolution) or "occurred_at" not in incidents:
        return None
    flags = night_flags(incidents["occurred_at"], resolution, unknown_time_of(incidents))
    if flags.isna().all():
        return None
    # rows without an hour of day (a 00:00 placeholder) count as day: the night terms are fitted
    # on the rows known to be at night
    return flags.fillna(False).to_numpy(bool)


def fine_options(config: Any) -> FineOptions:
    """The :class:`FineOptions` of a run's :class:`~planner.config.RunConfig`."""
    return FineOptions(
        cell_size_m=config.risk_cell_size_m,
        distances_m=tuple(config.risk_distances_m) if config.risk_distances_m else None,
        family=config.risk_family,
        zones=config.risk_zones,
        min_incidents=config.risk_min_incidents,
        seed=config.seed,
    )


def _model(options: FineOptions, distances: tuple[float, ...], zones: str | None) -> RiskTerrain:
    return RiskTerrain(
        distances_m=distances,
        family=options.family,
        samples=SAMPLES,
        screen=False,
        cv_distances=True,
        stability_factor=2,
        zones=zones,
        random_state=options.seed,
    )


def fit_fine_terrain(
    incidents: gpd.GeoDataFrame,
    study_area: gpd.GeoDataFrame,
    layers: Mapping[str, Any],
    options: FineOptions | None = None,
) -> FineTerrain:
    """Fit the risk terrain per crime type on its own fine grid.

    Parameters
    ----------
    incidents : GeoDataFrame
        Incident points (``category``; ``occurred_at`` for the night split), projected CRS.
    study_area : GeoDataFrame
        Study-area polygon(s), same CRS.
    layers : mapping
        Environmental layers (kind → GeoDataFrame or Surface), same CRS.
    options : FineOptions, optional
        Cell size, distances, family, zone layer, minimum incidents per crime type, seed.

    Returns
    -------
    FineTerrain
        ``factors`` holds every crime type's rows (``crime`` column added at the end).
    """
    from planner import grid

    options = options or FineOptions()
    size, rule = (float(options.cell_size_m), "given") if options.cell_size_m else fine_cell_size(study_area)
    with warnings.catch_warnings():
        # a large frame is this grid's purpose, not a mistake to warn the user about
        warnings.filterwarnings("ignore", message="The grid frame has", category=PlannerWarning)
        cells = grid.grid_from_boundary(study_area, cell_size_m=size)
    distances = tuple(options.distances_m) if options.distances_m else auto_distances(size)
    zones = options.zones if options.zones and options.zones in layers else None
    groups = crime_groups(incidents, min_incidents=options.min_incidents)
    night = _night_of(incidents, layers)
    probe = _model(options, distances, zones)
    features = probe.features(cells, layers)
    if features.X.shape[1] == 0:
        raise InsufficientDataError(_no_factor_message(layers))
    models: dict[str, RiskTerrain] = {}
    tables = []
    pos = grid.cell_index_of_points(cells, incidents)
    for name, mask in groups.items():
        counts = _count_columns(cells, pos, mask, night)
        if counts.to_numpy().sum() == 0:
            continue
        y: Any = ("n_night", "n_day") if night is not None else "n"
        model = _model(options, distances, zones).fit(cells.join(counts), layers, y=y, features=features)
        models[name] = model
        tables.append(model.factors_.assign(crime=name, n_incidents=int(mask.sum())))
    factors = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    params = {
        "cell_size_m": size,
        "cell_size_rule": rule,
        "coarse_cell_size_m": 2 * size,
        "n_cells": len(cells),
        "lattice_points_per_cell": SAMPLES * SAMPLES,
        "distances_m": list(distances),
        "distance_rule": "cross-validated over spatial blocks (1 km, 3 folds)",
        "zones": zones,
        "night_split": night is not None,
        "groups": {
            g: {"n_incidents": int(groups[g].sum()), "family": m.family_, "bic": round(float(m.bic_), 1)}
            for g, m in models.items()
        },
        "period_years": _period_years(incidents),
    }
    return FineTerrain(cells, features, models, factors, params)


def _no_factor_message(layers: Mapping[str, Any]) -> str:
    """Why no risk factor could be measured from ``layers`` (e.g. only wards, a context kind)."""
    from planner.exposure.layers import load_registry

    registry = load_registry()
    context = [k for k in sorted(layers) if k not in registry or not registry[k].risk_candidate]
    why = (
        f": {', '.join(context)} {'is' if len(context) == 1 else 'are'} context for the plan (labels, "
        "zones, sight lines), not a risk factor"
        if context
        else ": none of them has features the model can measure inside the study area"
    )
    return (
        f"no environmental factor can be measured from the layers given ({', '.join(sorted(layers))})"
        f"{why}. Add a layer such as street_lights, licensed_premises or transit_stops "
        "('planner layers' lists the kinds)."
    )


def _period_years(incidents: gpd.GeoDataFrame) -> float:
    """Years covered by the incidents' dates (1 when unknown; months covered for month data)."""
    if "occurred_at" not in incidents.columns or not len(incidents):
        return 1.0
    years = period_years(incidents["occurred_at"], incidents.attrs.get("time_resolution"))
    return years if np.isfinite(years) else 1.0
