"""Risk terrain: which environmental features go with crime, and by how much (RRV).

Following risk terrain modelling (Caplan & Kennedy; RTMDx as described in ``PEERS.md`` §1.6), every
candidate layer is operationalised at several distances from each cell's centroid:

* ``proximity`` — 1 when the nearest feature is within ``d`` metres, else 0;
* ``density`` — the number of features within ``d`` metres;
* ``coverage`` — share of the cell's street length lit by working lamps (``street_lights``) or seen by
  a camera (``cameras``), from :mod:`planner.exposure` (distance = the lamp radius / camera range);
* ``zonal`` — mean raster value (``lighting``: per 10 lux).

Deficit features count as risk factors in their own right: broken lamps (``street_lights_broken``)
and outage reports (``street_light_outages``, a lack of lighting).

Fitting: candidates are standardised and screened by an elastic-net penalised Poisson GLM (statsmodels
``fit_regularized``; the penalty is chosen by K-fold cross-validated deviance with ``random_state``
folds unless ``alpha`` is given). The retained candidates enter a bidirectional stepwise search by
BIC (at most one operationalisation per layer) for a Poisson and a negative-binomial (NB2) GLM; the
family with the lower BIC wins (``family="auto"``). Cell area enters as an offset (log area in m²)
so clipped edge cells are fair. Each factor's relative risk value is ``RRV = exp(β)`` per unit of
its operationalisation with a 95 % interval that is cluster-robust over square spatial blocks
(``cluster_m``, 1 km by default), so unmeasured, spatially correlated variation widens it rather
than hiding; intervals after selection remain somewhat optimistic (as in RTMDx). The relative risk score of a cell is ``RRS = Π RRV_k^{x_k}``, scaled so the
lowest cell is 1.
"""

# Design matrices keep their statistical names (X, Z) as in scikit-learn and statsmodels.
# ruff: noqa: N803, N806
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from planner import _geom
from planner._params import check_choice, check_fraction
from planner.crs import require_projected
from planner.errors import ConfigError, InsufficientDataError, ValidationError
from planner.layers import LayerSpec, load_registry
from planner.surface import Surface

logger = logging.getLogger(__name__)

OPERATIONALISATIONS = ("proximity", "density")
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
LUX_STEP = 10.0


def _centroids(cells: gpd.GeoDataFrame) -> np.ndarray:
    return _geom.point_coords(shapely.centroid(np.asarray(cells.geometry.values)))


def _meta(name: str, op: str, d: float, unit: str, spec: LayerSpec, *, deficit: bool) -> dict[str, Any]:
    return {
        "factor": name,
        "operationalisation": op,
        "distance_m": float(d),
        "unit": unit,
        "role": spec.role,
        "deficit": deficit,
        "addressed_by": ",".join(spec.addressed_by),
    }


def _cells_in_view(
    cells: gpd.GeoDataFrame,
    cameras: gpd.GeoDataFrame,
    spec: LayerSpec,
    *,
    buildings: gpd.GeoDataFrame | None,
    samples: int,
) -> np.ndarray:
    """Share of a regular lattice of points in each cell's bounding box (inside the cell) seen by a
    camera; cells whose lattice misses them fall back to the centroid."""
    from planner.exposure import camera_parameters

    geoms = np.asarray(cells.geometry.values)
    bounds = shapely.bounds(geoms)
    frac = (np.arange(samples) + 0.5) / samples
    gx, gy = np.meshgrid(frac, frac)
    fx, fy = gx.ravel(), gy.ravel()
    lx = (bounds[:, 0:1] + fx[None, :] * (bounds[:, 2:3] - bounds[:, 0:1])).ravel()
    ly = (bounds[:, 1:2] + fy[None, :] * (bounds[:, 3:4] - bounds[:, 1:2])).ravel()
    owner = np.repeat(np.arange(len(geoms)), len(fx))
    inside = shapely.contains_xy(geoms[owner], lx, ly) if samples > 1 else np.zeros(len(lx), dtype=bool)
    missed = np.setdiff1d(np.arange(len(geoms)), owner[inside])
    centres = _centroids(cells)[missed]
    points = np.vstack([np.column_stack([lx[inside], ly[inside]]), centres])
    owner = np.concatenate([owner[inside], missed])
    xy, direction, fov, rng = camera_parameters(cameras, spec)
    obstacles = np.asarray(buildings.geometry.values) if buildings is not None and len(buildings) else None
    if obstacles is not None and len(xy):
        on_it = shapely.STRtree(obstacles).query(shapely.points(xy), predicate="dwithin", distance=0.5)[1]
        obstacles = np.delete(obstacles, np.unique(on_it))
    pi, _ = _geom.visible_pairs(points, xy, direction, fov, rng, buildings=obstacles)
    seen = np.zeros(len(points), dtype=bool)
    seen[pi] = True
    n = len(geoms)
    total = np.bincount(owner, minlength=n)
    hits = np.bincount(owner, weights=seen, minlength=n)
    return np.divide(hits, total, out=np.zeros(n), where=total > 0)


def risk_features(
    cells: gpd.GeoDataFrame,
    layers: Mapping[str, gpd.GeoDataFrame | Surface],
    *,
    distances_m: Sequence[float] = (100, 200, 400),
    operationalisations: Sequence[str] = OPERATIONALISATIONS,
    registry: Mapping[str, LayerSpec] | None = None,
    occlusion: bool = True,
    view_samples: int = 3,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Candidate risk factors for every cell.

    Parameters
    ----------
    cells : GeoDataFrame of polygons (projected CRS, metres)
        Grid cells. Existing ``street_lights__lit_share`` / ``cameras__covered_share`` columns are
        reused; otherwise they are computed with :mod:`planner.exposure`.
    layers : mapping of str to GeoDataFrame or Surface
        Layer kind → data in the cells' CRS; only kinds whose spec has ``risk_candidate`` are used.
    distances_m : sequence of float
        Distances (metres) for proximity and density.
    operationalisations : sequence of {"proximity", "density"}
    registry : mapping, optional
        Layer specs (default :func:`planner.layers.load_registry`).
    occlusion : bool
        Cut camera views by the ``buildings`` layer (when given).
    view_samples : int
        Camera coverage is the share of a ``view_samples`` × ``view_samples`` lattice of points in
        each cell that a camera sees (1 = the cell centre only).

    Returns
    -------
    X : DataFrame
        Indexed like ``cells``; one column per candidate, named ``<factor>|<operationalisation>|<d>``.
    meta : DataFrame
        One row per column of ``X``: ``factor``, ``operationalisation``, ``distance_m``, ``unit``,
        ``role``, ``deficit``, ``addressed_by``.
    """
    from planner import exposure

    registry = registry if registry is not None else load_registry()
    require_projected(cells, what="cells passed to risk terrain")
    centres = _centroids(cells)
    cols: dict[str, np.ndarray] = {}
    meta: dict[str, dict[str, Any]] = {}

    def add(
        name: str, op: str, d: float, values: np.ndarray, *, unit: str, spec: LayerSpec, deficit: bool
    ) -> None:
        key = f"{name}|{op}|{d:g}"
        cols[key] = np.asarray(values, dtype=float)
        meta[key] = _meta(name, op, d, unit, spec, deficit=deficit)

    def point_factors(name: str, xy: np.ndarray, spec: LayerSpec, deficit: bool) -> None:
        if len(xy) == 0:
            return
        tree = cKDTree(xy)
        for d in distances_m:
            if "proximity" in operationalisations:
                dist, _ = tree.query(centres, k=1, distance_upper_bound=d)
                add(
                    name,
                    "proximity",
                    d,
                    np.isfinite(dist),
                    unit=f"within {d:g} m (1/0)",
                    spec=spec,
                    deficit=deficit,
                )
            if "density" in operationalisations:
                n = tree.query_ball_point(centres, r=d, return_length=True)
                add(name, "density", d, n, unit=f"per feature within {d:g} m", spec=spec, deficit=deficit)

    coverage_needed = {
        k: v
        for k, v in layers.items()
        if k in registry and registry[k].acts_as == "coverage" and registry[k].geometry_type == "point"
    }
    exp_cols = pd.DataFrame(index=cells.index)
    if coverage_needed and "streets" in layers:
        missing = [k for k in coverage_needed if f"{k}__lit_share" not in cells]
        if missing:
            sub = {k: layers[k] for k in [*missing, "streets"] if k in layers}
            exp_cols = exposure.exposure_for_polygons(cells, sub, registry=registry)
    source = cells.drop(columns=[c for c in exp_cols.columns if c in cells.columns]).join(exp_cols)
    found = layers.get("buildings") if occlusion else None
    buildings = found if isinstance(found, gpd.GeoDataFrame) else None
    street_dist = None
    on_street_m = 25.0
    streets = layers.get("streets")
    if isinstance(streets, gpd.GeoDataFrame) and len(streets):
        pts = shapely.points(centres)
        (_, _), street_dist = shapely.STRtree(np.asarray(streets.geometry.values)).query_nearest(
            pts, return_distance=True, all_matches=False
        )
        half_diag = np.sqrt(float(np.median(cells.geometry.area))) / np.sqrt(2.0)
        on_street_m = max(25.0, half_diag)

    for name, layer in layers.items():
        spec = registry.get(name)
        if spec is None or not spec.risk_candidate:
            continue
        if isinstance(layer, Surface):
            mean, _ = exposure.zonal_stats(layer, np.asarray(cells.geometry.values))
            unit = f"per {LUX_STEP:g} {spec.units}" if spec.units else "per unit"
            scale = LUX_STEP if spec.units == "lux" else 1.0
            add(name, "zonal", 0.0, mean / scale, unit=unit, spec=spec, deficit=spec.deficit)
            continue
        if spec.geometry_type == "polygon":
            feats = np.asarray(layer.geometry.values)
            if len(feats) == 0:
                continue
            tree = shapely.STRtree(feats)
            pts = shapely.points(centres)
            cell_geoms = np.asarray(cells.geometry.values)
            ci, fi = tree.query(cell_geoms, predicate="intersects")
            share = np.zeros(len(cells))
            if len(ci):
                # share of each cell's area inside the layer's polygons (a car park, a vacant lot)
                parts = shapely.area(shapely.intersection(cell_geoms[ci], feats[fi]))
                summed = np.bincount(ci, weights=parts, minlength=len(cells)).astype(float)
                share = np.clip(summed / np.maximum(shapely.area(cell_geoms), 1e-9), 0.0, 1.0)
            add(
                name,
                "area_share",
                0.0,
                share,
                unit="share of the cell inside",
                spec=spec,
                deficit=spec.deficit,
            )
            for d in distances_m:
                ci, _ = tree.query(pts, predicate="dwithin", distance=d)
                near = np.zeros(len(cells))
                near[ci] = 1.0
                add(name, "proximity", d, near, unit=f"within {d:g} m (1/0)", spec=spec, deficit=spec.deficit)
            continue
        if spec.geometry_type != "point":
            continue
        xy = _geom.point_coords(np.asarray(layer.geometry.values))
        if spec.acts_as == "coverage" and spec.fields.status:
            working = exposure.lamp_status(layer, spec)
            col = f"{name}__lit_share"
            if col in source:
                add(
                    name,
                    "coverage",
                    spec.radius_m,
                    source[col].to_numpy(float),
                    unit="share of street length lit",
                    spec=spec,
                    deficit=False,
                )
            point_factors(f"{name}_broken", xy[~working], spec, True)
            if street_dist is not None:
                # Dark street: the cell centre is on a street and no working lamp is within d.
                lamp_d = (
                    cKDTree(xy[working]).query(centres, k=1)[0]
                    if working.any()
                    else np.full(len(centres), np.inf)
                )
                for d in distances_m:
                    dark = (street_dist <= on_street_m) & (lamp_d > d)
                    add(
                        name,
                        "unlit_street",
                        d,
                        dark,
                        unit=f"street with no working lamp within {d:g} m (1/0)",
                        spec=spec,
                        deficit=True,
                    )
            continue
        if spec.acts_as == "viewshed":
            share = _cells_in_view(cells, layer, spec, buildings=buildings, samples=view_samples)
            add(name, "coverage", 0.0, share, unit="share of cell area in view", spec=spec, deficit=False)
            continue
        point_factors(name, xy, spec, spec.deficit)
        kind_col = spec.fields.kind
        if kind_col and kind_col in layer.columns:
            # Each kind (alley entrance, gate, ...) is also a candidate of its own: they act differently.
            kinds = layer[kind_col].astype("string").str.strip().str.lower()
            for kind in sorted(k for k in kinds.dropna().unique() if k):
                mask = (kinds == kind).fillna(False).to_numpy(bool)
                if 0 < mask.sum() < len(mask):
                    point_factors(f"{name}[{kind}]", xy[mask], spec, spec.deficit)

    X = pd.DataFrame(cols, index=cells.index)
    meta_df = pd.DataFrame.from_dict(meta, orient="index")
    return X, meta_df


def _enet_poisson_path(
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
    coordinate descent on the p × p weighted Gram matrix (the glmnet scheme; each sweep costs
    O(p²), independent of the number of cells). Used only for screening.
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
            gram = (Zw.T @ (Z - xbar)) / sw
            corr = (Zw.T @ (z - zbar)) / sw
            lam = float(alpha) * n / sw
            lam1, lam2 = lam * l1_ratio, lam * (1 - l1_ratio)
            new_beta = beta.copy()
            diag = np.diag(gram)
            for _sweep in range(1000):
                biggest = 0.0
                for j in range(p):
                    if diag[j] <= 0:
                        continue
                    rho = corr[j] - gram[j] @ new_beta + diag[j] * new_beta[j]
                    value = np.sign(rho) * max(abs(rho) - lam1, 0.0) / (diag[j] + lam2)
                    biggest = max(biggest, abs(value - new_beta[j]))
                    new_beta[j] = value
                if biggest < tol * 1e-2:
                    break
            new_b0 = zbar - float(xbar @ new_beta)
            change = max(abs(new_b0 - b0), float(np.max(np.abs(new_beta - beta), initial=0.0)))
            b0, beta = new_b0, new_beta
            if change < tol:
                break
        out.append((b0, beta.copy()))
    return out


def _irls_loglik(
    y: np.ndarray, X: np.ndarray, offset: np.ndarray, family: str, nb_alpha: float, *, max_iter: int = 100
) -> tuple[float, np.ndarray | None]:
    """Maximised log-likelihood and fitted means of a log-link Poisson or NB2 (fixed alpha) GLM.

    Plain IRLS with a Cholesky solve of the p × p normal equations and step halving — the same
    estimates as statsmodels' GLM (checked in the tests) at a fraction of the cost, for the many
    fits of the stepwise search. Returns ``(-inf, None)`` when the design is singular.
    """
    from scipy.linalg import LinAlgError as ScipyLinAlgError
    from scipy.linalg import cho_factor, cho_solve
    from scipy.special import gammaln

    nb = family == "negative_binomial"
    a = float(nb_alpha)

    def loglik(mu: np.ndarray) -> float:
        if nb:
            r = 1.0 / a
            return float(
                np.sum(
                    gammaln(y + r)
                    - gammaln(r)
                    - gammaln(y + 1)
                    - r * np.log1p(a * mu)
                    + y * np.log(a * mu / (1 + a * mu))
                )
            )
        return float(np.sum(y * np.log(mu) - mu - gammaln(y + 1)))

    beta = np.zeros(X.shape[1])
    beta[0] = float(np.log(max(y.sum(), 0.5) / np.exp(offset).sum()))
    eta = X @ beta + offset
    mu = np.exp(eta)
    llf = loglik(mu)
    for _ in range(max_iter):
        w = mu / (1 + a * mu) if nb else mu
        z = eta - offset + (y - mu) / mu
        xtw = X.T * w
        try:
            new = cho_solve(cho_factor(xtw @ X), xtw @ z)
        except (ScipyLinAlgError, np.linalg.LinAlgError, ValueError):
            return -np.inf, None
        step = new - beta
        for _half in range(30):
            cand = beta + step
            eta_c = np.clip(X @ cand + offset, -50, 50)
            mu_c = np.exp(eta_c)
            llf_c = loglik(mu_c)
            if np.isfinite(llf_c) and llf_c >= llf - 1e-10 * abs(llf):
                break
            step = step / 2
        else:
            return -np.inf, None
        done = abs(llf_c - llf) <= 1e-10 * max(abs(llf), 1.0)
        beta, eta, mu, llf = cand, eta_c, mu_c, llf_c
        if done:
            break
    return llf, mu


def _spatial_blocks(xy: np.ndarray, side_m: float) -> np.ndarray:
    """Integer label of the square block (``side_m`` metres) holding each point."""
    ij = np.floor((xy - xy.min(axis=0)) / side_m).astype(np.int64)
    return ij[:, 0] * (int(ij[:, 1].max()) + 1) + ij[:, 1]


def _independent_columns(M: np.ndarray, candidates: np.ndarray, *, offset: int) -> np.ndarray:
    """The candidates (column ``offset + i`` of ``M``) that are not linear combinations of the
    first ``offset`` columns and of earlier kept candidates (identical operationalisations at two
    distances, a layer duplicating another)."""
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
        in metres, so spatially correlated residuals (unmeasured local variation) do not make them
        overconfident; ``None`` gives the model-based (independent cells) intervals.
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
        operationalisations: tuple[str, ...] = ("proximity", "density"),
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

    # ------------------------------------------------------------------ helpers
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

    def _features(
        self, cells: gpd.GeoDataFrame, layers: Mapping[str, Any]
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        return risk_features(
            cells,
            layers,
            distances_m=tuple(float(d) for d in self.distances_m),
            operationalisations=self.operationalisations,
            occlusion=self.occlusion,
            view_samples=int(self.view_samples),
        )

    def _screen(self, Z: np.ndarray, y: np.ndarray, offset: np.ndarray) -> tuple[np.ndarray, float]:
        """Indices of candidates with a non-zero elastic-net coefficient, and the alpha used."""
        n = Z.shape[0]
        rate = y.sum() / np.exp(offset).sum()
        mu0 = np.exp(offset) * rate
        alpha_max = float(np.max(np.abs(Z.T @ (y - mu0))) / n / self.l1_ratio)
        if self.alpha is not None:
            alpha = float(self.alpha)
        else:
            grid = alpha_max * np.logspace(-0.3, -3, 8)
            rng = np.random.default_rng(self.random_state)
            folds = rng.permutation(n) % int(self.cv)
            deviance = np.zeros(len(grid))
            for k in range(int(self.cv)):
                train, test = folds != k, folds == k
                path = _enet_poisson_path(Z[train], y[train], offset[train], grid, self.l1_ratio)
                for j, (b0, beta) in enumerate(path):
                    mu = np.exp(b0 + Z[test] @ beta + offset[test])
                    yt = y[test]
                    with np.errstate(divide="ignore", invalid="ignore"):
                        term = np.where(yt > 0, yt * np.log(yt / mu), 0.0)
                    deviance[j] += 2 * np.sum(term - (yt - mu))
            alpha = float(grid[int(np.argmin(deviance))])
        _, beta = _enet_poisson_path(Z, y, offset, np.array([alpha]), self.l1_ratio)[-1]
        return np.flatnonzero(np.abs(beta) > 1e-8), alpha

    @staticmethod
    def _glm(y: np.ndarray, X: np.ndarray, offset: np.ndarray, family: str, nb_alpha: float) -> Any:
        import statsmodels.api as sm

        fam = sm.families.Poisson() if family == "poisson" else sm.families.NegativeBinomial(alpha=nb_alpha)
        return sm.GLM(y, sm.add_constant(X, has_constant="add"), family=fam, offset=offset).fit()

    def _stepwise(
        self,
        *,
        y: np.ndarray,
        X: np.ndarray,
        groups: list[str],
        offset: np.ndarray,
        family: str,
        nb_alpha: float,
        base: np.ndarray,
    ) -> tuple[list[int], float]:
        """Bidirectional stepwise search by BIC; at most one candidate per group (layer).

        Forward moves are ranked by the score (Rao) statistic of each candidate at the current fit
        — one matrix product for all of them — and only the best few are refitted to compare BIC;
        removals are all refitted. This finds the same path as refitting every move whenever the
        score ranking agrees with the likelihood-ratio ranking at the top, at a fraction of the cost.
        """
        n = len(y)
        extra = 1 if family == "negative_binomial" else 0
        limit = self.max_factors if self.max_factors is not None else X.shape[1]
        cache: dict[tuple[int, ...], tuple[float, np.ndarray | None]] = {}
        refit_top = 3

        def fit(chosen: tuple[int, ...]) -> tuple[float, np.ndarray | None]:
            if chosen not in cache:
                design = np.column_stack([np.ones(n), base, X[:, list(chosen)]])
                llf, mu = _irls_loglik(y, design, offset, family, nb_alpha)
                n_par = design.shape[1] + extra
                cache[chosen] = (
                    (float(-2 * llf + n_par * np.log(n)), mu) if mu is not None else (np.inf, None)
                )
            return cache[chosen]

        def score_order(current: tuple[int, ...], mu: np.ndarray, free: list[int]) -> list[int]:
            var = mu + (nb_alpha * mu**2 if family == "negative_binomial" else 0.0)
            w = mu**2 / var
            D = np.column_stack([np.ones(n), base, X[:, list(current)]])
            C = X[:, free]
            u = C.T @ ((y - mu) * mu / var)
            info_dd = D.T @ (D * w[:, None])
            info_dc = D.T @ (C * w[:, None])
            info_cc = np.einsum("ij,ij,i->j", C, C, w)
            eff = info_cc - np.einsum("ij,ij->j", info_dc, np.linalg.pinv(info_dd) @ info_dc)
            stat = np.where(eff > 1e-12, u**2 / np.maximum(eff, 1e-12), 0.0)
            return [free[i] for i in np.argsort(-stat, kind="stable")]

        current: tuple[int, ...] = ()
        best, mu = fit(current)
        while True:
            used = {groups[i] for i in current}
            free = [j for j in range(X.shape[1]) if groups[j] not in used]
            moves: list[tuple[int, ...]] = []
            if free and len(current) < limit and mu is not None:
                moves += [tuple(sorted((*current, j))) for j in score_order(current, mu, free)[:refit_top]]
            moves += [tuple(i for i in current if i != j) for j in current]
            if not moves:
                break
            scores = [fit(m)[0] for m in moves]
            k = int(np.argmin(scores))
            if scores[k] >= best - 1e-9:
                break
            current = moves[k]
            best, mu = fit(current)
        return list(current), float(best)

    # ------------------------------------------------------------------ API
    def fit(
        self,
        cells: gpd.GeoDataFrame,
        layers: Mapping[str, Any],
        y: str = "n_incidents",
        *,
        features: tuple[pd.DataFrame, pd.DataFrame] | None = None,
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
            The output of :func:`risk_features` for these cells and layers with this model's
            distances, to fit several crime types on one grid without measuring it again.

        Returns
        -------
        self
        """
        import statsmodels.api as sm

        self._check_params()
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
        area = cells["area_m2"].to_numpy(float) if "area_m2" in cells else cells.geometry.area.to_numpy()
        keep = area > 0
        offset = np.log(np.where(keep, area, 1.0))

        missing_cov = [c for c in self.covariates if c not in cells.columns]
        if missing_cov:
            raise ValidationError(f"The covariates {missing_cov} are not columns of the cells.")
        cov_all = cells[list(self.covariates)].apply(pd.to_numeric, errors="coerce").to_numpy(float)
        if np.isnan(cov_all).any():
            raise ValidationError(
                f"The covariates {list(self.covariates)} have missing or non-numeric values."
            )
        X, meta = features if features is not None else self._features(cells, layers)
        if len(X) != len(cells):
            raise ValidationError(f"features has {len(X)} rows but there are {len(cells)} cells.")
        self.fill_values_ = X.mean().fillna(0.0)
        X = X.fillna(self.fill_values_)
        self.candidates_ = meta
        spread = X.std().to_numpy()
        usable = np.flatnonzero(spread > 0)
        names = [str(X.columns[int(i)]) for i in usable]
        self.n_cells_ = int(keep.sum())
        empty = pd.DataFrame(columns=FACTOR_COLUMNS)
        if not names:
            logger.warning("risk terrain: no usable candidate factors among the layers %s", sorted(layers))
            self.factors_, self.family_, self.alpha_, self.screened_ = empty, "poisson", float("nan"), []
            self.coef_ = pd.Series(dtype=float)
            self.bic_ = float(
                -2 * self._glm(counts[keep], np.zeros((keep.sum(), 0)), offset[keep], "poisson", 1.0).llf
                + np.log(keep.sum())
            )
            return self
        raw = X[names].to_numpy(float)[keep]
        yk, ok = counts[keep], offset[keep]
        cov = cov_all[keep]
        k_cov = cov.shape[1]
        Z = (raw - raw.mean(axis=0)) / raw.std(axis=0)
        # Covariates are never penalised: screen against the offset plus their fitted effect.
        screen_offset = ok
        if k_cov:
            base_fit = self._glm(yk, cov, ok, "poisson", 1.0)
            screen_offset = ok + np.asarray(base_fit.params)[1:] @ cov.T
        screened, self.alpha_ = self._screen(Z, yk, screen_offset)
        self.screened_ = [names[i] for i in screened]
        logger.info(
            "risk terrain: %d of %d candidates pass the screen (alpha=%.3g)",
            len(screened),
            len(names),
            self.alpha_,
        )
        screened = _independent_columns(np.hstack([cov, Z]), screened, offset=k_cov)
        cand = raw[:, screened]
        groups = [str(meta.loc[names[i], "factor"]) for i in screened]

        # NB2 dispersion by moments from the Poisson fit with every screened candidate.
        pois_full = self._glm(yk, np.hstack([cov, cand]), ok, "poisson", 1.0)
        mu = pois_full.fittedvalues
        nb_alpha = float(max(np.sum((yk - mu) ** 2 - yk) / np.sum(mu**2), 1e-6))
        families = ["poisson", "negative_binomial"] if self.family == "auto" else [self.family]
        results = {
            f: self._stepwise(y=yk, X=cand, groups=groups, offset=ok, family=f, nb_alpha=nb_alpha, base=cov)
            for f in families
        }

        robust: dict[str, Any] = {}
        if self.cluster_m is not None:
            blocks = _spatial_blocks(_centroids(cells)[keep], float(self.cluster_m))
            if len(np.unique(blocks)) >= 20:
                robust = {"cov_type": "cluster", "cov_kwds": {"groups": blocks}}
            else:
                logger.warning(
                    "risk terrain: only %d spatial blocks of %g m; intervals are model-based, not cluster-robust",
                    len(np.unique(blocks)),
                    self.cluster_m,
                )
        self.interval_method_ = (
            f"cluster-robust over {self.cluster_m:g} m blocks" if robust else "model-based (Wald)"
        )
        choice: dict[str, tuple[list[int], float, Any]] = {}
        for fam, (chosen, _) in results.items():
            Xc = sm.add_constant(np.hstack([cov, cand[:, chosen]]), has_constant="add")
            if fam == "poisson":
                res = sm.GLM(yk, Xc, family=sm.families.Poisson(), offset=ok).fit(**robust)
                bic_value = -2 * res.llf + Xc.shape[1] * np.log(len(yk))
            else:
                try:
                    res = sm.NegativeBinomial(yk, Xc, offset=ok, loglike_method="nb2").fit(
                        disp=0, maxiter=200, **robust
                    )
                    ok_fit = bool(np.all(np.isfinite(np.asarray(res.bse))))
                except (ValueError, np.linalg.LinAlgError):
                    ok_fit = False
                if not ok_fit:  # fall back to the GLM with the moment estimate of the dispersion
                    logger.info("risk terrain: NB2 maximum likelihood failed; using the moment dispersion")
                    Xg = np.hstack([cov, cand[:, chosen]])
                    fam_nb = sm.families.NegativeBinomial(alpha=nb_alpha)
                    Xg = sm.add_constant(Xg, has_constant="add")
                    res = sm.GLM(yk, Xg, family=fam_nb, offset=ok).fit(**robust)
                bic_value = -2 * res.llf + (Xc.shape[1] + 1) * np.log(len(yk))
            choice[fam] = (chosen, float(bic_value), res)
        self.family_ = min(choice, key=lambda f: choice[f][1])
        chosen, self.bic_, res = choice[self.family_]
        self.bics_ = {f: v[1] for f, v in choice.items()}
        first, last = 1 + k_cov, 1 + k_cov + len(chosen)
        all_params = np.asarray(res.params)
        self.covariate_coefs_ = pd.Series(all_params[1:first], index=list(self.covariates), dtype=float)
        params = np.r_[all_params[0], all_params[first:last]]
        ci = np.vstack([np.asarray(res.conf_int())[:1], np.asarray(res.conf_int())[first:last]])
        pvals = np.r_[np.asarray(res.pvalues)[0], np.asarray(res.pvalues)[first:last]]
        cols = [names[int(screened[i])] for i in chosen]
        table = meta.loc[cols].copy()
        table["coef"] = params[1:]
        table["rrv"] = np.exp(params[1:])
        table["rrv_low"] = np.exp(ci[1:, 0])
        table["rrv_high"] = np.exp(ci[1:, 1])
        table["p_value"] = pvals[1:]
        table = table.sort_values("rrv", ascending=False).reset_index(drop=True)
        self.factors_ = table[FACTOR_COLUMNS]
        self.coef_ = pd.Series(params[1:], index=cols)
        self.intercept_ = float(params[0])
        logger.info("risk terrain: %s, BIC %.1f, factors %s", self.family_, self.bic_, list(cols))
        return self

    def predict(self, cells: gpd.GeoDataFrame, layers: Mapping[str, Any]) -> np.ndarray:
        """Relative risk score per cell: ``Π RRV_k^{x_k}`` scaled so the lowest cell is 1."""
        check_is_fitted(self, "factors_")
        if len(self.coef_) == 0:
            return np.ones(len(cells))
        X, _ = self._features(cells, layers)
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

        Parameters
        ----------
        cells : GeoDataFrame of polygons (projected CRS, metres)
        layers : mapping, optional
            Needed unless ``scores`` (one RRS per cell) is given.
        cell_size_m : float, optional
            Pixel size in metres; default ``cells.attrs["params"]["cell_size_m"]`` else the square
            root of the median cell area.
        """
        from affine import Affine
        from pyproj import CRS
        from rasterio import features

        check_is_fitted(self, "factors_")
        crs = require_projected(cells, what="cells")
        if scores is None:
            if layers is None:
                raise ConfigError("RiskTerrain.to_surface needs the layers or scores= (one value per cell).")
            scores = self.predict(cells, layers)
        size = cell_size_m or (cells.attrs.get("params") or {}).get("cell_size_m")
        size = float(size or np.sqrt(np.median(cells.geometry.area)))
        minx, miny, maxx, maxy = cells.total_bounds
        cols_n = max(int(np.ceil((maxx - minx) / size)), 1)
        rows_n = max(int(np.ceil((maxy - miny) / size)), 1)
        transform = Affine(size, 0, minx, 0, -size, miny + rows_n * size)
        arr = features.rasterize(
            zip(np.asarray(cells.geometry.values), np.asarray(scores, dtype=float), strict=True),
            out_shape=(rows_n, cols_n),
            transform=transform,
            fill=np.nan,
            dtype="float64",
        )
        return Surface(
            array=arr,
            transform=transform,
            crs=CRS.from_user_input(crs),
            name="risk_rrs",
            units="relative risk score (lowest cell = 1)",
            params={"family": self.family_, "factors": ";".join(self.coef_.index)},
        )


__all__ = ["RiskTerrain", "risk_features"]
