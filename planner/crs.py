"""The analysis CRS: one projected, metric CRS per run, chosen once and applied once.

Rules: missing CRS is an error; a geographic CRS in a distance step is an error
(:func:`require_projected`); the analysis CRS is the user's, else the UTM zone of the data
(:func:`choose_analysis_crs`, logged). Exports for the web use EPSG:4326.
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
from pyproj import CRS

from planner.errors import CRSError

logger = logging.getLogger(__name__)

WEB_CRS = "EPSG:4326"


def as_crs(value: Any, *, what: str = "crs") -> CRS:
    """Parse ``value`` (EPSG code, 'EPSG:xxxx', WKT, pyproj CRS) into a :class:`pyproj.CRS`."""
    try:
        if isinstance(value, int):
            return CRS.from_epsg(value)
        return CRS.from_user_input(value)
    except Exception as exc:  # pyproj raises its own CRSError with a long text
        raise CRSError(
            f"Could not understand {what}={value!r} as a coordinate reference system. "
            "Give an EPSG code such as 'EPSG:27700' or 'EPSG:26971'."
        ) from exc


def is_metric_projected(crs: CRS) -> bool:
    """True when ``crs`` is projected with metre axes."""
    if not crs.is_projected:
        return False
    units = {(ax.unit_name or "").lower() for ax in crs.axis_info}
    return bool(units) and units <= {"metre", "meter", "m"}


def require_projected(gdf: gpd.GeoDataFrame | gpd.GeoSeries, *, what: str = "data") -> CRS:
    """Return the CRS of ``gdf`` or raise :class:`CRSError` unless it is projected in metres."""
    crs = gdf.crs
    if crs is None:
        raise CRSError(
            f"The {what} has no coordinate reference system. Set one with crs='EPSG:xxxx' "
            "(the CRS the coordinates are written in)."
        )
    crs = CRS.from_user_input(crs)
    if not is_metric_projected(crs):
        raise CRSError(
            f"The {what} is in {crs.name} ({crs.to_string()}), which is not a projected CRS in "
            "metres, so distances and areas would be wrong. Transform it first "
            "(planner.crs.to_analysis_crs) or pass a projected CRS such as the local UTM zone."
        )
    return crs


def choose_analysis_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries, *, crs: Any = None) -> CRS:
    """Choose the run's analysis CRS.

    Parameters
    ----------
    gdf : GeoDataFrame or GeoSeries
        The primary layer (incidents or the study area), in any CRS.
    crs : optional
        The user's choice; must be projected in metres.

    Returns
    -------
    pyproj.CRS
        ``crs`` when given; else ``gdf``'s CRS when it is already projected in metres; else the
        UTM zone of ``gdf`` (logged).
    """
    if crs is not None:
        chosen = as_crs(crs, what="analysis crs")
        if not is_metric_projected(chosen):
            raise CRSError(
                f"The analysis CRS must be projected in metres; {chosen.to_string()} is not. "
                "Use the local UTM zone or national grid (e.g. EPSG:27700, EPSG:32630)."
            )
        return chosen
    if gdf.crs is None:
        raise CRSError("The data has no CRS, so no analysis CRS can be chosen. Pass crs=.")
    own = CRS.from_user_input(gdf.crs)
    if is_metric_projected(own):
        return own
    utm = gdf.estimate_utm_crs()
    logger.info("analysis CRS chosen automatically: %s (%s)", utm.to_string(), utm.name)
    return utm


def to_analysis_crs(gdf: gpd.GeoDataFrame, crs: CRS) -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` in ``crs`` (no-op copy when already there)."""
    if gdf.crs is None:
        raise CRSError("Cannot transform data that has no CRS; set its CRS first.")
    if CRS.from_user_input(gdf.crs) == crs:
        return gdf.copy()
    return gdf.to_crs(crs)


def check_same_crs(*frames: gpd.GeoDataFrame | gpd.GeoSeries, names: list[str] | None = None) -> None:
    """Raise :class:`CRSError` naming both CRSs when the frames do not share one CRS."""
    names = names or [f"layer {i}" for i in range(len(frames))]
    base = frames[0].crs
    for name, frame in zip(names[1:], frames[1:], strict=True):
        if frame.crs is None or base is None or not CRS.from_user_input(frame.crs).equals(base):
            raise CRSError(
                f"{names[0]} is in {base} but {name} is in {frame.crs}. Transform both to the "
                "analysis CRS (planner.crs.to_analysis_crs) before combining them."
            )
