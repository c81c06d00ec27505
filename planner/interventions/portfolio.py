"""Choose the set of measures a plan proposes: under a budget, or, without one, the best that pays back.

With a budget (:func:`choose_portfolio`): the exact optimum with ``scipy.optimize.milp`` (HiGHS) over
candidate *sets* of measures per hotspot (up to :data:`~planner.interventions.combine.MAX_PER_HOTSPOT`
of its best, at most one variant of a measure, ``variant_group``), one set per hotspot; a set's value
combines its measures on the crimes they share, ``1 − Π(1 − s e)`` per pool of crimes, never a sum,
and a bundle's components add nothing where the bundle acts (:mod:`planner.interventions.combine`).
Maximise expected net benefit (or crimes prevented) subject to: total cost ≤ budget; optionally
surveillance spend ≤ a share of the budget and at least ``k`` measures per ward.

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
from planner.interventions import combine

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
        "chosen measures, with total cost within the budget and at most one variant of a measure per hotspot; "
        f"measures in one hotspot combine on the crimes they share (1 - product of (1 - effect)), never add, "
        f"and a bundle's components add nothing where the bundle acts (at most {combine.MAX_PER_HOTSPOT} "
        f"measures per hotspot, from its {combine.MAX_CANDIDATES} best)"
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
    cost = recs["cost"].to_numpy(float)
    # a measure whose reached crimes have no unit cost has no net benefit: it cannot be chosen on one
    if not np.isfinite(cost).any():
        raise InsufficientDataError(
            "These recommendations carry no costs (no jurisdiction applies to the study area, so nothing was "
            "costed); a budget portfolio needs them. Name the jurisdiction, e.g. --jurisdiction UK."
        )
    # pandas deep-copies a frame's attrs (the run's assumptions) on every column access: the set
    # enumeration below reads columns thousands of times, so it works on a view without them
    bare = recs.copy(deep=False)
    bare.attrs = {}
    sets = _hotspot_sets(bare, objective, allow_nonpositive=min_per_ward is not None)
    if not sets:
        return _result(recs, np.zeros(len(recs), bool), budget, objective, rule=rule)
    a, lo, hi = _constraints(
        recs,
        sets,
        budget,
        max_surveillance_share=max_surveillance_share,
        min_per_ward=min_per_ward,
        ward_col=ward_col,
    )
    value = np.array([v for _, v, _ in sets])
    upper = ((value > 0) if min_per_ward is None else np.ones(len(sets), bool)).astype(float)
    res = milp(
        c=-value,
        constraints=LinearConstraint(csr_matrix(a), lo, hi),
        integrality=np.ones(len(sets)),
        bounds=Bounds(np.zeros(len(sets)), upper),
    )
    if res.status != 0 or res.x is None:
        raise InsufficientDataError(
            f"No portfolio satisfies the constraints within a budget of {budget:,.0f} ({res.message}). "
            "Raise the budget or relax the ward minimum / surveillance cap."
        )
    chosen = np.zeros(len(recs), bool)
    for (combo, _, _), x in zip(sets, res.x, strict=True):
        if x > 0.5:
            chosen[list(combo)] = True
    return _result(recs, chosen, budget, objective, rule=rule)


def _hotspot_sets(
    recs: pd.DataFrame, objective: str, *, allow_nonpositive: bool
) -> list[tuple[tuple[int, ...], float, float]]:
    """Every hotspot's candidate sets of measures with their combined value and cost."""
    col = OBJECTIVES[objective]
    out = []
    for _, g in recs.groupby("hotspot_id", sort=True):
        for combo in combine.candidate_sets(g, col, allow_nonpositive=allow_nonpositive):
            value, cost = combine.set_value(g, combo, objective)
            out.append((combo, value, cost))
    return out


def _constraints(
    recs: pd.DataFrame,
    sets: list[tuple[tuple[int, ...], float, float]],
    budget: float,
    *,
    max_surveillance_share: float | None,
    min_per_ward: Mapping[str, int] | int | None,
    ward_col: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Constraint matrix over the candidate sets and bounds: budget, one set per hotspot,
    surveillance cap, ward minimum.
    """
    n = len(sets)
    rows: list[np.ndarray] = [np.array([c for _, _, c in sets])]
    lo: list[float] = [-np.inf]
    hi: list[float] = [budget]
    hotspot = recs["hotspot_id"].to_numpy()
    owners = np.array([hotspot[combo[0]] for combo, _, _ in sets])
    for h in np.unique(owners):
        rows.append((owners == h).astype(float))
        lo.append(-np.inf)
        hi.append(1)
    if max_surveillance_share is not None:
        cost = recs["cost"].to_numpy(float)
        surveil = np.where(recs["surveillance"].to_numpy(bool), np.nan_to_num(cost), 0.0)
        rows.append(np.array([surveil[list(combo)].sum() for combo, _, _ in sets]))
        lo.append(-np.inf)
        hi.append(max_surveillance_share * budget)
    if min_per_ward is not None:
        if ward_col not in recs.columns:
            raise ConfigError(
                f"min_per_ward needs a {ward_col!r} column on the recommendations (the hotspot's ward)."
            )
        wards = recs[ward_col].astype(str).to_numpy()
        targets = (
            {w: int(min_per_ward) for w in np.unique(wards)}
            if isinstance(min_per_ward, int)
            else dict(min_per_ward)
        )
        for ward, k in targets.items():
            rows.append(np.array([float((wards[list(combo)] == str(ward)).sum()) for combo, _, _ in sets]))
            lo.append(k)
            hi.append(np.inf)
    assert all(len(r) == n for r in rows)
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
    kept, out.attrs = out.attrs, {}  # not deep-copied on every column read of the loop below
    if len(out):
        out = pd.concat([combine.in_combination(g) for _, g in out.groupby("hotspot_id", sort=True)])
    else:
        out = out.assign(
            prevented_in_portfolio=pd.Series(dtype=float), net_benefit_in_portfolio=pd.Series(dtype=float)
        )
    out["chosen"] = True
    out.attrs = kept
    net = float(out["net_benefit_in_portfolio"].sum()) if len(out) else 0.0
    prevented = float(out["prevented_in_portfolio"].sum()) if len(out) else 0.0
    out.attrs.update(
        rule=rule,
        budget=budget,
        objective=objective,
        total_cost=float(out["cost"].sum()) if len(out) else 0.0,
        total_value=net if objective == "net_benefit" else prevented,
        total_net_benefit=net,
        total_prevented_per_year=prevented,
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
