"""``planner nearrepeat``: the Knox near-repeat table of an incident file."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from planner.cli import _options as opt


def _floats(text: str) -> list[float | str]:
    return [p.strip() if p.strip().lower() == "inf" else float(p) for p in text.split(",") if p.strip()]


def register(app: typer.Typer) -> None:
    """Add the ``nearrepeat`` command to ``app``."""

    @app.command("nearrepeat")
    def nearrepeat_command(
        path: Annotated[str, typer.Argument(help="Incident file (day resolution or finer).")],
        crs: opt.Crs = None,
        analysis_crs: opt.AnalysisCrs = None,
        column: opt.Column = None,
        category: opt.Category = None,
        only_category: opt.OnlyCategory = None,
        date_from: opt.DateFrom = None,
        date_to: opt.DateTo = None,
        distance_bands: Annotated[
            str,
            typer.Option("--distance-bands", help="Distance breaks in metres; 'inf' opens the last band."),
        ] = "0,0.01,100,200,300,400,inf",
        time_bands: Annotated[
            str, typer.Option("--time-bands", help="Time breaks in days.")
        ] = "0,7,14,21,28,inf",
        metric: Annotated[str, typer.Option("--metric", help="euclidean or manhattan.")] = "euclidean",
        permutations: Annotated[int, typer.Option("--permutations", min=0)] = 999,
        seed: Annotated[int, typer.Option("--seed")] = 0,
        as_json: opt.AsJson = False,
    ) -> None:
        """Knox test: observed pairs by distance × time band, Knox ratios (mean, median) and p-values, [a, b) bands."""
        from planner.hotspots.nearrepeat import knox_from_incidents

        cfg = opt.build_config(
            **opt.ingest_options(
                incidents=path,
                crs=crs,
                analysis_crs=analysis_crs,
                column=column,
                category=category,
                only_category=only_category,
                date_from=date_from,
                date_to=date_to,
            )
        )
        inc, _ = opt.load_incidents(cfg)
        r = knox_from_incidents(
            inc,
            distance_breaks_m=_floats(distance_bands),
            time_breaks_days=_floats(time_bands),
            metric=metric,
            permutations=permutations,
            rng=seed,
        )
        if as_json:
            typer.echo(json.dumps(r.to_dict()))
            return
        rows, cols = r.labels()
        typer.echo(f"{r.n_events} events, {permutations} permutations, {metric} distance")
        typer.echo("Knox ratio (observed / mean expected), * p ≤ 0.05:")
        typer.echo("".ljust(22) + "".join(c.ljust(18) for c in cols))
        for k, name in enumerate(rows):
            cells = [
                f"{r.knox_ratio_mean[k, m]:.2f}{'*' if r.p_value[k, m] <= 0.05 else ''} ({int(r.observed[k, m])})".ljust(
                    18
                )
                for m in range(len(cols))
            ]
            typer.echo(name.ljust(22) + "".join(cells))
