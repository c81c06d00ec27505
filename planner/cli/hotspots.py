"""``planner hotspots``: grid, counts, KDE, Gi* (FDR) and hotspot polygons for one incident file.

The same ingest, defaults and hotspot stage as ``planner run`` (it is ``planner run`` stopped after
the hotspot stage), so both give identical hotspots for the same file and options.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from planner.cli import _options as opt
from planner.cli import _outputs as opt_out

SHOWN = ["hotspot_id", "n_cells", "n_incidents", "share_of_incidents", "density_per_km2", "mean_gi_z"]


GridKind = Annotated[str | None, typer.Option("--kind", help="Grid cells: square (default) or hex.")]
Fdr = Annotated[str | None, typer.Option("--fdr", help="bh (default), by, bonferroni or none.")]
Q = Annotated[float | None, typer.Option("--q", help="FDR level (default 0.05).")]
Out = Annotated[
    Path | None, typer.Option("--out", help="Folder for plan.gpkg, density.tif, map.html, manifest.json.")
]
HOTSPOTS_OPTIONS = [
    inspect.Parameter("path", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=opt.IncidentsArg),
    *opt.INGEST_OPTIONS,
    *opt.HOTSPOT_OPTIONS,
    opt.option("grid_kind", GridKind),
    opt.option("fdr", Fdr),
    opt.option("q", Q),
    opt.option("config", opt.ConfigFile),
    opt.option("out", Out),
    opt.option("overwrite", opt_out.Overwrite, False),
    opt.option("as_json", opt.AsJson, False),
]


def register(app: typer.Typer) -> None:
    """Add the ``hotspots`` command to ``app``."""

    @opt.command(app, "hotspots", HOTSPOTS_OPTIONS)
    def hotspots_command(options: dict[str, Any]) -> None:
        """Find Gi* hotspots (global FDR) and print them; optionally write the plan folder."""
        from planner.export import write_run_outputs
        from planner.pipeline import run

        if options.get("out") is not None:
            opt_out.check_out(options["out"], overwrite=options["overwrite"])  # before the work
        cfg = opt.config_from_options(options, incidents=options["path"])
        out, as_json = options.get("out"), options.get("as_json")
        plan = run(cfg, stages=())
        written = {}
        if out is not None:
            written = {
                k: str(v) for k, v in write_run_outputs(plan, out, overwrite=options["overwrite"]).items()
            }
        if as_json:
            payload = {
                "params": plan.params,
                "concentration": plan.params.get("concentration"),
                "hotspots": json.loads(plan.hotspots[SHOWN].to_json(orient="records")),
                "written": written,
                "warnings": plan.warnings,
            }
            typer.echo(json.dumps(payload, default=str))
            return
        _print_summary(plan.params, plan.hotspots, written)
        for note in plan.warnings:
            typer.echo(f"warning: {note}", err=True)


def _print_summary(p: dict[str, Any], hs: Any, written: dict[str, str]) -> None:
    typer.echo(
        f"{p['n_incidents']} incidents, {p['n_cells']} {p['grid_kind']} cells of {p['cell_size_m']:g} m "
        f"({p['cell_size_rule']}), KDE {p['kernel']} bandwidth {p['bandwidth_m']:.0f} m "
        f"({p['bandwidth_rule']}), Gi* {p['neighbourhood']} with {p['fdr']} FDR q={p['q']}."
    )
    c = p["concentration"]
    typer.echo(
        f"Concentration: Gini {c['gini']:.3f}; top 1% of cells hold {c['top_1pct_share']:.1%}, "
        f"top 10% hold {c['top_10pct_share']:.1%} of incidents."
    )
    typer.echo(f"{len(hs)} hotspots:")
    if len(hs):
        typer.echo(hs[SHOWN].head(20).to_string(index=False))
    for name, where in written.items():
        typer.echo(f"wrote {name}: {where}")
