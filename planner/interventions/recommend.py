"""Rank situational interventions per hotspot by evidence, cost and uncertainty.

For each hotspot and catalogue entry: is it applicable (the entry's exposure conditions), how much
is needed (its quantity rule), what it costs (present value over its life), how many crimes it
would prevent per year (baseline of evidenced crimes × effect, net of displacement/diffusion drawn
from Guerette & Bowers 2009), what that is worth (unit costs of crime), and a seeded Monte Carlo
interval for crimes prevented and the benefit-cost ratio. The guidelines' limits are applied:
measures with negative evidence are never listed; measures restricting public access need an
explicit opt-in; cameras carry a privacy note and do not outrank a non-surveillance measure of
similar value unless the user allows it. ``recommend`` is a pure function of the hotspots'
columns, so a what-if edit re-ranks by calling it again.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner._hours import night_flags
from planner.hotspots.polygons import period_years_of
from planner.interventions.catalog import Catalogue, Condition, Intervention, QuantityRule, load_catalogue
from planner.interventions.costs import PRICE_INDEX_NOTE, convert, crime_cost

logger = logging.getLogger(__name__)

GB_SOURCE = (
    "Guerette, R. T. & Bowers, K. J. (2009). Assessing the extent of crime displacement and diffusion of benefits: "
    "a review of situational crime prevention evaluations. Criminology 47(4):1331-1368."
)
SIMILAR_VALUE = 0.8  # a camera may not outrank a non-surveillance measure worth ≥ 80% as much


@dataclass(frozen=True)
class DisplacementPrior:
    """Displacement/diffusion allowance (Guerette & Bowers 2009: displacement in 26%, diffusion in 27%
    of observations; where displacement occurs it is smaller than the direct effect)."""

    p_displacement: float = 0.26
    p_diffusion: float = 0.27
    max_displaced_share: float = 0.5
    max_diffused_share: float = 0.5
    source: str = GB_SOURCE


def _hotspot_counts(hotspots: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame) -> pd.DataFrame:
    """Incidents per hotspot with category, location type and night flag (one row per incident)."""
    pts = incidents[
        ["category", "geometry", *[c for c in ("location_type",) if c in incidents.columns]]
    ].copy()
    pts["night"] = night_flags(incidents["occurred_at"], incidents.attrs.get("time_resolution")).to_numpy()
    joined = gpd.sjoin(pts, hotspots[["hotspot_id", "geometry"]], predicate="within", how="inner")
    return pd.DataFrame(joined.drop(columns=["geometry", "index_right"]))


def _condition(row: pd.Series, cond: Condition, location_share: dict[str, float] | None) -> bool | None:
    """True/False, or None when the data needed is absent."""
    if cond.location is not None:
        if location_share is None:
            return None
        return location_share.get(cond.location, 0.0) >= float(cond.min_share or 0.0)
    if cond.column not in row.index or pd.isna(row[cond.column]):
        return None
    value, target = float(row[cond.column]), float(cond.value or 0.0)
    return {
        "<": value < target,
        "<=": value <= target,
        ">": value > target,
        ">=": value >= target,
        "==": value == target,
        "!=": value != target,
    }[cond.op or "=="]


def _quantity(row: pd.Series, rules: tuple[QuantityRule, ...], baseline: float) -> tuple[float, str] | None:
    for rule in rules:
        if rule.fixed is not None:
            return float(rule.fixed), rule.describe()
        if rule.baseline_times is not None:
            return float(max(math.ceil(baseline * rule.baseline_times), 1)), rule.describe()
        if rule.column in row.index and pd.notna(row[rule.column]):
            x = float(row[rule.column])
            q = math.ceil(x / rule.per) if rule.per else math.ceil(x * (rule.times or 1.0))
            if rule.plus_column and rule.plus_column in row.index and pd.notna(row[rule.plus_column]):
                q += int(row[rule.plus_column])
            if q > 0:
                return float(q), rule.describe()
    return None


def _annuity(years: int, rate: float) -> float:
    return float(years) if rate == 0 else (1 - (1 + rate) ** -years) / rate


def _triangular(rng: np.random.Generator, low: float, mode: float, high: float, n: int) -> np.ndarray:
    if high - low < 1e-12:
        return np.full(n, mode)
    return rng.triangular(low, min(max(mode, low), high), high, n)


def recommend(
    hotspots: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    *,
    catalogue: Catalogue | None = None,
    currency: str = "GBP",
    price_year: int = 2025,
    discount_rate: float = 0.035,
    displacement: DisplacementPrior | None = None,
    allow_surveillance_priority: bool = False,
    allow_access_restriction: bool = False,
    n_draws: int = 2000,
    random_state: int = 0,
) -> gpd.GeoDataFrame:
    """Ranked candidate measures for every hotspot.

    Parameters
    ----------
    hotspots : GeoDataFrame
        Hotspot polygons (projected CRS) with ``hotspot_id``, ``area_m2``, ``night_share`` and
        exposure columns ``<layer>__<metric>`` (missing columns make conditions "unknown", never fail).
    incidents : GeoDataFrame
        Incidents in the same CRS with ``occurred_at``, ``category`` (and ``location_type`` if known).
    currency, price_year : str, int
        Money units of every cost and benefit (conversion factors are labelled assumptions).
    discount_rate : float
        Yearly discount rate for present values over each measure's life.
    displacement : DisplacementPrior
        Allowance for displacement and diffusion of benefits.
    allow_surveillance_priority : bool
        Let cameras rank above non-surveillance measures of similar value.
    allow_access_restriction : bool
        Include measures that restrict public access (alley gating), with a consultation note.
    n_draws, random_state : int
        Monte Carlo draws and seed (results are identical for the same seed).

    Returns
    -------
    GeoDataFrame
        One row per (hotspot, measure) with ``rank`` within the hotspot, quantities, costs,
        crimes prevented (mean and 90% interval), benefit-cost ratio (interval),
        ``p_benefit_exceeds_cost``, sources, privacy and access notes and plain-language ``reasons``.
    """
    catalogue = catalogue if catalogue is not None else load_catalogue()
    prior = displacement or DisplacementPrior()
    rng = np.random.default_rng(random_state)
    years = period_years_of(incidents)
    per_incident = _hotspot_counts(hotspots, incidents)
    has_loc = "location_type" in per_incident.columns
    rows: list[dict[str, Any]] = []
    for _, hs in hotspots.sort_values("hotspot_id").iterrows():  # few hotspots × few measures: not a hot path
        hid = hs["hotspot_id"]
        inc = per_incident[per_incident["hotspot_id"] == hid]
        loc_share = (
            inc["location_type"].value_counts(normalize=True).to_dict() if has_loc and len(inc) else None
        )
        known_night = pd.Series(inc["night"], dtype="boolean").dropna()
        # unknown hour of day (day/month data): no night-specific effect is claimed
        night_share = float(known_night.mean()) if len(known_night) else 0.0
        for item in catalogue.values():
            if item.never_recommend:
                continue
            if item.restricts_public_access and not allow_access_restriction:
                continue
            row = _evaluate(
                item,
                hs,
                inc,
                loc_share=loc_share,
                night_share=night_share,
                years=years,
                currency=currency,
                price_year=price_year,
                rate=discount_rate,
                prior=prior,
                rng=rng,
                n=n_draws,
                has_loc=has_loc,
            )
            if row is not None:
                row["hotspot_id"] = hid
                rows.append(row)
    columns = ["hotspot_id", "intervention_id", "rank"]
    if not rows:
        return gpd.GeoDataFrame(columns=[*columns, "geometry"], geometry="geometry", crs=hotspots.crs)
    table = pd.DataFrame(rows)
    table = _rank(table, allow_surveillance_priority=allow_surveillance_priority)
    geoms = hotspots.set_index("hotspot_id").geometry
    out = gpd.GeoDataFrame(table, geometry=geoms.loc[table["hotspot_id"]].to_numpy(), crs=hotspots.crs)
    out.attrs["assumptions"] = {
        "currency": currency,
        "price_year": price_year,
        "discount_rate": discount_rate,
        "n_draws": n_draws,
        "random_state": random_state,
        "price_note": PRICE_INDEX_NOTE,
        "displacement_prior": prior.source,
        "years_of_data": years,
    }
    return out


def _evaluate(
    item: Intervention,
    hs: pd.Series,
    inc: pd.DataFrame,
    *,
    loc_share: dict[str, float] | None,
    night_share: float,
    years: float,
    currency: str,
    price_year: int,
    rate: float,
    prior: DisplacementPrior,
    rng: np.random.Generator,
    n: int,
    has_loc: bool,
) -> dict[str, Any] | None:
    results = [_condition(hs, c, loc_share) for c in item.any_of]
    known = [r for r in results if r is not None]
    if known and not any(known):
        return None
    blockers = [
        c.describe()
        for c, r in zip(item.unless, [_condition(hs, c, loc_share) for c in item.unless], strict=True)
        if r
    ]
    if blockers:
        return None
    met = [c.describe() for c, r in zip(item.any_of, results, strict=True) if r]
    evid = inc[inc["category"].isin(item.crime_types)]
    if item.setting_filter and has_loc:
        evid = evid[evid["location_type"].isin(item.settings)]
    n_evid = len(evid)
    if n_evid == 0:
        return None
    baseline = n_evid / years
    q = _quantity(hs, item.quantity, baseline)
    if q is None:
        return None
    quantity, q_rule = q
    eff = item.effect
    if eff.night_point is not None:
        mix = lambda a, b: (1 - night_share) * a + night_share * (b if b is not None else a)  # noqa: E731
        e_point, e_low, e_high = (
            mix(eff.point, eff.night_point),
            mix(eff.low, eff.night_low),
            mix(eff.high, eff.night_high),
        )
    else:
        e_point, e_low, e_high = eff.point, eff.low, eff.high
    # Monte Carlo: effect, baseline rate (Poisson-gamma), displacement/diffusion, cost multiplier
    effect = _triangular(rng, e_low, e_point, e_high, n)
    rate_draw = rng.gamma(n_evid + 0.5, 1.0 / years, n)
    u = rng.random(n)
    shift = np.where(
        u < prior.p_displacement,
        -rng.uniform(0, prior.max_displaced_share, n),
        np.where(
            u < prior.p_displacement + prior.p_diffusion, rng.uniform(0, prior.max_diffused_share, n), 0.0
        ),
    )
    scope_share = item.scope.share(hs) if item.scope is not None else None
    reach = 1.0 if scope_share is None else scope_share
    if reach <= 0:
        return None  # nothing of the deficit this measure fills is left here
    prevented = rate_draw * effect * reach * (1 + shift)
    # value per prevented crime: mix of evidenced categories
    mix_counts = evid["category"].value_counts()
    costs = {c: crime_cost(c, currency=currency, price_year=price_year) for c in mix_counts.index}
    amounts = {c: (v.amount if v is not None else 0.0) for c, v in costs.items()}
    value_per_crime = sum(amounts[c] * k for c, k in mix_counts.items()) / n_evid
    unverified_costs = sorted(c for c, v in costs.items() if v is not None and not v.verified)
    cost = item.cost
    capital = convert(
        cost.capital_per_unit * quantity,
        currency=cost.currency,
        price_year=cost.price_year,
        to_currency=currency,
        to_year=price_year,
    )
    yearly = convert(
        cost.yearly_per_unit * quantity,
        currency=cost.currency,
        price_year=cost.price_year,
        to_currency=currency,
        to_year=price_year,
    )
    annuity = _annuity(cost.lifetime_years, rate)
    cost_mult = _triangular(rng, 1 - cost.uncertainty, 1.0, 1 + cost.uncertainty, n)
    pv_cost = (capital + yearly * annuity) * cost_mult
    pv_benefit = prevented * value_per_crime * annuity
    bcr = pv_benefit / np.maximum(pv_cost, 1e-9)
    npv = pv_benefit - pv_cost
    point_cost = capital + yearly * annuity
    reasons = _reasons(
        item,
        met,
        n_evid=n_evid,
        years=years,
        night_share=night_share,
        effect=e_point,
        quantity=quantity,
        q_rule=q_rule,
        unverified_costs=unverified_costs,
        known=known,
        scope_share=scope_share,
    )
    return {
        "intervention_id": item.id,
        "name": item.name,
        "technique": item.technique,
        "variant_group": item.variant_group,
        "surveillance": item.surveillance,
        "quantity": quantity,
        "unit": item.unit,
        "capital_cost": round(capital, 2),
        "yearly_cost": round(yearly, 2),
        "lifetime_years": cost.lifetime_years,
        "cost": round(point_cost, 2),
        "currency": currency,
        "baseline_per_year": round(baseline, 3),
        "effect": round(e_point, 4),
        "effect_low": round(e_low, 4),
        "effect_high": round(e_high, 4),
        "scope_share": round(reach, 4),
        "prevented_per_year": round(float(prevented.mean()), 3),
        "prevented_low": round(float(np.quantile(prevented, 0.05)), 3),
        "prevented_high": round(float(np.quantile(prevented, 0.95)), 3),
        "benefit": round(float(pv_benefit.mean()), 2),
        "net_benefit": round(float(npv.mean()), 2),
        "bcr": round(float(np.median(bcr)), 3),
        "bcr_low": round(float(np.quantile(bcr, 0.05)), 3),
        "bcr_high": round(float(np.quantile(bcr, 0.95)), 3),
        "p_benefit_exceeds_cost": round(float((npv > 0).mean()), 3),
        "evidence_strength": item.evidence_strength,
        "effect_verified": item.effect.verified,
        "source": item.sources[0] if item.sources else "",
        "sources": json.dumps(list(item.sources)),
        "cost_source": ("assumption: " if cost.assumption else "") + cost.source,
        "privacy_impact": item.privacy_impact,
        "privacy_note": item.privacy_note
        if item.surveillance or item.privacy_impact in {"medium", "high"}
        else "",
        "restricts_public_access": item.restricts_public_access,
        "access_note": item.access_note if item.restricts_public_access else "",
        "applicability": "met" if met else "unknown (check on site)",
        "reasons": reasons,
    }


def _reasons(
    item: Intervention,
    met: list[str],
    *,
    n_evid: int,
    years: float,
    night_share: float,
    effect: float,
    quantity: float,
    q_rule: str,
    unverified_costs: list[str],
    known: list[bool],
    scope_share: float | None = None,
) -> str:
    parts = []
    if met:
        parts.append("Why here: " + "; ".join(met) + ".")
    elif not known:
        parts.append("Why here: the layers needed to test this measure are missing — check on site.")
    parts.append(
        f"Crime it addresses: {n_evid} evidenced incidents in {years:.1f} years ({n_evid / years:.1f} per year), "
        f"{night_share:.0%} at night."
    )
    parts.append(
        f"Evidence: {item.evidence_strength}; expected reduction {effect:.0%} ({item.effect.basis})."
    )
    if item.scope is not None:
        if scope_share is None:
            parts.append(
                f"Reach: {item.scope.column} was not measured here, so the effect is applied to the whole "
                "hotspot — an upper bound."
            )
        else:
            parts.append(
                f"Reach: the effect is applied to {scope_share:.0%} of these crimes ({item.scope.note or item.scope.column})."
            )
    if not item.effect.verified:
        parts.append(
            "Caveat: the effect interval rests on figures not re-checked in the original source; it is widened."
        )
    parts.append(f"Quantity: {quantity:g} {item.unit}(s) ({q_rule}). {item.quantity_note}".strip())
    if unverified_costs:
        parts.append(f"Unit costs of {', '.join(unverified_costs)} are not re-verified in the source.")
    if item.surveillance:
        parts.append(f"Privacy: {item.privacy_note}")
    if item.restricts_public_access:
        parts.append(f"Public access: {item.access_note}")
    return " ".join(parts)


def _rank(table: pd.DataFrame, *, allow_surveillance_priority: bool) -> pd.DataFrame:
    """Rank within each hotspot by expected net benefit; cameras yield to similar non-surveillance value."""
    ranked = []
    for _, group in table.groupby("hotspot_id", sort=True):
        g = group.sort_values(["net_benefit", "intervention_id"], ascending=[False, True]).reset_index(
            drop=True
        )
        if not allow_surveillance_priority:
            order = list(range(len(g)))
            for i in range(len(g)):
                if not g.loc[i, "surveillance"] or g.loc[i, "net_benefit"] <= 0:
                    continue
                rivals = [
                    j
                    for j in range(len(g))
                    if not g.loc[j, "surveillance"]
                    and g.loc[j, "net_benefit"] >= SIMILAR_VALUE * g.loc[i, "net_benefit"]
                    and order.index(j) > order.index(i)
                ]
                if rivals:
                    order.remove(i)
                    order.insert(max(order.index(j) for j in rivals) + 1, i)
            g = g.loc[order].reset_index(drop=True)
        g["rank"] = np.arange(1, len(g) + 1)
        ranked.append(g)
    return pd.concat(ranked, ignore_index=True)
