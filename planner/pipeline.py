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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import _hints
from planner.config import SAMPLE_DIR, RunConfig
from planner.errors import InsufficientDataError
from planner.inputs import (
    SAMPLE_CRS,
    Inputs,
    check_layer_kinds,
    filter_incidents,
    load_inputs,
    run_layers,
    sample_city_sources,
)
from planner.plan import Plan, file_checksum
from planner.surface import Surface

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
Stage = Callable[[Plan], Plan]

MIN_INCIDENTS = 30


@dataclass(frozen=True)
class HotspotResult:
    """Cells with counts, KDE and Gi*; hotspot polygons; surfaces; the parameters used."""

    cells: gpd.GeoDataFrame
    hotspots: gpd.GeoDataFrame
    surfaces: dict[str, Surface]
    params: dict[str, Any]


def _noop(_fraction: float, _message: str) -> None:
    return None


def compute_hotspots(
    incidents: gpd.GeoDataFrame,
    study_area: gpd.GeoDataFrame,
    config: RunConfig,
    *,
    count: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame] | None = None,
) -> HotspotResult:
    """Grid, counts, KDE and Gi* hotspots with the parameters chosen.

    ``count(cells)`` replaces the in-memory cell counts (the Dask engine counts on its workers).
    Without usable dates the density is incidents per km² over the whole period and no rate per
    year is computed (``params["period_years"]`` is None).
    """
    from planner import grid
    from planner.evaluate import forecast
    from planner.hotspots import gistar, kde, polygons

    if len(incidents) < MIN_INCIDENTS:
        widen = _hints.hint("date_from=/date_to= or categories=", "--date-from/--date-to or --only-category")
        raise InsufficientDataError(
            f"Only {len(incidents)} incidents remain after filtering; hotspot analysis needs at least "
            f"{MIN_INCIDENTS}. Widen the date range or include more categories ({widen})."
        )
    if config.cell_size_m:
        cell_size, cell_rule = float(config.cell_size_m), "given"
    else:
        cell_size, cell_rule = grid.choose_cell_size(study_area, n_incidents=len(incidents))
    cells = grid.grid_from_boundary(study_area, cell_size_m=cell_size, kind=config.grid_kind)
    cells = count(cells) if count is not None else grid.count_incidents(cells, incidents)
    years = polygons.period_years_of(incidents)
    period = years if np.isfinite(years) and years > 0 else None  # None: no usable dates
    density = kde.kde_surface(
        incidents,
        cell_size_m=cell_size,
        bandwidth_m=config.bandwidth_m or kde.CELL_TIED_RULE,
        kernel=config.kernel,
        period_years=period,
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
        period_years=period,
    )
    cells = surface.restore(cells)
    params = _hotspot_params(config, cells, hotspots, density, cell_rule=cell_rule, period_years=period)
    params["hotspot_surface"] = surface.params
    return HotspotResult(cells, hotspots, {"density": density}, params)


def _hotspot_params(
    config: RunConfig,
    cells: gpd.GeoDataFrame,
    hotspots: gpd.GeoDataFrame,
    density: Surface,
    *,
    cell_rule: str,
    period_years: float | None,
) -> dict[str, Any]:
    """Every parameter of the hotspot stage, the automatic ones with the rule that chose them."""
    from planner.hotspots import concentration

    return {
        "cell_size_m": float(density.params["cell_size_m"]),
        "cell_size_rule": cell_rule,
        "grid_kind": config.grid_kind,
        "n_cells": len(cells),
        "bandwidth_m": float(density.params["bandwidth_m"]),
        "bandwidth_rule": density.params.get("bandwidth_rule", "given"),
        "kernel": config.kernel,
        "period_years": period_years,
        "density_units": density.units,
        "neighbourhood": config.neighbourhood,
        "fdr": config.fdr,
        "q": config.q,
        "min_bin": config.min_bin,
        "max_hotspot_cells": config.max_hotspot_cells,
        "largest_hotspot_cells": int(hotspots["n_cells"].max()) if len(hotspots) else 0,
        "hotspot_split_by": config.hotspot_split_by,
        "n_hotspots": len(hotspots),
        "concentration": concentration.concentration_summary(cells["n_incidents"]),
    }


def _with_layer_dirs(stage: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``stage(plan, ...)`` with the plan's user layer-spec folders (``config.layer_dirs``) in
    effect, so every registry the stage loads knows the user's own kinds.
    """
    from functools import wraps

    from planner.exposure.layers import user_layer_dirs

    @wraps(stage)
    def with_dirs(plan: Plan, *args: Any, **kwargs: Any) -> Any:
        with user_layer_dirs(plan.config.layer_dirs):
            return stage(plan, *args, **kwargs)

    return with_dirs


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
    ``config.layer_dirs`` (the user's own layer specs) are in effect for every stage.
    """
    from planner.exposure.layers import user_layer_dirs

    config = config or RunConfig()
    with user_layer_dirs(config.layer_dirs):
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
# with nothing to do (no layers, no dates) are left out before normalising, and the shares of the
# stages after ingest are recomputed once ingest has said whether there are dates.
_STAGE_WEIGHT = {
    "ingest": 2.0,
    "hotspots": 1.0,
    "space-time": 1.0,
    "exposure": 1.5,
    "risk": 5.0,
    "recommend": 1.0,
    "perception": 0.5,
}


def _active(name: str, config: RunConfig, *, dated: bool) -> bool:
    """Whether a stage has work: exposure and risk need layers, space-time and recommend need dates,
    perception needs safety audits.
    """
    if name in {"exposure", "risk"}:
        return bool(config.layers) or config.uses_sample_city
    if name in {"space-time", "recommend"}:
        return dated
    if name == "perception":
        return audit_source(config) is not None
    return True


def _stage_shares(names: list[str], *, start: float = 0.0) -> dict[str, float]:
    """Each stage's share of the run (by :data:`_STAGE_WEIGHT`), scaled into ``[start, 1]``."""
    total = sum(_STAGE_WEIGHT[n] for n in names) or 1.0
    return {n: (1.0 - start) * _STAGE_WEIGHT[n] / total for n in names}


def _run(config: RunConfig, report: Progress, client: Any, stages: tuple[str, ...] | None) -> Plan:
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    notes: list[str] = []
    chosen = [(name, fn) for name, fn in _later_stages() if stages is None or name in stages]
    planned = ["ingest", "hotspots", *(n for n, _ in chosen if _active(n, config, dated=True))]
    shares = _stage_shares(planned)
    done = 0.0

    def finish(stage: str) -> None:
        nonlocal done
        timings[stage] = round(time.perf_counter() - t0 - sum(timings.values()), 3)
        done += shares.get(stage, 0.0)

    report(0.0, "Reading incidents and layers")
    with _collect_warnings(notes):
        inputs = load_inputs(config, client=client)
    finish("ingest")
    dated = inputs.report.get("time_resolution", "none") != "none"
    active = [n for n, _ in chosen if _active(n, config, dated=dated)]
    shares = {"ingest": shares["ingest"], **_stage_shares(["hotspots", *active], start=done)}
    report(min(done, 0.99), "Finding hotspots")
    with _collect_warnings(notes):
        plan = _initial_plan(config, inputs, client)
    finish("hotspots")
    for name, fn in chosen:
        if name in active:
            report(min(done, 0.99), f"Stage: {name}")
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
    plan = Plan(
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
    return _with_category_report(skip(plan, data_limits(inputs.report)))


LABELS = {
    "rates_per_year": "rates per year",
    "space_time": "space-time patterns (emerging hot spots)",
    "near_repeat": "near-repeat analysis",
    "time_of_day": "time of day (night share, hour profiles)",
    "recommendations": "recommendations",
    "evaluations": "evaluations",
}


NO_DATES = "the incident data have no usable dates"


def data_limits(report: dict[str, Any]) -> dict[str, str]:
    """Analyses of the hotspot stage the incident data cannot support, with the reason (from the
    ingest report); the later stages record their own (space-time, recommendations).
    """
    from planner._hours import has_time_of_day

    resolution = report.get("time_resolution") or "none"
    if resolution == "none":
        return {
            "rates_per_year": f"{NO_DATES}; the density is incidents per km² over the whole period and hotspots "
            "carry counts, not counts per year",
            "time_of_day": NO_DATES,
            "evaluations": f"{NO_DATES}; backtests and before/after evaluations (planner backtest, planner "
            "evaluate) need dates",
        }
    if not has_time_of_day(resolution):
        return {
            "time_of_day": f"dates are at {resolution} resolution with no time of day, so the night share and "
            "hour profiles are unknown (a time of 00:00 is not midnight)"
        }
    return {}


def skip_message(name: str, reason: str) -> str:
    """The warning that says an analysis was skipped and why."""
    return f"Skipped {LABELS.get(name, name.replace('_', ' '))}: {reason}."


def skip(plan: Plan, reasons: dict[str, str]) -> Plan:
    """``plan`` with ``reasons`` (analysis → why it was skipped) recorded in ``params["skipped_analyses"]``
    and one warning each; analyses already recorded keep their first reason.
    """
    known = dict(plan.params.get("skipped_analyses", {}))
    new = {k: v for k, v in reasons.items() if k not in known}
    if not new:
        return plan
    notes = [skip_message(k, v) for k, v in new.items()]
    return dataclasses.replace(
        plan,
        params={**plan.params, "skipped_analyses": {**known, **new}},
        warnings=[*plan.warnings, *notes],
    )


def _with_category_report(plan: Plan) -> Plan:
    """``plan`` with the categories no measure addresses (counts, source names, reasons)."""
    from planner.category_report import categories_without_measure, summary_line
    from planner.io.incidents import as_category_map

    entries = categories_without_measure(
        plan.incidents,
        category_map=as_category_map(list(plan.config.category_map) or None),
        allow_access_restriction=plan.config.allow_access_restriction,
    )
    line = summary_line(entries, len(plan.incidents))
    notes = [line] if line else []
    return dataclasses.replace(
        plan,
        params={
            **plan.params,
            "categories_without_measure": {
                e["category"]: {k: v for k, v in e.items() if k != "category"} for e in entries
            },
            _MEASURE_NOTES: [*plan.params.get(_MEASURE_NOTES, []), *notes],
        },
        warnings=[*plan.warnings, *notes],
    )


def _later_stages() -> list[tuple[str, Stage]]:
    """Environment, risk, recommendation and portfolio stages, in order."""
    return [
        ("space-time", add_space_time),
        ("exposure", add_exposure),
        ("risk", add_risk),
        ("recommend", add_recommendations),
        ("perception", add_perception),
    ]


STAGE_NAMES = ("space-time", "exposure", "risk", "recommend", "perception")


def audit_source(config: RunConfig, sample_dir: Path = SAMPLE_DIR) -> str | None:
    """The audit file of a run: ``config.audits``; the sample city's by default; None when off."""
    if config.audits is not None:
        return None if config.audits.strip().lower() in {"", "none"} else config.audits
    path = sample_dir / "audits.csv"
    return str(path) if config.uses_sample_city and path.exists() else None


def add_perception(plan: Plan) -> Plan:
    """Perceived-safety surfaces per auditor group and period and the fear-vs-crime layers, when the
    run has safety audits (:mod:`planner.perception`).
    """
    from planner import perception

    source = audit_source(plan.config)
    if source is None:
        return plan
    crs = plan.config.audits_crs or (SAMPLE_CRS if plan.config.uses_sample_city else plan.config.crs)
    imported = perception.read_audits(source, crs=crs, analysis_crs=plan.crs, study_area=plan.study_area)
    result = perception.perception_from_audits(imported, plan.cells, plan.incidents)
    return dataclasses.replace(
        plan,
        perception=result,
        warnings=[*plan.warnings, *result.warnings],
        params={
            **plan.params,
            "perception": {**result.params, "audits": source, "rows": imported.report["rows_read"]},
        },
        inputs=[*plan.inputs, file_checksum(source)],
    )


def add_space_time(plan: Plan) -> Plan:
    """Emerging hot-spot categories on the cells and a near-repeat (Knox) table, when the data allow."""
    from planner.hotspots.emerging import emerging_hotspots
    from planner.hotspots.nearrepeat import knox_from_incidents, thin_for_knox

    analyses = plan.ingest_report.get("fitness", {}).get("analyses", {})
    plan = skip(plan, _space_time_limits(plan, analyses))
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


def _space_time_limits(plan: Plan, analyses: dict[str, Any]) -> dict[str, str]:
    """Why emerging hot spots or the near-repeat test cannot run on this plan's data."""
    if plan.incidents.attrs.get("time_resolution") == "none":
        return {"space_time": NO_DATES, "near_repeat": NO_DATES}
    out: dict[str, str] = {}
    emerging = analyses.get("emerging_hotspots", {})
    if not emerging.get("ok"):
        out["space_time"] = emerging.get("reason", "the data do not support it")
    near = analyses.get("near_repeat", {})
    n_burglary = int((plan.incidents["category"] == "burglary").sum())
    if not near.get("ok"):
        out["near_repeat"] = near.get("reason", "the data do not support it")
    elif n_burglary < 30:
        out["near_repeat"] = (
            f"the near-repeat test runs on burglaries and there are {n_burglary} (it needs 30)"
        )
    return out


@_with_layer_dirs
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


@_with_layer_dirs
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


# Settings read only by the appraisal (the recommendation stage, its portfolio and the report of
# crime types no measure addresses): a plan can be re-appraised under new values of these without
# running ingest, hotspots, space-time, exposure, risk or perception again (recommend_again).
RECOMMEND_FIELDS = frozenset(
    {
        "budget",
        "objective",
        "max_surveillance_share",
        "min_per_ward",
        "jurisdiction",
        "currency",
        "price_year",
        "rank_by",
        "allow_access_restriction",
        "allow_surveillance_priority",
    }
)
# The plan's warnings that came from the appraisal (taken back when it is redone); a "_" key is
# internal and never written to the manifest
_MEASURE_NOTES = "_measure_notes"


def same_but_appraisal(a: RunConfig, b: RunConfig) -> bool:
    """Whether two configurations differ at most in :data:`RECOMMEND_FIELDS`."""
    return a.model_dump(exclude=set(RECOMMEND_FIELDS)) == b.model_dump(exclude=set(RECOMMEND_FIELDS))


def recommend_again(plan: Plan, config: RunConfig) -> Plan:
    """``plan`` re-appraised under ``config``: the same plan that ``run(config)`` gives, with only the
    appraisal redone (ranked measures, portfolio, crime types no measure addresses, their warnings).

    ``config`` may differ from the plan's configuration only in :data:`RECOMMEND_FIELDS` (checked:
    anything else changes the earlier stages and needs :func:`run`).
    """
    if not same_but_appraisal(plan.config, config):
        raise ValueError("recommend_again: the configurations differ beyond the appraisal settings")
    t0 = time.perf_counter()
    taken_back = set(plan.params.get(_MEASURE_NOTES, []))
    params = {k: v for k, v in plan.params.items() if k not in {_MEASURE_NOTES, "recommend", "portfolio"}}
    skipped = {k: v for k, v in params.pop("skipped_analyses", {}).items() if k != "recommendations"}
    if skipped:
        params["skipped_analyses"] = skipped
    base = dataclasses.replace(
        plan,
        config=config,
        recommendations=None,
        portfolio=None,
        params=params,
        warnings=[w for w in plan.warnings if w not in taken_back],
    )
    again = add_recommendations(_with_category_report(base))
    timings = {**plan.params.get("timings_s", {}), "recommend": round(time.perf_counter() - t0, 3)}
    return dataclasses.replace(again, params={**again.params, "timings_s": timings})


@_with_layer_dirs
def add_recommendations(plan: Plan) -> Plan:
    """Ranked interventions per hotspot and, with a budget, the portfolio.

    The jurisdiction (costs, currency, law) is chosen from the study area's location unless the
    config names it; the resolved jurisdiction and currency are written into the new plan's config
    so the manifest reproduces them. Warnings raised while appraising are kept on the plan (and
    marked as the appraisal's, so :func:`recommend_again` can take them back).
    """
    notes: list[str] = []
    with _collect_warnings(notes):
        appraised = _appraise(plan)
    if appraised is plan and not notes:
        return plan
    new = [n for n in notes if n not in appraised.warnings]
    added = [w for w in appraised.warnings if w not in plan.warnings] + new
    return dataclasses.replace(
        appraised,
        warnings=[*appraised.warnings, *new],
        params={**appraised.params, _MEASURE_NOTES: [*plan.params.get(_MEASURE_NOTES, []), *added]},
    )


def _appraise(plan: Plan) -> Plan:
    """:func:`add_recommendations` without its bookkeeping of warnings."""
    if plan.incidents.attrs.get("time_resolution") == "none":
        why = f"{NO_DATES}; crimes prevented per year and benefit-cost need the length of the period"
        return skip(plan, {"recommendations": why})
    if not len(plan.hotspots):
        return plan
    from planner.hotspots.polygons import hotspot_wards

    hotspots = plan.hotspots
    recs = _recommend_for(plan, hotspots, plan.layers)
    assumptions = dict(recs.attrs.get("assumptions", {}))
    config = plan.config.model_copy(
        update={
            "jurisdiction": assumptions.get("jurisdiction") or "none",
            "currency": assumptions.get("currency"),
        }
    )
    warnings_ = list(plan.warnings)
    if assumptions.get("jurisdiction") is None:
        warnings_.append(f"Recommendations are not costed: {assumptions.get('jurisdiction_how')}.")
    wards = plan.layers.get("wards")
    if isinstance(wards, gpd.GeoDataFrame) and len(wards):
        ward_of = hotspot_wards(hotspots, wards)
        hotspots = hotspots.assign(ward_id=hotspots["hotspot_id"].map(ward_of))
        recs = recs.assign(ward_id=recs["hotspot_id"].map(ward_of))
    portfolio, chosen = _portfolio(recs, config, costed=bool(assumptions.get("jurisdiction")))
    return dataclasses.replace(
        plan,
        config=config,
        hotspots=hotspots,
        recommendations=recs,
        portfolio=portfolio,
        warnings=warnings_,
        params={**plan.params, "recommend": assumptions, "portfolio": chosen},
    )


def _portfolio(
    recs: pd.DataFrame, config: RunConfig, *, costed: bool
) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    """The plan's portfolio and its record for the manifest (the rule, budget and totals).

    With ``config.budget`` the exact optimum under it; without one, per hotspot the measure with the
    highest expected net benefit among those that pay back
    (:func:`~planner.interventions.portfolio.paying_portfolio`). Uncosted measures give none.
    """
    from planner.interventions.portfolio import choose_portfolio, paying_portfolio

    if not costed or not len(recs):
        why = (
            "no measures to choose from"
            if costed
            else "nothing is costed, so no measure can be said to pay back"
        )
        return None, {"rule": None, "budget": config.budget, "n_measures": 0, "why_none": why}
    if config.budget is not None:
        portfolio = choose_portfolio(
            recs,
            budget=config.budget,
            objective=config.objective,
            max_surveillance_share=config.max_surveillance_share,
            min_per_ward=config.min_per_ward,
        )
    else:
        portfolio = paying_portfolio(recs)
    a = portfolio.attrs
    return portfolio, {
        "rule": a["rule"],
        "budget": a["budget"],
        "objective": a["objective"],
        "n_measures": len(portfolio),
        "total_cost": round(a["total_cost"], 2),
        "total_net_benefit": round(a["total_net_benefit"], 2),
        "total_prevented_per_year": round(a["total_prevented_per_year"], 3),
    }


def _recommend_for(plan: Plan, hotspots: gpd.GeoDataFrame, layers: dict[str, Any]) -> gpd.GeoDataFrame:
    """``recommend`` with the run's options (jurisdiction, currency, ranking rule, seed); one call
    for the run and for what-if edits.
    """
    from planner.interventions.recommend import recommend

    cfg = plan.config
    return recommend(
        hotspots,
        plan.incidents,
        layers=layers,
        cells=plan.cells,
        jurisdiction=cfg.jurisdiction,
        currency=cfg.currency,
        price_year=cfg.price_year,
        rank_by=cfg.rank_by,
        allow_access_restriction=cfg.allow_access_restriction,
        allow_surveillance_priority=cfg.allow_surveillance_priority,
        random_state=cfg.seed,
    )


@_with_layer_dirs
def rerank_with_edit(plan: Plan, edit: Any) -> tuple[gpd.GeoDataFrame, pd.DataFrame | None, dict[str, Any]]:
    """What-if: apply an environmental edit, re-measure the affected hotspots, re-rank measures.

    Returns the updated hotspots, the new recommendations and the edited layers; ``plan`` is
    unchanged. ``edit`` is built with :mod:`planner.exposure.whatif` (``add_lamps``, ``fix_lamp``,
    ``add_camera``, ``turn_camera``, ``close_access``).
    """
    from planner.exposure import whatif

    edited = whatif.apply_edit(plan.layers, edit)
    hotspots = whatif.reexpose(plan.hotspots, plan.layers, edited)
    return hotspots, _recommend_for(plan, hotspots, edited), edited


__all__ = [  # the stage functions, with the input stage's re-exported from planner.inputs
    "MIN_INCIDENTS",
    "SAMPLE_CRS",
    "SAMPLE_DIR",
    "STAGE_NAMES",
    "HotspotResult",
    "Inputs",
    "add_exposure",
    "add_perception",
    "add_recommendations",
    "add_risk",
    "add_space_time",
    "check_layer_kinds",
    "compute_hotspots",
    "filter_incidents",
    "load_inputs",
    "recommend_again",
    "rerank_with_edit",
    "risk_model",
    "run",
    "run_layers",
    "sample_city_sources",
    "skip",
]
