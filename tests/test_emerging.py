"""Emerging hot spots: Mann-Kendall against scipy, every Esri category on hand-built flag series,
the short-series scheme, and the sample city's rising area."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from _paths import SAMPLE
from scipy.stats import kendalltau

from planner.hotspots.emerging import classify, classify_short, emerging_hotspots, mann_kendall


def test_mann_kendall_matches_kendall_tau_and_hand_value():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 15)).round(1)  # ties included
    mk = mann_kendall(x)
    for row, tau in zip(x, mk["tau"], strict=True):
        s_ref = sum(np.sign(row[j] - row[i]) for i in range(len(row)) for j in range(i + 1, len(row)))
        assert tau * (15 * 14 / 2) == pytest.approx(s_ref)
    assert np.sign(mk["s"][0]) == np.sign(kendalltau(np.arange(15), x[0]).statistic)
    # hand-worked: 1,2,3,4,5 → S = 10, var = 5·4·15/18 = 16.667, z = (10−1)/√16.667 = 2.2045
    hand = mann_kendall(np.array([[1.0, 2, 3, 4, 5]]))
    assert hand["s"][0] == 10 and hand["z"][0] == pytest.approx(9 / np.sqrt(50 / 3))


H, C = True, False


def _row(pattern: str):
    """'h' = significant hot, 'c' = significant cold, '.' = neither."""
    return np.array([ch == "h" for ch in pattern]), np.array([ch == "c" for ch in pattern])


@pytest.mark.parametrize(
    ("pattern", "trend", "expected"),
    [
        ("..........h", 0, "new hot spot"),
        ("........hhh", 0, "consecutive hot spot"),
        ("hhhhhhhhhhh", 1, "intensifying hot spot"),
        ("hhhhhhhhhhh", 0, "persistent hot spot"),
        ("hhhhhhhhhhh", -1, "diminishing hot spot"),
        ("..h..h...hh", 0, "sporadic hot spot"),
        ("..c..h...hh", 0, "oscillating hot spot"),
        ("hhhhhhhhhh.", 0, "historical hot spot"),
        ("..........c", 0, "new cold spot"),
        ("ccccccccccc", -1, "intensifying cold spot"),
        ("...........", 0, "no pattern"),
    ],
)
def test_esri_categories(pattern, trend, expected):
    hot, cold = _row(pattern)
    mk_z = np.array([2.5 * trend])
    mk_p = np.array([0.01 if trend else 0.5])
    assert classify(hot[None], cold[None], mk_z, mk_p)[0] == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("hhhhhhhh", "persistent hot spot"),
        ("......hh", "emerging hot spot"),
        ("hh.h....", "former hot spot"),
        (".h....h.", "intermittent hot spot"),
        ("cccccccc", "persistent cold spot"),
        ("........", "no pattern"),
    ],
)
def test_short_scheme(pattern, expected):
    hot, cold = _row(pattern)
    assert classify_short(hot[None], cold[None])[0] == expected


def test_sample_city_rising_area_is_emerging():
    import planner.pipeline as pipeline
    from planner.config import RunConfig

    truth = json.loads((SAMPLE / "truth.json").read_text())
    inputs = pipeline.load_inputs(RunConfig())
    from planner import grid

    cells = grid.grid_from_boundary(inputs.study_area, cell_size_m=200)
    out = emerging_hotspots(inputs.incidents, cells, bin="QS")
    assert out.attrs["ehsa"]["scheme"] == "esri" and out.attrs["ehsa"]["n_bins"] == 12
    area = shapely.from_wkt(truth["rising_area"]["wkt"])
    inside = out[out.geometry.centroid.within(area)]
    rising = inside["ehsa_category"].isin(["new hot spot", "consecutive hot spot", "intensifying hot spot"])
    assert rising.mean() >= 0.5
    assert (inside["mk_tau"] > 0).mean() > 0.8


def test_cli_and_pipeline(tmp_path, capsys):
    import geopandas as gpd

    from planner.cli import main

    out = tmp_path / "e.gpkg"
    assert (
        main(
            [
                "emerging",
                str(SAMPLE / "incidents.csv"),
                "--crs",
                "EPSG:32630",
                "--bin",
                "QS",
                "--cell-size",
                "250",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert "12 bins" in capsys.readouterr().out
    cells = gpd.read_file(out, layer="cells")
    assert "ehsa_category" in cells.columns and cells["ehsa_category"].str.contains("hot spot").any()
