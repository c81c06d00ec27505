"""Small-count suppression: the arithmetic behind every count a public export shows.

A *published* count is a true count of at least ``k``, rounded to a multiple of ``round_to`` (never
below ``k``). Every other count is *suppressed* (null), zero included, so a null says only "fewer
than k".

Totals are the classic way suppression is undone: a total minus the published parts is the sum of
the suppressed parts. The rule kept here is that **no suppressed count can be shown to be above
zero**: given a total ``T``, the published entries and ``m`` suppressed entries of ``0 … k−1`` each,
the smallest value an entry can take is ``max(0, S − (m − 1)(k − 1))`` with ``S`` the suppressed
sum, so the total may be published with the entries only while ``S ≤ (m − 1)(k − 1)``
(:func:`suppressed_can_all_be_zero`). Where that fails the entries are withheld as a whole, never
by suppressing one more entry ("secondary suppression" by choosing another cell): which entry such
a rule picks depends on ``k`` and on the values' order, and two exports with different ``k`` then
pin the suppressed values down between them. Withholding or publishing whole tables, and
suppressing only by ``value < k``, keeps exports with larger ``k`` functions of exports with smaller
``k`` (nested), so differencing two exports learns nothing new.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


def rounded(value: float, *, k: int, round_to: int) -> int:
    """A count of at least ``k`` rounded to the nearest multiple of ``round_to`` (never below ``k``)."""
    if round_to <= 1:
        return int(value)
    out = math.floor(value / round_to + 0.5) * round_to
    return int(max(out, math.ceil(k / round_to) * round_to))


def publish_counts(values: Iterable[Any] | pd.Series, *, k: int, round_to: int) -> pd.Series:
    """Counts as published: null below ``k`` (zero included), else :func:`rounded` (nullable Int64)."""
    numeric = pd.to_numeric(pd.Series(values), errors="coerce")
    keep = numeric.notna() & (numeric >= k)
    out = pd.Series(pd.NA, index=numeric.index, dtype="Int64")
    if keep.any():
        out[keep] = [rounded(float(v), k=k, round_to=round_to) for v in numeric[keep]]
    return out


def suppressed_can_all_be_zero(total: float, published_true_sum: float, n_suppressed: int, k: int) -> bool:
    """True when, given the total, every one of ``n_suppressed`` entries (each 0 … k−1) may be 0.

    ``published_true_sum`` is the true (unrounded) sum of the published entries: the check assumes
    an attacker who knows the total and the published entries exactly (rounding only helps).
    """
    if n_suppressed == 0:
        return True
    hidden = float(total) - float(published_true_sum)
    return hidden <= (n_suppressed - 1) * (k - 1) + 1e-9


def feasible_range(total: float, published_true_sum: float, n_suppressed: int, k: int) -> tuple[float, float]:
    """Smallest and largest value one suppressed entry can take, given the total (for audits)."""
    hidden = float(total) - float(published_true_sum)
    low = max(0.0, hidden - (n_suppressed - 1) * (k - 1))
    high = min(float(k - 1), hidden)
    return low, high


@dataclass(frozen=True)
class ProfileResult:
    """A count profile as published: entries (None = suppressed) or ``None`` when withheld."""

    published: dict[str, int | None] | None
    suppressed: int
    withheld: bool


def protect_profile(
    counts: Mapping[str, float], *, keys: Iterable[str], k: int, round_to: int, total: float | None = None
) -> ProfileResult:
    """Publish a count profile (e.g. incidents by crime type in one hotspot) without disclosure.

    Parameters
    ----------
    counts : mapping
        True counts by key (missing keys are 0).
    keys : iterable of str
        Every key the profile shows (the whole vocabulary, zeros included): a key that is missing
        from a published profile would itself say "zero".
    k, round_to : int
        Suppression threshold and rounding base.
    total : float, optional
        The total an attacker may know (default: the sum of ``counts``), e.g. the hotspot's count.

    Returns
    -------
    ProfileResult
        Entries ≥ ``k`` rounded, the others ``None``; the whole profile is withheld when the total
        would show that a suppressed entry is above zero (:func:`suppressed_can_all_be_zero`).
    """
    ordered = list(dict.fromkeys(keys))
    values = {key: float(counts.get(key, 0) or 0) for key in ordered}
    extra = sum(float(v or 0) for key, v in counts.items() if key not in values)
    total_value = float(total) if total is not None else sum(values.values()) + extra
    small = [key for key, v in values.items() if v < k]
    published_sum = sum(v for v in values.values() if v >= k)
    if not suppressed_can_all_be_zero(total_value, published_sum, len(small), k):
        return ProfileResult(published=None, suppressed=len(values), withheld=True)
    out: dict[str, int | None] = {
        key: (None if v < k else rounded(v, k=k, round_to=round_to)) for key, v in values.items()
    }
    return ProfileResult(published=out, suppressed=len(small), withheld=False)


def protect_sequence(
    counts: Iterable[float], *, k: int, round_to: int, total: float | None = None
) -> tuple[list[int | None] | None, int]:
    """:func:`protect_profile` for a list (hour or weekday profile): (entries or None, suppressed)."""
    values = list(counts)
    result = protect_profile(
        {str(i): v for i, v in enumerate(values)},
        keys=[str(i) for i in range(len(values))],
        k=k,
        round_to=round_to,
        total=total,
    )
    if result.published is None:
        return None, result.suppressed
    return [result.published[str(i)] for i in range(len(values))], result.suppressed


def group_total_is_safe(values: np.ndarray, *, k: int) -> bool:
    """True when the sum of all ``values`` may be published next to the values ≥ ``k``."""
    values = np.asarray(values, dtype=float)
    small = values < k
    return suppressed_can_all_be_zero(values.sum(), values[~small].sum(), int(small.sum()), k)
