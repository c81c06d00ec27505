"""``planner backtest``: which hotspot method best predicts where the next period's incidents happen."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from planner.cli import _options as opt


def default_split(incidents: Any) -> Any:
    """The day on which three quarters of the incidents have happened (test = the last quarter)."""
    import pandas as pd

    t = pd.to_datetime(incidents["occurred_at"]).dropna().sort_values()
    return t.iloc[int(0.75 * (len(t) - 1))].normalize()


def register(app: typer.Typer) -> None:
    """Add the ``backtest`` command to ``app``."""

    @app.command("backtest")
    def backtest_command(
        path: opt.IncidentsArg,
        crs: opt.Crs = None,
        analysis_crs: opt.AnalysisCrs = None,
        boundary: opt.Boundary = None,
        column: opt.Column = None,
        category: opt.Category = None,
        only_category: opt.OnlyCategory = None,
        cell_size_m: opt.CellSize = None,
        split_date: Annotated[
            str | None,
            typer.Option(
                "--split-date",
                help="First day of the test period (default: when 75% of incidents have happened).",
            ),
        ] = None,
        train_days: Annotated[
            float | None, typer.Option("--train-days", help="Training window before the split.")
        ] = None,
        test_days: Annotated[
            float | None, typer.Option("--test-days", help="Test window from the split.")
        ] = None,
        coverage: Annotated[
            list[float] | None,
            typer.Option("--coverage", help="Area coverage fraction (repeatable; default 0.01, 0.05, 0.1)."),
        ] = None,
        as_json: opt.AsJson = False,
    ) -> None:
        """Score counts, KDE, Gi* and DBSCAN clusters by hit rate, PAI and PEI on the next period."""
        import pandas as pd

        from planner import grid
        from planner.evaluate.accuracy import backtest, best_method

        cfg = opt.build_config(
            **opt.ingest_options(
                incidents=path,
                crs=crs,
                analysis_crs=analysis_crs,
                column=column,
                category=category,
                only_category=only_category,
            ),
            boundary=boundary,
            cell_size_m=cell_size_m,
        )
        incidents, study_area = opt.load_incidents(cfg)
        split = pd.Timestamp(split_date) if split_date else default_split(incidents)
        cs = cfg.cell_size_m or grid.auto_cell_size(study_area, n_incidents=len(incidents))
        cells = grid.grid_from_boundary(study_area, cell_size_m=cs, kind=cfg.grid_kind)
        scores = backtest(
            incidents,
            cells,
            split_date=split,
            coverages=tuple(coverage or (0.01, 0.05, 0.1)),
            train_days=train_days,
            test_days=test_days,
        )
        best = best_method(scores)
        if as_json:
            payload = {
                "params": {**scores.attrs["params"], "cell_size_m": cs, "n_cells": len(cells)},
                "scores": json.loads(scores.to_json(orient="records")),
                "best": json.loads(best.to_json(orient="records")),
            }
            typer.echo(json.dumps(payload, default=str))
            return
        first = scores.iloc[0]
        typer.echo(
            f"Trained on {first['n_train']} incidents before {split.date()}, tested on {first['n_test']} "
            f"from it; {len(cells)} cells of {cs:g} m. Top ⌊N·coverage⌋ cells, ties as open_cp."
        )
        table = scores[["method", "coverage", "n_places", "captured", "hit_rate", "pai", "pei"]]
        typer.echo(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        for row in best.itertuples():
            typer.echo(
                f"At {row.coverage:.0%} of the area, {row.method} captured most: hit rate {row.hit_rate:.1%}, "
                f"PAI {row.pai:.2f}, PEI {row.pei:.2f}."
            )
