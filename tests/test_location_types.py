"""Issue #23 item 4: location types as a first-class column.

A ``location_type`` role is detected from the values (or named with ``--column`` / ``columns=``),
publishers' place types are mapped onto the mechanism keys of reach and applicability by the
shipped vocabulary, and car-park measures reach the crimes a publisher records at a
"PARKING LOT/GARAGE(NON.RESID.)" or in "vehicle parking".
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from planner.interventions.catalog import load_catalogue
from planner.interventions.recommend import recommend
from planner.io import read_incidents
from planner.io.detect import detect_roles
from planner.io.locations import KEYS, load_place_vocabulary, location_keys, place_vocabulary

# Real publishers' strings → place type (None: not a place type, kept as "other" in the data).
PUBLISHED = [
    # Chicago, location_description
    ("STREET", "street"),
    ("RESIDENCE", "dwelling"),
    ("APARTMENT", "dwelling"),
    ("SIDEWALK", "street"),
    ("PARKING LOT/GARAGE(NON.RESID.)", "car_park"),
    ("SMALL RETAIL STORE", "commercial"),
    ("RESTAURANT", "commercial"),
    ("ALLEY", "alley"),
    ("RESIDENCE-GARAGE", "dwelling"),
    ("RESIDENCE PORCH/HALLWAY", "dwelling"),
    ("RESIDENTIAL YARD (FRONT/BACK)", "dwelling"),
    ("VEHICLE NON-COMMERCIAL", "other"),
    ("GAS STATION", "commercial"),
    ("BAR OR TAVERN", "licensed_premises"),
    ("TAVERN/LIQUOR STORE", "licensed_premises"),
    ("CTA TRAIN", "transit"),
    ("CTA BUS STOP", "transit"),
    ("CTA PARKING LOT / GARAGE / OTHER PROPERTY", "car_park"),
    ("POLICE FACILITY/VEH PARKING LOT", "car_park"),
    ("SCHOOL, PUBLIC, BUILDING", "school"),
    ("PARK PROPERTY", "park"),
    ("DRIVEWAY - RESIDENTIAL", "dwelling"),
    ("HIGHWAY/EXPRESSWAY", "street"),
    ("HOSPITAL BUILDING/GROUNDS", "other"),
    # NYC, prem_typ_desc
    ("RESIDENCE - APT. HOUSE", "dwelling"),
    ("RESIDENCE-HOUSE", "dwelling"),
    ("RESIDENCE - PUBLIC HOUSING", "dwelling"),
    ("PARKING LOT/GARAGE (PUBLIC)", "car_park"),
    ("GROCERY/BODEGA", "commercial"),
    ("CHAIN STORE", "commercial"),
    ("BAR/NIGHT CLUB", "licensed_premises"),
    ("TRANSIT - NYC SUBWAY", "transit"),
    ("PUBLIC SCHOOL", "school"),
    ("PARK/PLAYGROUND", "park"),
    # LA, premis_desc
    ("SINGLE FAMILY DWELLING", "dwelling"),
    ("MULTI-UNIT DWELLING (APARTMENT, DUPLEX, ETC)", "dwelling"),
    ("PARKING UNDERGROUND/BUILDING", "car_park"),
    ("GARAGE/CARPORT", "dwelling"),
    ("MTA BUS", "transit"),
    ("BAR/COCKTAIL/NIGHTCLUB", "licensed_premises"),
    ("OTHER BUSINESS", "commercial"),
    ("VEHICLE, PASSENGER/TRUCK", "other"),
    # Toronto, LOCATION_TYPE
    ("Streets, Roads, Highways (Bicycle Path, Private Road)", "street"),
    ("Apartment (Rooming House, Condo)", "dwelling"),
    ("Parking Lots (Apt., Commercial Or Non-Commercial)", "car_park"),
    # Kansas City style, and the airport car park of the issue
    ("highway/road/alley/street/sidewalk", "street"),
    ("parking/drop lot/garage", "car_park"),
    ("residence/home", "dwelling"),
    ("vehicle parking", "car_park"),
    # police.uk location strings: a street name is where the point was snapped, not a place type
    ("On or near Hathersage Close", None),
    ("On or near Station Road", None),
    ("On or near Mansfield Road", None),
    ("Mansfield Road", None),
    ("On or near Parking Area", "car_park"),
    ("On or near Supermarket", "commercial"),
    ("On or near Nightclub", "licensed_premises"),
    ("On or near Petrol Station", "commercial"),
    # the keys themselves (the sample city's location_type)
    *((k, k) for k in KEYS),
]


@pytest.mark.parametrize(("value", "key"), PUBLISHED)
def test_vocabulary_maps_publishers_place_types(value, key):
    assert place_vocabulary().match(value) == key


def test_unmapped_values_are_other_and_counted_missing_stays_missing():
    values = pd.Series(["RESIDENCE", "WEIRD PLACE", None, "", "WEIRD PLACE", "On or near Hathersage Close"])
    keys, unmapped = place_vocabulary().map_values(values)
    assert keys.tolist()[:2] == ["dwelling", "other"]
    assert keys.isna().tolist() == [False, False, True, True, False, False]
    assert unmapped == {"WEIRD PLACE": 2, "On or near Hathersage Close": 1}
    assert location_keys(pd.Series(["car_park", "licensed_premises"])).tolist() == [
        "car_park",
        "licensed_premises",
    ]


def test_vocabulary_file_problems_are_reported(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[place]]\nkey = "carpark"\npatterns = ["x"]\n')
    with pytest.raises(Exception, match="carpark"):
        load_place_vocabulary(bad)


def _frame(n, location, name="loc_cat", seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "date": pd.date_range("2023-01-01", periods=n, freq="7h").strftime("%Y-%m-%d %H:%M"),
            "offense": rng.choice(["BURGLARY", "THEFT FROM MOTOR VEHICLE"], n),
            "lon": -87.63 + rng.normal(0, 0.01, n),
            "lat": 41.88 + rng.normal(0, 0.01, n),
            name: rng.choice(location, n),
        }
    )


@pytest.mark.parametrize(
    ("name", "values"),
    [
        (
            "location_description",
            ["STREET", "RESIDENCE", "APARTMENT", "PARKING LOT/GARAGE(NON.RESID.)", "ALLEY"],
        ),
        ("prem_typ_desc", ["STREET", "RESIDENCE-HOUSE", "GROCERY/BODEGA", "PARKING LOT/GARAGE (PUBLIC)"]),
        ("premis_desc", ["SINGLE FAMILY DWELLING", "STREET", "PARKING LOT", "MTA BUS"]),
        ("loc_cat", ["residence", "parking", "street", "bar"]),
        ("venue", ["car_park", "dwelling", "street"]),  # the column name is no help here
    ],
)
def test_place_type_column_is_detected_from_its_values(name, values):
    roles = detect_roles(_frame(300, values, name)).roles
    assert roles.get("location_type") == name


def test_police_uk_street_strings_are_not_taken_as_place_types():
    streets = [
        f"On or near {s} {t}"
        for s in ("Hathersage", "Mansfield", "Station", "Derby")
        for t in ("Close", "Road")
    ]
    frame = _frame(300, [*streets, "On or near Parking Area", "On or near Supermarket"], "location")
    found = detect_roles(frame)
    assert "location_type" not in found.roles
    assert any("'location' is named like a place type" in n for n in found.notes)
    # named, it is used: the points of interest map, the street names are "other"
    named = detect_roles(frame, {"location_type": "location"}).roles
    assert named["location_type"] == "location"


def test_a_location_type_column_of_street_names_is_kept_as_source_only(tmp_path):
    frame = _frame(200, ["On or near Hathersage Close", "On or near Station Road"], "location_type")
    path = tmp_path / "streets.csv"
    frame.to_csv(path, index=False)
    r = read_incidents(path)
    assert "location_type" not in r.report.columns_used
    assert "location_type" not in r.incidents.columns  # not a place type: never read as one downstream
    assert r.incidents["source_location_type"].str.startswith("On or near").all()


def test_named_column_maps_and_reports_unmapped_values(tmp_path):
    frame = _frame(200, ["On or near Parking Area", "On or near Hathersage Close"], "location")
    path = tmp_path / "policeuk.csv"
    frame.to_csv(path, index=False)
    r = read_incidents(path, columns={"location_type": "location"})
    assert r.report.columns_used["location_type"] == "location"
    inc = r.incidents
    parking = inc["source_location_type"] == "On or near Parking Area"
    assert (inc.loc[parking, "location_type"] == "car_park").all()
    assert (inc.loc[~parking, "location_type"] == "other").all()
    places = r.report.location_types
    assert places["column"] == "location"
    assert places["unmapped"] == {"On or near Hathersage Close": int((~parking).sum())}
    assert any("does not know" in n and "Hathersage Close" in n for n in r.report.notes)


# ------------------------------------------------------------------ burglaries and car parks
X0, Y0 = 448000.0, 4640000.0  # UTM 16N (EPSG:32616), Chicago


def _burglaries_and_car_parks(tmp_path):
    """Three 200 m squares, two years: A, 80 burglaries at dwellings; B, 60 thefts from vehicles in
    a car park ("PARKING LOT/GARAGE(NON.RESID.)" and "vehicle parking"); C, an airport car park
    where 12 of 48 thefts from vehicles (25 %) are in "vehicle parking", the rest in the terminal.
    """
    rng = np.random.default_rng(23)
    rows = []

    def add(n, x, y, offence, places):
        for i in range(n):
            rows.append(
                {
                    "case_number": f"C{len(rows):05d}",
                    "occurred": (
                        pd.Timestamp("2022-01-01") + pd.Timedelta(hours=int(rng.integers(0, 17000)))
                    ).strftime("%Y-%m-%d %H:%M"),
                    "primary_type": offence,
                    "x_coordinate": X0 + x + rng.uniform(10, 190),
                    "y_coordinate": Y0 + y + rng.uniform(10, 190),
                    "loc_cat": places[i % len(places)],
                }
            )

    add(80, 0, 0, "BURGLARY", ["RESIDENCE", "APARTMENT", "RESIDENCE-GARAGE", "RESIDENCE PORCH/HALLWAY"])
    add(60, 1000, 0, "THEFT FROM MOTOR VEHICLE", ["PARKING LOT/GARAGE(NON.RESID.)", "vehicle parking"])
    add(12, 0, 1000, "THEFT FROM MOTOR VEHICLE", ["vehicle parking"])
    add(36, 0, 1000, "THEFT FROM MOTOR VEHICLE", ["AIRPORT TERMINAL UPPER LEVEL - SECURE AREA"])
    path = tmp_path / "burglaries_and_car_parks.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    hotspots = gpd.GeoDataFrame(
        {"hotspot_id": ["A", "B", "C"], "area_m2": [40000.0] * 3, "n_incidents": [80, 60, 48]},
        geometry=[
            box(X0 + dx, Y0 + dy, X0 + dx + 200, Y0 + dy + 200) for dx, dy in ((0, 0), (1000, 0), (0, 1000))
        ],
        crs=32616,
    )
    return path, hotspots


def test_car_park_hotspots_get_car_park_measures_from_publishers_place_types(tmp_path):
    path, hotspots = _burglaries_and_car_parks(tmp_path)
    r = read_incidents(path, crs="EPSG:32616")
    assert r.report.columns_used["location_type"] == "loc_cat"
    assert set(r.incidents["location_type"]) == {"dwelling", "car_park", "transit"}
    car_park_measures = {i.id for i in load_catalogue().values() if i.reach == "car_park"}
    assert car_park_measures >= {"cctv_carpark"}
    recs = recommend(hotspots, r.incidents, jurisdiction="US", n_draws=200, random_state=0)
    by = {h: set(g["intervention_id"]) for h, g in recs.groupby("hotspot_id")}
    assert by["B"] & car_park_measures, by
    assert by["C"] & car_park_measures, by  # the airport car park: 25 % in "vehicle parking"
    assert not by.get("A", set()) & car_park_measures
    cam = recs[(recs["hotspot_id"] == "B") & recs["intervention_id"].isin(car_park_measures)].iloc[0]
    assert cam["reached_count"] == pytest.approx(60) and "at a car park" in cam["reasons"]
    airport = recs[(recs["hotspot_id"] == "C") & recs["intervention_id"].isin(car_park_measures)].iloc[0]
    assert airport["reached_count"] == pytest.approx(12) and airport["evidenced_count"] == 48
    assert "cctv_residential" not in by["C"]
    homes = recs[recs["hotspot_id"] == "A"]["reasons"]
    assert homes.str.contains("80 of 80 burglaries at dwellings").any()


def test_planner_run_accepts_column_location_type(tmp_path):
    from planner.cli import main

    path, _ = _burglaries_and_car_parks(tmp_path)
    out = tmp_path / "run"
    args = ["run", "--incidents", str(path), "--crs", "EPSG:32616", "--column", "location_type=loc_cat"]
    assert main([*args, "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["ingest"]["columns_used"]["location_type"] == "loc_cat"
