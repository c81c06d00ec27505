"""Compose the stages into one run: ``run(config) -> Plan``.

Every stage is a pure function from the stage modules; this module only decides the order, passes
the analysis CRS along, records automatically chosen parameters and reports progress. The CLI, the
dashboard and the exports all call :func:`run` (or the same stage functions).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from planner.config import SAMPLE_DIR, RunConfig
from planner.errors import ConfigError, DataLoadError, InsufficientDataError
from planner.plan import Plan, file_checksum
from planner.surface import Surface

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

SAMPLE_CRS = "EPSG:32630"
MIN_INCIDENTS = 30


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


def _split_layer_ref(ref: str) -> tuple[str, str | None]:
    """'file.gpkg::layer' → (file, layer)."""
    if "::" in ref:
        path, layer = ref.split("::", 1)
        return path, layer
    return ref, None


def load_inputs(config: RunConfig, *, client: Any = None) -> dict[str, Any]:
    """Ingest incidents, study area and layers, all in one analysis CRS.

    With a Dask ``client`` the incident partitions are read on its workers; their futures are
    returned as ``"partitions"`` for counting there.
    """
    from planner import dask_engine, grid, io

    sources: dict[str, Any]
    if config.uses_sample_city:
        sources = sample_city_sources()
    else:
        sources = {
            "incidents": config.incidents,
            "crs": config.crs,
            "boundary": config.boundary,
            "layers": {},
        }
    sources["layers"] = {**sources.get("layers", {}), **config.layers}

    read_options: dict[str, Any] = {
        "crs": sources["crs"] or config.crs,
        "analysis_crs": config.analysis_crs,
        "columns": config.columns or None,
        "default_category": config.default_category,
    }
    partitions: list[Any] = []
    if client is not None:
        result, partitions = dask_engine.read_incidents(client, sources["incidents"], **read_options)
    else:
        result = io.read_incidents(sources["incidents"], **read_options)
    incidents = result.incidents
    crs = incidents.crs

    if sources.get("boundary"):
        path, layer = _split_layer_ref(sources["boundary"])
        study_area = io.read_layer(path, kind="boundary", layer=layer, analysis_crs=crs)
        study_area = gpd.GeoDataFrame(geometry=[study_area.union_all()], crs=crs)
        boundary_source = "given"
    else:
        study_area = grid.study_area_from_incidents(incidents)
        boundary_source = "buffered hull of the incidents"

    layers: dict[str, Any] = {}
    for kind, ref in sources["layers"].items():
        path, layer = _split_layer_ref(ref)
        if Path(path).suffix.lower() in {".tif", ".tiff"}:
            layers[kind] = io.read_raster(path)
        else:
            layers[kind] = io.read_layer(path, kind=kind, layer=layer, analysis_crs=crs)
    incident_files = (
        dask_engine.partitions(sources["incidents"]) if client is not None else [str(sources["incidents"])]
    )
    inputs = [file_checksum(_split_layer_ref(f)[0]) for f in incident_files]
    if sources.get("boundary"):
        inputs.append(file_checksum(_split_layer_ref(sources["boundary"])[0]))
    inputs += [file_checksum(_split_layer_ref(ref)[0]) for ref in sources["layers"].values()]
    unique_inputs = list({d["path"]: d for d in inputs}.values())
    report = result.report.to_dict()
    return {
        "incidents": incidents,
        "quarantine": result.quarantine,
        "report": report,
        "study_area": study_area,
        "boundary_source": boundary_source,
        "layers": layers,
        "crs": crs,
        "inputs": unique_inputs,
        "partitions": partitions,
    }


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
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict[str, Surface], dict[str, Any]]:
    """Grid, counts, KDE and Gi* hotspots. Returns (cells, hotspots, surfaces, chosen params).

    ``count(cells)`` replaces the in-memory cell counts (the Dask engine counts on its workers).
    """
    from planner import grid
    from planner.hotspots import gistar, kde, polygons

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
    hotspots, cells = polygons.hotspots_from_cells(
        cells,
        incidents,
        min_bin=config.min_bin,
        max_cells=config.max_hotspot_cells,
        split_by=config.hotspot_split_by,
    )
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
    }
    return cells, hotspots, {"density": density}, params


def run(config: RunConfig | None = None, *, progress: Progress | None = None) -> Plan:
    """Run the whole pipeline and return the :class:`Plan` (nothing is written).

    ``config.engine == "dask"`` runs ingest, grid counts and exposure on a Dask cluster (the one at
    ``config.scheduler``, else a local one); the plan is identical to the in-memory engine's.
    """
    config = config or RunConfig()
    if config.engine == "dask":
        from planner import dask_engine

        with dask_engine.connect(config.scheduler) as client:
            return _run(config, progress or _noop, client)
    return _run(config, progress or _noop, None)


def _run(config: RunConfig, report: Progress, client: Any) -> Plan:
    t0 = time.perf_counter()
    timings: dict[str, float] = {}

    def mark(stage: str) -> None:
        timings[stage] = round(time.perf_counter() - t0 - sum(timings.values()), 3)

    report(0.02, "Reading incidents and layers")
    inputs = load_inputs(config, client=client)
    mark("ingest")
    incidents = filter_incidents(inputs["incidents"], config)

    report(0.3, "Finding hotspots")
    count = None
    if client is not None:
        from functools import partial

        from planner import dask_engine

        keep = partial(filter_incidents, config=config)

        def count(cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
            return dask_engine.count_cells(client, inputs["partitions"], cells, keep=keep)

    cells, hotspots, surfaces, params = compute_hotspots(incidents, inputs["study_area"], config, count=count)
    mark("hotspots")

    plan = Plan(
        config=config,
        crs=inputs["crs"],
        incidents=incidents,
        quarantine=inputs["quarantine"],
        ingest_report=inputs["report"],
        study_area=inputs["study_area"],
        cells=cells,
        hotspots=hotspots,
        surfaces=surfaces,
        layers=inputs["layers"],
        params={
            **params,
            "analysis_crs": str(
                inputs["crs"].to_string() if hasattr(inputs["crs"], "to_string") else inputs["crs"]
            ),
            "study_area": inputs["boundary_source"],
            "n_incidents": len(incidents),
        },
        inputs=inputs["inputs"],
        warnings=list(inputs["report"].get("warnings", [])),
    )
    plan.params["engine"] = config.engine
    for stage, fn in _later_stages():
        report(0.5, stage)
        plan = add_exposure(plan, client=client) if fn is add_exposure else fn(plan)
        mark(stage)
    plan.params["timings_s"] = timings
    report(1.0, "Done")
    logger.info("pipeline finished in %.1f s: %s", time.perf_counter() - t0, timings)
    return plan


def _later_stages() -> list[tuple[str, Callable[[Plan], Plan]]]:
    """Environment, risk, recommendation and portfolio stages, in order."""
    return [
        ("space-time", add_space_time),
        ("exposure", add_exposure),
        ("risk", add_risk),
        ("recommend", add_recommendations),
    ]


def add_space_time(plan: Plan) -> Plan:
    """Emerging hot-spot categories on the cells and a near-repeat (Knox) table, when the data allow."""
    from planner.hotspots.emerging import emerging_hotspots
    from planner.hotspots.nearrepeat import knox_from_incidents

    analyses = plan.ingest_report.get("fitness", {}).get("analyses", {})
    if analyses.get("emerging_hotspots", {}).get("ok") and {"row", "col"} <= set(plan.cells.columns):
        ehsa = emerging_hotspots(plan.incidents, plan.cells)
        cols = ["ehsa_category", "mk_tau", "mk_z", "mk_p", "n_sig_hot_bins", "n_sig_cold_bins"]
        plan.cells = plan.cells.assign(**{c: ehsa[c].to_numpy() for c in cols})
        plan.params["emerging"] = ehsa.attrs["ehsa"]
    if analyses.get("near_repeat", {}).get("ok"):
        burglary = plan.incidents[plan.incidents["category"] == "burglary"]
        burglary.attrs = dict(plan.incidents.attrs)
        if len(burglary) >= 30:
            burglary, note = _thin_for_knox(burglary, radius_m=400.0, seed=plan.config.seed)
            if note:
                plan.warnings.append(note)
            knox = knox_from_incidents(
                burglary,
                distance_breaks_m=[0, 0.01, 100, 200, 300, 400, "inf"],
                time_breaks_days=[0, 7, 14, 21, 28, "inf"],
                permutations=199,
                rng=plan.config.seed,
            )
            plan.evaluation["near_repeat_burglary"] = knox.to_dict()
    return plan


KNOX_MAX_PAIRS = 500_000


def _thin_for_knox(
    events: gpd.GeoDataFrame, *, radius_m: float, seed: int, max_pairs: int = KNOX_MAX_PAIRS
) -> tuple[gpd.GeoDataFrame, str | None]:
    """A seeded random subsample of ``events`` small enough for the Knox test, and a note saying so.

    The Knox test's time and memory grow with the number of pairs within ``radius_m``; in a dense
    million-incident city that number runs to billions. The expected number of close pairs is
    estimated in O(n) from counts in ``radius_m`` squares (pairs within the 3 × 3 block, scaled
    by the disc's share of it); above ``max_pairs`` the events are thinned at random, which keeps
    the space-time interaction ratio (observed / expected) unbiased at lower power.
    """
    xy = np.c_[events.geometry.x.to_numpy(), events.geometry.y.to_numpy()]
    ij = np.floor((xy - xy.min(axis=0)) / radius_m).astype(np.int64)
    counts = np.zeros((int(ij[:, 1].max()) + 3, int(ij[:, 0].max()) + 3))
    np.add.at(counts, (ij[:, 1] + 1, ij[:, 0] + 1), 1.0)
    block = sum(np.roll(np.roll(counts, dy, 0), dx, 1) for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    estimate = float((counts * (block - 1)).sum()) / 2 * np.pi / 9
    if estimate <= max_pairs:
        return events, None
    k = max(30, int(len(events) * np.sqrt(max_pairs / estimate)))
    keep = np.sort(np.random.default_rng(seed).choice(len(events), size=k, replace=False))
    thinned = events.iloc[keep]
    thinned.attrs = dict(events.attrs)
    note = (
        f"Near-repeat (Knox) test run on a random sample of {k:,} of the {len(events):,} burglaries "
        f"(about {estimate:,.0f} pairs lie within {radius_m:g} m, more than the {max_pairs:,} the test "
        "handles in seconds); the Knox ratios stay unbiased, the p-values are less sharp."
    )
    return thinned, note


def add_exposure(plan: Plan, *, client: Any = None) -> Plan:
    """Exposure columns on cells and hotspots (when there are environmental layers).

    With a Dask ``client`` the cells' exposure is computed on its workers.
    """
    if not plan.layers:
        return plan
    from planner import exposure

    if client is not None:
        from planner import dask_engine

        plan.cells = dask_engine.exposure_for_cells(client, plan.cells, plan.layers)
    else:
        plan.cells = exposure.exposure_for_cells(plan.cells, plan.layers)
    if len(plan.hotspots):
        plan.hotspots = exposure.exposure_for_hotspots(plan.hotspots, plan.layers)
    return plan


def add_risk(plan: Plan) -> Plan:
    """Risk-terrain factors and the relative-risk surface (when there are layers)."""
    if not plan.layers:
        return plan
    from planner.risk import RiskTerrain

    model = RiskTerrain(random_state=plan.config.seed).fit(plan.cells, plan.layers)
    plan.risk_factors = model.factors_
    scores = model.predict(plan.cells, plan.layers)
    plan.cells = plan.cells.assign(risk_rrs=scores)
    plan.surfaces["risk_rrs"] = model.to_surface(plan.cells, scores=np.asarray(scores, dtype=float))
    plan.params["risk_family"] = getattr(model, "family_", None)
    return plan


def add_recommendations(plan: Plan) -> Plan:
    """Ranked interventions per hotspot and, with a budget, the portfolio.

    The jurisdiction (costs, currency, law) is chosen from the study area's location unless the
    config names it; the resolved jurisdiction and currency are written back into ``plan.config``
    so the manifest reproduces them.
    """
    if not len(plan.hotspots):
        return plan
    from planner.interventions.portfolio import choose_portfolio

    plan.recommendations = _recommend_for(plan, plan.hotspots, plan.layers)
    assumptions = dict(plan.recommendations.attrs.get("assumptions", {}))
    plan.params["recommend"] = assumptions
    plan.config = plan.config.model_copy(
        update={
            "jurisdiction": assumptions.get("jurisdiction") or "none",
            "currency": assumptions.get("currency"),
        }
    )
    if assumptions.get("jurisdiction") is None:
        plan.warnings.append(f"Recommendations are not costed: {assumptions.get('jurisdiction_how')}.")
    wards = plan.layers.get("wards")
    if isinstance(wards, gpd.GeoDataFrame) and len(wards) and plan.recommendations is not None:
        ward_of = hotspot_wards(plan.hotspots, wards)
        plan.hotspots = plan.hotspots.assign(ward_id=plan.hotspots["hotspot_id"].map(ward_of))
        plan.recommendations = plan.recommendations.assign(
            ward_id=plan.recommendations["hotspot_id"].map(ward_of)
        )
    costed = (
        plan.recommendations is not None and len(plan.recommendations) and assumptions.get("jurisdiction")
    )
    if plan.config.budget is not None and costed:
        plan.portfolio = choose_portfolio(
            plan.recommendations,
            budget=plan.config.budget,
            objective=plan.config.objective,
            max_surveillance_share=plan.config.max_surveillance_share,
            min_per_ward=plan.config.min_per_ward,
        )
    return plan


def _recommend_for(plan: Plan, hotspots: gpd.GeoDataFrame, layers: dict[str, Any]) -> gpd.GeoDataFrame:
    """``recommend`` with the run's options (jurisdiction, currency, ranking rule, seed)."""
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


def hotspot_wards(hotspots: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> dict[str, str]:
    """Ward of each hotspot: the ward (``ward_id``, else ``name``, else row number) holding most of
    its area."""
    if not len(hotspots):
        return {}
    key = next((c for c in ("ward_id", "ward", "name") if c in wards.columns), None)
    labels = (
        wards[key].astype(str).to_numpy() if key else np.array([f"ward {i + 1}" for i in range(len(wards))])
    )
    w = wards.to_crs(hotspots.crs) if wards.crs is not None and wards.crs != hotspots.crs else wards
    h_geoms = np.asarray(hotspots.geometry.values)
    w_geoms = np.asarray(w.geometry.values)
    hi, wi = shapely.STRtree(w_geoms).query(h_geoms, predicate="intersects")
    out: dict[str, str] = {}
    if len(hi):
        area = shapely.area(shapely.intersection(h_geoms[hi], w_geoms[wi]))
        best: dict[int, tuple[float, int]] = {}
        for h, wd, a in zip(hi, wi, area, strict=True):
            if int(h) not in best or a > best[int(h)][0]:
                best[int(h)] = (float(a), int(wd))
        ids = hotspots["hotspot_id"].astype(str).to_numpy()
        out = {ids[h]: str(labels[wd]) for h, (_, wd) in best.items()}
    return out


def rerank_with_edit(plan: Plan, edit: Any) -> tuple[gpd.GeoDataFrame, pd.DataFrame | None, dict[str, Any]]:
    """What-if: apply an environmental edit, re-measure the affected hotspots, re-rank measures.

    Returns the updated hotspots, the new recommendations and the edited layers; ``plan`` is
    unchanged. ``edit`` is built with :mod:`planner.whatif` (``add_lamps``, ``fix_lamp``,
    ``add_camera``, ``turn_camera``, ``close_access``).
    """
    from planner import whatif

    edited = whatif.apply_edit(plan.layers, edit)
    hotspots = whatif.reexpose(plan.hotspots, plan.layers, edited)
    recs = _recommend_for(plan, hotspots, edited)
    return hotspots, recs, edited
