"""``planner backtest``: which surface best predicts where next year's incidents happen.

Rolling yearly splits (:func:`planner.evaluate.forecast.yearly_splits`): every surface is trained on
the years before a split and scored on the year after it. The surface the plan would use is chosen
on the validation years (the splits before the test year) and then scored on the test year next
to last year's counts, so the report says whether it held up on data it was not chosen on.
"""

from __future__ import annotations

import inspect
import json
from typing import Annotated, Any

import typer

from planner.cli import _options as opt
from planner.cli.exposure import LayerCrs
from planner.errors import ConfigError, InsufficientDataError


def default_split(incidents: Any) -> Any:
    """The latest yearly split: one year before the day after the last incident."""
    from planner.evaluate.forecast import yearly_splits

    splits = yearly_splits(incidents["occurred_at"])
    if not splits:
        raise InsufficientDataError(
            "A yearly backtest needs at least two years of dated incidents; these span less. "
            "Give more years of data (or --split-date inside the data)."
        )
    return splits[-1]


def _test_verdict(scores: Any, choice: Any, split: str, coverages: tuple[float, ...]) -> dict[str, Any]:
    """The chosen surface's PAI on the test year next to last year's counts, coverage by coverage."""
    test = scores[scores["split"] == split]
    rows = {}
    for c in coverages:
        at = test[(test["coverage"] - c).abs() < 1e-9].set_index("method")["pai"]
        chosen = float(at.get(choice.method, float("nan")))
        naive = float(at.get("naive", float("nan")))
        rows[f"{c:g}"] = {"chosen": chosen, "naive": naive, "at_least_as_good": bool(chosen >= naive - 1e-12)}
    return {"split": split, "surface": choice.method, "pai": rows}


def _print_report(scores: Any, choice: Any, test: dict[str, Any], info: dict[str, Any]) -> None:
    typer.echo(
        f"Rolling yearly backtest on {info['n_cells']} cells of {info['cell_size_m']:g} m: each surface is "
        f"trained on the years before a split and scored on the year after it (top ⌊N·coverage⌋ cells, "
        f"ties as open_cp). Test year from {test['split']}; validation years from "
        f"{', '.join(info['validation']) or 'none'}."
    )
    table = scores.pivot_table(
        index=["split", "method"], columns="coverage", values=["pai", "pei", "hit_rate"]
    )
    table.columns = [f"{m}@{c:.0%}" for m, c in table.columns]
    typer.echo(table.to_string(float_format=lambda v: f"{v:.3f}"))
    typer.echo("")
    typer.echo(f"Chosen on the validation years: {choice.method}. {choice.reason}")
    if not info["validation"]:
        typer.echo("(No earlier year to validate on: the choice was made on the test year itself.)")
    parts = [
        f"{float(k):.0%}: PAI {v['chosen']:.2f} vs {v['naive']:.2f} for last year's counts"
        + ("" if v["at_least_as_good"] else " (worse)")
        for k, v in test["pai"].items()
    ]
    typer.echo(f"Test year {test['split']}, {choice.method}: " + "; ".join(parts) + ".")
    beaten = [m for m in scores[scores["split"] == test["split"]]["method"].unique() if m != "naive"]
    at_test = scores[scores["split"] == test["split"]].pivot_table(
        index="method", columns="coverage", values="pai"
    )
    if "naive" in at_test.index and not any((at_test.loc[m] > at_test.loc["naive"]).all() for m in beaten):
        typer.echo("On the test year nothing beat last year's counts at every coverage.")


def _test_split(incidents: Any, split_date: str | None) -> Any:
    """``--split-date`` as a timestamp (default: the latest yearly split)."""
    import pandas as pd

    if split_date is None:
        return default_split(incidents)
    try:
        return pd.Timestamp(split_date)
    except (TypeError, ValueError):
        raise ConfigError(f"--split-date {split_date!r} is not a date; use e.g. 2017-01-01.") from None


def _run(
    cfg: Any, *, split_date: str | None, coverages: tuple[float, ...], layer_crs: str | None
) -> tuple[Any, Any, dict[str, Any], dict[str, Any]]:
    """Read, backtest, choose on the validation years, score on the test year."""
    from planner import grid
    from planner.evaluate import forecast
    from planner.io import read_layers

    for c in coverages:
        if not 0 < c <= 1:
            raise ConfigError(f"--coverage {c} must be a fraction of the area in (0, 1], e.g. 0.01.")
    incidents, study_area = opt.load_incidents(cfg)
    test_split = _test_split(incidents, split_date)
    splits = forecast.yearly_splits(incidents["occurred_at"], last=test_split)
    if not splits:
        raise InsufficientDataError(
            f"--split-date {test_split.date()} leaves less than a year of incidents before it; choose a later date."
        )
    layers = None
    if cfg.layers:
        layers = read_layers(cfg.layers, analysis_crs=incidents.crs, crs=layer_crs or incidents.crs)
    cs = cfg.cell_size_m or grid.auto_cell_size(study_area, n_incidents=len(incidents))
    cells = grid.grid_from_boundary(study_area, cell_size_m=cs, kind=cfg.grid_kind)
    options = forecast.ForecastOptions(
        coverages=tuple(sorted({*coverages, *forecast.CHOICE_COVERAGES})), layers=layers
    )
    every = forecast.rolling_backtest(incidents, cells, splits=splits, options=options)
    test_key = str(test_split.date())
    validation = every[every["split"] < test_key]
    choice = forecast.choose_surface(validation if len(validation) else every)
    scores = every[every["coverage"].round(6).isin([round(c, 6) for c in coverages])]
    info = {
        "n_cells": len(cells),
        "cell_size_m": float(cs),
        "validation": sorted(validation["split"].unique().tolist()),
        "layers": sorted(layers or {}),
    }
    return scores, choice, _test_verdict(scores, choice, test_key, coverages), info


SplitDate = Annotated[
    str | None,
    typer.Option(
        "--split-date",
        help="First day of the test year (default: one year before the end of the data); the "
        "years before it are the validation years.",
    ),
]
Coverage = Annotated[
    list[float] | None,
    typer.Option("--coverage", help="Area coverage fraction (repeatable; default 0.01, 0.02, 0.05)."),
]
BACKTEST_OPTIONS = [
    inspect.Parameter("path", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=opt.IncidentsArg),
    *opt.INGEST_OPTIONS,
    opt.option("boundary", opt.Boundary),
    opt.option("cell_size_m", opt.CellSize),
    opt.option("layer", opt.Layer),
    opt.option("layers_dir", opt.LayersDir),
    opt.option("layer_crs", LayerCrs),
    opt.option("split_date", SplitDate),
    opt.option("coverage", Coverage),
    opt.option("as_json", opt.AsJson, False),
]


def register(app: typer.Typer) -> None:
    """Add the ``backtest`` command to ``app``."""

    @opt.command(app, "backtest", BACKTEST_OPTIONS)
    def backtest_command(options: dict[str, Any]) -> None:
        """Score last year's counts, KDE at three bandwidths, Gi*, the risk terrain (with --layer) and
        a combined model by hit rate, PAI and PEI on rolling yearly splits; choose one on the
        validation years and check it on the test year against last year's counts.
        """
        cfg = opt.build_config(
            **opt.ingest_fields(options, incidents=options["path"]),
            boundary=options["boundary"],
            cell_size_m=options["cell_size_m"],
            layers=opt.parse_layers(options["layer"], layer_dirs=opt.layer_dirs_option(options)),
            layer_dirs=opt.layer_dirs_option(options),
        )
        split_date, coverage, layer_crs, as_json = (
            options[k] for k in ("split_date", "coverage", "layer_crs", "as_json")
        )
        coverages = tuple(coverage or (0.01, 0.02, 0.05))
        from planner.exposure.layers import user_layer_dirs

        with user_layer_dirs(cfg.layer_dirs):
            scores, choice, test, info = _run(
                cfg, split_date=split_date, coverages=coverages, layer_crs=layer_crs
            )
        if as_json:
            payload = {
                "params": {**info, "test_split": test["split"], "coverages": list(coverages)},
                "scores": json.loads(scores.to_json(orient="records")),
                "choice": choice.to_dict(),
                "test": test,
            }
            typer.echo(json.dumps(payload, default=str))
            return
        _print_report(scores, choice, test, info)
