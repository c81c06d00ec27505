"""Dask engine at scale: incidents from partitioned GeoParquet counted into the grid in bounded memory.

Run: ``.venv/bin/python -m bench.bench_dask`` (``--sizes 5,50`` million incidents; ``--quick``: 2
partitions of 200k).

Data: partitions of 1M incidents each (GeoParquet: points, id, date string, category), resampled
from the sample city with 15 m jitter (:mod:`bench.bigcity`, a different seed per partition), in a
temporary folder. Each size runs in a fresh interpreter with a distributed ``LocalCluster`` on
loopback (one worker process-less, 2 threads): :func:`planner.dask_engine.count_partitions` reads,
validates and counts every partition on the worker and returns only the count vectors, then the
cells' exposure (all sample-city layers, 100k lamps) is computed on the cluster. Peak memory is the
process's resident high-water mark (client, scheduler and worker share the process), so a flat peak
across sizes shows the memory bound: about (threads × one partition) + the grid, whatever the total.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PART_ROWS = 1_000_000


def make_partitions(folder: Path, n_parts: int, rows: int) -> None:
    """``n_parts`` GeoParquet files of ``rows`` incidents (kept between sizes: the folder grows)."""
    import geopandas as gpd

    from bench.bigcity import CRS, big_incidents

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_parts):
        path = folder / f"part-{i:04d}.parquet"
        if path.exists():
            continue
        df = big_incidents(rows, seed=1000 + i)
        df["incident_id"] = f"P{i:04d}-" + df["incident_id"]
        gdf = gpd.GeoDataFrame(
            df.drop(columns=["x", "y"]), geometry=gpd.points_from_xy(df["x"], df["y"]), crs=CRS
        )
        gdf.to_parquet(path)


def worker(folder: Path, n_parts: int, layers_dir: Path) -> dict[str, Any]:
    """Count the first ``n_parts`` partitions and compute exposure, on a LocalCluster."""
    import geopandas as gpd
    import pyogrio

    from bench.bigcity import make_big_city
    from planner import dask_engine, io
    from planner.grid import grid_from_boundary

    gpkg = layers_dir / "city.gpkg"
    if not gpkg.exists():
        make_big_city(layers_dir, 1000, 100_000)
    boundary = gpd.read_file(gpkg, layer="boundary")
    cells = grid_from_boundary(boundary, cell_size_m=100)
    layers = {
        str(n): io.read_layer(gpkg, kind=str(n), layer=str(n))
        for n in pyogrio.list_layers(gpkg)[:, 0]
        if str(n) not in {"boundary", "wards", "land_use"}
    }
    files = sorted(folder.glob("*.parquet"))[:n_parts]
    t0 = time.perf_counter()
    with dask_engine.connect(None) as client:
        t1 = time.perf_counter()
        counted, totals = dask_engine.count_partitions(
            client, [str(f) for f in files], cells, crs="EPSG:32630", analysis_crs="EPSG:32630"
        )
        t2 = time.perf_counter()
        exposed = dask_engine.exposure_for_cells(client, counted, layers)
        t3 = time.perf_counter()
    return {
        "partitions": len(files),
        "rows_read": totals["rows_read"],
        "rows_counted": int(counted["n_incidents"].sum()),
        "cells": len(exposed),
        "cluster_s": t1 - t0,
        "count_s": t2 - t1,
        "exposure_s": t3 - t2,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the Dask engine benchmark (partitioned GeoParquet, bounded memory) and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5,50", help="millions of incidents, comma-separated")
    parser.add_argument("--quick", action="store_true", help="2 partitions of 200k rows")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--keep", type=Path, help="keep the partitions in this folder")
    args = parser.parse_args(argv)
    if args.worker:
        res = worker(Path(args.worker[0]), int(args.worker[1]), Path(args.worker[2]))
        print(json.dumps(res))
        return 0
    rows = 200_000 if args.quick else PART_ROWS
    sizes = [2] if args.quick else [int(float(s) * 1_000_000 / rows) for s in args.sizes.split(",")]
    shown = " ".join(argv if argv is not None else sys.argv[1:])
    print("## Dask engine: partitioned GeoParquet → grid counts + exposure in bounded memory\n")
    print(f"Command: `.venv/bin/python -m bench.bench_dask{' ' + shown if shown else ''}`\n")
    print(
        "| incidents | partitions | GeoParquet on disk | read+validate+count s | rows/s | exposure s (cells) | peak RSS MiB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = args.keep or Path(tmp_name)
        folder = tmp / "incidents"
        for n_parts in sizes:
            t = time.perf_counter()
            make_partitions(folder, n_parts, rows)
            print(f"generated {n_parts} partitions in {time.perf_counter() - t:.0f} s", file=sys.stderr)
            cmd = [
                sys.executable,
                "-m",
                "bench.bench_dask",
                "--worker",
                str(folder),
                str(n_parts),
                str(tmp / "layers"),
            ]
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False, timeout=3600)
            if proc.returncode != 0:
                print(f"| {n_parts * rows:,} | {n_parts} | failed: {proc.stderr[-300:]!r} | | | | |")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            disk = sum(f.stat().st_size for f in sorted(folder.glob("*.parquet"))[:n_parts]) / 2**30
            assert r["rows_read"] == n_parts * rows
            print(
                f"| {r['rows_read']:,} | {r['partitions']} | {disk:.2f} GiB | {r['count_s']:.0f} | "
                f"{r['rows_read'] / r['count_s']:,.0f} | {r['exposure_s']:.1f} ({r['cells']:,}) | {r['peak_mib']:,.0f} |"
            )
            sys.stdout.flush()
    print()
    print(
        "Every incident is read, validated (dates, coordinates, duplicate ids within its partition) and "
        "counted; only one count vector per partition leaves the worker, so the peak stays flat as the "
        "number of partitions grows. Identity with the in-memory engine is tested in "
        "tests/test_dask_engine.py."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
