"""Privacy levels of an export.

``public`` (the default) publishes no incident points; drops hotspots (and their measures) with fewer
than ``k`` incidents; blanks the counts of cells with fewer than ``k`` incidents and, in count
profiles (category, hour, weekday, location mixes), every entry below ``k``; rounds published counts
to a multiple of ``round_to`` (never below ``k``); blanks density pixels (and the cells' ``kde``)
below the density that ``k`` incidents at one point would give, so every published density value
rests on at least ``k`` incidents; and moves any geometry vertex lying within ``clearance_m`` of an
incident location (grid corners can coincide with geocoded points by chance) a little further away,
dropping a feature only if that fails. ``internal`` publishes everything, incidents included, and
says so in every file.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from planner._params import check_choice
from planner.errors import ConfigError
from planner.plan import Plan

logger = logging.getLogger(__name__)

Privacy = Literal["public", "internal"]
PRIVACY_LEVELS = ("public", "internal")
#: JSON columns of hotspots that hold incident counts (objects or lists).
COUNT_PROFILE_COLUMNS = ("category_mix", "hour_profile", "weekday_profile", "location_mix")
#: Vertices closer than this to an incident are moved; they end up ``_NUDGE_M`` away from it.
_CHECK_M = 0.25
_NUDGE_M = 0.5

INTERNAL_NOTE = (
    "INTERNAL - contains incident-level data (incident points and unsuppressed counts). "
    "Not for publication; share only with people entitled to see police-recorded incident data."
)


def public_note(k: int, round_to: int) -> str:
    """One-line statement of the public rules, carried in every public file."""
    rounding = f"; counts rounded to multiples of {round_to}" if round_to > 1 else ""
    return (
        f"PUBLIC - no incident points; areas and counts with fewer than {k} incidents suppressed{rounding}; "
        "no geometry vertex within 0.1 m of an incident location."
    )


@dataclass
class PrivacyReport:
    """What a privacy level did to a plan; stored in the export manifest."""

    level: str
    k: int
    round_to: int
    note: str
    rules: list[str] = field(default_factory=list)
    hotspots_suppressed: list[str] = field(default_factory=list)
    cells_suppressed: int = 0
    measures_suppressed: int = 0
    profile_entries_suppressed: int = 0
    density_threshold: float | None = None
    density_pixels_blanked: dict[str, int] = field(default_factory=dict)
    vertices_moved: int = 0
    features_dropped: dict[str, int] = field(default_factory=dict)
    clearance_m: float = 0.1

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return dataclasses.asdict(self)


def check_privacy(privacy: str, k: int, round_to: int) -> None:
    """Validate the privacy options (ConfigError with the fix)."""
    check_choice(privacy, set(PRIVACY_LEVELS), name="privacy", where="export")
    if not isinstance(k, int | np.integer) or k < 1:
        raise ConfigError(f"k must be a whole number of incidents ≥ 1 (got {k!r}); the default is 5.")
    if not isinstance(round_to, int | np.integer) or round_to < 1:
        raise ConfigError(f"round_to must be a whole number ≥ 1 (got {round_to!r}); 1 means no rounding.")


def apply_privacy(
    plan: Plan, *, privacy: str = "public", k: int = 5, round_to: int = 1, clearance_m: float = 0.1
) -> tuple[Plan, PrivacyReport]:
    """The plan as it may be published at ``privacy``, and a report of what was changed.

    ``plan`` is not modified. Distances are in metres of the plan's analysis CRS.
    """
    check_privacy(privacy, k, round_to)
    if privacy == "internal":
        report = PrivacyReport(
            level="internal",
            k=k,
            round_to=1,
            note=INTERNAL_NOTE,
            rules=["Incident points and all counts are included unchanged."],
            clearance_m=0.0,
        )
        return dataclasses.replace(plan), report
    report = PrivacyReport(
        level="public",
        k=k,
        round_to=round_to,
        note=public_note(k, round_to),
        clearance_m=clearance_m,
        rules=[
            "No incident points are published.",
            f"Hotspots with fewer than {k} incidents are left out, with their recommended measures.",
            f"Measures whose addressed crimes number fewer than {k} (baseline per year × years) are left out.",
            f"Cells with fewer than {k} incidents have their count and density blanked (null).",
            f"Entries below {k} in count profiles (category, hour, weekday, location mixes) are null.",
            (
                f"Counts are rounded to the nearest multiple of {round_to} (and never shown below {k})."
                if round_to > 1
                else "Counts are not rounded (round_to = 1)."
            ),
            f"Density values below the density {k} incidents at one point would give are blanked.",
            f"No geometry vertex lies within {clearance_m} m of an incident location: closer vertices "
            f"are moved to {_NUDGE_M} m from it (features are dropped only if that fails).",
        ],
    )
    years = float(plan.params.get("period_years") or 1.0) or 1.0
    threshold = _density_threshold(plan, k=k, period_years=years)
    report.density_threshold = threshold

    hotspots = plan.hotspots.copy()
    keep = pd.to_numeric(hotspots["n_incidents"], errors="coerce").fillna(0) >= k
    report.hotspots_suppressed = [str(h) for h in hotspots.loc[~keep, "hotspot_id"]]
    hotspots = hotspots.loc[keep].reset_index(drop=True)
    hotspots["n_incidents"] = _round_counts(hotspots["n_incidents"], k=k, round_to=round_to)
    for col in COUNT_PROFILE_COLUMNS:
        if col in hotspots.columns:
            cleaned = [_suppress_profile(v, k=k, round_to=round_to) for v in hotspots[col]]
            hotspots[col] = [c[0] for c in cleaned]
            report.profile_entries_suppressed += sum(c[1] for c in cleaned)

    cells = plan.cells.copy()
    counts = pd.to_numeric(cells["n_incidents"], errors="coerce")
    small = counts.isna() | (counts < k)
    report.cells_suppressed = int(small.sum())
    published = _round_counts(counts.where(~small), k=k, round_to=round_to)
    cells["n_incidents"] = published
    if "kde" in cells.columns and threshold is not None:
        cells["kde"] = cells["kde"].where(~small & (cells["kde"] >= threshold))
    if "hotspot_id" in cells.columns and report.hotspots_suppressed:
        cells["hotspot_id"] = cells["hotspot_id"].where(~cells["hotspot_id"].isin(report.hotspots_suppressed))

    def drop_suppressed(frame: pd.DataFrame | None) -> pd.DataFrame | None:
        if frame is None or "hotspot_id" not in frame.columns:
            return frame
        keep = ~frame["hotspot_id"].isin(report.hotspots_suppressed)
        if "baseline_per_year" in frame.columns:
            # the text of a measure quotes the crimes it addresses; keep only those resting on ≥ k
            addressed = pd.to_numeric(frame["baseline_per_year"], errors="coerce") * years
            few = keep & (addressed.round() < k)
            report.measures_suppressed += int(few.sum())
            keep &= ~few
        return frame.loc[keep].reset_index(drop=True)

    surfaces = dict(plan.surfaces)
    if "density" in surfaces and threshold is not None:
        density = surfaces["density"]
        arr = np.asarray(density.array, dtype="float64")
        low = np.isfinite(arr) & (arr < threshold)
        report.density_pixels_blanked["density"] = int(low.sum())
        surfaces["density"] = dataclasses.replace(density, array=np.where(low, np.nan, arr))

    public = dataclasses.replace(
        plan,
        incidents=plan.incidents.iloc[0:0].copy(),
        quarantine=pd.DataFrame(),
        cells=cells,
        hotspots=hotspots,
        surfaces=surfaces,
        recommendations=drop_suppressed(plan.recommendations),
        portfolio=drop_suppressed(plan.portfolio),
    )
    xy = incident_xy(plan.incidents)
    for name in ("study_area", "cells", "hotspots", "recommendations", "portfolio"):
        frame = getattr(public, name)
        if isinstance(frame, gpd.GeoDataFrame) and len(frame):
            cleared, moved, dropped = clear_vertices(frame, xy, clearance_m=clearance_m)
            public = dataclasses.replace(public, **{name: cleared})
            report.vertices_moved += moved
            if dropped:
                report.features_dropped[name] = dropped
    logger.info(
        "public export: %d hotspots and %d cells suppressed, %d vertices moved",
        len(report.hotspots_suppressed),
        report.cells_suppressed,
        report.vertices_moved,
    )
    return public, report


def _density_threshold(plan: Plan, *, k: int, period_years: float) -> float | None:
    """Density (incidents per km² per year) of ``k`` incidents at one point, at the kernel's peak."""
    from planner.hotspots.kde import kernel_values

    bandwidth = plan.params.get("bandwidth_m") or plan.config.bandwidth_m
    if not bandwidth:
        return None
    peak_per_m2 = float(kernel_values(plan.config.kernel, np.zeros(1), float(bandwidth))[0])
    return k * peak_per_m2 * 1e6 / period_years


def _round_counts(values: pd.Series, *, k: int, round_to: int) -> pd.Series:
    """Nullable integer counts rounded to multiples of ``round_to``, never below ``k``."""
    numeric = pd.to_numeric(values, errors="coerce")
    if round_to > 1:
        rounded = np.floor(numeric / round_to + 0.5) * round_to
        floor_k = math.ceil(k / round_to) * round_to
        numeric = rounded.where(rounded >= floor_k, floor_k).where(numeric.notna())
    return numeric.round().astype("Int64")


def _suppress_profile(value: Any, *, k: int, round_to: int) -> tuple[Any, int]:
    """A JSON count profile with entries below ``k`` set to null (and the rest rounded)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return value, 0
    parsed = json.loads(value) if isinstance(value, str) else value
    suppressed = 0

    def clean(v: Any) -> Any:
        nonlocal suppressed
        if isinstance(v, int | float) and not isinstance(v, bool):
            if v < k:
                suppressed += 1
                return None
            if round_to > 1:
                return max(int(math.floor(v / round_to + 0.5) * round_to), math.ceil(k / round_to) * round_to)
            return v
        return v

    if isinstance(parsed, dict):
        out: Any = {key: clean(v) for key, v in parsed.items()}
    elif isinstance(parsed, list):
        out = [clean(v) for v in parsed]
    else:
        return value, 0
    return json.dumps(out), suppressed


def incident_xy(incidents: gpd.GeoDataFrame) -> np.ndarray:
    """Unique incident coordinates, shape (n, 2), in the incidents' CRS."""
    if incidents is None or not len(incidents):
        return np.empty((0, 2))
    geoms = incidents.geometry
    xy = shapely.get_coordinates(geoms[~geoms.isna() & ~geoms.is_empty].to_numpy())
    return np.unique(xy, axis=0)


def _nudge(coords: np.ndarray, tree: cKDTree, xy: np.ndarray) -> tuple[np.ndarray, int]:
    """Move coordinates closer than ``_CHECK_M`` to an incident to ``_NUDGE_M`` from it."""
    dist, idx = tree.query(coords, distance_upper_bound=_CHECK_M)
    near = np.isfinite(dist)
    if not near.any():
        return coords, 0
    out = coords.copy()
    origin = xy[idx[near]]
    away = coords[near] - origin
    norm = np.hypot(away[:, 0], away[:, 1])
    # a vertex exactly on an incident has no direction: move it north-east
    away[norm < 1e-9] = (math.sqrt(0.5), math.sqrt(0.5))
    norm = np.where(norm < 1e-9, 1.0, norm)
    out[near] = origin + away / norm[:, None] * _NUDGE_M
    return out, int(near.sum())


def clear_vertices(
    frame: gpd.GeoDataFrame, xy: np.ndarray, *, clearance_m: float = 0.1, max_rounds: int = 5
) -> tuple[gpd.GeoDataFrame, int, int]:
    """Move vertices of ``frame`` that lie within ``clearance_m`` (m) of any point of ``xy``.

    The same coordinate is always moved to the same place, so vertices shared by neighbouring cells
    stay shared. Features that still have a vertex within ``clearance_m`` after ``max_rounds``
    (points crowded within a metre) are dropped. Returns (frame, vertices moved, features dropped).
    """
    if not len(xy) or not len(frame):
        return frame, 0, 0
    tree = cKDTree(xy)
    geoms = frame.geometry.to_numpy()
    moved = [0]

    def move(coords: np.ndarray) -> np.ndarray:
        new, n = _nudge(coords, tree, xy)
        moved[0] += n
        return new

    for _ in range(max_rounds):
        before = moved[0]
        geoms = shapely.transform(geoms, move)
        if moved[0] == before:
            break
    dist = np.array(
        [
            tree.query(shapely.get_coordinates(g))[0].min() if g is not None and not g.is_empty else np.inf
            for g in geoms
        ]
    )
    ok = dist >= clearance_m
    out = frame.copy()
    out[frame.geometry.name] = gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs)
    return out.loc[ok].reset_index(drop=True), moved[0], int((~ok).sum())


def min_vertex_distance(frame: gpd.GeoDataFrame, xy: np.ndarray) -> float:
    """Smallest distance (m) from any vertex of ``frame`` to any point of ``xy`` (inf if none)."""
    if not len(xy) or not len(frame):
        return math.inf
    coords = shapely.get_coordinates(frame.geometry.to_numpy())
    if not len(coords):
        return math.inf
    return float(cKDTree(xy).query(coords)[0].min())
