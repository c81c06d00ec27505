"""Ranking measures within a hotspot by a stated rule, with the reason for each place.

Measures are ordered in tiers, then by the rule's score: measures expected to pay back that reach
enough crimes; those reaching fewer than :data:`MIN_REACHED`; those not expected to pay back; those
none of whose reached crimes has a unit cost (their benefit cannot be valued, and is never taken as
zero); and comparators (policing) last. Within a tier, a surveillance measure yields to a non-surveillance
measure worth at least :data:`SIMILAR_VALUE` as much (unless the user allows surveillance
priority), and a measure whose effect is unmeasured yields likewise to one with published evidence.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

SIMILAR_VALUE = 0.8  # a camera may not outrank a non-surveillance measure worth ≥ 80% as much
# A measure reaching fewer crimes than this (over the whole period) in a hotspot is listed after the
# measures that reach more: its benefit rests on too few crimes to tell from chance, and a per-cost
# rule would otherwise put a cheap measure for one crime above the place's main problem.
MIN_REACHED = 5.0
#: Ranking rules: name → (column holding the score, plain-language description).
RANK_RULES = {
    "net_benefit_per_cost": ("net_benefit_per_cost", "expected net benefit per unit of money spent"),
    "net_benefit": ("net_benefit", "expected net benefit (present value)"),
    "bcr": ("bcr", "median benefit-cost ratio"),
    "prevented": ("prevented_per_year", "expected crimes prevented per year"),
    "p_benefit_exceeds_cost": ("p_benefit_exceeds_cost", "probability that the benefit exceeds the cost"),
}


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _yield(g: pd.DataFrame, col: str, flag: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """Move each ``flag`` row with a positive score below the last lower-ranked non-``flag`` row worth
    at least SIMILAR_VALUE as much; returns the reordered rows and, by measure id, whom each yielded to.
    """
    order = list(range(len(g)))
    moved: dict[int, str] = {}
    for i in range(len(g)):
        score = g.loc[i, col]
        if not g.loc[i, flag] or not score > 0:
            continue
        rivals = [
            j
            for j in range(len(g))
            if not g.loc[j, flag]
            and g.loc[j, col] >= SIMILAR_VALUE * score
            and order.index(j) > order.index(i)
        ]
        if rivals:
            last = max(rivals, key=order.index)
            order.remove(i)
            order.insert(order.index(last) + 1, i)
            moved[i] = str(g.loc[last, "name"])
    return g.loc[order].reset_index(drop=True), {
        str(g.loc[i, "intervention_id"]): name for i, name in moved.items()
    }


def rank_rule(run: Any) -> str:
    """The ranking rule in force: the chosen one, or crimes prevented when nothing is costed."""
    return run.options.rank_by if run.choice.jurisdiction is not None else "prevented"


def rank_group(g: pd.DataFrame, draws: list[np.ndarray], run: Any) -> pd.DataFrame:
    """One hotspot's rows in rank order with ``rank``, ``rank_reason``, ``p_beats_next`` and
    ``rank_score`` (``draws``: each row's Monte Carlo draws of the score, by its ``_draw`` index).
    """
    col, label = RANK_RULES[rank_rule(run)]
    # tiers, then the rule's score: measures expected to pay back and reaching enough crimes; those
    # reaching fewer than MIN_REACHED; those not expected to pay back; those not costed; comparators last
    costed = run.choice.jurisdiction is not None
    losing = g["net_benefit"].fillna(1.0) <= 0 if costed else False
    # a measure none of whose reached crimes has a unit cost cannot be valued: after the costed ones
    uncosted = g["net_benefit"].isna() if costed else False
    minor = g["reached_count"] < MIN_REACHED
    tier = np.where(uncosted, 3, np.where(losing, 2, np.where(minor, 1, 0)))
    g = g.assign(_comparator=g["kind"].eq("comparator"), _minor=minor, _tier=tier)
    g = g.sort_values(
        ["_comparator", "_tier", col, "intervention_id"],
        ascending=[True, True, False, True],
        na_position="last",
    ).reset_index(drop=True)
    g, unmeasured = _yield(g, col, "effect_unmeasured")
    moved: dict[str, str] = {}
    if not run.options.allow_surveillance_priority:
        g, moved = _yield(g, col, "surveillance")
    g["rank"] = np.arange(1, len(g) + 1)
    d = [draws[int(i)] for i in g["_draw"]]
    rows = g[["name", "kind", "intervention_id", col, "_minor", "_tier"]].to_dict("records")
    p_next, reasons = [], []
    for i, row in enumerate(rows):
        p = (
            float((d[i] > d[i + 1]).mean())
            if i + 1 < len(rows)
            and col != "p_benefit_exceeds_cost"
            and np.isfinite(d[i]).any()
            and np.isfinite(d[i + 1]).any()  # a measure whose crimes are not costed has no money draws
            else np.nan
        )
        p_next.append(round(p, 3) if np.isfinite(p) else np.nan)
        ident = str(row["intervention_id"])
        note = ""
        if ident in moved:
            note = f"A surveillance measure, it is placed below {moved[ident]}, a non-surveillance measure worth at least {SIMILAR_VALUE:.0%} as much"
        elif ident in unmeasured:
            note = f"Its effect is unmeasured (an assumption), so it is placed below {unmeasured[ident]}, a measure with published evidence worth at least {SIMILAR_VALUE:.0%} as much"
        elif row["_tier"] == 3:
            note = "None of the crimes it reaches has a unit cost in this jurisdiction, so its benefit cannot be valued (it is not valued at zero); it is listed after the costed measures"
        elif row["_tier"] == 2:
            note = "It is not expected to pay back (net benefit at or below zero), so it is listed after the measures that are"
        elif row["_minor"]:
            note = f"It reaches fewer than {MIN_REACHED:g} of the hotspot's crimes, too few to tell its benefit from chance, so it is listed after the measures that reach more"
        reasons.append(_rank_text(rows, i, col=col, label=label, p=p, note=note, currency=run.currency))
    g["p_beats_next"] = p_next
    g["rank_reason"] = reasons
    g["rank_score"] = g[col]
    return g.drop(columns=["_comparator", "_minor", "_tier"])


def _rank_text(
    rows: list[dict[str, Any]], i: int, *, col: str, label: str, p: float, note: str, currency: str | None
) -> str:
    """Why row ``i`` sits where it does: the rule, its score, its neighbours and P(beats the next)."""
    unit = f" per {currency}" if col == "net_benefit_per_cost" and currency else ""

    def fmt(v: float) -> str:
        if not np.isfinite(v):
            return "not valued"
        return f"{v:,.0f}" if col == "net_benefit" else f"{v:,.2f}"

    row = rows[i]
    text = f"Ranked {_ordinal(i + 1)} by {label}. {row['name']}: {label} {fmt(row[col])}"
    text += unit if np.isfinite(row[col]) else ""
    if i > 0:
        text += f"; below {rows[i - 1]['name']} ({fmt(rows[i - 1][col])})"
    if i + 1 < len(rows):
        text += f"; above {rows[i + 1]['name']} ({fmt(rows[i + 1][col])})"
        if rows[i + 1][col] > row[col] or (np.isfinite(rows[i + 1][col]) and not np.isfinite(row[col])):
            text += " despite its higher score (see the rule in its reason)"
        if np.isfinite(p):
            text += f", which it beats in {p:.0%} of simulations"
    if note:
        text += f". {note}"
    if row["kind"] == "comparator":
        text += ". A comparator (policing, not situational prevention): listed after the situational measures for reference"
    return text + "."
