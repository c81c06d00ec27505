"""Data fitness: what the incident data can support (time resolution, precision, coverage)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

MIN_EHSA_BINS = 10


def time_resolution(t: pd.Series) -> str:
    """The finest resolution the timestamps carry: ``minute``, ``hour``, ``day`` or ``month``."""
    t = pd.to_datetime(t).dropna()
    if t.empty:
        return "none"
    if (t.dt.minute != 0).mean() > 0.05 or (t.dt.second != 0).mean() > 0.05:
        return "minute"
    if (t.dt.hour != 0).mean() > 0.05:
        return "hour"
    if (t.dt.day != 1).mean() > 0.05:
        return "day"
    return "month"


MIDNIGHT_MIN_ROWS = 10
MIDNIGHT_FACTOR = 3.0
MIDNIGHT_MIN_SHARE = 0.02


def midnight_placeholder(t: pd.Series, resolution: str) -> np.ndarray | None:
    """Rows at exactly 00:00 when 00:00 is a placeholder for "time unknown", else None.

    With a time of day (``minute``/``hour`` resolution), each whole hour ``h:00`` holds a share of
    the records; a share at 00:00 at least :data:`MIDNIGHT_FACTOR` times the median share of the
    other 23 whole hours (and at least :data:`MIDNIGHT_MIN_SHARE` of all records, and
    :data:`MIDNIGHT_MIN_ROWS` rows) is a spike of unknown times, not a burst of crime at midnight.
    """
    if resolution not in {"minute", "hour"}:
        return None
    t = pd.to_datetime(t)
    present = t.notna()
    n = int(present.sum())
    if n == 0:
        return None
    whole = present & (t.dt.minute == 0) & (t.dt.second == 0)
    per_hour = t[whole].dt.hour.value_counts().reindex(range(24), fill_value=0) / n
    at_midnight = per_hour[0]
    baseline = float(np.median(per_hour.iloc[1:].to_numpy()))
    spike = (
        at_midnight * n >= MIDNIGHT_MIN_ROWS
        and at_midnight >= MIDNIGHT_MIN_SHARE
        and at_midnight >= MIDNIGHT_FACTOR * max(baseline, 1.0 / (24 * 60))
    )
    if not spike:
        return None
    return np.asarray((whole & (t.dt.hour == 0)).to_numpy(), dtype=bool)


def coordinate_decimals(values: np.ndarray) -> int | None:
    """Decimals the coordinates appear rounded to (None when not rounded to ≤ 6).

    Works for degrees (``-1.2449``: 4) and projected metres alike (``512345.67``: 2, whole metres:
    0). A value counts as rounded to ``d`` decimals when it lies within a thousandth of a step
    (``10**-d``) of the rounded value, or within float precision of it, whichever is larger: a
    relative tolerance would call every six-figure easting rounded to whole metres.
    """
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if not len(v):
        return None
    precision = 8 * np.finfo(float).eps * max(1.0, float(np.abs(v).max()))
    for d in range(7):
        step = 10.0**-d
        if np.all(np.abs(v - np.round(v, d)) <= max(1e-3 * step, precision)):
            return d
    return None


def fitness_report(
    incidents: gpd.GeoDataFrame,
    *,
    resolution: str,
    duplicate_location_share: float,
    source_xy: np.ndarray | None = None,
) -> dict[str, Any]:
    """Which analyses the data supports, with reasons, plus coverage and precision facts.

    ``source_xy`` is the accepted rows' coordinates as the source wrote them ((n, 2), in the source
    CRS: degrees or projected units), whose rounding ``coordinate_decimals`` reports; by default the
    incidents' geometry (analysis CRS) is used.

    Returns a dict with ``analyses`` (name → {"ok", "reason"}), ``categories`` (counts),
    ``missing_months``, ``months_covered``, ``coordinate_decimals`` and ``warnings`` (list of text,
    removed by the caller).
    """
    warn: list[str] = []
    t = incidents["occurred_at"]
    has_time = resolution != "none" and t.notna().any()
    months: list[str] = []
    missing: list[str] = []
    if has_time:
        per = t.dt.to_period("M")
        full = pd.period_range(per.min(), per.max(), freq="M")
        months = [str(p) for p in full]
        present = set(per.drop_duplicates().astype(str))
        missing = [m for m in months if m not in present]
        if missing:
            warn.append(
                f"No incidents in {len(missing)} month(s) within the date range (first: {missing[0]}): check for gaps in the extract."
            )
    snapped = duplicate_location_share > 0.3
    analyses: dict[str, dict[str, Any]] = {
        "hotspots": {"ok": len(incidents) >= 30, "reason": "needs at least 30 incidents"},
        "near_repeat": {
            "ok": resolution in {"minute", "hour", "day"} and not snapped,
            "reason": (
                "timestamps are at month resolution: near-repeat analysis needs day resolution or finer"
                if resolution == "month"
                else "many records share exact locations (snapped or anonymised points); near-repeat distances are unreliable"
                if snapped
                else "no dates"
                if not has_time
                else "day resolution or finer: fine"
            ),
        },
        "emerging_hotspots": {
            "ok": has_time and len(months) >= MIN_EHSA_BINS,
            "reason": f"{len(months)} months of data; the Esri categories need at least {MIN_EHSA_BINS} time bins "
            "(fewer bins fall back to persistent/emerging/former/intermittent)",
        },
        "time_of_day": {"ok": resolution in {"minute", "hour"}, "reason": f"time resolution is {resolution}"},
    }
    if snapped:
        warn.append(
            f"{duplicate_location_share:.0%} of records share an exact location with another record "
            "(snapped or anonymised points): treat fine-scale results with caution."
        )
    xy = np.c_[incidents.geometry.x, incidents.geometry.y] if len(incidents) else np.empty((0, 2))
    if source_xy is not None:
        xy = np.asarray(source_xy, float).reshape(-1, 2)
    return {
        "analyses": analyses,
        "categories": {str(k): int(v) for k, v in incidents["category"].value_counts().items()},
        "months_covered": len(months),
        "missing_months": missing,
        "coordinate_decimals": coordinate_decimals(xy.ravel()) if len(xy) else None,
        "warnings": warn,
    }
