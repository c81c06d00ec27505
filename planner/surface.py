"""Raster surfaces: a 2-D array, an affine transform and a CRS, written north-up with rasterio.

Arrays are stored **north-up** (row 0 = northernmost row), as GeoTIFF expects. Grid-statistics code
that works with row 0 = southernmost row flips once, in :func:`surface_from_south_up`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine
from pyproj import CRS


@dataclass(frozen=True)
class Surface:
    """A north-up raster surface.

    Attributes
    ----------
    array : ndarray, shape (rows, cols)
        Values; row 0 is the northernmost row. NaN marks cells outside the study area.
    transform : Affine
        Pixel → map coordinates in ``crs`` (metres); ``transform.e`` is negative (north-up).
    crs : pyproj.CRS
        Projected CRS of the surface.
    name : str
        Short name used as the band description and file stem.
    units : str
        Units of the values, e.g. ``"incidents per km² per year"``.
    params : dict
        Parameters that produced the surface (bandwidth, kernel, ...), carried into metadata.
    """

    array: np.ndarray
    transform: Affine
    crs: CRS
    name: str = "surface"
    units: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) in ``crs`` metres."""
        rows, cols = self.array.shape
        x0, y0 = self.transform @ (0, 0)
        x1, y1 = self.transform @ (cols, rows)
        return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))

    def to_geotiff(self, path: str | Path, *, cog: bool = False) -> Path:
        """Write the surface as a single-band float32 GeoTIFF (or Cloud-Optimised GeoTIFF)."""
        import rasterio
        from rasterio.shutil import copy as rio_copy

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = np.asarray(self.array, dtype="float32")
        profile = {
            "driver": "GTiff",
            "height": data.shape[0],
            "width": data.shape[1],
            "count": 1,
            "dtype": "float32",
            "crs": self.crs.to_wkt(),
            "transform": self.transform,
            "nodata": np.float32(np.nan),
            "compress": "deflate",
        }
        target = path.with_suffix(".tmp.tif") if cog else path
        with rasterio.open(target, "w", **profile) as dst:
            dst.write(data, 1)
            dst.set_band_description(1, self.name)
            dst.update_tags(units=self.units, **{k: str(v) for k, v in self.params.items()})
        if cog:
            rio_copy(target, path, driver="COG", compress="deflate")
            target.unlink()
        return path


def surface_from_south_up(
    array_south_up: np.ndarray,
    *,
    x0: float,
    y0: float,
    cell_size_m: float,
    crs: CRS,
    name: str = "surface",
    units: str = "",
    params: dict[str, Any] | None = None,
) -> Surface:
    """Build a north-up :class:`Surface` from an array whose row 0 is the southernmost row.

    ``x0, y0`` are the map coordinates (metres) of the south-west corner of cell (0, 0).
    """
    rows = array_south_up.shape[0]
    transform = Affine(cell_size_m, 0.0, x0, 0.0, -cell_size_m, y0 + rows * cell_size_m)
    return Surface(
        array=np.flipud(np.asarray(array_south_up)).copy(),
        transform=transform,
        crs=crs,
        name=name,
        units=units,
        params=dict(params or {}),
    )


def read_surface(path: str | Path, *, name: str | None = None) -> Surface:
    """Read band 1 of a raster file into a :class:`Surface` (north-up as stored).

    Only GeoTIFF files are opened (a VRT or a URL could make GDAL read other files or fetch
    URLs), unless :func:`planner.io.sources.allow_virtual_sources` is in effect.
    """
    import rasterio

    from planner.io.sources import check_raster_source, virtual_sources_allowed

    source = check_raster_source(path)
    drivers = None if virtual_sources_allowed() else "GTiff"
    with rasterio.open(source, driver=drivers) as src:
        arr = src.read(1, masked=True).filled(np.nan).astype("float64")
        return Surface(
            array=arr,
            transform=src.transform,
            crs=CRS.from_user_input(src.crs),
            name=name or Path(path).stem,
            units=src.tags().get("units", ""),
        )


def surface_from_cells(
    cells: Any,
    values: np.ndarray,
    *,
    name: str,
    units: str = "",
    params: dict[str, Any] | None = None,
    cell_size_m: float | None = None,
) -> Surface:
    """Rasterise one value per cell polygon into a north-up :class:`Surface` (NaN outside cells).

    ``cells`` is a GeoDataFrame of polygons in a projected CRS (metres). The pixel size is
    ``cell_size_m``, else the grid's own (``cells.attrs["params"]["cell_size_m"]``), else the
    square root of the median cell area.
    """
    from rasterio import features

    from planner.crs import require_projected

    crs = require_projected(cells, what="cells")
    size = cell_size_m or (cells.attrs.get("params") or {}).get("cell_size_m")
    size = float(size or np.sqrt(np.median(cells.geometry.area)))
    minx, miny, maxx, maxy = cells.total_bounds
    cols_n = max(int(np.ceil((maxx - minx) / size)), 1)
    rows_n = max(int(np.ceil((maxy - miny) / size)), 1)
    transform = Affine(size, 0, minx, 0, -size, miny + rows_n * size)
    arr = features.rasterize(
        zip(np.asarray(cells.geometry.values), np.asarray(values, dtype=float), strict=True),
        out_shape=(rows_n, cols_n),
        transform=transform,
        fill=np.nan,
        dtype="float64",
    )
    return Surface(
        array=arr,
        transform=transform,
        crs=CRS.from_user_input(crs),
        name=name,
        units=units,
        params=dict(params or {}),
    )
