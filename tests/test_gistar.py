"""Tests for planner.hotspots.gistar: Gi* vs esda and the textbook formula, FDR, bins, permutations."""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _constants import RTOL
from _paths import shared_path

from planner import grid
from planner.errors import ConfigError, CRSError, PlannerWarning
from planner.hotspots import gistar


def _esda_gistar(y, w):
    esda = pytest.importorskip("esda")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return esda.G_Local(np.asarray(y, dtype=float), w, transform="B", star=True, permutations=0).Zs


def _toy():
    case = json.loads(shared_path("peer", "esda_getisord_toy", "expected.json").read_text())
    pts = np.array(case["input"]["points"], dtype=float)
    y = np.array(case["input"]["y"], dtype=float)
    expected = np.array(case["computed_full"]["G_Local_transform=B_star=True"]["Zs"])
    return pts, y, expected


def test_matches_esda_toy_sparse():
    """esda test_getisord.py: 6 points, distance band 15, Gi* (B) z = expected.json to 1e-7."""
    pts, y, expected = _toy()
    cells = gpd.GeoDataFrame(
        {"n_incidents": y}, geometry=gpd.points_from_xy(pts[:, 0], pts[:, 1]).buffer(1.0), crs="EPSG:32630"
    )
    w = gistar.weights_from_cells(cells, ("distance", 15.0))
    z, p = gistar.gistar_sparse(y, w)
    np.testing.assert_allclose(z, expected, rtol=RTOL)
    assert z[0] == pytest.approx(-1.39727626, rel=RTOL)
    np.testing.assert_allclose(
        p,
        2
        * np.array(
            [
                0.08116525565671923,
                0.3862227302855575,
                0.2576363409118714,
                0.3862227302855575,
                0.10850443490039863,
                0.021472561709936267,
            ]
        ),
        rtol=RTOL,
    )
    out = gistar.gistar_cells(cells, neighbourhood=("distance", 15.0), fdr="none")
    np.testing.assert_allclose(out["gi_z"], expected, rtol=RTOL)


def _random_grid(shape=(17, 23), seed=0):
    return np.random.default_rng(seed).poisson(1.5, shape).astype(float)


@pytest.mark.parametrize("neighbourhood", ["queen", "rook"])
def test_grid_matches_esda(neighbourhood):
    """Convolution fast path = esda G_Local(star=True, transform='B') with libpysal lattice weights."""
    libpysal = pytest.importorskip("libpysal")
    counts = _random_grid()
    z, p = gistar.gistar_grid(counts, neighbourhood=neighbourhood)
    w = libpysal.weights.lat2W(*counts.shape, rook=neighbourhood == "rook")
    expected = _esda_gistar(counts.ravel(), w)
    np.testing.assert_allclose(z.ravel(), expected, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(p, 2 * (1 - __import__("scipy").stats.norm.cdf(np.abs(z))), rtol=1e-6)


def test_grid_matches_textbook_formula_by_hand():
    """3×3 grid, value 9 in the centre, 0 elsewhere; queen: every cell neighbours the centre.

    n = 9, x̄ = 1, S = sqrt(81/9 − 1) = √8. Centre: W = 9 → denominator 0 (covers all cells) → z = 0.
    Corner (0, 0): W = 4, lag = 9 → z = (9 − 4) / (√8 · sqrt((9·4 − 16)/8)) = 5 / √20.
    """
    counts = np.zeros((3, 3))
    counts[1, 1] = 9
    z, p = gistar.gistar_grid(counts)
    assert z[0, 0] == pytest.approx(5 / np.sqrt(20), rel=1e-12)
    assert z[1, 1] == 0.0 and p[1, 1] == 1.0


def test_mask_excludes_cells_from_n_and_neighbourhoods():
    """Masked grid = sparse Gi* over the kept cells' own queen adjacency."""
    counts = _random_grid((12, 9), seed=3)
    mask = np.zeros(counts.shape, dtype=bool)
    mask[:3, :4] = True
    mask[7, 5] = True
    z, _ = gistar.gistar_grid(counts, mask=mask)
    assert np.isnan(z[mask]).all()
    rows, cols = np.nonzero(~mask)
    cells = gpd.GeoDataFrame(
        {"n_incidents": counts[rows, cols]},
        geometry=shapely.box(cols * 100.0, rows * 100.0, cols * 100.0 + 100, rows * 100.0 + 100),
        crs="EPSG:32630",
    )
    w = gistar.weights_from_cells(cells, "queen")
    zs, _ = gistar.gistar_sparse(counts[rows, cols], w)
    np.testing.assert_allclose(z[rows, cols], zs, rtol=1e-12)
    # a masked array behaves the same as mask=
    z2, _ = gistar.gistar_grid(np.ma.masked_array(counts, mask))
    np.testing.assert_allclose(z2[~mask], z[~mask], rtol=1e-12)


def test_distance_band_fast_path_equals_sparse(crs):
    """Distance band 150 m on a 100 m grid includes diagonals (141 m): both paths agree, clipped grid."""
    area = gpd.GeoDataFrame(geometry=[shapely.Point(500_000, 5_700_000).buffer(1200)], crs=crs)
    cells = grid.grid_from_boundary(area, cell_size_m=100)
    cells["n_incidents"] = np.random.default_rng(5).poisson(2, len(cells))
    fast = gistar.gistar_cells(cells, neighbourhood=("distance", 150.0))
    assert fast.attrs["params"]["gi_path"] == "convolution"
    # Sparse path on the unclipped squares' centres (the fast path measures between full-cell centres).
    p = cells.attrs["params"]
    cx = p["x0"] + (cells["col"] + 0.5) * 100
    cy = p["y0"] + (cells["row"] + 0.5) * 100
    pts = gpd.GeoDataFrame(
        {"n_incidents": cells["n_incidents"]}, geometry=gpd.points_from_xy(cx, cy).buffer(1), crs=crs
    )
    slow = gistar.gistar_cells(pts, neighbourhood=("distance", 150.0))
    assert slow.attrs["params"]["gi_path"] == "sparse"
    np.testing.assert_allclose(fast["gi_z"], slow["gi_z"], rtol=1e-10)


def test_knn_matches_esda():
    libpysal = pytest.importorskip("libpysal")
    rng = np.random.default_rng(8)
    xy = rng.uniform(0, 1000, (60, 2))
    y = rng.poisson(3, 60).astype(float)
    cells = gpd.GeoDataFrame(
        {"n_incidents": y}, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]).buffer(0.5), crs="EPSG:32630"
    )
    out = gistar.gistar_cells(cells, neighbourhood=("knn", 5), fdr="none")
    expected = _esda_gistar(y, libpysal.weights.KNN.from_array(xy, k=5))
    np.testing.assert_allclose(out["gi_z"], expected, rtol=RTOL)


def test_hex_queen_has_six_neighbours():
    area = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 2000, 2000)], crs="EPSG:32630")
    cells = grid.grid_from_boundary(area, cell_size_m=200, kind="hex")
    w = gistar.weights_from_cells(cells, "queen")
    k = np.asarray(w.sum(axis=1)).ravel() - 1
    assert k.max() == 6
    rook = gistar.weights_from_cells(cells, "rook")
    assert (rook - w).max() <= 0  # rook ⊆ queen; clipped edge cells may touch only at a corner
    full = cells["area_m2"].to_numpy() > cells["area_m2"].max() * (1 - 1e-9)
    k_rook = np.asarray(rook.sum(axis=1)).ravel() - 1
    interior = full & (k == 6)
    assert interior.sum() > 20
    assert (k_rook[interior] == 6).all()


def test_fdr_adjust_matches_statsmodels():
    multipletests = pytest.importorskip("statsmodels.stats.multitest").multipletests
    rng = np.random.default_rng(2)
    p = np.r_[rng.uniform(0, 0.01, 20), rng.uniform(0, 1, 200)]
    for ours, theirs in (("bh", "fdr_bh"), ("by", "fdr_by"), ("bonferroni", "bonferroni")):
        np.testing.assert_allclose(gistar.fdr_adjust(p, ours), multipletests(p, method=theirs)[1], rtol=1e-12)
    np.testing.assert_array_equal(gistar.fdr_adjust(p, "none"), p)
    with_nan = np.r_[p, np.nan]
    adj = gistar.fdr_adjust(with_nan, "bh")
    assert np.isnan(adj[-1])
    np.testing.assert_allclose(adj[:-1], gistar.fdr_adjust(p, "bh"))


def test_fdr_no_bonferroni_fallback():
    """Unlike esda.fdr, nothing passing BH leaves every adjusted p above q (no α/n fallback)."""
    p = np.full(100, 0.5)
    assert (gistar.fdr_adjust(p, "bh") > 0.05).all()


def test_gi_bins_esri_levels():
    z = np.array([3.0, 2.5, 2.0, 1.0, -3.0, -2.0, 0.5])
    p_adj = np.array([0.005, 0.03, 0.08, 0.2, 0.01, 0.05, 0.001])
    assert gistar.gi_bins(z, p_adj, q=0.05).tolist() == [3, 2, 1, 0, -3, -2, 3]


def test_gistar_cells_columns_params_and_no_mutation(crs):
    area = gpd.GeoDataFrame(geometry=[shapely.box(500_000, 5_700_000, 502_000, 5_702_000)], crs=crs)
    cells = grid.grid_from_boundary(area, cell_size_m=100)
    counts = np.random.default_rng(1).poisson(1, len(cells))
    hot = (cells["row"].between(2, 4) & cells["col"].between(2, 4)).to_numpy()
    counts[hot] += 12
    cells["n_incidents"] = counts
    before = cells.copy()
    out = gistar.gistar_cells(cells)
    assert list(before.columns) == list(cells.columns)
    assert {"gi_z", "gi_p", "gi_p_adj", "gi_bin"} <= set(out.columns)
    assert out.attrs["params"]["gi_fdr"] == "bh" and out.attrs["params"]["gi_q"] == 0.05
    assert out.attrs["params"]["gi_neighbourhood"] == "queen"
    # the planted south-west block is hot; row 0 = south so it sits at low rows
    assert (out.loc[hot, "gi_bin"] >= 2).all()
    assert out["gi_bin"].between(-3, 3).all()
    assert (out["gi_p_adj"] >= out["gi_p"] - 1e-15).all()


def test_constant_values_give_no_evidence():
    z, p = gistar.gistar_grid(np.full((5, 5), 3.0))
    assert (z == 0).all() and (p == 1).all()


def test_permutations_reproducible_and_floor_warning(crs):
    area = gpd.GeoDataFrame(geometry=[shapely.box(500_000, 5_700_000, 501_000, 5_701_000)], crs=crs)
    cells = grid.grid_from_boundary(area, cell_size_m=100)
    counts = np.zeros(len(cells))
    counts[(cells["row"].between(4, 6) & cells["col"].between(4, 6)).to_numpy()] = 30
    cells["n_incidents"] = counts + np.random.default_rng(0).poisson(1, len(cells))
    with pytest.warns(PlannerWarning, match="permutations"):
        a = gistar.gistar_cells(cells, permutations=99, rng=7)
    with pytest.warns(PlannerWarning):
        b = gistar.gistar_cells(cells, permutations=99, rng=7)
    # exact: two runs with one seed in this process (reproducibility); p_sim is a ratio of counts anyway
    np.testing.assert_array_equal(a["gi_p_sim"], b["gi_p_sim"])
    assert a["gi_p_sim"].between(2 / 100, 1).all()
    centre = ((cells["row"] == 5) & (cells["col"] == 5)).to_numpy()
    assert a.loc[centre, "gi_p_sim"].item() == pytest.approx(2 / 100)
    assert a.attrs["params"]["gi_inference"].startswith("conditional permutation")
    out = gistar.gistar_cells(cells, permutations=2100, rng=1)  # ≥ n/q: no warning
    assert out.loc[centre, "gi_p_sim"].item() < 0.01


def test_errors():
    with pytest.raises(ConfigError):
        gistar.footprint("bishop")
    with pytest.raises(ConfigError):
        gistar.fdr_adjust(np.array([0.1]), "holm")
    cells = gpd.GeoDataFrame(
        {"n_incidents": [1, 2]}, geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs="EPSG:4326"
    )
    with pytest.raises(CRSError):
        gistar.gistar_cells(cells)
    cells = cells.set_crs("EPSG:32630", allow_override=True)
    with pytest.raises(ConfigError):
        gistar.gistar_cells(cells, neighbourhood=("knn", 0))
    with pytest.raises(Exception, match="no column"):
        gistar.gistar_cells(cells, value="missing")


def test_permutation_p_agrees_with_esda_p_sim():
    """Conditional randomisation as esda: on the toy, half our two-sided pseudo p ≈ esda's folded
    one-sided p_sim (both with 9,999 permutations, different random streams: within 0.02)."""
    esda = pytest.importorskip("esda")
    libpysal = pytest.importorskip("libpysal")
    pts, y, _ = _toy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = libpysal.weights.DistanceBand(pts, threshold=15, binary=True)
        theirs = esda.G_Local(y, w, transform="B", star=True, permutations=9999, seed=1).p_sim
    cells = gpd.GeoDataFrame(
        {"n_incidents": y}, geometry=gpd.points_from_xy(pts[:, 0], pts[:, 1]).buffer(1.0), crs="EPSG:32630"
    )
    out = gistar.gistar_cells(cells, neighbourhood=("distance", 15.0), permutations=9999, rng=3, fdr="none")
    np.testing.assert_allclose(out["gi_p_sim"] / 2, theirs, atol=0.02)


def test_grid_weights_match_the_convolution_neighbours(crs):
    """On a clipped square grid the footprint weights reproduce the fast-path z exactly."""
    area = gpd.GeoDataFrame(geometry=[shapely.Point(500_000, 5_700_000).buffer(900)], crs=crs)
    cells = grid.grid_from_boundary(area, cell_size_m=100)
    x = np.random.default_rng(9).poisson(2, len(cells)).astype(float)
    cells["n_incidents"] = x
    for nb, radius in (("queen", "queen"), ("rook", "rook"), (("distance", 250.0), 2.5)):
        fast = gistar.gistar_cells(cells, neighbourhood=nb)
        z, _ = gistar.gistar_sparse(x, gistar._grid_weights(cells, radius))
        np.testing.assert_allclose(fast["gi_z"], z, rtol=1e-12)
