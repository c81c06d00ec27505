"""Layer specs: every bundled file (top-level ``layers/``) loads, names match files, bad files fail with
clear messages; a user's own folder of specs is added (``--layers-dir``, ``layer_dirs``)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import geopandas as gpd
import pytest
from _paths import ROOT
from shapely.geometry import LineString, Point

from planner.cli import main
from planner.cli._options import parse_layers
from planner.errors import ConfigError, LayerDefinitionError, ValidationError
from planner.exposure import layers as layers_mod
from planner.exposure.layers import (
    LAYERS_DIR,
    PALETTE,
    ROLES,
    LayerSpec,
    bundled_layers_dir,
    known_layer_kinds,
    load_registry,
    map_layer,
    read_spec,
    user_layer_dirs,
)

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


def test_specs_live_in_the_top_level_layers_folder() -> None:
    """The product's layout: ``layers/`` next to the package, one TOML file per kind."""
    folder = ROOT / "layers"
    assert folder.is_dir() and LAYERS_DIR == folder == bundled_layers_dir()
    assert {p.stem for p in folder.glob("*.toml")} >= REQUIRED_KINDS
    assert not (ROOT / "planner" / "exposure" / "specs").exists()


def test_an_installed_package_reads_its_own_copy_first(tmp_path: Path, monkeypatch) -> None:
    installed = tmp_path / "layer_specs"
    installed.mkdir()
    (installed / "benches.toml").write_text(GOOD.format(name="benches"))
    monkeypatch.setattr(layers_mod, "INSTALLED_LAYERS_DIR", installed)
    assert bundled_layers_dir() == installed
    assert set(load_registry()) == {"benches"}


def test_no_specs_anywhere_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(layers_mod, "INSTALLED_LAYERS_DIR", tmp_path / "a")
    monkeypatch.setattr(layers_mod, "SOURCE_LAYERS_DIR", tmp_path / "b")
    with pytest.raises(LayerDefinitionError, match="layer specs are missing"):
        load_registry()


def test_user_layer_dirs_reach_every_registry_inside_the_block(tmp_path: Path) -> None:
    (tmp_path / "benches.toml").write_text(GOOD.format(name="benches"))
    assert "benches" not in load_registry()
    with user_layer_dirs([tmp_path]) as dirs, user_layer_dirs([tmp_path]) as again:
        assert dirs == again == (tmp_path,)  # a folder already in effect is not added twice
        assert "benches" in load_registry() and "benches" in known_layer_kinds()
    assert "benches" not in load_registry()


def test_a_user_spec_replaces_a_shipped_kind_of_the_same_name(tmp_path: Path) -> None:
    shipped = (LAYERS_DIR / "transit_stops.toml").read_text()
    spec = load_registry()["transit_stops"]
    own = GOOD.format(name="transit_stops").replace("radius_m = 50.0", "radius_m = 77.0")
    (tmp_path / "transit_stops.toml").write_text(own)
    replaced = load_registry(extra_dirs=[tmp_path])["transit_stops"]
    assert replaced.path == tmp_path / "transit_stops.toml" and spec.path != replaced.path
    assert replaced.radius_m == pytest.approx(77.0)
    assert (LAYERS_DIR / "transit_stops.toml").read_text() == shipped  # the shipped file is untouched


def test_missing_user_folder_is_one_message(tmp_path: Path, capsys) -> None:
    assert main(["layers", "--layers-dir", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and "--layers-dir" in err and "Traceback" not in err


def test_planner_layers_lists_a_user_kind_from_layers_dir(tmp_path: Path, capsys) -> None:
    (tmp_path / "benches.toml").write_text(GOOD.format(name="benches"))
    assert main(["layers"]) == 0
    plain = capsys.readouterr().out
    assert "benches" not in plain and "street_lights (" in plain and str(LAYERS_DIR) in plain
    assert main(["layers", "--layers-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "benches (point, generator, acts as density within 50 m)" in out and "street_lights (" in out
    assert main(["layers", "--json", "--layers-dir", str(tmp_path)]) == 0
    rows = {r["kind"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["benches"]["spec"] == str(tmp_path / "benches.toml")
    assert {p.stem for p in LAYERS_DIR.glob("*.toml")} < set(rows)


def test_layer_option_accepts_a_kind_from_layers_dir(tmp_path: Path) -> None:
    (tmp_path / "benches.toml").write_text(GOOD.format(name="benches"))
    with pytest.raises(ConfigError, match="--layers-dir"):
        parse_layers(["benches=b.csv"])
    assert parse_layers(["benches=b.csv"], layer_dirs=[str(tmp_path)]) == {"benches": "b.csv"}


def test_run_measures_a_user_kind_and_records_its_folder(tmp_path: Path) -> None:
    """`planner run --layers-dir DIR --layer benches=...`: the user's kind is measured per cell, the
    manifest records the folder, and `--config manifest.json` reuses it."""
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "benches.toml").write_text(GOOD.format(name="benches"))
    crimes = tmp_path / "crimes.csv"
    rows = [
        f"{-1.15 + (i % 7) * 0.002:.4f},{52.95 + (i % 5) * 0.002:.4f},2023-0{1 + i % 9}-1{i % 10},Burglary"
        for i in range(80)
    ]
    crimes.write_text("lon,lat,date,offence\n" + "\n".join(rows) + "\n")
    benches = tmp_path / "benches.csv"
    benches.write_text("lon,lat\n-1.146,52.954\n-1.142,52.952\n-1.139,52.957\n")
    out = tmp_path / "out"
    args = ["run", "--incidents", str(crimes), "--layers-dir", str(specs), "--layer", f"benches={benches}"]
    assert main([*args, "--out", str(out)]) == 0
    config = json.loads((out / "manifest.json").read_text())["config"]
    assert config["layer_dirs"] == [str(specs)] and config["layers"] == {"benches": str(benches)}
    cells = gpd.read_file(out / "plan.gpkg", layer="cells")
    assert "benches__n_within_radius" in cells.columns and cells["benches__count"].sum() > 0
    assert main(["run", "--config", str(out / "manifest.json"), "--out", str(tmp_path / "again")]) == 0
