"""The risk-terrain estimator: which environmental features go with crime, and by how much (RRV).

Following risk terrain modelling (Caplan & Kennedy; RTMDx as described in ``PEERS.md`` §1.6), the
candidates of :func:`planner.risk.features.risk_features` are (optionally) **screened** by an
elastic-net penalised Poisson GLM (penalty by spatially blocked cross-validation unless ``alpha``
is given) or by their score statistic per layer, enter a bidirectional stepwise **selection** by
BIC (at most one operationalisation per layer; a term must also clear the BIC threshold log n with
its Wald statistic measured cluster-robustly, since spatially correlated counts make the
likelihood overconfident), and each retained layer's operationalisation and spatial-influence
**distance** is then re-chosen by spatially blocked cross-validation of the final model
(:mod:`planner.risk.select`).

The **final** model is the point-intensity model of :mod:`planner.risk.intensity`: factors act at
the lattice points of the cells (``samples`` per side), counts are per cell, so the estimate does
not depend on the cell size. It is fitted as Poisson and NB2 and the lower BIC wins
(``family="auto"``). Each factor's relative risk value is ``RRV = exp(β)`` per unit (from "not
within" to "within", from outside to inside, per feature for density) with a 95 % interval that is
cluster-robust over square spatial blocks (``cluster_m``, 1 km by default) and never narrower than
the model-based one, so unmeasured, spatially correlated variation widens it rather than hiding;
intervals after selection remain somewhat optimistic (as in RTMDx).

**Stability.** The same factors are refitted on cells ``stability_factor`` times larger (squares
anchored on multiples of their side; the same lattice points). A factor is called ``risk`` or
``protective`` only when its interval excludes 1 on the same side at both sizes; a sign that flips
is ``unstable``; an interval covering 1 at either size is ``not distinguishable from 1``.

**Night.** With ``y=(night_counts, day_counts)`` the model is fitted to night and day counts of
the same cells (with a night term), and lighting layers (guardians addressed only by lighting)
also enter as night-time terms, each with its all-hours term: the night RRV is the risk at night
over and above the same places by day, so place effects that lighting does not explain cancel.

The relative risk score of a cell is the mean over its points of ``Π RRV_k^{x_k}`` (over a day,
when fitted by night and day), scaled so the lowest cell is 1.
"""

# Design matrices keep their statistical names (X, Z) as in scikit-learn and statsmodels.
# ruff: noqa: N806
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from planner._params import check_choice, check_fraction
from planner.errors import ConfigError, InsufficientDataError, ValidationError
from planner.risk import glm, intensity, select
from planner.risk.design import (
    NIGHT,
    FitData,
    PointBase,
    RiskFeatures,
    compressed_point_design,
    fit_data,
    lighting_layers,
    ordered,
    point_base,
)
from planner.risk.features import (
    OPERATIONALISATIONS,
    Lattice,
    cell_lattice,
    risk_features,
    zone_field,
    zone_shares,
)
from planner.risk.report import (
    FACTOR_COLUMNS,
    STABILITY_COLUMNS,
    VERDICTS,
    TableContext,
    cell_side,
    coarse_owner,
    coarse_refit,
    factor_table,
    verdict,
)
from planner.surface import Surface, surface_from_cells

logger = logging.getLogger(__name__)

FAMILIES = ("auto", "poisson", "negative_binomial")
__all__ = [
    "FACTOR_COLUMNS",
    "NIGHT",
    "STABILITY_COLUMNS",
    "VERDICTS",
    "RiskFeatures",
    "RiskTerrain",
    "coarse_owner",
    "lighting_layers",
    "verdict",
]


class RiskTerrain(BaseEstimator):
    """Risk terrain model: screen, stepwise BIC, cross-validated distances, point-intensity
    Poisson or NB2 model, RRVs with a stability check at a coarser cell size.

    Parameters
    ----------
    distances_m : tuple of float
        Spatial-influence distances (metres) tested for proximity, density and unlit streets.
    operationalisations : tuple of {"proximity", "density"}
    family : {"auto", "poisson", "negative_binomial"}
        ``"auto"`` picks the family with the lower BIC.
    alpha : float or None
        Elastic-net penalty for screening (on standardised features); ``None`` chooses it by
        ``cv``-fold spatially blocked cross-validated Poisson deviance.
    l1_ratio : float in (0, 1]
        Share of the L1 penalty in the elastic net.
    cv : int
        Folds (of ``cluster_m`` blocks) for the penalty and the distances.
    max_factors : int or None
        Upper limit on retained factors (stepwise stops there).
    covariates : tuple of str
        Columns of the cells always in the model, unpenalised and not reported as factors (e.g.
        land-use dummies that set the baseline). The relative risk score leaves them out.
    occlusion : bool
        Cut camera views by the ``buildings`` layer.
    cluster_m : float or None
        Intervals and p-values are cluster-robust (sandwich) over square spatial blocks of this side
        in metres; ``None`` gives model-based intervals. The folds use the same blocks (1 km when
        ``None``).
    view_samples : int
        With ``samples = 1``: camera coverage = share of a ``view_samples``² point lattice per cell.
    samples : int
        Lattice points per cell side where factors are measured (1 = the cell centre).
    screen : bool
        Run the elastic-net screen before the stepwise search.
    cv_distances : bool
        Re-choose each retained layer's distance by blocked cross-validation.
    stability_factor : int or None
        Refit on cells this many times larger and report the verdict; ``None`` skips it.
    zones : str or None
        A polygon layer of zones (land use) whose shares enter as covariates (the commonest zone
        is the baseline); its text column is found from the values.
    random_state : int, Generator or None
        Seeds the cross-validation folds.

    Attributes
    ----------
    factors_ : DataFrame
        ``FACTOR_COLUMNS`` then ``STABILITY_COLUMNS``, one row per retained factor.
    family_ : str
    bic_ : float
    alpha_ : float
        The screening penalty used (NaN without a screen).
    screened_ : list of str
        Candidates kept by the screen.
    candidates_ : DataFrame
        Every candidate tested (the ``meta`` of :func:`risk_features`).
    """

    def __init__(  # noqa: PLR0913 - a scikit-learn estimator's hyperparameters are its __init__ keywords
        self,
        *,
        distances_m: tuple[float, ...] = (100, 200, 400),
        operationalisations: tuple[str, ...] = OPERATIONALISATIONS,
        family: str = "auto",
        alpha: float | None = None,
        l1_ratio: float = 0.5,
        cv: int = 3,
        max_factors: int | None = None,
        covariates: tuple[str, ...] = (),
        occlusion: bool = True,
        cluster_m: float | None = 1000.0,
        view_samples: int = 3,
        samples: int = 1,
        screen: bool = True,
        cv_distances: bool = True,
        stability_factor: int | None = 2,
        zones: str | None = None,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.distances_m = distances_m
        self.operationalisations = operationalisations
        self.family = family
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.cv = cv
        self.max_factors = max_factors
        self.covariates = covariates
        self.occlusion = occlusion
        self.cluster_m = cluster_m
        self.view_samples = view_samples
        self.samples = samples
        self.screen = screen
        self.cv_distances = cv_distances
        self.stability_factor = stability_factor
        self.zones = zones
        self.random_state = random_state

    # ------------------------------------------------------------------ API
    def features(self, cells: gpd.GeoDataFrame, layers: Mapping[str, Any]) -> RiskFeatures:
        """The candidate factors of ``cells`` with this model's distances (measure once, reuse in
        :meth:`fit` and :meth:`predict`, e.g. for several crime types on one grid).
        """
        lattice = cell_lattice(cells, int(self.samples))
        X, meta = risk_features(
            cells,
            layers,
            distances_m=tuple(float(d) for d in self.distances_m),
            operationalisations=self.operationalisations,
            occlusion=self.occlusion,
            view_samples=int(self.view_samples),
            samples=lattice,
        )
        out = RiskFeatures(X, meta, lattice)
        zone_layer = layers.get(self.zones) if self.zones else None
        if isinstance(zone_layer, gpd.GeoDataFrame) and len(zone_layer):
            column = zone_field(zone_layer)
            if column is None:
                logger.warning("risk terrain: zone layer %r has no text column of zones; ignored", self.zones)
            else:
                points = Lattice(lattice.xy, np.arange(len(lattice.xy)), len(lattice.xy), lattice.spacing_m)
                out.zones = zone_shares(lattice, zone_layer, column).set_index(cells.index)
                out.zone_points = zone_shares(points, zone_layer, column).reindex(columns=out.zones.columns)
        return out

    def fit(
        self,
        cells: gpd.GeoDataFrame,
        layers: Mapping[str, Any],
        y: str | tuple[str, str] = "n_incidents",
        *,
        features: RiskFeatures | tuple[pd.DataFrame, pd.DataFrame] | None = None,
    ) -> RiskTerrain:
        """Fit the model to cell counts.

        Parameters
        ----------
        cells : GeoDataFrame of polygons (projected CRS, metres)
            Grid cells with the count column(s) ``y`` (and ``area_m2``, else computed).
        layers : mapping of str to GeoDataFrame or Surface
            Environmental layers in the cells' CRS.
        y : str or (str, str)
            Column of incident counts, or the columns of night and day counts (night terms for
            lighting layers).
        features : RiskFeatures or (X, meta), optional
            The output of :meth:`features` for these cells and layers.

        Returns
        -------
        self
        """
        self._check_params()
        feats = self._as_features(cells, layers, features)
        # Small dense products throughout: BLAS threads would only spin on shared cores.
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit(cells, layers, feats, y)

    def _fit(
        self,
        cells: gpd.GeoDataFrame,
        layers: Mapping[str, Any],
        feats: RiskFeatures,
        y: str | tuple[str, str],
    ) -> RiskTerrain:
        data = fit_data(
            cells,
            feats,
            y,
            layers=layers,
            covariates=tuple(self.covariates),
            block_m=float(self.cluster_m or 1000.0),
        )
        self.stacked_ = data.stacked
        self.base_names_ = data.base_names
        self.candidates_ = feats.meta
        self.fill_values_ = feats.filled()[2]
        self.n_cells_ = len(data.cells)
        self.cell_size_m_ = cell_side(cells)
        if not data.names:
            logger.warning("risk terrain: no usable candidate factors among the layers %s", sorted(layers))
            return self._fit_empty(data)
        problem = select.Problem(
            y=data.y,
            offset=data.offset,
            base=data.base,
            raw=data.raw,
            source=data.source,
            night_only=data.night_only,
            stacked=data.stacked,
            names=data.names,
            groups=data.groups,
            requires=data.requires,
            folds=glm.block_folds(data.blocks, int(self.cv), self.random_state),
            blocks=data.blocks if self.cluster_m is not None and len(np.unique(data.blocks)) >= 20 else None,
        )
        chosen = self._select(problem)
        self.distance_rule_ = "stepwise BIC"
        designs: dict[tuple[int, ...], intensity.PointDesign] = {}  # shared by the CV and the final fit
        if self.cv_distances and chosen:
            family = "poisson" if self.family == "poisson" else "negative_binomial"
            evaluate = (
                select.cell_evaluator(problem, family=family, nb_alpha=self.nb_alpha_)
                if feats.lattice.single
                else self._point_evaluator(cells, layers, feats, data, problem, designs=designs)
            )
            chosen = select.cv_distances(problem, chosen, evaluate)
            self.distance_rule_ = f"cross-validated ({len(np.unique(problem.folds))} folds of spatial blocks)"
        self._final(cells, layers, feats, data, chosen, designs=designs)
        return self

    def _point_evaluator(
        self,
        cells: gpd.GeoDataFrame,
        layers: Mapping[str, Any],
        feats: RiskFeatures,
        data: FitData,
        problem: select.Problem,
        *,
        designs: dict[tuple[int, ...], intensity.PointDesign],
    ) -> select.Evaluator:
        """Blocked-CV log-likelihood of the point-intensity model with the ``trial`` candidates
        (the model that is reported), warm-started from the fit of ``current``.
        """
        family = "poisson" if self.family == "poisson" else "negative_binomial"
        alpha = self.nb_alpha_ if family == "negative_binomial" else None
        fits: dict[tuple[int, ...], intensity.IntensityFit | None] = {}
        base = point_base(cells, feats, data, tuple(self.covariates))

        def design_of(chosen: list[int]) -> intensity.PointDesign:
            if tuple(chosen) not in designs:
                designs[tuple(chosen)] = self._point_design(base, feats, layers, data, chosen)
            return designs[tuple(chosen)]

        def fitted(chosen: list[int], start: np.ndarray | None) -> intensity.IntensityFit | None:
            if tuple(chosen) not in fits:
                design = design_of(chosen)
                fits[tuple(chosen)] = intensity.fit_intensity(
                    data.y, design, family=family, nb_alpha=alpha, start=start, update_alpha=False
                )
            return fits[tuple(chosen)]

        def evaluate(trial: list[int], current: list[int], swap: dict[int, int]) -> float:
            before = fitted(current, None)
            start = None
            if before is not None:
                old_cols = ordered([data.names[i] for i in current])
                back = {data.names[new]: data.names[old] for old, new in swap.items()}
                k = len(before.params) - len(old_cols)
                coef = dict(zip(old_cols, before.params[k:], strict=True))
                new_cols = ordered([data.names[i] for i in trial])
                start = np.r_[before.params[:k], [coef[back.get(c, c)] for c in new_cols]]
            fit = fitted(trial, start)
            if fit is None:
                return -np.inf
            return intensity.cv_loglik(data.y, design_of(trial), fit, problem.folds)

        return evaluate

    def predict(
        self,
        cells: gpd.GeoDataFrame,
        layers: Mapping[str, Any],
        *,
        features: RiskFeatures | tuple[pd.DataFrame, pd.DataFrame] | None = None,
    ) -> np.ndarray:
        """Relative risk score per cell: the mean over its points of ``Π RRV_k^{x_k}`` (over a
        day for night/day fits), scaled so the lowest cell is 1.
        """
        check_is_fitted(self, "factors_")
        if len(self.coef_) == 0:
            return np.ones(len(cells))
        feats = self._as_features(cells, layers, features)
        rel = self.relative_risk_at_points(feats, layers)
        lat = feats.lattice
        total = np.bincount(lat.owner, minlength=lat.n_cells)
        score = np.bincount(lat.owner, weights=rel, minlength=lat.n_cells) / np.maximum(total, 1)
        lowest = np.min(score[total > 0]) if (total > 0).any() else 1.0
        return score / lowest

    def relative_risk_at_points(self, features: RiskFeatures, layers: Mapping[str, Any]) -> np.ndarray:
        """``Π RRV_k^{x_k}`` at each lattice point of ``features`` (covariates left out; over a
        day, weighting night terms by the night share of the baseline, for night/day fits).
        """
        check_is_fitted(self, "factors_")
        if len(self.coef_) == 0:
            return np.ones(len(features.lattice.xy))
        keys = [k.removesuffix(NIGHT) for k in self.coef_.index]
        P = features.at_points(layers, list(dict.fromkeys(keys)), occlusion=self.occlusion)
        mains = [k for k in self.coef_.index if not k.endswith(NIGHT)]
        nights = [k for k in self.coef_.index if k.endswith(NIGHT)]
        lin_all = P[mains].to_numpy(float) @ self.coef_[mains].to_numpy() if mains else np.zeros(len(P))
        if not self.stacked_:
            return np.exp(lin_all)
        lin_night = (
            P[[k.removesuffix(NIGHT) for k in nights]].to_numpy(float) @ self.coef_[nights].to_numpy()
            if nights
            else np.zeros(len(P))
        )
        night_w = self.night_share_
        return np.exp(lin_all) * (night_w * np.exp(lin_night) + (1 - night_w))

    def to_surface(
        self,
        cells: gpd.GeoDataFrame,
        layers: Mapping[str, Any] | None = None,
        *,
        scores: np.ndarray | None = None,
        cell_size_m: float | None = None,
    ) -> Surface:
        """The relative-risk surface as a north-up raster (write it with ``.to_geotiff``).

        ``layers`` are needed unless ``scores`` (one RRS per cell) are given; the pixel size is
        ``cell_size_m``, else the cells' own (``cells.attrs["params"]``), else √(median cell area).
        """
        check_is_fitted(self, "factors_")
        if scores is None:
            if layers is None:
                raise ConfigError("RiskTerrain.to_surface needs the layers or scores= (one value per cell).")
            scores = self.predict(cells, layers)
        return surface_from_cells(
            cells,
            np.asarray(scores, dtype=float),
            name="risk_rrs",
            units="relative risk score (lowest cell = 1)",
            params={"family": self.family_, "factors": ";".join(self.coef_.index)},
            cell_size_m=cell_size_m,
        )

    # ------------------------------------------------------------------ preparation
    def _check_params(self) -> None:
        where = "RiskTerrain"
        check_choice(self.family, FAMILIES, name="family", where=where)
        for op in self.operationalisations:
            check_choice(op, OPERATIONALISATIONS, name="operationalisations", where=where)
        if not self.distances_m or any(float(d) <= 0 for d in self.distances_m):
            raise ConfigError(
                f"The 'distances_m' parameter of {where} must be positive metres. Got {self.distances_m!r}."
            )
        check_fraction(self.l1_ratio, name="l1_ratio", where=where)
        if self.alpha is not None and self.alpha < 0:
            raise ConfigError(f"The 'alpha' parameter of {where} must be ≥ 0 or None. Got {self.alpha!r}.")
        if self.cluster_m is not None and not float(self.cluster_m) > 0:
            raise ConfigError(
                f"The 'cluster_m' parameter of {where} must be positive metres or None. Got {self.cluster_m!r}."
            )
        if int(self.cv) < 2:
            raise ConfigError(f"The 'cv' parameter of {where} must be ≥ 2. Got {self.cv!r}.")
        if int(self.samples) < 1:
            raise ConfigError(f"The 'samples' parameter of {where} must be ≥ 1. Got {self.samples!r}.")
        if self.stability_factor is not None and int(self.stability_factor) < 2:
            raise ConfigError(
                f"The 'stability_factor' parameter of {where} must be ≥ 2 or None. Got {self.stability_factor!r}."
            )

    def _as_features(self, cells: gpd.GeoDataFrame, layers: Mapping[str, Any], features: Any) -> RiskFeatures:
        if features is None:
            return self.features(cells, layers)
        if isinstance(features, RiskFeatures):
            out = features
        else:
            X, meta = features
            out = RiskFeatures(X, meta, cell_lattice(cells, int(self.samples)))
        if len(out.X) != len(cells):
            raise ValidationError(f"features has {len(out.X)} rows but there are {len(cells)} cells.")
        return out

    def _fit_empty(self, data: FitData) -> RiskTerrain:
        self.factors_ = pd.DataFrame(columns=[*FACTOR_COLUMNS, *STABILITY_COLUMNS])
        self.family_, self.alpha_ = "poisson", float("nan")
        self.screened_: list[str] = []
        self.coef_ = pd.Series(dtype=float)
        X = np.column_stack([np.ones(len(data.y)), data.base])
        llf, _, beta = glm.irls_fit(data.y, X, data.offset, "poisson", 0.0)
        if beta is None:  # a singular base: the overall rate per unit of exposure
            rate = max(float(np.sum(data.y)), 0.5) / float(np.sum(np.exp(data.offset)))
            beta = np.r_[np.log(rate), np.zeros(X.shape[1] - 1)]
        # the baseline rate the (empty) factor model predicts everywhere, so projecting it works
        self.intercept_ = float(beta[0])
        self.covariate_coefs_ = pd.Series(beta[1:], index=list(data.base_names), dtype=float)
        night = float(self.covariate_coefs_.get("night", 0.0)) if data.stacked else 0.0
        self.night_share_ = float(np.exp(night) / (1 + np.exp(night))) if data.stacked else 0.5
        self.bic_ = float(-2 * llf + X.shape[1] * np.log(len(data.y)))
        self.bics_ = {"poisson": self.bic_}
        self.interval_method_ = "none (no factors)"
        return self

    # ------------------------------------------------------------------ selection
    def _select(self, problem: select.Problem) -> list[int]:
        """Screen (optional), stepwise BIC, then blocked-CV distances; indices into candidates."""
        pool = np.arange(len(problem.names))
        self.alpha_ = float("nan")
        if self.screen:
            pool, self.alpha_ = select.screen(problem, alpha=self.alpha, l1_ratio=self.l1_ratio)
            # a night term's all-hours twin stays available whenever the night term passed
            extra = [problem.requires[j] for j in pool if problem.requires[j] >= 0]
            pool = np.unique(np.r_[pool, extra]).astype(int)
        else:
            pool = select.prescreen(problem)
        self.screened_ = [problem.names[i] for i in pool]
        family = "poisson" if self.family == "poisson" else "negative_binomial"
        self.nb_alpha_ = _dispersion(problem, pool)
        chosen = select.stepwise(
            problem, pool, family=family, nb_alpha=self.nb_alpha_, max_factors=self.max_factors
        )
        return chosen

    # ------------------------------------------------------------------ final fit
    def _point_design(
        self,
        base: PointBase,
        feats: RiskFeatures,
        layers: Mapping[str, Any],
        data: FitData,
        chosen: list[int],
    ) -> intensity.PointDesign:
        """The compressed point-intensity design of the ``chosen`` candidates."""
        cols = ordered([data.names[i] for i in chosen])
        keys = list(dict.fromkeys(c.removesuffix(NIGHT) for c in cols))
        values = feats.at_points(layers, keys, occlusion=self.occlusion)
        return compressed_point_design(base, values, cols, data)

    def _fit_point_model(
        self, y: np.ndarray, design: intensity.PointDesign, blocks: np.ndarray
    ) -> dict[str, intensity.IntensityFit]:
        """The point-intensity model for each family to compare (cluster-robust when ≥ 20 blocks)."""
        clusters = blocks if self.cluster_m is not None and len(np.unique(blocks)) >= 20 else None
        if self.cluster_m is not None and clusters is None:
            logger.warning(
                "risk terrain: only %d spatial blocks of %g m; intervals are model-based, not cluster-robust",
                len(np.unique(blocks)),
                self.cluster_m,
            )
        poisson = intensity.fit_intensity(y, design, family="poisson", clusters=clusters)
        fits = {"poisson": poisson}
        if self.family in ("auto", "negative_binomial"):
            alpha = intensity.moment_alpha(y, poisson.mu) if poisson is not None else None
            start = poisson.params if poisson is not None else None
            fits["negative_binomial"] = intensity.fit_intensity(
                y, design, family="negative_binomial", nb_alpha=alpha, clusters=clusters, start=start
            )
        if self.family == "negative_binomial":
            fits.pop("poisson")
        return {f: v for f, v in fits.items() if v is not None}

    def _final(
        self,
        cells: gpd.GeoDataFrame,
        layers: Mapping[str, Any],
        feats: RiskFeatures,
        data: FitData,
        chosen: list[int],
        *,
        designs: dict[tuple[int, ...], intensity.PointDesign],
    ) -> None:
        """Point-intensity fits (both families; lower BIC wins), the coarse refit and the table."""
        cols = ordered([data.names[i] for i in chosen])
        design = designs.get(tuple(chosen))
        if design is None:
            base = point_base(cells, feats, data, tuple(self.covariates))
            design = self._point_design(base, feats, layers, data, chosen)
        fits = self._fit_point_model(data.y, design, data.blocks)
        if not fits:
            raise InsufficientDataError("The risk terrain model could not be fitted (singular design).")
        self.bics_ = {f: v.bic for f, v in fits.items()}
        self.family_ = min(fits, key=lambda f: fits[f].bic)
        fit = fits[self.family_]
        self.bic_ = fit.bic
        self.interval_method_ = (
            f"cluster-robust over {self.cluster_m:g} m blocks" if fit.interval_method == "cluster-robust"
            else fit.interval_method
        )  # fmt: skip
        k_base = len(fit.params) - 1 - len(cols)
        self.intercept_ = float(fit.params[0])
        self.covariate_coefs_ = pd.Series(fit.params[1 : 1 + k_base], index=data.base_names, dtype=float)
        self.coef_ = pd.Series(fit.params[1 + k_base :], index=cols, dtype=float)
        night = float(self.covariate_coefs_["night"]) if data.stacked else 0.0
        self.night_share_ = float(np.exp(night) / (1 + np.exp(night))) if data.stacked else 1.0
        coarse, side = None, float("nan")
        if self.stability_factor is not None and cols:
            side = self.cell_size_m_ * int(self.stability_factor)
            coarse = coarse_refit(cells, data, design, fit, side_m=side, centres=feats.centres(cells))
        ctx = TableContext(feats.meta, self.cell_size_m_, side, self.distance_rule_)
        self.factors_ = factor_table(fit, coarse, cols, ctx)
        logger.info("risk terrain: %s, BIC %.1f, factors %s", self.family_, self.bic_, cols)


def _dispersion(problem: select.Problem, pool: np.ndarray, top: int = 10) -> float:
    """NB2 dispersion by moments from a Poisson fit with the ``top`` candidates of ``pool`` by
    their score statistic (all of them when fewer): overdispersion net of the likely factors.
    """
    _, mu, _ = glm.irls_fit(problem.y, problem.design([]), problem.offset, "poisson", 0.0)
    if mu is None:
        return 1e-6
    if len(pool) > top:
        stat = select.score_stats(problem, mu, pool)
        pool = np.sort(pool[np.argsort(-stat, kind="stable")[:top]])
    _, fuller, _ = glm.irls_fit(problem.y, problem.design(list(pool)), problem.offset, "poisson", 0.0)
    return intensity.moment_alpha(problem.y, fuller if fuller is not None else mu)
