"""Options shared by the commands, and the one way a command turns them into a :class:`RunConfig`.

Every command that reads incidents declares the same ingest options (``--crs``, ``--column``,
``--category``, ``--category-map``, ``--only-category``, ``--date-from``/``--date-to``,
``--drop-duplicates``, ...) from here, builds a :class:`~planner.config.RunConfig` with
:func:`build_config` and reads through :func:`planner.pipeline.load_inputs`, so ``planner hotspots
FILE`` and ``planner run --incidents FILE`` see the same incidents and the same defaults.

Commands with many options declare them as a list of :class:`inspect.Parameter` and register with
:func:`command`: the command's function then takes one ``options`` dict (so no function has two
dozen arguments) and :func:`config_from_options` maps the option names onto the config's fields.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from planner.config import RunConfig, config_from_mapping, load_config
from planner.errors import ConfigError

IncidentsArg = Annotated[str, typer.Argument(help="Incident file or postgresql:// URL.")]
Crs = Annotated[
    str | None,
    typer.Option(
        "--crs", help="CRS of bare projected x/y coordinates, e.g. EPSG:26971 (lon/lat are read as degrees)."
    ),
]
AnalysisCrs = Annotated[
    str | None, typer.Option("--analysis-crs", help="Projected metric CRS to work in (default: automatic).")
]
Boundary = Annotated[
    str | None,
    typer.Option("--boundary", help="Study-area polygon file (default: buffered hull of incidents)."),
]
Layer = Annotated[
    list[str] | None,
    typer.Option(
        "--layer",
        help="Environmental layer as KIND=PATH[::LAYER][@CRS], e.g. street_lights=lamps.csv@EPSG:2263 "
        "(repeatable; 'planner layers' lists the kinds).",
    ),
]
LayersDir = Annotated[
    list[Path] | None,
    typer.Option(
        "--layers-dir",
        help="Folder of your own layer specs (*.toml, one per kind) added to the shipped ones in layers/ "
        "(repeatable; 'planner layers --layers-dir DIR' lists them).",
    ),
]
Column = Annotated[
    list[str] | None,
    typer.Option(
        "--column",
        help="Column role as ROLE=NAME, e.g. date=Reported (repeatable). Roles: x, y, lon, lat, wkt, latlon, "
        "date, time, hour, date_from, date_to, time_to, year, month, day, minute, category, id, "
        "location_type (kind of place: residence, parking lot ...), victim_sex, victim_age.",
    ),
]
Category = Annotated[
    str | None,
    typer.Option(
        "--category", help="Category of incidents that have none, e.g. burglary for a burglaries-only file."
    ),
]
CategoryMap = Annotated[
    list[Path] | None,
    typer.Option(
        "--category-map",
        help="TOML file mapping offence names to categories, tried before the built-in map "
        "(repeatable; 'planner categories' shows the format and the map).",
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
    float | None,
    typer.Option("--cell-size", help="Grid cell size in metres (default: automatic, 100-300 m for a city)."),
]
Bandwidth = Annotated[
    float | None,
    typer.Option("--bandwidth", help="KDE bandwidth in metres (default: ArcGIS rule within 2-5 cell sizes)."),
]
MaxHotspotCells = Annotated[
    int | None,
    typer.Option("--max-hotspot-cells", help="No hotspot has more cells than this (default 16)."),
]
ConfigFile = Annotated[
    Path | None, typer.Option("--config", help="TOML/JSON config or a previous run's manifest.json.")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object to stdout.")]
Budget = Annotated[float | None, typer.Option("--budget", help="Budget for the intervention portfolio.")]
Jurisdiction = Annotated[
    str | None,
    typer.Option(
        "--jurisdiction",
        help="Whose costs, currency and law apply: auto (from the data's location, default), UK, US, CA or none.",
    ),
]
Currency = Annotated[
    str | None, typer.Option("--currency", help="GBP, USD or CAD (default: the jurisdiction's own currency).")
]
RankBy = Annotated[
    str | None,
    typer.Option(
        "--rank-by",
        help="net_benefit_per_cost (default), net_benefit, bcr, prevented or p_benefit_exceeds_cost.",
    ),
]
AllowAccessRestriction = Annotated[
    bool,
    typer.Option("--allow-access-restriction", help="Include measures that restrict public access (gating)."),
]
AllowSurveillancePriority = Annotated[
    bool,
    typer.Option(
        "--allow-surveillance-priority", help="Let camera measures rank first where evidence supports them."
    ),
]


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
    """``--column ROLE=NAME`` items as a role → column mapping; an unknown role lists the roles."""
    from planner.io.detect import ROLES

    pairs = parse_pairs(items, option="--column", example="ROLE=NAME, e.g. --column date=Reported")
    unknown = sorted(set(pairs) - set(ROLES))
    if unknown:
        raise ConfigError(
            f"--column names unknown role(s) {unknown}. Known roles: "
            + "; ".join(f"{r}: {m}" for r, m in ROLES.items())
            + "."
        )
    return pairs


def parse_layers(items: list[str] | None, *, layer_dirs: list[str] | None = None) -> dict[str, str]:
    """``--layer KIND=PATH[::LAYER][@CRS]`` items as a kind → reference mapping; an unknown kind or a
    CRS that cannot be read is an error naming the option. Kinds of the specs in ``layer_dirs``
    (``--layers-dir``) are known too.
    """
    from planner import crs as crs_mod
    from planner.exposure.layers import known_layer_kinds, load_registry
    from planner.io.layers import parse_layer_ref

    pairs = parse_pairs(
        items, option="--layer", example="KIND=PATH[@CRS], e.g. --layer street_lights=lamps.gpkg"
    )
    known = known_layer_kinds(load_registry(extra_dirs=layer_dirs or ()))
    unknown = sorted(set(pairs) - set(known))
    if unknown:
        raise ConfigError(
            f"--layer names unknown layer kind(s) {unknown}. Known kinds: {', '.join(known)}. "
            "'planner layers' says what each one is; --layers-dir DIR adds a folder of your own specs."
        )
    for kind, ref in pairs.items():
        crs = parse_layer_ref(ref).crs
        if crs is not None:
            try:
                crs_mod.as_crs(crs)
            except ConfigError:
                raise
            except Exception:
                raise ConfigError(
                    f"--layer {kind}={ref}: {crs!r} is not a coordinate reference system; write it like "
                    "@EPSG:2263."
                ) from None
    return pairs


def check_crs_option(value: str | None, *, option: str) -> str | None:
    """``value`` unchanged when pyproj understands it; else one message naming the option."""
    if value is None:
        return None
    from planner import crs as crs_mod

    try:
        crs_mod.as_crs(value)
    except Exception:
        raise ConfigError(
            f"{option} {value!r} is not a coordinate reference system. Give an EPSG code, "
            f"e.g. {option} EPSG:27700 (British National Grid) or {option} EPSG:26971 (Illinois East)."
        ) from None
    return value


def build_config(config_file: Path | None = None, **options: Any) -> RunConfig:
    """A validated :class:`RunConfig` from command options (``None`` and empty values mean "not
    given"); with ``config_file``, the options given override the file's values.
    """
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
    category_map: list[Path] | None = None,
) -> dict[str, Any]:
    """The ingest and filter options every incident-reading command shares, as config fields."""
    return {
        "incidents": incidents,
        "crs": check_crs_option(crs, option="--crs"),
        "analysis_crs": check_crs_option(analysis_crs, option="--analysis-crs"),
        "columns": parse_columns(column),
        "default_category": category,
        "categories": list(only_category or []) or None,
        "date_from": date_from,
        "date_to": date_to,
        "drop_duplicates": drop_duplicates or None,
        "category_map": [str(p) for p in category_map or []] or None,
    }


def load_incidents(config: RunConfig) -> Any:
    """The run's incidents (ingested, then filtered by category and date) and its study area."""
    from planner.pipeline import filter_incidents, load_inputs

    inputs = load_inputs(config, with_layers=False)
    return filter_incidents(inputs.incidents, config), inputs.study_area


# ------------------------------------------------------------------------- commands as option lists
def option(name: str, annotation: Any, default: Any = None) -> inspect.Parameter:
    """One command option (a keyword parameter with a typer annotation and a default)."""
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


INGEST_OPTIONS = [
    option("crs", Crs),
    option("analysis_crs", AnalysisCrs),
    option("column", Column),
    option("category", Category),
    option("category_map", CategoryMap),
    option("only_category", OnlyCategory),
    option("date_from", DateFrom),
    option("date_to", DateTo),
    option("drop_duplicates", DropDuplicates, False),
]
HOTSPOT_OPTIONS = [
    option("boundary", Boundary),
    option("cell_size_m", CellSize),
    option("bandwidth_m", Bandwidth),
    option("max_hotspot_cells", MaxHotspotCells),
]
_INGEST_NAMES = {p.name for p in INGEST_OPTIONS}
_FLAGS = {"drop_duplicates", "allow_access_restriction", "allow_surveillance_priority"}


def command(
    app: typer.Typer, name: str, params: list[inspect.Parameter]
) -> Callable[[Callable[[dict[str, Any]], None]], Any]:
    """Register ``body(options)`` as the command ``name`` with the options ``params``."""

    def register(body: Callable[[dict[str, Any]], None]) -> Any:
        def run_body(**options: Any) -> None:
            body(options)

        run_body.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        run_body.__annotations__ = {p.name: p.annotation for p in params}
        run_body.__doc__ = body.__doc__
        run_body.__name__ = body.__name__
        return app.command(name)(run_body)

    return register


def ingest_fields(options: dict[str, Any], *, incidents: str | None) -> dict[str, Any]:
    """The config fields of a command's ingest options (see :data:`INGEST_OPTIONS`)."""
    return ingest_options(incidents=incidents, **{k: options[k] for k in _INGEST_NAMES if k in options})


def ingest_config(options: dict[str, Any], *, incidents: str | None) -> RunConfig:
    """The :class:`RunConfig` of a command's ingest options only (its other options are its own)."""
    return build_config(**ingest_fields(options, incidents=incidents))


def config_from_options(options: dict[str, Any], *, incidents: str | None) -> RunConfig:
    """The :class:`RunConfig` of a command's ``options`` (see :data:`INGEST_OPTIONS`); ``config``
    (a file) is the base that the options given override.
    """
    given_ingest: dict[str, Any] = {k: options[k] for k in _INGEST_NAMES if k in options}
    fields = ingest_options(incidents=incidents, **given_ingest)
    for key, given in options.items():
        if key in _INGEST_NAMES or key in {"config", "out", "overwrite", "incidents", "path", "as_json"}:
            continue
        if key == "layer":
            fields["layers"] = parse_layers(given, layer_dirs=_layer_dirs(options))
        elif key == "layers_dir":
            fields["layer_dirs"] = layer_dirs_option(options) or None
        else:
            fields[key] = (given or None) if key in _FLAGS else given
    return build_config(options.get("config"), **fields)


def _layer_dirs(options: dict[str, Any]) -> list[str]:
    """The user spec folders a command's ``--layer`` kinds may come from: the config file's
    ``layer_dirs`` (when ``--config`` is given), then ``--layers-dir``.
    """
    dirs = list(load_config(options["config"]).layer_dirs) if options.get("config") else []
    return [*dirs, *layer_dirs_option(options)]


def layer_dirs_option(options: dict[str, Any]) -> list[str]:
    """A command's ``--layers-dir`` folders as config values (``layer_dirs``)."""
    return [str(p) for p in options.get("layers_dir") or []]
