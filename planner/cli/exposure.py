"""``planner exposure``: environmental exposure of cells (and hotspots) from layer files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from planner.cli import _options as opt
from planner.errors import ConfigError, DataLoadError

Cells = Annotated[str, typer.Option("--cells", help="Cells as FILE[::LAYER], e.g. out/plan.gpkg::cells.")]
LayerCrs = Annotated[
    str | None, typer.Option("--layer-crs", help="CRS of bare x/y coordinates in CSV layers.")
]


def read_polygons(ref: str) -> Any:
    """Cells or hotspots from ``FILE[::LAYER]``; they must carry a projected CRS in metres."""
    from planner.crs import require_projected
    from planner.io import read_table, split_layer_ref

    path, layer = split_layer_ref(ref)
    if not Path(path).exists():
        raise DataLoadError(
            f"{path} does not exist. Give the cells as FILE or FILE::LAYER (e.g. plan.gpkg::cells)."
        )
    gdf = read_table(path, layer=layer)
    require_projected(gdf, what=ref)
    return gdf


def read_stage_layers(refs: dict[str, str], *, analysis_crs: Any, layer_crs: str | None) -> dict[str, Any]:
    """The config's layers (kind → ``FILE[::LAYER]``) in the cells' CRS, through the one layer loader."""
    from planner.io import read_layers

    # bare x/y in CSV layers are in --layer-crs, else in the cells' CRS
    layers = read_layers(refs, analysis_crs=analysis_crs, crs=layer_crs or analysis_crs)
    if not layers:
        raise ConfigError("Give at least one --layer KIND=PATH (e.g. --layer street_lights=lamps.gpkg).")
    return layers


def register(app: typer.Typer) -> None:
    """Add the ``exposure`` command to ``app``."""

    @app.command("exposure")
    def exposure_command(
        *,
        cells: Cells,
        out: Annotated[Path, typer.Option("--out", help="Folder for exposure.gpkg and exposure_cells.csv.")],
        layer: opt.Layer = None,
        layers_dir: opt.LayersDir = None,
        hotspots: Annotated[
            str | None, typer.Option("--hotspots", help="Hotspot polygons as FILE[::LAYER].")
        ] = None,
        layer_crs: LayerCrs = None,
        as_json: opt.AsJson = False,
    ) -> None:
        """Measure lighting, surveillance, access and generators around every cell (and hotspot)."""
        from planner.export.stage_files import write_exposure_outputs
        from planner.exposure import exposure_for_cells, exposure_for_hotspots
        from planner.exposure.layers import user_layer_dirs

        dirs = [str(d) for d in layers_dir or []]
        cfg = opt.build_config(layers=opt.parse_layers(layer, layer_dirs=dirs), layer_dirs=dirs)
        grid = read_polygons(cells)
        layers = read_stage_layers(cfg.layers, analysis_crs=grid.crs, layer_crs=layer_crs)
        with user_layer_dirs(cfg.layer_dirs):
            result = {"cells": exposure_for_cells(grid, layers)}
            if hotspots:
                result["hotspots"] = exposure_for_hotspots(read_polygons(hotspots), layers)
        written = write_exposure_outputs(result, out)
        columns = [c for c in result["cells"].columns if "__" in c]
        notes = result["cells"].attrs.get("exposure_notes", [])
        if as_json:
            payload = {
                "n_cells": len(result["cells"]),
                "n_hotspots": len(result.get("hotspots", [])),
                "columns": columns,
                "notes": notes,
                "written": {k: str(v) for k, v in written.items()},
            }
            typer.echo(json.dumps(payload))
            return
        typer.echo(f"{len(result['cells'])} cells × {len(columns)} exposure columns from {sorted(layers)}.")
        for note in notes:
            typer.echo(f"note: {note}")
        typer.echo(f"wrote {written['geopackage']} and {written['cells_csv']}")
