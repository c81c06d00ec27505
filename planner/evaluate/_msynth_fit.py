"""The fitting core of the micro-synthetic control: constraints, replicate problems, estimates.

One *fit* solves, in one batch (:func:`planner.evaluate._calibrate.calibrate_batch`), the main
problem (the real treated area), every placebo area and every jackknife replicate, and returns
per row and outcome the treated count ``trt``, the synthetic count ``con`` and the variance of
``log(trt/con)``. Rows: ``0`` main, ``1..P`` placebos, ``P+1..P+G`` jackknife replicates.

**Regression to the mean.** Weights chosen on a unit's before-period counts favour units that were
high (or low) *by chance* when the treated area is busier (or quieter) than the average donor;
those counts fall back afterwards, so the synthetic control drifts and the effect is biased (on
the sample city the raw calibration finds a −27 % "effect" in a ward where nothing happened).
With ``crossfit`` (the default) each donor's before-period crimes are split at random into two
halves (binomial thinning, seeded): weights are fitted on one half (doubled), the synthetic
control's before-period level is measured on the other half, which the weights never saw, and
the synthetic control is scaled to the treated area's before-period level per outcome
(``con = Σ w·after × T_before / Σ w·before_held_out``). The two halves swap roles and the two
estimates are averaged. ``none`` is R microsynth's raw calibration (exact balance on the full
counts, no correction).
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
    groups = n_jackknife if n_jackknife is not None else min(n_t, 30)
    groups = int(min(groups, n_t, n_d))
    groups = groups if groups >= 2 else 0
    jk_t = rng.permutation(n_t) % max(groups, 1)
    jk_d = rng.permutation(n_d) % max(groups, 1)
    return Replicates(treat, donors, perm_sel, jk_t, jk_d, groups, size, notes)


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
    method: str  # calibration method of the main row ("raking" or "closest")
    balance_fit: np.ndarray  # (K,) main row's synthetic totals on the counts each fold was fitted to


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


def fit(panel: Panel, lay: Layout, rep: Replicates, *, rtm: str, tol: float, rng: Any) -> Fit:
    """Calibrate every row (per fold with ``crossfit``) and compute trt, con and var(log ratio)."""
    pre = panel.counts[:, :, : panel.n_pre]
    post = panel.post.astype(float)
    x_full = matrix(panel, lay.groups, pre)[:, lay.keep]
    sel, _ = _selection(rep, len(panel.role))
    trt = sel @ post
    var_trt = (sel**2) @ post  # Poisson: counts as counts
    pre_tot = pre.sum(axis=2).astype(float)  # (pieces, O)
    t_pre = sel @ pre_tot  # (R, O) each row's own before-period level
    if rtm == "crossfit":
        half = rng.binomial(pre, 0.5)
        folds = [(2 * half, 2 * (pre - half)), (2 * (pre - half), 2 * half)]
    else:
        folds = [(pre, None)]
    targets, masks, init, _ = _targets(x_full, rep)
    fallback = np.zeros(len(targets), dtype=bool)
    fallback[0] = True
    fallback[1 + rep.n_perm :] = True
    cons, vars_, weights, factors, exact, imbalance = [], [], [], [], [], []
    method = "raking"
    balance_fit = []
    for k, (fit_counts, held) in enumerate(folds):
        x_fit = matrix(panel, lay.groups, fit_counts)[:, lay.keep]
        x_fit[rep.treat] = x_full[rep.treat]
        cal = calibrate_batch(x_fit[rep.donors], targets, masks, init, tol=tol, fallback=fallback)
        w = cal.weights
        balance_fit.append(w[0] @ x_fit[rep.donors])
        y_d = post[rep.donors]
        con = w @ y_d
        var_con = (w**2) @ y_d
        factor = np.ones_like(con)
        if held is not None:
            h = held.sum(axis=2).astype(float)[rep.donors]
            s_pre = w @ h
            ok = (s_pre > 0) & (t_pre > 0)
            factor = np.where(ok, t_pre / np.where(ok, s_pre, 1.0), 1.0)
            var_s = 2.0 * ((w**2) @ h)
            rel = var_con / np.maximum(con, 1e-12) ** 2 + np.where(
                ok, var_s / np.maximum(s_pre, 1e-12) ** 2, 0.0
            )
            con = con * factor
            var_con = rel * con**2
        cons.append(con)
        vars_.append(var_con)
        weights.append(w)
        factors.append(factor)
        exact.append(cal.exact)
        imbalance.append(cal.max_rel_imbalance)
        if k == 0:
            method = str(cal.method[0])
    con = np.mean(cons, axis=0)
    var_con = np.mean(vars_, axis=0)  # folds share the after counts: no variance reduction assumed
    t_ = np.where(trt > 0, trt, 0.5)
    c_ = np.where(con > 0, con, 0.5)
    # the synthetic control is anchored to the treated area's own before-period level, so that
    # level's Poisson noise carries into Con as well
    var_anchor = ((sel**2) @ pre_tot) / np.maximum(t_pre, 0.5) ** 2
    var_log = var_trt / t_**2 + var_con / c_**2 + var_anchor
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
    )


def log_ratio(trt: np.ndarray, con: np.ndarray) -> np.ndarray:
    """log(Trt/Con); a zero on either side gets 0.5 added to both (continuity correction)."""
    zero = (trt <= 0) | (con <= 0)
    return np.log(np.where(zero, trt + 0.5, trt) / np.where(zero, np.maximum(con, 0) + 0.5, con))
