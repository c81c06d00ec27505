"""The dashboard's charts (Altair, rendered with ``st.altair_chart``; no Streamlit needed to build them)."""

from __future__ import annotations

from typing import Any, cast

import altair as alt
import pandas as pd

from planner._hours import NIGHT_HOURS, NIGHT_LABEL
from planner.dashboard.tables import label, risk_factor_label

NIGHT = f"Night ({NIGHT_LABEL})"


def incidents_per_month_chart(series: pd.DataFrame) -> Any:
    """Lines of monthly incidents per crime type (``series`` from ``tables.incidents_over_time``)."""
    return (
        alt.Chart(series)
        .mark_line()
        .encode(
            x=alt.X("month:T", title="Month"),
            y=alt.Y("incidents:Q", title="Incidents"),
            color=alt.Color("category:N", title="Crime type"),
        )
    )


def rrv_chart(factors: pd.DataFrame) -> Any:
    """Relative risk values with intervals (log scale), one row per retained factor."""
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


def budget_chart(curve: pd.DataFrame) -> Any:
    """Expected net benefit against budget."""
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


def time_profile_chart(profile: dict[str, Any]) -> Any:
    """Bar chart of a hotspot's incidents by hour of day, night hours shaded."""
    hours = profile.get("hour_profile") or []
    data = pd.DataFrame(
        {
            "hour": list(range(len(hours))),
            "incidents": pd.to_numeric(pd.Series(hours, dtype=object), errors="coerce").to_numpy(),
            "period": [NIGHT if h in NIGHT_HOURS else "Day" for h in range(len(hours))],
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
                scale=alt.Scale(domain=["Day", NIGHT], range=["#E69F00", "#0072B2"]),
                legend=alt.Legend(title=None, orient="top"),
            ),
            tooltip=["hour", "incidents"],
        )
        .properties(height=200)
    )


def weekday_profile_chart(profile: dict[str, Any]) -> Any:
    """Bar chart of a hotspot's incidents by weekday."""
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    counts = profile.get("weekday_profile") or []
    data = pd.DataFrame(
        {
            "day": days[: len(counts)],
            "incidents": pd.to_numeric(pd.Series(counts, dtype=object), errors="coerce"),
        }
    )
    return (
        alt.Chart(data)
        .mark_bar(color="#0072B2")
        .encode(x=alt.X("day:N", sort=days, title=None), y=alt.Y("incidents:Q", title="Incidents"))
        .properties(height=140)
    )


def category_mix_chart(profile: dict[str, Any]) -> Any:
    """Horizontal bars of a hotspot's crime types."""
    mix = {k: v for k, v in (profile.get("category_mix") or {}).items() if v is not None}  # null: < k
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
