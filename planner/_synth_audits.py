"""Additions to the sample city: synthetic safety audits with a known pattern, and the expected
effect of the W2 lighting upgrade computed from the model (for evaluation tests).

Kept apart from :mod:`planner.synth` (which calls into here) so the city generator stays small; the
audits draw from their own random stream and never touch the city's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from planner._hours import NIGHT_HOURS
from planner.synth import (
    DEFAULT_SEED,
    FACTORS,
    LAMP_RADIUS_M,
    LANDUSE_WEIGHT,
    PER_YEAR,
    RISING,
    _hour_profile,
    _in_sector,
    _pixel_features,
    _points_along,
    _within,
    build_layers,
)


def expected_upgrade_change(
    *, seed: int = DEFAULT_SEED, categories: list[str] | None = None, night_only: bool = True
) -> dict[str, float]:
    """Expected relative change of crime in the upgraded ward caused by the lighting upgrade.

    Computed from the model, not sampled: for each category, the ward's expected count after the
    upgrade with the upgrade, divided by the expected count without it (the counterfactual: every
    place dark before stays dark), minus one. The time profile is the same in both, so it cancels;
    only the darkness factor of the places the upgrade lit changes. ``"all"`` pools the categories
    with their expected counts. Night crime only by default (the darkness factor acts at night).

    Parameters
    ----------
    seed : int
        Seed of the sample city (the committed one by default).
    categories : list of str, optional
        Categories to report (default: those the darkness factor acts on).
    night_only : bool
        Count night-time crime only (19:00–07:00); with False, day-time crime dilutes the change.

    Returns
    -------
    dict
        Category (and ``"all"``) → relative change, e.g. −0.25 for a quarter fewer.
    """
    rng = np.random.default_rng(seed)
    layers = build_layers(rng)
    f = _pixel_features(layers, layers["boundary"].geometry.iloc[0], rng)
    cats = categories or list(FACTORS["darkness"]["categories"])
    rr = FACTORS["darkness"]["rr"]
    ward = f["in_w2"]
    with_upgrade: dict[str, float] = {}
    without: dict[str, float] = {}
    for category in cats:
        base = np.vectorize(LANDUSE_WEIGHT[category].get)(f["landuse"]).astype(float) * f["heterogeneity"]
        for name, spec in FACTORS.items():
            if name != "darkness" and category in spec["categories"]:
                base = base * np.where(f[name], spec["rr"], 1.0)
        dark_rr = rr if category in FACTORS["darkness"]["categories"] else 1.0
        hours = _hour_profile(category)
        night = np.isin(np.arange(24), NIGHT_HOURS)
        night_w = base * np.where(f["dark_before_upgrade"], dark_rr, 1.0)
        mean_rise = np.where(f["rising"], (RISING["multiplier_start"] + RISING["multiplier_end"]) / 2, 1.0)
        scale = (
            PER_YEAR[category]
            / ((hours[night].sum() * night_w + hours[~night].sum() * base) * mean_rise).sum()
        )
        night_after = base * np.where(f["dark_now"], dark_rr, 1.0)
        day = 0.0 if night_only else hours[~night].sum() * base[ward].sum()
        without[category] = scale * (hours[night].sum() * night_w[ward].sum() + day)
        with_upgrade[category] = scale * (hours[night].sum() * night_after[ward].sum() + day)
    out = {c: with_upgrade[c] / without[c] - 1.0 for c in cats}
    out["all"] = sum(with_upgrade.values()) / sum(without.values()) - 1.0
    return out


# ----------------------------------------------------------------------------- safety audits

AUDIT_STREAM = 19  # the audits use their own seeded stream, [seed, 19]: the city is unchanged
AUDITS: dict[str, Any] = {
    "n": 2400,
    "night_share": 0.5,
    "groups": {"women": 0.45, "men": 0.35, "young_people": 0.175, "older_people": 0.025},
    "dark_oversampling": 4.0,  # audit walks seek out dark streets and parks: such a point is
    "park_oversampling": 4.0,  # 4x as likely to be audited as any other street point
    "noise_sd": 0.5,
    "latent": {
        "lighting": "day 2.5; night 2.4 where a working lamp is within 40 m, else 0.6",
        "openness": "2.0, minus 1.0 within 30 m of vegetation, minus 0.5 in parks",
        "visibility": "day 2.0; night 2.0 lit, 1.0 dark",
        "people": "day: centre 2.6, residential 1.6, park 1.5, industrial 1.0; night: 2.2, 1.0, 0.2, 0.3",
        "gender_mix": "day 2.0, night 1.2; plus 0.4 in the centre",
        "security": "1.0, plus 1.5 inside a camera's view",
        "walk_path": "2.2 (1.0 on rear alleys)",
        "transport": "2.6 within 150 m of a transit stop, else 1.2",
        "group_effect": "women and older people at night in dark places: -0.6 on lighting, visibility, "
        "people and security; young people: +0.2 on people",
    },
    "score": "round(latent + N(0, noise_sd)) clipped to 0..3",
}


def _audit_latent(f: dict[str, np.ndarray], night: np.ndarray, group: np.ndarray) -> dict[str, np.ndarray]:
    """Expected score of each parameter per audit (before noise, rounding and clipping)."""
    zone = f["zone"]
    people_day = np.select([zone == "centre", zone == "park", zone == "industrial"], [2.6, 1.5, 1.0], 1.6)
    people_night = np.select([zone == "centre", zone == "park", zone == "industrial"], [2.2, 0.2, 0.3], 1.0)
    dark_night = night & f["dark"]
    latent = {
        "lighting": np.where(night, np.where(f["dark"], 0.6, 2.4), 2.5),
        "openness": 2.0 - 1.0 * f["vegetation"] - 0.5 * (zone == "park"),
        "visibility": np.where(dark_night, 1.0, 2.0),
        "people": np.where(night, people_night, people_day),
        "gender_mix": np.where(night, 1.2, 2.0) + 0.4 * (zone == "centre"),
        "security": 1.0 + 1.5 * f["camera"],
        "walk_path": np.where(f["alley"], 1.0, 2.2),
        "transport": np.where(f["transit"], 2.6, 1.2),
    }
    vulnerable = dark_night & np.isin(group, ["women", "older_people"])
    for name in ("lighting", "visibility", "people", "security"):
        latent[name] = latent[name] - 0.6 * vulnerable
    latent["people"] = latent["people"] + 0.2 * (group == "young_people")
    return latent


def simulate_audits(layers: dict[str, Any], rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Safety-audit points along the streets with the known pattern of :data:`AUDITS`."""
    streets = layers["streets"]
    along = _points_along(streets.geometry, 20.0)
    is_alley = np.repeat(
        (streets["street_class"] == "alley").to_numpy(),
        np.maximum((streets.length.to_numpy() // 20.0).astype(int), 1),
    )
    lights = layers["street_lights"]
    working = shapely.get_coordinates(lights.loc[lights["status"] == "working"].geometry.to_numpy())
    parks = layers["land_use"].loc[layers["land_use"]["zone"] == "park"].geometry.to_numpy()
    in_park = shapely.contains_xy(shapely.union_all(parks), along[:, 0], along[:, 1])
    weight = np.where(_within(along, working, LAMP_RADIUS_M), 1.0, AUDITS["dark_oversampling"])
    weight = weight * np.where(in_park, AUDITS["park_oversampling"], 1.0)
    pick = rng.choice(len(along), AUDITS["n"], replace=False, p=weight / weight.sum())
    xy = along[pick] + rng.uniform(-5, 5, (AUDITS["n"], 2))
    zone = np.full(len(xy), "residential", dtype=object)
    for name, geom in zip(layers["land_use"]["zone"], layers["land_use"].geometry, strict=True):
        zone[shapely.contains_xy(geom, xy[:, 0], xy[:, 1])] = name
    veg = shapely.union_all(layers["vegetation"].geometry.to_numpy()).buffer(30)
    f = {
        "dark": ~_within(xy, working, LAMP_RADIUS_M),
        "zone": zone,
        "vegetation": shapely.contains_xy(veg, xy[:, 0], xy[:, 1]),
        "camera": _in_sector(xy, layers["_cameras_xy"]),
        "alley": is_alley[pick],
        "transit": _within(xy, shapely.get_coordinates(layers["transit_stops"].geometry.to_numpy()), 150.0),
    }
    night = rng.random(len(xy)) < AUDITS["night_share"]
    groups = list(AUDITS["groups"])
    group = np.array(groups, dtype=object)[
        rng.choice(len(groups), len(xy), p=list(AUDITS["groups"].values()))
    ]
    latent = _audit_latent(f, night, group)
    table = pd.DataFrame(
        {
            "audit_id": [f"AU{i:04d}" for i in range(len(xy))],
            "x": xy[:, 0].round(1),
            "y": xy[:, 1].round(1),
            "period": np.where(night, "night", "day"),
            "group": group,
        }
    )
    for name, mean in latent.items():
        table[name] = np.clip(np.round(mean + rng.normal(0, AUDITS["noise_sd"], len(xy))), 0, 3).astype(int)
    dark_night = night & f["dark"]
    pattern = {
        "night_lighting_dark_minus_lit_latent": 0.6 - 2.4,
        "night_dark_share": float(dark_night.sum() / max(night.sum(), 1)),
        "women_vs_men_at_night_in_dark_places_latent": -0.6 * 4 / 8,
        "fear_little_crime": "parks at night: few people (latent 0.2), little recorded crime",
        "park_wkt": shapely.union_all(
            layers["land_use"].loc[layers["land_use"]["zone"] == "park"].geometry.to_numpy()
        ).wkt,
        "crime_little_fear": "the centre: busy, lit, cameras and transit, and the most recorded crime",
        "centre_wkt": layers["land_use"].set_index("zone").geometry["centre"].wkt,
        "groups_generated": {str(k): int(v) for k, v in pd.Series(group).value_counts().sort_index().items()},
    }
    return table, pattern


def write_audits(out_dir: str | Path, layers: dict[str, Any], *, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Write ``audits.csv`` (synthetic safety audits, EPSG:32630) and return its truth entry.

    Uses its own random stream (``numpy.random.default_rng([seed, AUDIT_STREAM])``), so adding the
    audits leaves ``incidents.csv``, ``city.gpkg`` and ``lux.tif`` byte for byte as they were.
    """
    rng = np.random.default_rng([seed, AUDIT_STREAM])
    table, pattern = simulate_audits(layers, rng)
    from planner.export.csv_safe import write_csv

    write_csv(table, Path(out_dir) / "audits.csv")
    return {
        "file": "audits.csv",
        "random_stream": [seed, AUDIT_STREAM],
        "parameters": list(AUDITS["latent"]),
        "model": AUDITS,
        "pattern": pattern,
        "n_audits": len(table),
    }
