"""Measures in the same place combine on the crimes they share: ``1 − Π(1 − s_i e_i)``, never a sum.

Each recommendation row carries ``pools`` (JSON, :func:`planner.interventions.valuation.pools_of`):
for every pool of crimes it reaches (``category|place type|time of day``, measured from the data,
the location types and the layers) the pool's crimes a year ``λ``, the share ``s`` of them the
measure reaches and its effect ``e`` on them. For a set of measures in one hotspot the crimes
prevented a year are

    Σ_pools λ · (1 − Π_i (1 − s_i e_i))

and each measure is credited with the part of a pool's reduction in proportion to its own
``s_i e_i``. A bundle (``components``, e.g. car-park CCTV whose published effect came with lighting
and access control) already contains its components: on the pools the bundle reaches, a component
chosen with it adds nothing. Rows without pools (an older table) count on their own.
"""

from __future__ import annotations

import json
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

#: The most measures one hotspot gets in a budget portfolio (the subsets enumerated per hotspot).
MAX_PER_HOTSPOT = 3
#: Candidates per hotspot considered for a budget portfolio (the best by their own value).
MAX_CANDIDATES = 8


def _pools(value: Any) -> dict[str, list[float]]:
    if isinstance(value, str) and value:
        return dict(json.loads(value))
    return {}


def _components(value: Any) -> set[str]:
    if isinstance(value, str) and value:
        return set(json.loads(value))
    return set()


def allocated_prevented(rows: pd.DataFrame) -> np.ndarray:
    """Crimes a year each row prevents when all ``rows`` (one hotspot) are in place together."""
    pools = [_pools(p) for p in rows.get("pools", pd.Series([""] * len(rows)))]
    ids = list(rows["intervention_id"]) if "intervention_id" in rows.columns else [""] * len(rows)
    comps = [_components(c) for c in rows.get("components", pd.Series([""] * len(rows)))]
    own = pd.to_numeric(rows["prevented_per_year"], errors="coerce").fillna(0.0).to_numpy(float)
    out = np.where([not p for p in pools], own, 0.0)
    keys = sorted({k for p in pools for k in p})
    for key in keys:
        present = [i for i, p in enumerate(pools) if key in p]
        # a component adds nothing on the pools of a bundle chosen with it
        bundled = {c for b in present for c in comps[b]}
        acting = [i for i in present if ids[i] not in bundled]
        rate = max(pools[i][key][0] for i in present)
        parts = np.array([min(max(pools[i][key][1], 0.0), 1.0) * pools[i][key][2] for i in acting])
        if not len(parts) or parts.sum() <= 0:
            continue
        joint = rate * (1.0 - np.prod(1.0 - parts))
        for i, part in zip(acting, parts, strict=True):
            out[i] += joint * part / parts.sum()
    return out


def combined_bound(rows: pd.DataFrame) -> float:
    """The most ``rows`` (one hotspot) could prevent together: every measure reaching the whole of
    each pool it touches, ``Σ_pools λ (1 − Π (1 − e_i))``, plus the rows without pools.
    """
    pools = [_pools(p) for p in rows["pools"]]
    own = pd.to_numeric(rows["prevented_per_year"], errors="coerce").fillna(0.0).to_numpy(float)
    total = float(sum(o for o, p in zip(own, pools, strict=True) if not p))
    for key in sorted({k for p in pools for k in p}):
        present = [p[key] for p in pools if key in p]
        effects = np.array([max(v[2], 0.0) for v in present])
        total += max(v[0] for v in present) * float(1.0 - np.prod(1.0 - effects))
    return total


def in_combination(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` (one hotspot's chosen measures) with ``prevented_in_portfolio`` and
    ``net_benefit_in_portfolio``: each measure's benefit scaled by the share of its own crimes
    prevented it keeps when combined with the others.
    """
    out = rows.copy()
    alloc = allocated_prevented(rows)
    own = pd.to_numeric(rows["prevented_per_year"], errors="coerce").fillna(0.0).to_numpy(float)
    standalone = np.array(
        [_standalone(p, o) for p, o in zip(rows.get("pools", [""] * len(rows)), own, strict=True)]
    )
    # the share of its own crimes prevented a measure keeps in company (1 alone), applied to its Monte
    # Carlo means; never above the pools' point-effect joint reduction
    keep = np.minimum(np.divide(alloc, standalone, out=np.ones_like(alloc), where=standalone > 0), 1.0)
    cost = pd.to_numeric(rows["cost"], errors="coerce").to_numpy(float)
    benefit = pd.to_numeric(rows["net_benefit"], errors="coerce").to_numpy(float) + cost
    out["prevented_in_portfolio"] = (
        np.floor(np.minimum(own * keep, alloc) * 1000 + 1e-6) / 1000
    )  # never rounded up
    out["net_benefit_in_portfolio"] = np.round(benefit * keep - cost, 2)
    return out


def _standalone(pools: Any, own: float) -> float:
    p = _pools(pools)
    if not p:
        return own
    return float(sum(v[0] * min(max(v[1], 0.0), 1.0) * v[2] for v in p.values()))


def with_higher_ranked(g: pd.DataFrame) -> pd.DataFrame:
    """One hotspot's ranked table with ``prevented_with_higher_ranked``: the crimes a year this measure
    and the paying situational measures ranked above it (one per ``variant_group``) prevent together,
    combined on the crimes they share; a sentence in ``reasons`` when that is well below their sum.
    """
    out = g.sort_values("rank", kind="stable").copy()
    net = pd.to_numeric(out.get("net_benefit", pd.Series(np.nan, index=out.index)), errors="coerce")
    pays = net.gt(0) & out["kind"].ne("comparator") if "kind" in out else net.gt(0)
    above: list[Any] = []
    combined, notes = [], []
    for label, row in out.iterrows():
        groups = {out.at[i, "variant_group"] for i in above}
        chosen = [i for i in above if out.at[i, "variant_group"] != row["variant_group"]] + [label]
        together = out.loc[chosen]
        joint = (
            float(allocated_prevented(together).sum())
            if len(chosen) > 1
            else float(row["prevented_per_year"])
        )
        plain = float(pd.to_numeric(together["prevented_per_year"], errors="coerce").sum())
        combined.append(round(joint, 3))
        notes.append(
            f" Together with the paying measures ranked above it they prevent about {joint:.1f} crimes a year, "
            f"not the sum {plain:.1f}: they act on the same crimes (1 − Π(1 − effect))."
            if len(chosen) > 1 and joint < 0.95 * plain
            else ""
        )
        if pays.loc[label] and row["variant_group"] not in groups:
            above.append(label)
    out["prevented_with_higher_ranked"] = combined
    if "reasons" in out:
        out["reasons"] = out["reasons"].astype(str) + pd.Series(notes, index=out.index)
    return out


def candidate_sets(g: pd.DataFrame, value_col: str, *, allow_nonpositive: bool) -> list[tuple[int, ...]]:
    """Index tuples (labels of ``g``) of the sets of measures one hotspot may get: up to
    :data:`MAX_PER_HOTSPOT` of its :data:`MAX_CANDIDATES` best, one variant per ``variant_group``.
    """
    value = pd.to_numeric(g[value_col], errors="coerce")
    ok = value.notna() & np.isfinite(pd.to_numeric(g["cost"], errors="coerce"))
    if not allow_nonpositive:
        ok &= value > 0
    cands = value[ok].sort_values(ascending=False, kind="stable").index[:MAX_CANDIDATES]
    groups = g["variant_group"] if "variant_group" in g.columns else pd.Series(g.index, index=g.index)
    out: list[tuple[int, ...]] = []
    for k in range(1, MAX_PER_HOTSPOT + 1):
        for combo in combinations(sorted(cands), k):
            if len({groups[i] for i in combo}) == k:
                out.append(combo)
    return out


def set_value(g: pd.DataFrame, combo: tuple[int, ...], objective: str) -> tuple[float, float]:
    """(combined value, cost) of the measures ``combo`` of one hotspot ``g`` together."""
    rows = in_combination(g.loc[list(combo)])
    cost = float(pd.to_numeric(rows["cost"], errors="coerce").sum())
    if objective == "prevented":
        return float(rows["prevented_in_portfolio"].sum()), cost
    return float(rows["net_benefit_in_portfolio"].sum()), cost


__all__ = [
    "MAX_CANDIDATES",
    "MAX_PER_HOTSPOT",
    "allocated_prevented",
    "candidate_sets",
    "combined_bound",
    "in_combination",
    "set_value",
    "with_higher_ranked",
]
