"""``planner synth``: regenerate the synthetic sample city."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``synth`` command to ``app``."""

    @app.command("synth")
    def synth_command(
        out: Path = typer.Option(Path("sample_data"), "--out", help="Folder to write the sample city into."),
        seed: int = typer.Option(
            20261128, "--seed", help="Random seed (the committed sample uses the default)."
        ),
        years: int = typer.Option(3, "--years", min=1, max=10, help="Years of incidents."),
    ) -> None:
        """Generate the sample city (incidents, layers, lux raster, truth.json) — all synthetic."""
        from planner.synth import generate_city

        truth = generate_city(out, seed=seed, years=years)
        typer.echo(f"Wrote the sample city to {out}: {truth['n_incidents']} incidents ({truth['counts']}).")
