"""Maps: interactive folium maps of a plan, offline (the only package that imports folium).

Modules: ``folium_map`` (:func:`plan_map`, :func:`map_to_html`, raster overlays), ``overlay`` (the
dashboard's changing layers, drawn by script on a mounted map) and ``assets`` (the vendored
Leaflet/folium files, served locally or inlined into a self-contained HTML file).
"""

from planner.maps.folium_map import (
    GI_BIN_COLOURS,
    GI_BIN_LABELS,
    HOTSPOT_COLOUR,
    map_to_html,
    plan_map,
    surface_to_png,
)
from planner.maps.overlay import OVERLAY_LEGEND, overlay_script

__all__ = [
    "GI_BIN_COLOURS",
    "GI_BIN_LABELS",
    "HOTSPOT_COLOUR",
    "OVERLAY_LEGEND",
    "map_to_html",
    "overlay_script",
    "plan_map",
    "surface_to_png",
]
