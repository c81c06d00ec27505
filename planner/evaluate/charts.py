"""Charts for evaluations: before/after series of treatment, buffer and control, start marked.

Altair (installed with Streamlit) is imported lazily, so the library runs without it; the dashboard
renders the returned chart with ``st.altair_chart``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import pandas as pd

if TYPE_CHECKING:
    import altair as alt

__all__ = ["before_after_chart"]


def before_after_chart(series: pd.DataFrame, start: Any, *, title: str | None = None) -> alt.LayerChart:
    """Altair line chart of counts per 30 days by area, with the start date marked.

    Parameters
    ----------
    series : DataFrame
        Output of :func:`planner.evaluate.design.before_after_series` (``period``, ``area``,
        ``count``, ``days``).
    start : date-like
        The date the measure started (drawn as a vertical rule).

    Returns
    -------
    altair.LayerChart
    """
    import altair as alt

    data = series.assign(per_30_days=series["count"] / series["days"].clip(lower=1e-9) * 30.0)
    line = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("period:T", title="period"),
            y=alt.Y("per_30_days:Q", title="crimes per 30 days"),
            color=alt.Color("area:N", title="area"),
            tooltip=["period:T", "area:N", "count:Q", "days:Q"],
        )
    )
    rule_data = pd.DataFrame({"start": [pd.Timestamp(start)], "label": ["measure starts"]})
    rule = alt.Chart(rule_data).mark_rule(strokeDash=[6, 4], color="black").encode(x="start:T")
    text = (
        alt.Chart(rule_data)
        .mark_text(align="left", dx=4, dy=-4, baseline="top")
        .encode(x="start:T", text="label:N")
    )
    chart = alt.layer(line, rule, text)
    return cast("alt.LayerChart", chart.properties(title=title) if title else chart)
