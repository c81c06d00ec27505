"""Which candidates the risk terrain keeps: penalised screen, stepwise BIC, cross-validated distances.

All three steps work on the cell-level approximation of the model (``log μ = β₀ + x̄·β`` on cell
shares ``x̄``, fast closed-form IRLS); the retained factors are then refitted as a point-intensity
model (:mod:`planner.risk.intensity`). Cross-validation deals whole square spatial blocks to folds
(``glm.block_folds``), so a factor is judged on blocks it was not fitted on.
"""

# Design matrices keep their statistical names (X, Z) as in scikit-learn and statsmodels.
# ruff: noqa: N802, N803, N806
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from planner.risk import glm

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Problem:
    """The arrays of one selection: counts, offset (log m²), fixed covariates, candidates.

    Candidate ``j`` is column ``source[j]`` of ``raw`` (one row per cell). With ``stacked`` the
    rows are the cells' night counts then their day counts, and a ``night_only[j]`` candidate is
    zero on the day rows (a night-time term). ``groups[j]`` is the layer of candidate ``j`` (at
    most one per group is kept); ``requires[j]`` the candidate that must accompany it (-1: none);
    ``folds`` the spatially blocked cross-validation fold of each row; ``blocks`` the spatial
    block of each row (for cluster-robust Wald statistics in the stepwise search).
    """

    y: np.ndarray
    offset: np.ndarray
    base: np.ndarray
    raw: np.ndarray
    source: np.ndarray
    night_only: np.ndarray
    stacked: bool
    names: list[str]
    groups: list[str]
    requires: tuple[int, ...]
    folds: np.ndarray
    blocks: np.ndarray | None = None

    def columns(self, chosen: Any) -> np.ndarray:
        """The candidate columns ``chosen`` over the rows (night rows then day rows if stacked)."""
        idx = np.asarray(chosen, dtype=int)
        top = self.raw[:, self.source[idx]]
        if not self.stacked:
            return top
        return np.vstack([top, top * ~self.night_only[idx]])

    @cached_property
    def raw_squared(self) -> np.ndarray:
        """``raw`` squared (for the score statistics), made once."""
        return self.raw * self.raw

    @cached_property
    def X(self) -> np.ndarray:
        """Every candidate column (made on demand: the screen needs them all)."""
        return self.columns(np.arange(len(self.names)))

    def design(self, chosen: list[int]) -> np.ndarray:
        """Constant, covariates and the chosen candidate columns."""
        return np.column_stack([np.ones(len(self.y)), self.base, self.columns(chosen)])


def _base_offset(problem: Problem) -> np.ndarray:
    """The offset plus the fitted effect of the covariates (they are never penalised)."""
    if not problem.base.shape[1]:
        return problem.offset
    _, _, beta = glm.irls_fit(problem.y, problem.design([]), problem.offset, "poisson", 0.0)
    if beta is None:
        return problem.offset
    return problem.offset + problem.base @ beta[1:]


def _cv_alpha(problem: Problem, Z: np.ndarray, offset: np.ndarray, l1_ratio: float) -> float:
    """The penalty with the lowest spatially blocked cross-validated Poisson deviance."""
    y = problem.y
    n = Z.shape[0]
    mu0 = np.exp(offset) * (y.sum() / np.exp(offset).sum())
    alpha_max = float(np.max(np.abs(Z.T @ (y - mu0))) / n / l1_ratio)
    grid = alpha_max * np.logspace(-0.3, -3, 8)
    deviance = np.zeros(len(grid))
    for k in np.unique(problem.folds):
        train, test = problem.folds != k, problem.folds == k
        path = glm.enet_poisson_path(Z[train], y[train], offset[train], grid, l1_ratio)
        for j, (b0, beta) in enumerate(path):
            deviance[j] += glm.poisson_deviance(y[test], np.exp(b0 + Z[test] @ beta + offset[test]))
    return float(grid[int(np.argmin(deviance))])


def screen(problem: Problem, *, alpha: float | None, l1_ratio: float) -> tuple[np.ndarray, float]:
    """Candidates with a non-zero elastic-net coefficient (standardised, penalty ``alpha`` or
    chosen by blocked CV), then those not linearly dependent on the covariates or each other.

    Returns the kept indices and the penalty used.
    """
    Z = (problem.X - problem.X.mean(axis=0)) / problem.X.std(axis=0)
    offset = _base_offset(problem)
    used = float(alpha) if alpha is not None else _cv_alpha(problem, Z, offset, l1_ratio)
    _, beta = glm.enet_poisson_path(Z, problem.y, offset, np.array([used]), l1_ratio)[-1]
    kept = np.flatnonzero(np.abs(beta) > 1e-8)
    logger.info("risk terrain: %d of %d candidates pass the screen (alpha=%.3g)", len(kept), len(beta), used)
    return independent(problem, kept), used


def score_stats(problem: Problem, mu: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Poisson score statistic of each candidate column added alone to the fit with means ``mu``
    (centred on the fit's weighted mean; a cheap ranking, not a test).
    """
    idx = np.asarray(columns, dtype=int)
    src = problem.source[idx]
    resid = problem.y - mu
    n = problem.raw.shape[0]
    if problem.stacked:  # night rows see every column; day rows only the all-hours ones
        day = ~problem.night_only[idx]
        both = np.vstack([resid[:n], resid[n:], mu[:n], mu[n:]])
        sums = (both @ problem.raw)[:, src]
        squares = (np.vstack([mu[:n], mu[n:]]) @ problem.raw_squared)[:, src]
        u, s1, s2 = sums[0] + sums[1] * day, sums[2] + sums[3] * day, squares[0] + squares[1] * day
    else:
        sums = (np.vstack([resid, mu]) @ problem.raw)[:, src]
        u, s1, s2 = sums[0], sums[1], (mu @ problem.raw_squared)[src]
    u = u - s1 * float(resid.sum()) / float(mu.sum())
    return u**2 / np.maximum(s2 - s1**2 / float(mu.sum()), 1e-12)


def prescreen(problem: Problem, *, per_group: int = 3) -> np.ndarray:
    """Each layer's ``per_group`` candidates with the largest score statistic against the
    covariates-only fit (plus the all-hours twins night terms require). The stepwise search
    picks among these; :func:`cv_distances` later reconsiders every distance of a kept layer.
    """
    _, mu, _ = glm.irls_fit(problem.y, problem.design([]), problem.offset, "poisson", 0.0)
    if mu is None:
        return np.arange(len(problem.names))
    stat = score_stats(problem, mu, np.arange(len(problem.names)))
    keep: list[int] = []
    groups = np.asarray(problem.groups)
    for g in dict.fromkeys(problem.groups):
        members = np.flatnonzero(groups == g)
        keep += [int(j) for j in members[np.argsort(-stat[members], kind="stable")[:per_group]]]
    keep += [problem.requires[j] for j in keep if problem.requires[j] >= 0]
    return np.unique(np.asarray(keep, dtype=int))


def independent(problem: Problem, candidates: np.ndarray) -> np.ndarray:
    """The candidates that are not linear combinations of the covariates and earlier ones."""
    Z = (problem.X - problem.X.mean(axis=0)) / np.where(problem.X.std(axis=0) > 0, problem.X.std(axis=0), 1.0)
    return glm.independent_columns(np.hstack([problem.base, Z]), candidates, offset=problem.base.shape[1])


def stepwise(
    problem: Problem, pool: np.ndarray, *, family: str, nb_alpha: float, max_factors: int | None
) -> list[int]:
    """Bidirectional stepwise BIC among ``pool`` (indices into the candidates); returns indices
    into the candidates.
    """
    pool = np.asarray(pool, dtype=int)
    position = {int(j): i for i, j in enumerate(pool)}
    requires = tuple(position.get(problem.requires[int(j)], -1) for j in pool)
    data = glm.CountData(
        y=problem.y,
        X=problem.columns(pool),
        groups=[problem.groups[int(j)] for j in pool],
        offset=problem.offset,
        base=problem.base,
        requires=requires,
        clusters=problem.blocks,
    )
    chosen, _ = glm.stepwise_bic(data, family=family, nb_alpha=nb_alpha, max_factors=max_factors)
    return sorted(int(pool[i]) for i in chosen)


def _night_twin(problem: Problem, parent: int) -> int:
    """The candidate that requires ``parent`` (its night-time version), or -1."""
    for j, need in enumerate(problem.requires):
        if need == parent:
            return j
    return -1


def _ladder_position(name: str) -> tuple[str, float]:
    """(operationalisation, distance) of a candidate name; being inside a polygon
    (``area_share``) is proximity at 0 m, so it sits at the foot of the proximity ladder.
    """
    _, op, d = name.removesuffix("@night").rsplit("|", 2)
    return ("proximity", 0.0) if op == "area_share" else (op, float(d))


def _neighbours(problem: Problem, j: int, *, switch: bool = True) -> list[int]:
    """Candidates of ``j``'s layer one step away: the next shorter and longer distance of the
    same operationalisation, and (``switch``) the other operationalisations at the nearest
    distance.
    """
    op, d = _ladder_position(problem.names[j])
    same = [k for k in range(len(problem.names)) if problem.groups[k] == problem.groups[j] and k != j]
    places = {k: _ladder_position(problem.names[k]) for k in same}
    shorter = [k for k in same if places[k][0] == op and places[k][1] < d]
    longer = [k for k in same if places[k][0] == op and places[k][1] > d]
    out = []
    if shorter:
        out.append(max(shorter, key=lambda k: places[k][1]))
    if longer:
        out.append(min(longer, key=lambda k: places[k][1]))
    for other in sorted({places[k][0] for k in same} - {op}) if switch else []:
        near = [k for k in same if places[k][0] == other]
        out.append(min(near, key=lambda k: (abs(places[k][1] - d), places[k][1])))
    return out


def _rearranged(
    problem: Problem, beta: np.ndarray | None, current: list[int], trial: list[int], swap: dict[int, int]
) -> np.ndarray | None:
    """``current``'s coefficients in ``trial``'s column order, a swapped-in column starting at the
    coefficient of the column it replaces.
    """
    if beta is None:
        return None
    k = 1 + problem.base.shape[1]
    back = {new: old for old, new in swap.items()}
    pos = {j: k + i for i, j in enumerate(current)}
    return np.r_[beta[:k], [beta[pos[back.get(j, j)]] for j in trial]]


Evaluator = Callable[[list[int], list[int], dict[int, int]], float]


def cell_evaluator(problem: Problem, *, family: str, nb_alpha: float) -> Evaluator:
    """Blocked-CV log-likelihood of the cell model with the ``trial`` candidates, warm-started
    from the fit of ``current`` (``swap``: old → new candidate).
    """
    fits: dict[tuple[int, ...], np.ndarray | None] = {}

    def evaluate(trial: list[int], current: list[int], swap: dict[int, int]) -> float:
        if tuple(current) not in fits:
            fits[tuple(current)] = glm.irls_fit(
                problem.y, problem.design(current), problem.offset, family, nb_alpha
            )[2]
        start = _rearranged(problem, fits[tuple(current)], current, trial, swap)
        X = problem.design(trial)
        llf, mu, beta = glm.irls_fit(problem.y, X, problem.offset, family, nb_alpha, beta0=start)
        fits[tuple(trial)] = beta
        if mu is None or beta is None or not np.isfinite(llf):
            return -np.inf
        return glm.cv_loglik(
            problem.y, X, problem.offset, (beta, mu), problem.folds, family=family, nb_alpha=nb_alpha
        )

    return evaluate


def cv_distances(problem: Problem, chosen: list[int], evaluate: Evaluator) -> list[int]:
    """Re-choose each retained layer's operationalisation and distance by spatially blocked
    cross-validated log-likelihood (``evaluate``), the other retained factors held in the model:
    from the stepwise choice, step to the neighbouring distance (or operationalisation) while that
    raises the held-out likelihood (a hill climb along the distance ladder, layer by layer; the
    operationalisation may switch at the first step). A night-time term follows its all-hours
    term.
    """
    current = list(chosen)
    best = evaluate(current, current, {})
    for j in [j for j in chosen if problem.requires[j] < 0]:
        held, twin = j, _night_twin(problem, j)
        has_twin = twin in current
        for step in range(len(problem.names)):
            trials = []
            for k in _neighbours(problem, held, switch=step == 0):
                k_twin = _night_twin(problem, k)
                if has_twin and k_twin < 0:
                    continue
                swap = {held: k, twin: k_twin} if has_twin else {held: k}
                trial = sorted(swap.get(i, i) for i in current)
                trials.append((evaluate(trial, current, swap), trial, k, k_twin))
            if not trials or max(t[0] for t in trials) <= best + 1e-9:
                break
            best, current, held, twin = max(trials, key=lambda t: t[0])
    return current
