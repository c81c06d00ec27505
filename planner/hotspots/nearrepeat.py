"""Knox near-repeat test over several distance and time bands.

For all n(n−1)/2 pairs of events, the spatial distance and the time gap are classified into bands
and counted (the observed table). Under the null of no space-time interaction, event times are
permuted over the fixed locations; the Knox ratio is observed / expected (mean or median of the
permuted tables) and the Monte Carlo p-value is (1 + #{permuted ≥ observed}) / (B + 1).

Only pairs closer than the largest finite distance break are enumerated (a KD-tree pair search), so
memory grows with the number of close pairs, not n². An open-ended distance band (last break ``inf``)
is counted arithmetically: all pairs per time band (from the sorted times) minus the close pairs.

Intervals are half-open ``[a, b)`` by default; ``closed="right"`` gives ``[0, b1], (b1, b2], ...``
as in Davies' implementation. The Near Repeat Calculator labels a band "a to b" but computes it on
``[a−1, b)`` and works in single precision: use ``float32=True`` and the breaks it really used to
reproduce its tables (see ``tests/test_nearrepeat.py``).
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
from scipy.spatial import cKDTree

from planner._params import check_choice
from planner.crs import require_projected
from planner.errors import ConfigError, InsufficientDataError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class KnoxResult:
    """Observed pair counts, permutation expectations, Knox ratios and p-values (rows = distance bands)."""

    observed: np.ndarray
    expected_mean: np.ndarray
    expected_median: np.ndarray
    knox_ratio_mean: np.ndarray
    knox_ratio_median: np.ndarray
    p_value: np.ndarray
    distance_breaks_m: tuple[float, ...]
    time_breaks_days: tuple[float, ...]
    closed: str
    metric: str
    permutations: int
    n_events: int

    def labels(self) -> tuple[list[str], list[str]]:
        """Band labels in interval notation, e.g. ``[0, 100)`` or ``(100, 200]``."""
        return _labels(self.distance_breaks_m, self.closed, "m"), _labels(
            self.time_breaks_days, self.closed, "days"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tables as nested lists, rows = distance bands)."""
        rows, cols = self.labels()

        def clean(a: np.ndarray) -> list[list[float | None]]:
            return [[None if not math.isfinite(v) else round(float(v), 6) for v in row] for row in a]

        return {
            "distance_bands": rows,
            "time_bands": cols,
            "distance_breaks_m": [_num(b) for b in self.distance_breaks_m],
            "time_breaks_days": [_num(b) for b in self.time_breaks_days],
            "closed": self.closed,
            "metric": self.metric,
            "permutations": self.permutations,
            "n_events": self.n_events,
            "observed": self.observed.astype(int).tolist(),
            "expected_mean": clean(self.expected_mean),
            "knox_ratio_mean": clean(self.knox_ratio_mean),
            "knox_ratio_median": clean(self.knox_ratio_median),
            "p_value": clean(self.p_value),
        }


def _num(b: float) -> float | str:
    return "inf" if math.isinf(b) else float(b)


def _labels(breaks: Sequence[float], closed: str, unit: str) -> list[str]:
    out = []
    for i, (a, b) in enumerate(itertools.pairwise(breaks)):
        hi = "∞" if math.isinf(b) else f"{b:g}"
        if closed == "left":
            out.append(f"[{a:g}, {hi}) {unit}")
        else:
            out.append(f"{'[' if i == 0 else '('}{a:g}, {hi}{')' if math.isinf(b) else ']'} {unit}")
    return out


def _breaks(values: Sequence[float | str], name: str) -> np.ndarray:
    arr = np.array([math.inf if str(v).lower() == "inf" else float(v) for v in values], dtype=float)
    if len(arr) < 2 or arr[0] != 0 or np.any(np.diff(arr) <= 0) or np.any(np.isinf(arr[:-1])):
        raise ConfigError(
            f"{name} must start at 0 and increase strictly, with only the last break allowed to be 'inf' "
            f"(e.g. 0,100,200,inf). Got {list(values)}."
        )
    return arr


def _bin(values: np.ndarray, breaks: np.ndarray, closed: str) -> np.ndarray:
    """Band index per value (−1 when outside the bands)."""
    if closed == "left":
        idx = np.searchsorted(breaks, values, side="right") - 1
        idx[(values < breaks[0]) | (values >= breaks[-1])] = -1
    else:
        idx = np.searchsorted(breaks, values, side="left") - 1
        idx[values == breaks[0]] = 0
        idx[values > breaks[-1]] = -1
    idx[idx >= len(breaks) - 1] = -1
    return idx


def _band_table(breaks: np.ndarray, closed: str) -> np.ndarray | None:
    """Time band of each whole number of days 0..C+1 (C: the last finite break), for breaks that
    are whole days: a gap's band is then that of its floor (``[a, b)``) or ceiling (``(a, b]``),
    a table look-up instead of a search per pair. None when a break is not a whole number.
    """
    finite = breaks[np.isfinite(breaks)]
    if np.any(finite != np.round(finite)) or finite[-1] > 1e6:
        return None
    days = np.arange(int(finite[-1]) + 2, dtype=float)
    return _bin(days, breaks, closed)


def _whole_days(gap: np.ndarray, closed: str, cap: int) -> np.ndarray:
    """Gaps rounded down (``[a, b)``) or up (``(a, b]``) to whole days, at most ``cap``."""
    whole = np.floor(gap) if closed == "left" else np.ceil(gap)
    return np.minimum(whole, cap).astype(np.intp)


def _pairs_by_time_band(t_sorted: np.ndarray, breaks: np.ndarray, closed: str) -> np.ndarray:
    """Number of all pairs whose time gap falls in each time band (no pair enumeration)."""
    n = len(t_sorted)
    side: Literal["left", "right"] = "left" if closed == "left" else "right"

    def at_most(limit: float) -> int:  # pairs with gap < limit (left) or ≤ limit (right)
        if math.isinf(limit):
            return n * (n - 1) // 2
        j = np.searchsorted(t_sorted, t_sorted + limit, side=side)
        return int((j - np.arange(n) - 1).sum())

    cum = np.array([at_most(b) for b in breaks[1:]], dtype=np.int64)
    return np.diff(np.concatenate([[0], cum]))


def knox_test(
    xy: np.ndarray,
    t_days: np.ndarray,
    *,
    distance_breaks_m: Sequence[float | str],
    time_breaks_days: Sequence[float | str],
    metric: str = "euclidean",
    closed: str = "left",
    permutations: int = 999,
    rng: int | np.random.Generator | None = None,
    float32: bool = False,
) -> KnoxResult:
    """Multi-band Knox test.

    Parameters
    ----------
    xy : (n, 2) array
        Event coordinates in metres (projected CRS).
    t_days : (n,) array
        Event times in days (any origin).
    distance_breaks_m, time_breaks_days : sequences
        Band edges starting at 0; the last may be ``"inf"`` for an open-ended band. A small first
        band such as ``[0, 0.01)`` is the "same location" band.
    metric : {"euclidean", "manhattan"}
    closed : {"left", "right"}
        ``[a, b)`` (default) or ``[0, b1], (b1, b2], ...``.
    permutations : int
        Monte Carlo permutations of times over locations (0 for the observed table only).
    rng : int or Generator, optional
        Seed of the permutations.
    float32 : bool
        Round coordinates to single precision first (reproduces the Near Repeat Calculator).
    """
    check_choice(metric, {"euclidean", "manhattan"}, name="metric", where="nearrepeat.knox_test")
    check_choice(closed, {"left", "right"}, name="closed", where="nearrepeat.knox_test")
    sb = _breaks(distance_breaks_m, "distance_breaks_m")
    tb = _breaks(time_breaks_days, "time_breaks_days")
    xy = np.asarray(xy, dtype=np.float64)
    t = np.asarray(t_days, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) != len(t):
        raise ConfigError("knox_test needs xy of shape (n, 2) and t_days of length n.")
    if len(t) < 2:
        raise InsufficientDataError("The Knox test needs at least two events.")
    if float32:
        xy = xy.astype(np.float32).astype(np.float64)
    open_row = math.isinf(sb[-1])
    finite_max = sb[-2] if open_row else sb[-1]
    p = 1 if metric == "manhattan" else 2
    pairs = cKDTree(xy).query_pairs(finite_max * (1 + 1e-9) + 1e-9, p=p, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    diff = xy[i] - xy[j]
    if float32:
        diff32 = diff.astype(np.float32)
        d = (np.abs(diff32).sum(axis=1) if p == 1 else np.sqrt((diff32 * diff32).sum(axis=1))).astype(
            np.float64
        )
    else:
        d = np.abs(diff).sum(axis=1) if p == 1 else np.hypot(diff[:, 0], diff[:, 1])
    n_rows_close = len(sb) - 1 - (1 if open_row else 0)
    s_idx = _bin(d, sb[: n_rows_close + 1], closed)
    keep = s_idx >= 0
    i, j, s_idx = i[keep], j[keep], s_idx[keep]
    nt = len(tb) - 1
    totals = _pairs_by_time_band(np.sort(t), tb, closed) if open_row else None

    lut = _band_table(tb, closed) if np.isfinite(t).all() else None

    def table(times: np.ndarray) -> np.ndarray:
        gap = np.abs(times[i] - times[j])
        t_idx = _bin(gap, tb, closed) if lut is None else lut[_whole_days(gap, closed, len(lut) - 1)]
        ok = t_idx >= 0
        close = np.bincount(s_idx[ok] * nt + t_idx[ok], minlength=n_rows_close * nt).reshape(n_rows_close, nt)
        if totals is None:
            return close
        return np.vstack([close, totals - close.sum(axis=0)])

    observed = table(t)
    generator = np.random.default_rng(rng)
    sims = np.stack([table(generator.permutation(t)) for _ in range(permutations)]) if permutations else None
    if sims is not None:
        mean, median = sims.mean(axis=0), np.median(sims, axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio_mean = np.where(mean > 0, observed / mean, np.nan)
            ratio_median = np.where(median > 0, observed / median, np.nan)
        p_value = (1 + (sims >= observed).sum(axis=0)) / (permutations + 1)
    else:
        nan = np.full(observed.shape, np.nan)
        mean = median = ratio_mean = ratio_median = p_value = nan
    logger.info("Knox: %d events, %d close pairs, %d permutations", len(t), len(i), permutations)
    return KnoxResult(
        observed=observed,
        expected_mean=mean,
        expected_median=median,
        knox_ratio_mean=ratio_mean,
        knox_ratio_median=ratio_median,
        p_value=p_value,
        distance_breaks_m=tuple(float(b) for b in sb),
        time_breaks_days=tuple(float(b) for b in tb),
        closed=closed,
        metric=metric,
        permutations=permutations,
        n_events=len(t),
    )


def knox_from_incidents(
    incidents: gpd.GeoDataFrame,
    *,
    distance_breaks_m: Sequence[float | str],
    time_breaks_days: Sequence[float | str],
    **kwargs: Any,
) -> KnoxResult:
    """Knox test on incidents (projected CRS); refuses month-resolution data with an explanation."""
    require_projected(incidents, what="incidents")
    resolution = incidents.attrs.get("time_resolution")
    if resolution in {"month", "none"}:
        raise InsufficientDataError(
            f"The incidents' dates are at {resolution} resolution (e.g. police.uk monthly data). Near-repeat "
            "analysis compares gaps of days between nearby events, so it needs dates at day resolution or finer."
        )
    if "incident_id" in incidents.columns and incidents["incident_id"].duplicated().any():
        # several rows of one incident are one event: as rows they would be pairs at the same
        # place on the same day, the very signal the test looks for
        first = ~incidents["incident_id"].duplicated().to_numpy()
        logger.info("Knox test: %d further rows of incidents counted once", int((~first).sum()))
        incidents = incidents.loc[first]
    t = incidents["occurred_at"]
    days = ((t - t.min()).dt.total_seconds() / 86400.0).to_numpy()
    if resolution == "day":
        days = np.floor(days)
    xy = np.c_[incidents.geometry.x.to_numpy(), incidents.geometry.y.to_numpy()]
    return knox_test(
        xy, days, distance_breaks_m=distance_breaks_m, time_breaks_days=time_breaks_days, **kwargs
    )


KNOX_MAX_PAIRS = 500_000


def thin_for_knox(
    events: gpd.GeoDataFrame, *, radius_m: float, seed: int, max_pairs: int = KNOX_MAX_PAIRS
) -> tuple[gpd.GeoDataFrame, str | None]:
    """A seeded random subsample of ``events`` small enough for the Knox test, and a note saying so.

    The Knox test's time and memory grow with the number of pairs within ``radius_m``; in a dense
    million-incident city that number runs to billions. The expected number of close pairs is
    estimated in O(n) from counts in ``radius_m`` squares (pairs within the 3 × 3 block, scaled
    by the disc's share of it); above ``max_pairs`` the events are thinned at random, which keeps
    the space-time interaction ratio (observed / expected) unbiased at lower power.
    """
    xy = np.c_[events.geometry.x.to_numpy(), events.geometry.y.to_numpy()]
    ij = np.floor((xy - xy.min(axis=0)) / radius_m).astype(np.int64)
    counts = np.zeros((int(ij[:, 1].max()) + 3, int(ij[:, 0].max()) + 3))
    np.add.at(counts, (ij[:, 1] + 1, ij[:, 0] + 1), 1.0)
    block = sum(np.roll(np.roll(counts, dy, 0), dx, 1) for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    estimate = float((counts * (block - 1)).sum()) / 2 * np.pi / 9
    if estimate <= max_pairs:
        return events, None
    k = max(30, int(len(events) * np.sqrt(max_pairs / estimate)))
    keep = np.sort(np.random.default_rng(seed).choice(len(events), size=k, replace=False))
    thinned = events.iloc[keep]
    thinned.attrs = dict(events.attrs)
    note = (
        f"Near-repeat (Knox) test run on a random sample of {k:,} of the {len(events):,} burglaries "
        f"(about {estimate:,.0f} pairs lie within {radius_m:g} m, more than the {max_pairs:,} the test "
        "handles in seconds); the Knox ratios stay unbiased, the p-values are less sharp."
    )
    return thinned, note
