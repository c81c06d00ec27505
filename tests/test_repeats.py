"""Repeat victimisation, protection zones and aoristic time profiles on hand-worked fixtures."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from planner.errors import InsufficientDataError
from planner.hotspots.nearrepeat import knox_test
from planner.hotspots.repeats import protection_zones, repeat_victimisation, significant_extent
from planner.hotspots.timeprofile import time_profile


def _inc(rows):
    """rows: (id, x, y, when, category)."""
    df = pd.DataFrame(rows, columns=["incident_id", "x", "y", "occurred_at", "category"])
    df["occurred_at"] = pd.to_datetime(df["occurred_at"])
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs=32630)


def test_same_place_repeats_and_tie_rule():
    """Place A (3 burglaries, two on the same minute: ids b < c decide the order), place B (1)."""
    inc = _inc(
        [
            ("c", 0.0, 0.0, "2024-01-05 10:00", "burglary"),
            ("b", 0.3, 0.0, "2024-01-05 10:00", "burglary"),
            ("a", 0.0, 0.2, "2024-01-01 09:00", "burglary"),
            ("d", 50.0, 0.0, "2024-01-02 09:00", "burglary"),
        ]
    )
    r = repeat_victimisation(inc, same_place_m=1.0)
    assert r["share_repeats"] == pytest.approx(2 / 4)
    assert r["n_repeat_places"] == 1
    per = r["incidents"].set_index("incident_id")
    assert not per.loc["a", "is_repeat"] and per.loc["b", "is_repeat"] and per.loc["c", "is_repeat"]
    assert per.loc["c", "days_since_previous"] == 0  # c follows b (same minute, later id)
    assert r["time_to_repeat"]["bands"]["[0, 7) days"] == 2


def test_protection_zones_from_knox():
    rng = np.random.default_rng(1)
    base = rng.uniform(0, 5000, (300, 2))
    t0 = rng.integers(0, 300, 300).astype(float)
    kids = base + rng.uniform(-80, 80, (300, 2))  # each event has a follower within ~110 m and 5 days
    xy, t = np.vstack([base, kids]), np.concatenate([t0, t0 + rng.integers(1, 5, 300)])
    knox = knox_test(
        xy,
        t,
        distance_breaks_m=[0, 150, 300, "inf"],
        time_breaks_days=[0, 7, 14, "inf"],
        permutations=99,
        rng=2,
    )
    radius, days = significant_extent(knox)
    assert radius in (150.0, 300.0) and days == 7.0
    when = pd.Timestamp("2024-01-01") + pd.to_timedelta(t, unit="D")
    inc = gpd.GeoDataFrame(
        {"incident_id": [f"e{i}" for i in range(len(t))], "occurred_at": when, "category": "burglary"},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=32630,
    )
    as_of = pd.Timestamp("2024-06-01")
    zones = protection_zones(inc, knox, as_of=as_of)
    expected = ((when < as_of) & (when >= as_of - pd.Timedelta(days=7))).sum()
    assert len(zones) == expected
    assert (zones["expires_on"] >= as_of).all() and (zones["radius_m"] == radius).all()
    assert zones.geometry.area.to_numpy() == pytest.approx(np.pi * radius**2, rel=0.01)


def test_no_significant_band_is_clear():
    """Without permutations there is no p-value, hence no significant band."""
    rng = np.random.default_rng(0)
    knox = knox_test(
        rng.uniform(0, 1000, (80, 2)),
        rng.integers(0, 100, 80),
        distance_breaks_m=[0, 50, "inf"],
        time_breaks_days=[0, 3, "inf"],
        permutations=0,
    )
    with pytest.raises(InsufficientDataError, match="no significant"):
        significant_extent(knox)


def test_aoristic_profile_spreads_windows():
    """One incident Monday 22:00–Tuesday 01:59 (4 hours → 0.25 each), one at Friday 12:30."""
    df = pd.DataFrame(
        {
            "occurred_at": pd.to_datetime(["2024-01-01 22:00", "2024-01-05 12:30"]),
            "occurred_from": pd.to_datetime(["2024-01-01 22:00", None]),
            "occurred_to": pd.to_datetime(["2024-01-02 01:59", None]),
        }
    )
    prof = time_profile(df)
    assert prof.sum() == pytest.approx(2.0)
    assert prof[0, 22] == prof[0, 23] == prof[1, 0] == prof[1, 1] == pytest.approx(0.25)
    assert prof[4, 12] == pytest.approx(1.0)
    point = time_profile(df, aoristic=False)
    assert point[0, 22] == 1.0 and point.sum() == 2.0
