"""Portfolio: the MILP optimum equals brute force on small random instances and respects constraints."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from planner.errors import ConfigError
from planner.interventions.portfolio import budget_curve, choose_portfolio


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
