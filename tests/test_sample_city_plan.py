"""Acceptance on the sample city: the ranked measures follow the generator's true drivers.

The sample city's truth (``sample_data/truth.json``) places darkness zones (no working lamp within
40 m) that raise night street crime 2.5-fold, large car parks where vehicle crime is 25 times the
street rate, and residential neighbourhoods where burglary concentrates. An analyst planning for
street crime should see improved lighting first in the dark hotspots; one planning for vehicle
crime a car-park measure first where car-park crime dominates; one planning for burglary a
dwelling measure first in the residential hotspots. Without car parks in the data (no location
type, no car_parks layer) no car-park measure appears. Gating needs an opt-in; alarm-only never shows.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.spatial import cKDTree

from planner import pipeline
from planner.config import RunConfig
from planner.interventions.catalog import load_catalogue

pytestmark = pytest.mark.slow  # three sample-city plans

SAMPLE = pipeline.SAMPLE_DIR
CAR_PARK_MEASURES = {i for i, item in load_catalogue().items() if item.reach == "car_park"}
DWELLING_MEASURES = {i for i, item in load_catalogue().items() if item.reach == "residential_burglary"}


def _plan(**kwargs):
    if not (SAMPLE / "city.gpkg").exists():
        pytest.skip("sample city not generated (make sample)")
    stages = [("exposure", pipeline.add_exposure), ("recommend", pipeline.add_recommendations)]
    sources = {**pipeline.sample_city_sources(), **kwargs.pop("sources", {})}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "_later_stages", lambda: stages)
        return pipeline.run(RunConfig(**sources, **kwargs))


@pytest.fixture(scope="module")
def truth():
    return json.loads((SAMPLE / "truth.json").read_text())


@pytest.fixture(scope="module")
def street_plan():
    return _plan(categories=["robbery", "assault", "theft_from_vehicle"])


@pytest.fixture(scope="module")
def vehicle_plan():
    return _plan(categories=["theft_from_vehicle"])


@pytest.fixture(scope="module")
def burglary_plan():
    return _plan(categories=["burglary"])


def _joined(plan):
    return gpd.sjoin(plan.incidents, plan.hotspots[["hotspot_id", "geometry"]], predicate="within")


def _first(plan, hid):
    rec = plan.recommendations
    return rec[(rec["hotspot_id"] == hid) & (rec["rank"] == 1)].iloc[0]


def _best_return(plan, hid):
    """The situational measure with the highest benefit-cost ratio in a hotspot (#23: with effects
    centred on the cited point, decay and avoidable costs, neither lighting nor the car-park measures
    pay back in the sample city's street and vehicle hotspots, so their rank is the cheapest-first
    order of the measures that do not; the measure matching the place's mechanism still gives the
    best return of the situational ones with a measured effect).
    """
    rec = plan.recommendations
    g = rec[
        (rec["hotspot_id"] == hid) & (rec["kind"] == "situational") & ~rec["effect_unmeasured"].astype(bool)
    ]
    return g.sort_values("bcr", ascending=False, kind="stable").iloc[0]


def _dark_hotspots(plan, truth):
    """Hotspots holding a true dark-zone centre, or where most night crime is truly dark (truth's
    operationalisation: no working lamp within 40 m)."""
    hs = plan.hotspots
    centres = [shapely.Point(x, y) for x, y in truth["dark_zone_centres"]]
    with_centre = {
        h for h, g in zip(hs["hotspot_id"], hs.geometry, strict=True) if any(g.contains(p) for p in centres)
    }
    lamps = plan.layers["street_lights"]
    working = lamps[lamps["status"] == "working"]
    joined = _joined(plan)
    night = pd.to_datetime(joined["occurred_at"]).dt.hour.isin(truth["night_hours"])
    dist, _ = cKDTree(np.c_[working.geometry.x, working.geometry.y]).query(
        np.c_[joined.geometry.x, joined.geometry.y]
    )
    dark_share = (
        (pd.Series(dist > truth["lamp_radius_m"], index=joined.index)[night])
        .groupby(joined.loc[night, "hotspot_id"])
        .mean()
    )
    return sorted(with_centre | set(dark_share[dark_share >= 0.5].index))


def test_lighting_gives_the_best_situational_return_in_the_dark_hotspots(street_plan, truth):
    dark = _dark_hotspots(street_plan, truth)
    assert dark, "no street-crime hotspot covers a dark zone of the sample city"
    for hid in dark:
        first = _best_return(street_plan, hid)
        assert first["intervention_id"] == "lighting", f"{hid}: first measure {first['intervention_id']}"
        assert (
            f"{int(first['evidenced_count'])} at night" in first["reasons"]
            or "at night" in first["reach_method"]
        )
        assert "under-lit" in first["reasons"]


def test_lighting_reaches_only_night_time_crime_in_under_lit_places(street_plan):
    light = street_plan.recommendations.query("intervention_id == 'lighting'")
    assert len(light)
    assert (light["reached_count"] < light["evidenced_count"]).all()
    assert (light["time_of_day"] == "measured").all()
    assert light["reach_method"].str.contains("lux").all()  # the sample city ships a lux raster


def test_car_park_measure_gives_the_best_situational_return_where_car_park_crime_dominates(vehicle_plan):
    joined = _joined(vehicle_plan)
    share = joined.assign(cp=joined["location_type"].eq("car_park")).groupby("hotspot_id")["cp"].mean()
    dominated = share[share >= 0.4].index.tolist()
    assert dominated, f"no hotspot dominated by car-park vehicle crime; shares {share.round(2).to_dict()}"
    rec = vehicle_plan.recommendations
    for hid in dominated:
        first = _best_return(vehicle_plan, hid)
        assert first["intervention_id"] in CAR_PARK_MEASURES, (
            f"{hid}: first measure {first['intervention_id']}"
        )
        assert "at a car park" in first["reasons"]
        cams = rec[(rec["hotspot_id"] == hid) & (rec["intervention_id"] == "cctv_carpark")]
        assert len(cams) == 1 and cams["privacy_note"].iloc[0].strip()


def test_dwelling_measure_ranks_first_in_the_residential_hotspots(burglary_plan):
    joined = _joined(burglary_plan)
    share = joined.assign(home=joined["location_type"].eq("dwelling")).groupby("hotspot_id")["home"].mean()
    residential = share[share >= 0.8].index.tolist()
    assert residential
    for hid in residential:
        first = _first(burglary_plan, hid)
        assert first["intervention_id"] in DWELLING_MEASURES, (
            f"{hid}: first measure {first['intervention_id']}"
        )
        assert "burglaries at dwellings" in first["reasons"] and "dwelling" in first["reasons"]


def test_without_car_parks_in_the_data_no_car_park_measure_appears(tmp_path):
    raw = pd.read_csv(SAMPLE / "incidents.csv")
    raw = raw[raw["category"] == "theft_from_vehicle"].drop(columns="location_type")
    path = tmp_path / "no_location_type.csv"
    raw.to_csv(path, index=False)
    layers = {k: v for k, v in pipeline.sample_city_sources()["layers"].items() if k != "car_parks"}
    plan = _plan(sources={"incidents": str(path), "layers": layers})
    ids = set(plan.recommendations["intervention_id"])
    assert ids and not ids & CAR_PARK_MEASURES
    reasons = {r["intervention_id"]: r["reason"] for r in plan.recommendations.attrs["not_offered"]}
    assert "no location type and no car_parks layer" in reasons["cctv_carpark"]


def test_probabilities_are_not_one_almost_everywhere(street_plan, burglary_plan):
    p = pd.concat([street_plan.recommendations, burglary_plan.recommendations])["p_benefit_exceeds_cost"]
    assert (p >= 0.999).mean() < 0.5, p.round(3).value_counts().head()
    assert ((p > 0.01) & (p < 0.99)).mean() > 0.2


def test_uk_sample_city_is_costed_in_pounds_with_uk_law(street_plan):
    rec = street_plan.recommendations
    assert set(rec["currency"]) == {"GBP"} and set(rec["jurisdiction"]) == {"UK"}
    assert street_plan.config.jurisdiction == "UK" and street_plan.config.currency == "GBP"
    assert street_plan.params["recommend"]["rank_by"] == "net_benefit_per_cost"


def test_gating_needs_the_opt_in_and_alarm_only_never_appears(street_plan, vehicle_plan):
    for plan in (street_plan, vehicle_plan):
        ids = set(plan.recommendations["intervention_id"])
        assert "alley_gates" not in ids
        assert "alarm_only" not in ids
    burglary = _plan(categories=["burglary"], allow_access_restriction=True)
    rec = burglary.recommendations
    assert "alarm_only" not in set(rec["intervention_id"])
    gates = rec[rec["intervention_id"] == "alley_gates"]
    assert len(gates), "with the opt-in, alley gating is considered in the alley neighbourhoods"
    assert gates["access_note"].str.len().min() > 0


def test_every_recommendation_traces_to_a_source(street_plan):
    rec = street_plan.recommendations
    assert rec["source"].str.len().min() > 0
    assert rec["cost_source"].str.len().min() > 0
    assert rec["rank_reason"].str.startswith("Ranked ").all()


def test_no_hotspot_ranks_a_losing_measure_above_a_paying_one(street_plan, vehicle_plan, burglary_plan):
    """#23 acceptance on the sample city: in every hotspot of the three plans, the measures with
    expected net benefit > 0 rank above those with expected net benefit < 0, and a hotspot where
    no situational measure pays back says so in its note."""
    for plan in (street_plan, vehicle_plan, burglary_plan):
        for hid, g in plan.recommendations.groupby("hotspot_id"):
            paying, losing = g.loc[g["net_benefit"] > 0, "rank"], g.loc[g["net_benefit"] < 0, "rank"]
            if len(paying) and len(losing):
                assert paying.max() < losing.min(), (hid, g[["intervention_id", "net_benefit", "rank"]])
            pays = ((g["net_benefit"] > 0) & (g["kind"] == "situational")).any()
            assert (g["hotspot_note"] == "").all() == pays, hid


def test_hotspots_carry_their_ward_and_the_portfolio_can_cover_every_ward(street_plan):
    from planner.interventions.portfolio import choose_portfolio

    hs = street_plan.hotspots
    assert set(hs["ward_id"]) <= {"W1", "W2", "W3", "W4", "W5"}
    assert hs["ward_id"].notna().all()
    rec = street_plan.recommendations
    assert (
        rec["ward_id"] == rec["hotspot_id"].map(dict(zip(hs["hotspot_id"], hs["ward_id"], strict=True)))
    ).all()
    budget = float(rec.loc[rec["rank"] == 1, "cost"].min()) * 3
    free = choose_portfolio(rec, budget=budget)
    wards = set(rec["ward_id"])
    fair = choose_portfolio(rec, budget=float(rec["cost"].sum()), min_per_ward=1)
    assert set(fair["ward_id"]) == wards
    assert len(free) >= 1
