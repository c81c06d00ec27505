"""The baseline a measure acts on: a hotspot's yearly crime rate, shrunk for regression to the mean.

Hotspots are chosen *because* their counts were high, so part of that height is chance and would
not recur (regression to the mean). The planner shrinks each hotspot's count toward the rate of a
place of the same size at the study area's mean by the empirical-Bayes rule used for accident
black spots (Hauer 1997; the Highway Safety Manual's EB method): with places' true counts
Gamma-distributed around the area mean ``μ`` (negative binomial, shape ``k``) and the observed
count ``X`` Poisson, the posterior is ``Gamma(k + X, scale = μ / (k + μ))``, whose mean is
``w·μ + (1 − w)·X`` with ``w = k / (k + μ)``. ``k`` is estimated by the method of moments from the
counts of square blocks of the hotspot's size tiling the study area. Year-to-year over-dispersion
of the hotspot's own counts (variance/mean of its full-year counts, at least 1) widens the
posterior without moving its mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

EB_SOURCE = (
    "Hauer, E. (1997). Observational before-after studies in road safety: estimating the effect of highway "
    "and traffic engineering measures on road safety. Oxford: Pergamon (empirical-Bayes correction for "
    "regression to the mean)."
)
K_MAX = 1e6


@dataclass(frozen=True)
class Reference:
    """Area-level rate of a set of crime categories and the NB shape ``k`` for places of one size."""

    rate_per_m2_year: float
    k: float
    block_m: float
    n_blocks: int
    method: str


@dataclass(frozen=True)
class Baseline:
    """Posterior of a hotspot's yearly count of evidenced crimes (a Gamma), with how it was formed."""

    observed_per_year: float
    mean_per_year: float
    shape: float
    scale_per_year: float
    weight: float
    overdispersion: float
    text: str

    def draws(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Monte Carlo draws of the yearly count."""
        return rng.gamma(self.shape, self.scale_per_year, n)

    def draws_at(self, u: np.ndarray) -> np.ndarray:
        """The yearly count at the quantiles ``u`` (in (0, 1)): the same ``u`` for every measure in a
        place gives common random numbers, so their baselines move together across draws.
        """
        from scipy.stats import gamma

        return np.asarray(gamma.ppf(u, self.shape, scale=self.scale_per_year), dtype=float)


@dataclass(frozen=True)
class Area:
    """Where places can be: cell centroids and areas of the study area (metres, projected CRS)."""

    x: np.ndarray
    y: np.ndarray
    area_m2: np.ndarray
    source: str


def area_from_cells(cells: gpd.GeoDataFrame | None, incidents: gpd.GeoDataFrame) -> Area:
    """The study area as cells (centroid, area); without cells, 100 m squares over the incidents' bounds."""
    if cells is not None and len(cells):
        c = shapely.centroid(np.asarray(cells.geometry.values))
        areas = (
            cells["area_m2"].to_numpy(float)
            if "area_m2" in cells.columns
            else shapely.area(np.asarray(cells.geometry.values))
        )
        return Area(shapely.get_x(c), shapely.get_y(c), areas, "the study area's grid cells")
    minx, miny, maxx, maxy = incidents.total_bounds
    xs, ys = np.meshgrid(np.arange(minx + 50, maxx + 50, 100.0), np.arange(miny + 50, maxy + 50, 100.0))
    return Area(
        xs.ravel(),
        ys.ravel(),
        np.full(xs.size, 1e4),
        "100 m squares over the incidents' bounding box (no study-area cells given; empty corners lower the mean)",
    )


def reference_for(
    points_xy: np.ndarray, area: Area, *, block_m: float, years: float, label: str
) -> Reference:
    """Area mean rate and NB shape for places of ``block_m`` × ``block_m`` (moment estimator)."""
    x0, y0 = float(area.x.min()), float(area.y.min())
    cell_block = np.c_[np.floor((area.x - x0) / block_m), np.floor((area.y - y0) / block_m)].astype(np.int64)
    blocks, inv = np.unique(cell_block, axis=0, return_inverse=True)
    block_area = np.bincount(inv.ravel(), weights=area.area_m2, minlength=len(blocks))
    keep = block_area >= 0.5 * block_m**2
    counts = np.zeros(len(blocks))
    if len(points_xy):
        pb = np.c_[np.floor((points_xy[:, 0] - x0) / block_m), np.floor((points_xy[:, 1] - y0) / block_m)]
        key = pd.MultiIndex.from_arrays([blocks[:, 0], blocks[:, 1]])
        pos = key.get_indexer(
            pd.MultiIndex.from_arrays([pb[:, 0].astype(np.int64), pb[:, 1].astype(np.int64)])
        )
        counts = np.bincount(pos[pos >= 0], minlength=len(blocks)).astype(float)
    x, a = counts[keep], block_area[keep]
    total_area = float(a.sum())
    rate = float(x.sum()) / total_area / years if total_area > 0 and years > 0 else 0.0
    mu = rate * a * years
    denom = float((mu**2).sum())
    inv_k = float(((x - mu) ** 2 - x).sum()) / denom if denom > 0 else 0.0
    k = K_MAX if inv_k <= 1.0 / K_MAX else 1.0 / inv_k
    method = (
        f"{label}: area mean {rate * 1e6:,.1f} per km² a year and negative-binomial shape k = {k:.3g} from "
        f"{int(keep.sum())} blocks of {block_m:,.0f} m ({area.source})"
    )
    return Reference(rate, k, block_m, int(keep.sum()), method)


def overdispersion(yearly: np.ndarray) -> float:
    """Variance/mean of full-year counts (≥ 1; 1 with fewer than two full years)."""
    if len(yearly) < 2 or yearly.mean() <= 0:
        return 1.0
    return float(max(1.0, yearly.var(ddof=1) / yearly.mean()))


def eb_baseline(count: int, *, years: float, area_m2: float, ref: Reference, yearly: np.ndarray) -> Baseline:
    """Empirical-Bayes posterior of a hotspot's yearly count of ``count`` crimes in ``years``."""
    mu = max(ref.rate_per_m2_year * area_m2 * years, 1e-9)
    k = min(ref.k, K_MAX)
    weight = k / (k + mu)
    shape = k + count
    scale = mu / (k + mu)
    phi = overdispersion(yearly)
    mean_year = shape * scale / years
    text = (
        f"observed {count / years:.1f} a year; shrunk toward the area mean for a place this size "
        f"({mu / years:.1f} a year) with weight {weight:.2f} (empirical Bayes, k = {k:.3g}) to "
        f"{mean_year:.1f} a year"
    )
    if phi > 1.0:
        text += f"; year-to-year over-dispersion {phi:.1f}× Poisson widens the interval"
    return Baseline(
        observed_per_year=count / years,
        mean_per_year=mean_year,
        shape=shape / phi,
        scale_per_year=scale * phi / years,
        weight=weight,
        overdispersion=phi,
        text=text,
    )


def block_size_m(area_m2: float) -> float:
    """Side of the square blocks standing for places of a hotspot's size (rounded to 50 m)."""
    return max(50.0, round(math.sqrt(max(area_m2, 1.0)) / 50.0) * 50.0)


__all__ = [
    "EB_SOURCE",
    "Area",
    "Baseline",
    "Reference",
    "area_from_cells",
    "block_size_m",
    "eb_baseline",
    "overdispersion",
    "reference_for",
]
