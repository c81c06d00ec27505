"""Tests for planner.grid: square/hex grids clipped to the study area, cell size rule, counts."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from planner import grid
from planner.errors import CRSError, PlannerWarning, ValidationError


def _rect(crs: str, w: float = 1000.0, h: float = 600.0, x0: float = 500_000.0, y0: float = 5_700_000.0):
    return gpd.GeoDataFrame(geometry=[shapely.box(x0, y0, x0 + w, y0 + h)], crs=crs)


def _points(xy, crs):
    xy = np.asarray(xy, dtype=float)
    return gpd.GeoDataFrame(
        {"incident_id": [str(i) for i in range(len(xy))]},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=crs,
    )


def test_square_grid_rectangle(crs):
    """A 1000 × 600 m rectangle on multiples of 100 m holds exactly 10 × 6 = 60 full 100 m cells."""
    cells = grid.grid_from_boundary(_rect(crs), cell_size_m=100)
    assert len(cells) == 60
    assert cells["cell_id"].tolist() == list(range(60))
    assert np.allclose(cells["area_m2"], 10_000.0)
    p = cells.attrs["params"]
    assert (p["n_rows"], p["n_cols"], p["x0"], p["y0"]) == (6, 10, 500_000.0, 5_700_000.0)
    assert p["grid_kind"] == "square" and p["cell_size_m"] == 100.0 and p["cell_size_rule"] == "given"
    # row 0 is the southernmost row
    south = cells.loc[cells["row"] == 0].geometry.bounds
    assert np.allclose(south["miny"], 5_700_000.0)
    assert cells.crs == gpd.GeoSeries(crs=crs).crs


def test_square_grid_clipped_to_circle(crs):
    """Cells are clipped: their areas sum to the circle's area and none pokes outside."""
    area = gpd.GeoDataFrame(geometry=[shapely.Point(500_000, 5_700_000).buffer(1000)], crs=crs)
    cells = grid.grid_from_boundary(area, cell_size_m=100)
    assert cells["area_m2"].sum() == pytest.approx(area.area.iloc[0], rel=1e-9)
    assert cells.geometry.within(area.geometry.iloc[0].buffer(1e-6)).all()
    assert (cells.geom_type.isin(["Polygon", "MultiPolygon"])).all()


def test_hex_grid(crs):
    """Hexagons of width 100 m have area √3/2·100² and tile the study area exactly."""
    area = _rect(crs, 2000, 1500)
    cells = grid.grid_from_boundary(area, cell_size_m=100, kind="hex")
    assert cells.attrs["params"]["grid_kind"] == "hex"
    assert cells["area_m2"].sum() == pytest.approx(3_000_000.0, rel=1e-9)
    assert cells["area_m2"].max() == pytest.approx(math.sqrt(3) / 2 * 100**2, rel=1e-9)
    assert not cells.geometry.overlaps(cells.geometry.shift(1).fillna(shapely.Point())).any()


def test_auto_cell_size():
    """Issue #15: cells a council can act on, 100–300 m for city data, finer for denser data.

    8000 × 5000 m (40 km²): shorter side / 50 = 100 m. From density, √(5 × 4e7 / n): n = 100 gives
    1414 m → capped at 300 m (not 500 m); n = 4,000 gives 223.6 → 225 m; n = 8,000 gives 158.1 →
    150 m; n = 100,000 gives 44.7 → raised to 100 m.
    """
    area = _rect("EPSG:32630", 8000, 5000)
    assert grid.auto_cell_size(area) == 100.0
    assert grid.auto_cell_size(area, n_incidents=100) == 300.0
    assert grid.auto_cell_size(area, n_incidents=4_000) == 225.0
    assert grid.auto_cell_size(area, n_incidents=8_000) == 150.0
    assert grid.auto_cell_size(area, n_incidents=100_000) == 100.0
    size, rule = grid.choose_cell_size(area, n_incidents=4_000)
    assert size == 225.0 and "√(5 incidents per cell × study area 40.0 km² / 4000 incidents) = 224 m" in rule
    assert "within [100, 300] m: 225 m" in rule
    assert grid.tidy_length(160) == 200.0
    assert grid.tidy_length(0.37) == 0.5


def test_auto_cell_size_small_and_huge_areas():
    """A 600 m square keeps 5–10 cells across: 60–120 m, rounded inwards to [75, 100] m (n = 10 gives
    √(5 × 360,000 / 10) = 424 m → 100 m; n = 10,000 gives 13 m → 75 m). A 100 km square needs cells of
    at least √(1e10 / 1e5) = 316 m → 325 m to stay under 100,000 cells, whatever the density."""
    assert grid.auto_cell_size(_rect("EPSG:32630", 600, 600), n_incidents=10) == 100.0
    assert grid.auto_cell_size(_rect("EPSG:32630", 600, 600), n_incidents=10_000) == 75.0
    assert grid.auto_cell_size(_rect("EPSG:32630", 100_000, 100_000), n_incidents=10**6) == 325.0


def test_default_cell_size_is_reported():
    cells = grid.grid_from_boundary(_rect("EPSG:32630", 8000, 5000))
    assert cells.attrs["params"]["cell_size_m"] == 100.0
    assert "automatic" in cells.attrs["params"]["cell_size_rule"]


def test_many_cells_warns_but_works():
    """1000 × 1000 m with 3 m cells is 334 × 334 > 100k cells: a warning, not a failure."""
    with pytest.warns(PlannerWarning, match="cells"):
        cells = grid.grid_from_boundary(_rect("EPSG:32630", 1000, 1000), cell_size_m=3)
    assert len(cells) == 334 * 334


@pytest.mark.slow
def test_one_million_cells():
    """1M cells (1000 × 1000 of 1 m) still build and count."""
    with pytest.warns(PlannerWarning):
        cells = grid.grid_from_boundary(_rect("EPSG:32630", 1000, 1000), cell_size_m=1)
    assert len(cells) == 1_000_000
    pts = _points([[500_000.5, 5_700_000.5], [500_999.5, 5_700_999.5]], "EPSG:32630")
    counted = grid.count_incidents(cells, pts)
    assert counted["n_incidents"].sum() == 2
    assert counted.loc[counted["n_incidents"] == 1, "cell_id"].tolist() == [0, 999_999]


def test_count_incidents_half_open_and_outside(crs):
    """Cells are [x, x+100) × [y, y+100): a point on a shared edge goes east/north; outside is not counted.

    Points: (50, 50) → cell (0, 0); (100, 50) → (0, 1); (50, 100) → (1, 0); (1500, 50) → outside.
    Weights 1, 2, 3, 4 → weighted sums 1, 2, 3 in those cells.
    """
    x0, y0 = 500_000.0, 5_700_000.0
    area = _rect(crs)
    cells = grid.grid_from_boundary(area, cell_size_m=100)
    pts = _points([[x0 + 50, y0 + 50], [x0 + 100, y0 + 50], [x0 + 50, y0 + 100], [x0 + 1500, y0 + 50]], crs)
    pts["w"] = [1.0, 2.0, 3.0, 4.0]
    before = cells.copy()
    out = grid.count_incidents(cells, pts, weights="w")
    assert_geodataframe_equal(cells, before)
    got = out.set_index(["row", "col"])
    assert got.loc[(0, 0), "n_incidents"] == 1
    assert got.loc[(0, 1), "n_incidents"] == 1
    assert got.loc[(1, 0), "n_incidents"] == 1
    assert out["n_incidents"].sum() == 3
    assert got.loc[(1, 0), "weighted_incidents"] == 3.0
    assert out.attrs["params"]["n_incidents_outside"] == 1


def test_count_in_clipped_cell_respects_geometry(crs):
    """A triangle clips cell (0, 0) to its lower-right half: (10, 90) is in the square but not the cell."""
    x0, y0 = 500_000.0, 5_700_000.0
    tri = gpd.GeoDataFrame(
        geometry=[shapely.Polygon([(x0, y0), (x0 + 200, y0), (x0 + 200, y0 + 200)])], crs=crs
    )
    cells = grid.grid_from_boundary(tri, cell_size_m=100)
    pts = _points([[x0 + 10, y0 + 90], [x0 + 90, y0 + 10]], crs)
    out = grid.count_incidents(cells, pts)
    assert out["n_incidents"].sum() == 1
    assert out.loc[(out["row"] == 0) & (out["col"] == 0), "n_incidents"].item() == 1


def test_hex_counts_match_sjoin(crs):
    rng = np.random.default_rng(4)
    area = _rect(crs, 2000, 1500)
    cells = grid.grid_from_boundary(area, cell_size_m=150, kind="hex")
    xy = np.c_[rng.uniform(500_000, 502_000, 2000), rng.uniform(5_700_000, 5_701_500, 2000)]
    pts = _points(xy, crs)
    out = grid.count_incidents(cells, pts)
    joined = gpd.sjoin(pts, cells, predicate="within")
    expected = joined.groupby("cell_id").size().reindex(cells["cell_id"], fill_value=0).to_numpy()
    assert np.array_equal(out["n_incidents"].to_numpy(), expected)
    # square grid by index arithmetic agrees with sjoin too
    sq = grid.grid_from_boundary(area, cell_size_m=150)
    out = grid.count_incidents(sq, pts)
    joined = gpd.sjoin(pts, sq, predicate="within")
    expected = joined.groupby("cell_id").size().reindex(sq["cell_id"], fill_value=0).to_numpy()
    assert np.array_equal(out["n_incidents"].to_numpy(), expected)


def test_geographic_crs_is_an_error():
    area = gpd.GeoDataFrame(geometry=[shapely.box(-0.2, 51.4, 0.0, 51.6)], crs="EPSG:4326")
    with pytest.raises(CRSError, match="not a projected CRS"):
        grid.grid_from_boundary(area, cell_size_m=100)
    with pytest.raises(CRSError):
        grid.auto_cell_size(area)
    cells = grid.grid_from_boundary(_rect("EPSG:32630"), cell_size_m=100)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([-0.1], [51.5]), crs="EPSG:4326")
    with pytest.raises(CRSError):
        grid.count_incidents(cells, pts)
    with pytest.raises(CRSError):
        grid.study_area_from_incidents(pts)


def test_geographic_input_transformed_first_gives_same_grid():
    """Transforming lon/lat to the analysis CRS first (as the pipeline does) gives a metric grid."""
    area_ll = gpd.GeoDataFrame(geometry=[shapely.box(-3.0, 51.45, -2.98, 51.47)], crs="EPSG:4326")
    area = area_ll.to_crs("EPSG:32630")
    cells = grid.grid_from_boundary(area, cell_size_m=100)
    assert cells["area_m2"].sum() == pytest.approx(area.area.iloc[0], rel=1e-9)


def test_study_area_from_incidents(crs):
    pts = _points([[500_000, 5_700_000], [501_000, 5_700_000], [500_500, 5_701_000]], crs)
    sa = grid.study_area_from_incidents(pts, buffer_m=100)
    assert sa.geometry.iloc[0].contains(pts.geometry).all()
    assert sa.geometry.iloc[0].area > 500_000
    assert sa.attrs["params"]["buffer_m"] == 100


def test_bad_inputs():
    with pytest.raises(ValidationError):
        grid.grid_from_boundary(
            gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)], crs="EPSG:32630"), cell_size_m=10
        )
    with pytest.raises(Exception, match="cell_size_m"):
        grid.grid_from_boundary(_rect("EPSG:32630"), cell_size_m=-1)
    with pytest.raises(Exception, match="kind"):
        grid.grid_from_boundary(_rect("EPSG:32630"), cell_size_m=10, kind="tri")
