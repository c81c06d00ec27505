"""The sample city follows its stated model (truth.json) and is reproducible."""

from __future__ import annotations

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


def _assert_json_close(new, old, path="truth"):
    """Equal structure; numbers equal within 1e-9 relative (computed floats vary in the last bits)."""
    if isinstance(old, dict):
        assert isinstance(new, dict) and set(new) == set(old), path
        for key in old:
            _assert_json_close(new[key], old[key], f"{path}.{key}")
    elif isinstance(old, list):
        assert isinstance(new, list) and len(new) == len(old), path
        for i, (a, b) in enumerate(zip(new, old, strict=True)):
            _assert_json_close(a, b, f"{path}[{i}]")
    elif isinstance(old, float) or isinstance(new, float):
        assert new == pytest.approx(old, rel=1e-9, abs=1e-12), path
    else:
        assert new == old, path


def _assert_table_close(new: pd.DataFrame, old: pd.DataFrame, *, float_atol: float) -> None:
    """Same rows and columns; text and integers equal, floats within ``float_atol`` (one written digit)."""
    assert list(new.columns) == list(old.columns)
    assert len(new) == len(old)
    floats = [c for c in old.columns if pd.api.types.is_float_dtype(old[c])]
    pd.testing.assert_frame_equal(new.drop(columns=floats), old.drop(columns=floats))
    np.testing.assert_allclose(new[floats].to_numpy(), old[floats].to_numpy(), rtol=0, atol=float_atol)


def test_committed_sample_matches_generator(tmp_path, truth):
    """Regenerating with the committed seed reproduces the committed sample city, by value.

    Never by file hash: the generator's floating point (FFT, sums) differs between CPUs in the last
    bits. Tolerances are one step of the written precision: incident coordinates are written to
    0.01 m, audit coordinates to 0.1 m, lux to 0.001 lux (rounded before writing,
    ``synth.LUX_DECIMALS``); ids, categories, times and scores must be identical.
    """
    import rasterio

    synth.generate_city(tmp_path, seed=truth["seed"])
    read = lambda d: pd.read_csv(d / "incidents.csv")  # noqa: E731
    _assert_table_close(read(tmp_path), read(SAMPLE), float_atol=0.0101)
    audits = lambda d: pd.read_csv(d / "audits.csv")  # noqa: E731  (own random stream, #19)
    _assert_table_close(audits(tmp_path), audits(SAMPLE), float_atol=0.101)
    with rasterio.open(tmp_path / "lux.tif") as new, rasterio.open(SAMPLE / "lux.tif") as old:
        assert (new.crs, new.transform, new.shape, new.dtypes) == (
            old.crs,
            old.transform,
            old.shape,
            old.dtypes,
        )
        np.testing.assert_allclose(new.read(1), old.read(1), rtol=0, atol=1.01 * 10.0**-synth.LUX_DECIMALS)
    _assert_json_close(json.loads((tmp_path / "truth.json").read_text()), truth)


def test_lux_is_rounded_before_writing():
    """The lux raster carries no digits below 0.001 lux, so CPU-dependent FFT noise never reaches the file."""
    import rasterio

    with rasterio.open(SAMPLE / "lux.tif") as src:
        lux = src.read(1).astype(float)
    assert np.abs(lux * 1000 - np.round(lux * 1000)).max() < 1e-2  # float32 of a 3-decimal value
    assert (lux == 0).mean() > 0.05  # the FFT's ~1e-13 noise away from lamps is exactly 0


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
