"""Shared Streamlit helpers for ``app.py``: cached loaders, the sidebar, charts and tables.

The dashboard computes nothing of its own: every number comes from the same ``planner`` functions
the CLI and exports use. Only this module and ``app.py`` import streamlit.
"""

from __future__ import annotations

import json
import logging
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from planner.config import RunConfig
from planner.errors import PlannerError
from planner.plan import Plan

logger = logging.getLogger(__name__)

UPLOAD_DIR = Path(tempfile.gettempdir()) / "planner_uploads"
MAX_UPLOAD_MB = 200
CATEGORY_LABELS = {
    "burglary": "Burglary",
    "robbery": "Robbery",
    "theft_from_vehicle": "Theft from vehicle",
    "assault": "Assault",
    "criminal_damage": "Criminal damage",
}


@st.cache_data(show_spinner=False, max_entries=8)
def cached_plan(config_json: str) -> Plan:
    """Run the pipeline once per distinct configuration (JSON of a :class:`RunConfig`)."""
    from planner.pipeline import run

    return run(RunConfig.model_validate_json(config_json))


def get_plan(config: RunConfig) -> Plan | None:
    """The plan for ``config``, or ``None`` after showing the user's error message."""
    try:
        with st.spinner("Analysing incidents and environment…"):
            return cached_plan(config.model_dump_json())
    except PlannerError as exc:
        st.error(str(exc))
        return None


def save_upload(upload: Any) -> Path:
    """Write an uploaded file to a unique temp path (checked for size) and return the path."""
    size_mb = len(upload.getbuffer()) / 1e6
    if size_mb > MAX_UPLOAD_MB:
        raise PlannerError(
            f"{upload.name} is {size_mb:.0f} MB; the dashboard takes files up to {MAX_UPLOAD_MB} MB. "
            "Use the CLI (planner run --incidents FILE) for larger files."
        )
    UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    folder = UPLOAD_DIR / uuid.uuid4().hex
    folder.mkdir()
    path = folder / Path(upload.name).name
    path.write_bytes(upload.getbuffer())
    return path


def label(category: str) -> str:
    """Human label for a canonical category."""
    return CATEGORY_LABELS.get(category, category.replace("_", " ").capitalize())


def metric_row(plan: Plan) -> None:
    """Headline numbers of a plan."""
    cols = st.columns(4)
    cols[0].metric("Incidents analysed", f"{len(plan.incidents):,}")
    cols[1].metric("Hotspots", f"{len(plan.hotspots)}")
    share = (
        float(plan.hotspots["n_incidents"].sum() / max(len(plan.incidents), 1)) if len(plan.hotspots) else 0.0
    )
    cols[2].metric("Share of incidents in hotspots", f"{share:.0%}")
    area = float(plan.hotspots["area_m2"].sum() / plan.study_area.area.sum()) if len(plan.hotspots) else 0.0
    cols[3].metric("Share of area in hotspots", f"{area:.1%}")


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
    return table.rename(
        columns={
            "hotspot_id": "Hotspot",
            "n_incidents": "Incidents",
            "incidents_per_year": "Per year",
            "area_m2": "Area m²",
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
        "n_incidents": int(rec["n_incidents"]),
        "incidents_per_year": float(rec.get("incidents_per_year", float("nan"))),
        "area_m2": float(rec["area_m2"]),
        "night_share": float(rec.get("night_share", float("nan"))),
    }
    for key in ("category_mix", "location_mix"):
        if key in rec and isinstance(rec[key], str) and rec[key]:
            profile[key] = json.loads(rec[key])
    for key in ("hour_profile", "weekday_profile"):
        if key in rec and isinstance(rec[key], str) and rec[key]:
            profile[key] = json.loads(rec[key])
    profile["exposure"] = {c: rec[c] for c in plan.hotspots.columns if "__" in c and pd.notna(rec[c])}
    return profile


HOTSPOT_COLUMNS = {
    "Per year": st.column_config.NumberColumn(format="%.1f"),
    "Area m²": st.column_config.NumberColumn(format="%.0f"),
    "Share of all": st.column_config.NumberColumn(format="percent"),
    "Share at night": st.column_config.NumberColumn(format="percent"),
    "Mean Gi* z": st.column_config.NumberColumn(format="%.2f"),
}
RECOMMENDATION_COLUMNS = {
    "Cost": st.column_config.NumberColumn(format="%.0f"),
    "Prevented / yr": st.column_config.NumberColumn(format="%.1f"),
    "90% low": st.column_config.NumberColumn(format="%.1f"),
    "90% high": st.column_config.NumberColumn(format="%.1f"),
    "BCR": st.column_config.NumberColumn(format="%.1f"),
    "BCR low": st.column_config.NumberColumn(format="%.1f"),
    "BCR high": st.column_config.NumberColumn(format="%.1f"),
    "P(benefit > cost)": st.column_config.NumberColumn(format="percent"),
}


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


def rrv_chart(factors: pd.DataFrame) -> Any:
    """Relative risk values with intervals (log scale), one row per retained factor."""
    import altair as alt

    data = factors.assign(
        label=factors["factor"]
        + " ("
        + factors["operationalisation"].astype(str)
        + ", "
        + factors["distance_m"].astype(str)
        + " m)"
    )
    order = list(data.sort_values("rrv", ascending=False)["label"])
    base = alt.Chart(data).encode(y=alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=320)))
    bars = base.mark_rule().encode(
        x=alt.X("rrv_low:Q", scale=alt.Scale(type="log"), title="Relative risk value"), x2="rrv_high:Q"
    )
    points = base.mark_point(filled=True, size=60).encode(
        x="rrv:Q", tooltip=["factor", "operationalisation", "rrv", "rrv_low", "rrv_high"]
    )
    one = alt.Chart(pd.DataFrame({"x": [1.0]})).mark_rule(strokeDash=[4, 4]).encode(x="x:Q")
    return (bars + points + one).properties(height=alt.Step(26))


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
        "evidence_strength": "Evidence",
        "privacy_impact": "Privacy impact",
    }
    return pd.DataFrame(recs[[c for c in cols if c in recs.columns]]).rename(columns=cols)


def portfolio_and_curve(
    recs: pd.DataFrame, *, budget: float, cap: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Optimal portfolio for ``budget`` and the budget curve (same optimiser as the CLI)."""
    from planner.interventions.portfolio import budget_curve, choose_portfolio

    share = None if cap >= 1.0 else cap
    return (
        choose_portfolio(recs, budget=budget, max_surveillance_share=share),
        budget_curve(recs, max_surveillance_share=share),
    )


def budget_chart(curve: pd.DataFrame) -> Any:
    """Expected net benefit against budget."""
    import altair as alt

    return (
        alt.Chart(curve)
        .mark_line(point=True)
        .encode(
            x=alt.X("budget:Q", title="Budget"),
            y=alt.Y("value:Q", title="Expected net benefit"),
            tooltip=["budget", "value", "n_measures", "prevented_per_year"],
        )
        .properties(height=240)
    )


def whatif_lamp(plan: Plan, lat: float, lon: float) -> pd.DataFrame:
    """Add one working lamp at (lat, lon) and show how each hotspot's lighting rank changes."""
    import geopandas as gpd
    from shapely.geometry import Point

    from planner import whatif
    from planner.pipeline import rerank_with_edit

    pt = gpd.GeoSeries([Point(lon, lat)], crs="EPSG:4326").to_crs(plan.crs).iloc[0]
    _, recs, _ = rerank_with_edit(plan, whatif.add_lamps([pt]))
    before = plan.recommendations
    if before is None or recs is None:
        return pd.DataFrame()
    key = ["hotspot_id", "intervention_id"]
    merged = before[[*key, "rank", "quantity"]].merge(
        pd.DataFrame(recs)[[*key, "rank", "quantity"]], on=key, how="outer", suffixes=(" before", " after")
    )
    changed = merged[
        (merged["rank before"] != merged["rank after"])
        | (merged["quantity before"] != merged["quantity after"])
    ]
    return changed if len(changed) else merged[merged["intervention_id"] == "lighting"]


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


def evaluate_area(plan: Plan, area: Any, start: Any, *, night_only: bool) -> dict[str, Any]:
    """Design (automatic buffer and control) and evaluation for one area (same functions as the CLI)."""
    from planner.evaluate.charts import before_after_chart
    from planner.evaluate.design import before_after_series, evaluate_design, make_design

    t0, t1 = plan.incidents["occurred_at"].min(), plan.incidents["occurred_at"].max()
    start_ts = pd.Timestamp(start)
    days = int(min((start_ts - t0).days, (t1 - start_ts).days, 365))
    hours = [*range(19, 24), *range(7)] if night_only else None
    design = make_design(
        area,
        start=start_ts,
        before_days=max(days, 30),
        after_days=max(days, 30),
        incidents=plan.incidents,
        study_area=plan.study_area,
        cell_size_m=plan.params.get("cell_size_m"),
        hours=hours,
        name="dashboard",
    )
    result = evaluate_design(design, plan.incidents)
    series = before_after_series(plan.incidents, design)
    numbers = result.to_dict()
    return {
        "interpretation": result.interpretation,
        "counts": result.counts,
        "chart": before_after_chart(series, design.start),
        "numbers": {k: numbers[k] for k in ("wdq", "wdd", "rate_ratio", "e_tests", "power")},
    }


def export_zip(
    plan: Plan, *, formats: list[str] | None = None, privacy: str = "public", k: int | None = None
) -> bytes:
    """The plan exported as a zip: the same files ``planner export`` writes for this plan."""
    from planner.export import export_zip as zip_export

    return zip_export(plan, formats=formats, privacy=privacy, k=k)


def clicked_hotspot(map_state: dict[str, Any] | None, ids: list[str]) -> str | None:
    """The hotspot a map click selected: from the clicked feature, else from its popup text."""
    state = map_state or {}
    feature = state.get("last_active_drawing") or {}
    hid = (feature.get("properties") or {}).get("hotspot_id")
    if hid in ids:
        return str(hid)
    popup = state.get("last_object_clicked_popup") or ""
    tokens = popup.replace(":", " ").split()
    return next((t for t in tokens if t in ids), None)
