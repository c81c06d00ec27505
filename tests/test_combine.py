"""Measures in one place combine on the crimes they share, never add (#23): hand-worked cases and a
property test of the budget portfolio against the combined-effect bound.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.interventions.combine import allocated_prevented, combined_bound, in_combination
from planner.interventions.portfolio import choose_portfolio

POOL = "burglary|dwelling|night"


def _row(ident, hotspot, pools, *, cost=10.0, net=None, group=None, components=()):
    prevented = sum(rate * share * effect for rate, share, effect in pools.values())
    benefit = 100.0 * prevented  # 100 a crime prevented
    return {
        "hotspot_id": hotspot,
        "intervention_id": ident,
        "variant_group": group or ident,
        "rank": 1,
        "cost": cost,
        "benefit": benefit,
        "net_benefit": benefit - cost if net is None else net,
        "prevented_per_year": prevented,
        "surveillance": False,
        "pools": json.dumps(pools),
        "components": json.dumps(list(components)),
    }


def test_two_measures_on_one_pool_prevent_4_4_not_5():
    # 10 burglaries a year, e = 0.3 and 0.2 on all of them: 10 × (1 − 0.7 × 0.8) = 4.4, not 3 + 2
    rows = pd.DataFrame([_row("a", "H1", {POOL: [10, 1, 0.3]}), _row("b", "H1", {POOL: [10, 1, 0.2]})])
    alloc = allocated_prevented(rows)
    assert alloc.sum() == pytest.approx(4.4)
    assert alloc == pytest.approx([4.4 * 0.3 / 0.5, 4.4 * 0.2 / 0.5])  # credited as 3 : 2
    both = in_combination(rows)
    # benefits scale with the share each keeps: 2.64/3 and 1.76/2 → (264 − 10) + (176 − 10)
    assert both["net_benefit_in_portfolio"].sum() == pytest.approx(420.0)
    assert combined_bound(rows) == pytest.approx(4.4)


def test_partial_reach_and_separate_pools():
    # a reaches half of pool P (10 a year) at 0.4; b all of P at 0.2 and all of Q (4 a year) at 0.5:
    # P: 10 × (1 − 0.8 × 0.8) = 3.6; Q: 4 × 0.5 = 2 → 5.6 (the sum would be 2 + 2 + 2 = 6)
    q = "theft_from_vehicle|car_park|night"
    rows = pd.DataFrame(
        [_row("a", "H1", {POOL: [10, 0.5, 0.4]}), _row("b", "H1", {POOL: [10, 1, 0.2], q: [4, 1, 0.5]})]
    )
    assert allocated_prevented(rows).sum() == pytest.approx(5.6)
    assert combined_bound(rows) == pytest.approx(10 * (1 - 0.6 * 0.8) + 2)


def test_a_bundle_component_adds_nothing_where_the_bundle_acts():
    # car-park CCTV's 51% already contains access control: only the bundle counts on the car-park pool
    q = "theft_from_vehicle|car_park|night"
    rows = pd.DataFrame(
        [
            _row("cctv_carpark", "H1", {q: [8, 1, 0.51]}, components=("carpark_access_control",)),
            _row("carpark_access_control", "H1", {q: [8, 1, 0.15]}),
        ]
    )
    assert allocated_prevented(rows) == pytest.approx([8 * 0.51, 0.0])


def test_budget_portfolio_values_overlapping_measures_combined():
    # both cost 10; alone a nets 300 − 10, b 200 − 10; together 440 − 20 = 420, not 470
    rows = pd.DataFrame([_row("a", "H1", {POOL: [10, 1, 0.3]}), _row("b", "H1", {POOL: [10, 1, 0.2]})])
    p = choose_portfolio(rows, budget=100)
    assert len(p) == 2
    assert p.attrs["total_value"] == pytest.approx(420.0)
    assert p.attrs["total_prevented_per_year"] == pytest.approx(4.4)
    # a third measure that only repeats a bundle's component is not worth its cost
    rows = pd.DataFrame(
        [
            _row("cctv", "H1", {POOL: [10, 1, 0.5]}, components=("gate",)),
            _row("gate", "H1", {POOL: [10, 1, 0.2]}),
        ]
    )
    assert list(choose_portfolio(rows, budget=100)["intervention_id"]) == ["cctv"]


@st.composite
def _instances(draw):
    keys = [f"c{i}|place|night" for i in range(3)]
    rows = []
    for h in range(draw(st.integers(1, 3))):
        for m in range(draw(st.integers(1, 5))):
            chosen = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=3, unique=True))
            pools = {
                k: [
                    float(10 * (1 + keys.index(k))),  # the pool's rate is a property of the place
                    draw(st.floats(0.05, 1.0)),
                    draw(st.floats(0.0, 0.7)),
                ]
                for k in chosen
            }
            rows.append(_row(f"m{m}", f"H{h}", pools, cost=draw(st.floats(1.0, 50.0))))
    return pd.DataFrame(rows), draw(st.floats(0.0, 200.0))


@settings(max_examples=60, deadline=None)
@given(_instances())
def test_portfolio_never_exceeds_the_combined_effect_bound(instance):
    recs, budget = instance
    p = choose_portfolio(recs, budget=budget)
    assert p["cost"].sum() <= budget + 1e-6
    for _, g in p.groupby("hotspot_id"):
        prevented = float(g["prevented_in_portfolio"].sum())
        assert prevented <= combined_bound(g) + 1e-3  # rounded to 3 decimals
        assert prevented <= float(g["prevented_per_year"].sum()) + 1e-3  # never more than adding
        reached = {k: v[0] for pools in g["pools"] for k, v in json.loads(pools).items()}
        assert prevented <= sum(reached.values()) + 1e-3  # never more crimes than the pools hold
    assert np.isfinite(p.attrs["total_value"])
