"""Streamlit rendering helpers shared by the dashboard's tabs (column formats, metric rows)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from planner.dashboard.tables import headline_metrics, whatif_comparison, whatif_summary
from planner.plan import Plan

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
    "EMMIE grade (0-4)": st.column_config.TextColumn(
        help="Quality of the evidence on Effect, Mechanism, Moderators (Mo), Implementation and Economics "
        "(Ec): 0 none, 1 limited, 2 moderate, 3 strong, 4 very strong. How much is known, not how big "
        "the effect is."
    ),
    "Plausibility": st.column_config.TextColumn(
        help="Flagged when the benefit-cost ratio is more than 4× from the measure's published return, or above 20"
    ),
    "Prevented / yr with those above": st.column_config.NumberColumn(
        format="%.1f",
        help="This measure with the paying measures ranked above it, combined on the crimes they share (not added)",
    ),
}

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


def metric_row(plan: Plan) -> None:
    """Headline numbers of a plan, side by side."""
    for col, (name, value) in zip(st.columns(4), headline_metrics(plan).items(), strict=True):
        col.metric(name, value)


def show_whatif_comparison(plan: Plan, edited: Plan, hotspot_id: str, *, key: str) -> None:
    """The before/after table of a hotspot's ranked measures under the what-if edits, with its summary."""
    comparison = whatif_comparison(plan, edited, hotspot_id)
    st.markdown(whatif_summary(comparison, hotspot_id))
    st.dataframe(comparison, hide_index=True, width="stretch", column_config=WHATIF_COLUMNS, key=key)


def user_box(user: Any) -> None:
    """Who is signed in, with which role, and a sign-out button (when sign-in is configured); without
    sign-in, whether this is the person at this machine ("local, single user") or a visitor.
    """
    if user.signed_in:
        st.caption(f"Signed in as **{user.name}** ({user.role})")
        if st.button("Sign out", key="sign_out"):
            st.logout()
    elif user.is_local:
        st.caption(
            f"Local, single user ({user.role}): no sign-in, for the person at this machine. "
            "To share the dashboard, host it with sign-in (README, Hosting the dashboard)."
        )
    else:
        st.caption(f"Public view: not signed in ({user.role})")
