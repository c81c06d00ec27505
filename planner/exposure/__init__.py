"""Environment: layer specs, exposure of places to them, and what-if edits.

Modules: ``layers`` (the layer kinds declared in ``layers/*.toml``, parsed into frozen specs),
``measure`` (lighting, surveillance, access and generators per cell and hotspot), ``streets``
(unlit street stretches of a place) and ``whatif`` (edits to the layers and their re-measurement).
"""

from planner.exposure.measure import (
    camera_parameters,
    camera_viewsheds,
    exposure_for_cells,
    exposure_for_hotspots,
    exposure_for_polygons,
    exposure_for_polygons_dask,
    exposure_profile,
    lamp_status,
    zonal_stats,
)

__all__ = [
    "camera_parameters",
    "camera_viewsheds",
    "exposure_for_cells",
    "exposure_for_hotspots",
    "exposure_for_polygons",
    "exposure_for_polygons_dask",
    "exposure_profile",
    "lamp_status",
    "zonal_stats",
]
