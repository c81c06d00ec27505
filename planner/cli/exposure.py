"""``planner exposure``: environmental exposure of cells (and hotspots) from layer files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from planner.errors import ConfigError, DataLoadError


def split_ref(ref: str) -> tuple[str, str | None]:
    """``'file.gpkg::layer'`` → ``('file.gpkg', 'layer')``."""
    if "::" in ref:
        path, layer = ref.split("::", 1)
        return path, layer
    return ref, None


def read_polygons(ref: str) -> Any:
    """Cells or hotspots from ``FILE[::LAYER]``; they must carry a projected CRS in metres."""
    import geopandas as gpd

    from planner.crs import require_projected

    path, layer = split_ref(ref)
    if not Path(path).exists():
        raise DataLoadError(
            f"{path} does not exist. Give the cells as FILE or FILE::LAYER (e.g. plan.gpkg::cells)."
        )
    try:
        gdf = gpd.read_file(path, layer=layer)
    except Exception as exc:  # pyogrio raises its own errors with the driver's message
        raise DataLoadError(f"Could not read {ref}: {exc}") from exc
    require_projected(gdf, what=ref)
    return gdf


def read_layers(items: list[str], *, crs: Any, layer_crs: str | None = None) -> dict[str, Any]:
    """Layers from ``KIND=FILE[::LAYER]`` items, in ``crs``.

    GeoTIFF files become :class:`planner.surface.Surface`; CSV files need ``x``/``y`` columns in
    ``layer_crs`` (default ``crs``); other vector files keep their own CRS and are transformed.
    """
    import geopandas as gpd
    import pandas as pd

    from planner.crs import as_crs
    from planner.surface import read_surface

    layers: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--layer {item!r} must look like KIND=PATH, e.g. street_lights=lamps.gpkg.")
        kind, ref = (s.strip() for s in item.split("=", 1))
        path, layer = split_ref(ref)
        if not Path(path).exists():
            raise DataLoadError(f"The {kind} layer file {path} does not exist.")
        suffix = Path(path).suffix.lower()
        if suffix in {".tif", ".tiff"}:
            layers[kind] = read_surface(path, name=kind)
            continue
        if suffix == ".csv":
            df = pd.read_csv(path)
            missing = {"x", "y"} - set(df.columns)
            if missing:
                raise DataLoadError(f"{path} has no {sorted(missing)} column(s); a CSV layer needs x and y.")
            src = as_crs(layer_crs, what="--layer-crs") if layer_crs else crs
            gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs=src)
        else:
            gdf = gpd.read_file(path, layer=layer)
        layers[kind] = gdf.to_crs(crs) if gdf.crs is not None else gdf.set_crs(crs)
    return layers


def register(app: typer.Typer) -> None:
    """Add the ``exposure`` command to ``app``."""

    @app.command("exposure")
    def exposure_command(
        cells: str = typer.Option(..., "--cells", help="Cells as FILE[::LAYER], e.g. plan.gpkg::cells."),
        layer: list[str] = typer.Option([], "--layer", help="Environmental layer as KIND=PATH (repeatable)."),
        hotspots: str | None = typer.Option(None, "--hotspots", help="Hotspot polygons as FILE[::LAYER]."),
        layer_crs: str | None = typer.Option(None, "--layer-crs", help="CRS of x/y in CSV layers."),
        out: Path = typer.Option(..., "--out", help="Folder for exposure.gpkg and exposure_cells.csv."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object to stdout."),
    ) -> None:
        """Measure lighting, surveillance, access and generators around every cell (and hotspot)."""
        from planner.exposure import exposure_for_cells, exposure_for_hotspots

        grid = read_polygons(cells)
        layers = read_layers(layer, crs=grid.crs, layer_crs=layer_crs)
        if not layers:
            raise ConfigError("Give at least one --layer KIND=PATH (e.g. street_lights=lamps.gpkg).")
        result = {"cells": exposure_for_cells(grid, layers)}
        if hotspots:
            result["hotspots"] = exposure_for_hotspots(read_polygons(hotspots), layers)
        out.mkdir(parents=True, exist_ok=True)
        gpkg = out / "exposure.gpkg"
        for name, frame in result.items():
            plain = frame.copy()
            plain.attrs = {}
            plain.to_file(gpkg, layer=name, driver="GPKG")
        csv = out / "exposure_cells.csv"
        result["cells"].drop(columns=result["cells"].geometry.name).to_csv(csv, index=False)
        columns = [c for c in result["cells"].columns if "__" in c]
        notes = result["cells"].attrs.get("exposure_notes", [])
        if as_json:
            payload = {
                "n_cells": len(result["cells"]),
                "n_hotspots": len(result.get("hotspots", [])),
                "columns": columns,
                "notes": notes,
                "written": {"geopackage": str(gpkg), "cells_csv": str(csv)},
            }
            typer.echo(json.dumps(payload))
            return
        typer.echo(f"{len(result['cells'])} cells × {len(columns)} exposure columns from {sorted(layers)}.")
        for note in notes:
            typer.echo(f"note: {note}")
        typer.echo(f"wrote {gpkg} and {csv}")
