"""``planner evaluate``: fix an evaluation design before a measure starts, evaluate it afterwards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from planner._hours import NIGHT_HOURS
from planner.errors import ConfigError

evaluate_app = typer.Typer(help="Evaluation designs (WDQ, TNE, WDD, E-test, power).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``evaluate`` command group to ``app``."""
    app.add_typer(evaluate_app, name="evaluate")


@evaluate_app.command("design")
def design_command(
    *,
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
    from planner.evaluate.design import AreaChoice, CrimeSelection, Periods, make_design, save_design
    from planner.evaluate.results import design_power
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
        periods=Periods(before_days=before_days, after_days=after_days),
        incidents=inc,
        crimes=CrimeSelection(categories=category or None, hours=list(NIGHT_HOURS) if night_only else None),
        areas=AreaChoice(buffer_m=buffer_m),
        name=name,
    )
    path = save_design(design, out, overwrite=force)
    power = design_power(design, inc)
    typer.echo(f"Saved design {path}. {power.to_dict().get('interpretation', '')}")


METHODS = ("wdd", "microsynth")


@evaluate_app.command("run")
def run_command(
    *,
    design: Path = typer.Argument(..., help="Design file written by 'planner evaluate design'."),
    incidents: str = typer.Option(
        ..., "--incidents", help="Incidents covering the before and after periods."
    ),
    crs: str | None = typer.Option(None, "--crs", help="CRS of bare incident coordinates."),
    method: str = typer.Option(
        "wdd",
        "--method",
        help="wdd: WDQ/TNE, WDD, rate ratio, E-tests (design's areas); microsynth: micro-synthetic "
        "control of the treatment area and its buffer from many small units.",
    ),
    boundary: str | None = typer.Option(
        None,
        "--boundary",
        help="microsynth: study-area polygon (FILE or FILE::LAYER); default incident hull.",
    ),
    units: str | None = typer.Option(
        None, "--units", help="microsynth: polygons or street lines to use as units (default: grid cells)."
    ),
    cell_size_m: float | None = typer.Option(
        None, "--cell-size-m", min=1, help="microsynth: grid cell side."
    ),
    placebos: int = typer.Option(250, "--placebos", min=0, help="microsynth: placebo areas (≥ 250 advised)."),
    test: str = typer.Option("twosided", "--test", help="microsynth: twosided, lower (reductions) or upper."),
    seed: int = typer.Option(20261128, "--seed", help="microsynth: seed of placebos, jackknife and splits."),
    placebo_areas: str = typer.Option(
        "contiguous",
        "--placebo-areas",
        help="microsynth: contiguous placebo areas (default) or random units (R's; see docs/MICROSYNTH.md).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Evaluate a saved design, unchanged: WDQ/TNE, WDD, rate ratio, E-tests, power — or a
    micro-synthetic control (Trt/Con/% change with permutation, jackknife and linearized intervals).
    """
    from planner.io import read_incidents

    if method not in METHODS:
        raise ConfigError(f"--method must be one of {', '.join(METHODS)}; got {method!r}.")
    inc = read_incidents(incidents, crs=crs).incidents
    if method == "microsynth":
        from planner.evaluate.microsynth import MicrosynthOptions

        _run_microsynth(
            design,
            inc,
            boundary=boundary,
            units=units,
            options=MicrosynthOptions(
                cell_size_m=cell_size_m, n_placebos=placebos, test=test, seed=seed, placebo=placebo_areas
            ),
            as_json=as_json,
        )
        return
    from planner.evaluate.results import evaluate_design

    result = evaluate_design(design, inc)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), default=str))
    else:
        typer.echo(result.counts.to_string())
        typer.echo(result.interpretation)


def _read_polygons(ref: str, *, kind: str, crs: object) -> Any:
    from planner.io import read_layer

    path, _, layer = ref.partition("::")
    return read_layer(path, kind=kind, layer=layer or None, analysis_crs=crs)


def _run_microsynth(
    design: Path,
    inc: Any,
    *,
    boundary: str | None,
    units: str | None,
    options: Any,
    as_json: bool,
) -> None:
    from planner.evaluate.microsynth import effects_summary, evaluate_microsynth

    crs = getattr(inc, "crs", None)
    area = _read_polygons(boundary, kind="boundary", crs=crs) if boundary else None
    unit_layer = _read_polygons(units, kind="units", crs=crs) if units else None
    result = evaluate_microsynth(
        design,
        inc,
        options=options,
        study_area=area,
        units=unit_layer,
    )
    if as_json:
        typer.echo(json.dumps(result.to_dict(), default=str))
        return
    table = effects_summary(result).rename(columns={"change": "% change"})
    typer.echo(table.to_string(index=False))
    for name, area_result in result.areas.items():
        omni = area_result.omnibus
        if omni.get("p_perm") is not None:
            typer.echo(
                f"Omnibus ({name}, {', '.join(omni['outcomes'])}): permutation p = {omni['p_perm']:.3f}"
            )
        for note in area_result.fit["notes"]:
            typer.echo(f"Note ({name}): {note}")
    typer.echo(result.interpretation)


@evaluate_app.command("microsynth-panel")
def microsynth_panel_command(  # noqa: PLR0913 - one option per R microsynth argument
    *,
    panel: Path = typer.Argument(..., help="CSV (optionally .gz) with one row per area and period."),
    id_col: str = typer.Option(..., "--id", help="Column of the area id."),
    time_col: str = typer.Option(..., "--time", help="Column of the period (numbers or sortable text)."),
    intervention: str = typer.Option(..., "--intervention", help="Column flagging treated areas (non-zero)."),
    end_pre: str = typer.Option(..., "--end-pre", help="Last period before the start (a value of --time)."),
    end_post: str | None = typer.Option(None, "--end-post", help="Last period evaluated (default: last)."),
    outcome: list[str] = typer.Option(..., "--outcome", help="Count column to evaluate (repeatable)."),
    covariate: list[str] = typer.Option([], "--covariate", help="Area covariate to match (repeatable)."),
    placebos: int = typer.Option(250, "--placebos", min=0, help="Placebo areas (R: 250)."),
    jackknife: int | None = typer.Option(
        None, "--jackknife", min=0, help="Jackknife groups (default one per treated area; 0: none)."
    ),
    test: str | None = typer.Option(None, "--test", help="twosided (default), lower or upper."),
    compat: str | None = typer.Option(None, "--compat", help="r: R microsynth's settings exactly."),
    seed: int = typer.Option(20261128, "--seed"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Micro-synthetic control of an area × period table (R microsynth's interface): Trt, Con,
    % change, linearised / jackknife / permutation intervals and p-values, and the balance.
    """
    import pandas as pd

    from planner.errors import DataLoadError
    from planner.evaluate.msynth_panel import microsynth_panel

    try:
        frame = pd.read_csv(panel)
    except (OSError, ValueError) as exc:
        raise DataLoadError(f"Could not read {panel} as CSV: {exc}") from exc
    numeric = time_col in frame and pd.api.types.is_numeric_dtype(frame[time_col])

    def period(text: str | None) -> Any:
        if text is None or not numeric:
            return text
        try:
            value = float(text)
        except ValueError as exc:
            raise ConfigError(
                f"--end-pre/--end-post must be a period of {time_col!r} (a number); got {text!r}."
            ) from exc
        return int(value) if value.is_integer() else value

    result = microsynth_panel(
        frame,
        id=id_col,
        time=time_col,
        intervention=intervention,
        end_pre=period(end_pre),
        end_post=period(end_post),
        outcomes=outcome,
        covariates=covariate,
        n_placebos=placebos,
        n_jackknife=jackknife,
        test=test,
        compat=compat,
        seed=seed,
    )
    if as_json:
        typer.echo(json.dumps(result.to_dict(), default=str))
        return
    typer.echo(result.effects.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    omni = result.result.omnibus
    if omni.get("p_perm") is not None:
        typer.echo(f"Omnibus ({', '.join(omni['outcomes'])}): permutation p = {omni['p_perm']:.3f}")
    fit = result.result.fit
    typer.echo(
        f"Balance: {'exact' if fit['exact'] else 'closest fit'} on {fit['n_constraints']} constraints "
        f"(largest relative gap {fit['max_rel_imbalance']:.1e}). Settings: {result.settings}"
    )
    for note in fit["notes"]:
        typer.echo(f"Note: {note}")
