"""Layer specs: every bundled file loads, names match files, bad files fail with clear messages."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point

from planner.errors import LayerDefinitionError, ValidationError
from planner.exposure.layers import LAYERS_DIR, PALETTE, ROLES, LayerSpec, load_registry, map_layer, read_spec

REQUIRED_KINDS = {
    "street_lights",
    "lighting",
    "cameras",
    "access_points",
    "transit_stops",
    "licensed_premises",
    "cash_machines",
    "late_shops",
    "vacant_buildings",
    "vegetation",
    "streets",
    "buildings",
    "car_parks",
    "street_light_outages",
}
INTERVENTION_IDS = {
    "lighting",
    "cctv_carpark",
    "cctv_residential",
    "cctv_centre",
    "alley_gates",
    "locks_wd",
    "locks_wd_e",
    "sbd",
    "rv_cocoon",
    "vegetation_cutback",
    "carpark_access_control",
    "hotspot_patrol",
}

GOOD = """
name = "{name}"
title = "Benches"
geometry_type = "point"
role = "generator"
acts_as = "density"
radius_m = 50.0
addressed_by = ["hotspot_patrol"]

[style]
color = "#E69F00"
"""


def test_every_bundled_file_loads_and_keys_match_files() -> None:
    registry = load_registry()
    files = {p.stem for p in LAYERS_DIR.glob("*.toml")}
    assert set(registry) == files
    assert files >= REQUIRED_KINDS
    for name, spec in registry.items():
        assert isinstance(spec, LayerSpec)
        assert spec.name == name
        assert spec.role in ROLES
        assert spec.style.color in PALETTE
        assert set(spec.addressed_by) <= INTERVENTION_IDS, name


def test_specs_are_frozen() -> None:
    spec = load_registry()["street_lights"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.radius_m = 5.0  # type: ignore[misc]


def test_outage_reports_are_a_lighting_deficit() -> None:
    spec = load_registry()["street_light_outages"]
    assert spec.deficit and spec.role == "guardian" and "lighting" in spec.addressed_by


def test_user_adds_a_kind_by_adding_a_file(tmp_path: Path) -> None:
    (tmp_path / "benches.toml").write_text(GOOD.format(name="benches"))
    registry = load_registry(extra_dirs=[tmp_path])
    assert registry["benches"].radius_m == 50.0
    assert "street_lights" in registry


def test_bad_file_lists_every_problem_and_names_the_file(tmp_path: Path) -> None:
    bad = GOOD.format(name="other").replace('role = "generator"', 'role = "villain"')
    bad = bad.replace("#E69F00", "#123456").replace("radius_m = 50.0", "radius_m = -1")
    path = tmp_path / "benches.toml"
    path.write_text(bad)
    with pytest.raises(LayerDefinitionError) as info:
        read_spec(path)
    text = str(info.value)
    assert "benches.toml" in text
    for fragment in ("'name'", "'role'", "'radius_m'", "colour-blind-safe"):
        assert fragment in text


def test_bad_toml_syntax(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text("name = [")
    with pytest.raises(LayerDefinitionError, match="not valid TOML"):
        read_spec(path)


def test_map_layer_renames_and_recodes(crs: str) -> None:
    """A council lamp register with its own column names becomes a street_lights layer."""
    user = gpd.GeoDataFrame(
        {"OBJECTID": [1, 2], "STATE": ["ON", "OUT"]}, geometry=[Point(0, 0), Point(5, 5)], crs=crs
    )
    out = map_layer(
        user,
        "street_lights",
        columns={"OBJECTID": "lamp_id", "STATE": "status"},
        values={"status": {"ON": "working", "OUT": "broken"}},
    )
    assert list(out["status"]) == ["working", "broken"]
    assert out.attrs["layer_kind"] == "street_lights"
    assert list(user.columns) == ["OBJECTID", "STATE", "geometry"]  # input untouched


def test_map_layer_rejects_wrong_geometry_and_unknown_kind(crs: str) -> None:
    lines = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1, 1)])], crs=crs)
    with pytest.raises(ValidationError, match="point geometries"):
        map_layer(lines, "street_lights", columns={"nope": "status"})
    with pytest.raises(ValidationError, match="no layer kind"):
        map_layer(lines, "unicorns")
