"""How well a hotspot method picks the places where future incidents happen.

Definitions (EVIDENCE.md §2.5; PEER_TESTS.md §4):

- **hit rate** = n/N, the share of (future) incidents inside the selected places;
- **PAI** (Chainey, Tompson & Uhlig 2008) = (n/N) / (a/A), hit rate over area share;
- **PEI** (Hunt 2016) = PAI / PAI*, where PAI* is the best PAI any selection of the same number of
  places could reach (the oracle ranks places by observed density), so PEI ∈ [0, 1];
- **RRI** as in ptools = cumulative predicted / cumulative observed (not Levine's recapture index).

**Selecting the top places (open_cp's tie rule).** For a coverage fraction c of N places,
:func:`top_slice` flags exactly ``n = ⌊N·c⌋`` places: every place whose risk is above the n-th
largest value, and of the places tied at that value, the *last* ones in their natural order
(open_cp ``evaluation.top_slice`` removes the tied places from the front until n remain).
:func:`pai_table` instead follows ptools ``pai()``: places are ranked by predicted density
(pred/area, descending) and, among ties, by observed count ascending (the pessimistic order), and
PAI/PEI are reported cumulatively at every rank.

:func:`backtest` trains each method on one period ``[split − train_days, split)`` and scores it on
the next ``[split, split + test_days)`` at the given area coverages.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from planner._params import check_fraction
from planner.errors import ValidationError

logger = logging.getLogger(__name__)

_WHERE = "evaluate.accuracy"


def _n_top(n_places: int, fraction: float) -> int:
    # open_cp: n = floor(N * fraction). The tiny tolerance keeps e.g. 100 × 0.29 at 29 (binary
    # floating point gives 28.999…); open_cp's own test cases are unaffected.
    return min(n_places, max(0, math.floor(n_places * fraction + 1e-9)))


def top_slice(risk: Any, fraction: float) -> np.ndarray:
    """Boolean array flagging the top ``⌊N · fraction⌋`` places by ``risk`` (open_cp's rule).

    Parameters
    ----------
    risk : array_like (any shape) or masked array
        Risk per place; masked or NaN entries are never selected and do not count in N.
    fraction : float in [0, 1]
        Coverage.

    Returns
    -------
    ndarray of bool, same shape as ``risk``
        Ties at the cut-off keep the later places in natural (C) order.

    >>> top_slice([1, 1, 1, 2, 3, 4], 0.7).tolist()
    [False, False, True, True, True, True]
    """
    fraction = float(fraction)
    if not 0.0 <= fraction <= 1.0:
        raise ValidationError(f"top_slice fraction must lie in [0, 1]; got {fraction}.")
    arr = np.ma.asarray(risk)
    flat = np.ma.getdata(arr).astype("float64").ravel()
    valid = ~np.ma.getmaskarray(arr).ravel() & np.isfinite(flat)
    idx = np.flatnonzero(valid)
    n = _n_top(idx.size, fraction)
    out = np.zeros(flat.size, dtype=bool)
    if n:
        order = np.lexsort((idx, flat[idx]))  # ascending risk, then ascending position
        out[idx[order[-n:]]] = True
    return out.reshape(np.shape(arr))


def hit_rate(risk: Any, counts: Any, *, coverage: float) -> float:
    """Share of incidents (``counts`` per place) inside the :func:`top_slice` of ``risk``.

    Returns NaN when there are no incidents.
    """
    c = np.asarray(counts, dtype="float64")
    sel = top_slice(risk, coverage)
    if c.shape != sel.shape:
        raise ValidationError(f"risk and counts must have the same shape; got {sel.shape} and {c.shape}.")
    total = c[np.isfinite(c)].sum()
    return float(c[sel].sum() / total) if total > 0 else float("nan")


def hit_rates(risk: Any, counts: Any, coverages: Sequence[float]) -> dict[float, float]:
    """:func:`hit_rate` at several coverages (fractions)."""
    return {cov: hit_rate(risk, counts, coverage=cov) for cov in coverages}


def _prepare(obs: Any, pred: Any, area: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    o = np.asarray(obs, dtype="float64").ravel()
    p = np.asarray(pred, dtype="float64").ravel()
    a = np.ones_like(o) if area is None else np.asarray(area, dtype="float64").ravel()
    if not (o.shape == p.shape == a.shape):
        raise ValidationError(
            f"obs, pred and area must have the same length; got {o.size}, {p.size}, {a.size}."
        )
    if (a <= 0).any() or not np.isfinite(np.r_[o, p, a]).all():
        raise ValidationError("obs, pred and area must be finite and areas > 0.")
    return o, p, a


def pai_table(obs: Any, pred: Any, area: Any = None) -> pd.DataFrame:
    """ptools-style cumulative PAI, PEI and RRI table.

    Parameters
    ----------
    obs : array_like
        Observed (future) counts per place.
    pred : array_like
        Predicted counts (or any risk score) per place.
    area : array_like, optional
        Area per place (any unit; equal areas by default).

    Returns
    -------
    DataFrame
        One row per place in rank order: ``order`` (1-based), ``place`` (input position),
        ``count``, ``cum_count``, ``pred``, ``cum_pred``, ``area``, ``cum_area``,
        ``pcum_count``, ``pcum_area``, ``pai``, ``pei``, ``rri``.
    """
    o, p, a = _prepare(obs, pred, area)
    pos = np.arange(o.size)
    order = np.lexsort((pos, o, -(p / a)))  # density desc; ties: smaller obs first; then position
    o_s, p_s, a_s = o[order], p[order], a[order]
    tot_c, tot_a = o.sum(), a.sum()
    cum_c, cum_a, cum_p = np.cumsum(o_s), np.cumsum(a_s), np.cumsum(p_s)
    with np.errstate(invalid="ignore", divide="ignore"):
        pai_v = (cum_c / tot_c) / (cum_a / tot_a)
        best = np.argsort(-(o_s / a_s), kind="stable")
        perf = (np.cumsum(o_s[best]) / tot_c) / (np.cumsum(a_s[best]) / tot_a)
        pei_v = pai_v / perf
        rri_v = cum_p / cum_c
    return pd.DataFrame(
        {
            "order": np.arange(1, o.size + 1),
            "place": order,
            "count": o_s,
            "cum_count": cum_c,
            "pred": p_s,
            "cum_pred": cum_p,
            "area": a_s,
            "cum_area": cum_a,
            "pcum_count": cum_c / tot_c if tot_c > 0 else np.nan,
            "pcum_area": cum_a / tot_a,
            "pai": pai_v,
            "pei": pei_v,
            "rri": rri_v,
        }
    )


def pai(obs: Any, pred: Any, area: Any = None) -> np.ndarray:
    """Cumulative PAI in rank order of predicted density (see :func:`pai_table`).

    >>> pai([6, 3, 0], [3, 2, 1]).tolist()
    [2.0, 1.5, 1.0]
    """
    return pai_table(obs, pred, area)["pai"].to_numpy()


def pei(obs: Any, pred: Any, area: Any = None) -> np.ndarray:
    """Cumulative PEI = PAI / oracle PAI at each rank (see :func:`pai_table`)."""
    return pai_table(obs, pred, area)["pei"].to_numpy()


def scores_at_coverage(
    risk: Any, obs: Any, area: Any = None, *, coverages: Sequence[float] = (0.01, 0.05, 0.1)
) -> pd.DataFrame:
    """Hit rate, PAI and PEI when the top ``⌊N·c⌋`` places by ``risk`` are selected (open_cp rule).

    PEI's oracle selects the same number of places by observed density (count / area).

    Returns
    -------
    DataFrame
        ``coverage``, ``n_places``, ``area_share``, ``captured``, ``total``, ``hit_rate``, ``pai``,
        ``pei``.
    """
    o, r, a = _prepare(obs, risk, area)
    rows = []
    tot_c, tot_a = o.sum(), a.sum()
    dens = o / a
    best_order = np.lexsort((np.arange(o.size), -dens))
    for cov in coverages:
        c = check_fraction(cov, name="coverages", where=_WHERE)
        sel = top_slice(r, c)
        n = int(sel.sum())
        captured = float(o[sel].sum())
        area_share = float(a[sel].sum() / tot_a) if n else 0.0
        hr = captured / tot_c if tot_c > 0 else np.nan
        pai_v = hr / area_share if area_share > 0 else np.nan
        if n:
            ob = best_order[:n]
            best = (o[ob].sum() / tot_c) / (a[ob].sum() / tot_a) if tot_c > 0 else np.nan
        else:
            best = np.nan
        pei_v = pai_v / best if best and np.isfinite(best) and best > 0 else np.nan
        rows.append(
            {
                "coverage": c,
                "n_places": n,
                "area_share": area_share,
                "captured": captured,
                "total": float(tot_c),
                "hit_rate": hr,
                "pai": pai_v,
                "pei": pei_v,
            }
        )
    return pd.DataFrame(rows)


__all__ = [
    "hit_rate",
    "hit_rates",
    "pai",
    "pai_table",
    "pei",
    "scores_at_coverage",
    "top_slice",
]
