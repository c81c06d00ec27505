"""``planner inspect``: the ingest and data-fitness report of an incident file."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def parse_columns(items: list[str]) -> dict[str, str]:
    """``["date=Reported", ...]`` → ``{"date": "Reported"}``; a malformed item is a clear error."""
    from planner.errors import ConfigError

    out: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--column {item!r} must look like ROLE=NAME, e.g. --column date=Reported.")
        role, name = item.split("=", 1)
        out[role.strip()] = name.strip()
    return out


def register(app: typer.Typer) -> None:
    """Add the ``inspect`` command to ``app``."""

    @app.command("inspect")
    def inspect_command(
        path: str = typer.Argument(..., help="Incident file or postgresql:// URL."),
        crs: str | None = typer.Option(None, "--crs", help="CRS of bare coordinates, e.g. EPSG:26971."),
        layer: str | None = typer.Option(None, "--layer", help="GeoPackage layer or PostGIS table."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
        quarantine: Path | None = typer.Option(
            None, "--quarantine", help="Write the quarantined rows to this CSV."
        ),
        drop_duplicates: bool = typer.Option(
            False, "--drop-duplicates", help="Quarantine exact duplicate records."
        ),
        column: list[str] = typer.Option(
            [], "--column", help="Column role as ROLE=NAME, e.g. date=Reported (repeatable)."
        ),
    ) -> None:
        """Read incidents and report what was accepted, set aside, detected and what analyses the data supports."""
        from planner.io import read_incidents

        result = read_incidents(
            path, crs=crs, layer=layer, drop_duplicates=drop_duplicates, columns=parse_columns(column)
        )
        rep = result.report.to_dict()
        if quarantine is not None:
            result.quarantine.to_csv(quarantine, index=False)
        if as_json:
            typer.echo(json.dumps(rep, default=str))
            return
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
        for w in rep["warnings"]:
            typer.echo(f"warning: {w}")
