"""Count-model toolkit for the risk terrain: elastic-net screening, fast IRLS, stepwise BIC search.

Statsmodels fits the final model (with cluster-robust intervals); these hand-written solvers exist
because the screen and the stepwise search need hundreds of fits, where statsmodels' overhead
dominates. ``irls_loglik`` matches statsmodels' GLM estimates (``tests/test_risk.py``).
"""

# Design matrices keep their statistical names (X, Z) as in scikit-learn and statsmodels.
# ruff: noqa: N803, N806
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from scipy.linalg import LinAlgError as ScipyLinAlgError
from scipy.linalg import cho_factor, cho_solve
from scipy.special import gammaln

logger = logging.getLogger(__name__)


def _weighted_enet(
    gram: np.ndarray, corr: np.ndarray, beta: np.ndarray, *, lam1: float, lam2: float, tol: float
) -> np.ndarray:
    """The inner weighted elastic net on the p × p weighted Gram matrix, by accelerated proximal
    gradient (FISTA with adaptive restart): each step is one p × p product, vectorised.
    """
    lipschitz = float(np.linalg.eigvalsh(gram)[-1]) + lam2
    if lipschitz <= 0:
        return beta.copy()
    step = 1.0 / lipschitz
    x = beta.copy()
    z = x.copy()
    t = 1.0
    for _ in range(20000):
        grad = gram @ z - corr + lam2 * z
        v = z - step * grad
        new_x = np.sign(v) * np.maximum(np.abs(v) - step * lam1, 0.0)
        t_next = (1.0 + np.sqrt(1.0 + 4.0 * t * t)) / 2.0
        moved = new_x - x
        if float(moved @ (z - new_x)) > 0:  # restart the momentum when it points uphill
            t_next = 1.0
            z = new_x
        else:
            z = new_x + ((t - 1.0) / t_next) * moved
        x, t = new_x, t_next
        if float(np.max(np.abs(moved), initial=0.0)) < tol * 1e-2:
            break
    return x


def enet_poisson_path(
    Z: np.ndarray,
    y: np.ndarray,
    offset: np.ndarray,
    alphas: np.ndarray,
    l1_ratio: float,
    *,
    max_iter: int = 50,
    tol: float = 1e-6,
) -> list[tuple[float, np.ndarray]]:
    """Elastic-net penalised Poisson regression along a decreasing ``alphas`` path.

    Minimises ``mean(μ − y·η) + α (l1_ratio·|β|₁ + (1 − l1_ratio)/2·|β|²)`` with
    ``η = b0 + Zβ + offset`` (intercept unpenalised), warm-starting each alpha from the previous,
    by iteratively reweighted least squares whose inner weighted elastic net is solved by
    accelerated proximal gradient on the p × p weighted Gram matrix (each step costs O(p²),
    independent of the number of cells). Used only for screening.
    """
    n, p = Z.shape
    b0 = float(np.log(y.sum() / np.exp(offset).sum()))
    beta = np.zeros(p)
    out = []
    for alpha in alphas:
        for _ in range(max_iter):
            eta = np.clip(b0 + Z @ beta + offset, -50, 50)
            mu = np.exp(eta)
            w = np.maximum(mu, 1e-10)
            z = eta - offset + (y - mu) / w  # working response (offset removed)
            sw = float(w.sum())
            zbar = float(w @ z) / sw
            xbar = (w @ Z) / sw
            Zw = (Z - xbar) * w[:, None]
            lam = float(alpha) * n / sw
            new_beta = _weighted_enet(
                (Zw.T @ (Z - xbar)) / sw,
                (Zw.T @ (z - zbar)) / sw,
                beta,
                lam1=lam * l1_ratio,
                lam2=lam * (1 - l1_ratio),
                tol=tol,
            )
            new_b0 = zbar - float(xbar @ new_beta)
            change = max(abs(new_b0 - b0), float(np.max(np.abs(new_beta - beta), initial=0.0)))
            b0, beta = new_b0, new_beta
            if change < tol:
                break
        out.append((b0, beta.copy()))
    return out


def poisson_deviance(y: np.ndarray, mu: np.ndarray) -> float:
    """Poisson deviance of means ``mu`` for counts ``y``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0)
    return float(2 * np.sum(term - (y - mu)))


def loglik_constant(y: np.ndarray, family: str, nb_alpha: float) -> np.ndarray:
    """The terms of the log-likelihood that do not depend on the means, per count."""
    if family == "negative_binomial":
        r = 1.0 / float(nb_alpha)
        return gammaln(y + r) - gammaln(r) - gammaln(y + 1)
    return -gammaln(y + 1)


def count_loglik(
    y: np.ndarray, mu: np.ndarray, family: str, nb_alpha: float, *, const: float | None = None
) -> float:
    """Log-likelihood of counts ``y`` under Poisson or NB2 (dispersion ``nb_alpha``) means ``mu``.

    ``const`` is the sum of :func:`loglik_constant` for these counts (computed when not given).
    """
    c = float(np.sum(loglik_constant(y, family, nb_alpha))) if const is None else const
    if family == "negative_binomial":
        a = float(nb_alpha)
        return float(c + np.sum(y * np.log(a * mu) - (y + 1.0 / a) * np.log1p(a * mu)))
    return float(c + np.sum(y * np.log(mu) - mu))


def irls_fit(
    y: np.ndarray,
    X: np.ndarray,
    offset: np.ndarray,
    family: str,
    nb_alpha: float,
    *,
    beta0: np.ndarray | None = None,
    max_iter: int = 100,
) -> tuple[float, np.ndarray | None, np.ndarray | None]:
    """Maximised log-likelihood, fitted means and coefficients of a log-link Poisson or NB2 (fixed
    alpha) GLM; ``X`` includes the constant column.

    Plain IRLS with a Cholesky solve of the p × p normal equations and step halving — the same
    estimates as statsmodels' GLM (checked in the tests) at a fraction of the cost, for the many
    fits of the stepwise search. ``beta0`` warm-starts it. Returns ``(-inf, None, None)`` when the
    design is singular.
    """
    nb = family == "negative_binomial"
    a = float(nb_alpha)
    if beta0 is None:
        beta = np.zeros(X.shape[1])
        beta[0] = float(np.log(max(y.sum(), 0.5) / np.exp(offset).sum()))
    else:
        beta = np.asarray(beta0, dtype=float).copy()
    const = float(np.sum(loglik_constant(y, family, a)))
    eta = np.clip(X @ beta + offset, -50, 50)
    mu = np.exp(eta)
    llf = count_loglik(y, mu, family, a, const=const)
    for _ in range(max_iter):
        w = mu / (1 + a * mu) if nb else mu
        z = eta - offset + (y - mu) / mu
        xw = X * w[:, None]
        try:
            step = cho_solve(cho_factor(xw.T @ X), xw.T @ z) - beta
        except (ScipyLinAlgError, np.linalg.LinAlgError, ValueError):
            return -np.inf, None, None
        for _half in range(30):
            cand = beta + step
            eta_c = np.clip(X @ cand + offset, -50, 50)
            mu_c = np.exp(eta_c)
            llf_c = count_loglik(y, mu_c, family, a, const=const)
            if np.isfinite(llf_c) and llf_c >= llf - 1e-10 * abs(llf):
                break
            step = step / 2
        else:
            return -np.inf, None, None
        done = abs(llf_c - llf) <= 1e-10 * max(abs(llf), 1.0)
        beta, eta, mu, llf = cand, eta_c, mu_c, llf_c
        if done:
            break
    return llf, mu, beta


def irls_loglik(
    y: np.ndarray, X: np.ndarray, offset: np.ndarray, family: str, nb_alpha: float, *, max_iter: int = 100
) -> tuple[float, np.ndarray | None]:
    """Maximised log-likelihood and fitted means of :func:`irls_fit` (``(-inf, None)`` if singular)."""
    llf, mu, _ = irls_fit(y, X, offset, family, nb_alpha, max_iter=max_iter)
    return llf, mu


def block_folds(blocks: np.ndarray, k: int, rng: Any) -> np.ndarray:
    """Fold (0..k-1) of each row: whole spatial blocks are dealt to folds at random."""
    labels, inverse = np.unique(blocks, return_inverse=True)
    order = np.random.default_rng(rng).permutation(len(labels))
    return (order % int(k))[inverse]


def cv_loglik(
    y: np.ndarray,
    X: np.ndarray,
    offset: np.ndarray,
    fit: tuple[np.ndarray, np.ndarray],
    folds: np.ndarray,
    *,
    family: str,
    nb_alpha: float,
) -> float:
    """Held-out log-likelihood summed over spatially blocked folds, each fold predicted by the
    model fitted without it.

    The fit without fold k is one Newton step from the full-data fit ``fit = (beta, mu)``:
    ``β₋ₖ = β + (I − Iₖ)⁻¹ · (−Uₖ)``, where ``Uₖ`` and ``Iₖ`` are fold k's score and Fisher
    information at β (the full-data score is zero). For folds of many cells the step lands within
    rounding of the refitted estimate, at the cost of one IRLS iteration for all folds together.
    """
    beta, mu = fit
    a = float(nb_alpha) if family == "negative_binomial" else 0.0
    w = mu / (1 + a * mu)
    resid = (y - mu) / (1 + a * mu)
    info = (X * w[:, None]).T @ X
    const = loglik_constant(y, family, nb_alpha)
    total = 0.0
    for k in np.unique(folds):
        held = folds == k
        Xk = X[held]
        info_k = (Xk * w[held][:, None]).T @ Xk
        score_k = Xk.T @ resid[held]
        try:
            beta_k = beta - np.linalg.solve(info - info_k, score_k)
        except np.linalg.LinAlgError:
            return -np.inf
        mu_k = np.exp(np.clip(Xk @ beta_k + offset[held], -50, 50))
        total += count_loglik(y[held], mu_k, family, nb_alpha, const=float(const[held].sum()))
    return float(total)


def spatial_blocks(xy: np.ndarray, side_m: float) -> np.ndarray:
    """Integer label of the square block (``side_m`` metres) holding each point."""
    ij = np.floor((xy - xy.min(axis=0)) / side_m).astype(np.int64)
    return ij[:, 0] * (int(ij[:, 1].max()) + 1) + ij[:, 1]


def independent_columns(M: np.ndarray, candidates: np.ndarray, *, offset: int) -> np.ndarray:
    """The candidates (column ``offset + i`` of ``M``) that are not linear combinations of the
    first ``offset`` columns and of earlier kept candidates (identical operationalisations at two
    distances, a layer duplicating another).
    """
    keep: list[int] = []
    base = np.column_stack([np.ones(len(M)), M[:, :offset]])
    q, _ = np.linalg.qr(base)
    for i in candidates:
        v = M[:, offset + int(i)]
        resid = v - q @ (q.T @ v)
        norm = float(np.linalg.norm(resid))
        if norm > 1e-6 * max(float(np.linalg.norm(v)), 1.0):
            keep.append(int(i))
            q = np.column_stack([q, resid / norm])
        else:
            logger.info("risk terrain: candidate %d duplicates others and is dropped", int(i))
    return np.asarray(keep, dtype=int)


def statsmodels_glm(y: np.ndarray, X: np.ndarray, offset: np.ndarray, family: str, nb_alpha: float) -> Any:
    """A statsmodels GLM (constant added) of the given family, fitted."""
    import statsmodels.api as sm

    fam = sm.families.Poisson() if family == "poisson" else sm.families.NegativeBinomial(alpha=nb_alpha)
    return sm.GLM(y, sm.add_constant(X, has_constant="add"), family=fam, offset=offset).fit()


@dataclass(frozen=True)
class CountData:
    """Counts, candidate columns, their groups (one per layer), offset and fixed covariates.

    ``requires[i]`` (when given) is the candidate that must be in the model whenever candidate
    ``i`` is (-1: none) — a night-time term needs its all-hours main effect. With ``clusters``
    (a spatial block per row) the Wald statistics of the search are cluster-robust.
    """

    y: np.ndarray
    X: np.ndarray
    groups: list[str]
    offset: np.ndarray
    base: np.ndarray
    requires: tuple[int, ...] = ()
    clusters: np.ndarray | None = None

    def required(self, j: int) -> int:
        """The candidate ``j`` needs alongside it, or -1."""
        return self.requires[j] if self.requires else -1

    @property
    def wald_threshold(self) -> float:
        """z² a term needs to enter and to stay: the BIC threshold log n. With clusters the z² is
        cluster-robust, so a term must improve BIC even with its evidence measured that way.
        """
        return float(np.log(len(self.y)))

    @cached_property
    def squared(self) -> np.ndarray:
        """The candidates squared (for the score statistics)."""
        return self.X * self.X


@dataclass(frozen=True)
class _Fit:
    """One fitted subset: BIC, means, coefficients (constant, base, chosen) and their Wald z²."""

    bic: float
    mu: np.ndarray | None
    beta: np.ndarray | None
    z2: np.ndarray | None


class _BicCache:
    """BIC and fitted means of each subset of candidates, fitted once (warm-started from the
    subset it was reached from).
    """

    def __init__(self, data: CountData, family: str, nb_alpha: float) -> None:
        self.data, self.family, self.nb_alpha = data, family, nb_alpha
        self._fits: dict[tuple[int, ...], _Fit] = {}

    def __call__(self, chosen: tuple[int, ...], *, start: tuple[int, ...] | None = None) -> _Fit:
        if chosen not in self._fits:
            d = self.data
            n = len(d.y)
            design = np.column_stack([np.ones(n), d.base, d.X[:, list(chosen)]])
            llf, mu, beta = irls_fit(
                d.y, design, d.offset, self.family, self.nb_alpha, beta0=self._warm(chosen, start)
            )
            n_par = design.shape[1] + (1 if self.family == "negative_binomial" else 0)
            if mu is None or beta is None:
                self._fits[chosen] = _Fit(np.inf, None, None, None)
            else:
                var = self._variances(design, mu)
                z2 = np.where(var > 0, beta**2 / np.maximum(var, 1e-300), np.inf)
                self._fits[chosen] = _Fit(float(-2 * llf + n_par * np.log(n)), mu, beta, z2)
        return self._fits[chosen]

    def _variances(self, design: np.ndarray, mu: np.ndarray) -> np.ndarray:
        """Variances of the coefficients: model-based, or cluster-robust (sandwich) with clusters."""
        a = self.nb_alpha if self.family == "negative_binomial" else 0.0
        bread = np.linalg.pinv((design * (mu / (1 + a * mu))[:, None]).T @ design)
        if self.data.clusters is None:
            return np.diag(bread)
        scores = design * ((self.data.y - mu) / (1 + a * mu))[:, None]
        summed = self._cluster_sum @ scores
        meat = summed.T @ summed
        return np.diag(bread @ meat @ bread)

    @cached_property
    def _cluster_sum(self) -> Any:
        """Sparse (clusters × rows) indicator that sums rows by cluster."""
        from scipy import sparse

        assert self.data.clusters is not None
        _, inverse = np.unique(self.data.clusters, return_inverse=True)
        n = len(inverse)
        return sparse.csr_matrix((np.ones(n), (inverse.ravel(), np.arange(n))))

    def _warm(self, chosen: tuple[int, ...], start: tuple[int, ...] | None) -> np.ndarray | None:
        """Coefficients of ``start``'s fit rearranged for ``chosen`` (new terms at 0)."""
        if start is None or start not in self._fits or self._fits[start].beta is None:
            return None
        old = self._fits[start].beta
        assert old is not None
        k = 1 + self.data.base.shape[1]
        pos = {j: k + i for i, j in enumerate(start)}
        return np.r_[old[:k], [old[pos[j]] if j in pos else 0.0 for j in chosen]]


def _score_order(
    data: CountData, current: tuple[int, ...], mu: np.ndarray, free: list[int], fit: _BicCache
) -> list[int]:
    """Free candidates ranked by their score (Rao) statistic at the current fit."""
    n = len(data.y)
    var = mu + (fit.nb_alpha * mu**2 if fit.family == "negative_binomial" else 0.0)
    w = mu**2 / var
    D = np.column_stack([np.ones(n), data.base, data.X[:, list(current)]])
    u = (data.X.T @ ((data.y - mu) * mu / var))[free]
    Dw = D * w[:, None]
    info_dd = D.T @ Dw
    info_dc = (Dw.T @ data.X)[:, free]
    info_cc = (data.squared.T @ w)[free]
    eff = info_cc - np.einsum("ij,ij->j", info_dc, np.linalg.pinv(info_dd) @ info_dc)
    stat = np.where(eff > 1e-12, u**2 / np.maximum(eff, 1e-12), 0.0)
    return [free[i] for i in np.argsort(-stat, kind="stable")]


def _addable(data: CountData, current: tuple[int, ...]) -> list[int]:
    """Candidates that may enter: their group is not in the model, and the term they require is
    in it or can enter with them.
    """
    used = {data.groups[i] for i in current}
    free = []
    for j in range(data.X.shape[1]):
        need = data.required(j)
        if data.groups[j] in used or (need >= 0 and need not in current and data.groups[need] in used):
            continue
        free.append(j)
    return free


def _with(data: CountData, current: tuple[int, ...], j: int) -> tuple[int, ...]:
    """``current`` plus ``j`` and the term ``j`` requires."""
    need = data.required(j)
    return tuple(sorted({*current, j, *([need] if need >= 0 else [])}))


def _without(data: CountData, current: tuple[int, ...], j: int) -> tuple[int, ...]:
    """``current`` without ``j`` and the terms that require it."""
    return tuple(i for i in current if i != j and data.required(i) != j)


def _weakest(data: CountData, current: tuple[int, ...], fit: _Fit) -> int | None:
    """The current term with the smallest Wald z², when that is below the threshold (log n, or
    with clusters the cluster-robust ``data.wald_threshold``).
    """
    if not current or fit.z2 is None:
        return None
    k = 1 + data.base.shape[1]
    needed = {data.required(j) for j in current}
    z2 = np.where([j in needed for j in current], np.inf, fit.z2[k:])  # a required term stays
    i = int(np.argmin(z2))
    return current[i] if z2[i] < data.wald_threshold else None


def stepwise_bic(
    data: CountData, *, family: str, nb_alpha: float, max_factors: int | None, refit_top: int = 3
) -> tuple[list[int], float]:
    """Bidirectional stepwise search by BIC; at most one candidate per group (layer).

    Each step first tries to drop the term with the smallest Wald z² (when z² < log n, the BIC
    threshold; with clusters, when its cluster-robust z² is below ``data.wald_threshold``);
    otherwise it adds the first of the ``refit_top`` best candidates by score (Rao)
    statistic — one matrix product for all of them — that lowers BIC when refitted (warm-started
    from the current fit). Score and Wald statistics approximate the likelihood-ratio ones the
    full search would refit, at a fraction of the cost; every accepted move is checked by its
    refitted BIC. A candidate that requires another (``data.requires``) enters with it and leaves
    with it.
    """
    fit = _BicCache(data, family, nb_alpha)
    limit = max_factors if max_factors is not None else data.X.shape[1]
    current: tuple[int, ...] = ()
    state = fit(current)
    dropped: set[int] = set()
    for _ in range(4 * data.X.shape[1] + 4):
        move = _next_move(data, current, state, fit, limit=limit, refit_top=refit_top, dropped=dropped)
        if move is None:
            break
        dropped |= set(current) - set(move)
        current, state = move, fit(move)
    return list(current), float(state.bic)


def _strong(data: CountData, move: tuple[int, ...], j: int, fit: _Fit) -> bool:
    """With clusters: the term ``j`` the move adds has a cluster-robust z² of at least
    ``data.wald_threshold`` (a term it requires comes along whatever its own z²).
    """
    if data.clusters is None:
        return True
    if fit.z2 is None:
        return False
    k = 1 + data.base.shape[1]
    return bool(fit.z2[k + move.index(j)] >= data.wald_threshold)


def _next_move(
    data: CountData,
    current: tuple[int, ...],
    state: _Fit,
    fit: _BicCache,
    *,
    limit: int,
    refit_top: int,
    dropped: set[int],
) -> tuple[int, ...] | None:
    """The first move that lowers BIC: drop the weakest term (Wald), else add one of the
    ``refit_top`` best candidates by score statistic (not one dropped before). With clusters a
    term whose cluster-robust z² is below log n leaves, and none enters with one.
    """
    weak = _weakest(data, current, state)
    if weak is not None:
        smaller = _without(data, current, weak)
        if data.clusters is not None or fit(smaller, start=current).bic < state.bic - 1e-9:
            return smaller
    free = [j for j in _addable(data, current) if j not in dropped]
    if not free or len(current) >= limit or state.mu is None:
        return None
    for j in _score_order(data, current, state.mu, free, fit)[:refit_top]:
        bigger = _with(data, current, j)
        if len(bigger) > limit:
            continue
        trial = fit(bigger, start=current)
        if trial.bic < state.bic - 1e-9 and _strong(data, bigger, j, trial):
            return bigger
    return None
