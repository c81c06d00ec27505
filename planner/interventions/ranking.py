"""Ranking measures within a hotspot by a stated rule, with the reason for each place.

When money is counted (a jurisdiction applies), the measures expected to pay back (expected net
benefit > 0) always come first, whatever the rule: a measure not expected to pay back never ranks
above one that is. Within the measures that pay back, the order is: situational measures reaching
at least :data:`MIN_REACHED` crimes, by the rule's score; those reaching fewer, by the score; and
policing comparators (hot-spot patrol) for reference. The measures not expected to pay back follow,
situational before comparators, cheapest first with their odds of paying back (their scores are
all losses, so the money at stake is what tells them apart). When nothing in a hotspot pays back,
every row's ``hotspot_note`` says so plainly and names the cheapest measures with their odds.

Within one tier ordered by score (never across tiers), a surveillance measure yields to a
non-surveillance situational measure of the same tier worth at least :data:`SIMILAR_VALUE` as much
(unless the user allows surveillance priority), and a measure whose effect is unmeasured yields
likewise to one with published evidence. Comparators are never rivals: they do not move
situational measures. Without costs (no jurisdiction), the tiers are the same without the pay-back
split. ``rank_reason`` is written from the final order, so it names the real neighbours.
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
#: How many of the cheapest measures a hotspot where nothing pays back names in its note.
CHEAPEST_SHOWN = 3
#: Ranking rules: name → (column holding the score, plain-language description).
RANK_RULES = {
    "net_benefit_per_cost": ("net_benefit_per_cost", "expected net benefit per unit of money spent"),
    "net_benefit": ("net_benefit", "expected net benefit (present value)"),
    "bcr": ("bcr", "median benefit-cost ratio"),
    "prevented": ("prevented_per_year", "expected crimes prevented per year"),
    "p_benefit_exceeds_cost": ("p_benefit_exceeds_cost", "probability that the benefit exceeds the cost"),
}
_TIER_COLUMNS = ["_losing", "_uncosted", "_comparator", "_minor"]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _yield(g: pd.DataFrame, col: str, flag: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """Move each ``flag`` row with a positive score below the last lower-ranked non-``flag`` row worth
    at least SIMILAR_VALUE as much; returns the reordered rows and, by measure id, whom each yielded to.

    ``g`` is one tier of situational measures in score order (the caller never passes several tiers
    or comparators, so a measure yields only to a rival of its own tier).
    """
    g = g.reset_index(drop=True)
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


def _tiers(g: pd.DataFrame, col: str, costed: bool) -> pd.DataFrame:
    """``g`` sorted into tiers (see the module docstring), with the tier flags as columns.

    A row pays back when its expected net benefit is above zero; a missing net benefit in a costed
    run is not shown to pay back. Rows that pay back (and every row of an uncosted run) are ordered
    by the rule's score, highest first; the others by cost, cheapest first, then by their odds of
    paying back, highest first.
    """
    net = pd.to_numeric(g["net_benefit"], errors="coerce")
    losing = ~net.gt(0) if costed else pd.Series(False, index=g.index)
    score = pd.to_numeric(g[col], errors="coerce").astype(float)
    cost = pd.to_numeric(g["cost"], errors="coerce").astype(float)
    key = np.where(losing, cost.fillna(np.inf), (-score).fillna(np.inf))
    odds = pd.to_numeric(g["p_benefit_exceeds_cost"], errors="coerce").fillna(0.0)
    # a measure none of whose reached crimes has a unit cost cannot be valued (never taken as zero):
    # it is not shown to pay back, and is listed after the costed measures that are not
    uncosted = net.isna() if costed else pd.Series(False, index=g.index)
    g = g.assign(
        _losing=losing.to_numpy(bool),
        _uncosted=uncosted.to_numpy(bool),
        _comparator=g["kind"].eq("comparator").to_numpy(bool),
        _minor=(g["reached_count"].lt(MIN_REACHED) & ~losing).to_numpy(bool),
        _key=key,
        _odds=np.where(losing, -odds, 0.0),
    )
    return (
        g.sort_values([*_TIER_COLUMNS, "_key", "_odds", "intervention_id"], kind="stable")
        .drop(columns=["_key", "_odds"])
        .reset_index(drop=True)
    )


def _apply_yields(g: pd.DataFrame, col: str, run: Any) -> tuple[pd.DataFrame, dict[str, str], dict[str, str]]:
    """The camera-yield and unmeasured-effect rules, applied within each situational tier ordered by
    score (never across tiers, never with comparators as rivals, never among losing measures, which
    are ordered by cost).
    """
    parts: list[pd.DataFrame] = []
    unmeasured: dict[str, str] = {}
    moved: dict[str, str] = {}
    for (losing, _uncosted, comparator, _minor), tier in g.groupby(_TIER_COLUMNS, sort=False):
        ordered = tier
        if not losing and not comparator:
            ordered, u = _yield(ordered, col, "effect_unmeasured")
            unmeasured.update(u)
            if not run.options.allow_surveillance_priority:
                ordered, m = _yield(ordered, col, "surveillance")
                moved.update(m)
        parts.append(ordered)
    return pd.concat(parts, ignore_index=True), unmeasured, moved


def rank_group(g: pd.DataFrame, draws: list[np.ndarray], run: Any) -> pd.DataFrame:
    """One hotspot's rows in rank order.

    Parameters
    ----------
    g : DataFrame
        The hotspot's recommendation rows (``name``, ``kind``, ``intervention_id``, ``net_benefit``,
        ``cost``, ``p_benefit_exceeds_cost``, ``reached_count``, ``surveillance``,
        ``effect_unmeasured``, the rule's score column and ``_draw``).
    draws : list of ndarray
        Each row's Monte Carlo draws of the score, by its ``_draw`` index.
    run : object
        The run context (``options.rank_by``, ``options.allow_surveillance_priority``,
        ``choice.jurisdiction``, ``currency``).

    Returns
    -------
    DataFrame
        The rows in rank order with ``rank``, ``rank_reason``, ``p_beats_next`` (the probability
        that the row's score beats the next row's), ``rank_score`` and ``hotspot_note`` (empty
        unless no situational measure in the hotspot is expected to pay back).
    """
    col, label = RANK_RULES[rank_rule(run)]
    costed = run.choice.jurisdiction is not None
    g, unmeasured, moved = _apply_yields(_tiers(g, col, costed), col, run)
    g["rank"] = np.arange(1, len(g) + 1)
    d = [draws[int(i)] for i in g["_draw"]]
    wanted = ["name", "kind", "intervention_id", col, "cost", "net_benefit", "p_benefit_exceeds_cost"]
    rows = g[[*dict.fromkeys(wanted), *_TIER_COLUMNS]].to_dict("records")
    text = _Text(col=col, label=label, currency=run.currency, rows=rows)
    p_next, reasons = [], []
    for i, row in enumerate(rows):
        p = (
            float((d[i] > d[i + 1]).mean())
            if i + 1 < len(rows) and col != "p_benefit_exceeds_cost"
            else np.nan
        )
        p_next.append(round(p, 3) if np.isfinite(p) else np.nan)
        ident = str(row["intervention_id"])
        note = ""
        if ident in moved:
            note = f"A surveillance measure, it is placed below {moved[ident]}, a non-surveillance measure of its tier worth at least {SIMILAR_VALUE:.0%} as much"
        elif ident in unmeasured:
            note = f"Its effect is unmeasured (an assumption), so it is placed below {unmeasured[ident]}, a measure of its tier with published evidence worth at least {SIMILAR_VALUE:.0%} as much"
        elif row["_uncosted"]:
            note = "None of the crimes it reaches has a unit cost in this jurisdiction, so its benefit cannot be valued (it is not valued at zero); it is listed after the costed measures"
        elif row["_minor"]:
            note = f"It reaches fewer than {MIN_REACHED:g} of the hotspot's crimes, too few to tell its benefit from chance, so it is listed after the measures that reach more"
        reasons.append(text.reason(i, p=p, note=note))
    g["p_beats_next"] = p_next
    g["rank_reason"] = reasons
    g["rank_score"] = g[col]
    g["hotspot_note"] = hotspot_note(g, currency=run.currency) if costed else ""
    return g.drop(columns=_TIER_COLUMNS)


def hotspot_note(g: pd.DataFrame, *, currency: str | None) -> str:
    """What a hotspot where no situational measure is expected to pay back says of itself ("" otherwise).

    Parameters
    ----------
    g : DataFrame
        The hotspot's ranked rows (``name``, ``kind``, ``net_benefit``, ``cost``,
        ``p_benefit_exceeds_cost``), in rank order.
    currency : str or None
        The currency of the costs, for the text.

    Returns
    -------
    str
        The note, naming up to :data:`CHEAPEST_SHOWN` of the cheapest situational measures with
        their cost and their odds of paying back (the share of simulations where the benefit
        exceeds the cost).
    """
    net = pd.to_numeric(g["net_benefit"], errors="coerce")
    pays = net.gt(0)
    situational = g["kind"].ne("comparator")
    if not len(g) or (pays & situational).any():
        return ""
    paying_comparators = [str(n) for n in g.loc[pays & ~situational, "name"]]
    if paying_comparators:
        head = (
            "No situational measure here is expected to pay back; only the policing comparator "
            f"({', '.join(paying_comparators)}) is, and it is listed first for reference."
        )
    else:
        head = "Nothing here is expected to pay back: no measure's expected benefit exceeds its cost."
    cheapest = g[~pays].head(CHEAPEST_SHOWN)  # rank order: situational first, cheapest first
    if not len(cheapest):
        return head
    unit = f" {currency}" if currency else ""
    listed = "; ".join(
        f"{r['name']} (cost {r['cost']:,.0f}{unit}; {_odds(r)})" for _, r in cheapest.iterrows()
    )
    return (
        f"{head} The measures not expected to pay back are listed cheapest first, with their odds: {listed}."
    )


def _odds(row: Any) -> str:
    """``pays back in 15% of simulations`` (or that the odds are not known)."""
    p = row["p_benefit_exceeds_cost"]
    return f"pays back in {p:.0%} of simulations" if pd.notna(p) else "odds of paying back not known"


class _Text:
    """Writes ``rank_reason`` from the final order (so it always names the real neighbours)."""

    def __init__(self, *, col: str, label: str, currency: str | None, rows: list[dict[str, Any]]) -> None:
        self.col, self.label, self.rows = col, label, rows
        self.unit = f" {currency}" if currency else ""
        self.per = f" per {currency}" if col == "net_benefit_per_cost" and currency else ""
        self.n_paying = sum(not r["_losing"] for r in rows)
        self.n_paying_situational = sum(not r["_losing"] and not r["_comparator"] for r in rows)

    def _fmt(self, v: float) -> str:
        return f"{v:,.0f}" if self.col == "net_benefit" else f"{v:,.2f}"

    def _money(self, v: float) -> str:
        return f"{v:,.0f}{self.unit}" if np.isfinite(v) else "not known"

    def _key(self, row: dict[str, Any]) -> str:
        """The figure that orders the row within its tier: the score, or the cost of a losing row."""
        return f"cost {self._money(row['cost'])}" if row["_losing"] else self._fmt(row[self.col])

    def _lead(self, i: int) -> str:
        row = self.rows[i]
        if not row["_losing"]:
            return f"Ranked {_ordinal(i + 1)} by {self.label}. {row['name']}: {self.label} {self._fmt(row[self.col])}{self.per}"
        return (
            f"Ranked {_ordinal(i + 1)}, cheapest first among the measures not expected to pay back. {row['name']}: "
            f"cost {self._money(row['cost'])}, expected net benefit {self._money(row['net_benefit'])}, "
            f"{_odds(row)}"
        )

    def _above(self, i: int, p: float) -> str:
        row, nxt = self.rows[i], self.rows[i + 1]
        if row["_losing"] != nxt["_losing"]:
            return f"; above {nxt['name']}, which is not expected to pay back (it {_odds(nxt)})"
        text = f"; above {nxt['name']} ({self._key(nxt)})"
        if row["_losing"]:
            if nxt["cost"] < row["cost"]:
                text += " despite its lower cost (see the rule in its reason)"
            return text
        if nxt[self.col] > row[self.col]:
            text += " despite its higher score (see the rule in its reason)"
        if np.isfinite(p):
            text += f", which it beats in {p:.0%} of simulations"
        return text

    def _below(self, i: int) -> str:
        row, prev = self.rows[i], self.rows[i - 1]
        if row["_losing"] != prev["_losing"]:
            return f"; below {prev['name']}, which is expected to pay back"
        return f"; below {prev['name']} ({self._key(prev)})"

    def _tier_notes(self, row: dict[str, Any]) -> list[str]:
        notes = []
        if row["_losing"] and self.n_paying:
            notes.append(
                "It is not expected to pay back (expected net benefit at or below zero), so it is listed after "
                f"the {self.n_paying} measure(s) that are; measures not expected to pay back are listed cheapest first"
            )
        elif row["_losing"]:
            notes.append(
                "No measure in this hotspot is expected to pay back, so all are listed cheapest first with their "
                "odds of paying back"
            )
        if row["kind"] == "comparator":
            notes.append(self._comparator_note(row))
        return notes

    def _comparator_note(self, row: dict[str, Any]) -> str:
        head = "A comparator (policing, not situational prevention)"
        if self.n_paying == len(self.rows):  # nothing loses (or nothing is costed)
            return f"{head}: listed after the situational measures for reference"
        if row["_losing"]:
            return f"{head}: listed for reference after the situational measures that, like it, are not expected to pay back"
        if self.n_paying_situational:
            return f"{head}: listed for reference after the situational measures that are expected to pay back, and before those that are not"
        return f"{head}, for reference: it is expected to pay back and no situational measure here is, so it comes first"

    def reason(self, i: int, *, p: float, note: str) -> str:
        """Why row ``i`` sits where it does: its tier, its figure, its neighbours and P(beats the next)."""
        text = self._lead(i)
        if i > 0:
            text += self._below(i)
        if i + 1 < len(self.rows):
            text += self._above(i, p)
        notes = ([note] if note else []) + self._tier_notes(self.rows[i])
        return text + "".join(f". {n}" for n in notes) + "."
