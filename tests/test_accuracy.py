"""Tests for planner.evaluate.accuracy: open_cp top_slice / hit rate, ptools PAI/PEI/RRI, backtests."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _paths import shared_path

from planner import grid
from planner.evaluate import accuracy


@pytest.fixture(scope="module")
def peer():
    return json.loads(shared_path("peer", "pai_ptools_opencp", "expected.json").read_text())


def test_top_slice_open_cp_cases(peer):
    """open_cp evaluation_test.py: exactly ⌊N·f⌋ cells; ties at the cut-off keep the later cells."""
    for case in peer["open_cp_top_slice"]:
        x = np.array(case["x"])
        got = accuracy.top_slice(x, case["fraction"])
        if "expected" in case:
            assert got.tolist() == case["expected"]
        else:
            threshold = float(case["expected_mask"].split(">")[1])  # written as "x>2"
            assert got.tolist() == (x > threshold).tolist()


def test_top_slice_masked_and_2d():
    risk = np.ma.masked_array([[5, 4], [3, 9]], mask=[[False, False], [False, True]])
    got = accuracy.top_slice(risk, 0.7)  # 3 valid cells → ⌊2.1⌋ = 2 → 5 and 4
    assert got.tolist() == [[True, True], [False, False]]
    assert accuracy.top_slice([1.0, np.nan, 3.0], 0.5).tolist() == [False, False, True]
    assert not accuracy.top_slice([1, 2, 3], 0.0).any()
    assert accuracy.top_slice([1, 2, 3], 1.0).all()


def test_hit_rate_open_cp_grid(peer):
    """2×4 grid of 10 × 20 cells at (2, 3), risk 1..8, one event at each cell centre."""
    case = peer["open_cp_hit_rate"]
    g = case["grid"]
    risk = np.array(g["matrix_rows_y"], dtype=float)
    gx = ((np.array(case["points_x"]) - g["xoffset"]) // g["xsize"]).astype(int)
    gy = ((np.array(case["points_y"]) - g["yoffset"]) // g["ysize"]).astype(int)
    counts = np.zeros_like(risk)
    np.add.at(counts, (gy, gx), 1)
    for pct, expected in case["expected_hit_rate_by_coverage_percent"].items():
        assert accuracy.hit_rate(risk, counts, coverage=int(pct) / 100) == expected
    assert accuracy.hit_rates(risk, counts, [0.5, 1.0]) == {0.5: 0.5, 1.0: 1.0}


def test_pai_pei_rri_ptools(peer):
    case = peer["pai_simple"]
    table = accuracy.pai_table(case["obs"], case["pred"], case["area"])
    np.testing.assert_allclose(table["pai"], case["expected"]["PAI_cumulative_in_pred_order"])
    np.testing.assert_allclose(table["pei"], case["expected"]["PEI"])
    np.testing.assert_allclose(table["rri"], [0.5, 5 / 9, 2 / 3])
    np.testing.assert_allclose(accuracy.pai(case["obs"], case["pred"]), [2, 1.5, 1])
    np.testing.assert_allclose(accuracy.pei(case["obs"], case["pred"]), [1, 1, 1])


def test_pai_ptools_tie_rule_and_pei_below_one():
    """ptools example: obs [6,7,3,2,1,0], pred [8,4,4,2,1,0]. Tied pred 4: smaller obs (3) first.

    Ranked counts 6, 3, 7, 2, 1, 0 (total 19): PAI₂ = (9/19)/(2/6) = 27/19; oracle 7+6 → PEI₂ = 9/13.
    """
    table = accuracy.pai_table([6, 7, 3, 2, 1, 0], [8, 4, 4, 2, 1, 0])
    assert table["count"].tolist() == [6, 3, 7, 2, 1, 0]
    assert table["pai"].iloc[1] == pytest.approx(27 / 19)
    assert table["pei"].iloc[1] == pytest.approx(9 / 13)
    assert table["pei"].iloc[-1] == pytest.approx(1.0)


def test_scores_at_coverage_by_hand():
    """10 equal cells, risk = 10..1, test counts [0, 5, 0, ...] + 5 in the last cell.

    Coverage 0.2 → cells 0, 1 → 5 of 10 captured: hit 0.5, area 0.2, PAI 2.5; oracle: cells 1 and 9
    → 10/10 → PAI* 5 → PEI 0.5.
    """
    obs = np.zeros(10)
    obs[1], obs[9] = 5, 5
    risk = np.arange(10, 0, -1)
    s = accuracy.scores_at_coverage(risk, obs, coverages=[0.2]).iloc[0]
    assert (s["n_places"], s["captured"], s["hit_rate"], s["area_share"]) == (2, 5, 0.5, 0.2)
    assert s["pai"] == pytest.approx(2.5) and s["pei"] == pytest.approx(0.5)


def _synthetic_incidents(crs):
    """Two periods (2020, 2021) on a 1 km square. A hot corner cell (50, 50) gets 30 incidents per
    year, 20 other incidents per year are spread over other cells."""
    rng = np.random.default_rng(0)
    x0, y0 = 500_000.0, 5_700_000.0
    rows = []
    for year in (2020, 2021):
        hot = np.c_[rng.uniform(10, 90, 30), rng.uniform(10, 90, 30)]
        cold = np.c_[rng.uniform(200, 990, 20), rng.uniform(200, 990, 20)]
        xy = np.r_[hot, cold]
        dates = pd.Timestamp(f"{year}-01-01") + pd.to_timedelta(rng.integers(0, 360, len(xy)), unit="D")
        rows.append(pd.DataFrame({"x": x0 + xy[:, 0], "y": y0 + xy[:, 1], "occurred_at": dates}))
    df = pd.concat(rows, ignore_index=True)
    inc = gpd.GeoDataFrame(
        {"incident_id": df.index.astype(str), "occurred_at": df["occurred_at"], "category": "burglary"},
        geometry=gpd.points_from_xy(df["x"], df["y"]),
        crs=crs,
    )
    area = gpd.GeoDataFrame(geometry=[shapely.box(x0, y0, x0 + 1000, y0 + 1000)], crs=crs)
    return inc, grid.grid_from_boundary(area, cell_size_m=100)


def test_backtest_captures_the_hot_cell(crs):
    """Hand-worked: 30 of the 50 test-year incidents fall in the one hot 100 m cell of 100 cells, so
    at 1 % of the area last year's counts capture 30/50 (PAI 0.6 / 0.01 = 60, PEI 1)."""
    from planner.evaluate import forecast

    inc, cells = _synthetic_incidents(crs)
    out = forecast.rolling_backtest(
        inc, cells, splits=["2021-01-01"], options=forecast.ForecastOptions(coverages=(0.01, 0.1))
    )
    assert {"naive", "counts", "kde", "gistar"} <= set(out["method"])
    assert {"hit_rate", "pai", "pei", "n_train", "n_test", "area_share"} <= set(out.columns)
    assert (out["n_train"] == 50).all() and (out["n_test"] == 50).all()
    naive = out[(out["method"] == "naive") & (out["coverage"] == 0.01)].iloc[0]
    assert naive["hit_rate"] == pytest.approx(30 / 50)
    assert naive["pai"] == pytest.approx(60.0)
    assert naive["pei"] == pytest.approx(1.0)


def test_cli_backtest(tmp_path, capsys):
    """`planner backtest` on a CSV of two years: one split (2021), every surface scored, the choice
    made on the test year itself (no earlier year) and said so; --json carries scores and choice."""
    pytest.importorskip("planner.io")
    from planner.cli import main

    inc, _ = _synthetic_incidents("EPSG:32630")
    df = pd.DataFrame(
        {
            "incident_id": inc["incident_id"],
            "occurred_at": inc["occurred_at"].dt.strftime("%Y-%m-%dT%H:%M"),
            "category": inc["category"],
            "x": inc.geometry.x,
            "y": inc.geometry.y,
        }
    )
    path = tmp_path / "incidents.csv"
    df.to_csv(path, index=False)
    args = ["backtest", str(path), "--crs", "EPSG:32630", "--split-date", "2021-01-01", "--cell-size", "100"]
    code = main(args)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Test year from 2021-01-01" in out and "validation years from none" in out
    assert "No earlier year to validate on" in out and "naive" in out
    code = main([*args, "--json"])
    payload = json.loads(capsys.readouterr().out)
    methods = {r["method"] for r in payload["scores"]}
    assert methods == {"naive", "counts", "kde_narrow", "kde", "kde_wide", "gistar"}  # combined needs 2 years
    assert payload["params"]["test_split"] == "2021-01-01"
    assert payload["choice"]["surface"] in methods
    hot = next(r for r in payload["scores"] if r["method"] == "naive" and r["coverage"] == 0.01)
    assert hot["n_places"] >= 1 and hot["hit_rate"] >= 30 / 50  # last year's hot corner holds this year's 30
    assert hot["pai"] == pytest.approx(hot["hit_rate"] / hot["area_share"])


def test_cli_backtest_errors(tmp_path, capsys):
    from planner.cli import main

    inc, _ = _synthetic_incidents("EPSG:32630")
    path = tmp_path / "one_year.csv"
    one = inc[inc["occurred_at"].dt.year == 2021]
    pd.DataFrame(
        {"occurred_at": one["occurred_at"].dt.strftime("%Y-%m-%d"), "x": one.geometry.x, "y": one.geometry.y}
    ).to_csv(path, index=False)
    assert main(["backtest", str(path), "--crs", "EPSG:32630", "--category", "burglary"]) == 2
    assert "at least two years" in capsys.readouterr().err
    args = ["backtest", str(path), "--crs", "EPSG:32630", "--category", "burglary", "--split-date", "soon"]
    assert main(args) == 2
    assert "--split-date" in capsys.readouterr().err
