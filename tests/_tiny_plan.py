"""A hand-built tiny Plan (no pipeline) for map/export tests.

Study area: the 300 m × 200 m rectangle (500000..500300, 5700000..5700200) in EPSG:32630, cut into
six 100 m cells. Six incidents: four in cell 4 (row 1, col 1), one each in cells 0 and 5. Cell 4 is
the only significant hot cell (gi_bin 2), forming hotspot H01.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS
from shapely.geometry import Point, box

from planner.config import RunConfig
from planner.plan import Plan
from planner.surface import surface_from_south_up

CRS_M = CRS.from_epsg(32630)
X0, Y0 = 500000.0, 5700000.0


def tiny_plan() -> Plan:
    cells = []
    for row in range(2):
        for col in range(3):
            cells.append(
                {
                    "cell_id": row * 3 + col,
                    "row": row,
                    "col": col,
                    "geometry": box(
                        X0 + col * 100, Y0 + row * 100, X0 + (col + 1) * 100, Y0 + (row + 1) * 100
                    ),
                }
            )
    cells_gdf = gpd.GeoDataFrame(cells, crs=CRS_M)
    cells_gdf["area_m2"] = cells_gdf.area
    cells_gdf["n_incidents"] = [1, 0, 0, 0, 4, 1]
    cells_gdf["gi_z"] = [-0.5, -0.8, -0.8, -0.6, 2.2, 0.4]
    cells_gdf["gi_p"] = 2 * (1 - 0.5 * (1 + np.tanh(np.abs(cells_gdf["gi_z"]) * 0.8)))
    cells_gdf["gi_p_adj"] = cells_gdf["gi_p"]
    cells_gdf["gi_bin"] = [0, 0, 0, 0, 2, 0]
    cells_gdf["hotspot_id"] = [None, None, None, None, "H01", None]
    pts = [(150, 150), (140, 160), (160, 140), (155, 155), (50, 50), (250, 150)]
    incidents = gpd.GeoDataFrame(
        {
            "incident_id": [f"i{i}" for i in range(6)],
            "occurred_at": pd.to_datetime(
                [
                    "2024-01-01 22:00",
                    "2024-01-05 23:30",
                    "2024-02-01 01:00",
                    "2024-02-03 21:00",
                    "2024-03-01 12:00",
                    "2024-03-09 14:00",
                ]
            ),
            "category": ["robbery", "robbery", "assault", "robbery", "burglary", "burglary"],
        },
        geometry=[Point(X0 + x, Y0 + y) for x, y in pts],
        crs=CRS_M,
    )
    hotspots = gpd.GeoDataFrame(
        {
            "hotspot_id": ["H01"],
            "n_cells": [1],
            "area_m2": [10000.0],
            "n_incidents": [4],
            "incidents_per_year": [4 / (68 / 365.25)],
            "density_per_km2": [400.0],
            "share_of_incidents": [4 / 6],
            "mean_gi_z": [2.2],
            "top_category": ["robbery"],
            "category_mix": ['{"robbery": 3, "assault": 1}'],
            "night_share": [1.0],
        },
        geometry=[box(X0 + 100, Y0 + 100, X0 + 200, Y0 + 200)],
        crs=CRS_M,
    )
    study_area = gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 300, Y0 + 200)], crs=CRS_M)
    density = surface_from_south_up(
        np.array([[1.0, 0.0, 0.0], [0.0, 4.0, 1.0]]),
        x0=X0,
        y0=Y0,
        cell_size_m=100,
        crs=CRS_M,
        name="density",
        units="incidents per km² per year",
    )
    lamps = gpd.GeoDataFrame(
        {"lamp_id": ["L1", "L2"], "status": ["working", "broken"]},
        geometry=[Point(X0 + 20, Y0 + 20), Point(X0 + 150, Y0 + 120)],
        crs=CRS_M,
    )
    return Plan(
        config=RunConfig(incidents="tiny.csv"),
        crs=CRS_M,
        incidents=incidents,
        quarantine=pd.DataFrame(),
        ingest_report={"rows_read": 6, "rows_accepted": 6, "rows_quarantined": 0, "warnings": []},
        study_area=study_area,
        cells=cells_gdf,
        hotspots=hotspots,
        surfaces={"density": density},
        layers={"street_lights": lamps},
        params={"cell_size_m": 100.0, "bandwidth_m": 150.0},
    )
