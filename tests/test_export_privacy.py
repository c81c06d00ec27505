"""Privacy levels: public exports hold no incident points, no count below k and no vertex within
0.1 m of an incident; internal exports hold the incidents and say so everywhere."""

from __future__ import annotations

import dataclasses
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
from _export_helpers import published_counts
from _paths import shared_path
from _tiny_plan import X0, Y0, tiny_plan
from shapely.geometry import Point, box

from planner.config import RunConfig
from planner.errors import ConfigError
from planner.export import export_plan
from planner.export.privacy import apply_privacy, clear_vertices, incident_xy, min_vertex_distance

VECTOR_READERS = {
    "plan.gpkg": None,
    "geojson": ".geojson",
    "flatgeobuf": ".fgb",
    "kml": ".kml",
}


def test_public_suppresses_small_counts_and_hotspots():
    plan = tiny_plan()
    public, report = apply_privacy(plan, privacy="public", k=5)
    assert len(public.incidents) == 0
    assert len(public.hotspots) == 0  # H01 has 4 < 5 incidents
    assert report.hotspots_suppressed == ["H01"]
    assert public.cells["n_incidents"].isna().all()
    assert public.cells["hotspot_id"].isna().all()
    assert report.cells_suppressed == 6
    # the tiny plan itself is not modified
    assert len(plan.incidents) == 6 and plan.cells["n_incidents"].tolist() == [1, 0, 0, 0, 4, 1]


def test_public_with_lower_k_keeps_hotspot_and_nulls_small_profile_entries():
    public, report = apply_privacy(tiny_plan(), privacy="public", k=3)
    assert public.hotspots["hotspot_id"].tolist() == ["H01"]
    assert public.cells["n_incidents"].tolist()[4] == 4
    assert json.loads(public.hotspots["category_mix"].iloc[0]) == {"robbery": 3, "assault": None}
    assert report.profile_entries_suppressed == 1
    assert all(v >= 3 for v in published_counts(public.cells) + published_counts(public.hotspots))


def test_rounding_never_shows_a_count_below_k():
    plan = tiny_plan()
    plan.cells["n_incidents"] = [12, 0, 0, 0, 7, 5]
    public, _ = apply_privacy(plan, privacy="public", k=5, round_to=10)
    assert public.cells["n_incidents"].tolist()[4:] == [10, 10]
    assert public.cells["n_incidents"].tolist()[0] == 10
    assert public.cells["n_incidents"].iloc[1:4].isna().all()


def test_density_below_k_incidents_is_blanked():
    plan = tiny_plan()
    public, report = apply_privacy(plan, privacy="public", k=5)
    # quartic peak of one incident with h = 150 m over one year, times k
    threshold = 5 * 3 / (np.pi * 150**2) * 1e6
    assert report.density_threshold == pytest.approx(threshold)
    arr = public.surfaces["density"].array
    assert np.isnan(arr[np.asarray(plan.surfaces["density"].array) < threshold]).all()


def test_vertices_on_incidents_are_moved_and_shared_corners_stay_shared():
    """Two cells share the corner (100, 0); an incident sits exactly on it, another 5 cm from (200, 100)."""
    cells = gpd.GeoDataFrame(
        {"cell_id": [0, 1]},
        geometry=[box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 100, Y0, X0 + 200, Y0 + 100)],
        crs=32630,
    )
    incidents = gpd.GeoDataFrame(geometry=[Point(X0 + 100, Y0), Point(X0 + 200.05, Y0 + 100)], crs=32630)
    xy = incident_xy(incidents)
    assert min_vertex_distance(cells, xy) < 0.1
    cleared, moved, dropped = clear_vertices(cells, xy, clearance_m=0.1)
    assert dropped == 0 and moved >= 3  # the shared corner twice (two rings), and the 5 cm one
    assert min_vertex_distance(cleared, xy) >= 0.45
    shared = cleared.geometry.iloc[0].intersection(cleared.geometry.iloc[1])
    assert shared.length > 99  # still one common edge, no gap
    assert cleared.geometry.is_valid.all()
    assert abs(cleared.area.sum() - 20000) < 100  # a 0.5 m move of a corner of 100 m cells


def test_internal_keeps_incidents_and_counts():
    plan = tiny_plan()
    internal, report = apply_privacy(plan, privacy="internal", k=5)
    assert len(internal.incidents) == 6
    assert internal.cells["n_incidents"].tolist() == [1, 0, 0, 0, 4, 1]
    assert report.note.startswith("INTERNAL")


def test_bad_privacy_options_are_config_errors():
    with pytest.raises(ConfigError, match="privacy"):
        apply_privacy(tiny_plan(), privacy="secret")
    with pytest.raises(ConfigError, match="k must be"):
        apply_privacy(tiny_plan(), privacy="public", k=0)


def _vector_files(out):
    yield "gpkg", out / "plan.gpkg"
    for folder, ext in (
        ("geojson", "geojson"),
        ("flatgeobuf", "fgb"),
        ("kml", "kml"),
        ("geoparquet", "parquet"),
    ):
        yield from ((folder, p) for p in sorted((out / folder).glob(f"*.{ext}")))
    yield from (("shapefile", p) for p in sorted((out / "shapefile").glob("*.shp.zip")))


def _read_all(kind, path):
    if kind == "gpkg":
        return {str(n): pyogrio.read_dataframe(path, layer=str(n)) for n in pyogrio.list_layers(path)[:, 0]}
    if kind == "geoparquet":
        try:
            return {path.stem: gpd.read_parquet(path)}
        except ValueError:  # attribute table without geometry
            return {path.stem: pd.read_parquet(path)}
    if kind == "shapefile":
        name = path.name.removesuffix(".shp.zip")
        return {name: pyogrio.read_dataframe(f"/vsizip/{path}/{name}.shp")}
    return {path.stem: pyogrio.read_dataframe(path)}


@pytest.fixture(scope="module")
def chicago(tmp_path_factory):
    """Chicago residential burglaries, Oct–Dec 2017 (2,566 incidents, EPSG:26971): plan, public and
    internal exports (k = 5)."""
    from planner.pipeline import run

    csv = shared_path("data", "chicago_burglary_2014_2017", "chicago_burglary_2014_2017.csv")
    plan = run(RunConfig(incidents=str(csv), crs="EPSG:26971", date_from="2017-10-01", date_to="2018-01-01"))
    out = tmp_path_factory.mktemp("chicago")
    formats = "gpkg,geojson,shp,kml,fgb,parquet,cog,csv,html"
    export_plan(plan, out / "public", formats=formats, privacy="public", k=5)
    export_plan(plan, out / "internal", formats="gpkg,csv", privacy="internal", k=5)
    return plan, out


def test_chicago_public_export_has_no_vertex_near_an_incident(chicago):
    plan, out = chicago
    xy = incident_xy(plan.incidents)
    assert len(xy) > 2000
    checked = 0
    for kind, path in _vector_files(out / "public"):
        for name, frame in _read_all(kind, path).items():
            assert name != "incidents"
            if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.isna().all():
                continue
            assert min_vertex_distance(frame.to_crs(plan.crs), xy) >= 0.1, (kind, name)
            checked += 1
    assert checked >= 5 * 3  # study area, cells, hotspots in five formats at least
    manifest = json.loads((out / "public" / "manifest.json").read_text())
    rules = " ".join(manifest["export"]["privacy"]["rules"])
    assert "0.1 m" in rules and "fewer than 5" in rules
    assert manifest["privacy"] == "public" and manifest["k_min"] == 5


def test_chicago_public_export_has_no_count_below_k(chicago):
    plan, out = chicago
    public = out / "public"
    seen = 0
    for kind, path in _vector_files(public):
        for _name, frame in _read_all(kind, path).items():
            counts = published_counts(frame)
            assert all(c >= 5 for c in counts), (kind, path.name, min(counts))
            seen += len(counts)
    for csv in sorted((public / "csv").glob("*.csv")):
        counts = published_counts(pd.read_csv(csv))
        assert all(c >= 5 for c in counts), csv.name
    assert seen > 100
    # suppression really happened on this data set: many cells have fewer than 5 burglaries
    cells = pd.read_csv(public / "csv" / "cells.csv")
    assert cells["n_incidents"].isna().sum() == int((plan.cells["n_incidents"] < 5).sum()) > 0
    # density pixels below 5 incidents' worth are blank
    manifest = json.loads((public / "manifest.json").read_text())
    threshold = manifest["export"]["privacy"]["density_threshold"]
    with rasterio.open(public / "rasters" / "density.tif") as src:
        arr = src.read(1, masked=True).compressed()
    assert len(arr) and arr.min() >= threshold * (1 - 1e-6)
    html = (public / "map.html").read_text(encoding="utf-8")
    assert "PUBLIC" in html and "incident_id" not in html  # no incident layer


def test_chicago_internal_export_contains_incidents(chicago):
    plan, out = chicago
    internal = out / "internal"
    layers = {str(n) for n in pyogrio.list_layers(internal / "plan.gpkg")[:, 0]}
    assert "incidents" in layers
    incidents = pyogrio.read_dataframe(internal / "plan.gpkg", layer="incidents")
    assert len(incidents) == len(plan.incidents)
    assert (incidents["privacy"] == "internal - not for publication").all()
    meta = pyogrio.read_info(internal / "plan.gpkg", layer="incidents")["layer_metadata"]
    assert meta["planner_privacy"].startswith("INTERNAL")
    assert pd.read_csv(internal / "csv" / "incidents.csv").shape[0] == len(plan.incidents)


def test_export_moves_grid_corner_that_coincides_with_an_incident(tmp_path):
    """An incident exactly on the corner (100, 100) shared by cells 0, 1, 3 and 4 and by H01."""
    plan = tiny_plan()
    corner = Point(X0 + 100, Y0 + 100)
    extra = gpd.GeoDataFrame(
        {
            "incident_id": ["corner"],
            "occurred_at": [pd.Timestamp("2024-03-10 10:00")],
            "category": ["robbery"],
        },
        geometry=[corner],
        crs=plan.crs,
    )
    plan = dataclasses.replace(plan, incidents=pd.concat([plan.incidents, extra], ignore_index=True))
    xy = incident_xy(plan.incidents)
    assert min_vertex_distance(plan.cells, xy) == 0.0
    written = export_plan(plan, tmp_path, formats="gpkg,geojson", privacy="public", k=3)
    manifest = json.loads(written["manifest"][0].read_text())
    assert manifest["export"]["privacy"]["vertices_moved"] >= 5
    for layer in ("cells", "hotspots", "study_area"):
        frame = pyogrio.read_dataframe(tmp_path / "plan.gpkg", layer=layer)
        assert min_vertex_distance(frame, xy) >= 0.1
        web = pyogrio.read_dataframe(tmp_path / "geojson" / f"{layer}.geojson").to_crs(plan.crs)
        assert min_vertex_distance(web, xy) >= 0.1
    assert len(pyogrio.read_dataframe(tmp_path / "plan.gpkg", layer="cells")) == 6


def test_measures_resting_on_fewer_than_k_crimes_are_left_out():
    plan = tiny_plan()
    plan.params["period_years"] = 2.0
    recs = pd.DataFrame(
        {"hotspot_id": ["H01", "H01", "H02"], "name": ["a", "b", "c"], "baseline_per_year": [2.0, 1.0, 9.0]}
    )
    plan = dataclasses.replace(plan, recommendations=recs)
    public, report = apply_privacy(plan, privacy="public", k=3)
    # a: 2/yr × 2 yr = 4 ≥ 3 kept; b: 2 < 3 left out; c kept (its hotspot is not suppressed here)
    assert public.recommendations["name"].tolist() == ["a", "c"]
    assert report.measures_suppressed == 1


def test_public_manifest_hides_rare_category_counts(tmp_path):
    plan = tiny_plan()
    plan.ingest_report["fitness"] = {"categories": {"robbery": 3, "burglary": 2, "assault": 1}}
    written = export_plan(plan, tmp_path, formats="csv", privacy="public", k=3)
    manifest = json.loads(written["manifest"][0].read_text())
    assert manifest["ingest"]["fitness"]["categories"] == {"robbery": 3, "burglary": None, "assault": None}
    assert plan.ingest_report["fitness"]["categories"]["assault"] == 1  # the plan is unchanged
