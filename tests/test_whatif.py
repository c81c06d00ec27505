"""What-if edits: each edit changes exactly what it should, and partial recomputation equals a
full recomputation."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from shapely.geometry import LineString, Point, box

from planner.errors import ValidationError
from planner.exposure import exposure_for_polygons
from planner.exposure.whatif import (
    add_camera,
    add_lamps,
    affected_polygons,
    apply_edit,
    close_access,
    exposure_change,
    fix_lamp,
    reexpose,
    turn_camera,
)


def _strip(crs: str) -> tuple[gpd.GeoDataFrame, dict]:
    """Three 100 m cells along a 300 m street (y = 0). Lamp 1 (working) at x=50, lamp 2 (broken)
    at x=150; camera 1 at (150, 0) facing east (fov 90°, range 40 m); access points A at (250, 10)
    and B at (260, 10)."""
    cells = gpd.GeoDataFrame(
        {"cell_id": [0, 1, 2]}, geometry=[box(x, -50, x + 100, 50) for x in (0, 100, 200)], crs=crs
    )
    layers = {
        "streets": gpd.GeoDataFrame(geometry=[LineString([(0, 0), (300, 0)])], crs=crs),
        "street_lights": gpd.GeoDataFrame(
            {"lamp_id": ["L1", "L2"], "status": ["working", "broken"]},
            geometry=[Point(50, 0), Point(150, 0)],
            crs=crs,
        ),
        "cameras": gpd.GeoDataFrame(
            {"camera_id": ["C1"], "direction_deg": [90.0], "fov_deg": [90.0], "range_m": [40.0]},
            geometry=[Point(150, 0)],
            crs=crs,
        ),
        "access_points": gpd.GeoDataFrame(
            {"access_id": ["A", "B"], "kind": ["gate", "footpath"]},
            geometry=[Point(250, 10), Point(260, 10)],
            crs=crs,
        ),
    }
    return exposure_for_polygons(cells, layers).pipe(cells.join), layers


def test_fix_lamp_lights_its_cell_only(crs: str) -> None:
    """Fixing L2 lights [130, 170] = 40 % of cell 1; cells 0 and 2 are not recomputed."""
    cells, layers = _strip(crs)
    edited = apply_edit(layers, fix_lamp("L2"))
    assert list(layers["street_lights"]["status"]) == ["working", "broken"]  # input untouched
    mask = affected_polygons(cells, layers, edited)
    assert list(mask) == [False, True, False]
    after = reexpose(cells, layers, edited)
    assert_allclose(after["street_lights__lit_share"], [0.4, 0.4, 0.0])
    assert list(after["street_lights__n_broken"]) == [0, 0, 0]
    assert after.attrs["whatif_affected"] == [1]
    change = exposure_change(cells, after)
    assert set(change["place"]) == {1}


def test_add_lamps_along_a_street(crs: str) -> None:
    """Lamps every 40 m from (200, 0) to (300, 0): at 200, 240, 280 with radius 20 light all of
    cell 2's street ([200, 300]) and 20 m of cell 1 ([180, 200])."""
    cells, layers = _strip(crs)
    edited = apply_edit(layers, add_lamps(LineString([(200, 0), (300, 0)]), spacing_m=40))
    assert len(edited["street_lights"]) == 5
    after = reexpose(cells, layers, edited)
    assert_allclose(after["street_lights__lit_share"], [0.4, 0.2, 1.0])


def test_turn_and_add_camera(crs: str) -> None:
    """C1 turned west sees [110, 150] of cell 1 instead of [150, 190]; a new camera at (250, 0)
    facing east sees 40 m of cell 2."""
    cells, layers = _strip(crs)
    assert_allclose(cells["cameras__covered_length_m"], [0.0, 40.0, 0.0], atol=0.5)
    turned = apply_edit(layers, turn_camera("C1", 270))
    after = reexpose(cells, layers, turned)
    assert_allclose(after["cameras__covered_length_m"], [0.0, 40.0, 0.0], atol=0.5)
    assert after.attrs["whatif_affected"] == [1]
    added = apply_edit(layers, add_camera(Point(250, 0), 90.0, fov_deg=90.0, range_m=40.0))
    after = reexpose(cells, layers, added)
    assert_allclose(after["cameras__covered_length_m"], [0.0, 40.0, 40.0], atol=0.5)


def test_close_access(crs: str) -> None:
    cells, layers = _strip(crs)
    edited = apply_edit(layers, close_access("A"))
    after = reexpose(cells, layers, edited)
    assert list(after["access_points__count"]) == [0, 0, 1]
    with pytest.raises(ValidationError, match="no access point with id 'Z'"):
        apply_edit(layers, close_access("Z"))


def test_partial_recompute_equals_full_recompute() -> None:
    """On a random 1 km town, re-exposing only the affected cells after fixing a lamp and turning
    a camera gives exactly the full recomputation."""
    rng = np.random.default_rng(3)
    crs = "EPSG:32630"
    cells = gpd.GeoDataFrame(
        geometry=[box(x, y, x + 100, y + 100) for x in range(0, 1000, 100) for y in range(0, 1000, 100)],
        crs=crs,
    )
    streets = gpd.GeoDataFrame(
        geometry=[LineString([(0, y), (1000, y)]) for y in range(50, 1000, 100)]
        + [LineString([(x, 0), (x, 1000)]) for x in range(50, 1000, 100)],
        crs=crs,
    )
    lamps = gpd.GeoDataFrame(
        {"lamp_id": [f"L{i}" for i in range(80)], "status": rng.choice(["working", "broken"], 80)},
        geometry=gpd.points_from_xy(*rng.uniform(0, 1000, (2, 80))),
        crs=crs,
    )
    cams = gpd.GeoDataFrame(
        {
            "camera_id": ["C0", "C1"],
            "direction_deg": [0.0, 180.0],
            "fov_deg": [90.0, 60.0],
            "range_m": [80.0, 60.0],
        },
        geometry=[Point(450, 450), Point(750, 250)],
        crs=crs,
    )
    layers = {"streets": streets, "street_lights": lamps, "cameras": cams}
    before = cells.join(exposure_for_polygons(cells, layers))
    broken = lamps.loc[lamps["status"] == "broken", "lamp_id"].iloc[0]
    edited = apply_edit(apply_edit(layers, fix_lamp(broken)), turn_camera("C0", 135))
    partial = reexpose(before, layers, edited)
    full = exposure_for_polygons(cells, edited)
    assert len(partial.attrs["whatif_affected"]) < len(cells)
    pd.testing.assert_frame_equal(
        partial[full.columns].astype(float), full.astype(float), check_exact=False, atol=1e-6
    )
