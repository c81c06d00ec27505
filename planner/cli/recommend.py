"""``planner recommend`` and ``planner portfolio``: ranked measures per hotspot, and the best set under a budget."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer


def _read_plan(plan_gpkg: Path) -> tuple[Any, Any, Any]:
    """Hotspots, incidents and (if present) cells of a plan.gpkg; a clear error when it is not one."""
    import geopandas as gpd
    import pyogrio

    from planner.errors import DataLoadError

    try:
        names = {str(n) for n in pyogrio.list_layers(plan_gpkg)[:, 0]}
    except Exception as exc:
        raise DataLoadError(
            f"{plan_gpkg} could not be read as a GeoPackage ({exc}); give the plan.gpkg of 'planner run'."
        ) from None
    missing = sorted({"hotspots", "incidents"} - names)
    if missing:
        raise DataLoadError(
            f"{plan_gpkg} has no layer(s) {missing}; give the plan.gpkg written by 'planner run'."
        )
    incidents = gpd.read_file(plan_gpkg, layer="incidents")
    if "occurred_at" in incidents.columns:
        import pandas as pd

        from planner.fitness import time_resolution

        incidents["occurred_at"] = pd.to_datetime(incidents["occurred_at"])
        incidents.attrs["time_resolution"] = time_resolution(incidents["occurred_at"])
    cells = gpd.read_file(plan_gpkg, layer="cells") if "cells" in names else None
    return gpd.read_file(plan_gpkg, layer="hotspots"), incidents, cells


def _read_layers(items: list[str], crs: Any) -> dict[str, Any]:
    """``--layer KIND=PATH`` options read into the hotspots' CRS (rasters as surfaces)."""
    from planner import io
    from planner.errors import ConfigError

    layers: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--layer {item!r} must look like KIND=PATH, e.g. car_parks=car_parks.gpkg.")
        kind, ref = (part.strip() for part in item.split("=", 1))
        path, _, name = ref.partition("::")
        if Path(path).suffix.lower() in {".tif", ".tiff"}:
            layers[kind] = io.read_raster(path)
            continue
        layers[kind] = io.read_layer(path, kind=kind, analysis_crs=crs, layer=name or _layer_name(path, kind))
    return layers


def _layer_name(path: str, kind: str) -> str | None:
    """The layer of a multi-layer file to read for ``kind``: the one named ``kind``, else an error."""
    import pyogrio

    from planner.errors import ConfigError

    try:
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except Exception:  # unreadable here: read_layer reports it with its own clear message
        return None
    if len(names) <= 1:
        return None
    if kind in names:
        return kind
    raise ConfigError(
        f"{path} holds {len(names)} layers ({', '.join(names)}); name the one to use as "
        f"--layer {kind}={path}::LAYER."
    )


def register(app: typer.Typer) -> None:
    """Add the ``recommend`` and ``portfolio`` commands to ``app``."""

    @app.command("recommend")
    def recommend_command(
        plan_gpkg: Path = typer.Argument(
            ..., help="plan.gpkg written by 'planner run' (layers hotspots, incidents and cells)."
        ),
        out: Path = typer.Option(..., "--out", help="CSV of ranked measures per hotspot."),
        layer: list[str] = typer.Option(
            [],
            "--layer",
            help="Layer as KIND=PATH to measure which crimes a measure reaches (car_parks, street_lights, "
            "lighting raster); repeatable.",
        ),
        jurisdiction: str = typer.Option(
            "auto", "--jurisdiction", help="auto (from the location), UK, US, CA or none (no costs)."
        ),
        currency: str | None = typer.Option(
            None, "--currency", help="GBP, USD or CAD (default: the jurisdiction's)."
        ),
        rank_by: str = typer.Option(
            "net_benefit_per_cost",
            "--rank-by",
            help="net_benefit_per_cost, net_benefit, bcr, prevented or p_benefit_exceeds_cost.",
        ),
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
        from planner.interventions.recommend import recommend

        hotspots, incidents, cells = _read_plan(plan_gpkg)
        recs = recommend(
            hotspots,
            incidents,
            layers=_read_layers(layer, hotspots.crs),
            cells=cells,
            jurisdiction=jurisdiction,
            currency=currency,
            rank_by=rank_by,
            allow_access_restriction=allow_access_restriction,
            allow_surveillance_priority=allow_surveillance_priority,
            random_state=seed,
        )
        recs.drop(columns="geometry").to_csv(out, index=False)
        unit = recs.attrs["assumptions"].get("currency") or "no costs"
        for _, r in recs[recs["rank"] == 1].iterrows():
            typer.echo(
                f"{r['hotspot_id']}: {r['name']} — {r['prevented_per_year']:.1f} crimes/yr prevented "
                f"(90% {r['prevented_low']:.1f}–{r['prevented_high']:.1f}), BCR {r['bcr']:.1f} ({unit})"
            )
        typer.echo(
            f"wrote {len(recs)} ranked measures to {out} ({recs.attrs['assumptions']['jurisdiction_how']})"
        )

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
