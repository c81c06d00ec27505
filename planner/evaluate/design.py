"""Evaluation designs, fixed before the measure starts and evaluated later from the unchanged file.

A design names three areas in the analysis CRS (projected, metres):

* the **treatment** area (a polygon, e.g. a ward or the union of chosen hotspots);
* a **buffer** ring around it (given width, or automatic: the ring whose area equals the
  treatment's for a disc, ``w = r_eq·(√2 − 1)`` with ``r_eq = √(area/π)``), clipped to the
  study area;
* a **control** area: given, or proposed by :func:`propose_control` from grid cells whose
  before-period level and trend match the treatment's and that do not touch the buffer;

plus, optionally, a **displacement control** matched in the same way to the buffer (the control of
the WDD displacement term). Periods are half-open ``[start, end)`` dates; crime categories, hours of
day and other column filters select the crimes; harm weights (category → weight) add a
harm-weighted WDD.

:func:`save_design` writes JSON with a SHA-256 checksum and the creation time *before* the
measure starts; :func:`evaluate_design` refuses a file whose checksum no longer matches, counts
the incidents per area and period and returns WDQ/TNE, WDD (+ harm), the rate ratio, E-tests,
power and the before/after series (:func:`before_after_series`, :func:`before_after_chart`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pydantic
import shapely
from pyproj import CRS

from planner._hours import NIGHT_HOURS, TIME_UNKNOWN
from planner._params import check_fraction, check_positive
from planner.crs import require_projected, to_analysis_crs
from planner.errors import ConfigError, DataLoadError, InsufficientDataError, ValidationError
from planner.evaluate.control import (
    auto_buffer_width_m,
    proposal_summary,
    propose_control,
)

logger = logging.getLogger(__name__)

AREAS = ("treatment", "buffer", "control", "disp_control")
FORMAT = "planner-evaluation-design"

__all__ = [
    "NIGHT_HOURS",
    "AreaChoice",
    "CrimeSelection",
    "EvaluationDesign",
    "Periods",
    "assign_areas",
    "count_design",
    "load_design",
    "make_design",
    "save_design",
    "select_incidents",
]


class EvaluationDesign(pydantic.BaseModel):
    """A pre-registered evaluation design (geometries as WKT in ``crs``; dates half-open)."""

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    name: str = "evaluation"
    crs: str
    treatment_wkt: str
    buffer_wkt: str
    control_wkt: str
    disp_control_wkt: str | None = None
    buffer_width_m: float
    control_method: str = "given"
    control_fit: dict[str, Any] | None = None
    start: dt.date
    before: tuple[dt.date, dt.date]
    after: tuple[dt.date, dt.date]
    categories: tuple[str, ...] | None = None
    hours: tuple[int, ...] | None = None
    where: dict[str, tuple[str, ...]] = pydantic.Field(default_factory=dict)
    harm_weights: dict[str, float] | None = None
    area_weighted: bool = False
    alpha: float = 0.1
    notes: str = ""

    def geometry(self, area: str) -> shapely.Geometry | None:
        """The polygon of ``area`` (one of ``treatment``, ``buffer``, ``control``, ``disp_control``)."""
        wkt = {
            "treatment": self.treatment_wkt,
            "buffer": self.buffer_wkt,
            "control": self.control_wkt,
            "disp_control": self.disp_control_wkt,
        }[area]
        return None if wkt is None else shapely.from_wkt(wkt)

    @property
    def before_days(self) -> float:
        """Length of the before period in days."""
        return float((self.before[1] - self.before[0]).days)

    @property
    def after_days(self) -> float:
        """Length of the after period in days."""
        return float((self.after[1] - self.after[0]).days)

    @property
    def areas(self) -> list[str]:
        """Names of the areas this design has, in counting order."""
        return [a for a in AREAS if a != "disp_control" or self.disp_control_wkt is not None]

    def area_m2(self, area: str) -> float:
        """Area of ``area`` in square metres (0 when the design lacks it)."""
        geom = self.geometry(area)
        return 0.0 if geom is None else float(geom.area)

    def areas_gdf(self) -> gpd.GeoDataFrame:
        """The design's areas as a GeoDataFrame (``area``, ``area_m2``, ``geometry``) in ``crs``."""
        names = self.areas
        return gpd.GeoDataFrame(
            {"area": names, "area_m2": [self.area_m2(a) for a in names]},
            geometry=[self.geometry(a) for a in names],
            crs=self.crs,
        )


def _crs_problems(d: EvaluationDesign) -> list[str]:
    try:
        crs = CRS.from_user_input(d.crs)
    except Exception:
        return [f"crs {d.crs!r} is not a coordinate reference system"]
    return [] if crs.is_projected else [f"crs {d.crs!r} is not projected; use the metric analysis CRS"]


def _area_problems(d: EvaluationDesign) -> tuple[list[str], dict[str, shapely.Geometry]]:
    """Problems with each area's polygon, and the usable polygons by area."""
    problems: list[str] = []
    geoms = {}
    for area in AREAS:
        try:
            g = d.geometry(area)
        except Exception:
            problems.append(f"{area}_wkt is not valid WKT")
            continue
        if g is None:
            continue
        if g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon") or g.area <= 0:
            problems.append(f"the {area} area must be a non-empty polygon")
        elif not g.is_valid:
            problems.append(f"the {area} polygon is invalid ({shapely.is_valid_reason(g)})")
        else:
            geoms[area] = g
    return problems, geoms


def _overlap_problems(geoms: dict[str, shapely.Geometry]) -> list[str]:
    problems = []
    if "treatment" in geoms and "buffer" in geoms:
        zone = shapely.union(geoms["treatment"], geoms["buffer"])
        for area in ("control", "disp_control"):
            if area in geoms and shapely.intersection(zone, geoms[area]).area > 1e-6:
                problems.append(
                    f"the {area} area overlaps the treatment area or its buffer; a control must be "
                    "untouched by the measure (choose one further away or a narrower buffer)"
                )
    both = "control" in geoms and "disp_control" in geoms
    if both and shapely.intersection(geoms["control"], geoms["disp_control"]).area > 1e-6:
        problems.append("the control and displacement-control areas overlap")
    return problems


def _period_problems(d: EvaluationDesign) -> list[str]:
    (b0, b1), (a0, a1) = d.before, d.after
    checks = [
        (b0 < b1, f"the before period [{b0}, {b1}) is empty"),
        (a0 < a1, f"the after period [{a0}, {a1}) is empty"),
        (b1 <= d.start, f"the before period must end on or before the start date {d.start}"),
        (a0 >= d.start, f"the after period must begin on or after the start date {d.start}"),
    ]
    return [text for ok, text in checks if not ok]


def _selection_problems(d: EvaluationDesign) -> list[str]:
    problems = []
    if d.hours is not None and (not d.hours or any(not 0 <= h <= 23 for h in d.hours)):
        problems.append(f"hours must be whole hours of day in 0..23, got {list(d.hours)}")
    if d.harm_weights is not None:
        bad = {k: v for k, v in d.harm_weights.items() if not (math.isfinite(v) and v > 0)}
        if bad or not d.harm_weights:
            problems.append(f"harm weights must be numbers > 0 per category, got {d.harm_weights}")
    if not 0 < d.alpha < 1:
        problems.append(f"alpha must lie in (0, 1), got {d.alpha}")
    return problems


def _check_design(d: EvaluationDesign) -> None:
    """Collect every problem with a design and raise one ValidationError."""
    area_problems, geoms = _area_problems(d)
    problems = [
        *_crs_problems(d),
        *area_problems,
        *_overlap_problems(geoms),
        *_period_problems(d),
        *_selection_problems(d),
    ]
    if problems:
        raise ValidationError(f"The evaluation design {d.name!r} is not usable:", problems=problems)


# ------------------------------------------------------------------------------- incident selection


def select_incidents(incidents: gpd.GeoDataFrame, design: EvaluationDesign) -> gpd.GeoDataFrame:
    """The incidents the design counts: its categories, hours and column filters, in its CRS.

    Parameters
    ----------
    incidents : GeoDataFrame
        Incident points (``occurred_at``, ``category``, ``geometry``) in a projected CRS; they are
        transformed to the design's CRS when it differs.
    design : EvaluationDesign

    Returns
    -------
    GeoDataFrame
        A filtered copy in ``design.crs``.
    """
    require_projected(incidents, what="incidents")
    problems = []
    needed = {"occurred_at"} | ({"category"} if design.categories or design.harm_weights else set())
    needed |= set(design.where)
    missing = sorted(needed - set(incidents.columns))
    if missing:
        problems.append(f"missing column(s) {missing}")
    res = incidents.attrs.get("time_resolution")
    if design.hours is not None and res in ("day", "month"):
        problems.append(
            f"the design counts hours {list(design.hours)} but the incidents have {res} "
            "resolution (no time of day); drop the hours filter"
        )
    if problems:
        raise ValidationError("The incidents cannot be counted for this design:", problems=problems)
    out = to_analysis_crs(incidents, CRS.from_user_input(design.crs))
    when = pd.to_datetime(out["occurred_at"])
    keep = when.notna().to_numpy().copy()
    if design.categories:
        keep &= out["category"].isin(design.categories).to_numpy()
    if design.hours is not None:
        keep &= when.dt.hour.isin(design.hours).to_numpy()
        if TIME_UNKNOWN in out.columns:  # a 00:00 placeholder is no hour of day
            keep &= ~out[TIME_UNKNOWN].fillna(False).to_numpy(bool)
    for col, values in design.where.items():
        keep &= out[col].astype(str).isin(values).to_numpy()
    return out.loc[keep]


def assign_areas(incidents: gpd.GeoDataFrame, design: EvaluationDesign) -> np.ndarray:
    """Area name of each incident (treatment first, then buffer, control, disp_control) or ``""``.

    Points on a shared edge go to the first area in that order.
    """
    xy = shapely.get_coordinates(incidents.geometry.to_numpy())
    if len(xy) != len(incidents):
        raise ValidationError("The incidents must be single points with coordinates.")
    out = np.full(len(incidents), "", dtype=object)
    free = np.ones(len(incidents), dtype=bool)
    for area in AREAS:
        geom = design.geometry(area)
        if geom is None or not free.any():
            continue
        shapely.prepare(geom)
        hit = np.zeros(len(incidents), dtype=bool)
        hit[free] = shapely.intersects_xy(geom, xy[free, 0], xy[free, 1])
        out[hit] = area
        free &= ~hit
    return out


def _period_of(when: pd.Series, design: EvaluationDesign) -> np.ndarray:
    """'before', 'after' or '' for each timestamp (half-open periods)."""
    t = pd.to_datetime(when).to_numpy()
    b0, b1 = (np.datetime64(x) for x in design.before)
    a0, a1 = (np.datetime64(x) for x in design.after)
    out = np.full(len(t), "", dtype=object)
    out[(t >= b0) & (t < b1)] = "before"
    out[(t >= a0) & (t < a1)] = "after"
    return out


def count_design(
    incidents: gpd.GeoDataFrame, design: EvaluationDesign, *, by_category: bool = False
) -> pd.DataFrame:
    """Counts per area (rows) and period (columns ``before``, ``after``) for the design's crimes.

    With ``by_category`` the index is (category, area). Areas the design lacks are left out.
    """
    sel = select_incidents(incidents, design)
    area = assign_areas(sel, design)
    period = _period_of(sel["occurred_at"], design)
    frame = pd.DataFrame({"area": area, "period": period})
    keys = ["area"]
    if by_category:
        frame["category"] = sel["category"].astype(str).to_numpy()
        keys = ["category", "area"]
    frame = frame[(frame["area"] != "") & (frame["period"] != "")]
    table = frame.groupby([*keys, "period"]).size().unstack("period")
    table = table.reindex(columns=["before", "after"]).fillna(0).astype("int64")
    present = design.areas
    idx: pd.Index = pd.Index(present, name="area")
    if by_category:
        cats = sorted(design.harm_weights or set(frame["category"]))
        idx = pd.MultiIndex.from_product([cats, present], names=["category", "area"])
    return table.reindex(idx, fill_value=0)


# ------------------------------------------------------------------------------------ making designs


def _as_geometry(obj: Any, *, what: str, crs: CRS | None) -> tuple[shapely.Geometry, CRS]:
    if isinstance(obj, gpd.GeoDataFrame | gpd.GeoSeries):
        own = require_projected(obj, what=what)
        if crs is not None and not own.equals(crs):
            obj = obj.to_crs(crs)
            own = crs
        if len(obj) == 0:
            raise ValidationError(f"The {what} has no rows; give at least one polygon.")
        return shapely.make_valid(shapely.union_all(obj.geometry.to_numpy())), own
    if isinstance(obj, shapely.Geometry):
        if crs is None:
            raise ConfigError(f"The {what} is a bare geometry; pass crs= (its projected CRS).")
        return shapely.make_valid(obj), crs
    raise ValidationError(
        f"The {what} must be a GeoDataFrame, GeoSeries or shapely polygon; got {type(obj).__name__}."
    )


def _to_date(value: Any, *, name: str) -> dt.date:
    try:
        return pd.Timestamp(value).date()
    except (TypeError, ValueError):
        raise ConfigError(f"The {name!r} date of evaluate.make_design is not a date: {value!r}.") from None


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Only the polygon parts of ``geom`` (overlays can leave slivers of lines and points)."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


@dataclass(frozen=True)
class Periods:
    """Before and after periods around the start: lengths in days, or explicit half-open periods
    (``(first day, day after the last)``, e.g. to leave out an installation month).
    """

    before_days: int | None = 365
    after_days: int | None = 365
    before: tuple[Any, Any] | None = None
    after: tuple[Any, Any] | None = None


@dataclass(frozen=True)
class CrimeSelection:
    """Which crimes an evaluation counts: categories, hours of day (e.g. :data:`NIGHT_HOURS`) and
    other column filters such as ``{"location_type": ["street"]}``; ``None`` means all.
    """

    categories: Sequence[str] | None = None
    hours: Sequence[int] | None = None
    where: Mapping[str, Sequence[str]] | None = None


@dataclass(frozen=True)
class AreaChoice:
    """How the buffer and the control areas are chosen.

    ``buffer_m`` is the buffer ring's width in metres (default :func:`auto_buffer_width_m`);
    ``control`` a given control area (GeoDataFrame, GeoSeries or polygon), else one is proposed by
    :func:`propose_control` from grid cells — ``cells``, or the grid of ``study_area`` at
    ``cell_size_m`` (the buffer is clipped to ``study_area`` when given). ``disp_control``: ``True``
    proposes a displacement control matched to the buffer, a polygon gives one, ``False`` leaves the
    WDD displacement term out.
    """

    buffer_m: float | None = None
    control: Any = None
    disp_control: bool | Any = True
    cells: gpd.GeoDataFrame | None = None
    study_area: gpd.GeoDataFrame | None = None
    cell_size_m: float | None = None


_WHERE_MAKE = "evaluate.make_design"


def _design_periods(
    start: dt.date, periods: Periods
) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]:
    before, after = periods.before, periods.after
    if before is None:
        days = int(check_positive(periods.before_days, name="before_days", where=_WHERE_MAKE))
        before = (start - dt.timedelta(days=days), start)
    if after is None:
        days = int(check_positive(periods.after_days, name="after_days", where=_WHERE_MAKE))
        after = (start, start + dt.timedelta(days=days))
    return (
        (_to_date(before[0], name="before"), _to_date(before[1], name="before")),
        (_to_date(after[0], name="after"), _to_date(after[1], name="after")),
    )


def _buffer_ring(geom: shapely.Geometry, areas: AreaChoice, crs: CRS) -> tuple[shapely.Geometry, float]:
    """The buffer ring around the treatment (clipped to the study area) and its width in metres."""
    width = (
        auto_buffer_width_m(geom)
        if areas.buffer_m is None
        else check_positive(areas.buffer_m, name="buffer_m", where=_WHERE_MAKE)
    )
    ring = shapely.difference(geom.buffer(width), geom)
    if areas.study_area is not None:
        area_geom, _ = _as_geometry(areas.study_area, what="study area", crs=crs)
        ring = _polygonal(shapely.intersection(ring, area_geom))
    return ring, width


def _given_controls(areas: AreaChoice, crs: CRS) -> dict[str, Any]:
    control_geom, _ = _as_geometry(areas.control, what="control area", crs=crs)
    disp_geom = None
    if areas.disp_control is not True and areas.disp_control is not False:
        disp_geom, _ = _as_geometry(areas.disp_control, what="displacement control", crs=crs)
    return {"control": control_geom, "disp_control": disp_geom, "method": "given", "fit": None}


def _proposed_controls(base: EvaluationDesign, incidents: Any, areas: AreaChoice, crs: CRS) -> dict[str, Any]:
    """A control (and displacement control) proposed from grid cells with a similar before-period
    level and trend that stay clear of the treatment area and its buffer.
    """
    if incidents is None:
        raise ConfigError(
            f"{_WHERE_MAKE} needs either a given control area (areas=AreaChoice(control=...)) or "
            "incidents= (to propose one from grid cells with a similar before-period level and trend)."
        )
    geom, ring = base.geometry("treatment"), base.geometry("buffer")
    avoid = shapely.union(geom, ring)
    sel = select_incidents(incidents, base)
    prop = propose_control(
        sel,
        geom,
        avoid,
        before=base.before,
        cells=areas.cells,
        study_area=areas.study_area,
        cell_size_m=areas.cell_size_m,
    )
    out = {
        "control": prop.geometry,
        "disp_control": None,
        "method": "proposed",
        "fit": {"control": proposal_summary(prop)},
    }
    if areas.disp_control is True:
        try:
            dprop = propose_control(
                sel,
                ring,
                avoid,
                before=base.before,
                cells=areas.cells,
                study_area=areas.study_area,
                cell_size_m=prop.cell_size_m,
                exclude=prop.geometry,
            )
            out["disp_control"] = dprop.geometry
            out["fit"]["disp_control"] = proposal_summary(dprop)
        except InsufficientDataError as exc:
            logger.warning("no displacement control proposed: %s", exc)
    elif areas.disp_control is not False:
        out["disp_control"], _ = _as_geometry(areas.disp_control, what="displacement control", crs=crs)
    return out


def make_design(
    treatment: Any,
    *,
    start: Any,
    periods: Periods | None = None,
    crs: Any = None,
    incidents: gpd.GeoDataFrame | None = None,
    crimes: CrimeSelection | None = None,
    areas: AreaChoice | None = None,
    harm_weights: Mapping[str, float] | None = None,
    area_weighted: bool = False,
    alpha: float = 0.1,
    name: str = "evaluation",
    notes: str = "",
) -> EvaluationDesign:
    """Build an evaluation design (then save it with :func:`save_design` before the measure starts).

    Parameters
    ----------
    treatment : GeoDataFrame, GeoSeries or shapely polygon
        Treatment area (e.g. a ward, or hotspots selected by id), projected CRS; rows are unioned.
    start : date-like
        The date the measure starts.
    periods : Periods, optional
        Before/after periods (default: 365 days either side of ``start``).
    crs : optional
        CRS of a bare shapely ``treatment``/control.
    incidents : GeoDataFrame, optional
        Incidents for proposing the control(s) (before-period data only is used).
    crimes : CrimeSelection, optional
        Which crimes count (default: all).
    areas : AreaChoice, optional
        Buffer width and how the controls are chosen (default: automatic buffer, proposed controls).
    harm_weights : mapping, optional
        Category → harm weight for the harm-weighted WDD.
    area_weighted : bool
        Divide WDD counts by area (relative to the treatment's) — densities instead of counts.
    alpha : float
        Two-sided level of the intervals (default 0.1, 90 % intervals as in ptools).
    name, notes : str
        Free text kept in the file.

    Returns
    -------
    EvaluationDesign
    """
    periods, crimes, areas = periods or Periods(), crimes or CrimeSelection(), areas or AreaChoice()
    geom, crs_obj = _as_geometry(
        treatment, what="treatment area", crs=None if crs is None else CRS.from_user_input(crs)
    )
    start_d = _to_date(start, name="start")
    before_d, after_d = _design_periods(start_d, periods)
    ring, width = _buffer_ring(geom, areas, crs_obj)
    base = EvaluationDesign(
        name=name,
        crs=crs_obj.to_string(),
        treatment_wkt=geom.wkt,
        buffer_wkt=ring.wkt,
        control_wkt=geom.wkt,  # placeholder until the control is known; replaced below
        buffer_width_m=width,
        start=start_d,
        before=before_d,
        after=after_d,
        categories=None if crimes.categories is None else tuple(crimes.categories),
        hours=None if crimes.hours is None else tuple(int(h) for h in crimes.hours),
        where={k: tuple(str(v) for v in vals) for k, vals in (crimes.where or {}).items()},
        harm_weights=None if harm_weights is None else {str(k): float(v) for k, v in harm_weights.items()},
        area_weighted=area_weighted,
        alpha=check_fraction(alpha, name="alpha", where=_WHERE_MAKE),
        notes=notes,
    )
    chosen = (
        _given_controls(areas, crs_obj)
        if areas.control is not None
        else _proposed_controls(base, incidents, areas, crs_obj)
    )
    design = base.model_copy(
        update={
            "control_wkt": chosen["control"].wkt,
            "disp_control_wkt": None if chosen["disp_control"] is None else chosen["disp_control"].wkt,
            "control_method": chosen["method"],
            "control_fit": chosen["fit"],
        }
    )
    _check_design(design)
    return design


# ------------------------------------------------------------------------------------- save / load


def _checksum(payload: Mapping[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def save_design(
    design: EvaluationDesign, path: str | Path, *, overwrite: bool = False, now: dt.datetime | None = None
) -> Path:
    """Write the design to JSON with its creation time and a SHA-256 checksum.

    Save it *before* the measure starts: the file records ``created_at`` and the evaluation
    reports whether it predates the start date. An existing file is not overwritten unless
    ``overwrite=True`` (a pre-registered design should not change).

    Returns
    -------
    Path
        The path written.
    """
    from planner import __version__

    _check_design(design)
    path = Path(path)
    if path.exists() and not overwrite:
        raise ConfigError(
            f"{path} already exists; a saved design should not change. Choose another file name, "
            "or pass overwrite=True (--force) if the measure has not started."
        )
    created = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0).isoformat()
    payload: dict[str, Any] = {
        "format": FORMAT,
        "format_version": 1,
        "created_at": created,
        "planner_version": __version__,
        "design": design.model_dump(mode="json"),
    }
    payload["sha256"] = _checksum(payload)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    logger.info("evaluation design saved to %s (sha256 %s)", path, payload["sha256"][:12])
    return path


def load_design(path: str | Path) -> tuple[EvaluationDesign, dict[str, Any]]:
    """Read a design saved by :func:`save_design`, refusing it when its checksum does not match.

    Returns
    -------
    (EvaluationDesign, dict)
        The design and the file's metadata (``created_at``, ``planner_version``, ``sha256``).
    """
    path = Path(path)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataLoadError(f"The design file {path} does not exist; save one with save_design.") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise DataLoadError(f"The design file {path} could not be read as JSON: {exc}.") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValidationError(f"{path} is not an evaluation design file (format {FORMAT!r} expected).")
    stored = payload.pop("sha256", None)
    if stored != _checksum(payload):
        raise ValidationError(
            f"The design file {path} was changed after it was saved (its SHA-256 checksum does not "
            "match), so it is no longer the design fixed before the measure started. Restore the "
            "original file, or save a new design and report it as a post-hoc evaluation."
        )
    try:
        design = EvaluationDesign.model_validate(payload["design"])
    except pydantic.ValidationError as exc:
        raise ValidationError(
            f"The design in {path} is malformed:",
            problems=[f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()],
        ) from None
    _check_design(design)
    meta = {k: payload[k] for k in ("created_at", "planner_version")} | {"sha256": stored}
    return design, meta
