"""Acceptance: on the sample city the risk-terrain model recovers the generator's true factors.

The generator (``planner.synth``, truth in ``sample_data/truth.json``) multiplies each crime type's
rate per 25 m pixel by known relative risks. Each factor is checked on the crime types and hours it
acts on, with the land use as covariates and the grid aligned with the generator's pixels: the
risk factor must be retained and its RRV interval (cluster-robust) must cover the true value; the
protective one (camera coverage) must be retained and come out protective. Night street crime is taken after the 2024-07-01 lighting
upgrade, because the lamp layer describes the streets as they are now.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest

from planner import grid, pipeline
from planner.config import RunConfig
from planner.risk import RiskTerrain, risk_features

SAMPLE = pipeline.SAMPLE_DIR
DISTANCES = (40.0, 50.0, 100.0, 150.0)
LAYERS = [
    "street_lights",
    "streets",
    "cameras",
    "access_points",
    "transit_stops",
    "cash_machines",
    "licensed_premises",
    "car_parks",
]
# truth.json factor -> (risk-terrain factor name, accepted operationalisations)
NAMES = {
    "darkness": ("street_lights", {"unlit_street"}),
    "camera_coverage": ("cameras", {"coverage"}),
    "alley_entrances": ("access_points[alley_entrance]", {"proximity", "density"}),
    "licensed_premises": ("licensed_premises", {"proximity", "density"}),
    "transit_stops": ("transit_stops", {"proximity", "density"}),
    "cash_machines": ("cash_machines", {"proximity", "density"}),
    "car_parks": ("car_parks", {"area_share"}),
}
NIGHT = "night street crime after the upgrade"
SUBSETS = {
    NIGHT: ["darkness", "camera_coverage"],
    "burglary": ["alley_entrances"],
    "assault and criminal damage": ["licensed_premises"],
    "robbery": ["transit_stops", "cash_machines"],
    "theft from vehicles": ["car_parks"],
}


@pytest.fixture(scope="module")
def city():
    if not (SAMPLE / "city.gpkg").exists():
        pytest.skip("sample city not generated (make sample)")
    truth = json.loads((SAMPLE / "truth.json").read_text())
    inputs = pipeline.load_inputs(RunConfig(**pipeline.sample_city_sources()))
    layers = {k: inputs.layers[k] for k in LAYERS}
    cells = grid.grid_from_boundary(inputs.study_area, cell_size_m=truth["pixel_m"])
    land_use = inputs.layers["land_use"][["zone", "geometry"]]
    centres = gpd.GeoDataFrame(geometry=cells.geometry.centroid, crs=cells.crs)
    zone = gpd.sjoin(centres, land_use, how="left", predicate="within")
    zone = zone[~zone.index.duplicated()]["zone"]
    for z in ("centre", "industrial", "park"):
        cells[f"lu_{z}"] = (zone == z).astype(float).to_numpy()
    features = risk_features(cells, layers, distances_m=DISTANCES, view_samples=1, occlusion=False)
    return truth, inputs.incidents, cells, layers, features


def _subset(incidents: pd.DataFrame, name: str) -> pd.DataFrame:
    when = pd.to_datetime(incidents["occurred_at"])
    night = (when.dt.hour >= 19) | (when.dt.hour < 7)
    cat = incidents["category"]
    masks = {
        NIGHT: cat.isin(["robbery", "assault", "theft_from_vehicle"]) & night & (when >= "2024-07-01"),
        "burglary": cat.eq("burglary"),
        "assault and criminal damage": cat.isin(["assault", "criminal_damage"]),
        "robbery": cat.eq("robbery"),
        "theft from vehicles": cat.eq("theft_from_vehicle"),
    }
    return incidents[masks[name]]


@pytest.mark.parametrize("subset", list(SUBSETS))
def test_true_factors_are_retained_with_covering_intervals(city, subset):
    truth, incidents, cells, layers, features = city
    counts = grid.count_incidents(cells, _subset(incidents, subset))
    model = RiskTerrain(
        distances_m=DISTANCES,
        covariates=("lu_centre", "lu_industrial", "lu_park"),
        view_samples=1,
        occlusion=False,
        alpha=0.001,
        random_state=0,
    ).fit(counts, layers, features=features)
    table = model.factors_
    for factor in SUBSETS[subset]:
        name, ops = NAMES[factor]
        true_rr = truth["factors"][factor]["rr"]
        rows = table[(table["factor"] == name) & table["operationalisation"].isin(ops)]
        assert len(rows) == 1, f"{subset}: {factor} not retained; factors:\n{table.to_string()}"
        row = rows.iloc[0]
        if true_rr < 1:  # a protective factor must come out protective
            assert row["rrv_high"] < 1, f"{subset}: {factor} should come out protective:\n{table.to_string()}"
            continue
        assert row["rrv_low"] <= true_rr <= row["rrv_high"], (
            f"{subset}: {factor} RRV {row['rrv']:.2f} [{row['rrv_low']:.2f}, {row['rrv_high']:.2f}] "
            f"misses the true {true_rr}"
        )
    assert model.interval_method_.startswith("cluster-robust")
