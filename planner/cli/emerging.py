"""``planner emerging``: emerging hot-spot categories per grid cell."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from planner.cli import _options as opt


def register(app: typer.Typer) -> None:
    """Add the ``emerging`` command to ``app``."""

    @app.command("emerging")
    def emerging_command(
        *,
        path: opt.IncidentsArg,
        out: Annotated[
            Path, typer.Option("--out", help="GeoPackage to write (layer 'cells' with ehsa_category).")
        ],
        crs: opt.Crs = None,
        analysis_crs: opt.AnalysisCrs = None,
        boundary: opt.Boundary = None,
        column: opt.Column = None,
        category: opt.Category = None,
        only_category: opt.OnlyCategory = None,
        cell_size_m: opt.CellSize = None,
        bin: Annotated[
            str, typer.Option("--bin", help="Time bin: auto, MS (month), W-MON (week), QS (quarter).")
        ] = "auto",
        time_lag: Annotated[
            int, typer.Option("--time-lag", min=0, help="Previous bins counted as neighbours.")
        ] = 1,
        alpha: Annotated[
            float, typer.Option("--alpha", help="Significance level after FDR (Esri uses 90%).")
        ] = 0.10,
    ) -> None:
        """Space-time Gi*, Mann-Kendall trend and Esri categories (new, consecutive, intensifying, ...)."""
        from planner import grid
        from planner.export import write_layer
        from planner.hotspots.emerging import emerging_hotspots

        cfg = opt.build_config(
            **opt.ingest_options(
                incidents=path,
                crs=crs,
                analysis_crs=analysis_crs,
                column=column,
                category=category,
                only_category=only_category,
            ),
            boundary=boundary,
            cell_size_m=cell_size_m,
        )
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
