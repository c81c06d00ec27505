"""``planner emerging``: emerging hot-spot categories per grid cell."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any

import typer

from planner.cli import _options as opt

EmergingOut = Annotated[
    Path, typer.Option("--out", help="GeoPackage to write (layer 'cells' with ehsa_category).")
]
Bin = Annotated[str, typer.Option("--bin", help="Time bin: auto, MS (month), W-MON (week), QS (quarter).")]
TimeLag = Annotated[int, typer.Option("--time-lag", min=0, help="Previous bins counted as neighbours.")]
Alpha = Annotated[float, typer.Option("--alpha", help="Significance level after FDR (Esri uses 90%).")]
EMERGING_OPTIONS = [
    inspect.Parameter("path", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=opt.IncidentsArg),
    opt.option("out", EmergingOut, inspect.Parameter.empty),
    *opt.INGEST_OPTIONS,
    opt.option("boundary", opt.Boundary),
    opt.option("cell_size_m", opt.CellSize),
    opt.option("bin", Bin, "auto"),
    opt.option("time_lag", TimeLag, 1),
    opt.option("alpha", Alpha, 0.10),
]


def register(app: typer.Typer) -> None:
    """Add the ``emerging`` command to ``app``."""

    @opt.command(app, "emerging", EMERGING_OPTIONS)
    def emerging_command(options: dict[str, Any]) -> None:
        """Space-time Gi*, Mann-Kendall trend and Esri categories (new, consecutive, intensifying, ...)."""
        from planner import grid
        from planner.export import write_layer
        from planner.hotspots.emerging import emerging_hotspots

        cfg = opt.build_config(
            **opt.ingest_fields(options, incidents=options["path"]),
            boundary=options["boundary"],
            cell_size_m=options["cell_size_m"],
        )
        out, bin, time_lag, alpha = (options[k] for k in ("out", "bin", "time_lag", "alpha"))
        inc, area = opt.load_incidents(cfg)
        cells = grid.grid_from_boundary(
            area, cell_size_m=cfg.cell_size_m or grid.auto_cell_size(area, n_incidents=len(inc))
        )
        result = emerging_hotspots(inc, cells, bin=bin, time_lag=time_lag, alpha=alpha)
        if out.exists():
            out.unlink()
        write_layer(result, out, "cells")
        ehsa = result.attrs["ehsa"]
        typer.echo(f"{ehsa['n_bins']} bins of {ehsa['bin']} ({ehsa['scheme']}); wrote {out}")
        for name, n in result["ehsa_category"].value_counts().items():
            typer.echo(f"  {name}: {n} cells")
