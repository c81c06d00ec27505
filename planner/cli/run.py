"""``planner run``: the whole pipeline on the sample city or on a user's data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer

from planner.errors import ConfigError


def register(app: typer.Typer) -> None:
    """Add the ``run`` command to ``app``."""

    @app.command("run")
    def run_command(
        out: Path = typer.Option(
            ..., "--out", help="Folder for plan.gpkg, density.tif, map.html, manifest.json."
        ),
        incidents: str | None = typer.Option(
            None, "--incidents", help="Incident file or PostGIS URL (default: sample city)."
        ),
        crs: str | None = typer.Option(None, "--crs", help="CRS of bare coordinates, e.g. EPSG:26971."),
        boundary: str | None = typer.Option(None, "--boundary", help="Study-area polygon file."),
        layer: list[str] = typer.Option([], "--layer", help="Environmental layer as KIND=PATH (repeatable)."),
        config: Path | None = typer.Option(
            None, "--config", help="TOML/JSON config or a previous manifest.json."
        ),
        cell_size_m: float | None = typer.Option(None, "--cell-size", help="Grid cell size in metres."),
        budget: float | None = typer.Option(None, "--budget", help="Budget for the intervention portfolio."),
        column: list[str] = typer.Option(
            [], "--column", help="Column role as ROLE=NAME, e.g. date=Reported (repeatable)."
        ),
        engine: str | None = typer.Option(
            None, "--engine", help="memory (default) or dask: ingest, grid counts and exposure on Dask."
        ),
        scheduler: str | None = typer.Option(
            None, "--scheduler", help="Dask scheduler address for --engine dask (default: local cluster)."
        ),
        category: str | None = typer.Option(
            None,
            "--category",
            help="Category of incidents that have none, e.g. burglary for a burglaries-only file.",
        ),
        jurisdiction: str | None = typer.Option(
            None,
            "--jurisdiction",
            help="Whose costs, currency and law apply: auto (from the data's location, default), UK, US, CA or none.",
        ),
        currency: str | None = typer.Option(
            None, "--currency", help="GBP, USD or CAD (default: the jurisdiction's own currency)."
        ),
        rank_by: str | None = typer.Option(
            None,
            "--rank-by",
            help="net_benefit_per_cost (default), net_benefit, bcr, prevented or p_benefit_exceeds_cost.",
        ),
    ) -> None:
        """Ingest, grid, density, Gi* hotspots, exposure, risk terrain and recommendations; write the plan."""
        from planner.cli.inspect import parse_columns
        from planner.config import config_from_mapping, load_config
        from planner.export import write_run_outputs
        from planner.pipeline import run

        layers = _parse_layers(layer)
        options = {
            "incidents": incidents,
            "crs": crs,
            "boundary": boundary,
            "layers": layers,
            "cell_size_m": cell_size_m,
            "budget": budget,
            "columns": parse_columns(column),
            "engine": engine,
            "scheduler": scheduler,
            "default_category": category,
            "jurisdiction": jurisdiction,
            "currency": currency,
            "rank_by": rank_by,
        }
        if config is not None:
            cfg = load_config(config, **options)
        else:
            cfg = config_from_mapping({k: v for k, v in options.items() if v not in (None, {})})
        plan = run(cfg, progress=_printer())
        paths = write_run_outputs(plan, out)
        typer.echo(
            f"{plan.params['n_incidents']} incidents, {len(plan.cells)} cells, "
            f"{len(plan.hotspots)} hotspots; wrote:\n" + "\n".join(f"  {k}: {v}" for k, v in paths.items())
        )


def _parse_layers(items: list[str]) -> dict[str, str]:
    """``--layer KIND=PATH`` options as a kind → path mapping."""
    layers: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--layer {item!r} must look like KIND=PATH, e.g. street_lights=lamps.gpkg.")
        kind, path = item.split("=", 1)
        layers[kind.strip()] = path.strip()
    return layers


def _printer() -> Callable[[float, str], None]:
    def progress(fraction: float, message: str) -> None:
        typer.echo(f"[{fraction:4.0%}] {message}", err=True)

    return progress
