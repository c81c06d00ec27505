"""The sample city: a deterministic generator of a fictional town with a known crime model.

``generate_city(out_dir, seed=...)`` writes ``incidents.csv``, ``city.gpkg`` (every layer of
``docs/CONTRACTS.md``), ``lux.tif`` and ``truth.json`` (every true parameter) in EPSG:32630, with
the town's south-west corner at (500000, 5700000). Everything is synthetic.

The incident model is log-linear on a 25 m raster: a land-use baseline per category, times a
relative risk per environmental factor (darkness at night, generators within a radius, alley
entrances, camera coverage, car parks), times seasonal, weekday and hour-of-day profiles. On top:
burglary near-repeat contagion, a ward whose street lighting is upgraded at a known date, and a
neighbourhood whose risk rises over the three years. Sampling is vectorised (counts per component,
pixels and days drawn by weight, thinning for the time-varying parts).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from pyproj import CRS
from scipy.signal import fftconvolve
from scipy.spatial import cKDTree
from shapely.geometry import LineString, Point, Polygon, box

from planner._hours import NIGHT_HOURS

logger = logging.getLogger(__name__)

CRS_CITY = CRS.from_epsg(32630)
X0, Y0 = 500000.0, 5700000.0
DEFAULT_SEED = 20261128
PIXEL_M = 25.0
LUX_DECIMALS = 3  # lux written to 0.001 (the generator's FFT differs between CPUs in the last bits)
LAMP_RADIUS_M = 40.0

# True model (relative risks). Each factor: layer, radius, categories, and when it acts.
FACTORS: dict[str, dict[str, Any]] = {
    "darkness": {
        "rr": 2.5,
        "layer": "street_lights",
        "operationalisation": f"no working lamp within {LAMP_RADIUS_M:.0f} m, on a street",
        "distance_m": LAMP_RADIUS_M,
        "categories": ["robbery", "assault", "theft_from_vehicle"],
        "when": "night (19:00-07:00)",
    },
    "licensed_premises": {
        "rr": 2.0,
        "layer": "licensed_premises",
        "operationalisation": "within",
        "distance_m": 100.0,
        "categories": ["assault", "criminal_damage"],
        "when": "all hours",
    },
    "transit_stops": {
        "rr": 1.6,
        "layer": "transit_stops",
        "operationalisation": "within",
        "distance_m": 150.0,
        "categories": ["robbery"],
        "when": "all hours",
    },
    "cash_machines": {
        "rr": 1.5,
        "layer": "cash_machines",
        "operationalisation": "within",
        "distance_m": 100.0,
        "categories": ["robbery"],
        "when": "all hours",
    },
    "alley_entrances": {
        "rr": 1.8,
        "layer": "access_points",
        "operationalisation": "within (kind alley_entrance)",
        "distance_m": 50.0,
        "categories": ["burglary"],
        "when": "all hours",
    },
    "camera_coverage": {
        "rr": 0.6,
        "layer": "cameras",
        "operationalisation": "inside a camera sector",
        "distance_m": None,
        "categories": ["robbery", "assault", "theft_from_vehicle", "criminal_damage"],
        "when": "all hours",
    },
    "car_parks": {
        "rr": 25.0,
        "layer": "car_parks",
        "operationalisation": "inside a car park",
        "distance_m": 0.0,
        "categories": ["theft_from_vehicle"],
        "when": "all hours",
    },
}
# Incidents per year per category and land-use baseline weights (per pixel, before factors).
PER_YEAR = {
    "burglary": 1500,
    "robbery": 650,
    "theft_from_vehicle": 1150,
    "assault": 950,
    "criminal_damage": 850,
}
LANDUSE_WEIGHT = {
    "burglary": {"residential": 1.0, "centre": 0.4, "industrial": 0.3, "park": 0.02},
    "robbery": {"residential": 0.6, "centre": 1.1, "industrial": 0.3, "park": 0.4},
    "theft_from_vehicle": {"residential": 0.6, "centre": 0.9, "industrial": 0.8, "park": 0.2},
    "assault": {"residential": 0.5, "centre": 1.1, "industrial": 0.2, "park": 0.4},
    "criminal_damage": {"residential": 0.8, "centre": 1.0, "industrial": 0.8, "park": 0.6},
}
NIGHT_SHARE = {
    "burglary": 0.35,
    "robbery": 0.6,
    "theft_from_vehicle": 0.55,
    "assault": 0.65,
    "criminal_damage": 0.55,
}
WEEKDAY_WEIGHT = {
    "burglary": [1.1, 1.1, 1.1, 1.1, 1.1, 0.8, 0.7],
    "robbery": [0.9, 0.9, 0.9, 1.0, 1.2, 1.2, 0.9],
    "theft_from_vehicle": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
    "assault": [0.6, 0.6, 0.7, 0.8, 1.3, 1.9, 1.4],
    "criminal_damage": [0.9, 0.9, 0.9, 1.0, 1.2, 1.3, 1.0],
}
SEASON_AMPLITUDE = 0.15  # multiplier 1 + A·cos(2π(month − 7)/12): summer peak
NEAR_REPEAT: dict[str, Any] = {
    "category": "burglary",
    "p_offspring": 0.25,
    "radius_m": 200.0,
    "days_max": 14,
    "generations": 2,
}
UPGRADE: dict[str, Any] = {
    "ward_id": "W2",
    "date": "2024-07-01",
    "effect": "darkness relative risk 2.5 → 1 for night street crime in the ward",
}
HETEROGENEITY: dict[str, Any] = {
    "sigma_log": 0.6,
    "length_m": 250.0,
    "note": "unmeasured place-to-place variation: a log-Gaussian field shared by all categories",
}
RISING: dict[str, Any] = {
    "centre": (2100.0, 2300.0),
    "radius_m": 450.0,
    "multiplier_start": 1.0,
    "multiplier_end": 6.0,
}


def _hour_profile(category: str) -> np.ndarray:
    """Hour-of-day weights (24) per category, shaped by the night share."""
    h = np.arange(24)
    if category == "burglary":
        w = 1.0 + 1.5 * np.exp(-((h - 14) ** 2) / 18) + 1.2 * np.exp(-((h - 20) ** 2) / 6)
    elif category == "assault":
        w = 0.4 + 3.0 * np.exp(-(((h - 23.5 + 12) % 24 - 12) ** 2) / 8)
    else:
        w = 0.8 + 1.5 * np.exp(-((h - 21) ** 2) / 10) + 0.6 * np.exp(-((h - 13) ** 2) / 10)
    night = np.isin(h, NIGHT_HOURS)
    w = w.astype(float)
    w[night] *= NIGHT_SHARE[category] / w[night].sum()
    w[~night] *= (1 - NIGHT_SHARE[category]) / w[~night].sum()
    return w


def _boundary(rng: np.random.Generator) -> Polygon:
    ang = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    r = 3700 + 250 * np.sin(3 * ang + 0.7) + 120 * np.cos(5 * ang) + rng.normal(0, 40, ang.size)
    poly = Polygon(np.c_[X0 + 4000 + r * np.cos(ang), Y0 + 4000 + r * np.sin(ang)])
    return shapely.make_valid(poly).intersection(box(X0, Y0, X0 + 8000, Y0 + 8000))


def _wards(boundary: Polygon) -> gpd.GeoDataFrame:
    cx, cy = X0 + 4000, Y0 + 4000
    centre = Point(cx, cy).buffer(1100)
    quads = [
        box(X0, cy, cx, Y0 + 8000),
        box(cx, cy, X0 + 8000, Y0 + 8000),
        box(cx, Y0, X0 + 8000, cy),
        box(X0, Y0, cx, cy),
    ]
    geoms = [centre.intersection(boundary)] + [q.intersection(boundary).difference(centre) for q in quads]
    names = ["Central", "Northgate", "Eastfield", "Southbank", "Westmoor"]
    return gpd.GeoDataFrame(
        {"ward_id": [f"W{i + 1}" for i in range(5)], "name": names}, geometry=geoms, crs=CRS_CITY
    )


def _land_use(boundary: Polygon) -> gpd.GeoDataFrame:
    centre = Point(X0 + 4000, Y0 + 4000).buffer(1000)
    industrial = box(X0 + 5300, Y0 + 1300, X0 + 7000, Y0 + 2800).difference(centre)
    parks = shapely.union_all(
        [Point(X0 + 2600, Y0 + 5600).buffer(350), box(X0 + 4700, Y0 + 5600, X0 + 5300, Y0 + 6300)]
    )
    residential = boundary.difference(shapely.union_all([centre, industrial, parks]))
    zones = {"centre": centre, "industrial": industrial, "park": parks, "residential": residential}
    return gpd.GeoDataFrame(
        {"zone": list(zones)}, geometry=[g.intersection(boundary) for g in zones.values()], crs=CRS_CITY
    )


def _streets(boundary: Polygon) -> gpd.GeoDataFrame:
    lines, classes = [], []
    for v in np.arange(80.0, 8000.0, 160.0):
        cls = "arterial" if int((v - 80) / 160) % 8 == 4 else "local"
        lines += [
            LineString([(X0 + v, Y0), (X0 + v, Y0 + 8000)]),
            LineString([(X0, Y0 + v), (X0 + 8000, Y0 + v)]),
        ]
        classes += [cls, cls]
    # rear alleys between the local streets of three terraced neighbourhoods (north-west, south-east,
    # north-east), so the alley effect is not tied to one place's unmeasured character
    for x_from, x_to, y_from, y_to in (
        (1000, 3000, 2960, 3900),
        (4600, 6400, 480, 1120),
        (5600, 7200, 4240, 4880),
    ):
        for v in np.arange(float(y_from), float(y_to), 160.0):
            lines.append(LineString([(X0 + x_from, Y0 + v + 80), (X0 + x_to, Y0 + v + 80)]))
            classes.append("alley")
    # two irregular streets
    t = np.linspace(0, 8000, 200)
    lines.append(LineString(np.c_[X0 + t, Y0 + 6900 + 350 * np.sin(t / 900)]))
    lines.append(LineString(np.c_[X0 + 1500 + 300 * np.cos(t / 700), Y0 + t]))
    classes += ["local", "local"]
    gdf = gpd.GeoDataFrame({"street_class": classes}, geometry=lines, crs=CRS_CITY)
    gdf["geometry"] = gdf.intersection(boundary)
    gdf = gdf[~gdf.is_empty].explode(index_parts=False).reset_index(drop=True)
    gdf = gdf[gdf.geom_type == "LineString"].reset_index(drop=True)
    gdf.insert(0, "street_id", [f"S{i:04d}" for i in range(len(gdf))])
    return gdf


def _points_along(lines: gpd.GeoSeries, spacing_m: float) -> np.ndarray:
    lengths = lines.length.to_numpy()
    n = np.maximum((lengths // spacing_m).astype(int), 1)
    idx = np.repeat(np.arange(len(lines)), n)
    offsets = (np.concatenate([np.arange(k) for k in n]) + 0.5) * spacing_m
    offsets = np.minimum(offsets, lengths[idx])
    pts = shapely.line_interpolate_point(lines.to_numpy()[idx], offsets)
    return shapely.get_coordinates(pts)


def _in_sector(px: np.ndarray, cams: pd.DataFrame) -> np.ndarray:
    """Boolean per point: inside any camera's sector (compass direction, fov, range)."""
    tree = cKDTree(cams[["x", "y"]].to_numpy())
    pairs = tree.query_ball_point(px, r=float(cams["range_m"].max()))
    counts = np.array([len(p) for p in pairs])
    if counts.sum() == 0:
        return np.zeros(len(px), dtype=bool)
    pi = np.repeat(np.arange(len(px)), counts)
    ci = np.concatenate([np.asarray(p, dtype=int) for p in pairs if len(p)])
    dx = px[pi, 0] - cams["x"].to_numpy()[ci]
    dy = px[pi, 1] - cams["y"].to_numpy()[ci]
    dist = np.hypot(dx, dy)
    bearing = np.degrees(np.arctan2(dx, dy)) % 360
    diff = np.abs((bearing - cams["direction_deg"].to_numpy()[ci] + 180) % 360 - 180)
    ok = (dist <= cams["range_m"].to_numpy()[ci]) & (
        (diff <= cams["fov_deg"].to_numpy()[ci] / 2) | (dist < 1)
    )
    out = np.zeros(len(px), dtype=bool)
    out[pi[ok]] = True
    return out


def _within(px: np.ndarray, pts: np.ndarray, radius_m: float) -> np.ndarray:
    if len(pts) == 0:
        return np.zeros(len(px), dtype=bool)
    d, _ = cKDTree(pts).query(px, k=1, distance_upper_bound=radius_m)
    return np.isfinite(d)


DARK_CENTRES = np.array(
    [
        [X0 + 3350, Y0 + 4450],
        [X0 + 4700, Y0 + 3500],
        [X0 + 2300, Y0 + 3300],
        [X0 + 5600, Y0 + 5200],
        [X0 + 3200, Y0 + 6200],
        [X0 + 6200, Y0 + 3900],
    ]
)
DARK_RADIUS_M = np.array([260, 240, 300, 280, 260, 250.0])
# car parks: four in the centre (small decks), four by arterials (large surface car parks)
CAR_PARK_XY = np.array(
    [
        [X0 + 3700, Y0 + 3700],
        [X0 + 4350, Y0 + 4300],
        [X0 + 4300, Y0 + 3650],
        [X0 + 3620, Y0 + 4380],
        [X0 + 5900, Y0 + 2100],
        [X0 + 1930, Y0 + 4880],
        [X0 + 6060, Y0 + 5500],
        [X0 + 2500, Y0 + 2000],
    ]
)


def _street_lights(rng: np.random.Generator, streets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Lamps every 35 m along non-alley streets, except in the dark zones; 7 % broken."""
    lit_streets = streets[streets["street_class"] != "alley"]
    lamp_xy = _points_along(lit_streets.geometry, 35.0)
    # dark stretches: zones with no lamps in dense areas (two near the centre, others residential)
    d = np.hypot(
        lamp_xy[:, None, 0] - DARK_CENTRES[None, :, 0], lamp_xy[:, None, 1] - DARK_CENTRES[None, :, 1]
    )
    lamp_xy = lamp_xy[~(d < DARK_RADIUS_M[None, :]).any(axis=1)]
    status = np.where(rng.random(len(lamp_xy)) < 0.07, "broken", "working")
    return gpd.GeoDataFrame(
        {
            "lamp_id": [f"L{i:05d}" for i in range(len(lamp_xy))],
            "status": status,
            "lumens": rng.choice([3000, 4500, 6000], len(lamp_xy)),
            "height_m": rng.choice([6.0, 8.0, 10.0], len(lamp_xy)),
        },
        geometry=gpd.points_from_xy(lamp_xy[:, 0], lamp_xy[:, 1]),
        crs=CRS_CITY,
    )


def _car_parks() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"car_park_id": [f"P{i + 1}" for i in range(len(CAR_PARK_XY))]},
        geometry=[
            box(x - 40, y - 30, x + 40, y + 30) if i < 4 else box(x - 90, y - 60, x + 90, y + 60)
            for i, (x, y) in enumerate(CAR_PARK_XY)
        ],
        crs=CRS_CITY,
    )


def _cameras(rng: np.random.Generator) -> pd.DataFrame:
    """Cameras on centre streets and in the centre's car parks (the outer car parks are unwatched)."""
    n_c = 80
    cam_xy = np.vstack(
        [
            np.c_[X0 + 4000 + rng.normal(0, 600, n_c), Y0 + 4000 + rng.normal(0, 600, n_c)],
            CAR_PARK_XY[:4] + np.array([40.0, 30.0]),
        ]
    )
    cameras = pd.DataFrame(
        {
            "x": cam_xy[:, 0],
            "y": cam_xy[:, 1],
            "direction_deg": rng.integers(0, 360, len(cam_xy)).astype(float),
            "fov_deg": 90.0,
            "range_m": 70.0,
        }
    )
    cameras.loc[n_c:, "direction_deg"] = 225.0  # car-park cameras look into the park from its NE corner
    return cameras


def _access_points(rng: np.random.Generator, streets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Alley entrances (ends and every 320 m), footpaths, gates and car-park entrances."""
    alleys = streets[streets["street_class"] == "alley"]
    alley_ends = shapely.get_coordinates(shapely.boundary(alleys.geometry.to_numpy()))
    alley_xy = np.vstack([alley_ends, _points_along(alleys.geometry, 320.0)])
    foot_xy = np.c_[rng.uniform(X0 + 800, X0 + 7200, 40), rng.uniform(Y0 + 800, Y0 + 7200, 40)]
    gate_xy = np.c_[rng.uniform(X0 + 1200, X0 + 6800, 10), rng.uniform(Y0 + 1200, Y0 + 6800, 10)]
    cpe_xy = (
        CAR_PARK_XY - np.c_[np.where(np.arange(len(CAR_PARK_XY)) < 4, 40.0, 90.0), np.zeros(len(CAR_PARK_XY))]
    )
    acc_xy = np.vstack([alley_xy, foot_xy, gate_xy, cpe_xy])
    kinds = (
        ["alley_entrance"] * len(alley_xy)
        + ["footpath"] * 40
        + ["gate"] * 10
        + ["car_park_entrance"] * len(cpe_xy)
    )
    return gpd.GeoDataFrame(
        {"access_id": [f"A{i:04d}" for i in range(len(acc_xy))], "kind": kinds},
        geometry=gpd.points_from_xy(acc_xy[:, 0], acc_xy[:, 1]),
        crs=CRS_CITY,
    )


def _generators(
    rng: np.random.Generator, streets: gpd.GeoDataFrame, boundary: Any
) -> dict[str, gpd.GeoDataFrame]:
    """Licensed premises, transit stops, late shops, cash machines and vacant buildings."""
    lic_xy = np.c_[X0 + 4000 + rng.normal(0, 600, 60), Y0 + 4000 + rng.normal(0, 600, 60)]
    art_pts = _points_along(streets[streets["street_class"] == "arterial"].geometry, 400.0)
    n_shops = min(40, len(art_pts))
    shop_xy = art_pts[rng.choice(len(art_pts), n_shops, replace=False)] + rng.normal(0, 20, (n_shops, 2))
    atm_xy = np.vstack([lic_xy[rng.choice(60, 15, replace=False)] + rng.normal(0, 30, (15, 2)), shop_xy[:10]])
    vac_xy = np.c_[rng.uniform(X0 + 1000, X0 + 7000, 40), rng.uniform(Y0 + 1000, Y0 + 7000, 40)]

    def pts(prefix: str, xy: np.ndarray, id_col: str) -> gpd.GeoDataFrame:
        g = gpd.GeoDataFrame(
            {id_col: [f"{prefix}{i:03d}" for i in range(len(xy))]},
            geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
            crs=CRS_CITY,
        )
        return g[g.within(boundary)].reset_index(drop=True)

    return {
        "transit_stops": pts("T", art_pts, "stop_id"),
        "licensed_premises": pts("LP", lic_xy, "premises_id"),
        "cash_machines": pts("ATM", atm_xy, "atm_id"),
        "late_shops": pts("SH", shop_xy, "shop_id"),
        "vacant_buildings": pts("VB", vac_xy, "building_id"),
    }


def _buildings(boundary: Any) -> gpd.GeoDataFrame:
    """Two buildings per 160 m block, set back from the streets."""
    bx, by = np.meshgrid(np.arange(160.0, 8000.0, 160.0), np.arange(160.0, 8000.0, 160.0))
    bx, by = bx.ravel() + X0, by.ravel() + Y0
    bgeoms = np.concatenate(
        [shapely.box(bx - 60, by - 60, bx - 10, by - 15), shapely.box(bx + 10, by + 15, bx + 60, by + 60)]
    )
    bgeoms = bgeoms[shapely.within(bgeoms, boundary)]
    return gpd.GeoDataFrame(
        {"building_id": [f"B{i:05d}" for i in range(len(bgeoms))]}, geometry=bgeoms, crs=CRS_CITY
    )


def _vegetation(rng: np.random.Generator, boundary: Any) -> gpd.GeoDataFrame:
    veg_xy = np.c_[rng.uniform(X0 + 1000, X0 + 7000, 30), rng.uniform(Y0 + 1000, Y0 + 7000, 30)]
    vegetation = gpd.GeoDataFrame(
        {"vegetation_id": [f"V{i:02d}" for i in range(30)]},
        geometry=shapely.buffer(shapely.points(veg_xy), rng.uniform(15, 40, 30)),
        crs=CRS_CITY,
    )
    return vegetation[vegetation.within(boundary)].reset_index(drop=True)


def build_layers(rng: np.random.Generator) -> dict[str, Any]:
    """All environmental layers of the town (GeoDataFrames in EPSG:32630) plus helper arrays.

    The random draws happen in a fixed order (boundary, lamps, cameras, access points,
    generators, vegetation), so a seed always gives the same town.
    """
    boundary = _boundary(rng)
    streets = _streets(boundary)
    lights = _street_lights(rng, streets)
    cameras = _cameras(rng)
    cameras_gdf = gpd.GeoDataFrame(
        cameras.drop(columns=["x", "y"]).assign(camera_id=[f"C{i:03d}" for i in range(len(cameras))]),
        geometry=gpd.points_from_xy(cameras["x"], cameras["y"]),
        crs=CRS_CITY,
    )
    access = _access_points(rng, streets)
    generators = _generators(rng, streets, boundary)
    return {
        "boundary": gpd.GeoDataFrame({"name": ["Sampleton"]}, geometry=[boundary], crs=CRS_CITY),
        "wards": _wards(boundary),
        "land_use": _land_use(boundary),
        "streets": streets,
        "street_lights": lights,
        "cameras": cameras_gdf[["camera_id", "direction_deg", "fov_deg", "range_m", "geometry"]],
        "access_points": access,
        **generators,
        "car_parks": _car_parks(),
        "buildings": _buildings(boundary),
        "vegetation": _vegetation(rng, boundary),
        "_dark_centres": DARK_CENTRES,
        "_centre": Point(X0 + 4000, Y0 + 4000),
        "_cameras_xy": cameras,
    }


def lux_raster(lights: gpd.GeoDataFrame, *, pixel_m: float = 20.0) -> tuple[np.ndarray, Affine]:
    """Illuminance (lux) from working lamps: 25 lux at the foot, Gaussian fall-off (σ 18 m).

    Rounded to 0.001 lux before it is returned: the FFT's last bits differ between CPUs (up to
    ~1e-13 lux), and the written raster must be the same on every machine.
    """
    n = int(8000 / pixel_m)
    working = lights[lights["status"] == "working"]
    xy = shapely.get_coordinates(working.geometry.to_numpy())
    col = ((xy[:, 0] - X0) / pixel_m).astype(int).clip(0, n - 1)
    row = ((Y0 + 8000 - xy[:, 1]) / pixel_m).astype(int).clip(0, n - 1)  # north-up
    counts = np.zeros((n, n))
    np.add.at(counts, (row, col), 1.0)
    r = np.arange(-5, 6) * pixel_m
    kernel = 25.0 * np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * 18.0**2))
    lux = np.round(np.clip(fftconvolve(counts, kernel, mode="same"), 0, None), LUX_DECIMALS)
    return lux.astype("float32"), Affine(pixel_m, 0, X0, 0, -pixel_m, Y0 + 8000)


def _pixel_features(layers: dict[str, Any], boundary: Polygon, rng: np.random.Generator) -> dict[str, Any]:
    n = int(8000 / PIXEL_M)
    cx = X0 + (np.arange(n) + 0.5) * PIXEL_M
    cy = Y0 + (np.arange(n) + 0.5) * PIXEL_M
    gx, gy = np.meshgrid(cx, cy)
    px = np.c_[gx.ravel(), gy.ravel()]
    inside = shapely.contains_xy(boundary, px[:, 0], px[:, 1])
    px = px[inside]
    lu = np.full(len(px), "residential", dtype=object)
    for zone, geom in zip(layers["land_use"]["zone"], layers["land_use"].geometry, strict=True):
        lu[shapely.contains_xy(geom, px[:, 0], px[:, 1])] = zone
    street_pts = _points_along(layers["streets"].geometry, 10.0)
    on_street = _within(px, street_pts, 25.0)
    lights = layers["street_lights"]
    working = shapely.get_coordinates(lights.loc[lights["status"] == "working"].geometry.to_numpy())
    all_lamps = shapely.get_coordinates(lights.geometry.to_numpy())
    dark_now = on_street & ~_within(px, working, LAMP_RADIUS_M)
    ward_w2 = layers["wards"].set_index("ward_id").geometry["W2"]
    in_w2 = shapely.contains_xy(ward_w2, px[:, 0], px[:, 1])
    # before the upgrade, W2 had many more broken lamps (fixed on the upgrade date) and an unlit stretch
    w2_extra_dark = (
        in_w2
        & on_street
        & (
            (np.hypot(px[:, 0] - (X0 + 5200), px[:, 1] - (Y0 + 5900)) < 380)
            | ~_within(px, all_lamps[::3], LAMP_RADIUS_M)
        )
    )
    acc = layers["access_points"]
    alley_xy = shapely.get_coordinates(acc.loc[acc["kind"] == "alley_entrance"].geometry.to_numpy())

    def xy(name: str) -> np.ndarray:
        return shapely.get_coordinates(layers[name].geometry.to_numpy())

    from scipy.ndimage import gaussian_filter

    field = gaussian_filter(rng.standard_normal((n, n)), sigma=HETEROGENEITY["length_m"] / PIXEL_M)
    field = (field - field.mean()) / field.std()
    hetero = np.exp(HETEROGENEITY["sigma_log"] * field.ravel()[inside] - HETEROGENEITY["sigma_log"] ** 2 / 2)
    feats = {
        "px": px,
        "heterogeneity": hetero,
        "landuse": lu,
        "on_street": on_street,
        "dark_now": dark_now,
        "dark_before_upgrade": dark_now | w2_extra_dark,
        "in_w2": in_w2,
        "licensed_premises": _within(px, xy("licensed_premises"), 100.0),
        "transit_stops": _within(px, xy("transit_stops"), 150.0),
        "cash_machines": _within(px, xy("cash_machines"), 100.0),
        "alley_entrances": _within(px, alley_xy, 50.0),
        "camera_coverage": _in_sector(px, layers["_cameras_xy"]),
        "car_parks": np.zeros(len(px), dtype=bool),
        "rising": np.hypot(px[:, 0] - (X0 + RISING["centre"][0]), px[:, 1] - (Y0 + RISING["centre"][1]))
        < RISING["radius_m"],
    }
    for geom in layers["car_parks"].geometry:
        feats["car_parks"] |= shapely.contains_xy(geom.buffer(5), px[:, 0], px[:, 1])
    # the rising neighbourhood starts from an ordinary (not a quiet) baseline, so its growth makes it hot
    feats["heterogeneity"] = np.where(
        feats["rising"], np.maximum(feats["heterogeneity"], 1.0), feats["heterogeneity"]
    )
    return feats


def _day_weights(days: pd.DatetimeIndex, category: str) -> np.ndarray:
    season = 1 + SEASON_AMPLITUDE * np.cos(2 * np.pi * (days.month.to_numpy() - 7) / 12)
    return season * np.asarray(WEEKDAY_WEIGHT[category])[days.day_of_week.to_numpy()]


def _sample(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    cdf = np.cumsum(weights)
    return np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right").clip(0, len(weights) - 1)


def simulate_incidents(
    layers: dict[str, Any], rng: np.random.Generator, *, start: str, years: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Incidents from the known model; returns the table and generation counts."""
    boundary = layers["boundary"].geometry.iloc[0]
    f = _pixel_features(layers, boundary, rng)
    px = f["px"]
    days = pd.date_range(start, periods=round(years * 365.25), freq="D")
    t_end = days[-1] + pd.Timedelta(days=1)
    upgrade = pd.Timestamp(UPGRADE["date"])
    rows: list[pd.DataFrame] = []
    counts: dict[str, int] = {}
    for category, per_year in PER_YEAR.items():
        base = np.vectorize(LANDUSE_WEIGHT[category].get)(f["landuse"]).astype(float) * f["heterogeneity"]
        for name, spec in FACTORS.items():
            if name != "darkness" and category in spec["categories"]:
                base = base * np.where(f[name], spec["rr"], 1.0)
        dark_rr = FACTORS["darkness"]["rr"] if category in FACTORS["darkness"]["categories"] else 1.0
        rising_max = RISING["multiplier_end"]
        hours = _hour_profile(category)
        night = np.isin(np.arange(24), NIGHT_HOURS)
        dayw = _day_weights(days, category)
        # scale so the expected yearly total is per_year (with darkness at its pre-upgrade extent)
        night_w = base * np.where(f["dark_before_upgrade"], dark_rr, 1.0)
        mean_rise = np.where(f["rising"], (RISING["multiplier_start"] + rising_max) / 2, 1.0)
        scale = (
            per_year * years / ((hours[night].sum() * night_w + hours[~night].sum() * base) * mean_rise).sum()
        )
        for is_night in (True, False):
            w = (night_w if is_night else base) * np.where(f["rising"], rising_max, 1.0)
            share = hours[night].sum() if is_night else hours[~night].sum()
            n = rng.poisson(scale * share * w.sum())
            pix = _sample(rng, w, n)
            day = days[_sample(rng, dayw, n)]
            hour_choices = np.flatnonzero(night if is_night else ~night)
            hour = hour_choices[_sample(rng, hours[hour_choices], n)]
            when = day + pd.to_timedelta(hour, unit="h") + pd.to_timedelta(rng.integers(0, 60, n), unit="min")
            frac = ((when - days[0]) / (t_end - days[0])).to_numpy(dtype=float)
            accept = np.ones(n, dtype=bool)
            rise = f["rising"][pix]
            m_t = RISING["multiplier_start"] + (rising_max - RISING["multiplier_start"]) * frac
            accept &= ~rise | (rng.random(n) < m_t / rising_max)
            if is_night and dark_rr != 1.0:
                was_dark = f["dark_before_upgrade"][pix]
                dark_after = f["dark_now"][pix]
                after = np.asarray(when >= upgrade)
                # after the upgrade, pixels lit by the fixed lamps lose the darkness factor
                lose = was_dark & ~dark_after & after
                accept &= ~lose | (rng.random(n) < 1.0 / dark_rr)
            pix, when = pix[accept], when[accept]
            xy = px[pix] + rng.uniform(-PIXEL_M / 2, PIXEL_M / 2, (len(pix), 2))
            outside = ~shapely.contains_xy(boundary, xy[:, 0], xy[:, 1])
            xy[outside] = px[pix[outside]]  # jitter past the boundary: keep the pixel centre (inside)
            rows.append(
                pd.DataFrame(
                    {"category": category, "occurred_at": when, "x": xy[:, 0], "y": xy[:, 1], "_pix": pix}
                )
            )
    inc = pd.concat(rows, ignore_index=True)
    inc = _near_repeats(inc, rng, boundary, t_end)
    inc = inc[inc["occurred_at"] < t_end].reset_index(drop=True)
    inc["location_type"] = _location_types(inc, layers)
    inc = (
        inc.drop(columns="_pix").sort_values(["occurred_at", "x", "y"], kind="stable").reset_index(drop=True)
    )
    inc.insert(0, "incident_id", [f"SC{i:06d}" for i in range(len(inc))])
    for category in PER_YEAR:
        counts[category] = int((inc["category"] == category).sum())
    counts["near_repeat_offspring"] = int(inc.attrs.get("offspring", 0))
    return inc, counts


def _near_repeats(
    inc: pd.DataFrame, rng: np.random.Generator, boundary: Polygon, t_end: pd.Timestamp
) -> pd.DataFrame:
    parents = inc[inc["category"] == NEAR_REPEAT["category"]]
    born = 0
    new = []
    for _ in range(NEAR_REPEAT["generations"]):
        k = rng.poisson(NEAR_REPEAT["p_offspring"], len(parents))
        idx = np.repeat(np.arange(len(parents)), k)
        if not len(idx):
            break
        r = NEAR_REPEAT["radius_m"] * np.sqrt(rng.random(len(idx)))
        a = rng.uniform(0, 2 * np.pi, len(idx))
        x = parents["x"].to_numpy()[idx] + r * np.cos(a)
        y = parents["y"].to_numpy()[idx] + r * np.sin(a)
        dt = pd.to_timedelta(rng.integers(1, NEAR_REPEAT["days_max"] + 1, len(idx)), unit="D")
        dt += pd.to_timedelta(rng.integers(-180, 180, len(idx)), unit="min")
        child = pd.DataFrame(
            {
                "category": NEAR_REPEAT["category"],
                "occurred_at": parents["occurred_at"].to_numpy()[idx] + dt,
                "x": x,
                "y": y,
                "_pix": -1,
            }
        )
        child = child[shapely.contains_xy(boundary, child["x"], child["y"]) & (child["occurred_at"] < t_end)]
        born += len(child)
        new.append(child)
        parents = child
    out = pd.concat([inc, *new], ignore_index=True)
    out.attrs["offspring"] = born
    return out


def _location_types(inc: pd.DataFrame, layers: dict[str, Any]) -> np.ndarray:
    xy = inc[["x", "y"]].to_numpy()
    in_cp = np.zeros(len(inc), dtype=bool)
    for geom in layers["car_parks"].geometry:
        in_cp |= shapely.contains_xy(geom.buffer(5), xy[:, 0], xy[:, 1])
    near_lp = _within(xy, shapely.get_coordinates(layers["licensed_premises"].geometry.to_numpy()), 40.0)
    near_ts = _within(xy, shapely.get_coordinates(layers["transit_stops"].geometry.to_numpy()), 40.0)
    cat = inc["category"].to_numpy()
    loc = np.full(len(inc), "street", dtype=object)
    loc[cat == "burglary"] = "dwelling"
    loc[(cat == "assault") & near_lp] = "licensed_premises"
    loc[(cat == "robbery") & near_ts] = "transit"
    centre = shapely.contains_xy(layers["land_use"].set_index("zone").geometry["centre"], xy[:, 0], xy[:, 1])
    loc[(cat == "burglary") & centre] = "commercial"
    loc[(cat == "theft_from_vehicle") & in_cp] = "car_park"
    return loc


def _write_lux(path: Path, lux: np.ndarray, transform: Affine) -> None:
    import rasterio

    profile = {
        "driver": "GTiff",
        "height": lux.shape[0],
        "width": lux.shape[1],
        "count": 1,
        "dtype": "float32",
    }
    with rasterio.open(
        path, "w", **profile, crs=CRS_CITY.to_wkt(), transform=transform, compress="deflate"
    ) as dst:
        dst.write(lux, 1)
        dst.set_band_description(1, "illuminance (lux), synthetic")


def generate_city(
    out_dir: str | Path, *, seed: int = DEFAULT_SEED, years: int = 3, start: str = "2023-01-01"
) -> dict[str, Any]:
    """Generate the sample city into ``out_dir`` and return the truth dictionary.

    Parameters
    ----------
    out_dir : path
        Folder for ``incidents.csv``, ``city.gpkg``, ``lux.tif``, ``audits.csv``, ``truth.json``
        (created).
    seed : int
        Seed of the only random generator used (``numpy.random.default_rng``).
    years : int
        Years of incidents from ``start``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    layers = build_layers(rng)
    incidents, counts = simulate_incidents(layers, rng, start=start, years=years)
    from planner import _synth_victims

    victims = _synth_victims.victim_columns(incidents, layers, DARK_RADIUS_M, seed=seed)  # own stream
    inc = incidents.assign(
        occurred_at=incidents["occurred_at"].dt.strftime("%Y-%m-%dT%H:%M"),
        x=incidents["x"].round(2),
        y=incidents["y"].round(2),
    ).join(victims)
    from planner.export.csv_safe import write_csv

    write_csv(inc, out / "incidents.csv")
    gpkg = out / "city.gpkg"
    if gpkg.exists():
        gpkg.unlink()
    for name, gdf in layers.items():
        if name.startswith("_"):
            continue
        gdf.to_file(
            gpkg,
            layer=name,
            driver="GPKG",
            engine="pyogrio",
            metadata={"DESCRIPTION": f"Sampleton (synthetic): {name}"},
        )
    _write_lux(out / "lux.tif", *lux_raster(layers["street_lights"]))
    rising = Point(X0 + RISING["centre"][0], Y0 + RISING["centre"][1]).buffer(RISING["radius_m"], 32)
    truth = {
        "description": "True parameters of the synthetic sample city Sampleton (planner.synth).",
        "seed": seed,
        "crs": "EPSG:32630",
        "origin": [X0, Y0],
        "size_m": 8000,
        "start": start,
        "years": years,
        "pixel_m": PIXEL_M,
        "incidents_per_year": PER_YEAR,
        "landuse_weight": LANDUSE_WEIGHT,
        "night_share": NIGHT_SHARE,
        "night_hours": list(NIGHT_HOURS),
        "weekday_weight": WEEKDAY_WEIGHT,
        "season_amplitude": SEASON_AMPLITUDE,
        "factors": FACTORS,
        "heterogeneity": HETEROGENEITY,
        "lamp_radius_m": LAMP_RADIUS_M,
        "near_repeat": NEAR_REPEAT,
        "lighting_upgrade": {
            **UPGRADE,
            "relative_change_night_street_crime_in_previously_dark_places": 1 / FACTORS["darkness"]["rr"] - 1,
        },
        "rising_area": {**{k: v for k, v in RISING.items() if k != "centre"}, "wkt": rising.wkt},
        "dark_zone_centres": layers["_dark_centres"].round(1).tolist(),
        "counts": counts,
        "n_incidents": len(incidents),
    }
    truth["victims"] = _synth_victims.truth()
    from planner._synth_audits import write_audits

    # synthetic safety audits with a known pattern, from their own random stream
    truth["perception_audit"] = write_audits(out, layers, seed=seed)
    (out / "truth.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    logger.info("sample city written to %s: %d incidents", out, len(incidents))
    return truth


def lighting_upgrade_expected_change(
    *, seed: int = DEFAULT_SEED, categories: list[str] | None = None, night_only: bool = True
) -> dict[str, float]:
    """Expected relative change of crime in the upgraded ward caused by the lighting upgrade, from
    the model (not sampled); see :func:`planner._synth_audits.expected_upgrade_change`.
    """
    from planner._synth_audits import expected_upgrade_change

    return expected_upgrade_change(seed=seed, categories=categories, night_only=night_only)
