"""Choose the set of measures a plan proposes: under a budget, or, without one, the best that pays back.

With a budget (:func:`choose_portfolio`): the exact optimum with ``scipy.optimize.milp`` (HiGHS), a
binary decision per recommendation row; maximise expected net benefit (or crimes prevented) subject
to: total cost ≤ budget; at most one variant of a measure per hotspot (``variant_group``);
optionally surveillance spend ≤ a share of the budget and at least ``k`` measures per ward.

Without a budget (:func:`paying_portfolio`, every plan's default): one measure per hotspot, the
situational measure with the highest expected net benefit among those that pay back (expected net
benefit > 0, the ranking's own "pays back" tier). The measures offered in one hotspot act on that
hotspot's crimes, so their effects on the same crimes would combine (1 − Π(1 − effect)), never add,
and no source gives their joint effect; a second measure in the same hotspot is therefore not added.
Hotspots do not share crimes, so the chosen measures of different hotspots add up.
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
#: The rule of the portfolio every plan carries without a budget (recorded in the manifest).
PAYING_RULE = (
    "No budget given: one measure per hotspot, the situational measure with the highest expected net "
    "benefit among those that pay back (expected net benefit > 0: expected benefit above cost, present "
    "values); policing comparators are left out. Measures in one hotspot act on the same crimes, whose "
    "reductions combine (1 - product of (1 - effect)) rather than add, and no source gives their joint "
    "effect, so no second measure is added there; hotspots share no crimes, so their measures add up. "
    "Give a budget for the exact optimum under it."
)


def budget_rule(
    budget: float,
    *,
    objective: str = "net_benefit",
    max_surveillance_share: float | None = None,
    min_per_ward: Mapping[str, int] | int | None = None,
) -> str:
    """The plain-language rule of :func:`choose_portfolio` with these options (for the manifest)."""
    what = "expected net benefit" if objective == "net_benefit" else "expected crimes prevented per year"
    text = (
        f"Budget {budget:,.0f}: the exact optimum (integer programme) that maximises the total {what} of the "
        "chosen measures, with total cost within the budget and at most one variant of a measure per hotspot"
    )
    if max_surveillance_share is not None:
        text += f", surveillance at most {max_surveillance_share:.0%} of the budget"
    if min_per_ward is not None:
        text += ", and a minimum number of measures in every ward"
    return text + "."


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
    rule = budget_rule(
        budget, objective=objective, max_surveillance_share=max_surveillance_share, min_per_ward=min_per_ward
    )
    if len(recs) == 0:
        return _result(recs, np.zeros(0, bool), budget, objective, rule=rule)
    value = recs[OBJECTIVES[objective]].to_numpy(float)
    cost = recs["cost"].to_numpy(float)
    # a measure whose reached crimes have no unit cost has no net benefit: it cannot be chosen on one
    if not np.isfinite(cost).any():
        raise InsufficientDataError(
            "These recommendations carry no costs (no jurisdiction applies to the study area, so nothing was "
            "costed); a budget portfolio needs them. Name the jurisdiction, e.g. --jurisdiction UK."
        )
    valued = np.isfinite(cost) & np.isfinite(value)
    value, cost = np.where(valued, value, 0.0), np.where(valued, cost, 0.0)
    a, lo, hi = _constraints(
        recs,
        cost,
        budget,
        max_surveillance_share=max_surveillance_share,
        min_per_ward=min_per_ward,
        ward_col=ward_col,
    )
    upper = ((value > 0) if min_per_ward is None else valued).astype(float)
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
    return _result(recs, res.x > 0.5, budget, objective, rule=rule)


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


def paying_portfolio(recommendations: pd.DataFrame) -> pd.DataFrame:
    """The portfolio without a budget: per hotspot, the measure with the highest expected net benefit
    among the situational measures that pay back (see :data:`PAYING_RULE`).

    Parameters
    ----------
    recommendations : DataFrame
        Output of :func:`planner.interventions.recommend.recommend` (``hotspot_id``, ``net_benefit``,
        ``rank``, ``kind``, ``cost``, ``prevented_per_year``).

    Returns
    -------
    DataFrame
        The chosen rows (at most one per hotspot; same columns, plus ``chosen``), ordered by hotspot;
        ``attrs`` holds ``rule`` (:data:`PAYING_RULE`), ``budget`` (None) and the totals.

    Raises
    ------
    InsufficientDataError
        When the recommendations carry no costs (nothing was costed, so nothing can pay back).
    """
    recs = recommendations.reset_index(drop=True)
    if len(recs) == 0:
        return _result(recs, np.zeros(0, bool), None, "net_benefit", rule=PAYING_RULE)
    net = pd.to_numeric(recs["net_benefit"], errors="coerce")
    # NaN net benefit with a cost: the measure's crimes have no unit cost; it cannot be said to pay back
    if not np.isfinite(pd.to_numeric(recs["cost"], errors="coerce").to_numpy(float)).any():
        raise InsufficientDataError(
            "These recommendations carry no costs (no jurisdiction applies to the study area), so no measure "
            "can be said to pay back. Name the jurisdiction, e.g. --jurisdiction UK."
        )
    pays = net.gt(0)
    if "kind" in recs.columns:
        pays &= recs["kind"].ne("comparator")
    best = (
        recs.loc[pays]
        .assign(_net=net[pays])
        .sort_values(["hotspot_id", "_net", "rank"], ascending=[True, False, True], kind="stable")
        .drop_duplicates("hotspot_id")
    )
    return _result(recs, recs.index.isin(best.index), None, "net_benefit", rule=PAYING_RULE)


def _result(
    recs: pd.DataFrame, chosen: np.ndarray, budget: float | None, objective: str, *, rule: str
) -> pd.DataFrame:
    out = recs.loc[chosen].copy()
    out["chosen"] = True
    out.attrs.update(
        rule=rule,
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
