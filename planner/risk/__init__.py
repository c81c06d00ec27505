"""Risk terrain: which environmental features go with crime, and by how much.

Modules: ``features`` (candidate factors measured at lattice points and per cell), ``glm`` (the
count models' solvers: elastic-net screen, IRLS, stepwise BIC, one-step cross-validation),
``select`` (prescreen, stepwise search, distances by blocked cross-validation), ``intensity`` (the
point-intensity count model), ``design`` (the arrays of a fit), ``report`` (the factor table, the
coarse-size refit and the verdict), ``terrain`` (the :class:`RiskTerrain` estimator) and ``fine``
(the pipeline's own fine grid, one model per crime type, projected onto other cells).
"""

from planner.risk.features import point_features, risk_features
from planner.risk.fine import fit_fine_terrain
from planner.risk.terrain import FACTOR_COLUMNS, RiskTerrain

__all__ = ["FACTOR_COLUMNS", "RiskTerrain", "fit_fine_terrain", "point_features", "risk_features"]
