"""Getis-Ord Gi* local statistic with binary weights including self, and multiple-testing control.

Definition (Getis & Ord 1992; Esri "How Hot Spot Analysis works"; esda ``G_Local(star=True,
transform="B")``), for n cells with values x and binary weights w_ij (w_ii = 1)::

    Gi* = (Σ_j w_ij x_j − x̄ W_i) / (S · sqrt((n S1_i − W_i²) / (n − 1)))
    x̄ = Σx / n,  S = sqrt(Σx² / n − x̄²),  W_i = Σ_j w_ij,  S1_i = Σ_j w_ij² (= W_i for binary)

Gi* is itself a z-score; p is two-sided, 2Φ(−|z|). The default multiple-testing policy is a
global Benjamini–Hochberg FDR over all cells (:func:`fdr_adjust`), with Benjamini–Yekutieli,
Bonferroni and none selectable. ``gi_bin`` follows Esri: ±3, ±2, ±1 when the adjusted p is at most
q/5, q, 2q (0.01, 0.05, 0.10 for the default q = 0.05), signed by z.

Regular grids use a convolution fast path (:func:`gistar_grid`, row 0 = southernmost row);
hexagons and arbitrary polygons use ``scipy.sparse`` weights (:func:`gistar_sparse`).
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage, sparse, special
from scipy.spatial import cKDTree

from planner._params import check_choice, check_fraction, check_positive
from planner.crs import require_projected
from planner.errors import ConfigError, PlannerWarning, ValidationError

logger = logging.getLogger(__name__)

FDR_METHODS = {"bh", "by", "bonferroni", "none"}
_WHERE = "hotspots.gistar"


def _two_sided_p(z: np.ndarray) -> np.ndarray:
    return 2.0 * special.ndtr(-np.abs(z))


def footprint(neighbourhood: str | float) -> np.ndarray:
    """Boolean neighbourhood footprint (self included) on a square grid.

    ``"queen"`` = 3×3 (centroids within cell·√2, the sfhotspot/Esri fishnet rule), ``"rook"`` = the
    4 edge neighbours, a number r ≥ 1 = cells whose centres lie within r cell sizes (i² + j² ≤ r²,
    a distance band measured in cells).
    """
    if isinstance(neighbourhood, str):
        check_choice(neighbourhood, {"queen", "rook"}, name="neighbourhood", where=_WHERE)
        if neighbourhood == "queen":
            return np.ones((3, 3), dtype=bool)
        return np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool)
    if (
        isinstance(neighbourhood, bool)
        or not isinstance(neighbourhood, int | float | np.integer | np.floating)
        or not np.isfinite(neighbourhood)
        or neighbourhood < 1
    ):
        raise ConfigError(
            f"The 'neighbourhood' parameter of {_WHERE} must be 'queen', 'rook' or a radius in cells "
            f"(a number ≥ 1). Got {neighbourhood!r}."
        )
    r = float(neighbourhood)
    m = int(np.floor(r + 1e-9))
    i, j = np.mgrid[-m : m + 1, -m : m + 1]
    return (i * i + j * j) <= r * r * (1 + 1e-12)


def _gi_from_sums(
    lag: np.ndarray, w_sum: np.ndarray, s1: np.ndarray, *, n: int, xbar: float, s: float
) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        den = s * np.sqrt((n * s1 - w_sum * w_sum) / (n - 1))
        z = (lag - xbar * w_sum) / den
    bad = ~np.isfinite(z)
    if bad.any():
        # No variation in the data, or a neighbourhood that covers every cell: no evidence either way.
        z[bad] = 0.0
    return z


def gistar_grid(
    counts_2d: np.ndarray,
    *,
    neighbourhood: str | float = "queen",
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Gi* z and two-sided p for every cell of a regular grid, by convolution.

    Parameters
    ----------
    counts_2d : ndarray (rows, cols)
        Values per cell (counts), row 0 = southernmost row (orientation does not change the result).
        A ``numpy.ma`` masked array or NaN entries mark cells outside the study area.
    neighbourhood : {"queen", "rook"} or float
        See :func:`footprint` (a number is a distance band in cells).
    mask : ndarray of bool, optional
        True marks cells **outside** the study area (``numpy.ma`` convention). Excluded cells take
        no part: they are not counted in n, the mean or the variance, and are nobody's neighbours.

    Returns
    -------
    z, p : ndarray (rows, cols)
        Gi* z-scores and two-sided p-values; NaN on excluded cells. Where Gi* is undefined (no
        variation in the values) z = 0 and p = 1.
    """
    arr = np.ma.getdata(counts_2d).astype("float64", copy=True)
    if arr.ndim != 2:
        raise ValidationError(f"counts_2d must be a 2-D array (rows, cols); got shape {arr.shape}.")
    excluded = np.ma.getmaskarray(counts_2d) | ~np.isfinite(arr)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != arr.shape:
            raise ValidationError(f"mask has shape {mask.shape} but counts_2d has shape {arr.shape}.")
        excluded |= mask
    valid = ~excluded
    n = int(valid.sum())
    z = np.full(arr.shape, np.nan)
    p = np.full(arr.shape, np.nan)
    if n < 2:
        return z, p
    arr[excluded] = 0.0
    x = arr[valid]
    xbar = float(x.mean())
    s = float(np.sqrt(max(float((x * x).mean()) - xbar * xbar, 0.0)))
    fp = footprint(neighbourhood).astype("float64")
    vf = valid.astype("float64")
    if fp.size <= 121:
        lag = ndimage.correlate(arr, fp, mode="constant", cval=0.0)
        w_sum = ndimage.correlate(vf, fp, mode="constant", cval=0.0)
    else:
        from scipy.signal import fftconvolve

        lag = fftconvolve(arr, fp[::-1, ::-1], mode="same")
        w_sum = np.rint(fftconvolve(vf, fp[::-1, ::-1], mode="same"))
    zv = _gi_from_sums(lag[valid], w_sum[valid], w_sum[valid], n=n, xbar=xbar, s=s)
    z[valid] = zv
    p[valid] = _two_sided_p(zv)
    return z, p


def fdr_adjust(p: np.ndarray, method: str = "bh") -> np.ndarray:
    """Adjusted p-values for a global multiple-testing policy.

    Parameters
    ----------
    p : array of float
        p-values; NaN entries are ignored (not counted in n) and stay NaN.
    method : {"bh", "by", "bonferroni", "none"}
        Benjamini–Hochberg step-up FDR; Benjamini–Yekutieli (any dependence: BH × Σ_{i≤n} 1/i);
        Bonferroni (× n); none.

    Returns
    -------
    ndarray
        Adjusted p-values, capped at 1; a test is rejected at level q when ``p_adj ≤ q``. Unlike
        ``esda.fdr`` this never falls back to Bonferroni when nothing passes.

    >>> fdr_adjust(np.array([0.01, 0.04, 0.03, 0.5]), "bh").round(4).tolist()
    [0.04, 0.0533, 0.0533, 0.5]
    """
    method = check_choice(method, FDR_METHODS, name="fdr", where=_WHERE)
    p = np.asarray(p, dtype="float64")
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    pv = p[ok]
    n = pv.size
    if n == 0:
        return out
    if method == "none":
        adj = pv.copy()
    elif method == "bonferroni":
        adj = pv * n
    else:
        order = np.argsort(pv, kind="stable")
        ranked = pv[order] * n / np.arange(1, n + 1)
        if method == "by":
            ranked *= np.sum(1.0 / np.arange(1, n + 1))
        ranked = np.minimum.accumulate(ranked[::-1])[::-1]
        adj = np.empty(n)
        adj[order] = ranked
    out[ok] = np.minimum(adj, 1.0)
    return out


def gi_bins(z: np.ndarray, p_adj: np.ndarray, *, q: float = 0.05) -> np.ndarray:
    """Esri-style confidence bins: ±3 / ±2 / ±1 when ``p_adj ≤ q/5 / q / 2q``, signed by z, else 0."""
    z = np.asarray(z, dtype="float64")
    pa = np.nan_to_num(np.asarray(p_adj, dtype="float64"), nan=1.0)
    level = np.select([pa <= q / 5.0, pa <= q, pa <= 2.0 * q], [3, 2, 1], default=0)
    return (np.sign(np.nan_to_num(z)) * level).astype("int64")


def weights_from_cells(cells: gpd.GeoDataFrame, neighbourhood: Any = "queen") -> sparse.csr_matrix:
    """Binary sparse weights with self (w_ii = 1) for any cells.

    Parameters
    ----------
    cells : GeoDataFrame
        Polygons in a projected CRS (metres).
    neighbourhood : "queen", "rook", ("distance", d_m) or ("knn", k)
        Queen: polygons sharing any boundary point; rook: sharing a boundary of positive length;
        distance: centroids within ``d_m`` metres (``≤``, as libpysal ``DistanceBand``); knn: the k
        nearest centroids (ties by index).

    Returns
    -------
    scipy.sparse.csr_matrix (n, n)
        Binary weights including the diagonal.
    """
    require_projected(cells, what="cells")
    geoms = cells.geometry.to_numpy()
    n = len(geoms)
    kind, arg = _parse_neighbourhood(neighbourhood)
    if kind in {"queen", "rook"}:
        tree = shapely.STRtree(geoms)
        a, b = tree.query(geoms, predicate="intersects")
        keep = a != b
        a, b = a[keep], b[keep]
        if kind == "rook" and len(a):
            shared = shapely.intersection(shapely.boundary(geoms[a]), shapely.boundary(geoms[b]))
            keep = shapely.length(shared) > 0
            a, b = a[keep], b[keep]
    else:
        xy = shapely.get_coordinates(shapely.centroid(geoms))
        tree_kd = cKDTree(xy)
        if kind == "distance":
            pairs = tree_kd.query_pairs(r=float(arg) * (1 + 1e-12), output_type="ndarray")
            a = np.r_[pairs[:, 0], pairs[:, 1]]
            b = np.r_[pairs[:, 1], pairs[:, 0]]
        else:
            k = min(int(arg), n - 1)
            _, nn = tree_kd.query(xy, k=k + 1)
            nn = np.asarray(nn).reshape(n, -1)
            a = np.repeat(np.arange(n), nn.shape[1])
            b = nn.ravel()
            keep = a != b
            a, b = a[keep], b[keep]
            # The point itself may be tied with another at distance 0 and be dropped; trim to k.
            a, b = _first_k(a, b, k)
    rows = np.r_[np.arange(n), a]
    cols = np.r_[np.arange(n), b]
    w = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    w.data[:] = 1.0  # duplicates summed by the constructor: binary again
    return w


def _first_k(a: np.ndarray, b: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    if len(a) == 0:
        return a, b
    starts = np.r_[0, np.flatnonzero(a[1:] != a[:-1]) + 1]
    rank = np.arange(len(a)) - np.repeat(starts, np.diff(np.r_[starts, len(a)]))
    keep = rank < k
    return a[keep], b[keep]


def _parse_neighbourhood(neighbourhood: Any) -> tuple[str, Any]:
    if isinstance(neighbourhood, str):
        return check_choice(neighbourhood, {"queen", "rook"}, name="neighbourhood", where=_WHERE), None
    if isinstance(neighbourhood, tuple | list) and len(neighbourhood) == 2:
        kind, arg = neighbourhood
        if kind == "distance":
            return kind, check_positive(arg, name="neighbourhood distance (m)", where=_WHERE)
        if kind == "knn" and isinstance(arg, int | np.integer) and arg >= 1:
            return kind, int(arg)
    raise ConfigError(
        f"The 'neighbourhood' parameter of {_WHERE} must be 'queen', 'rook', ('distance', d_m) or "
        f"('knn', k). Got {neighbourhood!r}."
    )


def gistar_sparse(values: np.ndarray, weights: sparse.spmatrix) -> tuple[np.ndarray, np.ndarray]:
    """Gi* z and two-sided p for ``values`` with binary sparse ``weights`` (diagonal = 1)."""
    x = np.asarray(values, dtype="float64")
    n = len(x)
    w = sparse.csr_matrix(weights)
    if n < 2:
        return np.full(n, np.nan), np.full(n, np.nan)
    xbar = float(x.mean())
    s = float(np.sqrt(max(float((x * x).mean()) - xbar * xbar, 0.0)))
    lag = w @ x
    w_sum = np.asarray(w.sum(axis=1)).ravel()
    s1 = np.asarray(w.multiply(w).sum(axis=1)).ravel()
    z = _gi_from_sums(lag, w_sum, s1, n=n, xbar=xbar, s=s)
    return z, _two_sided_p(z)


def _permutation_p(
    x: np.ndarray, w: sparse.csr_matrix, permutations: int, rng: np.random.Generator
) -> np.ndarray:
    """Two-sided conditional-permutation pseudo p (esda's crand scheme, folded, doubled, ≤ 1).

    For each permutation one random draw of k_max distinct indices out of the other n − 1 cells is
    shared by all cells (each cell skips itself by shifting indices ≥ i), as esda does.
    """
    n = len(x)
    k_self = np.asarray(w.sum(axis=1)).ravel().astype("int64")
    k_nb = k_self - 1  # neighbours excluding self
    k_max = int(k_nb.max()) if n else 0
    obs = w @ x
    if k_max == 0:
        return np.ones(n)
    draws = np.stack([rng.choice(n - 1, size=k_max, replace=False) for _ in range(permutations)])
    larger = np.zeros(n, dtype="int64")
    chunk = max(1, 2_000_000 // max(1, permutations * k_max))
    for start in range(0, n, chunk):  # chunks of cells, bounded memory
        idx = np.arange(start, min(n, start + chunk))
        ids = draws[None, :, :] + (draws[None, :, :] >= idx[:, None, None])
        vals = x[ids]  # (chunk, P, k_max)
        keep = np.arange(k_max)[None, None, :] < k_nb[idx][:, None, None]
        sims = (vals * keep).sum(axis=2) + x[idx][:, None]
        larger[idx] = (sims >= obs[idx][:, None]).sum(axis=1)
    folded = np.minimum(larger, permutations - larger)
    return np.minimum(1.0, 2.0 * (folded + 1) / (permutations + 1))


def _grid_weights(cells: gpd.GeoDataFrame, neighbourhood: str | float) -> sparse.csr_matrix:
    """Binary sparse weights (with self) of a square grid's cells from its row/col footprint."""
    params = cells.attrs["params"]
    n_rows, n_cols = int(params["n_rows"]), int(params["n_cols"])
    rows, cols = cells["row"].to_numpy(), cells["col"].to_numpy()
    lookup = np.full((n_rows, n_cols), -1, dtype="int64")
    lookup[rows, cols] = np.arange(len(cells))
    fp = footprint(neighbourhood)
    m = fp.shape[0] // 2
    src, dst = [], []
    for di, dj in zip(*np.nonzero(fp), strict=True):  # footprint offsets (≤ a few dozen), not cells
        r, c = rows + di - m, cols + dj - m
        ok = (r >= 0) & (r < n_rows) & (c >= 0) & (c < n_cols)
        nb = np.full(len(cells), -1, dtype="int64")
        nb[ok] = lookup[r[ok], c[ok]]
        has = nb >= 0
        src.append(np.flatnonzero(has))
        dst.append(nb[has])
    a, b = np.concatenate(src), np.concatenate(dst)
    return sparse.csr_matrix((np.ones(len(a)), (a, b)), shape=(len(cells), len(cells)))


def _square_array(cells: gpd.GeoDataFrame, values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    params = cells.attrs.get("params", {})
    if params.get("grid_kind") != "square" or not {"row", "col"} <= set(cells.columns):
        return None
    n_rows, n_cols = int(params["n_rows"]), int(params["n_cols"])
    rows = cells["row"].to_numpy()
    cols = cells["col"].to_numpy()
    arr = np.zeros((n_rows, n_cols))
    excluded = np.ones((n_rows, n_cols), dtype=bool)
    arr[rows, cols] = values
    excluded[rows, cols] = False
    return arr, excluded


def gistar_cells(
    cells: gpd.GeoDataFrame,
    *,
    value: str = "n_incidents",
    neighbourhood: Any = "queen",
    fdr: str = "bh",
    q: float = 0.05,
    permutations: int = 0,
    rng: int | np.random.Generator | None = None,
) -> gpd.GeoDataFrame:
    """Return a copy of ``cells`` with ``gi_z``, ``gi_p``, ``gi_p_adj`` and ``gi_bin``.

    Parameters
    ----------
    cells : GeoDataFrame
        Cells (projected CRS, metres) with a numeric ``value`` column, e.g. from
        :func:`planner.grid.count_incidents`. Clip the grid to the study area first: the global mean
        and variance depend on the extent.
    value : str
        Column to test.
    neighbourhood : "queen", "rook", ("distance", d_m) or ("knn", k)
        Square grids from :func:`planner.grid.grid_from_boundary` with queen, rook or a distance band
        use the convolution fast path; otherwise sparse weights (:func:`weights_from_cells`).
    fdr : {"bh", "by", "bonferroni", "none"}
        Global multiple-testing adjustment (:func:`fdr_adjust`).
    q : float
        FDR level (or family-wise α): a cell is significant when ``gi_p_adj ≤ q`` (``|gi_bin| ≥ 2``).
    permutations : int
        When > 0, conditional-permutation inference (esda's scheme): ``gi_p_sim`` is added and used
        for ``gi_p_adj``; a :class:`PlannerWarning` is given when the permutation floor makes the
        FDR unreachable (fewer than n/q permutations).
    rng : int or Generator, optional
        Seed for the permutations.

    Returns
    -------
    GeoDataFrame
        Copy of ``cells``; ``attrs["params"]`` gains ``gi_neighbourhood``, ``gi_fdr``, ``gi_q``,
        ``gi_permutations``, ``gi_inference``.
    """
    require_projected(cells, what="cells")
    fdr = check_choice(fdr, FDR_METHODS, name="fdr", where=_WHERE)
    q = check_fraction(q, name="q", where=_WHERE)
    x = _values_to_test(cells, value)
    if isinstance(permutations, bool) or int(permutations) < 0:
        raise ConfigError(
            f"The 'permutations' parameter of {_WHERE} must be an int ≥ 0. Got {permutations!r}."
        )
    permutations = int(permutations)
    params = cells.attrs.get("params", {})
    z, p, path, nb = _analytic_z(cells, x, neighbourhood, params)
    out = cells.copy()
    out["gi_z"] = z
    out["gi_p"] = p
    inference = "analytic"
    p_for_fdr = p
    if permutations > 0:
        # Same neighbours as the analytic z: the grid footprint on square grids, geometry otherwise.
        w = _grid_weights(cells, nb) if path == "convolution" else weights_from_cells(cells, neighbourhood)
        p_for_fdr = out["gi_p_sim"] = _permutation_p(x, w, permutations, np.random.default_rng(rng))
        inference = f"conditional permutation ({permutations})"
        _warn_permutation_floor(len(x), permutations, fdr=fdr, q=q)
    out["gi_p_adj"] = fdr_adjust(p_for_fdr, fdr)
    out["gi_bin"] = gi_bins(z, out["gi_p_adj"].to_numpy(), q=q)
    out.attrs["params"] = {
        **params,
        "gi_value": value,
        "gi_neighbourhood": neighbourhood if isinstance(neighbourhood, str) else list(neighbourhood),
        "gi_fdr": fdr,
        "gi_q": q,
        "gi_bin_levels": [q / 5.0, q, 2.0 * q],
        "gi_permutations": permutations,
        "gi_inference": inference,
        "gi_path": path,
    }
    logger.info(
        "Gi* (%s, %s path, %s FDR q=%g): %d hot and %d cold cells significant",
        neighbourhood,
        path,
        fdr,
        q,
        int((out["gi_bin"] >= 2).sum()),
        int((out["gi_bin"] <= -2).sum()),
    )
    return out


def _values_to_test(cells: gpd.GeoDataFrame, value: str) -> np.ndarray:
    if value not in cells.columns:
        raise ValidationError(
            f"The cells have no column {value!r} to test with Gi*; available: "
            f"{', '.join(map(str, cells.columns))}. Run planner.grid.count_incidents first."
        )
    x = pd.to_numeric(cells[value], errors="coerce").to_numpy(dtype="float64")
    if not np.isfinite(x).all():
        raise ValidationError(f"The column {value!r} has missing or non-numeric values; fill them first.")
    return x


def _analytic_z(
    cells: gpd.GeoDataFrame, x: np.ndarray, neighbourhood: Any, params: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray, str, str | float]:
    """Analytic Gi* z and p per cell, the path used (convolution or sparse) and the grid neighbourhood."""
    kind, arg = _parse_neighbourhood(neighbourhood)
    grid = _square_array(cells, x) if kind != "knn" else None
    nb: str | float = kind
    if grid is None:
        z, p = gistar_sparse(x, weights_from_cells(cells, neighbourhood))
        return z, p, "sparse", nb
    arr, excluded = grid
    if kind == "distance":
        nb = float(arg) / float(params["cell_size_m"])
        if nb < 1:
            raise ConfigError(
                f"The distance band {arg} m is shorter than one cell ({params['cell_size_m']} m), so "
                "every cell would only neighbour itself. Use a larger distance."
            )
    z2, p2 = gistar_grid(arr, neighbourhood=nb, mask=excluded)
    rows, cols = cells["row"].to_numpy(), cells["col"].to_numpy()
    return z2[rows, cols], p2[rows, cols], "convolution", nb


def _warn_permutation_floor(n: int, permutations: int, *, fdr: str, q: float) -> None:
    if fdr in {"bh", "by"} and (permutations + 1) < n / q:
        warnings.warn(
            f"With {permutations} permutations the smallest pseudo p-value is "
            f"{2 / (permutations + 1):.4g}, so global FDR control over {n} cells at q={q} can only "
            f"flag cells if many sit at that floor. Use at least {int(np.ceil(n / q))} permutations "
            "or analytic inference (permutations=0).",
            PlannerWarning,
            stacklevel=3,
        )


__all__ = [
    "fdr_adjust",
    "footprint",
    "gi_bins",
    "gistar_cells",
    "gistar_grid",
    "gistar_sparse",
    "weights_from_cells",
]
