"""Every crime costed, or said not to be (#23 item 3).

Every category of the shipped category map is either costed in each jurisdiction's table or declared
not costed with a reason; aggravated assaults (and shootings with a victim) are recognised and costed;
a crime without a unit cost is never valued at zero inside a ranking: the benefit is computed on the
costed crimes, and the uncosted ones are reported with their share.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from planner import pipeline
from planner.config import RunConfig
from planner.interventions.catalog import load_catalogue
from planner.interventions.costs import TABLES, crime_cost, not_costed_reason, value_of_mix
from planner.interventions.jurisdictions import get_jurisdiction, load_jurisdictions
from planner.interventions.recommend import recommend
from planner.io.categories import load_category_map

CHICAGO = (350000.0, 570000.0)  # EPSG:26971 (Illinois East), Chicago: the US
MAP_CATEGORIES = sorted({rule.name for rule in load_category_map().rules})
JURISDICTIONS = sorted(load_jurisdictions())


@pytest.mark.parametrize("code", JURISDICTIONS)
@pytest.mark.parametrize("category", MAP_CATEGORIES)
def test_every_category_is_costed_or_declared_not_costed(category, code):
    """Category map × jurisdiction: a unit cost, or an explicit 'not costed' entry with its reason."""
    j = get_jurisdiction(code)
    table = TABLES[j.crime_costs]
    if category in table.rows:
        cost = crime_cost(category, j)
        assert cost is not None and cost.amount > 0 and cost.source
        assert category not in table.not_costed, f"{category} is both costed and declared not costed"
    else:
        reason = table.not_costed.get(category, "")
        assert reason.startswith("not costed"), (
            f"{category} has no unit cost in {table.name} ({code}) and is not declared not costed; add a "
            "cost row with its source or a not_costed entry saying why"
        )
        assert not_costed_reason(category, j) == reason


def test_every_cost_row_carries_an_interval_and_its_basis():
    for table in TABLES.values():
        for category, row in table.rows.items():
            low, high = row.interval
            assert low <= row.amount <= high, (table.name, category)
            assert row.interval_basis, (table.name, category)


@pytest.mark.parametrize(
    "name",
    [
        "AGGRAVATED ASSAULT",
        "ASSAULT - AGGRAVATED",
        "AGG ASSAULT",
        "AGG. ASSAULT",
        "BATTERY - AGGRAVATED",
        "ASSAULT W/DEADLY WEAPON",
        "ASSAULT WITH DEADLY WEAPON, AGGRAVATED ASSAULT",
        "ASSAULT W/DANGEROUS WEAPON",
        "aggravated-assault",
        "FELONIOUS ASSAULT",
        "SHOOTING",
        "Non-Fatal Shooting",
        "GUNSHOT WOUND",
        "FELONY ASSAULT",
        "AGG ASSAULT FAM/DATE VIOLENCE",
    ],
)
def test_publishers_aggravated_assault_names_map_to_aggravated_assault(name):
    assert load_category_map().match(name) == "aggravated_assault"


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("SIMPLE ASSAULT", "assault"),
        ("AGGRAVATED SEXUAL ASSAULT", "sexual_offence"),
        ("AGGRAVATED BURGLARY", "burglary"),
        ("AGGRAVATED ROBBERY", "robbery"),
        ("Fatal shooting", "homicide"),
        ("SHOTS FIRED", "shooting"),
        ("CRIM SEXUAL ASSAULT - AGGRAVATED: HANDGUN", "sexual_offence"),
        ("SEXUAL ASSAULT W/ WEAPON", "sexual_offence"),
        ("DOMESTIC VIOLENCE", "violence"),
        ("ShotSpotter alert", "shooting"),
    ],
)
def test_other_aggravated_and_gun_names_keep_their_category(name, category):
    assert load_category_map().match(name) == category


def test_aggravated_assault_is_costed_in_every_jurisdiction_with_its_source():
    us, uk, ca = (get_jurisdiction(c) for c in ("US", "UK", "CA"))
    cost = crime_cost("aggravated_assault", us)
    assert cost is not None and "McCollister" in cost.source
    assert cost.amount == pytest.approx(107020 * 313.689 / 215.303)
    assert cost.low == pytest.approx(cost.amount) and cost.high > cost.amount  # DeLisi et al. 2010 WTP
    assert "DeLisi" in cost.interval_basis
    ca_cost = crime_cost("aggravated_assault", ca)
    assert ca_cost is not None and ca_cost.amount == pytest.approx(cost.amount * 1.37)
    uk_cost = crime_cost("aggravated_assault", uk)
    assert uk_cost is not None and uk_cost.amount == pytest.approx(14050 * 1.339)
    assert "violence with injury" in uk_cost.offence and "Home Office" in uk_cost.source


def test_measures_for_assault_apply_to_aggravated_assault_with_the_same_effect():
    for item in load_catalogue().values():
        if "assault" not in item.crime_types:
            continue
        assert "aggravated_assault" in item.crime_types, item.id
        assert item.effect.for_category("aggravated_assault") == item.effect.for_category("assault"), item.id


def test_uncosted_crimes_are_left_out_of_the_value_and_reported_with_their_share():
    us = get_jurisdiction("US")
    mv = value_of_mix(pd.Series({"assault": 3, "burglary": 1}), us)
    burglary = crime_cost("burglary", us)
    assert burglary is not None
    assert mv.value == pytest.approx(burglary.amount)  # the mean over the costed crimes, not diluted
    assert mv.costed_share == pytest.approx(0.25)
    assert [(c, round(s, 2)) for c, s, _ in mv.uncosted] == [("assault", 0.75)]
    assert "aggravated" in mv.uncosted[0][2]


def _us_frames(categories: np.ndarray) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    x0, y0 = CHICAGO
    rng = np.random.default_rng(3)
    n = len(categories)
    xy = rng.uniform(5, 195, (n, 2)) + np.array([x0, y0])
    t = pd.Timestamp("2023-01-01") + pd.to_timedelta(np.arange(n) % 730, unit="D") + pd.Timedelta(hours=23)
    inc = gpd.GeoDataFrame(
        {"occurred_at": t, "category": categories}, geometry=[Point(x, y) for x, y in xy], crs=26971
    )
    inc.attrs["time_resolution"] = "minute"
    hs = gpd.GeoDataFrame(
        {"hotspot_id": ["H01"], "area_m2": [40000.0], "n_incidents": [n], "cameras__covered_share": [0.0]},
        geometry=[box(x0, y0, x0 + 200, y0 + 200)],
        crs=26971,
    )
    return hs, inc


def test_a_measure_reaching_only_uncosted_crimes_is_not_valued_at_zero_nor_ranked_above_costed_ones():
    """US 'assault' (aggravation unknown) is not costed: its measures show their cost, no benefit
    (NaN, never 0 → −1 per unit spent), the share not costed, and rank after the costed measures."""
    hs, inc = _us_frames(np.r_[np.full(80, "assault"), np.full(40, "burglary")])
    recs = recommend(hs, inc, jurisdiction="US")
    assert len(recs)
    assert not np.isclose(recs["net_benefit_per_cost"].to_numpy(float), -1.0, atol=1e-3).any()
    # city-centre CCTV reaches assault, robbery, theft and criminal damage: here only assault
    row = recs[recs["intervention_id"] == "cctv_centre"].iloc[0]
    assert np.isnan(row["benefit"]) and np.isnan(row["net_benefit_per_cost"])
    assert row["cost"] > 0 and row["costed_share"] == 0
    assert "assault 100%" in row["uncosted_crimes"] and "not valued at zero" in row["rank_reason"]
    assert "never valued at zero" in row["reasons"]
    patrol = recs[recs["intervention_id"] == "hotspot_patrol"].iloc[0]  # assault and burglary
    assert patrol["costed_share"] == pytest.approx(40 / 120, abs=1e-3)
    assert "assault 67%" in patrol["uncosted_crimes"]
    assert patrol["uncosted_hotspot_share"] == pytest.approx(80 / 120, abs=1e-3)
    assert "benefit is computed on the costed crimes only" in patrol["reasons"]
    costed = recs[recs["net_benefit"].notna() & recs["kind"].ne("comparator")]
    uncosted = recs[recs["net_benefit"].isna() & recs["kind"].ne("comparator")]
    if len(costed) and len(uncosted):
        assert costed["rank"].max() < uncosted["rank"].min()


def test_us_aggravated_assault_file_gets_costed_measures(tmp_path):
    """The acceptance case: a US file of 200 aggravated assaults in a few clusters, run with
    jurisdiction US, gets measures whose benefit is valued (positive), none valued at zero."""
    rng = np.random.default_rng(23)
    centres = np.array([[-87.650, 41.880], [-87.630, 41.850], [-87.700, 41.900], [-87.660, 41.860]])
    sizes = [80, 60, 40, 20]
    pts = np.vstack([c + rng.normal(0, 0.0008, (k, 2)) for c, k in zip(centres, sizes, strict=True)])
    days = rng.integers(0, 730, len(pts))
    hours = rng.choice([1, 2, 21, 22, 23, 14], len(pts))
    when = pd.Timestamp("2022-01-01") + pd.to_timedelta(days, unit="D") + pd.to_timedelta(hours, unit="h")
    path = tmp_path / "agg_assaults.csv"
    pd.DataFrame(
        {
            "date": when.strftime("%Y-%m-%d %H:%M"),
            "longitude": pts[:, 0],
            "latitude": pts[:, 1],
            "primary_type": "AGGRAVATED ASSAULT",
        }
    ).to_csv(path, index=False)
    plan = pipeline.run(RunConfig(incidents=str(path), crs="EPSG:4326", jurisdiction="US"))
    assert set(plan.incidents["category"]) == {"aggravated_assault"}
    assert "aggravated_assault" not in plan.params["categories_without_measure"]
    recs = plan.recommendations
    assert recs is not None and len(recs), "measures for aggravated assault are offered"
    assert set(recs["currency"]) == {"USD"}
    assert np.allclose(recs["costed_share"].to_numpy(float), 1.0)
    assert (recs["value_per_crime"] > 100_000).all()  # McCollister's $107,020 (2008) at 2024 prices
    assert (recs["benefit"] > 0).all()
    assert not np.isclose(recs["net_benefit_per_cost"].to_numpy(float), -1.0, atol=1e-3).any()
