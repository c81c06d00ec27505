"""The factor table: RRVs with intervals, the same model on cells twice as large, and the verdict.

A factor is called ``risk`` or ``protective`` only when its 95 % interval excludes 1 on the same
side at both cell sizes; a point estimate on the other side of 1 at the coarse size (or a coarse
fit that fails) makes it ``unstable``; an interval covering 1 at either size makes it ``not
distinguishable from 1``. The coarse cells are squares anchored on multiples of their side, and the
model is the same point-intensity model on the same points, counted in the larger cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.risk.design import NIGHT, FitData
from planner.risk.features import cell_centroids
from planner.risk.intensity import IntensityFit, PointDesign, fit_intensity

FACTOR_COLUMNS = [
    "factor",
    "operationalisation",
    "distance_m",
    "coef",
    "rrv",
    "rrv_low",
    "rrv_high",
    "p_value",
    "unit",
    "role",
    "deficit",
    "addressed_by",
]
STABILITY_COLUMNS = [
    "when",
    "verdict",
    "cell_size_m",
    "coarse_cell_size_m",
    "rrv_coarse",
    "rrv_low_coarse",
    "rrv_high_coarse",
    "distance_rule",
]
VERDICTS = ("risk", "protective", "unstable", "not distinguishable from 1")
NIGHT_LABEL = "night, over and above by day"


def cell_side(cells: gpd.GeoDataFrame) -> float:
    """The cells' side in metres: ``attrs["params"]["cell_size_m"]``, else √(median area)."""
    given = cells.attrs.get("params", {}).get("cell_size_m")
    return float(given) if given else float(np.sqrt(np.median(cells.geometry.area)))


def coarse_owner(cells: gpd.GeoDataFrame, side_m: float, *, centres: np.ndarray | None = None) -> np.ndarray:
    """For each cell, the index (0..k-1) of the square of side ``side_m`` (anchored on multiples
    of it) that holds its centroid (``centres``: the cells' centroids when already known).
    """
    xy = cell_centroids(cells) if centres is None else centres
    ij = np.floor(xy / float(side_m)).astype(np.int64)
    _, owner = np.unique(ij, axis=0, return_inverse=True)
    return owner.ravel()


def coarse_refit(
    cells: gpd.GeoDataFrame,
    data: FitData,
    design: PointDesign,
    fit: IntensityFit,
    *,
    side_m: float,
    centres: np.ndarray | None = None,
) -> IntensityFit | None:
    """``fit``'s model (family, points) refitted to the counts in squares of side ``side_m``
    (``centres``: the cells' centroids when already known).
    """
    owner = np.unique(coarse_owner(cells, side_m, centres=centres)[data.cells], return_inverse=True)[
        1
    ].ravel()
    n = len(data.cells)
    n_coarse = int(owner.max()) + 1
    sets = 2 if data.stacked else 1
    rows = design.owner
    coarse = PointDesign(design.X, owner[rows % n] + (rows // n) * n_coarse, design.weight, n_coarse * sets)
    every = np.arange(len(data.y))
    y = np.bincount(owner[every % n] + (every // n) * n_coarse, weights=data.y, minlength=coarse.n_rows)
    block_of = np.zeros(coarse.n_rows, dtype=np.int64)
    block_of[coarse.owner] = data.blocks[rows]
    robust = fit.interval_method == "cluster-robust" and len(np.unique(block_of)) >= 20
    return fit_intensity(
        y, coarse, family=fit.family, clusters=block_of if robust else None, start=fit.params
    )


@dataclass(frozen=True)
class TableContext:
    """What the factor table records besides the fits: candidate metadata, the two cell sizes and
    how distances were chosen.
    """

    meta: pd.DataFrame
    cell_size_m: float
    coarse_cell_size_m: float
    distance_rule: str


def factor_table(
    fit: IntensityFit, coarse: IntensityFit | None, cols: list[str], ctx: TableContext
) -> pd.DataFrame:
    """One row per factor (the last ``len(cols)`` parameters of the fits): ``FACTOR_COLUMNS``
    then ``STABILITY_COLUMNS``, sorted by RRV.
    """
    sl = slice(len(fit.params) - len(cols), len(fit.params))
    low, high = fit.intervals()
    table = ctx.meta.loc[[c.removesuffix(NIGHT) for c in cols]].reset_index(drop=True)
    table["coef"] = fit.params[sl]
    table["rrv"] = np.exp(fit.params[sl])
    table["rrv_low"] = np.exp(low[sl])
    table["rrv_high"] = np.exp(high[sl])
    table["p_value"] = fit.p_values()[sl]
    table["when"] = [NIGHT_LABEL if c.endswith(NIGHT) else "all hours" for c in cols]
    table["cell_size_m"] = ctx.cell_size_m
    table["coarse_cell_size_m"] = ctx.coarse_cell_size_m
    if coarse is not None:
        c_low, c_high = coarse.intervals()
        table["rrv_coarse"] = np.exp(coarse.params[sl])
        table["rrv_low_coarse"] = np.exp(c_low[sl])
        table["rrv_high_coarse"] = np.exp(c_high[sl])
    else:
        table["rrv_coarse"] = table["rrv_low_coarse"] = table["rrv_high_coarse"] = np.nan
    table["verdict"] = [verdict(r) for r in table.itertuples()]
    table["distance_rule"] = [
        "none (inside or in view)" if op in ("area_share", "zonal", "coverage") else ctx.distance_rule
        for op in table["operationalisation"]
    ]
    return table.sort_values("rrv", ascending=False).reset_index(drop=True)[
        [*FACTOR_COLUMNS, *STABILITY_COLUMNS]
    ]


def verdict(row: Any) -> str:
    """``risk``/``protective`` when the interval excludes 1 on the same side at both cell sizes;
    ``unstable`` when the sign flips (or the coarse fit failed); else ``not distinguishable from 1``.
    Without a coarse size (``coarse_cell_size_m`` NaN) only the fine interval decides.
    """
    low, high, rrv = float(row.rrv_low), float(row.rrv_high), float(row.rrv)
    c_low, c_high, c_rrv = float(row.rrv_low_coarse), float(row.rrv_high_coarse), float(row.rrv_coarse)
    checked = np.isfinite(float(getattr(row, "coarse_cell_size_m", np.nan)))
    if checked and not np.isfinite(c_rrv):
        return "unstable"
    if checked and (rrv - 1) * (c_rrv - 1) < 0:
        return "unstable"
    if low <= 1 <= high or (checked and c_low <= 1 <= c_high):
        return "not distinguishable from 1"
    return "risk" if rrv > 1 else "protective"
