"""The dashboard's map component: the only user of streamlit-folium internals.

streamlit-folium keys its component by a hash of the map script, so the rendered map is cached
once per configuration (:func:`map_payload`) and stays mounted; what changes with clicks is drawn
by :func:`planner.maps.overlay_script` instead.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import streamlit as st

from planner.dashboard.state import cached_plan, cached_public_plan

logger = logging.getLogger(__name__)

MAP_MAX_POINTS = 2000  # point layers larger than this show only features near hotspots
MAP_MAX_INCIDENTS = 5000  # an analyst's map shows at most this many incidents (a seeded sample)

MAP_RETURNED = [
    "last_clicked",
    "last_object_clicked",
    "last_object_clicked_count",
    "last_active_drawing",
    "last_object_clicked_popup",
]

CLICK_MODES = {
    "select": "Show a hotspot's profile",
    "lamp": "Add a street lamp",
    "camera": "Add a CCTV camera",
    "close_access": "Close an access point",
}


@st.cache_resource(show_spinner=False, max_entries=4)
def map_payload(config_json: str, key: str = "map", *, analyst: bool = True) -> dict[str, Any]:
    """The rendered map of a configuration, ready for the streamlit-folium component.

    Rendering the folium map is most of a rerun's cost (~2.5 s on the sample city), so it is done
    once per configuration and role. Everything that changes with clicks goes into
    :func:`planner.maps.overlay_script` instead, which keeps the component (and its click state)
    mounted. An analyst's map carries incident points (a sample of :data:`MAP_MAX_INCIDENTS`); a
    viewer's map is drawn from the public view of the plan, so no incident is ever sent to them.
    """
    from planner.maps import OVERLAY_LEGEND, plan_map

    plan = cached_plan(config_json) if analyst else cached_public_plan(config_json)
    m = plan_map(
        plan,
        show_incidents=analyst,
        max_incident_points=MAP_MAX_INCIDENTS,
        max_layer_points=MAP_MAX_POINTS,
        extra_legend=OVERLAY_LEGEND,
    )
    return _component_payload(m, key)


def _component_payload(m: Any, key: str) -> dict[str, Any]:
    """The arguments ``st_folium`` would send for ``m`` (same helpers, computed once)."""
    import streamlit_folium as sf

    m.get_root().render()
    m.render()
    html = sf._get_html(m)
    header = sf._get_header(m)
    script = sf._get_map_string(m)
    css: list[str] = []
    js: list[str] = []

    def walk(element: Any) -> Any:
        yield element
        for child in getattr(element, "_children", {}).values():
            yield from walk(child)

    for element in walk(m):
        css.extend(href for _, href in getattr(element, "default_css", []))
        js.extend(src for _, src in getattr(element, "default_js", []))
    return {
        "script": script,
        "header": header,
        "html": html,
        "id": sf.get_full_id(m),
        "css_links": list(dict.fromkeys(css)),
        "js_links": list(dict.fromkeys(js)),
        "hash_key": sf.generate_js_hash(script, key, False),
        "map": m,
    }


def show_map(payload: dict[str, Any], *, key: str, height: int, overlay: str | None) -> dict[str, Any]:
    """Show a cached map with a changing overlay; return what the user last clicked.

    Uses streamlit-folium's component directly with the cached arguments. The component's
    identity depends only on the (unchanging) map script, so clicks survive reruns.
    """
    try:
        from streamlit_folium import _component_func
    except ImportError:  # a streamlit-folium without the private function: slower, no overlay
        from streamlit_folium import st_folium

        logger.warning("streamlit-folium internals changed; map falls back to st_folium")
        return st_folium(payload["map"], key=key, height=height, returned_objects=MAP_RETURNED) or {}
    value = _component_func(
        script=payload["script"],
        header=payload["header"],
        html=payload["html"],
        id=payload["id"],
        key=payload["hash_key"],
        height=height,
        width=None,
        returned_objects=MAP_RETURNED,
        default=dict.fromkeys(MAP_RETURNED),
        zoom=None,
        center=None,
        feature_group=overlay or None,
        return_on_hover=False,
        layer_control=None,
        pixelated=False,
        css_links=payload["css_links"],
        js_links=payload["js_links"],
        wrap_longitude=False,
    )
    return value or {}


def map_state(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The map's last reported state (clicks), readable before the map is drawn in this run."""
    try:
        value = st.session_state.get(payload["hash_key"])
    except Exception:  # outside a Streamlit run (plain Python)
        return None
    return dict(value) if isinstance(value, dict) else None


def map_click(
    map_state: dict[str, Any] | None, previous: str | None
) -> tuple[str | None, dict[str, float] | None]:
    """A new click in the map's state: ``(signature, {"lat", "lng"})``, or ``(previous, None)``.

    Clicking a feature (a hotspot polygon, a lamp) does not always update the plain map click,
    so a click is new when either the map click or the count of feature clicks changed; its place
    is the feature click's position when there is one. Keep the signature in the session and pass
    it back next time.
    """
    state = map_state or {}
    signature = json.dumps(
        [state.get("last_clicked"), state.get("last_object_clicked_count")], sort_keys=True
    )
    if signature == previous or not (state.get("last_clicked") or state.get("last_object_clicked")):
        return previous, None
    old = json.loads(previous) if previous else [None, None]
    where = state.get("last_object_clicked") if state.get("last_object_clicked_count") != old[1] else None
    where = where or state.get("last_clicked")
    if not where:
        return signature, None
    return signature, {"lat": float(where["lat"]), "lng": float(where["lng"])}


def clicked_hotspot(map_state: dict[str, Any] | None, ids: list[str]) -> str | None:
    """The hotspot a map click selected: from the clicked feature, else from its popup text."""
    state = map_state or {}
    feature = state.get("last_active_drawing") or {}
    hid = (feature.get("properties") or {}).get("hotspot_id")
    if hid in ids:
        return str(hid)
    popup = state.get("last_object_clicked_popup") or ""
    tokens = popup.replace(":", " ").split()
    return next((t for t in tokens if t in ids), None)
