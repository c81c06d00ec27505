"""Streamlit dashboard: the planner's whole workflow on one interactive map.

Thin shell: widgets → ``planner`` calls (via ``planner.dashboard``) → rendering. Run with ``make run``.
"""

from __future__ import annotations

import json
import logging

import pandas as pd
import streamlit as st

from planner import export
from planner.config import RunConfig
from planner.dashboard import (
    access,
    charts,
    evaluation_panel,
    groups,
    perception_panel,
    state,
    tables,
    uploads,
    widgets,
)
from planner.dashboard import map_component as mapc
from planner.errors import PlannerError
from planner.export.csv_safe import csv_text
from planner.maps import overlay_script as plan_overlay

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
st.set_page_config(page_title="Crime prevention planner", page_icon="🗺️", layout="wide")
user = access.current_user()  # sign-in page first when sign-in is configured
analyst = user.is_analyst  # a viewer gets the public view of the plan, built on the server
st.title("Situational crime prevention planner")
st.caption(
    "Where is crime concentrated, why there, and what should we change? "
    "Places, not people: results describe places and are aggregated for publication."
)
notice = st.container()  # messages about the data, shown in the main area

# ---------------------------------------------------------------- sidebar: data and filters
with st.sidebar:
    widgets.user_box(user)
    st.header("Data")
    source = (
        st.radio("Incidents", ["Sample city", "Upload a file"], key="source", horizontal=True)
        if analyst
        else "Published plan"
    )
    config_values: dict = {} if analyst else access.viewer_config()
    if not analyst:
        st.caption(
            "You see the published view: no incident points, no count below "
            f"{RunConfig(**config_values).k_min}, nothing from which one could be worked back. Filters "
            "and per-group (victim) views are for analysts: two filtered public views, differenced, "
            "would give small counts away."
        )
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
            path = uploads.save_upload(upload, st.session_state)  # once per content, per session
        except PlannerError as exc:
            st.error(str(exc))
            st.stop()
        config_values.update(incidents=str(path), crs=crs_text or None)

    rename = {str(path): upload.name} if source == "Upload a file" else None
    base_plan = state.get_plan(RunConfig(**config_values), analyst=analyst, container=notice, rename=rename)
    if base_plan is None:
        st.stop()

if analyst:  # filters, cell size: analysts only (two filtered public views, differenced, would
    # give small counts away)
    with st.sidebar:
        victims = groups.victim_group_filter(base_plan.incidents)
        if victims:
            config_values["attribute_filters"] = victims
        st.header("Filters")
        all_cats = sorted(base_plan.incidents["category"].unique())
        cats = st.multiselect("Crime types", all_cats, default=all_cats, format_func=tables.label, key="cats")
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

with st.sidebar:
    st.header("Guideline limits")
    if st.toggle("Consider measures that restrict public access (e.g. alley gating)", key="allow_access"):
        config_values["allow_access_restriction"] = True
    if st.toggle("Let cameras rank above similar non-surveillance measures", key="allow_cams"):
        config_values["allow_surveillance_priority"] = True

plan = state.get_plan(RunConfig(**config_values), analyst=analyst, container=notice, rename=rename)  # cached
if plan is None:
    st.stop()

tabs = st.tabs(
    [
        "Map & hotspots",
        "Overview",
        "Environment",
        "Perceived safety",
        "Interventions",
        "Evaluation",
        "Export",
        "Data",
    ]
)

# ---------------------------------------------------------------- overview
with tabs[1]:
    widgets.metric_row(plan)
    if analyst:
        series = tables.incidents_over_time(plan)
        st.subheader("Incidents per month")
        st.altair_chart(charts.incidents_per_month_chart(series), width="stretch")
        st.subheader("When: weekday × hour of day")
        st.dataframe(tables.weekday_hour_table(plan).style.background_gradient(cmap="Blues"), width="stretch")
    else:
        st.info("Counts by month, weekday and hour are shown to analysts; see each hotspot's profile.")

# ---------------------------------------------------------------- hotspots and map
config_json = RunConfig(**config_values).model_dump_json()
ids = list(plan.hotspots["hotspot_id"])
edits: list = st.session_state.setdefault("whatif_edits", [])
edits_json = json.dumps(edits, sort_keys=True)
if st.session_state.get("hotspot_pick") not in ids:
    st.session_state.pop("hotspot_pick", None)
with tabs[0]:
    left, right = st.columns([3, 2])
    with left:
        mode = st.radio(
            "Clicking the map will…",
            list(mapc.CLICK_MODES) if analyst else ["select"],
            format_func=mapc.CLICK_MODES.get,
            horizontal=True,
            key="click_mode",
            help="What-if edits (lamps, cameras, closed access points) re-rank the measures at once; "
            "see the comparison under the map and in the Interventions tab.",
        )
        direction = 0.0
        if mode == "camera":
            direction = st.slider(
                "New camera faces (compass degrees, 0 = north)", 0, 355, 0, 5, key="cam_dir"
            )
        payload = mapc.map_payload(config_json, analyst=analyst)
        # The map's last click is in the session before the map is drawn: act on it first, so the
        # selection, the what-if edits and the overlay are drawn in this same run (one run per click).
        st.session_state["map_event"], click = mapc.map_click(
            mapc.map_state(payload), st.session_state.get("map_event")
        )
        click_problem = None
        if click is not None and mode == "select":
            hid = tables.hotspot_at(plan, click["lat"], click["lng"]) or mapc.clicked_hotspot(
                mapc.map_state(payload), ids
            )
            if hid:
                st.session_state["hotspot_pick"] = hid  # the picker follows the map
        elif click is not None and analyst:
            try:
                edited = state.whatif_plan(config_json, edits_json)
                edits.append(
                    state.map_click_edit(edited, mode, click["lat"], click["lng"], direction_deg=direction)
                )
                edits_json = json.dumps(edits, sort_keys=True)
            except PlannerError as exc:
                click_problem = str(exc)
        selected = st.session_state.get("hotspot_pick") or (ids[0] if ids else None)
        edited = state.whatif_plan(config_json, edits_json) if analyst else plan
        overlay = plan_overlay(
            selected=edited.hotspots[edited.hotspots["hotspot_id"] == selected] if selected else None,
            unlit=state.cached_unlit_streets(config_json, edits_json, selected)
            if selected and analyst
            else None,
            edits=edits,
            click_mode=mode,
        )
        mapc.show_map(payload, key="map", height=620, overlay=overlay)
        if click_problem:
            st.warning(click_problem)
    with right:
        st.subheader("Hotspots")
        st.caption(
            f"Gi* on {plan.params['cell_size_m']:.0f} m cells ({plan.params['cell_size_rule']}), "
            f"{plan.params['neighbourhood']} neighbourhood, FDR {plan.params['fdr'].upper()} q = {plan.params['q']}; "
            f"kernel density bandwidth {plan.params['bandwidth_m']:.0f} m ({plan.params['bandwidth_rule']})."
        )
        st.dataframe(
            tables.hotspot_table(plan),
            hide_index=True,
            width="stretch",
            column_config=widgets.HOTSPOT_COLUMNS,
        )
        if ids:
            selected = st.selectbox(
                "Hotspot shown (or click one on the map)",
                ids,
                key="hotspot_pick",
            )
        if edits:
            st.caption(f"{len(edits)} what-if edit(s) on the map.")
            if st.button("Remove all what-if edits", key="whatif_clear"):
                st.session_state["whatif_edits"] = []
                st.rerun()
    st.session_state["selected_hotspot"] = selected
    if selected:
        profile = tables.hotspot_profile(plan, selected)
        st.subheader(f"Profile of hotspot {selected}")
        st.markdown(tables.profile_sentence(profile))
        c1, c2, c3 = st.columns(3)
        with c1:
            st.markdown("**Crime types**")
            st.altair_chart(charts.category_mix_chart(profile), width="stretch")
            victims_mix = tables.victim_mix_table(profile, k=None if analyst else int(plan.config.k_min))
            if len(victims_mix):
                st.markdown("**Victims (sex and age band)**")
                st.dataframe(
                    victims_mix,
                    hide_index=True,
                    width="stretch",
                    height=tables.table_height(len(victims_mix)),
                    key="victim_mix",
                )
        with c2:
            st.markdown("**When: hour of day and weekday**")
            st.altair_chart(charts.time_profile_chart(profile), width="stretch")
            st.altair_chart(charts.weekday_profile_chart(profile), width="stretch")
        with c3:
            st.markdown("**Environment (exposure profile)**")
            summary = tables.exposure_summary(edited, selected)
            if summary.empty:
                st.info("No environmental layers were loaded, so no exposure can be measured.")
            else:
                st.dataframe(
                    pd.DataFrame(
                        {
                            "What": summary["Layer"] + ": " + summary["Measure"].str.lower(),
                            "Value": summary["Value"],
                        }
                    ),
                    hide_index=True,
                    width="stretch",
                    height=tables.table_height(len(summary)),
                )
        if edits:
            st.markdown(f"**What-if: ranked measures for {selected} before and after your map edits**")
            widgets.show_whatif_comparison(plan, edited, selected, key="whatif_table_map")

# ---------------------------------------------------------------- data and fitness
with tabs[7]:
    rep = plan.ingest_report
    st.subheader("Ingest report")
    cols = st.columns(3)
    for col, (name, key) in zip(
        cols,
        [("Rows read", "rows_read"), ("Accepted", "rows_accepted"), ("Quarantined", "rows_quarantined")],
        strict=True,
    ):
        value = rep.get(key)
        col.metric(name, f"{value:,}" if isinstance(value, int) else "withheld")
    for warning in rep.get("warnings", []):
        st.warning(warning)
    st.caption("The full ingest report (for analysts): columns detected, CRS, time resolution, checks.")
    st.json({k: v for k, v in rep.items() if k not in {"warnings"}}, expanded=False)
    if analyst and len(plan.quarantine):
        st.download_button("Download quarantined rows (CSV)", csv_text(plan.quarantine), "quarantine.csv")

# ---------------------------------------------------------------- environment
with tabs[2]:
    st.subheader(f"Environment of hotspot {selected}" if selected else "Environment")
    if selected:
        summary = tables.exposure_summary(edited, selected)
        if summary.empty:
            st.info("No environmental layers were loaded, so no exposure can be measured.")
        else:
            st.caption(
                "What is in and around the hotspot: features that protect (lamps, cameras), draw crime "
                "(bars, cash machines, transit stops) or give ways in and out. Pick another hotspot on the map."
            )
            st.dataframe(summary, hide_index=True, width="stretch", height=tables.table_height(len(summary)))
            with st.expander("Every exposure measure (for analysts)"):
                st.dataframe(tables.exposure_table(edited, selected), hide_index=True, width="stretch")
    st.subheader("Risk terrain: which features go with crime")
    if plan.risk_factors is not None and len(plan.risk_factors):
        st.caption(
            "How much more (or less) crime places have near each feature, all else equal: 2 means twice the "
            "crime, 0.8 means 20% less. The line is the 95% interval; features whose line crosses 1 are not "
            "clearly linked to crime."
        )
        st.altair_chart(state.cached_rrv_chart(config_json), width="stretch")
        st.dataframe(tables.risk_factor_table(plan.risk_factors), hide_index=True, width="stretch")
        with st.expander("Model details (for analysts)"):
            st.caption(
                f"{plan.params.get('risk_family', '')} regression of cell counts; relative risk value RRV = exp(β)."
            )
            st.dataframe(plan.risk_factors, hide_index=True, width="stretch")
    else:
        st.info("No risk-terrain model: load environmental layers to fit one.")

# ---------------------------------------------------------------- perceived safety
with tabs[3]:
    perception_panel.show(plan, analyst=analyst)

# ---------------------------------------------------------------- interventions
with tabs[4]:
    recs = edited.recommendations
    if recs is None or not len(recs):
        st.info("No hotspots, so no measures to rank.")
    else:
        st.subheader(f"Ranked measures for hotspot {selected}")
        costed = plan.config.currency is not None
        st.caption(
            "Expected crimes prevented per year and benefit-cost ratio (BCR) with 90% intervals from a Monte "
            + (
                f"Carlo simulation; costs are present values in {plan.config.currency} (labelled assumptions); "
                if costed
                else "Carlo simulation; measures are ranked by crimes prevented, not costed (see below); "
            )
            + "every effect cites its source. Pick another hotspot on the map or in the Map & hotspots tab."
        )
        if not costed:
            st.info(tables.not_costed_reason(plan))
        if edits:
            st.info(
                f"Includes your {len(edits)} what-if edit(s) from the map; the comparison with the plan as it "
                "is comes below the table."
            )
        view = recs[recs["hotspot_id"] == selected].sort_values("rank")
        hotspot_note = view["hotspot_note"].iloc[0] if "hotspot_note" in view.columns and len(view) else ""
        if isinstance(hotspot_note, str) and hotspot_note:  # no situational measure pays back here
            st.warning(hotspot_note)
        st.dataframe(
            tables.recommendation_table(view),
            hide_index=True,
            width="stretch",
            column_config=widgets.RECOMMENDATION_COLUMNS,
            key="ranked_table",
        )
        if edits:
            widgets.show_whatif_comparison(plan, edited, selected, key="whatif_table")
        else:
            st.caption(
                "What if? In the Map & hotspots tab, choose what a click does (add a lamp or camera, close an "
                "access point) and click the map: the measures are re-ranked at once."
            )
        with st.expander("Why these measures (reasons, evidence, privacy and access notes)"):
            for _, r in view.iterrows():
                st.markdown(f"**{r['rank']}. {r['name']}** — {r['reasons']}")
                if r["privacy_note"]:
                    st.warning(f"Privacy: {r['privacy_note']}")
                if r["access_note"]:
                    st.warning(f"Public access: {r['access_note']}")
                victims_text = tables.groups_reached_text(r.get("groups_reached"))
                if victims_text and "Victims of the reached crimes" not in str(r["reasons"]):
                    st.caption(f"Victims of the reached crimes: {victims_text}")
                st.caption(f"Source: {r['source']}")

        st.subheader("Portfolio under a budget")
        if not costed:
            st.info("No portfolio: choosing measures under a budget needs costs in the place's own currency.")
        else:
            total = float(recs.loc[recs["net_benefit"] > 0, "cost"].sum())
            c1, c2 = st.columns(2)
            budget = c1.number_input(
                f"Budget ({plan.config.currency}, present value)",
                min_value=0.0,
                value=float(round(total / 4, -3)),
                step=10000.0,
                key="budget",
            )
            cap = c2.slider("Max share of budget on surveillance", 0.0, 1.0, 1.0, 0.05, key="cap")
            portfolio, curve = state.cached_portfolio(
                config_json, edits_json, float(budget), float(cap), analyst
            )
            st.metric(
                "Chosen measures",
                len(portfolio),
                help="The best set of measures (across all hotspots) whose total cost fits the budget: the exact "
                "optimum of expected net benefit (benefit minus cost).",
            )
            st.dataframe(
                tables.recommendation_table(portfolio),
                hide_index=True,
                width="stretch",
                column_config=widgets.RECOMMENDATION_COLUMNS,
                key="portfolio_table",
            )
            st.markdown(
                "**What each budget buys**: expected net benefit of the best portfolio at each budget"
            )
            st.altair_chart(charts.budget_chart(curve), width="stretch")

# ---------------------------------------------------------------- evaluation
with tabs[5]:
    evaluation_panel.show(plan, analyst=analyst)

# ---------------------------------------------------------------- export
with tabs[6]:
    st.subheader("Export the plan")
    st.caption(
        "The same files as `planner export`: GeoPackage with QGIS styles, GeoJSON, Shapefile, KML, "
        "FlatGeobuf, GeoParquet, Cloud-Optimised GeoTIFF, CSV, offline HTML map, printable brief and "
        "the manifest. **Public** exports hold no incident points and no counts below k."
    )
    e1, e2, e3 = st.columns([1, 1, 3])
    levels = ["public", "internal"] if analyst else ["public"]
    privacy = e1.selectbox("Privacy", levels, key="export_privacy")
    floor = 1 if analyst else int(plan.config.k_min)
    k_min = int(
        e2.number_input(
            "k (smallest count shown)", min_value=floor, value=max(5, floor), step=1, key="export_k"
        )
    )
    chosen = e3.multiselect(
        "Formats", list(export.FORMATS), default=list(export.FORMATS), key="export_formats"
    )
    if privacy == "internal":
        st.warning("Internal exports contain incident-level data. Do not publish them.")
    if st.button("Prepare export", key="export_go", disabled=not chosen):
        try:
            # built on the server from the full plan at the chosen level: a viewer only ever gets public
            full = state.cached_plan(config_json)
            st.session_state["export_zip"] = export.export_zip(
                full, formats=chosen, privacy=privacy if analyst else "public", k=k_min
            )
            access.audit_export(
                user, privacy=privacy, k=k_min, round_to=1, formats=list(chosen), config=config_json
            )
        except PlannerError as exc:
            st.error(str(exc))
    if st.session_state.get("export_zip"):
        st.download_button(
            "Download plan.zip",
            st.session_state["export_zip"],
            "plan.zip",
            "application/zip",
            key="export_dl",
        )
