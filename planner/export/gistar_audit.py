"""Gi* bins that give no suppressed count away, checked by the attack an adversary would run.

A published bin says that a cell's Gi* z lies between two thresholds, and Gi* is linear in the
counts of the cell's neighbourhood: ``z_i · S · D_i = Σ_{j∈N(i)} x_j − x̄ W_i``. With the published
counts of the other neighbours, a bin whose z sits just past its threshold can prove that a
suppressed neighbour holds at least one incident (on the sample city, one cell of 165). This module
runs that attack — a linear programme over the suppressed counts with every published bin, the
published counts and the citywide total, thresholds known exactly (from the FDR procedure and the
published bins, an attacker can locate them) and ``x̄``, ``S`` known — and withholds the bins (and,
as a last resort, hotspot membership, which says "bin ≥ min_bin") that let any suppressed count be
shown above zero.

Withheld bins are chosen level by level, ``k' = 2 … k``, each level starting from the bins withheld
below it, so an export with a larger ``k`` withholds a superset of the bins of an export with a
smaller ``k``: two exports of one plan with different ``k`` hold no bin together that either would
have withheld (differencing gains nothing).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
from scipy import sparse
from scipy.optimize import linprog

logger = logging.getLogger(__name__)

_SQUARE_FOOTPRINT = {
    "queen": [(di, dj) for di in (-1, 0, 1) for dj in (-1, 0, 1)],
    "rook": [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)],
}


@dataclass
class BinAudit:
    """Bins and hotspot memberships withheld, and what the check found."""

    bins_withheld: set[int] = field(default_factory=set)
    members_dropped: set[int] = field(default_factory=set)
    leaks_found: int = 0
    model_matches: bool = True


def gistar_weights(cells: gpd.GeoDataFrame, *, grid_kind: str, neighbourhood: str) -> sparse.csr_matrix:
    """The binary weights (self included) the planner's Gi* used: the row/col footprint on square
    grids, shared boundaries on hexagons.
    """
    if grid_kind != "hex" and {"row", "col"} <= set(cells.columns) and neighbourhood in _SQUARE_FOOTPRINT:
        rows, cols = cells["row"].to_numpy(int), cells["col"].to_numpy(int)
        lookup = {(r, c): i for i, (r, c) in enumerate(zip(rows, cols, strict=True))}
        a, b = [], []
        for i, (r, c) in enumerate(zip(rows, cols, strict=True)):
            for di, dj in _SQUARE_FOOTPRINT[neighbourhood]:
                j = lookup.get((r + di, c + dj))
                if j is not None:
                    a.append(i)
                    b.append(j)
        n = len(cells)
        return sparse.csr_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    from planner.hotspots.gistar import weights_from_cells

    return weights_from_cells(cells, neighbourhood)


def bin_ranges(z: np.ndarray, bins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The z-interval each cell's bin allows, as an attacker who knows the thresholds sees it:
    above the largest z of lower bins, below the smallest z of higher bins.
    """
    lo = np.full(len(z), -np.inf)
    hi = np.full(len(z), np.inf)
    for b in np.unique(bins):
        sel = bins == b
        below, above = z[bins < b], z[bins > b]
        if len(below):
            lo[sel] = below.max()
        if len(above):
            hi[sel] = above.min()
    return lo, hi


@dataclass(frozen=True)
class _Model:
    weights: sparse.csr_matrix
    counts: np.ndarray
    lo_sum: np.ndarray  # bounds on each cell's neighbourhood sum implied by its full bin
    hi_sum: np.ndarray
    member_lo_sum: np.ndarray  # bound implied by hotspot membership (bin ≥ min_bin) alone
    total_known: bool


def _model(
    weights: sparse.csr_matrix,
    counts: np.ndarray,
    z: np.ndarray,
    bins: np.ndarray,
    *,
    min_bin: int,
    total_known: bool,
) -> _Model:
    n = len(counts)
    wsum = np.asarray(weights.sum(axis=1)).ravel()
    mean = counts.mean()
    sd = math.sqrt(max((counts**2).mean() - mean**2, 0.0))
    d = np.sqrt(np.maximum(n * wsum - wsum**2, 0.0) / max(n - 1, 1))
    lo, hi = bin_ranges(z, bins)
    member_lo = np.full(n, -np.inf)
    hot = bins >= min_bin
    if hot.any() and (~hot).any():
        member_lo[hot] = z[~hot].max()
    with np.errstate(invalid="ignore"):
        scale = sd * d
        return _Model(
            weights=weights,
            counts=counts,
            lo_sum=lo * scale + mean * wsum,
            hi_sum=hi * scale + mean * wsum,
            member_lo_sum=member_lo * scale + mean * wsum,
            total_known=total_known,
        )


@dataclass(frozen=True)
class _System:
    """The attacker's linear system over the suppressed counts ``idx``: A_ub x ≤ b_ub (+ the total)."""

    idx: np.ndarray
    a_ub: sparse.csr_matrix
    b_ub: np.ndarray
    row_cell: np.ndarray  # the cell whose bin (or membership) each row of a_ub comes from
    eq: dict[str, object]


def _system(
    model: _Model, hidden: np.ndarray, *, withheld: set[int], members: set[int], hot: np.ndarray
) -> _System:
    idx = np.flatnonzero(hidden)
    known = np.where(hidden, 0.0, model.counts)
    w = model.weights
    rows = np.unique(w[:, idx].nonzero()[0])
    is_withheld = np.isin(rows, np.fromiter(withheld, dtype=int, count=len(withheld)))
    is_member = np.isin(rows, np.fromiter(members, dtype=int, count=len(members)))
    # a withheld bin still says "bin ≥ min_bin" while the cell's hotspot membership is published
    member_only = is_withheld & hot[rows] & ~is_member
    keep = ~is_withheld | member_only
    rows, member_only = rows[keep], member_only[keep]
    low = np.where(member_only, model.member_lo_sum[rows], model.lo_sum[rows])
    high = np.where(member_only, np.inf, model.hi_sum[rows])
    sub = w[rows]
    const = np.asarray(sub @ known, dtype=float).ravel()
    a = sub[:, idx].tocsr()
    lo_a, hi_a = low - const, high - const
    up, down = np.isfinite(hi_a), np.isfinite(lo_a)
    eq: dict[str, object] = {}
    if model.total_known:
        eq = {"A_eq": np.ones((1, len(idx))), "b_eq": [float(model.counts[idx].sum())]}
    return _System(
        idx=idx,
        a_ub=sparse.vstack([a[up], -a[down]]).tocsr(),
        b_ub=np.concatenate([hi_a[up], -lo_a[down]]),
        row_cell=np.concatenate([rows[up], rows[down]]),
        eq=eq,
    )


def _leaks(
    model: _Model, hidden: np.ndarray, *, k: int, withheld: set[int], members: set[int], hot: np.ndarray
) -> dict[int, set[int]]:
    """Suppressed cells an attacker can show to hold at least one incident, each with the cells
    whose bins (binding constraints of the attacker's programme) show it.
    """
    if not hidden.any():
        return {}
    system = _system(model, hidden, withheld=withheld, members=members, hot=hot)
    n = len(system.idx)
    bounds = (0.0, float(k - 1))
    kwargs = {"A_ub": system.a_ub, "b_ub": system.b_ub, "bounds": bounds, "method": "highs", **system.eq}
    # A cell is safe once some solution of the attacker's system has it at 0. Minimising the mass on
    # the cells not yet shown safe clears most of them in a few programmes; the rest get one each.
    open_cells = np.ones(n, dtype=bool)
    for _ in range(8):
        res = linprog(open_cells.astype(float), **kwargs)
        if not res.success:
            logger.warning(
                "Gi* bin audit: the attacker's system is infeasible (%s); withholding bins", res.message
            )
            return {int(j): set() for j in system.idx}
        cleared = open_cells & (res.x <= 1e-7)
        if not cleared.any():
            break
        open_cells &= ~cleared
    leaks: dict[int, set[int]] = {}
    for p in np.flatnonzero(open_cells):
        c = np.zeros(n)
        c[p] = 1.0
        res = linprog(c, **kwargs)
        if res.success and res.fun > 1e-6:
            active = np.abs(res.ineqlin.marginals) > 1e-9
            leaks[int(system.idx[p])] = {int(i) for i in system.row_cell[active]}
    return leaks


def _withhold(
    leaks: dict[int, set[int]], out: BinAudit, *, weights: sparse.csr_matrix, hot: np.ndarray
) -> bool:
    """Withhold the bins that showed each leak (else every bin around it; then hotspot membership).
    Returns False when nothing more can be withheld.
    """
    changed = False
    for j, binding in leaks.items():
        around = {int(i) for i in weights[:, j].nonzero()[0]}
        candidates = (binding & around) or around
        fresh = candidates - out.bins_withheld
        if fresh:
            out.bins_withheld |= fresh
            changed = True
            continue
        members = {i for i in candidates if hot[i]} - out.members_dropped
        if members:
            out.members_dropped |= members
            changed = True
    return changed


def audit_bins(
    cells: gpd.GeoDataFrame,
    counts: np.ndarray,
    *,
    k: int,
    total_known: bool,
    grid_kind: str,
    neighbourhood: str,
    min_bin: int,
) -> BinAudit:
    """Which Gi* bins (and hotspot memberships) to withhold so no suppressed count is shown above 0.

    Parameters
    ----------
    cells : GeoDataFrame
        The run's cells with ``gi_z``, ``gi_bin``, ``row``/``col`` (and ``hotspot_id``).
    counts : ndarray
        True counts per cell.
    k : int
        Suppression threshold; levels 2 … k are audited in turn (see the module docstring).
    total_known : bool
        Whether the citywide count is published.
    grid_kind, neighbourhood : str
        The run's grid and Gi* neighbourhood.
    min_bin : int
        Bin a cell needs to belong to a hotspot (a published hotspot shows ``bin ≥ min_bin``).
    """
    counts = np.asarray(counts, dtype=float)
    z = np.nan_to_num(cells["gi_z"].to_numpy(float))
    bins = cells["gi_bin"].to_numpy(int)
    hot = bins >= min_bin
    weights = gistar_weights(cells, grid_kind=grid_kind, neighbourhood=neighbourhood)
    out = BinAudit()
    model = _model(weights, counts, z, bins, min_bin=min_bin, total_known=total_known)
    wsum = np.asarray(weights.sum(axis=1)).ravel()
    sd = math.sqrt(max((counts**2).mean() - counts.mean() ** 2, 0.0))
    d = np.sqrt(np.maximum(len(counts) * wsum - wsum**2, 0.0) / max(len(counts) - 1, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        recomputed = (weights @ counts - counts.mean() * wsum) / (sd * d)
    if not np.allclose(np.nan_to_num(recomputed), z, atol=1e-6):
        logger.warning("Gi* bin audit: the published z cannot be reproduced; withholding every bin")
        out.model_matches = False
        out.bins_withheld = set(range(len(cells)))
        return out
    for level in range(2, k + 1):
        hidden = counts < level
        for _ in range(len(cells)):
            leaks = _leaks(
                model, hidden, k=level, withheld=out.bins_withheld, members=out.members_dropped, hot=hot
            )
            if not leaks:
                break
            out.leaks_found += len(leaks)
            if not _withhold(leaks, out, weights=weights, hot=hot):
                break
    return out
