"""The dashboard's Evaluation tab: before/after with displacement (WDQ/WDD) or a micro-synthetic
control (:mod:`planner.evaluate.microsynth`), for a treatment area the analyst picks.

Evaluations count incidents before and after in small areas, so they are open to analysts only.
Results stay in the session (``evaluation``, ``microsynth``) until the next button press.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from planner._hours import NIGHT_LABEL
from planner.dashboard import tables
from planner.errors import PlannerError
from planner.plan import Plan

METHODS = {
    "wdq": "Before/after with displacement (WDQ/WDD)",
    "microsynth": "Micro-synthetic control",
}


def _inputs(plan: Plan, areas: dict[str, Any]) -> tuple[str, Any, bool]:
    c1, c2, c3 = st.columns(3)
    area_name = c1.selectbox("Treatment area", list(areas), key="eval_area")
    tmin, tmax = plan.incidents["occurred_at"].min(), plan.incidents["occurred_at"].max()
    mid = (tmin + (tmax - tmin) / 2).date()
    start = c2.date_input(
        "Start of the measure", mid, min_value=tmin.date(), max_value=tmax.date(), key="eval_start"
    )
    night = c3.toggle(f"Night-time only ({NIGHT_LABEL})", value=True, key="eval_night")
    return area_name, start, night


def _before_after(plan: Plan, area: Any, start: Any, night: bool) -> None:
    if st.button("Evaluate", key="eval_go"):
        try:
            st.session_state["evaluation"] = tables.evaluate_area(plan, area, start, night_only=night)
        except PlannerError as exc:
            st.error(str(exc))
    ev = st.session_state.get("evaluation")
    if ev is None:
        st.info(
            "Choose the area where the measure goes and the date it starts, then press Evaluate: the "
            "planner compares crime before and after in the area, in a buffer around it (did crime move "
            "next door, or did the benefit spread?) and in a similar control area."
        )
        return
    st.markdown(ev["interpretation"])
    st.dataframe(ev["counts"], width="stretch")
    st.altair_chart(ev["chart"], width="stretch")
    st.json(ev["numbers"], expanded=False)


def _microsynth(plan: Plan, area: Any, start: Any, night: bool) -> None:
    placebos = st.number_input(
        "Placebo areas",
        min_value=19,
        max_value=1000,
        value=250,
        step=10,
        key="ms_placebos",
        help="Random sets of places elsewhere, each given its own synthetic control: they give the "
        "p-value and interval. 250 is the standard; fewer run faster (19 is the least for p < 0.05).",
    )
    if st.button("Evaluate with a synthetic control", key="ms_go"):
        try:
            with st.spinner("Fitting the synthetic control and the placebo areas…"):
                st.session_state["microsynth"] = tables.microsynth_area(
                    plan, area, start, night_only=night, n_placebos=int(placebos)
                )
        except PlannerError as exc:
            st.session_state.pop("microsynth", None)
            st.error(str(exc))
    ms = st.session_state.get("microsynth")
    if ms is None:
        st.info(
            "The treatment area is split into small cells; a weighted set of cells elsewhere (outside the "
            "area and its buffer) is found whose crime counts matched the area's, crime type by crime type, "
            "before the start. After the start, Trt is the area's count and Con the synthetic control's."
        )
        return
    st.markdown(ms["interpretation"])
    st.dataframe(ms["effects"], hide_index=True, width="stretch", key="ms_effects")
    if ms["omnibus"] is not None:
        st.caption(f"Omnibus test across crime types (treatment area): permutation p = {ms['omnibus']:.3f}.")
    from planner.evaluate.microsynth import settings_sentence

    fit = ms.get("fit") or {}
    st.caption(settings_sentence(fit))
    st.markdown("**Balance before the start**: treated area against its synthetic control")
    if fit.get("rtm_correction") == "crossfit":
        st.caption(
            "The weights are fitted on a random half of each place's crimes before the start (doubled) and "
            "match the treated area exactly there ('counts fitted'); 'all counts' applies them to every "
            "crime before the start. Con is scaled to the treated area's level measured on the half the "
            "weights never saw."
        )
    else:
        st.caption(
            "The weights match the treated area exactly on every crime type in every before-period bin "
            "(as R microsynth does); the last columns show all places scaled to the area's size."
        )
    st.dataframe(ms["balance"], hide_index=True, width="stretch", key="ms_balance")
    st.markdown("**Placebo band**: the area's gap to its synthetic control against the placebo areas' gaps")
    st.altair_chart(ms["chart"], width="stretch")
    for note in ms["notes"]:
        st.caption(f"Note: {note}")


def show(plan: Plan, *, analyst: bool) -> None:
    """The Evaluation tab."""
    st.subheader("Evaluate a scheme")
    st.caption(
        "Fix the design (treatment area, buffer, control, periods) before work starts; the planner proposes a "
        "control area with a similar before-period level and trend that does not touch the buffer."
    )
    areas = tables.evaluation_areas(plan) if analyst else {}
    if not analyst:
        st.info("Evaluations count incidents before and after in small areas: they are open to analysts.")
        return
    if not areas:
        st.info("Load ward polygons or find hotspots to choose a treatment area.")
        return
    method = st.radio("Method", list(METHODS), format_func=METHODS.get, horizontal=True, key="eval_method")
    area_name, start, night = _inputs(plan, areas)
    if method == "microsynth":
        _microsynth(plan, areas[area_name], start, night)
    else:
        _before_after(plan, areas[area_name], start, night)
