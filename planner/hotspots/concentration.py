"""How concentrated incidents are across places (cells, segments, hotspots).

- :func:`lorenz_curve` — the Lorenz curve of counts (places sorted from fewest to most incidents);
- :func:`gini` — the Gini coefficient, ``Σ (2i − n − 1) x_(i) / (n Σ x)`` (ascending order);
- :func:`top_share` — share of incidents in the top 1 / 5 / 10 % of places, with the top
  ``⌊N · fraction⌋`` places chosen as in :func:`planner.evaluate.accuracy.top_slice`;
- :func:`places_for_share` — smallest share of places holding a given share of incidents (the
  "L50" of the law of crime concentration: about half of crime on about 4 % of street segments,
  Weisburd 2015).

Counts are per place; equal-area places are assumed (pass cells of one grid).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from planner._params import check_fraction
from planner.errors import ValidationError

_WHERE = "hotspots.concentration"


def _counts(counts: object) -> np.ndarray:
    x = np.asarray(counts, dtype="float64").ravel()
    if x.size == 0:
        raise ValidationError("Concentration needs at least one place; got an empty array.")
    if not np.isfinite(x).all() or (x < 0).any():
        raise ValidationError("Counts for concentration measures must be finite and ≥ 0.")
    return x


def lorenz_curve(counts: object) -> pd.DataFrame:
    """Lorenz curve of ``counts``.

    Returns
    -------
    DataFrame
        ``place_share`` and ``incident_share`` from (0, 0) to (1, 1), places sorted ascending by count
        (one row per place plus the origin). All-zero counts give the diagonal.
    """
    x = np.sort(_counts(counts))
    n = x.size
    total = x.sum()
    cum = np.r_[0.0, np.cumsum(x)]
    inc = cum / total if total > 0 else np.linspace(0.0, 1.0, n + 1)
    return pd.DataFrame({"place_share": np.arange(n + 1) / n, "incident_share": inc})


def gini(counts: object) -> float:
    """Gini coefficient of ``counts`` in [0, 1 − 1/n]; 0 for all-equal (or all-zero) counts.

    >>> gini([0, 0, 0, 10])
    0.75
    """
    x = np.sort(_counts(counts))
    n = x.size
    total = x.sum()
    if total == 0:
        return 0.0
    i = np.arange(1, n + 1)
    return float(np.sum((2 * i - n - 1) * x) / (n * total))


def top_share(counts: object, fractions: tuple[float, ...] = (0.01, 0.05, 0.1)) -> dict[float, float]:
    """Share of all incidents in the top ``⌊N · f⌋`` places, for each fraction f.

    >>> top_share([5, 0, 0, 0, 0, 0, 0, 0, 0, 5], fractions=(0.1, 0.2))
    {0.1: 0.5, 0.2: 1.0}
    """
    x = _counts(counts)
    total = x.sum()
    desc = np.sort(x)[::-1]
    cum = np.r_[0.0, np.cumsum(desc)]
    out = {}
    for f in fractions:
        frac = check_fraction(f, name="fractions", where=_WHERE)
        k = math.floor(x.size * frac + 1e-9)
        out[f] = float(cum[k] / total) if total > 0 else 0.0
    return out


def places_for_share(counts: object, share: float = 0.5) -> float:
    """Smallest share of places (most incidents first) that together hold ≥ ``share`` of incidents.

    >>> places_for_share([6, 2, 1, 1], 0.5)
    0.25
    """
    x = _counts(counts)
    share = check_fraction(share, name="share", where=_WHERE)
    total = x.sum()
    if total == 0:
        return float("nan")
    cum = np.cumsum(np.sort(x)[::-1]) / total
    k = int(np.searchsorted(cum, share - 1e-12)) + 1
    return k / x.size


def concentration_summary(
    counts: object, fractions: tuple[float, ...] = (0.01, 0.05, 0.1)
) -> dict[str, float]:
    """Gini, L50 and top shares in one flat dict (keys like ``top_5pct_share``), for reports."""
    out = {"gini": gini(counts), "places_for_half": places_for_share(counts, 0.5)}
    for f, v in top_share(counts, fractions).items():
        out[f"top_{f * 100:g}pct_share"] = v
    return out


__all__ = ["concentration_summary", "gini", "lorenz_curve", "places_for_share", "top_share"]
