"""Density clusters of incidents (DBSCAN, HDBSCAN from scikit-learn) as alternative hotspots.

Each cluster becomes a polygon: the convex hull of its incidents buffered by ``buffer_m`` (default
half of ``eps_m`` for DBSCAN, so a cluster's outline reaches half-way to the next incident that
would have joined it). Clusters carry the same statistics as the Gi* hotspots of
:mod:`planner.hotspots.polygons` (ids ``C01``… by incidents descending); ``n_cells`` and
``mean_gi_z`` do not apply and are NA. Noise points belong to no cluster.
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner._params import check_positive
from planner.crs import check_same_crs, require_projected
from planner.errors import ConfigError, ValidationError
from planner.hotspots.polygons import HOTSPOT_COLUMNS, hotspot_statistics

logger = logging.getLogger(__name__)

_WHERE = "hotspots.clusters"


def _xy(incidents: gpd.GeoDataFrame) -> np.ndarray:
    require_projected(incidents, what="incidents")
    geoms = incidents.geometry.to_numpy()
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if bad.any() or (shapely.get_type_id(geoms) != 0).any():
        raise ValidationError(
            f"Clustering needs one point per incident; {int(bad.sum())} rows have no geometry or a "
            "non-point geometry. Drop or repair them first."
        )
    return shapely.get_coordinates(geoms)


def _min_samples(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 2:
        raise ConfigError(f"The {name!r} parameter of {_WHERE} must be an int ≥ 2. Got {value!r}.")
    return int(value)


def clusters_to_hotspots(
    incidents: gpd.GeoDataFrame,
    labels: np.ndarray,
    *,
    buffer_m: float,
    prefix: str = "C",
    params: dict[str, Any] | None = None,
    period_years: float | None = None,
) -> gpd.GeoDataFrame:
    """Polygons and statistics for cluster ``labels`` (−1 = noise) of ``incidents``.

    Returns
    -------
    GeoDataFrame
        Hotspot columns (CONTRACTS.md) with ids ``<prefix>01``… by incidents descending; the
        ``hotspot_id`` of each incident is not stored on ``incidents`` (inputs are not mutated).
    """
    xy = _xy(incidents)
    labels = np.asarray(labels, dtype="int64")
    uniq = np.unique(labels[labels >= 0])
    remap = np.full(int(labels.max()) + 1 if labels.size and labels.max() >= 0 else 0, -1, dtype="int64")
    remap[uniq] = np.arange(uniq.size)
    g = np.where(labels >= 0, remap[np.maximum(labels, 0)] if remap.size else -1, -1)
    n_groups = int(uniq.size)
    stats = hotspot_statistics(g, incidents, n_groups=n_groups, period_years=period_years)
    polys = []
    if n_groups:
        sel = np.flatnonzero(g >= 0)
        order = sel[np.argsort(g[sel], kind="stable")]
        mp = shapely.multipoints(shapely.points(xy[order]), indices=g[order])
        hulls = shapely.convex_hull(mp)  # vectorised over clusters
        polys = shapely.buffer(hulls, buffer_m)
    area = shapely.area(polys) if n_groups else np.zeros(0)
    stats["area_m2"] = area
    stats["density_per_km2"] = stats["n_incidents"] / (area / 1e6) if n_groups else []
    stats["n_cells"] = pd.array([pd.NA] * n_groups, dtype="Int64")
    stats["mean_gi_z"] = np.nan
    stats["_g"] = np.arange(n_groups)
    stats = stats.sort_values(["n_incidents", "area_m2", "_g"], ascending=[False, False, True], kind="stable")
    width = max(2, len(str(n_groups)))
    ids = [f"{prefix}{i + 1:0{width}d}" for i in range(n_groups)]
    out = gpd.GeoDataFrame(
        stats.drop(columns=["_g"]).assign(hotspot_id=ids).reset_index(drop=True),
        geometry=[polys[i] for i in stats["_g"]] if n_groups else [],
        crs=incidents.crs,
    )
    cols = [c for c in HOTSPOT_COLUMNS if c in out.columns]
    extra = [c for c in out.columns if c not in cols and c != "geometry"]
    out = out[[*cols, *extra, "geometry"]]
    out.attrs["params"] = {**(params or {}), "cluster_buffer_m": float(buffer_m)}
    return out


def clusters_dbscan(
    incidents: gpd.GeoDataFrame,
    *,
    eps_m: float,
    min_samples: int = 10,
    buffer_m: float | None = None,
    period_years: float | None = None,
) -> gpd.GeoDataFrame:
    """DBSCAN clusters of incidents as hotspot polygons.

    Parameters
    ----------
    incidents : GeoDataFrame
        Incident points in a projected CRS (metres).
    eps_m : float
        Neighbourhood radius in metres (scikit-learn ``eps``).
    min_samples : int
        Incidents within ``eps_m`` (self included) that make a core point.
    buffer_m : float, optional
        Buffer around each cluster's convex hull, metres; default ``eps_m / 2``.
    period_years : float, optional
        For ``incidents_per_year``.

    Returns
    -------
    GeoDataFrame
        Hotspot table (see :func:`clusters_to_hotspots`); ``attrs["params"]`` records the method.
    """
    from sklearn.cluster import DBSCAN

    eps = check_positive(eps_m, name="eps_m", where=_WHERE)
    ms = _min_samples(min_samples, "min_samples")
    xy = _xy(incidents)
    labels = DBSCAN(eps=eps, min_samples=ms, algorithm="kd_tree").fit(xy).labels_ if len(xy) else np.zeros(0)
    buf = (
        eps / 2.0
        if buffer_m is None
        else check_positive(buffer_m, name="buffer_m", where=_WHERE, allow_zero=True)
    )
    params = {"cluster_method": "dbscan", "eps_m": eps, "min_samples": ms}
    logger.info("DBSCAN (eps %g m, min_samples %d): %d clusters", eps, ms, len(set(labels) - {-1}))
    return clusters_to_hotspots(incidents, labels, buffer_m=buf, params=params, period_years=period_years)


def clusters_hdbscan(
    incidents: gpd.GeoDataFrame,
    *,
    min_cluster_size: int = 20,
    min_samples: int | None = None,
    buffer_m: float = 50.0,
    period_years: float | None = None,
) -> gpd.GeoDataFrame:
    """HDBSCAN clusters of incidents (scikit-learn) as hotspot polygons.

    Parameters
    ----------
    incidents : GeoDataFrame
        Incident points in a projected CRS (metres).
    min_cluster_size : int
        Smallest cluster (incidents).
    min_samples : int, optional
        Core-distance neighbours (default ``min_cluster_size``).
    buffer_m : float
        Buffer around each cluster's convex hull, metres.
    period_years : float, optional
        For ``incidents_per_year``.
    """
    from sklearn.cluster import HDBSCAN

    mcs = _min_samples(min_cluster_size, "min_cluster_size")
    ms = None if min_samples is None else _min_samples(min_samples, "min_samples")
    buf = check_positive(buffer_m, name="buffer_m", where=_WHERE, allow_zero=True)
    xy = _xy(incidents)
    labels = (
        HDBSCAN(min_cluster_size=mcs, min_samples=ms, copy=True).fit(xy).labels_
        if len(xy) >= mcs
        else np.full(len(xy), -1)
    )
    params = {"cluster_method": "hdbscan", "min_cluster_size": mcs, "min_samples": ms}
    logger.info("HDBSCAN (min_cluster_size %d): %d clusters", mcs, len(set(labels) - {-1}))
    return clusters_to_hotspots(incidents, labels, buffer_m=buf, params=params, period_years=period_years)


def risk_from_clusters(cells: gpd.GeoDataFrame, clusters: gpd.GeoDataFrame) -> np.ndarray:
    """Per cell, the ``density_per_km2`` of the densest cluster covering its representative point, else 0."""
    check_same_crs(cells, clusters, names=["cells", "clusters"])
    risk = np.zeros(len(cells))
    if len(clusters) == 0:
        return risk
    pts = shapely.point_on_surface(cells.geometry.to_numpy())
    tree = shapely.STRtree(clusters.geometry.to_numpy())
    ci, ki = tree.query(pts, predicate="intersects")
    dens = clusters["density_per_km2"].to_numpy(dtype="float64")
    np.maximum.at(risk, ci, dens[ki])
    return risk


__all__ = ["clusters_dbscan", "clusters_hdbscan", "clusters_to_hotspots", "risk_from_clusters"]
