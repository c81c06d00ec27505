"""Issue #24, items 2 and 4: ingest never reaches the network (a local HTTP server counts the
requests GDAL makes), and parsers are bounded from metadata before decoding (a 20,000-column CSV
and a Parquet bomb are refused in seconds)."""

from __future__ import annotations

import http.server
import json
import threading
import time

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from planner.cli import main
from planner.config import RunConfig
from planner.errors import DataLoadError
from planner.io import read_incidents, read_table
from planner.io.limits import UPLOAD_LIMITS, SourceLimits, source_limits
from planner.io.offline import offline_libraries
from planner.io.profile import profile_columns
from planner.io.sources import allow_virtual_sources
from planner.pipeline import run

_UTM30N = (
    'PROJCS["WGS 84 / UTM zone 30N",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,'
    '298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION['
    '"Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",-3],'
    'PARAMETER["scale_factor",0.9996],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],'
    'UNIT["metre",1]]'
)


@pytest.fixture
def http_server():
    """A server on 127.0.0.1 that answers every GET with a WKT and counts the requests."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            body = _UTM30N.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_HEAD = do_GET  # noqa: N815  (the name http.server calls)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def _crs_link_geojson(path, url):
    features = [
        {
            "type": "Feature",
            "properties": {"date": f"2024-01-0{i + 1}", "category": "burglary"},
            "geometry": {"type": "Point", "coordinates": [500_000 + 10 * i, 5_000_000 + 10 * i]},
        }
        for i in range(5)
    ]
    crs = {"type": "link", "properties": {"href": f"{url}/crs.wkt", "type": "ogcwkt"}}
    path.write_text(json.dumps({"type": "FeatureCollection", "crs": crs, "features": features}))
    return path


def test_a_geojson_crs_link_makes_no_request(tmp_path, http_server, capsys):
    url, hits = http_server
    path = _crs_link_geojson(tmp_path / "incidents.geojson", url)
    with pytest.raises(DataLoadError, match="never fetches URLs") as caught:
        read_table(path)
    assert f"{url}/crs.wkt" in str(caught.value) and "EPSG:32630" in str(caught.value)
    with pytest.raises(DataLoadError, match="never fetches URLs"):
        read_incidents(path)
    with source_limits(UPLOAD_LIMITS), pytest.raises(DataLoadError, match="never fetches URLs"):
        run(RunConfig(incidents=str(path)))  # what the dashboard runs on an upload
    assert main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err
    assert "never fetches URLs" in err and "Traceback" not in err
    assert hits == []
    assert offline_libraries()


def test_network_paths_are_refused_even_when_virtual_sources_are_allowed(http_server):
    url, hits = http_server
    for path in (f"/vsicurl/{url}/a.geojson", f"{url}/a.geojson", f"/vsizip//vsicurl/{url}/a.zip/a.shp"):
        with allow_virtual_sources(), pytest.raises(DataLoadError, match="over the network"):
            read_table(path)
        with pytest.raises(DataLoadError, match="URL or GDAL virtual file system"):
            read_table(path)
    assert hits == []


def test_gdal_itself_cannot_reach_the_network(http_server):
    """Below the planner's own path checks: GDAL asked directly fetches nothing."""
    import pyogrio

    url, hits = http_server
    with pytest.raises(pyogrio.errors.DataSourceError):
        pyogrio.read_info(f"/vsicurl/{url}/a.geojson")
    assert hits == []


def test_the_rasterio_gdal_is_offline_too(tmp_path):
    import numpy as np
    from affine import Affine
    from pyproj import CRS

    from planner.surface import Surface, read_surface

    surface = Surface(np.ones((2, 2)), Affine(10, 0, 500_000, 0, -10, 5_000_000), CRS(32630), "lux")
    surface.to_geotiff(tmp_path / "lux.tif")
    read_surface(tmp_path / "lux.tif")
    assert any("rasterio" in path for path in offline_libraries())


# ------------------------------------------------------------------ bounded parsers
def test_a_20000_column_csv_is_refused_in_seconds(tmp_path):
    path = tmp_path / "wide.csv"
    header = ",".join(["x", "y", "date", *(f"c{i}" for i in range(19_997))])
    row = ",".join(["500000", "5000000", "2024-01-01", *(["7"] * 19_997)])
    path.write_text("\n".join([header, *([row] * 50)]) + "\n")
    assert path.stat().st_size > 1_900_000
    start = time.perf_counter()
    with pytest.raises(DataLoadError) as caught:
        read_incidents(path, crs="EPSG:32630")
    elapsed = time.perf_counter() - start
    message = str(caught.value)
    assert str(path) in message and "20,000 columns" in message and "limit is 500" in message
    assert "Keep only the columns you need" in message
    assert elapsed < 5, elapsed


def test_a_parquet_bomb_is_refused_from_its_metadata(tmp_path):
    path = tmp_path / "bomb.parquet"
    chunk = pa.table({"x": pa.array([1.0] * 1_000_000), "category": pa.array(["theft"] * 1_000_000)})
    with pq.ParquetWriter(path, chunk.schema, compression="zstd") as writer:
        for _ in range(30):  # 30 M constant rows, dictionary/RLE encoded
            writer.write_table(chunk)
    assert path.stat().st_size < 2_000_000
    start = time.perf_counter()
    with pytest.raises(DataLoadError, match="30,000,000 rows; the limit is 20,000,000"):
        read_table(path)
    assert time.perf_counter() - start < 3
    bigger = SourceLimits(max_rows=10**9, max_cells=10**6)
    with source_limits(bigger), pytest.raises(DataLoadError, match="cells"):
        read_table(path)


def test_wide_parquet_and_many_cells_are_refused(tmp_path):
    wide = tmp_path / "wide.parquet"
    pq.write_table(pa.table({f"c{i}": [1] for i in range(600)}), wide)
    with pytest.raises(DataLoadError, match="600 columns; the limit is 500"):
        read_table(wide)
    csv = tmp_path / "cells.csv"
    pd.DataFrame({"a": range(100), "b": range(100)}).to_csv(csv, index=False)
    with source_limits(SourceLimits(max_cells=150)), pytest.raises(DataLoadError, match="200 cells"):
        read_table(csv)


def test_profiling_refuses_a_frame_with_too_many_columns():
    frame = pd.DataFrame([[1] * 501])
    with pytest.raises(DataLoadError, match="501 columns; the limit is 500"):
        profile_columns(frame)
    assert len(profile_columns(frame.iloc[:, :20])) == 20


def test_a_wide_workbook_is_refused_from_its_first_row(tmp_path):
    import openpyxl

    book = openpyxl.Workbook(write_only=True)  # writes no <dimension>: openpyxl would parse it all
    sheet = book.create_sheet()
    sheet.append([f"c{i}" for i in range(16_000)])
    sheet.append([7] * 16_000)
    path = tmp_path / "wide.xlsx"
    book.save(path)
    start = time.perf_counter()
    with pytest.raises(DataLoadError, match="16,000 columns; the limit is 500"):
        read_table(path)
    assert time.perf_counter() - start < 5
    small = openpyxl.Workbook()
    small.active.append(["x", "y", "date"])
    small.active.append([500_000, 5_000_000, "2024-01-01"])
    small.save(tmp_path / "small.xlsx")
    assert read_table(tmp_path / "small.xlsx").shape == (1, 3)
    with source_limits(SourceLimits(max_rows=0)), pytest.raises(DataLoadError, match="1 rows"):
        read_table(tmp_path / "small.xlsx")
