"""The dashboard's "Perceived safety" tab: safety audits, their coverage per group and period, and
where fear and recorded crime disagree (:mod:`planner.perception`).

An analyst's comparison uses the recorded crimes per cell (night crimes for night audits, day crimes
for day audits); a viewer's uses the published cell counts only (withheld counts as 0, every period:
night crimes per cell are not published), as the public view's layer does
(:mod:`planner.export.public_perception`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from planner.plan import Plan

CLASS_ORDER = ["fear, little crime", "crime, little fear", "both high", "consistent", "too few audits"]
PERIOD_LABELS = {"all": "day and night", "day": "by day", "night": "at night"}


def group_name(group: str) -> str:
    """``young_people`` → ``young people``; ``all`` → ``all auditors``."""
    return "all auditors" if group == "all" else str(group).replace("_", " ")


def crimes_per_cell(plan: Plan, period: str, *, analyst: bool) -> tuple[np.ndarray, str]:
    """Recorded crimes per cell (order of ``plan.cells``) to compare with audits of ``period``, and
    what they are in words.

    An analyst's are counted from the incidents (:func:`planner.perception.crimes_per_cell`, of that
    period when the data have a time of day); a viewer's are the published cell counts
    (:func:`planner.export.public_perception.published_crimes`).
    """
    from planner import perception
    from planner._hours import NIGHT_LABEL, has_time_of_day
    from planner.export.public_perception import published_crimes

    if not analyst or not len(plan.incidents):
        return published_crimes(
            plan.cells
        ), "published crimes per cell (counts below k withheld, ranked as 0)"
    if period in {"day", "night"} and has_time_of_day(plan.incidents.attrs.get("time_resolution")):
        when = "at night" if period == "night" else "by day"
        what = f"recorded crimes per cell {when} ({NIGHT_LABEL} is night)"
        return perception.crimes_per_cell(plan.cells, plan.incidents, period=period), what
    return perception.crimes_per_cell(plan.cells, plan.incidents), "recorded crimes per cell"


def disagreement_counts(
    plan: Plan, group: str, period: str, *, analyst: bool
) -> tuple[pd.DataFrame, str, str]:
    """Cells per fear-vs-crime class for one auditor group and period, the rule and the crime measure.

    Calls :func:`planner.perception.fear_crime_disagreement` on the run's perceived-safety surface
    with :func:`crimes_per_cell`.
    """
    from planner.perception import fear_crime_disagreement

    crimes, what = crimes_per_cell(plan, period, analyst=analyst)
    layer = fear_crime_disagreement(plan.perception.surface, plan.cells, crimes, group=group, period=period)
    counts = layer["class"].value_counts().reindex(CLASS_ORDER, fill_value=0)
    covered = int(counts.drop("too few audits").sum())
    table = pd.DataFrame(
        {
            "Class": counts.index,
            "Cells": counts.to_numpy(dtype=int),
            "Share of audited cells": [
                "" if c == "too few audits" or not covered else f"{n / covered:.0%}"
                for c, n in counts.items()
            ],
        }
    )
    return table, str(layer.attrs.get("rule", "")), what


def coverage_display(coverage: pd.DataFrame) -> pd.DataFrame:
    """The coverage table in plain words (group, period, audits, cells covered, share)."""
    return pd.DataFrame(
        {
            "Auditors": coverage["group"].map(group_name),
            "When": coverage["period"].map(PERIOD_LABELS),
            "Audits": coverage["n_audits"].astype(int),
            "Cells covered": coverage["cells_covered"].astype(int),
            "Share of audited cells": coverage["share_of_audited_cells"].map(lambda v: f"{v:.0%}"),
        }
    )


def _import_summary(result: Any) -> None:
    rep = result.report
    cols = st.columns(3)
    for col, (name, key) in zip(
        cols,
        [("Audit rows read", "rows_read"), ("Accepted", "rows_accepted"), ("Set aside", "rows_quarantined")],
        strict=True,
    ):
        value = rep.get(key)
        col.metric(name, f"{value:,}" if isinstance(value, int) else "–")
    st.caption(
        f"From {Path(str(rep.get('source', 'the audit file'))).name}: each audit scores a place 0–3 (3 = good) on lighting, "
        "openness, visibility, people around, gender mix, security, walking path and public transport; its "
        f"perceived safety is the mean. Scores are smoothed over a {result.params.get('bandwidth_m', 400):.0f} m "
        f"radius; a cell needs {result.params.get('min_audits', 5)} audits within it to be mapped."
    )
    reasons = rep.get("reasons") or {}
    if reasons:
        with st.expander("Why audit rows were set aside"):
            st.dataframe(
                pd.DataFrame({"Reason": list(reasons), "Rows": list(reasons.values())}),
                hide_index=True,
                width="stretch",
            )


def _disagreement_chooser(plan: Plan, *, analyst: bool) -> None:
    surface = plan.perception.surface
    groups = list(dict.fromkeys(surface["group"]))
    c1, c2 = st.columns(2)
    group = c1.selectbox("Auditor group", groups, format_func=group_name, key="perc_group")
    period = str(
        c2.selectbox(
            "Audits made", list(PERIOD_LABELS), format_func=lambda p: PERIOD_LABELS[p], key="perc_period"
        )
    )
    group = str(group)
    table, rule, what = disagreement_counts(plan, group, period, analyst=analyst)
    st.markdown(
        f"**Fear vs recorded crime: audits by {group_name(group)} {PERIOD_LABELS[period]}**, "
        f"compared with {what}."
    )
    st.dataframe(table, hide_index=True, width="stretch", key="perc_counts")
    st.caption(f"Rule: {rule}")


def show(plan: Plan, *, analyst: bool) -> None:
    """The "Perceived safety" tab for ``plan`` (an analyst's full plan or a viewer's public view)."""
    result = plan.perception
    st.subheader("Perceived safety: how safe places feel, to whom")
    if result is None:
        st.info(
            "This run has no safety audits. Add them to map how safe places feel per group and where "
            "fear and recorded crime disagree: `planner audits FILE --incidents ...` on the command "
            "line, or `RunConfig(audits='audits.csv')` (with `audits_crs=` for bare x/y) in the run "
            "configuration (README: the `planner audits` command)."
        )
        return
    _import_summary(result)
    st.markdown("**Coverage per auditor group, by day and at night**")
    st.dataframe(coverage_display(result.coverage), hide_index=True, width="stretch", key="perc_coverage")
    if result.warnings:
        st.warning("**Read with care:**\n" + "\n".join(f"- {line}" for line in result.warnings))
    st.subheader("Where fear and recorded crime disagree")
    st.caption(
        "The map's layer 'Fear vs recorded crime' (layer control, top right) shows all audits against "
        "all recorded crime; choose a group and period here to count the cells again for them."
    )
    _disagreement_chooser(plan, analyst=analyst)
    if not analyst:
        st.caption(
            "Public view: recorded crime is ranked by the published cell counts; no crime count is "
            "shown per cell."
        )
