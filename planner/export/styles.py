"""QGIS (QML) and SLD styles for the exported layers, from the colours :mod:`planner.maps` uses.

:func:`layer_styles_table` returns one row per styled layer in the OGC/QGIS ``layer_styles`` layout,
so a GeoPackage opens styled in QGIS (and the SLD serves other clients).
"""

from __future__ import annotations

from datetime import datetime
from xml.sax.saxutils import escape

import pandas as pd

from planner.maps import GI_BIN_COLOURS, GI_BIN_LABELS, HOTSPOT_COLOUR

_QGIS_VERSION = "3.28.0-Firenze"
#: Outline colours the web map uses.
STUDY_AREA_COLOUR = "#333333"
CELL_OUTLINE = "#666666"
INCIDENT_COLOUR = "#444444"


def _rgba(hex_colour: str, alpha: float = 1.0) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(alpha * 255)}"


def _fill_symbol(name: str, fill: str, fill_alpha: float, outline: str, width_mm: float) -> str:
    style = "no" if fill_alpha == 0 else "solid"
    return (
        f'<symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        '<layer class="SimpleFill" enabled="1" pass="0" locked="0"><Option type="Map">'
        f'<Option name="color" value="{_rgba(fill, fill_alpha)}" type="QString"/>'
        f'<Option name="style" value="{style}" type="QString"/>'
        f'<Option name="outline_color" value="{_rgba(outline)}" type="QString"/>'
        f'<Option name="outline_width" value="{width_mm}" type="QString"/>'
        '<Option name="outline_width_unit" value="MM" type="QString"/>'
        '<Option name="outline_style" value="solid" type="QString"/>'
        "</Option></layer></symbol>"
    )


def _marker_symbol(name: str, fill: str, size_mm: float) -> str:
    return (
        f'<symbol type="marker" name="{name}" alpha="0.6" clip_to_extent="1" force_rhr="0">'
        '<layer class="SimpleMarker" enabled="1" pass="0" locked="0"><Option type="Map">'
        '<Option name="name" value="circle" type="QString"/>'
        f'<Option name="color" value="{_rgba(fill)}" type="QString"/>'
        '<Option name="outline_style" value="no" type="QString"/>'
        f'<Option name="size" value="{size_mm}" type="QString"/>'
        "</Option></layer></symbol>"
    )


def _qml(renderer: str) -> str:
    return (
        f'<qgis version="{_QGIS_VERSION}" styleCategories="Symbology">'
        f"{renderer}<blendMode>0</blendMode><featureBlendMode>0</featureBlendMode></qgis>"
    )


def _single_qml(symbol: str) -> str:
    return _qml(
        f'<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">'
        f"<symbols>{symbol}</symbols></renderer-v2>"
    )


def _gi_bin_qml() -> str:
    bins = (3, 2, 1, -1, -2, -3)
    categories = "".join(
        f'<category symbol="{i}" value="{b}" label="{escape(GI_BIN_LABELS[b])}" render="true"/>'
        for i, b in enumerate(bins)
    )
    categories += f'<category symbol="{len(bins)}" value="" label="Not significant" render="true"/>'
    symbols = "".join(
        _fill_symbol(str(i), GI_BIN_COLOURS[b], 0.6, CELL_OUTLINE, 0.1) for i, b in enumerate(bins)
    )
    symbols += _fill_symbol(str(len(bins)), "#ffffff", 0.0, CELL_OUTLINE, 0.05)
    return _qml(
        '<renderer-v2 type="categorizedSymbol" attr="gi_bin" symbollevels="0" enableorderby="0" '
        f'forceraster="0"><categories>{categories}</categories><symbols>{symbols}</symbols></renderer-v2>'
    )


def _sld(layer: str, rules: list[tuple[str, str | None, str, float, str]]) -> str:
    """SLD 1.1 with one rule per (title, gi_bin value or None, fill, fill opacity, outline)."""
    parts = []
    for title, value, fill, opacity, stroke in rules:
        flt = (
            "<ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>gi_bin</ogc:PropertyName>"
            f"<ogc:Literal>{value}</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>"
            if value is not None
            else ""
        )
        parts.append(
            f"<se:Rule><se:Name>{escape(title)}</se:Name>{flt}<se:PolygonSymbolizer><se:Fill>"
            f'<se:SvgParameter name="fill">{fill}</se:SvgParameter>'
            f'<se:SvgParameter name="fill-opacity">{opacity}</se:SvgParameter></se:Fill><se:Stroke>'
            f'<se:SvgParameter name="stroke">{stroke}</se:SvgParameter></se:Stroke>'
            "</se:PolygonSymbolizer></se:Rule>"
        )
    return (
        '<StyledLayerDescriptor version="1.1.0" xmlns="http://www.opengis.net/sld" '
        'xmlns:ogc="http://www.opengis.net/ogc" xmlns:se="http://www.opengis.net/se">'
        f"<NamedLayer><se:Name>{layer}</se:Name><UserStyle><se:Name>{layer}</se:Name>"
        f"<se:FeatureTypeStyle>{''.join(parts)}</se:FeatureTypeStyle></UserStyle></NamedLayer>"
        "</StyledLayerDescriptor>"
    )


def _point_sld(layer: str, fill: str) -> str:
    return (
        '<StyledLayerDescriptor version="1.1.0" xmlns="http://www.opengis.net/sld" '
        'xmlns:se="http://www.opengis.net/se">'
        f"<NamedLayer><se:Name>{layer}</se:Name><UserStyle><se:Name>{layer}</se:Name><se:FeatureTypeStyle>"
        "<se:Rule><se:PointSymbolizer><se:Graphic><se:Mark><se:WellKnownName>circle</se:WellKnownName>"
        f'<se:Fill><se:SvgParameter name="fill">{fill}</se:SvgParameter></se:Fill></se:Mark>'
        "<se:Size>4</se:Size></se:Graphic></se:PointSymbolizer></se:Rule>"
        "</se:FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>"
    )


def layer_style(layer: str) -> tuple[str, str, str] | None:
    """(QML, SLD, description) for an exported layer, or None when it has no style of its own."""
    bins = (3, 2, 1, -1, -2, -3)
    if layer == "cells":
        rules: list[tuple[str, str | None, str, float, str]] = [
            (GI_BIN_LABELS[b], str(b), GI_BIN_COLOURS[b], 0.6, CELL_OUTLINE) for b in bins
        ]
        return _gi_bin_qml(), _sld(layer, rules), "Cells by Gi* hot/cold-spot bin (ColorBrewer RdBu)"
    if layer in {"hotspots", "recommendations", "portfolio"}:
        return (
            _single_qml(_fill_symbol("0", HOTSPOT_COLOUR, 0.15, HOTSPOT_COLOUR, 0.6)),
            _sld(layer, [("Hotspot", None, HOTSPOT_COLOUR, 0.15, HOTSPOT_COLOUR)]),
            "Hotspot outlines (connected significant hot cells)",
        )
    if layer == "study_area":
        return (
            _single_qml(_fill_symbol("0", STUDY_AREA_COLOUR, 0.0, STUDY_AREA_COLOUR, 0.5)),
            _sld(layer, [("Study area", None, STUDY_AREA_COLOUR, 0.0, STUDY_AREA_COLOUR)]),
            "Study area outline",
        )
    if layer == "incidents":
        return (
            _single_qml(_marker_symbol("0", INCIDENT_COLOUR, 1.2)),
            _point_sld(layer, INCIDENT_COLOUR),
            "Incident points (internal exports only)",
        )
    return None


def layer_styles_table(
    layers: dict[str, str | None], *, update_time: datetime, owner: str = "planner"
) -> pd.DataFrame:
    """The ``layer_styles`` rows for ``layers`` (name → geometry column; None for tables).

    Columns follow the QGIS/OGC convention: ``f_table_catalog, f_table_schema, f_table_name,
    f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner, ui,
    update_time``.
    """
    rows = []
    for name, geometry_column in layers.items():
        style = layer_style(name) if geometry_column else None
        if style is None:
            continue
        qml, sld, description = style
        rows.append(
            {
                "f_table_catalog": "",
                "f_table_schema": "",
                "f_table_name": name,
                "f_geometry_column": geometry_column,
                "styleName": name,
                "styleQML": qml,
                "styleSLD": sld,
                "useAsDefault": True,
                "description": description,
                "owner": owner,
                "ui": None,
                "update_time": pd.Timestamp(update_time).tz_localize(None),
            }
        )
    return pd.DataFrame(rows)


__all__ = ["layer_style", "layer_styles_table"]
