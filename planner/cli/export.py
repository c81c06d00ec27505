"""``planner export``: publishable files from a ``planner run`` folder, at a privacy level."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``export`` command to ``app``."""

    @app.command("export")
    def export_command(
        *,
        plan_dir: Path = typer.Argument(..., help="Folder written by 'planner run --out DIR'."),
        out: Path = typer.Option(..., "--out", help="Folder for the exported files."),
        formats: list[str] = typer.Option(
            [],
            "--format",
            help="Formats, comma-separated or repeated: gpkg, geojson, shp, kml, fgb, parquet, cog, "
            "csv, html, brief, or all (default: all).",
        ),
        privacy: str = typer.Option(
            "public", "--privacy", help="public (safe to publish; the default) or internal (incident points)."
        ),
        k: int | None = typer.Option(
            None,
            "--k",
            help="Suppress areas and counts with fewer than k incidents (default: the run's k_min, 5).",
        ),
        round_to: int = typer.Option(1, "--round-to", help="Round published counts to multiples of this."),
        top: int = typer.Option(5, "--top", help="Hotspots with a page of their own in the brief."),
        overwrite: bool = typer.Option(
            False,
            "--overwrite",
            help="Replace the files a previous export wrote in a non-empty --out (other files are kept).",
        ),
    ) -> None:
        """Export a plan: GeoPackage with QGIS styles, GeoJSON, Shapefile, KML, FlatGeobuf, GeoParquet,
        Cloud-Optimised GeoTIFF, CSV, offline HTML map and a printable brief, plus the manifest.
        """
        from planner.export import export_plan

        written = export_plan(
            plan_dir,
            out,
            formats=formats or None,
            privacy=privacy,
            k=k,
            round_to=round_to,
            top_hotspots=top,
            overwrite=overwrite,
        )
        n_files = sum(len(v) for v in written.values())
        typer.echo(f"{privacy} export: {n_files} files in {out}")
        for name, paths in written.items():
            typer.echo(f"  {name}: {', '.join(str(p.relative_to(out)) for p in paths)}")
