"""Micro-synthetic control for a treated area made of many small units (Robbins, Saunders & Kilmer 2017).

The treated area of a saved design (:mod:`planner.evaluate.design`) is split into small units (grid
cells or street segments, :mod:`planner.evaluate._panel`). A *synthetic control* is a weighted
set of untreated donor units — outside the treatment area and its displacement buffer — whose
weighted totals equal the treated area's, before the measure started, on every constraint at once:
each crime type's count in each before-period time bin (optionally merged for sparse crime types
so each holds ≥ ``min_bin_count`` treated crimes) and the units' size (area or street length) plus
any given covariates. The weights are the non-negative ones closest to uniform (R microsynth's
quadratic programme) or raking weights (:mod:`planner.evaluate._calibrate`), with a fallback to
the closest achievable fit, reported, when exact balance is infeasible. Area × period tables
prepared elsewhere reach the same :func:`estimate_area` through
:func:`planner.evaluate.msynth_panel.microsynth_panel`.

After the start, **Trt** is the treated area's count, **Con** the synthetic control's weighted
count (counts stay counts: no rates, no transforms) and the percentage change ``Trt/Con − 1``.
Inference, as in R ``microsynth``:

* *linearization*: R's design-based variance — the weighted regression of the unit × after-bin
  counts on treatment and bin, its sandwich covariance as ``survey::svyglm`` computes it, and the
  delta method for ``log(Trt/Con)`` (:func:`planner.evaluate._msynth_fit._design_var`);
* *jackknife*: treated and donor units are split into G groups (default one per treated unit, as
  R); each replicate drops one group, re-fits the weights and re-estimates (JK1 variance, deviations
  from the full estimate);
* *permutation*: ≥ 250 placebo areas, each a compact set of as many donor units as the treated
  area has (the units nearest a random donor; a random set, as R, when the units have no
  geometry or with ``placebo="random"``), get their own synthetic controls from the
  remaining donors; the p-value compares the treated area's standardised effect with the
  placebos', and the interval inverts the placebo distribution of that statistic;
* an *omnibus* test across outcomes: a Wald statistic of the standardised effects with their
  correlation taken from the placebos (two-sided), or the correlation-adjusted sum (one-sided),
  referred to its placebo distribution.

The defaults are R microsynth's settings except that placebo areas are contiguous when the units
have a geometry (see :class:`MicrosynthOptions` for the evidence); on R's own Seattle data
(no geometry) they reproduce its published Trt, Con, % changes and linearised intervals
(``tests/test_microsynth_seattle.py``). The other departures (cross-fitted correction for
regression to the mean, merged sparse bins, Poisson variances) are options, each with its evidence
in ``docs/MICROSYNTH.md``. The permutation interval is reported first (:func:`interval_of`).

The displacement buffer is evaluated the same way as its own treated unit (a negative change
there is a diffusion of benefit, a positive one displacement). Every random step uses ``seed``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import stats

from planner._params import check_choice, check_fraction
from planner.errors import ConfigError, InsufficientDataError
from planner.evaluate import _msynth_fit as mf
from planner.evaluate._calibrate import CALFUNS
from planner.evaluate._panel import ALL, Panel, build_panel
from planner.evaluate.design import EvaluationDesign, _check_design, load_design

logger = logging.getLogger(__name__)

__all__ = [
    "AreaResult",
    "MicrosynthOptions",
    "MicrosynthResult",
    "estimate_area",
    "evaluate_microsynth",
]

TESTS = ("twosided", "lower", "upper")
MIN_PLACEBOS = 19  # below this the permutation p-value cannot reach 0.05


@dataclass(frozen=True)
class MicrosynthOptions:
    """Options of :func:`evaluate_microsynth` (data-independent; defaults follow R microsynth).

    The defaults are R microsynth's settings — weights closest to uniform with ``w ≥ 0``
    (``calfun="linear"``, which reproduces R's published Seattle results; ``"raking"`` is the
    documented ``survey`` one), no correction for regression to the mean, every before-period bin
    matched, one jackknife group per treated unit, R's design-based linearised variance — with one
    departure: placebo areas are contiguous (``placebo="contiguous"``) when the units have a
    geometry, random (R's) when they do not. On R's real Seattle blocks with no scheme, random
    placebo units rejected "no change" in 10 % of 40 pseudo-schemes at 5 % (interval coverage 82.5 %
    for a nominal 90 %), contiguous areas in 2.5 % (95 %); on the sample city 62 % against 5 %
    (``docs/MICROSYNTH.md``). The other former departures (``rtm_correction="crossfit"``,
    ``min_bin_count=5``, ``variance="poisson"``) stay options: on the real Seattle data the
    cross-fit turned R's felony reduction (−32.6 %, p = 0.011) into −5 % (p = 0.40).
    """

    n_placebos: int = 250
    n_jackknife: int | None = None  # default: one group per treated unit (R's jack = TRUE)
    cell_size_m: float | None = None  # default: about 100 cells in the treatment area
    n_pre_bins: int | None = None  # default: about quarterly bins over the before period
    min_bin_count: int = 1  # treated crimes per matched bin; sparser bins are merged (1: every bin, as R)
    outcomes: tuple[str, ...] | None = None  # default: the design's categories and "all"
    covariates: tuple[str, ...] = ()  # numeric columns of `units` to match as totals
    test: str = "twosided"  # or "lower" (reductions), "upper"
    alpha: float | None = None  # default: the design's alpha (0.1 → 90 % intervals)
    seed: int = 20261128
    evaluate_buffer: bool = True
    tol: float = 1e-6  # relative imbalance counted as exact
    rtm_correction: str = "none"  # R's raw calibration, or "crossfit" (held-out before level)
    placebo: str = "contiguous"  # compact areas (random when units have no geometry), or "random" (R's)
    calfun: str = "linear"  # R's w ≥ 0 closest to uniform (LowRankQP), or "raking"
    variance: str = "design"  # R's linearised (svyglm) variance, or "poisson"


# --------------------------------------------------------------------------------- statistics


def _p_normal(z: np.ndarray, test: str) -> np.ndarray:
    if test == "lower":
        return stats.norm.cdf(z)
    if test == "upper":
        return stats.norm.sf(z)
    return 2 * stats.norm.sf(np.abs(z))


def _p_perm(obs: np.ndarray, draws: np.ndarray, test: str) -> np.ndarray:
    """(1 + #placebos at least as extreme) / (1 + #placebos), per column."""
    if test == "lower":
        extreme = draws <= obs[None, :]
    elif test == "upper":
        extreme = draws >= obs[None, :]
    else:
        extreme = np.abs(draws) >= np.abs(obs)[None, :]
    ok = np.isfinite(draws)
    return (1 + (extreme & ok).sum(axis=0)) / (1 + ok.sum(axis=0))


def _pct(log_r: np.ndarray) -> np.ndarray:
    return np.expm1(log_r)


# --------------------------------------------------------------------------------- one area


@dataclass(frozen=True)
class AreaResult:
    """Micro-synthetic control of one treated area (the treatment, or the buffer)."""

    area: str
    effects: pd.DataFrame  # one row per outcome
    omnibus: dict[str, Any]
    balance: pd.DataFrame
    series: pd.DataFrame  # per outcome and time bin: treated, synthetic, placebo band
    weights: pd.DataFrame  # donor pieces with weight > 0 (unit_id, role, size, weight)
    fit: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (weights left out)."""
        return {
            "area": self.area,
            "effects": _records(self.effects),
            "omnibus": self.omnibus,
            "balance": _records(self.balance),
            "fit": self.fit,
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in frame.to_dict(orient="records"):
        out.append(
            {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in rec.items()}
        )
    return out


def _omnibus(z: np.ndarray, z_perm: np.ndarray, test: str, outcomes: tuple[str, ...]) -> dict[str, Any]:
    """Omnibus test across outcomes: the correlation-adjusted sum of the standardised effects.

    ``S = Σ z_k / √(1ᵀ R 1)`` with ``R`` the outcomes' correlation among the placebo areas (R
    microsynth's one-sided omnibus); two-sided tests use ``|S|``. It asks whether crime moved in
    one direction across the outcomes, and is referred to its placebo distribution (``p_perm``)
    and to the standard normal (``p_normal``). A Wald statistic would also flag opposite moves of
    two outcomes, which with outcomes as correlated as crime types in one area mostly reflects
    one sparse outcome's chance swing. ``all`` is left out when two or more crime types are tested (it is their sum, so it adds no
    information and makes the correlation matrix nearly singular). The placebo correlation matrix
    is shrunk 10 % towards the identity so a few hundred placebos give a stable inverse.
    """
    ok = np.isfinite(z) & np.isfinite(z_perm).all(axis=0) if len(z_perm) else np.isfinite(z)
    if (ok & (np.asarray(outcomes) != ALL)).sum() >= 2:
        ok &= np.asarray(outcomes) != ALL
    used = [o for o, k in zip(outcomes, ok, strict=True) if k]
    if ok.sum() == 0 or len(z_perm) < MIN_PLACEBOS:
        return {"statistic": None, "p_perm": None, "p_normal": None, "df": int(ok.sum()), "outcomes": used}
    zz, zp = z[ok], z_perm[:, ok]
    corr = np.atleast_2d(np.corrcoef(zp, rowvar=False)) if zz.size > 1 else np.ones((1, 1))
    corr = 0.9 * np.nan_to_num(corr) + 0.1 * np.eye(len(zz))
    denom = math.sqrt(float(np.ones(len(zz)) @ corr @ np.ones(len(zz))))
    stat = float(zz.sum() / denom)
    draws = zp.sum(axis=1) / denom
    p_perm = float(_p_perm(np.array([stat]), draws[:, None], test)[0])
    p_norm = float(_p_normal(np.array([stat]), test)[0])
    return {
        "statistic": stat,
        "p_perm": float(p_perm),
        "p_normal": p_norm,
        "df": int(ok.sum()),
        "outcomes": used,
    }


def _effects_table(
    panel: Panel,
    area: str,
    est: dict[str, np.ndarray],
    opts: MicrosynthOptions,
    alpha: float,
) -> pd.DataFrame:
    """Per outcome: Trt, Con, % change, and linearized / jackknife / permutation inference."""
    crit = float(stats.norm.ppf(1 - alpha / 2))
    lr, se = est["log_ratio"], est["se"]
    frame = pd.DataFrame(
        {
            "area": area,
            "outcome": list(panel.outcomes),
            "trt": est["trt"],
            "con": est["con"],
            "pct_change": _pct(lr),
            "prevented": est["con"] - est["trt"],
            "linear_low": _pct(lr - crit * se),
            "linear_high": _pct(lr + crit * se),
            "linear_p": _p_normal(est["z"], opts.test),
        }
    )
    se_jk = est.get("se_jack")
    if se_jk is not None:
        frame["jack_low"] = _pct(lr - crit * se_jk)
        frame["jack_high"] = _pct(lr + crit * se_jk)
        frame["jack_p"] = _p_normal(lr / se_jk, opts.test)
    z_perm = est.get("z_perm")
    if z_perm is not None and len(z_perm) >= MIN_PLACEBOS:
        # R's make.ci2: quantiles of the placebos' standardised log ratios
        q_lo = np.nanquantile(est["z_ci_perm"], alpha / 2, axis=0)
        q_hi = np.nanquantile(est["z_ci_perm"], 1 - alpha / 2, axis=0)
        frame["perm_low"] = _pct(lr - q_hi * se)
        frame["perm_high"] = _pct(lr - q_lo * se)
        frame["perm_p"] = _p_perm(est["z"], z_perm, opts.test)
    unmatched = ~np.isin(list(panel.outcomes), est["matched"])
    frame["matched"] = ~unmatched
    return frame


def estimate_area(
    panel: Panel,
    area: str,
    *,
    options: MicrosynthOptions | None = None,
    alpha: float = 0.1,
) -> AreaResult:
    """Fit the synthetic control of one treated area of ``panel`` and compute every inference.

    Parameters
    ----------
    panel : Panel
        From :func:`planner.evaluate._panel.build_panel`.
    area : {"treatment", "buffer"}
        Which pieces are treated; donors are always the pieces outside treatment and buffer.
    options : MicrosynthOptions, optional
    alpha : float
        Two-sided level of the intervals.

    Returns
    -------
    AreaResult
    """
    opts = options or MicrosynthOptions()
    treated = panel.role == area
    if treated.sum() == 0 or panel.counts[treated].sum() == 0:
        raise InsufficientDataError(
            f"The {area} area has no units or no counted crimes; it cannot be evaluated."
        )
    if (panel.role == "donor").sum() < 2:
        raise InsufficientDataError(
            "There are fewer than two donor units outside the treatment area and buffer."
        )
    rng = np.random.default_rng([opts.seed, ("treatment", "buffer").index(area)])
    lay = mf.layout(panel, treated, opts.min_bin_count)
    rep = mf.replicates(
        panel,
        treated,
        n_placebos=opts.n_placebos,
        n_jackknife=opts.n_jackknife,
        placebo=opts.placebo,
        rng=rng,
    )
    res = mf.fit(
        panel,
        lay,
        rep,
        rtm=opts.rtm_correction,
        tol=opts.tol,
        rng=rng,
        calfun=opts.calfun,
        variance=opts.variance,
    )
    lr = mf.log_ratio(res.trt, res.con)
    z = res.z
    perm = slice(1, 1 + rep.n_perm)
    used = res.exact[perm]
    est: dict[str, Any] = {
        "trt": res.trt[0],
        "con": res.con[0],
        "se": np.sqrt(res.var_log[0]),
        "log_ratio": lr[0],
        "matched": sorted(set(lay.desc["outcome"].dropna())),
        "z_perm": z[perm][used] if rep.n_perm else None,
        "z": z[0],
        "z_ci_perm": (lr / np.sqrt(res.var_log))[perm][used] if rep.n_perm else None,
    }
    if rep.n_groups:
        jk = slice(1 + rep.n_perm, 1 + rep.n_perm + rep.n_groups)
        est["se_jack"] = np.sqrt(
            (rep.n_groups - 1) / rep.n_groups * ((lr[jk] - lr[0][None, :]) ** 2).sum(axis=0)
        )
    effects = _effects_table(panel, area, est, opts, alpha)
    z_perm = est["z_perm"] if est["z_perm"] is not None else np.empty((0, len(lr[0])))
    omni = {**_omnibus(z[0], z_perm, opts.test, panel.outcomes), "test": opts.test}
    balance = _balance(panel, lay, rep, res)
    series = _series(panel, rep, res, used, alpha)
    fit = _fit_info(lay, rep, res, used, opts)
    weights = pd.DataFrame(
        {"unit_id": panel.unit_id[rep.donors], "size": panel.size[rep.donors], "weight": res.weights[0]}
    )
    return AreaResult(
        area=area,
        effects=effects,
        omnibus=omni,
        balance=balance,
        series=series,
        weights=weights[weights["weight"] > 1e-9].reset_index(drop=True),
        fit=fit,
    )


def _fit_info(
    lay: mf.Layout, rep: mf.Replicates, res: mf.Fit, used: np.ndarray, opts: MicrosynthOptions
) -> dict[str, Any]:
    """How the synthetic control was fitted: balance, units, constraints, placebos, notes."""
    return {
        "method": res.method,
        "rtm_correction": opts.rtm_correction,
        "placebo": rep.placebo_kind,
        "calfun": opts.calfun,
        "variance": opts.variance,
        "min_bin_count": opts.min_bin_count,
        "exact": bool(res.exact[0]),
        "max_rel_imbalance": float(res.imbalance[0]),
        "n_treated_units": len(rep.treat),
        "n_donor_units": len(rep.donors),
        "n_donors_weighted": int((res.weights[0] > 1e-9).sum()),
        "n_constraints": len(lay.desc),
        "n_placebos": rep.n_perm,
        "n_placebos_used": int(used.sum()),
        "placebo_units": rep.placebo_size,
        "n_jackknife_groups": rep.n_groups,
        "jackknife_exact": bool(res.exact[1 + rep.n_perm :].all()) if rep.n_groups else None,
        "notes": rep.notes + _fit_notes(bool(res.exact[0]), float(res.imbalance[0]), rep.n_perm, used),
    }


def _fit_notes(exact: bool, imbalance: float, n_perm: int, used: np.ndarray) -> list[str]:
    notes = []
    if not exact:
        notes.append(
            "exact balance was infeasible; the synthetic control is the closest achievable fit "
            f"(largest relative imbalance {imbalance:.1%}); read the effect with that in mind"
        )
    if n_perm and used.sum() < n_perm:
        notes.append(
            f"{n_perm - int(used.sum())} of {n_perm} placebo areas could not be balanced and were dropped"
        )
    if n_perm and used.sum() < MIN_PLACEBOS:
        notes.append("too few balanced placebo areas for a permutation p-value")
    return notes


def _balance(panel: Panel, lay: mf.Layout, rep: mf.Replicates, res: mf.Fit) -> pd.DataFrame:
    """Per constraint: treated total, synthetic total on the counts the weights were fitted to
    (``synthetic_fit``, exact when balanced), synthetic total on all before-period counts, and all
    units scaled to the treated area's size.
    """
    pre = panel.counts[:, :, : panel.n_pre]
    x = mf.matrix(panel, lay.groups, pre)[:, lay.keep]
    w = res.weights[0]
    target = x[rep.treat].sum(axis=0)
    out = lay.desc[["constraint", "kind"]].copy()
    out["treated"] = target
    out["synthetic_fit"] = res.balance_fit
    out["synthetic"] = w @ x[rep.donors]
    out["all_scaled"] = x.sum(axis=0) * panel.size[rep.treat].sum() / panel.size.sum()
    out["rel_diff"] = (out["synthetic"] - target) / np.maximum(np.abs(target), 1.0)
    return out


def _series(panel: Panel, rep: mf.Replicates, res: mf.Fit, used: np.ndarray, alpha: float) -> pd.DataFrame:
    """Treated and synthetic counts per outcome and bin, with the placebo band of the % gap."""
    n_u, n_o, n_b = panel.counts.shape
    flat = panel.counts.reshape(n_u, n_o * n_b).astype(float)
    fac = np.repeat(res.factor, n_b, axis=1)  # each outcome's scaling, per bin
    trt = flat[rep.treat].sum(axis=0)
    con = (res.weights[0] @ flat[rep.donors]) * fac[0]
    frame = pd.DataFrame(
        {
            "outcome": np.repeat(panel.outcomes, n_b),
            "bin_start": np.tile(panel.bin_start, n_o),
            "bin_end": np.tile(panel.bin_end, n_o),
            "phase": np.tile(np.where(np.arange(n_b) < panel.n_pre, "before", "after"), n_o),
            "treated": trt,
            "synthetic": con,
        }
    )
    frame["gap_pct"] = (trt - con) / np.maximum(con, 1e-9)
    if rep.n_perm and used.sum() >= MIN_PLACEBOS:
        rows = np.arange(1, 1 + rep.n_perm)[used]
        p_trt = rep.perm_sel[used].astype(float) @ flat[rep.donors]
        p_con = (res.weights[rows] @ flat[rep.donors]) * fac[rows]
        gap = (p_trt - p_con) / np.maximum(p_con, 1e-9)
        frame["band_low"] = np.quantile(gap, alpha / 2, axis=0)
        frame["band_high"] = np.quantile(gap, 1 - alpha / 2, axis=0)
    return frame


# --------------------------------------------------------------------------------- the design


@dataclass(frozen=True)
class MicrosynthResult:
    """Micro-synthetic control of a saved design: the treatment area and its buffer."""

    design: EvaluationDesign
    meta: dict[str, Any]
    options: MicrosynthOptions
    areas: dict[str, AreaResult]
    panel_info: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    @property
    def effects(self) -> pd.DataFrame:
        """Every area's per-outcome table, stacked (``area`` column first)."""
        return pd.concat([a.effects for a in self.areas.values()], ignore_index=True)

    @property
    def interpretation(self) -> str:
        """Plain-language summary of the headline outcome in each area."""
        return " ".join(_sentence(a) for a in self.areas.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: design id, options, each area's effects, omnibus, balance and fit."""
        opts = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.options.__dict__.items()}
        return {
            "method": "microsynth",
            "design": self.design.name,
            "design_sha256": self.meta.get("sha256"),
            "start": self.design.start.isoformat(),
            "before": [d.isoformat() for d in self.design.before],
            "after": [d.isoformat() for d in self.design.after],
            "options": opts,
            "panel": self.panel_info,
            "areas": {name: a.to_dict() for name, a in self.areas.items()},
            "notes": self.notes,
            "interpretation": self.interpretation,
        }


def _headline(effects: pd.DataFrame) -> pd.Series:
    rows = effects[effects["outcome"] == ALL]
    return (rows if len(rows) else effects).iloc[0]


def interval_of(row: pd.Series) -> tuple[str, float, float, float]:
    """The interval reported first: permutation when available, else jackknife, else linearized."""
    for kind in ("perm", "jack", "linear"):
        if f"{kind}_low" in row and pd.notna(row.get(f"{kind}_low")):
            return kind, float(row[f"{kind}_low"]), float(row[f"{kind}_high"]), float(row[f"{kind}_p"])
    return "linear", math.nan, math.nan, math.nan


def _sentence(area: AreaResult) -> str:
    row = _headline(area.effects)
    kind, lo, hi, p = interval_of(row)
    where = "In the treatment area" if area.area == "treatment" else "In the displacement buffer"
    name = "all counted crimes" if row["outcome"] == ALL else str(row["outcome"])
    return (
        f"{where}, {name} after the start: {row['trt']:.0f} recorded against {row['con']:.1f} for the "
        f"synthetic control ({row['pct_change']:+.1%}; {kind} interval {lo:+.1%} to {hi:+.1%}, p = {p:.3f})."
    )


def evaluate_microsynth(
    design: EvaluationDesign | str | Path,
    incidents: gpd.GeoDataFrame,
    *,
    options: MicrosynthOptions | None = None,
    units: gpd.GeoDataFrame | None = None,
    study_area: gpd.GeoDataFrame | None = None,
    progress: Callable[[float], None] | None = None,
) -> MicrosynthResult:
    """Micro-synthetic control evaluation of a saved design (treatment area and buffer).

    Parameters
    ----------
    design : EvaluationDesign or path
        The design, or its JSON file (checksum-checked; a changed file is refused).
    incidents : GeoDataFrame
        Incidents (projected CRS) covering the before and after periods.
    options : MicrosynthOptions, optional
        Placebos, jackknife groups, bins, outcomes, test direction, seed.
    units : GeoDataFrame, optional
        Polygons (blocks, cells) or lines (street segments) to use as units; default a grid.
    study_area : GeoDataFrame, optional
        Area the default grid covers (default: buffered hull of the incidents).
    progress : callable, optional
        Called with a fraction in [0, 1].

    Returns
    -------
    MicrosynthResult
    """
    opts = options or MicrosynthOptions()
    where = "evaluate.microsynth"
    check_choice(opts.test, TESTS, name="test", where=where)
    check_choice(opts.rtm_correction, mf.RTM_CHOICES, name="rtm_correction", where=where)
    check_choice(opts.placebo, mf.PLACEBO_CHOICES, name="placebo", where=where)
    check_choice(opts.calfun, CALFUNS, name="calfun", where=where)
    check_choice(opts.variance, mf.VARIANCE_CHOICES, name="variance", where=where)
    if opts.n_placebos < 0 or opts.min_bin_count < 1:
        raise ConfigError(f"{where}: n_placebos must be ≥ 0 and min_bin_count ≥ 1.")
    if isinstance(design, str | Path):
        design, meta = load_design(design)
    else:
        _check_design(design)
        meta = {}
    alpha = check_fraction(opts.alpha if opts.alpha is not None else design.alpha, name="alpha", where=where)
    panel = build_panel(
        incidents,
        design,
        units=units,
        study_area=study_area,
        cell_size_m=opts.cell_size_m,
        n_pre_bins=opts.n_pre_bins,
        outcomes=opts.outcomes,
        covariates=opts.covariates,
    )
    report = progress or (lambda _f: None)
    report(0.2)
    areas = {"treatment": estimate_area(panel, "treatment", options=opts, alpha=alpha)}
    notes: list[str] = []
    report(0.6)
    if opts.evaluate_buffer:
        try:
            areas["buffer"] = estimate_area(panel, "buffer", options=opts, alpha=alpha)
        except InsufficientDataError as exc:
            notes.append(f"buffer not evaluated: {exc}")
    report(1.0)
    info = {
        "units": "grid cells" if units is None else "given units",
        "cell_size_m": panel.cell_size_m,
        "n_pieces": {r: int((panel.role == r).sum()) for r in ("treatment", "buffer", "donor")},
        "outcomes": list(panel.outcomes),
        "n_pre_bins": int(panel.n_pre),
        "n_post_bins": int(len(panel.bin_start) - panel.n_pre),
        "size": panel.size_name,
    }
    return MicrosynthResult(design=design, meta=meta, options=opts, areas=areas, panel_info=info, notes=notes)


def settings_sentence(fit: Mapping[str, Any]) -> str:
    """Plain-language list of the settings an area's fit used (for the dashboard and reports).

    Parameters
    ----------
    fit : mapping
        ``AreaResult.fit`` (or its JSON form).

    Returns
    -------
    str
    """
    r_like = (
        fit.get("calfun") == "linear"
        and fit.get("rtm_correction") == "none"
        and fit.get("placebo") == "random"
        and fit.get("variance") == "design"
        and fit.get("min_bin_count") == 1
    )
    parts = [
        "weights closest to uniform (R microsynth's)" if fit.get("calfun") == "linear" else "raking weights",
        "every before-period bin matched"
        if fit.get("min_bin_count") == 1
        else f"sparse bins merged to ≥ {fit.get('min_bin_count')} treated crimes",
        "cross-fitted correction for regression to the mean"
        if fit.get("rtm_correction") == "crossfit"
        else "no correction for regression to the mean",
        f"{fit.get('n_placebos_used')} {fit.get('placebo')} placebo areas",
        f"{fit.get('n_jackknife_groups')} jackknife groups",
        "design-based (R's) linearised variance" if fit.get("variance") == "design" else "Poisson variance",
    ]
    head = "R microsynth's settings" if r_like else "Settings departing from R microsynth's"
    return f"{head}: " + "; ".join(parts) + "."


def effects_summary(result: MicrosynthResult | Mapping[str, Any]) -> pd.DataFrame:
    """A compact Trt / Con / % change / interval / p table for display (from a result or its dict)."""
    if isinstance(result, MicrosynthResult):
        frame = result.effects
    else:
        frame = pd.DataFrame([r for a in result["areas"].values() for r in a["effects"]])
    rows = []
    for _, row in frame.iterrows():
        kind, lo, hi, p = interval_of(row)
        rows.append(
            {
                "area": row["area"],
                "outcome": row["outcome"],
                "Trt": round(float(row["trt"])),
                "Con": round(float(row["con"]), 2),
                "change": f"{row['pct_change']:+.1%}",
                "interval": f"{lo:+.1%} to {hi:+.1%} ({kind})",
                "p": round(p, 4),
            }
        )
    return pd.DataFrame(rows)
