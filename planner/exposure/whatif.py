"""What-if edits: change a layer (add lamps, fix a lamp, add or turn a camera, close an access
point) and recompute the exposure of only the cells and hotspots the change can reach.

>>> edit = add_lamps(LineString([(0, 0), (100, 0)]), spacing_m=25)  # doctest: +SKIP
>>> edited = apply_edit(layers, edit)  # doctest: +SKIP
>>> hotspots_after = reexpose(hotspots, layers, edited)  # doctest: +SKIP

Edits never mutate the input layers: :func:`apply_edit` returns a new ``{kind: layer}`` mapping in
which only the edited layer is a new frame. New features get new index labels; edited features keep
theirs, which is how :func:`changed_features` finds what changed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Point

from planner._params import check_positive
from planner.errors import ValidationError
from planner.exposure.layers import LayerSpec, load_registry
from planner.exposure.measure import camera_parameters, exposure_for_polygons

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AddLamps:
    """Working lamps every ``spacing_m`` metres along a line, or at the given points."""

    along: LineString | tuple[Point, ...]
    spacing_m: float = 30.0
    layer: str = "street_lights"


@dataclass(frozen=True)
class FixLamp:
    """A broken lamp (by its id) is repaired."""

    lamp_id: Any
    layer: str = "street_lights"


@dataclass(frozen=True)
class AddCamera:
    """A new camera at ``point`` facing ``direction_deg`` (compass, 0 = north, clockwise)."""

    point: Point
    direction_deg: float
    fov_deg: float = 90.0
    range_m: float = 60.0
    layer: str = "cameras"


@dataclass(frozen=True)
class TurnCamera:
    """An existing camera (by id) is turned to ``direction_deg``."""

    camera_id: Any
    direction_deg: float
    layer: str = "cameras"


@dataclass(frozen=True)
class CloseAccess:
    """An access point (alley entrance, gate, footpath) is closed: it no longer counts."""

    access_id: Any
    layer: str = "access_points"


Edit: TypeAlias = AddLamps | FixLamp | AddCamera | TurnCamera | CloseAccess


def add_lamps(along: LineString | list[Point], *, spacing_m: float = 30.0) -> AddLamps:
    """Edit: working lamps every ``spacing_m`` metres along ``along`` (a line), or at given points."""
    check_positive(spacing_m, name="spacing_m", where="whatif.add_lamps")
    return AddLamps(along if isinstance(along, LineString) else tuple(along), float(spacing_m))


def fix_lamp(lamp_id: Any) -> FixLamp:
    """Edit: repair the broken lamp ``lamp_id``."""
    return FixLamp(lamp_id)


def add_camera(point: Point, direction_deg: float, fov_deg: float = 90.0, range_m: float = 60.0) -> AddCamera:
    """Edit: a camera at ``point`` (analysis CRS) facing ``direction_deg`` with ``fov_deg`` and
    ``range_m`` metres.
    """
    check_positive(fov_deg, name="fov_deg", where="whatif.add_camera")
    check_positive(range_m, name="range_m", where="whatif.add_camera")
    return AddCamera(point, float(direction_deg) % 360.0, float(fov_deg), float(range_m))


def turn_camera(camera_id: Any, direction_deg: float) -> TurnCamera:
    """Edit: turn camera ``camera_id`` to ``direction_deg`` (compass degrees)."""
    return TurnCamera(camera_id, float(direction_deg) % 360.0)


def close_access(access_id: Any) -> CloseAccess:
    """Edit: close access point ``access_id``."""
    return CloseAccess(access_id)


def _new_labels(index: pd.Index, k: int) -> list[Any]:
    if pd.api.types.is_integer_dtype(index) or len(index) == 0:
        start = int(index.max()) + 1 if len(index) else 0
        return list(range(start, start + k))
    return [f"whatif_{i}" for i in range(len(index), len(index) + k)]


def _row_of(layer: gpd.GeoDataFrame, spec: LayerSpec, feature_id: Any, what: str) -> Any:
    col = spec.fields.id
    if col and col in layer.columns:
        hits = layer.index[layer[col].astype(str) == str(feature_id)]
    else:
        hits = layer.index[layer.index.astype(str) == str(feature_id)]
    if len(hits) == 0:
        raise ValidationError(
            f"There is no {what} with id {feature_id!r} in the {spec.name!r} layer "
            f"(ids are in column {col!r}). Pick an id from the layer."
        )
    return hits[0]


def _append(layer: gpd.GeoDataFrame, rows: pd.DataFrame, geoms: list[Any]) -> gpd.GeoDataFrame:
    labels = _new_labels(layer.index, len(geoms))
    new = gpd.GeoDataFrame(rows.set_axis(labels), geometry=geoms, crs=layer.crs)
    new = new.rename_geometry(layer.geometry.name) if new.geometry.name != layer.geometry.name else new
    out = pd.concat([layer, new])
    return gpd.GeoDataFrame(out, geometry=layer.geometry.name, crs=layer.crs)


def apply_edit(
    layers: Mapping[str, Any],
    edit: Edit,
    *,
    registry: Mapping[str, LayerSpec] | None = None,
) -> dict[str, Any]:
    """Return new layers with ``edit`` applied (inputs untouched).

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame or Surface
        Layer kind → data in the analysis CRS (metres).
    edit : AddLamps, FixLamp, AddCamera, TurnCamera or CloseAccess
        Built with :func:`add_lamps`, :func:`fix_lamp`, :func:`add_camera`, :func:`turn_camera`,
        :func:`close_access`.

    Returns
    -------
    dict
        The same layers, with the edited kind replaced by a new GeoDataFrame.
    """
    registry = registry if registry is not None else load_registry()
    spec = registry[edit.layer]
    layer = layers.get(edit.layer)
    if layer is None:
        if not isinstance(edit, AddLamps | AddCamera):
            raise ValidationError(f"There is no {edit.layer!r} layer to edit; load one first.")
        crs = next((v.crs for v in layers.values() if isinstance(v, gpd.GeoDataFrame)), None)
        layer = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    out = dict(layers)
    out[edit.layer] = _edited_layer(layer, spec, edit)
    logger.info("what-if edit applied: %s", edit)
    return out


def _added_lamps(layer: gpd.GeoDataFrame, f: Any, edit: AddLamps) -> gpd.GeoDataFrame:
    if isinstance(edit.along, LineString):
        dist = np.arange(0.0, edit.along.length + 1e-9, edit.spacing_m)
        pts = list(shapely.line_interpolate_point(edit.along, dist))
    else:
        pts = list(edit.along)
    rows = pd.DataFrame(index=range(len(pts)))
    if f.status:
        rows[f.status] = f.working_values[0]
    if f.id:
        rows[f.id] = [f"new_lamp_{i + 1}" for i in range(len(pts))]
    return _append(layer, rows, pts)


def _added_camera(layer: gpd.GeoDataFrame, f: Any, edit: AddCamera) -> gpd.GeoDataFrame:
    rows = pd.DataFrame(index=[0])
    for col, value in ((f.direction, edit.direction_deg), (f.fov, edit.fov_deg), (f.range, edit.range_m)):
        if col:
            rows[col] = value
    if f.id:
        rows[f.id] = f"new_camera_{len(layer) + 1}"
    return _append(layer, rows, [edit.point])


def _edited_layer(layer: gpd.GeoDataFrame, spec: LayerSpec, edit: Edit) -> gpd.GeoDataFrame:
    """A new frame of ``layer`` with ``edit`` applied."""
    f = spec.fields
    if isinstance(edit, AddLamps):
        return _added_lamps(layer, f, edit)
    if isinstance(edit, AddCamera):
        return _added_camera(layer, f, edit)
    if isinstance(edit, FixLamp):
        label = _row_of(layer, spec, edit.lamp_id, "lamp")
        if not f.status or f.status not in layer.columns:
            raise ValidationError(
                f"The {edit.layer!r} layer has no {f.status!r} column, so no lamp is broken."
            )
        new = layer.copy()
        new.loc[label, f.status] = f.working_values[0]
        return new
    if isinstance(edit, TurnCamera):
        label = _row_of(layer, spec, edit.camera_id, "camera")
        col = f.direction or "direction_deg"
        new = layer.copy()
        if col not in new.columns:
            new[col] = np.nan
        new.loc[label, col] = edit.direction_deg
        return new
    if isinstance(edit, CloseAccess):
        return layer.drop(index=_row_of(layer, spec, edit.access_id, "access point"))
    raise ValidationError(f"Unknown what-if edit {edit!r}.")


def changed_features(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, gpd.GeoDataFrame]:
    """Features added, removed or changed between two layer mappings, per vector layer.

    Rows are matched by index label; a row differs when its geometry or any attribute differs.
    Removed and moved rows are returned as they were before and (moved) after; added ones as they
    are after. Column ``change`` is ``added``, ``removed``, ``moved`` or ``attributes``.
    """
    out: dict[str, gpd.GeoDataFrame] = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old is new or not isinstance(old if old is not None else new, gpd.GeoDataFrame):
            continue
        if old is None or new is None:
            whole: gpd.GeoDataFrame = new if new is not None else old
            out[name] = whole[[whole.geometry.name]].assign(change="added" if new is not None else "removed")
            continue
        common = old.index.intersection(new.index)
        a, b = old.loc[common], new.loc[common]
        geom_diff = ~shapely.equals_exact(
            np.asarray(a.geometry.values), np.asarray(b.geometry.values), tolerance=1e-9
        )
        attrs = [c for c in a.columns if c != a.geometry.name and c in b.columns]
        av, bv = a[attrs].astype(object), b[attrs].astype(object)
        attr_diff = (av.ne(bv) & ~(av.isna() & bv.isna())).any(axis=1).to_numpy()
        moved = common[geom_diff]
        retagged = common[attr_diff & ~geom_diff]
        parts = [
            (old.loc[old.index.difference(new.index)], "removed"),
            (old.loc[moved], "moved"),
            (new.loc[moved], "moved"),
            (new.loc[retagged], "attributes"),
            (new.loc[new.index.difference(old.index)], "added"),
        ]
        frames = [p[[p.geometry.name]].assign(change=kind) for p, kind in parts if len(p)]
        if not frames:
            continue
        diff = pd.concat(frames)
        if len(diff):
            out[name] = gpd.GeoDataFrame(diff, geometry=old.geometry.name, crs=old.crs)
    return out


def affected_polygons(
    polygons: gpd.GeoDataFrame,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    registry: Mapping[str, LayerSpec] | None = None,
) -> np.ndarray:
    """Boolean mask of the polygons whose exposure the edit can change.

    A polygon is affected when a changed feature lies within that layer's reach of it: the spec
    radius (camera: its range), or, for added, removed or moved features, the polygon's current
    ``<layer>__nearest_m`` when that is longer (they can change the nearest distance).
    """
    registry = registry if registry is not None else load_registry()
    geoms = np.asarray(polygons.geometry.values)
    mask = np.zeros(len(polygons), dtype=bool)
    for name, feats in changed_features(before, after).items():
        spec = registry.get(name)
        if spec is None or not len(feats):
            continue
        # Attribute-only changes (a lamp fixed, a camera turned) act within the lamp radius or the
        # camera range; relocations also change counts within the spec radius.
        reach_attr = np.full(len(polygons), spec.radius_m)
        reach_move = reach_attr.copy()
        if spec.acts_as == "viewshed":
            layer = after.get(name)
            layer = layer if layer is not None else before.get(name)
            longest = float(camera_parameters(layer, spec)[3].max(initial=0.0)) if layer is not None else 0.0
            reach_attr[:] = longest
            reach_move[:] = max(longest, spec.radius_m)
        near_col = f"{name}__nearest_m"
        relocated = (feats["change"] != "attributes").to_numpy()
        for subset, extend in ((feats[relocated], True), (feats[~relocated], False)):
            if not len(subset):
                continue
            limit = reach_move if extend else reach_attr
            if extend and near_col in polygons.columns:
                current = polygons[near_col].to_numpy(dtype=float)
                limit = np.where(np.isnan(current), np.inf, np.maximum(limit, current))
            (pi, _), dist = shapely.STRtree(np.asarray(subset.geometry.values)).query_nearest(
                geoms, return_distance=True, all_matches=False
            )
            hit = np.zeros(len(polygons), dtype=bool)
            hit[pi] = dist <= limit[pi] + 1e-6
            mask |= hit
    return mask


def reexpose(
    polygons: gpd.GeoDataFrame,
    layers: Mapping[str, Any],
    edited_layers: Mapping[str, Any],
    *,
    affected: np.ndarray | None = None,
    registry: Mapping[str, LayerSpec] | None = None,
    **kwargs: Any,
) -> gpd.GeoDataFrame:
    """Exposure after an edit, recomputed for the affected polygons only.

    Parameters
    ----------
    polygons : GeoDataFrame
        Cells or hotspots, ideally already carrying the exposure columns for ``layers`` (else they
        are computed once for all polygons first).
    layers, edited_layers : mapping
        Layers before and after the edit (:func:`apply_edit`).
    affected : boolean array, optional
        Which polygons to recompute; default :func:`affected_polygons`.
    **kwargs
        Passed to :func:`planner.exposure.exposure_for_polygons`.

    Returns
    -------
    GeoDataFrame
        A new frame; ``attrs["whatif_affected"]`` lists the recomputed index labels.
    """
    registry = registry if registry is not None else load_registry()
    base = polygons
    probe = exposure_for_polygons(polygons.iloc[:0], edited_layers, registry=registry, **kwargs)
    if not set(probe.columns) <= set(polygons.columns):
        full = exposure_for_polygons(polygons, layers, registry=registry, **kwargs)
        base = polygons.drop(columns=[c for c in full.columns if c in polygons.columns]).join(full)
    if affected is None:
        affected = affected_polygons(base, layers, edited_layers, registry=registry)
    affected = np.asarray(affected, dtype=bool)
    out = base.copy()
    if affected.any():
        fresh = exposure_for_polygons(base.loc[affected], edited_layers, registry=registry, **kwargs)
        for col in fresh.columns:
            if col not in out.columns:
                out[col] = np.nan
            out.loc[affected, col] = fresh[col].to_numpy()
    out.attrs = {**base.attrs, "whatif_affected": list(base.index[affected])}
    logger.info("what-if: recomputed %d of %d polygons", int(affected.sum()), len(base))
    return out


def exposure_change(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Long table of exposure values that changed: ``place``, ``column``, ``before``, ``after``."""
    cols = [c for c in after.columns if "__" in str(c) and c in before.columns]
    a = before[cols].apply(pd.to_numeric, errors="coerce")
    b = after.loc[before.index, cols].apply(pd.to_numeric, errors="coerce")
    diff = ~np.isclose(a.to_numpy(float), b.to_numpy(float), equal_nan=True)
    rows, colidx = np.nonzero(diff)
    return pd.DataFrame(
        {
            "place": before.index[rows],
            "column": [cols[j] for j in colidx],
            "before": a.to_numpy(float)[rows, colidx],
            "after": b.to_numpy(float)[rows, colidx],
        }
    )


__all__ = [
    "AddCamera",
    "AddLamps",
    "CloseAccess",
    "FixLamp",
    "TurnCamera",
    "add_camera",
    "add_lamps",
    "affected_polygons",
    "apply_edit",
    "changed_features",
    "close_access",
    "exposure_change",
    "fix_lamp",
    "reexpose",
    "turn_camera",
]


# ---------------------------------------------------------------- edits from map clicks
SNAP_M = 60.0  # a clicked lamp snaps to a street, a closure to an access point, within this distance
CLICK_EDITS = ("lamp", "camera", "close_access")


def lonlat_to_crs(lat: float, lng: float, crs: Any) -> Point:
    """A WGS 84 point (degrees) as a shapely point in ``crs``."""
    return gpd.GeoSeries([Point(lng, lat)], crs="EPSG:4326").to_crs(crs).iloc[0]


def crs_to_latlng(point: Point, crs: Any) -> tuple[float, float]:
    """(lat, lng) in degrees of a point in ``crs``."""
    p = gpd.GeoSeries([point], crs=crs).to_crs("EPSG:4326").iloc[0]
    return float(p.y), float(p.x)


def _snapped_lamp(layers: Mapping[str, Any], crs: Any, pt: Point, lat: float, lng: float) -> dict[str, Any]:
    streets = layers.get("streets")
    if streets is None or not len(streets):
        return {"kind": "lamp", "lat": lat, "lng": lng}
    dist = streets.distance(pt)
    if float(dist.min()) > SNAP_M:
        raise ValidationError(
            f"No street within {SNAP_M:.0f} m of the clicked point; lamps go on streets. "
            "Click on or next to a street (the grey lines)."
        )
    line = streets.geometry.loc[dist.idxmin()]
    slat, slng = crs_to_latlng(line.interpolate(line.project(pt)), crs)
    return {"kind": "lamp", "lat": slat, "lng": slng}


def _nearest_access(layers: Mapping[str, Any], crs: Any, pt: Point) -> dict[str, Any]:
    access = layers.get("access_points")
    if access is None or not len(access):
        raise ValidationError("No access-point layer is loaded, so there is nothing to close.")
    dist = access.distance(pt)
    if float(dist.min()) > SNAP_M:
        raise ValidationError(
            f"No access point within {SNAP_M:.0f} m of the clicked point. Switch on the 'Access "
            "points' layer (layer button, top right of the map) and click next to one."
        )
    row = access.loc[dist.idxmin()]
    access_id = str(row["access_id"]) if "access_id" in access.columns else str(dist.idxmin())
    geom = shapely.get_point(row.geometry, 0) if row.geometry.geom_type == "MultiPoint" else row.geometry
    alat, alng = crs_to_latlng(geom, crs)
    return {"kind": "close_access", "lat": alat, "lng": alng, "access_id": access_id}


def edit_from_click(
    layers: Mapping[str, Any], crs: Any, kind: str, lat: float, lng: float, *, direction_deg: float = 0.0
) -> dict[str, Any]:
    """A map click as a what-if edit (a plain, JSON-ready dict).

    A lamp snaps to the nearest street and a closure picks the nearest access point, both within
    :data:`SNAP_M` metres; a camera stays where it was clicked, facing ``direction_deg`` (compass).

    Raises
    ------
    ValidationError
        When there is no street or access point near the click (the message says what to do), or
        ``kind`` is not one of :data:`CLICK_EDITS`.
    """
    pt = lonlat_to_crs(lat, lng, crs)
    if kind == "lamp":
        return _snapped_lamp(layers, crs, pt, lat, lng)
    if kind == "camera":
        return {"kind": "camera", "lat": lat, "lng": lng, "direction_deg": float(direction_deg) % 360.0}
    if kind == "close_access":
        return _nearest_access(layers, crs, pt)
    raise ValidationError(f"Unknown map click mode {kind!r}; choose one of {', '.join(CLICK_EDITS)}.")


def edit_object(edit: Mapping[str, Any], crs: Any) -> AddLamps | AddCamera | CloseAccess:
    """The edit object of an :func:`edit_from_click` dict, for :func:`apply_edit`."""
    if edit["kind"] == "lamp":
        return add_lamps([lonlat_to_crs(edit["lat"], edit["lng"], crs)])
    if edit["kind"] == "camera":
        return add_camera(lonlat_to_crs(edit["lat"], edit["lng"], crs), edit.get("direction_deg", 0.0))
    if edit["kind"] == "close_access":
        return close_access(edit["access_id"])
    raise ValidationError(f"Unknown what-if edit {edit['kind']!r}.")
