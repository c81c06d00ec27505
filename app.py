"""Streamlit dashboard: the planner's whole workflow on one interactive map.

Thin shell: widgets → ``planner`` calls (via ``planner.ui``) → rendering. Run with ``make run``.
"""

from __future__ import annotations

import logging

import altair as alt
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from planner import ui
from planner.config import RunConfig
from planner.errors import PlannerError
from planner.maps import plan_map

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
st.set_page_config(page_title="Crime prevention planner", page_icon="🗺️", layout="wide")
st.title("Situational crime prevention planner")
st.caption(
    "Where is crime concentrated, why there, and what should we change? "
    "Places, not people: results describe places and are aggregated for publication."
)

# ---------------------------------------------------------------- sidebar: data and filters
with st.sidebar:
    st.header("Data")
    source = st.radio("Incidents", ["Sample city", "Upload a file"], key="source", horizontal=True)
    config_values: dict = {}
    if source == "Upload a file":
        upload = st.file_uploader(
            "Incident file (CSV, Excel, GeoJSON, GeoPackage, zipped Shapefile, GeoParquet)",
            key="upload",
        )
        crs_text = st.text_input("CRS of bare x/y coordinates (e.g. EPSG:26971)", key="upload_crs")
        if upload is None:
            st.info("Upload incidents to analyse them, or switch back to the sample city.")
            st.stop()
        try:
            path = ui.save_upload(upload)
        except PlannerError as exc:
            st.error(str(exc))
            st.stop()
        config_values.update(incidents=str(path), crs=crs_text or None)

    base_plan = ui.get_plan(RunConfig(**config_values))
    if base_plan is None:
        st.stop()

    st.header("Filters")
    all_cats = sorted(base_plan.incidents["category"].unique())
    cats = st.multiselect("Crime types", all_cats, default=all_cats, format_func=ui.label, key="cats")
    tmin = base_plan.incidents["occurred_at"].min().date()
    tmax = base_plan.incidents["occurred_at"].max().date()
    dates = st.date_input("Date range", (tmin, tmax), min_value=tmin, max_value=tmax, key="dates")
    if set(cats) != set(all_cats):
        config_values["categories"] = cats
    if isinstance(dates, tuple) and len(dates) == 2 and (dates[0], dates[1]) != (tmin, tmax):
        config_values["date_from"] = str(dates[0])
        config_values["date_to"] = str(pd.Timestamp(dates[1]) + pd.Timedelta(days=1))

    st.header("Hotspot method")
    cell = st.select_slider(
        "Cell size (m)",
        [0, 50, 75, 100, 150, 200, 250],
        value=0,
        key="cell",
        format_func=lambda v: "automatic" if v == 0 else f"{v} m",
    )
    if cell:
        config_values["cell_size_m"] = float(cell)

plan = ui.get_plan(RunConfig(**config_values))  # cached per configuration
if plan is None:
    st.stop()

tabs = st.tabs(["Map & hotspots", "Overview", "Data"])

# ---------------------------------------------------------------- overview
with tabs[1]:
    ui.metric_row(plan)
    series = ui.incidents_over_time(plan)
    st.subheader("Incidents per month")
    st.altair_chart(
        alt.Chart(series).mark_line().encode(x="month:T", y="incidents:Q", color="category:N"),
        use_container_width=True,
    )
    st.subheader("When: weekday × hour of day")
    st.dataframe(
        ui.weekday_hour_table(plan).style.background_gradient(cmap="Blues"), use_container_width=True
    )

# ---------------------------------------------------------------- hotspots and map
with tabs[0]:
    left, right = st.columns([3, 2])
    selected = st.session_state.get("selected_hotspot")
    with left:
        m = plan_map(plan, selected_hotspot=selected)
        out = st_folium(
            m,
            key="map",
            height=620,
            use_container_width=True,
            returned_objects=["last_active_drawing", "last_object_clicked_popup"],
        )
        clicked = (out or {}).get("last_active_drawing") or {}
        hid = (clicked.get("properties") or {}).get("hotspot_id")
        if hid and hid != selected:
            st.session_state["selected_hotspot"] = hid
            st.rerun()
    with right:
        st.subheader("Hotspots")
        st.caption(
            f"Gi* on {plan.params['cell_size_m']:.0f} m cells ({plan.params['cell_size_rule']}), "
            f"{plan.params['neighbourhood']} neighbourhood, FDR {plan.params['fdr'].upper()} q = {plan.params['q']}; "
            f"kernel density bandwidth {plan.params['bandwidth_m']:.0f} m ({plan.params['bandwidth_rule']})."
        )
        st.dataframe(ui.hotspot_table(plan), hide_index=True, use_container_width=True)
        ids = list(plan.hotspots["hotspot_id"])
        if ids:
            choice = st.selectbox(
                "Hotspot profile",
                ids,
                index=ids.index(selected) if selected in ids else 0,
                key="hotspot_pick",
            )
            st.session_state["selected_hotspot"] = choice
            profile = ui.hotspot_profile(plan, choice)
            st.markdown(
                f"**{choice}**: {profile['n_incidents']} incidents "
                f"({profile['incidents_per_year']:.1f} per year) on {profile['area_m2'] / 1e4:.1f} ha; "
                f"{profile['night_share']:.0%} at night."
            )
            if "category_mix" in profile:
                mix = pd.DataFrame(
                    {
                        "category": [ui.label(k) for k in profile["category_mix"]],
                        "incidents": list(profile["category_mix"].values()),
                    }
                )
                st.altair_chart(
                    alt.Chart(mix).mark_bar().encode(x="incidents:Q", y=alt.Y("category:N", sort="-x")),
                    use_container_width=True,
                )

# ---------------------------------------------------------------- data and fitness
with tabs[2]:
    rep = plan.ingest_report
    st.subheader("Ingest report")
    cols = st.columns(3)
    cols[0].metric("Rows read", f"{rep.get('rows_read', 0):,}")
    cols[1].metric("Accepted", f"{rep.get('rows_accepted', 0):,}")
    cols[2].metric("Quarantined", f"{rep.get('rows_quarantined', 0):,}")
    for warning in rep.get("warnings", []):
        st.warning(warning)
    st.json({k: v for k, v in rep.items() if k not in {"warnings"}}, expanded=False)
    if len(plan.quarantine):
        st.download_button(
            "Download quarantined rows (CSV)", plan.quarantine.to_csv(index=False), "quarantine.csv"
        )
