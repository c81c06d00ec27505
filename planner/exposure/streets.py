"""Street stretches of a place with no working lamp in reach: where a new lamp changes lighting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import shapely

from planner.exposure.layers import load_registry
from planner.exposure.measure import lamp_status

MIN_STRETCH_M = 10.0
DEFAULT_LAMP_RADIUS_M = 20.0


def unlit_streets(
    area: shapely.Geometry, layers: Mapping[str, Any], *, crs: Any, min_length_m: float = MIN_STRETCH_M
) -> gpd.GeoDataFrame | None:
    """Street stretches inside ``area`` with no working lamp within the lamp radius.

    Parameters
    ----------
    area : shapely geometry
        The place (a hotspot polygon), in ``crs`` (projected, metres).
    layers : mapping
        The run's layers; needs ``streets`` (lines) and ``street_lights`` (points) in ``crs``.
    crs :
        CRS of ``area`` and the layers.
    min_length_m : float
        Shorter stretches (slivers at a lamp's reach) are left out.

    Returns
    -------
    GeoDataFrame or None
        One line per unlit stretch, or ``None`` without streets, lamps or unlit stretches.
    """
    streets, lamps = layers.get("streets"), layers.get("street_lights")
    if streets is None or lamps is None or not len(streets):
        return None
    spec = load_registry().get("street_lights")
    radius = float(getattr(spec, "radius_m", None) or DEFAULT_LAMP_RADIUS_M)
    inside = shapely.intersection(streets.geometry.to_numpy(), area)
    near = lamps[lamps.intersects(area.buffer(radius))]
    working = near[lamp_status(near, spec)] if spec is not None else near
    lit = shapely.union_all(working.geometry.buffer(radius).to_numpy()) if len(working) else None
    dark = shapely.difference(inside, lit) if lit is not None else inside
    parts = shapely.get_parts(dark[~shapely.is_empty(dark)])
    parts = parts[(shapely.get_type_id(parts) == 1) & (shapely.length(parts) >= min_length_m)]
    return gpd.GeoDataFrame(geometry=list(parts), crs=crs) if len(parts) else None
