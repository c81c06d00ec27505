"""What a run reads: incidents, study area and layers in one analysis CRS (:class:`Inputs`).

:func:`load_inputs` ingests through :mod:`planner.io` (the sample city's files by default),
:func:`filter_incidents` keeps the categories, dates and attribute values a run asks for, and
:func:`run_layers` reads a run's environmental layers through the one layer loader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from planner import _hints
from planner.config import SAMPLE_DIR, RunConfig
from planner.errors import ConfigError, DataLoadError
from planner.plan import file_checksum

SAMPLE_CRS = "EPSG:32630"


@dataclass(frozen=True)
class Inputs:
    """Everything a run reads, in one analysis CRS (projected, metres)."""

    incidents: gpd.GeoDataFrame
    quarantine: pd.DataFrame
    report: dict[str, Any]
    study_area: gpd.GeoDataFrame
    boundary_source: str
    layers: dict[str, Any]
    crs: Any
    checksums: list[dict[str, Any]]
    partitions: list[Any] = field(default_factory=list)


def sample_city_sources(sample_dir: Path = SAMPLE_DIR) -> dict[str, Any]:
    """Paths of the sample city: incidents, boundary, and every environmental layer."""
    gpkg = sample_dir / "city.gpkg"
    if not gpkg.exists():
        raise DataLoadError(
            f"The sample city is missing ({gpkg}). Regenerate it with "
            "'planner synth --out sample_data' (or 'make sample')."
        )
    names = [str(n) for n in pyogrio.list_layers(gpkg)[:, 0]]
    layers = {n: f"{gpkg}::{n}" for n in names if n not in {"boundary"}}
    lux = sample_dir / "lux.tif"
    if lux.exists():
        layers["lighting"] = str(lux)
    return {
        "incidents": str(sample_dir / "incidents.csv"),
        "crs": SAMPLE_CRS,
        "boundary": f"{gpkg}::boundary",
        "layers": layers,
    }


def _sources(config: RunConfig) -> dict[str, Any]:
    """Incidents, CRS, boundary and layer references of a run (the sample city's by default)."""
    if config.uses_sample_city:
        sources = sample_city_sources()
    else:
        sources = {
            "incidents": config.incidents,
            "crs": config.crs,
            "boundary": config.boundary,
            "layers": {},
        }
    return {**sources, "layers": {**sources["layers"], **config.layers}}


def load_inputs(config: RunConfig, *, client: Any = None, with_layers: bool = True) -> Inputs:
    """Ingest incidents, study area and (unless ``with_layers=False``) layers, all in one analysis CRS.

    With a Dask ``client`` the incident partitions are read on its workers; their futures are
    returned as ``partitions`` for counting there.
    """
    from planner import dask_engine, grid, io

    sources = _sources(config)
    read_options: dict[str, Any] = {
        "crs": sources["crs"] or config.crs,
        "analysis_crs": config.analysis_crs,
        "columns": config.columns or None,
        "default_category": config.default_category,
        "drop_duplicates": config.drop_duplicates,
        "category_map": list(config.category_map) or None,
    }
    partitions: list[Any] = []
    if client is not None:
        result, partitions = dask_engine.read_incidents(client, sources["incidents"], **read_options)
    else:
        result = io.read_incidents(sources["incidents"], **read_options)
    crs = result.incidents.crs
    if sources.get("boundary"):
        path, layer = io.split_layer_ref(sources["boundary"])
        boundary = io.read_layer(path, kind="boundary", layer=layer, analysis_crs=crs)
        study_area = gpd.GeoDataFrame(geometry=[boundary.union_all()], crs=crs)
        boundary_source = "given"
    else:
        # around the incidents analysed (after the date and category filters), so the run's study
        # area does not outline incidents outside the period or categories asked for
        kept = filter_incidents(result.incidents, config)
        study_area = grid.study_area_from_incidents(kept if len(kept) else result.incidents)
        boundary_source = "buffered hull of the incidents"
    layer_refs = sources["layers"] if with_layers else {}
    incident_files = (
        dask_engine.partitions(sources["incidents"]) if client is not None else [str(sources["incidents"])]
    )
    refs = [
        *incident_files,
        *([sources["boundary"]] if sources.get("boundary") else []),
        *layer_refs.values(),
    ]
    checksums = [file_checksum(io.split_layer_ref(ref)[0]) for ref in refs]
    return Inputs(
        incidents=result.incidents,
        quarantine=result.quarantine,
        report=result.report.to_dict(),
        study_area=study_area,
        boundary_source=boundary_source,
        layers=run_layers(config, crs) if with_layers else {},
        crs=crs,
        checksums=list({d["path"]: d for d in checksums}.values()),
        partitions=partitions,
    )


def run_layers(config: RunConfig, analysis_crs: Any) -> dict[str, Any]:
    """The environmental layers a run uses (the sample city's, plus ``config.layers``) in ``analysis_crs``."""
    from planner import io
    from planner.exposure.layers import user_layer_dirs

    refs = _sources(config)["layers"]
    with user_layer_dirs(config.layer_dirs):  # the user's own kinds (--layers-dir) are known kinds
        check_layer_kinds(refs)
    return io.read_layers(refs, analysis_crs=analysis_crs)


def check_layer_kinds(refs: dict[str, str]) -> None:
    """Every layer kind must be one the planner knows (a layer spec, or ``wards``/``land_use``)."""
    from planner.exposure.layers import known_layer_kinds

    known = known_layer_kinds()
    unknown = sorted(set(refs) - set(known))
    if unknown:
        listing = _hints.hint("planner.exposure.layers.known_layer_kinds()", "planner layers")
        raise ConfigError(
            f"Unknown layer kind(s) {unknown}. Known kinds: {', '.join(sorted(known))} "
            f"(their meaning: {listing}). Add a spec file to use another kind (a folder of them: "
            f"{_hints.hint('RunConfig(layer_dirs=[...])', '--layers-dir DIR')})."
        )


def _category_mask(incidents: gpd.GeoDataFrame, wanted: list[str]) -> pd.Series:
    """Incidents whose category, or whose publisher's name, is one of ``wanted`` (names are compared
    in lower snake case, so ``"Other theft"`` and ``"theft"`` both work).
    """
    from planner.io.categories import normalise_category

    names = set(normalise_category(pd.Series(wanted, dtype="string")))
    keep = incidents["category"].isin(names)
    if "source_category" in incidents.columns:
        keep |= normalise_category(incidents["source_category"]).isin(names)
    return keep


def filter_incidents(incidents: gpd.GeoDataFrame, config: RunConfig) -> gpd.GeoDataFrame:
    """Incidents of the chosen categories within [date_from, date_to)."""
    keep = pd.Series(True, index=incidents.index)
    if config.categories:
        keep &= _category_mask(incidents, config.categories)
    if (config.date_from or config.date_to) and incidents.attrs.get("time_resolution") == "none":
        option = _hints.hint("date_from=/date_to=", "--date-from/--date-to")
        raise ConfigError(f"{option} filter by date, but the incidents have no usable dates. Leave them out.")
    if config.date_from:
        keep &= incidents["occurred_at"] >= pd.Timestamp(config.date_from)
    if config.date_to:
        keep &= incidents["occurred_at"] < pd.Timestamp(config.date_to)
    for column, values in config.attribute_filters.items():
        if column not in incidents.columns:
            raise ConfigError(
                f"Filter column {column!r} is not in the incident data. "
                f"Available columns: {', '.join(map(str, incidents.columns))}."
            )
        keep &= incidents[column].astype("string").isin([str(v) for v in values])
    out = incidents.loc[keep].copy()
    out.attrs = dict(incidents.attrs)
    return out
