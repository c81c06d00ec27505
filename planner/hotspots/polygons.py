"""Hotspot polygons: connected significant hot cells, dissolved, with their statistics.

A hotspot is a set of cells with ``gi_bin ≥ min_bin`` (default 2: hot at the FDR level q) that
touch each other (sharing an edge or a corner), dissolved into one polygon. Hotspots are numbered
``H01``, ``H02``, … by incidents, descending (ties: larger area first, then the lowest cell id).

Each hotspot carries (CONTRACTS.md "Hotspots"): ``n_cells``, ``area_m2``, ``n_incidents``,
``incidents_per_year``, ``density_per_km2``, ``share_of_incidents``, ``mean_gi_z``, ``top_category``,
``category_mix`` (JSON object), ``night_share`` (hour in [19, 24) ∪ [0, 7)), ``hour_profile``
(JSON list of 24 counts), ``weekday_profile`` (JSON list of 7, Monday first) and ``location_mix``
when the incidents have ``location_type``. Hour-based columns are NaN/None when the incidents'
``attrs["time_resolution"]`` is coarser than an hour (day or month): a time of 00:00 then means
"unknown", not midnight.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from planner._hours import NIGHT_HOURS, has_time_of_day, unknown_time_of
from planner._period import period_years
from planner.crs import check_same_crs, require_projected
from planner.errors import ValidationError
from planner.grid import cell_index_of_points

logger = logging.getLogger(__name__)

HOTSPOT_COLUMNS = [
    "hotspot_id",
    "n_cells",
    "area_m2",
    "n_incidents",
    "incidents_per_year",
    "density_per_km2",
    "share_of_incidents",
    "mean_gi_z",
    "top_category",
    "category_mix",
    "night_share",
    "hour_profile",
    "weekday_profile",
]


def period_years_of(incidents: gpd.GeoDataFrame) -> float:
    """Length of the incidents' period in years (NaN without dates): (last − first) + 1 day over
    365.25 days, or the months covered over 12 for month-resolution dates (:mod:`planner._period`).
    """
    if "occurred_at" not in incidents.columns or len(incidents) == 0:
        return float("nan")
    return period_years(incidents["occurred_at"], incidents.attrs.get("time_resolution"))


def _unknown_times(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose time of day ingest marked unknown (a 00:00 placeholder); none by default."""
    unknown = unknown_time_of(frame)
    return unknown if unknown is not None else np.zeros(len(frame), dtype=bool)


def _mix(values: pd.Series) -> str:
    counts = values.dropna().astype(str).value_counts()
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    return json.dumps({str(k): int(v) for k, v in counts.items()})


def hotspot_statistics(
    group_ids: np.ndarray,
    incidents: gpd.GeoDataFrame,
    *,
    n_groups: int,
    total_incidents: int | None = None,
    period_years: float | None = None,
) -> pd.DataFrame:
    """Per-group incident statistics (one row per group 0..n_groups-1).

    Parameters
    ----------
    group_ids : ndarray of int
        Group (0..n_groups-1) of each incident, −1 for none.
    incidents : GeoDataFrame
        Incidents with optional ``occurred_at``, ``category``, ``location_type``.
    n_groups : int
        Number of groups.
    total_incidents : int, optional
        Denominator of ``share_of_incidents`` (default: all incidents).
    period_years : float, optional
        Denominator of ``incidents_per_year`` (default :func:`period_years_of`).

    Returns
    -------
    DataFrame
        ``n_incidents``, ``incidents_per_year``, ``share_of_incidents``, ``top_category``,
        ``category_mix``, ``night_share``, ``hour_profile``, ``weekday_profile`` and
        ``location_mix``, ``victim_sex_mix`` and ``victim_age_mix`` (JSON objects of counts) when
        the incidents carry location types or victim groups.
    """
    g = np.asarray(group_ids, dtype="int64")
    sel = g >= 0
    n = np.bincount(g[sel], minlength=n_groups).astype("int64")
    total = len(incidents) if total_incidents is None else int(total_incidents)
    years = period_years_of(incidents) if period_years is None else float(period_years)
    out = pd.DataFrame({"n_incidents": n})
    out["incidents_per_year"] = n / years if years and np.isfinite(years) else np.nan
    out["share_of_incidents"] = n / total if total else np.nan
    sub = incidents.loc[sel].copy()
    sub["_g"] = g[sel]
    resolution = incidents.attrs.get("time_resolution")
    hourly = has_time_of_day(resolution)
    weekly = resolution != "month"
    if "category" in sub.columns:
        grouped = sub.groupby("_g")["category"]
        mixes = grouped.apply(_mix)
        tops = grouped.agg(
            lambda s: s.astype(str).value_counts().sort_index().idxmax() if s.notna().any() else None
        )
        out["top_category"] = pd.Series(tops, dtype=object).reindex(range(n_groups)).astype(object)
        out["category_mix"] = pd.Series(mixes).reindex(range(n_groups)).fillna("{}").astype(object)
    else:
        out["top_category"] = None
        out["category_mix"] = "{}"
    if "occurred_at" in sub.columns:
        t = pd.to_datetime(sub["occurred_at"])
        hours = np.zeros((n_groups, 24), dtype="int64")
        days = np.zeros((n_groups, 7), dtype="int64")
        ok = t.notna().to_numpy()
        timed = ok & ~_unknown_times(sub)  # 00:00 placeholders have a day but no hour
        gg = sub["_g"].to_numpy()
        np.add.at(hours, (gg[timed], t.dt.hour.to_numpy()[timed].astype("int64")), 1)
        np.add.at(days, (gg[ok], t.dt.day_of_week.to_numpy()[ok].astype("int64")), 1)
        night = hours[:, list(NIGHT_HOURS)].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["night_share"] = (
                np.where(n > 0, night / np.maximum(hours.sum(axis=1), 1), np.nan) if hourly else np.nan
            )
        out["hour_profile"] = [json.dumps(h.tolist()) for h in hours] if hourly else None
        out["weekday_profile"] = [json.dumps(d.tolist()) for d in days] if weekly else None
    else:
        out["night_share"] = np.nan
        out["hour_profile"] = None
        out["weekday_profile"] = None
    for column, profile in (
        ("location_type", "location_mix"),
        ("victim_sex", "victim_sex_mix"),
        ("victim_age_band", "victim_age_mix"),
    ):
        if column in sub.columns:
            mixes = sub.groupby("_g")[column].apply(_mix)
            out[profile] = pd.Series(mixes).reindex(range(n_groups)).fillna("{}").astype(object)
    return out


def _components(geoms: np.ndarray) -> np.ndarray:
    """Connected-component label of each polygon (touching at an edge or corner = connected)."""
    n = len(geoms)
    if n == 0:
        return np.zeros(0, dtype="int64")
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    adj = sparse.coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, labels = connected_components(adj, directed=False)
    return labels.astype("int64")


def _split_by_peaks(geoms: np.ndarray, labels: np.ndarray, value: np.ndarray, max_cells: int) -> np.ndarray:
    """Split components of more than ``max_cells`` cells into the basins of their local peaks.

    Each cell points to its highest-valued neighbour (edge or corner, itself included); following
    the pointers ends at a local peak, and the cells that reach the same peak form one part
    (watershed by steepest ascent). Ties go to the lower index, so the result is deterministic.
    """
    n = len(geoms)
    if n == 0:
        return labels
    sizes = np.bincount(labels)
    big = sizes[labels] > max_cells
    if not big.any():
        return labels
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    same = labels[a] == labels[b]
    a, b = a[same], b[same]
    # best neighbour of each cell: the highest value, then the lowest index
    order = np.lexsort((b, -value[b], a))
    a, b = a[order], b[order]
    first = np.r_[True, a[1:] != a[:-1]]
    best = np.arange(n)
    best[a[first]] = b[first]
    for _ in range(n):
        nxt = best[best]
        if np.array_equal(nxt, best):
            break
        best = nxt
    root = np.where(big, best, -1)
    keys = np.where(big, labels.max() + 1 + root, labels)
    _, new = np.unique(keys, return_inverse=True)
    return new.astype("int64")


def _halve_oversized(geoms: np.ndarray, labels: np.ndarray, max_cells: int) -> np.ndarray:
    """Cut every part of more than ``max_cells`` cells in two at the median of its longer extent
    (cell centroids, ties by position) and make each side's connected pieces parts of their own,
    until no part is larger. Each cut leaves pieces of at most half (rounded up) the cells, so it ends.
    """
    xy = shapely.get_coordinates(shapely.centroid(geoms))
    labels = labels.copy()
    next_label = int(labels.max()) + 1 if labels.size else 0
    sizes = np.bincount(labels) if labels.size else np.zeros(0, dtype="int64")
    queue = [int(lab) for lab in np.flatnonzero(sizes > max_cells)]
    while queue:
        idx = np.flatnonzero(labels == queue.pop())
        axis = int(np.argmax(np.ptp(xy[idx], axis=0)))
        order = np.argsort(xy[idx, axis], kind="stable")
        upper = np.zeros(len(idx), dtype=bool)
        upper[order[len(idx) // 2 :]] = True
        for side in (False, True):
            sub = idx[upper == side]
            pieces = _components(geoms[sub])
            for piece in np.unique(pieces):
                members = sub[pieces == piece]
                labels[members] = next_label
                if len(members) > max_cells:
                    queue.append(next_label)
                next_label += 1
    return np.unique(labels, return_inverse=True)[1].astype("int64") if labels.size else labels


def _hot_labels(
    cells: gpd.GeoDataFrame, hot: np.ndarray, *, max_cells: int | None, split_by: str
) -> np.ndarray:
    """Hotspot label (0..k-1) of each hot cell: connected areas, split so none exceeds ``max_cells``."""
    geoms = cells.geometry.to_numpy()[hot]
    labels = _components(geoms)
    if max_cells is None:
        return labels
    if int(max_cells) < 1:
        raise ValidationError(f"max_cells must be a positive number of cells; got {max_cells!r}.")
    if split_by not in cells.columns:
        raise ValidationError(f"split_by={split_by!r} is not a column of the cells.")
    values = pd.to_numeric(cells[split_by], errors="coerce").to_numpy(float)[hot]
    labels = _split_by_peaks(geoms, labels, np.nan_to_num(values, nan=-np.inf), int(max_cells))
    return _halve_oversized(geoms, labels, int(max_cells))


def _hotspot_table(
    cells: gpd.GeoDataFrame, hot: np.ndarray, labels: np.ndarray, stats: pd.DataFrame, *, min_incidents: int
) -> tuple[pd.DataFrame, list[Any]]:
    """Per hotspot: statistics, cells, area, mean Gi* z and its dissolved polygon; kept and ordered."""
    n_comp = int(labels.max()) + 1 if labels.size else 0
    geoms = cells.geometry.to_numpy()[hot]
    n_cells = np.bincount(labels, minlength=n_comp)
    table = stats.copy()
    table["n_cells"] = n_cells
    table["area_m2"] = np.bincount(labels, weights=cells["area_m2"].to_numpy()[hot], minlength=n_comp)
    table["density_per_km2"] = table["n_incidents"] / (table["area_m2"] / 1e6) if n_comp else []
    zsum = np.bincount(labels, weights=cells["gi_z"].to_numpy()[hot], minlength=n_comp)
    table["mean_gi_z"] = zsum / np.maximum(n_cells, 1)
    first_cell = np.full(n_comp, np.iinfo("int64").max)
    if n_comp:
        np.minimum.at(first_cell, labels, cells["cell_id"].to_numpy()[hot])
    table["_first"] = first_cell
    table["_comp"] = np.arange(n_comp)
    polys = []
    if n_comp:
        order_cells = np.argsort(labels, kind="stable")
        for part in np.split(geoms[order_cells], np.cumsum(n_cells)[:-1]):  # one union per hotspot
            polys.append(shapely.union_all(part, grid_size=None))
    table = table.loc[table["n_incidents"] >= int(min_incidents)]
    table = table.sort_values(
        ["n_incidents", "area_m2", "_first"], ascending=[False, False, True], kind="stable"
    )
    return table, polys


def hotspots_from_cells(
    cells: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    *,
    min_bin: int = 2,
    min_incidents: int = 1,
    period_years: float | None = None,
    max_cells: int | None = None,
    split_by: str = "gi_z",
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Dissolve connected significant hot cells into hotspot polygons.

    Parameters
    ----------
    cells : GeoDataFrame
        Cells with ``cell_id``, ``gi_z``, ``gi_bin`` (from :func:`planner.hotspots.gistar.gistar_cells`),
        projected CRS (metres).
    incidents : GeoDataFrame
        Incident points in the same CRS (``occurred_at``, ``category``, optional ``location_type``).
    min_bin : int in 1..3
        Smallest ``gi_bin`` a cell needs (2 = significant at the FDR level q; 3 = at q/5).
    min_incidents : int
        Hotspots with fewer incidents are dropped.
    period_years : float, optional
        For ``incidents_per_year``; default the incidents' own span (NaN without dates).
    max_cells : int, optional
        No hotspot has more cells than this: a connected hot area of more cells is split into the
        basins of its local peaks of ``split_by`` (steepest ascent), so a hot neighbourhood becomes
        the several places an intervention can target, and a basin still larger is halved along its
        longer extent until every part fits. ``None`` keeps every connected area whole.
    split_by : str
        Cell column whose peaks split large areas (``gi_z``, or ``kde`` for smoother parts).

    Returns
    -------
    hotspots : GeoDataFrame
        One row per hotspot with the columns listed in the module docstring, ids ``H01``… by
        incidents descending; ``attrs["params"]`` records ``min_bin``, ``min_incidents`` and the
        Gi* parameters of the cells.
    cells : GeoDataFrame
        Copy of ``cells`` with ``hotspot_id`` (None outside hotspots).
    """
    require_projected(cells, what="cells")
    require_projected(incidents, what="incidents")
    check_same_crs(cells, incidents, names=["cells", "incidents"])
    missing = [c for c in ("gi_bin", "gi_z") if c not in cells.columns]
    if missing:
        raise ValidationError(
            f"The cells lack {missing}; run planner.hotspots.gistar.gistar_cells before hotspots_from_cells."
        )
    if int(min_bin) not in (1, 2, 3):
        raise ValidationError(f"min_bin must be 1, 2 or 3; got {min_bin!r}.")
    hot = np.flatnonzero(cells["gi_bin"].to_numpy() >= int(min_bin))
    labels = _hot_labels(cells, hot, max_cells=max_cells, split_by=split_by)
    n_comp = int(labels.max()) + 1 if labels.size else 0
    comp_of_cell = np.full(len(cells), -1, dtype="int64")
    comp_of_cell[hot] = labels
    pos = cell_index_of_points(cells, incidents)
    inc_comp = np.where(pos >= 0, comp_of_cell[np.maximum(pos, 0)], -1)
    stats = hotspot_statistics(
        inc_comp, incidents, n_groups=n_comp, total_incidents=len(incidents), period_years=period_years
    )
    table, polys = _hotspot_table(cells, hot, labels, stats, min_incidents=min_incidents)
    width = max(2, len(str(len(table))))
    ids = [f"H{i + 1:0{width}d}" for i in range(len(table))]
    id_of_comp = np.full(n_comp + 1, None, dtype=object)  # last slot: cells in no hotspot (-1)
    id_of_comp[table["_comp"].to_numpy()] = ids
    hotspots = gpd.GeoDataFrame(
        table.drop(columns=["_first", "_comp"]).assign(hotspot_id=ids).reset_index(drop=True),
        geometry=[polys[c] for c in table["_comp"]],
        crs=cells.crs,
    )
    cols = [c for c in HOTSPOT_COLUMNS if c in hotspots.columns]
    extra = [c for c in hotspots.columns if c not in cols and c != "geometry"]
    hotspots = hotspots[[*cols, *extra, "geometry"]]
    out_cells = cells.copy()
    out_cells["hotspot_id"] = pd.Series(id_of_comp[comp_of_cell], index=cells.index, dtype=object)
    params = {k: v for k, v in cells.attrs.get("params", {}).items() if k.startswith(("gi_", "cell_size"))}
    hotspots.attrs["params"] = {
        **params,
        "hotspot_rule": "connected cells (edge or corner) with gi_bin >= min_bin, dissolved"
        + (
            f"; areas over {int(max_cells)} cells split at the peaks of {split_by}, then halved"
            if max_cells
            else ""
        ),
        "max_cells": None if max_cells is None else int(max_cells),
        "min_bin": int(min_bin),
        "min_incidents": int(min_incidents),
    }
    out_cells.attrs["params"] = {**cells.attrs.get("params", {}), "min_bin": int(min_bin)}
    logger.info("%d hotspots from %d hot cells (gi_bin >= %d)", len(hotspots), hot.size, min_bin)
    return hotspots, out_cells


def empty_hotspots(crs: Any) -> gpd.GeoDataFrame:
    """A hotspot table with the contract's columns and no rows."""
    return gpd.GeoDataFrame({c: [] for c in HOTSPOT_COLUMNS}, geometry=[], crs=crs)


__all__ = [
    "HOTSPOT_COLUMNS",
    "empty_hotspots",
    "hotspot_statistics",
    "hotspots_from_cells",
    "period_years_of",
]


def hotspot_wards(hotspots: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> dict[str, str]:
    """Ward of each hotspot: the ward (``ward_id``, else ``name``, else row number) holding most of
    its area.
    """
    if not len(hotspots):
        return {}
    key = next((c for c in ("ward_id", "ward", "name") if c in wards.columns), None)
    labels = (
        wards[key].astype(str).to_numpy() if key else np.array([f"ward {i + 1}" for i in range(len(wards))])
    )
    w = wards.to_crs(hotspots.crs) if wards.crs is not None and wards.crs != hotspots.crs else wards
    h_geoms = np.asarray(hotspots.geometry.values)
    w_geoms = np.asarray(w.geometry.values)
    hi, wi = shapely.STRtree(w_geoms).query(h_geoms, predicate="intersects")
    out: dict[str, str] = {}
    if len(hi):
        area = shapely.area(shapely.intersection(h_geoms[hi], w_geoms[wi]))
        best: dict[int, tuple[float, int]] = {}
        for h, wd, a in zip(hi, wi, area, strict=True):
            if int(h) not in best or a > best[int(h)][0]:
                best[int(h)] = (float(a), int(wd))
        ids = hotspots["hotspot_id"].astype(str).to_numpy()
        out = {ids[h]: str(labels[wd]) for h, (_, wd) in best.items()}
    return out
