"""Choose the best set of measures under a budget, exactly, with ``scipy.optimize.milp`` (HiGHS).

Binary decision per recommendation row; maximise expected net benefit (or crimes prevented)
subject to: total cost ≤ budget; at most one variant of a measure per hotspot (``variant_group``);
optionally surveillance spend ≤ a share of the budget and at least ``k`` measures per ward.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix

from planner._params import check_choice, check_positive
from planner.errors import ConfigError, InsufficientDataError

OBJECTIVES = {"net_benefit": "net_benefit", "prevented": "prevented_per_year"}


def choose_portfolio(
    recommendations: pd.DataFrame,
    *,
    budget: float,
    objective: str = "net_benefit",
    max_surveillance_share: float | None = None,
    min_per_ward: Mapping[str, int] | int | None = None,
    ward_col: str = "ward_id",
) -> pd.DataFrame:
    """The optimal portfolio (a subset of ``recommendations`` rows) for ``budget``.

    Parameters
    ----------
    recommendations : DataFrame
        Output of :func:`planner.interventions.recommend.recommend` (``cost``, ``net_benefit``,
        ``prevented_per_year``, ``hotspot_id``, ``variant_group``, ``surveillance``).
    budget : float
        Present-value budget in the recommendations' currency.
    objective : {"net_benefit", "prevented"}
        Maximise expected net benefit or expected crimes prevented per year.
    max_surveillance_share : float, optional
        Cap on the share of the budget spent on surveillance measures.
    min_per_ward : int or mapping ward → int, optional
        Minimum number of chosen measures per ward (needs ``ward_col``).

    Returns
    -------
    DataFrame
        The chosen rows (same columns, plus ``chosen``), ordered by hotspot and rank; the budget and
        totals are in ``attrs``.
    """
    check_choice(objective, OBJECTIVES, name="objective", where="interventions.choose_portfolio")
    budget = check_positive(budget, name="budget", where="interventions.choose_portfolio", allow_zero=True)
    recs = recommendations.reset_index(drop=True)
    if len(recs) == 0:
        return _result(recs, np.zeros(0, bool), budget, objective)
    value = recs[OBJECTIVES[objective]].to_numpy(float)
    cost = recs["cost"].to_numpy(float)
    if not (np.isfinite(cost).all() and np.isfinite(value).all()):
        raise InsufficientDataError(
            "These recommendations carry no costs (no jurisdiction applies to the study area, so nothing was "
            "costed); a budget portfolio needs them. Name the jurisdiction, e.g. --jurisdiction UK."
        )
    a, lo, hi = _constraints(
        recs,
        cost,
        budget,
        max_surveillance_share=max_surveillance_share,
        min_per_ward=min_per_ward,
        ward_col=ward_col,
    )
    upper = (value > 0).astype(float) if min_per_ward is None else np.ones(len(recs))
    res = milp(
        c=-value,
        constraints=LinearConstraint(csr_matrix(a), lo, hi),
        integrality=np.ones(len(recs)),
        bounds=Bounds(np.zeros(len(recs)), upper),
    )
    if res.status != 0 or res.x is None:
        raise InsufficientDataError(
            f"No portfolio satisfies the constraints within a budget of {budget:,.0f} ({res.message}). "
            "Raise the budget or relax the ward minimum / surveillance cap."
        )
    return _result(recs, res.x > 0.5, budget, objective)


def _constraints(
    recs: pd.DataFrame,
    cost: np.ndarray,
    budget: float,
    *,
    max_surveillance_share: float | None,
    min_per_ward: Mapping[str, int] | int | None,
    ward_col: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Constraint matrix and bounds: budget, one variant per hotspot, surveillance cap, ward minimum."""
    n = len(recs)
    rows: list[np.ndarray] = [cost]
    lo: list[float] = [-np.inf]
    hi: list[float] = [budget]
    for idx in recs.groupby(["hotspot_id", "variant_group"]).indices.values():
        if len(idx) > 1:
            a = np.zeros(n)
            a[idx] = 1
            rows.append(a)
            lo.append(-np.inf)
            hi.append(1)
    if max_surveillance_share is not None:
        rows.append(np.where(recs["surveillance"].to_numpy(bool), cost, 0.0))
        lo.append(-np.inf)
        hi.append(max_surveillance_share * budget)
    if min_per_ward is not None:
        if ward_col not in recs.columns:
            raise ConfigError(
                f"min_per_ward needs a {ward_col!r} column on the recommendations (the hotspot's ward)."
            )
        wards = recs[ward_col].astype(str)
        targets = (
            {w: int(min_per_ward) for w in wards.unique()}
            if isinstance(min_per_ward, int)
            else dict(min_per_ward)
        )
        for ward, k in targets.items():
            rows.append((wards == str(ward)).to_numpy(float))
            lo.append(k)
            hi.append(np.inf)
    return np.vstack(rows), np.array(lo), np.array(hi)


def _result(recs: pd.DataFrame, chosen: np.ndarray, budget: float, objective: str) -> pd.DataFrame:
    out = recs.loc[chosen].copy()
    out["chosen"] = True
    out.attrs.update(
        budget=budget,
        objective=objective,
        total_cost=float(out["cost"].sum()) if len(out) else 0.0,
        total_value=float(out[OBJECTIVES[objective]].sum()) if len(out) else 0.0,
        total_prevented_per_year=float(out["prevented_per_year"].sum()) if len(out) else 0.0,
    )
    return out.sort_values(["hotspot_id", "rank"]).reset_index(drop=True) if len(out) else out


def budget_curve(
    recommendations: pd.DataFrame,
    *,
    budgets: Sequence[float] | None = None,
    objective: str = "net_benefit",
    **kwargs: Any,
) -> pd.DataFrame:
    """Optimal value at 10 budget levels (default: evenly from 10% to 100% of the cost of every worthwhile measure)."""
    if budgets is None:
        positive = recommendations[recommendations[OBJECTIVES[objective]] > 0]
        top = float(positive["cost"].sum()) or 1.0
        budgets = list(np.linspace(top / 10, top, 10))
    records = []
    for b in budgets:
        p = choose_portfolio(recommendations, budget=float(b), objective=objective, **kwargs)
        records.append(
            {
                "budget": float(b),
                "value": p.attrs["total_value"],
                "cost": p.attrs["total_cost"],
                "prevented_per_year": p.attrs["total_prevented_per_year"],
                "n_measures": len(p),
            }
        )
    return pd.DataFrame(records)
