"""``planner hotspots``: grid, counts, KDE, Gi* (FDR) and hotspot polygons for one incident file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import typer


def load_incidents(path: str, *, crs: str | None, analysis_crs: str | None) -> Any:
    """Incidents in the analysis CRS via the ingest module (geographic input is transformed there)."""
    from planner import io

    return io.read_incidents(path, crs=crs, analysis_crs=analysis_crs).incidents


def load_boundary(path: str, crs: Any) -> Any:
    """The study-area polygon(s) from ``path``, dissolved, in ``crs``."""
    import geopandas as gpd

    from planner import io

    layer = io.read_layer(path, kind="boundary", analysis_crs=crs)
    return gpd.GeoDataFrame(geometry=[layer.union_all()], crs=crs)


def analyse(
    incidents: Any,
    *,
    boundary: Any = None,
    cell_size_m: float | None = None,
    kind: str = "square",
    neighbourhood: str = "queen",
    fdr: str = "bh",
    q: float = 0.05,
    kernel: str = "quartic",
    bandwidth_m: float | None = None,
) -> dict[str, Any]:
    """Run the hotspot stage (grid → counts → KDE → Gi* → hotspots) and collect its parameters."""
    from planner import grid
    from planner.hotspots import concentration, gistar, kde, polygons

    study_area = boundary if boundary is not None else grid.study_area_from_incidents(incidents)
    cs = cell_size_m or grid.auto_cell_size(study_area, n_incidents=len(incidents))
    cells = grid.count_incidents(grid.grid_from_boundary(study_area, cell_size_m=cs, kind=kind), incidents)
    years = polygons.period_years_of(incidents)
    surface = kde.kde_surface(
        incidents,
        cell_size_m=cs,
        bandwidth_m=bandwidth_m,
        kernel=kernel,
        period_years=years if math.isfinite(years) else None,
        mask=study_area,
    )
    cells = kde.kde_at_cells(cells, surface)
    cells = gistar.gistar_cells(cells, neighbourhood=neighbourhood, fdr=fdr, q=q)
    hotspots, cells = polygons.hotspots_from_cells(cells, incidents)
    params = {
        "n_incidents": len(incidents),
        "n_cells": len(cells),
        "cell_size_m": float(cs),
        "cell_size_rule": "given" if cell_size_m else "automatic",
        "grid_kind": kind,
        "study_area": "given boundary" if boundary is not None else "buffered hull of the incidents",
        "bandwidth_m": surface.params["bandwidth_m"],
        "bandwidth_rule": surface.params["bandwidth_rule"],
        "kernel": kernel,
        "period_years": years,
        "neighbourhood": neighbourhood,
        "fdr": fdr,
        "q": q,
        "min_bin": 2,
        "n_hotspots": len(hotspots),
    }
    return {
        "cells": cells,
        "hotspots": hotspots,
        "surface": surface,
        "params": params,
        "concentration": concentration.concentration_summary(cells["n_incidents"]),
    }


def write_outputs(result: dict[str, Any], out: Path) -> dict[str, str]:
    """Write ``hotspots.gpkg`` (layers ``cells``, ``hotspots``), ``density.tif`` and ``hotspots_params.json``."""
    out.mkdir(parents=True, exist_ok=True)
    gpkg = out / "hotspots.gpkg"
    meta = {k: json.dumps(v) if not isinstance(v, str) else v for k, v in result["params"].items()}
    for name in ("cells", "hotspots"):
        frame = result[name].copy()
        frame.attrs = {}
        frame.to_file(gpkg, layer=name, driver="GPKG", layer_metadata=meta)
    tif = result["surface"].to_geotiff(out / "density.tif")
    params_path = out / "hotspots_params.json"
    params_path.write_text(
        json.dumps(
            {"params": result["params"], "concentration": result["concentration"]}, indent=2, default=str
        )
    )
    return {"geopackage": str(gpkg), "density": str(tif), "params": str(params_path)}


def register(app: typer.Typer) -> None:
    """Add the ``hotspots`` command to ``app``."""

    @app.command("hotspots")
    def hotspots_command(
        path: str = typer.Argument(..., help="Incident file (CSV, GeoPackage, ...)."),
        crs: str | None = typer.Option(None, "--crs", help="CRS of bare x/y coordinates, e.g. EPSG:26971."),
        analysis_crs: str | None = typer.Option(
            None, "--analysis-crs", help="Projected metric CRS to work in."
        ),
        boundary: str | None = typer.Option(
            None, "--boundary", help="Study-area polygon file (default: hull)."
        ),
        cell_size_m: float | None = typer.Option(None, "--cell-size", help="Cell size in metres."),
        kind: str = typer.Option("square", "--kind", help="square or hex."),
        fdr: str = typer.Option("bh", "--fdr", help="bh, by, bonferroni or none."),
        q: float = typer.Option(0.05, "--q", help="FDR level."),
        out: Path | None = typer.Option(None, "--out", help="Folder for hotspots.gpkg and density.tif."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object to stdout."),
    ) -> None:
        """Find Gi* hotspots (global FDR) and print them; optionally write a GeoPackage and GeoTIFF."""
        incidents = load_incidents(path, crs=crs, analysis_crs=analysis_crs)
        area = load_boundary(boundary, incidents.crs) if boundary else None
        result = analyse(incidents, boundary=area, cell_size_m=cell_size_m, kind=kind, fdr=fdr, q=q)
        written = write_outputs(result, out) if out is not None else {}
        hs = result["hotspots"]
        cols = ["hotspot_id", "n_cells", "n_incidents", "share_of_incidents", "density_per_km2", "mean_gi_z"]
        if as_json:
            payload = {
                "params": result["params"],
                "concentration": result["concentration"],
                "hotspots": json.loads(hs[cols].to_json(orient="records")),
                "written": written,
            }
            typer.echo(json.dumps(payload, default=str))
            return
        p = result["params"]
        typer.echo(
            f"{p['n_incidents']} incidents, {p['n_cells']} {p['grid_kind']} cells of {p['cell_size_m']:g} m "
            f"({p['cell_size_rule']}), KDE {p['kernel']} bandwidth {p['bandwidth_m']:.0f} m "
            f"({p['bandwidth_rule']}), Gi* {p['neighbourhood']} with {p['fdr']} FDR q={p['q']}."
        )
        c = result["concentration"]
        typer.echo(
            f"Concentration: Gini {c['gini']:.3f}; top 1% of cells hold {c['top_1pct_share']:.1%}, "
            f"top 10% hold {c['top_10pct_share']:.1%} of incidents."
        )
        typer.echo(f"{len(hs)} hotspots:")
        if len(hs):
            typer.echo(hs[cols].head(20).to_string(index=False))
        for name, where in written.items():
            typer.echo(f"wrote {name}: {where}")
