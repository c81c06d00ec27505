"""``planner recommend`` and ``planner portfolio``: ranked measures per hotspot, and the best set under a budget."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``recommend`` and ``portfolio`` commands to ``app``."""

    @app.command("recommend")
    def recommend_command(
        plan_gpkg: Path = typer.Argument(
            ..., help="plan.gpkg written by 'planner run' (layers hotspots and incidents)."
        ),
        out: Path = typer.Option(..., "--out", help="CSV of ranked measures per hotspot."),
        currency: str = typer.Option("GBP", "--currency", help="GBP or USD."),
        allow_access_restriction: bool = typer.Option(
            False, "--allow-access-restriction", help="Include gating (needs consultation)."
        ),
        allow_surveillance_priority: bool = typer.Option(
            False,
            "--allow-surveillance-priority",
            help="Let cameras outrank similar non-surveillance measures.",
        ),
        seed: int = typer.Option(0, "--seed", help="Monte Carlo seed."),
    ) -> None:
        """Rank situational measures for every hotspot (crimes prevented, cost, benefit-cost with intervals)."""
        import geopandas as gpd

        from planner.interventions.recommend import recommend

        hotspots = gpd.read_file(plan_gpkg, layer="hotspots")
        incidents = gpd.read_file(plan_gpkg, layer="incidents")
        recs = recommend(
            hotspots,
            incidents,
            currency=currency,
            allow_access_restriction=allow_access_restriction,
            allow_surveillance_priority=allow_surveillance_priority,
            random_state=seed,
        )
        recs.drop(columns="geometry").to_csv(out, index=False)
        top = recs[recs["rank"] == 1]
        for _, r in top.iterrows():
            typer.echo(
                f"{r['hotspot_id']}: {r['name']} — {r['prevented_per_year']:.1f} crimes/yr prevented "
                f"(90% {r['prevented_low']:.1f}–{r['prevented_high']:.1f}), BCR {r['bcr']:.1f}"
            )
        typer.echo(f"wrote {len(recs)} ranked measures to {out}")

    @app.command("portfolio")
    def portfolio_command(
        recommendations: Path = typer.Argument(
            ..., help="CSV written by 'planner recommend' or 'planner run'."
        ),
        budget: float = typer.Option(..., "--budget", min=0, help="Budget (present value, same currency)."),
        out: Path | None = typer.Option(None, "--out", help="CSV of the chosen measures."),
        objective: str = typer.Option("net_benefit", "--objective", help="net_benefit or prevented."),
        max_surveillance_share: float | None = typer.Option(None, "--max-surveillance-share", min=0, max=1),
        min_per_ward: int | None = typer.Option(
            None, "--min-per-ward", min=0, help="At least N measures per ward (needs a ward_id column)."
        ),
    ) -> None:
        """Choose the best set of measures under a budget (exact mixed-integer optimum)."""
        import pandas as pd

        from planner.interventions.portfolio import choose_portfolio

        recs = pd.read_csv(recommendations)
        chosen = choose_portfolio(
            recs,
            budget=budget,
            objective=objective,
            max_surveillance_share=max_surveillance_share,
            min_per_ward=min_per_ward,
        )
        if out is not None:
            chosen.to_csv(out, index=False)
        for _, r in chosen.iterrows():
            typer.echo(
                f"{r['hotspot_id']}: {r['name']} ({r['quantity']:g} {r['unit']}) cost {r['cost']:,.0f}"
            )
        typer.echo(
            f"{len(chosen)} measures, cost {chosen.attrs['total_cost']:,.0f} of {budget:,.0f}; "
            f"expected {chosen.attrs['total_prevented_per_year']:.1f} crimes prevented per year"
        )
