"""Calibration weights for synthetic controls, many problems at once.

Each problem asks for non-negative weights ``w`` over the donor units it may use (a row of
``mask``) such that the weighted donor totals equal the targets exactly, ``Σ_i w_i x_i = t``,
while staying as close as possible to uniform starting weights ``d`` (survey raking, as R
``survey::calibrate(calfun = "raking")`` used by ``microsynth``): ``w_i = d·exp(x_i'λ)``, with the
Lagrange multipliers ``λ`` found by damped Newton steps on the convex dual
``f(λ) = Σ_i d·exp(x_i'λ) − t'λ``. All problems are solved together (one batched Newton
iteration for every row), so a few hundred placebo problems cost about as much as a handful.

When exact balance is infeasible (the targets are outside what positive weights can reach, e.g. a
constraint the donors cannot produce), the row falls back to the closest achievable fit: bounded
raking with a ridge penalty on ``λ`` (which keeps the weights finite when the targets are out of
reach), the penalty lowered step by step and the least imbalanced weights kept. Every row reports whether it was matched exactly and its largest relative
imbalance, so callers can say so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["CalibrationResult", "calibrate_batch"]

EXP_CLIP = 60.0


@dataclass(frozen=True)
class CalibrationResult:
    """Weights of a batch of calibration problems (rows) over the donor units (columns)."""

    weights: np.ndarray  # (rows, donors); 0 where a donor is not available to the row
    exact: np.ndarray  # (rows,) bool: every target met within the tolerance
    max_rel_imbalance: np.ndarray  # (rows,) largest |Σ w x − t| / max(|t|, 1)
    method: np.ndarray  # (rows,) "raking" or "closest"
    iterations: int


def _column_scale(x: np.ndarray) -> np.ndarray:
    """A positive scale per column so that scaled entries are of order one."""
    scale = np.abs(x).mean(axis=0)
    return np.where(scale > 0, scale, 1.0)


def _newton_step(xs: np.ndarray, w: np.ndarray, grad: np.ndarray, ridge: float) -> np.ndarray:
    """Newton directions for every row: solve ``H Δ = −g`` with ``H = Xᵀ diag(w) X``."""
    sw = np.sqrt(w)[:, :, None] * xs[None, :, :]  # (rows, N, K), C-contiguous
    hess = np.matmul(sw.transpose(0, 2, 1), sw)  # (rows, K, K): Xᵀ diag(w) X, BLAS per row
    jitter = 1e-10 * np.maximum(np.trace(hess, axis1=1, axis2=2), 1e-12) / xs.shape[1] + ridge
    hess += jitter[:, None, None] * np.eye(xs.shape[1])[None]
    try:
        return -np.linalg.solve(hess, grad[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        return -np.einsum("rkl,rl->rk", np.linalg.pinv(hess), grad)


def _weights(xs: np.ndarray, lam: np.ndarray, init: np.ndarray, mask: np.ndarray) -> np.ndarray:
    u = np.clip(lam @ xs.T, -EXP_CLIP, EXP_CLIP)
    return init[:, None] * np.exp(u) * mask


def _raking(
    xs: np.ndarray,
    ts: np.ndarray,
    init: np.ndarray,
    mask: np.ndarray,
    *,
    tol: float,
    max_iter: int,
    ridge: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Batched damped Newton on the raking dual; returns weights, relative imbalance, iterations.

    ``ridge > 0`` adds ``ridge/2·|λ|²`` to the dual: it stays bounded when the targets are out of
    reach, and the weights trade a little balance for staying finite (the closest-fit fallback).
    """
    rows, k = ts.shape
    lam = np.zeros((rows, k))
    denom = np.maximum(np.abs(ts), 1.0)
    active = np.ones(rows, dtype=bool)
    w = _weights(xs, lam, init, mask)
    best = np.full(rows, np.inf)
    since = np.zeros(rows, dtype=int)
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        imbalance = w @ xs - ts
        grad = imbalance + ridge * lam
        rel = np.abs(imbalance if ridge == 0 else grad) / denom
        worst = rel.max(axis=1)
        improved = worst < 0.9 * best
        best = np.where(improved, worst, best)
        since = np.where(improved, 0, since + 1)
        # converged, or diverging (the dual falls without bound when the targets are out of reach)
        active &= (worst > tol) & (since < 15) & (worst < 1e3 * np.maximum(best, 1e-12))
        if not active.any():
            break
        a = np.flatnonzero(active)
        delta = _newton_step(xs, w[a], grad[a], ridge)
        f0 = w[a].sum(axis=1) - np.einsum("rk,rk->r", ts[a], lam[a]) + 0.5 * ridge * (lam[a] ** 2).sum(axis=1)
        slope = np.einsum("rk,rk->r", grad[a], delta)
        step = np.ones(len(a))
        todo = np.ones(len(a), dtype=bool)
        new_lam = lam[a].copy()
        new_w = w[a].copy()
        for _ in range(40):
            idx = np.flatnonzero(todo)
            if not len(idx):
                break
            cand = lam[a[idx]] + step[idx, None] * delta[idx]
            cw = _weights(xs, cand, init[a[idx]], mask[a[idx]])
            f1 = (
                cw.sum(axis=1) - np.einsum("rk,rk->r", ts[a[idx]], cand) + 0.5 * ridge * (cand**2).sum(axis=1)
            )
            ok = np.isfinite(f1) & (f1 <= f0[idx] + 1e-4 * step[idx] * slope[idx] + 1e-12 * np.abs(f0[idx]))
            new_lam[idx[ok]] = cand[ok]
            new_w[idx[ok]] = cw[ok]
            todo[idx[ok]] = False
            step[idx[~ok]] *= 0.5
        lam[a] = new_lam
        w[a] = new_w
        stalled = todo  # no decrease found: the row cannot improve further
        active[a[stalled]] = False
    grad = w @ xs - ts
    return w, (np.abs(grad) / denom).max(axis=1), it


def _closest(
    xs: np.ndarray, ts: np.ndarray, init: np.ndarray, mask: np.ndarray, *, max_iter: int
) -> tuple[np.ndarray, np.ndarray]:
    """Closest achievable fit for rows whose targets cannot be met exactly: ridge-penalised raking
    with the penalty lowered step by step, keeping each row's least imbalanced weights.
    """
    denom = np.maximum(np.abs(ts), 1.0)
    best_w = np.zeros((len(ts), xs.shape[0]))
    best = np.full(len(ts), np.inf)
    scale = float(np.abs(ts).mean()) or 1.0
    for ridge in (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6):
        w, _, _ = _raking(xs, ts, init, mask, tol=0.0, max_iter=max_iter, ridge=ridge * scale)
        rel = (np.abs(w @ xs - ts) / denom).max(axis=1)
        better = np.isfinite(rel) & (rel < best)
        best_w[better] = w[better]
        best[better] = rel[better]
    return best_w, best


def calibrate_batch(
    x: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray,
    init: np.ndarray,
    *,
    tol: float = 1e-6,
    max_iter: int = 100,
    fallback: bool | np.ndarray = True,
) -> CalibrationResult:
    """Calibrate weights for many problems that share one donor matrix.

    Parameters
    ----------
    x : ndarray, shape (donors, K)
        Constraint values of every donor unit (counts per outcome and time bin, covariates).
    targets : ndarray, shape (rows, K)
        The totals each row's weighted donors must reach (its treated units' sums).
    mask : ndarray of bool, shape (rows, donors)
        Which donors each row may use.
    init : ndarray, shape (rows,)
        Starting (uniform) weight of each row's donors, e.g. ``n_treated / n_donors``.
    tol : float
        Largest relative imbalance ``|Σ w x − t| / max(|t|, 1)`` counted as an exact match.
    max_iter : int
        Newton iterations before a row is declared infeasible.
    fallback : bool or ndarray of bool, shape (rows,)
        Rows that fall back to the closest fit when exact balance fails (others keep the raking
        weights of their last iteration and are reported as not exact).

    Returns
    -------
    CalibrationResult
    """
    x = np.asarray(x, dtype=float)
    targets = np.atleast_2d(np.asarray(targets, dtype=float))
    mask = np.atleast_2d(np.asarray(mask, dtype=bool))
    init = np.broadcast_to(np.asarray(init, dtype=float), (targets.shape[0],)).copy()
    scale = _column_scale(x)
    xs, ts = x / scale, targets / scale
    w, rel, iterations = _raking(xs, ts, init, mask.astype(float), tol=tol, max_iter=max_iter)
    method = np.full(len(ts), "raking", dtype=object)
    allowed = np.broadcast_to(np.asarray(fallback, dtype=bool), (len(ts),))
    bad = np.flatnonzero((~(rel <= tol) | ~np.isfinite(w).all(axis=1)) & allowed)
    if len(bad):
        w[bad], rel[bad] = _closest(xs, ts[bad], init[bad], mask[bad].astype(float), max_iter=40)
        method[bad] = "closest"
        logger.info(
            "%d of %d calibration problems had no exact solution; closest fit used", len(bad), len(ts)
        )
    return CalibrationResult(
        weights=w,
        exact=rel <= max(tol, 1e-4),
        max_rel_imbalance=rel,
        method=method,
        iterations=iterations,
    )
