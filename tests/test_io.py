"""Ingest: every real dataset loads; a corpus of malformed inputs ends cleanly; rows reconcile."""

from __future__ import annotations

import gzip
import json
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from _paths import SAMPLE, shared_path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon

from planner.cli import main
from planner.errors import CRSError, DataLoadError, DroppedGeometryWarning, PlannerError, ValidationError
from planner.io import parse_dates, read_incidents, read_layer, read_raster

NOW = "2026-01-01"


def test_sample_city_loads():
    r = read_incidents(SAMPLE / "incidents.csv", crs="EPSG:32630")
    assert r.report.rows_read == r.report.rows_accepted == len(r.incidents)
    assert r.incidents.crs.to_epsg() == 32630
    assert r.report.time_resolution == "minute"
    assert {"incident_id", "occurred_at", "category", "location_type", "x", "y"} <= set(r.incidents.columns)


REAL = [
    ("chicago_burglary_2014_2017/chicago_burglary_2014_2017.csv", "EPSG:26971", 45319, "day"),
    ("memphis_robbery_2019/memphis_robberies_2019.csv", None, 2245, "minute"),
    ("uk_nottingham_2022/nottingham_burglary_2022.csv", None, 1795, "month"),
    ("uk_nottingham_2022/nottingham_robbery_2022.csv", None, 555, "month"),
    ("san_francisco_robbery_2019/san_francisco_robbery_2019.csv", None, 951, "minute"),
    ("chicago_2017_overlay/burglaries_2017.csv", None, 6876, "none"),
]


@pytest.mark.parametrize(("rel", "crs", "rows", "resolution"), REAL, ids=[r[0].split("/")[0] for r in REAL])
def test_real_datasets_load(rel, crs, rows, resolution):
    path = shared_path("data", rel)
    r = read_incidents(path, crs=crs)
    rep = r.report
    assert rep.rows_read == rows  # PROVENANCE.md row counts
    assert rep.rows_read == rep.rows_accepted + rep.rows_quarantined
    assert rep.time_resolution == resolution
    assert r.incidents.crs.is_projected


def test_bare_projected_numbers_need_crs(capsys):
    """The fix is phrased in the caller's form: a keyword argument in Python, a flag on the CLI."""
    path = shared_path("data", "chicago_burglary_2014_2017", "chicago_burglary_2014_2017.csv")
    with pytest.raises(CRSError, match="crs='EPSG") as info:
        read_incidents(path)
    assert "x from" in str(info.value) and "--crs" not in str(info.value)
    assert main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err
    assert "--crs EPSG:26971" in err and "crs=" not in err


def test_month_data_refuses_near_repeat():
    path = shared_path("data", "uk_nottingham_2022", "nottingham_burglary_2022.csv")
    rep = read_incidents(path).report
    assert rep.fitness["analyses"]["near_repeat"]["ok"] is False
    assert "month" in rep.fitness["analyses"]["near_repeat"]["reason"]


def test_invalid_precinct_polygon_is_repaired():
    path = shared_path("data", "memphis_robbery_2019", "memphis_precincts.geojson")
    with pytest.warns(DroppedGeometryWarning, match="repaired"):
        gdf = read_layer(path, kind="boundary")
    assert gdf.is_valid.all() and gdf.attrs["repaired"] >= 1


def test_raster_layer_reads_north_up():
    s = read_raster(SAMPLE / "lux.tif")
    assert s.transform.e < 0 and s.array.shape == (400, 400)


# ------------------------------------------------------------------ malformed corpus
GOOD_ROWS = (
    "id,lat,lon,date,type\n1,52.95,-1.15,2024-01-05 10:00,burglary\n2,52.96,-1.14,2024-01-06 11:30,robbery\n"
)


def _write(tmp_path, name, data: bytes | str):
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return p


def _vector(tmp_path, name, gdf, driver=None):
    p = tmp_path / name
    gdf.to_file(p, driver=driver, engine="pyogrio")
    return p


# (id, builder(tmp_path) -> path, kwargs, expected) where expected is ("ok", accepted, quarantined) or
# ("error", ExceptionType, substring-in-message)
def _cases():
    pts = gpd.GeoDataFrame(
        {"id": ["a", "b"], "date": ["2024-01-01", "2024-01-02"]},
        geometry=[Point(-1.15, 52.95), Point(-1.14, 52.96)],
        crs=4326,
    )
    return [
        ("plain", lambda t: _write(t, "a.csv", GOOD_ROWS), {}, ("ok", 2, 0)),
        ("bom", lambda t: _write(t, "a.csv", b"\xef\xbb\xbf" + GOOD_ROWS.encode()), {}, ("ok", 2, 0)),
        (
            "latin1",
            lambda t: _write(t, "a.csv", GOOD_ROWS.replace("burglary", "cambriolage é").encode("latin-1")),
            {},
            ("ok", 2, 0),
        ),
        ("semicolon", lambda t: _write(t, "a.csv", GOOD_ROWS.replace(",", ";")), {}, ("ok", 2, 0)),
        (
            "semicolon_decimal_comma",
            lambda t: _write(t, "a.csv", "id;lat;lon;date\n1;52,95;-1,15;2024-01-05\n"),
            {},
            ("ok", 1, 0),
        ),
        ("tab", lambda t: _write(t, "a.tsv", GOOD_ROWS.replace(",", "\t")), {}, ("ok", 2, 0)),
        ("gzip", lambda t: _write(t, "a.csv.gz", gzip.compress(GOOD_ROWS.encode())), {}, ("ok", 2, 0)),
        (
            "bad_gzip",
            lambda t: _write(t, "a.csv.gz", b"not gzip at all"),
            {},
            ("error", DataLoadError, "gzip"),
        ),
        ("empty", lambda t: _write(t, "a.csv", ""), {}, ("error", DataLoadError, "empty")),
        ("whitespace_only", lambda t: _write(t, "a.csv", "\n\n  \n"), {}, ("error", DataLoadError, "empty")),
        (
            "header_only",
            lambda t: _write(t, "a.csv", "id,lat,lon,date\n"),
            {},
            ("error", ValidationError, "no rows"),
        ),
        (
            "no_coordinates",
            lambda t: _write(t, "a.csv", "id,date\n1,2024-01-01\n"),
            {},
            ("error", ValidationError, "coordinate"),
        ),
        (
            "missing_coordinate_values",
            lambda t: _write(t, "a.csv", GOOD_ROWS + "3,,,2024-01-07,theft\n"),
            {},
            ("ok", 2, 1),
        ),
        (
            "text_coordinates",
            lambda t: _write(t, "a.csv", GOOD_ROWS + "3,abc,def,2024-01-07,theft\n"),
            {},
            ("ok", 2, 1),
        ),
        ("zero_zero", lambda t: _write(t, "a.csv", GOOD_ROWS + "3,0,0,2024-01-07,theft\n"), {}, ("ok", 2, 1)),
        (
            "nan_inf",
            lambda t: _write(t, "a.csv", GOOD_ROWS + "3,nan,inf,2024-01-07,theft\n4,inf,-1.1,2024-01-07,x\n"),
            {},
            ("ok", 2, 2),
        ),
        (
            "swapped_latlon",
            lambda t: _write(
                t, "a.csv", "id,lat,lon,date\n1,-1.15,52.95,2024-01-05\n2,-1.14,52.96,2024-01-06\n"
            ),
            {},
            ("ok", 2, 0),
        ),
        (
            "projected_labelled_lonlat",
            lambda t: _write(t, "a.csv", "id,lat,lon,date\n1,5700000,500000,2024-01-05\n"),
            {},
            ("error", CRSError, "crs"),
        ),
        (
            "projected_with_crs",
            lambda t: _write(t, "a.csv", "id,x,y,date\n1,500100,5700100,2024-01-05\n"),
            {"crs": "EPSG:32630"},
            ("ok", 1, 0),
        ),
        (
            "bad_crs_text",
            lambda t: _write(t, "a.csv", "id,x,y,date\n1,500100,5700100,2024-01-05\n"),
            {"crs": "EPSG:99999999"},
            ("error", CRSError, "EPSG"),
        ),
        (
            "unparseable_date",
            lambda t: _write(t, "a.csv", GOOD_ROWS + "3,52.95,-1.15,yesterday,theft\n"),
            {},
            ("ok", 2, 1),
        ),
        (
            "future_date",
            lambda t: _write(t, "a.csv", GOOD_ROWS + "3,52.95,-1.15,2031-01-01,theft\n"),
            {},
            ("ok", 2, 1),
        ),
        (
            "ancient_date",
            lambda t: _write(t, "a.csv", GOOD_ROWS + "3,52.95,-1.15,1850-01-01,theft\n"),
            {},
            ("ok", 2, 1),
        ),
        (
            "duplicate_ids",
            lambda t: _write(t, "a.csv", GOOD_ROWS + "2,52.97,-1.13,2024-01-08,theft\n"),
            {},
            ("ok", 2, 1),
        ),
        (
            "missing_id",  # numbered, not quarantined: police.uk ASB rows have no crime id
            lambda t: _write(t, "a.csv", GOOD_ROWS + ",52.97,-1.13,2024-01-08,theft\n"),
            {},
            ("ok", 3, 0),
        ),
        (
            "exact_duplicates_kept",
            lambda t: _write(t, "a.csv", "lat,lon,date\n52.95,-1.15,2024-01-05\n52.95,-1.15,2024-01-05\n"),
            {},
            ("ok", 2, 0),
        ),
        (
            "exact_duplicates_dropped",
            lambda t: _write(t, "a.csv", "lat,lon,date\n52.95,-1.15,2024-01-05\n52.95,-1.15,2024-01-05\n"),
            {"drop_duplicates": True},
            ("ok", 1, 1),
        ),
        (
            "far_outlier",
            lambda t: _write(
                t,
                "a.csv",
                "lat,lon,date\n"
                + "".join(f"52.9{i % 10},-1.1{i % 7},2024-01-0{1 + i % 9}\n" for i in range(30))
                + "40.0,-3.7,2024-01-05\n",
            ),
            {},
            ("ok", 30, 1),
        ),
        (
            "dayfirst_detected",
            lambda t: _write(t, "a.csv", "lat,lon,date\n52.95,-1.15,25/01/2024\n52.95,-1.15,03/02/2024\n"),
            {},
            ("ok", 2, 0),
        ),
        ("excel_serial", lambda t: _write(t, "a.csv", "lat,lon,date\n52.95,-1.15,45300\n"), {}, ("ok", 1, 0)),
        (
            "month_only",
            lambda t: _write(t, "a.csv", "lat,lon,month\n52.95,-1.15,2022-01\n52.96,-1.15,2022-02\n"),
            {},
            ("ok", 2, 0),
        ),
        (
            "split_date_columns",
            lambda t: _write(t, "a.csv", "lat,lon,year,month,day,hour\n52.95,-1.15,2024,1,5,13\n"),
            {},
            ("ok", 1, 0),
        ),
        (
            "wkt_column",
            lambda t: _write(t, "a.csv", 'wkt,date\n"POINT (-1.15 52.95)",2024-01-05\n'),
            {},
            ("ok", 1, 0),
        ),
        (
            "latlon_text_column",
            lambda t: _write(t, "a.csv", 'location,date\n"(52.95, -1.15)",2024-01-05\n'),
            {},
            ("ok", 1, 0),
        ),
        (
            "ambiguous_date_columns",
            lambda t: _write(t, "a.csv", "lat,lon,date,datetime\n52.95,-1.15,2024-01-05,2024-02-07 10:00\n"),
            {},
            ("error", ValidationError, "columns={'date'"),
        ),
        (
            "agreeing_date_columns_take_the_finer",
            lambda t: _write(t, "a.csv", "lat,lon,date,datetime\n52.95,-1.15,2024-01-05,2024-01-05 10:00\n"),
            {},
            ("ok", 1, 0),
        ),
        (
            "ambiguity_settled",
            lambda t: _write(t, "a.csv", "lat,lon,date,datetime\n52.95,-1.15,2024-01-05,2024-01-05 10:00\n"),
            {"columns": {"date": "datetime"}},
            ("ok", 1, 0),
        ),
        (
            "override_unknown_column",
            lambda t: _write(t, "a.csv", GOOD_ROWS),
            {"columns": {"x": "nope"}},
            ("error", ValidationError, "nope"),
        ),
        (
            "huge_single_line",
            lambda t: _write(
                t, "a.csv", "lat,lon,date,notes\n52.95,-1.15,2024-01-05," + "x" * 2_000_000 + "\n"
            ),
            {},
            ("ok", 1, 0),
        ),
        (
            "unsupported_extension",
            lambda t: _write(t, "a.docx", "hello"),
            {},
            ("error", DataLoadError, "unsupported"),
        ),
        ("missing_file", lambda t: t / "nope.csv", {}, ("error", DataLoadError, "does not exist")),
        (
            "zip_without_shp",
            lambda t: _zip(t, {"readme.txt": "no shapefile here"}),
            {},
            ("error", DataLoadError, ".shp"),
        ),
        (
            "truncated_gpkg",
            lambda t: _truncated_gpkg(t, pts),
            {},
            ("error", DataLoadError, "could not be read"),
        ),
        ("geojson_points", lambda t: _vector(t, "a.geojson", pts), {}, ("ok", 2, 0)),
        ("gpkg_points", lambda t: _vector(t, "a.gpkg", pts), {}, ("ok", 2, 0)),
        ("shapefile_zip", lambda t: _shp_zip(t, pts), {}, ("ok", 2, 0)),
        ("flatgeobuf", lambda t: _vector(t, "a.fgb", pts), {}, ("ok", 2, 0)),
        ("geoparquet", lambda t: _parquet(t, pts), {}, ("ok", 2, 0)),
        ("xlsx", _xlsx, {}, ("ok", 2, 0)),
        (
            "lines_as_incidents",
            lambda t: _vector(
                t,
                "l.geojson",
                gpd.GeoDataFrame(
                    {"date": ["2024-01-01"]}, geometry=[LineString([(-1.15, 52.95), (-1.1, 52.9)])], crs=4326
                ),
            ),
            {},
            ("error", ValidationError, "not a point"),
        ),
    ]


def _zip(t, files):
    p = t / "a.zip"
    with zipfile.ZipFile(p, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return p


def _truncated_gpkg(t, gdf):
    p = _vector(t, "a.gpkg", gdf)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 3])
    return p


def _shp_zip(t, gdf):
    folder = t / "shp"
    folder.mkdir()
    gdf.to_file(folder / "pts.shp", engine="pyogrio")
    p = t / "pts.zip"
    with zipfile.ZipFile(p, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f.name)
    return p


def _parquet(t, gdf):
    p = t / "a.parquet"
    gdf.to_parquet(p)
    return p


def _xlsx(t):
    p = t / "a.xlsx"
    pd.read_csv(pd.io.common.StringIO(GOOD_ROWS)).to_excel(p, index=False)
    return p


CASES = _cases()


@pytest.mark.parametrize(("build", "kwargs", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_corpus(tmp_path, build, kwargs, expected):
    assert len(CASES) >= 40
    path = build(tmp_path)
    if expected[0] == "error":
        with pytest.raises(expected[1]) as info:
            read_incidents(path, now=NOW, **kwargs)
        message = str(info.value)
        assert expected[2].lower() in message.lower()
        assert path.name in message or "EPSG" in message  # names the file (or the bad CRS)
        return
    r = read_incidents(path, now=NOW, **kwargs)
    rep = r.report
    assert (rep.rows_accepted, rep.rows_quarantined) == expected[1:]
    assert rep.rows_read == rep.rows_accepted + rep.rows_quarantined
    assert len(r.quarantine) == rep.rows_quarantined and r.quarantine["reason"].str.len().gt(0).all()
    json.dumps(rep.to_dict(), default=str)


def test_parse_dates_decides_day_first():
    t, fmt = parse_dates(pd.Series(["03/02/2024", "25/01/2024"]))
    assert t.iloc[0] == pd.Timestamp("2024-02-03") and fmt.startswith("%d")
    t, fmt = parse_dates(pd.Series(["03/02/2024", "01/25/2024"]))
    assert t.iloc[0] == pd.Timestamp("2024-03-02") and fmt.startswith("%m")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(
                st.floats(allow_nan=True, allow_infinity=True, width=32), st.just(0.0), st.floats(52.0, 53.0)
            ),
            st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32), st.floats(-2.0, -1.0)),
            st.sampled_from(["2024-01-05", "garbage", "", "2099-01-01", "2023-12-31 23:59"]),
            st.sampled_from(["a", "b", "c", ""]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_rows_always_reconcile(tmp_path, rows):
    """Whatever the rows hold, every row is either accepted or quarantined (or one clear error)."""
    text = "lat,lon,date,id\n" + "".join(f"{la},{lo},{d},{i}{k}\n" for k, (la, lo, d, i) in enumerate(rows))
    path = tmp_path / "h.csv"
    path.write_text(text)
    try:
        r = read_incidents(path, now=NOW)
    except PlannerError as exc:
        assert "h.csv" in str(exc)
        return
    assert r.report.rows_read == len(rows) == r.report.rows_accepted + r.report.rows_quarantined


def test_layer_errors_are_clear(tmp_path):
    mixed = gpd.GeoDataFrame(geometry=[Point(0, 0), Polygon([(0, 0), (1, 0), (1, 1)])], crs=32630)
    p = tmp_path / "mixed.gpkg"
    mixed.to_file(p, engine="pyogrio")
    with pytest.raises(ValidationError, match="mixes geometry types"):
        read_layer(p, kind="street_lights")
    empty = tmp_path / "empty.csv"
    empty.write_text("x,y\n")
    with pytest.raises(ValidationError, match="empty"):
        read_layer(empty, kind="street_lights", crs="EPSG:32630")


def test_layer_points_from_csv_transform():
    path = shared_path("data", "chicago_2017_overlay", "liquor_retail.csv")
    gdf = read_layer(path, kind="licensed_premises", analysis_crs="EPSG:26971")
    assert gdf.crs.to_epsg() == 26971 and len(gdf) == 937
    assert np.isfinite(gdf.geometry.x).all()


def test_default_category_fills_missing_categories(tmp_path):
    path = tmp_path / "burglaries.csv"
    path.write_text("lon,lat,date\n-87.63,41.88,2017-01-02 10:00\n-87.64,41.89,2017-01-03 11:00\n")
    plain = read_incidents(path).incidents
    assert set(plain["category"]) == {"unknown"}
    filled = read_incidents(path, default_category="Burglary").incidents
    assert set(filled["category"]) == {"burglary"}
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("lon,lat,date,type\n-87.63,41.88,2017-01-02,ROBBERY\n-87.64,41.89,2017-01-03,\n")
    got = read_incidents(mixed, default_category="burglary").incidents
    assert list(got.sort_values("occurred_at")["category"]) == ["robbery", "burglary"]
