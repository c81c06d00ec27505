"""The risk terrain's building blocks with hand-worked answers: lattice measures, the point-intensity
model, its cross-validation shortcut, the stepwise search's night terms and the stability verdict."""

# Design matrices keep their statistical names (X) as in statsmodels.
from __future__ import annotations

from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planner.risk import glm, intensity
from planner.risk.design import PointBase, compressed_point_design, lighting_layers, point_design
from planner.risk.features import cell_lattice, point_features, risk_features, zone_field, zone_shares
from planner.risk.report import coarse_owner, verdict

CRS = "EPSG:32630"
X0, Y0 = 500_000.0, 5_700_000.0


def _square_cells(n: int, size: float) -> gpd.GeoDataFrame:
    boxes = [
        shapely.box(X0 + c * size, Y0 + r * size, X0 + (c + 1) * size, Y0 + (r + 1) * size)
        for r in range(n)
        for c in range(n)
    ]
    cells = gpd.GeoDataFrame({"cell_id": range(n * n)}, geometry=boxes, crs=CRS)
    cells["area_m2"] = cells.area
    cells.attrs["params"] = {"cell_size_m": size}
    return cells


def _points(*xy: tuple[float, float]) -> gpd.GeoDataFrame:
    arr = np.array(xy, dtype=float)
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(X0 + arr[:, 0], Y0 + arr[:, 1]), crs=CRS)


def test_lattice_shares_by_hand():
    """One 100 m cell, a 2 × 2 lattice at (25, 25), (75, 25), (25, 75), (75, 75). A bar at (10, 10)
    is 21.2 m from the first point and 68.0 m from the middle ones: within 20 m → share 0, within
    30 m → 1/4, within 70 m → 3/4; density counts from the centre (50, 50), 56.6 m away."""
    cells = _square_cells(1, 100.0)
    lattice = cell_lattice(cells, 2)
    assert sorted(map(tuple, (lattice.xy - [X0, Y0]).tolist())) == [(25, 25), (25, 75), (75, 25), (75, 75)]
    layers = {"licensed_premises": _points((10, 10))}
    X, meta = risk_features(cells, layers, distances_m=(20, 30, 70), samples=2)
    assert X.loc[0, "licensed_premises|proximity|20"] == 0
    assert X.loc[0, "licensed_premises|proximity|30"] == 0.25
    assert X.loc[0, "licensed_premises|proximity|70"] == 0.75
    assert "licensed_premises|density|30" not in X  # below the cell side: proximity says it all
    assert meta.loc["licensed_premises|proximity|30", "unit"] == "share of the cell within 30 m"
    at = point_features(lattice, layers, ["licensed_premises|proximity|30", "licensed_premises|density|70"])
    assert at["licensed_premises|proximity|30"].sum() == 1  # the point at (25, 25)
    far = int(np.argmax((lattice.xy - [X0, Y0]).sum(axis=1)))  # the point at (75, 75), 91.9 m away
    density = at["licensed_premises|density|70"]
    assert density.sum() == 3 and density[far] == 0


def test_polygon_inside_at_points_and_zone_shares():
    """A car park covering x < 50 of a 100 m cell: two of the four lattice points are inside."""
    cells = _square_cells(1, 100.0)
    park = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 50, Y0 + 100)], crs=CRS)
    X, _ = risk_features(cells, {"car_parks": park}, distances_m=(10,), samples=2)
    assert X.loc[0, "car_parks|area_share|0"] == 0.5
    exact, _ = risk_features(cells, {"car_parks": park}, distances_m=(10,), samples=1)
    assert exact.loc[0, "car_parks|area_share|0"] == pytest.approx(0.5)  # classic: exact area share
    zones = gpd.GeoDataFrame(
        {"zone": ["residential", "centre", "residential"], "name": ["a", "b", "c"]},
        geometry=[shapely.box(X0, Y0, X0 + 50, Y0 + 100), shapely.box(X0 + 50, Y0, X0 + 100, Y0 + 50),
                  shapely.box(X0 + 50, Y0 + 50, X0 + 100, Y0 + 100)],
        crs=CRS,
    )  # fmt: skip
    assert zone_field(zones) == "zone"
    shares = zone_shares(cell_lattice(cells, 2), zones, "zone")
    assert list(shares.columns) == ["zone[centre]"]  # residential (3 of 4 points) is the baseline
    assert shares.loc[0, "zone[centre]"] == 0.25


def test_point_model_with_one_point_per_cell_is_the_glm():
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    n = 2000
    X = np.column_stack([rng.normal(size=n), rng.random(n) < 0.3]).astype(float)
    area = rng.uniform(500, 2500, n)
    y = rng.poisson(area * np.exp(-7 + X @ [0.4, 0.9])).astype(float)
    design = intensity.PointDesign(X, np.arange(n), area, n)
    for family, alpha in (("poisson", None), ("negative_binomial", 0.3)):
        fit = intensity.fit_intensity(y, design, family=family, nb_alpha=alpha)
        fam = sm.families.Poisson() if family == "poisson" else sm.families.NegativeBinomial(alpha=0.3)
        if family == "negative_binomial":
            fit = intensity.fit_intensity(y, design, family=family, nb_alpha=0.3, update_alpha=False)
        ref = sm.GLM(y, sm.add_constant(X), family=fam, offset=np.log(area)).fit()
        assert fit is not None
        assert np.allclose(fit.params, ref.params, atol=1e-6)
        assert fit.llf == pytest.approx(ref.llf, rel=1e-9)
        assert np.allclose(np.sqrt(np.diag(fit.cov)), ref.bse, rtol=1e-5)


def test_point_model_recovers_a_place_effect_that_cell_shares_inflate():
    """Counts drawn at points (RR 10 inside a feature, 4 points per cell, many cells partly
    covered): the point-intensity model recovers 10; the cell model on shares does not (here it
    gives about 7), as the mean of exp is not the exp of the mean."""
    rng = np.random.default_rng(7)
    n_cells, k = 4000, 4
    x = (rng.random((n_cells, k)) < rng.choice([0.0, 0.5, 1.0], size=(n_cells, 1))).astype(float)
    weight = np.full(n_cells * k, 2500.0)
    lam = weight * np.exp(-8.0 + np.log(10.0) * x.ravel())
    y = np.bincount(np.repeat(np.arange(n_cells), k), weights=rng.poisson(lam), minlength=n_cells)
    owner = np.repeat(np.arange(n_cells), k)
    fit = intensity.fit_intensity(
        y, intensity.PointDesign(x.reshape(-1, 1), owner, weight, n_cells), family="poisson"
    )
    assert fit is not None
    low, high = np.exp(fit.intervals()[0][1]), np.exp(fit.intervals()[1][1])
    assert low <= 10 <= high and abs(np.exp(fit.params[1]) - 10) < 1.5
    share = x.mean(axis=1)
    _, _, beta = glm.irls_fit(
        y, np.column_stack([np.ones(n_cells), share]), np.log(np.full(n_cells, 1e4)), "poisson", 0
    )
    assert beta is not None and abs(np.log(np.exp(beta[1]) / 10)) > np.log(1.3)  # the share model misses it


def test_compressed_design_gives_the_same_fit():
    rng = np.random.default_rng(1)
    owner = np.repeat(np.arange(500), 4)
    X = (rng.random((2000, 2)) < 0.2).astype(float)
    weight = rng.uniform(100, 200, 2000)
    y = rng.poisson(30 * np.bincount(owner, weights=weight * np.exp(-9 + X @ [1.0, -0.5]))).astype(float)
    design = intensity.PointDesign(X, owner, weight, 500)
    small = design.compressed()
    assert small.merged and len(small.owner) < len(owner)
    assert np.allclose(np.bincount(small.owner, weights=small.weight), np.bincount(owner, weights=weight))
    a = intensity.fit_intensity(y, design, family="poisson")
    b = intensity.fit_intensity(y, small, family="poisson")
    assert a is not None and b is not None and np.allclose(a.params, b.params)


@pytest.mark.parametrize("night_cols", [["a@night"], ["c@night"]])
def test_stacked_design_is_built_merged_as_compressing_it(night_cols):
    # night twins of all-hours terms take the merged path; a night term without its twin, the
    # general one: both must give exactly the points, rows, weights and order of .compressed()
    rng = np.random.default_rng(3)
    m, n = 4000, 1000
    values = pd.DataFrame((rng.random((m, 3)) < 0.3).astype(float), columns=["a", "b", "c"])
    base = PointBase(
        np.arange(m), np.repeat(np.arange(n), 4), rng.uniform(50, 60, m), rng.random((m, 1)).round(1)
    )
    data = SimpleNamespace(cells=np.arange(n), stacked=True)
    cols = ["a", "b", *night_cols]
    fast = compressed_point_design(base, values, cols, data)
    slow = point_design(base, values, cols, data).compressed()
    assert fast.merged and len(fast.owner) < 2 * m
    assert np.array_equal(fast.X, slow.X) and np.array_equal(fast.owner, slow.owner)
    assert np.array_equal(fast.weight, slow.weight) and fast.n_rows == slow.n_rows


def test_one_step_cross_validation_matches_refitting():
    rng = np.random.default_rng(5)
    n = 3000
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
    offset = np.zeros(n)
    y = rng.poisson(np.exp(X @ [0.2, 0.5, -0.3])).astype(float)
    folds = np.arange(n) % 3
    _, mu, beta = glm.irls_fit(y, X, offset, "poisson", 0.0)
    assert mu is not None and beta is not None
    approx = glm.cv_loglik(y, X, offset, (beta, mu), folds, family="poisson", nb_alpha=0.0)
    exact = 0.0
    for k in range(3):
        _, _, b = glm.irls_fit(y[folds != k], X[folds != k], offset[folds != k], "poisson", 0.0)
        exact += glm.count_loglik(y[folds == k], np.exp(X[folds == k] @ b), "poisson", 0.0)
    assert approx == pytest.approx(exact, rel=1e-4)
    fit = intensity.fit_intensity(
        y, intensity.PointDesign(X[:, 1:], np.arange(n), np.ones(n), n), family="poisson"
    )
    assert fit is not None
    point = intensity.cv_loglik(y, intensity.PointDesign(X[:, 1:], np.arange(n), np.ones(n), n), fit, folds)
    assert point == pytest.approx(exact, rel=1e-4)


def test_block_folds_keep_blocks_whole():
    blocks = np.repeat(np.arange(30), 7)
    folds = glm.block_folds(blocks, 3, 0)
    for b in range(30):
        assert len(set(folds[blocks == b])) == 1
    assert set(folds) == {0, 1, 2}


def test_stepwise_brings_a_night_term_with_its_all_hours_term():
    """Night counts are 3× higher in dark places (not by day): the night term enters, and with
    it its all-hours twin (whatever that one's own evidence)."""
    rng = np.random.default_rng(2)
    n = 3000
    dark = (rng.random(n) < 0.3).astype(float)
    noise = rng.normal(size=n)
    night = rng.poisson(np.exp(-1.0 + np.log(3.0) * dark))
    day = rng.poisson(np.exp(-1.0 + 0 * dark))
    y = np.r_[night, day].astype(float)
    flag = np.r_[np.ones(n), np.zeros(n)][:, None]
    X = np.column_stack([np.r_[dark, dark], np.r_[noise, noise], np.r_[dark, np.zeros(n)]])
    data = glm.CountData(
        y=y,
        X=X,
        groups=["lamps", "noise", "lamps@night"],
        offset=np.zeros(2 * n),
        base=flag,
        requires=(-1, -1, 0),
    )
    chosen, _ = glm.stepwise_bic(data, family="poisson", nb_alpha=0.0, max_factors=None)
    assert sorted(chosen) == [0, 2]


def test_verdict_rules():
    def row(rrv, low, high, c_rrv, c_low, c_high, coarse_m=200.0):
        return SimpleNamespace(rrv=rrv, rrv_low=low, rrv_high=high, rrv_coarse=c_rrv, rrv_low_coarse=c_low,
                               rrv_high_coarse=c_high, coarse_cell_size_m=coarse_m)  # fmt: skip

    assert verdict(row(2.0, 1.5, 2.6, 2.2, 1.4, 3.1)) == "risk"
    assert verdict(row(0.5, 0.3, 0.8, 0.6, 0.4, 0.9)) == "protective"
    assert verdict(row(1.6, 1.2, 2.1, 0.8, 0.5, 1.3)) == "unstable"  # the sign flips
    assert verdict(row(0.5, 0.3, 0.8, 0.6, 0.1, 3.0)) == "not distinguishable from 1"  # wide at 2×
    assert verdict(row(1.3, 0.9, 1.9, 1.4, 1.1, 1.8)) == "not distinguishable from 1"
    assert verdict(row(2.0, 1.5, 2.6, np.nan, np.nan, np.nan)) == "unstable"  # coarse fit failed
    assert verdict(row(2.0, 1.5, 2.6, np.nan, np.nan, np.nan, coarse_m=np.nan)) == "risk"  # not checked


def test_coarse_squares_are_anchored_on_multiples_of_their_side():
    cells = _square_cells(4, 50.0)  # x0 = 500000 is a multiple of 100: 2 × 2 fine cells per square
    owner = coarse_owner(cells, 100.0)
    assert len(np.unique(owner)) == 4
    grid_owner = owner.reshape(4, 4)
    assert (grid_owner[:2, :2] == grid_owner[0, 0]).all() and grid_owner[0, 0] != grid_owner[2, 2]


def test_lighting_layers_come_from_the_registry():
    layers = dict.fromkeys(["street_lights", "street_light_outages", "lighting", "cameras", "car_parks"])
    assert set(lighting_layers(layers)) == {"street_lights", "street_light_outages", "lighting"}


def test_fine_terrain_chooses_its_cell_and_distances():
    from planner.risk.fine import auto_distances, crime_groups, fine_cell_size

    small = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 8000, Y0 + 8000)], crs=CRS)
    large = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 25_000, Y0 + 25_000)], crs=CRS)
    assert fine_cell_size(small)[0] == 50.0  # 25,600 cells
    assert fine_cell_size(large)[0] == 100.0  # 62,500 cells
    region = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 50_000, Y0 + 50_000)], crs=CRS)
    assert fine_cell_size(region)[0] == 150.0  # 250,000 cells at 100 m; 111,111 at 150 m
    assert auto_distances(50.0) == (12.5, 25.0, 37.5, 50.0, 75.0, 100.0, 150.0, 200.0, 300.0, 400.0)
    inc = pd.DataFrame({"category": ["a"] * 150 + ["b"] * 20})
    groups = crime_groups(inc, min_incidents=100)
    assert list(groups) == ["a"] and groups["a"].sum() == 150
    assert list(crime_groups(pd.DataFrame({"category": ["a"] * 60 + ["b"] * 60}), min_incidents=100)) == [
        "all incidents"
    ]
