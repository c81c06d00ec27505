"""Portfolio: the MILP optimum equals brute force on small random instances and respects constraints;
without a budget, the measure with the highest expected net benefit that pays back in each hotspot."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from planner.errors import ConfigError, InsufficientDataError
from planner.interventions.portfolio import PAYING_RULE, budget_curve, choose_portfolio, paying_portfolio


def _instance(rng, n=8):
    return pd.DataFrame(
        {
            "hotspot_id": rng.choice(["H01", "H02", "H03"], n),
            "variant_group": rng.choice(["lighting", "cctv", "dwelling_security"], n),
            "intervention_id": [f"m{i}" for i in range(n)],
            "rank": np.arange(1, n + 1),
            "cost": rng.uniform(1, 100, n).round(2),
            "net_benefit": rng.normal(50, 60, n).round(2),
            "prevented_per_year": rng.uniform(0, 5, n).round(3),
            "surveillance": rng.random(n) < 0.3,
        }
    )


def _brute(recs, budget, cap=None):
    best, best_set = 0.0, ()
    for k in range(len(recs) + 1):
        for combo in itertools.combinations(range(len(recs)), k):
            sub = recs.iloc[list(combo)]
            if sub["cost"].sum() > budget + 1e-9 or sub.duplicated(["hotspot_id", "variant_group"]).any():
                continue
            if cap is not None and sub.loc[sub["surveillance"], "cost"].sum() > cap * budget + 1e-9:
                continue
            value = sub["net_benefit"].sum()
            if value > best + 1e-9:
                best, best_set = value, combo
    return best, best_set


@pytest.mark.parametrize("seed", range(12))
def test_milp_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    recs = _instance(rng)
    budget = float(rng.uniform(50, 250))
    cap = 0.3 if seed % 2 else None
    p = choose_portfolio(recs, budget=budget, max_surveillance_share=cap)
    best, _ = _brute(recs, budget, cap)
    assert p.attrs["total_value"] == pytest.approx(best, abs=1e-6)
    assert p["cost"].sum() <= budget + 1e-6
    assert not p.duplicated(["hotspot_id", "variant_group"]).any()
    if cap is not None:
        assert p.loc[p["surveillance"], "cost"].sum() <= cap * budget + 1e-6


def test_zero_budget_and_curve():
    recs = _instance(np.random.default_rng(1))
    assert len(choose_portfolio(recs, budget=0)) == 0
    curve = budget_curve(recs)
    assert len(curve) == 10 and curve["value"].is_monotonic_increasing


def test_ward_minimum_needs_column():
    with pytest.raises(ConfigError, match="ward_id"):
        choose_portfolio(_instance(np.random.default_rng(2)), budget=100, min_per_ward=1)


def _hand_worked() -> pd.DataFrame:
    """Three hotspots worked by hand.

    H01: lighting nets 100, CCTV 150 (a different variant group), dwelling security 120, and a policing
    comparator 500 → CCTV (150): the best paying situational measure; the others act on the same
    crimes, so they are not added. H02: nothing pays back (-10, 0) → no measure. H03: two measures net
    30 each → the better ranked one (rank 1).
    """
    return pd.DataFrame(
        {
            "hotspot_id": ["H01", "H01", "H01", "H01", "H02", "H02", "H03", "H03"],
            "intervention_id": ["lighting", "cctv", "locks", "patrol", "lighting", "locks", "a", "b"],
            "variant_group": ["lighting", "cctv", "dwelling", "patrol", "lighting", "dwelling", "x", "y"],
            "kind": ["situational"] * 3 + ["comparator"] + ["situational"] * 4,
            "rank": [1, 3, 2, 4, 1, 2, 2, 1],
            "cost": [50.0, 300.0, 20.0, 1000.0, 40.0, 10.0, 5.0, 6.0],
            "net_benefit": [100.0, 150.0, 120.0, 500.0, -10.0, 0.0, 30.0, 30.0],
            "prevented_per_year": [1.0, 2.0, 1.5, 4.0, 0.1, 0.2, 0.5, 0.6],
            "surveillance": [False, True, False, False, False, False, False, False],
        }
    )


def test_without_a_budget_each_hotspot_gets_its_best_paying_measure():
    p = paying_portfolio(_hand_worked())
    assert list(zip(p["hotspot_id"], p["intervention_id"], strict=True)) == [("H01", "cctv"), ("H03", "b")]
    assert (p["net_benefit"] > 0).all() and p["chosen"].all()
    assert p.attrs["budget"] is None and p.attrs["rule"] == PAYING_RULE
    assert p.attrs["total_value"] == pytest.approx(180.0)
    assert p.attrs["total_cost"] == pytest.approx(306.0)
    assert p.attrs["total_prevented_per_year"] == pytest.approx(2.6)
    assert "pay back" in PAYING_RULE and "one measure per hotspot" in PAYING_RULE


@pytest.mark.parametrize("seed", range(6))
def test_unbudgeted_portfolio_is_the_best_single_paying_measure_by_brute_force(seed):
    recs = _instance(np.random.default_rng(seed), n=10).assign(kind="situational")
    p = paying_portfolio(recs)
    assert not p.duplicated("hotspot_id").any() and (p["net_benefit"] > 0).all()
    best = 0.0  # brute force: every choice of at most one measure per hotspot
    options = [[None, *g.index] for _, g in recs.groupby("hotspot_id")]
    for combo in itertools.product(*options):
        best = max(best, sum(recs.loc[i, "net_benefit"] for i in combo if i is not None))
    assert p.attrs["total_value"] == pytest.approx(best, abs=1e-9)


def test_unbudgeted_portfolio_needs_costs_and_takes_an_empty_table():
    with pytest.raises(InsufficientDataError, match="no costs"):  # no jurisdiction: no cost, no benefit
        paying_portfolio(_hand_worked().assign(net_benefit=np.nan, cost=np.nan))
    # a cost but no valued benefit (the crimes reached have no unit cost): nothing pays back, no error
    assert len(paying_portfolio(_hand_worked().assign(net_benefit=np.nan))) == 0
    assert len(choose_portfolio(_hand_worked().assign(net_benefit=np.nan), budget=100.0)) == 0
    empty = paying_portfolio(_hand_worked().iloc[:0])
    assert len(empty) == 0 and empty.attrs["rule"] == PAYING_RULE


def test_budget_portfolio_states_its_rule():
    p = choose_portfolio(_hand_worked(), budget=100.0, max_surveillance_share=0.3)
    assert p.attrs["rule"].startswith("Budget 100:") and "30% of the budget" in p.attrs["rule"]
    assert "one variant of a measure per hotspot" in p.attrs["rule"]
