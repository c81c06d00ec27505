"""Tests for planner.hotspots.kde: kernels, bandwidth rules, FFT = direct summation, orientation."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _paths import shared_path

from planner import grid
from planner.errors import ConfigError, CRSError, PlannerWarning
from planner.hotspots import kde

X0, Y0 = 500_000.0, 5_700_000.0


def _pts(xy, crs="EPSG:32630"):
    xy = np.asarray(xy, dtype=float)
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=crs)


@pytest.fixture(scope="module")
def chicago_xy():
    path = shared_path("data", "chicago_burglary_2014_2017", "chicago_burglary_2014_2017.csv")
    return pd.read_csv(path, usecols=["x", "y"]).to_numpy(dtype=float)


@pytest.mark.parametrize("kernel", ["quartic", "epanechnikov", "gaussian"])
def test_kernels_integrate_to_one(kernel):
    """Each kernel sampled on a fine grid sums (× cell area) to 1 per incident."""
    k = kde.kernel_grid(kernel, 100.0, 2.0)
    assert k.sum() * 4.0 == pytest.approx(1.0, rel=2e-3)


def test_single_point_at_centre_is_the_kernel(crs):
    """One incident at the centre of a 10 m cell: surface = K(d) × 1e6 per km² at every centre."""
    cs, h = 10.0, 55.0
    px, py = X0 + 205.0, Y0 + 105.0
    s = kde.kde_surface(
        _pts([[px, py]], crs), cell_size_m=cs, bandwidth_m=h, extent=(X0, Y0, X0 + 400, Y0 + 200)
    )
    arr = np.flipud(s.array)  # row 0 = south
    rows, cols = np.mgrid[0 : arr.shape[0], 0 : arr.shape[1]]
    d = np.hypot(X0 + (cols + 0.5) * cs - px, Y0 + (rows + 0.5) * cs - py)
    np.testing.assert_allclose(arr, kde.kernel_values("quartic", d, h) * 1e6, rtol=1e-9, atol=1e-12)
    assert arr.max() == pytest.approx(3 / (math.pi * h * h) * 1e6)
    assert s.units == "incidents per km²"


def test_north_up_orientation_and_geotiff(tmp_path, crs):
    """An incident in the north-east corner shows up in the top-right pixels and in the GeoTIFF."""
    rasterio = pytest.importorskip("rasterio")
    px, py = X0 + 950.0, Y0 + 950.0
    s = kde.kde_surface(
        _pts([[px, py], [px, py], [X0 + 50, Y0 + 50]], crs),
        cell_size_m=100,
        bandwidth_m=150,
        extent=(X0, Y0, X0 + 1000, Y0 + 1000),
    )
    assert s.transform.e < 0
    assert s.array[0, -1] == np.nanmax(s.array)
    path = s.to_geotiff(tmp_path / "kde.tif")
    with rasterio.open(path) as src:
        (v,) = next(src.sample([(px, py)]))
        assert v == pytest.approx(np.nanmax(s.array), rel=1e-6)
        assert src.tags()["kernel"] == "quartic"
        assert float(src.tags()["bandwidth_m"]) == 150.0


def test_bandwidth_arcgis_by_hand():
    """Square of side 2: centre (1, 1), every distance √2 → SD = Dm = √2, r = 0.9·√2·4^−0.2."""
    xy = np.array([[0, 0], [2, 0], [0, 2], [2, 2]], dtype=float)
    assert kde.bandwidth_arcgis(xy) == pytest.approx(0.9 * math.sqrt(2) * 4 ** (-0.2))


def test_bandwidth_rules_use_both_axes():
    """Points spread only along y: sfhotspot's x-only rule would give 0; ours use both axes."""
    rng = np.random.default_rng(0)
    xy = np.c_[np.full(500, 1000.0) + rng.normal(0, 1e-3, 500), rng.normal(0, 100, 500)]
    sd = xy.std(axis=0, ddof=1)
    q = np.percentile(xy, [75, 25], axis=0)
    spread = np.minimum(sd, (q[0] - q[1]) / 1.34)
    assert kde.bandwidth_silverman(xy) == pytest.approx(np.mean(0.9 * spread * 500 ** (-0.2)))
    assert kde.bandwidth_nrd(xy) == pytest.approx(np.mean(4 * 1.06 * spread * 500 ** (-0.2)))
    assert kde.bandwidth_scott(xy) == pytest.approx(np.mean(sd * 500 ** (-1 / 6)))
    assert kde.bandwidth_arcgis(xy) > 10


@pytest.mark.parametrize("cell_size_m", [50.0, 100.0, 250.0])
@pytest.mark.parametrize("kernel", ["quartic", "epanechnikov"])
def test_exact_mode_equals_direct_summation_on_chicago(chicago_xy, kernel, cell_size_m):
    """Chicago burglaries 2014–17 (45,319 points, ArcGIS bandwidth ≈ 1,193 m): the default (exact)
    surface equals the direct kernel sum over the exact incident positions at 3,000 random cell
    centres to 1e-6 relative (in practice ~1e-13)."""
    s = kde.kde_surface(chicago_xy, cell_size_m=cell_size_m, kernel=kernel)
    assert s.params["binning"] == "exact"
    p = s.params
    arr = np.flipud(s.array)
    rng = np.random.default_rng(1)
    tr, tc = rng.integers(0, arr.shape[0], 3000), rng.integers(0, arr.shape[1], 3000)
    targets = np.c_[p["x0"] + (tc + 0.5) * cell_size_m, p["y0"] + (tr + 0.5) * cell_size_m]
    direct = kde.kde_direct(
        chicago_xy, np.ones(len(chicago_xy)), targets, kernel=kernel, bandwidth_m=p["bandwidth_m"]
    )
    got = arr[tr, tc]
    assert np.max(np.abs(got - direct)) <= 1e-6 * direct.max()
    big = direct > 1e-3 * direct.max()
    np.testing.assert_allclose(got[big], direct[big], rtol=1e-6)


def test_exact_mode_with_weights_and_outside_points(crs):
    """Weighted incidents, some outside the extent (they still reach cells inside): exact vs direct."""
    rng = np.random.default_rng(7)
    xy = np.c_[rng.uniform(X0 - 300, X0 + 1300, 500), rng.uniform(Y0 - 300, Y0 + 1300, 500)]
    w = rng.uniform(0.5, 3, 500)
    s = kde.kde_surface(
        _pts(xy, crs),
        cell_size_m=37.0,
        bandwidth_m=260.0,
        weights=w,
        extent=(X0, Y0, X0 + 1000, Y0 + 1000),
        binning="exact",
    )
    p = s.params
    arr = np.flipud(s.array)
    rows, cols = np.mgrid[0 : arr.shape[0], 0 : arr.shape[1]]
    targets = np.c_[p["x0"] + (cols.ravel() + 0.5) * 37.0, p["y0"] + (rows.ravel() + 0.5) * 37.0]
    direct = kde.kde_direct(xy, w, targets, kernel="quartic", bandwidth_m=260.0)
    np.testing.assert_allclose(arr.ravel(), direct, rtol=1e-9, atol=1e-9 * direct.max())


@pytest.mark.parametrize("kernel", ["quartic", "epanechnikov", "gaussian"])
@pytest.mark.parametrize("binning", ["linear", "simple"])
def test_binned_fft_equals_direct_summation_over_binned_points(chicago_xy, kernel, binning):
    """Linear/simple binning: the FFT surface equals the direct kernel sum over the *binned*
    incidents at 3,000 cell centres to 1e-6 relative (see the module docstring)."""
    cs = 100.0
    s = kde.kde_surface(
        chicago_xy,
        cell_size_m=cs,
        kernel=kernel,
        bandwidth_m=600.0 if kernel == "gaussian" else None,
        binning=binning,
    )
    p = s.params
    assert p["binning"] == binning
    arr = np.flipud(s.array)
    binned = kde.bin_points(
        chicago_xy,
        np.ones(len(chicago_xy)),
        x0=p["x0"],
        y0=p["y0"],
        cell_size_m=cs,
        shape=arr.shape,
        binning=binning,
    )
    r, c = np.nonzero(binned)
    src = np.c_[p["x0"] + (c + 0.5) * cs, p["y0"] + (r + 0.5) * cs]
    rng = np.random.default_rng(1)
    tr, tc = rng.integers(0, arr.shape[0], 3000), rng.integers(0, arr.shape[1], 3000)
    targets = np.c_[p["x0"] + (tc + 0.5) * cs, p["y0"] + (tr + 0.5) * cs]
    direct = kde.kde_direct(src, binned[r, c], targets, kernel=kernel, bandwidth_m=p["bandwidth_m"])
    got = arr[tr, tc]
    assert np.max(np.abs(got - direct)) <= 1e-6 * direct.max()
    big = direct > 1e-3 * direct.max()
    np.testing.assert_allclose(got[big], direct[big], rtol=1e-6)


def test_auto_binning_choice(crs):
    """auto = exact for compact kernels on small data, linear for the Gaussian or very large data."""
    pts = _pts([[X0, Y0], [X0 + 300, Y0 + 200]], crs)
    assert kde.kde_surface(pts, cell_size_m=10, bandwidth_m=100).params["binning"] == "exact"
    assert (
        kde.kde_surface(pts, cell_size_m=10, bandwidth_m=100, kernel="gaussian").params["binning"] == "linear"
    )
    assert kde.exact_work(10_000_000, bandwidth_m=400, cell_size_m=10) > kde.EXACT_BUDGET
    with pytest.raises(ConfigError, match="exact"):
        kde.kde_surface(pts, cell_size_m=10, bandwidth_m=100, kernel="gaussian", binning="exact")


def test_linear_binning_close_to_exact_positions(chicago_xy):
    """Against the kernel sum over the exact incident positions, linear binning with cell/h ≈ 0.08
    is within 1 % of the peak (the O((cell/h)²) binning error)."""
    s = kde.kde_surface(chicago_xy, cell_size_m=100.0, binning="linear")
    p = s.params
    arr = np.flipud(s.array)
    rng = np.random.default_rng(2)
    tr, tc = rng.integers(0, arr.shape[0], 1000), rng.integers(0, arr.shape[1], 1000)
    targets = np.c_[p["x0"] + (tc + 0.5) * 100, p["y0"] + (tr + 0.5) * 100]
    exact = kde.kde_direct(
        chicago_xy, np.ones(len(chicago_xy)), targets, kernel="quartic", bandwidth_m=p["bandwidth_m"]
    )
    assert np.max(np.abs(arr[tr, tc] - exact)) < 0.01 * exact.max()


def test_weights_period_and_mass(crs):
    """Weights 2 double the surface; period_years=4 divides it; total mass = Σ weights."""
    rng = np.random.default_rng(3)
    xy = np.c_[rng.uniform(X0 + 300, X0 + 700, 200), rng.uniform(Y0 + 300, Y0 + 700, 200)]
    ext = (X0, Y0, X0 + 1000, Y0 + 1000)
    a = kde.kde_surface(_pts(xy, crs), cell_size_m=10, bandwidth_m=100, extent=ext)
    b = kde.kde_surface(_pts(xy, crs), cell_size_m=10, bandwidth_m=100, extent=ext, weights=np.full(200, 2.0))
    c = kde.kde_surface(_pts(xy, crs), cell_size_m=10, bandwidth_m=100, extent=ext, period_years=4)
    np.testing.assert_allclose(b.array, 2 * a.array)
    np.testing.assert_allclose(c.array, a.array / 4)
    assert c.units == "incidents per km² per year" and c.params["period_years"] == 4
    assert np.nansum(a.array) * (10 * 10) / 1e6 == pytest.approx(200, rel=5e-3)


def test_mask_and_kde_at_cells(crs):
    area = gpd.GeoDataFrame(geometry=[shapely.Point(X0 + 500, Y0 + 500).buffer(400)], crs=crs)
    cells = grid.grid_from_boundary(area, cell_size_m=50)
    rng = np.random.default_rng(4)
    xy = np.c_[rng.normal(X0 + 500, 100, 300), rng.normal(Y0 + 500, 100, 300)]
    s = kde.kde_surface(_pts(xy, crs), cell_size_m=50, bandwidth_m=200, mask=area)
    assert (
        s.params["x0"] == cells.attrs["params"]["x0"]
        and s.params["n_rows"] == cells.attrs["params"]["n_rows"]
    )
    assert np.isnan(s.array[0, 0]) and np.isfinite(s.array[s.array.shape[0] // 2, s.array.shape[1] // 2])
    out = kde.kde_at_cells(cells, s)
    assert "kde" not in cells.columns
    arr = np.flipud(s.array)
    np.testing.assert_allclose(out["kde"], arr[cells["row"], cells["col"]])
    assert out["kde"].notna().all()  # clipped boundary cells overlap the mask, so they keep a value
    # hexagons sample the pixel under their representative point
    hexes = grid.grid_from_boundary(area, cell_size_m=100, kind="hex")
    hx = kde.kde_at_cells(hexes, s)
    assert hx["kde"].notna().all()
    assert out.attrs["params"]["kde_kernel"] == "quartic"


def test_small_bandwidth_warns(crs):
    with pytest.warns(PlannerWarning, match="bandwidth"):
        kde.kde_surface(_pts([[X0, Y0], [X0 + 10, Y0]], crs), cell_size_m=100, bandwidth_m=50)


def test_geographic_crs_is_an_error():
    pts = _pts([[-0.1, 51.5], [-0.11, 51.51]], crs="EPSG:4326")
    with pytest.raises(CRSError):
        kde.kde_surface(pts, cell_size_m=100)
    with pytest.raises(CRSError):
        kde.bandwidth_arcgis(pts)
    # transformed first, it works
    s = kde.kde_surface(pts.to_crs("EPSG:27700"), cell_size_m=100, bandwidth_m=500)
    assert np.nanmax(s.array) > 0
