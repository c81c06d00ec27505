"""Charts for evaluations: before/after series of treatment, buffer and control, start marked.

Altair (installed with Streamlit) is imported lazily, so the library runs without it; the dashboard
renders the returned chart with ``st.altair_chart``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import pandas as pd

if TYPE_CHECKING:
    import altair as alt

__all__ = ["before_after_chart", "placebo_band_chart", "placebo_band_data"]


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


def placebo_band_data(result: Any, *, area: str = "treatment") -> pd.DataFrame:
    """Tidy per-bin data for the placebo-band chart of a micro-synthetic control.

    Parameters
    ----------
    result : MicrosynthResult
        From :func:`planner.evaluate.microsynth.evaluate_microsynth`.
    area : {"treatment", "buffer"}

    Returns
    -------
    DataFrame
        ``outcome``, ``bin_start``, ``bin_end``, ``phase``, ``treated``, ``synthetic`` (counts),
        ``gap_pct`` (treated vs synthetic, −0.2 = 20 % fewer) and, when placebos ran,
        ``band_low``/``band_high`` (the placebo areas' middle 1 − α of the same gap).
    """
    series = result.areas[area].series.copy()
    series.insert(0, "area", area)
    return series


def placebo_band_chart(data: pd.DataFrame, start: Any, *, title: str | None = None) -> alt.FacetChart:
    """Altair chart: the treated area's % gap to its synthetic control per time bin, over the band
    the placebo areas' gaps fill, one panel per outcome, with the start date marked.

    Parameters
    ----------
    data : DataFrame
        Output of :func:`placebo_band_data`.
    start : date-like
        The date the measure started.

    Returns
    -------
    altair.FacetChart
    """
    import altair as alt

    frame = data.assign(
        mid=data["bin_start"] + (data["bin_end"] - data["bin_start"]) / 2, start=pd.Timestamp(start)
    )
    base = alt.Chart(frame)
    layers = []
    if "band_low" in frame.columns:
        layers.append(
            base.mark_area(opacity=0.25, color="grey").encode(
                x=alt.X("mid:T", title="time bin"),
                y=alt.Y("band_low:Q", title="treated vs synthetic", axis=alt.Axis(format="%")),
                y2="band_high:Q",
                tooltip=[
                    "bin_start:T",
                    "bin_end:T",
                    alt.Tooltip("band_low:Q", format=".1%"),
                    alt.Tooltip("band_high:Q", format=".1%"),
                ],
            )
        )
    layers.append(
        base.mark_line(point=True, color="black").encode(
            x=alt.X("mid:T", title="time bin"),
            y=alt.Y("gap_pct:Q", title="treated vs synthetic", axis=alt.Axis(format="%")),
            tooltip=[
                "bin_start:T",
                "bin_end:T",
                "treated:Q",
                alt.Tooltip("synthetic:Q", format=".1f"),
                alt.Tooltip("gap_pct:Q", format=".1%"),
            ],
        )
    )
    # one data source for every layer: a faceted layer chart cannot mix data sets
    rule = base.mark_rule(strokeDash=[6, 4]).encode(x="start:T")
    zero = base.mark_rule(color="grey").encode(y=alt.datum(0))
    chart = alt.layer(*layers, rule, zero).facet(row=alt.Row("outcome:N", title=None))
    return cast("alt.FacetChart", chart.properties(title=title) if title else chart)
