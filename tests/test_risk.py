"""Risk terrain: planted factors are recovered; Chicago 2017 runs end to end."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from _paths import shared_path
from shapely.geometry import LineString, box
from sklearn.base import clone

from planner.errors import ConfigError, InsufficientDataError, ValidationError
from planner.risk import FACTOR_COLUMNS, RiskTerrain, risk_features
from planner.risk.terrain import STABILITY_COLUMNS

CRS = "EPSG:32630"
X0, Y0, N, SIZE = 500000.0, 5700000.0, 40, 100.0
TRUTH = {
    "licensed_premises|proximity|200": 3.0,
    "street_light_outages|density|200": 1.15,
    "street_lights|coverage|20": 0.4,
}


def _points(rng: np.random.Generator, k: int) -> gpd.GeoDataFrame:
    xy = rng.uniform(0, N * SIZE, size=(2, k))
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(X0 + xy[0], Y0 + xy[1]), crs=CRS)


def _town(seed: int = 1, *, nb_dispersion: float | None = None) -> tuple[gpd.GeoDataFrame, dict]:
    """A 4 km × 4 km grid of 100 m cells with bars, outage reports, late shops (no effect) and
    lamps on east–west streets every 100 m. Counts are drawn with the planted RRVs in ``TRUTH``:
    bars within 200 m ×3, each outage report within 200 m ×1.15, fully lit streets ×0.4."""
    rng = np.random.default_rng(seed)
    cells = gpd.GeoDataFrame(
        {"cell_id": range(N * N)},
        geometry=[
            box(X0 + c * SIZE, Y0 + r * SIZE, X0 + (c + 1) * SIZE, Y0 + (r + 1) * SIZE)
            for r in range(N)
            for c in range(N)
        ],
        crs=CRS,
    )
    cells["area_m2"] = cells.area
    lamps = _points(rng, 500)
    lamps["status"] = np.where(rng.random(500) < 0.2, "broken", "working")
    streets = gpd.GeoDataFrame(
        geometry=[
            LineString([(X0, Y0 + y + 50), (X0 + N * SIZE, Y0 + y + 50)])
            for y in np.arange(0, N * SIZE, SIZE)
        ],
        crs=CRS,
    )
    layers = {
        "licensed_premises": _points(rng, 40),
        "street_light_outages": _points(rng, 300),
        "late_shops": _points(rng, 60),
        "street_lights": lamps,
        "streets": streets,
    }
    X, _ = risk_features(cells, layers, distances_m=(100, 200, 400))
    lin = -9.5 + np.log(cells["area_m2"].to_numpy())
    for col, rrv in TRUTH.items():
        lin = lin + np.log(rrv) * X[col].to_numpy()
    mu = np.exp(lin)
    if nb_dispersion is not None:
        mu = mu * rng.gamma(1 / nb_dispersion, nb_dispersion, size=len(mu))
    cells["n_incidents"] = rng.poisson(mu)
    return cells, layers


@pytest.fixture(scope="module")
def town() -> tuple[gpd.GeoDataFrame, dict]:
    return _town()


@pytest.fixture(scope="module")
def fitted(town: tuple[gpd.GeoDataFrame, dict]) -> RiskTerrain:
    cells, layers = town
    return RiskTerrain(random_state=0).fit(cells, layers)


def test_planted_factors_recovered_with_covering_intervals(fitted: RiskTerrain) -> None:
    table = fitted.factors_
    assert list(table.columns) == [*FACTOR_COLUMNS, *STABILITY_COLUMNS]
    keys = {f"{r.factor}|{r.operationalisation}|{r.distance_m:g}": r for r in table.itertuples()}
    for key, rrv in TRUTH.items():
        assert key in keys, f"{key} not retained: {list(keys)}"
        row = keys[key]
        assert row.rrv_low <= rrv <= row.rrv_high, (key, row.rrv_low, row.rrv_high)
    assert "late_shops" not in set(table["factor"])
    lit = keys["street_lights|coverage|20"]
    assert lit.rrv_high < 1  # lighting is protective
    assert keys["street_light_outages|density|200"].deficit
    assert fitted.family_ == "poisson"


def test_overdispersed_counts_choose_negative_binomial() -> None:
    cells, layers = _town(2, nb_dispersion=1.0)
    model = RiskTerrain(random_state=0, alpha=0.02).fit(cells, layers)
    assert model.family_ == "negative_binomial"
    assert model.bics_["negative_binomial"] < model.bics_["poisson"]


def test_predict_min_one_and_surface_north_up(fitted: RiskTerrain, town, tmp_path: Path) -> None:
    cells, layers = town
    rrs = fitted.predict(cells, layers)
    assert rrs.min() == pytest.approx(1.0) and rrs.max() > 3
    surface = fitted.to_surface(cells, scores=rrs, cell_size_m=SIZE)
    path = surface.to_geotiff(tmp_path / "risk.tif")
    with rasterio.open(path) as src:
        arr = src.read(1)
        top = int(np.argmax(rrs))
        centre = cells.geometry.iloc[top].centroid
        row, col = src.index(centre.x, centre.y)
        assert arr[row, col] == pytest.approx(rrs[top], rel=1e-5)
        assert src.transform.e < 0


def test_estimator_api(fitted: RiskTerrain, town) -> None:
    cells, layers = town
    params = fitted.get_params()
    assert params["random_state"] == 0 and params["family"] == "auto"
    again = clone(fitted).fit(cells, layers)
    # the same fit twice in this process (reproducibility), not a comparison with stored numbers
    pd.testing.assert_frame_equal(again.factors_, fitted.factors_)
    assert "n_incidents" in cells and "risk_rrs" not in cells  # input untouched


def test_errors(town) -> None:
    cells, layers = town
    with pytest.raises(ConfigError, match="'family'"):
        RiskTerrain(family="gaussian").fit(cells, layers)
    with pytest.raises(ValidationError, match="'crimes'"):
        RiskTerrain().fit(cells, layers, y="crimes")
    with pytest.raises(InsufficientDataError, match="all zero"):
        RiskTerrain().fit(cells.assign(n_incidents=0), layers)


def test_no_candidate_layers_gives_empty_table(town) -> None:
    cells, layers = town
    model = RiskTerrain().fit(cells, {"streets": layers["streets"]})
    assert model.factors_.empty
    assert np.all(model.predict(cells, {}) == 1.0)


def _chicago_points(folder: Path, name: str) -> gpd.GeoDataFrame:
    df = pd.read_csv(folder / name)
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(df["x"], df["y"]), crs="EPSG:26971")


@pytest.mark.slow
def test_chicago_2017_overlay_end_to_end() -> None:
    """Burglaries 2017 on 500 m cells with outage reports (lighting deficit), abandoned buildings
    and liquor outlets: a readable RRV table comes out with the outages as a deficit factor."""
    from planner.grid import count_incidents, grid_from_boundary

    folder = shared_path("data", "chicago_2017_overlay")
    boundary = gpd.read_file(folder / "chicagoBoundary.geojson").to_crs("EPSG:26971")
    cells = grid_from_boundary(boundary, cell_size_m=500)
    cells = count_incidents(cells, _chicago_points(folder, "burglaries_2017.csv"))
    layers = {
        "street_light_outages": _chicago_points(folder, "street_lights_out_2017.csv"),
        "vacant_buildings": _chicago_points(folder, "abandoned_buildings_2017.csv"),
        "licensed_premises": _chicago_points(folder, "liquor_retail.csv"),
    }
    model = RiskTerrain(distances_m=(250, 500, 1000), random_state=0).fit(cells, layers)
    table = model.factors_
    assert not table.empty
    assert set(table.columns) >= {"factor", "operationalisation", "distance_m", "rrv", "rrv_low", "rrv_high"}
    assert np.all(table["rrv_low"] <= table["rrv"]) and np.all(table["rrv"] <= table["rrv_high"])
    outages = table[table["factor"] == "street_light_outages"]
    assert len(outages) == 1 and bool(outages["deficit"].iloc[0]) and outages["rrv"].iloc[0] > 1
    assert "lighting" in outages["addressed_by"].iloc[0]
    text = table.to_string()
    assert "street_light_outages" in text


def test_cli_risk_on_chicago_writes_rrv_table(tmp_path: Path, capsys) -> None:
    """``planner risk`` on Chicago 2017 (1 km cells, CSV layers in EPSG:26971) writes a readable
    risk_factors.csv with the outage reports as a deficit factor."""
    import json

    from planner.cli import main
    from planner.grid import count_incidents, grid_from_boundary

    folder = shared_path("data", "chicago_2017_overlay")
    boundary = gpd.read_file(folder / "chicagoBoundary.geojson").to_crs("EPSG:26971")
    cells = count_incidents(
        grid_from_boundary(boundary, cell_size_m=1000), _chicago_points(folder, "burglaries_2017.csv")
    )
    cells.attrs = {}
    cells.to_file(tmp_path / "cells.gpkg", layer="cells")
    code = main(
        [
            "risk",
            "--cells",
            f"{tmp_path / 'cells.gpkg'}::cells",
            "--layer",
            f"street_light_outages={folder / 'street_lights_out_2017.csv'}",
            "--layer",
            f"licensed_premises={folder / 'liquor_retail.csv'}",
            "--layer-crs",
            "EPSG:26971",
            "--distances",
            "500,1000",
            "--out",
            str(tmp_path / "out"),
            "--json",
        ]
    )
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    table = pd.read_csv(tmp_path / "out" / "risk_factors.csv")
    assert {"factor", "operationalisation", "distance_m", "rrv", "rrv_low", "rrv_high"} <= set(table.columns)
    assert "street_light_outages" in set(table["factor"])
    assert payload["family"] in {"poisson", "negative_binomial"}
    assert (tmp_path / "out" / "risk.tif").exists()


def _incidents_of(cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One robbery point per counted incident, spread inside its cell (seeded)."""
    rng = np.random.default_rng(4)
    counts = cells["n_incidents"].to_numpy()
    bounds = cells.geometry.bounds.to_numpy()[np.repeat(np.arange(len(cells)), counts)]
    x = rng.uniform(bounds[:, 0], bounds[:, 2])
    y = rng.uniform(bounds[:, 1], bounds[:, 3])
    return gpd.GeoDataFrame(
        {"category": np.full(len(x), "robbery")}, geometry=gpd.points_from_xy(x, y), crs=CRS
    )


def test_pipeline_stages_add_exposure_and_risk(town) -> None:
    """``pipeline.add_exposure`` then ``add_risk`` (as ``planner run`` calls them) put exposure
    columns and ``risk_rrs`` on the cells and a risk_factors table on the plan; the risk terrain is
    fitted on its own 50 m grid (a 16 km² town) and projected onto the plan's 100 m cells. Too few
    incidents skip the stage with a note instead of failing the run."""
    from planner import pipeline
    from planner.config import RunConfig
    from planner.plan import Plan

    cells, layers = town
    hotspots = gpd.GeoDataFrame(
        {"hotspot_id": ["H01"]}, geometry=[cells.geometry.iloc[:5].union_all()], crs=CRS
    )
    plan = Plan(
        config=RunConfig(),
        crs=cells.crs,
        incidents=_incidents_of(cells),
        quarantine=pd.DataFrame(),
        ingest_report={},
        study_area=gpd.GeoDataFrame(geometry=[cells.union_all()], crs=CRS),
        cells=cells,
        hotspots=hotspots,
        layers=layers,
    )
    plan = pipeline.add_risk(pipeline.add_exposure(plan))
    assert "street_lights__lit_share" in plan.cells and "street_lights__lit_share" in plan.hotspots
    assert plan.cells["risk_rrs"].min() == pytest.approx(1.0)
    assert {"factor", "rrv", "rrv_low", "rrv_high", "verdict", "crime"} <= set(plan.risk_factors.columns)
    assert "licensed_premises" in set(plan.risk_factors["factor"])
    assert plan.params["risk"]["cell_size_m"] == 50.0 and set(plan.params["risk"]["groups"]) == {"robbery"}
    assert plan.params["risk"]["timing"]["cpu_s"] > 0
    few = pipeline.add_risk(dataclasses.replace(plan, incidents=plan.incidents.iloc[:20]))
    assert "skipped" in few.params["risk"] and any("Risk terrain skipped" in w for w in few.warnings)


@pytest.mark.parametrize(("family", "alpha"), [("poisson", 1.0), ("negative_binomial", 0.5)])
def test_stepwise_irls_matches_statsmodels(family, alpha):
    import statsmodels.api as sm

    from planner.risk.glm import irls_loglik as _irls_loglik

    rng = np.random.default_rng(0)
    n = 3000
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 3))])
    offset = np.log(rng.uniform(0.5, 2, n))
    mu = np.exp(X @ [0.2, 0.3, -0.2, 0.1] + offset)
    y = rng.negative_binomial(2, 2 / (2 + mu)).astype(float)
    fam = sm.families.Poisson() if family == "poisson" else sm.families.NegativeBinomial(alpha=alpha)
    ref = sm.GLM(y, X, family=fam, offset=offset).fit()
    llf, fitted = _irls_loglik(y, X, offset, family, alpha)
    assert llf == pytest.approx(ref.llf, rel=1e-9)
    assert np.allclose(fitted, ref.fittedvalues, rtol=1e-5)
    singular = np.column_stack([X, X[:, 1]])
    assert _irls_loglik(y, singular, offset, family, alpha) == (-np.inf, None)


@pytest.mark.slow
def test_chicago_2017_fine_grid_factors_are_stable_or_marked() -> None:
    """Chicago 2017 burglaries with five 311/licence layers on the risk terrain's own grid
    (100 m cells for a city this size, checked again at 200 m): every reported factor's verdict
    agrees with its intervals at both sizes, so no factor is called a risk or protective unless
    both sizes say so, and a sign that flips is marked unstable."""
    from planner.risk.fine import FineOptions, fit_fine_terrain

    folder = shared_path("data", "chicago_2017_overlay")
    boundary = gpd.read_file(folder / "chicagoBoundary.geojson").to_crs("EPSG:26971")
    incidents = _chicago_points(folder, "burglaries_2017.csv").assign(category="burglary")
    layers = {
        "street_light_outages": _chicago_points(folder, "street_lights_out_2017.csv"),
        "vacant_buildings": _chicago_points(folder, "abandoned_buildings_2017.csv"),
        "licensed_premises": _chicago_points(folder, "liquor_retail.csv"),
        "abandoned_cars": _chicago_points(folder, "abandoned_cars_2017.csv"),
        "sanitation_complaints": _chicago_points(folder, "sanitation_complaints_2017.csv"),
    }
    terrain = fit_fine_terrain(incidents, boundary, layers, FineOptions(seed=1))
    table = terrain.factors
    assert terrain.params["cell_size_m"] == 100.0 and terrain.params["coarse_cell_size_m"] == 200.0
    assert not terrain.params["night_split"]  # no times of day in these files
    assert len(table) >= 2 and set(table["crime"]) == {"burglary"}
    assert (table["cell_size_m"] == 100.0).all() and (table["coarse_cell_size_m"] == 200.0).all()
    for row in table.itertuples():
        fine = (row.rrv_low, row.rrv_high)
        coarse = (row.rrv_low_coarse, row.rrv_high_coarse)
        if row.verdict == "risk":
            assert fine[0] > 1 and coarse[0] > 1, row
        elif row.verdict == "protective":
            assert fine[1] < 1 and coarse[1] < 1, row
        elif row.verdict == "unstable":
            assert not np.isfinite(row.rrv_coarse) or (row.rrv - 1) * (row.rrv_coarse - 1) < 0, row
        else:
            assert row.verdict == "not distinguishable from 1"
            assert fine[0] <= 1 <= fine[1] or coarse[0] <= 1 <= coarse[1], row
        assert row.distance_rule.startswith("cross-validated"), row
    # the point model estimates the same quantity at both sizes: no factor swings across 1
    stable = table[table["verdict"].isin(["risk", "protective"])]
    assert len(stable) >= 2
    assert np.all(np.abs(np.log(stable["rrv_coarse"] / stable["rrv"])) < np.log(2.0))


def test_no_factor_chosen_fits_the_base_model(town) -> None:
    """Counts unrelated to every layer: the search keeps no factor and the final fit is the base
    model (it used to index an empty point table and crash the pipeline on the bench's city)."""
    cells, layers = town
    noise = cells.assign(n_incidents=np.random.default_rng(7).poisson(3.0, len(cells)))
    model = RiskTerrain(random_state=0, max_factors=0).fit(noise, layers)
    assert model.factors_.empty
    assert np.allclose(model.predict(noise, layers), 1.0)
