"""``planner evaluate``: fix an evaluation design before a measure starts, evaluate it afterwards."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from planner._hours import NIGHT_HOURS

evaluate_app = typer.Typer(help="Evaluation designs (WDQ, TNE, WDD, E-test, power).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``evaluate`` command group to ``app``."""
    app.add_typer(evaluate_app, name="evaluate")


@evaluate_app.command("design")
def design_command(
    treatment: Path = typer.Option(
        ..., "--treatment", help="Polygon file of the treatment area (projected or lon/lat)."
    ),
    start: str = typer.Option(..., "--start", help="Date the measure starts (YYYY-MM-DD)."),
    incidents: str = typer.Option(..., "--incidents", help="Incident file used to propose a control area."),
    out: Path = typer.Option(..., "--out", help="Design file to write (JSON); must not exist yet."),
    crs: str | None = typer.Option(None, "--crs", help="CRS of bare incident coordinates."),
    before_days: int = typer.Option(365, "--before-days", min=1),
    after_days: int = typer.Option(365, "--after-days", min=1),
    buffer_m: float | None = typer.Option(
        None, "--buffer-m", help="Buffer ring width (default: area-proportional)."
    ),
    category: list[str] = typer.Option([], "--category", help="Crime categories to count (repeatable)."),
    night_only: bool = typer.Option(False, "--night-only", help="Count only 19:00-07:00."),
    name: str = typer.Option("evaluation", "--name"),
    force: bool = typer.Option(
        False, "--force", help="Overwrite an existing design file (before the measure starts)."
    ),
) -> None:
    """Build the design (treatment, buffer, proposed control, periods) and save it before work starts."""
    from planner._hours import has_time_of_day
    from planner.errors import ConfigError
    from planner.evaluate.design import design_power, make_design, save_design
    from planner.io import read_incidents, read_layer

    inc = read_incidents(incidents, crs=crs).incidents
    resolution = inc.attrs.get("time_resolution")
    if night_only and not has_time_of_day(resolution):
        raise ConfigError(
            f"--night-only needs incidents with a time of day, but {incidents} has dates at {resolution} "
            "resolution (00:00 there means unknown, not night). Leave out --night-only."
        )
    area = read_layer(treatment, kind="treatment", analysis_crs=inc.crs)
    design = make_design(
        area,
        start=start,
        before_days=before_days,
        after_days=after_days,
        buffer_m=buffer_m,
        incidents=inc,
        categories=category or None,
        hours=list(NIGHT_HOURS) if night_only else None,
        name=name,
    )
    path = save_design(design, out, overwrite=force)
    power = design_power(design, inc)
    typer.echo(f"Saved design {path}. {power.to_dict().get('interpretation', '')}")


@evaluate_app.command("run")
def run_command(
    design: Path = typer.Argument(..., help="Design file written by 'planner evaluate design'."),
    incidents: str = typer.Option(
        ..., "--incidents", help="Incidents covering the before and after periods."
    ),
    crs: str | None = typer.Option(None, "--crs", help="CRS of bare incident coordinates."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Evaluate a saved design, unchanged: WDQ/TNE, WDD with interval, rate ratio, E-tests, power."""
    from planner.evaluate.design import evaluate_design
    from planner.io import read_incidents

    result = evaluate_design(design, read_incidents(incidents, crs=crs).incidents)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), default=str))
    else:
        typer.echo(result.counts.to_string())
        typer.echo(result.interpretation)
