"""The dashboard's per-group view: the plan for crimes against one victim group (sex or age band).

A group view is the same pipeline run on the incidents of that group
(``RunConfig(attribute_filters={"victim_sex": ["female"]})``, :func:`planner.inputs.filter_incidents`),
so hotspots, measures and their reasons are found again for that group. Analysts only: two public
views filtered differently, differenced, would give small counts away.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from planner.io.groups import AGE_BANDS, SEX_VALUES, group_label

GROUP_KINDS = {"by sex": "victim_sex", "by age band": "victim_age_band"}


def victim_group_options(incidents: Any) -> dict[str, dict[str, int]]:
    """Per kind (``by sex``, ``by age band``): the known victim groups in the incidents and their
    counts, in vocabulary order; kinds the data do not carry are left out.
    """
    out: dict[str, dict[str, int]] = {}
    for kind, column in GROUP_KINDS.items():
        if column not in incidents.columns:
            continue
        counts = incidents[column].astype("string").value_counts()
        order = SEX_VALUES if column == "victim_sex" else AGE_BANDS
        known = {v: int(counts[v]) for v in order if v != "unknown" and counts.get(v, 0) > 0}
        if known:
            out[kind] = known
    return out


def victim_group_filter(incidents: Any) -> dict[str, list[str]]:
    """Sidebar control "Victims: all / by sex / by age band" and the group; returns the
    ``attribute_filters`` of the chosen view (empty for all victims).
    """
    st.header("Victims")
    options = victim_group_options(incidents)
    if not options:
        st.caption(
            "The data hold no victim attributes (sex, age band), so there is no per-group view. "
            "Columns named for the victim (e.g. 'Vict Sex', 'VIC_AGE_GROUP') are read when present."
        )
        return {}
    kind = st.radio("Victims", ["all", *options], key="victims", horizontal=True)
    if kind == "all":
        return {}
    counts = options[kind]
    value = st.selectbox(
        "Victim group",
        list(counts),
        key=f"victim_group_{GROUP_KINDS[kind]}",
        format_func=lambda v: f"{group_label(v)} ({counts[v]:,} incidents)",
    )
    st.caption(
        f"Hotspots, measures and their reasons for crimes against {group_label(value)} only "
        "(incidents whose victim group is unknown are left out)."
    )
    return {GROUP_KINDS[kind]: [value]}
