r"""Pipeline benchmark: every stage of ``planner run`` next to its peer and its floor, in one run.

Run: ``.venv/bin/python -m bench.bench_pipeline`` (``--quick``: 10k incidents only, no CLI run).

Data: the sample city scaled up by :mod:`bench.bigcity` (10k / 100k / 1M incidents resampled with
15 m jitter; its layers with 100k street lamps) and the 45,319 Chicago residential burglaries
2014–17 (``../shared/data``; skipped when absent; no layers, so no exposure/risk/recommendations).

Every measurement runs in its own fresh interpreter. Within the planner's run, each stage's time is
wall clock and its peak memory is the process's resident high-water mark during the stage (reset
before each stage through ``/proc/self/clear_refs``), so one stage's peak does not leak into the
next. The stages are the pipeline's own functions, timed by wrapping them while ``pipeline.run``
executes (no re-implementation).

Peers, each on the planner's own intermediate data (same cells, same incidents) in its own
process, with a time cap:

- **floor**: ``pandas.read_csv`` of the x/y columns and one ``np.bincount`` into the grid;
- **ingest**: a straightforward pandas/geopandas read (``read_csv``, ``to_datetime``,
  ``points_from_xy``);
- **density**: scikit-learn ``KernelDensity`` and ``scipy.stats.gaussian_kde`` (Gaussian kernel,
  same bandwidth) evaluated at every cell centre;
- **Gi\\***: libpysal ``Queen.from_dataframe`` weights + esda ``G_Local(star=True)``;
- **exposure**: geopandas ``sjoin`` (lamps per cell) + ``sjoin_nearest`` (nearest lamp) — a
  subset of what the planner's stage computes (it also does lit street length, cameras with
  occlusion and 12 more layers);
- **near-repeat**: pointpats ``Knox`` (one 400 m / 28 day band, 99 permutations) versus the planner's
  ``knox_test`` with the same band on the same events (at most 10,000 burglaries, seeded sample).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CHICAGO = ROOT.parent / "shared" / "data" / "chicago_burglary_2014_2017" / "chicago_burglary_2014_2017.csv"
PEER_CAP_S = 300
KNOX_PEER_MAX = 10_000


# ------------------------------------------------------------------------------------ memory probes
def reset_peak() -> None:
    """Reset this process's resident high-water mark (Linux); no-op elsewhere."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_mib() -> float:
    """Resident high-water mark since the last :func:`reset_peak` (MiB)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, seconds, peak MiB) of one call."""
    reset_peak()
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0, peak_mib()


# ------------------------------------------------------------------------------------ planner worker
def time_calls(owner: Any, attr: str, name: str, into: dict[str, list[float]]) -> None:
    """Replace ``owner.attr`` by a wrapper adding each call's seconds and peak MiB to ``into[name]``."""
    fn = getattr(owner, attr)

    def timed(*args: Any, **kwargs: Any) -> Any:
        res, s, mib = measure(lambda: fn(*args, **kwargs))
        t, m = into.get(name, [0.0, 0.0])
        into[name] = [t + s, max(m, mib)]
        return res

    setattr(owner, attr, timed)


def planner_worker(data: Path, out: Path) -> dict[str, Any]:
    """Run ``pipeline.run`` with each stage timed; save the intermediates the peers need."""
    import geopandas as gpd

    from planner import export, grid, io, pipeline
    from planner.config import config_from_mapping
    from planner.hotspots import gistar, kde, polygons

    spec = json.loads((data / "spec.json").read_text())
    stages: dict[str, list[float]] = {}

    def wrap(owner: Any, attr: str, stage: str) -> None:
        time_calls(owner, attr, stage, stages)

    wrap(io, "read_incidents", "ingest")
    wrap(pipeline, "filter_incidents", "ingest")
    wrap(io, "read_layers", "read layers")
    wrap(grid, "grid_from_boundary", "grid")
    wrap(grid, "count_incidents", "grid")
    wrap(kde, "kde_surface", "density")
    wrap(kde, "kde_at_cells", "density")
    wrap(gistar, "gistar_cells", "Gi*")
    wrap(polygons, "hotspots_from_cells", "hotspots")
    for stage, attr in [
        ("space-time", "add_space_time"),
        ("exposure", "add_exposure"),
        ("risk", "add_risk"),
        ("recommend", "add_recommendations"),
    ]:
        wrap(pipeline, attr, stage)
    config = config_from_mapping(spec["config"])
    t0 = time.perf_counter()
    plan = pipeline.run(config)
    run_s = time.perf_counter() - t0

    def write_gpkg() -> None:
        gpkg = out / "plan.gpkg"
        params = {"planner_parameters": json.dumps(plan.params, sort_keys=True, default=str)}
        for name, table in export.plan_tables(plan).items():
            export.write_layer(table, gpkg, name, metadata=params)
        for name, surface in plan.surfaces.items():
            surface.to_geotiff(out / f"{name}.tif")
        export.write_manifest(plan, out / "manifest.json", privacy="internal")

    _, s, mib = measure(write_gpkg)
    stages["GeoPackage export"] = [s, mib]
    # intermediates for the peers
    cells = plan.cells[["cell_id", "n_incidents", "geometry"]]
    cells.to_parquet(out / "cells.parquet")
    dens = plan.surfaces["density"]
    np.save(out / "density_params.npy", np.array([dens.params["bandwidth_m"]]))
    burg = plan.incidents[plan.incidents["category"].astype("string") == "burglary"]
    if len(burg) >= 30:
        sel = np.random.default_rng(0).permutation(len(burg))[:KNOX_PEER_MAX]
        b = burg.iloc[np.sort(sel)]
        t = b["occurred_at"]
        days = ((t - t.min()).dt.total_seconds() / 86400.0).to_numpy()
        np.save(out / "knox.npy", np.c_[b.geometry.x.to_numpy(), b.geometry.y.to_numpy(), np.floor(days)])
    del cells, dens, burg
    peak_all = max(m for _, m in stages.values())
    return {
        "stages": stages,
        "run_s": run_s,
        "n_incidents": int(plan.params["n_incidents"]),
        "n_cells": len(plan.cells),
        "n_hotspots": len(plan.hotspots),
        "peak_mib": peak_all,
        "warnings": [w for w in plan.warnings if "Knox" in w],
        "_gpd": gpd.__version__,
    }


def knox_planner_worker(out: Path) -> dict[str, Any]:
    """The planner's Knox test on the events the pointpats peer gets (time and peak memory)."""
    from planner.hotspots.nearrepeat import knox_test

    ev = np.load(out / "knox.npy")
    _, s, mib = measure(
        lambda: knox_test(
            ev[:, :2], ev[:, 2], distance_breaks_m=[0, 400], time_breaks_days=[0, 28], permutations=99, rng=0
        )
    )
    return {"s": s, "mib": mib, "n": len(ev)}


# ------------------------------------------------------------------------------------ peers
def peer_worker(name: str, data: Path, out: Path) -> dict[str, Any]:
    """One peer (or the floor) on the planner's intermediate data, in this fresh process."""
    import geopandas as gpd
    import pandas as pd

    spec = json.loads((data / "spec.json").read_text())
    csv = spec["config"]["incidents"]
    if name == "floor":
        cells = gpd.read_parquet(out / "cells.parquet")
        b = cells.total_bounds
        cs = math.sqrt(float(cells.area.max()))

        def floor() -> np.ndarray:
            xy = pd.read_csv(csv, usecols=["x", "y"], engine="pyarrow").to_numpy()
            n_cols = math.ceil((b[2] - b[0]) / cs) + 1
            c = np.floor((xy[:, 0] - b[0]) / cs).astype(np.int64)
            r = np.floor((xy[:, 1] - b[1]) / cs).astype(np.int64)
            return np.bincount(np.clip(r * n_cols + c, 0, None))

        _, s, mib = measure(floor)
        return {"s": s, "mib": mib, "peer": "read x,y + bin once"}
    if name == "ingest":
        date_col = spec["date_column"]

        def ingest() -> Any:
            df = pd.read_csv(csv)
            df[date_col] = pd.to_datetime(df[date_col], format=spec.get("date_format"))
            return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs=spec["crs"])

        _, s, mib = measure(ingest)
        return {"s": s, "mib": mib, "peer": "pandas read_csv + to_datetime + points_from_xy"}
    cells = gpd.read_parquet(out / "cells.parquet")
    if name in {"sklearn", "scipy"}:
        xy = pd.read_csv(csv, usecols=["x", "y"]).to_numpy(dtype=float)
        h = float(np.load(out / "density_params.npy")[0])
        centres = np.c_[cells.centroid.x.to_numpy(), cells.centroid.y.to_numpy()]
        if name == "sklearn":
            from sklearn.neighbors import KernelDensity

            _, s, mib = measure(
                lambda: np.exp(KernelDensity(kernel="gaussian", bandwidth=h).fit(xy).score_samples(centres))
            )
            return {"s": s, "mib": mib, "peer": "sklearn KernelDensity (gaussian)"}
        from scipy.stats import gaussian_kde

        factor = h / math.sqrt(float(np.mean(np.var(xy, axis=0, ddof=1))))
        _, s, mib = measure(lambda: gaussian_kde(xy.T, bw_method=factor)(centres.T))
        return {"s": s, "mib": mib, "peer": "scipy gaussian_kde"}
    if name == "esda":
        import warnings

        import esda
        import libpysal

        def gi() -> Any:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                w = libpysal.weights.Queen.from_dataframe(cells, use_index=False)
                return esda.G_Local(
                    cells["n_incidents"].to_numpy(dtype=float), w, transform="B", star=True, permutations=0
                )

        _, s, mib = measure(gi)
        return {"s": s, "mib": mib, "peer": "libpysal Queen + esda G_Local(star)"}
    if name == "sjoin":
        lamps = gpd.read_file(spec["lamps"][0], layer=spec["lamps"][1])
        c = cells[["cell_id", "geometry"]]

        def expo() -> Any:
            joined = gpd.sjoin(lamps[["geometry"]], c, predicate="intersects")
            counts = joined.groupby("cell_id").size().reindex(c["cell_id"], fill_value=0)
            near = gpd.sjoin_nearest(c, lamps[["geometry"]], distance_col="d")
            return counts, near.groupby("cell_id")["d"].min()

        _, s, mib = measure(expo)
        return {"s": s, "mib": mib, "peer": "geopandas sjoin + sjoin_nearest (lamps only)"}
    if name == "pointpats":
        import warnings

        from pointpats import Knox

        ev = np.load(out / "knox.npy")

        def knox() -> Any:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return Knox(ev[:, :2], ev[:, 2:3], delta=400, tau=28, permutations=99)

        _, s, mib = measure(knox)
        return {"s": s, "mib": mib, "peer": f"pointpats Knox ({len(ev):,} events, 99 perms)"}
    raise SystemExit(f"unknown peer {name}")


# ------------------------------------------------------------------------------------ driver
def sub(args: list[str], timeout: float) -> dict[str, Any] | None:
    """Run this module as a worker in a fresh interpreter; its JSON result, or None on timeout/failure."""
    cmd = [sys.executable, "-m", "bench.bench_pipeline", *args]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    try:
        proc = subprocess.run(
            cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        return {"timeout": timeout}
    if proc.returncode != 0:
        print(f"worker {args} failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def prepare(tmp: Path, sizes: list[int], lamps: int, real: bool) -> list[tuple[str, Path]]:
    """Write the benchmark datasets (scaled sample cities, and Chicago when present) under ``tmp``."""
    from bench.bigcity import CRS, SAMPLE, make_big_city

    out: list[tuple[str, Path]] = []
    for n in sizes:
        d = tmp / f"synthetic_{n}"
        paths = make_big_city(d, n, lamps)
        gpkg = paths["gpkg"]
        import pyogrio

        layers = {str(k): f"{gpkg}::{k}" for k in pyogrio.list_layers(gpkg)[:, 0] if str(k) != "boundary"}
        if (SAMPLE / "lux.tif").exists():
            layers["lighting"] = str(SAMPLE / "lux.tif")
        spec = {
            "config": {
                "incidents": str(paths["incidents"]),
                "crs": CRS,
                "boundary": f"{gpkg}::boundary",
                "layers": layers,
            },
            "crs": CRS,
            "date_column": "occurred_at",
            "date_format": "%Y-%m-%dT%H:%M",
            "lamps": [str(gpkg), "street_lights"],
        }
        (d / "spec.json").write_text(json.dumps(spec))
        out.append((f"synthetic {n / 1000:g}k (sample city ×{n / 16_553:.1f}), {lamps / 1000:g}k lamps", d))
    if real and CHICAGO.exists():
        d = tmp / "chicago"
        d.mkdir()
        spec = {
            "config": {"incidents": str(CHICAGO), "crs": "EPSG:26971"},
            "crs": "EPSG:26971",
            "date_column": "date_single",
            "date_format": "%d/%m/%Y",
        }
        (d / "spec.json").write_text(json.dumps(spec))
        out.append(("Chicago burglary 2014–17 (no layers)", d))
    return out


def over_target_note(total_s: float, parts: dict[str, tuple[float, float]]) -> str:
    """Where a CLI run over the 60 s target spends its time: the two largest parts, measured."""
    top = sorted(parts.items(), key=lambda kv: -kv[1][0])[:2]
    named = " and ".join(f"{name} ({sec:.1f} s)" for name, (sec, _) in top)
    return (
        f"\nOver the 60 s target by {total_s - 60:.1f} s; the largest parts are {named}. The map draws a "
        "seeded sample of at most 20,000 incidents (the full points stay in plan.gpkg), so its share is "
        "shown in the table above."
    )


def _ratio(r: float) -> str:
    return f"{r:,.0f}×" if r >= 100 else f"{r:.2g}×"


def fmt(v: float | None, digits: int = 2) -> str:
    """A number for the table (``—`` when missing)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return f"{v:,.{digits}f}" if v < 1000 else f"{v:,.0f}"


STAGE_PEERS = {
    "ingest": ["ingest"],
    "density": ["sklearn", "scipy"],
    "Gi*": ["esda"],
    "exposure": ["sjoin"],
}
ORDER = [
    "ingest",
    "read layers",
    "grid",
    "density",
    "Gi*",
    "hotspots",
    "space-time",
    "exposure",
    "risk",
    "recommend",
    "GeoPackage export",
]


ALL_PEERS = ["floor", "ingest", "sklearn", "scipy", "esda", "sjoin", "pointpats"]


def _run_peers(data: Path, out: Path, chosen: list[str]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Each chosen peer in a fresh process; also the planner's own Knox timing when pointpats runs."""
    peers = {
        p: sub(["--worker", p, str(data), str(out)], timeout=PEER_CAP_S)
        for p in ["floor", "ingest", "sklearn", "scipy", "esda"]
        if p in chosen
    }
    if "sjoin" in chosen and "lamps" in json.loads((data / "spec.json").read_text()):
        peers["sjoin"] = sub(["--worker", "sjoin", str(data), str(out)], timeout=PEER_CAP_S)
    knox_ours = None
    if "pointpats" in chosen and (out / "knox.npy").exists():
        knox_ours = sub(["--worker", "knox", str(data), str(out)], timeout=PEER_CAP_S)
        peers["pointpats"] = sub(["--worker", "pointpats", str(data), str(out)], timeout=PEER_CAP_S)
    return peers, knox_ours


def _peer_cells(peers: dict[str, Any], p: str) -> tuple[str, str, str, float | None, float | None]:
    r = peers.get(p)
    if r is None:
        return p, "failed", "—", None, None
    if "timeout" in r:
        return p, f"> {PEER_CAP_S} (capped)", "—", float(PEER_CAP_S), None
    return r["peer"], fmt(r["s"]), fmt(r["mib"], 0), r["s"], r["mib"]


def _stage_rows(stage: str, s: float, mib: float, peers: dict[str, Any]) -> list[str]:
    """Table rows of one stage: the planner's time and memory next to each of its peers."""
    names = [p for p in STAGE_PEERS.get(stage, []) if p in peers]
    if not names:
        return [f"| {stage} | {fmt(s)} | {fmt(mib, 0)} | — | | | | |"]
    rows = []
    for i, p in enumerate(names):
        label, ps, pm, pt, pmib = _peer_cells(peers, p)
        ratio = _ratio(pt / s) if pt is not None and s > 0 else "—"
        if peers.get(p) and "timeout" in peers[p]:
            ratio = f"> {pt / s:,.0f}×" if pt is not None else ratio
        mratio = f"{pmib / mib:,.2f}×" if pmib and mib else "—"
        head = f"| {stage} | {fmt(s)} | {fmt(mib, 0)} |" if i == 0 else "| | | |"
        rows.append(f"{head} {label} | {ps} | {pm} | {ratio} | {mratio} |")
    return rows


def _knox_row(knox_ours: dict[str, Any], peers: dict[str, Any]) -> str:
    label, ps, pm, pt, pmib = _peer_cells(peers, "pointpats")
    ratio = _ratio(pt / knox_ours["s"]) if pt is not None else "—"
    mratio = f"{pmib / knox_ours['mib']:,.2f}×" if pmib else "—"
    return (
        f"| near-repeat Knox (same {knox_ours['n']:,} events, 1 band, 99 perms) | {fmt(knox_ours['s'])} | "
        f"{fmt(knox_ours['mib'], 0)} | {label} | {ps} | {pm} | {ratio} | {mratio} |"
    )


def section(name: str, data: Path, chosen: list[str] = ALL_PEERS) -> tuple[list[str], dict[str, Any]]:
    """The Markdown section of one dataset (every stage next to its peers) and its totals."""
    out = data / "out"
    out.mkdir(exist_ok=True)
    ours = sub(["--worker", "planner", str(data), str(out)], timeout=1800)
    if not ours or "stages" not in ours:
        return [f"### {name}", "", "planner run failed (see stderr)", ""], {}
    stages = ours["stages"]
    peers, knox_ours = _run_peers(data, out, chosen)
    lines = [
        f"### {name}: {ours['n_incidents']:,} incidents, {ours['n_cells']:,} cells, {ours['n_hotspots']} hotspots",
        "",
        "| stage | planner s | planner peak MiB | peer | peer s | peer peak MiB | × time (peer/planner) | × memory |",
        "|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    fl = peers.get("floor")
    if fl and "s" in fl:
        lines.append(
            f"| floor: read x,y + bin once | — | — | {fl['peer']} | {fmt(fl['s'])} | {fmt(fl['mib'], 0)} | | |"
        )
    total_s = 0.0
    for stage in (st for st in ORDER if st in stages):
        s, mib = stages[stage]
        total_s += s
        lines += _stage_rows(stage, s, mib, peers)
    if knox_ours and "s" in knox_ours:
        lines.append(_knox_row(knox_ours, peers))
    lines.append(
        f"| **total (pipeline.run + GeoPackage export)** | **{fmt(total_s)}** | **{fmt(ours['peak_mib'], 0)}** | | | | | |"
    )
    if fl and "s" in fl:
        ing = stages["ingest"][0] + stages.get("grid", [0.0])[0]
        lines += [
            "",
            f"Ingest + grid vs floor: {ing / fl['s']:.1f}× the floor ({fmt(ing)} s vs {fmt(fl['s'])} s).",
        ]
    for w in ours.get("warnings", []):
        lines += ["", f"Note: {w}"]
    lines.append("")
    return lines, {"total_s": total_s, "peak": ours["peak_mib"], "n": ours["n_incidents"], "stages": stages}


CLI_CODE = """
import json, resource, sys, time
from pathlib import Path
from planner import maps, pipeline
from planner.export import plan_files
from bench.bench_pipeline import time_calls
parts = {}
def wrap(owner, attr, name):
    time_calls(owner, attr, name, parts)
wrap(pipeline, "run", "pipeline.run (all stages)")
wrap(plan_files, "write_layer", "plan.gpkg layers")
wrap(maps, "plan_map", "map.html: plan_map (folium GeoJSON of every layer and incident)")
wrap(maps, "map_to_html", "map.html: map_to_html (render + inline assets)")
from planner.cli import main
t = time.perf_counter()
rc = main(["run", "--config", sys.argv[1], "--out", sys.argv[2]])
s = time.perf_counter() - t
size = (Path(sys.argv[2]) / "map.html").stat().st_size / 2**20
print(json.dumps({"rc": rc, "s": s, "parts": parts, "map_mib": size,
                  "mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def cli_run(data: Path) -> dict[str, Any] | None:
    """``planner run`` end to end through the CLI (all outputs, including map.html): wall + peak RSS,
    with the time and peak of its big parts (the same wrapping as the stage table).
    """
    spec = json.loads((data / "spec.json").read_text())
    cfg = data / "run.json"
    cfg.write_text(json.dumps(spec["config"]))
    proc = subprocess.run(
        [sys.executable, "-c", CLI_CODE, str(cfg), str(data / "cli_out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Run the pipeline benchmark and write its section of ``bench/RESULTS.md``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k incidents only, no CLI run")
    parser.add_argument("--sizes", help="synthetic sizes, comma-separated (default 10000,100000,1000000)")
    parser.add_argument("--lamps", type=int, default=100_000, help="street lamps in the big city")
    parser.add_argument("--no-real", action="store_true", help="skip the Chicago burglaries")
    parser.add_argument("--peers", help=f"peers to run, comma-separated (default: {','.join(ALL_PEERS)})")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--keep", type=Path, help="keep the generated data in this folder")
    args = parser.parse_args(argv)
    if args.worker:
        kind, *rest = args.worker
        data, out = Path(rest[0]), Path(rest[1])
        if kind == "planner":
            res = planner_worker(data, out)
        elif kind == "knox":
            res = knox_planner_worker(out)
        else:
            res = peer_worker(kind, data, out)
        print(json.dumps(res, default=str))
        return 0

    tmp_ctx = tempfile.TemporaryDirectory()
    tmp = args.keep or Path(tmp_ctx.name)
    tmp.mkdir(parents=True, exist_ok=True)
    print("## Pipeline: every stage of `planner run` vs its peer and floor\n")
    shown = " ".join(argv if argv is not None else sys.argv[1:])
    print(f"Command: `.venv/bin/python -m bench.bench_pipeline{' ' + shown if shown else ''}`\n")
    print(
        "Each stage is timed inside one `pipeline.run` (wall clock) with its own peak resident memory "
        "(high-water mark reset before the stage); every peer runs in a fresh process on the planner's "
        f"intermediate data, capped at {PEER_CAP_S} s. × > 1: the planner is faster / leaner. The "
        "planner's per-stage peak is the whole process (it also holds the incidents, layers and cells "
        "of the run); a peer's is a process holding only that peer's input.\n"
    )
    summary: dict[str, Any] = {}
    sizes = (
        [int(v) for v in args.sizes.split(",")]
        if args.sizes
        else ([10_000] if args.quick else [10_000, 100_000, 1_000_000])
    )
    chosen = args.peers.split(",") if args.peers else ALL_PEERS
    for name, data in prepare(tmp, sizes, args.lamps, not args.no_real):
        lines, res = section(name, data, chosen)
        print("\n".join(lines))
        summary[name] = res
        print(f"{name}: done", file=sys.stderr)
    big = [(k, v) for k, v in summary.items() if v.get("n", 0) >= 1_000_000]
    if big and not args.quick:
        name, res = big[0]
        data = tmp / "synthetic_1000000"
        cli = cli_run(data)
        print("### Targets (1M incidents, 100k lamps, this machine)\n")
        t, m = res["total_s"], res["peak"]
        print(
            f"- pipeline (ingest, grid, density, Gi*, hotspots, space-time, exposure, risk, recommendations) "
            f"+ GeoPackage export: {t:.1f} s (target < 60 s: {'met' if t < 60 else 'NOT met'}), peak "
            f"{m:,.0f} MiB (target < 4 GB: {'met' if m < 4096 else 'NOT met'})"
        )
        if cli:
            ok = cli["s"] < 60 and cli["mib"] < 4096
            print(
                f"- `planner run` through the CLI with every output (also map.html, density.tif, CSVs): "
                f"{cli['s']:.1f} s, peak {cli['mib']:,.0f} MiB ({'within' if ok else 'outside'} the targets)"
            )
            print("\nWhere the CLI run's time and memory go (same stage wrapping, peak per part):\n")
            print("| part | s | peak MiB |\n|---|---:|---:|")
            for part, (ps, pm) in cli["parts"].items():
                print(f"| {part} | {ps:.1f} | {pm:,.0f} |")
            rest = cli["s"] - sum(v[0] for v in cli["parts"].values())
            print(f"| the rest (CSV tables, GeoTIFFs, manifest, imports) | {rest:.1f} | |")
            print(f"\nmap.html is {cli['map_mib']:,.0f} MiB.")
            if not ok:
                print(over_target_note(cli["s"], cli["parts"]))
        print()
    tmp_ctx.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
