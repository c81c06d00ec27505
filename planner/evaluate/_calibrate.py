"""Calibration weights for synthetic controls, many problems at once.

Each problem asks for non-negative weights ``w`` over the donor units it may use (a row of
``mask``) such that the weighted donor totals equal the targets exactly, ``Σ_i w_i x_i = t``,
while staying as close as possible to uniform starting weights ``d`` (survey raking, as R
``survey::calibrate(calfun = "raking")`` used by ``microsynth``): ``w_i = d·exp(x_i'λ)``, with the
Lagrange multipliers ``λ`` found by damped Newton steps on the convex dual
``f(λ) = Σ_i d·exp(x_i'λ) − t'λ``. All problems are solved together (one batched Newton
iteration for every row), so a few hundred placebo problems cost about as much as a handful.

``calfun="linear"`` gives instead the non-negative weights closest to ``d`` in squared distance
(``w_i = d·max(1 + x_i'λ, 0)``, dual ``f(λ) = Σ_i d·max(1 + x_i'λ, 0)²/2 − t'λ``): the quadratic
programme R ``microsynth`` solves with ``LowRankQP`` (and ``survey::calibrate(calfun = "linear",
bounds = c(0, Inf))``). On R's Seattle example it reproduces the published synthetic controls
(felony Con 68.22, all crime 986.44), where raking gives 69.54 and 973.46
(``tests/test_microsynth_seattle.py``). Rows are solved in chunks so that the
rows × donors arrays stay within about 64 MB.

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
from threadpoolctl import threadpool_limits

logger = logging.getLogger(__name__)

__all__ = ["CalibrationResult", "calibrate_batch"]

EXP_CLIP = 60.0
CALFUNS = ("raking", "linear")
CHUNK_BYTES = 64 * 2**20


@dataclass(frozen=True)
class CalibrationResult:
    """Weights of a batch of calibration problems (rows) over the donor units (columns)."""

    weights: np.ndarray  # (rows, donors); 0 where a donor is not available to the row
    exact: np.ndarray  # (rows,) bool: every target met within the tolerance
    max_rel_imbalance: np.ndarray  # (rows,) largest |Σ w x − t| / max(|t|, 1)
    method: np.ndarray  # (rows,) the calfun ("raking", "linear") or "closest"
    iterations: int


def _column_scale(x: np.ndarray) -> np.ndarray:
    """A positive scale per column so that scaled entries are of order one."""
    scale = np.abs(x).mean(axis=0)
    return np.where(scale > 0, scale, 1.0)


class _Hessians:
    """The dual's Hessians ``Xᵀ diag(c) X`` of every row, updated where the curvature ``c`` changed.

    With ``calfun="linear"`` the curvature is ``d`` on the donors with positive weight, and after
    the first steps only a few donors enter or leave that set, so the update costs a few rank-one
    terms instead of a donors × K² product per row and iteration (placebo batches on 10,000
    donors would otherwise take minutes). Raking changes every curvature: full products then,
    one BLAS call per row.
    """

    def __init__(self, xs: np.ndarray, rows: int) -> None:
        self.xs = xs
        self.hess = np.zeros((rows, xs.shape[1], xs.shape[1]))
        self.curv = np.zeros((rows, xs.shape[0]))

    def update(self, rows: np.ndarray, curv: np.ndarray) -> np.ndarray:
        xs = self.xs
        for i, r in enumerate(rows):
            change = curv[i] - self.curv[r]
            idx = np.flatnonzero(change)
            if len(idx) > xs.shape[0] // 4:
                self.hess[r] = xs.T @ (xs * curv[i][:, None])
            elif len(idx):
                sub = xs[idx]
                self.hess[r] += sub.T @ (sub * change[idx, None])
            self.curv[r] = curv[i]
        return self.hess[rows]


def _newton_step(hess: np.ndarray, grad: np.ndarray, ridge: float) -> np.ndarray:
    """Newton directions for every row: solve ``H Δ = −g`` (a little jitter keeps ``H`` invertible)."""
    k = hess.shape[1]
    jitter = 1e-10 * np.maximum(np.trace(hess, axis1=1, axis2=2), 1e-12) / k + ridge
    hess = hess + jitter[:, None, None] * np.eye(k)[None]
    try:
        return -np.linalg.solve(hess, grad[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        return -np.einsum("rkl,rl->rk", np.linalg.pinv(hess), grad)


def _weights(
    xs: np.ndarray, lam: np.ndarray, init: np.ndarray, mask: np.ndarray, calfun: str = "raking"
) -> np.ndarray:
    if calfun == "linear":
        return init[:, None] * np.maximum(1.0 + lam @ xs.T, 0.0) * mask
    u = np.clip(lam @ xs.T, -EXP_CLIP, EXP_CLIP)
    return init[:, None] * np.exp(u) * mask


def _dual(w: np.ndarray, init: np.ndarray, calfun: str) -> np.ndarray:
    """The weights' part of the dual objective: Σ w (raking) or Σ w²/(2d) (linear)."""
    if calfun == "linear":
        return (w**2).sum(axis=1) / (2.0 * init)
    return w.sum(axis=1)


def _curvature(w: np.ndarray, init: np.ndarray, mask: np.ndarray, calfun: str) -> np.ndarray:
    """Diagonal of the dual's Hessian per row and donor: ``w`` (raking), ``d`` where ``w > 0`` (linear)."""
    if calfun == "linear":
        return init[:, None] * (w > 0) * mask
    return w


def _raking(
    xs: np.ndarray,
    ts: np.ndarray,
    init: np.ndarray,
    mask: np.ndarray,
    *,
    tol: float,
    max_iter: int,
    ridge: float = 0.0,
    calfun: str = "raking",
) -> tuple[np.ndarray, np.ndarray, int]:
    """Batched damped Newton on the raking dual; returns weights, relative imbalance, iterations.

    ``ridge > 0`` adds ``ridge/2·|λ|²`` to the dual: it stays bounded when the targets are out of
    reach, and the weights trade a little balance for staying finite (the closest-fit fallback).
    """
    rows, k = ts.shape
    lam = np.zeros((rows, k))
    denom = np.maximum(np.abs(ts), 1.0)
    active = np.ones(rows, dtype=bool)
    w = _weights(xs, lam, init, mask, calfun)
    best = np.full(rows, np.inf)
    since = np.zeros(rows, dtype=int)
    hessians = _Hessians(xs, rows)
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
        hess = hessians.update(a, _curvature(w[a], init[a], mask[a], calfun))
        delta = _newton_step(hess, grad[a], ridge)
        f0 = (
            _dual(w[a], init[a], calfun)
            - np.einsum("rk,rk->r", ts[a], lam[a])
            + 0.5 * ridge * (lam[a] ** 2).sum(axis=1)
        )
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
            cw = _weights(xs, cand, init[a[idx]], mask[a[idx]], calfun)
            f1 = (
                _dual(cw, init[a[idx]], calfun)
                - np.einsum("rk,rk->r", ts[a[idx]], cand)
                + 0.5 * ridge * (cand**2).sum(axis=1)
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
    xs: np.ndarray, ts: np.ndarray, init: np.ndarray, mask: np.ndarray, *, max_iter: int, calfun: str
) -> tuple[np.ndarray, np.ndarray]:
    """Closest achievable fit for rows whose targets cannot be met exactly: ridge-penalised raking
    with the penalty lowered step by step, keeping each row's least imbalanced weights.
    """
    denom = np.maximum(np.abs(ts), 1.0)
    best_w = np.zeros((len(ts), xs.shape[0]))
    best = np.full(len(ts), np.inf)
    scale = float(np.abs(ts).mean()) or 1.0
    for ridge in (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6):
        w, _, _ = _raking(xs, ts, init, mask, tol=0.0, max_iter=max_iter, ridge=ridge * scale, calfun=calfun)
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
    calfun: str = "raking",
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
    calfun : {"raking", "linear"}
        Distance from the starting weights: raking (``w = d·exp(x'λ)``) or squared distance with
        ``w ≥ 0`` (``w = d·max(1 + x'λ, 0)``, R microsynth's quadratic programme).

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
    step = max(1, int(CHUNK_BYTES // max(8 * x.shape[0] * 4, 1)))
    w = np.zeros((len(ts), x.shape[0]))
    rel = np.zeros(len(ts))
    iterations = 0
    # The products are donors × K by K × K: threaded BLAS gains little there and, on a machine
    # whose cores are busy, loses up to 20× to contention (measured: 16 s against 0.7 s for one
    # Seattle problem on 2 loaded cores), so the solver runs BLAS on one thread.
    with threadpool_limits(limits=1, user_api="blas"):
        for lo in range(0, len(ts), step):
            sl = slice(lo, lo + step)
            w[sl], rel[sl], it = _raking(
                xs, ts[sl], init[sl], mask[sl].astype(float), tol=tol, max_iter=max_iter, calfun=calfun
            )
            iterations = max(iterations, it)
    method = np.full(len(ts), calfun, dtype=object)
    allowed = np.broadcast_to(np.asarray(fallback, dtype=bool), (len(ts),))
    bad = np.flatnonzero((~(rel <= tol) | ~np.isfinite(w).all(axis=1)) & allowed)
    if len(bad):
        w[bad], rel[bad] = _closest(
            xs, ts[bad], init[bad], mask[bad].astype(float), max_iter=40, calfun=calfun
        )
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
