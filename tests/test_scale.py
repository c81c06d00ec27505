"""Scale guards in the pipeline: the Knox test's pair budget."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from scipy.spatial import cKDTree

from planner.hotspots.nearrepeat import thin_for_knox as _thin_for_knox


def _events(n: int, side_m: float, seed: int = 0) -> gpd.GeoDataFrame:
    xy = np.random.default_rng(seed).uniform(0, side_m, (n, 2))
    out = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:32630")
    out.attrs["time_resolution"] = "minute"
    return out


def test_sparse_events_are_kept_whole() -> None:
    ev = _events(2000, 50_000)
    out, note = _thin_for_knox(ev, radius_m=400, seed=1)
    assert out is ev and note is None


def test_dense_events_are_thinned_to_the_pair_budget_with_a_note() -> None:
    ev = _events(20_000, 4000)  # ~ 20k² / 2 × π·400² / 4000² ≈ 6.3M close pairs
    true_pairs = len(cKDTree(np.c_[ev.geometry.x, ev.geometry.y]).query_pairs(400))
    out, note = _thin_for_knox(ev, radius_m=400, seed=1, max_pairs=200_000)
    assert note is not None and f"{len(out):,} of the 20,000" in note
    assert out.attrs == ev.attrs and out.index.is_monotonic_increasing
    kept = len(cKDTree(np.c_[out.geometry.x, out.geometry.y]).query_pairs(400))
    assert 100_000 < kept < 260_000  # near the budget (the estimate is within ~25 % of the truth)
    assert true_pairs > 5_000_000
    again, _ = _thin_for_knox(ev, radius_m=400, seed=1, max_pairs=200_000)
    assert again.index.equals(out.index)  # seeded
