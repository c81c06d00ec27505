"""Measures of the public view, re-derived from the published hotspot profiles.

A measure's figures (crimes it addresses per year, crimes prevented, benefit, benefit-cost ratio,
the quantity where it scales with crime, the reasons text) all grow from a count of incidents of
some crime types and place types in the hotspot; published as computed from the incidents they
would give those counts back, and their differences with the published profiles the suppressed
entries. So the public view ranks the measures again with the pipeline's own function
(:func:`planner.pipeline.add_recommendations`), fed with stand-in incidents built from the
published profiles only: for each hotspot, as many records as its published crime-type counts,
spread over the published place types in proportion (crime type and place type taken as
independent) and flagged night or day by the published night share. The public figures therefore
differ a little from the internal ones and never carry information the published profiles do not.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.export.privacy import PrivacyReport
from planner.plan import Plan

_NIGHT_HOUR = 23
_DAY_HOUR = 12


def _largest_remainder(total: int, shares: dict[str, float]) -> dict[str, int]:
    """``total`` split over ``shares`` in whole numbers (largest remainders, ties by key)."""
    weight = sum(shares.values())
    if total <= 0 or weight <= 0:
        return {}
    raw = {key: total * v / weight for key, v in shares.items()}
    out = {key: math.floor(v) for key, v in raw.items()}
    rest = total - sum(out.values())
    for key in sorted(raw, key=lambda key: (-(raw[key] - out[key]), key))[:rest]:
        out[key] += 1
    return out


def _published(value: Any) -> dict[str, int]:
    parsed = json.loads(value) if isinstance(value, str) and value else None
    if not isinstance(parsed, dict):
        return {}
    return {str(key): int(v) for key, v in parsed.items() if v is not None and v > 0}


def _hotspot_records(h: pd.Series, *, with_location: bool) -> list[tuple[str, str | None, bool | None]]:
    """(category, place type, night) of the stand-in records of one hotspot."""
    categories = _published(h.get("category_mix"))
    places = _published(h.get("location_mix")) if with_location else {}
    night_share = h.get("night_share")
    records: list[tuple[str, str | None, bool | None]] = []
    for category, n in sorted(categories.items()):
        split = _largest_remainder(n, {k: float(v) for k, v in places.items()}) if places else {}
        if with_location and not split:
            split = {"unknown": n}
        for place, m in split.items() if with_location else [(None, n)]:
            records += [(category, place, None)] * m
    if night_share is not None and not pd.isna(night_share) and records:
        n_night = round(len(records) * float(night_share))
        # spread night flags evenly over the records (not all on the first crime type)
        idx = np.floor(np.arange(n_night) * len(records) / max(n_night, 1)).astype(int)
        flags = np.zeros(len(records), dtype=bool)
        flags[idx] = True
        records = [(c, p, bool(f)) for (c, p, _), f in zip(records, flags, strict=True)]
    return records


def stand_in_incidents(
    public: Plan, *, with_location: bool, years: float, first_month: str | None
) -> gpd.GeoDataFrame:
    """Stand-in incidents for the public hotspots (see the module docstring), analysis CRS.

    Two anchor records outside every hotspot fix the period to exactly ``years`` (the public,
    whole-month period), which the ranking uses for crimes per year.
    """
    rows: list[dict[str, Any]] = []
    hotspots = public.hotspots
    start = pd.Timestamp(f"{first_month}-01") if first_month else pd.Timestamp("2000-01-01")
    span = pd.Timedelta(days=years * 365.25 - 1.0)
    middle = (start + span / 2).normalize()
    hourly = any(r is not None and not pd.isna(r) for r in hotspots.get("night_share", []))
    for _, h in hotspots.iterrows():
        point = shapely.point_on_surface(h.geometry)
        for category, place, night in _hotspot_records(h, with_location=with_location):
            hour = _NIGHT_HOUR if night else _DAY_HOUR
            rows.append(
                {
                    "category": category,
                    "location_type": place,
                    "occurred_at": middle + pd.Timedelta(hours=hour),
                    "geometry": point,
                }
            )
    minx, miny, maxx, maxy = public.study_area.total_bounds if len(public.study_area) else (0, 0, 1, 1)
    away = shapely.Point(maxx + 10 * (maxx - minx + 1), maxy + 10 * (maxy - miny + 1))
    for when in (start, start + span):
        rows.append({"category": "unknown", "location_type": None, "occurred_at": when, "geometry": away})
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=public.crs)
    if not with_location:
        frame = frame.drop(columns="location_type")
    frame.insert(0, "incident_id", [f"s{i}" for i in range(len(frame))])
    frame.attrs["time_resolution"] = "minute" if hourly else "day"
    return frame


def public_measures(public: Plan, plan: Plan, pc: Any, *, report: PrivacyReport) -> Plan:
    """``public`` with measures (and the portfolio) ranked from its published profiles.

    Measures resting on fewer than ``k`` crimes (stand-in count) are left out, as in the full plan.
    """
    from planner.pipeline import add_recommendations

    if plan.recommendations is None or not len(public.hotspots):
        report.measures_suppressed = 0 if plan.recommendations is None else len(plan.recommendations)
        return public
    with_location = "location_type" in plan.incidents.columns
    first = pc.months[0] if pc.months else None
    stand_in = stand_in_incidents(public, with_location=with_location, years=pc.years, first_month=first)
    ranked = add_recommendations(dataclasses.replace(public, incidents=stand_in))
    recs = ranked.recommendations
    if recs is not None and len(recs) and "baseline_per_year" in recs.columns:
        enough = pd.to_numeric(recs["baseline_per_year"], errors="coerce") * pc.years >= report.k - 0.01
        recs = recs.loc[enough].reset_index(drop=True)
    if recs is not None and "ward_id" not in recs.columns and "ward_id" in public.hotspots.columns:
        recs = recs.assign(ward_id=recs["hotspot_id"].map(public.hotspots.set_index("hotspot_id")["ward_id"]))
    internal = {(r.hotspot_id, r.intervention_id) for r in plan.recommendations.itertuples()}
    shown = set() if recs is None else {(r.hotspot_id, r.intervention_id) for r in recs.itertuples()}
    report.measures_suppressed = len(internal - shown)
    portfolio = ranked.portfolio if plan.portfolio is not None else None
    if portfolio is not None and recs is not None and len(portfolio):
        keep = portfolio.set_index(["hotspot_id", "intervention_id"]).index.isin(
            recs.set_index(["hotspot_id", "intervention_id"]).index
        )
        portfolio = portfolio.loc[keep].reset_index(drop=True)
    return dataclasses.replace(public, hotspots=ranked.hotspots, recommendations=recs, portfolio=portfolio)
