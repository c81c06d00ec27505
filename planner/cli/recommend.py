"""``planner recommend`` and ``planner portfolio``: ranked measures per hotspot, and the best set under a budget."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any

import typer

from planner.cli import _options as opt


def _plan_folder(path: Path) -> Path:
    """A run folder, given as the folder or as its ``plan.gpkg``."""
    return path.parent if path.suffix.lower() == ".gpkg" else path


PlanPath = Annotated[Path, typer.Argument(help="Folder written by 'planner run' (or its plan.gpkg).")]
RecsOut = Annotated[Path, typer.Option("--out", help="CSV of ranked measures per hotspot.")]
ReachLayer = Annotated[
    list[str] | None,
    typer.Option(
        "--layer",
        help="Layer as KIND=PATH[::LAYER] to measure which crimes a measure reaches (car_parks, "
        "street_lights, lighting raster); repeatable; default: the layers the run used.",
    ),
]
Seed = Annotated[int | None, typer.Option("--seed", help="Monte Carlo seed (default: the run's).")]
RECOMMEND_OPTIONS = [
    inspect.Parameter("plan_path", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=PlanPath),
    opt.option("out", RecsOut, inspect.Parameter.empty),
    opt.option("layer", ReachLayer),
    opt.option("layers_dir", opt.LayersDir),
    opt.option("jurisdiction", opt.Jurisdiction),
    opt.option("currency", opt.Currency),
    opt.option("rank_by", opt.RankBy),
    opt.option("allow_access_restriction", opt.AllowAccessRestriction, False),
    opt.option("allow_surveillance_priority", opt.AllowSurveillancePriority, False),
    opt.option("seed", Seed),
]


def register(app: typer.Typer) -> None:
    """Add the ``recommend`` and ``portfolio`` commands to ``app``."""

    @opt.command(app, "recommend", RECOMMEND_OPTIONS)
    def recommend_command(options: dict[str, Any]) -> None:
        """Rank situational measures for every hotspot (crimes prevented, cost, benefit-cost with intervals)."""
        import dataclasses

        from planner.export import read_plan
        from planner.export.stage_files import write_table
        from planner.pipeline import add_recommendations, run_layers

        plan = read_plan(_plan_folder(options["plan_path"]))
        overrides = {
            key: options[key] or None
            for key in (
                "jurisdiction",
                "currency",
                "rank_by",
                "allow_access_restriction",
                "allow_surveillance_priority",
            )
        }
        overrides["seed"] = options["seed"]
        base = plan.config.model_dump()
        if options["jurisdiction"] is not None:
            base.pop("currency")  # the run's resolved currency belongs to its jurisdiction
        dirs = [*plan.config.layer_dirs, *(str(d) for d in options["layers_dir"] or [])]
        cfg = opt.build_config(
            **{
                **base,
                "budget": None,
                "layer_dirs": list(dict.fromkeys(dirs)),
                "layers": {**plan.config.layers, **opt.parse_layers(options["layer"], layer_dirs=dirs)},
                **{k: v for k, v in overrides.items() if v is not None},
            }
        )
        plan = add_recommendations(dataclasses.replace(plan, config=cfg, layers=run_layers(cfg, plan.crs)))
        recs = plan.recommendations
        if recs is None or not len(recs):
            typer.echo("No hotspots, so no measures to rank.")
            return
        write_table(recs, options["out"])
        assumptions = recs.attrs.get("assumptions", {})
        unit = assumptions.get("currency") or "no costs"
        for _, r in recs[recs["rank"] == 1].iterrows():
            note = r.get("hotspot_note")
            if isinstance(note, str) and note:  # no situational measure pays back there
                typer.echo(f"{r['hotspot_id']}: {note}")
                continue
            typer.echo(
                f"{r['hotspot_id']}: {r['name']} — {r['prevented_per_year']:.1f} crimes/yr prevented "
                f"(90% {r['prevented_low']:.1f}–{r['prevented_high']:.1f}), BCR {r['bcr']:.1f} ({unit})"
            )
        typer.echo(
            f"wrote {len(recs)} ranked measures to {options['out']} ({assumptions.get('jurisdiction_how')})"
        )

    @app.command("portfolio")
    def portfolio_command(
        *,
        recommendations: Annotated[
            Path, typer.Argument(help="CSV written by 'planner recommend' or 'planner run'.")
        ],
        budget: Annotated[
            float, typer.Option("--budget", min=0, help="Budget (present value, same currency).")
        ],
        out: Annotated[Path | None, typer.Option("--out", help="CSV of the chosen measures.")] = None,
        objective: Annotated[
            str, typer.Option("--objective", help="net_benefit or prevented.")
        ] = "net_benefit",
        max_surveillance_share: Annotated[
            float | None, typer.Option("--max-surveillance-share", min=0, max=1)
        ] = None,
        min_per_ward: Annotated[
            int | None,
            typer.Option(
                "--min-per-ward", min=0, help="At least N measures per ward (needs a ward_id column)."
            ),
        ] = None,
    ) -> None:
        """Choose the best set of measures under a budget (exact mixed-integer optimum)."""
        import pandas as pd

        from planner.export.stage_files import write_table
        from planner.interventions.portfolio import choose_portfolio

        cfg = opt.build_config(
            budget=budget,
            objective=objective,
            max_surveillance_share=max_surveillance_share,
            min_per_ward=min_per_ward,
        )
        chosen = choose_portfolio(
            pd.read_csv(recommendations),
            budget=budget,
            objective=cfg.objective,
            max_surveillance_share=cfg.max_surveillance_share,
            min_per_ward=cfg.min_per_ward,
        )
        if out is not None:
            write_table(chosen, out)
        for _, r in chosen.iterrows():
            typer.echo(
                f"{r['hotspot_id']}: {r['name']} ({r['quantity']:g} {r['unit']}) cost {r['cost']:,.0f}"
            )
        typer.echo(
            f"{len(chosen)} measures, cost {chosen.attrs['total_cost']:,.0f} of {budget:,.0f}; "
            f"expected {chosen.attrs['total_prevented_per_year']:.1f} crimes prevented per year"
        )
