"""``planner inspect``: the ingest and data-fitness report of an incident file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from planner.cli import _options as opt


def register(app: typer.Typer) -> None:
    """Add the ``inspect`` command to ``app``."""

    @app.command("inspect")
    def inspect_command(
        *,
        path: opt.IncidentsArg,
        crs: opt.Crs = None,
        analysis_crs: opt.AnalysisCrs = None,
        column: opt.Column = None,
        category: opt.Category = None,
        category_map: opt.CategoryMap = None,
        drop_duplicates: opt.DropDuplicates = False,
        as_json: opt.AsJson = False,
        quarantine: Annotated[
            Path | None, typer.Option("--quarantine", help="Write the quarantined rows to this CSV.")
        ] = None,
    ) -> None:
        """Read incidents and report what was accepted, set aside, detected and what analyses the data supports."""
        from planner.export import write_table
        from planner.pipeline import load_inputs

        cfg = opt.build_config(
            **opt.ingest_options(
                incidents=path,
                crs=crs,
                analysis_crs=analysis_crs,
                column=column,
                category=category,
                drop_duplicates=drop_duplicates,
                category_map=category_map,
            )
        )
        inputs = load_inputs(cfg, with_layers=False)
        if quarantine is not None:
            write_table(inputs.quarantine, quarantine)
        if as_json:
            typer.echo(json.dumps(inputs.report, default=str))
            return
        _print_report(inputs.report)


def _print_report(rep: dict[str, Any]) -> None:
    typer.echo(
        f"{rep['source']}: {rep['rows_read']} rows read, {rep['rows_accepted']} accepted, "
        f"{rep['rows_quarantined']} quarantined"
    )
    for reason, n in rep["quarantine_reasons"].items():
        typer.echo(f"  quarantined {n}: {reason}")
    typer.echo(f"columns: {rep['columns_used']}")
    typer.echo(
        f"CRS {rep['crs']} → analysis CRS {rep['analysis_crs']}; time resolution {rep['time_resolution']}; "
        f"dates {rep['date_min']} .. {rep['date_max']}; {rep['duplicate_location_share']:.0%} on repeated points"
    )
    for name, verdict in rep["fitness"]["analyses"].items():
        typer.echo(f"  {'ok ' if verdict['ok'] else 'NO '} {name}: {verdict['reason']}")
    categories = rep["fitness"].get("categories", {})
    if categories:
        shown = ", ".join(f"{k} {v}" for k, v in list(categories.items())[:12])
        typer.echo(f"categories: {shown}{' ...' if len(categories) > 12 else ''}")
    for note in rep.get("notes", []):
        typer.echo(f"note: {note}")
    for w in rep["warnings"]:
        typer.echo(f"warning: {w}")
