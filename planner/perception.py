"""Perception audits: how safe places feel, to whom, and where that disagrees with recorded crime.

A *safety audit* is a point where an auditor scored the place on eight parameters, each 0–3
(0 = poor, 3 = good), in the Safetipin / women's-safety-audit tradition: ``lighting``,
``openness`` (can you see around you, and get away), ``visibility`` (can others see you),
``people`` (are people around), ``gender_mix`` (are women and girls around), ``security``
(guards, police, cameras, help nearby), ``walk_path`` (is there a usable footpath) and
``transport`` (is public transport near). Each audit also records ``period`` (``day`` or
``night``; or a timestamp it is derived from, night = 19:00–07:00, :mod:`planner._hours`) and the
auditor's ``group`` (e.g. ``women``, ``men``, ``young_people``, ``older_people``). The audit's
*perceived safety* is the mean of its scored parameters (0–3).

* :func:`read_audits` imports a CSV/Excel/GeoJSON/GeoPackage/... through the project's ingest
  reader (:func:`planner.io.read_table`), validates every row and sets aside bad rows with their
  reasons (``rows_read == rows_accepted + rows_quarantined``).
* :func:`perception_surfaces` smooths perceived safety onto grid cells per group and period with a
  quartic kernel, marking cells with too few audits as not covered, and
  :func:`coverage_warnings` says which groups have too few audits for a surface.
* :func:`fear_crime_disagreement` compares perceived safety with recorded crime per cell by a
  stated rank rule: cells that feel unsafe but have little recorded crime, and the reverse.

Geometries are in the projected analysis CRS (metres).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.spatial import cKDTree

from planner import crs as crs_mod
from planner._hours import NIGHT_HOURS, NIGHT_LABEL
from planner.errors import ConfigError, ValidationError

logger = logging.getLogger(__name__)

__all__ = [
    "PARAMETERS",
    "AuditImport",
    "PerceptionResult",
    "coverage_warnings",
    "fear_crime_disagreement",
    "perception_from_audits",
    "perception_surfaces",
    "read_audits",
]

PARAMETERS = (
    "lighting",
    "openness",
    "visibility",
    "people",
    "gender_mix",
    "security",
    "walk_path",
    "transport",
)
PERIODS = ("day", "night")
ALL = "all"
ALIASES: dict[str, tuple[str, ...]] = {
    "gender_mix": ("gendermix", "gender", "gender_diversity"),
    "walk_path": ("walkpath", "footpath", "walkway", "path"),
    "transport": ("public_transport", "public_transit", "transit"),
    "period": ("day_night", "daynight", "time_of_day", "light_condition"),
    "group": ("auditor_group", "user_group", "auditor", "respondent_group"),
    "audit_id": ("id", "audit", "point_id"),
    "time": ("audited_at", "datetime", "date_time", "timestamp", "occurred_at"),
    "x": ("easting", "x_coord", "xcoord"),
    "y": ("northing", "y_coord", "ycoord"),
    "lon": ("longitude", "lng", "long"),
    "lat": ("latitude",),
}
PERIOD_WORDS = {
    "day": "day",
    "daytime": "day",
    "d": "day",
    "daylight": "day",
    "night": "night",
    "nighttime": "night",
    "n": "night",
    "dark": "night",
    "evening": "night",
}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")


def _find_columns(columns: list[str], overrides: dict[str, str]) -> dict[str, str]:
    """Role → source column, from exact names, aliases and ``columns=`` overrides."""
    by_norm = {_norm(c): c for c in columns}
    found: dict[str, str] = {}
    for role in (*PARAMETERS, "period", "group", "audit_id", "time", "x", "y", "lon", "lat"):
        if role in overrides:
            if overrides[role] not in columns:
                raise ConfigError(
                    f"columns={{{role!r}: {overrides[role]!r}}} names a column that is not in the file; "
                    f"its columns are {columns}."
                )
            found[role] = overrides[role]
            continue
        for name in (role, *ALIASES.get(role, ())):
            if name in by_norm:
                found[role] = by_norm[name]
                break
    return found


# --------------------------------------------------------------------------------------- import


@dataclass(frozen=True)
class AuditImport:
    """Accepted audits (points in the analysis CRS), set-aside rows with reasons, and a report."""

    audits: gpd.GeoDataFrame
    quarantine: pd.DataFrame
    report: dict[str, Any]


def _scores(df: pd.DataFrame, cols: dict[str, str]) -> tuple[pd.DataFrame, list[list[str]]]:
    """Parameter scores as nullable integers 0–3, and per row the problems found."""
    problems: list[list[str]] = [[] for _ in range(len(df))]
    out = pd.DataFrame(index=df.index)
    for name in PARAMETERS:
        if name not in cols:
            out[name] = pd.array([pd.NA] * len(df), dtype="Int64")
            continue
        raw = df[cols[name]]
        text = raw.astype("string").str.strip()
        blank = raw.isna() | (text == "") | text.str.lower().isin(["na", "n/a", "nan", "none", "-"])
        num = pd.to_numeric(text.where(~blank), errors="coerce")
        ok = blank | (num.notna() & (num == num.round()) & num.between(0, 3))
        for i in np.flatnonzero(~ok.to_numpy()):
            problems[i].append(f"{cols[name]}={raw.iloc[i]!r} is not a score 0–3")
        out[name] = num.where(ok & ~blank).round().astype("Int64")
    return out, problems


def _periods(df: pd.DataFrame, cols: dict[str, str], problems: list[list[str]]) -> pd.Series:
    """``day``/``night`` per row from the period column, or derived from a timestamp column."""
    if "period" in cols:
        raw = df[cols["period"]].astype("string").str.strip().str.lower()
        period = raw.map(lambda v: PERIOD_WORDS.get(_norm(v)) if isinstance(v, str) else None)
        for i in np.flatnonzero(period.isna().to_numpy()):
            problems[i].append(f"{cols['period']}={df[cols['period']].iloc[i]!r} is not 'day' or 'night'")
        return period.astype(object)
    when = pd.to_datetime(df[cols["time"]], errors="coerce", format="mixed")
    has_time = when.notna() & ((when.dt.hour != 0) | (when.dt.minute != 0))
    period = pd.Series(np.where(when.dt.hour.isin(NIGHT_HOURS), "night", "day"), index=df.index, dtype=object)
    for i in np.flatnonzero(~has_time.to_numpy()):
        problems[i].append(
            f"{cols['time']}={df[cols['time']].iloc[i]!r} gives no time of day, so day or night is unknown"
        )
    return period.where(has_time, None)


def _points(
    df: pd.DataFrame, cols: dict[str, str], problems: list[list[str]], *, crs: Any, source: str
) -> tuple[np.ndarray, Any]:
    """Point geometries (NaN-free rows) and their CRS; bad coordinates are problems of their row."""
    if isinstance(df, gpd.GeoDataFrame) and df.geometry.name in df.columns:
        geoms = df.geometry.to_numpy()
        bad = shapely.is_missing(geoms) | shapely.is_empty(geoms) | (shapely.get_type_id(geoms) != 0)
        for i in np.flatnonzero(bad):
            problems[i].append("no point geometry")
        if df.crs is None and crs is None:
            raise ValidationError(
                f"{source} has no CRS. Pass crs= (CLI: --crs) with the CRS of its coordinates."
            )
        kept = np.asarray(geoms, dtype=object).copy()
        kept[bad] = None
        return kept, df.crs or crs_mod.as_crs(crs)
    lonlat = "lon" in cols and "lat" in cols and not ("x" in cols and "y" in cols and crs is not None)
    kx, ky = ("lon", "lat") if lonlat else ("x", "y")
    if kx not in cols or ky not in cols:
        raise ValidationError(
            f"{source} has no coordinate columns: name them x/y (with crs=, CLI --crs) or lon/lat, or pass "
            "columns={'x': ..., 'y': ...}."
        )
    xs = pd.to_numeric(df[cols[kx]], errors="coerce").to_numpy(dtype=float)
    ys = pd.to_numeric(df[cols[ky]], errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(xs) & np.isfinite(ys))
    if lonlat:
        bad |= (np.abs(xs) > 180) | (np.abs(ys) > 90)
    elif crs is None:
        raise ValidationError(
            f"{source} has projected coordinates ({cols[kx]}, {cols[ky]}) but no CRS; pass crs= (CLI: --crs)."
        )
    for i in np.flatnonzero(bad):
        problems[i].append(
            f"missing or invalid coordinates ({cols[kx]}={df[cols[kx]].iloc[i]!r}, {cols[ky]}={df[cols[ky]].iloc[i]!r})"
        )
    geoms = np.asarray(shapely.points(np.where(bad, 0.0, xs), np.where(bad, 0.0, ys)), dtype=object)
    geoms[bad] = None
    return geoms, crs_mod.as_crs("EPSG:4326" if lonlat else crs)


def _check_schema(cols: dict[str, str], source: str, min_parameters: int, columns: list[Any]) -> None:
    """Raise one ValidationError listing every missing column the schema needs."""
    problems = []
    present = [p for p in PARAMETERS if p in cols]
    if len(present) < min_parameters:
        missing = [p for p in PARAMETERS if p not in cols]
        problems.append(
            f"only {len(present)} of the {len(PARAMETERS)} parameter columns were found (need ≥ {min_parameters}); "
            f"missing {missing}. Rename them or pass columns={{'lighting': 'your column', ...}}"
        )
    if "period" not in cols and "time" not in cols:
        problems.append(
            "no 'period' column (day/night) and no timestamp column ('audited_at') to derive it from; "
            "add one or pass columns={'period': 'your column'}"
        )
    if problems:
        raise ValidationError(
            f"{source} is not a safety-audit table (its columns: {columns}):", problems=problems
        )


def _rows(
    df: pd.DataFrame, cols: dict[str, str], *, crs: Any, source: str, min_parameters: int
) -> tuple[gpd.GeoDataFrame, list[list[str]]]:
    """Every row as an audit (geometry in the source CRS) and the problems found in each."""
    scores, problems = _scores(df, cols)
    period = _periods(df, cols, problems)
    geoms, src_crs = _points(df, cols, problems, crs=crs, source=source)
    n_scored = scores.notna().sum(axis=1).to_numpy()
    for i in np.flatnonzero(n_scored < min_parameters):
        problems[i].append(
            f"only {n_scored[i]} of {len(PARAMETERS)} parameters scored (need ≥ {min_parameters})"
        )
    if "audit_id" in cols:
        ids = df[cols["audit_id"]].astype("string").str.strip()
    else:
        ids = pd.Series([f"A{i:05d}" for i in range(len(df))], dtype="string")
    for i in np.flatnonzero(ids.duplicated(keep="first").to_numpy() & ids.notna().to_numpy()):
        problems[i].append(f"duplicate audit_id {ids.iloc[i]!r}")
    group = pd.Series(["unspecified"] * len(df), dtype=object)
    if "group" in cols:
        raw = df[cols["group"]].astype("string")
        group = raw.map(lambda v: _norm(v) if isinstance(v, str) and v.strip() else "unspecified").astype(
            object
        )
    base = df.drop(columns=[c for c in df.columns if c == "geometry" or c in PARAMETERS])
    frame = gpd.GeoDataFrame(
        base.assign(audit_id=ids, period=period, group=group, **{p: scores[p] for p in PARAMETERS}),
        geometry=list(geoms),
        crs=src_crs,
    )
    frame["n_scored"] = n_scored
    frame["perceived_safety"] = scores.astype("Float64").mean(axis=1, skipna=True).astype(float)
    return frame, problems


def read_audits(
    source: str | Path,
    *,
    crs: Any = None,
    analysis_crs: Any = None,
    columns: dict[str, str] | None = None,
    layer: str | None = None,
    study_area: gpd.GeoDataFrame | None = None,
    min_parameters: int = 4,
) -> AuditImport:
    """Import safety-audit points, validate every row and set aside bad rows with their reasons.

    Parameters
    ----------
    source : path
        CSV/TSV/Excel with ``x``/``y`` (with ``crs``) or ``lon``/``lat`` columns, or a GeoJSON,
        GeoPackage (``layer``), Shapefile, FlatGeobuf or GeoParquet of points.
    crs : optional
        CRS of bare ``x``/``y`` coordinates (or of a geometry file without one).
    analysis_crs : optional
        Projected metric CRS to return the audits in (default: chosen from the data, e.g. UTM).
    columns : dict, optional
        Role → column overrides; roles: the eight parameters, ``period``, ``time``, ``group``,
        ``audit_id``, ``x``, ``y``, ``lon``, ``lat``.
    layer : str, optional
        Layer of a multi-layer file.
    study_area : GeoDataFrame, optional
        Audits outside it are set aside (any CRS; transformed).
    min_parameters : int
        Fewest scored parameters an audit needs (default 4 of 8).

    Returns
    -------
    AuditImport
        ``audits``: ``audit_id``, ``period``, ``group``, the eight scores (nullable integers 0–3),
        ``n_scored``, ``perceived_safety`` (mean score), ``geometry`` (analysis CRS) and every other
        source column; ``quarantine``: the source columns of set-aside rows plus ``reason``;
        ``report``: counts that reconcile (``rows_read == rows_accepted + rows_quarantined``).
    """
    from planner.io import read_table

    name = f"{source}" + (f" (layer {layer})" if layer else "")
    df = read_table(source, layer=layer)
    if len(df) == 0:
        raise ValidationError(f"{name} has no rows; give a file with at least one audit.")
    df = df.reset_index(drop=True)
    cols = _find_columns([str(c) for c in df.columns], columns or {})
    _check_schema(cols, name, min_parameters, list(df.columns))
    frame, problems = _rows(df, cols, crs=crs, source=name, min_parameters=min_parameters)
    valid = frame.geometry.notna().to_numpy()
    if not valid.any():
        raise ValidationError(
            f"{name}: no row has usable coordinates; check the coordinate columns and crs=."
        )
    target = crs_mod.choose_analysis_crs(frame.loc[valid], crs=analysis_crs)
    frame = crs_mod.to_analysis_crs(frame, target)
    if study_area is not None:
        area = shapely.union_all(study_area.to_crs(target).geometry.to_numpy())
        xy = shapely.get_coordinates(frame.geometry.to_numpy()[valid])
        inside = np.zeros(len(frame), dtype=bool)
        inside[valid] = shapely.intersects_xy(area, xy[:, 0], xy[:, 1])
        for i in np.flatnonzero(valid & ~inside):
            problems[i].append("outside the study area")
    ok = np.array([not p for p in problems])
    if not ok.any():
        first = sorted({p for row in problems for p in row})[:5]
        raise ValidationError(f"{name}: no audit row is usable; the first problems found:", problems=first)
    quarantine = df.loc[~ok].copy()
    quarantine["reason"] = ["; ".join(p) for p, good in zip(problems, ok, strict=True) if not good]
    audits = frame.loc[ok].reset_index(drop=True)
    report = _import_report(name, cols, audits=audits, quarantine=quarantine, n=len(df), target=target)
    for line in report["warnings"]:
        logger.warning(line)
    return AuditImport(audits=audits, quarantine=quarantine.reset_index(drop=True), report=report)


def _import_report(
    name: str,
    cols: dict[str, str],
    *,
    audits: gpd.GeoDataFrame,
    quarantine: pd.DataFrame,
    n: int,
    target: Any,
) -> dict[str, Any]:
    reasons: dict[str, int] = {}
    for text in quarantine["reason"]:
        for part in str(text).split("; "):
            key = re.sub(r"=.*? is not", " is not", part)
            key = re.sub(r"'[^']*'", "…", key)
            reasons[key] = reasons.get(key, 0) + 1
    missing = [p for p in PARAMETERS if p not in cols]
    warnings = []
    if missing:
        warnings.append(f"{name}: no column for {missing}; those parameters are treated as not scored")
    if "group" not in cols:
        warnings.append(f"{name}: no auditor group column; every audit counts as group 'unspecified'")
    if len(quarantine):
        warnings.append(
            f"{name}: {len(quarantine)} of {n} rows set aside (see the quarantine and its reasons)"
        )
    report = {
        "source": name,
        "rows_read": n,
        "rows_accepted": len(audits),
        "rows_quarantined": len(quarantine),
        "reasons": reasons,
        "columns": cols,
        "analysis_crs": target.to_string(),
        "groups": {str(k): int(v) for k, v in audits["group"].value_counts().sort_index().items()},
        "periods": {str(k): int(v) for k, v in audits["period"].value_counts().sort_index().items()},
        "warnings": warnings,
    }
    if report["rows_read"] != report["rows_accepted"] + report["rows_quarantined"]:  # pragma: no cover
        raise RuntimeError("audit rows do not reconcile; this is a bug, please report it")
    return report


# ------------------------------------------------------------------------------------- surfaces


def _kernel_matrix(cells: gpd.GeoDataFrame, audits: gpd.GeoDataFrame, bandwidth_m: float) -> sp.csr_matrix:
    """Quartic kernel weights (cells × audits) within ``bandwidth_m`` of each cell's centre."""
    centres = shapely.get_coordinates(cells.geometry.centroid.to_numpy())
    pts = shapely.get_coordinates(audits.geometry.to_numpy())
    if not len(pts):
        return sp.csr_matrix((len(centres), 0))
    dist = cKDTree(centres).sparse_distance_matrix(cKDTree(pts), bandwidth_m, output_type="coo_matrix")
    u = dist.data / bandwidth_m  # coincident points are kept as explicit zero distances
    return sp.csr_matrix(((1 - u**2) ** 2, (dist.row, dist.col)), shape=(len(centres), len(pts)))


def _smooth(kernel: Any, near: Any, values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kernel-weighted mean of ``values`` (selected by 0/1 ``weights``) and the audit count per cell."""
    wsum = kernel @ weights
    return (kernel @ values) / np.where(wsum > 0, wsum, 1.0), near @ weights


def perception_surfaces(
    audits: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    *,
    bandwidth_m: float = 400.0,
    min_audits: int = 5,
    value: str = "perceived_safety",
) -> pd.DataFrame:
    """Kernel-smoothed perceived safety per cell, group and period, with coverage.

    Parameters
    ----------
    audits : GeoDataFrame
        From :func:`read_audits` (projected CRS, same as ``cells``).
    cells : GeoDataFrame
        Grid cells (``cell_id``, polygons).
    bandwidth_m : float
        Quartic kernel radius in metres; audits farther than this from a cell's centre do not count.
    min_audits : int
        A cell is *covered* for a group and period when at least this many of its audits lie within
        the bandwidth; uncovered cells get no score (too few audits to say how the place feels).
    value : str
        Column to smooth: ``perceived_safety`` (default) or one parameter, e.g. ``lighting``.

    Returns
    -------
    DataFrame
        Long table: ``cell_id``, ``group`` (``all`` and each group), ``period`` (``all``, ``day``,
        ``night``), ``score`` (0–3, NaN where not covered), ``n_audits`` within the bandwidth,
        ``covered``.
    """
    if bandwidth_m <= 0 or min_audits < 1:
        raise ConfigError("bandwidth_m must be > 0 and min_audits ≥ 1 (perception_surfaces).")
    if value not in audits.columns:
        raise ConfigError(
            f"value={value!r} is not a column of the audits; use 'perceived_safety' or a parameter."
        )
    crs_mod.check_same_crs(cells, audits, names=["cells", "audits"])
    kernel = _kernel_matrix(cells, audits, bandwidth_m)
    near = kernel.copy()
    near.data = np.ones_like(near.data)
    vals = pd.to_numeric(audits[value], errors="coerce").to_numpy(dtype=float)
    frames = []
    for group in [ALL, *sorted(set(audits["group"]))]:
        for period in (ALL, *PERIODS):
            sel = np.isfinite(vals)
            if group != ALL:
                sel &= (audits["group"] == group).to_numpy()
            if period != ALL:
                sel &= (audits["period"] == period).to_numpy()
            score, n = _smooth(kernel, near, np.where(sel, vals, 0.0), sel.astype(float))
            covered = n >= min_audits
            frames.append(
                pd.DataFrame(
                    {
                        "cell_id": cells["cell_id"].to_numpy(),
                        "group": group,
                        "period": period,
                        "score": np.where(covered, score, np.nan),
                        "n_audits": n.astype(int),
                        "covered": covered,
                    }
                )
            )
    out = pd.concat(frames, ignore_index=True)
    out.attrs["perception"] = {"bandwidth_m": bandwidth_m, "min_audits": min_audits, "value": value}
    return out


def coverage_table(surface: pd.DataFrame, audits: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per group and period: audits, covered cells, and their share of the cells all audits cover."""
    base = surface[(surface["group"] == ALL) & (surface["period"] == ALL)]
    n_base = max(int(base["covered"].sum()), 1)
    rows = []
    for (group, period), part in surface.groupby(["group", "period"], sort=False):
        mask = np.ones(len(audits), dtype=bool)
        if group != ALL:
            mask &= (audits["group"] == group).to_numpy()
        if period != ALL:
            mask &= (audits["period"] == period).to_numpy()
        rows.append(
            {
                "group": group,
                "period": period,
                "n_audits": int(mask.sum()),
                "cells_covered": int(part["covered"].sum()),
                "share_of_audited_cells": float(part["covered"].sum() / n_base),
            }
        )
    return pd.DataFrame(rows)


def coverage_warnings(
    coverage: pd.DataFrame, *, min_group_audits: int = 30, min_share: float = 0.5
) -> list[str]:
    """Plain warnings for groups (and periods) whose audits are too few for a surface.

    Rule: a group with fewer than ``min_group_audits`` audits, or whose covered cells are fewer than
    ``min_share`` of the cells all audits cover, gets a warning that names the gap and the fix.
    """
    out = []
    for row in coverage.itertuples():
        if row.group == ALL and row.period == ALL:
            continue
        who = ("all groups" if row.group == ALL else str(row.group).replace("_", " ")) + {
            "day": " by day",
            "night": " at night",
        }.get(str(row.period), "")
        if row.n_audits < min_group_audits:
            out.append(
                f"Too few audits by {who}: {row.n_audits} (at least {min_group_audits} are needed for a surface); "
                f"its map covers {row.cells_covered} cells. Collect more audits with this group before reading it."
            )
        elif row.share_of_audited_cells < min_share:
            out.append(
                f"Audits by {who} cover only {row.share_of_audited_cells:.0%} of the audited area "
                f"({row.cells_covered} cells); elsewhere this group's view is unknown."
            )
    return out


# --------------------------------------------------------------------------------- disagreement

RULE = (
    "Among cells with enough audits, perceived fear (3 − perceived safety) and recorded crime per "
    "km² are ranked 0–1 (percentile). 'fear, little crime': fear rank ≥ {hi} and crime rank ≤ {lo}; "
    "'crime, little fear': crime rank ≥ {hi} and fear rank ≤ {lo}; 'both high': both ≥ {hi}; "
    "otherwise 'consistent'. Cells without enough audits are 'too few audits'."
)


def fear_crime_disagreement(
    surface: pd.DataFrame,
    cells: gpd.GeoDataFrame,
    crimes: np.ndarray,
    *,
    group: str = ALL,
    period: str = ALL,
    high: float = 0.75,
    low: float = 0.5,
) -> gpd.GeoDataFrame:
    """Cells where fear and recorded crime disagree, by a stated rank rule (:data:`RULE`).

    Parameters
    ----------
    surface : DataFrame
        From :func:`perception_surfaces`.
    cells : GeoDataFrame
        The same cells (``cell_id``, ``geometry``, ``area_m2`` or polygon areas), projected CRS.
    crimes : ndarray
        Recorded crimes per cell (same order as ``cells``), e.g. night-time crimes for ``period="night"``.
    group, period : str
        Which surface to compare (default every audit).
    high, low : float
        Rank thresholds of the rule.

    Returns
    -------
    GeoDataFrame
        ``cell_id``, ``perceived_safety``, ``fear_rank``, ``crimes``, ``crimes_per_km2``,
        ``crime_rank``, ``class``, ``geometry``; the rule text in ``attrs["rule"]``.
    """
    if not 0 < low < high < 1:
        raise ConfigError(f"need 0 < low < high < 1 for the disagreement rule; got low={low}, high={high}.")
    part = surface[(surface["group"] == group) & (surface["period"] == period)].set_index("cell_id")
    if part.empty:
        raise ConfigError(
            f"no surface for group={group!r}, period={period!r}; choose from the surface's groups."
        )
    score = part["score"].reindex(cells["cell_id"]).to_numpy(dtype=float)
    area = cells["area_m2"].to_numpy(dtype=float) if "area_m2" in cells else cells.geometry.area.to_numpy()
    crimes = np.asarray(crimes, dtype=float)
    density = crimes / np.maximum(area, 1.0) * 1e6
    covered = np.isfinite(score)
    fear_rank = np.full(len(cells), np.nan)
    crime_rank = np.full(len(cells), np.nan)
    fear_rank[covered] = pd.Series(3.0 - score[covered]).rank(pct=True).to_numpy()
    crime_rank[covered] = pd.Series(density[covered]).rank(pct=True).to_numpy()
    cls = np.full(len(cells), "too few audits", dtype=object)
    cls[covered] = "consistent"
    cls[covered & (fear_rank >= high) & (crime_rank <= low)] = "fear, little crime"
    cls[covered & (crime_rank >= high) & (fear_rank <= low)] = "crime, little fear"
    cls[covered & (crime_rank >= high) & (fear_rank >= high)] = "both high"
    out = gpd.GeoDataFrame(
        {
            "cell_id": cells["cell_id"].to_numpy(),
            "perceived_safety": score,
            "fear_rank": fear_rank,
            "crimes": crimes,
            "crimes_per_km2": density,
            "crime_rank": crime_rank,
            "class": cls,
        },
        geometry=cells.geometry.to_numpy(),
        crs=cells.crs,
    )
    out.attrs["rule"] = RULE.format(hi=high, lo=low)
    out.attrs["group"], out.attrs["period"] = group, period
    return out


# ------------------------------------------------------------------------------------ one call


@dataclass
class PerceptionResult:
    """Everything the perception stage found, for the plan, the CLI and the dashboard."""

    audits: gpd.GeoDataFrame
    quarantine: pd.DataFrame
    report: dict[str, Any]
    surface: pd.DataFrame
    coverage: pd.DataFrame
    disagreement: gpd.GeoDataFrame
    night_disagreement: gpd.GeoDataFrame | None
    warnings: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def surface_gdf(self, cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Wide cell layer: ``safety__<group>__<period>`` scores (NaN = too few audits) per cell."""
        wide = self.surface.pivot_table(
            index="cell_id", columns=["group", "period"], values="score", dropna=False
        )
        wide.columns = [f"safety__{g}__{p}" for g, p in wide.columns]
        out = cells[["cell_id", "geometry"]].merge(wide.reset_index(), on="cell_id", how="left")
        return gpd.GeoDataFrame(out, geometry="geometry", crs=cells.crs)

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary: import report, coverage, disagreement counts, warnings, rule."""
        return {
            "import": {k: v for k, v in self.report.items() if k != "columns"},
            "coverage": self.coverage.to_dict(orient="records"),
            "disagreement": {str(k): int(v) for k, v in self.disagreement["class"].value_counts().items()},
            "night_disagreement": None
            if self.night_disagreement is None
            else {str(k): int(v) for k, v in self.night_disagreement["class"].value_counts().items()},
            "rule": self.disagreement.attrs.get("rule"),
            "warnings": self.warnings,
            "params": self.params,
        }


def crimes_per_cell(cells: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame, *, period: str = ALL) -> np.ndarray:
    """Recorded crimes per cell (order of ``cells``) to set against audits of ``period``.

    ``period`` is ``all``, ``night`` (:data:`planner._hours.NIGHT_HOURS`) or ``day``; ``night`` and
    ``day`` need incidents with a time of day (``attrs["time_resolution"]``), else a clear error.
    """
    from planner._hours import has_time_of_day, hour_known
    from planner.grid import cell_index_of_points

    if period not in (ALL, *PERIODS):
        raise ConfigError(f"period={period!r} is not one of {[ALL, *PERIODS]} (crimes_per_cell).")
    idx = cell_index_of_points(cells, incidents)
    keep = idx >= 0
    if period != ALL:
        if not has_time_of_day(incidents.attrs.get("time_resolution")):
            raise ConfigError(
                f"The incidents have no time of day, so crimes {period}-time cannot be counted."
            )
        night = pd.to_datetime(incidents["occurred_at"]).dt.hour.isin(NIGHT_HOURS).to_numpy()
        keep &= (night if period == "night" else ~night) & hour_known(incidents)
    return np.bincount(idx[keep], minlength=len(cells)).astype(float)


def perception_from_audits(
    imported: AuditImport,
    cells: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame | None = None,
    *,
    bandwidth_m: float = 400.0,
    min_audits: int = 5,
    min_group_audits: int = 30,
) -> PerceptionResult:
    """Surfaces per group and period, coverage warnings and the fear-vs-crime layers in one call.

    ``incidents`` (points, same CRS as ``cells``) give the recorded crime per cell; without them the
    cells' ``n_incidents`` column is used. The night layer compares night audits with night crimes
    (19:00–07:00) and is left out when the incidents have no time of day.
    """
    from planner._hours import has_time_of_day

    audits = crs_mod.to_analysis_crs(imported.audits, crs_mod.require_projected(cells, what="cells"))
    surface = perception_surfaces(audits, cells, bandwidth_m=bandwidth_m, min_audits=min_audits)
    coverage = coverage_table(surface, audits)
    warnings = list(imported.report.get("warnings", [])) + coverage_warnings(
        coverage, min_group_audits=min_group_audits
    )
    night_layer = None
    if incidents is not None:
        crimes = crimes_per_cell(cells, incidents)
        if has_time_of_day(incidents.attrs.get("time_resolution")):
            night_crimes = crimes_per_cell(cells, incidents, period="night")
            night_layer = fear_crime_disagreement(surface, cells, night_crimes, period="night")
        else:
            warnings.append(
                f"The incidents have no time of day: no night ({NIGHT_LABEL}) fear-vs-crime layer."
            )
    elif "n_incidents" in cells.columns:
        crimes = cells["n_incidents"].to_numpy(dtype=float)
    else:
        raise ConfigError("perception_from_audits needs incidents= or cells with an 'n_incidents' column.")
    layer = fear_crime_disagreement(surface, cells, crimes)
    params = {"bandwidth_m": bandwidth_m, "min_audits": min_audits, "min_group_audits": min_group_audits}
    return PerceptionResult(
        audits=audits,
        quarantine=imported.quarantine,
        report=imported.report,
        surface=surface,
        coverage=coverage,
        disagreement=layer,
        night_disagreement=night_layer,
        warnings=warnings,
        params=params,
    )
