"""``planner audits``: import safety audits, map how safe places feel per group, and where fear and
recorded crime disagree.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer


def register(app: typer.Typer) -> None:
    """Add the ``audits`` command to ``app``."""

    @app.command("audits")
    def audits_command(
        *,
        source: str | None = typer.Argument(
            None, help="Audit file (CSV/Excel/GeoJSON/GeoPackage/...); default: the sample city's audits."
        ),
        crs: str | None = typer.Option(None, "--crs", help="CRS of bare x/y coordinates in the audit file."),
        incidents: str | None = typer.Option(
            None,
            "--incidents",
            help="Incidents to compare with (default: the sample city's, with its audits).",
        ),
        incidents_crs: str | None = typer.Option(
            None, "--incidents-crs", help="CRS of bare incident coordinates."
        ),
        boundary: str | None = typer.Option(None, "--boundary", help="Study area (FILE or FILE::LAYER)."),
        cell_size_m: float = typer.Option(250.0, "--cell-size-m", min=10, help="Grid cell side in metres."),
        bandwidth_m: float = typer.Option(400.0, "--bandwidth-m", min=10, help="Kernel radius in metres."),
        min_audits: int = typer.Option(5, "--min-audits", min=1, help="Audits a cell needs to be mapped."),
        min_group_audits: int = typer.Option(30, "--min-group-audits", min=1, help="Audits a group needs."),
        out: Path | None = typer.Option(None, "--out", help="Folder for audits.gpkg, quarantine and tables."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON summary."),
    ) -> None:
        """Import audits (bad rows set aside with reasons), per-group perceived-safety surfaces with
        coverage warnings, and the fear-vs-crime layer (day and night).
        """
        from planner import perception

        src = _sources(source, crs, incidents, incidents_crs, boundary)
        area = src["area"]
        imported = perception.read_audits(src["audits"], crs=src["crs"], study_area=area)
        cells, inc = _cells_and_incidents(src, imported.audits.crs, cell_size_m)
        result = perception.perception_from_audits(
            imported,
            cells,
            inc,
            bandwidth_m=bandwidth_m,
            min_audits=min_audits,
            min_group_audits=min_group_audits,
        )
        if out is not None:
            _write(result, cells, out)
        summary = result.summary()
        if as_json:
            typer.echo(json.dumps(summary, default=str))
            return
        rep = imported.report
        typer.echo(
            f"Audits: {rep['rows_read']} read, {rep['rows_accepted']} accepted, {rep['rows_quarantined']} set aside."
        )
        for reason, n in rep["reasons"].items():
            typer.echo(f"  set aside ({n}): {reason}")
        typer.echo(result.coverage.to_string(index=False))
        typer.echo("Fear vs recorded crime (all audits): " + json.dumps(summary["disagreement"]))
        if summary["night_disagreement"]:
            typer.echo("At night: " + json.dumps(summary["night_disagreement"]))
        typer.echo(f"Rule: {summary['rule']}")
        for line in result.warnings:
            typer.echo(f"Warning: {line}")
        if out is not None:
            typer.echo(f"Wrote {out / 'audits.gpkg'}, {out / 'quarantine.csv'}, {out / 'coverage.csv'}.")


def _sources(
    source: str | None,
    crs: str | None,
    incidents: str | None,
    incidents_crs: str | None,
    boundary: str | None,
) -> dict[str, Any]:
    """Resolve files (the sample city's by default) and read the study area."""
    from planner.errors import ConfigError
    from planner.io import read_layer
    from planner.pipeline import SAMPLE_CRS, sample_city_sources

    sample = source is None
    if sample:
        city = sample_city_sources()
        source = str(Path(city["incidents"]).with_name("audits.csv"))
        crs, incidents, incidents_crs = (
            SAMPLE_CRS,
            incidents or city["incidents"],
            incidents_crs or SAMPLE_CRS,
        )
        boundary = boundary or city["boundary"]
    if incidents is None:
        raise ConfigError(
            "planner audits needs --incidents FILE to compare perceived safety with recorded crime."
        )
    area = None
    if boundary:
        path, _, layer = boundary.partition("::")
        area = read_layer(path, kind="boundary", layer=layer or None)
    return {
        "audits": source,
        "crs": crs,
        "incidents": incidents,
        "incidents_crs": incidents_crs,
        "area": area,
    }


def _cells_and_incidents(src: dict[str, Any], crs: Any, cell_size_m: float) -> tuple[Any, Any]:
    from planner import grid
    from planner.io import read_incidents

    inc = read_incidents(src["incidents"], crs=src["incidents_crs"], analysis_crs=crs).incidents
    area = src["area"].to_crs(crs) if src["area"] is not None else grid.study_area_from_incidents(inc)
    return grid.grid_from_boundary(area, cell_size_m=cell_size_m), inc


def _write(result: Any, cells: Any, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    gpkg = out / "audits.gpkg"
    if gpkg.exists():
        gpkg.unlink()
    result.audits.to_file(gpkg, layer="audits", driver="GPKG", engine="pyogrio")
    result.surface_gdf(cells).to_file(gpkg, layer="perceived_safety", driver="GPKG", engine="pyogrio")
    result.disagreement.to_file(gpkg, layer="fear_vs_crime", driver="GPKG", engine="pyogrio")
    if result.night_disagreement is not None:
        result.night_disagreement.to_file(gpkg, layer="fear_vs_crime_night", driver="GPKG", engine="pyogrio")
    from planner.export.csv_safe import write_csv

    write_csv(result.quarantine, out / "quarantine.csv")
    write_csv(result.coverage, out / "coverage.csv")
