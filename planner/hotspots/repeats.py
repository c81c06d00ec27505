"""Repeat victimisation and protection zones for recent victims.

* :func:`repeat_victimisation`: same-place repeats (points within ``same_place_m`` of each other form
  one place), the share of incidents that repeat an earlier one at the same place, and the
  time-to-repeat distribution. Ties on the same timestamp are ordered by ``incident_id`` so the
  "first" incident at a place is deterministic.
* :func:`protection_zones`: circles around recent incidents whose radius and duration come from the
  significant cells of a Knox near-repeat table, with expiry dates, for rapid target hardening and
  cocoon watch (the recommendation stage's ``rv_cocoon`` measure).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from planner.crs import require_projected
from planner.errors import InsufficientDataError
from planner.hotspots.nearrepeat import KnoxResult

REPEAT_BANDS_DAYS = (0, 7, 14, 30, 90, 365, math.inf)


def place_ids(incidents: gpd.GeoDataFrame, *, same_place_m: float = 1.0) -> np.ndarray:
    """Place id per incident: points within ``same_place_m`` (chained) share a place."""
    require_projected(incidents, what="incidents")
    xy = np.c_[incidents.geometry.x.to_numpy(), incidents.geometry.y.to_numpy()]
    pairs = cKDTree(xy).query_pairs(same_place_m, output_type="ndarray")
    n = len(xy)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def repeat_victimisation(
    incidents: gpd.GeoDataFrame, *, same_place_m: float = 1.0, by_category: bool = True
) -> dict[str, Any]:
    """Repeats at the same place.

    Returns a dict with ``share_repeats`` (incidents that follow an earlier one at the same place,
    of the same category when ``by_category``), ``n_repeat_places``, ``time_to_repeat`` (counts per
    band ``[0, 7), [7, 14), [14, 30), [30, 90), [90, 365), [365, ∞)`` days and quantiles) and
    ``places`` (DataFrame: place, category, n_incidents, first, last), plus per-incident columns
    ``place_id``, ``is_repeat`` and ``days_since_previous`` in ``incidents`` (a new frame).
    """
    if len(incidents) == 0:
        raise InsufficientDataError("No incidents to analyse for repeats.")
    out = incidents.copy()
    out["place_id"] = place_ids(incidents, same_place_m=same_place_m)
    keys = ["place_id", "category"] if by_category else ["place_id"]
    out = out.sort_values([*keys, "occurred_at", "incident_id"], kind="stable")
    previous = out.groupby(keys, sort=False)["occurred_at"].shift(1)
    out["is_repeat"] = previous.notna()
    out["days_since_previous"] = (out["occurred_at"] - previous).dt.total_seconds() / 86400.0
    gaps = out.loc[out["is_repeat"], "days_since_previous"].to_numpy()
    bands = (
        np.histogram(gaps, bins=np.array(REPEAT_BANDS_DAYS, dtype=float))[0]
        if len(gaps)
        else np.zeros(6, int)
    )
    labels = [
        f"[{a:g}, {'∞' if math.isinf(b) else f'{b:g}'}) days"
        for a, b in itertools.pairwise(REPEAT_BANDS_DAYS)
    ]
    places = out.groupby(keys).agg(
        n_incidents=("incident_id", "size"), first=("occurred_at", "min"), last=("occurred_at", "max")
    )
    places = places[places["n_incidents"] > 1].reset_index()
    return {
        "share_repeats": float(out["is_repeat"].mean()),
        "n_repeat_places": len(places),
        "time_to_repeat": {
            "bands": dict(zip(labels, (int(v) for v in bands), strict=True)),
            "median_days": float(np.median(gaps)) if len(gaps) else None,
            "p25_days": float(np.percentile(gaps, 25)) if len(gaps) else None,
            "p75_days": float(np.percentile(gaps, 75)) if len(gaps) else None,
        },
        "places": places,
        "incidents": out.sort_index(),
    }


def significant_extent(
    knox: KnoxResult, *, alpha: float = 0.05, min_ratio: float = 1.0
) -> tuple[float, float]:
    """Radius (m) and duration (days) of the near-repeat window: the largest finite upper edges of the
    distance and time bands with a significant excess (p ≤ alpha and Knox ratio > ``min_ratio``).
    """
    sig = (knox.p_value <= alpha) & (knox.knox_ratio_mean > min_ratio)
    sb, tb = np.array(knox.distance_breaks_m), np.array(knox.time_breaks_days)
    rows, cols = np.nonzero(sig)
    upper_s = sb[1:][rows]
    upper_t = tb[1:][cols]
    ok = np.isfinite(upper_s) & np.isfinite(upper_t)
    if not ok.any():
        raise InsufficientDataError(
            "The Knox table shows no significant near-repeat excess in its bounded bands, so no protection "
            "zone can be derived. Check the bands or use more data."
        )
    return float(upper_s[ok].max()), float(upper_t[ok].max())


def protection_zones(
    incidents: gpd.GeoDataFrame,
    knox: KnoxResult,
    *,
    as_of: Any,
    category: str | None = "burglary",
    alpha: float = 0.05,
) -> gpd.GeoDataFrame:
    """Circles around incidents of the last ``duration`` days before ``as_of`` (exclusive), sized from the
    significant near-repeat window; each with ``source_incident_id``, ``radius_m``, ``starts_on``,
    ``expires_on`` (occurred_at + duration).
    """
    radius, days = significant_extent(knox, alpha=alpha)
    as_of_ts = pd.Timestamp(as_of)
    recent = incidents[
        (incidents["occurred_at"] < as_of_ts)
        & (incidents["occurred_at"] >= as_of_ts - pd.Timedelta(days=days))
    ]
    if category is not None:
        recent = recent[recent["category"] == category]
    zones = gpd.GeoDataFrame(
        {
            "source_incident_id": recent["incident_id"].to_numpy(),
            "radius_m": radius,
            "starts_on": recent["occurred_at"].to_numpy(),
            "expires_on": (recent["occurred_at"] + pd.Timedelta(days=days)).to_numpy(),
        },
        geometry=recent.geometry.buffer(radius).to_numpy(),
        crs=incidents.crs,
    )
    zones.attrs.update(radius_m=radius, duration_days=days, as_of=str(as_of_ts))
    return zones
