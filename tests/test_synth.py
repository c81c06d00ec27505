"""The sample city follows its stated model (truth.json) and is reproducible."""

from __future__ import annotations

import hashlib
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from _paths import SAMPLE
from scipy.spatial import cKDTree

from planner import synth


@pytest.fixture(scope="module")
def truth():
    return json.loads((SAMPLE / "truth.json").read_text())


@pytest.fixture(scope="module")
def incidents():
    return pd.read_csv(SAMPLE / "incidents.csv", parse_dates=["occurred_at"])


@pytest.fixture(scope="module")
def features():
    rng = np.random.default_rng(synth.DEFAULT_SEED)
    layers = synth.build_layers(rng)
    return synth._pixel_features(layers, layers["boundary"].geometry.iloc[0], rng)


def test_committed_sample_matches_generator(tmp_path, truth):
    """Regenerating with the committed seed reproduces incidents.csv byte for byte."""
    synth.generate_city(tmp_path, seed=truth["seed"])
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert digest(tmp_path / "incidents.csv") == digest(SAMPLE / "incidents.csv")
    assert digest(tmp_path / "lux.tif") == digest(SAMPLE / "lux.tif")
    assert digest(tmp_path / "audits.csv") == digest(SAMPLE / "audits.csv")  # own random stream (#19)
    assert json.loads((tmp_path / "truth.json").read_text()) == truth


def test_other_seed_differs(tmp_path):
    synth.generate_city(tmp_path, seed=7, years=1)
    other = pd.read_csv(tmp_path / "incidents.csv")
    assert len(other) != len(pd.read_csv(SAMPLE / "incidents.csv"))


def test_files_and_columns(incidents):
    assert list(incidents.columns) == [
        "incident_id", "category", "occurred_at", "x", "y", "location_type", "vict_sex", "vict_age"
    ]  # fmt: skip
    assert incidents["incident_id"].is_unique
    layers = {str(n) for n in pyogrio.list_layers(SAMPLE / "city.gpkg")[:, 0]}
    expected = {
        "boundary",
        "wards",
        "land_use",
        "streets",
        "street_lights",
        "cameras",
        "access_points",
        "transit_stops",
        "licensed_premises",
        "cash_machines",
        "late_shops",
        "vacant_buildings",
        "car_parks",
        "buildings",
        "vegetation",
    }
    assert expected <= layers
    boundary = gpd.read_file(SAMPLE / "city.gpkg", layer="boundary")
    assert boundary.crs.to_epsg() == 32630
    pts = gpd.points_from_xy(incidents["x"], incidents["y"])
    assert boundary.geometry.iloc[0].buffer(1).contains(pts).all()
    for name in expected:
        gdf = gpd.read_file(SAMPLE / "city.gpkg", layer=name)
        assert gdf.is_valid.all(), name
    assert sum(p.stat().st_size for p in SAMPLE.iterdir()) < 10_000_000


def _pix(incidents, features):
    return cKDTree(features["px"]).query(incidents[["x", "y"]].to_numpy())[1]


def test_darkness_raises_night_street_crime_by_stated_factor(incidents, features, truth):
    """Dark-vs-lit rate ratio at night over the same ratio by day (which cancels land use) ≈ RR 2.5."""
    f = features
    pix = _pix(incidents, f)
    street = incidents["category"].isin(truth["factors"]["darkness"]["categories"]).to_numpy()
    before = (incidents["occurred_at"] < truth["lighting_upgrade"]["date"]).to_numpy()
    night = incidents["occurred_at"].dt.hour.isin(truth["night_hours"]).to_numpy()
    ok = (
        f["on_street"]
        & ~f["camera_coverage"]
        & ~f["licensed_premises"]
        & ~f["transit_stops"]
        & ~f["cash_machines"]
        & ~f["rising"]
        & ~f["car_parks"]
    )
    dark = f["dark_before_upgrade"]

    def ratio(sel):
        cnt = np.bincount(pix[sel], minlength=len(f["px"]))
        return (cnt[ok & dark].sum() / (ok & dark).sum()) / (cnt[ok & ~dark].sum() / (ok & ~dark).sum())

    rr = ratio(street & before & night) / ratio(street & before & ~night)
    assert 1.7 < rr < 3.5  # true 2.5; Poisson noise on ~60 daytime dark incidents dominates
    burglary = (incidents["category"] == "burglary").to_numpy() & before
    assert 0.6 < ratio(burglary & night) / ratio(burglary & ~night) < 1.6  # no darkness effect


def test_lighting_upgrade_cuts_night_street_crime_in_ward(incidents, features, truth):
    f = features
    pix = _pix(incidents, f)
    fixed = f["dark_before_upgrade"] & ~f["dark_now"]
    street = incidents["category"].isin(truth["factors"]["darkness"]["categories"]).to_numpy()
    night = incidents["occurred_at"].dt.hour.isin(truth["night_hours"]).to_numpy()
    t = incidents["occurred_at"]
    date = pd.Timestamp(truth["lighting_upgrade"]["date"])
    at_fixed = fixed[pix] & street & night
    before = (at_fixed & (t < date).to_numpy()).sum() / ((date - t.min()).days)
    after = (at_fixed & (t >= date).to_numpy()).sum() / ((t.max() - date).days)
    assert after / before == pytest.approx(1 / truth["factors"]["darkness"]["rr"], abs=0.15)


def test_rising_area_grows_year_on_year(incidents, features):
    pix = _pix(incidents, features)
    inside = features["rising"][pix]
    by_year = incidents.loc[inside, "occurred_at"].dt.year.value_counts().sort_index()
    assert by_year.is_monotonic_increasing and by_year.iloc[-1] > 1.8 * by_year.iloc[0]


def test_burglary_pairs_cluster_in_space_time(incidents):
    """Close burglary pairs (<200 m, <14 days) exceed what shuffled times give."""
    b = incidents[incidents["category"] == "burglary"]
    xy = b[["x", "y"]].to_numpy()
    t = (b["occurred_at"] - b["occurred_at"].min()).dt.total_seconds().to_numpy() / 86400
    pairs = cKDTree(xy).query_pairs(200.0, output_type="ndarray")
    observed = (np.abs(t[pairs[:, 0]] - t[pairs[:, 1]]) < 14).sum()
    rng = np.random.default_rng(0)
    sims = []
    for _ in range(20):
        ts = rng.permutation(t)
        sims.append((np.abs(ts[pairs[:, 0]] - ts[pairs[:, 1]]) < 14).sum())
    assert observed > 1.3 * np.mean(sims)
