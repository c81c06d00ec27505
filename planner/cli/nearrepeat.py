"""``planner nearrepeat``: the Knox near-repeat table of an incident file."""

from __future__ import annotations

import json

import typer


def _floats(text: str) -> list[float | str]:
    return [p.strip() if p.strip().lower() == "inf" else float(p) for p in text.split(",") if p.strip()]


def register(app: typer.Typer) -> None:
    """Add the ``nearrepeat`` command to ``app``."""

    @app.command("nearrepeat")
    def nearrepeat_command(
        path: str = typer.Argument(..., help="Incident file (day resolution or finer)."),
        crs: str | None = typer.Option(None, "--crs", help="CRS of bare coordinates."),
        distance_bands: str = typer.Option(
            "0,0.01,100,200,300,400,inf",
            "--distance-bands",
            help="Distance breaks in metres; 'inf' opens the last band.",
        ),
        time_bands: str = typer.Option("0,7,14,21,28,inf", "--time-bands", help="Time breaks in days."),
        metric: str = typer.Option("euclidean", "--metric", help="euclidean or manhattan."),
        permutations: int = typer.Option(999, "--permutations", min=0),
        seed: int = typer.Option(0, "--seed"),
        category: list[str] = typer.Option([], "--category", help="Only these categories (repeatable)."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Knox test: observed pairs by distance × time band, Knox ratios (mean, median) and p-values, [a, b) bands."""
        from planner.hotspots.nearrepeat import knox_from_incidents
        from planner.io import read_incidents

        inc = read_incidents(path, crs=crs).incidents
        if category:
            attrs = dict(inc.attrs)
            inc = inc[inc["category"].isin(category)]
            inc.attrs = attrs
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
