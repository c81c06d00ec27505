"""Tests for planner.hotspots.clusters: DBSCAN / HDBSCAN clusters as hotspot polygons."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planner import grid
from planner.errors import ConfigError, CRSError
from planner.hotspots import clusters

X0, Y0 = 500_000.0, 5_700_000.0


def _blobs(crs):
    """Blob A: 60 incidents within 30 m of (200, 200); blob B: 30 within 30 m of (800, 700);
    10 isolated incidents on a 300 m lattice far from both (noise for eps = 50 m)."""
    rng = np.random.default_rng(0)

    def disc(n, cx, cy):
        r = 30 * np.sqrt(rng.uniform(0, 1, n))
        t = rng.uniform(0, 2 * np.pi, n)
        return np.c_[cx + r * np.cos(t), cy + r * np.sin(t)]

    noise = np.array(
        [[x, y] for x in (0, 300, 600, 900) for y in (500, 1000) if (x, y) != (900, 1000)]
        + [[450, 0], [0, 0]]
    )
    xy = np.r_[disc(60, 200, 200), disc(30, 800, 700), noise]
    return gpd.GeoDataFrame(
        {
            "incident_id": [str(i) for i in range(len(xy))],
            "occurred_at": pd.Timestamp("2024-01-01 22:00") + pd.to_timedelta(np.arange(len(xy)), unit="D"),
            "category": "robbery",
        },
        geometry=gpd.points_from_xy(X0 + xy[:, 0], Y0 + xy[:, 1]),
        crs=crs,
    )


def test_dbscan_finds_the_two_blobs(crs):
    inc = _blobs(crs)
    hs = clusters.clusters_dbscan(inc, eps_m=50, min_samples=5)
    assert hs["hotspot_id"].tolist() == ["C01", "C02"]
    assert hs["n_incidents"].tolist() == [60, 30]
    assert hs.geometry.iloc[0].contains(shapely.Point(X0 + 200, Y0 + 200))
    assert hs.geometry.iloc[1].contains(shapely.Point(X0 + 800, Y0 + 700))
    assert hs["share_of_incidents"].tolist() == pytest.approx([60 / len(inc), 30 / len(inc)])
    assert (hs["density_per_km2"] == hs["n_incidents"] / (hs["area_m2"] / 1e6)).all()
    assert hs["n_cells"].isna().all()
    assert hs.attrs["params"]["cluster_method"] == "dbscan" and hs.attrs["params"]["cluster_buffer_m"] == 25
    assert hs.crs == inc.crs


def test_hdbscan_finds_the_two_blobs(crs):
    hs = clusters.clusters_hdbscan(_blobs(crs), min_cluster_size=10)
    assert len(hs) == 2
    assert hs["n_incidents"].iloc[0] >= 55


def test_risk_from_clusters(crs):
    inc = _blobs(crs)
    hs = clusters.clusters_dbscan(inc, eps_m=50, min_samples=5)
    area = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)], crs=crs)
    cells = grid.grid_from_boundary(area, cell_size_m=20)
    risk = clusters.risk_from_clusters(cells, hs)
    assert (risk > 0).sum() > 0
    at_a = cells.geometry.contains(shapely.Point(X0 + 201, Y0 + 201)).to_numpy()
    assert risk[at_a][0] == pytest.approx(hs["density_per_km2"].iloc[0])


def test_no_clusters(crs):
    hs = clusters.clusters_dbscan(_blobs(crs), eps_m=1, min_samples=50)
    assert len(hs) == 0 and "hotspot_id" in hs.columns


def test_errors(crs):
    inc = _blobs(crs)
    with pytest.raises(ConfigError):
        clusters.clusters_dbscan(inc, eps_m=50, min_samples=1)
    with pytest.raises(CRSError):
        clusters.clusters_dbscan(inc.to_crs("EPSG:4326"), eps_m=50)
