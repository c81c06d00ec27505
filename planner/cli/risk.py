"""``planner risk``: risk terrain model (RRV table and relative-risk surface) for gridded counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from planner.cli import _options as opt
from planner.cli.exposure import Cells, LayerCrs, read_polygons, read_stage_layers
from planner.errors import ConfigError


def _distances(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(d) for d in text.split(",") if d.strip())
    except ValueError:
        raise ConfigError(f"--distances {text!r} must be numbers of metres like 100,200,400.") from None


def register(app: typer.Typer) -> None:
    """Add the ``risk`` command to ``app``."""

    @app.command("risk")
    def risk_command(
        *,
        cells: Cells,
        out: Annotated[Path, typer.Option("--out", help="Folder for risk_factors.csv, risk.tif, risk.gpkg.")],
        layer: opt.Layer = None,
        layers_dir: opt.LayersDir = None,
        y: Annotated[
            str, typer.Option("--y", help="Column of incident counts in the cells.")
        ] = "n_incidents",
        distances: Annotated[
            str, typer.Option("--distances", help="Distances in metres, comma-separated.")
        ] = "100,200,400",
        family: Annotated[str, typer.Option("--family", help="auto, poisson or negative_binomial.")] = "auto",
        samples: Annotated[
            int,
            typer.Option(
                "--samples",
                help="Measure factors on an N x N lattice of points per cell (1 = the cell centre); "
                "the model then estimates the risk at places, whatever the cell size.",
            ),
        ] = 1,
        seed: Annotated[int, typer.Option("--seed", help="Seed for the cross-validation folds.")] = 20261128,
        layer_crs: LayerCrs = None,
        as_json: opt.AsJson = False,
    ) -> None:
        """Fit a risk terrain model: which layers raise risk and by how much (RRV with 95 % CI), checked
        again on cells twice as large (verdict: risk, protective, unstable, not distinguishable from 1).
        """
        from planner.export.stage_files import write_risk_outputs
        from planner.exposure.layers import user_layer_dirs
        from planner.pipeline import risk_model

        dirs = [str(d) for d in layers_dir or []]
        cfg = opt.build_config(
            layers=opt.parse_layers(layer, layer_dirs=dirs),
            layer_dirs=dirs,
            risk_distances_m=_distances(distances),
            risk_family=family,
            seed=seed,
        )
        grid = read_polygons(cells)
        layers = read_stage_layers(cfg.layers, analysis_crs=grid.crs, layer_crs=layer_crs)
        if samples < 1:
            raise ConfigError(f"--samples must be 1 or more; got {samples}.")
        with user_layer_dirs(cfg.layer_dirs):
            model = risk_model(cfg).set_params(samples=samples).fit(grid, layers, y=y)
            rrs = model.predict(grid, layers)
            written = write_risk_outputs(
                grid.assign(risk_rrs=rrs), model.factors_, model.to_surface(grid, scores=rrs), out
            )
        shown = ["factor", "operationalisation", "distance_m", "rrv", "rrv_low", "rrv_high", "p_value"]
        stability = ["rrv_coarse", "rrv_low_coarse", "rrv_high_coarse", "verdict"]
        if as_json:
            payload = {
                "family": model.family_,
                "bic": model.bic_,
                "cell_size_m": model.cell_size_m_,
                "coarse_cell_size_m": float(model.factors_["coarse_cell_size_m"].iloc[0])
                if len(model.factors_)
                else None,
                "factors": json.loads(
                    model.factors_[[*shown, "deficit", "when", *stability]].to_json(orient="records")
                ),
                "written": {k: str(v) for k, v in written.items()},
            }
            typer.echo(json.dumps(payload))
            return
        typer.echo(
            f"Risk terrain ({model.family_}, BIC {model.bic_:.1f}) on {len(grid)} cells of "
            f"{model.cell_size_m_:g} m, checked on cells twice as large:"
        )
        factors = model.factors_
        typer.echo(
            factors[[*shown, "rrv_coarse", "verdict"]].round(3).to_string(index=False)
            if len(factors)
            else "no factors retained"
        )
        typer.echo(f"wrote {', '.join(str(p) for p in written.values())}")
