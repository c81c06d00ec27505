"""Which incidents no measure in the catalogue can address, and why — nothing is dropped silently.

After ingest every incident has a ``category`` (mapped by :mod:`planner.io.categories`) and its
publisher's ``source_category``. A category gets ranked measures only when the intervention
catalogue (read at run time, so a catalogue that grows is picked up) lists it among some measure's
``crime_types``. :func:`categories_without_measure` lists the others with their incident counts, the
source names behind them and the reason: no category at all, an offence name the category map does
not recognise, a recognised category the catalogue has no evidenced measure for, or measures that
all restrict public access when that was not allowed.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd

from planner import _hints
from planner.io.categories import UNKNOWN, CategoryMap


def catalogue_crime_types() -> dict[str, list[str]]:
    """Crime type → ids of the catalogue measures evidenced for it (never-recommended ones left out)."""
    from planner.interventions.catalog import load_catalogue

    out: dict[str, list[str]] = {}
    for item in load_catalogue().values():
        if item.never_recommend:
            continue
        for crime_type in item.crime_types:
            out.setdefault(crime_type, []).append(item.id)
    return out


def _restricting(measure_ids: list[str]) -> bool:
    from planner.interventions.catalog import load_catalogue

    catalogue = load_catalogue()
    return bool(measure_ids) and all(
        catalogue[i].restricts_public_access for i in measure_ids if i in catalogue
    )


def _reason(
    category: str, category_map: CategoryMap, measures: dict[str, list[str]], *, allow_access: bool
) -> str | None:
    """Why ``category`` gets no measure (None when it gets some)."""
    if category == UNKNOWN:
        return "no offence type was given; " + _hints.hint(
            "name the category column with columns={'category': ...} or pass default_category= for a single-type file",
            "name the category column with --column category=COLUMN or give --category NAME for a single-type file",
        )
    if category not in {rule.name for rule in category_map.rules}:
        option = _hints.hint("category_map=", "--category-map")
        return (
            f"the offence name is not recognised; map it to a crime type in a category-map file ({option}; "
            "see 'planner categories')"
        )
    if category not in measures:
        note = category_map.notes().get(category, "")
        return f"no measure in the intervention catalogue is evidenced for {category}" + (
            f": {note}" if note else ""
        )
    if not allow_access and _restricting(measures[category]):
        option = _hints.hint("allow_access_restriction=True", "--allow-access-restriction")
        return f"the only measures restrict public access ({', '.join(measures[category])}); allow them with {option}"
    return None


def categories_without_measure(
    incidents: gpd.GeoDataFrame, *, category_map: CategoryMap, allow_access_restriction: bool = False
) -> list[dict[str, Any]]:
    """One entry per category without a measure: ``category``, ``incidents``, ``source_categories``
    (publisher's name → count) and ``reason``; most incidents first.
    """
    if not len(incidents) or "category" not in incidents.columns:
        return []
    measures = catalogue_crime_types()
    source = incidents["source_category"] if "source_category" in incidents.columns else incidents["category"]
    table = pd.DataFrame({"category": incidents["category"].astype(str), "source": source.astype("string")})
    out = []
    for category, group in table.groupby("category", sort=False):
        reason = _reason(str(category), category_map, measures, allow_access=allow_access_restriction)
        if reason is None:
            continue
        names = group["source"].fillna("(none)").value_counts()
        out.append(
            {
                "category": str(category),
                "incidents": len(group),
                "source_categories": {str(k): int(v) for k, v in names.items()},
                "reason": reason,
            }
        )
    return sorted(out, key=lambda e: (-e["incidents"], e["category"]))


def summary_line(entries: list[dict[str, Any]], n_incidents: int) -> str | None:
    """One sentence for the run's warnings: how many incidents get no measure, largest groups first."""
    if not entries:
        return None
    total = sum(e["incidents"] for e in entries)
    parts = ", ".join(f"{e['category']} {e['incidents']}" for e in entries[:6])
    more = f" and {len(entries) - 6} more" if len(entries) > 6 else ""
    return (
        f"{total} of {n_incidents} incidents are in categories no measure addresses ({parts}{more}); "
        "the reasons are in the run report (parameters.categories_without_measure)."
    )
