"""Forecast quality: rolling yearly backtests, the surface choice, and the surface the plan uses.

Hand-worked cases first (a 10 × 10 grid of 100 m cells where every PAI can be counted by hand),
then the acceptance on the shared Chicago burglaries (trained 2014–2016, scored on 2017): the
surface ``planner backtest`` chooses on the validation years is at least as good as last year's
counts at 1 % and 5 % of the area.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _paths import shared_path

from planner import grid
from planner.config import RunConfig
from planner.errors import InsufficientDataError
from planner.evaluate import forecast

CRS = "EPSG:32630"
X0, Y0 = 500_000.0, 5_700_000.0
# cell (row, col) → its centre; A, B, C are three of the 100 cells
A, B, C = (0, 0), (5, 5), (9, 9)


def _centre(cell: tuple[int, int]) -> tuple[float, float]:
    return X0 + 100 * cell[1] + 50, Y0 + 100 * cell[0] + 50


def _incidents(plan: dict[int, list[tuple[tuple[int, int], int]]]) -> gpd.GeoDataFrame:
    """``{year: [(cell, n), ...]}`` → n incidents at each cell's centre; a year's incidents are
    spread evenly from 1 January to 31 December."""
    rows, when = [], []
    for year, cells in plan.items():
        cells_of_year = [cell for cell, n in cells for _ in range(n)]
        days = np.linspace(0, 364, len(cells_of_year)).round().astype(int)
        rows += cells_of_year
        when += [pd.Timestamp(f"{year}-01-01") + pd.Timedelta(days=int(d)) for d in days]
    xy = np.array([_centre(cell) for cell in rows])
    return gpd.GeoDataFrame(
        {"occurred_at": pd.to_datetime(when), "category": "burglary"},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=CRS,
    )


@pytest.fixture(scope="module")
def cells() -> gpd.GeoDataFrame:
    area = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)], crs=CRS)
    return grid.grid_from_boundary(area, cell_size_m=100)


# 2020: A×5, C×1; 2021: B×5, A×1; 2022: B×6, C×2
YEARS = {2020: [(A, 5), (C, 1)], 2021: [(B, 5), (A, 1)], 2022: [(B, 6), (C, 2)]}


def test_yearly_splits_are_calendar_years_counted_back_from_the_end():
    t = pd.Series(pd.to_datetime(["2014-01-01", "2015-07-01", "2017-12-31"]))
    assert forecast.yearly_splits(t) == [pd.Timestamp(f"{y}-01-01") for y in (2015, 2016, 2017)]
    assert forecast.yearly_splits(t, last="2016-01-01") == [
        pd.Timestamp("2015-01-01"),
        pd.Timestamp("2016-01-01"),
    ]
    late = pd.Series(pd.to_datetime(["2014-01-20", "2015-12-31"]))  # a record rarely starts on 1 January
    assert forecast.yearly_splits(late) == [pd.Timestamp("2015-01-01")]
    assert forecast.yearly_splits(pd.Series(pd.to_datetime(["2014-03-01", "2015-12-31"]))) == []
    assert forecast.yearly_splits(pd.Series(pd.to_datetime(["2015-01-01", "2015-12-31"]))) == []
    assert forecast.yearly_splits(pd.Series([], dtype="datetime64[ns]")) == []


def test_rolling_backtest_by_hand(cells):
    """At 1 % of 100 cells one cell is selected. Split 2021 (trained on 2020): last year's counts
    and all counts both pick A, which holds 1 of 2021's 6 → hit 1/6, PAI 16.67, PEI 0.2 (the best
    cell, B, holds 5/6). Split 2022: last year's counts pick B (6 of 8 → PAI 75); counts over
    2020–21 pick A (A 6, B 5), which holds none → PAI 0."""
    options = forecast.ForecastOptions(coverages=(0.01,), methods=("naive", "counts"))
    splits = ["2021-01-01", "2022-01-01"]
    scores = forecast.rolling_backtest(_incidents(YEARS), cells, splits=splits, options=options)
    got = scores.set_index(["split", "method"])
    first = got.loc[("2021-01-01", "naive")]
    assert (first["n_places"], first["captured"], first["total"]) == (1, 1, 6)
    assert first["hit_rate"] == pytest.approx(1 / 6) and first["pai"] == pytest.approx(100 / 6)
    assert first["pei"] == pytest.approx(0.2)
    assert got.loc[("2021-01-01", "counts"), "pai"] == pytest.approx(100 / 6)
    assert got.loc[("2022-01-01", "naive"), "pai"] == pytest.approx(75.0)
    assert got.loc[("2022-01-01", "counts"), "pai"] == pytest.approx(0.0)
    assert (got.loc[("2022-01-01", "naive"), ["n_train", "n_test"]] == [12, 8]).all()
    choice = forecast.choose_surface(scores, coverages=(0.01,))
    assert choice.method == "naive" and not choice.beats_naive
    assert choice.reason.startswith("Nothing beat last year's counts")
    summary = choice.summary.set_index("method")
    assert summary.loc["counts", "relative_to_naive"] == pytest.approx(0.5)  # (1 + 0) / 2


def test_rolling_backtest_needs_two_years(cells):
    one = _incidents({2021: [(A, 3)]})
    with pytest.raises(InsufficientDataError, match="two years"):
        forecast.rolling_backtest(one, cells, splits=["2022-01-01"])
    with pytest.raises(InsufficientDataError, match="occurred_at"):
        forecast.rolling_backtest(one.drop(columns="occurred_at"), cells, splits=["2022-01-01"])


def _scores(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    """(split, method, coverage, pai) rows → a scores frame."""
    return pd.DataFrame(rows, columns=["split", "method", "coverage", "pai"])


def test_choose_surface_rule():
    """The highest mean PAI relative to last year's counts, among surfaces at least as good at
    each coverage; judged on the splits a surface exists for; ties to the simpler one."""
    rows = [
        ("2016", "naive", 0.01, 6.0), ("2016", "naive", 0.05, 4.0),
        ("2017", "naive", 0.01, 5.0), ("2017", "naive", 0.05, 4.0),
        # kde: far better at 1 %, worse at 5 % → not eligible
        ("2016", "kde", 0.01, 9.0), ("2016", "kde", 0.05, 3.9),
        ("2017", "kde", 0.01, 9.0), ("2017", "kde", 0.05, 3.9),
        # counts: 1.1 × at both, both years
        ("2016", "counts", 0.01, 6.6), ("2016", "counts", 0.05, 4.4),
        ("2017", "counts", 0.01, 5.5), ("2017", "counts", 0.05, 4.4),
        # combined: only the second year (needs two years of history), 1.2 × at both
        ("2017", "combined", 0.01, 6.0), ("2017", "combined", 0.05, 4.8),
    ]  # fmt: skip
    choice = forecast.choose_surface(_scores(rows))
    assert choice.method == "combined" and choice.beats_naive
    summary = choice.summary.set_index("method")
    assert summary.loc["combined", "n_splits"] == 1 and summary.loc["counts", "n_splits"] == 2
    assert summary.loc["counts", "relative_to_naive"] == pytest.approx(1.1)
    assert "1 validation year(s)" in choice.reason and "6.00 vs 5.00 at 1%" in choice.reason
    tie = [r for r in rows if r[1] != "combined"] + [
        (s, "gistar", c, p) for s, m, c, p in rows if m == "counts"
    ]
    assert forecast.choose_surface(_scores(tie)).method == "counts"  # same ratio: the simpler one
    with pytest.raises(InsufficientDataError, match="naive"):
        forecast.choose_surface(_scores([r for r in rows if r[1] != "naive"]))
    params = choice.to_dict()
    assert params["surface"] == "combined" and params["beats_last_years_counts"] is True
    json.dumps(params)


def test_hotspot_surface_falls_back_and_says_why(cells):
    counted = grid.count_incidents(cells, _incidents(YEARS)).assign(gi_bin=0)
    counted.loc[counted.index[:3], "gi_bin"] = 3
    cases = {
        "hotspot_surface='gistar'": (_incidents(YEARS), RunConfig(hotspot_surface="gistar")),
        "no dates": (_incidents(YEARS).drop(columns="occurred_at"), RunConfig()),
        "fewer than two years": (_incidents({2022: [(B, 6)]}), RunConfig()),
    }
    for why, (incidents, config) in cases.items():
        out, surface = forecast.hotspot_surface(incidents, counted, config)
        assert surface.method == "gistar" and surface.hot is None
        assert why in surface.params["reason"], surface.params
        assert out["forecast"].isna().all()
        assert surface.for_polygons(out) is out
    none_hot = counted.assign(gi_bin=0)
    _, surface = forecast.hotspot_surface(_incidents(YEARS), none_hot, RunConfig())
    assert "flags no cell" in surface.params["reason"]


def test_hotspot_surface_fills_the_gi_star_area_with_the_chosen_surface(cells):
    """Two years: last year's counts are the only surface with a validation year that beats itself;
    the 3 cells the Gi* rule flags are replaced by the top 3 cells of the chosen surface, and
    ``restore`` puts the Gi* bins back."""
    incidents = _incidents({2020: [(A, 5), (C, 3), (B, 1), (B, 3)], 2021: [(A, 6), (C, 2), (B, 1), (C, 3)]})
    counted = grid.count_incidents(cells, incidents).assign(gi_bin=0)
    counted.loc[counted.index[50:53], "gi_bin"] = 3
    out, surface = forecast.hotspot_surface(incidents, counted, RunConfig())
    assert surface.params["validation_years"] == ["2021-01-01"]
    assert surface.params["coverage"] == pytest.approx(0.03)
    if surface.method == "gistar":
        pytest.skip("Gi* won the validation year")
    assert surface.hot is not None and surface.hot.sum() == 3
    assert out["forecast"].notna().all()
    polygons_view = surface.for_polygons(out)
    assert (polygons_view["gi_bin"].to_numpy() == np.where(surface.hot, 3, 0)).all()
    back = surface.restore(polygons_view)
    assert (back["gi_bin"] == counted["gi_bin"]).all() and "gi_bin_statistic" not in back
    assert "top 3 cells" in surface.params["rule"]


def test_sample_city_plan_records_its_hotspot_surface(tmp_path):
    from planner import pipeline
    from planner.export.plan_files import write_plan_data

    if not (pipeline.SAMPLE_DIR / "city.gpkg").exists():
        pytest.skip("sample city not generated (make sample)")
    plan = pipeline.run(RunConfig(**pipeline.sample_city_sources()), stages=())
    chosen = plan.params["hotspot_surface"]
    assert chosen["surface"] in forecast.SURFACES
    assert chosen["validation_years"] == ["2024-01-01", "2025-01-01"]
    assert chosen["reason"] and chosen["rule"]
    assert {"naive", "gistar", "kde", "combined"} <= {r["method"] for r in chosen["validation"]}
    hot_cells = plan.cells["hotspot_id"].notna().sum()
    assert hot_cells == (plan.cells["gi_bin"] >= plan.config.min_bin).sum() or chosen["surface"] == "gistar"
    manifest = json.loads(write_plan_data(plan, tmp_path)["manifest"].read_text())
    assert manifest["parameters"]["hotspot_surface"]["surface"] == chosen["surface"]


@pytest.mark.slow
def test_chicago_burglary_chosen_surface_at_least_as_good_as_last_years_counts(capsys):
    """Acceptance (issue #16): on the shared Chicago burglaries trained 2014–2016 and scored on
    2017, ``planner backtest`` chooses a surface on the validation years 2015 and 2016 whose PAI on
    2017 is at least as good as last year's counts at 1 % and 5 % of the area."""
    from planner.cli import main

    path = shared_path("data", "chicago_burglary_2014_2017", "chicago_burglary_2014_2017.csv")
    args = [
        "backtest",
        str(path),
        "--crs",
        "EPSG:26971",
        "--category",
        "burglary",
        "--split-date",
        "2017-01-01",
    ]
    assert main([*args, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["params"]["validation"] == ["2015-01-01", "2016-01-01"]
    methods = {r["method"] for r in payload["scores"] if r["split"] == "2017-01-01"}
    assert methods == {"naive", "counts", "kde_narrow", "kde", "kde_wide", "gistar", "combined"}
    test = payload["test"]
    assert test["split"] == "2017-01-01" and test["surface"] == payload["choice"]["surface"]
    for coverage in ("0.01", "0.05"):
        row = test["pai"][coverage]
        assert row["at_least_as_good"] and row["chosen"] >= row["naive"], (coverage, row)
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Chosen on the validation years" in out and "Test year 2017-01-01" in out


@pytest.mark.slow
def test_backtest_with_layers_scores_the_risk_terrain(capsys):
    """With --layer the risk terrain of each split's training years is scored too, and the combined
    model takes it as a feature (sample city robberies; lamps, transit stops, cash machines)."""
    from planner import pipeline
    from planner.cli import main

    sample = pipeline.SAMPLE_DIR
    if not (sample / "city.gpkg").exists():
        pytest.skip("sample city not generated (make sample)")
    gpkg = sample / "city.gpkg"
    args = ["backtest", str(sample / "incidents.csv"), "--crs", "EPSG:32630", "--only-category", "robbery"]
    for kind in ("street_lights", "streets", "transit_stops", "cash_machines"):
        args += ["--layer", f"{kind}={gpkg}::{kind}"]
    assert main([*args, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["params"]["layers"] == ["cash_machines", "street_lights", "streets", "transit_stops"]
    methods = {r["method"] for r in payload["scores"]}
    assert "risk" in methods and "combined" in methods
    risk = [r for r in payload["scores"] if r["method"] == "risk" and r["coverage"] == 0.05]
    assert risk and all(r["pai"] > 1 for r in risk)  # the environment alone finds robbery places
