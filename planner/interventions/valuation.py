"""The appraisal model (:mod:`planner.interventions.appraisal`) applied to one measure in one hotspot:
Monte Carlo draws of the crimes prevented per crime type, their money paired type by type, and the
pools of crimes the measure reaches (for combining measures, :mod:`planner.interventions.combine`).

``run`` is the recommender's run context (options, rng, money units, displacement prior).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from planner.interventions import appraisal as ap
from planner.interventions import baseline as bl
from planner.interventions.catalog import Intervention
from planner.interventions.costs import MixValue, money
from planner.interventions.reach import Reach

#: Columns that need a valued benefit: not shown (NaN, never 0) when no reached crime is costed.
BENEFIT_COLUMNS = (
    "benefit",
    "net_benefit",
    "net_benefit_per_cost",
    "bcr",
    "bcr_low",
    "bcr_high",
    "p_benefit_exceeds_cost",
    "value_per_crime",
)
NO_MONEY = dict.fromkeys(("capital_cost", "yearly_cost", "cost", *BENEFIT_COLUMNS, "costed_share"), np.nan)


def displacement_draws(rng: np.random.Generator, n: int, prior: Any) -> np.ndarray:
    """Multiplier ``1 + shift`` of the prevented crimes: displacement (−), diffusion (+) or neither."""
    u = rng.random(n)
    shift = np.where(
        u < prior.p_displacement,
        -rng.uniform(0, prior.max_displaced_share, n),
        np.where(
            u < prior.p_displacement + prior.p_diffusion, rng.uniform(0, prior.max_diffused_share, n), 0.0
        ),
    )
    return 1.0 + shift


def prevented_draws(
    item: Intervention, reach: Reach, base: bl.Baseline, run: Any, base_u: np.ndarray
) -> dict[str, np.ndarray]:
    """Crimes prevented per year by crime type: baseline (at the place's shared quantiles ``base_u``)
    × reached share × the type's share of the reached crimes × its effect (log-normal, centred on
    the cited point) × (1 + displacement/diffusion).
    """
    rng, n = run.rng, run.options.n_draws
    common = base.draws_at(base_u) * reach.share_draws(rng, n) * displacement_draws(rng, n, run.prior)
    z = rng.standard_normal(n)  # one draw per measure: its effects on its crime types move together
    total = max(int(reach.mix.sum()), 1)
    out: dict[str, np.ndarray] = {}
    for category, count in reach.mix.items():
        point, low, high = item.applied_effect(str(category))
        out[str(category)] = common * (int(count) / total) * ap.effect_draws(point, low, high, z)
    if not out:
        out["all"] = common * ap.effect_draws(*item.applied_effect(), z)
    return out


def total_of(by_type: dict[str, np.ndarray]) -> np.ndarray:
    """Draws of all the crimes prevented (the sum over crime types: they are different crimes)."""
    return np.sum(np.vstack(list(by_type.values())), axis=0)


def effect_years_of(item: Intervention, discount_rate: float) -> float:
    """Discounted effect-years of the measure over its appraisal lifetime (persistence and decay)."""
    spec = item.appraisal
    return ap.effect_years(item.lifetime_years, discount_rate, spec.full_effect_years, spec.half_life_years)


def money_stats(
    item: Intervention, quantity: float, by_type: dict[str, np.ndarray], mv: MixValue | None, run: Any
) -> tuple[dict[str, Any], np.ndarray]:
    """Present-value cost, benefit (each crime type valued at its own avoidable unit cost), net
    benefit and BCR (means and intervals), the plausibility check, and the ranking-score draws.
    """
    assert run.currency is not None and run.price_year is not None
    c = item.cost
    conv_args = {
        "currency": c.currency,
        "price_year": c.price_year,
        "to_currency": run.currency,
        "to_year": run.price_year,
    }
    capital, conv = money(c.capital_per_unit * quantity, **conv_args)
    yearly, _ = money(c.yearly_per_unit * quantity, **conv_args)
    n = run.options.n_draws
    cost_mult = run.rng.triangular(1 - c.uncertainty, 1.0, 1 + c.uncertainty, n) if c.uncertainty > 0 else 1.0
    pv_cost = (capital + yearly * ap.annuity(item.lifetime_years, run.options.discount_rate)) * np.ones(n)
    pv_cost = pv_cost * cost_mult
    years = effect_years_of(item, run.options.discount_rate)
    yearly_benefit = np.zeros(n)
    costed = np.zeros(n)
    for category, prevented in by_type.items():
        value = mv.value_of(category) if mv is not None else float("nan")
        if np.isfinite(value):
            yearly_benefit += prevented * value
            costed += prevented
    pv_benefit = yearly_benefit * years
    npv, bcr = pv_benefit - pv_cost, pv_benefit / np.maximum(pv_cost, 1e-9)
    mean_costed = float(costed.mean())
    stats = {
        "capital_cost": round(capital, 2),
        "yearly_cost": round(yearly, 2),
        "cost": round(capital + yearly * ap.annuity(item.lifetime_years, run.options.discount_rate), 2),
        "benefit": round(float(pv_benefit.mean()), 2),
        "net_benefit": round(float(npv.mean()), 2),
        "net_benefit_per_cost": round(float(npv.mean() / max(pv_cost.mean(), 1e-9)), 4),
        "bcr": round(float(np.median(bcr)), 3),
        "bcr_low": round(float(np.quantile(bcr, 0.05)), 3),
        "bcr_high": round(float(np.quantile(bcr, 0.95)), 3),
        "p_benefit_exceeds_cost": round(float((npv > 0).mean()), 3),
        "value_per_crime": round(float(yearly_benefit.mean() / mean_costed), 2)
        if mean_costed > 0
        else np.nan,
        "cost_conversion": conv,
        "effect_years": round(years, 3),
    }
    score = {
        "net_benefit_per_cost": npv / np.maximum(pv_cost, 1e-9),
        "net_benefit": npv,
        "bcr": bcr,
        "prevented": total_of(by_type),
        "p_benefit_exceeds_cost": (npv > 0).astype(float),
    }[run.options.rank_by]
    return stats, score


def costed_stats(
    item: Intervention, quantity: float, by_type: dict[str, np.ndarray], mv: MixValue, run: Any
) -> tuple[dict[str, Any], np.ndarray]:
    """Money columns with the benefit computed on the costed crimes only, and the score draws.

    Crimes without a unit cost are never valued at zero: the benefit counts only the costed crime
    types, and when no reached crime is costed the benefit columns are left empty (the measure's
    cost is still shown) and the money scores are NaN, so the ranking lists the measure after the
    costed ones.
    """
    stats, score = money_stats(item, quantity, by_type, mv, run)
    if mv.costed_share <= 0:
        stats.update(dict.fromkeys(BENEFIT_COLUMNS, np.nan))
        score = np.full(len(score), np.nan)
    if run.options.rank_by == "prevented":
        score = total_of(by_type)  # the crimes prevented, costed or not
    stats["costed_share"] = round(mv.costed_share, 4)
    stats["uncosted_crimes"] = "; ".join(f"{c} {share:.0%}" for c, share, _ in mv.uncosted)
    flag, text = ap.plausibility(float(stats["bcr"]), item.appraisal.published_return)
    stats["plausibility"] = flag
    stats["plausibility_note"] = text
    return stats, score


def pool_key(frame: pd.DataFrame) -> pd.Series:
    """``category|place type|time of day`` of each incident: the crimes a mechanism can reach."""
    night = frame["night"].map({True: "night", False: "day"}).astype("string").fillna("unknown time")
    location = frame["location"].astype("string").fillna("unknown place")
    return frame["category"].astype("string") + "|" + location + "|" + night


def pools_of(item: Intervention, reach: Reach, base: bl.Baseline, incidents: pd.DataFrame) -> str:
    """JSON ``{pool: [crimes a year in the pool, share of them the measure reaches, effect]}``.

    A pool's yearly rate is its incidents at the measure's baseline rate per evidenced crime; the
    reached share is the measure's reached crimes in the pool over the pool (at most 1).
    """
    if reach.rows is None or not len(reach.rows) or reach.evidenced <= 0:
        return "{}"
    per_crime = base.mean_per_year / reach.evidenced
    all_keys = pool_key(incidents)
    reached_keys = all_keys.loc[reach.rows]
    reached_per_year = base.mean_per_year * reach.share
    out: dict[str, list[float]] = {}
    for key, count in reached_keys.value_counts().items():
        pool_rate = per_crime * int((all_keys == key).sum())
        reached = reached_per_year * int(count) / len(reached_keys)
        effect = item.applied_effect(str(key).split("|", 1)[0])[0]
        share = min(reached / pool_rate, 1.0) if pool_rate > 0 else 0.0
        out[str(key)] = [round(pool_rate, 4), round(share, 4), effect]
    return json.dumps(out, sort_keys=True)


__all__ = [
    "BENEFIT_COLUMNS",
    "NO_MONEY",
    "costed_stats",
    "displacement_draws",
    "effect_years_of",
    "money_stats",
    "pool_key",
    "pools_of",
    "prevented_draws",
    "total_of",
]
