"""Maps render offline: no http(s) script/style links once assets are vendored; layers present."""

from __future__ import annotations

import re

import pytest
from _tiny_plan import tiny_plan

from planner.maps import assets as _assets
from planner.maps import map_to_html, plan_map, surface_to_png

needs_assets = pytest.mark.skipif(
    not _assets.assets_available(), reason="run 'make setup' to vendor map assets"
)

EXTERNAL = re.compile(r"<(?:script|link)[^>]+(?:src|href)=\"https?://", re.I)


@needs_assets
def test_self_contained_html_has_no_external_scripts_or_styles(tmp_path):
    m = plan_map(tiny_plan(), show_incidents=True)
    html = map_to_html(m, tmp_path / "map.html")
    assert not EXTERNAL.search(html)
    assert "L.map(" in html
    assert "H01" in html  # hotspot feature embedded
    assert (tmp_path / "map.html").stat().st_size > 100_000  # leaflet inlined


@needs_assets
def test_streamlit_map_points_at_static_urls():
    m = plan_map(tiny_plan())
    html = m.get_root().render()
    assert "/app/static/vendor/leaflet/dist/leaflet.js" in html
    assert not EXTERNAL.search(html)


def test_legend_and_layers_present():
    html = plan_map(tiny_plan(), local_assets=False).get_root().render()
    assert "Hot spot, 99% confidence" in html
    assert "Hotspots" in html and "Kernel density" in html
    assert "planner-legend" in html


def test_selected_hotspot_is_outlined():
    html = plan_map(tiny_plan(), selected_hotspot="H01", local_assets=False).get_root().render()
    assert "H01" in html


def test_density_overlay_is_north_up():
    """The tiny density has its peak in the north row (row 1 south-up = row 0 north-up)."""
    plan = tiny_plan()
    uri, bounds = surface_to_png(plan.surfaces["density"])
    assert uri.startswith("data:image/png;base64,")
    (lat0, lon0), (lat1, lon1) = bounds
    assert lat0 < lat1 and lon0 < lon1
    import base64
    import io

    import numpy as np
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))
    alpha = img[..., 3].astype(float)
    top, bottom = alpha[: alpha.shape[0] // 2].sum(), alpha[alpha.shape[0] // 2 :].sum()
    assert top > bottom  # the 4.0 cell is in the northern half


def test_large_incident_sets_are_sampled_on_the_map():
    from _tiny_plan import tiny_plan

    from planner.maps import map_to_html, plan_map

    plan = tiny_plan()
    n = len(plan.incidents)
    html = map_to_html(plan_map(plan, show_incidents=True, max_incident_points=max(n // 2, 1)))
    assert f"random sample of {max(n // 2, 1):,} of {n:,}" in html
    full = map_to_html(plan_map(plan, show_incidents=True))
    assert "random sample" not in full


def test_point_geojson_is_geopandas_own():
    # incidents' GeoJSON is built from arrays: exactly what GeoDataFrame.to_json gives (ids, null
    # for missing values, Python numbers), and other geometries still go through geopandas
    import json

    import geopandas as gpd
    import numpy as np
    import shapely

    from planner.maps.folium_map import _geojson, _point_geojson

    web = gpd.GeoDataFrame(
        {"incident_id": [3, 5, 9], "category": ["a", None, "c&d"], "w": [1.5, np.nan, 2.0]},
        geometry=shapely.points([[-3.1, 55.9], [-3.2, 55.95], [-3.0, 56.0]]),
        index=[10, 11, 12],
        crs="EPSG:4326",
    )
    assert _geojson(web) == json.loads(web.to_json())
    assert _point_geojson(web[["geometry"]]) == json.loads(web[["geometry"]].to_json())
    lines = web.set_geometry(shapely.linestrings([[[0, 0], [1, 1]]] * 3))
    assert _point_geojson(lines) is None and _geojson(lines) == json.loads(lines.to_json())
