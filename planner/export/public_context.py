"""The words and numbers around a public plan: manifest parameters, ingest report, inputs, config.

Public: dates to the month, counts rounded and withheld where they would disclose (the citywide
count, counts by category; rows set aside at ingest are rounded), file names without their folders, database URLs
without user or password, free-text warnings withheld. Internal: everything, but passwords are
redacted (:func:`redacted_plan`); no manifest ever holds a password.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import pandas as pd

from planner.config import RunConfig
from planner.export import suppression as sup
from planner.io.sources import public_source_name, redact_secrets
from planner.plan import Plan

#: Run parameters a public manifest may carry unchanged (choices of method, not data).
PUBLIC_PARAMS = (
    "cell_size_m",
    "cell_size_rule",
    "grid_kind",
    "n_cells",
    "bandwidth_m",
    "bandwidth_rule",
    "kernel",
    "neighbourhood",
    "fdr",
    "q",
    "min_bin",
    "max_hotspot_cells",
    "hotspot_split_by",
    "analysis_crs",
    "study_area",
    "engine",
    "emerging",
    "risk_family",
)
_INGEST_KEYS = ("columns_used", "crs", "analysis_crs", "time_resolution")
_FITNESS_KEYS = ("analyses", "months_covered", "missing_months", "coordinate_decimals")


@dataclass(frozen=True)
class PublicContext:
    """Public config, parameters, ingest report and inputs, and what was withheld."""

    config: RunConfig
    params: dict[str, Any]
    ingest: dict[str, Any]
    inputs: list[dict[str, Any]]
    withheld: list[str]


def public_name(ref: Any) -> str | None:
    """A source as a public file may name it: file name (and layer) without folders; URLs without
    credentials.
    """
    if ref is None:
        return None
    text = str(ref)
    if "://" in text:
        return public_source_name(text)
    path, _, layer = text.partition("::")
    name = PurePath(path).name
    return f"{name}::{layer}" if layer else name


def _public_config(config: RunConfig, *, k: int) -> RunConfig:
    return config.model_copy(
        update={
            "incidents": public_name(config.incidents),
            "boundary": public_name(config.boundary),
            "layers": {kind: public_name(ref) or "" for kind, ref in config.layers.items()},
            "attribute_filters": {
                col: [f"<{len(values)} value(s)>"] for col, values in config.attribute_filters.items()
            },
            "privacy": "public",
            "k_min": k,
        }
    )


def _rounded(value: Any, *, round_to: int) -> int | None:
    if value is None or pd.isna(value):
        return None
    return int(value) if round_to <= 1 else int(round(float(value) / round_to) * round_to)


def _count(value: Any, *, k: int, round_to: int) -> int | None:
    if value is None or pd.isna(value) or float(value) < k:
        return None
    return sup.rounded(float(value), k=k, round_to=round_to)


def _public_ingest(plan: Plan, pc: Any, *, k: int, round_to: int, withheld: list[str]) -> dict[str, Any]:
    rep = plan.ingest_report
    out: dict[str, Any] = {key: rep[key] for key in _INGEST_KEYS if key in rep}
    out["source"] = public_name(rep.get("source"))
    # Rows set aside at ingest describe the file, not places: rounded, not suppressed. Rows read and
    # accepted add up to the citywide count, so they go with it.
    totals_safe = pc.n_total is not None
    for key in ("rows_read", "rows_accepted"):
        out[key] = _rounded(rep.get(key), round_to=round_to) if totals_safe else None
    out["rows_quarantined"] = _rounded(rep.get("rows_quarantined"), round_to=round_to)
    if not totals_safe:
        withheld.append("citywide incident count (it would show a suppressed cell count above zero)")
    reasons = rep.get("quarantine_reasons") or {}
    out["quarantine_reasons"] = {str(r): _rounded(n, round_to=round_to) for r, n in reasons.items()}
    if pc.months:
        out["date_min"], out["date_max"] = pc.months
    if rep.get("duplicate_location_share") is not None:
        out["duplicate_location_share"] = round(float(rep["duplicate_location_share"]), 2)
    if "exact_duplicates" in rep:
        out["exact_duplicates"] = _count(rep.get("exact_duplicates"), k=k, round_to=round_to)
    fitness = dict(rep.get("fitness") or {})
    public_fitness = {key: fitness[key] for key in _FITNESS_KEYS if key in fitness}
    categories = fitness.get("categories")
    if isinstance(categories, dict):
        from planner.export.disclosure import CATEGORY_VOCABULARY, vocabulary_key

        pooled: dict[str, float] = {}
        for name, n in categories.items():
            key = vocabulary_key(name, CATEGORY_VOCABULARY)
            pooled[key] = pooled.get(key, 0.0) + float(n or 0)
        result = sup.protect_profile(pooled, keys=sorted(pooled), k=k, round_to=round_to)
        public_fitness["categories"] = (
            result.published if result.published is not None else dict.fromkeys(sorted(pooled))
        )
        if result.withheld:
            withheld.append("citywide counts by category")
    out["fitness"] = public_fitness
    warnings = list(rep.get("warnings") or []) + list(plan.warnings)
    out["warnings"] = []
    if warnings:
        withheld.append(
            f"{len(dict.fromkeys(warnings))} data warning(s) (free text; see the internal run folder)"
        )
    return out


def public_context(plan: Plan, pc: Any, *, k: int, round_to: int) -> PublicContext:
    """Config, parameters, ingest report and inputs of the public view of ``plan``."""
    from planner.hotspots.concentration import concentration_summary

    withheld: list[str] = []
    params = {key: plan.params[key] for key in PUBLIC_PARAMS if key in plan.params}
    if isinstance(params.get("emerging"), dict) and params["emerging"].get("first_bin"):
        params["emerging"] = {**params["emerging"], "first_bin": str(params["emerging"]["first_bin"])[:7]}
    params["n_incidents"] = pc.n_total
    params["period_years"] = pc.years
    params["period_months"] = round(pc.years * 12)
    params["concentration"] = concentration_summary(pc.cells.astype("float64").fillna(0.0))
    params["concentration_of"] = "published cell counts (suppressed cells count as 0)"
    ingest = _public_ingest(plan, pc, k=k, round_to=round_to, withheld=withheld)
    inputs = [
        {"path": public_name(item.get("path")), "sha256": item.get("sha256")}
        for item in plan.inputs
        if isinstance(item, dict)
    ]
    return PublicContext(
        config=_public_config(plan.config, k=k),
        params=params,
        ingest=ingest,
        inputs=inputs,
        withheld=withheld,
    )


def redacted_plan(plan: Plan) -> Plan:
    """``plan`` with every database password in its config, inputs, report and warnings replaced."""
    config = plan.config
    updates = {
        name: redact_secrets(getattr(config, name))
        for name in ("incidents", "boundary")
        if getattr(config, name) is not None
    }
    if config.layers:
        updates["layers"] = {kind: redact_secrets(ref) for kind, ref in config.layers.items()}
    return dataclasses.replace(
        plan,
        config=config.model_copy(update=updates),
        inputs=redact_secrets(plan.inputs),
        ingest_report=redact_secrets(plan.ingest_report),
        warnings=redact_secrets(plan.warnings),
    )
