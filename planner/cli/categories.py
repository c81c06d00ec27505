"""``planner categories``: how publishers' offence names map onto the planner's categories."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from planner.cli import _options as opt


def register(app: typer.Typer) -> None:
    """Add the ``categories`` command to ``app``."""

    @app.command("categories")
    def categories_command(
        category_map: opt.CategoryMap = None,
        test: Annotated[
            list[str] | None,
            typer.Option("--test", help="Show the category an offence name maps to (repeatable)."),
        ] = None,
        as_json: opt.AsJson = False,
    ) -> None:
        """List the category map (yours first with --category-map) and which categories get measures."""
        from planner.category_report import catalogue_crime_types
        from planner.io.categories import default_category_map_path, load_category_map

        cmap = load_category_map([str(p) for p in category_map or []])
        measures = catalogue_crime_types()
        if test:
            for name in test:
                found = cmap.match(name)
                typer.echo(f"{name!r} -> {found or 'not recognised'}")
            return
        table = cmap.to_frame()
        table["measures"] = table["category"].map(lambda c: ", ".join(measures.get(c, [])))
        if as_json:
            typer.echo(json.dumps(table.to_dict(orient="records")))
            return
        typer.echo(f"Category map (first match wins; built-in: {default_category_map_path()}):")
        for row in table.itertuples(index=False):
            gets = f"measures: {row.measures}" if row.measures else "no measure in the catalogue"
            typer.echo(f"{row.category}  [{gets}]")
            typer.echo(f"    patterns: {row.patterns}")
            if row.note:
                typer.echo(f"    note: {row.note}")
        typer.echo(
            "Add or override entries with --category-map FILE.toml in the same format ([[category]] with "
            "name, patterns and an optional note; see the built-in file's header)."
        )
