"""``planner run``: the whole pipeline on the sample city or on a user's data."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from planner.cli import _options as opt
from planner.cli import _outputs as opt_out

Out = Annotated[
    Path, typer.Option("--out", help="Folder for plan.gpkg, density.tif, map.html, manifest.json.")
]
Incidents = Annotated[
    str | None, typer.Option("--incidents", help="Incident file or PostGIS URL (default: sample city).")
]
Engine = Annotated[
    str | None,
    typer.Option("--engine", help="memory (default) or dask: ingest, counts and exposure on Dask."),
]
Scheduler = Annotated[
    str | None, typer.Option("--scheduler", help="Dask scheduler address for --engine dask (default: local).")
]

RUN_OPTIONS = [
    opt.option("out", Out, inspect.Parameter.empty),
    opt.option("incidents", Incidents),
    *opt.INGEST_OPTIONS,
    *opt.HOTSPOT_OPTIONS,
    opt.option("layer", opt.Layer),
    opt.option("layers_dir", opt.LayersDir),
    opt.option("config", opt.ConfigFile),
    opt.option("budget", opt.Budget),
    opt.option("jurisdiction", opt.Jurisdiction),
    opt.option("currency", opt.Currency),
    opt.option("rank_by", opt.RankBy),
    opt.option("allow_access_restriction", opt.AllowAccessRestriction, False),
    opt.option("allow_surveillance_priority", opt.AllowSurveillancePriority, False),
    opt.option("engine", Engine),
    opt.option("scheduler", Scheduler),
    opt.option("overwrite", opt_out.Overwrite, False),
]


def register(app: typer.Typer) -> None:
    """Add the ``run`` command to ``app``."""

    @opt.command(app, "run", RUN_OPTIONS)
    def run_command(options: dict[str, Any]) -> None:
        """Ingest, grid, density, Gi* hotspots, exposure, risk terrain and recommendations; write the plan."""
        from planner.export import write_run_outputs
        from planner.maps.assets import require_assets
        from planner.pipeline import run

        require_assets()  # before any work: no half-written folder when the map could not be offline
        opt_out.check_out(options["out"], overwrite=options["overwrite"])  # before minutes of work
        cfg = opt.config_from_options(options, incidents=options.get("incidents"))
        plan = run(cfg, progress=_printer())
        paths = write_run_outputs(plan, options["out"], overwrite=options["overwrite"])
        print_summary(plan, paths)


def print_summary(plan: Any, paths: dict[str, Path]) -> None:
    """What the run did: counts and chosen sizes, files, skipped analyses, categories without a
    measure, then the remaining warnings (one line each, no source-file noise).
    """
    p = plan.params
    quarantined = int(plan.ingest_report.get("rows_quarantined", len(plan.quarantine)) or 0)
    typer.echo(
        f"{p['n_incidents']} incidents, {len(plan.cells)} cells of {p['cell_size_m']:g} m ({p['cell_size_rule']}), "
        f"KDE bandwidth {p['bandwidth_m']:.0f} m ({p['bandwidth_rule']}), {len(plan.hotspots)} hotspots "
        f"(at most {p['max_hotspot_cells']} cells each); {quarantined} row(s) quarantined "
        "(quarantine.csv); wrote:"
    )
    for name, written in paths.items():
        typer.echo(f"  {name}: {written}")
    chosen = p.get("portfolio") or {}
    if chosen.get("rule"):
        budget = "no budget" if chosen["budget"] is None else f"budget {chosen['budget']:,.0f}"
        typer.echo(
            f"Portfolio ({budget}): {chosen['n_measures']} measure(s), cost {chosen['total_cost']:,.0f}, "
            f"expected net benefit {chosen['total_net_benefit']:,.0f}, "
            f"{chosen['total_prevented_per_year']:.1f} crimes prevented a year (rule in manifest.json)."
        )
    skipped = p.get("skipped_analyses", {})
    if skipped:
        typer.echo("Skipped analyses:", err=True)
        for name, reason in skipped.items():
            typer.echo(f"  {name}: {reason}", err=True)
    missing = p.get("categories_without_measure", {})
    if missing:
        total = sum(e["incidents"] for e in missing.values())
        typer.echo(f"No measure for {total} of {p['n_incidents']} incidents:", err=True)
        for category, entry in missing.items():
            sources = ", ".join(f"{k!r} {v}" for k, v in list(entry["source_categories"].items())[:4])
            typer.echo(f"  {category} ({entry['incidents']}; from {sources}): {entry['reason']}", err=True)
    from planner.pipeline import skip_message

    shown = {skip_message(name, reason) for name, reason in skipped.items()}
    for note in plan.warnings:
        if note not in shown and "categories no measure addresses" not in note:
            typer.echo(f"warning: {note}", err=True)


def _printer() -> Callable[[float, str], None]:
    def progress(fraction: float, message: str) -> None:
        typer.echo(f"[{fraction:4.0%}] {message}", err=True)

    return progress
