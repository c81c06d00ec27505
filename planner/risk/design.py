"""The arrays a risk-terrain fit works on: cell rows for the selection, points for the final model.

:class:`RiskFeatures` holds what was measured once for a set of cells (candidates per cell, the
lattice they were measured on, zone shares, point-level columns as they are needed) so several
crime types can be fitted on one grid. :func:`fit_data` turns it and one crime type's counts into
the cell-level arrays of the selection (:class:`FitData`); :func:`point_design` builds the
point-intensity design (:mod:`planner.risk.intensity`) for a set of chosen candidates.

With night and day counts (``y=(night, day)``) the rows are every cell's night count, then every
cell's day count; lighting candidates (:func:`lighting_layers`) also enter as night-time terms,
named ``<candidate>@night``, which are zero on the day rows.
"""

# Design matrices keep their statistical names (X) as in scikit-learn and statsmodels.
# ruff: noqa: N806
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.errors import InsufficientDataError, ValidationError
from planner.exposure.layers import load_registry
from planner.risk import glm
from planner.risk.features import Lattice, cell_centroids, point_features
from planner.risk.intensity import PointDesign, merge_code, merge_points

NIGHT = "@night"


def lighting_layers(layers: Mapping[str, Any]) -> tuple[str, ...]:
    """Layers whose mechanism is light at night: guardians addressed only by lighting (street
    lights, lux rasters, outage reports) in the registry.
    """
    registry = load_registry()
    out = []
    for name in layers:
        spec = registry.get(name)
        if spec is not None and spec.role == "guardian" and tuple(spec.addressed_by) == ("lighting",):
            out.append(name)
    return tuple(out)


@dataclass
class RiskFeatures:
    """Candidates measured once for a set of cells (``X``, ``meta``), the lattice they were
    measured on, zone shares (covariates) and a cache of point-level columns.

    Unpacks as ``X, meta = features`` like :func:`planner.risk.risk_features`' result.
    """

    X: pd.DataFrame
    meta: pd.DataFrame
    lattice: Lattice
    zones: pd.DataFrame = field(default_factory=pd.DataFrame)
    zone_points: pd.DataFrame = field(default_factory=pd.DataFrame)
    points: dict[str, np.ndarray] = field(default_factory=dict)
    _filled: tuple[list[str], np.ndarray, pd.Series] | None = field(default=None, repr=False)
    _centres: np.ndarray | None = field(default=None, repr=False)
    _memo: dict[Any, Any] = field(default_factory=dict, repr=False)

    def memo(self, key: Any, compute: Any) -> Any:
        """``compute()`` once per ``key`` for these features (arrays every crime type's fit on
        these cells shares: candidate rows of the kept cells, spatial blocks, point bases).
        """
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def centres(self, cells: gpd.GeoDataFrame) -> np.ndarray:
        """Centroids of the cells these features were measured on (computed once)."""
        if self._centres is None or len(self._centres) != len(cells):
            self._centres = cell_centroids(cells)
        return self._centres

    def __iter__(self) -> Any:
        return iter((self.X, self.meta))

    def filled(self) -> tuple[list[str], np.ndarray, pd.Series]:
        """Candidates that vary (names), their values with gaps filled by the mean, the means."""
        if self._filled is None:
            means = self.X.mean().fillna(0.0)
            X = self.X.fillna(means)
            names = [str(c) for c, s in zip(X.columns, X.std().to_numpy(), strict=True) if s > 0]
            self._filled = (names, X[names].to_numpy(float), means)
        return self._filled

    def at_points(self, layers: Mapping[str, Any], keys: list[str], *, occlusion: bool) -> pd.DataFrame:
        """Candidates at the lattice points (each cell's own value when a cell is one point)."""
        rows = pd.RangeIndex(len(self.lattice.owner))  # one row per point, also with no keys
        if self.lattice.single:
            _, _, means = self.filled()
            X = self.X[keys].fillna(means)
            return pd.DataFrame({k: X[k].to_numpy(float)[self.lattice.owner] for k in keys}, index=rows)
        missing = [k for k in keys if k not in self.points]
        if missing:
            measured = point_features(self.lattice, layers, missing, occlusion=occlusion)
            self.points.update({k: measured[k].to_numpy(float) for k in missing})
        return pd.DataFrame({k: self.points[k] for k in keys}, index=rows)


def _counts(cells: gpd.GeoDataFrame, y: str) -> np.ndarray:
    if y not in cells.columns:
        raise ValidationError(
            f"The cells have no {y!r} column of incident counts; count incidents first (planner.grid.count_incidents)."
        )
    counts = pd.to_numeric(cells[y], errors="coerce").to_numpy(dtype=float)
    if np.isnan(counts).any() or (counts < 0).any():
        raise ValidationError(f"Column {y!r} of the cells must hold non-negative counts without gaps.")
    return counts


def covariates_of(cells: gpd.GeoDataFrame, names: tuple[str, ...]) -> np.ndarray:
    """The covariate columns of the cells as floats (a clear error when missing or not numbers)."""
    missing = [c for c in names if c not in cells.columns]
    if missing:
        raise ValidationError(f"The covariates {missing} are not columns of the cells.")
    values = cells[list(names)].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    if np.isnan(values).any():
        raise ValidationError(f"The covariates {list(names)} have missing or non-numeric values.")
    return values


@dataclass(frozen=True)
class FitData:
    """The cell-level arrays of one fit (rows = kept cells; night rows then day rows if stacked).

    ``raw`` has one column per varying candidate of :class:`RiskFeatures` (kept cells only);
    candidate ``j`` of the fit is ``raw[:, source[j]]``, a night-time term when ``night_only[j]``.
    """

    names: list[str]
    groups: list[str]
    requires: tuple[int, ...]
    source: np.ndarray
    night_only: np.ndarray
    raw: np.ndarray
    y: np.ndarray
    offset: np.ndarray
    base: np.ndarray
    base_names: list[str]
    cells: np.ndarray
    stacked: bool
    blocks: np.ndarray


def fit_data(
    cells: gpd.GeoDataFrame,
    feats: RiskFeatures,
    y: str | tuple[str, str],
    *,
    layers: Mapping[str, Any],
    covariates: tuple[str, ...],
    block_m: float,
) -> FitData:
    """The cell-level arrays for counts ``y`` (one column, or night and day columns)."""
    columns = (y,) if isinstance(y, str) else tuple(y)
    counts = [_counts(cells, c) for c in columns]
    if sum(float(c.sum()) for c in counts) == 0:
        raise InsufficientDataError(
            f"Column {y!r} is all zero: there is nothing for the risk terrain model to explain."
        )
    area = cells["area_m2"].to_numpy(float) if "area_m2" in cells else cells.geometry.area.to_numpy()
    keep = np.flatnonzero(area > 0)
    zones = feats.zones.to_numpy(float) if len(feats.zones.columns) else np.zeros((len(cells), 0))
    cov = np.hstack([covariates_of(cells, covariates), zones])[keep]
    base_names = [*covariates, *feats.zones.columns]
    names, values, _ = feats.filled()
    raw, groups, blocks = feats.memo(
        ("fit_data", keep.tobytes(), float(block_m)),
        lambda: (
            values[keep],
            [str(feats.meta.loc[n, "factor"]) for n in names],
            glm.spatial_blocks(feats.centres(cells)[keep], block_m),
        ),
    )
    source = np.arange(len(names))
    if len(columns) == 1:
        return FitData(
            names, groups, tuple([-1] * len(names)), source, np.zeros(len(names), dtype=bool), raw,
            counts[0][keep], np.log(area[keep]), cov, base_names, keep, False, blocks,
        )  # fmt: skip
    night_layers = set(lighting_layers(layers))
    twins = [i for i, g in enumerate(groups) if g in night_layers]
    n = len(keep)
    return FitData(
        names=names + [f"{names[i]}{NIGHT}" for i in twins],
        groups=groups + [f"{groups[i]}{NIGHT}" for i in twins],
        requires=tuple([-1] * len(names) + twins),
        source=np.r_[source, twins].astype(int),
        night_only=np.r_[np.zeros(len(names), dtype=bool), np.ones(len(twins), dtype=bool)],
        raw=raw,
        y=np.r_[counts[0][keep], counts[1][keep]],
        offset=np.r_[np.log(area[keep]), np.log(area[keep])],
        base=np.hstack([np.r_[np.ones(n), np.zeros(n)][:, None], np.vstack([cov, cov])]),
        base_names=["night", *base_names],
        cells=keep,
        stacked=True,
        blocks=np.r_[blocks, blocks],
    )


def ordered(cols: list[str]) -> list[str]:
    """Factor columns in design order: all-hours terms, then night terms."""
    return [c for c in cols if not c.endswith(NIGHT)] + [c for c in cols if c.endswith(NIGHT)]


@dataclass(frozen=True)
class PointBase:
    """What every point design of one fit shares: the points used (``index`` into the lattice),
    their row (kept cell), the area each stands for (m²) and the covariates at them.
    """

    index: np.ndarray
    rows: np.ndarray
    weight: np.ndarray
    covariates: np.ndarray


def point_base(
    cells: gpd.GeoDataFrame, feats: RiskFeatures, data: FitData, covariates: tuple[str, ...]
) -> PointBase:
    """The :class:`PointBase` of the kept cells: cell covariates and zone shares at the points
    (the zone each point is in, when zones were measured at points).
    """
    cov = covariates_of(cells, covariates)
    key = ("point_base", data.cells.tobytes(), cov.tobytes(), cov.shape, _areas(cells).tobytes())
    return feats.memo(key, lambda: _point_base(cells, feats, data, cov))


def _areas(cells: gpd.GeoDataFrame) -> np.ndarray:
    return cells["area_m2"].to_numpy(float) if "area_m2" in cells else cells.geometry.area.to_numpy()


def _point_base(cells: gpd.GeoDataFrame, feats: RiskFeatures, data: FitData, cov: np.ndarray) -> PointBase:
    lat = feats.lattice
    cov_cells = cov[lat.owner]
    if len(feats.zones.columns) and lat.single:
        zones = feats.zones.to_numpy(float)[lat.owner]
    elif len(feats.zone_points.columns):
        zones = feats.zone_points.to_numpy(float)
    else:
        zones = np.zeros((len(lat.xy), 0))
    area = _areas(cells)
    n_pts = np.bincount(lat.owner, minlength=lat.n_cells)
    weight = area[lat.owner] / np.maximum(n_pts[lat.owner], 1)
    row_of_cell = np.full(lat.n_cells, -1)
    row_of_cell[data.cells] = np.arange(len(data.cells))
    rows = row_of_cell[lat.owner]
    ok = np.flatnonzero(rows >= 0)
    return PointBase(ok, rows[ok], weight[ok], np.hstack([cov_cells, zones])[ok])


def point_design(base: PointBase, values: pd.DataFrame, cols: list[str], data: FitData) -> PointDesign:
    """The point-intensity design of ``cols`` (ordered by :func:`ordered`): covariates then
    all-hours factors, and for night/day rows a night flag first and night terms last.
    ``values`` holds the factors at every lattice point.
    """
    vals = values.iloc[base.index]
    mains = vals[[c for c in cols if not c.endswith(NIGHT)]].to_numpy(float)
    main = np.hstack([base.covariates, mains])
    n = len(data.cells)
    if not data.stacked:
        return PointDesign(main, base.rows, base.weight, n)
    nights = vals[[c.removesuffix(NIGHT) for c in cols if c.endswith(NIGHT)]].to_numpy(float)
    m = len(base.rows)
    flag = np.r_[np.ones(m), np.zeros(m)][:, None]
    X = np.hstack([flag, np.vstack([main, main]), np.vstack([nights, np.zeros_like(nights)])])
    return PointDesign(X, np.r_[base.rows, base.rows + n], np.r_[base.weight, base.weight], 2 * n)


def compressed_point_design(
    base: PointBase, values: pd.DataFrame, cols: list[str], data: FitData
) -> PointDesign:
    """:func:`point_design` ``.compressed()``, built from the merged points directly.

    When every night term is the night-time twin of an all-hours term in ``cols``, a night row's
    points and its day row's points merge alike, so the points are merged once (not once per set
    of rows) and each set keeps the order and summed weights :meth:`PointDesign.compressed` gives.
    """
    mains = [c for c in cols if not c.endswith(NIGHT)]
    nights = [c.removesuffix(NIGHT) for c in cols if c.endswith(NIGHT)]
    if not data.stacked or not set(nights) <= set(mains):
        return point_design(base, values, cols, data).compressed()
    m, k_main, n = len(base.rows), base.covariates.shape[1] + len(mains), len(data.cells)
    X = np.empty((m, 1 + k_main + len(nights)))
    X[:, 0] = 1.0
    X[:, 1 : 1 + base.covariates.shape[1]] = base.covariates
    for i, c in enumerate(mains + nights):
        X[:, 1 + base.covariates.shape[1] + i] = values[c].to_numpy(float)[base.index]
    r = merge_code(X.shape[1])
    night_x, rows, weight = merge_points(X, base.rows, base.weight, r)
    day_x = night_x.copy()
    day_x[:, 0] = 0.0
    day_x[:, 1 + k_main :] = 0.0
    order = np.lexsort((day_x @ r, rows))  # the order compressing the day rows gives
    return PointDesign(
        np.vstack([night_x, day_x[order]]),
        np.r_[rows, rows[order] + n],
        np.r_[weight, weight[order]],
        2 * n,
        merged=True,
    )
