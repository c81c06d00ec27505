"""``planner emerging``: emerging hot-spot categories per grid cell."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``emerging`` command to ``app``."""

    @app.command("emerging")
    def emerging_command(
        path: str = typer.Argument(..., help="Incident file."),
        out: Path = typer.Option(
            ..., "--out", help="GeoPackage to write (layer 'cells' with ehsa_category)."
        ),
        crs: str | None = typer.Option(None, "--crs", help="CRS of bare coordinates."),
        cell_size_m: float | None = typer.Option(
            None, "--cell-size", help="Cell size in metres (default automatic)."
        ),
        bin: str = typer.Option(
            "auto", "--bin", help="Time bin: auto, MS (month), W-MON (week), QS (quarter)."
        ),
        time_lag: int = typer.Option(1, "--time-lag", min=0, help="Previous bins counted as neighbours."),
        alpha: float = typer.Option(0.10, "--alpha", help="Significance level after FDR (Esri uses 90%)."),
    ) -> None:
        """Space-time Gi*, Mann-Kendall trend and Esri categories (new, consecutive, intensifying, ...)."""
        from planner import grid
        from planner.export import write_layer
        from planner.hotspots.emerging import emerging_hotspots
        from planner.io import read_incidents

        inc = read_incidents(path, crs=crs).incidents
        area = grid.study_area_from_incidents(inc)
        cells = grid.grid_from_boundary(
            area, cell_size_m=cell_size_m or grid.auto_cell_size(area, n_incidents=len(inc))
        )
        result = emerging_hotspots(inc, cells, bin=bin, time_lag=time_lag, alpha=alpha)
        if out.exists():
            out.unlink()
        write_layer(result, out, "cells")
        typer.echo(
            f"{result.attrs['ehsa']['n_bins']} bins of {result.attrs['ehsa']['bin']} ({result.attrs['ehsa']['scheme']}); wrote {out}"
        )
        for name, n in result["ehsa_category"].value_counts().items():
            typer.echo(f"  {name}: {n} cells")
