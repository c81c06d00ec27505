"""Every export format read back (pyogrio / rasterio / pyarrow) and compared with the source tables.

Uses the hand-built tiny plan (six 100 m cells, six incidents, hotspot H01 with four incidents).
"""

from __future__ import annotations

import json
import sqlite3
import zipfile
from xml.etree import ElementTree

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pyogrio
import pytest
import rasterio
from _export_helpers import CSS_IMPORT, EXTERNAL_ASSET, assert_columns_equal, assert_geometries_equal
from _tiny_plan import tiny_plan

from planner.errors import ConfigError, DataLoadError
from planner.export import FORMATS, export_plan, read_plan, write_run_outputs
from planner.export.formats import shapefile_field_names
from planner.export.privacy import apply_privacy
from planner.export.publish import export_tables, normalised_plan, parse_formats


@pytest.fixture(scope="module", params=["internal", "public"])
def exported(request, tmp_path_factory):
    """An export of the tiny plan in every format, with the tables it was made from (k = 3)."""
    out = tmp_path_factory.mktemp(f"export_{request.param}")
    plan = tiny_plan()
    written = export_plan(plan, out, privacy=request.param, k=3)
    published, report = apply_privacy(normalised_plan(plan), privacy=request.param, k=3)
    return out, written, export_tables(published, report), published, request.param


def test_every_format_written(exported):
    _, written, _, _, _ = exported
    assert set(written) == {*FORMATS, "manifest"}


def test_geopackage_layers_match_tables(exported):
    out, _, tables, _, privacy = exported
    layers = {str(n) for n in pyogrio.list_layers(out / "plan.gpkg")[:, 0]}
    assert set(tables) | {"layer_styles"} == layers
    assert ("incidents" in layers) == (privacy == "internal")
    for name, table in tables.items():
        read = pyogrio.read_dataframe(out / "plan.gpkg", layer=name)
        assert_columns_equal(read, table)
        if isinstance(table, gpd.GeoDataFrame):
            assert read.crs == table.crs
            assert_geometries_equal(read, table, tolerance_m=1e-6)
        meta = pyogrio.read_info(out / "plan.gpkg", layer=name)["layer_metadata"]
        assert meta["planner_privacy"].startswith(privacy.upper())
    assert pyogrio.read_info(out / "plan.gpkg", layer="cells")["dataset_metadata"]["planner_privacy"]


def test_geopackage_layer_styles(exported):
    out, _, tables, _, _ = exported
    with sqlite3.connect(out / "plan.gpkg") as con:
        cols = [r[1] for r in con.execute("PRAGMA table_info(layer_styles)")]
        rows = con.execute(
            "SELECT f_table_name, f_geometry_column, styleName, styleQML, styleSLD, useAsDefault FROM layer_styles"
        ).fetchall()
        contents = {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}
        geometry_columns = dict(
            con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall()
        )
    for needed in (
        "f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName", "styleQML",
        "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time",
    ):  # fmt: skip
        assert needed in cols
    styled = {r[0] for r in rows}
    spatial = {n for n, t in tables.items() if isinstance(t, gpd.GeoDataFrame)}
    assert styled == spatial  # one row per styled (spatial) layer
    assert len(rows) == len(styled)
    assert all(geometry_columns[r[0]] == r[1] for r in rows)  # styles bind to the real geometry column
    assert "layer_styles" in contents
    for row in rows:  # well-formed XML that QGIS (QML) and OGC clients (SLD) can parse
        qml, sld = ElementTree.fromstring(row[3]), ElementTree.fromstring(row[4])
        assert qml.tag == "qgis" and qml.find("renderer-v2") is not None
        assert sld.tag.endswith("StyledLayerDescriptor")
    cells = next(r for r in rows if r[0] == "cells")
    assert cells[1] == "geom" and cells[5] == 1
    assert 'attr="gi_bin"' in cells[3] and "178,24,43" in cells[3]  # #b2182b, the maps.py hot colour
    assert "#b2182b" in cells[4]


def test_geojson_is_wgs84_and_matches(exported):
    out, _, tables, _, privacy = exported
    for name, table in tables.items():
        path = out / "geojson" / f"{name}.geojson"
        if not isinstance(table, gpd.GeoDataFrame):
            assert not path.exists()
            continue
        read = pyogrio.read_dataframe(path)
        assert read.crs.to_epsg() == 4326
        assert_columns_equal(read, table)
        assert_geometries_equal(read, table, tolerance_m=0.05)
        assert json.loads(path.read_text())["description"].startswith(privacy.upper())


def test_shapefile_zip_with_field_mapping(exported):
    out, _, tables, _, _ = exported
    mapping = pd.read_csv(out / "shapefile" / "field_names.csv")
    assert json.loads((out / "shapefile" / "field_names.json").read_text())
    assert (mapping["shapefile_field"].str.len() <= 10).all()
    for name, table in tables.items():
        if not isinstance(table, gpd.GeoDataFrame):
            continue
        path = out / "shapefile" / f"{name}.shp.zip"
        with zipfile.ZipFile(path) as zf:
            assert {f"{name}.{ext}" for ext in ("shp", "shx", "dbf", "prj", "cpg")} <= set(zf.namelist())
        read = pyogrio.read_dataframe(f"/vsizip/{path}/{name}.shp")
        own = mapping[mapping["layer"] == name]
        columns = dict(zip(own["column"], own["shapefile_field"], strict=True))
        source = table.copy()
        for col in source.columns:
            if pd.api.types.is_datetime64_any_dtype(source[col]):
                source[col] = source[col].dt.strftime("%Y-%m-%dT%H:%M:%S")
        assert_columns_equal(read, source, columns)
        assert_geometries_equal(read, table, tolerance_m=1e-6)


def test_kml_flatgeobuf_geoparquet_match(exported):
    out, _, tables, _, privacy = exported
    for name, table in tables.items():
        pq_table = pq.read_table(out / "geoparquet" / f"{name}.parquet")
        assert pq_table.schema.metadata[b"planner_privacy"].decode().startswith(privacy.upper())
        if not isinstance(table, gpd.GeoDataFrame):
            assert_columns_equal(pq_table.to_pandas(), table)
            continue
        assert b"geo" in pq_table.schema.metadata
        parquet = gpd.read_parquet(out / "geoparquet" / f"{name}.parquet")
        assert parquet.crs == table.crs
        assert_columns_equal(parquet, table)
        assert_geometries_equal(parquet, table, tolerance_m=1e-6)
        kml = pyogrio.read_dataframe(out / "kml" / f"{name}.kml")
        assert kml.crs.to_epsg() == 4326
        assert_geometries_equal(kml, table, tolerance_m=0.05)
        assert (kml["privacy"] == table["privacy"].iloc[0]).all()
        # FlatGeobuf stores features in spatial-index (Hilbert) order: compare by id
        fgb = pyogrio.read_dataframe(out / "flatgeobuf" / f"{name}.fgb")
        keys = [c for c in ("incident_id", "cell_id", "hotspot_id", "intervention_id") if c in table.columns]
        ordered = table
        if keys:
            fgb = fgb.sort_values(keys).reset_index(drop=True)
            ordered = table.sort_values(keys).reset_index(drop=True)
        assert fgb.crs == ordered.crs
        assert_columns_equal(fgb, ordered)
        assert_geometries_equal(fgb, ordered, tolerance_m=1e-6)


def test_csv_tables_match(exported):
    out, _, tables, _, _ = exported
    for name, table in tables.items():
        read = pd.read_csv(out / "csv" / f"{name}.csv")
        source = pd.DataFrame(table.drop(columns="geometry", errors="ignore"))
        assert list(read.columns) == list(source.columns)
        assert_columns_equal(read, source.drop(columns=["occurred_at"], errors="ignore"))


def test_rasters_are_cloud_optimised(exported):
    out, _, _, published, privacy = exported
    for name, surface in published.surfaces.items():
        with rasterio.open(out / "rasters" / f"{name}.tif") as src:
            assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
            assert src.crs.to_epsg() == 32630
            assert src.transform == surface.transform
            assert src.tags()["planner_privacy"].startswith(privacy.upper())
            read = src.read(1, masked=True).filled(float("nan"))
        pd.testing.assert_frame_equal(pd.DataFrame(read), pd.DataFrame(surface.array).astype("float32"))


def test_html_map_is_self_contained(exported):
    out, _, _, _, privacy = exported
    html = (out / "map.html").read_text(encoding="utf-8")
    assert not EXTERNAL_ASSET.search(html)
    assert not CSS_IMPORT.search(html)
    assert "tile.openstreetmap" not in html
    assert "planner-privacy" in html and privacy.upper() in html
    assert "H01" in html


def test_manifest_lists_files_with_checksums(exported):
    out, written, _, _, privacy = exported
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["privacy"] == privacy
    assert manifest["export"]["privacy"]["level"] == privacy
    assert manifest["export"]["privacy"]["k"] == 3
    files = {f["path"] for f in manifest["export"]["files"]}
    expected = {p.relative_to(out).as_posix() for k, ps in written.items() if k != "manifest" for p in ps}
    assert files == expected
    assert all(len(f["sha256"]) == 64 for f in manifest["export"]["files"])
    assert {"config", "parameters", "inputs", "libraries", "planner_version", "created_at"} <= set(manifest)
    assert manifest["parameters"]["cell_size_m"] == 100.0


def test_read_plan_round_trip(tmp_path):
    plan = tiny_plan()
    write_run_outputs(plan, tmp_path)
    back = read_plan(tmp_path)
    assert back.crs == plan.crs
    assert list(back.cells["n_incidents"]) == list(plan.cells["n_incidents"])
    assert list(back.incidents["incident_id"]) == list(plan.incidents["incident_id"])
    assert set(back.surfaces) == {"density"}
    assert back.params["bandwidth_m"] == 150.0


def test_read_plan_errors_name_the_problem(tmp_path):
    with pytest.raises(DataLoadError, match="does not exist"):
        read_plan(tmp_path / "nope")
    with pytest.raises(DataLoadError, match=r"plan\.gpkg is missing"):
        read_plan(tmp_path)
    write_run_outputs(tiny_plan(), tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(DataLoadError, match="not valid JSON"):
        read_plan(tmp_path)


def test_format_names_are_checked():
    assert parse_formats("gpkg, CSV") == ["gpkg", "csv"]
    assert parse_formats(["all"]) == list(FORMATS)
    with pytest.raises(ConfigError, match=r"Unknown export format.*pdf"):
        parse_formats("gpkg,pdf")


def test_shapefile_names_are_short_and_unique():
    cols = [f"street_lights__n_within_radius_{i}" for i in range(12)] + ["n_incidents", "privacy"]
    names = shapefile_field_names(cols)
    assert all(len(v) <= 10 for v in names.values())
    assert len({v.lower() for v in names.values()}) == len(cols)
    assert names["privacy"] == "privacy"
