"""Exposure metrics against hand-worked fixtures and a naive geopandas overlay."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _constants import ATOL, RTOL
from affine import Affine
from geopandas.testing import assert_geodataframe_equal
from numpy.testing import assert_allclose
from pyproj import CRS
from shapely.geometry import LineString, Point, box

from planner import _geom
from planner.errors import CRSError
from planner.exposure import (
    camera_viewsheds,
    exposure_for_cells,
    exposure_for_hotspots,
    exposure_for_polygons,
    exposure_profile,
    zonal_stats,
)
from planner.surface import Surface


def _gdf(crs: str, geoms: list, **cols) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=geoms, crs=crs)


def _street_cell(crs: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """One 100 m × 100 m cell with a 100 m street along its middle, from (0, 0) to (100, 0)."""
    cells = _gdf(crs, [box(0, -50, 100, 50)], cell_id=[0])
    streets = _gdf(crs, [LineString([(0, 0), (100, 0)])], street_id=[1])
    return cells, streets


def test_lamp_of_radius_20_lights_40_percent_of_a_100_m_street(crs: str) -> None:
    """A working lamp at (50, 0) with a 20 m radius lights [30, 70]: 40 m of 100 m = 40 %."""
    cells, streets = _street_cell(crs)
    lamps = _gdf(crs, [Point(50, 0)], lamp_id=[1], status=["working"])
    out = exposure_for_polygons(cells, {"streets": streets, "street_lights": lamps})
    assert out.loc[0, "street_lights__lit_share"] == pytest.approx(0.4)
    assert out.loc[0, "street_lights__unlit_length_m"] == pytest.approx(60.0)


def test_broken_lamps_do_not_light_and_overlaps_count_once(crs: str) -> None:
    """Working lamps at x=10 and x=25 (radius 20) light [0, 45] = 45 m; a broken lamp at 80 lights
    nothing but is counted in n_broken."""
    cells, streets = _street_cell(crs)
    lamps = _gdf(
        crs,
        [Point(10, 0), Point(25, 0), Point(80, 0)],
        lamp_id=[1, 2, 3],
        status=["working", "Working", "broken"],
    )
    out = exposure_for_polygons(cells, {"streets": streets, "street_lights": lamps})
    assert out.loc[0, "street_lights__lit_length_m"] == pytest.approx(45.0)
    assert out.loc[0, "street_lights__n_broken"] == 1
    assert out.loc[0, "street_lights__n_working"] == 2


def test_camera_facing_east_does_not_see_a_point_to_its_west() -> None:
    """Camera at the origin, direction 90° (east), 90° field of view, 100 m range:
    (50, 0) east is seen, (-50, 0) west is not, (50, 60) is outside the 45° half-angle."""
    points = np.array([[50.0, 0.0], [-50.0, 0.0], [50.0, 60.0]])
    pi, _ = _geom.visible_pairs(
        points, np.array([[0.0, 0.0]]), np.array([90.0]), np.array([90.0]), np.array([100.0])
    )
    assert list(pi) == [0]


def test_a_building_blocks_a_sight_line() -> None:
    """A 10 m building at x ∈ [40, 50], y ∈ [-5, 5] hides (80, 0) from a camera at the origin
    facing east; (80, 40) is still seen past the building's corner."""
    points = np.array([[80.0, 0.0], [80.0, 40.0]])
    building = np.array([box(40, -5, 50, 5)])
    args = (points, np.array([[0.0, 0.0]]), np.array([90.0]), np.array([90.0]), np.array([100.0]))
    assert list(_geom.visible_pairs(*args)[0]) == [0, 1]
    assert list(_geom.visible_pairs(*args, buildings=building)[0]) == [1]


def test_camera_street_coverage_cut_by_building(crs: str) -> None:
    """Two cells along a street from x=0 to x=200; a camera at (100, 0) faces east (fov 90°,
    range 100 m); a building at x ∈ [140, 150] blocks the rest: 40 m of the east cell is seen,
    none of the west cell."""
    cells = _gdf(crs, [box(0, -50, 100, 50), box(100, -50, 200, 50)], cell_id=[0, 1])
    streets = _gdf(crs, [LineString([(0, 0), (200, 0)])])
    cams = _gdf(crs, [Point(100, 0)], camera_id=[1], direction_deg=[90.0], fov_deg=[90.0], range_m=[100.0])
    buildings = _gdf(crs, [box(140, -5, 150, 5)])
    layers = {"streets": streets, "cameras": cams, "buildings": buildings}
    out = exposure_for_polygons(cells, layers)
    assert_allclose(out["cameras__covered_length_m"], [0.0, 40.0], atol=0.5)
    no_building = exposure_for_polygons(cells, {"streets": streets, "cameras": cams})
    assert_allclose(no_building["cameras__covered_share"], [0.0, 1.0], atol=0.01)


def test_camera_without_direction_is_a_disc_and_said_so(crs: str) -> None:
    """No direction column: the camera at (100, 0) with range 30 m sees 30 m on each side."""
    cells = _gdf(crs, [box(0, -50, 100, 50), box(100, -50, 200, 50)], cell_id=[0, 1])
    streets = _gdf(crs, [LineString([(0, 0), (200, 0)])])
    cams = _gdf(crs, [Point(100, 0)], camera_id=[1], range_m=[30.0])
    out = exposure_for_polygons(cells, {"streets": streets, "cameras": cams})
    assert_allclose(out["cameras__covered_length_m"], [30.0, 30.0], atol=1.0)
    assert list(out["cameras__n_direction_unknown"]) == [1, 1]
    assert "no direction" in out.attrs["notes"][0]


def test_viewshed_polygon_excludes_the_building_shadow(crs: str) -> None:
    """The visible area of an east-facing camera loses the building and the shadow behind it."""
    cams = _gdf(crs, [Point(0, 0)], camera_id=[1], direction_deg=[90.0], fov_deg=[90.0], range_m=[100.0])
    buildings = _gdf(crs, [box(40, -5, 50, 5)])
    open_view = camera_viewsheds(cams)
    cut = camera_viewsheds(cams, buildings=buildings)
    assert open_view.area.iloc[0] == pytest.approx(np.pi * 100**2 / 4, rel=1e-3)
    assert cut.area.iloc[0] < open_view.area.iloc[0] - 100
    seen = cut.geometry.iloc[0]
    assert not seen.contains(Point(80, 0)) and seen.contains(Point(80, 40))
    assert not seen.contains(Point(-50, 0))
    assert bool(cut["occluded"].iloc[0]) and cut["method"].iloc[0] == "sector"


def test_point_metrics_and_generators(crs: str) -> None:
    """Two 100 m cells; bars at (10, 10) and (20, 20) in cell 0: count 2, 200 per km²; cell 1's
    nearest bar is 80 m away (from x=100 to x=20); within 200 m of both cells lie both bars."""
    cells = _gdf(crs, [box(0, 0, 100, 100), box(100, 0, 200, 100)], cell_id=[0, 1])
    bars = _gdf(crs, [Point(10, 10), Point(20, 20)])
    out = exposure_for_polygons(cells, {"licensed_premises": bars})
    assert list(out["licensed_premises__count"]) == [2, 0]
    assert_allclose(out["licensed_premises__per_km2"], [200.0, 0.0], rtol=RTOL)
    assert_allclose(out["licensed_premises__nearest_m"], [0.0, 80.0], rtol=RTOL, atol=ATOL)
    assert list(out["licensed_premises__n_within_radius"]) == [2, 2]
    assert list(out["generators__count"]) == [2, 0]


def test_polygon_area_share(crs: str) -> None:
    """A 50 m × 100 m car park covers half of cell 0 and is 0 m from cell 1 (touching)."""
    cells = _gdf(crs, [box(0, 0, 100, 100), box(100, 0, 200, 100)], cell_id=[0, 1])
    parks = _gdf(crs, [box(50, 0, 100, 100)])
    out = exposure_for_polygons(cells, {"car_parks": parks})
    assert_allclose(out["car_parks__area_share"], [0.5, 0.0], atol=ATOL)
    assert_allclose(out["car_parks__nearest_m"], [0.0, 0.0], atol=ATOL)


def test_lux_zonal_stats_north_up() -> None:
    """A 2×2 raster of 10 m pixels, north-up, top-left at (0, 20): row 0 (north) = [1, 2],
    row 1 (south) = [3, NaN]. The north half cell has mean 1.5 and min 1; the south half 3."""
    surf = Surface(
        array=np.array([[1.0, 2.0], [3.0, np.nan]]),
        transform=Affine(10, 0, 0, 0, -10, 20),
        crs=CRS.from_user_input("EPSG:32630"),
        name="lux",
        units="lux",
    )
    geoms = np.array([box(0, 10, 20, 20), box(0, 0, 20, 10), box(1, 1, 2, 2)])
    mean, minimum = zonal_stats(surf, geoms)
    assert_allclose(mean, [1.5, 3.0, 3.0])
    assert_allclose(minimum, [1.0, 3.0, 3.0])
    cells = gpd.GeoDataFrame(geometry=list(geoms[:2]), crs="EPSG:32630")
    out = exposure_for_polygons(cells, {"lighting": surf})
    assert_allclose(out["lighting__mean_lux"], [1.5, 3.0])
    assert_allclose(out["lighting__min_lux"], [1.0, 3.0])


def test_crs_gate(crs: str) -> None:
    cells, streets = _street_cell(crs)
    with pytest.raises(CRSError, match="share the polygons' CRS"):
        exposure_for_polygons(cells, {"streets": streets.to_crs("EPSG:3035")})
    with pytest.raises(CRSError, match="not a projected CRS"):
        exposure_for_polygons(cells.to_crs("EPSG:4326"), {})


def test_inputs_not_mutated_and_index_kept(crs: str) -> None:
    cells, streets = _street_cell(crs)
    cells.index = pd.Index([7])
    lamps = _gdf(crs, [Point(50, 0)], status=["working"])
    before = cells.copy()
    out = exposure_for_cells(cells, {"streets": streets, "street_lights": lamps})
    hot = exposure_for_hotspots(
        cells.assign(hotspot_id=["H01"]), {"street_lights": lamps, "streets": streets}
    )
    assert list(out.index) == [7] and "street_lights__lit_share" in out and "hotspot_id" in hot
    assert_geodataframe_equal(cells, before)
    profile = exposure_profile(out.iloc[0])
    assert {"street_lights", "streets"} <= set(profile["layer"])


def test_lit_length_matches_naive_geopandas_overlay() -> None:
    """Random streets and lamps: the vectorised lit length equals streets ∩ union(lamp buffers)."""
    rng = np.random.default_rng(5)
    crs = "EPSG:32630"
    cells = gpd.GeoDataFrame(
        geometry=[box(x, y, x + 100, y + 100) for x in range(0, 400, 100) for y in range(0, 400, 100)],
        crs=crs,
    )
    ends = rng.uniform(0, 400, size=(30, 2, 2))
    streets = gpd.GeoDataFrame(geometry=list(shapely.linestrings(ends)), crs=crs)
    lamps = gpd.GeoDataFrame(
        {"status": ["working"] * 60}, geometry=gpd.points_from_xy(*rng.uniform(0, 400, (2, 60))), crs=crs
    )
    out = exposure_for_polygons(cells, {"streets": streets, "street_lights": lamps})
    lit_area = lamps.buffer(20, quad_segs=256).union_all()
    pieces = gpd.overlay(streets, cells.reset_index(), how="intersection", keep_geom_type=True)
    naive = pieces.intersection(lit_area).length.groupby(pieces["index"]).sum()
    naive = naive.reindex(cells.index, fill_value=0.0)
    assert_allclose(out["street_lights__lit_length_m"], naive, rtol=1e-3, atol=0.05)
    total = pieces.length.groupby(pieces["index"]).sum().reindex(cells.index, fill_value=0.0)
    assert_allclose(out["streets__length_m"], total, rtol=RTOL, atol=1e-6)


def test_cli_exposure_writes_columns(tmp_path, capsys) -> None:
    """``planner exposure --json`` on the one-street fixture reports the 40 % lit share."""
    import json

    from planner.cli import main

    cells, streets = _street_cell("EPSG:32630")
    lamps = _gdf("EPSG:32630", [Point(50, 0)], lamp_id=[1], status=["working"])
    cells.to_file(tmp_path / "cells.gpkg", layer="cells")
    streets.to_file(tmp_path / "streets.gpkg")
    lamps.to_file(tmp_path / "lamps.gpkg")
    code = main(
        [
            "exposure",
            "--cells",
            f"{tmp_path / 'cells.gpkg'}::cells",
            "--layer",
            f"streets={tmp_path / 'streets.gpkg'}",
            "--layer",
            f"street_lights={tmp_path / 'lamps.gpkg'}",
            "--out",
            str(tmp_path / "out"),
            "--json",
        ]
    )
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert "street_lights__lit_share" in payload["columns"]
    table = pd.read_csv(tmp_path / "out" / "exposure_cells.csv")
    assert table["street_lights__lit_share"].iloc[0] == pytest.approx(0.4)


def test_cli_exposure_bad_layer_argument(tmp_path, capsys) -> None:
    from planner.cli import main

    cells, _ = _street_cell("EPSG:32630")
    cells.to_file(tmp_path / "cells.gpkg")
    code = main(
        ["exposure", "--cells", str(tmp_path / "cells.gpkg"), "--layer", "lamps.gpkg", "--out", str(tmp_path)]
    )
    assert code == 2
    assert "KIND=PATH" in capsys.readouterr().err


def test_dask_partitions_give_the_same_result() -> None:
    """The random-town exposure computed in 3 Dask partitions equals the single-machine result."""
    pytest.importorskip("dask_geopandas")
    from planner.exposure import exposure_for_polygons_dask

    rng = np.random.default_rng(9)
    crs = "EPSG:32630"
    cells = gpd.GeoDataFrame(
        geometry=[box(x, y, x + 100, y + 100) for x in range(0, 500, 100) for y in range(0, 500, 100)],
        crs=crs,
    )
    streets = gpd.GeoDataFrame(geometry=list(shapely.linestrings(rng.uniform(0, 500, (15, 2, 2)))), crs=crs)
    lamps = gpd.GeoDataFrame(
        {"status": rng.choice(["working", "broken"], 40)},
        geometry=gpd.points_from_xy(*rng.uniform(0, 500, (2, 40))),
        crs=crs,
    )
    cams = gpd.GeoDataFrame(
        {"direction_deg": [45.0, 200.0], "fov_deg": [90.0, 120.0], "range_m": [80.0, 60.0]},
        geometry=[Point(100, 100), Point(400, 300)],
        crs=crs,
    )
    layers = {"streets": streets, "street_lights": lamps, "cameras": cams}
    single = exposure_for_polygons(cells, layers)
    parted = exposure_for_polygons_dask(cells, layers, npartitions=3)
    pd.testing.assert_frame_equal(parted.sort_index(), single, check_dtype=False)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_disc_covered_length_matches_dense_sampling(seed: int) -> None:
    """Exact interval merging agrees with 0.01 m sampling on random segments and overlapping discs."""
    rng = np.random.default_rng(seed)
    ends = rng.uniform(0, 100, (20, 2, 2))
    seg = _geom.Segments(ends[:, 0, 0], ends[:, 0, 1], ends[:, 1, 0], ends[:, 1, 1], np.arange(20))
    centres = rng.uniform(0, 100, (25, 2))
    radii = rng.uniform(5, 25, 25)
    exact = _geom.disc_covered_length(seg, centres, radii)
    pts, weights, which = _geom.sample_segments(seg, step_m=0.01)
    d2 = ((pts[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
    inside = (d2 <= radii[None, :] ** 2).any(axis=1)
    sampled = np.bincount(which, weights=weights * inside, minlength=20)
    assert_allclose(exact, sampled, atol=0.05)
