"""The dashboard's state: cached plans per configuration, uploads, what-if edits in the session.

Plans are shared cached resources and never mutated; what-if edits are plain dicts in the session,
applied by :func:`whatif_plan` through :func:`planner.pipeline.rerank_with_edit`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

import pandas as pd
import streamlit as st

from planner.config import RunConfig
from planner.errors import PlannerError
from planner.interventions.portfolio import budget_curve, choose_portfolio
from planner.plan import Plan

logger = logging.getLogger(__name__)


@st.cache_resource(show_spinner=False, max_entries=8)
def cached_plan(config_json: str) -> Plan:
    """Run the pipeline once per distinct configuration (JSON of a :class:`RunConfig`).

    A shared resource, not a copy: a rerun costs nothing (``st.cache_data`` would unpickle the
    whole plan, several MB, on every widget change). Plans are never mutated; what-if edits make
    new frames (:func:`whatif_plan`). A configuration that differs from another only in the
    appraisal's settings (a guideline toggle, the jurisdiction, the ranking rule, the budget)
    re-appraises that configuration's cached plan (:func:`planner.pipeline.recommend_again`)
    instead of running every stage again.
    """
    from planner import pipeline
    from planner.io.sources import UPLOAD_LIMITS, source_limits

    config = RunConfig.model_validate_json(config_json)
    base = appraisal_base(config)
    if base != config:  # only the appraisal's settings differ: re-appraise the cached plan
        return pipeline.recommend_again(cached_plan(base.model_dump_json()), config)
    with source_limits(UPLOAD_LIMITS):  # uploads are capped (size, rows, vertices); so is all else here
        return pipeline.run(config)


def appraisal_base(config: RunConfig) -> RunConfig:
    """``config`` with the appraisal's settings (:data:`planner.pipeline.RECOMMEND_FIELDS`) at their
    defaults: the run whose plan a change of guideline, jurisdiction or ranking re-appraises.
    """
    from planner.pipeline import RECOMMEND_FIELDS

    return config.model_copy(update={f: RunConfig.model_fields[f].default for f in RECOMMEND_FIELDS})


@st.cache_resource(show_spinner=False, max_entries=8)
def cached_public_plan(config_json: str) -> Plan:
    """The public view of a configuration's plan (:func:`planner.export.privacy.apply_privacy`
    at the run's ``k_min``): all a viewer's tables, maps and downloads are built from it.
    """
    from planner.export.privacy import apply_privacy

    plan = cached_plan(config_json)
    public, _ = apply_privacy(plan, privacy="public", k=int(plan.config.k_min))
    return public


def plan_for(config_json: str, *, analyst: bool) -> Plan:
    """The full plan for an analyst, the public view for anyone else."""
    return cached_plan(config_json) if analyst else cached_public_plan(config_json)


def get_plan(
    config: RunConfig, *, analyst: bool = True, container: Any = None, rename: dict[str, str] | None = None
) -> Plan | None:
    """The plan for ``config`` (its public view unless ``analyst``), or ``None`` after showing the
    user's error message.

    ``container`` is where the message goes (default: the current one); ``rename`` maps temporary
    upload paths to the names the user knows.
    """
    try:
        with st.spinner("Analysing incidents and environment…"):
            return plan_for(config.model_dump_json(), analyst=analyst)
    except PlannerError as exc:
        message = str(exc)
        for old, new in (rename or {}).items():
            message = message.replace(old, new)
        (container or st).error(
            f"{message}\n\nFix the file and upload it again, or switch back to the sample city."
        )
        return None


def map_click_edit(
    plan: Plan, mode: str, lat: float, lng: float, *, direction_deg: float = 0.0
) -> dict[str, Any]:
    """A map click as a what-if edit on ``plan``'s layers (see :func:`planner.exposure.whatif.edit_from_click`)."""
    from planner.exposure.whatif import edit_from_click

    return edit_from_click(plan.layers, plan.crs, mode, lat, lng, direction_deg=direction_deg)


@st.cache_resource(show_spinner=False, max_entries=32)
def whatif_plan(config_json: str, edits_json: str) -> Plan:
    """The plan after the what-if edits (JSON list of :func:`map_click_edit` dicts), re-ranked.

    Each prefix of the edit list is cached, so adding one more edit costs one re-ranking
    (:func:`planner.pipeline.rerank_with_edit`, which re-measures only the hotspots it reaches).
    """
    from planner.exposure.whatif import edit_object
    from planner.pipeline import rerank_with_edit

    edits = json.loads(edits_json)
    if not edits:
        return cached_plan(config_json)
    before = whatif_plan(config_json, json.dumps(edits[:-1], sort_keys=True))
    hotspots, recs, layers = rerank_with_edit(before, edit_object(edits[-1], before.crs))
    return dataclasses.replace(before, hotspots=hotspots, recommendations=recs, layers=layers)


@st.cache_resource(show_spinner=False, max_entries=64)
def cached_unlit_streets(config_json: str, edits_json: str, hotspot_id: str) -> Any:
    """:func:`planner.exposure.streets.unlit_streets` of the (what-if edited) plan, cached: it is drawn on every rerun."""
    from planner.exposure.streets import unlit_streets

    plan = whatif_plan(config_json, edits_json)
    row = plan.hotspots.loc[plan.hotspots["hotspot_id"] == hotspot_id]
    return None if row.empty else unlit_streets(row.geometry.iloc[0], plan.layers, crs=plan.crs)


@st.cache_resource(show_spinner=False, max_entries=8)
def cached_rrv_chart(config_json: str) -> Any:
    """:func:`rrv_chart` of a configuration's risk factors, built once."""
    from planner.dashboard.charts import rrv_chart

    return rrv_chart(cached_plan(config_json).risk_factors)


@st.cache_data(show_spinner=False, max_entries=64)
def cached_portfolio(
    config_json: str, edits_json: str, budget: float, cap: float, analyst: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The optimal portfolio for ``budget`` (cached per budget and cap) and the budget curve (cached
    per cap only: it does not depend on the budget, and it solves ten programmes) of a (possibly
    what-if edited) plan; for a viewer, of the public plan's measures.
    """
    share = None if cap >= 1.0 else cap
    portfolio = choose_portfolio(
        _portfolio_recs(config_json, edits_json, analyst), budget=budget, max_surveillance_share=share
    )
    return portfolio, cached_budget_curve(config_json, edits_json, cap, analyst)


@st.cache_data(show_spinner=False, max_entries=16)
def cached_budget_curve(config_json: str, edits_json: str, cap: float, analyst: bool = True) -> pd.DataFrame:
    """:func:`~planner.interventions.portfolio.budget_curve` of the plan's measures for one cap."""
    share = None if cap >= 1.0 else cap
    return budget_curve(_portfolio_recs(config_json, edits_json, analyst), max_surveillance_share=share)


def _portfolio_recs(config_json: str, edits_json: str, analyst: bool) -> pd.DataFrame:
    plan = whatif_plan(config_json, edits_json) if analyst else cached_public_plan(config_json)
    return pd.DataFrame(plan.recommendations)
