"""Benchmark: planner's KDE and Gi* against scikit-learn, SciPy and esda/libpysal, in one run.

Run: ``.venv/bin/python -m bench.bench_hotspots`` (``--quick`` skips the 1M data set).

Data: synthetic incidents (a mixture of 40 Gaussian clusters over uniform background on a 20 km
square, seed 0) with 10k, 100k and 1M points, and the 45,319 Chicago residential burglaries
2014–17 (``../shared/data``, EPSG:26971).

- **KDE**: planner ``kde_surface`` (Gaussian kernel, so every tool computes the same function;
  bandwidth = ArcGIS rule, linear binning + FFT) onto an 800 × 800 grid over the data's extent,
  versus ``sklearn.neighbors.KernelDensity(kernel="gaussian")`` and ``scipy.stats.gaussian_kde``
  evaluated at the same cell centres. The peers cannot evaluate 640,000 centres against 1M points in
  reasonable time, so they are run on a random subset of centres and their time is scaled linearly
  to the full grid (marked "extrap."); their peak memory is for the subset run. ``gaussian_kde``
  uses the data covariance × factor², so its factor is set to give the same bandwidth on the mean
  axis variance (values then differ for anisotropic data; only its time is compared). The agreement
  column compares planner with sklearn at the subset centres (max |Δ| / max value; the residue is
  the linear-binning error). A second planner column times the pipeline's default (quartic kernel,
  ``binning="auto"``: exact when affordable, else linear binning) and names the mode chosen.
- **Gi***: the incidents binned to a 400 × 400 grid (160,000 cells), queen neighbourhood with self;
  planner ``gistar_grid`` (convolution) and ``gistar_cells`` (GeoDataFrame in, adds FDR and bins)
  versus libpysal ``lat2W(rook=False)`` weights construction plus esda
  ``G_Local(star=True, transform="B", permutations=0)``. The agreement column is max |Δz|.

Times are the best of several runs (wall clock); peak memory is measured in a separate run with
``tracemalloc`` (NumPy allocations are traced).
"""

from __future__ import annotations

import argparse
import gc
import math
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CHICAGO = ROOT.parent / "shared" / "data" / "chicago_burglary_2014_2017" / "chicago_burglary_2014_2017.csv"
KDE_GRID = 800
GI_GRID = 400


def timed(fn: Callable[[], Any], *, repeat: int = 3) -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs (seconds) and the last result."""
    best = math.inf
    out = None
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def peak_mib(fn: Callable[[], Any]) -> float:
    """Peak traced memory of one run of ``fn`` in MiB."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def synthetic(n: int, *, seed: int = 0) -> np.ndarray:
    """Clustered incidents on a 20 km square (metres): 70 % in 40 Gaussian clusters, 30 % uniform."""
    rng = np.random.default_rng(seed)
    n_c = int(0.7 * n)
    centres = rng.uniform(2000, 18000, (40, 2))
    sizes = rng.uniform(100, 800, 40)
    which = rng.integers(0, 40, n_c)
    clustered = centres[which] + rng.normal(0, 1, (n_c, 2)) * sizes[which, None]
    uniform = rng.uniform(0, 20000, (n - n_c, 2))
    xy = np.r_[clustered, uniform]
    return np.clip(xy, 0, 20000) + np.array([400_000.0, 4_500_000.0])


def datasets(quick: bool) -> list[tuple[str, np.ndarray]]:
    """Named point sets (metres) the density and Gi* timings run on."""
    out = [
        (f"synthetic {n // 1000}k", synthetic(n)) for n in (10_000, 100_000, *(() if quick else (1_000_000,)))
    ]
    if CHICAGO.exists():
        out.append(
            ("Chicago burglary 2014–17", pd.read_csv(CHICAGO, usecols=["x", "y"]).to_numpy(dtype=float))
        )
    return out


def kde_row(name: str, xy: np.ndarray, rng: np.random.Generator) -> dict[str, Any]:
    """One table row: the planner's KDE next to scikit-learn and scipy on the same points."""
    from scipy.stats import gaussian_kde
    from sklearn.neighbors import KernelDensity

    from planner.hotspots.kde import bandwidth_arcgis, kde_surface

    lo, hi = xy.min(axis=0), xy.max(axis=0)
    cs = float(max(hi - lo)) / (KDE_GRID - 1)
    x0, y0 = (np.floor(lo / cs) * cs).tolist()  # the frame origin kde_surface snaps to
    extent = (x0, y0, x0 + KDE_GRID * cs * (1 - 1e-12), y0 + KDE_GRID * cs * (1 - 1e-12))
    h = bandwidth_arcgis(xy)

    def ours() -> Any:
        return kde_surface(xy, cell_size_m=cs, bandwidth_m=h, kernel="gaussian", extent=extent)

    t_ours, surf = timed(ours)
    m_ours = peak_mib(ours)

    def ours_default() -> Any:  # what the pipeline runs: quartic, binning="auto"
        return kde_surface(xy, cell_size_m=cs, bandwidth_m=h, extent=extent)

    t_default, surf_default = timed(ours_default)
    arr = np.flipud(surf.array)
    n_rows, n_cols = arr.shape
    p = surf.params
    n_cells = n_rows * n_cols

    # Peers on a subset of centres, scaled to the full grid.
    n_sub = 2000 if len(xy) <= 100_000 else 200
    r = rng.integers(0, n_rows, n_sub)
    c = rng.integers(0, n_cols, n_sub)
    targets = np.c_[p["x0"] + (c + 0.5) * cs, p["y0"] + (r + 0.5) * cs]

    kd = KernelDensity(kernel="gaussian", bandwidth=h)

    def sk() -> Any:
        return np.exp(kd.fit(xy).score_samples(targets))

    t_sk, sk_vals = timed(sk, repeat=1)
    m_sk = peak_mib(sk)
    # factor so that cov·factor² has the bandwidth h on the mean axis variance
    factor = h / math.sqrt(float(np.mean(np.var(xy, axis=0, ddof=1))))

    def sp() -> Any:
        return gaussian_kde(xy.T, bw_method=factor)(targets.T)

    t_sp, _ = timed(sp, repeat=1)
    m_sp = peak_mib(sp)
    scale = n_cells / n_sub
    ours_vals = arr[r, c] / 1e6 / len(xy)  # per m² per incident = sklearn's normalised density
    agree = float(np.max(np.abs(ours_vals - sk_vals)) / np.max(sk_vals))
    return {
        "data": name,
        "N": len(xy),
        "grid": f"{n_rows}×{n_cols}",
        "h (m)": round(h, 1),
        "planner s": t_ours,
        "planner MiB": m_ours,
        "planner quartic default s": t_default,
        "quartic mode": surf_default.params["binning"],
        "sklearn s (extrap.)": t_sk * scale,
        "sklearn MiB (subset)": m_sk,
        "scipy s (extrap.)": t_sp * scale,
        "scipy MiB (subset)": m_sp,
        "× vs sklearn": t_sk * scale / t_ours,
        "× vs scipy": t_sp * scale / t_ours,
        "max rel Δ vs sklearn": agree,
        "peer centres": n_sub,
    }


def gi_row(name: str, xy: np.ndarray) -> dict[str, Any]:
    """One table row: the planner's Gi* next to libpysal + esda on the same grid."""
    import esda
    import geopandas as gpd
    import libpysal
    import shapely

    from planner.hotspots.gistar import gistar_cells, gistar_grid
    from planner.hotspots.kde import bin_points

    lo, hi = xy.min(axis=0), xy.max(axis=0)
    cs = float(max(hi - lo)) / GI_GRID * (1 + 1e-9)
    counts = bin_points(
        xy, np.ones(len(xy)), x0=lo[0], y0=lo[1], cell_size_m=cs, shape=(GI_GRID, GI_GRID), binning="simple"
    )

    def ours() -> Any:
        return gistar_grid(counts, neighbourhood="queen")

    t_ours, (z, _) = timed(ours, repeat=5)
    m_ours = peak_mib(ours)

    rows, cols = np.divmod(np.arange(GI_GRID * GI_GRID), GI_GRID)
    cells = gpd.GeoDataFrame(
        {"cell_id": np.arange(rows.size), "row": rows, "col": cols, "n_incidents": counts.ravel()},
        geometry=shapely.box(
            lo[0] + cols * cs, lo[1] + rows * cs, lo[0] + (cols + 1) * cs, lo[1] + (rows + 1) * cs
        ),
        crs="EPSG:26971",
    )
    cells["area_m2"] = cs * cs
    cells.attrs["params"] = {
        "grid_kind": "square",
        "cell_size_m": cs,
        "x0": lo[0],
        "y0": lo[1],
        "n_rows": GI_GRID,
        "n_cols": GI_GRID,
    }

    def ours_cells() -> Any:
        return gistar_cells(cells)

    t_cells, _ = timed(ours_cells)

    def peer() -> Any:
        w = libpysal.weights.lat2W(GI_GRID, GI_GRID, rook=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return esda.G_Local(counts.ravel(), w, transform="B", star=True, permutations=0)

    t_peer, g = timed(peer, repeat=1)
    m_peer = peak_mib(peer)
    dz = float(np.max(np.abs(g.Zs - z.ravel())))
    return {
        "data": name,
        "N": len(xy),
        "grid": f"{GI_GRID}×{GI_GRID}",
        "planner gistar_grid s": t_ours,
        "planner MiB": m_ours,
        "planner gistar_cells s": t_cells,
        "esda+libpysal s": t_peer,
        "esda MiB": m_peer,
        "× vs esda (grid)": t_peer / t_ours,
        "× vs esda (cells)": t_peer / t_cells,
        "MiB ratio esda/planner": m_peer / m_ours,
        "max |Δz|": dz,
    }


def markdown(rows: list[dict[str, Any]]) -> str:
    """The rows as a Markdown table."""
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        cells = []
        for c in cols:
            v = r[c]
            if isinstance(v, float):
                cells.append(f"{v:.3g}" if (abs(v) < 1e-2 or abs(v) >= 1e4) and v != 0 else f"{v:.3f}")
            else:
                cells.append(f"{v:,}" if isinstance(v, int) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the hotspot benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 1M-incident data set")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    data = datasets(args.quick)
    kde_rows = [kde_row(name, xy, rng) for name, xy in data]
    gi_rows = [gi_row(name, xy) for name, xy in data]
    print("## Hotspots: KDE and Gi* vs scikit-learn, SciPy, esda\n")
    print(f"Command: `.venv/bin/python -m bench.bench_hotspots{' --quick' if args.quick else ''}`\n")
    print("### Kernel density (Gaussian kernel, ArcGIS bandwidth, 800 × 800 grid)\n")
    print(markdown(kde_rows))
    print("\nPeers evaluated at a random subset of cell centres ('peer centres'); their time is scaled")
    print("linearly to the full grid and their memory is for the subset run.\n")
    print("### Getis-Ord Gi* (queen + self, binary weights, 400 × 400 grid)\n")
    print(markdown(gi_rows))
    print("\nesda time includes libpysal weights construction (lat2W, the fastest libpysal builder).\n")
    print("### Targets\n")
    big = [r for r in kde_rows if r["N"] >= 1_000_000]
    if big:
        t = big[0]["planner s"]
        print(
            f"- KDE of 1M incidents onto 800×800: {t:.3f} s (target < 1 s): {'met' if t < 1 else 'NOT met'}"
        )
    t_gi = max(r["planner gistar_grid s"] for r in gi_rows)
    speed = min(r["× vs esda (grid)"] for r in gi_rows)
    print(f"- Gi* on 400×400: {t_gi:.3f} s (target < 0.5 s): {'met' if t_gi < 0.5 else 'NOT met'}")
    print(
        f"- Gi* speed-up vs esda incl. weights: ≥ {speed:.0f}× (target ≥ 50×): {'met' if speed >= 50 else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
