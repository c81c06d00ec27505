"""``planner nearrepeat``: the Knox near-repeat table of an incident file."""

from __future__ import annotations

import inspect
import json
from typing import Annotated, Any

import typer

from planner.cli import _options as opt


def _floats(text: str) -> list[float | str]:
    return [p.strip() if p.strip().lower() == "inf" else float(p) for p in text.split(",") if p.strip()]


DistanceBands = Annotated[
    str, typer.Option("--distance-bands", help="Distance breaks in metres; 'inf' opens the last band.")
]
TimeBands = Annotated[str, typer.Option("--time-bands", help="Time breaks in days.")]
Metric = Annotated[str, typer.Option("--metric", help="euclidean or manhattan.")]
Permutations = Annotated[int, typer.Option("--permutations", min=0, help="Permutations for the p-values.")]
Seed = Annotated[int, typer.Option("--seed", help="Seed of the permutations.")]
NEARREPEAT_OPTIONS = [
    inspect.Parameter(
        "path",
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        annotation=Annotated[str, typer.Argument(help="Incident file (day resolution or finer).")],
    ),
    *opt.INGEST_OPTIONS,
    opt.option("distance_bands", DistanceBands, "0,0.01,100,200,300,400,inf"),
    opt.option("time_bands", TimeBands, "0,7,14,21,28,inf"),
    opt.option("metric", Metric, "euclidean"),
    opt.option("permutations", Permutations, 999),
    opt.option("seed", Seed, 0),
    opt.option("as_json", opt.AsJson, False),
]


def register(app: typer.Typer) -> None:
    """Add the ``nearrepeat`` command to ``app``."""

    @opt.command(app, "nearrepeat", NEARREPEAT_OPTIONS)
    def nearrepeat_command(options: dict[str, Any]) -> None:
        """Knox test: observed pairs by distance × time band, Knox ratios (mean, median) and p-values, [a, b) bands."""
        from planner.hotspots.nearrepeat import knox_from_incidents

        cfg = opt.ingest_config(options, incidents=options["path"])
        distance_bands, time_bands = options["distance_bands"], options["time_bands"]
        metric, permutations, seed, as_json = (
            options[k] for k in ("metric", "permutations", "seed", "as_json")
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
