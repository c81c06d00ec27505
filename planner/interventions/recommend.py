"""Rank situational interventions per hotspot by evidence, mechanism, cost and uncertainty.

For each hotspot and catalogue entry: is it available where the data are (jurisdiction), is it
applicable (the entry's exposure conditions), which crimes does its mechanism reach (measured from
the data and layers, :mod:`planner.interventions.reach`), what is the baseline those crimes would
have (empirical-Bayes shrinkage for regression to the mean, over-dispersion;
:mod:`planner.interventions.baseline`), how much is needed (its quantity rule), what it costs
(present value, in the jurisdiction's currency), how many crimes it would prevent per year, what
that is worth (the jurisdiction's unit costs of crime) and a seeded Monte Carlo interval over the
reached share, the baseline, the effect, displacement/diffusion (Guerette & Bowers 2009) and cost.

Within each hotspot the measures expected to pay back come first, whatever the rule, ordered by a
stated rule (:data:`RANK_RULES`; by default expected net benefit per unit of money spent); those
not expected to pay back follow, cheapest first (:mod:`planner.interventions.ranking`).
``rank_reason`` says why each one sits where it does, and a hotspot where no situational measure
pays back says so in ``hotspot_note``.
The guidelines' limits hold: measures with negative evidence are never listed; measures restricting
public access need an explicit opt-in; cameras carry a privacy note and do not outrank a
non-surveillance measure of similar value unless the user allows it. ``recommend`` is a pure
function of its inputs, so a what-if edit re-ranks by calling it again.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.errors import ConfigError
from planner.hotspots.polygons import period_years_of
from planner.interventions import baseline as bl
from planner.interventions import combine
from planner.interventions import valuation as val
from planner.interventions.catalog import Catalogue, Condition, Intervention, QuantityRule, load_catalogue
from planner.interventions.costs import (
    RR99_ANTICIPATION_SOURCE,
    MixValue,
    price_note,
    uncosted_share,
    value_of_mix,
)
from planner.interventions.jurisdictions import JurisdictionChoice, choose_jurisdiction
from planner.interventions.ranking import RANK_RULES, rank_group, rank_rule
from planner.interventions.reach import (
    IncidentFlags,
    Reach,
    dwellings_of,
    group_shares,
    groups_text,
    incident_flags,
    measure_reach,
)

logger = logging.getLogger(__name__)

GB_SOURCE = (
    "Guerette, R. T. & Bowers, K. J. (2009). Assessing the extent of crime displacement and diffusion of benefits: "
    "a review of situational crime prevention evaluations. Criminology 47(4):1331-1368."
)


@dataclass(frozen=True)
class DisplacementPrior:
    """Displacement/diffusion allowance (Guerette & Bowers 2009: displacement in 26%, diffusion in 27%
    of observations; where displacement occurs it is smaller than the direct effect).
    """

    p_displacement: float = 0.26
    p_diffusion: float = 0.27
    max_displaced_share: float = 0.5
    max_diffused_share: float = 0.5
    source: str = GB_SOURCE


@dataclass(frozen=True)
class RecommendOptions:
    """Every option of :func:`recommend` (see its docstring)."""

    jurisdiction: str | None = "auto"
    currency: str | None = None
    price_year: int | None = None
    discount_rate: float = 0.035
    displacement: DisplacementPrior | None = None
    allow_surveillance_priority: bool = False
    allow_access_restriction: bool = False
    rank_by: str = "net_benefit_per_cost"
    n_draws: int = 2000
    random_state: int = 0


@dataclass(frozen=True)
class RunContext:
    """What every hotspot's evaluation shares: options, jurisdiction, money units, data facts."""

    options: RecommendOptions
    choice: JurisdictionChoice
    currency: str | None
    price_year: int | None
    years: float
    flags: IncidentFlags
    area: bl.Area
    points: pd.DataFrame
    prior: DisplacementPrior
    rng: np.random.Generator
    refs: dict[tuple[Any, ...], bl.Reference]


@dataclass(frozen=True)
class Assessment:
    """What the evaluation of one measure in one hotspot found (for its reasons text)."""

    met: list[str]
    reach: Reach
    base: bl.Baseline
    quantity: tuple[float, str]
    stats: dict[str, Any]
    value: MixValue | None


@dataclass(frozen=True)
class HotspotContext:
    """One hotspot: its row of exposure columns and its incidents with per-incident flags."""

    hotspot_id: str
    row: pd.Series
    incidents: pd.DataFrame
    location_share: dict[str, float] | None
    base_u: np.ndarray  # the place's baseline quantiles, shared by every measure (common random numbers)


def recommend(
    hotspots: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    *,
    catalogue: Catalogue | None = None,
    layers: dict[str, Any] | None = None,
    cells: gpd.GeoDataFrame | None = None,
    options: RecommendOptions | None = None,
    **option_values: Any,
) -> gpd.GeoDataFrame:
    """Ranked candidate measures for every hotspot.

    Parameters
    ----------
    hotspots : GeoDataFrame
        Hotspot polygons (projected CRS, metres) with ``hotspot_id``, ``area_m2`` and exposure
        columns ``<layer>__<metric>`` (missing columns make conditions "unknown", never fail).
    incidents : GeoDataFrame
        Incidents in the same CRS with ``occurred_at``, ``category`` (and ``location_type`` if known).
    catalogue : dict, optional
        Intervention catalogue (default: the shipped one).
    layers : dict, optional
        Environmental layers by kind (``car_parks``, ``street_lights``, ``lighting`` raster ...), used
        to measure per incident which crimes a mechanism reaches.
    cells : GeoDataFrame, optional
        The study area's grid cells, the reference for the regression-to-the-mean shrinkage.
    options : RecommendOptions, optional
        All options at once; single options may also be given as keywords: ``jurisdiction``
        (``"auto"`` from the location, ``"UK"``, ``"US"``, ``"CA"`` or ``"none"``), ``currency``,
        ``price_year``, ``discount_rate``, ``displacement``, ``allow_surveillance_priority``,
        ``allow_access_restriction``, ``rank_by`` (one of :data:`RANK_RULES`), ``n_draws``,
        ``random_state``.

    Returns
    -------
    GeoDataFrame
        One row per offered (hotspot, measure) with ``rank``, the reached crimes and how they were
        measured, baseline, quantities, costs, crimes prevented (mean and 90% interval),
        benefit-cost ratio (interval), ``p_benefit_exceeds_cost``, ``rank_reason``, ``hotspot_note``
        (empty unless no situational measure in the hotspot pays back), sources, privacy and access
        notes and plain-language ``reasons``. ``attrs["not_offered"]`` lists the measures
        left out and why; ``attrs["assumptions"]`` the money units, sources and rules used.
    """
    opts = _options(options, option_values)
    run = _run_context(hotspots, incidents, layers, cells, opts)
    catalogue = catalogue if catalogue is not None else load_catalogue()
    rows: list[dict[str, Any]] = []
    draws: list[np.ndarray] = []
    not_offered: list[dict[str, str]] = []
    for ctx in _hotspot_contexts(hotspots, run):
        for item in catalogue.values():
            result = _evaluate(item, ctx, run)
            if isinstance(result, str):
                not_offered.append(
                    {"hotspot_id": ctx.hotspot_id, "intervention_id": item.id, "reason": result}
                )
                continue
            row, score_draws = result
            rows.append(row)
            draws.append(score_draws)
    return _finish(hotspots, rows, draws, not_offered, run)


def _options(options: RecommendOptions | None, values: dict[str, Any]) -> RecommendOptions:
    base = options or RecommendOptions()
    names = {f.name for f in dataclasses.fields(RecommendOptions)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(f"recommend() got unknown option(s) {unknown}; valid options are {sorted(names)}.")
    out = dataclasses.replace(base, **values)
    if out.rank_by not in RANK_RULES:
        raise ConfigError(
            f"The 'rank_by' option of recommend must be one of {sorted(RANK_RULES)}; got {out.rank_by!r}. "
            "Use e.g. --rank-by net_benefit."
        )
    return out


def _run_context(
    hotspots: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    layers: dict[str, Any] | None,
    cells: gpd.GeoDataFrame | None,
    opts: RecommendOptions,
) -> RunContext:
    choice = choose_jurisdiction(hotspots if len(hotspots) else incidents, override=opts.jurisdiction)
    j = choice.jurisdiction
    currency = (opts.currency or j.currency) if j is not None else None
    price_year = (opts.price_year or j.price_year) if j is not None else None
    points = pd.DataFrame(
        {
            "x": shapely.get_x(np.asarray(incidents.geometry.values)),
            "y": shapely.get_y(np.asarray(incidents.geometry.values)),
            "category": incidents["category"].astype(str).to_numpy(),
        }
    )
    return RunContext(
        options=opts,
        choice=choice,
        currency=currency,
        price_year=price_year,
        years=period_years_of(incidents),
        flags=incident_flags(hotspots, incidents, layers),
        area=bl.area_from_cells(cells, incidents),
        points=points,
        prior=opts.displacement or DisplacementPrior(),
        rng=np.random.default_rng(opts.random_state),
        refs={},
    )


def _hotspot_contexts(hotspots: gpd.GeoDataFrame, run: RunContext) -> list[HotspotContext]:
    flags, n = run.flags, run.options.n_draws
    by_hotspot = dict(tuple(flags.frame.groupby("hotspot_id", sort=False)))
    out = []
    for _, hs in hotspots.sort_values("hotspot_id").iterrows():  # few hotspots × few measures
        inc = by_hotspot.get(hs["hotspot_id"], flags.frame.iloc[0:0])
        loc = inc["location"].dropna()
        share = loc.value_counts(normalize=True).to_dict() if len(loc) else None
        row = hs.copy()
        row["night_underlit_share"] = _night_underlit_share(inc)
        base_u = np.clip(run.rng.random(n), 1e-12, 1 - 1e-12)
        out.append(HotspotContext(str(hs["hotspot_id"]), row, inc, share, base_u))
    return out


def _night_underlit_share(inc: pd.DataFrame) -> float:
    """Share of the hotspot's night-time crimes in under-lit places (NaN when the data cannot tell):
    lighting applies where crimes happen in the dark, even when the streets around are lit.
    """
    known = inc[inc["night"].notna() & inc["under_lit"].notna()]
    night = known[known["night"].astype(bool)]
    return float(night["under_lit"].astype(bool).mean()) if len(night) else float("nan")


# --------------------------------------------------------------------------- one measure, one hotspot


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


def _gate(item: Intervention, ctx: HotspotContext, run: RunContext) -> str | list[str]:
    """Why the measure is not offered here, or the applicability conditions met (may be empty)."""
    if item.never_recommend:
        return f"never recommended: {item.never_reason}"
    if item.restricts_public_access and not run.options.allow_access_restriction:
        return "restricts public access: needs the explicit opt-in (allow_access_restriction)"
    j = run.choice.jurisdiction
    if j is not None and item.id in j.unavailable:
        return f"not available in {j.name}: {j.unavailable[item.id]}"
    results = [_condition(ctx.row, c, ctx.location_share) for c in item.any_of]
    known = [r for r in results if r is not None]
    if known and not any(known):
        return "its applicability conditions are not met here"
    if any(_condition(ctx.row, c, ctx.location_share) for c in item.unless):
        return "already in place here (" + "; ".join(c.describe() for c in item.unless) + ")"
    return [c.describe() for c, r in zip(item.any_of, results, strict=True) if r]


def _quantity(
    row: pd.Series, rules: tuple[QuantityRule, ...], *, reached_per_year: float, reach: Reach
) -> tuple[float, str] | None:
    for rule in rules:
        if rule.sites_m is not None:
            sites = reach.sites(rule.sites_m)
            if sites:
                return float(sites), rule.describe()
            continue
        if rule.fixed is not None:
            return float(rule.fixed), rule.describe()
        if rule.baseline_times is not None:
            return float(max(math.ceil(reached_per_year * rule.baseline_times), 1)), rule.describe()
        if rule.dwellings_times is not None:
            dwellings, how = dwellings_of(row)
            return float(max(math.ceil(dwellings * rule.dwellings_times), 1)), f"{rule.describe()}; {how}"
        if rule.column in row.index and pd.notna(row[rule.column]):
            x = float(row[rule.column])
            q = math.ceil(x / rule.per) if rule.per else math.ceil(x * (rule.times or 1.0))
            if rule.plus_column and rule.plus_column in row.index and pd.notna(row[rule.plus_column]):
                q += int(row[rule.plus_column])
            if q > 0:
                return float(q), rule.describe()
    return None


def _baseline(item: Intervention, ctx: HotspotContext, reach: Reach, run: RunContext) -> bl.Baseline:
    area_m2 = float(ctx.row.get("area_m2", np.nan))
    if not np.isfinite(area_m2) or area_m2 <= 0:
        area_m2 = float(ctx.row.geometry.area)
    block = bl.block_size_m(area_m2)
    key = (item.crime_types, block)
    if key not in run.refs:
        pts = run.points[run.points["category"].isin(item.crime_types)]
        run.refs[key] = bl.reference_for(
            pts[["x", "y"]].to_numpy(),
            run.area,
            block_m=block,
            years=run.years,
            label="/".join(item.crime_types),
        )
    return bl.eb_baseline(
        reach.evidenced, years=run.years, area_m2=area_m2, ref=run.refs[key], yearly=reach.yearly
    )


def _effect_mix(item: Intervention, reach: Reach) -> dict[tuple[float, float, float], float]:
    """Weights of the (point, low, high) effects over the reached crimes' categories.

    An effect published for part of the reached crimes (``applies_share``, e.g. burglary with entry)
    is multiplied by that share: it is the effect on all the reached crimes.
    """
    total = max(int(reach.mix.sum()), 1)
    out: dict[tuple[float, float, float], float] = {}
    for category, count in reach.mix.items():
        key = item.applied_effect(str(category))
        out[key] = out.get(key, 0.0) + int(count) / total
    return out or {item.applied_effect(): 1.0}


def _evaluate(
    item: Intervention, ctx: HotspotContext, run: RunContext
) -> tuple[dict[str, Any], np.ndarray] | str:
    """One (hotspot, measure) row and its ranking-score draws, or why it is not offered."""
    gate = _gate(item, ctx, run)
    if isinstance(gate, str):
        return gate
    reach = measure_reach(item, ctx.incidents, ctx.row, run.flags)
    if isinstance(reach, str):
        return reach
    base = _baseline(item, ctx, reach, run)
    reached_per_year = base.mean_per_year * reach.share
    q = _quantity(ctx.row, item.quantity, reached_per_year=reached_per_year, reach=reach)
    if q is None:
        return "its quantity cannot be worked out (the columns its quantity rules need are missing)"
    by_type = val.prevented_draws(item, reach, base, run, ctx.base_u)
    prevented = val.total_of(by_type)
    j = run.choice.jurisdiction
    mv = None
    if j is None:
        stats = {**val.NO_MONEY, "cost_conversion": "", "uncosted_crimes": "", "plausibility": ""}
        stats.update(
            plausibility_note="", effect_years=round(val.effect_years_of(item, run.options.discount_rate), 3)
        )
        stats["uncosted_hotspot_share"], score = np.nan, prevented
    else:
        mv = value_of_mix(reach.mix, j, currency=run.currency, price_year=run.price_year)
        stats, score = val.costed_stats(item, q[0], by_type, mv, run)
        stats["uncosted_hotspot_share"] = round(uncosted_share(ctx.incidents["category"], j), 4)
    row = _row(item, ctx, run, reach=reach, base=base, quantity=q, prevented=prevented, stats=stats)
    row["pools"] = val.pools_of(item, reach, base, ctx.incidents)
    row["components"] = json.dumps(list(item.appraisal.components))
    groups = group_shares(reach, run.flags)
    row["groups_reached"] = json.dumps(groups, sort_keys=True)
    row["reasons"] = _reasons(item, Assessment(gate, reach, base, q, stats, mv), run)
    if groups:
        row["reasons"] += " " + groups_text(groups)
    return row, score


def _notes_for(item: Intervention, run: RunContext) -> tuple[str, str]:
    """Privacy and access notes in the jurisdiction's terms (generic ones where none applies)."""
    j = run.choice.jurisdiction
    privacy = (
        j.note(item.privacy_note_key) if j is not None and item.privacy_note_key else ""
    ) or item.privacy_note
    access = (
        j.note(item.access_note_key) if j is not None and item.access_note_key else ""
    ) or item.access_note
    show_privacy = item.surveillance or item.privacy_impact in {"medium", "high"}
    return (privacy if show_privacy else ""), (access if item.restricts_public_access else "")


def _row(
    item: Intervention,
    ctx: HotspotContext,
    run: RunContext,
    *,
    reach: Reach,
    base: bl.Baseline,
    quantity: tuple[float, str],
    prevented: np.ndarray,
    stats: dict[str, Any],
) -> dict[str, Any]:
    privacy_note, access_note = _notes_for(item, run)
    return {
        "hotspot_id": ctx.hotspot_id,
        "intervention_id": item.id,
        "name": item.name,
        "kind": item.kind,
        "technique": item.technique,
        "variant_group": item.variant_group,
        "surveillance": item.surveillance,
        "quantity": quantity[0],
        "unit": item.unit,
        "lifetime_years": item.lifetime_years,
        "currency": run.currency,
        "price_year": run.price_year,
        "jurisdiction": run.choice.code,
        "evidenced_count": reach.evidenced,
        "reached_count": round(reach.reached, 2),
        "scope_share": round(reach.share, 4),
        "reach_method": reach.method,
        "time_of_day": reach.time_of_day,
        "observed_per_year": round(base.observed_per_year, 3),
        "baseline_per_year": round(base.mean_per_year, 3),
        "reached_per_year": round(base.mean_per_year * reach.share, 3),
        "shrinkage_weight": round(base.weight, 4),
        "overdispersion": round(base.overdispersion, 3),
        **_effect_columns(item, reach),
        "prevented_per_year": round(float(prevented.mean()), 3),
        "prevented_low": round(float(np.quantile(prevented, 0.05)), 3),
        "prevented_high": round(float(np.quantile(prevented, 0.95)), 3),
        **stats,
        "evidence_strength": item.evidence_strength,
        "evidence_grade": item.emmie.code() if item.emmie else "",
        "evidence_grade_text": item.emmie.text() if item.emmie else "",
        "applies_share": item.applies_share.point if item.applies_share else 1.0,
        "effect_verified": item.effect.verified,
        "effect_interval_assumption": item.effect.interval_assumption,
        "effect_unmeasured": item.effect.unmeasured,
        "source": item.sources[0] if item.sources else "",
        "sources": json.dumps(list(item.sources)),
        "cost_source": (
            "assumption: " if item.cost.assumption and not item.cost.source.startswith("assumption") else ""
        )
        + item.cost.source,
        "cost_verification": item.cost.verification,
        "privacy_impact": item.privacy_impact,
        "privacy_note": privacy_note,
        "restricts_public_access": item.restricts_public_access,
        "access_note": access_note,
        "applicability": "met" if _gate(item, ctx, run) else "unknown (check on site)",
    }


def _effect_columns(item: Intervention, reach: Reach) -> dict[str, float]:
    mix = _effect_mix(item, reach)
    return {
        name: round(sum(w * key[i] for key, w in mix.items()), 4)
        for i, name in enumerate(("effect", "effect_low", "effect_high"))
    }


def _reasons(item: Intervention, a: Assessment, run: RunContext) -> str:
    """Plain-language reasons: why here, what is reached, baseline, evidence, quantity, money, notes."""
    met, reach, base, quantity, stats = a.met, a.reach, a.base, a.quantity, a.stats
    parts = [
        "Why here: "
        + ("; ".join(met) if met else "the layers needed to test this measure are missing — check on site")
        + "."
    ]
    parts.append(f"Reached: {reach.method}" + "".join(f"; {n}" for n in reach.notes) + ".")
    parts.append(
        f"Baseline: {base.text}; about {base.mean_per_year * reach.share:.1f} reached crimes a year."
    )
    eff = item.effect
    parts.append(
        f"Evidence: {item.evidence_strength}; expected reduction {eff.point:.0%} ({eff.low:.0%}–{eff.high:.0%}): {eff.basis}."
    )
    for sub in eff.by_type:
        if any(c in reach.mix.index for c in sub.crime_types):
            parts.append(
                f"For {', '.join(sub.crime_types)}: {sub.point:.0%} ({sub.low:.0%}–{sub.high:.0%}): {sub.basis}."
            )
    if not eff.verified:
        parts.append(
            "Caveat: the effect rests on an assumption or on figures not found in the original source; its interval is wide."
        )
    elif eff.interval_assumption:
        parts.append("Caveat: the point estimate is published but its interval is an assumption.")
    parts.extend(_evidence_text(item))
    parts.append(_persistence_text(item, stats))
    if item.appraisal.components:
        parts.append(
            f"Bundle: its published effect already contains {', '.join(item.appraisal.components)}; they are "
            "not added on top of it in a portfolio."
        )
    parts.append(f"Quantity: {quantity[0]:g} {item.unit}(s) ({quantity[1]}). {item.quantity_note}".strip())
    if run.choice.jurisdiction is None:
        parts.append(f"Costs: none shown — {run.choice.how}.")
    else:
        parts.append(f"Costs in {run.currency} at {run.price_year} prices ({run.choice.jurisdiction.name}).")
        if stats.get("cost_conversion"):
            parts.append(f"Measure cost {stats['cost_conversion']}.")
        if a.value is not None:
            parts.extend(_value_text(a.value, stats))
            if a.value.anticipation_removed:
                parts.append(
                    f"Unit costs without costs in anticipation of crime ({RR99_ANTICIPATION_SOURCE})."
                )
        if stats.get("plausibility_note"):
            parts.append(str(stats["plausibility_note"]))
    privacy, access = _notes_for(item, run)
    if item.surveillance and privacy:
        parts.append(f"Privacy: {privacy}")
    if access:
        parts.append(f"Public access: {access}")
    return " ".join(parts)


def _evidence_text(item: Intervention) -> list[str]:
    """Sentences on the share of crimes the effect covers and on a lifetime's basis (the evidence grade
    has its own columns, ``evidence_grade`` and ``evidence_grade_text``).
    """
    parts = []
    share = item.applies_share
    if share is not None:
        parts.append(
            f"Applies to: {share.text()}, so the expected reduction on all of them is "
            f"{item.effect.point * share.point:.0%}."
        )
    if item.cost.lifetime_basis:
        parts.append(f"Lifetime: {item.lifetime_years} years: {item.cost.lifetime_basis}.")
    return parts


def _persistence_text(item: Intervention, stats: dict[str, Any]) -> str:
    """How long the effect is credited: full effect, decay, lifetime and discounted effect-years."""
    spec = item.appraisal
    life = f"{item.lifetime_years}-year life" + (f" ({spec.lifetime_source})" if spec.lifetime_source else "")
    if spec.half_life_years is None:
        how = "full effect while it runs"
    else:
        how = f"full effect for {spec.full_effect_years:g} years, then halving every {spec.half_life_years:g} years"
    years = stats.get("effect_years")
    counted = (
        f", {years:.1f} discounted effect-years" if isinstance(years, float) and math.isfinite(years) else ""
    )
    return f"Persistence: {how} over a {life}{counted} ({spec.persistence_source})."


def _value_text(mv: MixValue, stats: dict[str, Any]) -> list[str]:
    """Sentences on the unit costs: not re-verified ones, and the crimes not costed with their shares."""
    parts = []
    if mv.unverified:
        parts.append("Unit costs not re-verified: " + "; ".join(mv.unverified) + ".")
    if not mv.uncosted:
        return parts
    listed = "; ".join(f"{c}, {share:.0%} of the reached crimes ({why})" for c, share, why in mv.uncosted)
    hotspot = stats.get("uncosted_hotspot_share", np.nan)
    where = (
        f" Crimes without a unit cost are {hotspot:.0%} of this hotspot's crimes."
        if math.isfinite(hotspot)
        else ""
    )
    if mv.costed_share > 0:
        parts.append(
            f"Not costed: {listed}. The benefit is computed on the costed crimes only "
            f"({mv.costed_share:.0%} of the reached crimes), so it understates the measure's value.{where}"
        )
    else:
        parts.append(
            f"Not costed: {listed}. No crime this measure reaches has a unit cost here, so its benefit, net "
            f"benefit and benefit-cost ratio are not shown (never valued at zero) and it is listed after "
            f"the costed measures.{where}"
        )
    return parts


def _finish(
    hotspots: gpd.GeoDataFrame,
    rows: list[dict[str, Any]],
    draws: list[np.ndarray],
    not_offered: list[dict[str, str]],
    run: RunContext,
) -> gpd.GeoDataFrame:
    if not rows:
        out = gpd.GeoDataFrame(
            columns=["hotspot_id", "intervention_id", "rank", "geometry"],
            geometry="geometry",
            crs=hotspots.crs,
        )
    else:
        table = pd.DataFrame(rows).assign(_draw=np.arange(len(rows)), rank_by=rank_rule(run))
        table = pd.concat(
            [
                combine.with_higher_ranked(rank_group(g, draws, run))
                for _, g in table.groupby("hotspot_id", sort=True)
            ],
            ignore_index=True,
        )
        table = table.drop(columns="_draw")
        geoms = hotspots.set_index("hotspot_id").geometry
        out = gpd.GeoDataFrame(table, geometry=geoms.loc[table["hotspot_id"]].to_numpy(), crs=hotspots.crs)
    out.attrs["not_offered"] = not_offered
    out.attrs["assumptions"] = _assumptions(run, not_offered)
    return out


def _assumptions(run: RunContext, not_offered: list[dict[str, str]]) -> dict[str, Any]:
    opts = run.options
    counts: dict[str, int] = {}
    for item in not_offered:
        key = f"{item['intervention_id']}: {item['reason']}"
        counts[key] = counts.get(key, 0) + 1
    return {
        "jurisdiction": run.choice.code,
        "jurisdiction_how": run.choice.how,
        "currency": run.currency,
        "price_year": run.price_year,
        "price_note": price_note(run.choice.jurisdiction, run.currency, run.price_year),
        "discount_rate": opts.discount_rate,
        "rank_by": rank_rule(run),
        "rank_rule": RANK_RULES[rank_rule(run)][1]
        + ("" if rank_rule(run) == opts.rank_by else f" (nothing is costed, so not {opts.rank_by})"),
        "n_draws": opts.n_draws,
        "random_state": opts.random_state,
        "displacement_prior": run.prior.source,
        "regression_to_the_mean": bl.EB_SOURCE,
        "years_of_data": run.years,
        "not_offered": dict(sorted(counts.items())),
    }


__all__ = ["RANK_RULES", "DisplacementPrior", "RecommendOptions", "recommend"]
