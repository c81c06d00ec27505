"""Jurisdictions: chosen from the study area's location (offline outlines) or named; US and Canadian
runs never cite UK law or show pounds; outside known places nothing is costed and the reason is said.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from _paths import shared_path

from planner.cli import main
from planner.errors import ConfigError
from planner.interventions.jurisdictions import (
    choose_jurisdiction,
    exchange_rate,
    get_jurisdiction,
    jurisdiction_at,
    load_jurisdictions,
)

UK_LAW = re.compile(
    r"GBP|£|PSPO|Public Spaces Protection|Highways Act|GDPR|Information Commissioner|\bICO\b|"
    r"Surveillance Camera Code|Protection of Freedoms|PoFA|Anti-social Behaviour|Data Protection Act",
)


@pytest.mark.parametrize(
    ("lon", "lat", "code"),
    [
        (-2.945, 51.492, "UK"),  # the sample city
        (-1.15, 52.95, "UK"),  # Nottingham
        (-5.93, 54.60, "UK"),  # Belfast
        (-87.66, 41.84, "US"),  # Chicago
        (-90.05, 35.15, "US"),  # Memphis
        (-122.44, 37.77, "US"),  # San Francisco
        (-134.4, 58.3, "US"),  # Juneau (Alaska panhandle)
        (-157.86, 21.3, "US"),  # Honolulu
        (-79.38, 43.65, "CA"),  # Toronto
        (-123.12, 49.28, "CA"),  # Vancouver
        (-73.57, 45.50, "CA"),  # Montreal
        (-52.71, 47.56, "CA"),  # St John's
    ],
)
def test_cities_resolve_to_their_jurisdiction(lon, lat, code):
    assert jurisdiction_at(lon, lat).code == code


@pytest.mark.parametrize(
    ("lon", "lat", "why"),
    [
        (2.35, 48.85, "outside the built-in outlines"),  # Paris
        (-6.26, 53.35, "outside the built-in outlines"),  # Dublin
        (-83.05, 42.33, "border"),  # Detroit, across the river from Windsor
    ],
)
def test_outside_or_near_a_border_no_jurisdiction_with_the_reason(lon, lat, why):
    choice = jurisdiction_at(lon, lat)
    assert choice.jurisdiction is None and why in choice.how and "--jurisdiction" in choice.how


def test_override_and_errors():
    import geopandas as gpd
    from shapely.geometry import Point

    frame = gpd.GeoDataFrame(geometry=[Point(500000, 5700000)], crs=32630)
    assert choose_jurisdiction(frame).code == "UK"
    assert choose_jurisdiction(frame, override="US").code == "US"
    assert choose_jurisdiction(frame, override="none").jurisdiction is None
    with pytest.raises(ConfigError, match="Unknown jurisdiction 'XX'"):
        get_jurisdiction("XX")


def test_every_jurisdiction_has_notes_for_every_key_the_catalogue_uses():
    from planner.interventions.catalog import load_catalogue

    keys = {
        k for item in load_catalogue().values() for k in (item.privacy_note_key, item.access_note_key) if k
    }
    for j in load_jurisdictions().values():
        assert keys <= set(j.notes), (j.code, keys - set(j.notes))
        assert j.price_index.values and j.price_year in j.price_index.values
        if j.code != "UK":
            assert not UK_LAW.search(json.dumps(j.notes)), j.code


def test_exchange_rates_chain_and_invert():
    assert exchange_rate("GBP", "USD").rate == pytest.approx(1.28)
    assert exchange_rate("USD", "GBP").rate == pytest.approx(1 / 1.28)
    assert exchange_rate("GBP", "CAD").rate == pytest.approx(1.28 * 1.37)
    with pytest.raises(ConfigError, match="No exchange rate"):
        exchange_rate("GBP", "EUR")


@pytest.mark.slow
def test_us_run_on_chicago_burglaries_has_no_pounds_and_no_uk_law(tmp_path):
    """The acceptance case: `planner run` on the shared Chicago burglaries (EPSG:26971, no category
    column) is costed in US dollars with US notes everywhere: recommendations, reasons, manifest."""
    path = shared_path("data", "chicago_burglary_2014_2017", "chicago_burglary_2014_2017.csv")
    out = tmp_path / "chi"
    code = main(
        ["run", "--incidents", str(path), "--crs", "EPSG:26971", "--category", "burglary", "--out", str(out)]
    )
    assert code == 0
    recs = pd.read_csv(out / "recommendations.csv")
    assert len(recs) and set(recs["currency"]) == {"USD"} and set(recs["jurisdiction"]) == {"US"}
    for name in ("recommendations.csv", "manifest.json"):
        text = (out / name).read_text(encoding="utf-8")
        assert not UK_LAW.search(text), (name, UK_LAW.search(text))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["jurisdiction"] == "US" and manifest["config"]["currency"] == "USD"
    assert "McCollister" in manifest["parameters"]["recommend"]["price_note"]
    # no car parks and no time of day in this file: no car-park measure, no lighting
    assert not {"cctv_carpark", "carpark_access_control", "lighting"} & set(recs["intervention_id"])
    assert not {"sbd_new_build", "sbd_retrofit"} & set(recs["intervention_id"])


@pytest.mark.slow
def test_cli_recommend_options(tmp_path, capsys):
    from planner import pipeline

    if not (pipeline.SAMPLE_DIR / "city.gpkg").exists():
        pytest.skip("sample city not generated")
    out = tmp_path / "run"
    assert main(["run", "--out", str(out), "--jurisdiction", "US", "--rank-by", "prevented"]) == 0
    recs = pd.read_csv(out / "recommendations.csv")
    assert set(recs["currency"]) == {"USD"} and set(recs["rank_by"]) == {"prevented"}
    csv = tmp_path / "recs.csv"
    gpkg = str(pipeline.SAMPLE_DIR / "city.gpkg")
    assert main(["recommend", str(out / "plan.gpkg"), "--out", str(csv), "--layer", "car_parks"]) == 2
    assert main(["recommend", str(out / "plan.gpkg"), "--out", str(csv), "--layer", f"parking={gpkg}"]) == 2
    code = main(["recommend", str(out / "plan.gpkg"), "--out", str(csv), "--layer", f"car_parks={gpkg}"])
    assert code == 0
    measured = pd.read_csv(csv).query("intervention_id == 'cctv_carpark'")
    assert len(measured) and measured["reach_method"].str.contains("within 25 m of a car_parks polygon").all()
    code = main(
        ["recommend", str(out / "plan.gpkg"), "--out", str(csv), "--jurisdiction", "CA", "--rank-by", "bcr"]
    )
    assert code == 0
    again = pd.read_csv(csv)
    assert set(again["currency"]) == {"CAD"} and set(again["rank_by"]) == {"bcr"}
    assert "wrote" in capsys.readouterr().out
    assert main(["recommend", str(out / "plan.gpkg"), "--out", str(csv), "--rank-by", "cheapest"]) == 2
