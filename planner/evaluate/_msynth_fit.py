"""The fitting core of the micro-synthetic control: constraints, replicate problems, estimates.

One *fit* solves, in one batch (:func:`planner.evaluate._calibrate.calibrate_batch`), the main
problem (the real treated area), every placebo area and every jackknife replicate, and returns
per row and outcome the treated count ``trt``, the synthetic count ``con`` and the variance of
``log(trt/con)``. Rows: ``0`` main, ``1..P`` placebos, ``P+1..P+G`` jackknife replicates.

**Regression to the mean.** Weights chosen on a unit's before-period counts favour units that were
high (or low) *by chance* when the treated area is busier (or quieter) than the average donor;
those counts fall back afterwards, so the synthetic control drifts and the effect is biased (on
the sample city the raw calibration finds a −27 % "effect" in a ward where nothing happened).
With ``crossfit`` (an option; the default is ``none``, R's) each donor's before-period crimes are split at random into two
halves (binomial thinning, seeded): weights are fitted on one half (doubled), the synthetic
control's before-period level is measured on the other half, which the weights never saw, and
the synthetic control is scaled to the treated area's before-period level per outcome
(``con = Σ w·after × T_before / Σ w·before_held_out``). The two halves swap roles and the two
estimates are averaged. ``none`` is R microsynth's raw calibration (exact balance on the full
counts, no correction).

**Linearised variance** (``variance="design"``, R microsynth's): the after period is a long table of
unit × after-bin rows, treated units weighted 1 and donors by their synthetic-control weights; the
weighted regression ``y ~ treated + bin`` gets its design-based (sandwich) covariance as
``survey::svyglm`` computes it for ``svydesign(ids = ~0, weights = w)`` — every row its own
sampling unit, with-replacement variance, ``n/(n−1)`` — and the variance of
``log(Trt/Con)`` follows by the delta method (R's ``my.delta``); the test statistic is the
treated coefficient over its standard error (R's ``stat1``). It reproduces R's published all-crime
interval on the Seattle data. ``variance="poisson"`` treats the counts as Poisson instead
(narrower: it ignores how unevenly the weights spread over the donors).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy.linalg import qr

from planner.evaluate._calibrate import calibrate_batch
from planner.evaluate._panel import Panel

RTM_CHOICES = ("crossfit", "none")
VARIANCE_CHOICES = ("design", "poisson")
PLACEBO_CHOICES = ("contiguous", "random")


@dataclass(frozen=True)
class Layout:
    """Which before-period bins each outcome is matched on, and the constraint descriptions."""

    groups: list[tuple[int, np.ndarray]]  # (outcome index, before-bin indices) per outcome column
    desc: pd.DataFrame  # constraint, outcome, bins, kind — one row per kept column
    keep: np.ndarray  # kept columns (linearly independent over the donors)


def layout(panel: Panel, treated: np.ndarray, min_count: int) -> Layout:
    """Merge each outcome's before bins (latest first, as microsynth aggregates) until every matched
    bin holds ≥ ``min_count`` treated crimes; an outcome with no treated crime before is not matched.
    Columns that are exact linear combinations of others (e.g. ``all`` = Σ categories) are dropped.
    """
    rows: list[dict[str, Any]] = [
        {"constraint": panel.size_name, "outcome": None, "bins": "", "kind": "size"}
    ]
    rows += [{"constraint": c, "outcome": None, "bins": "", "kind": "covariate"} for c in panel.covariates]
    labels = panel.bin_labels()
    pre = panel.counts[:, :, : panel.n_pre]
    groups: list[tuple[int, np.ndarray]] = []
    for o, outcome in enumerate(panel.outcomes):
        total = int(pre[treated, o, :].sum())
        if total == 0:
            continue
        n_groups = max(1, min(panel.n_pre, total // max(min_count, 1)))
        for part in np.array_split(np.arange(panel.n_pre)[::-1], n_groups)[::-1]:
            g = np.sort(part)
            span = f"{labels[g[0]].split('..')[0]}..{labels[g[-1]].split('..')[1]}"
            groups.append((o, g))
            rows.append(
                {"constraint": f"{outcome} {span}", "outcome": outcome, "bins": span, "kind": "outcome"}
            )
    x = matrix(panel, groups, pre)
    keep = _independent_columns(x[panel.role == "donor"])
    return Layout(groups=groups, desc=pd.DataFrame(rows).iloc[keep].reset_index(drop=True), keep=keep)


def matrix(panel: Panel, groups: list[tuple[int, np.ndarray]], pre: np.ndarray) -> np.ndarray:
    """Constraint matrix (pieces × columns): size, covariates, then each outcome's merged bins."""
    cols = [panel.size.astype(float), *(v.astype(float) for v in panel.covariates.values())]
    cols += [pre[:, o, g].sum(axis=1).astype(float) for o, g in groups]
    return np.column_stack(cols)


def _independent_columns(x: np.ndarray) -> np.ndarray:
    """Indices of a maximal set of linearly independent columns (pivoted QR on scaled columns)."""
    scale = np.abs(x).mean(axis=0)
    scale[scale == 0] = 1.0
    _, r, piv = qr(x / scale, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    rank = int((diag > 1e-9 * max(diag.max(initial=0.0), 1e-300)).sum())
    return np.sort(piv[:rank])


@dataclass(frozen=True)
class Replicates:
    """The treated sets of the main problem, the placebos and the jackknife replicates."""

    treat: np.ndarray  # indices of the treated pieces
    donors: np.ndarray  # indices of the donor pieces
    perm_sel: np.ndarray  # (P, donors) bool: placebo areas
    jk_t: np.ndarray  # group of each treated piece
    jk_d: np.ndarray  # group of each donor piece
    n_groups: int
    placebo_size: int
    notes: list[str]
    placebo_kind: str = "random"  # what was drawn: "random" or "contiguous"

    @property
    def n_perm(self) -> int:
        return int(self.perm_sel.shape[0])


def replicates(
    panel: Panel, treated: np.ndarray, *, n_placebos: int, n_jackknife: int | None, placebo: str, rng: Any
) -> Replicates:
    """Draw the placebo areas and the jackknife groups (treated and donor pieces split at random).

    A placebo area has as many donor pieces as the treated area (at most half the donors). With
    ``placebo="contiguous"`` it is the pieces nearest a random donor piece — a compact area like a
    real scheme, so chance ups and downs shared by neighbouring places (a quarter of the town that
    happened to have a bad year) are in the placebo distribution too; ``"random"`` draws pieces
    anywhere (R microsynth), which understates that variation.
    """
    donors = np.flatnonzero(panel.role == "donor")
    treat = np.flatnonzero(treated)
    n_d, n_t = len(donors), len(treat)
    size = min(n_t, n_d // 2)
    notes = []
    if size < n_t:
        notes.append(
            f"the treated area has {n_t} units but only {n_d} donors: placebo areas use {size} units "
            "each (their effects are compared after standardisation)"
        )
    n_perm = n_placebos if size >= 1 else 0
    has_geometry = panel.geometry is not None and not any(g is None for g in panel.geometry[donors])
    if placebo == "contiguous" and n_perm and not has_geometry:
        notes.append("the units have no geometry: placebo areas are random sets of units, not contiguous")
    if placebo == "contiguous" and n_perm and has_geometry:
        from scipy.spatial import cKDTree

        pts = shapely.get_coordinates(shapely.point_on_surface(panel.geometry[donors]))
        seeds = rng.integers(0, n_d, n_perm)
        _, order = cKDTree(pts).query(pts[seeds], k=size)
        order = np.asarray(order).reshape(n_perm, size)
    else:
        order = np.argsort(rng.random((n_perm, n_d)), axis=1)[:, :size]
    perm_sel = np.zeros((n_perm, n_d), dtype=bool)
    np.put_along_axis(perm_sel, order, True, axis=1)
    groups = n_jackknife if n_jackknife is not None else n_t  # R: one group per treated unit
    groups = int(min(groups, n_t, n_d))
    groups = groups if groups >= 2 else 0
    jk_t = rng.permutation(n_t) % max(groups, 1)
    jk_d = rng.permutation(n_d) % max(groups, 1)
    kind = "contiguous" if placebo == "contiguous" and has_geometry else "random"
    return Replicates(treat, donors, perm_sel, jk_t, jk_d, groups, size, notes, kind)


@dataclass(frozen=True)
class Fit:
    """Per row (main, placebos, jackknife) and outcome: trt, con, var of log(trt/con); weights."""

    trt: np.ndarray  # (R, O)
    con: np.ndarray  # (R, O)
    var_log: np.ndarray  # (R, O)
    weights: np.ndarray  # (R, donors), averaged over the folds
    factor: np.ndarray  # (R, O) regression-to-the-mean scaling applied to the synthetic counts
    exact: np.ndarray  # (R,) every fold balanced exactly
    imbalance: np.ndarray  # (R,) largest relative imbalance over the folds
    method: str  # calibration of the main row ("raking", "linear" or "closest")
    balance_fit: np.ndarray  # (K,) main row's synthetic totals on the counts each fold was fitted to
    z: np.ndarray  # (R, O) test statistic of each row (see ``variance``)


def _targets(x: np.ndarray, rep: Replicates) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Targets, donor masks, starting weights and treated-size multipliers for every row."""
    xt, xd = x[rep.treat], x[rep.donors]
    n_t, n_d = len(rep.treat), len(rep.donors)
    targets = [xt.sum(axis=0)]
    masks = [np.ones(n_d, dtype=bool)]
    init = [n_t / n_d]
    mult = [1.0]
    for p in range(rep.n_perm):
        targets.append(xd[rep.perm_sel[p]].sum(axis=0))
        masks.append(~rep.perm_sel[p])
        init.append(rep.placebo_size / (n_d - rep.placebo_size))
        mult.append(1.0)
    for g in range(rep.n_groups):
        keep_t, keep_d = rep.jk_t != g, rep.jk_d != g
        m = n_t / keep_t.sum()
        targets.append(m * xt[keep_t].sum(axis=0))
        masks.append(keep_d)
        init.append(m * keep_t.sum() / keep_d.sum())
        mult.append(m)
    return np.array(targets), np.array(masks), np.array(init), np.array(mult)


def _selection(rep: Replicates, panel_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Row × piece matrix selecting each row's treated pieces (jackknife rows scaled up)."""
    rows = 1 + rep.n_perm + rep.n_groups
    sel = np.zeros((rows, panel_size))
    sel[0, rep.treat] = 1.0
    if rep.n_perm:
        sel[np.ix_(np.arange(1, 1 + rep.n_perm), rep.donors)] = rep.perm_sel
    mult = np.ones(rows)
    for g in range(rep.n_groups):
        keep = rep.jk_t != g
        mult[1 + rep.n_perm + g] = len(rep.treat) / keep.sum()
        sel[1 + rep.n_perm + g, rep.treat[keep]] = mult[1 + rep.n_perm + g]
    return sel, mult


def _design_var(
    y_t: np.ndarray, y_d: np.ndarray, sel: np.ndarray, w: np.ndarray, f: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """R microsynth's linearised variance of ``log(Trt/Con)`` and its test statistic, per row and outcome.

    ``y_t`` (pieces, O, m) and ``y_d`` (donors, O, m) are the after-period counts per bin; ``sel``
    (R, pieces) the treated weights of each row, ``w`` (R, donors) the donor weights and ``f`` (R, O)
    a per-outcome scaling of the synthetic control (1 without the cross-fit). The regression
    ``y ~ treated + bin − 1`` with weights ``v`` (balanced: every unit in every bin) has
    ``X'VX = [[m·S_T, S_T·1ᵀ], [S_T·1, (S_T + S_C)·I]]``; its sandwich ``B⁻¹ M B⁻¹`` needs only the
    weighted residual sums of squares of the two groups per bin, which are sums of ``v²``, ``v²y``
    and ``v²y²`` (matrix products, so all rows at once).
    """
    m = y_t.shape[2]
    s2t, s2c = (sel**2).sum(axis=1)[:, None, None], (w**2).sum(axis=1)[:, None, None] * f[:, :, None] ** 2
    s_t = sel.sum(axis=1)[:, None] * np.ones_like(f)
    s_c = w.sum(axis=1)[:, None] * f
    flat_t, flat_d = y_t.reshape(len(y_t), -1), y_d.reshape(len(y_d), -1)
    shape = (len(sel), y_t.shape[1], m)
    t1, t2 = (sel @ flat_t).reshape(shape), ((sel**2) @ flat_t).reshape(shape)
    t3 = ((sel**2) @ flat_t**2).reshape(shape)
    c1 = (w @ flat_d).reshape(shape) * f[:, :, None]
    c2 = ((w**2) @ flat_d).reshape(shape) * f[:, :, None] ** 2
    c3 = ((w**2) @ flat_d**2).reshape(shape) * f[:, :, None] ** 2
    bread = np.zeros((*f.shape, m + 1, m + 1))
    bread[..., 0, 0] = m * s_t
    bread[..., 0, 1:] = s_t[..., None]
    bread[..., 1:, 0] = s_t[..., None]
    idx = np.arange(1, m + 1)
    bread[..., idx, idx] = (s_t + s_c)[..., None]
    rhs = np.concatenate([t1.sum(axis=2, keepdims=True), t1 + c1], axis=2)
    theta = np.linalg.solve(bread, rhs[..., None])[..., 0]
    beta, a = theta[..., :1], theta[..., 1:]
    res_t = t3 - 2 * (a + beta) * t2 + (a + beta) ** 2 * s2t  # Σ_T v² e² per bin
    res_c = c3 - 2 * a * c2 + a**2 * s2c
    n_rows = m * ((sel > 0).sum(axis=1) + (w > 0).sum(axis=1))[:, None, None]
    scale = n_rows / np.maximum(n_rows - 1, 1)
    meat = np.zeros_like(bread)
    meat[..., 0, 0] = (scale * res_t).sum(axis=2)
    meat[..., 0, 1:] = scale * res_t
    meat[..., 1:, 0] = scale * res_t
    meat[..., idx, idx] = scale * (res_t + res_c)
    inv = np.linalg.pinv(bread)
    cov = inv @ meat @ inv
    mu2 = a.mean(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):  # an outcome with no crime: NaN, not an error
        grad = np.empty(theta.shape)
        grad[..., 0] = 1.0 / (beta[..., 0] + mu2)
        grad[..., 1:] = ((grad[..., 0] - 1.0 / mu2) / m)[..., None]
        var_log = np.einsum("...i,...ij,...j->...", grad, cov, grad)
        z = beta[..., 0] / np.sqrt(cov[..., 0, 0])
    return var_log, z


def _folds(panel: Panel, rtm: str, rng: Any) -> list[tuple[np.ndarray, np.ndarray | None]]:
    pre = panel.counts[:, :, : panel.n_pre]
    if rtm != "crossfit":
        return [(pre, None)]
    half = rng.binomial(pre, 0.5)
    return [(2 * half, 2 * (pre - half)), (2 * (pre - half), 2 * half)]


def fit(
    panel: Panel,
    lay: Layout,
    rep: Replicates,
    *,
    rtm: str,
    tol: float,
    rng: Any,
    calfun: str = "raking",
    variance: str = "poisson",
) -> Fit:
    """Calibrate every row (per fold with ``crossfit``) and compute trt, con and var(log ratio)."""
    pre = panel.counts[:, :, : panel.n_pre]
    post = panel.post.astype(float)
    x_full = matrix(panel, lay.groups, pre)[:, lay.keep]
    sel, _ = _selection(rep, len(panel.role))
    trt = sel @ post
    pre_tot = pre.sum(axis=2).astype(float)  # (pieces, O)
    t_pre = sel @ pre_tot  # (R, O) each row's own before-period level
    targets, masks, init, _ = _targets(x_full, rep)
    fallback = np.zeros(len(targets), dtype=bool)
    fallback[0] = True
    fallback[1 + rep.n_perm :] = True
    cons, vars_, zs, weights, factors, exact, imbalance, balance_fit = [], [], [], [], [], [], [], []
    method = "raking"
    y_after = panel.counts[:, :, panel.n_pre :].astype(float)
    for k, (fit_counts, held) in enumerate(_folds(panel, rtm, rng)):
        x_fit = matrix(panel, lay.groups, fit_counts)[:, lay.keep]
        x_fit[rep.treat] = x_full[rep.treat]
        cal = calibrate_batch(
            x_fit[rep.donors], targets, masks, init, tol=tol, fallback=fallback, calfun=calfun
        )
        w = cal.weights
        balance_fit.append(w[0] @ x_fit[rep.donors])
        y_d = post[rep.donors]
        con = w @ y_d
        factor = np.ones_like(con)
        if held is not None:
            h = held.sum(axis=2).astype(float)[rep.donors]
            s_pre = w @ h
            ok = (s_pre > 0) & (t_pre > 0)
            factor = np.where(ok, t_pre / np.where(ok, s_pre, 1.0), 1.0)
        if variance == "design":
            var_log, z = _design_var(y_after, y_after[rep.donors], sel, w, factor)
        else:
            var_log, z = _poisson_var(post, sel=sel, w=w, factor=factor, held=held, rep=rep, trt=trt, con=con)
        cons.append(con * factor)
        vars_.append(var_log)
        zs.append(z)
        weights.append(w)
        factors.append(factor)
        exact.append(cal.exact)
        imbalance.append(cal.max_rel_imbalance)
        if k == 0:
            method = str(cal.method[0])
    var_log = np.mean(vars_, axis=0)  # folds share the after counts: no variance reduction assumed
    if rtm == "crossfit":
        # the synthetic control is anchored to the treated area's own before-period level, so that
        # level's Poisson noise carries into Con as well (only then)
        var_log = var_log + ((sel**2) @ pre_tot) / np.maximum(t_pre, 0.5) ** 2
    con = np.mean(cons, axis=0)
    z = np.mean(zs, axis=0)
    if variance != "design" or rtm == "crossfit":
        z = log_ratio(trt, con) / np.sqrt(var_log)
    return Fit(
        trt=trt,
        con=con,
        var_log=var_log,
        weights=np.mean(weights, axis=0),
        factor=np.mean(factors, axis=0),
        exact=np.all(exact, axis=0),
        imbalance=np.max(imbalance, axis=0),
        method=method,
        balance_fit=np.mean(balance_fit, axis=0),
        z=z,
    )


def _poisson_var(
    post: np.ndarray,
    *,
    sel: np.ndarray,
    w: np.ndarray,
    factor: np.ndarray,
    held: np.ndarray | None,
    rep: Replicates,
    trt: np.ndarray,
    con: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Variance of ``log(Trt/Con)`` with the counts taken as Poisson (and the held-out level's noise)."""
    y_d = post[rep.donors]
    var_con = (w**2) @ y_d
    if held is not None:
        h = held.sum(axis=2).astype(float)[rep.donors]
        s_pre = w @ h
        ok = factor != 1.0
        var_s = 2.0 * ((w**2) @ h)
        rel = var_con / np.maximum(con, 1e-12) ** 2 + np.where(ok, var_s / np.maximum(s_pre, 1e-12) ** 2, 0.0)
        con = con * factor
        var_con = rel * con**2
    t_ = np.where(trt > 0, trt, 0.5)
    c_ = np.where(con > 0, con, 0.5)
    var_log = ((sel**2) @ post) / t_**2 + var_con / c_**2
    return var_log, log_ratio(trt, con) / np.sqrt(var_log)


def log_ratio(trt: np.ndarray, con: np.ndarray) -> np.ndarray:
    """log(Trt/Con); a zero on either side gets 0.5 added to both (continuity correction)."""
    zero = (trt <= 0) | (con <= 0)
    return np.log(np.where(zero, trt + 0.5, trt) / np.where(zero, np.maximum(con, 0) + 0.5, con))
