"""Ingest sandbox (issue #17): each file is opened only as what its extension says; VRT/GDALG
content, GDAL virtual file systems and URLs, compression bombs, XML entity bombs and oversized
files get one clear refusal; PostGIS table names are quoted; passwords never reach a manifest;
text from the data is escaped in HTML."""

from __future__ import annotations

import gzip
import io
import json
import time
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _paths import SAMPLE, require_service
from _postgis import postgis_available, postgis_server
from _tiny_plan import X0, Y0, tiny_plan

from planner.cli import main
from planner.errors import DataLoadError
from planner.io import read_incidents, read_table
from planner.io.sources import (
    SourceLimits,
    allow_virtual_sources,
    quote_table_name,
    redact_secrets,
    source_limits,
)

VRT = """<OGRVRTDataSource>
  <OGRVRTLayer name="passwd">
    <SrcDataSource>CSV:/etc/passwd</SrcDataSource>
  </OGRVRTLayer>
</OGRVRTDataSource>
"""


def _one_error(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("[")]
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    assert "Traceback" not in err
    return lines[0]


# ------------------------------------------------------------------ the three acceptance cases
def test_vrt_inside_a_geojson_is_refused(tmp_path, capsys):
    evil = tmp_path / "incidents.geojson"
    evil.write_text(VRT)
    with pytest.raises(DataLoadError, match="virtual dataset \\(VRT\\)"):
        read_table(evil)
    assert main(["run", "--incidents", str(evil), "--out", str(tmp_path / "out")]) == 2
    message = _one_error(capsys)
    assert "VRT" in message and "--allow-virtual-sources" in message and "root:" not in message
    assert not (tmp_path / "out").exists()


@pytest.mark.filterwarnings("ignore:HTTP response code")
def test_vsicurl_path_is_refused_unless_opted_in(tmp_path, capsys):
    url = "/vsicurl/http://127.0.0.1:9/incidents.geojson"
    with pytest.raises(DataLoadError, match="virtual file system"):
        read_table(url)
    assert main(["run", "--incidents", url, "--out", str(tmp_path / "out")]) == 2
    assert "virtual file system" in _one_error(capsys)
    for other in (
        "/vsizip//tmp/x.zip/a.shp",
        "https://example.org/a.geojson",
        "PG:dbname=x",
        "/vsis3/b/k.csv",
    ):
        with pytest.raises(DataLoadError, match="URL or GDAL virtual file system"):
            read_table(other)
    # opted in, a network path is still refused: ingest has no network (issue #24)
    with allow_virtual_sources(), pytest.raises(DataLoadError, match="read over the network"):
        read_table(url)


def _gzip_bomb(path, *, gib: float = 1.0) -> int:
    """A multi-member gzip expanding to ``gib`` GiB, written from one 1 MiB member (~1 KB) repeated:
    nothing close to a gigabyte is ever in memory or on disk."""
    member = gzip.compress(b"0" * (1 << 20), compresslevel=9)
    with path.open("wb") as fh:
        for _ in range(int(gib * 1024)):
            fh.write(member)
    return path.stat().st_size


def test_gzip_bomb_is_refused_without_expanding_it(tmp_path, capsys):
    bomb = tmp_path / "incidents.csv.gz"
    size = _gzip_bomb(bomb)
    assert size < 4 << 20  # a few MB on disk for 1 GiB of content
    start = time.perf_counter()
    with pytest.raises(DataLoadError, match="compression bomb"):
        read_table(bomb)
    assert time.perf_counter() - start < 30  # stopped after ~100× the file, not 1 GiB
    assert main(["run", "--incidents", str(bomb), "--out", str(tmp_path / "out")]) == 2
    assert "compression bomb" in _one_error(capsys)


# ------------------------------------------------------------------ more refusals
def test_caps_on_expanded_size_rows_and_vertices(tmp_path):
    csv = tmp_path / "many.csv"
    pd.DataFrame({"x": range(20), "y": range(20), "date": ["2024-01-01"] * 20}).to_csv(csv, index=False)
    with (
        source_limits(SourceLimits(max_rows=10)),
        pytest.raises(DataLoadError, match="20 rows; the limit is 10"),
    ):
        read_table(csv)
    poly = shapely.Point(0, 0).buffer(100, quad_segs=256)  # 1,025 vertices
    path = tmp_path / "area.geojson"
    gpd.GeoDataFrame(geometry=[poly], crs=32630).to_file(path)
    with source_limits(SourceLimits(max_vertices=100)), pytest.raises(DataLoadError, match="vertices"):
        read_table(path)
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("a.shp", "w") as fh:
        for _ in range(40):
            fh.write(b"\0" * (1 << 20))  # 40 MiB of zeros, ~40 KB compressed
    with pytest.raises(DataLoadError, match="compression bomb"):
        read_table(archive)
    with (
        source_limits(SourceLimits(max_bytes=1 << 20)),
        pytest.raises(DataLoadError, match="expands to more than 1 MiB"),
    ):
        read_table(archive)


def test_content_must_match_the_extension(tmp_path):
    fake = tmp_path / "plan.gpkg"
    fake.write_text("x,y\n1,2\n")
    with pytest.raises(DataLoadError, match=r"extension \.gpkg but its content is plain text"):
        read_table(fake)
    zipped = tmp_path / "table.csv"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("a.txt", "hello")
    with pytest.raises(DataLoadError, match=r"extension \.csv"):
        read_table(zipped)
    gdalg = tmp_path / "a.geojson"
    gdalg.write_text(
        json.dumps({"type": "gdal_streamed_alg", "command_line": "gdal vector read /etc/passwd"})
    )
    with pytest.raises(DataLoadError, match="GDALG"):
        read_table(gdalg)
    kml = tmp_path / "a.kml"
    kml.write_text(
        '<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]><kml>&x;</kml>'
    )
    with pytest.raises(DataLoadError, match="DOCTYPE"):
        read_table(kml)
    shp_zip = tmp_path / "layer.zip"
    with zipfile.ZipFile(shp_zip, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("layer.shp", VRT)
    with pytest.raises(DataLoadError, match="not a shapefile"):
        read_table(shp_zip)


def test_a_vrt_named_tif_is_not_read_as_a_raster(tmp_path):
    from planner.io import read_layers
    from planner.surface import read_surface

    evil = tmp_path / "lux.tif"
    evil.write_text(
        '<VRTDataset rasterXSize="1" rasterYSize="1"><VRTRasterBand dataType="Byte" band="1">'
        "<SimpleSource><SourceFilename>/etc/hostname</SourceFilename></SimpleSource>"
        "</VRTRasterBand></VRTDataset>"
    )
    with pytest.raises(DataLoadError, match="VRT"):
        read_surface(evil)
    with pytest.raises(DataLoadError, match="VRT"):
        read_layers({"lighting": str(evil)}, analysis_crs="EPSG:32630")


def _xlsx_with(sheet_xml: bytes, path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["x", "y", "date"])
    wb.active.append([1, 2, "2024-01-01"])
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            dst.writestr(item, sheet_xml if item.filename == "xl/worksheets/sheet1.xml" else data)


def test_xml_entity_bomb_in_excel_is_refused(tmp_path):
    laughs = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    sheet = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY l0 "lol">' + laughs + "]>"
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>&l9;</t></is></c></row></sheetData></worksheet>'
    ).encode()
    bomb = tmp_path / "incidents.xlsx"
    _xlsx_with(sheet, bomb)
    with pytest.raises(DataLoadError, match="entity declarations"):
        read_table(bomb)
    good = tmp_path / "good.xlsx"
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["x", "y"])
    wb.active.append([1, 2])
    wb.save(good)
    assert read_table(good).shape == (1, 2)


# ------------------------------------------------------------------ SQL and secrets
def test_table_names_are_quoted_identifiers():
    assert quote_table_name("incidents") == '"incidents"'
    assert quote_table_name("police.incidents") == '"police"."incidents"'
    assert quote_table_name('x"; DROP TABLE y; --') == '"x""; DROP TABLE y; --"'
    with pytest.raises(DataLoadError, match=r"TABLE or SCHEMA\.TABLE"):
        quote_table_name("a.b.c")


def test_passwords_are_redacted_everywhere():
    text = "postgresql://analyst:s3cret@db:5432/x and host=db password=s3cret dbname=x; PWD='s3 cret'"
    got = redact_secrets({"a": [text], "b": (text,)})
    assert "s3cret" not in json.dumps(got) and "s3 cret" not in json.dumps(got)
    assert "analyst:***@db" in got["a"][0]


@pytest.fixture(scope="module")
def pg_url():
    require_service(postgis_available(), "PostgreSQL 15 + PostGIS (apt-get install postgresql-15-postgis-3)")
    with postgis_server() as url:
        yield url


@pytest.mark.postgis
def test_postgis_table_name_cannot_inject_sql_and_no_password_is_written(pg_url, tmp_path):
    from sqlalchemy import create_engine, inspect

    from planner.io import engine_url

    source = read_incidents(SAMPLE / "incidents.csv", crs="EPSG:32630").incidents.head(300)
    table = source[["incident_id", "occurred_at", "category", "geometry"]].rename_geometry("geom")
    engine = create_engine(engine_url(pg_url))
    table.to_postgis('odd "name"', engine, if_exists="replace", index=False)
    table.to_postgis("keep_me", engine, if_exists="replace", index=False)
    back = read_incidents(pg_url, layer='odd "name"')
    assert back.report.rows_accepted == 300
    with pytest.raises(DataLoadError, match="Could not read from PostGIS"):
        read_incidents(pg_url, layer='keep_me"; DROP TABLE "keep_me"; --')
    assert "keep_me" in inspect(engine).get_table_names()
    # a URL with a password (trust authentication ignores it): messages never show it
    url = pg_url.replace("postgres@", "postgres:s3cret@")
    with pytest.raises(DataLoadError) as caught:
        read_incidents(url, layer="no_such_table")
    assert "s3cret" not in str(caught.value) and "127.0.0.1" in str(caught.value)


def test_a_run_folder_manifest_never_holds_a_password(tmp_path):
    import dataclasses

    from planner.config import RunConfig
    from planner.export import write_run_outputs

    url = "postgresql://analyst:s3cret@db.example:5432/police"
    plan = dataclasses.replace(
        tiny_plan(),
        config=RunConfig(incidents=url),
        inputs=[{"path": url, "sha256": None, "bytes": None}],
        ingest_report={**tiny_plan().ingest_report, "source": url},
        warnings=[f"{url}: 3 rows quarantined"],
    )
    written = write_run_outputs(plan, tmp_path / "run")
    text = written["manifest"].read_text()
    assert "s3cret" not in text and "analyst:***@db.example" in text


# ------------------------------------------------------------------ HTML escaping
def test_text_from_the_data_is_escaped_in_the_map_and_the_brief(tmp_path):
    import dataclasses

    from planner.export import export_plan
    from planner.maps import map_to_html, plan_map

    evil = "<img src=x onerror=alert(1)>"
    plan = tiny_plan()
    lamps = plan.layers["street_lights"].assign(status=[evil, "broken"])
    lamps["<b>col</b>"] = ["a", "b"]
    hotspots = plan.hotspots.assign(top_category=[evil])
    incidents = plan.incidents.assign(category=[evil] * 6)
    plan = dataclasses.replace(
        plan, layers={"street_lights": lamps, f"kind{evil}": lamps}, hotspots=hotspots, incidents=incidents
    )
    html = map_to_html(plan_map(plan, show_incidents=True, local_assets=False), None, self_contained=False)
    assert evil not in html and "<b>col</b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html or "\\u0026lt;img" in html
    export_plan(plan, tmp_path, formats="brief,html", privacy="internal", k=3)
    for name in ("brief.html", "map.html"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert evil not in text, name


def test_overlay_script_json_cannot_close_the_script():
    from planner.maps.overlay import js_json

    assert "</script>" not in js_json({"a": "</script><script>alert(1)</script>"})
    assert json.loads(js_json({"a": "<&>"})) == {"a": "<&>"}


def test_sample_city_still_reads(tmp_path):
    assert len(read_table(SAMPLE / "incidents.csv")) > 1000
    assert np.isfinite(read_incidents(SAMPLE / "incidents.csv", crs="EPSG:32630").incidents.geometry.x).all()
    point = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(X0, Y0)], crs=32630)
    for suffix in (".geojson", ".gpkg", ".fgb", ".shp"):
        path = tmp_path / f"p{suffix}"
        point.to_file(path)
        assert len(read_table(path)) == 1
