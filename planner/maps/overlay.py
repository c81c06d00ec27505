"""The dashboard's changing map layers (selection, unlit streets, what-if edits) as one script.

streamlit-folium evaluates the script on the already rendered map, so the big map stays mounted
while these layers change with clicks.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd

from planner.maps.folium_map import SELECTED_COLOUR, _to_web

UNLIT_COLOUR = "#D55E00"  # Okabe–Ito vermilion
WHATIF_STYLES = {
    "lamp": ("#F0E442", "New street lamp (what-if)"),
    "camera": ("#56B4E9", "New CCTV camera (what-if)"),
    "close_access": ("#000000", "Closed access point (what-if)"),
}

OVERLAY_LEGEND = [
    (UNLIT_COLOUR, "Unlit street in the selected hotspot", "line"),
    *((colour, label, "dot") for colour, label in WHATIF_STYLES.values()),
]


def js_json(value: Any, *, serialised: bool = False) -> str:
    """JSON for a script (``value`` as JSON, or already JSON text with ``serialised=True``), with
    ``<``, ``>``, ``&`` and line separators escaped so text in it can never close the script
    element or become markup.
    """
    import json

    text = value if serialised else json.dumps(value)
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text


def overlay_script(
    *,
    selected: gpd.GeoDataFrame | None = None,
    unlit: gpd.GeoDataFrame | None = None,
    edits: list[dict[str, Any]] | None = None,
    click_mode: str = "select",
) -> str:
    """JavaScript that draws the dashboard's changing layers on an already rendered map.

    streamlit-folium evaluates this as its ``feature_group`` argument: the big map stays mounted
    (no reload, no lost click state) while the selection outline, the unlit streets of the
    selected hotspot and the what-if edits change. ``map_div`` is the map's variable in the page.

    Parameters
    ----------
    selected : GeoDataFrame, optional
        The selected hotspot polygon (any CRS), drawn with a thick black outline.
    unlit : GeoDataFrame, optional
        Street stretches with no working lamp nearby (any CRS), drawn dashed in vermilion.
    edits : list of dict, optional
        What-if edits with ``kind`` (``lamp``, ``camera``, ``close_access``), ``lat``, ``lng``.
    click_mode : str
        What a click does in the dashboard; popups only open in ``"select"`` mode, so they do not
        cover the lamp or camera just placed.
    """
    parts = [
        "(function () {",
        f"window.plannerClickMode = {js_json(click_mode)};",
        "if (!window.plannerPopupGuard) {",
        "  window.plannerPopupGuard = true;",
        "  map_div.on('popupopen', function () { if (window.plannerClickMode !== 'select') map_div.closePopup(); });",
        "}",
        "map_div.closePopup();",
        "var fg = L.featureGroup();",
    ]
    if selected is not None and len(selected):
        geo = js_json(_to_web(selected).to_json(), serialised=True)
        parts.append(
            f"L.geoJSON({geo}, {{interactive: false, style: {{color: '{SELECTED_COLOUR}', weight: 4, "
            "fill: false}}).addTo(fg);"
        )
    if unlit is not None and len(unlit):
        geo = js_json(_to_web(unlit).to_json(), serialised=True)
        parts.append(
            f"window.plannerUnlit = {geo};"
            f"L.geoJSON(window.plannerUnlit, {{interactive: false, style: {{color: '{UNLIT_COLOUR}', "
            "weight: 5, dashArray: '6 5', className: 'planner-unlit'}}).addTo(fg);"
        )
    else:
        parts.append("window.plannerUnlit = null;")
    for edit in edits or []:
        fill, _label = WHATIF_STYLES.get(str(edit.get("kind")), ("#ffffff", ""))
        lat, lng = float(edit["lat"]), float(edit["lng"])
        parts.append(
            f"L.circleMarker({js_json([lat, lng])}, {{radius: 8, color: '#000000', weight: 2, "
            f"fillColor: '{fill}', fillOpacity: 1, interactive: false, className: 'planner-whatif'}}).addTo(fg);"
        )
    parts += [
        "map_div.addLayer(fg);",
        "window.feature_group = window.feature_group || [];",
        "window.feature_group.push(fg);",
        "})();",
        "",
    ]
    return "\n".join(parts)
