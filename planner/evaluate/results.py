"""Evaluating a saved design: WDQ/TNE, WDD (+ harm), rate ratio, E-tests, power and the
before/after series, from the unchanged design file (:mod:`planner.evaluate.design`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.errors import ConfigError, InsufficientDataError
from planner.evaluate.design import (
    EvaluationDesign,
    _check_design,
    assign_areas,
    count_design,
    load_design,
    select_incidents,
)
from planner.evaluate.displacement import (
    HarmResult,
    RateRatioResult,
    WDDResult,
    WDQResult,
    e_test,
    rate_ratio,
    wdd,
    wdd_harm,
    wdq,
)
from planner.evaluate.power import PowerResult, minimum_detectable_effect

logger = logging.getLogger(__name__)

__all__ = ["EvaluationResult", "before_after_series", "design_power", "evaluate_design"]


# ------------------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class EvaluationResult:
    """Everything :func:`evaluate_design` found, with a plain-language summary."""

    design: EvaluationDesign
    meta: dict[str, Any]
    counts: pd.DataFrame
    wdq: WDQResult
    wdd: WDDResult
    wdd_local: WDDResult
    rate_ratio: RateRatioResult | None
    wdd_harm: HarmResult | None
    e_tests: dict[str, float | None]
    power: PowerResult
    series: pd.DataFrame
    registered_before_start: bool | None
    interpretation: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (series and design geometry left out; counts as nested dicts)."""
        return {
            "design": self.design.name,
            "design_sha256": self.meta.get("sha256"),
            "created_at": self.meta.get("created_at"),
            "registered_before_start": self.registered_before_start,
            "start": self.design.start.isoformat(),
            "before": [d.isoformat() for d in self.design.before],
            "after": [d.isoformat() for d in self.design.after],
            "counts": {a: {k: int(v) for k, v in row.items()} for a, row in self.counts.iterrows()},
            "wdq": self.wdq.to_dict(),
            "wdd": self.wdd.to_dict(),
            "wdd_local": self.wdd_local.to_dict(),
            "rate_ratio": None if self.rate_ratio is None else self.rate_ratio.to_dict(),
            "wdd_harm": None if self.wdd_harm is None else self.wdd_harm.to_dict(),
            "e_tests": self.e_tests,
            "power": self.power.to_dict(),
            "interpretation": self.interpretation,
        }


def design_power(
    design: EvaluationDesign, incidents: gpd.GeoDataFrame, *, power: float = 0.8, dispersion: float = 1.0
) -> PowerResult:
    """Minimum detectable effect of a design, from its before-period counts (run before the start)."""
    pair = _pairs(count_design(incidents, design))
    return minimum_detectable_effect(
        pair["treatment"][0],
        pair["control"][0],
        before_days=design.before_days,
        after_days=design.after_days,
        alpha=design.alpha,
        power=power,
        dispersion=dispersion,
    )


def _pairs(table: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """(before, after) counts per area from a :func:`count_design` table."""
    values = table[["before", "after"]].to_numpy(dtype=np.int64)
    return {str(a): (int(b), int(c)) for a, (b, c) in zip(table.index, values, strict=True)}


def _wdd_for(table: pd.DataFrame, design: EvaluationDesign, *, local_only: bool = False) -> WDDResult:
    """WDD from a counts table (rows = areas) with the design's time (and area) weights."""
    pair = _pairs(table)
    has_disp = "disp_control" in pair and not local_only
    tw = (design.before_days / design.after_days, 1.0)
    aw = None
    if design.area_weighted:
        ref = design.area_m2("treatment")
        aw = [
            design.area_m2("control") / ref,
            1.0,
            design.area_m2("disp_control") / ref if has_disp else 1.0,
            design.area_m2("buffer") / ref,
        ]
    return wdd(
        pair["control"],
        pair["treatment"],
        pair["disp_control"] if has_disp else None,
        pair["buffer"] if has_disp else None,
        time_weights=tw,
        area_weights=aw,
        alpha=design.alpha,
    )


def evaluate_design(
    design: EvaluationDesign | str | Path, incidents: gpd.GeoDataFrame, *, freq: str = "MS"
) -> EvaluationResult:
    """Evaluate a saved design against incidents: WDQ/TNE, WDD (+ harm), rate ratio, E-tests, power.

    Parameters
    ----------
    design : EvaluationDesign or path
        The design, or the JSON file written by :func:`save_design` (checked against its
        checksum; a changed file is refused).
    incidents : GeoDataFrame
        Incidents (projected CRS; transformed to the design's CRS when different) covering the
        before and after periods.
    freq : str
        pandas frequency of the chart series (default month starts).

    Returns
    -------
    EvaluationResult
    """
    if isinstance(design, str | Path):
        design, meta = load_design(design)
    else:
        _check_design(design)
        meta = {}
    counts = count_design(incidents, design)
    pair = _pairs(counts)
    wdq_res = wdq(pair["treatment"], pair["buffer"], pair["control"]) if min(pair["control"]) > 0 else None
    if wdq_res is None:
        raise InsufficientDataError(
            f"The control area of design {design.name!r} has no counted crimes in one period "
            f"(before, after = {pair['control']}); the evaluation needs a busier control area."
        )
    wdd_total = _wdd_for(counts, design)
    wdd_local = _wdd_for(counts, design, local_only=True)
    rr = (
        rate_ratio(pair["control"], pair["treatment"], alpha=design.alpha)
        if min(*pair["control"], *pair["treatment"]) > 0
        else None
    )
    harm = None
    if design.harm_weights:
        by_cat = count_design(incidents, design, by_category=True)
        parts = [_wdd_for(pd.DataFrame(by_cat.xs(c, level="category")), design) for c in design.harm_weights]
        harm = wdd_harm(parts, list(design.harm_weights.values()), alpha=design.alpha)
    tests: dict[str, float | None] = {}
    for area, (b, a) in pair.items():
        tests[area] = None if b == a == 0 else e_test(b, a, n1=design.before_days, n2=design.after_days)
    pow_res = minimum_detectable_effect(
        pair["treatment"][0],
        pair["control"][0],
        before_days=design.before_days,
        after_days=design.after_days,
        alpha=design.alpha,
    )
    created = meta.get("created_at")
    registered = None if created is None else pd.Timestamp(created).date() < design.start
    series = before_after_series(incidents, design, freq=freq)
    lines = [wdd_local.interpretation]
    if rr is not None:
        lines.append(rr.interpretation)
    if wdd_total.has_displacement_areas:
        lines.append("With the buffer and its own control: " + wdd_total.interpretation)
    lines.append(wdq_res.interpretation)
    if harm is not None:
        lines.append(harm.interpretation)
    if registered is False:
        lines.append(
            "The design file was saved after the start date, so this is a post-hoc evaluation; "
            "treat it with more caution than a design fixed in advance."
        )
    elif registered is None:
        lines.append("The design was not read from a saved file, so its pre-registration is not checked.")
    return EvaluationResult(
        design=design,
        meta=meta,
        counts=counts,
        wdq=wdq_res,
        wdd=wdd_total,
        wdd_local=wdd_local,
        rate_ratio=rr,
        wdd_harm=harm,
        e_tests=tests,
        power=pow_res,
        series=series,
        registered_before_start=registered,
        interpretation=" ".join(lines),
    )


# ------------------------------------------------------------------------------------------- charts


def before_after_series(
    incidents: gpd.GeoDataFrame, design: EvaluationDesign, *, freq: str = "MS"
) -> pd.DataFrame:
    """Tidy counts per time bin and area over the design's periods, for charts.

    Returns
    -------
    DataFrame
        ``period`` (bin start, Timestamp), ``area``, ``count``, ``days`` (days of the bin inside
        the design's periods), ``phase`` (``before``/``after``/``gap``); every bin × area present.
    """
    lo = pd.Timestamp(design.before[0])
    hi = pd.Timestamp(design.after[1])
    try:
        edges = pd.date_range(lo.to_period("D").to_timestamp(), hi, freq=freq)
    except ValueError:
        raise ConfigError(f"freq={freq!r} is not a pandas frequency such as 'MS', 'W-MON', 'D'.") from None
    edges = edges.union(pd.DatetimeIndex([lo, hi])).unique().sort_values()
    edges = edges[(edges >= lo) & (edges <= hi)]
    sel = select_incidents(incidents, design)
    area = assign_areas(sel, design)
    t = pd.to_datetime(sel["occurred_at"]).to_numpy()
    ok = (area != "") & (t >= lo.to_datetime64()) & (t < hi.to_datetime64())
    idx = np.searchsorted(edges.to_numpy(), t[ok], side="right") - 1
    present = design.areas
    codes = np.array([present.index(a) for a in area[ok]], dtype=np.int64)
    n_bins = len(edges) - 1
    counts = np.zeros((n_bins, len(present)), dtype=np.int64)
    np.add.at(counts, (idx, codes), 1)
    starts, ends = edges[:-1], edges[1:]
    days = ((ends - starts) / pd.Timedelta(days=1)).to_numpy()
    b1, a0 = pd.Timestamp(design.before[1]), pd.Timestamp(design.after[0])
    phase = np.where(ends <= b1, "before", np.where(starts >= a0, "after", "gap"))
    return pd.DataFrame(
        {
            "period": np.repeat(starts.to_numpy(), len(present)),
            "area": np.tile(present, n_bins),
            "count": counts.ravel(),
            "days": np.repeat(days, len(present)),
            "phase": np.repeat(phase, len(present)),
        }
    )
