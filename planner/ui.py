"""Shared Streamlit helpers for ``app.py``: cached loaders, the sidebar, charts and tables.

The dashboard computes nothing of its own: every number comes from the same ``planner`` functions
the CLI and exports use. Only this module and ``app.py`` import streamlit.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from planner._hours import NIGHT_HOURS
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


@st.cache_resource(show_spinner=False, max_entries=8)
def cached_plan(config_json: str) -> Plan:
    """Run the pipeline once per distinct configuration (JSON of a :class:`RunConfig`).

    A shared resource, not a copy: a rerun costs nothing (``st.cache_data`` would unpickle the
    whole plan, several MB, on every widget change). Plans are never mutated; what-if edits make
    new frames (:func:`whatif_plan`).
    """
    from planner.pipeline import run

    return run(RunConfig.model_validate_json(config_json))


def get_plan(
    config: RunConfig, *, container: Any = None, rename: dict[str, str] | None = None
) -> Plan | None:
    """The plan for ``config``, or ``None`` after showing the user's error message.

    ``container`` is where the message goes (default: the current one); ``rename`` maps temporary
    upload paths to the names the user knows.
    """
    try:
        with st.spinner("Analysing incidents and environment…"):
            return cached_plan(config.model_dump_json())
    except PlannerError as exc:
        message = str(exc)
        for old, new in (rename or {}).items():
            message = message.replace(old, new)
        (container or st).error(
            f"{message}\n\nFix the file and upload it again, or switch back to the sample city."
        )
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
    "Area (ha)": st.column_config.NumberColumn(format="%.1f"),
    "Mean Gi* z": st.column_config.NumberColumn(
        format="%.2f", help="How strongly crime clusters here (Getis-Ord Gi* z-score; above 2 is significant)"
    ),
    "Share of all": st.column_config.NumberColumn(format="percent"),
    "Share at night": st.column_config.NumberColumn(format="percent"),
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

    data = factors.assign(label=[risk_factor_label(f) for _, f in factors.iterrows()])
    order = list(data.sort_values("rrv", ascending=False)["label"])
    base = alt.Chart(data).encode(y=alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=320)))
    bars = base.mark_rule().encode(
        x=alt.X(
            "rrv_low:Q", scale=alt.Scale(type="log"), title="Relative risk (1 = no difference; log scale)"
        ),
        x2="rrv_high:Q",
    )
    points = base.mark_point(filled=True, size=60).encode(
        x="rrv:Q", tooltip=["factor", "operationalisation", "rrv", "rrv_low", "rrv_high"]
    )
    one = alt.Chart(pd.DataFrame({"x": [1.0]})).mark_rule(strokeDash=[4, 4]).encode(x="x:Q")
    return (bars + points + one).properties(height=alt.Step(26))


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
    hours = list(NIGHT_HOURS) if night_only else None
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


def map_click(
    map_state: dict[str, Any] | None, previous: str | None
) -> tuple[str | None, dict[str, float] | None]:
    """A new click in the map's state: ``(signature, {"lat", "lng"})``, or ``(previous, None)``.

    Clicking a feature (a hotspot polygon, a lamp) does not always update the plain map click,
    so a click is new when either the map click or the count of feature clicks changed; its place
    is the feature click's position when there is one. Keep the signature in the session and pass
    it back next time.
    """
    state = map_state or {}
    signature = json.dumps(
        [state.get("last_clicked"), state.get("last_object_clicked_count")], sort_keys=True
    )
    if signature == previous or not (state.get("last_clicked") or state.get("last_object_clicked")):
        return previous, None
    old = json.loads(previous) if previous else [None, None]
    where = state.get("last_object_clicked") if state.get("last_object_clicked_count") != old[1] else None
    where = where or state.get("last_clicked")
    if not where:
        return signature, None
    return signature, {"lat": float(where["lat"]), "lng": float(where["lng"])}


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


# ---------------------------------------------------------------- the interactive map
MAP_MAX_POINTS = 2000  # point layers larger than this show only features near hotspots
MAP_RETURNED = [
    "last_clicked",
    "last_object_clicked",
    "last_object_clicked_count",
    "last_active_drawing",
    "last_object_clicked_popup",
]
CLICK_MODES = {
    "select": "Show a hotspot's profile",
    "lamp": "Add a street lamp",
    "camera": "Add a CCTV camera",
    "close_access": "Close an access point",
}
SNAP_M = 60.0  # a clicked lamp snaps to a street, a closure to an access point, within this distance


@st.cache_resource(show_spinner=False, max_entries=4)
def map_payload(config_json: str, key: str = "map") -> dict[str, Any]:
    """The rendered map of a configuration, ready for the streamlit-folium component.

    Rendering the folium map is most of a rerun's cost (~2.5 s on the sample city), so it is done
    once per configuration. Everything that changes with clicks goes into :func:`planner.maps.
    overlay_script` instead, which keeps the component (and its click state) mounted.
    """
    from planner.maps import OVERLAY_LEGEND, plan_map

    plan = cached_plan(config_json)
    m = plan_map(plan, max_layer_points=MAP_MAX_POINTS, extra_legend=OVERLAY_LEGEND)
    return _component_payload(m, key)


def _component_payload(m: Any, key: str) -> dict[str, Any]:
    """The arguments ``st_folium`` would send for ``m`` (same helpers, computed once)."""
    import streamlit_folium as sf

    m.get_root().render()
    m.render()
    html = sf._get_html(m)
    header = sf._get_header(m)
    script = sf._get_map_string(m)
    css: list[str] = []
    js: list[str] = []

    def walk(element: Any) -> Any:
        yield element
        for child in getattr(element, "_children", {}).values():
            yield from walk(child)

    for element in walk(m):
        css.extend(href for _, href in getattr(element, "default_css", []))
        js.extend(src for _, src in getattr(element, "default_js", []))
    return {
        "script": script,
        "header": header,
        "html": html,
        "id": sf.get_full_id(m),
        "css_links": list(dict.fromkeys(css)),
        "js_links": list(dict.fromkeys(js)),
        "hash_key": sf.generate_js_hash(script, key, False),
        "map": m,
    }


def show_map(payload: dict[str, Any], *, key: str, height: int, overlay: str | None) -> dict[str, Any]:
    """Show a cached map with a changing overlay; return what the user last clicked.

    Uses streamlit-folium's component directly with the cached arguments. The component's
    identity depends only on the (unchanging) map script, so clicks survive reruns.
    """
    try:
        from streamlit_folium import _component_func
    except ImportError:  # a streamlit-folium without the private function: slower, no overlay
        from streamlit_folium import st_folium

        logger.warning("streamlit-folium internals changed; map falls back to st_folium")
        return st_folium(payload["map"], key=key, height=height, returned_objects=MAP_RETURNED) or {}
    value = _component_func(
        script=payload["script"],
        header=payload["header"],
        html=payload["html"],
        id=payload["id"],
        key=payload["hash_key"],
        height=height,
        width=None,
        returned_objects=MAP_RETURNED,
        default=dict.fromkeys(MAP_RETURNED),
        zoom=None,
        center=None,
        feature_group=overlay or None,
        return_on_hover=False,
        layer_control=None,
        pixelated=False,
        css_links=payload["css_links"],
        js_links=payload["js_links"],
        wrap_longitude=False,
    )
    return value or {}


def map_state(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The map's last reported state (clicks), readable before the map is drawn in this run."""
    try:
        value = st.session_state.get(payload["hash_key"])
    except Exception:  # outside a Streamlit run (plain Python)
        return None
    return dict(value) if isinstance(value, dict) else None


def _to_analysis(plan: Plan, lat: float, lng: float) -> Any:
    import geopandas as gpd
    from shapely.geometry import Point

    return gpd.GeoSeries([Point(lng, lat)], crs="EPSG:4326").to_crs(plan.crs).iloc[0]


def _to_latlng(plan: Plan, point: Any) -> tuple[float, float]:
    import geopandas as gpd

    p = gpd.GeoSeries([point], crs=plan.crs).to_crs("EPSG:4326").iloc[0]
    return float(p.y), float(p.x)


def hotspot_at(plan: Plan, lat: float, lng: float) -> str | None:
    """The hotspot containing (lat, lng), if any."""
    if not len(plan.hotspots):
        return None
    pt = _to_analysis(plan, lat, lng)
    hit = plan.hotspots[plan.hotspots.intersects(pt)]
    return str(hit["hotspot_id"].iloc[0]) if len(hit) else None


def map_click_edit(
    plan: Plan, mode: str, lat: float, lng: float, *, direction_deg: float = 0.0
) -> dict[str, Any]:
    """Turn a map click into a what-if edit (a plain dict, kept in the session).

    A lamp snaps to the nearest street and a closure picks the nearest access point, both within
    :data:`SNAP_M`; a camera stays where it was clicked.

    Raises
    ------
    PlannerError
        When there is no street or access point near the click (the message says what to do).
    """
    import shapely

    pt = _to_analysis(plan, lat, lng)
    if mode == "lamp":
        streets = plan.layers.get("streets")
        if streets is None or not len(streets):
            return {"kind": "lamp", "lat": lat, "lng": lng}
        dist = streets.distance(pt)
        if float(dist.min()) > SNAP_M:
            raise PlannerError(
                f"No street within {SNAP_M:.0f} m of the clicked point; lamps go on streets. "
                "Click on or next to a street (the grey lines)."
            )
        line = streets.geometry.loc[dist.idxmin()]
        snapped = line.interpolate(line.project(pt))
        slat, slng = _to_latlng(plan, snapped)
        return {"kind": "lamp", "lat": slat, "lng": slng}
    if mode == "camera":
        return {"kind": "camera", "lat": lat, "lng": lng, "direction_deg": float(direction_deg) % 360.0}
    if mode == "close_access":
        access = plan.layers.get("access_points")
        if access is None or not len(access):
            raise PlannerError("No access-point layer is loaded, so there is nothing to close.")
        dist = access.distance(pt)
        if float(dist.min()) > SNAP_M:
            raise PlannerError(
                f"No access point within {SNAP_M:.0f} m of the clicked point. Switch on the 'Access "
                "points' layer (layer button, top right of the map) and click next to one."
            )
        row = access.loc[dist.idxmin()]
        id_col = "access_id" if "access_id" in access.columns else None
        access_id = str(row[id_col]) if id_col else str(dist.idxmin())
        alat, alng = _to_latlng(
            plan,
            shapely.get_point(row.geometry, 0) if row.geometry.geom_type == "MultiPoint" else row.geometry,
        )
        return {"kind": "close_access", "lat": alat, "lng": alng, "access_id": access_id}
    raise PlannerError(f"Unknown map click mode {mode!r}; choose one of {', '.join(CLICK_MODES)}.")


def _edit_object(plan: Plan, edit: dict[str, Any]) -> Any:
    from planner import whatif

    if edit["kind"] == "lamp":
        return whatif.add_lamps([_to_analysis(plan, edit["lat"], edit["lng"])])
    if edit["kind"] == "camera":
        return whatif.add_camera(_to_analysis(plan, edit["lat"], edit["lng"]), edit.get("direction_deg", 0.0))
    if edit["kind"] == "close_access":
        return whatif.close_access(edit["access_id"])
    raise PlannerError(f"Unknown what-if edit {edit['kind']!r}.")


@st.cache_resource(show_spinner=False, max_entries=32)
def whatif_plan(config_json: str, edits_json: str) -> Plan:
    """The plan after the what-if edits (JSON list of :func:`map_click_edit` dicts), re-ranked.

    Each prefix of the edit list is cached, so adding one more edit costs one re-ranking
    (:func:`planner.pipeline.rerank_with_edit`, which re-measures only the hotspots it reaches).
    """
    from planner.pipeline import rerank_with_edit

    edits = json.loads(edits_json)
    if not edits:
        return cached_plan(config_json)
    before = whatif_plan(config_json, json.dumps(edits[:-1], sort_keys=True))
    hotspots, recs, layers = rerank_with_edit(before, _edit_object(before, edits[-1]))
    return dataclasses.replace(before, hotspots=hotspots, recommendations=recs, layers=layers)


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


def show_whatif_comparison(plan: Plan, edited: Plan, hotspot_id: str, *, key: str) -> None:
    """The before/after table of a hotspot's ranked measures under the what-if edits, with its summary."""
    comparison = whatif_comparison(plan, edited, hotspot_id)
    st.markdown(whatif_summary(comparison, hotspot_id))
    st.dataframe(comparison, hide_index=True, width="stretch", column_config=WHATIF_COLUMNS, key=key)


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


WHATIF_COLUMNS = {
    "Rank before": st.column_config.NumberColumn(format="%d"),
    "Rank after": st.column_config.NumberColumn(format="%d"),
    "Quantity before": st.column_config.NumberColumn(format="%.0f"),
    "Quantity after": st.column_config.NumberColumn(format="%.0f"),
    "Net benefit before": st.column_config.NumberColumn(format="%.0f"),
    "Net benefit after": st.column_config.NumberColumn(format="%.0f"),
    "Changed": st.column_config.CheckboxColumn(
        help="Rank, quantity, cost, crimes prevented or benefit changed"
    ),
}


def unlit_streets(plan: Plan, hotspot_id: str) -> Any:
    """Street stretches inside a hotspot with no working lamp within the lamp radius (a GeoDataFrame).

    These are where a new lamp changes the lighting measure's quantity; the map draws them so a
    planner knows where to click.
    """
    import geopandas as gpd
    import shapely

    from planner.exposure import lamp_status
    from planner.layers import load_registry

    streets, lamps = plan.layers.get("streets"), plan.layers.get("street_lights")
    row = plan.hotspots.loc[plan.hotspots["hotspot_id"] == hotspot_id]
    if streets is None or lamps is None or row.empty or not len(streets):
        return None
    spec = load_registry().get("street_lights")
    radius = float(getattr(spec, "radius_m", None) or 20.0)
    area = row.geometry.iloc[0]
    inside = shapely.intersection(streets.geometry.to_numpy(), area)
    near = lamps[lamps.intersects(area.buffer(radius))]
    working = near[lamp_status(near, spec)] if spec is not None else near
    lit = shapely.union_all(working.geometry.buffer(radius).to_numpy()) if len(working) else None
    dark = shapely.difference(inside, lit) if lit is not None else inside
    parts = shapely.get_parts(dark[~shapely.is_empty(dark)])
    parts = parts[(shapely.get_type_id(parts) == 1) & (shapely.length(parts) >= 10.0)]
    return gpd.GeoDataFrame(geometry=list(parts), crs=plan.crs) if len(parts) else None


@st.cache_resource(show_spinner=False, max_entries=64)
def cached_unlit_streets(config_json: str, edits_json: str, hotspot_id: str) -> Any:
    """:func:`unlit_streets` of the (what-if edited) plan, cached: it is drawn on every rerun."""
    return unlit_streets(whatif_plan(config_json, edits_json), hotspot_id)


@st.cache_resource(show_spinner=False, max_entries=8)
def cached_rrv_chart(config_json: str) -> Any:
    """:func:`rrv_chart` of a configuration's risk factors, built once."""
    return rrv_chart(cached_plan(config_json).risk_factors)


@st.cache_data(show_spinner=False, max_entries=64)
def cached_portfolio(
    config_json: str, edits_json: str, budget: float, cap: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`portfolio_and_curve` for a (possibly what-if edited) plan, cached per budget and cap."""
    recs = whatif_plan(config_json, edits_json).recommendations
    return portfolio_and_curve(pd.DataFrame(recs), budget=budget, cap=cap)


def table_height(n_rows: int) -> int:
    """Pixel height that shows ``n_rows`` rows of an ``st.dataframe`` without a scroll bar."""
    return 35 * (n_rows + 1) + 3


def time_profile_chart(profile: dict[str, Any]) -> Any:
    """Bar chart of a hotspot's incidents by hour of day, night hours shaded."""
    import altair as alt

    hours = profile.get("hour_profile") or []
    data = pd.DataFrame(
        {
            "hour": list(range(len(hours))),
            "incidents": hours,
            "period": ["Night (19:00–07:00)" if h >= 19 or h < 7 else "Day" for h in range(len(hours))],
        }
    )
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("hour:O", title="Hour of day"),
            y=alt.Y("incidents:Q", title="Incidents"),
            color=alt.Color(
                "period:N",
                scale=alt.Scale(domain=["Day", "Night (19:00–07:00)"], range=["#E69F00", "#0072B2"]),
                legend=alt.Legend(title=None, orient="top"),
            ),
            tooltip=["hour", "incidents"],
        )
        .properties(height=200)
    )


def weekday_profile_chart(profile: dict[str, Any]) -> Any:
    """Bar chart of a hotspot's incidents by weekday."""
    import altair as alt

    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    counts = profile.get("weekday_profile") or []
    data = pd.DataFrame({"day": days[: len(counts)], "incidents": counts})
    return (
        alt.Chart(data)
        .mark_bar(color="#0072B2")
        .encode(x=alt.X("day:N", sort=days, title=None), y=alt.Y("incidents:Q", title="Incidents"))
        .properties(height=140)
    )


def category_mix_chart(profile: dict[str, Any]) -> Any:
    """Horizontal bars of a hotspot's crime types."""
    import altair as alt

    mix = profile.get("category_mix") or {}
    data = pd.DataFrame({"Crime type": [label(k) for k in mix], "Incidents": list(mix.values())})
    return (
        alt.Chart(data)
        .mark_bar(color="#7b3294")
        .encode(
            x=alt.X("Incidents:Q"),
            y=alt.Y("Crime type:N", sort="-x", title=None, axis=alt.Axis(labelLimit=200)),
            tooltip=["Crime type", "Incidents"],
        )
        .properties(height=alt.Step(24))
    )


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
