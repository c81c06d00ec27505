"""Interactive folium maps of a plan (the only module that imports folium).

Maps use no CDN when the vendored assets exist (:mod:`planner.maps.assets`), draw their own context
layers (boundary, streets) instead of online tiles (``tiles=None`` by default), and use
colour-blind-safe palettes (ColorBrewer RdBu for hot/cold, Okabe–Ito for layer kinds).
"""

from __future__ import annotations

import base64
import html
import io
import logging
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.surface import Surface

logger = logging.getLogger(__name__)

# ColorBrewer RdBu (colour-blind safe), Gi* bins -3..3.
GI_BIN_COLOURS = {
    3: "#b2182b",
    2: "#ef8a62",
    1: "#fddbc7",
    -1: "#d1e5f0",
    -2: "#67a9cf",
    -3: "#2166ac",
}
GI_BIN_LABELS = {
    3: "Hot spot, 99% confidence",
    2: "Hot spot, 95%",
    1: "Hot spot, 90%",
    -1: "Cold spot, 90%",
    -2: "Cold spot, 95%",
    -3: "Cold spot, 99% confidence",
}
# Okabe–Ito palette for layer kinds without a style of their own.
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"]
HOTSPOT_COLOUR = "#7b3294"
SELECTED_COLOUR = "#000000"


def _layer_styles() -> dict[str, dict[str, Any]]:
    """Map styles from the layer registry (``layers/*.toml`` and the user's own), keyed by layer kind."""
    try:
        from planner.exposure.layers import load_registry

        registry = load_registry()
    except Exception as exc:  # registry is optional for drawing; never block a map on it
        logger.info("layer registry not available for map styles: %s", exc)
        return {}
    styles: dict[str, dict[str, Any]] = {}
    for name, spec in registry.items():
        style = getattr(spec, "style", None)
        if style is None:
            continue
        styles[name] = dict(style) if not hasattr(style, "__dict__") else dict(vars(style))
        styles[name].setdefault("title", getattr(spec, "title", name))
    return styles


def _geojson(web: gpd.GeoDataFrame) -> dict[str, Any]:
    """GeoJSON of a web frame without per-feature bounding boxes (folium would embed them)."""
    import json

    points = _point_geojson(web)
    return points if points is not None else dict(json.loads(web.to_json()))


def _point_geojson(web: gpd.GeoDataFrame) -> dict[str, Any] | None:
    """The GeoJSON of ``web.to_json()`` built from arrays when every feature is a 2-D point in
    EPSG:4326 (thousands of incidents: no per-feature geometry mapping); None otherwise.
    """
    import shapely

    geoms = np.asarray(web.geometry.values)
    if (
        not len(geoms)
        or web.crs is None
        or not web.crs.equals("EPSG:4326")
        or not web.columns.is_unique
        or not np.all(shapely.get_type_id(geoms) == 0)
        or np.any(shapely.is_empty(geoms) | shapely.has_z(geoms))
    ):
        return None
    coords = shapely.get_coordinates(geoms).tolist()
    ids = [str(i) for i in np.asarray(web.index)]
    cols = web.columns.drop(web.geometry.name)
    rows: list[list[Any]] = [[] for _ in ids]
    if len(cols):
        props = web[cols].astype(object)
        props[pd.isna(web[cols]).values] = None  # as geopandas writes missing values: null
        rows = props.values.tolist()
    names = list(cols)
    features = [
        {
            "id": fid,
            "type": "Feature",
            "properties": dict(zip(names, row, strict=True)),
            "geometry": {"type": "Point", "coordinates": xy},
        }
        for fid, row, xy in zip(ids, rows, coords, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


WEB_DECIMALS = 6  # degrees to 6 decimals is ~0.1 m: plenty for a map, and a third smaller than full floats


_SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_ .\-]{0,63}$")


def safe_field_names(columns: list[str]) -> list[str]:
    """Column names fit to show as tooltip fields: plain words only (a name is data too)."""
    return [c for c in columns if isinstance(c, str) and _SAFE_NAME.match(c)]


def _to_web(gdf: gpd.GeoDataFrame, columns: list[str] | None = None) -> gpd.GeoDataFrame:
    """EPSG:4326 copy with JSON-safe columns, coordinates rounded, and every text value HTML-escaped.

    folium's tooltips and popups put property values into the page as HTML, so text from the data
    (a street name, a layer attribute) is escaped here; datetimes and objects become escaped text.
    """
    import shapely

    keep = [c for c in (columns or []) if c in gdf.columns]
    out = gdf[[*keep, gdf.geometry.name]].to_crs("EPSG:4326")
    out[out.geometry.name] = shapely.transform(out.geometry.to_numpy(), lambda xy: np.round(xy, WEB_DECIMALS))
    for col in keep:
        series = out[col]
        if pd.api.types.is_datetime64_any_dtype(series):
            out[col] = series.dt.strftime("%Y-%m-%d %H:%M")
        elif pd.api.types.is_bool_dtype(series):
            out[col] = series.astype(object).where(series.notna(), None)
        elif pd.api.types.is_float_dtype(series):
            out[col] = series.round(3)
        elif pd.api.types.is_integer_dtype(series):
            out[col] = series.astype("Float64").astype(object).where(series.notna(), None)
        elif not pd.api.types.is_numeric_dtype(series):
            out[col] = series.astype("string").fillna("").map(html.escape).astype(object)
    return out


def surface_to_png(surface: Surface, *, cmap: str = "viridis") -> tuple[str, list[list[float]]]:
    """Render ``surface`` as a transparent PNG data URI in Web Mercator plus its lat/lon bounds."""
    import matplotlib as mpl
    import rasterio.warp
    from rasterio.crs import CRS as RIO_CRS

    src = np.asarray(surface.array, dtype="float64")
    dst_crs = RIO_CRS.from_epsg(3857)
    transform, width, height = rasterio.warp.calculate_default_transform(
        RIO_CRS.from_wkt(surface.crs.to_wkt()), dst_crs, src.shape[1], src.shape[0], *surface.bounds
    )
    dst = np.full((height, width), np.nan)
    rasterio.warp.reproject(
        src,
        dst,
        src_transform=surface.transform,
        src_crs=RIO_CRS.from_wkt(surface.crs.to_wkt()),
        dst_transform=transform,
        dst_crs=dst_crs,
        src_nodata=np.nan,
        dst_nodata=np.nan,
        resampling=rasterio.warp.Resampling.bilinear,
    )
    finite = np.isfinite(dst) & (dst > 0)
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    if finite.any():
        hi = float(np.nanpercentile(dst[finite], 99.5)) or 1.0
        scaled = np.clip(dst / hi, 0, 1)
        colours = mpl.colormaps[cmap](np.nan_to_num(scaled))
        rgba = (colours * 255).astype(np.uint8)
        alpha = np.where(finite, (60 + 160 * np.nan_to_num(scaled)).astype(np.uint8), 0)
        rgba[..., 3] = alpha
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(buf, format="PNG", optimize=True)
    uri = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    left, top = transform @ (0, 0)
    right, bottom = transform @ (width, height)
    (lon0, lon1), (lat0, lat1) = rasterio.warp.transform(dst_crs, "EPSG:4326", [left, right], [bottom, top])
    return uri, [[lat0, lon0], [lat1, lon1]]


_COLOUR = re.compile(r"^(#[0-9A-Fa-f]{3,8}|[A-Za-z]{3,20})$")


def safe_colour(colour: str, default: str = "#999999") -> str:
    """``colour`` if it is a CSS hex colour or name, else ``default`` (it goes into style attributes)."""
    return colour if isinstance(colour, str) and _COLOUR.match(colour) else default


def _legend_html(title: str, items: list[tuple[str, str, str]]) -> str:
    """A fixed-position legend; ``items`` are (colour, label, shape) with shape 'box' or 'dot'.

    Labels and the title are HTML-escaped and colours checked (layer names come from the user).
    """
    title = html.escape(title)
    items = [(safe_colour(c), html.escape(str(label)), shape) for c, label, shape in items]
    rows = "".join(
        f'<div><span style="display:inline-block;width:12px;height:12px;margin-right:6px;'
        f"background:{colour};border:1px solid #444;"
        f'border-radius:{"50%" if shape == "dot" else "2px"}"></span>{label}</div>'
        if shape != "line"
        else f'<div><span style="display:inline-block;width:14px;height:0;margin:0 4px 3px 0;'
        f'border-top:3px dashed {colour}"></span>{label}</div>'
        for colour, label, shape in items
    )
    return (
        '<details open class="planner-legend" style="position:fixed;bottom:24px;left:12px;z-index:9999;'
        "background:rgba(255,255,255,0.92);padding:6px 8px;border:1px solid #999;border-radius:4px;"
        f'font:10px/1.35 sans-serif;max-width:220px;max-height:38%;overflow:auto"><summary><b>{title}</b></summary>{rows}</details>'
    )


def plan_map(
    plan: Any,
    *,
    show_incidents: bool = False,
    selected_hotspot: str | None = None,
    layers: list[str] | None = None,
    extra_points: gpd.GeoDataFrame | None = None,
    tiles: str | None = None,
    draw: bool = False,
    local_assets: bool = True,
    height_px: int = 600,
    max_layer_points: int | None = None,
    max_incident_points: int = 20_000,
    extra_legend: list[tuple[str, str, str]] | None = None,
) -> Any:
    """Build the interactive map of a :class:`planner.plan.Plan`.

    Every text value shown in a tooltip, popup, layer name or legend is HTML-escaped (values from
    the data and layer names from the user must not become page markup); only the columns a plan
    has are shown, so a public plan (no Gi* z, no incidents) draws the same way.

    Parameters
    ----------
    plan : Plan
        Results in the analysis CRS; the map reprojects to EPSG:4326.
    show_incidents : bool
        Add incident points (internal use only; off in public maps).
    selected_hotspot : str, optional
        ``hotspot_id`` to outline in black.
    layers : list of str, optional
        Environmental layer kinds to add (default: all in ``plan.layers`` except bulky context).
    extra_points : GeoDataFrame, optional
        What-if additions (e.g. proposed lamps) drawn on top.
    tiles : str, optional
        A folium tile name for users with internet; default none (offline).
    draw : bool
        Add drawing tools for selecting areas.
    local_assets : bool
        Point Leaflet at the vendored assets (``/app/static/vendor``).
    height_px : int
        Map height in pixels.
    max_layer_points : int, optional
        Point layers with more features than this keep only those within
        :data:`NEAR_HOTSPOT_M` of a hotspot (the dashboard uses this to keep the page light; a
        town's 15,000 lamp columns would otherwise be most of the map's size). Default: keep all.
    max_incident_points : int
        With ``show_incidents``, more incidents than this are drawn as a seeded random sample (the
        layer title says so); the full set stays in the data files. Keeps large maps usable.
    extra_legend : list of (colour, label, shape), optional
        Legend rows for layers drawn later (e.g. :func:`overlay_script`); shape is 'box', 'dot'
        or 'line'.
    """
    import folium
    from folium import plugins

    m = _base_map(plan, tiles=tiles, height_px=height_px)
    _add_context(m, plan)
    _add_gi_cells(m, plan.cells)
    _add_hotspots(m, plan.hotspots, selected_hotspot)
    layer_legend = _add_layers(m, plan, layers, max_layer_points=max_layer_points)
    layer_legend += _add_fear_layer(m, getattr(plan, "perception", None))
    if show_incidents and len(plan.incidents):
        _add_incidents(m, plan.incidents, max_incident_points)
    if extra_points is not None and len(extra_points):
        folium.GeoJson(
            _geojson(_to_web(extra_points, ["kind"])),
            name="What-if additions",
            marker=folium.CircleMarker(
                radius=6, color="#000000", weight=2, fill=True, fill_color="#F0E442", fill_opacity=1
            ),
        ).add_to(m)
    legend = [
        (HOTSPOT_COLOUR, "Hotspot (click for its profile)", "box"),
        (SELECTED_COLOUR, "Selected hotspot (black outline)", "box"),
        *((GI_BIN_COLOURS[b], GI_BIN_LABELS[b], "box") for b in (3, 2, 1, -1, -2, -3)),
        *layer_legend,
        *(extra_legend or []),
    ]
    m.get_root().html.add_child(folium.Element(_legend_html("Legend", legend)))
    plugins.Fullscreen().add_to(m)
    if draw:
        plugins.Draw(export=False, draw_options={"polyline": False, "circlemarker": False}).add_to(m)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    _deterministic_ids(m)
    if local_assets:
        from planner.maps.assets import localise_map

        localise_map(m)
    return m


def _base_map(plan: Any, *, tiles: str | None, height_px: int) -> Any:
    """An empty map framed on the study area."""
    import folium

    minx, miny, maxx, maxy = plan.study_area.to_crs("EPSG:4326").total_bounds
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        tiles=tiles,
        control_scale=True,
        zoom_start=_zoom_for(maxx - minx, maxy - miny),
        height=f"{height_px}px",
    )
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m


def _add_context(m: Any, plan: Any) -> None:
    """Study-area outline, streets and the kernel density image (no interaction)."""
    import folium

    boundary = plan.study_area.to_crs("EPSG:4326")
    folium.GeoJson(
        boundary[[boundary.geometry.name]],
        name="Study area",
        style_function=lambda _f: {"color": "#333333", "weight": 2, "fill": False},
        interactive=False,
    ).add_to(m)
    streets = plan.layers.get("streets")
    if isinstance(streets, gpd.GeoDataFrame) and len(streets):
        folium.GeoJson(
            _geojson(_to_web(streets, ["street_class"])),
            name="Streets",
            style_function=lambda f: {
                "color": "#9e9e9e",
                "weight": 2.5 if f["properties"].get("street_class") == "arterial" else 1,
            },
            interactive=False,
        ).add_to(m)
    density = plan.surfaces.get("density")
    if density is not None:
        uri, bounds = surface_to_png(density)
        folium.raster_layers.ImageOverlay(
            uri, bounds=bounds, name="Kernel density", opacity=0.75, interactive=False, zindex=2
        ).add_to(m)


_GI_FIELDS = {"n_incidents": "Incidents", "gi_z": "Gi* z", "gi_p_adj": "p (FDR-adjusted)", "gi_bin": "Bin"}


def _add_gi_cells(m: Any, cells: gpd.GeoDataFrame) -> None:
    """Significant hot and cold cells coloured by Gi* bin, with the columns the plan has."""
    import folium

    if "gi_bin" not in cells.columns:
        return
    bins = pd.to_numeric(cells["gi_bin"], errors="coerce").fillna(0)
    sig = cells[bins != 0]
    if not len(sig):
        return
    fields = [c for c in _GI_FIELDS if c in sig.columns]
    web = _to_web(sig, ["cell_id", *fields])
    folium.GeoJson(
        _geojson(web),
        name="Hot and cold cells (Gi*)",
        style_function=lambda f: {
            "fillColor": GI_BIN_COLOURS.get(int(f["properties"]["gi_bin"] or 0), "#ffffff"),
            "color": "#666666",
            "weight": 0.3,
            "fillOpacity": 0.6,
        },
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=[html.escape(_GI_FIELDS[c]) for c in fields]),
        show=False,
    ).add_to(m)


_HOTSPOT_FIELDS = [
    "hotspot_id",
    "n_incidents",
    "incidents_per_year",
    "area_m2",
    "top_category",
    "night_share",
]


def _add_hotspots(m: Any, hotspots: gpd.GeoDataFrame, selected: str | None) -> None:
    """Hotspot polygons with a tooltip and popup of their headline numbers."""
    import folium

    if not len(hotspots):
        return
    web = _readable_hotspots(_to_web(hotspots, _HOTSPOT_FIELDS))
    fields = [c for c in _HOTSPOT_FIELDS if c in web.columns]
    aliases = [html.escape(_alias(c)) for c in fields]
    folium.GeoJson(
        _geojson(web),
        name="Hotspots",
        style_function=lambda f: {
            "color": SELECTED_COLOUR if f["properties"].get("hotspot_id") == selected else HOTSPOT_COLOUR,
            "weight": 4 if f["properties"].get("hotspot_id") == selected else 2.5,
            "fillColor": HOTSPOT_COLOUR,
            "fillOpacity": 0.15,
        },
        highlight_function=lambda _f: {"weight": 4, "fillOpacity": 0.3},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases),
        popup=folium.GeoJsonPopup(fields=fields, aliases=aliases),
    ).add_to(m)


def _add_layers(
    m: Any, plan: Any, layers: list[str] | None, *, max_layer_points: int | None
) -> list[tuple[str, str, str]]:
    """Environmental layers (each in its registry style); returns their legend rows."""
    styles = _layer_styles()
    legend: list[tuple[str, str, str]] = []
    wanted = (
        layers
        if layers is not None
        else [k for k in plan.layers if k not in {"streets", "buildings", "land_use", "wards"}]
    )
    for i, kind in enumerate(wanted):
        gdf = plan.layers.get(kind)
        if not isinstance(gdf, gpd.GeoDataFrame) or not len(gdf):
            continue
        style = styles.get(kind, {})
        colour = safe_colour(style.get("color") or style.get("colour") or "", OKABE_ITO[i % len(OKABE_ITO)])
        title = str(style.get("title", str(kind).replace("_", " ").capitalize()))
        if max_layer_points is not None and len(gdf) > max_layer_points and len(plan.hotspots):
            gdf = _near_hotspots(gdf, plan.hotspots)
            title = f"{title} (near hotspots)"
            if not len(gdf):
                continue
        _add_layer(m, gdf, kind=str(kind), title=html.escape(title), colour=colour)
        legend.append((colour, title, "dot" if gdf.geom_type.iloc[0].endswith("Point") else "box"))
    return legend


def _add_incidents(m: Any, incidents: gpd.GeoDataFrame, max_points: int) -> None:
    """Incident points (a seeded sample above ``max_points``), category and time in the tooltip."""
    import folium

    shown, name = incidents, "Incidents"
    if len(shown) > max_points:
        shown = shown.sample(n=max_points, random_state=0).sort_index()
        name = f"Incidents (random sample of {max_points:,} of {len(incidents):,})"
    fields = [c for c in ("category", "occurred_at") if c in shown.columns]
    pts = _to_web(shown, ["incident_id", *fields])
    folium.GeoJson(
        _geojson(pts),
        name=name,
        marker=folium.CircleMarker(radius=2, weight=0, fill=True, fill_color="#444444", fill_opacity=0.6),
        tooltip=folium.GeoJsonTooltip(
            fields=fields, aliases=[{"category": "Category", "occurred_at": "When"}[c] for c in fields]
        )
        if fields
        else None,
        show=False,
    ).add_to(m)


NEAR_HOTSPOT_M = 100.0

FEAR_LAYER_NAME = "Fear vs recorded crime"
# Apart from the Gi* blues/reds, the hotspot purple and the layers' Okabe–Ito colours: the two
# disagreements in magenta (ColorBrewer PiYG) and dark teal (BrBG), both high in dark brown (BrBG), of
# different lightness; consistent cells a faint grey haze
FEAR_CLASS_COLOURS = {
    "fear, little crime": "#C51B7D",
    "crime, little fear": "#01665E",
    "both high": "#8C510A",
    "consistent": "#BDBDBD",
}
_FEAR_FIELDS = {
    "class": "Fear vs crime",
    "perceived_safety": "Perceived safety (0–3)",
    "crimes": "Recorded crimes",
    "crimes_per_km2": "Crimes per km²",
}


def _add_fear_layer(m: Any, perception: Any) -> list[tuple[str, str, str]]:
    """Grid cells coloured by the fear-vs-recorded-crime class, in one layer of the layer control.

    Cells where fear and crime disagree (or are both high) are drawn one by one with a tooltip of
    the columns the layer has, so a public layer (class and perceived safety only) shows no crime
    counts; 'consistent' cells are drawn faint as one shape (most cells are consistent: one shape
    keeps the page light) and cells with too few audits are not drawn. Returns the legend rows.
    """
    import folium

    layer = getattr(perception, "disagreement", None)
    if layer is None or not len(layer) or "class" not in layer.columns:
        return []
    group = folium.FeatureGroup(name=FEAR_LAYER_NAME, show=False)
    consistent = layer[layer["class"] == "consistent"]
    if len(consistent):
        shape = gpd.GeoDataFrame(
            {"class": ["consistent"]}, geometry=[consistent.geometry.union_all()], crs=layer.crs
        )
        folium.GeoJson(
            _geojson(_to_web(shape, ["class"])),
            style_function=lambda _f: {
                "fillColor": FEAR_CLASS_COLOURS["consistent"],
                "weight": 0,
                "fillOpacity": 0.12,
            },
            tooltip=folium.GeoJsonTooltip(fields=["class"], aliases=[_FEAR_FIELDS["class"]]),
        ).add_to(group)
    drawn = layer[layer["class"].isin([c for c in FEAR_CLASS_COLOURS if c != "consistent"])]
    if len(drawn):
        fields = [c for c in _FEAR_FIELDS if c in drawn.columns]
        web = _to_web(drawn, fields)
        for col in ("perceived_safety", "crimes_per_km2"):
            if col in web.columns:
                web[col] = web[col].round(2 if col == "perceived_safety" else 0)
        folium.GeoJson(
            _geojson(web),
            style_function=lambda f: {
                "fillColor": FEAR_CLASS_COLOURS.get(str(f["properties"].get("class")), "#ffffff"),
                "color": "#ffffff",
                "weight": 0.4,
                "fillOpacity": 0.7,
            },
            tooltip=folium.GeoJsonTooltip(
                fields=fields, aliases=[html.escape(_FEAR_FIELDS[c]) for c in fields]
            ),
        ).add_to(group)
    group.add_to(m)
    return [(colour, f"Fear vs crime: {label}", "box") for label, colour in FEAR_CLASS_COLOURS.items()]


def _readable_hotspots(web: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Hotspot attributes as a planner reads them: 51% not 0.51, hectares, crime type labels."""
    out = web.copy()
    if "night_share" in out.columns:
        out["night_share"] = out["night_share"].map(lambda v: "" if pd.isna(v) else f"{float(v):.0%}")
    if "incidents_per_year" in out.columns:
        out["incidents_per_year"] = out["incidents_per_year"].map(
            lambda v: "" if pd.isna(v) else f"{float(v):.1f}"
        )
    if "area_m2" in out.columns:
        out["area_m2"] = out["area_m2"].map(lambda v: "" if pd.isna(v) else f"{float(v) / 1e4:.1f} ha")
    if "top_category" in out.columns:
        out["top_category"] = out["top_category"].map(
            lambda v: str(v).replace("_", " ").capitalize() if isinstance(v, str) else ""
        )
    return out


def _near_hotspots(gdf: gpd.GeoDataFrame, hotspots: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Features of ``gdf`` within :data:`NEAR_HOTSPOT_M` of any hotspot."""
    zone = hotspots.to_crs(gdf.crs).buffer(NEAR_HOTSPOT_M).union_all()
    return gdf[gdf.intersects(zone)]


def _deterministic_ids(m: Any) -> None:
    """Replace folium's random element ids by stable ones, so the same plan gives the same HTML
    (reproducible exports, and st_folium keeps its state across reruns instead of remounting).
    """

    def walk(element: Any) -> Any:
        yield element
        for child in getattr(element, "_children", {}).values():
            yield from walk(child)

    for i, element in enumerate(walk(m)):
        if hasattr(element, "_id"):
            element._id = f"{i:032x}"


def _zoom_for(lon_span: float, lat_span: float, *, width_px: int = 760, height_px: int = 600) -> int:
    """Web-Mercator zoom that fits the extent (st_folium ignores fit_bounds on first render)."""
    import math

    lon_zoom = math.log2(360.0 * width_px / 256.0 / max(lon_span, 1e-6))
    lat_zoom = math.log2(170.0 * height_px / 256.0 / max(lat_span * 1.5, 1e-6))
    return int(max(3, min(18, math.floor(min(lon_zoom, lat_zoom)))))


def _alias(column: str) -> str:
    return {
        "hotspot_id": "Hotspot",
        "n_incidents": "Incidents",
        "incidents_per_year": "Per year",
        "area_m2": "Area",
        "top_category": "Main crime type",
        "night_share": "Share at night",
    }.get(column, column.replace("_", " "))


def _add_layer(m: Any, gdf: gpd.GeoDataFrame, *, kind: str, title: str, colour: str) -> None:
    import folium

    geom_types = set(gdf.geom_type.dropna().unique())
    names = safe_field_names([c for c in gdf.columns if c != gdf.geometry.name])
    label_cols = names[: 4 if len(gdf) <= 500 else 2]
    web = _to_web(gdf, label_cols)
    tooltip = (
        folium.GeoJsonTooltip(fields=label_cols, aliases=[html.escape(c) for c in label_cols])
        if label_cols
        else None
    )
    if geom_types <= {"Point", "MultiPoint"}:
        status_col = "status" if "status" in web.columns else None
        folium.GeoJson(
            _geojson(web),
            name=title,
            marker=folium.CircleMarker(radius=3, weight=1, color="#333333", fill=True, fill_opacity=0.9),
            style_function=lambda f: {
                "fillColor": "#bdbdbd"
                if status_col and f["properties"].get(status_col) == "broken"
                else colour,
            },
            tooltip=tooltip,
            show=kind in {"cameras"},
        ).add_to(m)
    else:
        folium.GeoJson(
            _geojson(web),
            name=title,
            style_function=lambda _f: {
                "color": colour,
                "weight": 1.5,
                "fillColor": colour,
                "fillOpacity": 0.25,
            },
            tooltip=tooltip,
            show=False,
        ).add_to(m)


def map_to_html(m: Any, path: str | Path | None = None, *, self_contained: bool = True) -> str:
    """Render ``m`` to HTML; with ``self_contained`` every script and style is inlined (offline)."""
    from planner.maps.assets import inline_assets

    html = m.get_root().render()
    if self_contained:
        html = inline_assets(html)
    if path is not None:
        Path(path).write_text(html, encoding="utf-8")
    return html
