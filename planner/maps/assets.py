"""Local copies of the Leaflet/folium web assets, so maps work with no internet.

The files ship inside the package (``planner/maps/vendor/``, package data): ``scripts/
vendor_assets.py`` fetches them from the npm registry at build time, checks each tarball against its
pinned SHA-512 and records every file's SHA-256 in ``vendor/MANIFEST.json`` (``make setup`` also
copies them to ``static/vendor/`` for the dashboard's Streamlit static serving). :func:`localise_map`
points a folium map and its plugins at those files — as URLs for the dashboard
(``/app/static/vendor/...``) — and :func:`inline_assets` inlines them into a saved HTML map so it
opens from disk offline. When the files are missing (a broken install) both raise
:class:`planner.errors.DataLoadError` instead of writing a map that would load Leaflet from a CDN.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import re
from pathlib import Path
from typing import Any

from planner.errors import DataLoadError

logger = logging.getLogger(__name__)

VENDOR_DIR = Path(__file__).resolve().parent / "vendor"
STREAMLIT_BASE_URL = "/app/static/vendor"

# folium resource name → path under static/vendor. ``None`` drops a resource we do not use.
LOCAL: dict[str, str | None] = {
    "leaflet": "leaflet/dist/leaflet.js",
    "jquery": "jquery/dist/jquery.min.js",
    "bootstrap": "bootstrap/dist/js/bootstrap.bundle.min.js",
    "awesome_markers": "awesome-markers/dist/leaflet.awesome-markers.min.js",
    "leaflet_css": "leaflet/dist/leaflet.css",
    "bootstrap_css": "bootstrap/dist/css/bootstrap.min.css",
    "glyphicons_css": None,  # Bootstrap 3 glyphicons: no icons of ours use them
    "awesome_markers_font_css": "fontawesome/css/all.min.css",
    "awesome_markers_css": "awesome-markers/dist/leaflet.awesome-markers.css",
    "awesome_rotate_css": None,  # rotation of awesome markers: unused
    "markerclusterjs": "markercluster/dist/leaflet.markercluster.js",
    "markerclustercss": "markercluster/dist/MarkerCluster.css",
    "markerclusterdefaultcss": "markercluster/dist/MarkerCluster.Default.css",
    "leaflet-heat.js": "leaflet-heat/dist/leaflet-heat.js",
    "leaflet_draw_js": "leaflet-draw/dist/leaflet.draw.js",
    "leaflet_draw_css": "leaflet-draw/dist/leaflet.draw.css",
    "Control.Fullscreen.js": "fullscreen/Control.FullScreen.js",
    "Control.FullScreen.css": "fullscreen/Control.FullScreen.css",
}


def assets_available(vendor_dir: Path = VENDOR_DIR) -> bool:
    """True when the vendored Leaflet files are present."""
    return (vendor_dir / "leaflet" / "dist" / "leaflet.js").exists()


def missing_assets(vendor_dir: Path = VENDOR_DIR) -> list[str]:
    """The files the maps use that are not in ``vendor_dir`` (empty when all are there)."""
    return [local for local in LOCAL.values() if local is not None and not (vendor_dir / local).exists()]


def require_assets(vendor_dir: Path = VENDOR_DIR) -> None:
    """Raise :class:`DataLoadError` naming the fix when any map asset is missing."""
    missing = missing_assets(vendor_dir)
    if missing:
        raise DataLoadError(
            f"The offline map files are missing from this installation ({vendor_dir}: {', '.join(missing[:3])}"
            f"{' ...' if len(missing) > 3 else ''}), so a map would have to load Leaflet from the internet. "
            "Reinstall the planner from a wheel built with its assets (pip install scp-planner), or in a "
            "source checkout run 'make setup' (or: python scripts/vendor_assets.py)."
        )


def _walk(element: Any) -> Any:
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def localise_map(m: Any, *, base_url: str = STREAMLIT_BASE_URL, vendor_dir: Path = VENDOR_DIR) -> Any:
    """Point ``m`` and every plugin in it at the local assets (in place; returns ``m``).

    Raises :class:`DataLoadError` when the vendored files are missing. A resource folium adds that
    has no local copy keeps its CDN URL and is logged (a self-contained map then fails its check);
    unused ones are dropped.
    """
    require_assets(vendor_dir)
    neutral_background(m)
    for element in _walk(m):
        for attr in ("default_js", "default_css"):
            resources = getattr(element, attr, None)
            if not resources:
                continue
            new: list[tuple[str, str]] = []
            for name, url in resources:
                if name in LOCAL:
                    local = LOCAL[name]
                    if local is not None and (vendor_dir / local).exists():
                        new.append((name, f"{base_url}/{local}"))
                    elif local is not None:
                        logger.warning("vendored asset %s missing; using %s", local, url)
                        new.append((name, url))
                else:
                    logger.warning("no local copy of map asset %s (%s)", name, url)
                    new.append((name, url))
            setattr(element, attr, new)
    return m


# The offline basemap: with no tile layer, the map is drawn on a light neutral "paper" instead of
# Leaflet's grey, with the study area and (when the run has one) the streets layer as context.
NEUTRAL_BACKGROUND = "#f4f3ef"


def neutral_background(m: Any) -> Any:
    """Give a map without tiles a neutral light background (in place; returns ``m``)."""
    import folium

    if any(isinstance(child, folium.TileLayer) for child in _walk(m)):
        return m
    style = f"<style>.leaflet-container {{ background: {NEUTRAL_BACKGROUND}; }}</style>"
    m.get_root().header.add_child(folium.Element(style), name="neutral_background")  # one per map
    return m


_SCRIPT_RE = re.compile(r'<script src="(?P<url>[^"]+)"></script>')
_LINK_RE = re.compile(r'<link rel="stylesheet" href="(?P<url>[^"]+)"/>')
_CSS_URL_RE = re.compile(r"url\((?P<q>['\"]?)(?P<ref>[^'\")]+)(?P=q)\)")


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".woff2":
        mime = "font/woff2"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_css(css: str, css_path: Path) -> str:
    def repl(match: re.Match[str]) -> str:
        ref = match.group("ref")
        if ref.startswith(("data:", "#")):
            return match.group(0)
        target = (css_path.parent / ref.split("?")[0].split("#")[0]).resolve()
        # Only woff2 fonts are inlined (every current browser takes the first format it supports).
        if target.suffix in {".ttf", ".woff", ".eot", ".svg"} and "webfonts" in target.parts:
            return "url(data:,)"
        if target.exists():
            return f"url({_data_uri(target)})"
        return "url(data:,)"

    return _CSS_URL_RE.sub(repl, css)


def inline_assets(html: str, *, base_url: str = STREAMLIT_BASE_URL, vendor_dir: Path = VENDOR_DIR) -> str:
    """Replace local asset links in ``html`` by the file contents, making it self-contained.

    Raises :class:`DataLoadError` when a vendored file is missing or a script or style still points
    at the internet (a map that would not open offline is never written).
    """
    require_assets(vendor_dir)
    prefix = base_url.rstrip("/") + "/"

    def script(match: re.Match[str]) -> str:
        url = match.group("url")
        if not url.startswith(prefix):
            return match.group(0)
        path = vendor_dir / url[len(prefix) :]
        code = path.read_text(encoding="utf-8").replace("</script>", "<\\/script>")
        return f"<script>{code}</script>"

    def link(match: re.Match[str]) -> str:
        url = match.group("url")
        if not url.startswith(prefix):
            return match.group(0)
        path = vendor_dir / url[len(prefix) :]
        return f"<style>{_inline_css(path.read_text(encoding='utf-8'), path)}</style>"

    html = _LINK_RE.sub(link, _SCRIPT_RE.sub(script, html))
    online = [
        m.group("url")
        for r in (_SCRIPT_RE, _LINK_RE)
        for m in r.finditer(html)
        if m.group("url").startswith("http")
    ]
    if online:
        raise DataLoadError(
            f"The map links to {len(online)} online script(s) or style(s) with no local copy ({online[0]}); "
            "add them to planner.maps.assets.LOCAL and scripts/vendor_assets.py."
        )
    return html
