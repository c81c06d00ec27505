"""The Dask engine: ingest, grid aggregation and exposure on ``distributed`` workers.

``planner run --engine dask [--scheduler ADDRESS]`` reads the incidents partition by partition on
the workers, counts them into the grid there (only one count vector per partition comes back) and
computes exposure partitioned by cell with dask-geopandas. Every partition goes through the same
functions as the in-memory engine (:func:`planner.io.read_incidents`,
:func:`planner.grid.cell_index_of_points`, :func:`planner.exposure.exposure_for_polygons`) and the
counts are integers summed exactly, so the cell tables are identical.

Partitions are files: a directory (or glob) of GeoParquet or CSV files, e.g. a GeoParquet dataset
written per month. A single file is one partition. Partitions are read with one analysis CRS (taken
from the first) and, when a boundary is given, with the same study-area outlier rule; without a
boundary the far-outlier rule is applied per partition.

Beyond one machine's memory, :func:`count_partitions` aggregates any number of partitions in
bounded memory (each task reads, filters and counts one partition and returns only the counts);
``planner run`` additionally gathers the accepted incidents for the stages that need the points
(density, hotspot polygons, space-time, risk, recommendations).
"""

from __future__ import annotations

import glob
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.errors import ConfigError, DataLoadError

logger = logging.getLogger(__name__)

PARTITION_SUFFIXES = (".parquet", ".geoparquet", ".csv", ".csv.gz", ".tsv")


def _require_dask() -> None:
    try:
        import dask  # noqa: F401
        import dask_geopandas  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"The dask engine needs the optional packages dask, dask-geopandas and distributed "
            f"({exc.name} is not installed). Install them with: pip install 'planner[dask]' — "
            "or run with --engine memory."
        ) from None


@contextmanager
def connect(scheduler: str | None = None, *, n_workers: int = 1) -> Iterator[Any]:
    """A ``distributed.Client``: to the scheduler at ``scheduler``, or to a local in-process cluster.

    Raises :class:`ConfigError` (saying how to fix it) when dask is missing or the scheduler cannot
    be reached.
    """
    _require_dask()
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ConfigError(
                f"Could not reach the Dask scheduler at {scheduler!r} ({type(exc).__name__}: "
                f"{str(exc)[:200]}). Start one with 'dask scheduler' and 'dask worker ADDRESS' (the "
                "workers need planner installed), check the address (e.g. tcp://10.0.0.5:8786), or "
                "leave out --scheduler to use a local cluster."
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    with (
        LocalCluster(
            n_workers=n_workers, processes=False, dashboard_address=None, silence_logs=logging.ERROR
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def partitions(source: str | Path | list[str]) -> list[str]:
    """The partition files of ``source``: a file, a list of files, a folder of GeoParquet/CSV files,
    or a glob.
    """
    if isinstance(source, list | tuple):
        return [str(s) for s in source]
    src = str(source)
    if src.startswith(("postgresql://", "postgres://")):
        return [src]
    path = Path(src)
    if path.is_dir():
        files = sorted(str(p) for p in path.rglob("*") if p.is_file() and p.name.endswith(PARTITION_SUFFIXES))
        if not files:
            raise DataLoadError(
                f"The folder {path} holds no GeoParquet or CSV files. Give a folder of .parquet/.csv "
                "partitions, a glob such as 'incidents/*.parquet', or one file."
            )
        return files
    if any(ch in src for ch in "*?["):
        files = sorted(glob.glob(src, recursive=True))
        if not files:
            raise DataLoadError(f"No file matches {src!r}. Check the pattern (e.g. 'incidents/*.parquet').")
        return files
    if not path.exists():
        raise DataLoadError(
            f"{path} does not exist. Check the path (relative paths start from {Path.cwd()})."
        )
    return [src]


def _read(path: str, kwargs: dict[str, Any]) -> Any:
    from planner import io

    return io.read_incidents(path, **kwargs)


def _count(
    cells: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame, keep: Callable[[gpd.GeoDataFrame], Any] | None
) -> tuple[np.ndarray, int]:
    """(count per cell, number of incidents kept) for one partition."""
    from planner.grid import cell_index_of_points

    if keep is not None:
        incidents = keep(incidents)
    pos = cell_index_of_points(cells, incidents)
    return np.bincount(pos[pos >= 0], minlength=len(cells)).astype("int64"), len(incidents)


def _count_result(
    result: Any, cells: gpd.GeoDataFrame, keep: Callable[[gpd.GeoDataFrame], Any] | None
) -> Any:
    return _count(cells, result.incidents, keep)


def _read_and_count(
    path: str,
    kwargs: dict[str, Any],
    cells: gpd.GeoDataFrame,
    keep: Callable[[gpd.GeoDataFrame], Any] | None,
) -> tuple[np.ndarray, int, int, int]:
    result = _read(path, kwargs)
    counts, kept = _count(cells, result.incidents, keep)
    return counts, kept, result.report.rows_read, result.report.rows_accepted


def _with_counts(cells: gpd.GeoDataFrame, counts: np.ndarray, kept: int) -> gpd.GeoDataFrame:
    out = cells.copy()
    out["n_incidents"] = counts
    n_out = kept - int(counts.sum())
    if n_out:
        logger.info("%d of %d incidents fall outside the grid and are not counted", n_out, kept)
    out.attrs["params"] = {**cells.attrs.get("params", {}), "n_incidents_outside": n_out}
    return out


def _first_crs(client: Any, files: list[str], kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with ``analysis_crs`` fixed (from the first partition when not given)."""
    if kwargs.get("analysis_crs") is not None or len(files) == 1:
        return kwargs
    first = client.submit(_read, files[0], kwargs, pure=False).result()
    return {**kwargs, "analysis_crs": first.incidents.crs.to_string()}


def read_incidents(client: Any, source: str | Path, **kwargs: Any) -> tuple[Any, list[Any]]:
    """Read every partition on the workers; returns (merged :class:`IngestResult`, worker futures).

    The futures hold each partition's result on the workers (for :func:`count_cells`).
    """
    files = partitions(source)
    kwargs = _first_crs(client, files, kwargs)
    futures = [client.submit(_read, f, kwargs, pure=False) for f in files]
    results = client.gather(futures)
    return merge_results(results), futures


def merge_results(results: list[Any]) -> Any:
    """One :class:`IngestResult` from the results of several partitions (one: returned unchanged)."""
    from planner import io
    from planner.io.fitness import fitness_report

    if len(results) == 1:
        return results[0]
    incidents = gpd.GeoDataFrame(
        pd.concat([r.incidents for r in results], ignore_index=True), crs=results[0].incidents.crs
    )
    quarantine = pd.concat([r.quarantine for r in results], ignore_index=True)
    reports = [r.report for r in results]
    resolutions = [r.time_resolution for r in reports]
    order = ["none", "month", "day", "minute", "second"]
    resolution = min(resolutions, key=lambda r: order.index(r) if r in order else 0)
    incidents.attrs = {**results[0].incidents.attrs, "time_resolution": resolution}
    xy = np.c_[incidents.geometry.x.to_numpy(), incidents.geometry.y.to_numpy()]
    dup_share = float(pd.DataFrame(xy).duplicated(keep=False).mean()) if len(xy) else 0.0
    fit = fitness_report(incidents, resolution=resolution, duplicate_location_share=dup_share)
    # the partitions' coordinates as written (the merged geometry is in the analysis CRS)
    decimals = [d for r in reports if isinstance(d := r.fitness.get("coordinate_decimals"), int)]
    fit["coordinate_decimals"] = max(decimals) if len(decimals) == len(reports) else None
    warnings = [w for r in reports for w in r.warnings] + fit.pop("warnings", [])
    reasons: dict[str, int] = {}
    for r in reports:
        for k, v in r.quarantine_reasons.items():
            reasons[k] = reasons.get(k, 0) + v
    has_time = "occurred_at" in incidents and incidents["occurred_at"].notna().any()
    report = io.IngestReport(
        source=f"{reports[0].source} and {len(reports) - 1} more partition(s)",
        rows_read=sum(r.rows_read for r in reports),
        rows_accepted=len(incidents),
        rows_quarantined=len(quarantine),
        quarantine_reasons=reasons,
        columns_used=reports[0].columns_used,
        crs=reports[0].crs,
        analysis_crs=reports[0].analysis_crs,
        time_resolution=resolution,
        date_min=str(incidents["occurred_at"].min()) if has_time else None,
        date_max=str(incidents["occurred_at"].max()) if has_time else None,
        duplicate_location_share=round(dup_share, 4),
        exact_duplicates=sum(r.exact_duplicates for r in reports),
        warnings=warnings,
        fitness=fit,
        location_types=_merged_place_types(reports),
    )
    return io.IngestResult(incidents=incidents, quarantine=quarantine, report=report)


def _merged_place_types(reports: list[Any]) -> dict[str, Any]:
    """The partitions' place-type counts added up (empty when no partition had a place-type column)."""
    parts = [r.location_types for r in reports if r.location_types]
    if not parts:
        return {}
    counts: dict[str, int] = {}
    unmapped: dict[str, int] = {}
    for part in parts:
        for key, n in part.get("counts", {}).items():
            counts[key] = counts.get(key, 0) + int(n)
        for value, n in part.get("unmapped", {}).items():
            unmapped[value] = unmapped.get(value, 0) + int(n)
    ordered = dict(sorted(unmapped.items(), key=lambda kv: (-kv[1], kv[0])))
    return {"column": parts[0].get("column"), "counts": counts, "unmapped": ordered}


def count_cells(
    client: Any,
    futures: list[Any],
    cells: gpd.GeoDataFrame,
    *,
    keep: Callable[[gpd.GeoDataFrame], Any] | None = None,
) -> gpd.GeoDataFrame:
    """``cells`` with ``n_incidents`` counted on the workers from the partitions in ``futures``.

    ``keep`` filters each partition first (the run's categories and dates). Same result as
    :func:`planner.grid.count_incidents` on the concatenated, filtered incidents.
    """
    cells_f = client.scatter(cells, broadcast=True)
    parts = [client.submit(_count_result, f, cells_f, keep, pure=False) for f in futures]
    counts = np.zeros(len(cells), dtype="int64")
    kept = 0
    for part, n in client.gather(parts):
        counts += part
        kept += n
    return _with_counts(cells, counts, kept)


def count_partitions(
    client: Any,
    source: str | Path | list[str],
    cells: gpd.GeoDataFrame,
    *,
    keep: Callable[[gpd.GeoDataFrame], Any] | None = None,
    **kwargs: Any,
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Count the incidents of every partition into ``cells`` in bounded memory.

    Each task reads, validates, filters and counts one partition and returns only its count vector,
    so memory is bounded by (workers × threads) partitions plus the grid, whatever the total size.
    Returns the cells with ``n_incidents`` and the totals (``rows_read``, ``rows_accepted``,
    ``partitions``).
    """
    from distributed import as_completed

    files = partitions(source)
    kwargs = _first_crs(client, files, kwargs)
    cells_f = client.scatter(cells, broadcast=True)
    counts = np.zeros(len(cells), dtype="int64")
    totals = {"partitions": len(files), "rows_read": 0, "rows_accepted": 0, "rows_kept": 0}
    futures = [client.submit(_read_and_count, f, kwargs, cells_f, keep, pure=False) for f in files]
    for future in as_completed(futures):
        part, kept, read, accepted = future.result()
        counts += part
        totals["rows_kept"] += kept
        totals["rows_read"] += read
        totals["rows_accepted"] += accepted
        future.release()
    return _with_counts(cells, counts, totals["rows_kept"]), totals


def exposure_for_cells(
    client: Any, cells: gpd.GeoDataFrame, layers: Mapping[str, Any], *, npartitions: int | None = None
) -> gpd.GeoDataFrame:
    """:func:`planner.exposure.exposure_for_cells` computed on the cluster (partitioned by cell)."""
    from planner.exposure.measure import _join, exposure_for_polygons_dask

    n = npartitions or max(1, min(len(cells) // 500, 4 * max(1, len(client.scheduler_info()["workers"]))))
    return _join(cells, exposure_for_polygons_dask(cells, layers, npartitions=n, scheduler=client))
