"""Tests for planner.hotspots.polygons: hot cells dissolved into ranked hotspots with statistics."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planner import grid
from planner.errors import CRSError, ValidationError
from planner.hotspots import gistar, polygons

X0, Y0 = 500_000.0, 5_700_000.0


def _cells(crs):
    """5 × 5 grid of 100 m cells. Hot (gi_bin 3): (0,0), (0,1) and, touching only by a corner, (1,2)
    → one hotspot A of 3 cells; (4,4) (gi_bin 2) → hotspot B; (2,4) has gi_bin 1 (below min_bin 2)."""
    area = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 500, Y0 + 500)], crs=crs)
    cells = grid.grid_from_boundary(area, cell_size_m=100)
    rc = list(zip(cells["row"], cells["col"], strict=True))
    cells["gi_bin"] = [
        3 if k in {(0, 0), (0, 1), (1, 2)} else 2 if k == (4, 4) else 1 if k == (2, 4) else 0 for k in rc
    ]
    cells["gi_z"] = cells["gi_bin"] * 1.5
    return cells


def _incidents(crs):
    """A: 5 incidents (3 at 20:00 on Monday 2024-01-01, 2 at 10:00 on Tuesday); B: 3 incidents on
    Wednesday at 02:00, 03:00, 23:00; 2 elsewhere. Categories: A has 4 burglary + 1 robbery.
    Period = (last − first) + 1 day = 2024-01-01 20:00 .. 2024-12-31 12:00 + 1 day, over 365.25."""
    pts = [
        (50, 50),
        (150, 50),
        (250, 150),
        (60, 40),
        (140, 60),
        (450, 450),
        (460, 440),
        (440, 460),
        (350, 50),
        (50, 350),
    ]
    times = (
        ["2024-01-01 20:00"] * 3
        + ["2024-01-02 10:00"] * 2
        + ["2024-01-03 02:00", "2024-01-03 03:00", "2024-01-03 23:00"]
        + ["2024-06-01 12:00", "2024-12-31 12:00"]
    )
    cats = ["burglary"] * 4 + ["robbery"] + ["assault"] * 3 + ["burglary"] * 2
    inc = gpd.GeoDataFrame(
        {
            "incident_id": [f"i{i}" for i in range(10)],
            "occurred_at": pd.to_datetime(times),
            "category": cats,
            "location_type": ["street"] * 5 + ["dwelling"] * 5,
        },
        geometry=gpd.points_from_xy([X0 + p[0] for p in pts], [Y0 + p[1] for p in pts]),
        crs=crs,
    )
    inc.attrs["time_resolution"] = "minute"
    return inc


def test_hotspots_by_hand(crs):
    cells, inc = _cells(crs), _incidents(crs)
    hs, out_cells = polygons.hotspots_from_cells(cells, inc)
    assert hs["hotspot_id"].tolist() == ["H01", "H02"]
    a, b = hs.iloc[0], hs.iloc[1]
    assert (a["n_cells"], a["n_incidents"], b["n_cells"], b["n_incidents"]) == (3, 5, 1, 3)
    assert a["area_m2"] == pytest.approx(30_000)
    assert a["density_per_km2"] == pytest.approx(5 / 0.03)
    assert a["share_of_incidents"] == pytest.approx(0.5)
    span_days = (pd.Timestamp("2024-12-31 12:00") - pd.Timestamp("2024-01-01 20:00")).total_seconds() / 86400
    assert a["incidents_per_year"] == pytest.approx(5 / ((span_days + 1) / 365.25))
    assert a["mean_gi_z"] == pytest.approx(4.5)
    assert a["top_category"] == "burglary"
    assert json.loads(a["category_mix"]) == {"burglary": 4, "robbery": 1}
    assert json.loads(a["location_mix"]) == {"street": 5}
    hours = json.loads(a["hour_profile"])
    assert len(hours) == 24 and hours[20] == 3 and hours[10] == 2
    assert json.loads(a["weekday_profile"]) == [3, 2, 0, 0, 0, 0, 0]
    assert a["night_share"] == pytest.approx(3 / 5)  # 20:00 is in [19, 24)
    assert b["night_share"] == pytest.approx(1.0)  # 02:00, 03:00, 23:00
    assert hs.geometry.iloc[0].area == pytest.approx(30_000)
    assert hs.crs == cells.crs
    # cells carry their hotspot id; the input is not changed
    assert "hotspot_id" not in cells.columns
    ids = out_cells.set_index(["row", "col"])["hotspot_id"]
    assert ids[(0, 0)] == "H01" and ids[(1, 2)] == "H01" and ids[(4, 4)] == "H02"
    assert ids[(2, 4)] is None
    assert hs.attrs["params"]["min_bin"] == 2


def test_min_bin_and_min_incidents(crs):
    cells, inc = _cells(crs), _incidents(crs)
    hs, _ = polygons.hotspots_from_cells(cells, inc, min_bin=3)
    assert hs["n_incidents"].tolist() == [5]
    hs, _ = polygons.hotspots_from_cells(cells, inc, min_bin=1, min_incidents=4)
    assert hs["n_incidents"].tolist() == [5]


def test_day_resolution_hides_hours(crs):
    cells, inc = _cells(crs), _incidents(crs)
    inc.attrs["time_resolution"] = "day"
    hs, _ = polygons.hotspots_from_cells(cells, inc)
    assert hs["hour_profile"].isna().all() and hs["night_share"].isna().all()
    assert json.loads(hs["weekday_profile"].iloc[0]) == [3, 2, 0, 0, 0, 0, 0]


def test_no_hot_cells_gives_empty_table(crs):
    cells, inc = _cells(crs), _incidents(crs)
    cells["gi_bin"] = 0
    hs, out = polygons.hotspots_from_cells(cells, inc)
    assert len(hs) == 0 and out["hotspot_id"].isna().all()
    assert {"hotspot_id", "n_incidents", "geometry"} <= set(hs.columns)


def test_end_to_end_with_gistar(crs):
    """A planted cluster of 40 incidents around (250, 250) on 1 km becomes hotspot H01."""
    rng = np.random.default_rng(0)
    area = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)], crs=crs)
    xy = np.r_[np.c_[rng.normal(250, 40, 40), rng.normal(250, 40, 40)], rng.uniform(0, 1000, (60, 2))]
    inc = gpd.GeoDataFrame(
        {
            "incident_id": [str(i) for i in range(100)],
            "occurred_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(100), unit="D"),
            "category": "burglary",
        },
        geometry=gpd.points_from_xy(X0 + xy[:, 0], Y0 + xy[:, 1]),
        crs=crs,
    )
    cells = gistar.gistar_cells(grid.count_incidents(grid.grid_from_boundary(area, cell_size_m=100), inc))
    hs, _ = polygons.hotspots_from_cells(cells, inc)
    assert len(hs) >= 1
    assert hs.geometry.iloc[0].contains(shapely.Point(X0 + 250, Y0 + 250))
    assert hs.attrs["params"]["gi_fdr"] == "bh"


def test_errors(crs):
    cells, inc = _cells(crs), _incidents(crs)
    with pytest.raises(ValidationError, match="gistar_cells"):
        polygons.hotspots_from_cells(cells.drop(columns=["gi_bin"]), inc)
    with pytest.raises(CRSError):
        polygons.hotspots_from_cells(cells, inc.to_crs("EPSG:4326"))


def _city_csv(tmp_path, crs="EPSG:32630"):
    """A 2 km town: 80 incidents around (500500, 5700500) plus 120 uniform, over two years."""
    rng = np.random.default_rng(1)
    xy = np.r_[np.c_[rng.normal(500, 60, 80), rng.normal(500, 60, 80)], rng.uniform(0, 2000, (120, 2))]
    df = pd.DataFrame(
        {
            "incident_id": [f"c{i}" for i in range(200)],
            "occurred_at": (
                pd.Timestamp("2022-01-01 08:00") + pd.to_timedelta(rng.integers(0, 730 * 24, 200), unit="h")
            ).strftime("%Y-%m-%dT%H:%M"),
            "category": rng.choice(["burglary", "robbery"], 200),
            "x": X0 + xy[:, 0],
            "y": Y0 + xy[:, 1],
        }
    )
    path = tmp_path / "incidents.csv"
    df.to_csv(path, index=False)
    return path, df


def test_hotspots_command_writes_a_plan_folder_with_params(tmp_path):
    """`planner hotspots --out` writes the run-folder layout (read back by read_plan) with the
    parameters as GeoPackage layer metadata."""
    pyogrio = pytest.importorskip("pyogrio")
    from planner.cli import main
    from planner.export import read_plan

    path, _ = _city_csv(tmp_path)
    out = tmp_path / "out"
    assert main(["hotspots", str(path), "--crs", "EPSG:32630", "--cell-size", "100", "--out", str(out)]) == 0
    layers = {name for name, _ in pyogrio.list_layers(out / "plan.gpkg")}
    assert {"cells", "hotspots", "incidents", "study_area"} <= layers
    meta = json.loads(
        pyogrio.read_info(out / "plan.gpkg", layer="hotspots")["layer_metadata"]["planner_parameters"]
    )
    assert meta["fdr"] == "bh" and meta["bandwidth_m"] > 0 and meta["neighbourhood"] == "queen"
    assert meta["cell_size_m"] == 100
    plan = read_plan(out)
    assert plan.hotspots["hotspot_id"].iloc[0] == "H01"
    assert (out / "density.tif").exists()


def test_hotspots_and_run_give_identical_hotspots(tmp_path, capsys):
    """#18: `planner hotspots` and `planner run` on the same file and options give the same hotspots
    (same ingest, same defaults: split of large hot areas, FDR, cell size)."""
    from planner.cli import main
    from planner.export import read_plan

    path, _ = _city_csv(tmp_path)
    common = ["--crs", "EPSG:32630", "--max-hotspot-cells", "4"]
    assert main(["hotspots", str(path), *common, "--out", str(tmp_path / "hs")]) == 0
    assert main(["run", "--incidents", str(path), *common, "--out", str(tmp_path / "run")]) == 0
    a, b = read_plan(tmp_path / "hs"), read_plan(tmp_path / "run")
    assert len(a.hotspots) >= 1
    # both commands run in this test on this machine through the same code (a consistency check)
    cols = ["hotspot_id", "n_cells", "n_incidents", "mean_gi_z"]
    pd.testing.assert_frame_equal(a.hotspots[cols], b.hotspots[cols])
    assert a.hotspots.geometry.geom_equals(b.hotspots.geometry).all()
    assert a.params["cell_size_m"] == b.params["cell_size_m"]


def test_cli_hotspots_json(tmp_path, capsys):
    pytest.importorskip("planner.io")
    from planner.cli import main

    path, _ = _city_csv(tmp_path)
    code = main(
        [
            "hotspots",
            str(path),
            "--crs",
            "EPSG:32630",
            "--cell-size",
            "100",
            "--json",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    payload = json.loads(out)
    assert payload["params"]["cell_size_m"] == 100 and payload["hotspots"][0]["hotspot_id"] == "H01"
    assert (tmp_path / "o" / "plan.gpkg").exists() and (tmp_path / "o" / "density.tif").exists()
