"""Emerging hot spots: a space-time cube, Gi* per time bin with time-lag neighbours, the
Mann-Kendall trend of each cell's z-scores, and the Esri emerging-hot-spot categories.

Categories (hot; cold mirror), with ``share`` = share of bins significantly hot:

* **new**: the final bin is hot and no earlier bin was;
* **consecutive**: one uninterrupted run of ≥ 2 hot bins ending in the final bin, no hot bin
  before the run, share < 90 %;
* **intensifying** / **persistent** / **diminishing**: share ≥ 90 % and the final bin hot, with a
  significantly increasing / no significant / significantly decreasing Mann-Kendall trend in z;
* **sporadic**: final bin hot, share < 90 %, hot on and off before, never significantly cold;
* **oscillating**: final bin hot, share < 90 %, significantly cold in some earlier bin;
* **historical**: final bin not hot, share ≥ 90 %.

Hot categories are tested first (a cell whose final bin is cold gets a cold category). With fewer
than ``min_bins_esri`` (10) bins the simpler persistent / emerging / former / intermittent scheme is
used, with sfhotspot's window defects fixed (the recent window is exactly ``r`` bins and its share is
divided by ``r``; "emerging" uses the hot-spot threshold for the older bins).
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import ndimage
from scipy.stats import norm

from planner.errors import ConfigError, InsufficientDataError
from planner.grid import cell_index_of_points
from planner.hotspots.gistar import fdr_adjust

logger = logging.getLogger(__name__)

AUTO_BINS = (("MS", "month"), ("W-MON", "week"), ("QS", "quarter"))


def mann_kendall(series: np.ndarray) -> dict[str, np.ndarray]:
    """Vectorised Mann-Kendall trend test for each row of ``series`` (rows = cells, columns = bins).

    Returns ``s``, ``tau`` (S / (n(n−1)/2)), ``z`` (continuity-corrected, tie-corrected variance)
    and two-sided ``p``.
    """
    x = np.asarray(series, dtype=float)
    m, n = x.shape
    s = np.zeros(m)
    for i in range(n - 1):  # loop over bins (few), vectorised over cells
        s += np.sign(x[:, i + 1 :] - x[:, [i]]).sum(axis=1)
    # tie correction: Σ t(t−1)(2t+5) over groups of equal values in each row
    srt = np.sort(x, axis=1)
    new_group = np.ones((m, n), dtype=bool)
    new_group[:, 1:] = srt[:, 1:] != srt[:, :-1]
    group_id = np.cumsum(new_group, axis=1) - 1 + (np.arange(m) * n)[:, None]
    sizes = np.bincount(group_id.ravel(), minlength=m * n).reshape(m, n).astype(float)
    ties = (sizes * (sizes - 1) * (2 * sizes + 5)).sum(axis=1)
    var = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(var > 0, (s - np.sign(s)) / np.sqrt(np.where(var > 0, var, 1.0)), 0.0)
    return {"s": s, "tau": s / (n * (n - 1) / 2), "z": z, "p": 2 * norm.sf(np.abs(z))}


def space_time_cube(
    incidents: gpd.GeoDataFrame, cells: gpd.GeoDataFrame, *, bin: str = "auto", start: Any = None
) -> tuple[np.ndarray, pd.DatetimeIndex, str]:
    """Counts per (time bin, cell) and the bin edges (``[edge_k, edge_k+1)``).

    ``bin`` is a pandas frequency (``"MS"``, ``"W-MON"``, ``"QS"``) or ``"auto"``: months when that
    gives at least 10 bins, else weeks.
    """
    t = pd.to_datetime(incidents["occurred_at"])
    if t.isna().all():
        raise InsufficientDataError("Emerging hot spots need incident dates; none were found.")
    lo = pd.Timestamp(start) if start is not None else t.min().normalize()
    freq = bin
    if bin == "auto":
        months = (t.max().year - lo.year) * 12 + t.max().month - lo.month + 1
        freq = "MS" if months >= 10 else "W-MON"
    try:
        edges = pd.date_range(
            lo.to_period("M").to_timestamp() if freq == "MS" else lo,
            t.max() + pd.Timedelta(days=1),
            freq=freq,
        )
    except ValueError:
        raise ConfigError(
            f"bin={bin!r} is not a pandas frequency such as 'MS' (months), 'W-MON' (weeks), 'QS'."
        ) from None
    if len(edges) == 0 or edges[0] > t.min():
        edges = pd.DatetimeIndex([lo]).append(edges)
    if edges[-1] <= t.max():
        edges = edges.append(pd.DatetimeIndex([edges[-1] + pd.tseries.frequencies.to_offset(freq)]))
    cell_pos = cell_index_of_points(cells, incidents)
    k = np.searchsorted(edges.to_numpy(), t.to_numpy(), side="right") - 1
    ok = (cell_pos >= 0) & (k >= 0) & (k < len(edges) - 1)
    cube = np.zeros((len(edges) - 1, len(cells)))
    np.add.at(cube, (k[ok], cell_pos[ok]), 1.0)
    return cube, edges, freq


def space_time_gistar(
    cube: np.ndarray, cells: gpd.GeoDataFrame, *, time_lag: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Gi* z and two-sided p per (bin, cell): neighbours are the queen ring and the cell itself, in the
    same bin and the previous ``time_lag`` bins (binary weights); global mean and variance over the cube.
    """
    if not {"row", "col"} <= set(cells.columns):
        raise ConfigError("Emerging hot spots need square-grid cells with 'row' and 'col' (planner.grid).")
    rows, cols = cells["row"].to_numpy(int), cells["col"].to_numpy(int)
    nb, nr, nc = cube.shape[0], rows.max() + 1, cols.max() + 1
    values = np.zeros((nb, nr, nc))
    mask = np.zeros((nb, nr, nc))
    values[:, rows, cols] = cube
    mask[:, rows, cols] = 1.0
    footprint = np.zeros((2 * time_lag + 1, 3, 3))
    footprint[: time_lag + 1] = 1.0  # correlate: index 0..lag are the current and previous bins
    sum_wx = ndimage.correlate(values, footprint, mode="constant", cval=0.0)
    sum_w = ndimage.correlate(mask, footprint, mode="constant", cval=0.0)
    n = mask.sum()
    xbar = values.sum() / n
    s = math.sqrt(max((values**2).sum() / n - xbar**2, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        denom = s * np.sqrt((n * sum_w - sum_w**2) / (n - 1))
        z = np.where(denom > 0, (sum_wx - xbar * sum_w) / denom, 0.0)
    z_cells = z[:, rows, cols]
    return z_cells, 2 * norm.sf(np.abs(z_cells))


def _run_at_end(flags: np.ndarray) -> np.ndarray:
    """Length of the uninterrupted run of True ending in the final bin, per cell (rows = cells)."""
    rev = flags[:, ::-1]
    first_false = np.where((~rev).any(axis=1), (~rev).argmax(axis=1), rev.shape[1])
    return first_false


def _apply_first_match(out: np.ndarray, rules: list[tuple[str, np.ndarray]], kind: str) -> None:
    """Give each still-unclassified cell the first rule it meets (in place), as '<rule> <kind> spot'."""
    free = out == "no pattern"
    for name, cond in rules:
        hit = free & cond
        out[hit] = f"{name} {kind} spot"
        free &= ~hit


def classify(
    hot: np.ndarray,
    cold: np.ndarray,
    mk_z: np.ndarray,
    mk_p: np.ndarray,
    *,
    mk_alpha: float = 0.10,
    share: float = 0.9,
) -> np.ndarray:
    """Esri categories from significance flags (cells × bins) and the Mann-Kendall trend of z."""
    n = hot.shape[1]
    out = np.full(hot.shape[0], "no pattern", dtype=object)
    for kind, sig, other, up in (("hot", hot, cold, 1), ("cold", cold, hot, -1)):
        final = sig[:, -1]
        frac = sig.mean(axis=1)
        run = _run_at_end(sig)
        csum = np.cumsum(sig, axis=1)
        last_before = n - run - 1  # index of the bin just before the final run
        before_run = np.where(
            last_before >= 0, csum[np.arange(len(run)), np.clip(last_before, 0, None)] > 0, False
        )
        trend = (
            np.sign(mk_z) * up * (mk_p <= mk_alpha)
        )  # +1 intensifying, −1 diminishing (in this kind's sense)
        rules = [
            ("new", final & (sig.sum(axis=1) == 1)),
            ("consecutive", final & (run >= 2) & ~before_run & (frac < share)),
            ("intensifying", final & (frac >= share) & (trend > 0)),
            ("persistent", final & (frac >= share) & (trend == 0)),
            ("diminishing", final & (frac >= share) & (trend < 0)),
            ("oscillating", final & (frac < share) & other[:, :-1].any(axis=1)),
            ("sporadic", final & (frac < share)),
            ("historical", ~final & ~other[:, -1] & (frac >= share)),
        ]
        _apply_first_match(out, rules, kind)
    return out


def classify_short(
    hot: np.ndarray,
    cold: np.ndarray,
    *,
    hotspot_prop: float = 0.1,
    persistent_prop: float = 0.8,
    recent_prop: float = 0.2,
) -> np.ndarray:
    """Persistent / emerging / former / intermittent (hot or cold) for fewer than 10 bins."""
    n = hot.shape[1]
    r = max(1, math.ceil(recent_prop * n))
    out = np.full(hot.shape[0], "no pattern", dtype=object)
    for kind, sig in (("hot", hot), ("cold", cold)):
        overall = sig.mean(axis=1)
        recent = sig[:, n - r :].sum(axis=1) / r
        older = sig[:, : n - r].sum(axis=1) / max(n - r, 1)
        rules = [
            ("persistent", overall >= persistent_prop),
            ("emerging", (older < hotspot_prop) & (recent >= hotspot_prop)),
            ("former", (older >= hotspot_prop) & (recent < hotspot_prop)),
            ("intermittent", overall >= hotspot_prop),
        ]
        _apply_first_match(out, rules, kind)
    return out


def emerging_hotspots(
    incidents: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    *,
    bin: str = "auto",
    time_lag: int = 1,
    alpha: float = 0.10,
    fdr: str = "bh",
    mk_alpha: float = 0.10,
    min_bins_esri: int = 10,
) -> gpd.GeoDataFrame:
    """A copy of ``cells`` with ``ehsa_category``, Mann-Kendall ``mk_tau``/``mk_z``/``mk_p``, counts of
    significant hot and cold bins and the bin-level z-scores (``gi_z_bins``, JSON list).

    Significance: two-sided p of the space-time Gi* adjusted by ``fdr`` over all bins and cells
    (global Benjamini–Hochberg by default), at level ``alpha`` (90 % as in Esri).
    """
    cube, edges, freq = space_time_cube(incidents, cells, bin=bin)
    if cube.shape[0] < 3:
        raise InsufficientDataError(
            f"Only {cube.shape[0]} time bins of {freq}; emerging hot spots need at least 3."
        )
    z, p = space_time_gistar(cube, cells, time_lag=time_lag)
    p_adj = fdr_adjust(p.ravel(), fdr).reshape(p.shape)
    hot = ((p_adj <= alpha) & (z > 0)).T
    cold = ((p_adj <= alpha) & (z < 0)).T
    mk = mann_kendall(z.T)
    if cube.shape[0] >= min_bins_esri:
        cats, scheme = classify(hot, cold, mk["z"], mk["p"], mk_alpha=mk_alpha), "esri"
    else:
        cats, scheme = classify_short(hot, cold), "persistent/emerging/former/intermittent"
    out = cells.copy()
    out["ehsa_category"] = cats
    out["mk_tau"], out["mk_z"], out["mk_p"] = mk["tau"], mk["z"], mk["p"]
    out["n_sig_hot_bins"], out["n_sig_cold_bins"] = hot.sum(axis=1), cold.sum(axis=1)
    out["gi_z_bins"] = [json.dumps(np.round(row, 3).tolist()) for row in z.T]
    out.attrs["ehsa"] = {
        "bin": freq,
        "n_bins": int(cube.shape[0]),
        "first_bin": str(edges[0]),
        "time_lag": time_lag,
        "alpha": alpha,
        "fdr": fdr,
        "mk_alpha": mk_alpha,
        "scheme": scheme,
    }
    return out
