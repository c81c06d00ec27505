"""Options shared by the commands, and the one way a command turns them into a :class:`RunConfig`.

Every command that reads incidents declares the same ingest options (``--crs``, ``--column``,
``--category``, ``--only-category``, ``--date-from``/``--date-to``, ``--drop-duplicates``, ...) from
here, builds a :class:`~planner.config.RunConfig` with :func:`build_config` and reads through
:func:`planner.pipeline.load_inputs`, so ``planner hotspots FILE`` and ``planner run --incidents
FILE`` see the same incidents and the same defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from planner.config import RunConfig, config_from_mapping, load_config
from planner.errors import ConfigError

IncidentsArg = Annotated[str, typer.Argument(help="Incident file or postgresql:// URL.")]
Crs = Annotated[str | None, typer.Option("--crs", help="CRS of bare coordinates, e.g. EPSG:26971.")]
AnalysisCrs = Annotated[
    str | None, typer.Option("--analysis-crs", help="Projected metric CRS to work in (default: automatic).")
]
Boundary = Annotated[
    str | None,
    typer.Option("--boundary", help="Study-area polygon file (default: buffered hull of incidents)."),
]
Layer = Annotated[
    list[str] | None,
    typer.Option("--layer", help="Environmental layer as KIND=PATH[::LAYER] (repeatable)."),
]
Column = Annotated[
    list[str] | None,
    typer.Option("--column", help="Column role as ROLE=NAME, e.g. date=Reported (repeatable)."),
]
Category = Annotated[
    str | None,
    typer.Option(
        "--category", help="Category of incidents that have none, e.g. burglary for a burglaries-only file."
    ),
]
OnlyCategory = Annotated[
    list[str] | None, typer.Option("--only-category", help="Analyse only this category (repeatable).")
]
DateFrom = Annotated[str | None, typer.Option("--date-from", help="Keep incidents on or after this date.")]
DateTo = Annotated[str | None, typer.Option("--date-to", help="Keep incidents before this date.")]
DropDuplicates = Annotated[
    bool,
    typer.Option(
        "--drop-duplicates", help="Quarantine exact duplicate records (same place, time, category)."
    ),
]
CellSize = Annotated[
    float | None, typer.Option("--cell-size", help="Grid cell size in metres (default: automatic).")
]
Bandwidth = Annotated[
    float | None, typer.Option("--bandwidth", help="KDE bandwidth in metres (default: automatic).")
]
MaxHotspotCells = Annotated[
    int | None,
    typer.Option("--max-hotspot-cells", help="Split hot areas of more cells at their peaks (default 16)."),
]
ConfigFile = Annotated[
    Path | None, typer.Option("--config", help="TOML/JSON config or a previous run's manifest.json.")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object to stdout.")]


def parse_pairs(items: list[str] | None, *, option: str, example: str) -> dict[str, str]:
    """``["a=b", ...]`` → ``{"a": "b"}``; a malformed item is a clear error naming the option."""
    out: dict[str, str] = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"{option} {item!r} must look like {example}.")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def parse_columns(items: list[str] | None) -> dict[str, str]:
    """``--column ROLE=NAME`` items as a role → column mapping."""
    return parse_pairs(items, option="--column", example="ROLE=NAME, e.g. --column date=Reported")


def parse_layers(items: list[str] | None) -> dict[str, str]:
    """``--layer KIND=PATH`` items as a kind → path mapping."""
    return parse_pairs(items, option="--layer", example="KIND=PATH, e.g. --layer street_lights=lamps.gpkg")


def build_config(config_file: Path | None = None, **options: Any) -> RunConfig:
    """A validated :class:`RunConfig` from command options (``None`` and empty values mean "not
    given"); with ``config_file``, the options given override the file's values."""
    given = {k: v for k, v in options.items() if v is not None and v not in ({}, [])}
    if config_file is not None:
        return load_config(config_file, **given)
    return config_from_mapping(given, source="the command-line options")


def ingest_options(
    *,
    incidents: str | None,
    crs: str | None = None,
    analysis_crs: str | None = None,
    column: list[str] | None = None,
    category: str | None = None,
    only_category: list[str] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    drop_duplicates: bool = False,
) -> dict[str, Any]:
    """The ingest and filter options every incident-reading command shares, as config fields."""
    return {
        "incidents": incidents,
        "crs": crs,
        "analysis_crs": analysis_crs,
        "columns": parse_columns(column),
        "default_category": category,
        "categories": list(only_category or []) or None,
        "date_from": date_from,
        "date_to": date_to,
        "drop_duplicates": drop_duplicates or None,
    }


def load_incidents(config: RunConfig) -> Any:
    """The run's incidents (ingested, then filtered by category and date) and its study area."""
    from planner.pipeline import filter_incidents, load_inputs

    inputs = load_inputs(config, with_layers=False)
    return filter_incidents(inputs.incidents, config), inputs.study_area
