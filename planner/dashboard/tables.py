"""The dashboard's tables and plain-language summaries, without Streamlit (testable on their own).

Every number comes from the plan the pipeline made; these functions only select, label and word it.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from planner._hours import NIGHT_HOURS, NIGHT_LABEL, unknown_time_of
from planner.plan import Plan

CATEGORY_LABELS = {
    "burglary": "Burglary",
    "robbery": "Robbery",
    "theft_from_vehicle": "Theft from vehicle",
    "assault": "Assault",
    "criminal_damage": "Criminal damage",
}


def label(category: str) -> str:
    """Human label for a canonical category."""
    return CATEGORY_LABELS.get(category, category.replace("_", " ").capitalize())


def headline_metrics(plan: Plan) -> dict[str, str]:
    """The plan's headline numbers as label → formatted value."""
    hs = plan.hotspots
    # a public plan holds no incidents: its (protected) count is in the parameters
    n = len(plan.incidents) or plan.params.get("n_incidents")
    share = float(pd.to_numeric(hs["n_incidents"]).sum() / n) if len(hs) and n else 0.0
    area = float(hs["area_m2"].sum() / plan.study_area.area.sum()) if len(hs) else 0.0
    return {
        "Incidents analysed": f"{n:,}" if n else "withheld",
        "Hotspots": f"{len(hs)}",
        "Share of incidents in hotspots": f"{share:.0%}",
        "Share of area in hotspots": f"{area:.1%}",
    }


def incidents_over_time(plan: Plan) -> pd.DataFrame:
    """Monthly counts per category (tidy)."""
    inc = plan.incidents
    month = inc["occurred_at"].dt.to_period("M").dt.to_timestamp()
    return (
        pd.DataFrame({"month": month, "category": inc["category"].map(label)})
        .groupby(["month", "category"], observed=True)
        .size()
        .rename("incidents")
        .reset_index()
    )


def weekday_hour_table(plan: Plan) -> pd.DataFrame:
    """Weekday × hour counts (rows Monday..Sunday, columns 0..23)."""
    t = plan.incidents["occurred_at"]
    unknown = unknown_time_of(plan.incidents)
    if unknown is not None:  # 00:00 placeholders for "time unknown" have no hour
        t = t[~unknown]
    table = pd.crosstab(t.dt.day_of_week, t.dt.hour).reindex(index=range(7), columns=range(24), fill_value=0)
    table.index = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    return table


def hotspot_table(plan: Plan) -> pd.DataFrame:
    """The hotspot list as a plain table for display."""
    cols = [
        "hotspot_id",
        "n_incidents",
        "incidents_per_year",
        "area_m2",
        "share_of_incidents",
        "top_category",
        "night_share",
        "mean_gi_z",
    ]
    table = pd.DataFrame(plan.hotspots[[c for c in cols if c in plan.hotspots.columns]])
    if "area_m2" in table.columns:
        table["area_m2"] = table["area_m2"] / 1e4
    if "top_category" in table.columns:
        table["top_category"] = table["top_category"].map(lambda c: label(c) if isinstance(c, str) else c)
    return table.rename(
        columns={
            "hotspot_id": "Hotspot",
            "n_incidents": "Incidents",
            "incidents_per_year": "Per year",
            "area_m2": "Area (ha)",
            "share_of_incidents": "Share of all",
            "top_category": "Main crime type",
            "night_share": "Share at night",
            "mean_gi_z": "Mean Gi* z",
        }
    )


def hotspot_profile(plan: Plan, hotspot_id: str) -> dict[str, Any]:
    """Profile of one hotspot: its statistics, category mix, hour and weekday profiles, exposure."""
    row = plan.hotspots.loc[plan.hotspots["hotspot_id"] == hotspot_id]
    if row.empty:
        return {}
    rec = row.iloc[0]
    profile: dict[str, Any] = {
        "hotspot_id": hotspot_id,
        "n_incidents": int(rec["n_incidents"]) if pd.notna(rec["n_incidents"]) else 0,
        "incidents_per_year": float(rec.get("incidents_per_year", float("nan"))),
        "area_m2": float(rec["area_m2"]),
        "night_share": float(rec.get("night_share", float("nan"))),
    }
    for key in ("category_mix", "location_mix", "victim_sex_mix", "victim_age_mix"):
        if key in rec and isinstance(rec[key], str) and rec[key]:
            profile[key] = json.loads(rec[key])
    for key in ("hour_profile", "weekday_profile"):
        if key in rec and isinstance(rec[key], str) and rec[key]:
            profile[key] = json.loads(rec[key])
    profile["exposure"] = {c: rec[c] for c in plan.hotspots.columns if "__" in c and pd.notna(rec[c])}
    return profile


def profile_sentence(profile: dict[str, Any]) -> str:
    """One line about a hotspot: incidents, per year, area and night share (or that it is unknown)."""
    per_year = profile.get("incidents_per_year", float("nan"))
    rate = f" ({per_year:.1f} per year)" if pd.notna(per_year) else ""
    night = profile.get("night_share", float("nan"))
    when = (
        f"{night:.0%} at night ({NIGHT_LABEL})"
        if pd.notna(night)
        else "share at night unknown (the data have no time of day)"
    )
    return f"**{profile['n_incidents']} incidents**{rate} on {profile['area_m2'] / 1e4:.1f} ha; {when}."


def exposure_table(plan: Plan, hotspot_id: str) -> pd.DataFrame:
    """Readable exposure profile of one hotspot (layer, metric, value)."""
    from planner.exposure import exposure_profile

    row = plan.hotspots.loc[plan.hotspots["hotspot_id"] == hotspot_id]
    if row.empty or not any("__" in c for c in row.columns):
        return pd.DataFrame()
    table = exposure_profile(row)
    return table.assign(value=pd.to_numeric(table["value"], errors="coerce").round(3))[
        ["title", "role", "metric", "value"]
    ]


def risk_factor_table(factors: pd.DataFrame) -> pd.DataFrame:
    """Risk-terrain factors in plain words: the feature, what was measured, how much it raises risk."""
    rows = []
    for _, f in factors.iterrows():
        rrv, low, high = float(f["rrv"]), float(f["rrv_low"]), float(f["rrv_high"])
        effect = (
            f"{rrv:.2f} times the crime of other places"
            if rrv >= 1
            else f"{1 - rrv:.0%} less crime than other places"
        )
        rows.append(
            {
                "Feature": risk_factor_label(f),
                "Relative risk": round(rrv, 2),
                "95% interval": f"{low:.2f} – {high:.2f}",
                "Meaning": effect,
            }
        )
    return pd.DataFrame(rows)


def risk_factor_label(f: Any) -> str:
    """``Licensed premises: within 100 m`` for a risk factor row."""
    unit = str(f.get("unit", "") or "").replace("(1/0)", "").strip()
    name = str(f["factor"]).replace("_", " ").capitalize()
    if not unit:
        unit = f"{f.get('operationalisation', '')} {float(f.get('distance_m', 0)):.0f} m".strip()
    return f"{name}: {unit}"


def recommendation_table(recs: pd.DataFrame) -> pd.DataFrame:
    """Recommendations for display."""
    cols = {
        "rank": "Rank",
        "hotspot_id": "Hotspot",
        "name": "Measure",
        "quantity": "Quantity",
        "unit": "Unit",
        "cost": "Cost",
        "prevented_per_year": "Prevented / yr",
        "prevented_low": "90% low",
        "prevented_high": "90% high",
        "bcr": "BCR",
        "bcr_low": "BCR low",
        "bcr_high": "BCR high",
        "p_benefit_exceeds_cost": "P(benefit > cost)",
        "plausibility": "Plausibility",
        "prevented_with_higher_ranked": "Prevented / yr with those above",
        "evidence_strength": "Evidence",
        "evidence_grade": "EMMIE grade (0-4)",
        "privacy_impact": "Privacy impact",
        "groups_reached": "Victims reached",
    }
    table = pd.DataFrame(recs[[c for c in cols if c in recs.columns]])
    if "groups_reached" in table.columns:
        table["groups_reached"] = table["groups_reached"].map(groups_reached_text)
    return table.rename(columns=cols)


VICTIM_MIXES = {"victim_sex_mix": "Sex", "victim_age_mix": "Age band"}


def groups_reached_text(value: Any) -> str:
    """A measure's ``groups_reached`` (JSON column → group → count) in a few words: the two largest
    known groups of each kind with their shares, e.g. ``men and boys 56%, women and girls 38%``.
    Empty when no victim group is known (or the public view withholds them).
    """
    from planner.io.groups import group_label

    parsed = json.loads(value) if isinstance(value, str) and value else value
    if not isinstance(parsed, dict):
        return ""
    parts = []
    for column in ("victim_sex", "victim_age_band"):
        counts = {k: v for k, v in (parsed.get(column) or {}).items() if v}
        total = sum(counts.values())
        if total:
            top = sorted(counts, key=lambda k: (-counts[k], k))[:2]
            parts.append(", ".join(f"{group_label(k)} {counts[k] / total:.0%}" for k in top))
    return " · ".join(parts)


def victim_mix_table(profile: dict[str, Any], *, k: int | None = None) -> pd.DataFrame:
    """A hotspot's victims by sex and age band (from its ``victim_*_mix`` profiles): group, incidents
    and share of the incidents whose group is shown. Counts the public view withholds read
    ``< k`` (or ``withheld``); empty when the data hold no victim attributes.
    """
    from planner.io.groups import group_label

    rows = []
    for key, kind in VICTIM_MIXES.items():
        mix = profile.get(key)
        if not isinstance(mix, dict) or not mix:
            continue
        shown = {g: float(n) for g, n in mix.items() if n is not None}
        total = sum(shown.values())
        for group in sorted(mix, key=lambda g: (mix[g] is None, -shown.get(g, 0.0), g)):
            n = mix[group]
            rows.append(
                {
                    "Victims": kind,
                    "Group": group_label(str(group)),
                    "Incidents": (f"< {k}" if k else "withheld") if n is None else f"{int(n):,}",
                    "Share": "" if n is None or not total else f"{float(n) / total:.0%}",
                }
            )
    return pd.DataFrame(rows, columns=["Victims", "Group", "Incidents", "Share"])


def evaluation_areas(plan: Plan) -> dict[str, Any]:
    """Candidate treatment areas: wards (when loaded) and hotspots, by label."""
    areas: dict[str, Any] = {}
    wards = plan.layers.get("wards")
    if wards is not None and len(wards):
        name_col = "name" if "name" in wards.columns else wards.columns[0]
        for _, w in wards.iterrows():
            areas[f"Ward {w.get('ward_id', '')} {w[name_col]}".strip()] = wards.loc[[w.name]]
    for _, h in plan.hotspots.iterrows():
        areas[f"Hotspot {h['hotspot_id']}"] = plan.hotspots.loc[[h.name]]
    return areas


def evaluation_design(plan: Plan, area: Any, start: Any, *, night_only: bool) -> Any:
    """The dashboard's design for one area: before and after periods of equal length (up to a year
    each, at least 30 days), the automatic buffer and control (same functions as the CLI).
    """
    from planner.evaluate.design import AreaChoice, CrimeSelection, Periods, make_design

    t0, t1 = plan.incidents["occurred_at"].min(), plan.incidents["occurred_at"].max()
    start_ts = pd.Timestamp(start)
    days = int(min((start_ts - t0).days, (t1 - start_ts).days, 365))
    hours = list(NIGHT_HOURS) if night_only else None
    return make_design(
        area,
        start=start_ts,
        periods=Periods(before_days=max(days, 30), after_days=max(days, 30)),
        incidents=plan.incidents,
        crimes=CrimeSelection(hours=hours),
        areas=AreaChoice(study_area=plan.study_area, cell_size_m=plan.params.get("cell_size_m")),
        name="dashboard",
    )


def evaluate_area(plan: Plan, area: Any, start: Any, *, night_only: bool) -> dict[str, Any]:
    """Design (automatic buffer and control) and evaluation for one area (same functions as the CLI)."""
    from planner.dashboard.charts import before_after_chart
    from planner.evaluate.results import before_after_series, evaluate_design

    design = evaluation_design(plan, area, start, night_only=night_only)
    result = evaluate_design(design, plan.incidents)
    series = before_after_series(plan.incidents, design)
    numbers = result.to_dict()
    return {
        "interpretation": result.interpretation,
        "counts": result.counts,
        "chart": before_after_chart(series, design.start),
        "numbers": {k: numbers[k] for k in ("wdq", "wdd", "rate_ratio", "e_tests", "power")},
    }


BALANCE_COLUMNS = {
    "constraint": "Matched on",
    "kind": "Kind",
    "treated": "Treated area",
    "synthetic_fit": "Synthetic, counts fitted",
    "synthetic": "Synthetic, all counts",
    "all_scaled": "All places (scaled)",
    "rel_diff": "Difference, all counts",
}
EFFECT_COLUMNS = {
    "area": "Area",
    "outcome": "Crime type",
    "Trt": "Trt",
    "Con": "Con",
    "change": "% change",
    "interval": "Interval",
    "p": "p",
}


def microsynth_area(
    plan: Plan, area: Any, start: Any, *, night_only: bool, n_placebos: int = 250
) -> dict[str, Any]:
    """Micro-synthetic control of one area (:func:`planner.evaluate.microsynth.evaluate_microsynth`
    on :func:`evaluation_design`): Trt/Con/% change table, balance table, placebo-band chart, notes.
    """
    from planner.dashboard.charts import placebo_band_chart, placebo_band_data
    from planner.evaluate.microsynth import MicrosynthOptions, effects_summary, evaluate_microsynth

    design = evaluation_design(plan, area, start, night_only=night_only)
    result = evaluate_microsynth(
        design,
        plan.incidents,
        options=MicrosynthOptions(n_placebos=int(n_placebos)),
        study_area=plan.study_area,
    )
    treated = result.areas["treatment"]
    balance = treated.balance[list(BALANCE_COLUMNS)].round(
        {"treated": 1, "synthetic_fit": 1, "synthetic": 1, "all_scaled": 1, "rel_diff": 3}
    )
    balance = balance.rename(columns=BALANCE_COLUMNS)
    effects = effects_summary(result)
    effects["outcome"] = effects["outcome"].map(lambda o: "all counted crimes" if o == "all" else label(o))
    notes = [f"{name}: {note}" for name, a in result.areas.items() for note in a.fit["notes"]]
    omnibus = treated.omnibus.get("p_perm")
    return {
        "interpretation": result.interpretation,
        "effects": effects.rename(columns=EFFECT_COLUMNS),
        "balance": balance,
        "chart": placebo_band_chart(placebo_band_data(result), design.start),
        "notes": [*notes, *result.notes],
        "omnibus": None if omnibus is None else float(omnibus),
        "fit": {k: v for k, v in treated.fit.items() if k != "notes"},
    }


def hotspot_at(plan: Plan, lat: float, lng: float) -> str | None:
    """The hotspot containing (lat, lng), if any."""
    from planner.exposure.whatif import lonlat_to_crs

    if not len(plan.hotspots):
        return None
    hit = plan.hotspots[plan.hotspots.intersects(lonlat_to_crs(lat, lng, plan.crs))]
    return str(hit["hotspot_id"].iloc[0]) if len(hit) else None


def whatif_comparison(before: Plan, after: Plan, hotspot_id: str) -> pd.DataFrame:
    """The ranked measures of one hotspot before and after the what-if edits, side by side."""
    cols = ["intervention_id", "name", "rank", "quantity", "cost", "prevented_per_year", "net_benefit", "bcr"]
    frames = []
    for plan in (before, after):
        recs = plan.recommendations
        if recs is None or not len(recs):
            frames.append(pd.DataFrame(columns=cols))
            continue
        frames.append(pd.DataFrame(recs.loc[recs["hotspot_id"] == hotspot_id, cols]))
    merged = frames[0].merge(
        frames[1], on=["intervention_id", "name"], how="outer", suffixes=(" before", " after")
    )
    merged = merged.sort_values(["rank after", "rank before"], na_position="last")
    changed = (
        merged[[f"{c} before" for c in cols[2:]]].round(3).to_numpy()
        != merged[[f"{c} after" for c in cols[2:]]].round(3).to_numpy()
    ).any(axis=1)
    out = pd.DataFrame(
        {
            "Measure": merged["name"],
            "Rank before": merged["rank before"],
            "Rank after": merged["rank after"],
            "Quantity before": merged["quantity before"],
            "Quantity after": merged["quantity after"],
            "Net benefit before": merged["net_benefit before"],
            "Net benefit after": merged["net_benefit after"],
            "Changed": changed,
        }
    )
    return out.reset_index(drop=True)


def whatif_summary(comparison: pd.DataFrame, hotspot_id: str) -> str:
    """Plain-language summary of :func:`whatif_comparison`: what changed for the hotspot."""
    changed = comparison[comparison["Changed"]]
    if changed.empty:
        return (
            f"No measure changed for {hotspot_id}: the edits are outside it or do not change what it is "
            "exposed to (for example a lamp on a street that is already lit)."
        )

    def fmt(x: Any, spec: str) -> str:
        return "none" if pd.isna(x) else format(x, spec)

    lines = [f"What-if changes for {hotspot_id}:"]
    for _, r in changed.iterrows():
        lines.append(
            f"- {r['Measure']}: rank {fmt(r['Rank before'], '.0f')} → {fmt(r['Rank after'], '.0f')}, "
            f"quantity {fmt(r['Quantity before'], 'g')} → {fmt(r['Quantity after'], 'g')}, "
            f"net benefit {fmt(r['Net benefit before'], ',.0f')} → {fmt(r['Net benefit after'], ',.0f')}"
        )
    return "\n".join(lines)


def table_height(n_rows: int) -> int:
    """Pixel height that shows ``n_rows`` rows of an ``st.dataframe`` without a scroll bar."""
    return 35 * (n_rows + 1) + 3


ROLE_LABELS = {
    "guardian": "Protects",
    "generator": "Draws crime",
    "access": "Way in or out",
    "context": "Context",
}


def exposure_summary(plan: Plan, hotspot_id: str) -> pd.DataFrame:
    """The exposure profile of a hotspot in plain words: one or a few readable rows per layer."""
    table = exposure_table(plan, hotspot_id)
    if table.empty:
        return pd.DataFrame(columns=["Layer", "Kind", "Measure", "Value"])
    rows: list[tuple[str, str, str, str]] = []

    def pct(x: Any) -> str:
        return "–" if pd.isna(x) else f"{float(x):.0%}"

    for (title, role), group in table.groupby(["title", "role"], sort=False):
        if role == "summary":
            continue
        m = dict(zip(group["metric"], group["value"], strict=False))
        kind = ROLE_LABELS.get(str(role), str(role))
        count = m.get("count")
        if "lit_share" in m:
            rows.append((title, kind, "Lamps inside", f"{count:.0f} ({m.get('n_broken', 0):.0f} broken)"))
            rows.append((title, kind, "Street length lit", pct(m["lit_share"])))
            rows.append((title, kind, "Unlit street length", f"{m.get('unlit_length_m', 0):.0f} m"))
        elif "covered_share" in m:
            rows.append((title, kind, "Cameras inside", f"{count:.0f}"))
            rows.append((title, kind, "Street length in camera view", pct(m["covered_share"])))
        elif "mean_lux" in m:
            rows.append(
                (
                    title,
                    kind,
                    "Mean / lowest light level",
                    f"{m['mean_lux']:.1f} / {m.get('min_lux', 0):.1f} lux",
                )
            )
        elif "area_share" in m:
            rows.append((title, kind, "Share of the hotspot's area", pct(m["area_share"])))
        elif count is not None:
            text = f"{count:.0f} inside"
            if not count and pd.notna(m.get("nearest_m")):
                text += f"; nearest {m['nearest_m']:.0f} m away"
            rows.append((title, kind, "How many", text))
        elif "length_m" in m:
            rows.append((title, kind, "Street length", f"{m['length_m'] / 1000:.1f} km"))
    return pd.DataFrame(rows, columns=["Layer", "Kind", "Measure", "Value"])


def not_costed_reason(plan: Any) -> str:
    """Why a plan's measures carry no costs (no jurisdiction's cost table fits the place), in plain
    words, from what the recommend stage recorded (``params["recommend"]["jurisdiction_how"]``).
    """
    how = (plan.params.get("recommend") or {}).get("jurisdiction_how")
    why = str(how).rstrip(".") if how else "no jurisdiction's cost table applies to this place"
    return (
        f"Not costed: {why}. Costs and benefit-cost ratios need the place's own cost-of-crime table "
        "(UK, US or Canada); on the command line `--jurisdiction UK|US|CA` picks one."
    )
