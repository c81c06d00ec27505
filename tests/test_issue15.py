"""Issue #15 beyond the corpus: degrade without dates, night share unknown without times, categories
without a measure reported, every hinted option on the CLI, layers with their own CRS, the public
API, progress by real stage share, and hotspots a council can act on (Chicago burglaries)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _corpus import LAYOUTS, write_layout
from _paths import ROOT, shared_path
from pyproj import Transformer

from planner import io, pipeline
from planner.cli import app, main
from planner.config import RunConfig
from planner.errors import ConfigError

BY_NAME = {layout.name: layout for layout in LAYOUTS}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("issue15")
    names = ("ppa_no_date", "chicago_td", "police_uk_street", "nypd_complaints", "montreal")
    return {name: write_layout(BY_NAME[name], folder) for name in names}


def test_public_api_names_from_the_issues():
    """`planner.hotspots.gistar_grid`, `planner.evaluate.wdd`, `planner.evaluate.wdq` import and work:
    the Bowers & Johnson worked example (README) gives WDD −118; one hot cell in a 5×5 grid of ones is
    as hot as any (its queen neighbours share its window), the far corner colder."""
    from planner.evaluate import wdd, wdq
    from planner.hotspots import gistar_grid

    assert wdd((308, 318), (207, 110), (150, 140), (178, 157), alpha=0.05).est_total == -118
    assert wdq((207, 110), (178, 157), (308, 318)).wdq == pytest.approx(0.258186, rel=1e-5)
    counts = np.ones((5, 5))
    counts[2, 2] = 9
    z, _p = gistar_grid(counts)
    assert z[2, 2] == pytest.approx(np.nanmax(z)) and z[0, 0] < z[2, 2]
    with pytest.raises(AttributeError):
        from planner import hotspots

        hotspots.no_such_function  # noqa: B018


def test_no_dates_runs_everything_that_does_not_need_time(files):
    """No date column: counts, KDE over the whole period (no 'per year'), Gi* and hotspots; the rate
    per year is NaN (never a NaN period reaching the KDE) and the skipped analyses say why."""
    w = files["ppa_no_date"]
    plan = pipeline.run(RunConfig(incidents=str(w.path), default_category="burglary"))
    assert plan.params["period_years"] is None
    assert plan.surfaces["density"].units == "incidents per km²"
    assert np.isfinite(plan.surfaces["density"].array).any()
    assert plan.cells["n_incidents"].sum() == w.n_good and "gi_z" in plan.cells
    skipped = plan.params["skipped_analyses"]
    assert {
        "rates_per_year",
        "space_time",
        "near_repeat",
        "time_of_day",
        "recommendations",
        "evaluations",
    } <= set(skipped)
    assert all("no usable dates" in reason for reason in skipped.values())
    assert plan.recommendations is None
    if len(plan.hotspots):
        assert plan.hotspots["incidents_per_year"].isna().all()
        assert plan.hotspots["night_share"].isna().all()
    assert any(w.startswith("Skipped recommendations") for w in plan.warnings)


def test_dates_without_time_leave_night_share_unknown(files):
    """Day-resolution dates read 00:00, which is not night: night share and hour profile are unknown."""
    w = files["chicago_td"]
    plan = pipeline.run(
        RunConfig(incidents=str(w.path), crs="EPSG:26971", default_category="burglary", cell_size_m=200),
        stages=(),
    )
    assert plan.incidents.attrs["time_resolution"] == "day"
    assert "time_of_day" in plan.params["skipped_analyses"]
    assert len(plan.hotspots), "the clustered corpus points give hotspots"
    assert plan.hotspots["night_share"].isna().all()
    assert plan.hotspots["hour_profile"].isna().all()
    assert plan.hotspots["incidents_per_year"].notna().all()


def test_categories_without_a_measure_are_reported_with_reasons(files, tmp_path, capsys):
    """police.uk: ASB, drugs, weapons, public order and 'other crime' have no measure in the catalogue;
    'Other theft' maps to theft, which has. A user map can name more (tried first)."""
    w = files["police_uk_street"]
    plan = pipeline.run(RunConfig(incidents=str(w.path)), stages=())
    missing = plan.params["categories_without_measure"]
    assert {"anti_social_behaviour", "drugs", "weapons", "public_order", "other"} == set(missing)
    assert "theft" not in missing and "vehicle_crime" not in missing
    asb = missing["anti_social_behaviour"]
    assert asb["source_categories"] == {"Anti-social behaviour": asb["incidents"]}
    assert "no measure in the intervention catalogue" in asb["reason"]
    assert sum(e["incidents"] for e in missing.values()) == 21  # 5 ASB + 4 each of the other four
    user_map = tmp_path / "mine.toml"
    user_map.write_text('[[category]]\nname = "criminal_damage"\npatterns = ["other crime"]\n')
    plan = pipeline.run(RunConfig(incidents=str(w.path), category_map=[str(user_map)]), stages=())
    assert "other" not in plan.params["categories_without_measure"]
    assert (
        plan.incidents.loc[plan.incidents["source_category"] == "Other crime", "category"]
        == "criminal_damage"
    ).all()
    out = tmp_path / "run"
    assert main(["run", "--incidents", str(w.path), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "No measure for 21 of 60 incidents" in err
    assert "anti_social_behaviour (5; from 'Anti-social behaviour' 5)" in err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["categories_without_measure"]["drugs"]["incidents"] == 4


def test_unrecognised_and_missing_categories_say_how_to_fix(tmp_path):
    path = tmp_path / "odd.csv"
    rows = [
        f"{-1.15 + i % 6 * 0.002:.4f},{52.95 + i % 5 * 0.002:.4f},2023-01-{1 + i % 28:02d},Stalking"
        for i in range(40)
    ]
    rows += [
        f"{-1.15 + i % 6 * 0.002:.4f},{52.95 + i % 5 * 0.002:.4f},2023-02-{1 + i % 28:02d},"
        for i in range(10)
    ]
    path.write_text("lon,lat,date,offence\n" + "\n".join(rows) + "\n")
    plan = pipeline.run(RunConfig(incidents=str(path)), stages=())
    missing = plan.params["categories_without_measure"]
    assert missing["stalking"]["incidents"] == 40 and "category_map=" in missing["stalking"]["reason"]
    assert missing["unknown"]["incidents"] == 10 and "default_category=" in missing["unknown"]["reason"]


def test_projected_crs_leaves_lon_lat_degrees_alone(files):
    """Known bug: --crs EPSG:27700 with only lon/lat columns put Nottingham at the false origin."""
    w = files["police_uk_street"]
    result = io.read_incidents(w.path, crs="EPSG:27700")
    assert result.report.crs == "EPSG:4326"
    assert any("longitude/latitude degrees" in note for note in result.report.warnings)
    lon, lat = Transformer.from_crs(result.incidents.crs, "EPSG:4326", always_xy=True).transform(
        result.incidents.geometry.x.to_numpy(), result.incidents.geometry.y.to_numpy()
    )
    assert np.allclose(np.median(lon), -1.15, atol=0.02) and np.allclose(np.median(lat), 52.95, atol=0.02)


def test_layer_with_its_own_crs(files, tmp_path):
    """`--layer street_lights=lamps.csv@EPSG:2263`: bare feet coordinates of that file, read in place."""
    w = files["nypd_complaints"]
    to_feet = Transformer.from_crs("EPSG:4326", "EPSG:2263", always_xy=True)
    lon = np.array([-73.990, -73.985, -73.995])
    lat = np.array([40.730, 40.733, 40.727])
    x, y = to_feet.transform(lon, lat)
    lamps = tmp_path / "lamps.csv"
    pd.DataFrame({"lamp_id": ["a", "b", "c"], "x": x, "y": y, "status": "working"}).to_csv(lamps, index=False)
    ref = io.parse_layer_ref(f"{lamps}@EPSG:2263")
    assert (ref.path, ref.layer, ref.crs) == (str(lamps), None, "EPSG:2263")
    assert io.parse_layer_ref("postgresql://u:p@host/db::lamps") == io.LayerRef(
        "postgresql://u:p@host/db", "lamps"
    )
    layers = io.read_layers({"street_lights": f"{lamps}@EPSG:2263"}, analysis_crs="EPSG:32618")
    back = Transformer.from_crs("EPSG:32618", "EPSG:4326", always_xy=True).transform(
        layers["street_lights"].geometry.x.to_numpy(), layers["street_lights"].geometry.y.to_numpy()
    )
    assert np.allclose(back[0], lon, atol=1e-6) and np.allclose(back[1], lat, atol=1e-6)
    out = tmp_path / "run"
    args = [
        "run",
        "--incidents",
        str(w.path),
        "--layer",
        f"street_lights={lamps}@EPSG:2263",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    assert json.loads((out / "manifest.json").read_text())["config"]["layers"] == {
        "street_lights": f"{lamps}@EPSG:2263"
    }


def test_unknown_layer_kind_lists_the_kinds(tmp_path, capsys):
    code = main(
        ["run", "--incidents", "x.csv", "--layer", f"lamp_posts={tmp_path / 'l.csv'}", "--out", str(tmp_path)]
    )
    err = capsys.readouterr().err
    assert code == 2 and "unknown layer kind(s) ['lamp_posts']" in err and "street_lights" in err
    assert "planner layers" in err and "Traceback" not in err
    with pytest.raises(ConfigError, match="known_layer_kinds"):
        pipeline.check_layer_kinds({"lamp_posts": "l.csv"})


def test_layers_and_categories_commands(capsys):
    assert main(["layers"]) == 0
    out = capsys.readouterr().out
    assert "street_lights (point, guardian, acts as coverage within 20 m)" in out
    assert "Lamp columns" in out and "wards (" in out and "@EPSG:2263" in out
    assert main(["categories", "--test", "THEFT F/AUTO", "--test", "Stalking"]) == 0
    out = capsys.readouterr().out
    assert "'THEFT F/AUTO' -> theft_from_vehicle" in out and "'Stalking' -> not recognised" in out
    assert main(["categories"]) == 0
    out = capsys.readouterr().out
    assert (
        "burglary  [measures: lighting" in out
        and "anti_social_behaviour  [no measure in the catalogue]" in out
    )


def test_unknown_column_role_lists_the_roles(capsys):
    assert main(["inspect", "x.csv", "--column", "when=Date"]) == 2
    err = capsys.readouterr().err
    assert "unknown role(s) ['when']" in err and "date: when it happened" in err
    with pytest.raises(Exception, match="columns= names unknown role"):
        io.read_incidents(ROOT / "sample_data" / "incidents.csv", columns={"when": "occurred_at"})


def test_ambiguity_hint_in_the_callers_form(tmp_path, capsys):
    path = tmp_path / "two_dates.csv"
    path.write_text("lat,lon,date,datetime\n52.95,-1.15,2024-01-05,2024-02-07 10:00\n")
    with pytest.raises(Exception, match=r"columns=\{'date': 'date'\}"):
        io.read_incidents(path)
    assert main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err
    assert "--column date=date" in err and "columns=" not in err


def _cli_options() -> set[str]:
    """Every option of every command and sub-command (and the root's)."""
    import typer.main

    found: set[str] = set()
    stack = [typer.main.get_command(app)]
    while stack:
        command = stack.pop()
        found |= {opt for p in command.params for opt in getattr(p, "opts", [])}
        stack += list(getattr(command, "commands", {}).values())
    return found


def test_every_option_a_message_or_the_readme_mentions_exists():
    """Flags in the package's messages and in the README's `planner ...` lines are real options."""
    options = _cli_options()
    flag = re.compile(r"(?<![\w-])--[a-z][a-z-]+")
    mentioned: dict[str, str] = {}
    for source in (ROOT / "planner").rglob("*.py"):
        for found in flag.findall(source.read_text(encoding="utf-8")):
            mentioned.setdefault(found, str(source.relative_to(ROOT)))
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if re.match(r"\s*(planner|\s{8,})\s", line) or line.lstrip().startswith("planner "):
            for found in flag.findall(line):
                mentioned.setdefault(found, "README.md")
    for required in ("--drop-duplicates", "--bandwidth", "--date-from", "--date-to", "--currency",
                     "--allow-access-restriction", "--max-hotspot-cells", "--category-map", "--layer"):  # fmt: skip
        assert required in options
    external = {"--server", "--browser"}  # streamlit flags quoted in docs
    missing = {f: where for f, where in mentioned.items() if f not in options and f not in external}
    assert not missing, missing


def test_progress_follows_real_stage_shares(files):
    """Stages with nothing to do (no layers: exposure, risk; no dates: space-time, recommend) are not
    reported; the fractions rise to 1."""
    calls: list[tuple[float, str]] = []
    pipeline.run(
        RunConfig(incidents=str(files["ppa_no_date"].path), default_category="burglary"),
        progress=lambda f, m: calls.append((f, m)),
    )
    messages = [m for _, m in calls]
    assert messages == ["Reading incidents and layers", "Finding hotspots", "Done"]
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    calls.clear()
    pipeline.run(
        RunConfig(incidents=str(files["nypd_complaints"].path)), progress=lambda f, m: calls.append((f, m))
    )
    assert [m for _, m in calls] == [
        "Reading incidents and layers", "Finding hotspots", "Stage: space-time", "Stage: recommend", "Done"
    ]  # fmt: skip
    assert [round(f, 3) for f, _ in calls] == [0.0, 0.4, 0.6, 0.8, 1.0]  # weights 2, 1, 1, 1 of 5


def test_warnings_reach_the_manifest_without_source_lines(files, tmp_path, capsys):
    w = files["montreal"]
    assert main(["run", "--incidents", str(w.path), "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["warnings"] and all(".py:" not in w and "Warning:" not in w for w in manifest["warnings"])
    assert "time_of_day: dates are at day resolution" in err
    assert ".py:" not in err and "WARNING planner" not in err


@pytest.mark.slow
def test_chicago_burglaries_give_hotspots_a_council_can_act_on():
    """Acceptance: on the shared Chicago burglaries every hotspot has at most max_hotspot_cells cells
    and the cell size is reported with its rule (measured: 300 m cells from √(5 × 752 km² / 45,319),
    99 hotspots of at most 16 cells, ≤ 1.44 km²)."""
    csv = shared_path("data", "chicago_burglary_2014_2017", "chicago_burglary_2014_2017.csv")
    plan = pipeline.run(
        RunConfig(incidents=str(csv), crs="EPSG:26971", default_category="burglary"), stages=()
    )
    p = plan.params
    assert 100 <= p["cell_size_m"] <= 300
    assert p["cell_size_rule"].startswith("automatic: √(5 incidents per cell × study area")
    assert len(plan.hotspots) > 20
    assert plan.hotspots["n_cells"].max() <= p["max_hotspot_cells"] == 16
    assert p["largest_hotspot_cells"] == plan.hotspots["n_cells"].max()
    assert plan.hotspots["area_m2"].max() <= 16 * p["cell_size_m"] ** 2
    assert 2 * p["cell_size_m"] <= p["bandwidth_m"] <= 5 * p["cell_size_m"]
    assert Path(csv).exists()


def test_night_only_refuses_dates_without_time(files, tmp_path, capsys):
    """`--night-only` on day-resolution dates would count every 00:00 as night: a clear error instead."""
    import geopandas as gpd
    from shapely.geometry import box

    w = files["chicago_td"]
    area = gpd.GeoDataFrame(geometry=[box(-87.64, 41.87, -87.62, 41.89)], crs="EPSG:4326")
    area.to_file(tmp_path / "t.geojson")
    args = ["evaluate", "design", "--treatment", str(tmp_path / "t.geojson"), "--start", "2023-07-01",
            "--incidents", str(w.path), "--crs", "EPSG:26971", "--out", str(tmp_path / "d.json"), "--night-only"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--night-only needs incidents with a time of day" in err and "day resolution" in err


def test_category_filter_takes_categories_or_publishers_names(files):
    w = files["police_uk_street"]
    by_category = pipeline.load_inputs(RunConfig(incidents=str(w.path)), with_layers=False).incidents
    theft = pipeline.filter_incidents(by_category, RunConfig(incidents=str(w.path), categories=["theft"]))
    other_theft = pipeline.filter_incidents(
        by_category, RunConfig(incidents=str(w.path), categories=["Other theft"])
    )
    assert set(theft["source_category"]) == {
        "Bicycle theft",
        "Other theft",
        "Shoplifting",
        "Theft from the person",
    }
    assert set(other_theft["source_category"]) == {"Other theft"}


def test_date_filter_on_data_without_dates_is_a_clear_error(files, capsys):
    w = files["ppa_no_date"]
    assert main(["run", "--incidents", str(w.path), "--date-from", "2017-01-01", "--out", "/tmp/never"]) == 2
    assert (
        "--date-from/--date-to filter by date, but the incidents have no usable dates"
        in capsys.readouterr().err
    )
