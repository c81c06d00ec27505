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
