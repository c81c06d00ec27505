"""The risk-terrain estimator: which environmental features go with crime, and by how much (RRV).

Following risk terrain modelling (Caplan & Kennedy; RTMDx as described in ``PEERS.md`` §1.6), the
candidates of :func:`planner.risk.features.risk_features` are standardised and **screened** by an
elastic-net penalised Poisson GLM (our own coordinate-descent solver, :mod:`planner.risk.glm`; the
penalty is chosen by K-fold cross-validated deviance with ``random_state`` folds unless ``alpha`` is
given). The screened candidates enter a bidirectional stepwise **selection** by BIC (at most one
operationalisation per layer) for a Poisson and a negative-binomial (NB2) GLM. The **final** model
of each family is refitted with statsmodels and the family with the lower BIC wins
(``family="auto"``). Cell area enters as an offset (log area in m²) so clipped edge cells are fair.
Each factor's relative risk value is ``RRV = exp(β)`` per unit of its operationalisation with a
95 % interval that is cluster-robust over square spatial blocks (``cluster_m``, 1 km by default),
so unmeasured, spatially correlated variation widens it rather than hiding; intervals after
selection remain somewhat optimistic (as in RTMDx). The relative risk score of a cell is
``RRS = Π RRV_k^{x_k}``, scaled so the lowest cell is 1.
"""

# Design matrices keep their statistical names (X, Z) as in scikit-learn and statsmodels.
# ruff: noqa: N803, N806
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from planner._params import check_choice, check_fraction
from planner.errors import ConfigError, InsufficientDataError, ValidationError
from planner.risk import glm
from planner.risk.features import OPERATIONALISATIONS, cell_centroids, risk_features
from planner.surface import Surface, surface_from_cells

logger = logging.getLogger(__name__)

FAMILIES = ("auto", "poisson", "negative_binomial")
FACTOR_COLUMNS = [
    "factor",
    "operationalisation",
    "distance_m",
    "coef",
    "rrv",
    "rrv_low",
    "rrv_high",
    "p_value",
    "unit",
    "role",
    "deficit",
    "addressed_by",
]

Features = tuple[pd.DataFrame, pd.DataFrame]


@dataclass(frozen=True)
class _Prepared:
    """Arrays of one fit: usable candidate names, raw and standardised values, counts, offset."""

    names: list[str]
    raw: np.ndarray
    y: np.ndarray
    offset: np.ndarray
    cov: np.ndarray
    keep: np.ndarray


def _counts(cells: gpd.GeoDataFrame, y: str) -> np.ndarray:
    if y not in cells.columns:
        raise ValidationError(
            f"The cells have no {y!r} column of incident counts; count incidents first (planner.grid.count_incidents)."
        )
    counts = pd.to_numeric(cells[y], errors="coerce").to_numpy(dtype=float)
    if np.isnan(counts).any() or (counts < 0).any():
        raise ValidationError(f"Column {y!r} of the cells must hold non-negative counts without gaps.")
    if counts.sum() == 0:
        raise InsufficientDataError(
            f"Column {y!r} is all zero: there is nothing for the risk terrain model to explain."
        )
    return counts


def _covariates(cells: gpd.GeoDataFrame, names: tuple[str, ...]) -> np.ndarray:
    missing = [c for c in names if c not in cells.columns]
    if missing:
        raise ValidationError(f"The covariates {missing} are not columns of the cells.")
    values = cells[list(names)].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    if np.isnan(values).any():
        raise ValidationError(f"The covariates {list(names)} have missing or non-numeric values.")
    return values


class RiskTerrain(BaseEstimator):
    """Risk terrain model: penalised screening, stepwise BIC, Poisson or NB2 GLM, RRVs.

    Parameters
    ----------
    distances_m : tuple of float
        Spatial-influence distances (metres) tested for proximity and density.
    operationalisations : tuple of {"proximity", "density"}
    family : {"auto", "poisson", "negative_binomial"}
        ``"auto"`` picks the family with the lower BIC.
    alpha : float or None
        Elastic-net penalty for screening (on standardised features); ``None`` chooses it by
        ``cv``-fold cross-validated Poisson deviance.
    l1_ratio : float in (0, 1]
        Share of the L1 penalty in the elastic net.
    cv : int
        Folds for choosing ``alpha``.
    max_factors : int or None
        Upper limit on retained factors (stepwise stops there).
    covariates : tuple of str
        Columns of the cells always in the model, unpenalised and not reported as factors (e.g.
        land-use dummies that set the baseline). The relative risk score leaves them out.
    occlusion : bool
        Cut camera views by the ``buildings`` layer.
    cluster_m : float or None
        Intervals and p-values are cluster-robust (sandwich) over square spatial blocks of this side
        in metres; ``None`` gives the model-based (independent cells) intervals.
    view_samples : int
        Camera coverage = share of a ``view_samples``² point lattice per cell in view.
    random_state : int, Generator or None
        Seeds the cross-validation folds.

    Attributes
    ----------
    factors_ : DataFrame
        ``factor, operationalisation, distance_m, coef, rrv, rrv_low, rrv_high, p_value`` (+ unit,
        role, deficit, addressed_by), one row per retained factor.
    family_ : str
    bic_ : float
    alpha_ : float
        The screening penalty used.
    screened_ : list of str
        Candidates kept by the penalised screen.
    candidates_ : DataFrame
        Every candidate tested (the ``meta`` of :func:`risk_features`).
    """

    def __init__(
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
        self.random_state = random_state

    # ------------------------------------------------------------------ API
    def features(self, cells: gpd.GeoDataFrame, layers: Mapping[str, Any]) -> Features:
        """The candidate factors of ``cells`` with this model's distances (measure once, reuse in
        :meth:`fit` and :meth:`predict`).
        """
        return risk_features(
            cells,
            layers,
            distances_m=tuple(float(d) for d in self.distances_m),
            operationalisations=self.operationalisations,
            occlusion=self.occlusion,
            view_samples=int(self.view_samples),
        )

    def fit(
        self,
        cells: gpd.GeoDataFrame,
        layers: Mapping[str, Any],
        y: str = "n_incidents",
        *,
        features: Features | None = None,
    ) -> RiskTerrain:
        """Fit the model to cell counts.

        Parameters
        ----------
        cells : GeoDataFrame of polygons (projected CRS, metres)
            Grid cells with the count column ``y`` (and ``area_m2``, else computed).
        layers : mapping of str to GeoDataFrame or Surface
            Environmental layers in the cells' CRS.
        y : str
            Column of incident counts.
        features : (X, meta), optional
            The output of :meth:`features` for these cells and layers, to fit several crime types
            on one grid without measuring it again.

        Returns
        -------
        self
        """
        self._check_params()
        X, meta = features if features is not None else self.features(cells, layers)
        if len(X) != len(cells):
            raise ValidationError(f"features has {len(X)} rows but there are {len(cells)} cells.")
        data = self._prepare(cells, X, meta, y)
        if not data.names:
            logger.warning("risk terrain: no usable candidate factors among the layers %s", sorted(layers))
            return self._fit_empty(data)
        screened = self._screen(data)
        selected = self._select(data, screened, meta)
        self._final(cells, data, screened, selected, meta)
        return self

    def predict(
        self, cells: gpd.GeoDataFrame, layers: Mapping[str, Any], *, features: Features | None = None
    ) -> np.ndarray:
        """Relative risk score per cell: ``Π RRV_k^{x_k}`` scaled so the lowest cell is 1."""
        check_is_fitted(self, "factors_")
        if len(self.coef_) == 0:
            return np.ones(len(cells))
        X, _ = features if features is not None else self.features(cells, layers)
        X = X.reindex(columns=self.coef_.index).fillna(self.fill_values_.reindex(self.coef_.index))
        lin = X.to_numpy(float) @ self.coef_.to_numpy()
        return np.exp(lin - np.nanmin(lin))

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

    # ------------------------------------------------------------------ steps of fit
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

    def _prepare(self, cells: gpd.GeoDataFrame, X: pd.DataFrame, meta: pd.DataFrame, y: str) -> _Prepared:
        counts = _counts(cells, y)
        area = cells["area_m2"].to_numpy(float) if "area_m2" in cells else cells.geometry.area.to_numpy()
        keep = area > 0
        cov = _covariates(cells, tuple(self.covariates))
        self.fill_values_ = X.mean().fillna(0.0)
        X = X.fillna(self.fill_values_)
        self.candidates_ = meta
        self.n_cells_ = int(keep.sum())
        names = [str(c) for c, s in zip(X.columns, X.std().to_numpy(), strict=True) if s > 0]
        return _Prepared(
            names=names,
            raw=X[names].to_numpy(float)[keep],
            y=counts[keep],
            offset=np.log(area[keep]),
            cov=cov[keep],
            keep=keep,
        )

    def _fit_empty(self, data: _Prepared) -> RiskTerrain:
        self.factors_ = pd.DataFrame(columns=FACTOR_COLUMNS)
        self.family_, self.alpha_ = "poisson", float("nan")
        self.screened_: list[str] = []
        self.coef_ = pd.Series(dtype=float)
        null = glm.statsmodels_glm(data.y, np.zeros((len(data.y), 0)), data.offset, "poisson", 1.0)
        self.bic_ = float(-2 * null.llf + np.log(len(data.y)))
        return self

    def _screen(self, data: _Prepared) -> np.ndarray:
        """Indices (into ``data.names``) of candidates with a non-zero elastic-net coefficient and
        not linearly dependent on the covariates or each other; sets ``alpha_`` and ``screened_``.
        """
        Z = (data.raw - data.raw.mean(axis=0)) / data.raw.std(axis=0)
        # Covariates are never penalised: screen against the offset plus their fitted effect.
        offset = data.offset
        if data.cov.shape[1]:
            base_fit = glm.statsmodels_glm(data.y, data.cov, data.offset, "poisson", 1.0)
            offset = data.offset + np.asarray(base_fit.params)[1:] @ data.cov.T
        self.alpha_ = float(self.alpha) if self.alpha is not None else self._cv_alpha(Z, data.y, offset)
        _, beta = glm.enet_poisson_path(Z, data.y, offset, np.array([self.alpha_]), self.l1_ratio)[-1]
        screened = np.flatnonzero(np.abs(beta) > 1e-8)
        self.screened_ = [data.names[i] for i in screened]
        logger.info(
            "risk terrain: %d of %d candidates pass the screen (alpha=%.3g)",
            len(screened),
            len(data.names),
            self.alpha_,
        )
        return glm.independent_columns(np.hstack([data.cov, Z]), screened, offset=data.cov.shape[1])

    def _cv_alpha(self, Z: np.ndarray, y: np.ndarray, offset: np.ndarray) -> float:
        """The penalty with the lowest ``cv``-fold cross-validated Poisson deviance."""
        n = Z.shape[0]
        mu0 = np.exp(offset) * (y.sum() / np.exp(offset).sum())
        alpha_max = float(np.max(np.abs(Z.T @ (y - mu0))) / n / self.l1_ratio)
        grid = alpha_max * np.logspace(-0.3, -3, 8)
        folds = np.random.default_rng(self.random_state).permutation(n) % int(self.cv)
        deviance = np.zeros(len(grid))
        for k in range(int(self.cv)):
            train, test = folds != k, folds == k
            path = glm.enet_poisson_path(Z[train], y[train], offset[train], grid, self.l1_ratio)
            for j, (b0, beta) in enumerate(path):
                deviance[j] += glm.poisson_deviance(y[test], np.exp(b0 + Z[test] @ beta + offset[test]))
        return float(grid[int(np.argmin(deviance))])

    def _select(self, data: _Prepared, screened: np.ndarray, meta: pd.DataFrame) -> dict[str, list[int]]:
        """Stepwise BIC selection per family among the screened candidates (index into ``screened``)."""
        cand = data.raw[:, screened]
        groups = [str(meta.loc[data.names[i], "factor"]) for i in screened]
        # NB2 dispersion by moments from the Poisson fit with every screened candidate.
        mu = glm.statsmodels_glm(
            data.y, np.hstack([data.cov, cand]), data.offset, "poisson", 1.0
        ).fittedvalues
        self.nb_alpha_ = float(max(np.sum((data.y - mu) ** 2 - data.y) / np.sum(mu**2), 1e-6))
        counts = glm.CountData(y=data.y, X=cand, groups=groups, offset=data.offset, base=data.cov)
        families = ["poisson", "negative_binomial"] if self.family == "auto" else [self.family]
        return {
            f: glm.stepwise_bic(counts, family=f, nb_alpha=self.nb_alpha_, max_factors=self.max_factors)[0]
            for f in families
        }

    def _robust_options(self, cells: gpd.GeoDataFrame, keep: np.ndarray) -> dict[str, Any]:
        if self.cluster_m is None:
            self.interval_method_ = "model-based (Wald)"
            return {}
        blocks = glm.spatial_blocks(cell_centroids(cells)[keep], float(self.cluster_m))
        if len(np.unique(blocks)) < 20:
            logger.warning(
                "risk terrain: only %d spatial blocks of %g m; intervals are model-based, not cluster-robust",
                len(np.unique(blocks)),
                self.cluster_m,
            )
            self.interval_method_ = "model-based (Wald)"
            return {}
        self.interval_method_ = f"cluster-robust over {self.cluster_m:g} m blocks"
        return {"cov_type": "cluster", "cov_kwds": {"groups": blocks}}

    def _final_fit(
        self, data: _Prepared, design: np.ndarray, family: str, robust: dict[str, Any]
    ) -> tuple[Any, float]:
        """The statsmodels fit of one family and its BIC."""
        import statsmodels.api as sm

        Xc = sm.add_constant(design, has_constant="add")
        n = len(data.y)
        if family == "poisson":
            res = sm.GLM(data.y, Xc, family=sm.families.Poisson(), offset=data.offset).fit(**robust)
            return res, float(-2 * res.llf + Xc.shape[1] * np.log(n))
        try:
            res = sm.NegativeBinomial(data.y, Xc, offset=data.offset, loglike_method="nb2").fit(
                disp=0, maxiter=200, **robust
            )
            ok_fit = bool(np.all(np.isfinite(np.asarray(res.bse))))
        except (ValueError, np.linalg.LinAlgError):
            ok_fit = False
        if not ok_fit:  # fall back to the GLM with the moment estimate of the dispersion
            logger.info("risk terrain: NB2 maximum likelihood failed; using the moment dispersion")
            fam_nb = sm.families.NegativeBinomial(alpha=self.nb_alpha_)
            res = sm.GLM(data.y, Xc, family=fam_nb, offset=data.offset).fit(**robust)
        return res, float(-2 * res.llf + (Xc.shape[1] + 1) * np.log(n))

    def _final(
        self,
        cells: gpd.GeoDataFrame,
        data: _Prepared,
        screened: np.ndarray,
        selected: dict[str, list[int]],
        meta: pd.DataFrame,
    ) -> None:
        """Refit each family's selection with statsmodels; keep the lower BIC; build the RRV table."""
        robust = self._robust_options(cells, data.keep)
        cand = data.raw[:, screened]
        choice = {
            fam: (chosen, *self._final_fit(data, np.hstack([data.cov, cand[:, chosen]]), fam, robust))
            for fam, chosen in selected.items()
        }
        self.family_ = min(choice, key=lambda f: choice[f][2])
        chosen, res, self.bic_ = choice[self.family_]
        self.bics_ = {f: v[2] for f, v in choice.items()}
        k_cov = data.cov.shape[1]
        first, last = 1 + k_cov, 1 + k_cov + len(chosen)
        params = np.asarray(res.params)
        self.covariate_coefs_ = pd.Series(params[1:first], index=list(self.covariates), dtype=float)
        ci = np.asarray(res.conf_int())[first:last]
        cols = [data.names[int(screened[i])] for i in chosen]
        table = meta.loc[cols].copy()
        table["coef"] = params[first:last]
        table["rrv"] = np.exp(params[first:last])
        table["rrv_low"] = np.exp(ci[:, 0])
        table["rrv_high"] = np.exp(ci[:, 1])
        table["p_value"] = np.asarray(res.pvalues)[first:last]
        self.factors_ = table.sort_values("rrv", ascending=False).reset_index(drop=True)[FACTOR_COLUMNS]
        self.coef_ = pd.Series(params[first:last], index=cols)
        self.intercept_ = float(params[0])
        logger.info("risk terrain: %s, BIC %.1f, factors %s", self.family_, self.bic_, cols)
