"""Perception audits: import with quarantine (hand-built files), surfaces and the fear-vs-crime rule
worked by hand, and the sample city's audits recovering their known pattern."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _paths import SAMPLE
from shapely.geometry import Point, box

from planner import perception
from planner.errors import PlannerError, ValidationError

PARAMS = list(perception.PARAMETERS)
HEADER = "audit_id,x,y,period,group," + ",".join(PARAMS)


def _csv(tmp_path, rows, name="audits.csv", header=HEADER):
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- import


def test_import_sets_aside_bad_rows_with_reasons(tmp_path):
    """Ten rows: 3 good, 7 bad for one reason each (a score of 4, a score of 1.5, a word, an
    unknown period, no coordinates, a repeated id, only 3 parameters scored)."""
    good = "3,3,3,3,0,0,0,0"  # perceived safety = mean = 1.5
    path = _csv(
        tmp_path,
        [
            f"a1,500000,5700000,day,Women,{good}",
            f"a2,500010,5700000,Night,men,{good}",
            f"a3,500020,5700000,night,,{good}",
            "a4,500030,5700000,day,men,4,3,3,3,0,0,0,0",
            "a5,500040,5700000,day,men,1.5,3,3,3,0,0,0,0",
            "a6,500050,5700000,day,men,good,3,3,3,0,0,0,0",
            f"a7,500060,5700000,dusk,men,{good}",
            f"a8,,5700000,day,men,{good}",
            f"a1,500080,5700000,day,men,{good}",
            "a10,500090,5700000,day,men,3,3,3,,,,,",
        ],
    )
    res = perception.read_audits(path, crs="EPSG:32630")
    rep = res.report
    assert (rep["rows_read"], rep["rows_accepted"], rep["rows_quarantined"]) == (10, 3, 7)
    assert list(res.audits["audit_id"]) == ["a1", "a2", "a3"]
    assert list(res.audits["group"]) == ["women", "men", "unspecified"]
    assert list(res.audits["period"]) == ["day", "night", "night"]
    assert res.audits["perceived_safety"].tolist() == [1.5, 1.5, 1.5]
    assert str(res.audits["lighting"].dtype) == "Int64"
    reasons = dict(zip(res.quarantine["audit_id"].astype(str), res.quarantine["reason"], strict=True))
    assert "lighting='4' is not a score 0–3" in reasons["a4"]
    assert "1.5" in reasons["a5"] and "'good'" in reasons["a6"]
    assert "'dusk' is not 'day' or 'night'" in reasons["a7"]
    assert (
        "coordinates" in reasons["nan"]
        if "nan" in reasons
        else any("coordinates" in r for r in reasons.values())
    )
    assert "duplicate audit_id 'a1'" in reasons["a1"]
    assert "only 3 of 8 parameters scored" in reasons["a10"]
    # the quarantine keeps every source column
    assert set(HEADER.split(",")) <= set(res.quarantine.columns)
    assert res.audits.crs.to_epsg() == 32630


def test_period_from_timestamps_and_lonlat(tmp_path):
    header = "lon,lat,audited_at,auditor_group," + ",".join(PARAMS)
    scores = ",".join(["2"] * 8)
    path = _csv(
        tmp_path,
        [
            f"-3.0,51.5,2024-03-01T21:30,women,{scores}",
            f"-3.0,51.5005,2024-03-01T12:00,women,{scores}",
            f"-3.0,51.501,2024-03-01,women,{scores}",  # a date: day or night unknown
            f"-300,51.5,2024-03-01T12:00,women,{scores}",  # longitude out of range
        ],
        header=header,
    )
    res = perception.read_audits(path)
    assert list(res.audits["period"]) == ["night", "day"]
    assert res.audits.crs.is_projected  # UTM chosen automatically
    assert res.report["rows_quarantined"] == 2
    assert res.quarantine["reason"].str.contains("no time of day").any()
    assert res.quarantine["reason"].str.contains("coordinates").any()


def test_geojson_with_missing_geometry_and_study_area(tmp_path):
    scores = dict.fromkeys(PARAMS, 2)
    gdf = gpd.GeoDataFrame(
        [{**scores, "period": "day", "group": "men"} for _ in range(3)],
        geometry=[Point(500050, 5700050), None, Point(509000, 5700050)],
        crs="EPSG:32630",
    )
    path = tmp_path / "audits.geojson"
    gdf.to_file(path, driver="GeoJSON")
    area = gpd.GeoDataFrame(geometry=[box(500000, 5700000, 500100, 5700100)], crs="EPSG:32630")
    res = perception.read_audits(path, study_area=area)
    assert res.report["rows_accepted"] == 1
    assert sorted(res.quarantine["reason"]) == ["no point geometry", "outside the study area"]


def test_schema_errors_are_clear(tmp_path):
    path = _csv(tmp_path, ["500000,5700000,day,1,2"], header="x,y,period,lighting,people")
    with pytest.raises(ValidationError, match=r"(?s)only 2 of the 8 parameter columns.*columns="):
        perception.read_audits(path, crs="EPSG:32630")
    path = _csv(tmp_path, ["500000,5700000," + ",".join(["1"] * 8)], header="x,y," + ",".join(PARAMS))
    with pytest.raises(ValidationError, match="no 'period' column"):
        perception.read_audits(path, crs="EPSG:32630")
    path = _csv(tmp_path, [f"a,500000,5700000,day,men,{','.join(['1'] * 8)}"])
    with pytest.raises(ValidationError, match="crs="):
        perception.read_audits(path)
    # every row bad: one error listing what is wrong
    path = _csv(tmp_path, [f"a,500000,5700000,dusk,men,{','.join(['1'] * 8)}"])
    with pytest.raises(ValidationError, match="dusk"):
        perception.read_audits(path, crs="EPSG:32630")
    # column overrides
    path = _csv(
        tmp_path,
        [f"a,500000,5700000,day,men,{','.join(['1'] * 8)}"],
        header=HEADER.replace("lighting", "lamps"),
    )
    assert (
        perception.read_audits(path, crs="EPSG:32630", columns={"lighting": "lamps"}).report["rows_accepted"]
        == 1
    )
    with pytest.raises(PlannerError, match="not in the file"):
        perception.read_audits(path, crs="EPSG:32630", columns={"lighting": "lux"})


# ----------------------------------------------------------------------------- surfaces by hand


def _cells():
    return gpd.GeoDataFrame(
        {"cell_id": [0, 1], "area_m2": [1e4, 1e4]},
        geometry=[box(500000, 5700000, 500100, 5700100), box(501000, 5700000, 501100, 5700100)],
        crs="EPSG:32630",
    )


def _audits(points, scores, groups=None, periods=None):
    n = len(points)
    frame = pd.DataFrame({"perceived_safety": scores})
    frame["group"] = groups or ["women"] * n
    frame["period"] = periods or ["day"] * n
    return gpd.GeoDataFrame(frame, geometry=[Point(*p) for p in points], crs="EPSG:32630")


def test_kernel_surface_by_hand():
    """Cell 0's centre is (500050, 5700050). An audit there (weight 1, score 3) and one 50 m east
    (quartic weight (1 − 0.5²)² = 0.5625, score 0), bandwidth 100 m: score 3/1.5625 = 1.92."""
    audits = _audits([(500050, 5700050), (500100, 5700050)], [3.0, 0.0])
    surf = perception.perception_surfaces(audits, _cells(), bandwidth_m=100, min_audits=2)
    row = surf[(surf["group"] == "all") & (surf["period"] == "all")].set_index("cell_id")
    assert row.loc[0, "score"] == pytest.approx(3 / 1.5625)
    assert row.loc[0, "n_audits"] == 2 and row.loc[0, "covered"]
    assert np.isnan(row.loc[1, "score"]) and not row.loc[1, "covered"]
    strict = perception.perception_surfaces(audits, _cells(), bandwidth_m=100, min_audits=3)
    assert strict["score"].isna().all()


def test_disagreement_rule_by_hand():
    """Four covered cells: perceived safety 0.5, 2.5, 2.6, 0.4 and crimes 0, 10, 1, 12. Fear ranks
    (3 − score): 0.75, 0.5, 0.25, 1.0; crime ranks: 0.25, 0.75, 0.5, 1.0. Cell 0 feels unsafe with
    little crime; cell 1 has crime but feels safe; cell 3 both high; cell 2 consistent."""
    cells = gpd.GeoDataFrame(
        {"cell_id": range(5), "area_m2": [1e6] * 5},
        geometry=[box(i * 100, 0, i * 100 + 100, 100) for i in range(5)],
        crs="EPSG:32630",
    )
    surface = pd.DataFrame(
        {"cell_id": range(5), "group": "all", "period": "all", "score": [0.5, 2.5, 2.6, 0.4, np.nan]}
    )
    out = perception.fear_crime_disagreement(surface, cells, np.array([0, 10, 1, 12, 50]))
    assert list(out["class"]) == [
        "fear, little crime",
        "crime, little fear",
        "consistent",
        "both high",
        "too few audits",
    ]
    assert "fear rank ≥ 0.75" in out.attrs["rule"]


# ----------------------------------------------------------------------------- the sample city


@pytest.fixture(scope="module")
def sample():
    from planner import grid
    from planner.io import read_incidents

    truth = json.loads((SAMPLE / "truth.json").read_text())
    area = gpd.read_file(SAMPLE / "city.gpkg", layer="boundary")
    imported = perception.read_audits(SAMPLE / "audits.csv", crs="EPSG:32630", study_area=area)
    incidents = read_incidents(SAMPLE / "incidents.csv", crs="EPSG:32630").incidents
    cells = grid.grid_from_boundary(area, cell_size_m=250)
    return truth, imported, perception.perception_from_audits(imported, cells, incidents), cells


def test_sample_audits_import_cleanly(sample):
    truth, imported, _, _ = sample
    entry = truth["perception_audit"]
    assert imported.report["rows_read"] == imported.report["rows_accepted"] == entry["n_audits"]
    assert imported.report["groups"] == entry["pattern"]["groups_generated"]


def test_sample_audits_recover_the_lighting_pattern(sample):
    """At night, audits on streets without a working lamp within 40 m score lighting ~1.8 lower
    than lit ones (the generator's latent difference, before rounding and clipping)."""
    truth, imported, _, _ = sample
    lights = gpd.read_file(SAMPLE / "city.gpkg", layer="street_lights")
    working = lights[lights["status"] == "working"]
    audits = imported.audits
    dist = audits.geometry.apply(lambda g: working.distance(g).min())
    dark = (dist > truth["lamp_radius_m"]).to_numpy()
    night = (audits["period"] == "night").to_numpy()
    lighting = audits["lighting"].astype(float).to_numpy()
    diff = lighting[night & dark].mean() - lighting[night & ~dark].mean()
    assert diff == pytest.approx(
        truth["perception_audit"]["pattern"]["night_lighting_dark_minus_lit_latent"], abs=0.3
    )
    # women (and older people) feel less safe than men at night in dark places
    safety = audits["perceived_safety"].to_numpy()
    women = (audits["group"] == "women").to_numpy()
    men = (audits["group"] == "men").to_numpy()
    gap = safety[night & dark & women].mean() - safety[night & dark & men].mean()
    assert gap == pytest.approx(
        truth["perception_audit"]["pattern"]["women_vs_men_at_night_in_dark_places_latent"], abs=0.15
    )


def test_sample_fear_vs_crime_layer_finds_the_planted_places(sample):
    """Parks at night feel unsafe with little recorded crime; the busy, lit centre has the most crime
    but feels safe. Each place's share of its planted class is well above the town's."""
    truth, _, result, _ = sample
    pattern = truth["perception_audit"]["pattern"]
    for layer, zone_wkt, cls, factor in (
        (result.night_disagreement, pattern["park_wkt"], "fear, little crime", 3.0),
        (result.disagreement, pattern["centre_wkt"], "crime, little fear", 2.0),
    ):
        zone = shapely.from_wkt(zone_wkt)
        inside = layer.geometry.centroid.within(zone).to_numpy()
        covered = (layer["class"] != "too few audits").to_numpy()
        share_in = (layer["class"].to_numpy()[inside & covered] == cls).mean()
        share_all = (layer["class"].to_numpy()[covered] == cls).mean()
        assert share_in >= factor * share_all, (cls, share_in, share_all)


def test_sample_coverage_warnings_name_the_thin_group(sample):
    _, _, result, cells = sample
    assert any("older people" in w for w in result.warnings)  # group names in plain words
    assert not any(w.startswith("Too few audits by women") for w in result.warnings)
    wide = result.surface_gdf(cells)
    assert "safety__women__night" in wide.columns and len(wide) == len(cells)
    summary = result.summary()
    json.dumps(summary, default=str)
    assert summary["rule"] and set(summary["disagreement"]) <= {
        "fear, little crime",
        "crime, little fear",
        "both high",
        "consistent",
        "too few audits",
    }


def test_women_feel_less_safe_at_night_on_the_map(sample):
    """Surfaces per group: over the cells both groups cover at night, women's perceived safety is
    lower than men's on average (the generator makes women rate dark places lower at night)."""
    _, _, result, _ = sample
    s = result.surface
    w = s[(s["group"] == "women") & (s["period"] == "night")].set_index("cell_id")["score"]
    m = s[(s["group"] == "men") & (s["period"] == "night")].set_index("cell_id")["score"]
    both = w.notna() & m.notna()
    assert both.sum() > 100
    assert (w[both] - m[both]).mean() < 0


# ----------------------------------------------------------------------------- pipeline and CLI


def test_pipeline_stage_and_switch(tmp_path):
    import dataclasses

    from _tiny_plan import tiny_plan

    from planner.config import RunConfig
    from planner.pipeline import add_perception, audit_source

    scores = ",".join(["1"] * 8)
    path = _csv(tmp_path, [f"a{i},{500050 + i},{5700050},night,women,{scores}" for i in range(6)])
    plan = tiny_plan()
    plan = dataclasses.replace(
        plan, config=RunConfig(incidents="x.csv", audits=str(path), audits_crs="EPSG:32630"), warnings=[]
    )
    out = add_perception(plan)
    assert out.perception is not None and out.perception.report["rows_accepted"] == 6
    assert out.params["perception"]["audits"] == str(path)
    assert any("Too few audits by women" in w for w in out.warnings)
    assert audit_source(RunConfig(incidents="x.csv")) is None
    assert audit_source(RunConfig(audits="none")) is None
    assert audit_source(RunConfig()).endswith("audits.csv")


def test_cli_audits(tmp_path, capsys):
    from planner.cli import main

    assert main(["audits", "--json", "--out", str(tmp_path / "o")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["import"]["rows_accepted"] == 2400 and out["rule"]
    assert (tmp_path / "o" / "audits.gpkg").exists() and (tmp_path / "o" / "quarantine.csv").exists()
    bad = _csv(tmp_path, ["1,2"], header="x,y", name="bad.csv")
    assert (
        main(
            [
                "audits",
                str(bad),
                "--crs",
                "EPSG:32630",
                "--incidents",
                str(SAMPLE / "incidents.csv"),
                "--incidents-crs",
                "EPSG:32630",
            ]
        )
        == 2
    )
    assert "parameter columns" in capsys.readouterr().err


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rows_always_reconcile(tmp_path, seed):
    """Random files with random corruption: every row is accepted or set aside with a reason."""
    rng = np.random.default_rng(seed)
    n = 60
    frame = pd.DataFrame(
        {
            "audit_id": [f"r{i}" for i in rng.integers(0, 50, n)],
            "x": rng.uniform(500000, 501000, n).round(1),
            "y": rng.uniform(5700000, 5701000, n).round(1),
            "period": rng.choice(["day", "night", "Night", "dusk", ""], n),
            "group": rng.choice(["women", "men", ""], n),
            **{
                p: rng.choice(["0", "1", "2", "3", "", "5", "x"], n, p=[0.2, 0.2, 0.2, 0.2, 0.1, 0.05, 0.05])
                for p in PARAMS
            },
        }
    )
    frame.loc[rng.random(n) < 0.1, "x"] = np.nan
    path = tmp_path / "r.csv"
    frame.to_csv(path, index=False)
    res = perception.read_audits(path, crs="EPSG:32630")
    rep = res.report
    assert rep["rows_read"] == n == rep["rows_accepted"] + rep["rows_quarantined"]
    assert res.quarantine["reason"].str.len().gt(0).all()
    assert res.audits[PARAMS].isin([0, 1, 2, 3]).where(res.audits[PARAMS].notna(), True).all().all()


def test_crimes_per_cell_by_hand():
    """Two 100 m cells; three crimes in the west cell (one at 23:00), one in the east at noon, one
    outside the grid: all 3/1, night 1/0, day 2/1; without a time of day only 'all' is counted."""
    cells = gpd.GeoDataFrame(
        {"cell_id": [0, 1]}, geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=32630
    )
    incidents = gpd.GeoDataFrame(
        {
            "occurred_at": pd.to_datetime(
                [
                    "2024-01-01 23:00",
                    "2024-01-02 10:00",
                    "2024-01-03 14:00",
                    "2024-01-04 12:00",
                    "2024-01-05 23:30",
                ]
            )
        },
        geometry=[Point(10, 10), Point(50, 50), Point(90, 90), Point(150, 50), Point(500, 500)],
        crs=32630,
    )
    incidents.attrs["time_resolution"] = "minute"
    assert perception.crimes_per_cell(cells, incidents).tolist() == [3.0, 1.0]
    assert perception.crimes_per_cell(cells, incidents, period="night").tolist() == [1.0, 0.0]
    assert perception.crimes_per_cell(cells, incidents, period="day").tolist() == [2.0, 1.0]
    incidents.attrs["time_resolution"] = "day"
    assert perception.crimes_per_cell(cells, incidents).tolist() == [3.0, 1.0]
    with pytest.raises(PlannerError, match="no time of day"):
        perception.crimes_per_cell(cells, incidents, period="night")
    with pytest.raises(PlannerError, match="period='dusk'"):
        perception.crimes_per_cell(cells, incidents, period="dusk")
