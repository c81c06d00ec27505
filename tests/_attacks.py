"""Attacks on public exports, as an adversary with the published files and the planner's source.

Each function returns what the attack *recovered*: suppressed counts pinned to their true value
(or shown to be above zero), or incident locations guessed within ``RADIUS_M``. The tests assert
that attacks on public exports recover nothing, and — as positive controls — that the same attacks
on the unprotected figures (Gi* z, an incident hull, the old 0.5 m vertex nudge) do recover, so a
passing test is not an attack that cannot work.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.optimize import linprog
from scipy.spatial import cKDTree

RADIUS_M = 10.0


@dataclass
class Recovery:
    """What an attack got back: exact small counts, counts shown above zero, incident locations."""

    exact: list[int] = field(default_factory=list)  # cell positions whose suppressed count was pinned
    above_zero: list[int] = field(default_factory=list)  # cell positions shown to hold ≥ 1 incident
    locations: int = 0  # guesses within RADIUS_M of an incident
    checked: int = 0  # how many values/guesses the attack examined


# ------------------------------------------------------------------ linear reconstruction
def gistar_operator(weights: sparse.spmatrix, n: int) -> tuple[sparse.csr_matrix, np.ndarray]:
    """(W, D) with Gi*·D = (W x − x̄ W1)/S for binary weights with self (the published formula)."""
    w = sparse.csr_matrix(weights, dtype=float)
    wsum = np.asarray(w.sum(axis=1)).ravel()
    d = np.sqrt(np.maximum(n * wsum - wsum**2, 0.0) / (n - 1))
    return w, d


def _identifiable(design: np.ndarray, n_known: int) -> np.ndarray:
    """Which unknowns (after the first ``n_known``) a linear system determines: e_j in its row space."""
    _, s, vt = np.linalg.svd(design, full_matrices=False)
    basis = vt[s > s.max() * 1e-10]
    return (basis[:, n_known:] ** 2).sum(axis=0) > 1 - 1e-8


class _LeastSquares:
    """Direct sparse least squares for one design matrix, factorised once, many right-hand sides.

    The augmented system ``[[I, A], [Aᵀ, −δI]] [r; x] = [b; 0]`` (columns of ``A`` scaled to unit
    norm, δ = 1e-10) is factorised by SuperLU; each solve is refined against the unregularised system,
    so it converges to the least-squares fit (to the minimum-norm one where ``A`` is rank deficient).
    It replaces LSQR iterations, which on a near-square system of ~8,000 cells needed 60,000 steps
    (minutes) to reach the same residual.
    """

    DELTA = 1e-10
    REFINE = 3

    def __init__(self, design: sparse.spmatrix) -> None:
        from scipy.sparse.linalg import splu

        a = sparse.csr_matrix(design, dtype=float)
        norms = np.sqrt(np.asarray(a.multiply(a).sum(axis=0)).ravel())
        self.norms = np.where(norms > 0, norms, 1.0)
        self.a = (a @ sparse.diags(1.0 / self.norms)).tocsc()
        m, n = self.a.shape
        self.m, self.n = m, n
        k = sparse.bmat(
            [[sparse.identity(m), self.a], [self.a.T, -self.DELTA * sparse.identity(n)]], format="csc"
        )
        self.lu = splu(k, permc_spec="COLAMD")

    def solve(self, b: np.ndarray) -> np.ndarray:
        """The least-squares ``x`` of ``design @ x ≈ b`` (``b`` a vector, or one column per problem)."""
        b = np.asarray(b, dtype=float)
        f = np.concatenate([b, np.zeros((self.n, *b.shape[1:]))])
        z = np.zeros_like(f)
        for _ in range(self.REFINE + 1):
            r, x = z[: self.m], z[self.m :]
            k0z = np.concatenate([r + self.a @ x, self.a.T @ r])  # the unregularised system
            z = z + self.lu.solve(f - k0z)
        scale = self.norms if b.ndim == 1 else self.norms[:, None]
        return z[self.m :] / scale

    def determined(self, columns: np.ndarray) -> np.ndarray:
        """Which unknowns (positions in ``columns``) the system determines: eⱼ in its row space.

        The minimum-norm solution of ``A x = A eⱼ`` is the projection of eⱼ onto the row space, whose
        j-th entry is 1 exactly when eⱼ lies in it (column scaling leaves that unchanged).
        """
        design = (self.a @ sparse.diags(self.norms)).tocsc()
        out = np.zeros(len(columns), dtype=bool)
        for start in range(0, len(columns), 256):
            cols = np.asarray(columns[start : start + 256])
            x = self.solve(design[:, cols].toarray())
            out[start : start + len(cols)] = x[cols, np.arange(len(cols))] > 1 - 1e-6
        return out


def linear_reconstruction(
    columns: dict[str, np.ndarray],
    published: np.ndarray,
    truth: np.ndarray,
    operator: sparse.spmatrix,
    *,
    k: int,
    scale: np.ndarray | None = None,
    verify: bool = True,
) -> dict[str, Recovery]:
    """Solve ``v·scale = a·(M x) + b·(M 1) + c`` for the suppressed ``x`` (and a, b, c), per column.

    ``published`` has NaN where a count is suppressed. The unknown scale ``a`` multiplies the
    unknown counts, so the system is solved for ``y = a·x`` and ``x = y / a`` (direct sparse least
    squares, one factorisation per set of rows a column publishes). Where the model fits the column
    exactly, the attacker claims every estimate within 0.01 of a count in ``1 … k−1`` that the
    system determines (checked on the same factorisation; ``verify=False`` skips that check). The
    right claims are recovered counts when they outnumber the wrong ones.
    """
    m = sparse.csr_matrix(operator, dtype=float)
    hidden = ~np.isfinite(published)
    idx = np.flatnonzero(hidden)
    x_p = np.where(hidden, 0.0, published)
    known = np.column_stack([m @ x_p, np.asarray(m.sum(axis=1)).ravel(), np.ones(m.shape[0])])
    design = sparse.hstack([sparse.csr_matrix(known), m[:, idx]]).tocsr()
    true_hidden = truth[idx]
    solvers: dict[bytes, _LeastSquares] = {}
    out: dict[str, Recovery] = {}
    for name, values in columns.items():
        v = np.asarray(values, dtype=float) * (scale if scale is not None else 1.0)
        rec = Recovery(checked=len(idx))
        out[name] = rec
        rows = np.isfinite(v)
        if not rows.any() or not np.any(v[rows]):
            continue
        sub = design[rows]
        key = np.packbits(rows).tobytes()
        if key not in solvers:
            solvers[key] = _LeastSquares(sub)
        sol = solvers[key].solve(v[rows])
        resid = np.linalg.norm(sub @ sol - v[rows]) / max(np.linalg.norm(v[rows]), 1e-12)
        if resid > 1e-6 or abs(sol[0]) < 1e-12:
            continue
        estimate = sol[3:] / sol[0]
        claim = np.round(estimate)
        near = (np.abs(estimate - claim) < 0.01) & (claim >= 1) & (claim < k)  # what the attacker claims
        if near.any() and verify:
            near[near] = solvers[key].determined(3 + np.flatnonzero(near))
        right = near & (claim == true_hidden)
        # An exact fit of a column unrelated to the counts (a near-square system fits almost
        # anything) claims small counts at random; the attacker cannot tell its right claims from
        # its wrong ones, so they are a recovery only when most claims are right.
        if right.sum() > (near & ~right).sum():
            rec.exact = [int(i) for i in idx[right]]
    return out


# ------------------------------------------------------------------ interval (LP) attack
def bin_intervals(z: np.ndarray, bins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each cell, the z-range its published bin allows, as tight as the data make it: between
    the largest z of the bins below and the smallest z of the bins above (an attacker who knows the
    FDR thresholds exactly)."""
    lo = np.full(len(z), -np.inf)
    hi = np.full(len(z), np.inf)
    for b in np.unique(bins):
        below = z[bins < b]
        above = z[bins > b]
        sel = bins == b
        if len(below):
            lo[sel] = below.max()
        if len(above):
            hi[sel] = above.min()
    return lo, hi


@dataclass
class Knowledge:
    """Linear facts an attacker holds about the counts ``x`` (all cells)."""

    n: int
    lower: np.ndarray  # per-cell bounds
    upper: np.ndarray
    rows: list[tuple[np.ndarray, np.ndarray, float, float]] = field(
        default_factory=list
    )  # (idx, coef, lo, hi)

    def add(self, idx: np.ndarray, coef: np.ndarray, lo: float, hi: float) -> None:
        self.rows.append((np.asarray(idx), np.asarray(coef, float), float(lo), float(hi)))


def knowledge_from_export(
    published: np.ndarray, *, k: int, round_to: int, total: float | None, n: int
) -> Knowledge:
    """Bounds from one export's cell counts (exact, or ± half the rounding) and its total."""
    hidden = ~np.isfinite(published)
    half = (round_to - 1) / 2.0 if round_to > 1 else 0.0
    lower = np.where(hidden, 0.0, np.maximum(published - half - (0.5 if round_to > 1 else 0), k))
    upper = np.where(hidden, k - 1.0, published + half + (0.5 if round_to > 1 else 0))
    know = Knowledge(n=n, lower=lower, upper=upper)
    if total is not None:
        slack = (round_to / 2.0) if round_to > 1 else 0.0
        know.add(np.arange(n), np.ones(n), total - slack, total + slack)
    return know


def merge(a: Knowledge, b: Knowledge) -> Knowledge:
    """What an attacker holding both exports knows."""
    out = Knowledge(n=a.n, lower=np.maximum(a.lower, b.lower), upper=np.minimum(a.upper, b.upper))
    out.rows = a.rows + b.rows
    return out


def add_gistar_bins(
    know: Knowledge,
    weights: sparse.spmatrix,
    z: np.ndarray,
    bins: np.ndarray,
    truth: np.ndarray,
    *,
    shown: np.ndarray | None = None,
    members: np.ndarray | None = None,
    min_bin: int = 2,
) -> None:
    """Each published bin as an inequality on the neighbourhood sum (x̄ and S taken as known);
    cells whose bin is withheld but which a published hotspot holds give ``z ≥`` the hotspot
    threshold. ``bins`` are the true bins (for the thresholds); ``shown`` marks published ones."""
    n = len(truth)
    w, d = gistar_operator(weights, n)
    mean = truth.mean()
    sd = math.sqrt((truth**2).mean() - mean**2)
    lo, hi = bin_intervals(z, bins)
    hot_lo = z[bins < min_bin].max() if (bins < min_bin).any() else -np.inf
    shown = np.ones(n, bool) if shown is None else np.asarray(shown, bool)
    members = np.zeros(n, bool) if members is None else np.asarray(members, bool)
    wsum = np.asarray(w.sum(axis=1)).ravel()
    for i in range(n):
        if shown[i]:
            low, high = lo[i], hi[i]
        elif members[i]:
            low, high = hot_lo, np.inf
        else:
            continue
        row = w.getrow(i)
        know.add(
            row.indices,
            row.data,
            low * sd * d[i] + mean * wsum[i] if np.isfinite(low) else -np.inf,
            high * sd * d[i] + mean * wsum[i] if np.isfinite(high) else np.inf,
        )


def interval_attack(
    know: Knowledge, truth: np.ndarray, *, k: int, cells: np.ndarray | None = None
) -> Recovery:
    """LP bounds of each suppressed cell given everything known; recovered when pinned or > 0."""
    fixed = know.lower == know.upper
    free = np.flatnonzero(~fixed)
    pos = {int(j): i for i, j in enumerate(free)}
    r_idx, c_idx, vals, b_lo, b_hi = [], [], [], [], []
    for idx, coef, lo, hi in know.rows:
        const = float(np.sum(coef[fixed[idx]] * know.lower[idx[fixed[idx]]]))
        sel = ~fixed[idx]
        if not sel.any():
            continue
        r = len(b_lo)
        for j, c in zip(idx[sel], coef[sel], strict=True):
            r_idx.append(r)
            c_idx.append(pos[int(j)])
            vals.append(c)
        b_lo.append(lo - const)
        b_hi.append(hi - const)
    a = sparse.csr_matrix((vals, (r_idx, c_idx)), shape=(len(b_lo), len(free)))
    lo_arr, hi_arr = np.array(b_lo, dtype=float), np.array(b_hi, dtype=float)
    a_ub = sparse.vstack([a[np.isfinite(hi_arr)], -a[np.isfinite(lo_arr)]]).tocsr()
    b_ub = np.concatenate([hi_arr[np.isfinite(hi_arr)], -lo_arr[np.isfinite(lo_arr)]])
    bounds = list(zip(know.lower[free], know.upper[free], strict=True))
    targets = free if cells is None else np.intersect1d(free, cells)
    targets = np.array([t for t in targets if know.upper[t] < k], dtype=int)  # the suppressed ones
    out = Recovery(checked=len(targets))
    kwargs = {"A_ub": a_ub, "b_ub": b_ub, "bounds": bounds, "method": "highs"}
    # a cell is shown safe (can be 0) by any solution with it at 0; the rest get their own bounds
    pending = np.zeros(len(free), bool)
    pending[[pos[int(t)] for t in targets]] = True
    for _ in range(10):
        res = linprog(pending.astype(float), **kwargs)
        if not res.success:
            raise AssertionError(f"the attacker's system is infeasible: {res.message}")
        zero = pending & (res.x < 1e-7)
        if not zero.any():
            break
        pending &= ~zero
    for p in np.flatnonzero(pending):
        t = free[p]
        c = np.zeros(len(free))
        c[p] = 1.0
        low = linprog(c, **kwargs)
        lo_v = math.ceil(low.fun - 1e-6)
        if lo_v < 1:  # the cell can be 0: neither shown above zero nor pinned to a count of 1 … k−1
            continue
        out.above_zero.append(int(t))
        if truth[t] == lo_v:  # pinned only if the upper bound meets it (the truth is always feasible)
            high = linprog(-c, **kwargs)
            if math.floor(-high.fun + 1e-6) == lo_v:
                out.exact.append(int(t))
    return out


# ------------------------------------------------------------------ geometry attacks
def lattice_offsets(xy: np.ndarray, cell_size_m: float) -> np.ndarray:
    """Distance of each point to the nearest grid lattice point (multiples of the cell size)."""
    snapped = np.round(xy / cell_size_m) * cell_size_m
    return np.hypot(*(xy - snapped).T)


def nudge_inversion(
    geoms: np.ndarray, incidents_xy: np.ndarray, *, cell_size_m: float, boundary=None
) -> Recovery:
    """Vertices a little off the grid lattice (and off the given boundary) were moved away from an
    incident: guess the incident at the lattice point they left. Recovered: guesses within 10 m."""
    xy = np.unique(shapely.get_coordinates(geoms), axis=0)
    off = lattice_offsets(xy, cell_size_m)
    # the nudge moved corners 0.5 m; a few centimetres is the rounding of a GeoJSON round trip
    moved = (off > 0.05) & (off < 2.0)
    if boundary is not None and moved.any():
        on_boundary = shapely.distance(boundary.boundary, shapely.points(xy[moved])) < 1e-6
        moved[np.flatnonzero(moved)[on_boundary]] = False
    guesses = np.round(xy[moved] / cell_size_m) * cell_size_m
    return _hits(guesses, incidents_xy)


def arc_centres(
    polygon: shapely.Geometry, *, radius_m: float = 250.0, min_run: int = 2, tol_m: float = 0.01
) -> np.ndarray:
    """Centres of circular arcs of radius ``radius_m`` along a polygon's rings (a buffer's arcs are
    centred on the points it was drawn around; the planner's hull buffer is 250 m): runs of
    ``min_run``+ consecutive vertex triples with the same circumcentre at that radius."""
    centres = []
    rings = (
        [polygon.exterior, *polygon.interiors]
        if polygon.geom_type == "Polygon"
        else [r for p in polygon.geoms for r in (p.exterior, *p.interiors)]
    )
    for ring in rings:
        pts = np.asarray(ring.coords)[:-1]
        if len(pts) < 3:
            continue
        a, b, c = pts, np.roll(pts, -1, axis=0), np.roll(pts, -2, axis=0)
        d = 2 * (
            a[:, 0] * (b[:, 1] - c[:, 1]) + b[:, 0] * (c[:, 1] - a[:, 1]) + c[:, 0] * (a[:, 1] - b[:, 1])
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            ux = (
                (a**2).sum(1) * (b[:, 1] - c[:, 1])
                + (b**2).sum(1) * (c[:, 1] - a[:, 1])
                + (c**2).sum(1) * (a[:, 1] - b[:, 1])
            ) / d
            uy = (
                (a**2).sum(1) * (c[:, 0] - b[:, 0])
                + (b**2).sum(1) * (a[:, 0] - c[:, 0])
                + (c**2).sum(1) * (b[:, 0] - a[:, 0])
            ) / d
        centre = np.column_stack([ux, uy])
        with np.errstate(invalid="ignore"):  # collinear triples have no centre (inf)
            radius = np.hypot(*(centre - a).T)
            step = np.hypot(*(centre - np.roll(centre, -1, axis=0)).T)
            same = (step < tol_m) & (np.abs(radius - radius_m) < 1.0)
        run = 0
        for i in range(len(pts)):
            run = run + 1 if same[i] and np.isfinite(centre[i]).all() else 0
            if run == max(min_run - 1, 1):
                centres.append(centre[i])
    return np.array(centres).reshape(-1, 2)


def hull_corner_attack(study_area: shapely.Geometry, incidents_xy: np.ndarray) -> Recovery:
    """Guess incidents at the centres of the study area's arcs. Recovered: guesses within 10 m."""
    return _hits(arc_centres(study_area), incidents_xy)


def _hits(guesses: np.ndarray, incidents_xy: np.ndarray) -> Recovery:
    out = Recovery(checked=len(guesses))
    if len(guesses) and len(incidents_xy):
        dist, _ = cKDTree(incidents_xy).query(guesses)
        out.locations = int((dist <= RADIUS_M).sum())
    return out


def profile_interval(
    entries: dict[str, float | None], total: float, *, k: int
) -> dict[str, tuple[float, float]]:
    """Range of each null entry of a count profile given its total (attacker knows the total)."""
    hidden = [key for key, v in entries.items() if v is None]
    shown = sum(float(v) for v in entries.values() if v is not None)
    s = total - shown
    m = len(hidden)
    return {key: (max(0.0, s - (m - 1) * (k - 1)), min(k - 1.0, s)) for key in hidden}


def published_counts_array(frame: pd.DataFrame) -> np.ndarray:
    """The published cell counts (NaN where suppressed), float."""
    return pd.to_numeric(frame["n_incidents"], errors="coerce").to_numpy(float)


def grid_weights(rows: np.ndarray, cols: np.ndarray, neighbourhood: str = "queen") -> sparse.csr_matrix:
    """Binary weights with self from published ``row``/``col`` (the Gi* footprint of the planner)."""
    offsets = [(di, dj) for di in (-1, 0, 1) for dj in (-1, 0, 1)]
    if neighbourhood == "rook":
        offsets = [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)]
    lookup = {(int(r), int(c)): i for i, (r, c) in enumerate(zip(rows, cols, strict=True))}
    a, b = [], []
    for i, (r, c) in enumerate(zip(rows, cols, strict=True)):
        for di, dj in offsets:
            j = lookup.get((int(r) + di, int(c) + dj))
            if j is not None:
                a.append(i)
                b.append(j)
    n = len(rows)
    return sparse.csr_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
