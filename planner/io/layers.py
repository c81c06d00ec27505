"""Environmental layers (points, lines, polygons, rasters) in the analysis CRS."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from planner import crs as crs_mod
from planner.errors import ConfigError, CRSError, DataLoadError, DroppedGeometryWarning, ValidationError
from planner.io.coords import coordinates_of, is_projected_crs, source_crs_of
from planner.io.detect import detect_columns
from planner.io.sources import read_table
from planner.surface import Surface, read_surface


def read_layer(
    source: str | Path,
    *,
    kind: str | None = None,
    crs: Any = None,
    analysis_crs: Any = None,
    layer: str | None = None,
    query: str | None = None,
) -> gpd.GeoDataFrame:
    """Read an environmental layer (points, lines or polygons) into the analysis CRS.

    CSV files with x/y or lon/lat columns become points. Invalid polygons are repaired with
    ``make_valid`` (count in ``attrs['repaired']`` and a :class:`DroppedGeometryWarning`); empty
    geometries are set aside (``attrs['dropped']``).
    """
    name = f"{source}" + (f" (layer {layer})" if layer else "")
    what = f"layer {kind!r} from {name}" if kind else name
    df = read_table(source, layer=layer, query=query)
    if len(df) == 0:
        raise ValidationError(f"{what} is empty. Give a file with at least one feature.")
    if not isinstance(df, gpd.GeoDataFrame) or df.geometry.name not in df.columns:
        cols = detect_columns(df, source=what, prefer_xy=is_projected_crs(crs))
        xs, ys, ckind = coordinates_of(df, cols, what)
        src = source_crs_of(xs, ys, ckind, df, crs=crs, source=what).crs
        ok = np.isfinite(xs) & np.isfinite(ys)
        gdf = gpd.GeoDataFrame(
            df.loc[ok].reset_index(drop=True), geometry=gpd.points_from_xy(xs[ok], ys[ok]), crs=src
        )
        gdf.attrs["dropped"] = int((~ok).sum())
    else:
        gdf = df
        if gdf.crs is None:
            if crs is None:
                raise CRSError(
                    f"{what} has no CRS. Pass crs= (CLI: --crs) with the CRS its coordinates are in."
                )
            gdf = gdf.set_crs(crs_mod.as_crs(crs))
        empty = gdf.geometry.isna() | gdf.geometry.is_empty
        gdf = gdf.loc[~empty].reset_index(drop=True)
        gdf.attrs["dropped"] = int(empty.sum())
    if len(gdf) == 0:
        raise ValidationError(f"{what} has no usable geometries (all empty or missing).")
    types = set(gdf.geom_type.str.replace("Multi", "", regex=False))
    if len(types) > 1:
        raise ValidationError(
            f"{what} mixes geometry types {sorted(types)}. Split it into one file per type "
            "(points, lines, polygons) and load each as its own layer."
        )
    invalid = ~gdf.is_valid
    if invalid.any():
        gdf = gdf.copy()
        gdf.loc[invalid, gdf.geometry.name] = shapely.make_valid(gdf.geometry[invalid].to_numpy())
        warnings.warn(
            f"{what}: repaired {int(invalid.sum())} invalid geometries with make_valid.",
            DroppedGeometryWarning,
            stacklevel=2,
        )
    target = crs_mod.as_crs(analysis_crs) if analysis_crs is not None else crs_mod.choose_analysis_crs(gdf)
    out = crs_mod.to_analysis_crs(gdf, target)
    out.attrs.update(
        repaired=int(invalid.sum()), dropped=gdf.attrs.get("dropped", 0), kind=kind, source=str(source)
    )
    return out


def read_raster(path: str | Path) -> Surface:
    """Read band 1 of a raster layer (e.g. lux) into a :class:`planner.surface.Surface`."""
    p = Path(path)
    if not p.exists():
        raise DataLoadError(f"{p} does not exist. Give the path of a GeoTIFF.")
    try:
        return read_surface(p)
    except Exception as exc:
        raise DataLoadError(
            f"{p} could not be read as a raster ({str(exc)[:200]}). Give a GeoTIFF."
        ) from None


_CRS_SUFFIX = re.compile(r"@((?:EPSG|ESRI|IGNF|OGC|epsg|esri):[\w.]+|\d{4,6})$")


@dataclass(frozen=True)
class LayerRef:
    """A layer reference ``FILE[::LAYER][@CRS]`` taken apart."""

    path: str
    layer: str | None = None
    crs: str | None = None


def parse_layer_ref(ref: str) -> LayerRef:
    """``'lamps.csv@EPSG:2263'`` → path, no layer, CRS ``EPSG:2263``; ``'city.gpkg::lamps'`` → path
    and layer. The CRS suffix is the CRS of bare x/y coordinates in that file (vector formats carry
    their own); a ``postgresql://user@host/db`` URL is not mistaken for one.
    """
    crs = None
    match = _CRS_SUFFIX.search(ref)
    if match:
        crs = match.group(1).upper() if ":" in match.group(1) else f"EPSG:{match.group(1)}"
        ref = ref[: match.start()]
    path, layer = ref.split("::", 1) if "::" in ref else (ref, None)
    return LayerRef(path, layer, crs)


def split_layer_ref(ref: str) -> tuple[str, str | None]:
    """``'file.gpkg::layer'`` → ``('file.gpkg', 'layer')``; a plain path has no layer (a trailing
    ``@CRS`` is dropped here; :func:`parse_layer_ref` keeps it).
    """
    found = parse_layer_ref(ref)
    return found.path, found.layer


def read_layers(refs: dict[str, str], *, analysis_crs: Any, crs: Any = None) -> dict[str, Any]:
    """Every environmental layer of a run, in ``analysis_crs``.

    Parameters
    ----------
    refs : dict
        Layer kind → ``FILE``, ``FILE::LAYER``, with an optional ``@CRS`` suffix (e.g.
        ``lamps.csv@EPSG:2263``) for the CRS of bare x/y coordinates in that file; GeoTIFFs become
        :class:`planner.surface.Surface`.
    analysis_crs :
        The run's projected CRS (metres).
    crs : optional
        CRS of bare x/y coordinates for layers without their own ``@CRS``.
    """
    layers: dict[str, Any] = {}
    for kind, ref in refs.items():
        found = parse_layer_ref(ref)
        if Path(found.path).suffix.lower() in {".tif", ".tiff"}:
            layers[kind] = read_raster(found.path)
        else:
            layer = found.layer or _layer_for_kind(found.path, kind)
            layers[kind] = read_layer(
                found.path, kind=kind, layer=layer, crs=found.crs or crs, analysis_crs=analysis_crs
            )
    return layers


def _layer_for_kind(path: str, kind: str) -> str | None:
    """The layer of a multi-layer file (a GeoPackage) to read as ``kind``: the one named ``kind``;
    a file with several layers and none of that name is an error listing them.
    """
    if Path(path).suffix.lower() not in {".gpkg", ".sqlite"} or not Path(path).exists():
        return None
    import pyogrio

    try:
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except Exception:  # unreadable here: read_layer reports it with its own clear message
        return None
    if len(names) <= 1 or kind in names:
        return kind if kind in names else None
    raise ConfigError(
        f"{path} holds {len(names)} layers ({', '.join(names)}) and none is called {kind!r}; name the one "
        f"to use as --layer {kind}={path}::LAYER (Python: layers={{'{kind}': '{path}::LAYER'}})."
    )
