"""Forecast quality as a first-class output: which surface best predicts where next year's incidents
happen, on rolling yearly splits, and the surface the plan uses to pick hotspots.

Surfaces (each scored on one cell grid, trained on everything before a split and tested on the
year after it):

* ``naive`` — last year's counts per cell (the baseline every other surface must beat);
* ``counts`` — counts over every training year;
* ``kde_narrow``, ``kde``, ``kde_wide`` — kernel density at ½, 1 and 2 × the automatic bandwidth;
* ``gistar`` — the Gi* z of the training counts (the hotspot rule's statistic);
* ``risk`` — the risk terrain fitted on the training incidents (only with environmental layers);
* ``combined`` — a Poisson GLM of a year's counts on the previous year's counts, the mean yearly
  count of all earlier years, the log KDE, the last 90 days' counts in and around the cell
  (near-repeat) and the log risk surface (with layers), fitted on the training years (each
  training year predicted from the years before it) and applied to the test year.

Splits are calendar-aligned years counted back from the end of the data
(:func:`yearly_splits`); scores are hit rate, PAI and PEI when the top ``⌊N·c⌋`` cells by each
surface are selected (:func:`planner.evaluate.accuracy.scores_at_coverage`, open_cp's tie rule).
:func:`choose_surface` picks, on validation splits only, the surface whose PAI at 1 % and 5 % of
the area is highest relative to last year's counts, and says so plainly when nothing beats them.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.errors import InsufficientDataError, PlannerWarning
from planner.evaluate.accuracy import scores_at_coverage

logger = logging.getLogger(__name__)

BASELINE = "naive"
BANDWIDTH_FACTORS = {"kde_narrow": 0.5, "kde": 1.0, "kde_wide": 2.0}
SURFACES = ("naive", "counts", *BANDWIDTH_FACTORS, "gistar", "risk", "combined")
CHOICE_COVERAGES = (0.01, 0.05)
SIMPLER_FIRST = {name: i for i, name in enumerate(SURFACES)}
DESCRIPTIONS = {
    "naive": "last year's counts",
    "counts": "counts over every training year",
    "kde_narrow": "kernel density, half the automatic bandwidth",
    "kde": "kernel density, automatic bandwidth",
    "kde_wide": "kernel density, twice the automatic bandwidth",
    "gistar": "Gi* z of the training counts",
    "risk": "risk terrain of the training incidents",
    "combined": "a Poisson GLM of past counts, density and recent activity (and the risk terrain, with layers)",
}


@dataclass(frozen=True)
class ForecastOptions:
    """Settings of the rolling backtest.

    ``coverages`` are fractions of the cells selected; ``recent_days`` the near-repeat window of
    the combined model; ``layers`` (kind → layer, in the cells' CRS) add the risk surface;
    ``risk_options`` are passed to :func:`planner.risk.fine.fit_fine_terrain`.
    """

    coverages: tuple[float, ...] = (0.01, 0.02, 0.05)
    kernel: str = "quartic"
    neighbourhood: str = "queen"
    recent_days: int = 90
    layers: Mapping[str, Any] | None = None
    risk_options: Any = None
    methods: tuple[str, ...] = SURFACES


def yearly_splits(occurred_at: pd.Series, *, last: Any = None) -> list[pd.Timestamp]:
    """First days of the test years, oldest first: ``last`` (default: one year before the day after
    the last incident) and every year before it that still has a year of incidents before it (the
    first incident at most a month into that year: records rarely start on the first day).
    """
    t = pd.to_datetime(occurred_at).dropna()
    if t.empty:
        return []
    start, end = t.min().normalize(), t.max().normalize() + pd.Timedelta(days=1)
    first = pd.Timestamp(last) if last is not None else end - pd.DateOffset(years=1)
    out = []
    k = 0
    slack = pd.Timedelta(days=31)
    while (split := first - pd.DateOffset(years=k)) - pd.DateOffset(years=1) + slack >= start:
        out.append(split)
        k += 1
    return sorted(out)


@dataclass
class _Split:
    """Counts and cached surfaces of one grid for incidents before a time ``t``."""

    cells: gpd.GeoDataFrame
    when: np.ndarray
    cell_of: np.ndarray
    area: np.ndarray
    options: ForecastOptions
    incidents: gpd.GeoDataFrame
    cache: dict[Any, np.ndarray] = field(default_factory=dict)

    def counts(self, lo: pd.Timestamp | None, hi: pd.Timestamp) -> np.ndarray:
        """Incidents per cell in [lo, hi)."""
        keep = (self.cell_of >= 0) & (self.when < np.datetime64(hi))
        if lo is not None:
            keep &= self.when >= np.datetime64(lo)
        return np.bincount(self.cell_of[keep], minlength=len(self.cells)).astype(float)

    def before(self, t: pd.Timestamp) -> gpd.GeoDataFrame:
        return self.incidents.loc[self.when < np.datetime64(t)]

    def kde(self, t: pd.Timestamp, factor: float) -> np.ndarray:
        """Kernel density of the incidents before ``t`` at ``factor`` × the automatic bandwidth."""
        key = ("kde", t, factor)
        if key not in self.cache:
            from planner.hotspots.kde import bandwidth_arcgis, kde_at_cells, kde_surface

            train = self.before(t)
            p = self.cells.attrs.get("params", {})
            size = float(p.get("cell_size_m") or np.sqrt(np.median(self.area)))
            h = bandwidth_arcgis(train) * factor
            with warnings.catch_warnings():
                # a bandwidth below the cell size is one of the surfaces compared, not a mistake
                warnings.filterwarnings("ignore", message="The KDE bandwidth", category=PlannerWarning)
                surface = kde_surface(
                    train, cell_size_m=size, bandwidth_m=h, kernel=self.options.kernel, extent=self.cells
                )
            values = kde_at_cells(self.cells, surface)["kde"].to_numpy(float)
            self.cache[key] = np.nan_to_num(values)
            self.cache[("bandwidth", t, factor)] = np.array([h])
        return self.cache[key]

    def gistar(self, t: pd.Timestamp) -> np.ndarray:
        from planner.hotspots.gistar import gistar_cells

        counted = self.cells.assign(n_incidents=self.counts(None, t))
        z = gistar_cells(counted, neighbourhood=self.options.neighbourhood)["gi_z"].to_numpy(float)
        return np.nan_to_num(z, nan=-np.inf)

    def recent(self, t: pd.Timestamp) -> np.ndarray:
        """Incidents in the last ``recent_days`` before ``t`` in the cell and its neighbours."""
        key = ("recent", t)
        if key not in self.cache:
            from planner.hotspots.gistar import weights_from_cells

            if "weights" not in self.cache:
                self.cache["weights"] = weights_from_cells(self.cells, "queen")
            lo = t - pd.Timedelta(days=self.options.recent_days)
            self.cache[key] = np.asarray(self.cache["weights"] @ self.counts(lo, t))
        return self.cache[key]

    def risk(self, t: pd.Timestamp) -> np.ndarray | None:
        """Expected incidents per cell from the risk terrain of the incidents before ``t``."""
        if not self.options.layers:
            return None
        key = ("risk", t)
        if key not in self.cache:
            from planner.risk.fine import fit_fine_terrain

            try:
                terrain = fit_fine_terrain(
                    self.before(t), self.study_area, self.options.layers, self.options.risk_options
                )
                self.cache[key] = terrain.project(self.cells, self.options.layers)
            except InsufficientDataError as exc:
                logger.info("forecast: no risk surface before %s: %s", t.date(), exc)
                return None
        return self.cache[key]

    @property
    def study_area(self) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(geometry=[self.cells.union_all()], crs=self.cells.crs)


def _features(ctx: _Split, t: pd.Timestamp, start: pd.Timestamp) -> np.ndarray:
    """Combined-model features of the cells from incidents before ``t`` (history from ``start``)."""
    last = ctx.counts(t - pd.DateOffset(years=1), t)
    years = max((t - start).days / 365.25, 1.0)
    mean = ctx.counts(None, t) / years
    cols = [np.log1p(last), np.log1p(mean), _log_floor(ctx.kde(t, 1.0)), np.log1p(ctx.recent(t))]
    risk = ctx.risk(t)
    if risk is not None:
        cols.append(_log_floor(risk))
    return np.column_stack(cols)


def _log_floor(values: np.ndarray) -> np.ndarray:
    """Log of ``values`` floored at 1 % of their median positive value (no −∞ for empty cells)."""
    positive = values[values > 0]
    floor = 0.01 * float(np.median(positive)) if len(positive) else 1.0
    return np.log(np.maximum(values, floor))


def _combined(ctx: _Split, split: pd.Timestamp, start: pd.Timestamp) -> np.ndarray | None:
    """Expected test-year counts from a Poisson GLM fitted on the training years, each predicted
    from the years before it (needs two years of history before the split).
    """
    from planner.risk.glm import independent_columns, irls_fit

    targets = []
    t = split - pd.DateOffset(years=1)
    while t - pd.DateOffset(years=1) >= start:
        targets.append(t)
        t = t - pd.DateOffset(years=1)
    if not targets:
        return None
    X = np.vstack([_features(ctx, t, start) for t in targets])  # noqa: N806
    y = np.concatenate([ctx.counts(t, t + pd.DateOffset(years=1)) for t in targets])
    offset = np.tile(np.log(ctx.area), len(targets))
    mean, sd = X.mean(axis=0), X.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    Z = (X - mean) / sd  # noqa: N806
    # with one year of history "last year" and "every year" coincide: keep independent columns
    keep = independent_columns(Z, np.arange(Z.shape[1]), offset=0)
    design = np.column_stack([np.ones(len(y)), Z[:, keep]])
    _, mu, beta = irls_fit(y, design, offset, "poisson", 0.0)
    if beta is None or mu is None:
        logger.info("forecast: the combined model could not be fitted before %s", split.date())
        return None
    new = (_features(ctx, split, start) - mean) / sd
    return np.exp(np.column_stack([np.ones(len(ctx.area)), new[:, keep]]) @ beta + np.log(ctx.area))


def surfaces_at(ctx: _Split, split: pd.Timestamp, start: pd.Timestamp) -> dict[str, np.ndarray]:
    """Every requested surface trained on the incidents before ``split``."""
    wanted = set(ctx.options.methods)
    out: dict[str, np.ndarray] = {}
    if "naive" in wanted:
        out["naive"] = ctx.counts(split - pd.DateOffset(years=1), split)
    if "counts" in wanted:
        out["counts"] = ctx.counts(None, split)
    for name, factor in BANDWIDTH_FACTORS.items():
        if name in wanted:
            out[name] = ctx.kde(split, factor)
    if "gistar" in wanted:
        out["gistar"] = ctx.gistar(split)
    if "risk" in wanted and (risk := ctx.risk(split)) is not None:
        out["risk"] = risk
    if "combined" in wanted and (combined := _combined(ctx, split, start)) is not None:
        out["combined"] = combined
    return out


def _context(incidents: gpd.GeoDataFrame, cells: gpd.GeoDataFrame, options: ForecastOptions) -> _Split:
    from planner.grid import cell_index_of_points

    when = pd.to_datetime(incidents["occurred_at"]).to_numpy(dtype="datetime64[ns]")
    dated = ~np.isnat(when)
    incidents = incidents.loc[dated]
    area = cells["area_m2"].to_numpy(float) if "area_m2" in cells else cells.geometry.area.to_numpy()
    return _Split(cells, when[dated], cell_index_of_points(cells, incidents), area, options, incidents)


def rolling_backtest(
    incidents: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    *,
    splits: Sequence[Any],
    options: ForecastOptions | None = None,
) -> pd.DataFrame:
    """Score every surface on each split (trained before it, tested on the year after it).

    Parameters
    ----------
    incidents : GeoDataFrame
        Incidents with ``occurred_at``, projected CRS (metres).
    cells : GeoDataFrame
        The grid whose cells are selected (e.g. from :func:`planner.grid.grid_from_boundary`).
    splits : sequence of dates
        First days of the test years (see :func:`yearly_splits`).
    options : ForecastOptions, optional

    Returns
    -------
    DataFrame
        One row per split, surface and coverage: ``split``, ``method``, ``description``, the
        columns of :func:`planner.evaluate.accuracy.scores_at_coverage`, ``n_train``, ``n_test``
        and ``bandwidth_m`` (KDE surfaces).
    """
    options = options or ForecastOptions()
    if "occurred_at" not in incidents.columns:
        raise InsufficientDataError("A backtest needs dated incidents (an 'occurred_at' column).")
    ctx = _context(incidents, cells, options)
    start = pd.Timestamp(ctx.when.min()).normalize() if len(ctx.when) else None
    frames = []
    for split in (pd.Timestamp(s) for s in splits):
        if start is None or split <= start:
            continue
        test = ctx.counts(split, split + pd.DateOffset(years=1))
        if test.sum() == 0:
            continue
        for method, risk in surfaces_at(ctx, split, start).items():
            scores = scores_at_coverage(np.nan_to_num(risk, nan=-np.inf, neginf=-1e300), test, ctx.area,
                                        coverages=options.coverages)  # fmt: skip
            factor = BANDWIDTH_FACTORS.get(method)
            bw = ctx.cache.get(("bandwidth", split, factor)) if factor else None
            frames.append(
                scores.assign(
                    split=str(split.date()),
                    method=method,
                    description=DESCRIPTIONS[method],
                    n_train=int((ctx.when < np.datetime64(split)).sum()),
                    n_test=int(test.sum()),
                    bandwidth_m=float(bw[0]) if bw is not None else np.nan,
                )
            )
    if not frames:
        raise InsufficientDataError(
            "No split leaves a year of incidents before it and incidents after it: a yearly backtest "
            "needs at least two years of dated incidents."
        )
    out = pd.concat(frames, ignore_index=True)
    lead = ["split", "method", "description"]
    return out[lead + [c for c in out.columns if c not in lead]]


@dataclass(frozen=True)
class SurfaceChoice:
    """The surface chosen on validation splits, why, and the validation summary."""

    method: str
    reason: str
    beats_naive: bool
    summary: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for ``plan.params`` and the manifest."""
        return {
            "surface": self.method,
            "description": DESCRIPTIONS.get(self.method, self.method),
            "reason": self.reason,
            "beats_last_years_counts": self.beats_naive,
            "validation": self.summary.round(4).to_dict(orient="records"),
        }


def choose_surface(scores: pd.DataFrame, *, coverages: Sequence[float] = CHOICE_COVERAGES) -> SurfaceChoice:
    """The surface whose PAI relative to last year's counts (on the same split) is highest on
    average over the splits in ``scores`` and ``coverages``, among those at least as good as last
    year's counts at each coverage on average; last year's counts when nothing is. A surface is
    judged on the splits it could be made for (the combined model needs two years of history).
    Ties go to the simpler surface.
    """
    cov = [round(float(c), 6) for c in coverages]
    sub = scores[scores["coverage"].round(6).isin(cov)]
    pai = sub.pivot_table(index=["split", "method"], columns="coverage", values="pai", aggfunc="mean")
    methods = pai.index.get_level_values("method")
    if BASELINE not in set(methods):
        raise InsufficientDataError("The backtest scores have no 'naive' (last year's counts) rows.")
    naive = pai.xs(BASELINE, level="method")
    ratio = pai.div(naive.reindex(pai.index.get_level_values("split")).to_numpy())
    mean_ratio = ratio.groupby(level="method").mean()
    summary = (
        pai.groupby(level="method").mean().add_prefix("pai_")
        .assign(relative_to_naive=mean_ratio.mean(axis=1), n_splits=ratio.groupby(level="method").size())
        .reset_index()
        .sort_values("relative_to_naive", ascending=False)
    )  # fmt: skip
    good = mean_ratio[(mean_ratio >= 1.0 - 1e-12).all(axis=1)]
    order = sorted(good.index, key=lambda m: (-float(good.loc[m].mean()), SIMPLER_FIRST.get(m, 99)))
    best = order[0] if order else BASELINE
    label = " and ".join(f"{c:.0%}" for c in cov)
    n_best = int(summary.set_index("method").loc[best, "n_splits"])
    if best == BASELINE:
        reason = (
            f"Nothing beat last year's counts: on {n_best} validation year(s) no surface reached their PAI "
            f"at {label} of the area on average, so the plan uses last year's counts."
        )
    else:
        row = summary.set_index("method").loc[best]
        gains = ", ".join(
            f"{row[f'pai_{c}']:.2f} vs {float(naive[c].reindex(ratio.xs(best, level='method').index).mean()):.2f} "
            f"at {c:.0%}"
            for c in pai.columns
        )
        reason = (
            f"{DESCRIPTIONS[best][:1].upper()}{DESCRIPTIONS[best][1:]} had the highest PAI relative to last year's counts on "
            f"{n_best} validation year(s) (mean PAI {gains} of the area) and was at least as good at each."
        )
    return SurfaceChoice(best, reason, best != BASELINE, summary)


GISTAR_RULE = "gistar"
FALLBACK = "today's rule: Gi* significant cells, split at their KDE peaks"


@dataclass(frozen=True)
class HotspotSurface:
    """The surface that picks the plan's hotspot cells, and why.

    With a validated surface other than Gi*, the hotspots are the top cells by that surface, as
    many as the Gi* rule flags (the same area, a better-validated ranking); ``for_polygons`` hands
    :func:`planner.hotspots.polygons.hotspots_from_cells` that selection as the bin it dissolves
    and ``restore`` puts the Gi* bins back on the cells it returns.
    """

    method: str
    params: dict[str, Any]
    hot: np.ndarray | None = None

    def for_polygons(self, cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """``cells`` with ``gi_bin`` replaced by the selection (3 = chosen) when a surface other
        than Gi* picks the hotspots; the Gi* bins are kept in ``gi_bin_statistic``.
        """
        if self.hot is None:
            return cells
        out = cells.assign(gi_bin_statistic=cells["gi_bin"], gi_bin=np.where(self.hot, 3, 0))
        out.attrs = dict(cells.attrs)
        return out

    def restore(self, cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Undo :meth:`for_polygons` on the cells ``hotspots_from_cells`` returned."""
        if self.hot is None or "gi_bin_statistic" not in cells.columns:
            return cells
        out = cells.assign(gi_bin=cells["gi_bin_statistic"]).drop(columns="gi_bin_statistic")
        out.attrs = dict(cells.attrs)
        return out


def _fallback(cells: gpd.GeoDataFrame, why: str) -> tuple[gpd.GeoDataFrame, HotspotSurface]:
    logger.info("hotspot surface: %s", why)
    return cells, HotspotSurface(GISTAR_RULE, {"surface": GISTAR_RULE, "rule": FALLBACK, "reason": why})


def hotspot_surface(
    incidents: gpd.GeoDataFrame, cells: gpd.GeoDataFrame, config: Any
) -> tuple[gpd.GeoDataFrame, HotspotSurface]:
    """Validate the forecast surfaces on the run's own grid and choose the one that picks hotspots.

    The area is the one the Gi* rule flags (its significance decides how much of the city is hot);
    each surface is scored by the PAI of that many top cells on rolling yearly splits, and the one
    that best beats last year's counts there fills the area (:func:`choose_surface`).

    Parameters
    ----------
    incidents : GeoDataFrame
        The run's incidents (``occurred_at``), projected CRS.
    cells : GeoDataFrame
        The run's cells with ``gi_bin`` (after :func:`planner.hotspots.gistar.gistar_cells`).
    config : RunConfig
        ``hotspot_surface`` (``"auto"`` or ``"gistar"``), ``min_bin``.

    Returns
    -------
    cells : GeoDataFrame
        With ``forecast`` (the chosen surface trained on every incident; NaN under the Gi* rule).
    HotspotSurface
        The choice; ``params`` (for ``plan.params["hotspot_surface"]`` and the manifest) records the
        surface, the reason, the validation years and every surface's validation PAI.
    """
    cells = cells.assign(forecast=np.nan)
    if getattr(config, "hotspot_surface", "auto") == GISTAR_RULE:
        return _fallback(cells, "the configuration asks for the Gi* rule (hotspot_surface='gistar')")
    if "occurred_at" not in incidents.columns or pd.to_datetime(incidents["occurred_at"]).isna().all():
        return _fallback(cells, "the incidents have no dates, so no surface can be validated on a later year")
    resolution = incidents.attrs.get("time_resolution")
    splits = yearly_splits(incidents["occurred_at"])
    if not splits:
        return _fallback(
            cells, "fewer than two years of dated incidents: no year to validate a forecast surface on"
        )
    min_bin = int(getattr(config, "min_bin", 2))
    n_hot = int((cells["gi_bin"].to_numpy() >= min_bin).sum())
    if n_hot == 0:
        return _fallback(cells, "the Gi* rule flags no cell, so there is no hotspot area to fill")
    share = n_hot / len(cells)
    methods = tuple(m for m in SURFACES if m != "risk")
    options = ForecastOptions(
        coverages=(share,), methods=methods, neighbourhood=getattr(config, "neighbourhood", "queen")
    )
    try:
        scores = rolling_backtest(incidents, cells, splits=splits, options=options)
    except InsufficientDataError as exc:
        return _fallback(cells, str(exc))
    choice = choose_surface(scores, coverages=(share,))
    params = {
        **choice.to_dict(),
        "coverage": round(share, 6),
        "coverage_rule": f"the area the Gi* rule flags at bin ≥ {min_bin} ({n_hot} of {len(cells)} cells)",
        "validation_years": [str(s.date()) for s in splits],
        "time_resolution": resolution or "unknown",
        "not_scored": "risk terrain (needs the environmental layers; see planner backtest --layer)",
    }
    if choice.method == GISTAR_RULE:
        return cells, HotspotSurface(GISTAR_RULE, {**params, "rule": FALLBACK})
    return _chosen(incidents, cells, choice, params, n_hot=n_hot, min_bin=min_bin)


def _chosen(
    incidents: gpd.GeoDataFrame, cells: gpd.GeoDataFrame, choice: SurfaceChoice, params: dict[str, Any], *,
    n_hot: int, min_bin: int,
) -> tuple[gpd.GeoDataFrame, HotspotSurface]:  # fmt: skip
    """The chosen surface trained on every incident, and its top cells (as many as Gi* flags)."""
    ctx = _context(incidents, cells, ForecastOptions(methods=(choice.method,)))
    start = pd.Timestamp(ctx.when.min()).normalize()
    end = pd.Timestamp(ctx.when.max()).normalize() + pd.Timedelta(days=1)
    values = surfaces_at(ctx, end, start).get(choice.method)
    if values is None:
        return _fallback(cells, f"the chosen surface ({choice.method}) could not be made from every year")
    from planner.evaluate.accuracy import top_slice

    hot = top_slice(np.nan_to_num(values, nan=-1e300), n_hot / len(cells) if len(cells) else 0.0)
    rule = (
        f"the top {n_hot} cells by {DESCRIPTIONS[choice.method]} (as many as the Gi* rule flags at "
        f"bin ≥ {min_bin}), split at their KDE peaks"
    )
    return cells.assign(forecast=values), HotspotSurface(choice.method, {**params, "rule": rule}, hot)
