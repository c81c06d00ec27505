"""Knox near-repeat tables reproduce the peer cases of PEER_TESTS.md §1 exactly."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from _paths import shared_path

from planner.errors import ConfigError, InsufficientDataError
from planner.hotspots.nearrepeat import knox_from_incidents, knox_test


def _nrc_csv(name):
    df = pd.read_csv(shared_path("peer", "knox_nrc_steenbeek", name), header=None, names=["x", "y", "date"])
    t = pd.to_datetime(df["date"])
    return df[["x", "y"]].to_numpy(), ((t - t.min()).dt.days).to_numpy()


def _steenbeek_cases():
    path = shared_path("peer", "knox_nrc_steenbeek", "expected.json")
    return json.loads(path.read_text())["cases"]


@pytest.mark.parametrize(
    "case_id",
    ["nrc_month1_contents", "nearrepeat_month1_label_mimic", "nearrepeat_vignette_month1", "nrc_arson"],
)
def test_steenbeek_tables_exact(case_id):
    case = next(c for c in _steenbeek_cases() if c["id"] == case_id)
    xy, t = _nrc_csv("chicago_arson.csv" if case_id == "nrc_arson" else "chicago_be_month1.csv")
    r = knox_test(
        xy,
        t,
        distance_breaks_m=case["s_breaks"],
        time_breaks_days=case["t_breaks_days"],
        metric=case["metric"],
        permutations=0,
        float32=bool(case.get("float32_coords_required")),
    )
    np.testing.assert_array_equal(r.observed, np.array(case["expected_observed"]))
    if case_id == "nrc_month1_contents":
        assert r.observed.sum() == 970 * 969 // 2


def test_month1_ratios_direction_and_significance():
    xy, t = _nrc_csv("chicago_be_month1.csv")
    r = knox_test(
        xy,
        t,
        distance_breaks_m=[0, 0.01, 100, 200, 300, "inf"],
        time_breaks_days=[0, 7, 14, 21, "inf"],
        metric="manhattan",
        permutations=199,
        rng=1,
    )
    assert (r.knox_ratio_mean[:3, 0] > 1.2).all()
    assert (r.p_value[:3, 0] <= 0.05).all()


def test_vignette_ratios_close_to_r():
    case = next(c for c in _steenbeek_cases() if c["id"] == "nearrepeat_vignette_month1")
    xy, t = _nrc_csv("chicago_be_month1.csv")
    r = knox_test(
        xy,
        t,
        distance_breaks_m=case["s_breaks"],
        time_breaks_days=case["t_breaks_days"],
        metric="manhattan",
        permutations=999,
        rng=9489,
    )
    np.testing.assert_allclose(
        r.knox_ratio_mean, np.array(case["nearrepeat_knox_ratio_mean_999sims_seed9489_R"]), atol=0.1
    )
    strong = np.array(case["nearrepeat_pvalues"]) <= 0.001
    assert (r.p_value[strong] <= 0.01).all()


@pytest.fixture(scope="module")
def chicago_2016():
    df = pd.read_csv(shared_path("data", "chicago_burglary_2014_2017", "chicago_burglary_2014_2017.csv"))
    t = pd.to_datetime(df["date_single"], format="%d/%m/%Y")
    keep = (t >= "2016-01-01") & (t <= "2016-12-31")
    assert keep.sum() == 11701
    return df.loc[keep, ["x", "y"]].to_numpy(), (t[keep] - pd.Timestamp("2016-01-01")).dt.days.to_numpy()


def _davies_cases():
    return json.loads(shared_path("peer", "knox_nrc_davies", "expected.json").read_text())["cases"]


@pytest.mark.parametrize(
    "case_id",
    [
        "usage_euclid_right_closed",
        "usage_euclid_left_closed",
        "usage_manhattan_right_closed",
        "inconsistency_default",
        "nrc_2016_full_table",
    ],
)
def test_davies_tables_exact(case_id, chicago_2016):
    case = next(c for c in _davies_cases() if c["id"] == case_id)
    xy, t = chicago_2016
    if "s_breaks" in case:
        sb, tb, closed = case["s_breaks"], case["t_breaks_days"], "left"
    else:
        sb, tb = [0, *case["upper_limits_space"]], [0, *case["upper_limits_time"]]
        closed = "left" if "[b1,b2)" in case["intervals"] or "[0,b1)" in case["intervals"] else "right"
    r = knox_test(
        xy,
        t,
        distance_breaks_m=sb,
        time_breaks_days=tb,
        metric=case["metric"],
        closed=closed,
        permutations=0,
        float32=bool(case.get("float32_coords_required")),
    )
    np.testing.assert_array_equal(r.observed, np.array(case["expected_observed"]))


def test_pathological_pair_lands_in_half_open_bands():
    r = knox_test(
        np.array([[0.0, 0.0], [0.0, 100.0]]),
        np.array([0.0, 3.0]),
        distance_breaks_m=[0, 200, 400],
        time_breaks_days=[0, 3, 6],
        permutations=0,
    )
    assert r.observed.tolist() == [[0, 1], [0, 0]]
    r = knox_test(
        np.array([[0.0, 0.0], [0.0, 100.0]]),
        np.array([0.0, 3.0]),
        distance_breaks_m=[0, 100, 200],
        time_breaks_days=[0, 3, 6],
        permutations=0,
    )
    assert r.observed.tolist() == [[0, 0], [0, 1]]


def test_burkitt_two_by_two():
    df = pd.read_csv(shared_path("peer", "knox_burkitt_pointpats", "burkitt.csv"))
    r = knox_test(
        df[["X", "Y"]].to_numpy(),
        df["T"].to_numpy(),
        distance_breaks_m=[0, 20, "inf"],
        time_breaks_days=[0, 5, "inf"],
        closed="right",
        permutations=0,
    )
    assert r.observed.tolist() == [[13, 3416], [39, 14110]]


def test_bad_breaks_and_month_data():
    with pytest.raises(ConfigError, match="start at 0"):
        knox_test(
            np.zeros((3, 2)),
            np.arange(3),
            distance_breaks_m=[10, 20],
            time_breaks_days=[0, 1],
            permutations=0,
        )
    import geopandas as gpd

    inc = gpd.GeoDataFrame(
        {"occurred_at": pd.to_datetime(["2022-01-01", "2022-02-01"])},
        geometry=gpd.points_from_xy([0, 1], [0, 1]),
        crs=32630,
    )
    inc.attrs["time_resolution"] = "month"
    with pytest.raises(InsufficientDataError, match="day resolution"):
        knox_from_incidents(inc, distance_breaks_m=[0, 100], time_breaks_days=[0, 7])


def test_same_seed_same_result():
    rng = np.random.default_rng(0)
    xy, t = rng.uniform(0, 1000, (300, 2)), rng.integers(0, 100, 300)
    kw = {
        "distance_breaks_m": [0, 100, 200, "inf"],
        "time_breaks_days": [0, 7, 14, "inf"],
        "permutations": 49,
        "rng": 5,
    }
    a, b = knox_test(xy, t, **kw), knox_test(xy, t, **kw)
    # exact: two runs with one seed in this process (reproducibility); p-values are counts / 50
    np.testing.assert_array_equal(a.p_value, b.p_value)
    assert a.observed.sum() == 300 * 299 // 2


def test_sample_city_contagion_detected_and_cli_json(capsys):
    """The generator plants burglary near repeats within 200 m and 14 days (truth.json)."""
    from _paths import SAMPLE

    from planner.cli import main

    code = main(
        [
            "nearrepeat",
            str(SAMPLE / "incidents.csv"),
            "--crs",
            "EPSG:32630",
            "--only-category",
            "burglary",
            "--distance-bands",
            "0,200,400,inf",
            "--time-bands",
            "0,14,28,inf",
            "--permutations",
            "99",
            "--json",
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["knox_ratio_mean"][0][0] > 1.2 and out["p_value"][0][0] <= 0.05
    assert abs(out["knox_ratio_mean"][1][1] - 1) < 0.15  # beyond the planted window: no excess
    assert len(out["observed"]) == 3 and len(out["observed"][0]) == 3


@pytest.mark.parametrize("closed", ["left", "right"])
@pytest.mark.parametrize("breaks", [[0, 7, 14, 21, 28, "inf"], [0, 1, 2, 5, 10], [0, 0.5, 3, "inf"]])
def test_whole_day_band_table_matches_the_search(monkeypatch, closed, breaks):
    # whole-day time breaks are binned by a table of floors/ceilings: the same tables as the search
    import planner.hotspots.nearrepeat as nearrepeat

    rng = np.random.default_rng(0)
    xy, t = rng.uniform(0, 2000, (800, 2)), rng.uniform(0, 365, 800)
    t[:100] = np.floor(t[:100])  # whole days sit on the breaks
    kw = {"distance_breaks_m": [0, 0.01, 100, 200, "inf"], "time_breaks_days": breaks, "closed": closed}
    fast = knox_test(xy, t, permutations=19, rng=1, **kw)
    monkeypatch.setattr(nearrepeat, "_band_table", lambda *_: None)
    slow = knox_test(xy, t, permutations=19, rng=1, **kw)
    assert np.array_equal(fast.observed, slow.observed)
    assert np.array_equal(fast.p_value, slow.p_value)
    assert np.array_equal(fast.expected_mean, slow.expected_mean)
