"""Compose the stages into one run: ``run(config) -> Plan``.

Every stage is a pure function from the stage packages; this module only decides the order, passes
the analysis CRS along, records automatically chosen parameters, collects warnings and reports
progress. Each ``add_*`` stage takes a :class:`~planner.plan.Plan` and returns a new one
(``dataclasses.replace``); nothing is mutated. The CLI, the dashboard and the exports all call
:func:`run` or the same stage functions.

Data flow::

    load_inputs ─▶ filter_incidents ─▶ compute_hotspots ─▶ Plan
        ─▶ add_space_time ─▶ add_exposure ─▶ add_risk ─▶ add_recommendations
"""

from __future__ import annotations

import dataclasses
import logging
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from planner.config import SAMPLE_DIR, RunConfig
from planner.errors import ConfigError, DataLoadError, InsufficientDataError
from planner.plan import Plan, file_checksum
from planner.surface import Surface

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
Stage = Callable[[Plan], Plan]

SAMPLE_CRS = "EPSG:32630"
MIN_INCIDENTS = 30


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


@dataclass(frozen=True)
class HotspotResult:
    """Cells with counts, KDE and Gi*; hotspot polygons; surfaces; the parameters used."""

    cells: gpd.GeoDataFrame
    hotspots: gpd.GeoDataFrame
    surfaces: dict[str, Surface]
    params: dict[str, Any]


def _noop(_fraction: float, _message: str) -> None:
    return None


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
        study_area = grid.study_area_from_incidents(result.incidents)
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
        layers=io.read_layers(layer_refs, analysis_crs=crs),
        crs=crs,
        checksums=list({d["path"]: d for d in checksums}.values()),
        partitions=partitions,
    )


def filter_incidents(incidents: gpd.GeoDataFrame, config: RunConfig) -> gpd.GeoDataFrame:
    """Incidents of the chosen categories within [date_from, date_to)."""
    keep = pd.Series(True, index=incidents.index)
    if config.categories:
        keep &= incidents["category"].isin(config.categories)
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


def compute_hotspots(
    incidents: gpd.GeoDataFrame,
    study_area: gpd.GeoDataFrame,
    config: RunConfig,
    *,
    count: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame] | None = None,
) -> HotspotResult:
    """Grid, counts, KDE and Gi* hotspots with the parameters chosen.

    ``count(cells)`` replaces the in-memory cell counts (the Dask engine counts on its workers).
    """
    from planner import grid
    from planner.evaluate import forecast
    from planner.hotspots import concentration, gistar, kde, polygons

    if len(incidents) < MIN_INCIDENTS:
        raise InsufficientDataError(
            f"Only {len(incidents)} incidents remain after filtering; hotspot analysis needs at least "
            f"{MIN_INCIDENTS}. Widen the date range or include more categories."
        )
    cell_size = config.cell_size_m or grid.auto_cell_size(study_area, n_incidents=len(incidents))
    cells = grid.grid_from_boundary(study_area, cell_size_m=cell_size, kind=config.grid_kind)
    cells = count(cells) if count is not None else grid.count_incidents(cells, incidents)
    years = polygons.period_years_of(incidents)
    density = kde.kde_surface(
        incidents,
        cell_size_m=cell_size,
        bandwidth_m=config.bandwidth_m,
        kernel=config.kernel,
        period_years=years,
        mask=study_area,
    )
    cells = kde.kde_at_cells(cells, density)
    cells = gistar.gistar_cells(
        cells, value="n_incidents", neighbourhood=config.neighbourhood, fdr=config.fdr, q=config.q
    )
    cells, surface = forecast.hotspot_surface(incidents, cells, config)  # best-validated surface
    hotspots, cells = polygons.hotspots_from_cells(
        surface.for_polygons(cells),
        incidents,
        min_bin=config.min_bin,
        max_cells=config.max_hotspot_cells,
        split_by=config.hotspot_split_by,
    )
    cells = surface.restore(cells)
    params = {
        "cell_size_m": float(cell_size),
        "cell_size_rule": "given" if config.cell_size_m else "automatic (shorter side of study area / 50)",
        "grid_kind": config.grid_kind,
        "n_cells": len(cells),
        "bandwidth_m": float(density.params.get("bandwidth_m", config.bandwidth_m or 0.0)),
        "bandwidth_rule": density.params.get("bandwidth_rule", "given"),
        "kernel": config.kernel,
        "period_years": years,
        "neighbourhood": config.neighbourhood,
        "fdr": config.fdr,
        "q": config.q,
        "min_bin": config.min_bin,
        "max_hotspot_cells": config.max_hotspot_cells,
        "hotspot_split_by": config.hotspot_split_by,
        "n_hotspots": len(hotspots),
        "concentration": concentration.concentration_summary(cells["n_incidents"]),
        "hotspot_surface": surface.params,
    }
    return HotspotResult(cells, hotspots, {"density": density}, params)


def run(
    config: RunConfig | None = None,
    *,
    progress: Progress | None = None,
    stages: tuple[str, ...] | None = None,
) -> Plan:
    """Run the pipeline and return the :class:`Plan` (nothing is written).

    Parameters
    ----------
    config : RunConfig, optional
        Every parameter of the run (default: the sample city with default settings).
    progress : callable, optional
        ``progress(fraction, message)``, called as each stage starts; the fraction is each stage's
        share of the expected run time (stages with nothing to do count for nothing).
    stages : tuple of str, optional
        The later stages to run, among ``"space-time"``, ``"exposure"``, ``"risk"``,
        ``"recommend"`` (default: all). Ingest and hotspots always run.

    ``config.engine == "dask"`` runs ingest, grid counts and exposure on a Dask cluster (the one at
    ``config.scheduler``, else a local one); the plan is identical to the in-memory engine's.
    """
    config = config or RunConfig()
    if config.engine == "dask":
        from planner import dask_engine

        with dask_engine.connect(config.scheduler) as client:
            return _run(config, progress or _noop, client, stages)
    return _run(config, progress or _noop, None, stages)


@contextmanager
def _collect_warnings(into: list[str]) -> Iterator[None]:
    """Record warnings raised inside as plain messages (no file/line noise) in ``into``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        message = str(w.message)
        if message not in into:
            into.append(message)


# Typical share of a run's time per stage (bench/RESULTS.md, sample city and 1M incidents); stages
# with nothing to do (no layers, no dates) are left out before normalising.
_STAGE_WEIGHT = {
    "ingest": 2.0,
    "hotspots": 1.0,
    "space-time": 1.0,
    "exposure": 1.5,
    "risk": 5.0,
    "recommend": 1.0,
}


def _stage_shares(has_layers: bool, stages: tuple[str, ...]) -> dict[str, float]:
    weights = {"ingest": _STAGE_WEIGHT["ingest"], "hotspots": _STAGE_WEIGHT["hotspots"]}
    for name in stages:
        if name in {"exposure", "risk"} and not has_layers:
            continue
        weights[name] = _STAGE_WEIGHT[name]
    total = sum(weights.values())
    return {name: w / total for name, w in weights.items()}


def _run(config: RunConfig, report: Progress, client: Any, stages: tuple[str, ...] | None) -> Plan:
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    notes: list[str] = []
    chosen = [(name, fn) for name, fn in _later_stages() if stages is None or name in stages]
    has_layers = bool(config.layers) or config.uses_sample_city
    shares = _stage_shares(has_layers, tuple(n for n, _ in chosen))
    done = 0.0

    def start(message: str) -> None:
        report(min(done, 0.99), message)

    def finish(stage: str) -> None:
        nonlocal done
        timings[stage] = round(time.perf_counter() - t0 - sum(timings.values()), 3)
        done += shares.get(stage, 0.0)

    start("Reading incidents and layers")
    with _collect_warnings(notes):
        inputs = load_inputs(config, client=client)
    finish("ingest")
    start("Finding hotspots")
    with _collect_warnings(notes):
        plan = _initial_plan(config, inputs, client)
    finish("hotspots")
    for name, fn in chosen:
        start(f"Stage: {name}")
        with _collect_warnings(notes):
            plan = (
                add_exposure(plan, client=client) if name == "exposure" and client is not None else fn(plan)
            )
        finish(name)
    report(1.0, "Done")
    logger.info("pipeline finished in %.1f s: %s", time.perf_counter() - t0, timings)
    return dataclasses.replace(
        plan,
        params={**plan.params, "timings_s": timings},
        warnings=[*plan.warnings, *(n for n in notes if n not in plan.warnings)],
    )


def _initial_plan(config: RunConfig, inputs: Inputs, client: Any) -> Plan:
    """The plan after ingest and hotspots, before the environment and recommendation stages."""
    incidents = filter_incidents(inputs.incidents, config)
    count = None
    if client is not None:
        from functools import partial

        from planner import dask_engine

        keep = partial(filter_incidents, config=config)

        def count(cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
            return dask_engine.count_cells(client, inputs.partitions, cells, keep=keep)

    found = compute_hotspots(incidents, inputs.study_area, config, count=count)
    crs_text = inputs.crs.to_string() if hasattr(inputs.crs, "to_string") else str(inputs.crs)
    return Plan(
        config=config,
        crs=inputs.crs,
        incidents=incidents,
        quarantine=inputs.quarantine,
        ingest_report=inputs.report,
        study_area=inputs.study_area,
        cells=found.cells,
        hotspots=found.hotspots,
        surfaces=found.surfaces,
        layers=inputs.layers,
        params={
            **found.params,
            "analysis_crs": crs_text,
            "study_area": inputs.boundary_source,
            "n_incidents": len(incidents),
            "engine": config.engine,
        },
        inputs=inputs.checksums,
        warnings=list(inputs.report.get("warnings", [])),
    )


def _later_stages() -> list[tuple[str, Stage]]:
    """Environment, risk, recommendation and portfolio stages, in order."""
    return [
        ("space-time", add_space_time),
        ("exposure", add_exposure),
        ("risk", add_risk),
        ("recommend", add_recommendations),
    ]


STAGE_NAMES = ("space-time", "exposure", "risk", "recommend")


def add_space_time(plan: Plan) -> Plan:
    """Emerging hot-spot categories on the cells and a near-repeat (Knox) table, when the data allow."""
    from planner.hotspots.emerging import emerging_hotspots
    from planner.hotspots.nearrepeat import knox_from_incidents, thin_for_knox

    analyses = plan.ingest_report.get("fitness", {}).get("analyses", {})
    cells, params = plan.cells, dict(plan.params)
    evaluation, notes = dict(plan.evaluation), list(plan.warnings)
    if analyses.get("emerging_hotspots", {}).get("ok") and {"row", "col"} <= set(cells.columns):
        ehsa = emerging_hotspots(plan.incidents, cells)
        cols = ["ehsa_category", "mk_tau", "mk_z", "mk_p", "n_sig_hot_bins", "n_sig_cold_bins"]
        cells = cells.assign(**{c: ehsa[c].to_numpy() for c in cols})
        params["emerging"] = ehsa.attrs["ehsa"]
    burglary = plan.incidents[plan.incidents["category"] == "burglary"]
    burglary.attrs = dict(plan.incidents.attrs)
    if analyses.get("near_repeat", {}).get("ok") and len(burglary) >= 30:
        burglary, note = thin_for_knox(burglary, radius_m=400.0, seed=plan.config.seed)
        if note:
            notes.append(note)
        knox = knox_from_incidents(
            burglary,
            distance_breaks_m=[0, 0.01, 100, 200, 300, 400, "inf"],
            time_breaks_days=[0, 7, 14, 21, 28, "inf"],
            permutations=199,
            rng=plan.config.seed,
        )
        evaluation["near_repeat_burglary"] = knox.to_dict()
    return dataclasses.replace(plan, cells=cells, params=params, evaluation=evaluation, warnings=notes)


def add_exposure(plan: Plan, *, client: Any = None) -> Plan:
    """Exposure columns on cells and hotspots (when there are environmental layers).

    With a Dask ``client`` the cells' exposure is computed on its workers.
    """
    if not plan.layers:
        return plan
    from planner import exposure

    if client is not None:
        from planner import dask_engine

        cells = dask_engine.exposure_for_cells(client, plan.cells, plan.layers)
    else:
        cells = exposure.exposure_for_cells(plan.cells, plan.layers)
    hotspots = plan.hotspots
    if len(hotspots):
        hotspots = exposure.exposure_for_hotspots(hotspots, plan.layers)
    return dataclasses.replace(plan, cells=cells, hotspots=hotspots)


def add_risk(plan: Plan) -> Plan:
    """Risk terrain on its own fine grid (per crime type), projected onto the hotspot cells.

    Adds ``risk_rrs`` to the cells, the factor table (``risk_factors``, one row per crime type and
    factor with its stability verdict), the fine ``risk_rrs`` surface and ``params["risk"]``
    (grid, distances, crime types, CPU and wall seconds of the stage).
    """
    if not plan.layers:
        return plan
    from planner.risk.fine import fine_options, fit_fine_terrain

    cpu0, wall0 = time.process_time(), time.perf_counter()
    try:
        terrain = fit_fine_terrain(plan.incidents, plan.study_area, plan.layers, fine_options(plan.config))
    except InsufficientDataError as exc:
        note = f"Risk terrain skipped: {exc}"
        return dataclasses.replace(
            plan, params={**plan.params, "risk": {"skipped": str(exc)}}, warnings=[*plan.warnings, note]
        )
    scores = np.asarray(terrain.project(plan.cells, plan.layers), dtype=float)
    surface = terrain.surface(plan.layers)
    families = sorted({m.family_ for m in terrain.models.values()})
    timing = {"cpu_s": round(time.process_time() - cpu0, 3), "wall_s": round(time.perf_counter() - wall0, 3)}
    return dataclasses.replace(
        plan,
        risk_factors=terrain.factors,
        cells=plan.cells.assign(risk_rrs=scores),
        surfaces={**plan.surfaces, "risk_rrs": surface},
        params={
            **plan.params,
            "risk_family": families[0] if len(families) == 1 else ", ".join(families),
            "risk": {**terrain.params, "timing": timing},
        },
    )


def risk_model(config: RunConfig) -> Any:
    """The risk-terrain estimator with the run's settings (unfitted), for cells given by the user."""
    from planner.risk import RiskTerrain

    distances = tuple(config.risk_distances_m) if config.risk_distances_m else (100.0, 200.0, 400.0)
    return RiskTerrain(distances_m=distances, family=config.risk_family, random_state=config.seed)


def add_recommendations(plan: Plan) -> Plan:
    """Ranked interventions per hotspot and, with a budget, the portfolio."""
    if not len(plan.hotspots):
        return plan
    from planner.hotspots.polygons import hotspot_wards
    from planner.interventions.portfolio import choose_portfolio

    config = plan.config
    hotspots = plan.hotspots
    recs = _recommend(hotspots, plan.incidents, config)
    wards = plan.layers.get("wards")
    if isinstance(wards, gpd.GeoDataFrame) and len(wards) and recs is not None:
        ward_of = hotspot_wards(hotspots, wards)
        hotspots = hotspots.assign(ward_id=hotspots["hotspot_id"].map(ward_of))
        recs = recs.assign(ward_id=recs["hotspot_id"].map(ward_of))
    portfolio = plan.portfolio
    if config.budget is not None and recs is not None and len(recs):
        portfolio = choose_portfolio(
            recs,
            budget=config.budget,
            objective=config.objective,
            max_surveillance_share=config.max_surveillance_share,
            min_per_ward=config.min_per_ward,
        )
    return dataclasses.replace(plan, hotspots=hotspots, recommendations=recs, portfolio=portfolio)


def rerank_with_edit(plan: Plan, edit: Any) -> tuple[gpd.GeoDataFrame, pd.DataFrame | None, dict[str, Any]]:
    """What-if: apply an environmental edit, re-measure the affected hotspots, re-rank measures.

    Returns the updated hotspots, the new recommendations and the edited layers; ``plan`` is
    unchanged. ``edit`` is built with :mod:`planner.exposure.whatif` (``add_lamps``, ``fix_lamp``,
    ``add_camera``, ``turn_camera``, ``close_access``).
    """
    from planner.exposure import whatif

    edited = whatif.apply_edit(plan.layers, edit)
    hotspots = whatif.reexpose(plan.hotspots, plan.layers, edited)
    return hotspots, _recommend(hotspots, plan.incidents, plan.config), edited


def _recommend(hotspots: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame, config: RunConfig) -> pd.DataFrame:
    """Ranked measures per hotspot with the run's options (one call for the run and what-if edits)."""
    from planner.interventions.recommend import recommend

    return recommend(
        hotspots,
        incidents,
        currency=config.currency,
        allow_access_restriction=config.allow_access_restriction,
        allow_surveillance_priority=config.allow_surveillance_priority,
        random_state=config.seed,
    )
