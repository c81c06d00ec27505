"""``planner run``: the whole pipeline on the sample city or on a user's data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from planner.cli import _options as opt
from planner.cli import _outputs as opt_out


def register(app: typer.Typer) -> None:
    """Add the ``run`` command to ``app``."""

    @app.command("run")
    def run_command(
        out: Annotated[
            Path, typer.Option("--out", help="Folder for plan.gpkg, density.tif, map.html, manifest.json.")
        ],
        incidents: Annotated[
            str | None,
            typer.Option("--incidents", help="Incident file or PostGIS URL (default: sample city)."),
        ] = None,
        crs: opt.Crs = None,
        analysis_crs: opt.AnalysisCrs = None,
        boundary: opt.Boundary = None,
        layer: opt.Layer = None,
        config: opt.ConfigFile = None,
        column: opt.Column = None,
        category: opt.Category = None,
        only_category: opt.OnlyCategory = None,
        date_from: opt.DateFrom = None,
        date_to: opt.DateTo = None,
        drop_duplicates: opt.DropDuplicates = False,
        cell_size_m: opt.CellSize = None,
        bandwidth_m: opt.Bandwidth = None,
        max_hotspot_cells: opt.MaxHotspotCells = None,
        budget: Annotated[
            float | None, typer.Option("--budget", help="Budget for the intervention portfolio.")
        ] = None,
        currency: Annotated[
            str | None, typer.Option("--currency", help="GBP or USD for costs and benefits.")
        ] = None,
        allow_access_restriction: Annotated[
            bool,
            typer.Option(
                "--allow-access-restriction", help="Include measures that restrict public access (gating)."
            ),
        ] = False,
        engine: Annotated[
            str | None,
            typer.Option("--engine", help="memory (default) or dask: ingest, counts and exposure on Dask."),
        ] = None,
        scheduler: Annotated[
            str | None,
            typer.Option("--scheduler", help="Dask scheduler address for --engine dask (default: local)."),
        ] = None,
        overwrite: opt_out.Overwrite = False,
    ) -> None:
        """Ingest, grid, density, Gi* hotspots, exposure, risk terrain and recommendations; write the plan."""
        from planner.export import write_run_outputs
        from planner.pipeline import run

        cfg = opt.build_config(
            config,
            **opt.ingest_options(
                incidents=incidents,
                crs=crs,
                analysis_crs=analysis_crs,
                column=column,
                category=category,
                only_category=only_category,
                date_from=date_from,
                date_to=date_to,
                drop_duplicates=drop_duplicates,
            ),
            boundary=boundary,
            layers=opt.parse_layers(layer),
            cell_size_m=cell_size_m,
            bandwidth_m=bandwidth_m,
            max_hotspot_cells=max_hotspot_cells,
            budget=budget,
            currency=currency,
            allow_access_restriction=allow_access_restriction or None,
            engine=engine,
            scheduler=scheduler,
        )
        opt_out.check_out(out, overwrite=overwrite)
        plan = run(cfg, progress=_printer())
        opt_out.summary(plan, write_run_outputs(plan, out, overwrite=overwrite))


def _printer() -> Callable[[float, str], None]:
    def progress(fraction: float, message: str) -> None:
        typer.echo(f"[{fraction:4.0%}] {message}", err=True)

    return progress
