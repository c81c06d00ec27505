"""Risk terrain: which environmental features go with crime, and by how much.

Modules: ``features`` (candidate factors per cell, measured from the layers), ``glm`` (the count
models' solvers: elastic-net screen, IRLS, stepwise BIC) and ``terrain`` (the :class:`RiskTerrain`
estimator: screen → select → final fit; relative-risk score and surface).
"""

from planner.risk.features import risk_features
from planner.risk.terrain import FACTOR_COLUMNS, RiskTerrain

__all__ = ["FACTOR_COLUMNS", "RiskTerrain", "risk_features"]
