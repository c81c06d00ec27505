"""``planner layers``: the environmental layer kinds a run accepts, with what each one is."""

from __future__ import annotations

import json

import typer

from planner.cli import _options as opt


def register(app: typer.Typer) -> None:
    """Add the ``layers`` command to ``app``."""

    @app.command("layers")
    def layers_command(as_json: opt.AsJson = False, layers_dir: opt.LayersDir = None) -> None:
        """List the layer kinds for --layer KIND=PATH[@CRS], with their meaning, role and influence radius.

        The kinds are the specs shipped in layers/ (one TOML file per kind) plus those in every
        --layers-dir folder.
        """
        from planner.exposure.layers import EXTRA_KINDS, bundled_layers_dir, known_layer_kinds, load_registry

        registry = load_registry(extra_dirs=layers_dir or ())
        kinds = known_layer_kinds(registry)
        if as_json:
            rows = [
                {
                    "kind": kind,
                    "meaning": meaning,
                    "geometry_type": registry[kind].geometry_type if kind in registry else None,
                    "role": registry[kind].role if kind in registry else "context (not measured)",
                    "radius_m": registry[kind].radius_m if kind in registry else None,
                    "spec": str(registry[kind].path) if kind in registry else None,
                }
                for kind, meaning in kinds.items()
            ]
            typer.echo(json.dumps(rows))
            return
        for kind, meaning in kinds.items():
            spec = registry.get(kind)
            facts = (
                f"{spec.geometry_type}, {spec.role}, acts as {spec.acts_as}"
                + (f" within {spec.radius_m:g} m" if spec.radius_m else "")
                if spec is not None
                else "polygons, read without a spec"
            )
            typer.echo(f"{kind} ({facts})")
            typer.echo(f"    {EXTRA_KINDS.get(kind, meaning)}")
        typer.echo(
            "Use as --layer KIND=PATH[::LAYER][@CRS], e.g. --layer street_lights=lamps.csv@EPSG:2263 "
            "(@CRS: the CRS of bare x/y coordinates in that file)."
        )
        folder = bundled_layers_dir()
        typer.echo(
            f"Specs: {folder} (one TOML file per kind); add your own kinds with --layers-dir DIR "
            "(a folder of such files) here and on planner run."
        )
