"""Ingest benchmark: ``read_incidents`` on 1M CSV rows vs the floor (plain pandas + points_from_xy).

Run: ``.venv/bin/python -m bench.bench_ingest``. Prints a Markdown table (time, peak memory, ratio).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.io import read_incidents


def make_csv(path: Path, n: int, seed: int = 0) -> None:
    """Write a CSV of ``n`` synthetic incidents (a city-like layout) to ``path``."""
    rng = np.random.default_rng(seed)
    t = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 3 * 365 * 24 * 60, n), unit="min")
    pd.DataFrame(
        {
            "incident_id": np.char.add("E", np.arange(n).astype(str)),
            "occurred_at": t.strftime("%Y-%m-%d %H:%M"),
            "category": rng.choice(["burglary", "robbery", "assault", "theft_from_vehicle"], n),
            "x": rng.uniform(500000, 508000, n).round(1),
            "y": rng.uniform(5700000, 5708000, n).round(1),
        }
    ).to_csv(path, index=False)


def measure(kind: str, path: Path) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of one reader in a fresh interpreter, so memory figures do not mix."""
    code = (
        "import resource, sys, time; from pathlib import Path; import bench.bench_ingest as b; "
        "from planner.io import read_incidents; t0 = time.perf_counter(); "
        f"r = read_incidents(Path({str(path)!r}), crs='EPSG:32630') if {kind!r} == 'planner' else b.floor(Path({str(path)!r})); "
        "t = time.perf_counter() - t0; print(t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), float(out[1])


def floor(path: Path) -> gpd.GeoDataFrame:
    """The floor: a bare ``read_csv`` plus ``points_from_xy`` of the same file."""
    df = pd.read_csv(path)
    df["occurred_at"] = pd.to_datetime(df["occurred_at"], format="%Y-%m-%d %H:%M")
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs="EPSG:32630")


def main() -> None:
    """Time ingest of 1M rows against the floor and print the result."""
    print(
        "| rows | planner read_incidents s | planner peak RSS MiB | floor (pandas+points) s | floor peak RSS MiB | time ratio planner/floor |"
    )
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (100_000, 1_000_000):
            path = Path(tmp) / f"inc_{n}.csv"
            make_csv(path, n)
            assert read_incidents(path, crs="EPSG:32630").report.rows_accepted == n
            t_p, m_p = measure("planner", path)
            t_f, m_f = measure("floor", path)
            print(f"| {n:,} | {t_p:.2f} | {m_p:.0f} | {t_f:.2f} | {m_f:.0f} | {t_p / t_f:.1f} |")
    print()
    print("Target (issue 3): 1M rows in under 10 s. The planner also detects columns, parses and validates")
    print("dates, checks ids for duplicates, quarantines bad rows and writes the fitness report.")


if __name__ == "__main__":
    main()
