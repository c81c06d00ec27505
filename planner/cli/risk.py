"""``planner risk``: risk terrain model (RRV table and relative-risk surface) for gridded counts."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from planner.errors import ConfigError


def register(app: typer.Typer) -> None:
    """Add the ``risk`` command to ``app``."""

    @app.command("risk")
    def risk_command(
        cells: str = typer.Option(..., "--cells", help="Cells with incident counts as FILE[::LAYER]."),
        layer: list[str] = typer.Option([], "--layer", help="Environmental layer as KIND=PATH (repeatable)."),
        y: str = typer.Option("n_incidents", "--y", help="Column of incident counts in the cells."),
        distances: str = typer.Option(
            "100,200,400", "--distances", help="Distances in metres, comma-separated."
        ),
        family: str = typer.Option("auto", "--family", help="auto, poisson or negative_binomial."),
        seed: int = typer.Option(20261128, "--seed", help="Seed for the cross-validation folds."),
        layer_crs: str | None = typer.Option(None, "--layer-crs", help="CRS of x/y in CSV layers."),
        out: Path = typer.Option(..., "--out", help="Folder for risk_factors.csv, risk.tif, risk.gpkg."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object to stdout."),
    ) -> None:
        """Fit a risk terrain model: which layers raise risk and by how much (RRV with 95 % CI)."""
        from planner.cli.exposure import read_layers, read_polygons
        from planner.risk import RiskTerrain

        try:
            dist = tuple(float(d) for d in distances.split(",") if d.strip())
        except ValueError:
            raise ConfigError(
                f"--distances {distances!r} must be numbers of metres like 100,200,400."
            ) from None
        grid = read_polygons(cells)
        layers = read_layers(layer, crs=grid.crs, layer_crs=layer_crs)
        if not layers:
            raise ConfigError("Give at least one --layer KIND=PATH to test as a risk factor.")
        model = RiskTerrain(distances_m=dist, family=family, random_state=seed).fit(grid, layers, y=y)
        rrs = model.predict(grid, layers)
        out.mkdir(parents=True, exist_ok=True)
        table_path = out / "risk_factors.csv"
        model.factors_.to_csv(table_path, index=False)
        tif = model.to_surface(grid, scores=rrs).to_geotiff(out / "risk.tif")
        gpkg = out / "risk.gpkg"
        scored = grid.assign(risk_rrs=rrs)
        scored.attrs = {}
        scored.to_file(gpkg, layer="cells", driver="GPKG")
        shown = ["factor", "operationalisation", "distance_m", "rrv", "rrv_low", "rrv_high", "p_value"]
        if as_json:
            payload = {
                "family": model.family_,
                "bic": model.bic_,
                "factors": json.loads(model.factors_[[*shown, "deficit"]].to_json(orient="records")),
                "written": {"risk_factors": str(table_path), "surface": str(tif), "cells": str(gpkg)},
            }
            typer.echo(json.dumps(payload))
            return
        typer.echo(f"Risk terrain ({model.family_}, BIC {model.bic_:.1f}) on {len(grid)} cells:")
        typer.echo(
            model.factors_[shown].round(3).to_string(index=False)
            if len(model.factors_)
            else "no factors retained"
        )
        typer.echo(f"wrote {table_path}, {tif}, {gpkg}")
